//! Graceful shutdown: tasks run async cleanup when their group is cancelled.
//!
//! Mirrors the course's "Handling CancelledError": a worker prints `Working...` every second;
//! when cancelled it prints `Cleaning up...`, awaits `cleanup()`, and re-raises.
//!
//! In taskgroup a task learns that its group is cancelling by awaiting `taskgroup::cancelled()`,
//! which also says why. `#![grace = d]` (or `Group::grace`) is how long the group waits for
//! such tasks to finish their cleanup before it drops them, so a task that ignores the
//! cancellation cannot hold up the shutdown past the grace period. An error a task returns
//! during its cleanup is not lost: errors beat cancellation. A task that was cleaning up
//! when the grace period ran out is reported by its name (`taskgroup::GraceElapsed`), so a
//! flush cut short is never silent.
//!
//! Seconds are scaled to 50 ms. Run it with `cargo run --example graceful_shutdown`.

use std::time::Duration;

use taskgroup::ErrorGroup;
use tokio::time::{Instant, sleep};

/// One simulated second.
const SECOND: Duration = Duration::from_millis(50);

async fn cleanup(name: &str) {
    sleep(SECOND / 2).await; // flush buffers, close connections...
    println!("{name}: cleanup done");
}

/// Works until its group is cancelled, then cleans up.
async fn graceful_worker() -> Result<(), std::io::Error> {
    let work = async {
        loop {
            sleep(SECOND).await;
            println!("Working...");
        }
    };
    tokio::select! {
        () = work => Ok(()),
        why = taskgroup::cancelled() => {
            println!("Cleaning up... ({why})");
            cleanup("graceful worker").await;
            Ok(())
        }
    }
}

/// Prints a line when it is dropped.
struct Announce(&'static str);

impl Drop for Announce {
    fn drop(&mut self) {
        println!("{}", self.0);
    }
}

/// Never looks at `taskgroup::cancelled()`: the group drops it when the grace period is over.
async fn stubborn_worker() -> Result<(), std::io::Error> {
    let _dropped = Announce("stubborn worker: dropped at the end of the grace period");
    sleep(SECOND * 100).await;
    Ok(())
}

/// Flushes for longer than the grace period allows: cut off, and reported by its name.
async fn slow_flusher() -> Result<(), std::io::Error> {
    taskgroup::cancelled().await;
    println!("slow flusher: flushing 5 s of buffered writes...");
    sleep(SECOND * 5).await;
    println!("slow flusher: flushed");
    Ok(())
}

/// Fails while it cleans up.
async fn clumsy_worker() -> Result<(), std::io::Error> {
    taskgroup::cancelled().await;
    println!("clumsy worker: cleaning up...");
    sleep(SECOND / 2).await;
    Err(std::io::Error::other("could not flush the write-ahead log"))
}

#[tokio::main]
async fn main() {
    println!("1. shutdown with a grace period");
    let start = Instant::now();
    let outcome = taskgroup::Group::new()
        .name("service")
        .grace(SECOND * 2)
        .scope(async |s| {
            s.spawn_named("graceful_worker", graceful_worker());
            s.spawn_named("stubborn_worker", stubborn_worker());
            // A real service awaits `tokio::signal::ctrl_c()` here.
            sleep(SECOND * 7 / 2).await;
            println!("Shutdown requested");
            s.cancel();
            Ok::<_, std::io::Error>(())
        })
        .await;
    match outcome {
        Ok(()) => println!(
            "shut down cleanly, {} ms after the request",
            (start.elapsed() - SECOND * 7 / 2).as_millis()
        ),
        Err(eg) => println!("shutdown failed:\n{eg:#}"),
    }

    println!();
    println!("2. an error during cleanup is kept");
    let outcome: Result<(), ErrorGroup> = taskgroup::Group::new()
        .name("service")
        .grace(SECOND * 2)
        .scope(async |s| {
            s.spawn_named("clumsy_worker", clumsy_worker());
            sleep(SECOND).await;
            println!("Shutdown requested");
            s.cancel();
            Ok::<_, std::io::Error>(())
        })
        .await;
    match outcome {
        Ok(()) => println!("shut down cleanly"),
        Err(eg) => println!("shutdown failed:\n{eg:#}"),
    }

    println!();
    println!("3. a cleanup that overruns the grace period is reported");
    let outcome: Result<(), ErrorGroup> = taskgroup::Group::new()
        .name("service")
        .grace(SECOND * 2)
        .scope(async |s| {
            s.spawn_named("slow_flusher", slow_flusher());
            s.spawn_named("graceful_worker", graceful_worker());
            sleep(SECOND).await;
            println!("Shutdown requested");
            s.cancel();
            Ok::<_, std::io::Error>(())
        })
        .await;
    match outcome {
        Ok(()) => println!("shut down cleanly"),
        // The flusher was told, started flushing, and was dropped at the end of the grace
        // period: the shutdown fails and says whose data may be lost.
        Err(eg) => println!("shutdown failed: {eg}\n{eg:#}"),
    }
}
