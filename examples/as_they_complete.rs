//! Recipe: act on each result as it arrives, while the group still fails fast. Coming from
//! `JoinSet::join_next`, the question is where the loop goes: here it is a task of the group
//! itself, fed by the others through a channel they borrow. In-place tasks may borrow, so the
//! channel lives on the stack and nothing needs to be `'static`.
//!
//! The first run succeeds and prints each page as it arrives (in completion order, not input
//! order); the second has a page that fails, and the group cancels the rest: the pages that
//! arrived before the failure were printed, and the error comes back with its task's name.
//!
//! `cargo run --example as_they_complete`

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::sync::mpsc;

/// A page that takes `delay` ms, or fails if it is `broken`.
async fn fetch(
    page: u64,
    delay: u64,
    broken: Option<u64>,
    done: &mpsc::UnboundedSender<(u64, String)>,
) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(delay)).await;
    if broken == Some(page) {
        return Err(std::io::Error::other(format!("GET /pages/{page}: 500")));
    }
    // The receiver lives as long as the group: a send cannot fail here.
    let _ = done.send((page, format!("page {page} ({delay} ms)")));
    Ok(())
}

async fn crawl(broken: Option<u64>) -> Result<usize, ErrorGroup> {
    let delays = [40u64, 10, 30, 20, 50];
    let (done, mut arrived) = mpsc::unbounded_channel();
    group! {
        _ = for (page, delay) in delays.into_iter().enumerate() => fetch(page as u64, delay, broken, &done);
        // The loop over results, as a task of the group: it ends when every page arrived,
        // and is cancelled with the others on the first failure.
        printed = async {
            let mut printed = 0;
            while printed < delays.len() {
                let Some((page, text)) = arrived.recv().await else { break };
                println!("  arrived: pages[{page}] = {text}");
                printed += 1;
            }
            Ok::<_, std::io::Error>(printed)
        };
    }
    Ok(printed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("1. every page arrives");
    match crawl(None).await {
        Ok(printed) => println!("  done: {printed} pages, each handled as it arrived"),
        Err(errors) => println!("  failed: {errors}"),
    }
    println!();
    println!("2. pages[2] fails at 30 ms: the pages before it were handled, the rest cancelled");
    match crawl(Some(2)).await {
        Ok(printed) => println!("  done: {printed} pages"),
        Err(errors) => println!("  failed: {errors}\n{errors:#}"),
    }
}
