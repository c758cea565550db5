//! Observability: with the `tracing` feature, every group and task gets a span (the group's
//! name; the task's binding name, file and line) and every failure and cancellation an event.
//!
//! Run it with `cargo run --example tracing --features tracing`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

async fn fetch_profile(id: u32) -> Result<String, std::io::Error> {
    sleep(Duration::from_millis(20)).await;
    tracing::info!(id, "profile loaded");
    Ok(format!("profile {id}"))
}

async fn fetch_orders(id: u32) -> Result<Vec<u32>, std::io::Error> {
    sleep(Duration::from_millis(50)).await;
    Err(std::io::Error::other(format!(
        "orders service unavailable for {id}"
    )))
}

async fn slow_recommendations(_id: u32) -> Result<Vec<String>, std::io::Error> {
    sleep(Duration::from_secs(5)).await;
    Ok(Vec::new())
}

async fn load_user_page(id: u32) -> Result<(), ErrorGroup> {
    group! {
        #![name = "load_user_page"]
        profile = fetch_profile(id);
        orders = fetch_orders(id);
        recommendations = slow_recommendations(id);
    }
    let _ = (profile, orders, recommendations);
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .without_time()
        .init();
    if let Err(errors) = load_user_page(7).await {
        println!("load_user_page failed:\n{errors:#}");
    }
}
