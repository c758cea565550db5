//! Bounded fan-out: N items, at most 64 in flight; each yields once. Results are discarded
//! (`_ =`), so memory should be flat in N.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt, TryStreamExt};
use taskgroup::{ErrorGroup, group};
use tokio::task::{JoinHandle, yield_now};

use crate::harness::{Flavor, Measure, Report, Res, Sample, Target, Workload, drive, variant};

const LIMIT: usize = 64;

async fn work(i: usize) -> Res<()> {
    yield_now().await;
    black_box(i);
    Ok(())
}

// `group!` expands `for i in 0..n => f(i)` into a closure that clippy calls redundant.
#[allow(clippy::redundant_closure)]
async fn taskgroup(n: usize) -> Result<(), ErrorGroup> {
    group! {
        #![limit = LIMIT]
        _ = for i in 0..n => work(i);
    }
    Ok(())
}

async fn taskgroup_spawned(n: usize) -> Result<(), ErrorGroup> {
    group! {
        #![limit = LIMIT]
        _ = for i in 0..n => spawn work(i);
    }
    Ok(())
}

async fn buffer_unordered(n: usize) -> Res<()> {
    stream::iter(0..n)
        .map(work)
        .buffer_unordered(LIMIT)
        .try_for_each(|()| std::future::ready(Ok(())))
        .await
}

async fn semaphore(n: usize) -> Res<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(LIMIT));
    let handles: Vec<JoinHandle<Res<()>>> = (0..n)
        .map(|i| {
            let permits = permits.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire().await.expect("semaphore");
                work(i).await
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("join")?;
    }
    Ok(())
}

macro_rules! bounded {
    ($rt:expr, $n:expr, $body:path) => {{
        let n = $n;
        drive($rt, async move {
            let start = Instant::now();
            $body(n).await.expect("bounded fan-out");
            Sample::timed(start.elapsed())
        })
    }};
}

pub(super) fn workload() -> Workload {
    Workload {
        key: "bounded",
        title: "bounded fan-out: items that yield once, limit = 64, results discarded",
        unit: "item",
        n: 1_000_000,
        smoke_n: 10_000,
        report: Report::PerUnit,
        reference: "buffer_unordered",
        targets: vec![
            Target {
                taskgroup: "taskgroup for-fan-out, limit",
                peer: "buffer_unordered",
                max: 1.2,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup for-fan-out, limit",
                peer: "buffer_unordered",
                max: 2.0,
                measure: Measure::PeakRss,
            },
        ],
        variants: vec![
            variant("taskgroup for-fan-out, limit", Flavor::Current, |rt, n| {
                bounded!(rt, n, taskgroup)
            }),
            variant("buffer_unordered", Flavor::Current, |rt, n| {
                bounded!(rt, n, buffer_unordered)
            }),
            variant(
                "taskgroup for-fan-out, spawn, limit",
                Flavor::Multi,
                |rt, n| bounded!(rt, n, taskgroup_spawned),
            ),
            variant("spawn-all + Semaphore", Flavor::Multi, |rt, n| {
                bounded!(rt, n, semaphore)
            }),
        ],
        rss_sizes: vec![10_000, 100_000, 1_000_000],
        callgrind_n: Some(20_000),
    }
}
