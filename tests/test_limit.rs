//! `#![limit = N]`: a group-wide cap on tasks in flight, with lazy fan-outs.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use taskgroup::{ErrorGroup, group};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn limit_caps_a_fan_out_and_keeps_its_input_order() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let delays = vec![300u64, 100, 200, 50, 150, 100, 10];
    let start = Instant::now();
    group! {
        #![limit = 2]
        doubled = for d in &delays => tracked(tracker.clone(), *d, *d * 2);
    }
    let doubled: Vec<u64> = doubled;
    assert_eq!(doubled, [600, 200, 400, 100, 300, 200, 20]);
    assert_eq!(
        tracker.max(),
        2,
        "never more than 2 in flight, and 2 were used"
    );
    assert_eq!(tracker.started(), delays.len());
    // Greedy list scheduling on 2 slots: 0:[0..300] 1:[0..100] 2:[100..300] 3:[300..350]
    // 4:[300..450] 5:[350..450] 6:[450..460].
    assert_eq!(start.elapsed(), ms(460));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limit_is_group_wide_across_tasks_and_a_fan_out() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let start = Instant::now();
    group! {
        #![limit = 2]
        a = tracked(tracker.clone(), 300, 'a');
        b = tracked(tracker.clone(), 100, 'b');
        items = for i in 0..5u64 => tracked(tracker.clone(), 100, i);
        c = tracked(tracker.clone(), 100, 'c');
    }
    assert_eq!((a, b, c), ('a', 'b', 'c'));
    assert_eq!(items, [0, 1, 2, 3, 4]);
    assert_eq!(tracker.max(), 2);
    assert_eq!(tracker.started(), 8);
    // 1000 ms of work on 2 slots, in declaration order, a freed slot reused at once:
    // a [0..300], b [0..100], items 0..=4 [100..200] [200..300] [300..400] [300..400]
    // [400..500], c [400..500].
    assert_eq!(start.elapsed(), ms(500));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limit_applies_to_spawned_tasks_and_spawned_fan_outs() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let start = Instant::now();
    group! {
        #![limit = 3]
        s = spawn tracked(tracker.clone(), 100, 's');
        local = tracked(tracker.clone(), 100, 'l');
        items = for i in (0..7u64).rev() => spawn tracked(tracker.clone(), 10 * i, i);
    }
    assert_eq!((s, local), ('s', 'l'));
    assert_eq!(items, [6, 5, 4, 3, 2, 1, 0]);
    assert_eq!(tracker.max(), 3);
    assert_eq!(tracker.started(), 9);
    assert!(start.elapsed() >= ms(100));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limit_of_one_runs_tasks_one_after_another() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let start = Instant::now();
    group! {
        #![limit = 1]
        a = tracked(tracker.clone(), 100, 1u8);
        b = tracked(tracker.clone(), 200, 2u8);
        c = tracked(tracker.clone(), 300, 3u8);
    }
    assert_eq!((a, b, c), (1, 2, 3));
    assert_eq!(tracker.max(), 1);
    assert_eq!(start.elapsed(), ms(600));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limited_fan_out_pulls_its_iterator_only_when_a_slot_is_free() -> Result<(), ErrorGroup> {
    let log = Log::new();
    let tracker = Tracker::new();
    let pulled = (0..6u64).inspect(|i| log.push(format!("pulled {i}")));
    group! {
        #![limit = 2]
        items = for i in pulled => tracked(tracker.clone(), 100, i);
    }
    assert_eq!(items, [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        log.events(),
        [
            ("pulled 0".to_owned(), ms(0)),
            ("pulled 1".to_owned(), ms(0)),
            ("pulled 2".to_owned(), ms(100)),
            ("pulled 3".to_owned(), ms(100)),
            ("pulled 4".to_owned(), ms(200)),
            ("pulled 5".to_owned(), ms(200)),
        ]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limited_fan_out_over_an_endless_iterator_stays_bounded() {
    // An iterator that never ends: only `limit` items may be pulled ahead of completions.
    let pulled = Arc::new(Mutex::new(0usize));
    let counter = Arc::clone(&pulled);
    let endless = (0u64..).inspect(move |_| *counter.lock().unwrap() += 1);
    let tracker = Tracker::new();
    let outcome = tokio::time::timeout(ms(1050), async {
        group! {
            #![limit = 4]
            items = for i in endless => tracked(tracker.clone(), 100, i);
        }
        let _ = items;
        Ok::<_, ErrorGroup>(())
    })
    .await;
    assert!(outcome.is_err(), "an endless fan-out never finishes");
    // 10 waves of 4 completed by 1050 ms, plus the 4 in flight.
    assert_eq!(*pulled.lock().unwrap(), 44);
    assert_eq!(tracker.max(), 4);
}

#[tokio::test(start_paused = true)]
async fn group_builder_limit_caps_the_imperative_scope() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let start = Instant::now();
    let tracker_ref = &tracker;
    let values = taskgroup::Group::new()
        .limit(2)
        .scope(async |s| {
            let mut handles = Vec::new();
            for i in 0..6u64 {
                handles.push(s.spawn(tracked(tracker_ref.clone(), 100, i)));
            }
            let mut values = Vec::new();
            for handle in handles {
                values.push(handle.await);
            }
            Ok::<_, std::io::Error>(values)
        })
        .await?;
    assert_eq!(values, [Ok(0), Ok(1), Ok(2), Ok(3), Ok(4), Ok(5)]);
    assert_eq!(tracker.max(), 2);
    assert_eq!(tracker.started(), 6);
    assert_eq!(start.elapsed(), ms(300));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn group_builder_limit_caps_spawn_parallel_too() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let start = Instant::now();
    let tracker_ref = &tracker;
    taskgroup::Group::new()
        .limit(2)
        .scope(async |s| {
            for i in 0..4u64 {
                s.spawn_parallel(tracked(tracker_ref.clone(), 100, i));
            }
            s.spawn(tracked(tracker_ref.clone(), 100, 99));
            Ok::<_, std::io::Error>(())
        })
        .await?;
    assert_eq!(tracker.max(), 2);
    assert_eq!(tracker.started(), 5);
    assert_eq!(start.elapsed(), ms(300));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn limit_option_takes_an_expression() -> Result<(), ErrorGroup> {
    let tracker = Tracker::new();
    let cap = 3usize;
    group! {
        #![limit = cap]
        items = for i in 0..9u64 => tracked(tracker.clone(), 100, i);
    }
    assert_eq!(items.len(), 9);
    assert_eq!(tracker.max(), 3);
    Ok(())
}
