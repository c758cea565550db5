//! The integrated aggregator: a report of partial results, a limit of 8, a 2 s deadline,
//! `except*` arms by type, the error tree logged leaf by leaf, and the partial failure rate.
//!
//! Mirrors the reference's "Integrated production example": five services are called
//! (`users`, `billing`, `inventory`, `fraud`, `shipping`); `billing` fails with a
//! `ConnectionError` and `fraud` with a `ValueError`. Each success is recorded in the report
//! before any sibling aborts; each arm logs its errors with a walk of the whole tree (the
//! seed's `log_group`) and records them as failures; finally `ok`, `failed` and the
//! `partial_failure_rate` are logged.
//!
//! Here the fraud check runs its own group of two models, so its `ValueError` arrives nested
//! one level down, and the walk shows why logging only the top message would hide it. The
//! services answer at the same instant, as in the seed, so both failures land before the
//! cancellation does.
//!
//! ```text
//! cargo run --example aggregator                          # the seed's run: ok=3 failed=2
//! cargo run --example aggregator -- --scenario deadline   # shipping hangs: the 2 s deadline
//! cargo run --example aggregator -- --scenario healthy    # everything answers
//! ```
//!
//! `--deadline-ms N` changes the deadline (the tests use a shorter one).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use taskgroup::error_group::Member;
use taskgroup::{BoxError, ErrorGroup, group};
use tokio::time::{Instant, sleep_until};
use tracing::{error, info};

/// Python's `ConnectionError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ConnectionError(String);

/// Python's `ValueError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ValueError(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// The seed's run: billing and fraud fail.
    Failures,
    /// Everything is healthy but shipping, which does not answer before the deadline.
    Deadline,
    /// Everything answers.
    Healthy,
}

#[derive(Debug, Default)]
struct Report {
    ok: BTreeMap<&'static str, &'static str>,
    failures: Vec<(&'static str, String)>,
}

/// How long every service takes to answer.
const LATENCY: Duration = Duration::from_millis(50);

/// One model of the fraud check.
async fn fraud_model(
    name: &'static str,
    at: Instant,
    scenario: Scenario,
) -> Result<f64, ValueError> {
    sleep_until(at).await;
    if name == "nan-model" && scenario == Scenario::Failures {
        return Err(ValueError("fraud model returned NaN score".into()));
    }
    Ok(0.02)
}

/// The fraud check runs its own group: its errors arrive as a nested group.
async fn fraud_check(at: Instant, scenario: Scenario) -> Result<f64, ErrorGroup> {
    group! {
        #![name = "fraud models"]
        scores = for model in ["rules", "nan-model"] => fraud_model(model, at, scenario);
    }
    Ok(scores.iter().copied().fold(0.0, f64::max))
}

async fn call_service(
    name: &'static str,
    at: Instant,
    scenario: Scenario,
    report: &Mutex<Report>,
) -> Result<(), BoxError> {
    match (name, scenario) {
        ("billing", Scenario::Failures) => {
            sleep_until(at).await;
            return Err(ConnectionError("billing pool exhausted".into()).into());
        }
        ("fraud", _) => {
            fraud_check(at, scenario).await?;
        }
        ("shipping", Scenario::Deadline) => sleep_until(at + Duration::from_secs(30)).await,
        _ => sleep_until(at).await,
    }
    // Record before any sibling aborts.
    report
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .ok
        .insert(name, "ok");
    Ok(())
}

/// The seed's `log_group`: walks the whole tree so that nothing is lost in the logs.
fn log_group<E: Debug>(eg: &ErrorGroup<E>) {
    fn walk<E: Debug>(members: &[Member<E>], depth: usize) {
        let pad = "  ".repeat(depth);
        for member in members {
            match member {
                Member::Leaf { task, error } => error!("{pad}leaf: {task}: {error:?}"),
                Member::Group { task, group } => {
                    error!(
                        "{pad}group: {task}: {} ({} sub)",
                        group.message(),
                        group.len()
                    );
                    walk(group.members(), depth + 1);
                }
            }
        }
    }
    error!("group: {} ({} sub)", eg.message(), eg.len());
    walk(eg.members(), 1);
}

async fn aggregate(
    services: &[&'static str],
    scenario: Scenario,
    deadline: Duration,
) -> Result<Report, ErrorGroup> {
    let report = Mutex::new(Report::default());
    let answer_at = Instant::now() + LATENCY;
    group! {
        #![name = "aggregate"]
        #![limit = 8]              // bound concurrent in-flight calls
        #![timeout = deadline]     // overall wall-clock budget
        _ = for &name in services => call_service(name, answer_at, scenario, &report);
        except* taskgroup::Elapsed => {
            error!("aggregation exceeded deadline");
            report.lock().unwrap_or_else(PoisonError::into_inner).failures.push(("*", "deadline".into()));
        }
        except* ConnectionError as eg => {
            log_group(&eg);
            let mut report = report.lock().unwrap_or_else(PoisonError::into_inner);
            for leaf in &eg {
                report.failures.push(("connection", leaf.error.to_string()));
            }
        }
        except* ValueError as eg => {
            log_group(&eg);
            let mut report = report.lock().unwrap_or_else(PoisonError::into_inner);
            for leaf in &eg {
                report.failures.push(("validation", leaf.error.to_string()));
            }
        }
    }
    Ok(report.into_inner().unwrap_or_else(PoisonError::into_inner))
}

fn options() -> Result<(Scenario, Duration), String> {
    let mut scenario = Scenario::Failures;
    let mut deadline = Duration::from_secs(2);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{arg}` needs a value"))?;
        match arg.as_str() {
            "--scenario" => {
                scenario = match value.as_str() {
                    "failures" => Scenario::Failures,
                    "deadline" => Scenario::Deadline,
                    "healthy" => Scenario::Healthy,
                    _ => return Err(format!("unknown scenario `{value}`")),
                };
            }
            "--deadline-ms" => {
                let ms = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a number"))?;
                deadline = Duration::from_millis(ms);
            }
            _ => return Err(format!("unknown option `{arg}`")),
        }
    }
    Ok((scenario, deadline))
}

// One thread, like Python's event loop: when several tasks finish at the same instant, the
// group sees every one of them before it reacts to the first failure. (On a multi-threaded
// runtime the timer may wake them from another thread one by one, and the group can cancel
// the later ones before their wake-ups arrive.)
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    // logging.basicConfig(level=logging.INFO): `LEVEL target: message` on stdout.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .without_time()
        .with_writer(std::io::stdout)
        .init();
    let (scenario, deadline) = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "aggregator: {message}\nusage: aggregator [--scenario failures|deadline|healthy] [--deadline-ms N]"
            );
            std::process::exit(2);
        }
    };

    let services = ["users", "billing", "inventory", "fraud", "shipping"];
    // Errors that no arm handles come back with `?` and are printed as a tree by `main`.
    let report = aggregate(&services, scenario, deadline).await?;
    let total = services.len();
    let partial_rate = report.failures.len() as f64 / total as f64;
    info!(
        "ok={} failed={} partial_failure_rate={partial_rate:.2}",
        report.ok.len(),
        report.failures.len(),
    );
    info!("ok: {:?}", report.ok.keys().collect::<Vec<_>>());
    info!("failures: {:?}", report.failures);
    Ok(())
}
