//! The in-workspace bindgen: built from exactly the uniffi version the
//! library uses, so generated code and scaffolding always agree.

fn main() {
    uniffi::uniffi_bindgen_main()
}
