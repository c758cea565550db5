//! A 500-item fan-out bounded by `#![limit]`.
//!
//! Mirrors the reference's "Bounding a group with a Semaphore" (500 URLs, `Semaphore(10)`,
//! 50 ms of I/O each: `fetched 500`) and the course's `fetch_all(urls, client, limit=20)`.
//!
//! The seeds need a semaphore because a `TaskGroup` has no cap of its own, and even then
//! they create all 500 tasks at once ("the semaphore caps in-flight I/O without limiting how
//! many tasks exist"). `#![limit = n]` caps the tasks themselves, group-wide, and the fan-out
//! pulls its iterator lazily: only `n` URLs are taken at a time, so memory stays
//! proportional to the limit however long the input is.
//!
//! The seed's 50 ms per fetch is 5 ms here: 500 fetches, 10 at a time, in about 0.3 s.
//! Run it with `cargo run --example bounded_fanout`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep};

/// What the fan-out observes about itself.
#[derive(Debug, Default)]
struct Gauges {
    /// URLs taken from the iterator so far.
    pulled: AtomicUsize,
    /// Fetches finished so far.
    done: AtomicUsize,
    /// Fetches running right now, and the most at any time.
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// URLs taken when the first fetch finished.
    pulled_at_first: AtomicUsize,
}

async fn fetch(url: &str, gauges: &Gauges) -> Result<String, std::io::Error> {
    let now = gauges.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    gauges.peak.fetch_max(now, Ordering::SeqCst);
    sleep(Duration::from_millis(5)).await; // the actual I/O
    gauges.in_flight.fetch_sub(1, Ordering::SeqCst);
    if gauges.done.fetch_add(1, Ordering::SeqCst) == 0 {
        let pulled = gauges.pulled.load(Ordering::SeqCst);
        gauges.pulled_at_first.store(pulled, Ordering::SeqCst);
    }
    Ok(format!("page of {url}"))
}

/// The course's `fetch_all(urls, client, limit=20)`, without a semaphore.
async fn fetch_all(
    urls: &[String],
    limit: usize,
    gauges: &Gauges,
) -> Result<Vec<String>, ErrorGroup> {
    // Count the URLs as the fan-out takes them.
    let urls = urls.iter().inspect(|_| {
        gauges.pulled.fetch_add(1, Ordering::SeqCst);
    });
    group! {
        #![limit = limit]
        pages = for url in urls => fetch(url, gauges);
    }
    Ok(pages)
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    let urls: Vec<String> = (0..500).map(|i| format!("https://api/{i}")).collect();
    let gauges = Gauges::default();
    let start = Instant::now();
    let pages = fetch_all(&urls, 10, &gauges).await?;
    let took = start.elapsed();

    println!("fetched {}", pages.len());
    if let (Some(first), Some(last)) = (pages.first(), pages.last()) {
        println!("results in input order: first {first:?}, last {last:?}");
    }
    println!(
        "peak in flight: {} (limit 10)",
        gauges.peak.load(Ordering::SeqCst)
    );
    println!(
        "URLs taken from the iterator when the first fetch finished: {} of {}",
        gauges.pulled_at_first.load(Ordering::SeqCst),
        urls.len()
    );
    println!(
        "took {} ms: 500 fetches of 5 ms, 10 at a time (one at a time: 2500 ms or more)",
        took.as_millis()
    );
    Ok(())
}
