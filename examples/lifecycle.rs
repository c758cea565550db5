//! A service's life in one group: a server that must be listening before the rest goes on
//! (`Scope::start`), a job cancelled alone by its handle (`TaskHandle::cancel`), and the whole
//! group shut down from outside by a `CancellationToken` (`Group::cancel_on`), each task
//! flushing within the grace period and ending as cancelled.
//!
//! ```text
//! cargo run --example lifecycle
//! ```
//!
//! Everything runs on `127.0.0.1`, at a port the OS picks.

use std::time::Duration;

use taskgroup::{BoxError, CancelReason, Cancelled, Group, HandleError, Ready};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Binds, says it is ready with its port, then answers every connection with a greeting,
/// until it is told to cancel: then it stops accepting and ends as cancelled.
async fn server(ready: Ready<u16>) -> Result<(), BoxError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    ready.started(listener.local_addr()?.port());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (mut stream, _) = accepted?;
                stream.write_all(b"hello from the server\n").await?;
            }
            why = taskgroup::cancelled() => {
                println!("server: stops accepting ({why})");
                return Err(Cancelled::from(why).into());
            }
        }
    }
}

/// A report that takes far too long: the body gives up on it and cancels it alone.
async fn slow_report() -> Result<&'static str, BoxError> {
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok("report")
}

/// Flushes a buffer once told to cancel, and ends as cancelled: a task with a value type
/// that has no value to give.
async fn buffered_writer() -> Result<u64, BoxError> {
    let why = taskgroup::cancelled().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    println!("writer: flushed 3 records ({why})");
    Err(Cancelled::from(why).into())
}

async fn greeting(port: u16) -> Result<String, BoxError> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut line = String::new();
    stream.read_to_string(&mut line).await?;
    Ok(line.trim_end().to_owned())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let shutdown = CancellationToken::new();
    let outcome = Group::new()
        .name("service")
        .grace(Duration::from_millis(500))
        .cancel_on(shutdown.clone().cancelled_owned())
        .scope(async |s| {
            // 1. The server is listening once `start` returns: connecting cannot race it.
            let port = s.start(server).await?;
            println!("server: listening on port {port}");
            println!("client: {}", greeting(port).await?);

            // 2. One task cancelled alone: the group goes on, and is not failing.
            let report = s.spawn(slow_report());
            let writer = s.spawn(buffered_writer());
            tokio::time::sleep(Duration::from_millis(50)).await;
            report.cancel();
            match report.await {
                Err(HandleError::Cancelled(CancelReason::Handle)) => {
                    println!("report: cancelled by its handle; the group goes on");
                }
                other => println!("report: {other:?}"),
            }
            assert!(!s.is_cancelled());

            // 3. A shutdown from outside: every task is told, flushes, and ends as cancelled.
            shutdown.cancel();
            println!("writer: {:?}", writer.await);
            Ok::<_, BoxError>(port)
        })
        .await;
    match outcome {
        Ok(port) => println!("service: shut down cleanly (it served on port {port})"),
        Err(errors) => println!("service: {errors:#}"),
    }
    Ok(())
}
