//! Nested groups: a task that runs its own group, and how errors propagate up through them.
//!
//! Mirrors the seeds' "Nested Task Groups" (two `parent_work` tasks, each running a child
//! group of three subtasks) and "Error Propagation in Nested Groups" (`Child caught: ...`,
//! re-raised, `Parent caught: ...`).
//!
//! A child group's `ErrorGroup` becomes a *nested* group in its parent's, never flattened,
//! and `except*` matches through the nesting. A failure deep inside one parent cancels
//! everything else, including the subtasks of the other parent's child group.
//!
//! Seconds are scaled to 400 ms. Run it with `cargo run --example nested_groups`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

/// One simulated second.
const SECOND: Duration = Duration::from_millis(400);

/// Python's `RuntimeError`.
#[derive(Debug, thiserror::Error)]
#[error("RuntimeError: {0}")]
struct RuntimeError(String);

/// Prints a line if its task is cancelled (dropped before it finishes).
struct OnCancel(String);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            println!("  ({} was cancelled)", self.0);
        }
    }
}

async fn subtask(subtask_id: String, seconds: f64) -> Result<String, RuntimeError> {
    let mut guard = OnCancel(format!("Subtask {subtask_id}"));
    sleep(SECOND.mul_f64(seconds)).await;
    guard.0.clear(); // finished: not cancelled
    Ok(format!("Subtask {subtask_id} done"))
}

/// A task that runs its own group of three subtasks.
async fn parent_work(parent_id: &str) -> Result<Vec<String>, ErrorGroup> {
    group! {
        #![name = "child_tg"]
        results = for i in 0..3 => subtask(format!("{parent_id}.{i}"), 0.3);
    }
    Ok(results)
}

async fn failing_subtask() -> Result<(), RuntimeError> {
    sleep(SECOND / 10).await;
    Err(RuntimeError("Subtask failed".into()))
}

/// A child group that catches its error, prints it, and re-raises it to its parent.
async fn parent_work_failing() -> Result<(), ErrorGroup> {
    group! {
        #![name = "child_tg"]
        _ = failing_subtask();
        except* _ as eg => {
            println!("Child caught: {eg}");
            return Err(eg); // re-raise to the parent
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    println!("1. nested groups");
    group! {
        #![name = "parent_tg"]
        p1 = parent_work("Parent1");
        p2 = parent_work("Parent2");
    }
    println!("Parent 1 results: {p1:?}");
    println!("Parent 2 results: {p2:?}");

    println!();
    println!("2. error propagation through nested groups");
    group! {
        #![name = "parent_tg"]
        _ = parent_work_failing();
        except* _ as eg => {
            println!("Parent caught: {eg}");
            println!("{eg:#}");
        }
    }

    println!();
    println!("3. a failure deep inside one parent cancels the other parent's subtasks");
    group! {
        #![name = "parent_tg"]
        _ = parent_work_failing();
        _ = parent_work("Parent2");
        // `except*` sees through the nesting: the RuntimeError is one level down.
        except* RuntimeError as eg => {
            for leaf in eg.leaves() {
                println!(
                    "except* RuntimeError matched `{}` from task `{}`, {} group(s) down",
                    leaf.error, leaf.task, leaf.depth
                );
            }
        }
    }
    Ok(())
}
