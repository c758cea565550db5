//! A tour of taskgroup through the seeds' core scenarios: success, fail-fast with `except*`,
//! a deadline, and nested groups. Run it with `cargo run --example tour`.

use std::fmt;
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep, sleep_until};

/// A `ValueError` of the seeds.
#[derive(Debug)]
struct ValueError(String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueError: {}", self.0)
    }
}

impl std::error::Error for ValueError {}

/// A `TypeError` of the seeds.
#[derive(Debug)]
struct TypeError(String);

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypeError: {}", self.0)
    }
}

impl std::error::Error for TypeError {}

/// Drops print a line, so the output shows cancellation happening.
struct Announce(&'static str);

impl Drop for Announce {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        println!("    {} was cancelled", self.0);
    }
}

async fn fetch_data(url: &str, delay_ms: u64) -> Result<String, std::io::Error> {
    sleep(Duration::from_millis(delay_ms)).await;
    Ok(format!("Data from {url}"))
}

async fn run_forever(name: &'static str) -> Result<(), std::io::Error> {
    let guard = Announce(name);
    loop {
        sleep(Duration::from_millis(50)).await;
        let _ = &guard;
    }
}

async fn fail_with_value_error(at: Instant) -> Result<(), ValueError> {
    sleep_until(at).await;
    Err(ValueError("Invalid value".into()))
}

async fn fail_with_type_error(at: Instant) -> Result<(), TypeError> {
    sleep_until(at).await;
    Err(TypeError("Wrong type".into()))
}

/// Scenario 1: Three fetches run together: the group takes as long as the longest one.
async fn success() -> Result<(), ErrorGroup> {
    println!("1. success: three fetches in one group");
    let start = Instant::now();
    group! {
        task1 = fetch_data("api1.com", 100);
        task2 = fetch_data("api2.com", 200);
        task3 = fetch_data("api3.com", 150);
    }
    println!("    Result 1: {task1}");
    println!("    Result 2: {task2}");
    println!("    Result 3: {task3}");
    println!(
        "    took {} ms: the longest task, not the sum",
        round_ms(start.elapsed())
    );
    Ok(())
}

/// Scenario 2: Two tasks fail at the same instant with different error types, and a third runs
/// forever: it is cancelled, and each `except*` arm handles its own type.
async fn fail_fast() -> Result<(), ErrorGroup> {
    println!("2. fail-fast: the first failure cancels the siblings; except* sorts the errors");
    // Both fail at the same instant (one deadline, not two sleeps of 100 ms that could end
    // in different ticks of the clock), so both errors land before the cancellation does.
    let at = Instant::now() + Duration::from_millis(100);
    group! {
        _ = fail_with_value_error(at);
        _ = fail_with_type_error(at);
        _ = run_forever("run_forever");
        except* ValueError as errors => {
            for leaf in &errors {
                println!("    handled {} from task `{}`", leaf.error, leaf.task);
            }
        }
        except* TypeError as errors => {
            for leaf in &errors {
                println!("    handled {} from task `{}`", leaf.error, leaf.task);
            }
        }
    }
    Ok(())
}

/// Scenario 3: A deadline cancels everything and arrives as an `Elapsed` leaf.
async fn deadline() -> Result<(), ErrorGroup> {
    println!("3. deadline: #![timeout] cancels the whole group");
    let start = Instant::now();
    group! {
        #![timeout = Duration::from_millis(200)]
        _ = run_forever("slow task 1");
        _ = run_forever("slow task 2");
        except* taskgroup::Elapsed as elapsed => {
            println!(
                "    group timed out after {} ms: {}",
                round_ms(start.elapsed()),
                elapsed.leaves().next().map(|leaf| leaf.error.to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// A parent task that runs its own group of three subtasks, one of which fails.
async fn parent_work(
    parent: &'static str,
    failing: Option<usize>,
) -> Result<Vec<String>, ErrorGroup> {
    group! {
        #![name = "child group"]
        results = for i in 0..3 => async move {
            sleep(Duration::from_millis(100)).await;
            if failing == Some(i) {
                return Err(std::io::Error::other(format!("Subtask {parent}.{i} failed")));
            }
            Ok(format!("Subtask {parent}.{i} done"))
        };
    }
    Ok(results)
}

/// Scenario 4: Nested groups: a child group's error nests in the parent's, and `except*` sees through.
async fn nested() -> Result<(), ErrorGroup> {
    println!("4. nested groups: results, then a failure deep inside");
    group! {
        p1 = parent_work("Parent1", None);
        p2 = parent_work("Parent2", None);
    }
    println!("    Parent 1 results: {p1:?}");
    println!("    Parent 2 results: {p2:?}");

    let outcome: Result<(), ErrorGroup> = async {
        group! {
            #![name = "parent group"]
            _ = parent_work("Parent1", Some(1));
            _ = parent_work("Parent2", None);
        }
        Ok(())
    }
    .await;
    if let Err(tree) = outcome {
        println!(
            "    the io error is in the tree: {}",
            tree.contains::<std::io::Error>()
        );
        println!("    the whole tree, as Python prints an exception group:");
        for line in format!("{tree:#}").lines() {
            println!("    {line}");
        }
    }
    Ok(())
}

fn round_ms(elapsed: Duration) -> u128 {
    (elapsed.as_millis() + 25) / 50 * 50
}

// One thread, like Python's event loop: when several tasks finish at the same instant, the
// group sees every one of them before it reacts to the first failure. (On a multi-threaded
// runtime the timer may wake them from another thread one by one, and the group can cancel
// the later ones before their wake-ups arrive.)
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    success().await?;
    fail_fast().await?;
    deadline().await?;
    nested().await?;
    println!("done: no task outlived its group");
    Ok(())
}
