//! Heap allocations on taskgroup's hot paths, counted on the test's thread: a fixed group
//! needs none (the macro knows the arity), an in-place fan-out none per item, a spawned
//! fan-out what `JoinSet` needs per item.
//!
//! Each case runs a workload at N and at 2N on a current-thread runtime, so that every task
//! runs on this thread, and compares the two counts: what the runtime allocates once (its
//! queues, thread-locals, the first growth of a buffer) is the same in both and cancels out.

use std::future::Future;
use std::hint::black_box;

use taskgroup::{ErrorGroup, group};
use tokio::runtime::Runtime;

async fn step(i: u64) -> Result<u64, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(i)
}

/// Heap allocations made on this thread while `make(n)` runs to the end, at `n` and `2n`.
fn allocations<F: Future<Output = ()>>(n: u64, make: impl Fn(u64) -> F) -> (u64, u64) {
    let rt = runtime();
    // Warm-up: the runtime's own buffers and thread-locals.
    rt.block_on(make(n));
    let once = allocation_counter::measure(|| rt.block_on(make(n))).count_total;
    let twice = allocation_counter::measure(|| rt.block_on(make(2 * n))).count_total;
    (once, twice)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

async fn fixed_group(i: u64) -> Result<(u64, u64, u64), ErrorGroup> {
    group! {
        a = step(i);
        b = step(i + 1);
        c = step(i + 2);
    }
    Ok((a, b, c))
}

#[test]
fn a_fixed_group_of_in_place_tasks_allocates_nothing() {
    let (once, twice) = allocations(1_000, |groups| async move {
        for i in 0..groups {
            black_box(fixed_group(i).await.expect("the group succeeds"));
        }
    });
    assert_eq!(
        twice,
        once,
        "1 000 more groups made {} more allocations",
        twice.saturating_sub(once)
    );
}

#[test]
fn an_in_place_fan_out_allocates_no_node_per_item() {
    let (once, twice) = allocations(2_000, |n| async move {
        let fan_out = async {
            group! {
                out = for i in 0..n => step(i);
            }
            Ok::<_, ErrorGroup>(out)
        };
        black_box(fan_out.await.expect("the fan-out succeeds"));
    });
    // The items' futures live in chunks of doubling size (one more chunk when N doubles) and
    // their wakers in blocks of 64 (31 more blocks); the result, queue and free-slot vectors
    // grow a few more times. `FuturesUnordered` makes one node per item: 2 000 more.
    let extra = twice - once;
    assert!(
        extra <= 2_000 / 64 + 10,
        "2 000 more items made {extra} more allocations"
    );
}

#[test]
fn a_bounded_fan_out_reuses_its_slots() {
    let (once, twice) = allocations(2_000, |n| async move {
        let fan_out = async {
            group! {
                #![limit = 16]
                _ = for i in 0..n => step(i);
            }
            Ok::<_, ErrorGroup>(())
        };
        fan_out.await.expect("the fan-out succeeds");
    });
    // At most 16 items run: their 16 slots and wakers serve every item, however many; a
    // buffer may grow once more when N doubles.
    let extra = twice.saturating_sub(once);
    assert!(extra <= 2, "2 000 more items made {extra} more allocations");
}

#[test]
fn a_spawned_fan_out_allocates_a_task_and_a_node_per_item() {
    let (once, twice) = allocations(2_000, |n| async move {
        let fan_out = async {
            group! {
                out = for i in 0..n => spawn step(i);
            }
            Ok::<_, ErrorGroup>(out)
        };
        black_box(fan_out.await.expect("the fan-out succeeds"));
    });
    // tokio's task cell and the `FuturesUnordered` node, as `JoinSet`'s cell and its entry;
    // the run queue and the result vector grow a few more times when N doubles.
    let extra = twice - once;
    assert!(
        (4_000..=4_008).contains(&extra),
        "2 000 more spawned items made {extra} more allocations"
    );
}
