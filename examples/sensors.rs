//! The sensor example: the orphaned-task bug with bare `tokio::spawn`, and the fix, side by side.
//!
//! Mirrors the seed "What Does This Print?": two sensors are read concurrently; Sensor-B
//! fails after 0.5 s while Sensor-A needs 2 s. Spawned as free tasks and awaited one after
//! the other, Sensor-A is orphaned: `main` has caught Sensor-B's error and moved on, yet
//! Sensor-A keeps running and prints `Successfully read from Sensor-A` later. Nothing
//! controls it and nothing observes it. Dropping a tokio `JoinHandle` does not cancel its
//! task either: the bug is the same in Rust.
//!
//! The fix is a group: Sensor-B's failure cancels Sensor-A, whose cancellation block runs
//! (`Cleanup initiated for Sensor-A`), and the group ends only once both are finished. Inside
//! a `group!` task, a bare `tokio::spawn` is rejected at compile time, because it would escape
//! the group.
//!
//! Seconds are scaled to 100 ms. Run it with `cargo run --example sensors`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

/// One simulated second.
const SECOND: Duration = Duration::from_millis(100);

/// Python's `RuntimeError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RuntimeError(String);

/// How many `read_sensor` calls are running right now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a running sensor read until it is finished or dropped.
struct Running;

impl Running {
    fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn read_sensor(name: &str, seconds: f64, fail: bool) -> Result<(), RuntimeError> {
    let _running = Running::start();
    println!("Reading from {name}");
    tokio::select! {
        () = sleep(SECOND.mul_f64(seconds)) => {}
        // The seed's `except asyncio.CancelledError:` block. Outside of any group this never
        // fires: nothing can cancel a free task this way.
        _ = taskgroup::cancelled() => {
            println!("Cleanup initiated for {name}");
            return Ok(());
        }
    }
    if fail {
        return Err(RuntimeError(format!("Sensor {name} failed!")));
    }
    println!("Successfully read from {name}");
    Ok(())
}

/// The seed's broken code: free tasks, awaited one after the other.
async fn broken() {
    println!("Broken: bare tokio::spawn");
    let task1 = tokio::spawn(read_sensor("Sensor-A", 2.0, false));
    let task2 = tokio::spawn(read_sensor("Sensor-B", 0.5, true));
    // Awaiting them in turn leaves task1 orphaned when task2 fails.
    let outcome = async {
        task2.await.expect("Sensor-B did not panic")?;
        task1.await.expect("Sensor-A did not panic")?;
        Ok::<_, RuntimeError>(())
    }
    .await;
    if let Err(e) = outcome {
        println!("Main caught: {e}");
        println!(
            "  (sensor reads still running: {}: Sensor-A is orphaned)",
            RUNNING.load(Ordering::SeqCst)
        );
        // Let the orphan run, to show the leak.
        sleep(SECOND * 2).await;
    }
}

/// The fix: one group.
async fn fixed() -> Result<(), ErrorGroup> {
    println!("Fixed: one group");
    group! {
        // Lets Sensor-A's cancellation block run before it is dropped.
        #![grace = SECOND / 2]
        _ = read_sensor("Sensor-A", 2.0, false);
        _ = read_sensor("Sensor-B", 0.5, true);
        except* RuntimeError as eg => {
            let errors: Vec<String> = eg.leaves().map(|leaf| format!("{:?}", leaf.error)).collect();
            println!("Caught exception group containing: [{}]", errors.join(", "));
        }
    }
    println!(
        "  (sensor reads still running: {})",
        RUNNING.load(Ordering::SeqCst)
    );
    sleep(SECOND * 2).await;
    println!("  (2 s later, nothing more from Sensor-A: no task outlived its group)");
    Ok(())
}

// One thread, so the two sensors print in a fixed order.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    broken().await;
    println!();
    fixed().await
}
