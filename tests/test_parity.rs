//! Python parity: terminating a group, first-success, refused spawns, cancellation reasons,
//! graceful cleanup, partial results and remainders that keep their nesting.

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Live, ms};
use taskgroup::error_group::Member;
use taskgroup::{CancelReason, ErrorGroup, Group, HandleError, Mode, group};
use tokio::time::{Instant, sleep};

#[derive(Debug)]
struct Timeout(&'static str);

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} timed out", self.0)
    }
}

impl std::error::Error for Timeout {}

#[tokio::test(start_paused = true)]
async fn cancel_ends_the_group_without_error_and_every_child_is_gone() {
    let live = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let result = taskgroup::scope(async |s| {
        for _ in 0..3 {
            let guard = Live::new(&live);
            s.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(60)).await;
                Ok::<_, std::io::Error>(())
            });
        }
        let guard = Live::new(&live);
        s.spawn_parallel(async move {
            let _guard = guard;
            sleep(Duration::from_secs(60)).await;
            Ok::<_, std::io::Error>(())
        });
        sleep(ms(100)).await;
        s.cancel();
        s.cancel(); // twice does nothing more
        Ok::<_, std::io::Error>("body value")
    })
    .await;
    assert_eq!(result.unwrap(), "body value");
    assert_eq!(start.elapsed(), ms(100));
    // In-place tasks were dropped; the spawned one was aborted and joined.
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn cancel_from_a_child_ends_the_group_and_the_body_sees_it() {
    let result = taskgroup::scope(async |s| {
        let worker = s.spawn(async {
            sleep(Duration::from_secs(60)).await;
            Ok::<_, std::io::Error>(1)
        });
        s.spawn(async move {
            sleep(ms(10)).await;
            s.cancel();
            Ok::<_, std::io::Error>(())
        });
        // The cancelled worker's handle says it was cancelled, and why.
        let value = worker.await;
        Ok::<_, std::io::Error>((value, s.is_cancelled()))
    })
    .await
    .unwrap();
    assert_eq!(
        result,
        (Err(HandleError::Cancelled(CancelReason::Cancelled)), true)
    );
}

#[tokio::test(start_paused = true)]
async fn spawn_after_abort_is_refused_and_never_polled() {
    let polled = AtomicBool::new(false);
    let result = taskgroup::scope(async |s| {
        s.cancel();
        let handle = s.spawn(async {
            polled.store(true, Ordering::SeqCst);
            Ok::<_, std::io::Error>(5)
        });
        Ok::<_, std::io::Error>(handle.await)
    })
    .await
    .unwrap();
    assert_eq!(result, Err(HandleError::Refused));
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn spawn_after_a_failure_is_refused_and_never_polled() {
    let polled = Arc::new(AtomicBool::new(false));
    let seen = polled.clone();
    // A sibling that outlives the failure through the grace period tries to spawn more.
    let result = Group::new()
        .grace(ms(50))
        .scope(async |s| {
            s.spawn(async {
                sleep(ms(10)).await;
                Err::<(), _>(std::io::Error::other("first"))
            });
            s.spawn(async move {
                taskgroup::cancelled().await;
                let flag = seen.clone();
                let refused = s.spawn(async move {
                    flag.store(true, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(())
                });
                assert_eq!(refused.await, Err(HandleError::Refused));
                Ok::<_, std::io::Error>(())
            });
            Ok::<_, std::io::Error>(())
        })
        .await;
    assert_eq!(result.unwrap_err().len(), 1);
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn first_success_returns_the_first_ok_and_cancels_the_rest() {
    let live = Arc::new(AtomicUsize::new(0));
    let mirror = |delay: u64, ok: bool| {
        let guard = Live::new(&live);
        async move {
            let _guard = guard;
            sleep(ms(delay)).await;
            if ok {
                Ok(delay)
            } else {
                Err(std::io::Error::other(format!("mirror {delay} down")))
            }
        }
    };
    let start = Instant::now();
    let winner = Group::new()
        .first_success([
            mirror(10, false),
            mirror(50, true),
            mirror(30, true),
            mirror(90, true),
        ])
        .await
        .unwrap();
    assert_eq!(winner, 30);
    assert_eq!(start.elapsed(), ms(30));
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn first_success_raises_every_error_when_none_succeeds() {
    let attempts = (1..=3).map(|n| async move {
        sleep(ms(n * 10)).await;
        Err::<u32, _>(std::io::Error::other(format!("attempt {n}")))
    });
    let errors = Group::new().first_success(attempts).await.unwrap_err();
    let messages: Vec<String> = errors.leaves().map(|l| l.error.to_string()).collect();
    assert_eq!(messages, ["attempt 1", "attempt 2", "attempt 3"]);

    let none: [std::future::Ready<Result<u32, std::io::Error>>; 0] = [];
    let empty = Group::new().first_success(none).await.unwrap_err();
    assert!(empty.is_empty());
}

#[tokio::test(start_paused = true)]
async fn cancelled_tells_why_the_group_is_cancelling() {
    async fn watcher(reasons: &Mutex<Vec<CancelReason>>) -> Result<(), std::io::Error> {
        let why = taskgroup::cancelled().await;
        reasons.lock().unwrap().push(why);
        Ok(())
    }
    async fn fail() -> Result<(), std::io::Error> {
        sleep(ms(10)).await;
        Err(std::io::Error::other("boom"))
    }
    let reasons = Mutex::new(Vec::new());

    let _ = async {
        group! {
            #![grace = ms(5)]
            _ = watcher(&reasons);
            _ = fail();
        }
        Ok::<_, ErrorGroup>(())
    }
    .await;

    let _ = async {
        group! {
            #![grace = ms(5)]
            #![timeout = ms(10)]
            _ = watcher(&reasons);
        }
        Ok::<_, ErrorGroup>(())
    }
    .await;

    let _ = Group::new()
        .grace(ms(5))
        .scope(async |s| {
            s.spawn(watcher(&reasons));
            // Let the watcher start: a task cancelled before its first poll never runs.
            sleep(ms(1)).await;
            s.cancel();
            Ok::<_, std::io::Error>(())
        })
        .await;

    // A nested group hears its parent's cancellation.
    let _ = async {
        group! {
            #![grace = ms(5)]
            inner = async {
                group! {
                    #![grace = ms(5)]
                    _ = watcher(&reasons);
                }
                Ok::<_, ErrorGroup>(())
            };
            _ = fail();
        }
        let () = inner;
        Ok::<_, ErrorGroup>(())
    }
    .await;

    assert_eq!(
        *reasons.lock().unwrap(),
        [
            CancelReason::SiblingFailed,
            CancelReason::Deadline,
            CancelReason::Cancelled,
            CancelReason::Parent,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn without_grace_cancellation_drops_at_once_and_cleanup_never_runs() {
    let cleaned = AtomicBool::new(false);
    let start = Instant::now();
    let result: Result<(), ErrorGroup> = async {
        group! {
            _ = async {
                taskgroup::cancelled().await;
                cleaned.store(true, Ordering::SeqCst);
                Ok::<_, std::io::Error>(())
            };
            _ = async {
                sleep(ms(10)).await;
                Err::<(), _>(std::io::Error::other("boom"))
            };
        }
        Ok(())
    }
    .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), ms(10));
    assert!(!cleaned.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn grace_keeps_values_and_cleanup_errors_and_drops_stubborn_children_at_the_deadline() {
    let start = Instant::now();
    let stubborn_dropped_at = Mutex::new(None);
    struct MarkDrop<'a>(&'a Mutex<Option<Duration>>, Instant);
    impl Drop for MarkDrop<'_> {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(self.1.elapsed());
        }
    }
    let result = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            let polite = s.spawn(async {
                taskgroup::cancelled().await;
                sleep(ms(20)).await; // async cleanup
                Ok::<_, std::io::Error>("cleaned up")
            });
            s.spawn(async {
                taskgroup::cancelled().await;
                sleep(ms(30)).await;
                Err::<(), _>(Timeout("flush during cleanup"))
            });
            let guard = MarkDrop(&stubborn_dropped_at, start);
            s.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await; // ignores cancellation
                Ok::<_, std::io::Error>(())
            });
            s.spawn(async {
                sleep(ms(10)).await;
                Err::<(), _>(std::io::Error::other("the failure"))
            });
            drop(polite);
            Ok::<_, std::io::Error>(())
        })
        .await;
    let errors = result.unwrap_err();
    let leaves: Vec<(String, String)> = errors
        .leaves()
        .map(|l| (l.task.to_string(), l.error.to_string()))
        .collect();
    // Errors beat cancellation: the cleanup error is kept, after the original one.
    assert_eq!(
        leaves,
        [
            ("task-3".to_owned(), "the failure".to_owned()),
            (
                "task-1".to_owned(),
                "flush during cleanup timed out".to_owned()
            ),
        ]
    );
    // The stubborn child was dropped when the grace period ran out: failure + grace.
    assert_eq!(*stubborn_dropped_at.lock().unwrap(), Some(ms(110)));
    assert_eq!(start.elapsed(), ms(110));
}

#[tokio::test(start_paused = true)]
async fn a_child_that_returns_ok_during_grace_keeps_its_value() {
    let result = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            let polite = s.spawn(async {
                tokio::select! {
                    () = sleep(Duration::from_secs(60)) => Ok::<_, std::io::Error>("finished"),
                    _ = taskgroup::cancelled() => {
                        sleep(ms(5)).await;
                        Ok("saved during cleanup")
                    }
                }
            });
            s.spawn(async move {
                sleep(ms(10)).await;
                s.cancel();
                Ok::<_, std::io::Error>(())
            });
            Ok::<_, std::io::Error>(polite.await)
        })
        .await
        .unwrap();
    assert_eq!(result, Ok("saved during cleanup"));
}

#[tokio::test(start_paused = true)]
async fn partial_results_reach_the_except_arm_through_a_borrowed_local() {
    async fn shard(n: u64, ok: &RefCell<Vec<(u64, u64)>>) -> Result<(), Timeout> {
        sleep(ms(10 * n)).await;
        if n == 3 {
            return Err(Timeout("shard 3"));
        }
        ok.borrow_mut().push((n, n * 100));
        Ok(())
    }
    let ok = RefCell::new(Vec::new());
    let mut report = None;
    async {
        group! {
            _ = for n in 0..6 => shard(n, &ok);
            except* Timeout as failed => {
                report = Some(format!("{} shard(s) failed; kept {}", failed.len(), ok.borrow().len()));
            }
        }
        Ok::<_, ErrorGroup>(())
    }
    .await
    .unwrap();
    assert_eq!(report.as_deref(), Some("1 shard(s) failed; kept 3"));
    assert_eq!(*ok.borrow(), [(0, 0), (1, 100), (2, 200)]);
}

#[tokio::test(start_paused = true)]
async fn unmatched_remainder_propagates_with_its_nesting() {
    async fn inner() -> Result<(), ErrorGroup> {
        group! {
            #![name = "inner"]
            a = async {
                sleep(ms(5)).await;
                Err::<(), _>(Timeout("a"))
            };
            b = async {
                sleep(ms(5)).await;
                Err::<(), _>(std::io::Error::other("b"))
            };
        }
        let ((), ()) = (a, b);
        Ok(())
    }
    async fn outer(io_seen: &Mutex<usize>) -> Result<(), ErrorGroup> {
        group! {
            #![name = "outer"]
            child = inner();
            except* std::io::Error as io => {
                *io_seen.lock().unwrap() = io.leaf_count();
            }
        }
        let () = child;
        Ok(())
    }
    let io_seen = Mutex::new(0);
    let remainder = outer(&io_seen).await.unwrap_err();
    assert_eq!(*io_seen.lock().unwrap(), 1);
    // What propagated is the outer group with the nested group inside, holding only `a`.
    assert_eq!(remainder.message(), "group `outer` failed");
    assert_eq!(remainder.len(), 1);
    let Member::Group { task, group } = &remainder.members()[0] else {
        panic!("expected a nested group, got {remainder:?}");
    };
    assert_eq!(task.to_string(), "child");
    assert_eq!(group.message(), "group `inner` failed");
    let leaves: Vec<String> = group.leaves().map(|l| l.task.to_string()).collect();
    assert_eq!(leaves, ["a"]);
    assert!(group.find::<Timeout>().is_some());
}

#[tokio::test(start_paused = true)]
async fn supervise_mode_in_a_scope_lets_siblings_finish_and_raises_all_errors() {
    let finished = AtomicUsize::new(0);
    let start = Instant::now();
    let errors = Group::new()
        .mode(Mode::Supervise)
        .scope(async |s| {
            for n in 1..=4u64 {
                let finished = &finished;
                s.spawn(async move {
                    sleep(ms(10 * n)).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                    if n % 2 == 0 {
                        return Err(std::io::Error::other(format!("task {n}")));
                    }
                    Ok(())
                });
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(finished.load(Ordering::SeqCst), 4);
    assert_eq!(start.elapsed(), ms(40));
    let messages: Vec<String> = errors.leaves().map(|l| l.error.to_string()).collect();
    assert_eq!(messages, ["task 2", "task 4"]);
}

#[tokio::test(start_paused = true)]
async fn settled_tasks_in_a_scope_carry_their_result() {
    let (good, bad) = Group::new()
        .mode(Mode::Settle)
        .scope(async |s| {
            let good = s.spawn(taskgroup::settled(async { Ok::<_, std::io::Error>(1) }));
            let bad = s.spawn(taskgroup::settled(async {
                Err::<u32, _>(std::io::Error::other("no"))
            }));
            Ok::<_, std::io::Error>((good.await, bad.await))
        })
        .await
        .unwrap();
    assert_eq!(good.unwrap().unwrap(), 1);
    assert_eq!(bad.unwrap().unwrap_err().to_string(), "no");
}
