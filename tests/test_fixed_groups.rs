//! Groups of in-place tasks without the options that change how tasks run (no deadline, limit,
//! grace period or `cancel_on`). Such a group keeps nothing but its tasks until something
//! happens that it must react to, and from then on behaves as any group. Each test takes one
//! of the ways off that short path: a failure or a panic in the first pass, a task that waits
//! for the group's cancellation, a group nested in another's task, a group polled first
//! outside any group and then inside one.

mod common;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::*;
use taskgroup::{ErrorGroup, group};

async fn first_pass_failure(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        before = async {
            let _guard = log.guard("before");
            log.push("before started");
            sleep_ms(1000).await;
            log.push("before finished");
            Ok::<_, io::Error>(())
        };
        failing = async { Err::<(), _>(io::Error::other("at once")) };
        after = async {
            log.push("after started");
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), ()) = (before, failing, after);
    Ok(())
}

/// Fail-fast: the task declared before the failing one had its first step and is dropped; the
/// one declared after it never starts.
#[tokio::test(start_paused = true)]
async fn a_task_failing_in_the_first_pass_drops_the_earlier_tasks_and_never_starts_the_later_ones()
{
    let log = Log::new();
    let errors = first_pass_failure(&log).await.unwrap_err();
    assert_eq!(task_names(&errors), ["failing"]);
    assert_eq!(
        log.events(),
        [at("before started", 0), at("before dropped", 0)]
    );
}

async fn first_pass_failure_supervised(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![mode = supervise]
        before = sleeper(log, "before", 1000);
        failing = async { Err::<(), _>(io::Error::other("at once")) };
        after = async {
            log.push("after started");
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), ()) = (before, failing, after);
    Ok(())
}

/// Supervise: the failure in the first pass stops nothing; the error is raised at the end.
#[tokio::test(start_paused = true)]
async fn in_supervise_mode_a_failure_in_the_first_pass_stops_no_task() {
    let log = Log::new();
    let errors = first_pass_failure_supervised(&log).await.unwrap_err();
    assert_eq!(task_names(&errors), ["failing"]);
    assert_eq!(
        log.events(),
        [
            at("after started", 0),
            at("before finished", 1000),
            at("before dropped", 1000)
        ]
    );
}

async fn first_pass_panic(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        before = sleeper(log, "before", 1000);
        panicking = async {
            panic!("at once");
            #[allow(unreachable_code)]
            Ok::<(), io::Error>(())
        };
        after = async {
            log.push("after started");
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), ()) = (before, panicking, after);
    Ok(())
}

/// A panic in the first pass: the earlier task is dropped before the panic resumes, the later
/// one never starts.
#[tokio::test(start_paused = true)]
async fn a_panic_in_the_first_pass_resumes_after_the_started_tasks_are_dropped() {
    let log = Log::new();
    let (payload, _caught) = panic_surfaced(&log, first_pass_panic(&log)).await;
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"at once"));
    assert_eq!(
        log.events(),
        [at("before dropped", 0), at("panic surfaced", 0)]
    );
}

async fn watched(log: &Log, fail: bool) -> Result<(u8, u8), ErrorGroup> {
    group! {
        watcher = async {
            let _guard = log.guard("watcher");
            tokio::select! {
                why = taskgroup::cancelled() => {
                    log.push(format!("watcher told: {why}"));
                    Ok::<_, io::Error>(0)
                }
                () = sleep_ms(100) => Ok(1),
            }
        };
        other = async {
            sleep_ms(10).await;
            if fail {
                return Err(io::Error::other("other failed"));
            }
            Ok(2)
        };
    }
    Ok((watcher, other))
}

/// A task that waits for its group's cancellation makes the group's signal in the first pass:
/// the group binds every value when nothing fails.
#[tokio::test(start_paused = true)]
async fn a_task_watching_for_cancellation_in_a_group_that_succeeds_binds_its_value() {
    let log = Log::new();
    assert_eq!(watched(&log, false).await.unwrap(), (1, 2));
    assert_eq!(log.events(), [at("watcher dropped", 100)]);
}

/// ... and when a sibling fails, the watcher is dropped at that instant (without a grace
/// period, a task is not told; it is dropped).
#[tokio::test(start_paused = true)]
async fn a_task_watching_for_cancellation_is_dropped_when_a_sibling_fails() {
    let log = Log::new();
    let errors = watched(&log, true).await.unwrap_err();
    assert_eq!(task_names(&errors), ["other"]);
    assert_eq!(leaf_messages(&errors), ["other failed"]);
    assert_eq!(log.events(), [at("watcher dropped", 10)]);
}

/// Polls `fut` once, with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A group first polled outside any group and then awaited in a task of another group: after
/// its poll, the task is still the one that a group it starts is nested in (the group puts
/// back the task it found), so that what that nested group hands up is filed under the task.
#[tokio::test(start_paused = true)]
async fn a_group_polled_in_a_task_puts_back_the_task_that_groups_started_later_belong_to() {
    let mut first = pin!(async {
        group! {
            x = ok_after(10, 1u8);
            y = ok_after(10, 2u8);
        }
        Ok::<_, ErrorGroup>(x + y)
    });
    // Its first poll, outside any group.
    assert!(poll_once(first.as_mut()).is_pending());
    let outer = async {
        group! {
            holder = async {
                assert_eq!(first.as_mut().await?, 3);
                // Started in `holder` after `first` finished there; dropped, with its error,
                // when `stopper` fails: it hands the error up.
                group! {
                    #![mode = supervise]
                    fails = io_fail_after::<()>(0, "nested failed");
                    hangs = sleep_ms(1_000_000);
                }
                let ((), ()) = (fails, hangs);
                Ok::<_, ErrorGroup>(())
            };
            stopper = io_fail_after::<()>(100, "stopper failed");
        }
        let ((), ()) = (holder, stopper);
        Ok::<_, ErrorGroup>(())
    };
    let errors = outer.await.unwrap_err();
    assert_eq!(task_names(&errors), ["stopper", "holder"]);
    assert_eq!(leaf_messages(&errors), ["stopper failed", "nested failed"]);
}

async fn nested_in(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        outer = async {
            group! {
                inner = sleeper(log, "inner", 1000);
                sibling = sleeper(log, "sibling", 1000);
            }
            let ((), ()) = (inner, sibling);
            Ok::<_, ErrorGroup>(())
        };
        failing = io_fail_after::<()>(10, "failing");
    }
    let ((), ()) = (outer, failing);
    Ok(())
}

/// A group started in another group's task is nested in it from its first poll: when the
/// enclosing group cancels, the nested group's tasks are dropped at that instant.
#[tokio::test(start_paused = true)]
async fn a_group_started_in_a_task_is_cancelled_with_the_group_of_that_task() {
    let log = Log::new();
    let errors = nested_in(&log).await.unwrap_err();
    assert_eq!(task_names(&errors), ["failing"]);
    assert_eq!(
        log.events(),
        [at("inner dropped", 10), at("sibling dropped", 10)]
    );
}
