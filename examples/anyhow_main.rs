//! Recipe: `fn main() -> anyhow::Result<()>` with a group that fails. anyhow prints the
//! group's one line and then, from its `source()` chain, every failed task with its error:
//!
//! ```text
//! Error: task group failed (3 sub-errors): profile, links[1], links[3]
//!
//! Caused by:
//!     0: profile: user 7 not found
//!     1: links[1]: GET /broken: 404 Not Found
//!     2: links[3]: GET /gone: 404 Not Found
//! ```
//!
//! `cargo run --example anyhow_main` (it exits with status 1, as a failing `main` does).

use std::time::Duration;

use taskgroup::group;

async fn profile(user: u32) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("user {user} not found"),
    ))
}

async fn link(path: &str) -> Result<usize, taskgroup::BoxError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    match path {
        "/broken" | "/gone" => Err(format!("GET {path}: 404 Not Found").into()),
        _ => Ok(path.len()),
    }
}

async fn page(user: u32) -> anyhow::Result<String> {
    let paths = ["/home", "/broken", "/about", "/gone"];
    group! {
        // Every task runs to its end, so that all three failures are reported.
        #![mode = supervise]
        profile = profile(user);
        links = for path in paths => link(path);
    }
    Ok(format!("{profile}: {} links", links.len()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let page = page(7).await?;
    println!("{page}");
    Ok(())
}
