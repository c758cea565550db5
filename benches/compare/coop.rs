//! In-place fan-out whose items await a tokio resource (a `oneshot` that is already sent), so
//! every completion spends tokio's coop budget. It has no target of its own: it guards against
//! the quadratic walk that a spent budget causes in `FuturesUnordered` (BENCHMARKS.md).

use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use futures_concurrency::prelude::*;
use taskgroup::{ErrorGroup, group};
use tokio::sync::oneshot;

use crate::fan_out::check_ordered;
use crate::harness::{Flavor, Report, Res, Sample, Workload, drive, variant};

async fn item(rx: oneshot::Receiver<usize>) -> Res<usize> {
    Ok(rx.await.expect("sent"))
}

fn ready(n: usize) -> Vec<oneshot::Receiver<usize>> {
    (0..n)
        .map(|i| {
            let (tx, rx) = oneshot::channel();
            tx.send(i).expect("receiver alive");
            rx
        })
        .collect()
}

macro_rules! coop {
    ($rt:expr, $n:expr, $body:expr) => {{
        let (n, body) = ($n, $body);
        drive($rt, async move {
            let receivers = ready(n);
            let start = Instant::now();
            let out: Vec<usize> = body(receivers).await.expect("fan-out");
            let elapsed = start.elapsed();
            check_ordered(&out, n);
            Sample::timed(elapsed)
        })
    }};
}

// `group!` expands `for rx in rxs => f(rx)` into a closure that clippy calls redundant.
#[allow(clippy::redundant_closure)]
async fn taskgroup(receivers: Vec<oneshot::Receiver<usize>>) -> Result<Vec<usize>, ErrorGroup> {
    group! {
        out = for rx in receivers => item(rx);
    }
    Ok(out)
}

async fn futures_unordered(receivers: Vec<oneshot::Receiver<usize>>) -> Res<Vec<usize>> {
    let n = receivers.len();
    let mut running: FuturesUnordered<_> = receivers.into_iter().map(item).collect();
    let mut out = vec![0; n];
    while let Some(v) = running.next().await {
        let v = v?;
        out[v] = v;
    }
    Ok(out)
}

pub(super) fn workload() -> Workload {
    Workload {
        key: "coop",
        title: "in-place fan-out over a tokio resource: each task awaits a ready oneshot (no target; guards against quadratic polling)",
        unit: "task",
        n: 20_000,
        smoke_n: 1_000,
        report: Report::PerUnit,
        reference: "FuturesUnordered",
        targets: vec![],
        variants: vec![
            variant("taskgroup for-fan-out", Flavor::Current, |rt, n| {
                coop!(rt, n, taskgroup)
            }),
            variant("FuturesUnordered", Flavor::Current, |rt, n| {
                coop!(rt, n, futures_unordered)
            }),
            variant("futures-concurrency join", Flavor::Current, |rt, n| {
                coop!(
                    rt,
                    n,
                    |receivers: Vec<oneshot::Receiver<usize>>| async move {
                        receivers
                            .into_iter()
                            .map(item)
                            .collect::<Vec<_>>()
                            .join()
                            .await
                            .into_iter()
                            .collect::<Res<Vec<usize>>>()
                    }
                )
            }),
        ],
        rss_sizes: vec![],
        callgrind_n: None,
    }
}
