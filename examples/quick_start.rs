//! The quick three-fetch example: three fetches in one group, their results ready after it.
//!
//! Mirrors the seeds' "Quick Example" (`fetch_data("api1.com", 1)` and friends), the course's
//! "Basic Usage" (`fetch("url1")` ...) and the reference's "Basic TaskGroup fan-out" over
//! endpoints. The seeds sleep for seconds; here every second is 100 ms, so it runs in a blink.
//!
//! Run it with `cargo run --example quick_start`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

/// One simulated second.
const SECOND: Duration = Duration::from_millis(100);

async fn fetch_data(url: &str, seconds: f64) -> Result<String, std::io::Error> {
    sleep(SECOND.mul_f64(seconds)).await;
    Ok(format!("Data from {url}"))
}

async fn fetch(url: &str) -> Result<String, std::io::Error> {
    sleep(SECOND).await;
    Ok(format!("data from {url}"))
}

/// The reference's `fetch(endpoint) -> dict`.
#[derive(Debug)]
struct Status {
    endpoint: &'static str,
    status: &'static str,
}

async fn fetch_endpoint(endpoint: &'static str) -> Result<Status, std::io::Error> {
    sleep(Duration::from_millis(50)).await; // the actual I/O
    Ok(Status {
        endpoint,
        status: "ok",
    })
}

// A fan-out whose body is a plain call, `for x in it => f(x)`, trips clippy's
#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    // async with asyncio.TaskGroup() as tg:
    //     task1 = tg.create_task(fetch_data("api1.com", 1)) ...
    group! {
        task1 = fetch_data("api1.com", 1.0);
        task2 = fetch_data("api2.com", 2.0);
        task3 = fetch_data("api3.com", 1.5);
    }
    // All three are done here, and each result is a typed local: no `.result()` to call.
    println!("Result 1: {task1}");
    println!("Result 2: {task2}");
    println!("Result 3: {task3}");

    // The course's "Basic Usage": the same, printed on one line.
    group! {
        task1 = fetch("url1");
        task2 = fetch("url2");
        task3 = fetch("url3");
    }
    // All tasks guaranteed complete here.
    println!("{task1} {task2} {task3}");

    // The reference's fan-out: one task per endpoint, the results in input order.
    let endpoints = ["/users", "/orders", "/inventory"];
    group! {
        results = for endpoint in endpoints => fetch_endpoint(endpoint);
    }
    // Reached only if every child succeeded.
    let results: Vec<String> = results
        .iter()
        .map(|r| format!("{{endpoint: {:?}, status: {:?}}}", r.endpoint, r.status))
        .collect();
    println!("[{}]", results.join(", "));
    Ok(())
}
