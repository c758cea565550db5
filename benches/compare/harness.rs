//! The timing harness: the workloads and their variants, the runtimes they run on, the timed
//! rounds and the table of medians and ratios.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::runtime::Runtime;

/// What the workloads' tasks return.
pub(crate) type Res<T> = Result<T, io::Error>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Current-thread runtime: in-place workloads.
    Current,
    /// Multi-thread runtime with 2 workers: spawned workloads.
    Multi,
}

impl Flavor {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Flavor::Current => "current-thread",
            Flavor::Multi => "multi-thread (2 workers)",
        }
    }

    pub(crate) fn runtime(self) -> Runtime {
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
pub(crate) struct Sample {
    pub(crate) elapsed: Duration,
    pub(crate) alive: usize,
}

impl Sample {
    pub(crate) fn timed(elapsed: Duration) -> Self {
        Sample { elapsed, alive: 0 }
    }
}

pub(crate) type RunFn = fn(&Runtime, usize) -> Sample;

#[derive(Debug)]
pub(crate) struct Variant {
    pub(crate) name: &'static str,
    pub(crate) flavor: Flavor,
    pub(crate) run: RunFn,
    /// A structured variant must leave no task alive at return (checked in smoke runs).
    pub(crate) structured: bool,
}

pub(crate) const fn variant(name: &'static str, flavor: Flavor, run: RunFn) -> Variant {
    Variant {
        name,
        flavor,
        run,
        structured: true,
    }
}

/// A performance target: `taskgroup` at most `max` times `peer`, in `measure`.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) taskgroup: &'static str,
    pub(crate) peer: &'static str,
    pub(crate) max: f64,
    pub(crate) measure: Measure,
}

/// What a [`Target`] compares: each is reported by the run that measures it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Measure {
    /// The timed run's medians (and, where the workload counts them, 0 tasks alive).
    Time,
    /// Instructions per unit (`-- --callgrind`).
    Instructions,
    /// Peak RSS (`VmHWM`) at each of the workload's RSS sizes.
    PeakRss,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// Nanoseconds per unit of work.
    PerUnit,
    /// Microseconds per run (the cancellation latency).
    PerRun,
}

#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) key: &'static str,
    pub(crate) title: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) n: usize,
    pub(crate) smoke_n: usize,
    pub(crate) report: Report,
    /// The peer every row's ratio is given against.
    pub(crate) reference: &'static str,
    pub(crate) targets: Vec<Target>,
    pub(crate) variants: Vec<Variant>,
    /// Sizes at which peak RSS (and a single-shot time) is taken in child processes.
    pub(crate) rss_sizes: Vec<usize>,
    /// `--callgrind`: instructions per unit are taken between this N and twice it.
    pub(crate) callgrind_n: Option<usize>,
}

impl Workload {
    /// The targets measured in `measure`.
    pub(crate) fn targets_in(&self, measure: Measure) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(move |t| t.measure == measure)
    }
}

/// Prints one target's verdict: met when `ratio` is at most `target.max` and `also` holds,
/// with `what` after the ratio.
pub(crate) fn print_target(target: &Target, in_what: &str, ratio: f64, what: &str, also: bool) {
    let met = ratio <= target.max && also;
    println!(
        "target: {} <= {:.1}x {}{in_what}: {ratio:.2}x{what} -> {}",
        target.taskgroup,
        target.max,
        target.peer,
        if met { "MET" } else { "MISSED" }
    );
}

/// Drives `fut` to completion as a spawned task of `rt`.
pub(crate) fn drive<F>(rt: &Runtime, fut: F) -> Sample
where
    F: Future<Output = Sample> + Send + 'static,
{
    rt.block_on(async { tokio::spawn(fut).await.expect("the measured task panicked") })
}

pub(crate) fn median(sorted: &[f64]) -> f64 {
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
pub(crate) struct Row {
    median: f64,
    min: f64,
    max: f64,
    alive: usize,
}

pub(crate) fn rounds() -> usize {
    std::env::var("TASKGROUP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&k: &usize| k > 0)
        .unwrap_or(7)
}

pub(crate) fn time_workload(workload: &Workload, runtimes: &Runtimes) -> Vec<Row> {
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
pub(crate) struct Runtimes {
    current: Runtime,
    multi: Runtime,
}

impl Runtimes {
    pub(crate) fn new() -> Self {
        Runtimes {
            current: Flavor::Current.runtime(),
            multi: Flavor::Multi.runtime(),
        }
    }

    pub(crate) fn get(&self, flavor: Flavor) -> &Runtime {
        match flavor {
            Flavor::Current => &self.current,
            Flavor::Multi => &self.multi,
        }
    }
}

pub(crate) fn index_of(workload: &Workload, name: &str) -> usize {
    workload
        .variants
        .iter()
        .position(|v| v.name == name)
        .unwrap_or_else(|| panic!("{}: no variant named {name}", workload.key))
}

pub(crate) fn print_table(workload: &Workload, rows: &[Row]) {
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
    for target in workload.targets_in(Measure::Time) {
        let c = &rows[index_of(workload, target.taskgroup)];
        let p = rows[index_of(workload, target.peer)].median;
        let alive = if alive_col {
            format!(", {} alive at return", c.alive)
        } else {
            String::new()
        };
        print_target(target, "", c.median / p, &alive, c.alive == 0);
    }
}
