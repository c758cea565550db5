//! `taskgroup::scope!`: the imperative scope written so that its future is `Send`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use taskgroup::{ErrorGroup, Group};
use tokio::time::{Instant, sleep};

fn assert_send<T: Send>(_: &T) {}

/// Decrements a counter when dropped: finished and cancelled tasks both leave.
struct Leave<'a>(&'a AtomicU64);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn sum_in_scope(items: Vec<u64>) -> Result<u64, ErrorGroup> {
    let total = AtomicU64::new(0);
    taskgroup::scope!(async |s| {
        for item in &items {
            let total = &total;
            s.spawn(async move {
                sleep(Duration::from_millis(*item)).await;
                total.fetch_add(*item, Ordering::SeqCst);
                Ok::<_, std::io::Error>(())
            });
        }
        // A task that spawns a sibling through the copied handle.
        let total = &total;
        s.spawn(async move {
            s.spawn(async move {
                total.fetch_add(1000, Ordering::SeqCst);
                Ok::<_, std::io::Error>(())
            });
            Ok::<_, std::io::Error>(())
        });
        let parallel = s.spawn_parallel(async { Ok::<_, std::io::Error>(7u64) });
        Ok::<_, std::io::Error>(parallel.await.unwrap_or(0))
    })
    .await
    .map(|parallel| parallel + total.into_inner())
}

#[tokio::test(start_paused = true)]
async fn a_borrowing_scope_macro_is_send_and_runs_in_tokio_spawn() {
    let fut = sum_in_scope(vec![30, 10, 20]);
    assert_send(&fut);
    let start = Instant::now();
    assert_eq!(tokio::spawn(fut).await.unwrap().unwrap(), 1067);
    assert_eq!(start.elapsed(), Duration::from_millis(30));
}

#[tokio::test(start_paused = true)]
async fn the_scope_macro_takes_group_options() {
    let in_flight = AtomicU64::new(0);
    let peak = AtomicU64::new(0);
    let result = taskgroup::scope!(
        Group::new().limit(2).timeout(Duration::from_millis(250)),
        async |s| {
            for _ in 0..6 {
                let (in_flight, peak) = (&in_flight, &peak);
                s.spawn(async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    let _leave = Leave(in_flight);
                    peak.fetch_max(now, Ordering::SeqCst);
                    sleep(Duration::from_millis(100)).await;
                    Ok::<_, std::io::Error>(())
                });
            }
            Ok::<_, std::io::Error>(())
        }
    )
    .await;
    // Two at a time, 100 ms each: the deadline at 250 ms lands during the third pair.
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    let errors = result.unwrap_err();
    assert!(errors.contains::<taskgroup::Elapsed>());
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn the_scope_macro_collects_errors_with_the_body_error_last() {
    let errors = taskgroup::scope!(async |s| {
        s.spawn_named("fetch", async {
            sleep(Duration::from_millis(5)).await;
            Err::<(), _>(std::io::Error::other("fetch failed"))
        });
        sleep(Duration::from_millis(5)).await;
        Err::<(), _>(std::io::Error::other("body failed"))
    })
    .await
    .unwrap_err();
    let leaves: Vec<String> = errors
        .leaves()
        .map(|leaf| format!("{}: {}", leaf.task, leaf.error))
        .collect();
    assert_eq!(leaves, ["fetch: fetch failed", "body: body failed"]);
}

/// A scope whose body fails with `BoxError`, held across an `.await` of the enclosing
/// future: still `Send` (the body's error type is not normalized again with its lifetimes
/// erased).
async fn body_fails_with_box_error(items: Vec<u64>) -> Result<u64, ErrorGroup> {
    let total = AtomicU64::new(0);
    let result = taskgroup::scope!(async |s| {
        for item in &items {
            let total = &total;
            s.spawn(async move {
                total.fetch_add(*item, Ordering::SeqCst);
                Ok::<_, taskgroup::BoxError>(())
            });
        }
        sleep(Duration::from_millis(1)).await;
        if items.is_empty() {
            return Err::<u64, taskgroup::BoxError>("no items".into());
        }
        Ok(1)
    })
    .await?;
    sleep(Duration::from_millis(1)).await;
    Ok(result + total.into_inner())
}

#[tokio::test(start_paused = true)]
async fn a_scope_macro_whose_body_fails_with_box_error_is_send() {
    let fut = body_fails_with_box_error(vec![1, 2]);
    assert_send(&fut);
    assert_eq!(tokio::spawn(fut).await.unwrap().unwrap(), 4);
    let errors = tokio::spawn(body_fails_with_box_error(Vec::new()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        errors.leaves().next().unwrap().error.to_string(),
        "no items"
    );
}
