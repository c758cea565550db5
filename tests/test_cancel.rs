//! Cancellation: fail-fast, panics, dropping the group, deadlines, supervise mode and graceful
//! cancellation with `taskgroup::cancelled()`.

mod common;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use taskgroup::error_group::Member;
use taskgroup::{CancelReason, ErrorGroup, group};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// Fail fast
// ---------------------------------------------------------------------------------------------

async fn fail_with_sibling(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        sibling = sleeper(log, "sibling", 5000);
        failing = io_fail_after::<()>(1000, "failing");
    }
    let ((), ()) = (sibling, failing);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn sibling_is_dropped_at_the_failure_instant_and_the_group_returns_then() {
    let log = Log::new();
    let errors = fail_with_sibling(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("group returned", 1000)]
    );
    // Cancelling the sibling is not an error.
    assert_eq!(task_names(&errors), ["failing"]);
}

async fn fail_with_spawned_siblings(tracker: Arc<Tracker>) -> Result<(), ErrorGroup> {
    group! {
        spawned = spawn tracked(tracker.clone(), 5000, ());
        fanned = for i in 0..3u64 => spawn tracked(tracker.clone(), 5000, i);
        failing = io_fail_after::<()>(1000, "failing");
    }
    let _ = (spawned, fanned, failing);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spawned_siblings_are_aborted_and_joined_before_the_group_returns() {
    let tracker = Tracker::new();
    let start = Instant::now();
    let errors = fail_with_spawned_siblings(tracker.clone())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), ms(1000));
    assert_eq!(tracker.started(), 4);
    // Joined, not just aborted: nothing of theirs is alive when the group returns.
    assert_eq!(tracker.current(), 0);
    assert_eq!(task_names(&errors), ["failing"]);
}

async fn fan_out_fails_fast(tracker: Arc<Tracker>, log: &Log) -> Result<Vec<u64>, ErrorGroup> {
    group! {
        #![limit = 2]
        items = for i in 0..10u64 => {
            let tracker = tracker.clone();
            async move {
                let _in = tracker.enter();
                let _guard = log.guard(format!("item {i}"));
                if i == 3 {
                    sleep_ms(50).await;
                    return Err(io::Error::other("item 3 failed"));
                }
                sleep_ms(100).await;
                Ok(i)
            }
        };
    }
    Ok(items)
}

#[tokio::test(start_paused = true)]
async fn fail_fast_stops_starting_fan_out_items_after_the_first_error() {
    let tracker = Tracker::new();
    let log = Log::new();
    let errors = fan_out_fails_fast(tracker.clone(), &log).await.unwrap_err();
    log.push("group returned");
    // Items 0 and 1 run in 0..100 ms, items 2 and 3 start at 100 ms; item 3 fails at 150 ms.
    assert_eq!(tracker.started(), 4, "items started after the failure");
    assert_eq!(tracker.current(), 0);
    assert_eq!(task_names(&errors), ["items[3]"]);
    assert_eq!(log.at("item 2 dropped"), Some(ms(150)));
    assert_eq!(log.at("group returned"), Some(ms(150)));
    assert!(!log.has("item 4 dropped"));
}

async fn waiting_task_never_starts(started: &AtomicUsize) -> Result<(), ErrorGroup> {
    group! {
        #![limit = 1]
        first = io_fail_after::<()>(100, "first failed");
        second = async {
            started.fetch_add(1, Ordering::SeqCst);
            Ok::<_, io::Error>(())
        };
    }
    let ((), ()) = (first, second);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn fail_fast_never_starts_a_task_still_waiting_for_a_slot() {
    let started = AtomicUsize::new(0);
    let errors = waiting_task_never_starts(&started).await.unwrap_err();
    assert_eq!(started.load(Ordering::SeqCst), 0);
    assert_eq!(task_names(&errors), ["first"]);
}

async fn inner_with_guard(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        grandchild = sleeper(log, "grandchild", 5000);
    }
    let () = grandchild;
    Ok(())
}

async fn outer_fails(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        inner = inner_with_guard(log);
        failing = io_fail_after::<()>(1000, "failing");
    }
    let ((), ()) = (inner, failing);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_failure_cancels_the_children_of_a_nested_group() {
    let log = Log::new();
    let errors = outer_fails(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [at("grandchild dropped", 1000), at("group returned", 1000)]
    );
    assert_eq!(task_names(&errors), ["failing"]);
}

async fn outer_with_grace_cancels_inner(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(500)]
        nested = inner_with_guard(log);
        _ = io_fail_after::<()>(1000, "trigger");
    }
    let () = nested;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_nested_group_cancelled_by_its_parent_is_not_reported_as_an_error() {
    let log = Log::new();
    let errors = outer_with_grace_cancels_inner(&log).await.unwrap_err();
    log.push("group returned");
    // The nested group (no grace of its own) drops its child as soon as the parent cancels.
    assert_eq!(
        log.events(),
        [at("grandchild dropped", 1000), at("group returned", 1000)]
    );
    // The parent caused that cancellation itself: only the original error is reported.
    assert_eq!(task_names(&errors), ["io_fail_after"], "{errors:#}");
    assert_eq!(errors.leaf_count(), 1, "{errors:#}");
    assert!(!errors.contains::<taskgroup::Cancelled>(), "{errors:#}");
}

// ---------------------------------------------------------------------------------------------
// Supervise
// ---------------------------------------------------------------------------------------------

async fn supervised(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![mode = supervise]
        a = io_fail_after::<()>(1000, "a failed");
        b = sleeper(log, "b", 3000);
        c = my_fail_after::<()>(2000, "c failed");
        items = for i in 0..3u64 => async move {
            sleep_ms(500 * (i + 1)).await;
            log.push(format!("item {i} finished"));
            Ok::<_, io::Error>(i)
        };
    }
    let _ = (a, b, c, items);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn supervise_lets_siblings_finish_and_raises_all_errors_together() {
    let log = Log::new();
    let errors = supervised(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("item 0 finished", 500),
            at("item 1 finished", 1000),
            at("item 2 finished", 1500),
            at("b finished", 3000),
            at("b dropped", 3000),
            at("group returned", 3000),
        ]
    );
    assert_eq!(task_names(&errors), ["a", "c"]);
}

// ---------------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------------

async fn panicking_in_place(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        sibling = sleeper(log, "sibling", 5000);
        boom = async {
            sleep_ms(1000).await;
            if log.elapsed() >= ms(1000) {
                panic!("boom in place");
            }
            Ok::<_, io::Error>(())
        };
    }
    let ((), ()) = (sibling, boom);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn in_place_child_panic_resumes_with_its_payload_after_siblings_are_dropped() {
    let log = Log::new();
    let (payload, caught) = panic_surfaced(&log, panicking_in_place(&log)).await;
    // The original payload, not a re-wrapped one: `panic!("literal")` carries a `&'static str`.
    assert_eq!(
        payload.downcast_ref::<&'static str>(),
        Some(&"boom in place")
    );
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("panic surfaced", 1000)]
    );
    drop(caught);
}

async fn panicking_spawned(log: &Log, tracker: Arc<Tracker>) -> Result<(), ErrorGroup> {
    group! {
        sibling = sleeper(log, "sibling", 5000);
        spawned_sibling = spawn tracked(tracker.clone(), 5000, ());
        boom = spawn async {
            sleep_ms(1000).await;
            let n = 7;
            if n == 7 {
                panic!("spawned boom {n}");
            }
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), ()) = (sibling, spawned_sibling, boom);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spawned_child_panic_resumes_with_its_payload_after_siblings_are_dropped() {
    let log = Log::new();
    let tracker = Tracker::new();
    let (payload, caught) = panic_surfaced(&log, panicking_spawned(&log, tracker.clone())).await;
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("spawned boom 7")
    );
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("panic surfaced", 1000)]
    );
    // The spawned sibling started, and was aborted and joined before the panic surfaced.
    assert_eq!(tracker.started(), 1);
    assert_eq!(tracker.current(), 0);
    drop(caught);
}

async fn panicking_fan_out_item(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        sibling = sleeper(log, "sibling", 5000);
        items = for i in 0..3u32 => async move {
            sleep_ms(1000).await;
            if i == 1 {
                panic!("item {i} panicked");
            }
            Ok::<_, io::Error>(i)
        };
    }
    let _ = (sibling, items);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn fan_out_item_panic_resumes_with_its_payload_after_siblings_are_dropped() {
    let log = Log::new();
    let (payload, caught) = panic_surfaced(&log, panicking_fan_out_item(&log)).await;
    assert_eq!(panic_message(&*payload).as_deref(), Some("item 1 panicked"));
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("panic surfaced", 1000)]
    );
    drop(caught);
}

async fn outer_of_panicking(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        outer_sibling = async {
            let _guard = log.guard("outer sibling");
            sleep_ms(5000).await;
            Ok::<_, io::Error>(())
        };
        nested = panicking_in_place(log);
    }
    let ((), ()) = (outer_sibling, nested);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_nested_group_resumes_in_the_outer_caller_with_its_payload() {
    let log = Log::new();
    let (payload, caught) = panic_surfaced(&log, outer_of_panicking(&log)).await;
    assert_eq!(
        payload.downcast_ref::<&'static str>(),
        Some(&"boom in place")
    );
    let mut events = log.events();
    events[..2].sort();
    assert_eq!(
        events,
        [
            at("outer sibling dropped", 1000),
            at("sibling dropped", 1000),
            at("panic surfaced", 1000),
        ]
    );
    drop(caught);
}

async fn panicking_fan_out_expression(log: &Log, tracker: Arc<Tracker>) -> Result<(), ErrorGroup> {
    group! {
        #![limit = 3]
        sibling = sleeper(log, "sibling", 5000);
        spawned_sibling = spawn tracked(tracker.clone(), 5000, ());
        // Item 1 is pulled at 100 ms, when item 0 frees its slot; building its future panics.
        items = for x in [Some(100u64), None] => ok_after(100, x.expect("item 1 has no value"));
    }
    let _ = (sibling, spawned_sibling, items);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_panic_while_building_a_fan_out_item_cancels_and_joins_siblings_first() {
    let log = Log::new();
    let tracker = Tracker::new();
    let (payload, caught) =
        panic_surfaced(&log, panicking_fan_out_expression(&log, tracker.clone())).await;
    let live = tracker.current();
    assert_eq!(
        panic_message(&*payload).as_deref(),
        Some("item 1 has no value")
    );
    // Dropped by the group before it resumed the panic, not by the unwinding.
    assert_eq!(
        log.events(),
        [at("sibling dropped", 100), at("panic surfaced", 100)]
    );
    assert_eq!(tracker.started(), 1);
    assert_eq!(
        live, 0,
        "a spawned sibling was still alive when the panic surfaced"
    );
    drop(caught);
}

#[tokio::test(start_paused = true)]
async fn panic_of_a_group_inside_tokio_spawn_surfaces_in_the_join_error() {
    let log = Log::new();
    let task_log = log.clone();
    let handle = tokio::spawn(async move { panicking_in_place(&task_log).await });
    let error = handle.await.unwrap_err();
    log.push("join error");
    let payload = error.into_panic();
    assert_eq!(
        payload.downcast_ref::<&'static str>(),
        Some(&"boom in place")
    );
    assert_eq!(
        log.events(),
        [at("sibling dropped", 1000), at("join error", 1000)]
    );
}

// ---------------------------------------------------------------------------------------------
// Dropping the group's future
// ---------------------------------------------------------------------------------------------

async fn long_group(log: &Log, tracker: Arc<Tracker>) -> Result<(), ErrorGroup> {
    group! {
        in_place = async {
            let _guard = log.guard("in place");
            sleep_ms(10_000).await;
            Ok::<_, io::Error>(())
        };
        spawned = spawn tracked(tracker.clone(), 10_000, ());
        fanned = for i in 0..3u64 => spawn tracked(tracker.clone(), 10_000, i);
        nested = inner_with_guard(log);
    }
    let _ = (in_place, spawned, fanned, nested);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn dropping_the_group_future_drops_in_place_children_and_leaves_no_spawned_child() {
    let log = Log::new();
    let tracker = Tracker::new();
    let outcome = tokio::time::timeout(ms(1000), long_group(&log, tracker.clone())).await;
    assert!(outcome.is_err(), "the outer timeout fired");
    log.push("timeout returned");
    let mut events = log.events();
    events.sort();
    assert_eq!(
        events,
        [
            at("grandchild dropped", 1000),
            at("in place dropped", 1000),
            at("timeout returned", 1000),
        ]
    );
    assert_eq!(tracker.started(), 4);
    settle_runtime().await;
    assert_eq!(tracker.current(), 0, "spawned children still alive");
    // Nothing else happens later.
    tokio::time::sleep(ms(20_000)).await;
    assert_eq!(log.events().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn losing_a_select_drops_the_group_and_its_children() {
    let log = Log::new();
    let tracker = Tracker::new();
    tokio::select! {
        _ = long_group(&log, tracker.clone()) => panic!("the group cannot finish first"),
        () = sleep_ms(500) => log.push("select returned"),
    }
    let mut events = log.events();
    events.sort();
    assert_eq!(
        events,
        [
            at("grandchild dropped", 500),
            at("in place dropped", 500),
            at("select returned", 500),
        ]
    );
    settle_runtime().await;
    assert_eq!(tracker.started(), 4);
    assert_eq!(tracker.current(), 0, "spawned children still alive");
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

async fn with_deadline(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![timeout = ms(2000)]
        slow = sleeper(log, "slow", 5000);
        quick = ok_after(100, ());
    }
    let ((), ()) = (slow, quick);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn timeout_yields_an_elapsed_leaf_named_deadline_at_the_deadline() {
    let log = Log::new();
    let errors = with_deadline(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [at("slow dropped", 2000), at("group returned", 2000)]
    );
    assert_eq!(errors.len(), 1);
    match &errors.members()[0] {
        Member::Leaf { task, error } => {
            assert_eq!(task.to_string(), "deadline");
            let elapsed = error
                .downcast_ref::<taskgroup::Elapsed>()
                .expect("an Elapsed leaf");
            assert_eq!(elapsed.timeout(), ms(2000));
        }
        other => panic!("expected a leaf, got {other:?}"),
    }
}

async fn deadline_arm(
    seen: &mut Option<(ErrorGroup<taskgroup::Elapsed>, std::time::Duration)>,
    start: Instant,
) -> Result<u8, ErrorGroup> {
    group! {
        #![timeout = ms(2000)]
        value = ok_after(5000, 1u8);
        except* taskgroup::Elapsed as elapsed => {
            *seen = Some((elapsed, start.elapsed()));
            0
        }
    }
    Ok(value)
}

#[tokio::test(start_paused = true)]
async fn timeout_is_matchable_with_except_star_elapsed() {
    let mut seen = None;
    let value = deadline_arm(&mut seen, Instant::now()).await.unwrap();
    assert_eq!(value, 0);
    let (elapsed, when) = seen.expect("the arm ran");
    assert_eq!(when, ms(2000));
    assert_eq!(elapsed.len(), 1);
    let (task, error) = elapsed.into_leaves().next().unwrap();
    assert_eq!(task.to_string(), "deadline");
    assert_eq!(error.timeout(), ms(2000));
}

async fn errors_then_deadline() -> Result<(), ErrorGroup> {
    group! {
        #![mode = supervise]
        #![timeout = ms(2000)]
        early = io_fail_after::<()>(500, "early");
        slow = ok_after(5000, ());
    }
    let ((), ()) = (early, slow);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn errors_before_the_deadline_come_before_the_elapsed_leaf() {
    let start = Instant::now();
    let errors = errors_then_deadline().await.unwrap_err();
    assert_eq!(start.elapsed(), ms(2000));
    assert_eq!(task_names(&errors), ["early", "deadline"]);
    assert!(errors.contains::<taskgroup::Elapsed>());
}

async fn finishes_before_deadline() -> Result<u8, ErrorGroup> {
    group! {
        #![timeout = ms(2000)]
        value = ok_after(1999, 1u8);
    }
    Ok(value)
}

#[tokio::test(start_paused = true)]
async fn a_group_finishing_before_its_deadline_succeeds() {
    let start = Instant::now();
    assert_eq!(finishes_before_deadline().await.unwrap(), 1);
    assert_eq!(start.elapsed(), ms(1999));
}

// ---------------------------------------------------------------------------------------------
// Graceful cancellation
// ---------------------------------------------------------------------------------------------

/// Sleeps `work` ms; if cancelled first, logs why, cleans up for `cleanup` ms and returns
/// `on_cancel`.
async fn watchful<T>(
    log: &Log,
    name: &str,
    work: u64,
    cleanup: u64,
    on_cancel: Result<T, MyError>,
    on_finish: T,
) -> Result<T, MyError> {
    tokio::select! {
        () = sleep_ms(work) => Ok(on_finish),
        why = taskgroup::cancelled() => {
            log.push(format!("{name} cancelled: {why:?}"));
            sleep_ms(cleanup).await;
            log.push(format!("{name} cleaned up"));
            on_cancel
        }
    }
}

async fn cleanup_error(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(1000)]
        original = io_fail_after::<()>(1000, "original");
        cleaner = watchful(log, "cleaner", 5000, 100, Err(MyError("cleanup failed")), ());
    }
    let ((), ()) = (original, cleaner);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_error_returned_during_cleanup_comes_after_the_original_error() {
    let log = Log::new();
    let errors = cleanup_error(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("cleaner cancelled: SiblingFailed", 1000),
            at("cleaner cleaned up", 1100),
            at("group returned", 1100),
        ]
    );
    assert_eq!(task_names(&errors), ["original", "cleaner"]);
    assert_eq!(
        leaf_messages(&errors),
        ["original", "my error: cleanup failed"]
    );
}

async fn spawned_cleanup_error(log: &Log) -> Result<(), ErrorGroup> {
    let task_log = log.clone();
    group! {
        #![grace = ms(1000)]
        original = io_fail_after::<()>(1000, "original");
        cleaner = spawn async move {
            watchful(&task_log, "spawned", 5000, 100, Err(MyError("cleanup failed")), ()).await
        };
    }
    let ((), ()) = (original, cleaner);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_spawned_child_observes_cancellation_and_its_cleanup_error_is_kept() {
    let log = Log::new();
    let errors = spawned_cleanup_error(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("spawned cancelled: SiblingFailed", 1000),
            at("spawned cleaned up", 1100),
            at("group returned", 1100),
        ]
    );
    assert_eq!(task_names(&errors), ["original", "cleaner"]);
}

async fn stubborn(log: &Log) -> Result<(), ErrorGroup> {
    let task_log = log.clone();
    group! {
        #![grace = ms(500)]
        ignores = sleeper(log, "ignores", 10_000);
        too_slow = async {
            let _guard = log.guard("too slow");
            watchful(log, "too slow", 10_000, 10_000, Ok(()), ()).await
        };
        spawned = spawn async move {
            let _guard = task_log.guard("spawned");
            sleep_ms(10_000).await;
            Ok::<_, io::Error>(())
        };
        _ = io_fail_after::<()>(1000, "trigger");
    }
    let ((), (), ()) = (ignores, too_slow, spawned);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_child_ignoring_cancellation_is_dropped_at_failure_time_plus_grace() {
    let log = Log::new();
    let errors = stubborn(&log).await.unwrap_err();
    log.push("group returned");
    let mut events = log.events();
    // The three drops happen at the same instant, in an order that is not specified.
    events[1..4].sort();
    assert_eq!(
        events,
        [
            at("too slow cancelled: SiblingFailed", 1000),
            at("ignores dropped", 1500),
            at("spawned dropped", 1500),
            at("too slow dropped", 1500),
            at("group returned", 1500),
        ]
    );
    // The task that was cleaning up when the grace ran out is reported by its name; the ones
    // that never looked at cancellation are plain cancellations.
    assert_eq!(task_names(&errors), ["io_fail_after", "too_slow"]);
    assert!(errors.contains::<taskgroup::GraceElapsed>());
}

async fn failure_during_grace(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(1000)]
        _ = io_fail_after::<()>(1000, "original");
        quick = watchful(log, "quick", 10_000, 100, Err(MyError("cleanup failed")), ());
        slow = watchful(log, "slow", 10_000, 600, Ok(()), ());
    }
    let ((), ()) = (quick, slow);
    Ok(())
}

/// Python's `TaskGroup` cancels its tasks again when one fails during their cleanup; here a
/// failure during the grace period leaves the others the rest of their grace.
#[tokio::test(start_paused = true)]
async fn a_failure_during_the_grace_period_does_not_cut_the_others_cleanup_short() {
    let log = Log::new();
    let errors = failure_during_grace(&log).await.unwrap_err();
    log.push("group returned");
    let mut events = log.events();
    events[..2].sort();
    assert_eq!(
        events,
        [
            at("quick cancelled: SiblingFailed", 1000),
            at("slow cancelled: SiblingFailed", 1000),
            at("quick cleaned up", 1100),
            at("slow cleaned up", 1600),
            at("group returned", 1600),
        ]
    );
    assert_eq!(task_names(&errors), ["io_fail_after", "quick"]);
}

async fn no_grace(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        watcher = async {
            let _guard = log.guard("watcher");
            watchful(log, "watcher", 10_000, 0, Ok(()), ()).await
        };
        _ = io_fail_after::<()>(1000, "trigger");
    }
    let () = watcher;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn without_grace_children_are_dropped_at_once_without_observing_cancellation() {
    let log = Log::new();
    let _ = no_grace(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [at("watcher dropped", 1000), at("group returned", 1000)]
    );
}

async fn deadline_with_grace(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![timeout = ms(2000)]
        #![grace = ms(1000)]
        watcher = watchful(log, "watcher", 10_000, 200, Ok(()), ());
    }
    let () = watcher;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn cancelled_reports_the_deadline_as_its_reason() {
    let log = Log::new();
    let errors = deadline_with_grace(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("watcher cancelled: Deadline", 2000),
            at("watcher cleaned up", 2200),
            at("group returned", 2200),
        ]
    );
    assert_eq!(task_names(&errors), ["deadline"]);
}

#[tokio::test(start_paused = true)]
async fn a_child_that_cleans_up_and_returns_ok_hands_its_value_to_the_scope_body() {
    let log = Log::new();
    let log_ref = &log;
    let result = taskgroup::Group::new()
        .grace(ms(500))
        .scope(async |s| {
            let handle =
                s.spawn(async move { watchful(log_ref, "watcher", 5000, 100, Ok(42u32), 0).await });
            s.spawn(io_fail_after::<()>(1000, "trigger"));
            let value = handle.await;
            log_ref.push(format!("handle: {value:?}"));
            Ok::<_, io::Error>(())
        })
        .await;
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("watcher cancelled: SiblingFailed", 1000),
            at("watcher cleaned up", 1100),
            at("handle: Ok(42)", 1100),
            at("group returned", 1100),
        ]
    );
    let errors = result.unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(leaf_messages(&errors), ["trigger"]);
}

async fn inner_cleans_up(log: &Log) -> Result<u32, ErrorGroup> {
    group! {
        #![grace = ms(1000)]
        value = watchful(log, "inner", 5000, 100, Ok(42u32), 0);
    }
    log.push(format!("inner group value: {value}"));
    Ok(value)
}

async fn outer_cancels_inner(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(1000)]
        inner = inner_cleans_up(log);
        _ = io_fail_after::<()>(1000, "trigger");
    }
    let _ = inner;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_nested_group_whose_children_clean_up_with_ok_completes_with_their_values() {
    let log = Log::new();
    let errors = outer_cancels_inner(&log).await.unwrap_err();
    log.push("group returned");
    assert_eq!(
        log.events(),
        [
            at("inner cancelled: Parent", 1000),
            at("inner cleaned up", 1100),
            at("inner group value: 42", 1100),
            at("group returned", 1100),
        ]
    );
    // Only the original error: the nested group completed.
    assert_eq!(task_names(&errors), ["io_fail_after"]);
    assert_eq!(errors.leaf_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn cancelled_outside_any_group_never_resolves() {
    assert!(!taskgroup::is_cancelled());
    let outcome = tokio::time::timeout(ms(1000), taskgroup::cancelled()).await;
    assert!(outcome.is_err());
}

async fn reports_is_cancelled(seen: &AtomicUsize) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(1000)]
        watcher = async {
            assert!(!taskgroup::is_cancelled());
            let why = taskgroup::cancelled().await;
            assert_eq!(why, CancelReason::SiblingFailed);
            if taskgroup::is_cancelled() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<_, io::Error>(())
        };
        _ = io_fail_after::<()>(100, "trigger");
    }
    let () = watcher;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn is_cancelled_turns_true_when_the_group_cancels() {
    let seen = AtomicUsize::new(0);
    let _ = reports_is_cancelled(&seen).await.unwrap_err();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

/// A group that fails with `x`'s error at 10 ms and would end at 50 ms.
async fn inner_group() -> Result<(), ErrorGroup> {
    group! {
        #![name = "inner"]
        #![mode = supervise]
        x = io_fail_after::<()>(10, "x failed");
        y = ok_after(50, 2);
    }
    let _ = (x, y);
    Ok(())
}

/// A nested group that a task's own `select!` drops before it ends does not lose the error it
/// had collected: the error reaches the enclosing group under that task, nested, and the
/// enclosing group fails with it.
#[tokio::test(start_paused = true)]
async fn errors_of_a_nested_group_dropped_by_its_task_reach_the_enclosing_group() {
    let outer = async {
        group! {
            a = async {
                tokio::select! {
                    inner = inner_group() => inner,
                    () = sleep_ms(20) => Ok(()),
                }
            };
            b = ok_after(30, 1);
        }
        Ok::<_, ErrorGroup>((a, b))
    };
    let start = Instant::now();
    let error = outer.await.unwrap_err();
    assert_eq!(start.elapsed(), ms(20));
    assert_inner_failed_under(&error, "a");
}

/// `error` holds one member: the nested group `inner`, filed under `task`, whose only error is
/// its task `x`'s.
fn assert_inner_failed_under(error: &ErrorGroup, task: &str) {
    assert_eq!(error.len(), 1);
    let Member::Group { task: filed, group } = &error.members()[0] else {
        panic!("expected the nested group, got {error:#}");
    };
    assert_eq!(filed.to_string(), task);
    assert_eq!(group.message(), "group `inner` failed");
    let leaves: Vec<_> = group
        .leaves()
        .map(|leaf| (leaf.task.to_string(), leaf.error.to_string()))
        .collect();
    assert_eq!(leaves, [("x".to_owned(), "x failed".to_owned())]);
}

/// The same inside a fan-out: the dropped nested group's errors are filed under the item
/// that ran it (`items[1]`), not under the fan-out's name or another item.
#[tokio::test(start_paused = true)]
async fn errors_of_a_nested_group_dropped_in_a_fan_out_item_are_filed_under_that_item() {
    let outer = async {
        group! {
            items = for i in 0..3_u64 => async move {
                if i != 1 {
                    sleep_ms(5 * i).await;
                    return Ok::<_, ErrorGroup>(i);
                }
                tokio::select! {
                    inner = inner_group() => inner.map(|()| i),
                    () = sleep_ms(20) => Ok(i),
                }
            };
        }
        Ok::<_, ErrorGroup>(items)
    };
    let error = outer.await.unwrap_err();
    assert_inner_failed_under(&error, "items[1]");
}

// A group first polled outside of any group, then awaited inside another group's task: while
// it is polled there, its children see its own cancellation, and once it returns the task sees
// its group's again.
#[tokio::test(start_paused = true)]
async fn a_group_moved_into_another_groups_task_keeps_the_two_cancellations_apart() {
    let (go, gate) = tokio::sync::oneshot::channel::<()>();
    let mut moved = Box::pin(async move {
        group! {
            cancelling = async move {
                gate.await.ok();
                // The moved group's own signal, made here: it is not cancelling.
                let mut own = std::pin::pin!(taskgroup::cancelled());
                assert!(futures::poll!(own.as_mut()).is_pending());
                Ok::<_, io::Error>(taskgroup::is_cancelled())
            };
        }
        Ok::<_, ErrorGroup>(cancelling)
    });
    assert!(futures::poll!(moved.as_mut()).is_pending());

    let told = Arc::new(AtomicUsize::new(0));
    let seen = told.clone();
    let errors = async move {
        group! {
            #![grace = std::time::Duration::from_secs(1)]
            _ = async move {
                // The host group's signal, made by this first poll, is current in its polls.
                let mut early = std::pin::pin!(taskgroup::cancelled());
                assert!(futures::poll!(early.as_mut()).is_pending());
                go.send(()).unwrap();
                assert!(!moved.await?);
                // Asked again after the moved group returned: the host group's cancellation,
                // which its failing sibling starts.
                let why = taskgroup::cancelled().await;
                assert_eq!(why, CancelReason::SiblingFailed);
                seen.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ErrorGroup>(())
            };
            _ = io_fail_after::<()>(1000, "failing");
        }
        Ok::<_, ErrorGroup>(())
    }
    .await
    .unwrap_err();
    assert_eq!(task_names(&errors), ["io_fail_after"]);
    assert_eq!(told.load(Ordering::SeqCst), 1, "the host task was told");
}

// ---------------------------------------------------------------------------------------------
// After the first failure, a sibling runs at most to its next `.await`
// ---------------------------------------------------------------------------------------------

/// CPython's `test_nested_groups_both_cancelled`: `b` is at its first `.await` when `a`
/// fails; it is polled once more at that instant (so an error it had due then would be
/// kept), reaches its second `.await`, and is cancelled there.
async fn runs_on(flag: &std::sync::atomic::AtomicBool) -> Result<(), ErrorGroup> {
    group! {
        a = async {
            tokio::task::yield_now().await;
            Err::<(), _>(io::Error::other("boom"))
        };
        b = async {
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, io::Error>(())
        };
    }
    let ((), ()) = (a, b);
    Ok(())
}

#[tokio::test]
async fn a_sibling_ready_at_the_failure_stops_at_its_next_await() {
    let flag = std::sync::atomic::AtomicBool::new(false);
    let errors = runs_on(&flag).await.unwrap_err();
    assert_eq!(task_names(&errors), ["a"]);
    assert!(!flag.load(Ordering::SeqCst), "b ran past its next await");
}

/// Returns `Pending` once, waking itself at once (`yield_now` defers its wake-up to the end
/// of the runtime's poll, so a group polled again in that poll would not see it).
async fn wake_at_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// The same for the items of a fan-out, which a pass polls only when they woke (and of
/// which `FuturesUnordered` polls only a few per call when they keep waking themselves).
async fn items_run_on(finished: &AtomicUsize) -> Result<(), ErrorGroup> {
    group! {
        _ = for i in 0..6usize => async move {
            wake_at_once().await;
            if i == 5 {
                return Err(io::Error::other("boom"));
            }
            for _ in 0..4 {
                wake_at_once().await;
            }
            finished.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
    }
    Ok(())
}

#[tokio::test]
async fn fan_out_items_ready_at_the_failure_stop_at_their_next_await() {
    let finished = AtomicUsize::new(0);
    let errors = items_run_on(&finished).await.unwrap_err();
    assert_eq!(task_names(&errors), ["_[5]"]);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "items ran on past the failure"
    );
}

/// A scope's body that handles an inner scope's failure and awaits again is cancelled at
/// that await once the outer scope fails.
#[tokio::test]
async fn a_scope_body_ready_at_the_failure_stops_at_its_next_await() {
    let ran_on = std::sync::atomic::AtomicBool::new(false);
    let result = taskgroup::scope(async |outer| {
        let inner = taskgroup::scope(async |_inner| {
            outer.spawn(async { Err::<(), _>(io::Error::other("outer task failed")) });
            Err::<(), _>(io::Error::other("inner body failed"))
        })
        .await;
        assert!(inner.is_err());
        tokio::task::yield_now().await;
        ran_on.store(true, Ordering::SeqCst);
        Ok::<_, io::Error>(())
    })
    .await;
    let errors = result.unwrap_err();
    assert_eq!(task_names(&errors), ["task-0"]);
    assert!(
        !ran_on.load(Ordering::SeqCst),
        "the body ran past its next await"
    );
}

// ---------------------------------------------------------------------------------------------
// A failure in the first step
// ---------------------------------------------------------------------------------------------

async fn fails_in_its_first_step(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(100)]
        before = async {
            log.push("before started");
            let why = taskgroup::cancelled().await;
            log.push(format!("before cleans up: {why:?}"));
            Ok::<_, io::Error>(())
        };
        failing = async { Err::<(), _>(io::Error::other("at once")) };
        after = async {
            log.push("after started");
            taskgroup::cancelled().await;
            log.push("after cleans up");
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), ()) = (before, failing, after);
    Ok(())
}

/// The tasks declared after one that fails in its first step are never started; the ones
/// before it had their step, and clean up in the grace period.
#[tokio::test(start_paused = true)]
async fn a_task_that_fails_in_its_first_step_leaves_the_later_ones_unstarted() {
    let log = Log::new();
    let errors = fails_in_its_first_step(&log).await.unwrap_err();
    assert_eq!(task_names(&errors), ["failing"]);
    assert_eq!(
        log.events(),
        [
            at("before started", 0),
            at("before cleans up: SiblingFailed", 0)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Panics while siblings are dropped
// ---------------------------------------------------------------------------------------------

/// Panics with `message` when dropped.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

async fn original_and_a_drop_that_panics(
    spawned_alive: Arc<AtomicUsize>,
) -> Result<(), ErrorGroup> {
    group! {
        a = async {
            tokio::task::yield_now().await;
            panic!("original");
            #[allow(unreachable_code)]
            Ok::<_, io::Error>(())
        };
        b = async {
            let _bomb = PanicsOnDrop("from b's drop");
            tokio::time::sleep(ms(10_000)).await;
            Ok::<_, io::Error>(())
        };
        c = spawn async move {
            spawned_alive.fetch_add(1, Ordering::SeqCst);
            struct Alive(Arc<AtomicUsize>);
            impl Drop for Alive {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let _alive = Alive(spawned_alive);
            tokio::time::sleep(ms(10_000)).await;
            Ok::<_, io::Error>(())
        };
        items = for i in 0..2 => async move {
            let _bomb = PanicsOnDrop("from an item's drop");
            tokio::time::sleep(ms(10_000 + i)).await;
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), (), _) = (a, b, c, items);
    Ok(())
}

/// A sibling whose `Drop` panics while the group cancels it after the first panic: the caller
/// gets the original payload, and the spawned sibling is joined before it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_siblings_drop_does_not_replace_the_original_or_skip_the_joins() {
    let alive = Arc::new(AtomicUsize::new(0));
    let log = Log::new();
    let group = original_and_a_drop_that_panics(alive.clone());
    let (payload, _) = panic_surfaced(&log, group).await;
    assert_eq!(panic_message(&*payload).as_deref(), Some("original"));
    assert_eq!(
        alive.load(Ordering::SeqCst),
        0,
        "the spawned sibling is still alive"
    );
}

/// A payload whose own `Drop` panics.
struct PayloadPanicsOnDrop;

impl Drop for PayloadPanicsOnDrop {
    fn drop(&mut self) {
        panic!("the second payload's drop");
    }
}

async fn two_panics_at_once() -> Result<(), ErrorGroup> {
    group! {
        first = async {
            tokio::task::yield_now().await;
            std::panic::panic_any("first");
            #[allow(unreachable_code)]
            Ok::<_, io::Error>(())
        };
        second = async {
            tokio::task::yield_now().await;
            std::panic::panic_any(PayloadPanicsOnDrop);
            #[allow(unreachable_code)]
            Ok::<_, io::Error>(())
        };
    }
    let ((), ()) = (first, second);
    Ok(())
}

/// Two tasks panic at once and the second payload's `Drop` panics in the group's bookkeeping:
/// the first payload still reaches the caller.
#[tokio::test]
async fn a_second_payload_that_panics_on_drop_does_not_replace_the_first() {
    let log = Log::new();
    let (payload, _) = panic_surfaced(&log, two_panics_at_once()).await;
    assert_eq!(panic_message(&*payload).as_deref(), Some("first"));
}
