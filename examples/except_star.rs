//! `except*` per error type: each arm takes the errors of its type, and what no arm takes
//! goes on up to the caller.
//!
//! Mirrors the seeds' "Selective Exception Handling with except*" (`ValueError` at 0.2 s,
//! `TypeError` at 0.3 s, a success at 0.1 s), the course's "Multiple Exception Types" (both
//! raised at once), and the reference's "Handling ExceptionGroup with except*" (two
//! `ConnectionError`s and a success).
//!
//! The first seed prints both `Handled ValueError` and `Handled TypeError`. That is not what
//! a `TaskGroup` does, in Python or here: the `ValueError` at 0.2 s cancels the task that would
//! raise the `TypeError` at 0.3 s, so only the `ValueError` arm runs. When both errors happen
//! at the same instant (the second scenario), both arms run.
//!
//! The seed's timings are short already and kept as they are, so that the order of events
//! holds on a busy machine. Run it with `cargo run --example except_star`.

use std::fmt::Debug;
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep, sleep_until};

/// One second, as in the seed.
const SECOND: Duration = Duration::from_secs(1);

/// Python's `ValueError`.
#[derive(Debug, thiserror::Error)]
#[error("ValueError: {0}")]
struct ValueError(String);

/// Python's `TypeError`.
#[derive(Debug, thiserror::Error)]
#[error("TypeError: {0}")]
struct TypeError(String);

/// Python's `ConnectionError`.
#[derive(Debug, thiserror::Error)]
#[error("ConnectionError: {0}")]
struct ConnectionError(String);

/// Python's `KeyError`.
#[derive(Debug, thiserror::Error)]
#[error("KeyError: {0}")]
struct KeyError(String);

/// The errors of a group as a list, as Python prints `eg.exceptions`.
fn exceptions<E: Debug>(eg: &ErrorGroup<E>) -> String {
    let reprs: Vec<String> = eg
        .leaves()
        .map(|leaf| format!("{:?}", leaf.error))
        .collect();
    format!("[{}]", reprs.join(", "))
}

async fn task_raises_value_error() -> Result<(), ValueError> {
    sleep(SECOND / 5).await;
    Err(ValueError("Invalid value".into()))
}

async fn task_raises_type_error() -> Result<(), TypeError> {
    sleep(SECOND * 3 / 10).await;
    Err(TypeError("Wrong type".into()))
}

async fn task_succeeds() -> Result<&'static str, std::io::Error> {
    sleep(SECOND / 10).await;
    Ok("Success")
}

/// The first seed: the `TypeError` never happens.
async fn selective() -> Result<(), ErrorGroup> {
    println!("1. ValueError at 0.2 s, TypeError at 0.3 s, a success at 0.1 s");
    let mut type_error_arm_ran = false;
    group! {
        _ = task_raises_value_error();
        _ = task_raises_type_error();
        _ = task_succeeds();
        except* ValueError as eg => println!("Handled ValueError: {eg}: {}", exceptions(&eg)),
        except* TypeError as eg => {
            type_error_arm_ran = true;
            println!("Handled TypeError: {eg}: {}", exceptions(&eg));
        }
    }
    if !type_error_arm_ran {
        println!("(no TypeError: its task was cancelled by the ValueError at 0.2 s)");
    }
    Ok(())
}

async fn raise_value_error(at: Instant) -> Result<(), ValueError> {
    sleep_until(at).await;
    Err(ValueError("bad value".into()))
}

async fn raise_type_error(at: Instant) -> Result<(), TypeError> {
    sleep_until(at).await;
    Err(TypeError("bad type".into()))
}

/// The course's "Multiple Exception Types": both fail at the same instant, so both errors
/// land before the cancellation does, and both arms run.
///
/// (Had they failed on their very first poll, without awaiting anything, only the first
/// would have run: once a task fails the group starts no other. Python does the same: the
/// group cancels the tasks that have not started yet.)
async fn both_at_once() -> Result<(), ErrorGroup> {
    println!("2. a ValueError and a TypeError at the same instant");
    let at = Instant::now() + SECOND / 25;
    group! {
        _ = raise_value_error(at);
        _ = raise_type_error(at);
        except* ValueError as eg => println!("Value errors: {}", exceptions(&eg)),
        except* TypeError as eg => println!("Type errors: {}", exceptions(&eg)),
    }
    Ok(())
}

async fn step(
    name: &'static str,
    fail: bool,
    at: Instant,
) -> Result<&'static str, ConnectionError> {
    sleep_until(at).await;
    if fail {
        return Err(ConnectionError(format!("{name} unreachable")));
    }
    Ok(name)
}

/// The reference's example: an arm runs once with all the errors of its type; an arm whose
/// type did not occur does not run.
async fn connection_errors() -> Result<(), ErrorGroup> {
    println!("3. two ConnectionErrors");
    // The three steps answer at the same instant, so both failures land before the
    // cancellation does.
    let at = Instant::now() + SECOND / 25;
    group! {
        _ = step("cache", true, at);
        _ = step("db", false, at);
        _ = step("queue", true, at);
        except* ConnectionError as eg => {
            for leaf in &eg {
                println!("connection failure: {}", leaf.error);
            }
        }
        except* ValueError as eg => println!("validation failures: {}", eg.len()),
    }
    Ok(())
}

async fn lookup(key: &str, at: Instant) -> Result<u32, KeyError> {
    sleep_until(at).await;
    Err(KeyError(key.into()))
}

async fn validate(input: &str, at: Instant) -> Result<u32, ValueError> {
    sleep_until(at).await;
    Err(ValueError(format!("cannot parse {input:?}")))
}

/// What no arm matches is re-raised: `group!` returns it with `?`, still grouped.
async fn unmatched() -> Result<(u32, u32), ErrorGroup> {
    let at = Instant::now() + SECOND / 25;
    group! {
        id = lookup("user:42", at);
        age = validate("forty", at);
        except* ValueError as eg => {
            println!("Handled ValueError: {}", exceptions(&eg));
            (0, 0)
        }
    }
    Ok((id, age))
}

// One thread, like Python's event loop: when several tasks finish at the same instant, the
// group sees every one of them before it reacts to the first failure. (On a multi-threaded
// runtime the timer may wake them from another thread one by one, and the group can cancel
// the later ones before their wake-ups arrive.)
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    selective().await?;
    println!();
    both_at_once().await?;
    println!();
    connection_errors().await?;
    println!();
    println!("4. an error no arm matches");
    if let Err(rest) = unmatched().await {
        println!("Re-raised to the caller: {rest}");
        println!("{rest:#}");
    }
    Ok(())
}
