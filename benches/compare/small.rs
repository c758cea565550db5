//! Small group: three heterogeneous tasks (u64, String, bool), each yields once; N groups in
//! sequence.

use std::hint::black_box;
use std::time::Instant;

use taskgroup::{ErrorGroup, group};
use tokio::task::{JoinSet, yield_now};

use crate::harness::{Flavor, Measure, Report, Res, Sample, Target, Workload, drive, variant};

pub(super) async fn a(i: u64) -> Res<u64> {
    yield_now().await;
    Ok(i)
}
pub(super) async fn b(i: u64) -> Res<String> {
    yield_now().await;
    Ok(if i.is_multiple_of(2) { "even" } else { "odd" }.to_owned())
}
pub(super) async fn c(i: u64) -> Res<bool> {
    yield_now().await;
    Ok(i.is_multiple_of(3))
}

fn check(i: u64, (x, y, z): &(u64, String, bool)) {
    debug_assert_eq!(*x, i);
    debug_assert_eq!(y.len(), if i.is_multiple_of(2) { 4 } else { 3 });
    debug_assert_eq!(*z, i.is_multiple_of(3));
    let _ = (i, x, y, z);
}

async fn taskgroup_group(i: u64) -> Result<(u64, String, bool), ErrorGroup> {
    group! {
        x = a(i);
        y = b(i);
        z = c(i);
    }
    Ok((x, y, z))
}

async fn taskgroup_spawned(i: u64) -> Result<(u64, String, bool), ErrorGroup> {
    group! {
        x = spawn a(i);
        y = spawn b(i);
        z = spawn c(i);
    }
    Ok((x, y, z))
}

#[derive(Debug)]
enum Out {
    A(u64),
    B(String),
    C(bool),
}

async fn join_set(i: u64) -> Res<(u64, String, bool)> {
    let mut set = JoinSet::new();
    set.spawn(async move { a(i).await.map(Out::A) });
    set.spawn(async move { b(i).await.map(Out::B) });
    set.spawn(async move { c(i).await.map(Out::C) });
    let (mut x, mut y, mut z) = (None, None, None);
    while let Some(joined) = set.join_next().await {
        match joined.expect("join")? {
            Out::A(v) => x = Some(v),
            Out::B(v) => y = Some(v),
            Out::C(v) => z = Some(v),
        }
    }
    Ok((x.expect("a"), y.expect("b"), z.expect("c")))
}

macro_rules! sequence {
    ($rt:expr, $n:expr, |$i:ident| $group:expr) => {{
        let n = $n as u64;
        drive($rt, async move {
            let start = Instant::now();
            for $i in 0..n {
                let out = black_box($group.await.expect("group"));
                check($i, &out);
            }
            Sample::timed(start.elapsed())
        })
    }};
}

pub(super) fn workload() -> Workload {
    Workload {
        key: "small",
        title: "small group: 3 heterogeneous tasks that yield once, groups in sequence",
        unit: "group",
        n: 100_000,
        smoke_n: 100,
        report: Report::PerUnit,
        reference: "tokio::try_join!",
        targets: vec![
            Target {
                taskgroup: "taskgroup group!",
                peer: "tokio::try_join!",
                max: 1.0,
                measure: Measure::Time,
            },
            Target {
                taskgroup: "taskgroup group!",
                peer: "tokio::try_join!",
                max: 1.0,
                measure: Measure::Instructions,
            },
        ],
        variants: vec![
            variant("taskgroup group!", Flavor::Current, |rt, n| {
                sequence!(rt, n, |i| taskgroup_group(i))
            }),
            variant("tokio::try_join!", Flavor::Current, |rt, n| {
                sequence!(rt, n, |i| async move { tokio::try_join!(a(i), b(i), c(i)) })
            }),
            variant("futures::try_join3", Flavor::Current, |rt, n| {
                sequence!(rt, n, |i| futures::future::try_join3(a(i), b(i), c(i)))
            }),
            variant("JoinSet", Flavor::Current, |rt, n| {
                sequence!(rt, n, |i| join_set(i))
            }),
            variant("taskgroup group!, 3 x spawn", Flavor::Multi, |rt, n| {
                sequence!(rt, n, |i| taskgroup_spawned(i))
            }),
            variant("JoinSet (multi-thread)", Flavor::Multi, |rt, n| {
                sequence!(rt, n, |i| join_set(i))
            }),
        ],
        rss_sizes: vec![],
        callgrind_n: Some(10_000),
    }
}
