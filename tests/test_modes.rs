//! `#![mode = settle]` and `#![mode = supervise]`: every task runs to completion.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::Instant;

async fn fetch(n: u64) -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Ok(n)
}

async fn fail(n: u64) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Err(std::io::Error::other(format!("fail {n}")))
}

#[tokio::test(start_paused = true)]
async fn settle_binds_every_result_and_lets_every_task_finish() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    group! {
        #![mode = settle]
        a = fetch(10);
        b = fail(5);
        c = for n in [1u64, 2] => fail(n);
    }
    // The failure at 5 ms did not cancel the task that ends at 10 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    assert_eq!(a.unwrap(), 10);
    assert_eq!(b.unwrap_err().to_string(), "fail 5");
    let c: Vec<String> = c.into_iter().map(|r| r.unwrap_err().to_string()).collect();
    assert_eq!(c, ["fail 1", "fail 2"]);
    Ok(())
}

/// Without a timeout a settle-mode group raises nothing of its own: it needs no `Result`
/// around it.
async fn settled_without_result() -> (u64, String) {
    group! {
        #![mode = settle]
        a = fetch(10);
        b = fail(5);
    }
    (a.unwrap(), b.unwrap_err().to_string())
}

#[tokio::test(start_paused = true)]
async fn settle_without_a_timeout_needs_no_result_around_it() {
    assert_eq!(settled_without_result().await, (10, "fail 5".to_owned()));
}

async fn cleanup(n: u64) -> Result<u64, std::io::Error> {
    taskgroup::cancelled().await;
    tokio::time::sleep(Duration::from_millis(n)).await;
    Ok(n)
}

/// Cancelled by its enclosing group, a settle-mode group without a timeout hands what it has
/// to that group (here: the task its grace period cut off) and waits to be dropped.
async fn settle_inside_a_failing_group() -> Result<(), ErrorGroup> {
    group! {
        #![grace = Duration::from_millis(100)]
        _ = fail(10);
        settled = async {
            group! {
                #![mode = settle]
                #![grace = Duration::from_millis(50)]
                slow_cleanup = cleanup(200);
                ignores = fetch(1000);
            }
            Ok::<_, std::io::Error>((slow_cleanup.is_ok(), ignores.is_ok()))
        };
    }
    let _ = settled;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_settle_group_hands_its_errors_to_the_enclosing_group() {
    let start = Instant::now();
    let errors = settle_inside_a_failing_group().await.unwrap_err();
    let leaves: Vec<String> = errors
        .leaves()
        .map(|leaf| format!("{}: {}", leaf.task, leaf.error))
        .collect();
    assert_eq!(
        leaves,
        [
            "fail: fail 10".to_owned(),
            "slow_cleanup: dropped when the grace period of 50ms ran out, before it finished \
             cleaning up"
                .to_owned(),
        ]
    );
    // Filed under the task the settle group ran in.
    assert_eq!(errors.members()[1].task().to_string(), "settled");
    // The enclosing group dropped the waiting task when its own grace ended.
    assert_eq!(start.elapsed(), Duration::from_millis(110));
}

/// A root settle-mode group without a timeout whose task drops a nested group that had
/// collected an error: nothing encloses it and it has no `Result`, so the error is raised as
/// a panic, not lost.
async fn drops_a_failed_nested_group() -> u64 {
    group! {
        #![mode = settle]
        a = async {
            let nested = async {
                group! {
                    #![mode = supervise]
                    _ = fail(1);
                    _ = fetch(1000);
                }
                Ok::<_, ErrorGroup>(())
            };
            let _ = tokio::time::timeout(Duration::from_millis(10), nested).await;
            Ok::<_, std::io::Error>(7u64)
        };
    }
    a.unwrap()
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "received errors that none of its tasks returned")]
async fn errors_handed_up_to_a_root_settle_group_without_a_timeout_are_raised_as_a_panic() {
    drops_a_failed_nested_group().await;
}

async fn crawl(page: usize) -> Result<usize, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1 + (page % 7) as u64)).await;
    if page % 13 == 5 {
        return Err(std::io::Error::other(format!("page {page}: 503")));
    }
    Ok(page * 10)
}

/// The recipe for "keep going": a settle-mode fan-out keeps every success and names every
/// failure, with nothing rebuilt by hand.
#[tokio::test(start_paused = true)]
async fn keep_going_keeps_the_successes_and_names_the_failures() {
    group! {
        #![mode = settle]
        #![limit = 8]
        pages = for page in 0..100 => crawl(page);
    }
    assert_eq!(pages.name(), "pages");
    assert_eq!(pages.len(), 100);
    let (fetched, failed) = pages.split();
    let failed = failed.unwrap();
    let names: Vec<String> = failed.leaves().map(|leaf| leaf.task.to_string()).collect();
    let expected: Vec<String> = (0..100)
        .filter(|page| page % 13 == 5)
        .map(|page| format!("pages[{page}]"))
        .collect();
    assert_eq!(names, expected);
    assert_eq!(fetched.len(), 100 - expected.len());
    assert_eq!(fetched[..3], [0, 10, 20]);
    assert_eq!(
        failed.to_string(),
        "fan-out `pages` failed (8 sub-errors): pages[5], pages[18], pages[31] and 5 more"
    );
    // Typed: the failures are the tasks' own errors.
    let first: &std::io::Error = failed.leaves().next().unwrap().error;
    assert_eq!(first.to_string(), "page 5: 503");
}

#[tokio::test(start_paused = true)]
async fn a_settled_fan_out_without_failures_is_all_its_values() {
    group! {
        #![mode = settle]
        pages = for page in [1usize, 2, 3] => crawl(page);
    }
    // io::Error has no `PartialEq`: the results compare through their values.
    assert!(pages.iter().all(Result::is_ok));
    assert_eq!(pages.into_result().unwrap(), [10, 20, 30]);
}
