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

mod harness;
mod measure;

mod bounded;
mod cancel;
mod compile;
mod coop;
mod fan_out;
mod small;
mod spawned;

use crate::harness::{Runtimes, Workload, print_table, rounds, time_workload};
use crate::measure::{child, print_allocations, print_instructions, print_rss, run_one};

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
