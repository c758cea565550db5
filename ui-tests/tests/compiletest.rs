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

/// rustc quotes the standard library's source in a note only where the `rust-src` component
/// is installed (rust-analyzer installs it), so an expected output that points into the
/// standard library (`$RUST/...`) holds on one of the two kinds of machine and fails on the
/// other. No diagnostic of the crate may lead there.
#[test]
fn no_expected_output_points_into_the_standard_library() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/ui is readable") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|ext| ext == "stderr") {
            let text = std::fs::read_to_string(&path).expect("a .stderr file is text");
            if text.contains("$RUST/") {
                offenders.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    offenders.sort();
    assert!(
        offenders.is_empty(),
        "these expected outputs point into the standard library and depend on rust-src: {offenders:?}"
    );
}
