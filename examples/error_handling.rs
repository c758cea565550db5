//! Error handling with the group: the first failure cancels the siblings, and the errors
//! arrive together as one `ErrorGroup`.
//!
//! Mirrors three seed scenarios:
//!
//! 1. "Error Handling with ExceptionGroup": `reliable_task` (0.5 s) and `failing_task`
//!    (raises `ValueError` at 0.2 s), caught with `except ExceptionGroup as eg`.
//! 2. The course's "Error Handling": `succeed()`, `fail()`, `succeed()`, caught with
//!    `except* ValueError`.
//! 3. The course's "TaskGroup cancellation behavior": `fail_soon` and `run_forever`, which
//!    prints `I was cancelled!` before `Handled the failure`.
//!
//! One seed is wrong here: it says the group cancels the remaining tasks "though
//! reliable_task had already completed". It had not: it needs 0.5 s and the failure comes at
//! 0.2 s, so it is cancelled. This example shows it being cancelled.
//!
//! Seconds are scaled to 200 ms. Run it with `cargo run --example error_handling`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

/// One simulated second.
const SECOND: Duration = Duration::from_millis(200);

/// Python's `ValueError`.
#[derive(Debug, thiserror::Error)]
#[error("ValueError: {0}")]
struct ValueError(String);

/// Prints a line if it is dropped before [`OnCancel::disarm`]: that is, if its task was
/// cancelled. (A dropped future is a cancelled task; this is the `except CancelledError:
/// print(...)` of the seeds. For async cleanup, see `graceful_shutdown.rs`.)
struct OnCancel(&'static str);

impl OnCancel {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        println!("{}", self.0);
    }
}

async fn reliable_task() -> Result<&'static str, ValueError> {
    let guard =
        OnCancel("  (reliable_task was cancelled: it needed 0.5 s, the failure came at 0.2 s)");
    sleep(SECOND / 2).await;
    guard.disarm();
    Ok("Success")
}

async fn failing_task() -> Result<(), ValueError> {
    sleep(SECOND / 5).await;
    Err(ValueError("Something went wrong".into()))
}

/// Scenario 1: `except ExceptionGroup as eg` catches every error, whatever its type:
/// `except* _ as eg` in `group!`.
async fn exception_group() -> Result<(), ErrorGroup> {
    println!("1. except ExceptionGroup");
    group! {
        t1 = reliable_task();
        t2 = failing_task();
        except* _ as eg => {
            println!("Caught ExceptionGroup with {} exceptions", eg.len());
            for leaf in &eg {
                println!(" - {}", leaf.error);
            }
            // Fallback values for the bindings, since the arm does not return.
            ("", ())
        }
    }
    let _ = (t1, t2);
    Ok(())
}

async fn succeed() -> Result<(), ValueError> {
    let guard = OnCancel("  (a succeed() task was cancelled)");
    sleep(SECOND / 2).await;
    guard.disarm();
    Ok(())
}

async fn fail() -> Result<(), ValueError> {
    sleep(SECOND / 20).await;
    Err(ValueError("fail() raised".into()))
}

/// Scenario 2: `except* ValueError as eg` takes the `ValueError`s; anything else would go on
/// up to the caller with `?`.
async fn except_star_value_error() -> Result<(), ErrorGroup> {
    println!("2. except* ValueError");
    group! {
        _ = succeed();
        _ = fail(); // raises ValueError
        _ = succeed();
        except* ValueError as eg => {
            // An ErrorGroup<ValueError> with ValueError inside.
            for leaf in &eg {
                println!("Caught: {}", leaf.error);
            }
        }
    }
    Ok(())
}

async fn fail_soon() -> Result<(), ValueError> {
    sleep(SECOND / 10).await;
    Err(ValueError("Task failed!".into()))
}

async fn run_forever() -> Result<(), ValueError> {
    let _cancelled = OnCancel("I was cancelled!");
    loop {
        sleep(SECOND).await;
    }
}

/// Scenario 3: the sibling that runs forever is cancelled before the arm runs.
async fn cancellation_behavior() -> Result<(), ErrorGroup> {
    println!("3. TaskGroup cancellation behavior");
    group! {
        _ = fail_soon();
        _ = run_forever();
        except* ValueError => println!("Handled the failure"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    exception_group().await?;
    println!();
    except_star_value_error().await?;
    println!();
    cancellation_behavior().await?;
    Ok(())
}
