//! taskgroup side by side with its peers, in one run, as ratios (BENCHMARKS.md).
//!
//! ```text
//! cargo bench --bench compare                  # every workload, timed, with peak RSS
//! cargo bench --bench compare -- small cancel  # only the workloads whose key contains a word
//! cargo test  --bench compare                  # smoke: each workload once at a small N, checked
//! cargo bench --bench compare -- --smoke       # the same smoke run, in release
//! TASKGROUP_BENCH_COMPILE=1 cargo bench --bench compare -- compile   # compile time (slow: opt-in)
//! cargo bench --bench compare -- --callgrind   # instructions per unit under valgrind
//! cargo bench --bench compare -- --allocs      # heap allocations per unit under valgrind
//! ```
//!
//! Environment: `TASKGROUP_BENCH_ROUNDS` (timed rounds per variant, default 7; the median is
//! reported), `TASKGROUP_BENCH_SMOKE=1` (smoke run), `TASKGROUP_BENCH_COMPILE=1` (compile-time bench),
//! `TASKGROUP_BENCH_NO_RSS=1` (skip the peak-RSS child processes).
//!
//! Method. Every variant of a workload is timed on the same runtime, in the same process,
//! round-robin (one warm-up round, then `ROUNDS` rounds), and the median per unit is printed
//! with its ratio to the workload's reference peer. In-place workloads run on a
//! current-thread runtime, spawned ones on a 2-worker multi-thread runtime; the measured code
//! runs as a spawned task in both (as in a server), and no I/O or time driver is enabled, so
//! the per-yield cost of the runtime is the bare scheduler's. Peak RSS (`VmHWM`) is measured
//! in a fresh child process per variant (this binary re-executed with `--one`), so one peer's
//! memory never pollutes another's.

use std::future::Future;
use std::hint::black_box;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::Either;
use futures::stream::{self, FuturesUnordered, StreamExt, TryStreamExt};
use futures_concurrency::prelude::*;
use taskgroup::{ErrorGroup, group};
use tokio::runtime::Runtime;
use tokio::task::{JoinHandle, JoinSet, yield_now};

type Res<T> = Result<T, io::Error>;

// ---------------------------------------------------------------------------------------------
// The harness.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    /// Current-thread runtime: in-place workloads.
    Current,
    /// Multi-thread runtime with 2 workers: spawned workloads.
    Multi,
}

impl Flavor {
    fn label(self) -> &'static str {
        match self {
            Flavor::Current => "current-thread",
            Flavor::Multi => "multi-thread (2 workers)",
        }
    }

    fn runtime(self) -> Runtime {
        match self {
            Flavor::Current => tokio::runtime::Builder::new_current_thread().build(),
            Flavor::Multi => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build(),
        }
        .expect("tokio runtime")
    }
}

/// One measurement: the time of the measured part, and how many tasks were still alive when
/// the measured code returned (cancellation only).
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    elapsed: Duration,
    alive: usize,
}

impl Sample {
    fn timed(elapsed: Duration) -> Self {
        Sample { elapsed, alive: 0 }
    }
}

type RunFn = fn(&Runtime, usize) -> Sample;

#[derive(Debug)]
struct Variant {
    name: &'static str,
    flavor: Flavor,
    run: RunFn,
    /// A structured variant must leave no task alive at return (checked in smoke runs).
    structured: bool,
}

const fn variant(name: &'static str, flavor: Flavor, run: RunFn) -> Variant {
    Variant {
        name,
        flavor,
        run,
        structured: true,
    }
}

/// A performance target: `taskgroup` at most `max` times `peer`.
#[derive(Debug)]
struct Target {
    taskgroup: &'static str,
    peer: &'static str,
    max: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Report {
    /// Nanoseconds per unit of work.
    PerUnit,
    /// Microseconds per run (the cancellation latency).
    PerRun,
}

#[derive(Debug)]
struct Workload {
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    n: usize,
    smoke_n: usize,
    report: Report,
    /// The peer every row's ratio is given against.
    reference: &'static str,
    targets: Vec<Target>,
    variants: Vec<Variant>,
    /// Sizes at which peak RSS (and a single-shot time) is taken in child processes.
    rss_sizes: Vec<usize>,
    /// `--callgrind`: instructions per unit are taken between this N and twice it.
    callgrind_n: Option<usize>,
}

/// Drives `fut` to completion as a spawned task of `rt`.
fn drive<F>(rt: &Runtime, fut: F) -> Sample
where
    F: Future<Output = Sample> + Send + 'static,
{
    rt.block_on(async { tokio::spawn(fut).await.expect("the measured task panicked") })
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn per_unit(workload: &Workload, sample: Sample, n: usize) -> f64 {
    match workload.report {
        Report::PerUnit => sample.elapsed.as_nanos() as f64 / n as f64,
        Report::PerRun => sample.elapsed.as_nanos() as f64 / 1000.0,
    }
}

fn value_label(workload: &Workload) -> String {
    match workload.report {
        Report::PerUnit => format!("ns/{}", workload.unit),
        Report::PerRun => "µs failure→return".to_owned(),
    }
}

#[derive(Debug)]
struct Row {
    median: f64,
    min: f64,
    max: f64,
    alive: usize,
}

fn rounds() -> usize {
    std::env::var("TASKGROUP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&k: &usize| k > 0)
        .unwrap_or(7)
}

fn time_workload(workload: &Workload, runtimes: &Runtimes) -> Vec<Row> {
    let k = rounds();
    let mut values = vec![Vec::with_capacity(k); workload.variants.len()];
    let mut alive = vec![0usize; workload.variants.len()];
    for round in 0..=k {
        for (i, v) in workload.variants.iter().enumerate() {
            let sample = (v.run)(runtimes.get(v.flavor), workload.n);
            if round > 0 {
                // Round 0 warms up caches, the allocator and the runtime's workers.
                values[i].push(per_unit(workload, sample, workload.n));
                alive[i] = alive[i].max(sample.alive);
            }
        }
    }
    values
        .into_iter()
        .zip(alive)
        .map(|(mut vals, alive)| {
            vals.sort_by(f64::total_cmp);
            Row {
                median: median(&vals),
                min: vals[0],
                max: vals[vals.len() - 1],
                alive,
            }
        })
        .collect()
}

#[derive(Debug)]
struct Runtimes {
    current: Runtime,
    multi: Runtime,
}

impl Runtimes {
    fn new() -> Self {
        Runtimes {
            current: Flavor::Current.runtime(),
            multi: Flavor::Multi.runtime(),
        }
    }

    fn get(&self, flavor: Flavor) -> &Runtime {
        match flavor {
            Flavor::Current => &self.current,
            Flavor::Multi => &self.multi,
        }
    }
}

fn index_of(workload: &Workload, name: &str) -> usize {
    workload
        .variants
        .iter()
        .position(|v| v.name == name)
        .unwrap_or_else(|| panic!("{}: no variant named {name}", workload.key))
}

fn print_table(workload: &Workload, rows: &[Row]) {
    let reference = rows[index_of(workload, workload.reference)].median;
    let label = value_label(workload);
    println!();
    println!(
        "### {} (`{}`), N = {}, median of {} rounds",
        workload.title,
        workload.key,
        workload.n,
        rounds()
    );
    println!();
    let alive_col = workload.report == Report::PerRun;
    if alive_col {
        println!(
            "| variant | runtime | {label} | min | max | alive at return | vs {} |",
            workload.reference
        );
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    } else {
        println!(
            "| variant | runtime | {label} | min | max | vs {} |",
            workload.reference
        );
        println!("| --- | --- | ---: | ---: | ---: | ---: |");
    }
    for (v, row) in workload.variants.iter().zip(rows) {
        let ratio = row.median / reference;
        if alive_col {
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.2}x |",
                v.name,
                v.flavor.label(),
                row.median,
                row.min,
                row.max,
                row.alive,
                ratio
            );
        } else {
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.2}x |",
                v.name,
                v.flavor.label(),
                row.median,
                row.min,
                row.max,
                ratio
            );
        }
    }
    println!();
    for target in &workload.targets {
        let c = &rows[index_of(workload, target.taskgroup)];
        let p = rows[index_of(workload, target.peer)].median;
        let ratio = c.median / p;
        let alive_ok = c.alive == 0;
        let met = ratio <= target.max && alive_ok;
        println!(
            "target: {} <= {:.1}x {}: {:.2}x{} -> {}",
            target.taskgroup,
            target.max,
            target.peer,
            ratio,
            if alive_col {
                format!(", {} alive at return", c.alive)
            } else {
                String::new()
            },
            if met { "MET" } else { "MISSED" }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Peak RSS: this binary re-executed with `--one KEY VARIANT N`.

/// `VmHWM` of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child side: runs one variant once and prints one parseable line.
fn run_one(workloads: &[Workload], key: &str, variant: &str, n: usize) {
    let sample = if key == "baseline" {
        let flavor = if variant == "multi" {
            Flavor::Multi
        } else {
            Flavor::Current
        };
        drive(&flavor.runtime(), async { Sample::default() })
    } else {
        let workload = workloads
            .iter()
            .find(|w| w.key == key)
            .unwrap_or_else(|| panic!("no workload {key}"));
        let v = &workload.variants[variant.parse::<usize>().expect("variant index")];
        (v.run)(&v.flavor.runtime(), n)
    };
    println!(
        "ONE elapsed_ns={} alive={} vmhwm_kib={}",
        sample.elapsed.as_nanos(),
        sample.alive,
        vm_hwm_kib()
    );
}

#[derive(Clone, Copy, Debug)]
struct ChildResult {
    elapsed_ns: f64,
    alive: usize,
    hwm_kib: u64,
}

/// The parent side: runs one variant in a child process.
fn child(key: &str, variant: &str, n: usize) -> ChildResult {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe)
        .args(["--one", key, variant, &n.to_string()])
        .output()
        .expect("re-exec the bench binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ONE "))
        .unwrap_or_else(|| {
            panic!(
                "child {key} {variant} {n} failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    ChildResult {
        elapsed_ns: field("elapsed_ns"),
        alive: field("alive") as usize,
        hwm_kib: field("vmhwm_kib") as u64,
    }
}

/// Instructions retired by one child run under callgrind (deterministic, unlike time on a
/// shared 2-core machine).
fn instructions(key: &str, variant: &str, n: usize) -> f64 {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args(["--one", key, variant, &n.to_string()])
        .output()
        .expect("run valgrind (apt-get install valgrind)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no callgrind total for {key} {variant} {n}: {stderr}"))
}

/// `--callgrind`: marginal instructions per unit, `(Ir(2N) - Ir(N)) / N`, so that the
/// runtime's start-up and the process's own cost cancel out.
fn print_instructions(workload: &Workload) {
    let Some(n) = workload.callgrind_n else {
        return;
    };
    println!();
    println!(
        "### {} (`{}`): instructions per {} under callgrind, (Ir(2N) - Ir(N)) / N, N = {n}",
        workload.title, workload.key, workload.unit
    );
    println!();
    println!(
        "| variant | runtime | Ir/{} | vs {} |",
        workload.unit, workload.reference
    );
    println!("| --- | --- | ---: | ---: |");
    let per_unit: Vec<f64> = (0..workload.variants.len())
        .map(|i| {
            let i = i.to_string();
            (instructions(workload.key, &i, 2 * n) - instructions(workload.key, &i, n)) / n as f64
        })
        .collect();
    let reference = per_unit[index_of(workload, workload.reference)];
    for (v, ir) in workload.variants.iter().zip(&per_unit) {
        println!(
            "| {} | {} | {:.0} | {:.2}x |",
            v.name,
            v.flavor.label(),
            ir,
            ir / reference
        );
    }
}

/// `(allocations, bytes allocated)` by one child run under valgrind's memcheck.
fn heap_usage(key: &str, variant: &str, n: usize) -> (f64, f64) {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new("valgrind")
        .arg("--tool=memcheck")
        .arg(exe)
        .args(["--one", key, variant, &n.to_string()])
        .output()
        .expect("run valgrind (apt-get install valgrind)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // "total heap usage: 15,054 allocs, 15,052 frees, 751,574 bytes allocated"
    let line = stderr
        .lines()
        .find_map(|l| l.split("total heap usage:").nth(1))
        .unwrap_or_else(|| panic!("no memcheck summary for {key} {variant} {n}: {stderr}"));
    let field = |unit: &str| -> f64 {
        let text = line.replace(',', "");
        let words: Vec<&str> = text.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[1] == unit)
            .and_then(|w| w[0].parse().ok())
            .unwrap_or(f64::NAN)
    };
    (field("allocs"), field("bytes"))
}

/// `--allocs`: marginal heap allocations and bytes per unit, between N and 2N.
fn print_allocations(workload: &Workload) {
    let Some(n) = workload.callgrind_n else {
        return;
    };
    let n = n / 2;
    println!();
    println!(
        "### {} (`{}`): heap allocations per {} under memcheck, between N = {n} and 2N",
        workload.title, workload.key, workload.unit
    );
    println!();
    println!(
        "| variant | runtime | allocations/{} | bytes/{} |",
        workload.unit, workload.unit
    );
    println!("| --- | --- | ---: | ---: |");
    for (i, v) in workload.variants.iter().enumerate() {
        let i = i.to_string();
        let (a1, b1) = heap_usage(workload.key, &i, n);
        let (a2, b2) = heap_usage(workload.key, &i, 2 * n);
        println!(
            "| {} | {} | {:.2} | {:.0} |",
            v.name,
            v.flavor.label(),
            (a2 - a1) / n as f64,
            (b2 - b1) / n as f64
        );
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_rss(workload: &Workload, baselines: (u64, u64)) {
    println!();
    println!(
        "peak RSS (`VmHWM`, one child process per cell; \"above baseline\" subtracts an idle runtime of the same flavor: {:.1} MiB current-thread, {:.1} MiB multi-thread)",
        mib(baselines.0),
        mib(baselines.1)
    );
    println!();
    println!(
        "| variant | N | peak RSS MiB | above baseline MiB | bytes/{} | single-shot ns/{} |",
        workload.unit, workload.unit
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (i, v) in workload.variants.iter().enumerate() {
        for &n in &workload.rss_sizes {
            let r = child(workload.key, &i.to_string(), n);
            let base = match v.flavor {
                Flavor::Current => baselines.0,
                Flavor::Multi => baselines.1,
            };
            let above = r.hwm_kib.saturating_sub(base);
            let single = match workload.report {
                Report::PerUnit => r.elapsed_ns / n as f64,
                Report::PerRun => r.elapsed_ns,
            };
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.0} | {:.1} |",
                v.name,
                n,
                mib(r.hwm_kib),
                mib(above),
                above as f64 * 1024.0 / n as f64,
                single
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workload 1: small group. Three heterogeneous tasks (u64, String, bool), each yields once;
// N groups in sequence.

mod small {
    use super::*;

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
            targets: vec![Target {
                taskgroup: "taskgroup group!",
                peer: "tokio::try_join!",
                max: 1.0,
            }],
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
}

// ---------------------------------------------------------------------------------------------
// Workloads 2 and 3: fan-out. N tasks that yield once and return their index; the results in
// input order.

async fn item(i: usize) -> Res<usize> {
    yield_now().await;
    Ok(i)
}

fn check_ordered(out: &[usize], n: usize) {
    assert_eq!(out.len(), n);
    assert!(out.iter().enumerate().all(|(i, &v)| i == v), "out of order");
}

mod fan_out {
    use super::*;

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
            targets: vec![Target {
                taskgroup: "taskgroup for-fan-out",
                peer: "FuturesUnordered",
                max: 1.0,
            }],
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
}

mod spawned {
    use super::*;

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
            targets: vec![Target {
                taskgroup: "taskgroup for-fan-out, spawn",
                peer: "JoinSet",
                max: 1.0,
            }],
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
}

// ---------------------------------------------------------------------------------------------
// Workload 3b: in-place fan-out whose items await a tokio resource (a `oneshot` that is already
// sent), so every completion spends tokio's coop budget. It has no target of its own: it guards
// against the quadratic walk that a spent budget causes in `FuturesUnordered` (BENCHMARKS.md).

mod coop {
    use super::*;
    use tokio::sync::oneshot;

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
}

// ---------------------------------------------------------------------------------------------
// Workload 4: fail-fast cancellation. N pending siblings, then one task that waits until every
// sibling is alive and fails. Measured: from the failure to the return of the group (or of the
// peer's equivalent), and how many siblings are still alive at that return.

mod cancel {
    use super::*;

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
                },
                Target {
                    taskgroup: "taskgroup, in place",
                    peer: "JoinSet, abort_all + drain",
                    max: 1.0,
                },
                Target {
                    taskgroup: "taskgroup, spawn",
                    peer: "JoinSet, abort_all + drain",
                    max: 1.0,
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
}

// ---------------------------------------------------------------------------------------------
// Workload 5: bounded fan-out. N items, at most 64 in flight; each yields once. Results are
// discarded (`_ =`), so memory should be flat in N.

mod bounded {
    use super::*;

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
            targets: vec![Target {
                taskgroup: "taskgroup for-fan-out, limit",
                peer: "buffer_unordered",
                max: 1.2,
            }],
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
}

// ---------------------------------------------------------------------------------------------
// Workload 6: compile time of 50 `group!` invocations versus 50 `try_join!` (opt-in).

mod compile {
    use super::*;
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    pub(super) const GROUPS: usize = 50;

    fn source(taskgroup: bool, groups: usize) -> String {
        let mut src = String::from(
            "//! Generated by benches/compare.rs: the compile-time benchmark.\n\
             #![allow(clippy::all)]\n\
             type Res<T> = Result<T, std::io::Error>;\n\
             async fn a(i: u32) -> Res<u32> { tokio::task::yield_now().await; Ok(i) }\n\
             async fn b(i: u32) -> Res<String> { tokio::task::yield_now().await; Ok(i.to_string()) }\n\
             async fn c(i: u32) -> Res<bool> { tokio::task::yield_now().await; Ok(i % 2 == 0) }\n",
        );
        for g in 0..groups {
            if taskgroup {
                let _ = writeln!(
                    src,
                    "async fn g{g}(i: u32) -> Result<(u32, String, bool), taskgroup::ErrorGroup> {{\n    \
                     taskgroup::group! {{\n        x = a(i + {g});\n        y = b(i);\n        z = c(i);\n    }}\n    \
                     Ok((x, y, z))\n}}"
                );
            } else {
                let _ = writeln!(
                    src,
                    "async fn g{g}(i: u32) -> Res<(u32, String, bool)> {{\n    \
                     let (x, y, z) = tokio::try_join!(a(i + {g}), b(i), c(i))?;\n    \
                     Ok((x, y, z))\n}}"
                );
            }
        }
        src.push_str("#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    let mut n = 0usize;\n");
        for g in 0..groups {
            let _ = writeln!(src, "    n += g{g}(1).await.unwrap().1.len();");
        }
        src.push_str("    println!(\"{n}\");\n}\n");
        src
    }

    fn manifest(name: &str, root: &Path) -> String {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ntaskgroup = {{ path = {:?} }}\n\
             tokio = {{ version = \"1.47\", features = [\"rt\", \"macros\"] }}\n\n\
             # Not part of the taskgroup workspace.\n[workspace]\n",
            root.display().to_string()
        )
    }

    fn write_crate(dir: &Path, name: &str, taskgroup: bool, root: &Path) {
        std::fs::create_dir_all(dir.join("src")).expect("mkdir");
        std::fs::write(dir.join("Cargo.toml"), manifest(name, root)).expect("write manifest");
        std::fs::write(dir.join("src/main.rs"), source(taskgroup, GROUPS)).expect("write main.rs");
        // The workspace's versions of every dependency.
        let _ = std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"));
    }

    fn cargo(dir: &Path, target: &Path, release: bool) -> Duration {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target)
            // A full compile of the crate each time, not an incremental one.
            .env("CARGO_INCREMENTAL", "0")
            .env_remove("RUSTFLAGS");
        if release {
            cmd.arg("--release");
        }
        let start = Instant::now();
        let status = cmd.status().expect("run cargo");
        let elapsed = start.elapsed();
        assert!(status.success(), "cargo build failed in {}", dir.display());
        elapsed
    }

    /// Times a rebuild of the crate alone: its dependencies were built by the warm-up.
    fn rebuild(dir: &Path, target: &Path, release: bool) -> Duration {
        let main = dir.join("src/main.rs");
        let src = std::fs::read_to_string(&main).expect("read main.rs");
        // A changed source (not only a newer mtime) so that cargo recompiles the crate.
        std::fs::write(&main, format!("{src}// {:?}\n", Instant::now())).expect("touch");
        cargo(dir, target, release)
    }

    pub(super) fn run() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let base = root.join("target").join("compile-bench");
        let target = base.join("target");
        let crates = [("taskgroup-groups", true), ("try-join-groups", false)];
        for (name, taskgroup) in crates {
            write_crate(&base.join(name), name, taskgroup, &root);
        }
        let k = rounds().min(5);
        println!();
        println!(
            "### compile time: a binary crate with {GROUPS} `group!` vs {GROUPS} `try_join!` (3 tasks each), median of {k} rebuilds of the crate alone"
        );
        println!();
        println!("| profile | crate | seconds | min | max | vs try_join! |");
        println!("| --- | --- | ---: | ---: | ---: | ---: |");
        for release in [false, true] {
            let mut medians = Vec::new();
            for (name, _) in crates {
                let dir = base.join(name);
                let warm = cargo(&dir, &target, release); // dependencies, once
                let _ = warm;
                let mut secs: Vec<f64> = (0..k)
                    .map(|_| rebuild(&dir, &target, release).as_secs_f64())
                    .collect();
                secs.sort_by(f64::total_cmp);
                medians.push((name, median(&secs), secs[0], secs[secs.len() - 1]));
            }
            let reference = medians[1].1;
            for (name, med, min, max) in medians {
                println!(
                    "| {} | {name} | {med:.2} | {min:.2} | {max:.2} | {:.2}x |",
                    if release { "release" } else { "dev" },
                    med / reference
                );
            }
        }
    }

    /// Smoke: the generated sources are written (not built).
    pub(super) fn smoke() {
        let src = source(true, 2);
        assert!(src.contains("taskgroup::group!"));
        assert!(source(false, 2).contains("tokio::try_join!"));
    }
}

// ---------------------------------------------------------------------------------------------

fn workloads() -> Vec<Workload> {
    vec![
        small::workload(),
        fan_out::workload(),
        spawned::workload(),
        coop::workload(),
        cancel::workload(),
        bounded::workload(),
    ]
}

fn smoke(workloads: &[Workload]) {
    let runtimes = Runtimes::new();
    let mut passed = 0;
    for workload in workloads {
        for v in &workload.variants {
            let sample = (v.run)(runtimes.get(v.flavor), workload.smoke_n);
            if v.structured {
                assert_eq!(
                    sample.alive, 0,
                    "{}/{}: tasks alive at return",
                    workload.key, v.name
                );
            }
            println!("smoke {} / {} ... ok", workload.key, v.name);
            passed += 1;
        }
    }
    // The peak-RSS path: one child process.
    let r = child("bounded", "0", 1_000);
    assert!(r.hwm_kib > 0 && r.elapsed_ns > 0.0 && r.alive == 0);
    println!("smoke rss child ... ok");
    compile::smoke();
    println!("smoke compile sources ... ok");
    passed += 2;
    println!("{passed} passed, 0 failed");
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cores} cores, {cpu}, Linux {}; rounds: {}; {}",
        kernel.trim(),
        rounds(),
        load()
    );
}

/// The load average: other processes on a 2-core machine skew the timings.
fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    format!("load average {}", avg.join(" "))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workloads = workloads();

    if args.first().map(String::as_str) == Some("--one") {
        let n = args[3].parse().expect("N");
        run_one(&workloads, &args[1], &args[2], n);
        return;
    }

    // `cargo bench` passes `--bench`; `cargo test --bench compare` passes nothing: smoke.
    let env = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
    let smoke_run = args.iter().any(|a| a == "--smoke")
        || env("TASKGROUP_BENCH_SMOKE")
        || !args.iter().any(|a| a == "--bench");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let selected: Vec<Workload> = workloads
        .into_iter()
        .filter(|w| filters.is_empty() || filters.iter().any(|f| w.key.contains(f)))
        .collect();

    if smoke_run {
        smoke(&selected);
        return;
    }

    if args.iter().any(|a| a == "--allocs") {
        for workload in &selected {
            print_allocations(workload);
        }
        return;
    }
    if args.iter().any(|a| a == "--callgrind") {
        for workload in &selected {
            print_instructions(workload);
        }
        return;
    }

    machine();
    let runtimes = Runtimes::new();
    let rss = !env("TASKGROUP_BENCH_NO_RSS");
    let baselines = if rss {
        (
            child("baseline", "current", 0).hwm_kib,
            child("baseline", "multi", 0).hwm_kib,
        )
    } else {
        (0, 0)
    };
    for workload in &selected {
        let rows = time_workload(workload, &runtimes);
        print_table(workload, &rows);
        if rss && !workload.rss_sizes.is_empty() {
            print_rss(workload, baselines);
        }
    }
    println!();
    println!("done; {}", load());
    let compile_selected = filters.is_empty() || filters.iter().any(|f| "compile".contains(f));
    if compile_selected {
        if env("TASKGROUP_BENCH_COMPILE") {
            compile::run();
        } else {
            println!();
            println!(
                "(compile time: skipped; set TASKGROUP_BENCH_COMPILE=1, 2 to 3 minutes on 2 cores)"
            );
        }
    }
}
