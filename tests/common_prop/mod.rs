//! The property-test harness shared by `tests/prop_*.rs`: random trees of groups ([`tree`]),
//! run with taskgroup ([`interp`]), predicted by a model of the contract ([`model`]) and checked
//! against it and against the model-free invariants ([`check`]).
//!
//! Seeds: every property runs from a fixed seed by default, so CI is reproducible;
//! `TASKGROUP_PROP_SEED=<u64>` replays another one and `TASKGROUP_PROP_SEED=random` draws one (it is
//! printed). `TASKGROUP_PROP_CASES=<n>` changes the number of cases. A failure prints the seed,
//! the shrunk tree and what went wrong.
#![allow(dead_code, unreachable_pub)]

pub mod check;
pub mod interp;
pub mod model;
pub mod tree;

use std::cell::RefCell;
use std::fmt::{Display, Write as _};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use check::{Observed, Outcome};
use interp::{Ctx, PanicPayload, TaskFuture};
use tree::{Case, Plan};

/// Leaves panic on purpose with a [`PanicPayload`]: keep those out of the test output.
pub fn silence_leaf_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<PanicPayload>().is_none() {
                previous(info);
            }
        }));
    });
}

/// Polls the root group; records how many leaves are alive the moment it completes (before it
/// is dropped), and turns a panic into its payload.
struct Watch {
    inner: TaskFuture,
    ctx: Arc<Ctx>,
    at_end: Option<(usize, usize)>,
}

impl Future for Watch {
    type Output = Result<Result<interp::Value, interp::NodeError>, Box<dyn std::any::Any + Send>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx)));
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => Ok(result),
            Err(payload) => Err(payload),
        };
        this.at_end = Some((this.ctx.live(), this.ctx.live_in_place()));
        Poll::Ready(output)
    }
}

/// Runs a plan's root group under the test's bound and observes what it left behind.
pub async fn observe(plan: &Plan, ctx: Arc<Ctx>, real_time: bool) -> Observed {
    let root = interp::group_future(ctx.clone(), plan.root.clone());
    observe_root(plan, ctx, root, real_time).await
}

/// [`observe`] with the root's future given.
pub async fn observe_root(
    plan: &Plan,
    ctx: Arc<Ctx>,
    root: TaskFuture,
    real_time: bool,
) -> Observed {
    let mut watch = Watch {
        inner: root,
        ctx: ctx.clone(),
        at_end: None,
    };
    let finished = tokio::time::timeout(interp::ms(plan.bound), &mut watch).await;
    let at = ctx.now();
    let at_end = watch.at_end;
    drop(watch);
    let (outcome, (live_at_end, live_in_place_at_end)) = match finished {
        Err(_) => (Outcome::Dropped { at }, (ctx.live(), ctx.live_in_place())),
        Ok(Err(payload)) => (Outcome::Panicked { at, payload }, at_end.expect("recorded")),
        Ok(Ok(result)) => (Outcome::Returned { at, result }, at_end.expect("recorded")),
    };
    // Aborted spawned tasks are dropped when the runtime next runs them: one idle tick.
    let live_after_tick = if real_time {
        let deadline = StdInstant::now() + Duration::from_secs(1);
        let busy = |ctx: &Ctx| ctx.live() != 0 || ctx.trackers.iter().any(|t| t.current() != 0);
        while busy(&ctx) && StdInstant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        ctx.live()
    } else {
        tokio::task::yield_now().await;
        ctx.live()
    };
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    Observed {
        outcome,
        events: ctx.events(),
        told: ctx.told.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        live_at_end,
        live_in_place_at_end,
        live_after_tick,
        live_after_ticks: ctx.live(),
        trackers: ctx
            .trackers
            .iter()
            .map(|tracker| (tracker.current(), tracker.max()))
            .collect(),
        violations: ctx
            .violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    }
}

/// What one case was, for the statistics printed at the end of a property.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaseStats {
    pub exact: bool,
    pub ok: bool,
    pub err: bool,
    pub panicked: bool,
    pub dropped: bool,
    pub leaves: usize,
    pub groups: usize,
}

impl CaseStats {
    pub fn of(plan: &Plan, observed: &Observed, exact: bool) -> CaseStats {
        CaseStats {
            exact,
            ok: matches!(observed.outcome, Outcome::Returned { result: Ok(_), .. }),
            err: matches!(observed.outcome, Outcome::Returned { result: Err(_), .. }),
            panicked: matches!(observed.outcome, Outcome::Panicked { .. }),
            dropped: matches!(observed.outcome, Outcome::Dropped { .. }),
            leaves: plan.leaves.len(),
            groups: plan.groups.len(),
        }
    }
}

fn describe(plan: &Plan, observed: &Observed, prediction: &model::Prediction) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "observed: {:?}", observed.outcome);
    let _ = writeln!(out, "leaf log (ms):");
    for event in &observed.events {
        let _ = writeln!(
            out,
            "  {:>6}  leaf {:<3} {:?}  {:?}",
            event.at, event.leaf, event.what, plan.leaves[event.leaf as usize].path
        );
    }
    let _ = writeln!(
        out,
        "model: root ends {:?} (err {:?}, panic {:?}); deadlines {:?}; inexact {:?}",
        prediction.root_end,
        prediction.root_err,
        prediction.root_panic,
        prediction.elapsed,
        prediction.inexact
    );
    out
}

/// One case on tokio's current-thread runtime with the paused clock (a step is 10 ms), checked
/// against the model when it predicts the case exactly.
pub fn exact_case(case: &Case) -> Result<CaseStats, String> {
    let plan = Plan::compile(case, 10);
    exact_plan(&plan, interp::group_future)
}

/// [`exact_case`] for a plan whose root is run by `root` (a fixed-shape `group!`).
pub fn exact_plan(
    plan: &Plan,
    root: fn(Arc<Ctx>, Arc<tree::PGroup>) -> TaskFuture,
) -> Result<CaseStats, String> {
    silence_leaf_panics();
    let prediction = model::predict(plan);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let observed = runtime.block_on(async {
        let ctx = Ctx::new(plan);
        let future = root(ctx.clone(), plan.root.clone());
        observe_root(plan, ctx, future, false).await
    });
    drop(runtime);
    let exact = prediction.inexact.is_empty();
    check::check(plan, &observed, exact.then_some(&prediction)).map_err(|violation| {
        format!("{violation}\n\n{}", describe(plan, &observed, &prediction))
    })?;
    Ok(CaseStats::of(plan, &observed, exact))
}

/// One case on tokio's multi-thread runtime (2 workers) in real time (a step is 1 ms): the
/// model-free invariants only, since real time and two workers order the instants freely.
pub fn multi_thread_case(case: &Case) -> Result<CaseStats, String> {
    silence_leaf_panics();
    let plan = Plan::compile(case, 1);
    let prediction = model::predict(&plan);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime");
    let observed = runtime.block_on(async {
        let ctx = Ctx::new(&plan);
        observe(&plan, ctx, true).await
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    check::check(&plan, &observed, None).map_err(|violation| {
        format!("{violation}\n\n{}", describe(&plan, &observed, &prediction))
    })?;
    Ok(CaseStats::of(&plan, &observed, false))
}

/// The seed of a property: `TASKGROUP_PROP_SEED` if set (`random` draws one), else a fixed seed
/// derived from the property's name.
pub fn seed_for(name: &str) -> u64 {
    match std::env::var("TASKGROUP_PROP_SEED") {
        Ok(value) if value == "random" => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nanos ^ u64::from(std::process::id()).rotate_left(32)
        }
        Ok(value) => value.parse().unwrap_or_else(|_| {
            panic!("TASKGROUP_PROP_SEED must be a u64 or `random`, not {value:?}")
        }),
        // FNV-1a of the name: a fixed seed per property.
        Err(_) => name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        }),
    }
}

/// The number of cases: `TASKGROUP_PROP_CASES` if set, else `default`.
pub fn cases_for(default: u32) -> u32 {
    std::env::var("TASKGROUP_PROP_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Runs a property over `cases` random values from `strategy`, seeded; on failure panics with
/// the seed, the shrunk value and the violation.
pub fn run_property<S, F>(name: &str, default_cases: u32, strategy: S, test: F)
where
    S: Strategy,
    S::Value: Display,
    F: Fn(&S::Value) -> Result<CaseStats, String>,
{
    let seed = seed_for(name);
    let cases = cases_for(default_cases);
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let started = StdInstant::now();
    let stats: RefCell<Vec<CaseStats>> = RefCell::new(Vec::new());
    let result = runner.run(&strategy, |value| {
        let outcome = catch_unwind(AssertUnwindSafe(|| test(&value)));
        match outcome {
            Ok(Ok(case)) => {
                stats.borrow_mut().push(case);
                Ok(())
            }
            Ok(Err(violation)) => Err(TestCaseError::fail(violation)),
            Err(payload) => Err(TestCaseError::fail(format!(
                "the test harness panicked: {}",
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            ))),
        }
    });
    let stats = stats.into_inner();
    let count = |f: fn(&CaseStats) -> bool| stats.iter().filter(|s| f(s)).count();
    println!(
        "{name}: seed {seed}, {} runs (shrinking included) in {:.1?}: {} predicted exactly; {} Ok, \
         {} Err, {} panicked, {} dropped; up to {} leaves and {} groups",
        stats.len(),
        started.elapsed(),
        count(|s| s.exact),
        count(|s| s.ok),
        count(|s| s.err),
        count(|s| s.panicked),
        count(|s| s.dropped),
        stats.iter().map(|s| s.leaves).max().unwrap_or(0),
        stats.iter().map(|s| s.groups).max().unwrap_or(0),
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(violation, value)) => panic!(
            "\nproperty `{name}` failed.\n  seed: {seed}  (replay: TASKGROUP_PROP_SEED={seed} cargo \
             test -p taskgroup --test {} {name})\n\nshrunk case:\n{value}\nviolation: \
             {violation}\n",
            env!("CARGO_CRATE_NAME")
        ),
        Err(TestError::Abort(reason)) => {
            panic!("property `{name}` aborted (seed {seed}): {reason}")
        }
    }
}
