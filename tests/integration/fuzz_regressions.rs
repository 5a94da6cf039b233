//! Every input a fuzzer ever crashed a parser with (`fuzz/regressions/<target>/`)
//! and every seed (`fuzz/seeds/<target>/`) runs through the same entry
//! points here, on every test run: a fixed crash stays fixed.

use std::path::Path;

use satchel_tests::fuzz_entries::TARGETS;

#[test]
fn saved_fuzz_inputs_do_not_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut ran = 0;
    for (name, entry) in TARGETS {
        for kind in ["seeds", "regressions"] {
            let dir = root.join(kind).join(name);
            let Ok(files) = std::fs::read_dir(&dir) else {
                continue;
            };
            for file in files.flatten() {
                let data = std::fs::read(file.path()).unwrap();
                entry(&data);
                ran += 1;
            }
        }
        // And the degenerate inputs.
        for data in [&b""[..], b"~", b"{}", b"[]", b"\xff\xfe", &[0u8; 64]] {
            entry(data);
        }
    }
    assert!(ran >= TARGETS.len(), "seeds for every target: {ran}");
}
