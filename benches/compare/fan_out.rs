//! In-place fan-out: N tasks that yield once and return their index; the results in input
//! order. The task (`item`) and the order check (`check_ordered`) also serve the spawned fan-out
//! (`spawned`) and the fan-out over a tokio resource (`coop`).

use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use futures_concurrency::prelude::*;
use taskgroup::{ErrorGroup, group};
use tokio::task::yield_now;

use crate::harness::{Flavor, Measure, Report, Res, Sample, Target, Workload, drive, variant};

pub(crate) async fn item(i: usize) -> Res<usize> {
    yield_now().await;
    Ok(i)
}

pub(crate) fn check_ordered(out: &[usize], n: usize) {
    assert_eq!(out.len(), n);
    assert!(out.iter().enumerate().all(|(i, &v)| i == v), "out of order");
}

macro_rules! fan {
    ($rt:expr, $n:expr, $body:expr) => {{
        let (n, body) = ($n, $body);
        drive($rt, async move {
            let start = Instant::now();
            let out: Vec<usize> = body(n).await.expect("fan-out");
            let elapsed = start.elapsed();
            check_ordered(&out, n);
            Sample::timed(elapsed)
        })
    }};
}

// `group!` expands `for i in 0..n => f(i)` into a closure that clippy calls redundant.
#[allow(clippy::redundant_closure)]
async fn taskgroup(n: usize) -> Result<Vec<usize>, ErrorGroup> {
    group! {
        out = for i in 0..n => item(i);
    }
    Ok(out)
}

async fn futures_unordered(n: usize) -> Res<Vec<usize>> {
    let mut running: FuturesUnordered<_> = (0..n).map(item).collect();
    let mut out = vec![0; n];
    while let Some(v) = running.next().await {
        let v = v?;
        out[v] = v;
    }
    Ok(out)
}

pub(super) fn workload() -> Workload {
    Workload {
        key: "fanout",
        title: "in-place fan-out: tasks that yield once and return their index, results in input order",
        unit: "task",
        n: 100_000,
        smoke_n: 1_000,
        report: Report::PerUnit,
        reference: "FuturesUnordered",
        targets: vec![
            Target {
                taskgroup: "taskgroup for-fan-out",
                peer: "FuturesUnordered",
                max: 1.0,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup for-fan-out",
                peer: "FuturesUnordered",
                max: 1.0,
                measure: Measure::Instructions,
            },
        ],
        variants: vec![
            variant("taskgroup for-fan-out", Flavor::Current, |rt, n| {
                fan!(rt, n, taskgroup)
            }),
            variant("FuturesUnordered", Flavor::Current, |rt, n| {
                fan!(rt, n, futures_unordered)
            }),
            variant("futures::join_all", Flavor::Current, |rt, n| {
                fan!(rt, n, |n| async move {
                    futures::future::join_all((0..n).map(item))
                        .await
                        .into_iter()
                        .collect::<Res<Vec<usize>>>()
                })
            }),
            variant("futures::try_join_all", Flavor::Current, |rt, n| {
                fan!(rt, n, |n| futures::future::try_join_all((0..n).map(item)))
            }),
            variant("futures-concurrency join", Flavor::Current, |rt, n| {
                fan!(rt, n, |n| async move {
                    (0..n)
                        .map(item)
                        .collect::<Vec<_>>()
                        .join()
                        .await
                        .into_iter()
                        .collect::<Res<Vec<usize>>>()
                })
            }),
            variant("futures-concurrency try_join", Flavor::Current, |rt, n| {
                fan!(rt, n, |n| (0..n).map(item).collect::<Vec<_>>().try_join())
            }),
        ],
        rss_sizes: vec![100_000],
        callgrind_n: Some(20_000),
    }
}
