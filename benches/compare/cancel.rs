//! Fail-fast cancellation: N pending siblings, then one task that waits until every sibling is
//! alive and fails. Measured: from the failure to the return of the group (or of the peer's
//! equivalent), and how many siblings are still alive at that return.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::Either;
use futures::stream::{FuturesUnordered, StreamExt};
use taskgroup::{ErrorGroup, group};
use tokio::task::{JoinSet, yield_now};

use crate::harness::{Flavor, Measure, Report, Res, Sample, Target, Workload, drive, variant};

#[derive(Debug, Default)]
pub(super) struct Probe {
    alive: AtomicUsize,
    failed_at: Mutex<Option<Instant>>,
}

#[derive(Debug)]
struct Alive(Arc<Probe>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A sibling that never finishes on its own; counted while alive.
async fn sibling(probe: Arc<Probe>) -> Res<()> {
    probe.alive.fetch_add(1, Ordering::SeqCst);
    let _alive = Alive(probe);
    std::future::pending().await
}

/// Fails once all `n` siblings are alive, stamping the instant of the failure.
async fn failer(probe: Arc<Probe>, n: usize) -> Res<()> {
    while probe.alive.load(Ordering::SeqCst) < n {
        yield_now().await;
    }
    *probe.failed_at.lock().expect("probe") = Some(Instant::now());
    Err(io::Error::other("boom"))
}

/// Runs `body`, which must fail, and measures from the failure to its return.
async fn measure<F, E>(probe: Arc<Probe>, body: F) -> Sample
where
    F: Future<Output = Result<(), E>>,
{
    let result = body.await;
    let returned = Instant::now();
    let alive = probe.alive.load(Ordering::SeqCst);
    assert!(result.is_err(), "the failure was lost");
    let failed_at = probe.failed_at.lock().expect("probe").expect("failed");
    Sample {
        elapsed: returned - failed_at,
        alive,
    }
}

async fn taskgroup_in_place(probe: Arc<Probe>, n: usize) -> Result<(), ErrorGroup> {
    group! {
        _ = for _ in 0..n => sibling(probe.clone());
        _ = failer(probe.clone(), n);
    }
    Ok(())
}

async fn taskgroup_spawned(probe: Arc<Probe>, n: usize) -> Result<(), ErrorGroup> {
    group! {
        _ = for _ in 0..n => spawn sibling(probe.clone());
        _ = spawn failer(probe.clone(), n);
    }
    Ok(())
}

async fn futures_unordered(probe: Arc<Probe>, n: usize) -> Res<()> {
    let mut running = FuturesUnordered::new();
    for _ in 0..n {
        running.push(Either::Left(sibling(probe.clone())));
    }
    running.push(Either::Right(failer(probe.clone(), n)));
    while let Some(result) = running.next().await {
        result?;
    }
    Ok(())
}

fn spawn_all(set: &mut JoinSet<Res<()>>, probe: &Arc<Probe>, n: usize) {
    for _ in 0..n {
        set.spawn(sibling(probe.clone()));
    }
    set.spawn(failer(probe.clone(), n));
}

async fn join_set_drain(probe: Arc<Probe>, n: usize) -> Res<()> {
    let mut set = JoinSet::new();
    spawn_all(&mut set, &probe, n);
    let mut failure = None;
    while let Some(joined) = set.join_next().await {
        if let Err(error) = joined.expect("join") {
            failure = Some(error);
            break;
        }
    }
    set.abort_all();
    while set.join_next().await.is_some() {}
    failure.map_or(Ok(()), Err)
}

async fn join_set_drop(probe: Arc<Probe>, n: usize) -> Res<()> {
    let mut set = JoinSet::new();
    spawn_all(&mut set, &probe, n);
    while let Some(joined) = set.join_next().await {
        joined.expect("join")?; // dropping the set aborts the rest, without waiting
    }
    Ok(())
}

macro_rules! cancel {
    ($rt:expr, $n:expr, $body:path) => {{
        let n = $n;
        drive($rt, async move {
            let probe = Arc::new(Probe::default());
            measure(probe.clone(), $body(probe, n)).await
        })
    }};
}

pub(super) fn workload() -> Workload {
    let mut drop_only = variant("JoinSet, drop without drain", Flavor::Multi, |rt, n| {
        cancel!(rt, n, join_set_drop)
    });
    drop_only.structured = false;
    Workload {
        key: "cancel",
        title: "fail-fast cancellation: pending siblings, one fails; time from the failure to the return",
        unit: "run",
        n: 10_000,
        smoke_n: 100,
        report: Report::PerRun,
        reference: "FuturesUnordered",
        targets: vec![
            Target {
                taskgroup: "taskgroup, in place",
                peer: "FuturesUnordered",
                max: 1.0,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup, in place",
                peer: "JoinSet, abort_all + drain",
                max: 1.0,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup, spawn",
                peer: "JoinSet, abort_all + drain",
                max: 1.0,
                measure: Measure::Time,
            },
        ],
        variants: vec![
            variant("taskgroup, in place", Flavor::Current, |rt, n| {
                cancel!(rt, n, taskgroup_in_place)
            }),
            variant("FuturesUnordered", Flavor::Current, |rt, n| {
                cancel!(rt, n, futures_unordered)
            }),
            variant("taskgroup, spawn", Flavor::Multi, |rt, n| {
                cancel!(rt, n, taskgroup_spawned)
            }),
            variant("JoinSet, abort_all + drain", Flavor::Multi, |rt, n| {
                cancel!(rt, n, join_set_drain)
            }),
            drop_only,
        ],
        rss_sizes: vec![],
        callgrind_n: None,
    }
}
