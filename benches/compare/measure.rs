//! Peak RSS: this binary re-executed with `--one KEY VARIANT N`, one child process per variant.
//! The same child run under valgrind gives instructions (`--callgrind`) and heap allocations
//! (`--allocs`) per unit.

use std::process::Command;

use crate::harness::{Flavor, Measure, Report, Sample, Workload, drive, index_of, print_target};

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
pub(crate) fn run_one(workloads: &[Workload], key: &str, variant: &str, n: usize) {
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
pub(crate) struct ChildResult {
    pub(crate) elapsed_ns: f64,
    pub(crate) alive: usize,
    pub(crate) hwm_kib: u64,
}

/// The parent side: runs one variant in a child process.
pub(crate) fn child(key: &str, variant: &str, n: usize) -> ChildResult {
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
pub(crate) fn print_instructions(workload: &Workload) {
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
    println!();
    for target in workload.targets_in(Measure::Instructions) {
        let ours = per_unit[index_of(workload, target.taskgroup)];
        let peer = per_unit[index_of(workload, target.peer)];
        let counts = format!(" ({ours:.0} vs {peer:.0} Ir/{})", workload.unit);
        print_target(target, " in instructions", ours / peer, &counts, true);
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
pub(crate) fn print_allocations(workload: &Workload) {
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

pub(crate) fn print_rss(workload: &Workload, baselines: (u64, u64)) {
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
    // Peak RSS in KiB by variant, then size.
    let mut peaks = Vec::new();
    for (i, v) in workload.variants.iter().enumerate() {
        let mut row = Vec::new();
        for &n in &workload.rss_sizes {
            let r = child(workload.key, &i.to_string(), n);
            row.push(r.hwm_kib);
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
        peaks.push(row);
    }
    println!();
    for target in workload.targets_in(Measure::PeakRss) {
        let ours = &peaks[index_of(workload, target.taskgroup)];
        let peer = &peaks[index_of(workload, target.peer)];
        for (k, &n) in workload.rss_sizes.iter().enumerate() {
            let at = format!(
                " ({:.1} vs {:.1} MiB at N = {n})",
                mib(ours[k]),
                mib(peer[k])
            );
            let ratio = ours[k] as f64 / peer[k] as f64;
            print_target(target, " in peak RSS", ratio, &at, true);
        }
    }
}
