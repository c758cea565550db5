//! How a group's errors print wherever a program shows them: `{}` in a log line, `{:?}` from
//! `fn main` or `unwrap`, `{:#}` as the tree, and through anyhow, whose `{:?}` walks the
//! `source()` chain.

use std::io;

use taskgroup::{BoxError, ErrorGroup, group};

async fn user() -> Result<u32, io::Error> {
    Err(io::Error::new(io::ErrorKind::NotFound, "user 42 not found"))
}

async fn link(i: usize) -> Result<String, BoxError> {
    match i {
        1 | 2 => Err(format!("HTTP 404 for /links/{i}").into()),
        _ => Ok(format!("/links/{i}")),
    }
}

async fn load_page() -> Result<(u32, Vec<String>), ErrorGroup> {
    group! {
        #![mode = supervise]
        user = user();
        links = for i in 0..4 => link(i);
    }
    Ok((user, links))
}

async fn load_page_anyhow() -> anyhow::Result<(u32, Vec<String>)> {
    Ok(load_page().await?)
}

#[tokio::test(flavor = "current_thread")]
async fn display_names_the_failed_tasks_in_one_line() {
    let error = load_page().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "task group failed (3 sub-errors): user, links[1], links[2]"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn debug_is_the_tree_with_every_task_and_error() {
    let error = load_page().await.unwrap_err();
    // What `fn main() -> Result<(), ErrorGroup>` prints after `Error: `.
    assert_eq!(
        format!("{error:?}"),
        "task group failed (3 sub-errors)
  +-+---------------- 1 ----------------
    | user: user 42 not found
    +---------------- 2 ----------------
    | links[1]: HTTP 404 for /links/1
    +---------------- 3 ----------------
    | links[2]: HTTP 404 for /links/2
    +------------------------------------"
    );
    // `{:#}` is the same tree in the box format, its first line in the margin too.
    assert_eq!(format!("{error:#}"), format!("  | {error:?}"));
}

#[tokio::test(flavor = "current_thread")]
async fn through_anyhow_every_task_is_shown_with_its_cause() {
    let error = load_page_anyhow().await.unwrap_err();
    assert_eq!(
        format!("{error}"),
        "task group failed (3 sub-errors): user, links[1], links[2]"
    );
    // (A backtrace follows when `RUST_BACKTRACE` asks for one.)
    let debug = format!("{error:?}");
    let debug = debug.split("\n\nStack backtrace:").next().unwrap();
    assert_eq!(
        debug,
        "task group failed (3 sub-errors): user, links[1], links[2]

Caused by:
    0: user: user 42 not found
    1: links[1]: HTTP 404 for /links/1
    2: links[2]: HTTP 404 for /links/2"
    );
    assert_eq!(
        format!("{error:#}"),
        "task group failed (3 sub-errors): user, links[1], links[2]: user: user 42 not found: \
         links[1]: HTTP 404 for /links/1: links[2]: HTTP 404 for /links/2"
    );
    // The group is still there, typed, behind the chain.
    let group = error.downcast_ref::<ErrorGroup>().unwrap();
    assert!(group.contains::<io::Error>());
}
