//! Timeouts, with cancellation messages: a deadline cancels every task of the group.
//!
//! Mirrors the seeds' "Timeouts and Cancellation with TaskGroup" (three `slow_task`s of 5 s
//! under a 2 s `asyncio.timeout`: each prints `Task N was cancelled`, then `TaskGroup timed
//! out!`) and the reference's "TaskGroup under an outer asyncio.timeout" (a fast and a slow
//! task under 0.1 s).
//!
//! Three ways to put a deadline on a group:
//!
//! 1. `#![timeout = d]`: the deadline is part of the group and arrives as a `taskgroup::Elapsed`
//!    error, matched with `except* taskgroup::Elapsed` like any other;
//! 2. an outer `tokio::time::timeout`, which cancels the group by dropping it;
//! 3. `#![timeout]` with `#![grace]`: tasks await `taskgroup::cancelled()`, learn why they are
//!    cancelled, and say so before they stop (Python's `except CancelledError:` block).
//!
//! Seconds are scaled to 100 ms. Run it with `cargo run --example timeout`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep};

/// One simulated second.
const SECOND: Duration = Duration::from_millis(100);

/// Prints its message if its task is dropped (cancelled) before it finishes.
struct OnCancel(String);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            println!("{}", self.0);
        }
    }
}

async fn slow_task(task_id: u32) -> Result<String, std::io::Error> {
    let mut guard = OnCancel(format!("Task {task_id} was cancelled"));
    sleep(SECOND * 5).await;
    guard.0.clear(); // finished: not cancelled
    Ok(format!("Task {task_id} completed"))
}

async fn slow(name: &str, seconds: f64) -> Result<String, std::io::Error> {
    let mut guard = OnCancel(format!("  (task {name:?} was cancelled)"));
    sleep(SECOND.mul_f64(seconds)).await;
    guard.0.clear();
    Ok(name.to_owned())
}

/// A task that notices its cancellation and reports why, within the group's grace period.
async fn watchful_task(task_id: u32) -> Result<(), std::io::Error> {
    tokio::select! {
        _ = sleep(SECOND * 5) => Ok(()),
        why = taskgroup::cancelled() => {
            println!("Task {task_id} cancelled: {why}");
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    println!("1. #![timeout]: three 5 s tasks, a 2 s deadline");
    let start = Instant::now();
    group! {
        #![timeout = SECOND * 2]
        _ = slow_task(1);
        _ = slow_task(2);
        _ = slow_task(3);
        except* taskgroup::Elapsed as elapsed => {
            for leaf in &elapsed {
                println!("TaskGroup timed out! ({})", leaf.error);
            }
        }
    }
    println!(
        "the group ended {} ms after it started",
        start.elapsed().as_millis()
    );

    println!();
    println!("2. an outer tokio::time::timeout: a fast task and a slow one, 0.1 s");
    let outcome = tokio::time::timeout(SECOND / 10, async {
        group! {
            fast = slow("fast", 0.02);
            slow = slow("slow", 5.0); // exceeds the deadline
        }
        Ok::<_, ErrorGroup>((fast, slow))
    })
    .await;
    match outcome {
        Err(_elapsed) => println!("deadline hit; group cancelled"),
        Ok(Ok(_)) => println!("finished in time"),
        Ok(Err(eg)) => println!("group errors: {eg}"),
    }

    println!();
    println!("3. #![timeout] with #![grace]: tasks learn why they are cancelled");
    group! {
        #![timeout = SECOND * 2]
        #![grace = SECOND]
        _ = watchful_task(1);
        _ = watchful_task(2);
        except* taskgroup::Elapsed => println!("TaskGroup timed out!"),
    }
    Ok(())
}
