//! Manual cancellation: a task of the group decides that the group is done and cancels it.
//!
//! Mirrors the seeds' "Manual Cancellation": three `long_task`s of 10 s and a
//! `monitor_and_cancel` task that, after 1 s, prints `Cancelling remaining tasks...` and
//! cancels them; each prints `Task N cancelled`.
//!
//! The seed ends with `Got 3 exceptions`. That is not what happens, in Python or here:
//! cancelling is not failing. Python's `TaskGroup` ignores children that were cancelled from
//! outside, so no `ExceptionGroup` is raised; taskgroup's `Scope::cancel` (Python 3.15's
//! `TaskGroup.cancel()`) ends the group cleanly, and the scope returns `Ok`.
//!
//! With `grace`, the tasks see the cancellation through `taskgroup::cancelled()`, print, and
//! return what they have; a task dropped before it finished would leave its handle with
//! `Err(HandleError::Cancelled(..))`.
//!
//! Seconds are scaled to 100 ms. Run it with `cargo run --example manual_cancel`.

use std::time::Duration;

use tokio::time::sleep;

/// One simulated second.
const SECOND: Duration = Duration::from_millis(100);

/// Works for 10 s unless its group is cancelled first; then says so, as the seed's
/// `except asyncio.CancelledError:` block does.
async fn long_task(task_id: u32) -> Result<String, std::io::Error> {
    tokio::select! {
        _ = sleep(SECOND * 10) => Ok(format!("Task {task_id} done")),
        why = taskgroup::cancelled() => {
            println!("Task {task_id} cancelled ({why})");
            Ok(format!("Task {task_id} stopped early"))
        }
    }
}

#[tokio::main]
async fn main() {
    // `grace` lets the tasks see the cancellation and print before they are dropped.
    let outcome = taskgroup::Group::new()
        .grace(SECOND)
        .scope(async |s| {
            let tasks: Vec<_> = (0..3).map(|i| s.spawn(long_task(i))).collect();
            // monitor_and_cancel: a task of the same group, holding the scope's handle.
            s.spawn(async move {
                sleep(SECOND).await;
                println!("Cancelling remaining tasks...");
                s.cancel();
                Ok::<_, std::io::Error>(())
            });
            Ok::<_, std::io::Error>(tasks)
        })
        .await;

    match outcome {
        Ok(tasks) => {
            println!("The group ended without an error: cancelling is not failing.");
            for (i, task) in tasks.into_iter().enumerate() {
                match task.await {
                    Ok(value) => println!("  task {i}: {value}"),
                    Err(why) => println!("  task {i}: no value ({why})"),
                }
            }
        }
        Err(eg) => println!("Got {} exceptions:\n{eg:#}", eg.len()),
    }
}
