#!/usr/bin/env python3
"""Syntax-checks Swift files with tree-sitter-swift (no Swift compiler runs here).

Two constructs in uniffi's generated Swift are valid Swift that the grammar
does not parse; they are blanked out (same length, so positions stay right)
before parsing. Anything else the parser flags is reported and fails the check.
"""
import re
import sys

import tree_sitter
import tree_sitter_swift

MASKS = [
    # `#if swift(>=5.8)\n@_documentation(visibility: private)\n#endif` around an attribute
    re.compile(r"#if swift\(>=5\.8\)\s*@_documentation\(visibility: private\)\s*#endif"),
    # the empty-tuple closure `{ () }`
    re.compile(r"\{ \(\) \}"),
]


def blank(match):
    return re.sub(r"[^\n]", " ", match.group(0))


def problems(source: bytes):
    text = source.decode("utf-8")
    for mask in MASKS:
        text = mask.sub(blank, text)
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
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
            found = problems(f.read())
        for line, col, kind in found[:20]:
            print(f"{path}:{line}:{col}: syntax {kind}")
        bad += len(found)
        print(f"swift syntax: {path}: {'ok' if not found else str(len(found)) + ' problem(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
