//! Recipe: an axum handler that fans out to upstream services under one deadline and maps
//! the group's failures to HTTP statuses: 504 when the deadline fires, 502 when an upstream
//! fails, 500 for anything else.
//!
//! ```text
//! cargo run --example axum_handler
//! ```
//!
//! It starts two servers on `127.0.0.1` at ports the OS picks: an upstream that answers
//! `/price/{id}` and `/stock/{id}` (product 13 makes the stock service answer 503, product 99
//! makes the price service hang), and the shop, whose `GET /product/{id}` handler asks both
//! in one `group!`. Then it requests three products over real HTTP and prints each answer.
//!
//! The shape to copy:
//! - The application error is `IntoResponse` (so a handler returns `Result<_, AppError>`),
//!   a `std::error::Error` (so an arm may `return Err(..)` while other errors are still
//!   unhandled: they leave together, as one `ErrorGroup`) and `From<ErrorGroup>` (so the
//!   errors no arm names become a 500 rather than vanish).
//! - `From<ErrorGroup>` is needed even when the arms name every error type the tasks can
//!   return: a group also carries errors from outside its tasks' signatures (those that a
//!   nested group, dropped inside a task, hands up to it), so the compiler cannot know that
//!   the arms cover everything. To need no
//!   conversion, end the arms with `except* _ => ...`.
//! - The handler is spawned by axum, so its future must be `Send`: in-place tasks with
//!   `Send` futures keep it so, and `taskgroup::scope!` (not the function `scope`) is the
//!   form for dynamic spawning in a handler.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use taskgroup::{Elapsed, ErrorGroup, group};

/// How long the shop waits for its upstreams, per request.
const DEADLINE: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------------------------------
// The application error: one variant per status, `IntoResponse` and `From<ErrorGroup>`.
// ---------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
enum AppError {
    /// The deadline fired: 504.
    #[error("upstreams too slow: {0}")]
    Timeout(ErrorGroup<Elapsed>),
    /// An upstream answered with an error or not at all: 502.
    #[error("upstream failed: {0}")]
    Upstream(ErrorGroup<UpstreamError>),
    /// Everything else: 500.
    #[error("internal error: {0}")]
    Internal(ErrorGroup),
}

/// The errors no arm takes (and the arms' own errors, if others are unhandled) arrive here.
impl From<ErrorGroup> for AppError {
    fn from(errors: ErrorGroup) -> Self {
        AppError::Internal(errors)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            AppError::Timeout(late) => (StatusCode::GATEWAY_TIMEOUT, leaves(late)),
            AppError::Upstream(failed) => (StatusCode::BAD_GATEWAY, leaves(failed)),
            AppError::Internal(errors) => (StatusCode::INTERNAL_SERVER_ERROR, leaves(errors)),
        };
        (status, detail).into_response()
    }
}

/// Every failed task with its error, `task: error; task: error`.
fn leaves<E: std::fmt::Display>(errors: &ErrorGroup<E>) -> String {
    let lines: Vec<String> = errors
        .leaves()
        .map(|leaf| format!("{}: {}", leaf.task, leaf.error))
        .collect();
    lines.join("; ")
}

/// An upstream request that failed: refused, broken, or answered with an error status.
#[derive(Debug, thiserror::Error)]
#[error("GET {path}: {reason}")]
struct UpstreamError {
    path: String,
    reason: String,
}

// ---------------------------------------------------------------------------------------
// The handler: two upstream calls in one group, with a deadline and an arm per status.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct Shop {
    upstream: Upstream,
}

#[derive(Debug, Serialize, Deserialize)]
struct Product {
    id: u32,
    cents: u64,
    in_stock: u32,
}

async fn product(State(shop): State<Shop>, Path(id): Path<u32>) -> Result<Json<Product>, AppError> {
    group! {
        #![timeout = DEADLINE]
        cents = shop.upstream.get(format!("/price/{id}"));
        in_stock = shop.upstream.get(format!("/stock/{id}"));
        except* Elapsed as late => return Err(AppError::Timeout(late)),
        except* UpstreamError as failed => return Err(AppError::Upstream(failed)),
    }
    Ok(Json(Product {
        id,
        cents,
        in_stock: u32::try_from(in_stock).unwrap_or(u32::MAX),
    }))
}

// ---------------------------------------------------------------------------------------
// The upstream and its client.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct Upstream {
    address: SocketAddr,
    client: Client<HttpConnector, Body>,
}

impl Upstream {
    /// `GET path`, whose body is a number.
    async fn get(&self, path: String) -> Result<u64, UpstreamError> {
        let failed = |reason: String| UpstreamError {
            path: path.clone(),
            reason,
        };
        let uri: Uri = format!("http://{}{path}", self.address)
            .parse()
            .map_err(|e| failed(format!("{e}")))?;
        let response = self
            .client
            .get(uri)
            .await
            .map_err(|e| failed(format!("{e}")))?;
        let status = response.status();
        let body = axum::body::to_bytes(Body::new(response.into_body()), 1024)
            .await
            .map_err(|e| failed(format!("{e}")))?;
        if !status.is_success() {
            return Err(failed(status.to_string()));
        }
        String::from_utf8_lossy(&body)
            .trim()
            .parse()
            .map_err(|e| failed(format!("not a number: {e}")))
    }
}

async fn price(Path(id): Path<u32>) -> Response {
    if id == 99 {
        // Far past the shop's deadline.
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    (u64::from(id) * 250).to_string().into_response()
}

async fn stock(Path(id): Path<u32>) -> Response {
    tokio::time::sleep(Duration::from_millis(10)).await;
    if id == 13 {
        return (StatusCode::SERVICE_UNAVAILABLE, "stock database down").into_response();
    }
    (id % 7).to_string().into_response()
}

// ---------------------------------------------------------------------------------------
// The program: both servers and three requests, in one scope that cannot outlive `main`.
// ---------------------------------------------------------------------------------------

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let upstream_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let shop_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let shop_address = shop_listener.local_addr()?;
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let shop = Shop {
        upstream: Upstream {
            address: upstream_listener.local_addr()?,
            client: client.clone(),
        },
    };
    let upstream = Router::new()
        .route("/price/{id}", get(price))
        .route("/stock/{id}", get(stock));
    let app = Router::new()
        .route("/product/{id}", get(product))
        .with_state(shop);
    println!("shop listening on http://{shop_address}");

    // The servers are tasks of the same scope as the requests: when the requests are done,
    // `s.cancel()` stops them and the scope ends without an error.
    taskgroup::scope!(async |s| {
        s.spawn_parallel(async move { axum::serve(upstream_listener, upstream).await });
        s.spawn_parallel(async move { axum::serve(shop_listener, app).await });
        for id in [5, 13, 99] {
            let uri: Uri = format!("http://{shop_address}/product/{id}").parse()?;
            let response = client.get(uri).await?;
            let status = response.status();
            let body = axum::body::to_bytes(Body::new(response.into_body()), 4096).await?;
            println!(
                "GET /product/{id} -> {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        s.cancel();
        Ok::<_, BoxError>(())
    })
    .await?;
    Ok(())
}
