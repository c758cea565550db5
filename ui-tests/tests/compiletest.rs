//! The compile-time guarantees of `group!`, `#[structured]` and `taskgroup::scope`: what must not
//! compile (`ui/`, each with the diagnostic it must produce) and what must (`pass/`).
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p taskgroup-ui-tests`,
//! then read every diff: see `../README.md`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
