//! A group cancelled from outside by any future (`#![cancel_on = ..]`, `Group::cancel_on`),
//! and tasks that end as cancelled (`Err(Cancelled::from(why))`). All on the paused clock.

mod common;

use std::io;

use common::*;
use taskgroup::{BoxError, CancelReason, Cancelled, ErrorGroup, Group, group};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A worker that flushes for `flush` ms once told to cancel, then ends `Ok`.
async fn polite(log: &Log, name: &str, flush: u64) -> Result<u32, io::Error> {
    tokio::select! {
        () = sleep_ms(60_000) => Ok(0),
        why = taskgroup::cancelled() => {
            log.push(format!("{name} told: {why:?}"));
            sleep_ms(flush).await;
            log.push(format!("{name} flushed"));
            Ok(1)
        }
    }
}

// ---------------------------------------------------------------------------------------
// #![cancel_on] in group!
// ---------------------------------------------------------------------------------------

async fn ingest_until(log: &Log, shutdown: &CancellationToken) -> Result<(u32, u32), ErrorGroup> {
    group! {
        #![cancel_on = shutdown.cancelled()]
        #![grace = ms(500)]
        a = polite(log, "a", 100);
        b = polite(log, "b", 200);
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn a_token_cancels_a_group_whose_tasks_all_end_ok_within_the_grace() {
    let log = Log::new();
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    let (result, ()) = tokio::join!(ingest_until(&log, &shutdown), async {
        sleep_ms(1000).await;
        trigger.cancel();
    });
    // Every task ended `Ok` within the grace: the group succeeds, with their values.
    assert_eq!(result.unwrap(), (1, 1));
    assert_eq!(
        log.events(),
        [
            at("a told: Cancelled", 1000),
            at("b told: Cancelled", 1000),
            at("a flushed", 1100),
            at("b flushed", 1200),
        ]
    );
}

async fn until_oneshot(log: &Log, stop: oneshot::Receiver<()>) -> Result<u32, ErrorGroup> {
    group! {
        #![cancel_on = stop]
        worker = polite(log, "worker", 100);
        _ = sleep_ms(60_000); // does not watch: dropped at once
        except* Cancelled as why => {
            log.push(format!("except* Cancelled: {why}"));
            return Ok(0);
        }
    }
    Ok(worker)
}

#[tokio::test(start_paused = true)]
async fn a_oneshot_cancels_the_group_and_what_did_not_finish_is_a_cancelled_leaf() {
    let log = Log::new();
    let (stop, stopped) = oneshot::channel();
    let (result, ()) = tokio::join!(until_oneshot(&log, stopped), async {
        sleep_ms(300).await;
        let _ = stop.send(());
    });
    // Without a grace period the tasks are dropped at once: the group has no values, and
    // fails with a `Cancelled` leaf, which `except* Cancelled` takes.
    assert_eq!(result.unwrap(), 0);
    assert_eq!(log.names().len(), 1, "{:?}", log.events());
    let line = &log.events()[0];
    assert!(
        line.0.starts_with("except* Cancelled:") && line.0.contains("cancelled"),
        "{line:?}"
    );
    assert_eq!(line.1, ms(300));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_leaf_carries_the_reason_and_the_name_cancelled() {
    let (stop, stopped) = oneshot::channel::<()>();
    drop(stop); // a dropped sender completes the receiver: the group is cancelled at once
    let errors = async {
        group! {
            #![cancel_on = stopped]
            a = ok_after(100, 1u32);
        }
        Ok::<_, ErrorGroup>(a)
    }
    .await
    .unwrap_err();
    assert_eq!(task_names(&errors), ["cancelled"]);
    assert_eq!(
        errors.find::<Cancelled>().map(Cancelled::reason),
        Some(CancelReason::Cancelled)
    );
}

#[tokio::test(start_paused = true)]
async fn an_already_complete_trigger_cancels_the_group_before_any_task_runs() {
    let log = Log::new();
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    let result = async {
        group! {
            #![cancel_on = shutdown.cancelled()]
            #![grace = ms(500)]
            a = async {
                log.push("a polled");
                Ok::<_, io::Error>(1u32)
            };
            b = spawn async { Ok::<_, io::Error>(2u32) };
        }
        Ok::<_, ErrorGroup>((a, b))
    }
    .await;
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["cancelled"]);
    assert!(log.events().is_empty(), "{:?}", log.events());
}

#[tokio::test(start_paused = true)]
async fn a_trigger_that_never_completes_changes_nothing() {
    let shutdown = CancellationToken::new();
    let result = async {
        group! {
            #![cancel_on = shutdown.cancelled()]
            a = ok_after(100, 1u32);
            b = ok_after(200, 2u32);
        }
        Ok::<_, ErrorGroup>(a + b)
    }
    .await;
    assert_eq!(result.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_error_before_the_trigger_fires_is_the_groups_error_not_a_cancellation() {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    let (result, ()) = tokio::join!(
        async {
            group! {
                #![cancel_on = shutdown.cancelled()]
                a = io_fail_after::<u32>(100, "disk full");
                b = ok_after(10_000, 2u32);
            }
            Ok::<_, ErrorGroup>(a + b)
        },
        async {
            sleep_ms(500).await;
            trigger.cancel();
        }
    );
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["a"]);
    assert!(errors.find::<Cancelled>().is_none());
}

// ---------------------------------------------------------------------------------------
// Group::cancel_on for scopes
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn group_cancel_on_ends_a_scope_cleanly_with_the_grace() {
    let log = Log::new();
    let (stop, stopped) = oneshot::channel::<()>();
    let (result, ()) = tokio::join!(
        Group::new()
            .grace(ms(500))
            .cancel_on(stopped)
            .scope(async |s| {
                let worker = s.spawn(polite(&log, "worker", 100));
                s.spawn(async {
                    let _guard = log.guard("ticker");
                    sleep_ms(60_000).await;
                    Ok::<_, io::Error>(())
                });
                Ok::<_, io::Error>(worker.await)
            }),
        async {
            sleep_ms(200).await;
            let _ = stop.send(());
        }
    );
    // As `Scope::cancel`: the body makes the value; the worker flushed within the grace.
    assert_eq!(result.unwrap(), Ok(1));
    assert_eq!(
        log.events(),
        [
            at("worker told: Cancelled", 200),
            at("worker flushed", 300),
            at("ticker dropped", 700),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn scope_macro_takes_a_group_with_cancel_on() {
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    let result = taskgroup::scope!(
        Group::new().cancel_on(shutdown.cancelled_owned()),
        async |s| {
            // Cancelled before the body's first step: every spawn is refused.
            let refused = s.spawn(ok_after(10, 1u32)).await;
            Ok::<_, io::Error>((s.is_cancelled(), refused.is_err()))
        }
    )
    .await;
    assert_eq!(result.unwrap(), (true, true));
}

// ---------------------------------------------------------------------------------------
// A task that ends as cancelled
// ---------------------------------------------------------------------------------------

/// A worker with a value type that, once told, cleans up and ends as cancelled.
async fn cleans_up_then_cancelled(log: &Log) -> Result<u64, BoxError> {
    let why = taskgroup::cancelled().await;
    sleep_ms(50).await;
    log.push("cleaned up");
    Err(Cancelled::from(why).into())
}

#[tokio::test(start_paused = true)]
async fn a_task_with_a_value_type_ending_as_cancelled_is_no_error_of_its_failing_group() {
    let log = Log::new();
    let errors = async {
        group! {
            #![grace = ms(500)]
            total = cleans_up_then_cancelled(&log);
            _ = io_fail_after::<()>(100, "upstream down");
        }
        Ok::<_, ErrorGroup>(total)
    }
    .await
    .unwrap_err();
    // Only the real failure: the worker's ending is its cancellation, not an error.
    assert_eq!(task_names(&errors), ["io_fail_after"]);
    assert_eq!(log.events(), [at("cleaned up", 150)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_ending_as_cancelled_on_cancel_on_leaves_the_group_cancelled() {
    let log = Log::new();
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    let (result, ()) = tokio::join!(
        async {
            group! {
                #![cancel_on = shutdown.cancelled()]
                #![grace = ms(500)]
                total = cleans_up_then_cancelled(&log);
                except* Cancelled => return Ok::<_, ErrorGroup>(None),
            }
            Ok(Some(total))
        },
        async {
            sleep_ms(100).await;
            trigger.cancel();
        }
    );
    // No value, no error: a clean shutdown.
    assert_eq!(result.unwrap(), None);
    assert_eq!(log.events(), [at("cleaned up", 150)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_ending_as_cancelled_by_its_handle_is_cancelled_not_failed() {
    let log = Log::new();
    let result = Group::new()
        .grace(ms(500))
        .scope(async |s| {
            let worker = s.spawn(cleans_up_then_cancelled(&log));
            sleep_ms(10).await;
            worker.cancel();
            Ok::<_, io::Error>(worker.await)
        })
        .await;
    assert_eq!(
        result.unwrap(),
        Err(taskgroup::HandleError::Cancelled(CancelReason::Handle))
    );
    assert_eq!(log.events(), [at("cleaned up", 60)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_ending_as_cancelled_while_nothing_cancels_it_fails_its_group() {
    // A misuse: nothing cancelled it. It is an error like any other, under its name.
    let errors = async {
        group! {
            a = async {
                sleep_ms(10).await;
                Err::<u32, BoxError>(Cancelled::from(CancelReason::Cancelled).into())
            };
            b = ok_after(100, 2u32);
        }
        Ok::<_, ErrorGroup>(a + b)
    }
    .await
    .unwrap_err();
    assert_eq!(task_names(&errors), ["a"]);
    assert!(errors.find::<Cancelled>().is_some());
}
