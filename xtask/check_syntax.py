#!/usr/bin/env python3
"""Syntax-checks Swift and Kotlin files with tree-sitter (no Swift compiler,
and no Android SDK for the app's Kotlin, run here). The language comes from
each file's extension.

Two constructs in uniffi's generated Swift are valid Swift that the grammar
does not parse; they are blanked out (same length, so positions stay right)
before parsing. Anything else the parser flags is reported and fails the check.
"""
import re
import sys

import tree_sitter

SWIFT_MASKS = [
    # `#if swift(>=5.8)\n@_documentation(visibility: private)\n#endif` around an attribute
    re.compile(r"#if swift\(>=5\.8\)\s*@_documentation\(visibility: private\)\s*#endif"),
    # the empty-tuple closure `{ () }`
    re.compile(r"\{ \(\) \}"),
]


def blank(match):
    return re.sub(r"[^\n]", " ", match.group(0))


def parser_for(path: str):
    if path.endswith(".swift"):
        import tree_sitter_swift

        return tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language())), SWIFT_MASKS
    if path.endswith(".kt") or path.endswith(".kts"):
        import tree_sitter_kotlin

        return tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language())), []
    raise SystemExit(f"{path}: not a Swift or Kotlin file")


def problems(path: str, source: bytes):
    parser, masks = parser_for(path)
    text = source.decode("utf-8")
    for mask in masks:
        text = mask.sub(blank, text)
    tree = parser.parse(text.encode("utf-8"))
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, "missing" if node.is_missing else "error"))
        elif node.has_error:
            stack.extend(node.children)
    return sorted(found)


def main(paths):
    bad = 0
    for path in paths:
        with open(path, "rb") as f:
            found = problems(path, f.read())
        for line, col, kind in found[:20]:
            print(f"{path}:{line}:{col}: syntax {kind}")
        bad += len(found)
        if found:
            print(f"syntax: {path}: {len(found)} problem(s)")
    print(f"syntax: {len(paths)} files, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
