//! Several errors at once: which ones a group collects, and why.
//!
//! Mirrors the seeds' "Handling Multiple Exceptions": three tasks raise `RuntimeError` at
//! 0.2 s, 0.3 s and 0.1 s, and the seed prints `Caught 3 exceptions`. That output is wrong for
//! a `TaskGroup`, in Python as here: the first failure (task 3, at 0.1 s) cancels the other
//! two before they fail, so the group holds one error. A group collects every error that
//! happens *before its cancellation lands*, which the example shows three ways:
//!
//! 1. the seed's code, fail-fast: 1 error, tasks 1 and 2 cancelled;
//! 2. the same tasks with `#![mode = supervise]` (Kotlin's `supervisorScope`): failures do
//!    not cancel siblings, so all 3 errors arrive, in completion order;
//! 3. three tasks that fail at the same instant: all 3 are collected even in fail-fast mode,
//!    which is the seed's printed output.
//!
//! The seed's timings are short already and kept as they are, so that the order of events
//! holds on a busy machine. Run it with `cargo run --example multiple_errors`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep, sleep_until};

/// One second, as in the seed.
const SECOND: Duration = Duration::from_secs(1);

/// Python's `RuntimeError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RuntimeError(String);

/// Prints a line if its task is cancelled (dropped before it finishes).
struct OnCancel(u32);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            println!("  (task {} was cancelled before it could fail)", self.0);
        }
    }
}

async fn failing_task(task_id: u32, seconds: f64) -> Result<(), RuntimeError> {
    let guard = OnCancel(task_id);
    sleep(SECOND.mul_f64(seconds)).await;
    std::mem::forget(guard); // finished: not cancelled
    Err(RuntimeError(format!("Task {task_id} failed")))
}

/// Fails at a given instant.
async fn failing_at(task_id: u32, at: Instant) -> Result<(), RuntimeError> {
    sleep_until(at).await;
    Err(RuntimeError(format!("Task {task_id} failed")))
}

fn report(eg: &ErrorGroup<RuntimeError>) {
    println!("Caught {} exceptions:", eg.len());
    for leaf in eg {
        println!("  {}", leaf.error);
    }
}

/// The seed's code: the first failure cancels the rest.
async fn fail_fast() -> Result<(), ErrorGroup> {
    println!("1. fail-fast (the seed's code)");
    group! {
        _ = failing_task(1, 0.2);
        _ = failing_task(2, 0.3);
        _ = failing_task(3, 0.1);
        except* RuntimeError as eg => report(&eg),
    }
    Ok(())
}

/// Supervise mode: every task runs to completion; the errors are raised together at the end.
async fn supervise() -> Result<(), ErrorGroup> {
    println!("2. #![mode = supervise]");
    group! {
        #![mode = supervise]
        _ = failing_task(1, 0.2);
        _ = failing_task(2, 0.3);
        _ = failing_task(3, 0.1);
        except* RuntimeError as eg => report(&eg),
    }
    Ok(())
}

/// Three failures at the same instant all land before the cancellation does.
async fn same_instant() -> Result<(), ErrorGroup> {
    println!("3. fail-fast, three failures at the same instant");
    let at = Instant::now() + SECOND / 10;
    group! {
        _ = failing_at(1, at);
        _ = failing_at(2, at);
        _ = failing_at(3, at);
        except* RuntimeError as eg => report(&eg),
    }
    Ok(())
}

// One thread, like Python's event loop: when several tasks finish at the same instant, the
// group sees every one of them before it reacts to the first failure. (On a multi-threaded
// runtime the timer may wake them from another thread one by one, and the group can cancel
// the later ones before their wake-ups arrive.)
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    fail_fast().await?;
    println!();
    supervise().await?;
    println!();
    same_instant().await?;
    Ok(())
}
