//! Partial results on failure: the successes that completed before a failure are not lost.
//!
//! Mirrors the reference's "Collecting partial results despite a sibling failure": six
//! shards, shard 3 raises `TimeoutError`; each shard records its result in a shared dict
//! before any sibling aborts, and the `except*` handler reads it: `1 shard(s) failed; kept 3`.
//!
//! In-place tasks may borrow locals of the function, so they record into a local `Mutex`
//! directly, and the `except*` arm reads it. As the seed says, which siblings finished
//! before the cancellation landed depends on timing: the partial set is best-effort. When
//! every shard's outcome matters, `#![mode = settle]` runs them all (second part).
//!
//! The seed's shards take `0.01 * shard` s; here `20 ms * shard`, so that the outcome is the
//! same on a busy machine. Run it with `cargo run --example partial_results`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

/// Python's `TimeoutError`.
#[derive(Debug, thiserror::Error)]
#[error("TimeoutError: {0}")]
struct TimeoutError(String);

async fn fetch(shard: u32) -> Result<u32, TimeoutError> {
    sleep(Duration::from_millis(20) * shard).await;
    if shard == 3 {
        return Err(TimeoutError(format!("shard {shard} timed out")));
    }
    Ok(shard * 100)
}

/// Fetches a shard and records its result before any sibling aborts.
async fn fetch_into(shard: u32, out: &Mutex<BTreeMap<u32, u32>>) -> Result<(), TimeoutError> {
    let value = fetch(shard).await?;
    out.lock().expect("not poisoned").insert(shard, value);
    Ok(())
}

fn dict(map: &BTreeMap<u32, u32>) -> String {
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", items.join(", "))
}

// A fan-out whose body is a plain call, `for x in it => f(x)`, trips clippy's
#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    println!("1. fail-fast, with the successes recorded as they come");
    let results = Mutex::new(BTreeMap::new());
    group! {
        _ = for s in 0..6 => fetch_into(s, &results);
        except* TimeoutError as eg => {
            let kept = results.lock().expect("not poisoned").len();
            println!("{} shard(s) failed; kept {kept}", eg.len());
            for leaf in &eg {
                println!("  {}: {}", leaf.task, leaf.error);
            }
        }
    }
    // The shards that completed before the cancel landed.
    println!("{}", dict(&results.into_inner().expect("not poisoned")));

    println!();
    println!("2. #![mode = settle]: every shard runs, each with its own outcome");
    group! {
        #![mode = settle]
        outcomes = for s in 0..6 => fetch(s);
    }
    let mut kept = BTreeMap::new();
    for (shard, outcome) in (0..).zip(outcomes) {
        match outcome {
            Ok(value) => {
                kept.insert(shard, value);
            }
            Err(error) => println!("  shard {shard}: {error}"),
        }
    }
    println!("kept {}: {}", kept.len(), dict(&kept));
    Ok(())
}
