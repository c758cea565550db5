//! What the group's clock reports: the tasks a deadline cut off, with how long each had run,
//! and the tasks whose cleanup the end of the grace period cut short.

mod common;

use std::io;
use std::time::Duration;

use common::*;
use taskgroup::{Elapsed, ErrorGroup, GraceElapsed, Group, group};

fn elapsed(errors: &ErrorGroup) -> &Elapsed {
    errors.find::<Elapsed>().expect("an Elapsed leaf")
}

fn running(elapsed: &Elapsed) -> Vec<(String, Duration)> {
    elapsed
        .running()
        .iter()
        .map(|(task, ran)| (task.to_string(), *ran))
        .collect()
}

async fn slow_group() -> Result<(), ErrorGroup> {
    group! {
        #![timeout = ms(1000)]
        quick = ok_after(100, ());
        slow = ok_after(5000, ());
        pages = for i in 0..3u64 => ok_after(if i == 1 { 5000 } else { 10 }, i);
        _ = spawn async {
            tokio::time::sleep(ms(9000)).await;
            Ok::<_, io::Error>(())
        };
    }
    let ((), (), _) = (quick, slow, pages);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_deadline_names_the_tasks_still_running_and_how_long_each_ran() {
    let errors = slow_group().await.unwrap_err();
    let elapsed = elapsed(&errors);
    assert_eq!(elapsed.timeout(), ms(1000));
    assert_eq!(
        running(elapsed),
        [
            ("slow".to_owned(), ms(1000)),
            ("pages[1]".to_owned(), ms(1000)),
            ("_".to_owned(), ms(1000)),
        ]
    );
    assert_eq!(
        elapsed.to_string(),
        "deadline elapsed after 1s; still running: slow (1s), pages[1] (1s), _ (1s)"
    );
}

async fn limited() -> Result<Vec<u64>, ErrorGroup> {
    group! {
        #![timeout = ms(1000)]
        #![limit = 1]
        pages = for i in 0..3u64 => ok_after(600, i);
    }
    Ok(pages)
}

#[tokio::test(start_paused = true)]
async fn a_task_that_started_late_reports_the_time_it_ran() {
    let errors = limited().await.unwrap_err();
    // pages[0] ran from 0 to 600 ms; pages[1] started then, and had run 400 ms.
    assert_eq!(
        running(elapsed(&errors)),
        [("pages[1]".to_owned(), ms(400))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_scope_deadline_names_its_body_and_its_tasks() {
    let errors = Group::new()
        .timeout(ms(1000))
        .scope(async |s| {
            tokio::time::sleep(ms(300)).await;
            s.spawn_named("late", async {
                tokio::time::sleep(ms(5000)).await;
                Ok::<_, io::Error>(())
            });
            tokio::time::sleep(ms(5000)).await;
            Ok::<_, io::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(
        running(elapsed(&errors)),
        [("body".to_owned(), ms(1000)), ("late".to_owned(), ms(700))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_list_of_running_tasks_is_cut_in_the_message_but_kept_whole() {
    async fn many() -> Result<(), ErrorGroup> {
        group! {
            #![timeout = ms(10)]
            _ = for i in 0..8u64 => ok_after(1000, i);
        }
        Ok(())
    }
    let errors = many().await.unwrap_err();
    let elapsed = elapsed(&errors);
    assert_eq!(elapsed.running().len(), 8);
    assert_eq!(
        elapsed.to_string(),
        "deadline elapsed after 10ms; still running: ok_after[0] (10ms), ok_after[1] (10ms), \
         ok_after[2] (10ms), ok_after[3] (10ms), ok_after[4] (10ms) and 3 more"
    );
}

// ---------------------------------------------------------------------------------------------
// The end of the grace period
// ---------------------------------------------------------------------------------------------

/// A worker that flushes for `flush` after it is told to cancel.
async fn worker(log: &Log, name: &str, flush: u64) -> Result<(), io::Error> {
    let _guard = log.guard(name);
    taskgroup::cancelled().await;
    tokio::time::sleep(ms(flush)).await;
    log.push(format!("{name} flushed"));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_task_cut_off_while_cleaning_up_after_cancel_fails_the_scope_by_its_name() {
    let log = Log::new();
    let errors = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            s.spawn_named("slow flush", worker(&log, "slow", 150));
            s.spawn_named("quick flush", worker(&log, "quick", 50));
            s.spawn_named("ignores", async {
                tokio::time::sleep(ms(10_000)).await;
                Ok::<_, io::Error>(())
            });
            tokio::task::yield_now().await;
            s.cancel();
            Ok::<_, io::Error>(())
        })
        .await
        .unwrap_err();
    // Only the task that was told and cut off is an error; the one that ignored
    // cancellation is dropped as a plain cancellation.
    assert_eq!(task_names(&errors), ["slow flush"]);
    let leaf = errors.find::<GraceElapsed>().unwrap();
    assert_eq!(leaf.grace(), ms(100));
    assert_eq!(
        errors.leaves().next().unwrap().error.to_string(),
        "dropped when the grace period of 100ms ran out, before it finished cleaning up"
    );
    assert_eq!(
        log.events(),
        [
            at("quick flushed", 50),
            at("quick dropped", 50),
            at("slow dropped", 100),
        ]
    );
}

async fn failure_then_overrun(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![grace = ms(100)]
        _ = io_fail_after::<()>(10, "boom");
        flusher = worker(log, "flusher", 500);
        checker = async {
            // Checks instead of awaiting, and keeps working.
            while !taskgroup::is_cancelled() {
                tokio::time::sleep(ms(5)).await;
            }
            tokio::time::sleep(ms(500)).await;
            Ok::<_, io::Error>(())
        };
        pages = for i in 0..2u64 => async move {
            let _ = taskgroup::cancelled().await;
            tokio::time::sleep(ms(if i == 0 { 50 } else { 500 })).await;
            Ok::<_, io::Error>(i)
        };
    }
    let ((), (), _) = (flusher, checker, pages);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn after_a_failure_every_task_told_and_cut_off_is_reported_after_the_failure() {
    let log = Log::new();
    let errors = failure_then_overrun(&log).await.unwrap_err();
    assert_eq!(
        task_names(&errors),
        ["io_fail_after", "flusher", "checker", "pages[1]"]
    );
    assert_eq!(
        errors
            .leaves()
            .filter(|l| l.error.is::<GraceElapsed>())
            .count(),
        3
    );
}

async fn deadline_then_overrun(log: &Log) -> Result<(), ErrorGroup> {
    group! {
        #![timeout = ms(1000)]
        #![grace = ms(100)]
        flusher = worker(log, "flusher", 500);
    }
    let () = flusher;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn after_a_deadline_a_task_cut_off_while_cleaning_up_is_reported_too() {
    let log = Log::new();
    let errors = deadline_then_overrun(&log).await.unwrap_err();
    assert_eq!(task_names(&errors), ["deadline", "flusher"]);
    assert_eq!(
        running(elapsed(&errors)),
        [("flusher".to_owned(), ms(1000))]
    );
    assert!(errors.contains::<GraceElapsed>());
}

#[tokio::test(start_paused = true)]
async fn a_task_that_finishes_its_cleanup_within_the_grace_is_no_error() {
    let log = Log::new();
    Group::new()
        .grace(ms(100))
        .scope(async |s| {
            s.spawn_named("flush", worker(&log, "flush", 90));
            tokio::task::yield_now().await;
            s.cancel();
            Ok::<_, io::Error>(())
        })
        .await
        .unwrap();
    assert_eq!(
        log.events(),
        [at("flush flushed", 90), at("flush dropped", 90)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_spawned_task_cut_off_while_cleaning_up_is_reported_when_its_abort_is_joined() {
    let errors = Group::new()
        .grace(ms(100))
        .scope(async |s| {
            s.spawn_parallel(async {
                taskgroup::cancelled().await;
                tokio::time::sleep(ms(150)).await;
                Ok::<_, io::Error>(())
            });
            s.spawn_parallel(async {
                taskgroup::cancelled().await;
                tokio::time::sleep(ms(50)).await;
                Ok::<_, io::Error>(())
            });
            tokio::task::yield_now().await;
            s.cancel();
            Ok::<_, io::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(task_names(&errors), ["task-0"]);
    assert!(errors.contains::<GraceElapsed>());
}
