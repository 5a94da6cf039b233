#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| satchel_tests::fuzz_entries::export_file(data));
