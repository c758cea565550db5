//! Recipe: keep going. Crawl everything, keep every page that came back, and report every
//! page that did not, each under its task's name, with nothing rebuilt by hand.
//!
//! `#![mode = settle]` runs every item to its end and binds the fan-out as
//! `taskgroup::Outcomes`; `split()` gives the values in input order and the failures as one
//! `ErrorGroup` whose leaves are named `pages[i]`. (`#![mode = supervise]` with an `except*`
//! arm would not do: an arm's fallback replaces every binding, the successes too.)
//!
//! `cargo run --example keep_going`

use std::time::Duration;

use taskgroup::group;

/// A page of the crawl: every 37th is gone.
async fn fetch(page: usize) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    if page % 37 == 13 {
        return Err(std::io::Error::other(format!("GET /pages/{page}: 503")));
    }
    Ok(format!("<html>page {page}</html>"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    group! {
        #![mode = settle]
        #![limit = 32]
        pages = for page in 0..1_000 => fetch(page);
    }
    let (fetched, failed) = pages.split();
    let bytes: usize = fetched.iter().map(String::len).sum();
    println!("fetched {} pages ({bytes} bytes)", fetched.len());
    if let Some(failed) = failed {
        println!("{} failed: {failed}", failed.len());
        // The whole tree, every failure by name (15 shown, then how many more).
        println!("{failed:#}");
    }
}
