//! Stress: a million tasks through a `limit = 64` fan-out in flat memory, groups nested
//! a thousand deep, a hundred thousand siblings cancelled at once, a fan-out whose items spend
//! tokio's coop budget polled in linear time, a fan-out woken from other threads that loses
//! no wake-up. Each test states its bound;
//! all run in debug builds in CI.

mod common;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant as WallClock};

use common::{Live, ms};
use taskgroup::error_group::Member;
use taskgroup::{BoxError, ErrorGroup, Group, group};

/// Tasks in flight and the most ever.
#[derive(Default)]
struct Flight {
    now: AtomicUsize,
    max: AtomicUsize,
    done: AtomicUsize,
}

struct InFlight<'a>(&'a Flight);

impl<'a> InFlight<'a> {
    fn enter(flight: &'a Flight) -> Self {
        let now = flight.now.fetch_add(1, Ordering::Relaxed) + 1;
        flight.max.fetch_max(now, Ordering::Relaxed);
        InFlight(flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
        self.0.done.fetch_add(1, Ordering::Relaxed);
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------------------------
// A million tasks through `limit = 64`, in flat memory
// ---------------------------------------------------------------------------------------------

/// Runs `n` tasks through a `limit = 64` fan-out, each yielding once (so that 64 are really in
/// flight together); returns the most in flight.
async fn bounded_fan_out(n: u64) -> Result<usize, ErrorGroup> {
    let flight = Flight::default();
    group! {
        #![limit = 64]
        _ = for _item in 0..n => {
            let flight = &flight;
            async move {
                let _in = InFlight::enter(flight);
                tokio::task::yield_now().await;
                Ok::<_, io::Error>(())
            }
        };
    }
    assert_eq!(flight.done.load(Ordering::Relaxed) as u64, n);
    assert_eq!(flight.now.load(Ordering::Relaxed), 0);
    Ok(flight.max.load(Ordering::Relaxed))
}

/// The peak resident set of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Not a test of its own: the child process the memory test runs, once per size, so that the
/// peak it reads is its own.
#[test]
#[ignore = "run by `a_million_tasks_through_limit_64_in_flat_memory` in a child process"]
fn memory_probe() {
    let Ok(n) = std::env::var("TASKGROUP_STRESS_N") else {
        return;
    };
    let n: u64 = n.parse().expect("TASKGROUP_STRESS_N");
    let started = WallClock::now();
    let max = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(bounded_fan_out(n))
        .expect("no task fails");
    println!(
        "PROBE n={n} max_in_flight={max} peak_kib={} seconds={:.2}",
        peak_rss_kib(),
        started.elapsed().as_secs_f64()
    );
}

/// Runs `memory_probe` in a child process for `n` tasks: (peak KiB, seconds, max in flight).
fn probe(n: u64) -> (u64, f64, usize) {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "memory_probe",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TASKGROUP_STRESS_N", n.to_string())
        .output()
        .expect("run the probe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.find("PROBE ").map(|at| &line[at..]))
        .unwrap_or_else(|| {
            panic!(
                "the probe for n={n} printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let field = |name: &str| -> &str {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .expect("probe field")
    };
    (
        field("peak_kib").parse().expect("peak"),
        field("seconds").parse().expect("seconds"),
        field("max_in_flight").parse().expect("max"),
    )
}

/// 1,000,000 tasks through `#![limit = 64]`: never more than 64 in flight, and the peak memory
/// of the process does not grow with the number of items (the fan-out pulls its iterator
/// lazily). Measured in child processes, at 100,000 and at 1,000,000 tasks.
#[test]
#[cfg(target_os = "linux")]
fn a_million_tasks_through_limit_64_in_flat_memory() {
    let (small_kib, small_s, small_max) = probe(100_000);
    let (large_kib, large_s, large_max) = probe(1_000_000);
    println!(
        "100k tasks: peak {small_kib} KiB in {small_s:.2} s; 1M tasks: peak {large_kib} KiB in \
         {large_s:.2} s"
    );
    assert_eq!(small_max, 64);
    assert_eq!(large_max, 64);
    // Ten times the tasks, the same peak, give or take the allocator's noise (about 100 KiB
    // here). A `_` fan-out binds nothing, so nothing may be kept per item: one byte per item
    // would be 0.9 MB more here, and a gigabyte for a billion-line stream.
    let growth = large_kib.saturating_sub(small_kib);
    assert!(
        growth < 256,
        "peak memory grew by {growth} KiB from 100k to 1M tasks ({small_kib} -> {large_kib} KiB): \
         about {:.2} bytes kept per item",
        growth as f64 * 1024.0 / 900_000.0
    );
}

// ---------------------------------------------------------------------------------------------
// A thousand nested groups
// ---------------------------------------------------------------------------------------------

/// A group nested `depth` deep, in place (each level is a task of the one above it); the
/// innermost task fails.
fn nested_in_place(
    depth: usize,
    live: Arc<AtomicUsize>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> {
    Box::pin(async move {
        let _live = Live::new(&live);
        if depth == 0 {
            tokio::time::sleep(ms(10)).await;
            return Err(io::Error::other("innermost").into());
        }
        taskgroup::scope!(Group::new().name("level"), async |s| {
            s.spawn_named("inner", nested_in_place(depth - 1, live.clone()));
            // A sibling at every level, hanging until the failure cancels it.
            let live = live.clone();
            s.spawn_named("sibling", async move {
                let _live = Live::new(&live);
                std::future::pending::<Result<(), io::Error>>().await
            });
            Ok::<_, io::Error>(())
        })
        .await
        .map_err(Into::into)
    })
}

/// The same, each level spawned on the workers.
fn nested_spawned(
    depth: usize,
    live: Arc<AtomicUsize>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> {
    Box::pin(async move {
        let _live = Live::new(&live);
        if depth == 0 {
            tokio::time::sleep(ms(10)).await;
            return Err(io::Error::other("innermost").into());
        }
        taskgroup::scope!(Group::new().name("level"), async |s| {
            s.spawn_parallel(nested_spawned(depth - 1, live.clone()));
            Ok::<_, io::Error>(())
        })
        .await
        .map_err(Into::into)
    })
}

/// The error of the innermost task, `depth` groups down, arrives nested `depth` deep with the
/// task names of every level.
fn check_nested(error: BoxError, depth: usize, name: &str) {
    let group = error.downcast::<ErrorGroup>().expect("an error group");
    let leaf = group.leaves().next().expect("one leaf");
    assert_eq!(group.leaf_count(), 1);
    assert_eq!(leaf.depth, depth - 1);
    assert_eq!(leaf.error.to_string(), "innermost");
    // Walk down: one member per level, named after the task that ran the level below.
    let mut level: &ErrorGroup = &group;
    for _ in 0..depth - 1 {
        assert_eq!(level.len(), 1);
        match &level.members()[0] {
            Member::Group { task, group } => {
                assert_eq!(task.to_string(), name);
                level = group;
            }
            Member::Leaf { .. } => panic!("a leaf above the innermost level"),
        }
    }
    // Rendering and dropping a tree this deep do not recurse (they are iterative, and the
    // renderings stop at Python's depth limits).
    assert!(format!("{group:#}").lines().count() < 100);
    assert!(!format!("{group:?}").is_empty());
    drop(group);
}

/// 1,000 groups nested in place: the innermost failure cancels every level's sibling and
/// arrives 1,000 levels deep. Polling a chain of 1,000 in-place groups recurses through each
/// level's poll, so it runs on a thread with a 64 MiB stack (see RELIABILITY.md for the
/// measured stack per level).
#[test]
fn a_thousand_groups_nested_in_place() {
    const DEPTH: usize = 1000;
    let started = WallClock::now();
    let live = Arc::new(AtomicUsize::new(0));
    let live2 = live.clone();
    let error = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            current_thread().block_on(async move {
                let began = tokio::time::Instant::now();
                let error = nested_in_place(DEPTH, live2.clone()).await.unwrap_err();
                assert_eq!(began.elapsed(), ms(10));
                assert_eq!(live2.load(Ordering::SeqCst), 0, "a task outlived its group");
                check_nested(error, DEPTH, "inner");
            })
        })
        .expect("thread")
        .join();
    if let Err(panic) = error {
        std::panic::resume_unwind(panic);
    }
    assert_eq!(live.load(Ordering::SeqCst), 0);
    println!("1,000 nested in-place groups: {:.2?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// 1,000 groups nested through spawned tasks: each level is its own tokio task, so the stack
/// does not grow with the depth; the failure still arrives 1,000 levels deep and every level is
/// joined before its parent returns.
#[test]
fn a_thousand_groups_nested_through_spawned_tasks() {
    const DEPTH: usize = 1000;
    let started = WallClock::now();
    let live = Arc::new(AtomicUsize::new(0));
    current_thread().block_on(async {
        let error = nested_spawned(DEPTH, live.clone()).await.unwrap_err();
        assert_eq!(live.load(Ordering::SeqCst), 0, "a task outlived its group");
        check_nested(error, DEPTH, "task-0");
    });
    println!("1,000 nested spawned groups: {:.2?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// How deep in-place nesting goes on a 2 MiB stack (a tokio worker's default): the depth at
/// which it still works is printed and must be at least 100.
#[test]
fn in_place_nesting_on_a_default_worker_stack() {
    let depth = 100;
    let live = Arc::new(AtomicUsize::new(0));
    let live2 = live.clone();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            current_thread().block_on(async move {
                let error = nested_in_place(depth, live2.clone()).await.unwrap_err();
                check_nested(error, depth, "inner");
            })
        })
        .expect("thread")
        .join()
        .expect("100 in-place levels fit in a 2 MiB stack");
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// A hundred thousand siblings cancelled at once
// ---------------------------------------------------------------------------------------------

const SIBLINGS: usize = 100_000;

/// 100,000 in-place siblings hang; one fails at 10 ms: all are dropped at that instant, before
/// the group returns, and only the failure is reported.
#[test]
fn a_hundred_thousand_in_place_siblings_cancelled_at_once() {
    let started = WallClock::now();
    let live = Arc::new(AtomicUsize::new(0));
    current_thread().block_on(async {
        let began = tokio::time::Instant::now();
        let live = &live;
        let result: Result<(), ErrorGroup> = async {
            group! {
                _ = for i in 0..SIBLINGS => async move {
                    let _live = Live::new(live);
                    if i == SIBLINGS / 2 {
                        tokio::time::sleep(ms(10)).await;
                        return Err(io::Error::other("the one that fails"));
                    }
                    std::future::pending::<()>().await;
                    Ok(())
                };
            }
            Ok(())
        }
        .await;
        let error = result.unwrap_err();
        assert_eq!(began.elapsed(), ms(10));
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "siblings outlived their group"
        );
        assert_eq!(error.len(), 1);
        assert_eq!(
            error.members()[0].task().to_string(),
            format!("_[{}]", SIBLINGS / 2)
        );
    });
    println!("100k in-place siblings: {:.2?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// 100,000 siblings spawned on the workers with `Scope::spawn_parallel` hang; one fails: all
/// are aborted and joined before the group returns.
#[test]
fn a_hundred_thousand_spawned_siblings_cancelled_at_once() {
    let started = WallClock::now();
    let live = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let result = taskgroup::scope!(async |s| {
            for i in 0..SIBLINGS {
                let live = live.clone();
                s.spawn_parallel(async move {
                    let _live = Live::new(&live);
                    if i == SIBLINGS / 2 {
                        tokio::time::sleep(ms(50)).await;
                        return Err(io::Error::other("the one that fails"));
                    }
                    std::future::pending::<()>().await;
                    Ok(())
                });
            }
            Ok::<_, io::Error>(())
        })
        .await;
        let error = result.unwrap_err();
        // Joined, not just aborted: nothing of theirs is alive when the group returns.
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "spawned siblings outlived their group"
        );
        assert_eq!(error.len(), 1);
        assert_eq!(
            error.members()[0].task().to_string(),
            format!("task-{}", SIBLINGS / 2)
        );
    });
    println!("100k spawned siblings: {:.2?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20));
}

// ---------------------------------------------------------------------------------------------
// A fan-out whose items spend tokio's coop budget
// ---------------------------------------------------------------------------------------------

/// Awaits a oneshot that was sent already, counting its own polls. Each completed receive
/// spends one unit of the task's coop budget; once the budget is spent, the receiver answers
/// `Pending` and schedules a *deferred* wake-up.
async fn ready_receive(i: u64, polls: &AtomicUsize) -> Result<u64, io::Error> {
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    tx.send(i).expect("the receiver is alive");
    std::future::poll_fn(|cx| {
        polls.fetch_add(1, Ordering::Relaxed);
        std::pin::Pin::new(&mut rx).poll(cx)
    })
    .await
    .map_err(io::Error::other)
}

/// Once the coop budget is spent, every item still queued answers `Pending` with a deferred
/// wake-up; a fan-out that went on polling them would walk all of them again on every poll of
/// the group (`FuturesUnordered` does: quadratic). taskgroup's fan-out ends its pass when an item
/// answers `Pending` on a spent budget, the items not polled yet left queued, so each item is
/// polled a bounded number of times: 4 096 items take 4 127 polls here, and 67 584 without
/// that check.
#[test]
fn a_fan_out_over_a_tokio_resource_polls_each_item_a_bounded_number_of_times() {
    const ITEMS: u64 = 4096;
    let polls = AtomicUsize::new(0);
    let out = current_thread().block_on(async {
        group! {
            out = for i in 0..ITEMS => ready_receive(i, &polls);
        }
        Ok::<_, ErrorGroup>(out)
    });
    assert_eq!(out.expect("every receive succeeds").len(), ITEMS as usize);
    let polls = polls.load(Ordering::Relaxed);
    assert!(
        polls <= 2 * ITEMS as usize,
        "{polls} polls for {ITEMS} items: the fan-out walks items that wait for the budget"
    );
}

// ---------------------------------------------------------------------------------------------
// A fan-out woken from other threads
// ---------------------------------------------------------------------------------------------

const WOKEN_ITEMS: u64 = 20_000;

/// Hands its waker to a task on the runtime's workers, which wakes it before and after it
/// sends the value (the last wake lands after the item finished, most of the time), then
/// awaits the value.
async fn woken_elsewhere(i: u64) -> Result<u64, io::Error> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
    tokio::spawn(async move {
        tokio::task::yield_now().await;
        waker.wake_by_ref();
        let _ = tx.send(i);
        tokio::task::yield_now().await;
        waker.wake();
    });
    Ok(rx.await.expect("the value is sent"))
}

#[allow(clippy::redundant_closure)]
async fn woken_fan_out() -> Result<Vec<u64>, ErrorGroup> {
    group! {
        out = for i in 0..WOKEN_ITEMS => woken_elsewhere(i);
    }
    Ok(out)
}

#[allow(clippy::redundant_closure)]
async fn woken_bounded_fan_out() -> Result<Vec<u64>, ErrorGroup> {
    group! {
        #![limit = 64]
        out = for i in 0..WOKEN_ITEMS => woken_elsewhere(i);
    }
    Ok(out)
}

/// An in-place fan-out whose items are woken from the runtime's other threads, more than once
/// and after they finished (wakers that other threads still hold), without a limit and with
/// one (its 64 slots reused while those wakers are still out): every item ends once, with its
/// own value, and the group returns. A lost wake-up would leave it waiting: the watchdog (a
/// minute, for what takes well under a second) turns that into a failure.
#[test]
fn a_fan_out_woken_from_other_threads_loses_no_wake_up() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime");
    let expected: Vec<u64> = (0..WOKEN_ITEMS).collect();
    runtime.block_on(async {
        for round in 0..3 {
            let out = tokio::time::timeout(Duration::from_secs(60), woken_fan_out())
                .await
                .unwrap_or_else(|_| panic!("round {round}: the fan-out lost a wake-up"));
            assert_eq!(out.expect("every item succeeds"), expected);
            let out = tokio::time::timeout(Duration::from_secs(60), woken_bounded_fan_out())
                .await
                .unwrap_or_else(|_| panic!("round {round}: the bounded fan-out lost a wake-up"));
            assert_eq!(out.expect("every item succeeds"), expected);
        }
    });
}
