//! The imperative API: `taskgroup::scope` and `taskgroup::Group::new()...scope(...)`.

mod common;

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use taskgroup::ErrorGroup;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn scope_returns_the_body_value_once_every_task_finished() -> Result<(), ErrorGroup> {
    let log = Log::new();
    let log_ref = &log;
    let value = taskgroup::scope(async |s| {
        s.spawn(async move {
            sleep_ms(1000).await;
            log_ref.push("task finished");
            Ok::<_, io::Error>(())
        });
        log_ref.push("body finished");
        Ok::<_, io::Error>("body value")
    })
    .await?;
    log.push("scope returned");
    assert_eq!(value, "body value");
    assert_eq!(
        log.events(),
        [
            at("body finished", 0),
            at("task finished", 1000),
            at("scope returned", 1000),
        ]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_scope_without_tasks_returns_at_once() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    let value = taskgroup::scope(async |_| Ok::<_, io::Error>(5u8)).await?;
    assert_eq!(value, 5);
    assert_eq!(start.elapsed(), ms(0));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spawn_in_a_loop_that_awaits_between_spawns() -> Result<(), ErrorGroup> {
    let done = Mutex::new(Vec::new());
    let done_ref = &done;
    let start = Instant::now();
    let spawned = taskgroup::scope(async |s| {
        let mut count = 0;
        for i in 0..3u64 {
            s.spawn(async move {
                sleep_ms(1000).await;
                done_ref.lock().unwrap().push((i, start.elapsed()));
                Ok::<_, io::Error>(())
            });
            count += 1;
            sleep_ms(100).await;
        }
        Ok::<_, io::Error>(count)
    })
    .await?;
    assert_eq!(spawned, 3);
    assert_eq!(
        *done.lock().unwrap(),
        [(0, ms(1000)), (1, ms(1100)), (2, ms(1200))]
    );
    assert_eq!(start.elapsed(), ms(1200));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_task_spawned_from_inside_a_child_starts_at_once_and_is_joined() -> Result<(), ErrorGroup>
{
    let log = Log::new();
    let log_ref = &log;
    taskgroup::scope(async |s| {
        s.spawn(async move {
            sleep_ms(100).await;
            s.spawn(async move {
                log_ref.push("grandchild started");
                sleep_ms(1000).await;
                log_ref.push("grandchild finished");
                Ok::<_, io::Error>(())
            });
            log_ref.push("child spawned");
            sleep_ms(900).await;
            log_ref.push("child finished");
            Ok::<_, io::Error>(())
        });
        Ok::<_, io::Error>(())
    })
    .await?;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [
            at("child spawned", 100),
            at("grandchild started", 100),
            at("child finished", 1000),
            at("grandchild finished", 1100),
            at("scope returned", 1100),
        ]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_task_spawned_from_inside_a_child_starts_at_once_while_other_tasks_run()
-> Result<(), ErrorGroup> {
    let log = Log::new();
    let log_ref = &log;
    taskgroup::scope(async |s| {
        // A bystander that is not woken when the child spawns.
        s.spawn(async move {
            sleep_ms(2000).await;
            log_ref.push("bystander finished");
            Ok::<_, io::Error>(())
        });
        s.spawn(async move {
            sleep_ms(100).await;
            s.spawn(async move {
                log_ref.push("grandchild started");
                sleep_ms(1000).await;
                log_ref.push("grandchild finished");
                Ok::<_, io::Error>(())
            });
            log_ref.push("child spawned");
            sleep_ms(900).await;
            log_ref.push("child finished");
            Ok::<_, io::Error>(())
        });
        Ok::<_, io::Error>(())
    })
    .await?;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [
            at("child spawned", 100),
            at("grandchild started", 100),
            at("child finished", 1000),
            at("grandchild finished", 1100),
            at("bystander finished", 2000),
            at("scope returned", 2000),
        ]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_task_spawned_by_a_finishing_child_is_still_joined() -> Result<(), ErrorGroup> {
    let log = Log::new();
    let log_ref = &log;
    taskgroup::scope(async |s| {
        s.spawn(async move {
            sleep_ms(100).await;
            s.spawn(async move {
                log_ref.push("grandchild started");
                sleep_ms(1000).await;
                log_ref.push("grandchild finished");
                Ok::<_, io::Error>(())
            });
            Ok::<_, io::Error>(())
        });
        Ok::<_, io::Error>(())
    })
    .await?;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [
            at("grandchild started", 100),
            at("grandchild finished", 1100),
            at("scope returned", 1100),
        ]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_body_error_comes_last_even_when_it_happened_first() {
    let result = taskgroup::scope(async |s| {
        s.spawn(io_fail_after::<()>(1000, "child failed"));
        // Fails at the same instant as the child; the body is polled first.
        sleep_ms(1000).await;
        Err::<(), _>(MyError("body failed"))
    })
    .await;
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["task-0", "body"]);
    assert_eq!(
        leaf_messages(&errors),
        ["child failed", "my error: body failed"]
    );
}

#[tokio::test(start_paused = true)]
async fn the_body_error_comes_after_a_later_cleanup_error() {
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::Group::new()
        .grace(ms(500))
        .scope(async |s| {
            s.spawn(async move {
                tokio::select! {
                    () = sleep_ms(5000) => Ok(()),
                    _ = taskgroup::cancelled() => {
                        sleep_ms(100).await;
                        log_ref.push("cleanup failed");
                        Err(io::Error::other("cleanup failed"))
                    }
                }
            });
            sleep_ms(1000).await;
            log_ref.push("body failed");
            Err::<(), _>(MyError("body failed"))
        })
        .await;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [
            at("body failed", 1000),
            at("cleanup failed", 1100),
            at("scope returned", 1100),
        ]
    );
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["task-0", "body"]);
}

#[tokio::test(start_paused = true)]
async fn a_task_error_cancels_the_body_and_the_other_tasks() {
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::scope(async |s| {
        let _body_guard = log_ref.guard("body");
        s.spawn(async move {
            let _guard = log_ref.guard("sibling");
            sleep_ms(5000).await;
            Ok::<_, io::Error>(())
        });
        s.spawn(io_fail_after::<()>(1000, "failing"));
        sleep_ms(5000).await;
        log_ref.push("body finished");
        Ok::<_, io::Error>(())
    })
    .await;
    log.push("scope returned");
    let mut events = log.events();
    events[..2].sort();
    assert_eq!(
        events,
        [
            at("body dropped", 1000),
            at("sibling dropped", 1000),
            at("scope returned", 1000),
        ]
    );
    assert_eq!(task_names(&result.unwrap_err()), ["task-1"]);
}

#[tokio::test(start_paused = true)]
async fn spawn_parallel_results_are_handed_to_the_body() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    let values = taskgroup::scope(async |s| {
        let handles: Vec<_> = [300u64, 100, 200]
            .into_iter()
            .map(|d| s.spawn_parallel(ok_after(d, d * 10)))
            .collect();
        let mut values = Vec::new();
        for handle in handles {
            values.push(handle.await);
        }
        Ok::<_, io::Error>(values)
    })
    .await?;
    assert_eq!(values, [Ok(3000), Ok(1000), Ok(2000)]);
    assert_eq!(start.elapsed(), ms(300));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_failing_spawn_parallel_task_cancels_the_scope() {
    let log = Log::new();
    let log_ref = &log;
    let tracker = Tracker::new();
    let tracker_ref = &tracker;
    let result = taskgroup::scope(async |s| {
        s.spawn(async move {
            let _guard = log_ref.guard("local");
            sleep_ms(5000).await;
            Ok::<_, io::Error>(())
        });
        s.spawn_parallel(tracked(tracker_ref.clone(), 5000, ()));
        s.spawn_parallel(io_fail_after::<()>(1000, "parallel failed"));
        Ok::<_, io::Error>(())
    })
    .await;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [at("local dropped", 1000), at("scope returned", 1000)]
    );
    assert_eq!(tracker.started(), 1);
    assert_eq!(tracker.current(), 0, "the parallel sibling was joined");
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["task-2"]);
    assert_eq!(leaf_messages(&errors), ["parallel failed"]);
}

#[tokio::test(start_paused = true)]
async fn spawn_named_names_the_task_in_errors() {
    let result = taskgroup::scope(async |s| {
        s.spawn_named("fetch-user", io_fail_after::<()>(10, "no user"));
        Ok::<_, io::Error>(())
    })
    .await;
    assert_eq!(task_names(&result.unwrap_err()), ["fetch-user"]);
}

#[tokio::test(start_paused = true)]
async fn scope_tasks_borrow_locals() -> Result<(), ErrorGroup> {
    let results = Mutex::new(Vec::new());
    let names = ["a", "b", "c"];
    taskgroup::scope(async |s| {
        for (i, name) in names.iter().enumerate() {
            let results = &results;
            s.spawn(async move {
                sleep_ms(100 * (3 - i as u64)).await;
                results.lock().unwrap().push(*name);
                Ok::<_, io::Error>(())
            });
        }
        Ok::<_, io::Error>(())
    })
    .await?;
    assert_eq!(*results.lock().unwrap(), ["c", "b", "a"]);
    assert_eq!(names.len(), 3);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn scope_timeout_yields_an_elapsed_leaf() {
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::Group::new()
        .timeout(ms(500))
        .scope(async |s| {
            s.spawn(async move {
                let _guard = log_ref.guard("task");
                sleep_ms(5000).await;
                Ok::<_, io::Error>(())
            });
            Ok::<_, io::Error>(())
        })
        .await;
    log.push("scope returned");
    assert_eq!(
        log.events(),
        [at("task dropped", 500), at("scope returned", 500)]
    );
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["deadline"]);
    assert_eq!(
        errors
            .find::<taskgroup::Elapsed>()
            .map(taskgroup::Elapsed::timeout),
        Some(ms(500))
    );
}

#[tokio::test(start_paused = true)]
async fn supervised_scope_tells_a_failed_tasks_handle_and_keeps_going() {
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::Group::new()
        .mode(taskgroup::Mode::Supervise)
        .scope(async |s| {
            let failing = s.spawn(io_fail_after::<u8>(100, "failed"));
            let fine = s.spawn(ok_after(1000, 7u8));
            let failing = failing.await;
            log_ref.push(format!("failing: {failing:?}"));
            let fine = fine.await;
            log_ref.push(format!("fine: {fine:?}"));
            Ok::<_, io::Error>(())
        })
        .await;
    assert_eq!(
        log.events(),
        [at("failing: Err(Failed)", 100), at("fine: Ok(7)", 1000)]
    );
    assert_eq!(task_names(&result.unwrap_err()), ["task-0"]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelling_scope_refuses_new_tasks() {
    let started = AtomicUsize::new(0);
    let started_ref = &started;
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::Group::new()
        .grace(ms(500))
        .scope(async |s| {
            s.spawn(io_fail_after::<()>(100, "trigger"));
            let why = taskgroup::cancelled().await;
            log_ref.push(format!("body saw {why:?}, cancelled: {}", s.is_cancelled()));
            let refused = s.spawn(async move {
                started_ref.fetch_add(1, Ordering::SeqCst);
                Ok::<_, io::Error>(5u8)
            });
            let value = refused.await;
            log_ref.push(format!("refused: {value:?}"));
            Ok::<_, io::Error>(())
        })
        .await;
    assert_eq!(
        log.events(),
        [
            at("body saw SiblingFailed, cancelled: true", 100),
            at("refused: Err(Refused)", 100),
        ]
    );
    assert_eq!(started.load(Ordering::SeqCst), 0);
    assert_eq!(task_names(&result.unwrap_err()), ["task-0"]);
}

#[tokio::test(start_paused = true)]
async fn a_scope_task_panic_resumes_after_siblings_are_dropped() {
    let log = Log::new();
    let log_ref = &log;
    let mut caught = CatchUnwind::new(taskgroup::scope(async |s| {
        s.spawn(async move {
            let _guard = log_ref.guard("sibling");
            sleep_ms(5000).await;
            Ok::<_, io::Error>(())
        });
        s.spawn(async move {
            sleep_ms(1000).await;
            if log_ref.elapsed() >= ms(1000) {
                panic!("scope boom");
            }
            Ok::<_, io::Error>(())
        });
        Ok::<_, io::Error>(())
    }));
    let payload = (&mut caught).await.expect_err("the panic resumes");
    log.push("panic surfaced");
    assert_eq!(payload.downcast_ref::<&'static str>(), Some(&"scope boom"));
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("panic surfaced", 1000)]
    );
    drop(caught);
}

#[tokio::test(start_paused = true)]
async fn group_inside_a_scope_task_nests_its_errors() {
    async fn inner() -> Result<u8, ErrorGroup> {
        taskgroup::group! {
            leaf = io_fail_after::<u8>(10, "inner failed");
        }
        Ok(leaf)
    }
    let result = taskgroup::scope(async |s| {
        s.spawn_named("child", inner());
        Ok::<_, io::Error>(())
    })
    .await;
    let errors = result.unwrap_err();
    assert_eq!(errors.len(), 1);
    match &errors.members()[0] {
        taskgroup::error_group::Member::Group { task, group } => {
            assert_eq!(task.to_string(), "child");
            assert_eq!(task_names(group), ["leaf"]);
        }
        other => panic!("expected a nested group, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn scope_cancel_ends_the_group_cleanly_and_keeps_the_body_value() {
    let log = Log::new();
    let log_ref = &log;
    let started = AtomicUsize::new(0);
    let started_ref = &started;
    let result = taskgroup::scope(async |s| {
        s.spawn(async move {
            let _guard = log_ref.guard("worker");
            sleep_ms(10_000).await;
            Ok::<_, io::Error>(())
        });
        sleep_ms(500).await;
        s.cancel();
        let refused = s.spawn(async move {
            started_ref.fetch_add(1, Ordering::SeqCst);
            Ok::<_, io::Error>(1u8)
        });
        log_ref.push(format!("refused: {:?}", refused.await));
        Ok::<_, io::Error>("body value")
    })
    .await;
    log.push("scope returned");
    assert_eq!(result.unwrap(), "body value");
    let mut events = log.events();
    events[..2].sort();
    assert_eq!(
        events,
        [
            at("refused: Err(Refused)", 500),
            at("worker dropped", 500),
            at("scope returned", 500),
        ]
    );
    assert_eq!(started.load(Ordering::SeqCst), 0);
}

async fn mirror(log: Log, name: &'static str, delay: u64, ok: bool) -> Result<u64, io::Error> {
    let _guard = log.guard(name);
    sleep_ms(delay).await;
    if ok {
        Ok(delay)
    } else {
        Err(io::Error::other(name))
    }
}

#[tokio::test(start_paused = true)]
async fn first_success_takes_the_first_ok_and_cancels_the_rest() {
    let log = Log::new();
    let winner = taskgroup::Group::new()
        .first_success([
            mirror(log.clone(), "failing", 10, false),
            mirror(log.clone(), "slow", 30, true),
            mirror(log.clone(), "fast", 20, true),
        ])
        .await
        .unwrap();
    log.push("returned");
    assert_eq!(winner, 20);
    assert_eq!(
        log.events(),
        [
            at("failing dropped", 10),
            at("fast dropped", 20),
            at("slow dropped", 20),
            at("returned", 20),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn first_success_returns_every_error_when_none_succeeds() {
    let log = Log::new();
    let errors = taskgroup::Group::new()
        .first_success([
            mirror(log.clone(), "a", 30, false),
            mirror(log.clone(), "b", 10, false),
            mirror(log.clone(), "c", 20, false),
        ])
        .await
        .unwrap_err();
    assert_eq!(errors.len(), 3);
    assert_eq!(leaf_messages(&errors), ["b", "c", "a"]);
}

fn assert_send<T: Send>(_: &T) {}

async fn send_scope(items: Vec<u64>) -> Result<u64, ErrorGroup> {
    let total = std::sync::atomic::AtomicU64::new(0);
    taskgroup::scope!(async |s| {
        for item in &items {
            let total = &total;
            s.spawn(async move {
                sleep_ms(*item).await;
                total.fetch_add(*item, Ordering::SeqCst);
                Ok::<_, io::Error>(())
            });
        }
        let parallel = s.spawn_parallel(ok_after(10, 1000u64));
        Ok::<_, io::Error>(parallel.await.unwrap_or(0))
    })
    .await
    .map(|parallel| parallel + total.load(Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn scope_macro_future_is_send_and_runs_in_tokio_spawn() {
    let fut = send_scope(vec![30, 10, 20]);
    assert_send(&fut);
    let start = Instant::now();
    assert_eq!(tokio::spawn(fut).await.unwrap().unwrap(), 1060);
    assert_eq!(start.elapsed(), ms(30));
}

/// One nested scope whose body awaits its task's handle, finishing at 50 ms.
async fn nested_waiting_scope(done: &AtomicUsize) -> Result<u32, ErrorGroup> {
    taskgroup::scope!(async |s| {
        let handle = s.spawn(async {
            sleep_ms(50).await;
            done.fetch_add(1, Ordering::SeqCst);
            Ok::<_, io::Error>(7)
        });
        Ok::<_, io::Error>(handle.await.unwrap_or(0))
    })
    .await
}

/// A scope ends in the same poll as its last task when its body waits for that task's handle,
/// so that its enclosing scope's `FuturesUnordered` does not count it as having yielded: with
/// three such scopes in one scope, every task due at the instant the root is dropped from
/// outside finishes first. (RELIABILITY.md, finding L.)
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn every_nested_scope_due_when_the_root_is_dropped_finishes_first() {
    let done = AtomicUsize::new(0);
    let root = taskgroup::scope!(async |s| {
        for _ in 0..3 {
            s.spawn(nested_waiting_scope(&done));
        }
        Ok::<_, io::Error>(())
    });
    let outer = taskgroup::scope!(async |s| {
        s.spawn(root);
        Ok::<_, io::Error>(())
    });
    let _ = tokio::time::timeout(ms(50), outer).await;
    assert_eq!(done.load(Ordering::SeqCst), 3);
}
