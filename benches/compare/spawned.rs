//! Spawned fan-out: N spawned tasks that yield once and return their index; the results in
//! input order.

use std::time::Instant;

use taskgroup::{ErrorGroup, group};
use tokio::task::{JoinHandle, JoinSet};

use crate::fan_out::{check_ordered, item};
use crate::harness::{Flavor, Measure, Report, Res, Sample, Target, Workload, drive, variant};

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

async fn taskgroup(n: usize) -> Result<Vec<usize>, ErrorGroup> {
    group! {
        out = for i in 0..n => spawn item(i);
    }
    Ok(out)
}

async fn join_set(n: usize) -> Res<Vec<usize>> {
    let mut set = JoinSet::new();
    for i in 0..n {
        set.spawn(item(i));
    }
    let mut out = vec![0; n];
    while let Some(joined) = set.join_next().await {
        let v = joined.expect("join")?;
        out[v] = v;
    }
    Ok(out)
}

async fn handles(n: usize) -> Res<Vec<usize>> {
    let handles: Vec<JoinHandle<Res<usize>>> = (0..n).map(|i| tokio::spawn(item(i))).collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("join")?);
    }
    Ok(out)
}

pub(super) fn workload() -> Workload {
    Workload {
        key: "spawned",
        title: "spawned fan-out: spawned tasks that yield once and return their index, results in input order",
        unit: "task",
        n: 100_000,
        smoke_n: 1_000,
        report: Report::PerUnit,
        reference: "JoinSet",
        targets: vec![
            Target {
                taskgroup: "taskgroup for-fan-out, spawn",
                peer: "JoinSet",
                max: 1.0,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup for-fan-out, spawn",
                peer: "JoinSet",
                max: 1.1,
                measure: Measure::PeakRss,
            },
        ],
        variants: vec![
            variant("taskgroup for-fan-out, spawn", Flavor::Multi, |rt, n| {
                fan!(rt, n, taskgroup)
            }),
            variant("JoinSet", Flavor::Multi, |rt, n| fan!(rt, n, join_set)),
            variant("Vec<JoinHandle>", Flavor::Multi, |rt, n| {
                fan!(rt, n, handles)
            }),
        ],
        rss_sizes: vec![100_000],
        callgrind_n: Some(10_000),
    }
}
