//! Basic patterns, with timing: a group takes as long as its longest task, not the sum.
//!
//! Mirrors the seeds' "Creating and Running Task Groups" (`task_one` .. `task_three`, 1 s,
//! 0.5 s and 1.5 s: "the total elapsed time is approximately 1.5 seconds, not 3 seconds") and
//! the course's cooperative-scheduling demo (`gather(worker("a", 0.2), worker("b", 0.1))`
//! prints `start a`, `start b`, `done b`, `done a`). Seconds are scaled to 100 ms.
//!
//! It also shows the other ways to write a task: `_ =` to discard a result,
//! `taskgroup::infallible` for a future that cannot fail, and `spawn` to run a task on tokio's
//! worker threads, in parallel rather than only concurrently.
//!
//! Run it with `cargo run --example basic_patterns`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group, infallible};
use tokio::time::{Instant, sleep};

/// One simulated second.
const SECOND: Duration = Duration::from_millis(100);

async fn task_one() -> Result<&'static str, std::io::Error> {
    sleep(SECOND).await;
    Ok("Task 1 done")
}

async fn task_two() -> Result<&'static str, std::io::Error> {
    sleep(SECOND / 2).await;
    Ok("Task 2 done")
}

async fn task_three() -> Result<&'static str, std::io::Error> {
    sleep(SECOND * 3 / 2).await;
    Ok("Task 3 done")
}

/// Cannot fail, so it outputs `()`: a task as it is.
async fn worker(name: &str, seconds: f64) {
    println!("start {name}");
    sleep(SECOND.mul_f64(seconds * 5.0)).await; // 0.2 s -> 100 ms: far enough apart to order
    println!("done {name}");
}

/// Busy work for a worker thread.
fn checksum(n: u64) -> u64 {
    (0..n).fold(0u64, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    println!("Starting tasks...");
    let start = Instant::now();
    group! {
        t1 = task_one();
        t2 = task_two();
        t3 = task_three();
    }
    let elapsed = start.elapsed();
    // All tasks have completed here.
    println!("Results: {t1}, {t2}, {t3}");
    println!("All tasks completed");
    println!(
        "Elapsed: {} ms, about the longest task (150 ms), not the sum (300 ms)",
        elapsed.as_millis()
    );

    // Concurrency is cooperative: each task runs until its next `.await`.
    println!();
    group! {
        _ = worker("a", 0.2);
        _ = worker("b", 0.1);
    }

    // The other forms of a task.
    println!();
    let data: Vec<u64> = (1..=3).collect();
    group! {
        // Borrows `data`: in-place tasks may borrow locals of the function.
        total = infallible(async { data.iter().sum::<u64>() });
        // Runs on a worker thread: must be `Send + 'static`, so it owns what it uses.
        sum = spawn async move {
            let n = 200_000;
            Ok::<_, std::io::Error>(checksum(n))
        };
        _ = task_two(); // run for its effect; its result is discarded
    }
    println!("infallible task: total = {total}");
    println!("spawned task: checksum = {sum}");
    Ok(())
}
