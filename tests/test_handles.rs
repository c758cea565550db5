//! A scope task's handle: `Result` values that tell a failure from a cancellation, cancelling
//! one task (`TaskHandle::cancel`), and the `Scope::start` handshake. All on the paused clock.

mod common;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use taskgroup::{BoxError, CancelReason, GraceElapsed, Group, HandleError, Ready, group};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------
// What a handle yields.
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_handle_tells_a_value_a_failure_and_a_refusal_apart() {
    let outcomes = std::sync::Mutex::new(None);
    let _ = Group::new()
        .mode(taskgroup::Mode::Supervise)
        .scope(async |s| {
            let ok = s.spawn(ok_after(10, 1u32));
            let failed = s.spawn(io_fail_after::<u32>(20, "boom"));
            let values = (ok.await, failed.await);
            s.cancel();
            let refused = s.spawn(ok_after(10, 2u32)).await;
            *outcomes.lock().unwrap() = Some((values, refused));
            Ok::<_, io::Error>(())
        })
        .await;
    let ((ok, failed), refused) = outcomes.into_inner().unwrap().unwrap();
    assert_eq!(ok, Ok(1));
    assert_eq!(failed, Err(HandleError::Failed));
    assert_eq!(refused, Err(HandleError::Refused));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_tasks_handle_says_it_panicked() {
    let seen = std::sync::Mutex::new(None);
    let outcome = CatchUnwind::new(taskgroup::scope(async |s| {
        let panics = s.spawn(async {
            sleep_ms(10).await;
            if true {
                panic!("task panicked");
            }
            Ok::<u32, io::Error>(0)
        });
        // The body keeps running until the group drops it: it sees the handle first.
        s.spawn(async {
            *seen.lock().unwrap() = Some(panics.await);
            Ok::<_, io::Error>(())
        });
        sleep_ms(1000).await;
        Ok::<_, io::Error>(())
    }))
    .await;
    assert!(outcome.is_err());
    assert_eq!(seen.into_inner().unwrap(), Some(Err(HandleError::Panicked)));
}

#[tokio::test(start_paused = true)]
async fn a_task_cancelled_by_its_groups_failure_says_why() {
    // A handle has no lifetime: it outlives the failed group, and tells what became of the
    // task.
    let slot = std::sync::Mutex::new(None);
    let result = taskgroup::scope(async |s| {
        *slot.lock().unwrap() = Some(s.spawn(ok_after(1000, 1u32)));
        s.spawn(io_fail_after::<()>(10, "boom"));
        Ok::<_, io::Error>(())
    })
    .await;
    assert!(result.is_err());
    let slow = slot.into_inner().unwrap().unwrap();
    assert_eq!(
        slow.await,
        Err(HandleError::Cancelled(CancelReason::SiblingFailed))
    );
}

// ---------------------------------------------------------------------------------------
// Cancelling one task (CPython's test_taskgroup_03: cancelling a child is not a failure).
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn cancelling_one_task_by_its_handle_lets_its_sibling_finish_and_the_group_succeed() {
    let log = Log::new();
    let result = taskgroup::scope(async |s| {
        let slow = s.spawn(async {
            let _guard = log.guard("slow");
            sleep_ms(10_000).await;
            Ok::<_, io::Error>("slow")
        });
        let fast = s.spawn(async {
            sleep_ms(100).await;
            log.push("fast finished");
            Ok::<_, io::Error>("fast")
        });
        sleep_ms(20).await;
        slow.cancel();
        assert!(
            !s.is_cancelled(),
            "cancelling one task does not cancel the group"
        );
        Ok::<_, io::Error>((slow.await, fast.await))
    })
    .await;
    let (slow, fast) = result.unwrap();
    assert_eq!(slow, Err(HandleError::Cancelled(CancelReason::Handle)));
    assert_eq!(fast, Ok("fast"));
    assert_eq!(
        log.events(),
        [at("slow dropped", 20), at("fast finished", 100)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_cancelled_by_its_handle_gets_the_groups_grace_and_sees_why() {
    let log = Log::new();
    let result = Group::new()
        .grace(ms(500))
        .scope(async |s| {
            let worker = s.spawn(async {
                tokio::select! {
                    () = sleep_ms(10_000) => Ok::<_, io::Error>("finished"),
                    why = taskgroup::cancelled() => {
                        log.push(format!("told: {why:?}"));
                        sleep_ms(100).await; // flush
                        log.push("flushed");
                        Ok("flushed")
                    }
                }
            });
            let sibling = s.spawn(ok_after(1000, "sibling"));
            sleep_ms(50).await;
            worker.cancel();
            Ok::<_, io::Error>((worker.await, sibling.await, s.is_cancelled()))
        })
        .await;
    // The worker's value, made during its grace, reaches its handle; the group goes on.
    assert_eq!(result.unwrap(), (Ok("flushed"), Ok("sibling"), false));
    assert_eq!(log.events(), [at("told: Handle", 50), at("flushed", 150)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_cancelled_by_its_handle_that_overruns_the_grace_fails_the_group() {
    let result = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            let stubborn = s.spawn(async {
                taskgroup::cancelled().await;
                sleep_ms(10_000).await; // a cleanup that never ends
                Ok::<_, io::Error>(())
            });
            sleep_ms(10).await;
            stubborn.cancel();
            Ok::<_, io::Error>(stubborn.await)
        })
        .await;
    let errors = result.unwrap_err();
    assert_eq!(
        errors.find::<GraceElapsed>().map(GraceElapsed::grace),
        Some(ms(100))
    );
    assert_eq!(errors.leaves().next().unwrap().task.to_string(), "task-0");
}

#[tokio::test(start_paused = true)]
async fn a_task_cancelled_before_it_starts_is_never_polled() {
    let polled = AtomicBool::new(false);
    let result = Group::new()
        .limit(1)
        .scope(async |s| {
            let first = s.spawn(ok_after(100, 1u32));
            // Waits for the slot that `first` holds.
            let queued = s.spawn(async {
                polled.store(true, Ordering::SeqCst);
                Ok::<_, io::Error>(2u32)
            });
            queued.cancel();
            Ok::<_, io::Error>((first.await, queued.await))
        })
        .await;
    assert_eq!(
        result.unwrap(),
        (Ok(1), Err(HandleError::Cancelled(CancelReason::Handle)))
    );
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_parallel_task_by_its_handle_aborts_it_alone() {
    let result = taskgroup::scope(async |s| {
        let slow = s.spawn_parallel(async {
            tokio::time::sleep(ms(10_000)).await;
            Ok::<_, io::Error>(1u32)
        });
        let fast = s.spawn_parallel(async {
            tokio::time::sleep(ms(100)).await;
            Ok::<_, io::Error>(2u32)
        });
        tokio::time::sleep(ms(10)).await;
        slow.cancel();
        Ok::<_, io::Error>((slow.await, fast.await))
    })
    .await;
    assert_eq!(
        result.unwrap(),
        (Err(HandleError::Cancelled(CancelReason::Handle)), Ok(2))
    );
}

#[tokio::test(start_paused = true)]
async fn a_nested_groups_tasks_do_not_see_the_outer_tasks_handle_cancellation() {
    // `cancelled()` in a group nested inside the task waits for that group, not for the
    // outer task's handle: the outer task, which does not watch its cancellation, has the
    // grace period and is then dropped, and the nested group with it.
    let log = Log::new();
    let result = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            let outer = s.spawn(async {
                group! {
                    inner = async {
                        let _guard = log.guard("inner");
                        taskgroup::cancelled().await;
                        log.push("inner told");
                        Ok::<_, io::Error>(())
                    };
                }
                Ok::<_, taskgroup::ErrorGroup>(inner)
            });
            sleep_ms(10).await;
            outer.cancel();
            Ok::<_, io::Error>(outer.await)
        })
        .await;
    assert_eq!(
        result.unwrap(),
        Err(HandleError::Cancelled(CancelReason::Handle))
    );
    assert_eq!(log.events(), [at("inner dropped", 110)]);
}

// ---------------------------------------------------------------------------------------
// Scope::start: Trio's nursery.start().
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn start_resolves_when_the_task_is_ready_and_the_group_waits_for_the_task() {
    let log = Log::new();
    let result = taskgroup::scope(async |s| {
        let port: u16 = s
            .start(async |ready: Ready<u16>| {
                sleep_ms(50).await; // bind
                ready.started(8080);
                sleep_ms(1000).await; // serve
                log.push("server stopped");
                Ok::<_, io::Error>(())
            })
            .await?;
        log.push(format!("listening on {port}"));
        Ok::<_, BoxError>(port)
    })
    .await;
    log.push("group returned");
    assert_eq!(result.unwrap(), 8080);
    assert_eq!(
        log.events(),
        [
            at("listening on 8080", 50),
            at("server stopped", 1050),
            at("group returned", 1050),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_that_fails_before_started_is_not_started_and_its_error_reaches_the_group_once() {
    let seen = std::sync::Mutex::new(None);
    // Supervised, so that the failure does not cancel the body before it sees the answer.
    let result = Group::new()
        .mode(taskgroup::Mode::Supervise)
        .scope(async |s| {
            let started = s
                .start(async |ready: Ready<u16>| {
                    sleep_ms(10).await;
                    let _keep = ready;
                    Err::<(), _>(io::Error::other("address in use"))
                })
                .await;
            *seen.lock().unwrap() = Some(started);
            Ok::<_, io::Error>(())
        })
        .await;
    let not_started = seen.into_inner().unwrap().unwrap().unwrap_err();
    assert_eq!(not_started.cause(), Some(HandleError::Failed));
    assert!(
        not_started
            .to_string()
            .contains("before it called `Ready::started`")
    );
    let errors = result.unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#}");
    assert_eq!(
        errors
            .find::<io::Error>()
            .map(ToString::to_string)
            .as_deref(),
        Some("address in use")
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_that_drops_ready_or_returns_without_started_is_not_started() {
    let result = taskgroup::scope(async |s| {
        let dropped = s
            .start(async |ready: Ready<u16>| {
                drop(ready);
                sleep_ms(100).await;
                Ok::<_, io::Error>(())
            })
            .await;
        let returned = s
            .start(async |_ready: Ready<u16>| Ok::<_, io::Error>(()))
            .await;
        Ok::<_, io::Error>((dropped, returned))
    })
    .await;
    let (dropped, returned) = result.unwrap();
    assert_eq!(dropped.unwrap_err().cause(), None);
    assert_eq!(returned.unwrap_err().cause(), None);
}

#[tokio::test(start_paused = true)]
async fn start_in_a_cancelling_group_is_refused() {
    let result = taskgroup::scope(async |s| {
        s.cancel();
        let started = s
            .start(async |ready: Ready<u16>| {
                ready.started(1);
                Ok::<_, io::Error>(())
            })
            .await;
        Ok::<_, io::Error>(started)
    })
    .await;
    assert_eq!(
        result.unwrap().unwrap_err().cause(),
        Some(HandleError::Refused)
    );
}

#[tokio::test(start_paused = true)]
async fn start_parallel_runs_the_task_on_the_workers() {
    let start = Instant::now();
    let result = taskgroup::scope(async |s| {
        let value = s
            .start_parallel(|ready: Ready<&'static str>| async move {
                tokio::time::sleep(ms(30)).await;
                ready.started("ready");
                tokio::time::sleep(ms(30)).await;
                Ok::<_, io::Error>(())
            })
            .await?;
        Ok::<_, BoxError>((value, start.elapsed()))
    })
    .await;
    assert_eq!(result.unwrap(), ("ready", ms(30)));
    assert_eq!(start.elapsed(), ms(60));
}

// ---------------------------------------------------------------------------------------
// Across threads.
// ---------------------------------------------------------------------------------------

#[test]
fn a_handle_cancelled_while_its_parallel_task_finishes_answers_once_and_never_hangs() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut finished, mut cancelled) = (0, 0);
    runtime.block_on(async {
        for round in 0..2_000u32 {
            let outcome = taskgroup::scope(async |s| {
                let handle = s.spawn_parallel(async move {
                    tokio::task::yield_now().await;
                    Ok::<_, io::Error>(round)
                });
                // The cancellation lands before, during or after the task's last poll.
                for _ in 0..round % 3 {
                    tokio::task::yield_now().await;
                }
                handle.cancel();
                Ok::<_, io::Error>(handle.await)
            });
            let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), outcome)
                .await
                .expect("a cancelled handle never hangs its scope");
            match outcome.expect("cancelling one task is not a failure") {
                Ok(value) => {
                    assert_eq!(value, round);
                    finished += 1;
                }
                Err(HandleError::Cancelled(CancelReason::Handle)) => cancelled += 1,
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
    });
    assert_eq!(finished + cancelled, 2_000);
}
