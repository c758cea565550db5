//! `load_user_page` and `handle_request`: a group per web request.
//!
//! Mirrors the course's two request handlers:
//!
//! - `load_user_page(user_id)`: fetch the user and their orders together, and return both;
//! - `handle_request(user_id)`: load the profile and write an audit event together; on an
//!   `OSError`, `raise RuntimeError("request dependencies failed") from group`.
//!
//! In Rust the handlers return typed errors: `except* std::io::Error as errs` wraps the
//! I/O errors in the handler's own error type, with the group as its `source()` (Python's
//! `raise ... from group`), and any other error propagates with `?`, still grouped. A
//! deadline (`#![timeout]`) turns a slow dependency into a degraded page instead of an error.
//!
//! Every group here is `Send`, so each request runs in `tokio::spawn`, as it would in an
//! axum handler. Run it with `cargo run --example load_user_page`.

use std::io;
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::sleep;

#[derive(Debug)]
struct User {
    id: u32,
    name: String,
}

#[derive(Debug)]
struct Order {
    id: u32,
    total_cents: u64,
}

#[derive(Debug)]
struct Page {
    user: Option<User>,
    orders: Vec<Order>,
    degraded: bool,
}

/// Why a page could not be loaded.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("I/O failure while loading the page")]
    Io(#[source] ErrorGroup<io::Error>),
    /// Errors no arm handled, still grouped.
    #[error(transparent)]
    Other(#[from] ErrorGroup),
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("request dependencies failed")]
    Dependencies(#[source] ErrorGroup<io::Error>),
    #[error(transparent)]
    Other(#[from] ErrorGroup),
}

async fn fetch_user(id: u32) -> Result<User, io::Error> {
    sleep(Duration::from_millis(20)).await;
    Ok(User {
        id,
        name: format!("user-{id}"),
    })
}

async fn fetch_orders(id: u32) -> Result<Vec<Order>, io::Error> {
    match id {
        13 => {
            sleep(Duration::from_millis(10)).await;
            Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "orders service refused the connection",
            ))
        }
        99 => {
            sleep(Duration::from_secs(30)).await; // a dependency that hangs
            Ok(Vec::new())
        }
        _ => {
            sleep(Duration::from_millis(30)).await;
            Ok(vec![
                Order {
                    id: id * 10 + 1,
                    total_cents: 1999,
                },
                Order {
                    id: id * 10 + 2,
                    total_cents: 500,
                },
            ])
        }
    }
}

/// The course's `load_user_page`, with a deadline.
async fn load_user_page(id: u32) -> Result<Page, AppError> {
    group! {
        #![name = "load_user_page"]
        #![timeout = Duration::from_millis(200)]
        user   = fetch_user(id);
        orders = fetch_orders(id);
        except* io::Error as errs => return Err(AppError::Io(errs)),
        except* taskgroup::Elapsed => return Ok(Page { user: None, orders: Vec::new(), degraded: true }),
    }
    Ok(Page {
        user: Some(user),
        orders,
        degraded: false,
    })
}

async fn load_profile(id: u32) -> Result<String, io::Error> {
    sleep(Duration::from_millis(20)).await;
    Ok(format!("profile of user {id}"))
}

async fn write_audit_event(id: u32) -> Result<(), io::Error> {
    sleep(Duration::from_millis(10)).await;
    if id == 42 {
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "audit log: no space left on device",
        ));
    }
    Ok(())
}

/// The course's `handle_request`.
async fn handle_request(id: u32) -> Result<String, RequestError> {
    group! {
        #![name = "handle_request"]
        profile = load_profile(id);
        _       = write_audit_event(id);
        // raise RuntimeError("request dependencies failed") from group
        except* io::Error as group => return Err(RequestError::Dependencies(group)),
    }
    Ok(profile)
}

/// An error and its chain of sources, the way Python prints `raise ... from ...`.
fn explain(error: &(dyn std::error::Error + 'static)) {
    println!("  error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        println!("  caused by: {cause}");
        if let Some(group) = cause.downcast_ref::<ErrorGroup<io::Error>>() {
            for line in format!("{group:#}").lines() {
                println!("  {line}");
            }
        }
        source = cause.source();
    }
}

#[tokio::main]
async fn main() {
    println!("load_user_page");
    for id in [7, 13, 99] {
        // In a task of its own, as a web framework runs a handler: the group is `Send`.
        let page = tokio::spawn(load_user_page(id))
            .await
            .expect("the handler did not panic");
        match page {
            Ok(Page { degraded: true, .. }) => {
                println!("user {id}: degraded page (a dependency missed the deadline)")
            }
            Ok(page) => {
                let total: u64 = page.orders.iter().map(|order| order.total_cents).sum();
                let ids: Vec<u32> = page.orders.iter().map(|order| order.id).collect();
                let name = page
                    .user
                    .map(|user| format!("{} (id {})", user.name, user.id));
                println!(
                    "user {id}: {}, orders {ids:?}, total {total} cents",
                    name.unwrap_or_default()
                );
            }
            Err(error) => {
                println!("user {id}: failed");
                explain(&error);
            }
        }
    }

    println!();
    println!("handle_request");
    for id in [7, 42] {
        let outcome = tokio::spawn(handle_request(id))
            .await
            .expect("the handler did not panic");
        match outcome {
            Ok(profile) => println!("user {id}: 200 OK, {profile}"),
            Err(error) => {
                println!("user {id}: 500");
                explain(&error);
            }
        }
    }
}
