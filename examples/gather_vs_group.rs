//! `gather` versus a group: collecting results versus owning the tasks' lifetimes.
//!
//! Mirrors the reference's "gather vs TaskGroup trade-offs": four tasks, task 2 fails.
//! `asyncio.gather(..., return_exceptions=True)` runs all four and returns
//! `[0, 1, RuntimeError('task 2 failed'), 3]`; a `TaskGroup` cancels the rest at the first
//! failure; and plain `gather` (without `return_exceptions`) raises the first error while the
//! other tasks keep running in the background.
//!
//! In taskgroup these are modes of one construct:
//!
//! 1. `#![mode = settle]`: every task runs to completion and binds its own `Result`
//!    (`taskgroup::settled` does the same for one task of a scope);
//! 2. fail-fast, the default: the first error cancels the rest;
//! 3. `#![mode = supervise]`: every task runs to completion, then the errors are raised
//!    together;
//! 4. `Group::first_success`: the first task to succeed wins and the rest are cancelled.
//!
//! And, for contrast, plain `gather`'s behaviour, written with bare `tokio::spawn`: the first
//! error comes back while a sibling is still running, orphaned.
//!
//! The seed's tasks sleep `0.01 * i` s; here `60 ms * i`, so that the order of events is
//! the same on a busy machine. Run it with `cargo run --example gather_vs_group`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taskgroup::{ErrorGroup, Group, group, settled};
use tokio::time::sleep;

/// Python's `RuntimeError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RuntimeError(String);

/// How many `task`s are running right now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a running task; prints a line if the task is dropped (cancelled) before it finishes.
struct OnCancel(Option<u32>);

impl OnCancel {
    fn start(i: u32) -> OnCancel {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        OnCancel(Some(i))
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        if let Some(i) = self.0 {
            println!("  (task {i} was cancelled)");
        }
    }
}

async fn task(i: u32) -> Result<u32, RuntimeError> {
    let mut guard = OnCancel::start(i);
    sleep(Duration::from_millis(60) * i).await;
    guard.0 = None;
    if i == 2 {
        return Err(RuntimeError(format!("task {i} failed")));
    }
    Ok(i)
}

/// Python's list repr of results and exceptions.
fn python_list(results: &[Result<u32, RuntimeError>]) -> String {
    let items: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(value) => value.to_string(),
            Err(error) => format!("{error:?}"),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

async fn with_gather() -> Result<Vec<Result<u32, RuntimeError>>, ErrorGroup> {
    // All tasks run to completion; failures become result values.
    group! {
        #![mode = settle]
        results = for i in 0..4 => task(i);
    }
    Ok(results.into_vec())
}

async fn with_settled_scope() -> Result<Vec<Result<u32, RuntimeError>>, ErrorGroup> {
    // The same with a scope: `settled` makes each task's error part of its value.
    taskgroup::scope(async |s| {
        let handles: Vec<_> = (0..4).map(|i| s.spawn(settled(task(i)))).collect();
        let mut results = Vec::new();
        for handle in handles {
            results.extend(handle.await);
        }
        Ok::<_, std::io::Error>(results)
    })
    .await
}

// A fan-out whose body is a plain call, `for x in it => f(x)`, trips clippy's
async fn with_taskgroup() -> Result<Vec<u32>, ErrorGroup> {
    // First failure cancels the rest; errors arrive grouped.
    group! {
        results = for i in 0..4 => task(i);
    }
    Ok(results)
}

// A fan-out whose body is a plain call, `for x in it => f(x)`, trips clippy's
async fn with_supervise() -> Result<Vec<u32>, ErrorGroup> {
    // Failures cancel nothing; every error is raised at the end.
    group! {
        #![mode = supervise]
        results = for i in 0..4 => task(i);
    }
    Ok(results)
}

/// Plain `gather`: the first error is raised while the siblings go on, unowned.
async fn plain_gather() -> Result<Vec<u32>, RuntimeError> {
    let handles: Vec<_> = (0..4).map(|i| tokio::spawn(task(i))).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("no task panics")?);
    }
    Ok(results)
}

async fn mirror(name: &'static str, delay_ms: u64, up: bool) -> Result<&'static str, RuntimeError> {
    sleep(Duration::from_millis(delay_ms)).await;
    if up {
        Ok(name)
    } else {
        Err(RuntimeError(format!("{name} is down")))
    }
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    println!("1. gather(return_exceptions=True) = #![mode = settle]");
    println!("{}", python_list(&with_gather().await?));
    println!("the same with a scope and taskgroup::settled:");
    println!("{}", python_list(&with_settled_scope().await?));

    println!();
    println!("2. TaskGroup = fail-fast, the default");
    match with_taskgroup().await {
        Ok(results) => println!("{results:?}"),
        Err(eg) => println!(
            "raised: {eg}: {}",
            eg.leaves()
                .next()
                .map(|l| l.error.to_string())
                .unwrap_or_default()
        ),
    }

    println!();
    println!("3. #![mode = supervise]: everything runs, then the errors are raised");
    match with_supervise().await {
        Ok(results) => println!("{results:?}"),
        Err(eg) => println!(
            "raised: {eg}: {}",
            eg.leaves()
                .next()
                .map(|l| l.error.to_string())
                .unwrap_or_default()
        ),
    }
    println!("(no task was cancelled: tasks 0, 1 and 3 ran to completion)");

    println!();
    println!("4. Group::first_success: the first success wins, the rest are cancelled");
    let winner = Group::new()
        .first_success([
            mirror("mirror-a", 10, false),
            mirror("mirror-b", 200, true),
            mirror("mirror-c", 60, true),
        ])
        .await?;
    println!("fastest healthy mirror: {winner}");

    println!();
    println!("5. plain gather(): the first error is raised, the siblings keep running");
    match plain_gather().await {
        Ok(results) => println!("{results:?}"),
        Err(error) => println!("raised: {error}"),
    }
    println!(
        "tasks still running after the error: {} (task 3, owned by nobody)",
        RUNNING.load(Ordering::SeqCst)
    );
    // Wait for it, to show the leak.
    sleep(Duration::from_millis(200)).await;
    println!(
        "tasks still running 200 ms later: {}: task 3 ran to completion, and nothing cancelled it",
        RUNNING.load(Ordering::SeqCst)
    );
    Ok(())
}
