//! Helpers shared by the integration tests: drop guards that record the virtual instant of
//! their drop, live counters, a concurrency tracker, a `catch_unwind` future and a few tasks.
#![allow(dead_code, unreachable_pub)]

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An event and the virtual instant, in milliseconds since the test began, it is expected at.
pub fn at(event: &str, n: u64) -> (String, Duration) {
    (event.to_owned(), ms(n))
}

/// Sleeps `n` milliseconds of virtual time.
pub async fn sleep_ms(n: u64) {
    tokio::time::sleep(ms(n)).await;
}

/// A second error type, distinct from `std::io::Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyError(pub &'static str);

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "my error: {}", self.0)
    }
}

impl std::error::Error for MyError {}

/// Succeeds with `value` after `n` ms.
pub async fn ok_after<T>(n: u64, value: T) -> Result<T, std::io::Error> {
    sleep_ms(n).await;
    Ok(value)
}

/// Fails with an `io::Error` carrying `msg` after `n` ms.
pub async fn io_fail_after<T>(n: u64, msg: &'static str) -> Result<T, std::io::Error> {
    sleep_ms(n).await;
    Err(std::io::Error::other(msg))
}

/// Fails with a `MyError` after `n` ms.
pub async fn my_fail_after<T>(n: u64, msg: &'static str) -> Result<T, MyError> {
    sleep_ms(n).await;
    Err(MyError(msg))
}

/// What happened when: `(event, virtual time since the test's start)`.
#[derive(Clone, Debug)]
pub struct Log {
    start: Instant,
    events: Arc<Mutex<Vec<(String, Duration)>>>,
}

impl Log {
    /// A log whose clock starts now.
    pub fn new() -> Self {
        Log {
            start: Instant::now(),
            events: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Records `event` at the current virtual instant.
    pub fn push(&self, event: impl Into<String>) {
        let at = self.start.elapsed();
        self.events.lock().unwrap().push((event.into(), at));
    }

    /// A guard that records `"{name} dropped"` when dropped.
    pub fn guard(&self, name: impl Into<String>) -> DropGuard {
        DropGuard {
            name: name.into(),
            log: self.clone(),
        }
    }

    /// Every event, in order.
    pub fn events(&self) -> Vec<(String, Duration)> {
        self.events.lock().unwrap().clone()
    }

    /// The event names, in order.
    pub fn names(&self) -> Vec<String> {
        self.events().into_iter().map(|(name, _)| name).collect()
    }

    /// When `event` was recorded (the first time), if it was.
    pub fn at(&self, event: &str) -> Option<Duration> {
        self.events()
            .into_iter()
            .find(|(name, _)| name == event)
            .map(|(_, at)| at)
    }

    /// Whether `event` was recorded.
    pub fn has(&self, event: &str) -> bool {
        self.at(event).is_some()
    }

    /// Virtual time since the log was created.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A task that sleeps `n` milliseconds of virtual time holding a [`DropGuard`] named `name`,
/// then logs `"{name} finished"`: a sibling whose end (finished, or dropped at some instant)
/// the log tells.
pub async fn sleeper(log: &Log, name: &'static str, n: u64) -> Result<(), std::io::Error> {
    let _guard = log.guard(name);
    sleep_ms(n).await;
    log.push(format!("{name} finished"));
    Ok(())
}

/// Records `"{name} dropped"` into its log, with the virtual instant, when dropped; or
/// `"{name} dropped while unwinding"` if it is dropped by a panic unwinding through it (and
/// not by the group, which must drop children before it resumes a panic).
#[derive(Debug)]
pub struct DropGuard {
    name: String,
    log: Log,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.log
                .push(format!("{} dropped while unwinding", self.name));
        } else {
            self.log.push(format!("{} dropped", self.name));
        }
    }
}

/// Counts live instances: +1 when created, -1 when dropped.
#[derive(Debug)]
pub struct Live(Arc<AtomicUsize>);

impl Live {
    pub fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Live(Arc::clone(counter))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tracks how many tasks run at once, the maximum, and how many ever started.
#[derive(Debug, Default)]
pub struct Tracker {
    current: AtomicUsize,
    max: AtomicUsize,
    started: AtomicUsize,
}

impl Tracker {
    pub fn new() -> Arc<Self> {
        Arc::new(Tracker::default())
    }

    /// Enters: one more task in flight until the returned guard is dropped.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
}

/// One task in flight; leaves when dropped (completed or cancelled).
#[derive(Debug)]
pub struct InFlight(Arc<Tracker>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A tracked task: enters `tracker`, sleeps `n` ms, returns `value`.
pub async fn tracked<T>(tracker: Arc<Tracker>, n: u64, value: T) -> Result<T, std::io::Error> {
    let _in = tracker.enter();
    sleep_ms(n).await;
    Ok(value)
}

/// A future that catches a panic of its inner future, which it keeps alive (not dropped)
/// after the panic, so that a test can tell what was dropped before the panic surfaced.
pub struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchUnwind<F> {
    pub fn new(fut: F) -> Self {
        CatchUnwind {
            inner: Box::pin(fut),
        }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Awaits `fut`, which must panic, and logs `"panic surfaced"` at the instant the panic reaches
/// the caller. Returns the payload and the caught future, which the caller keeps alive until
/// after its assertions, so that whatever the log shows dropped was dropped by the group
/// before the panic surfaced, not by the test.
pub async fn panic_surfaced<F>(log: &Log, fut: F) -> (Box<dyn Any + Send>, CatchUnwind<F>)
where
    F: Future,
    F::Output: fmt::Debug,
{
    let mut caught = CatchUnwind::new(fut);
    let payload = (&mut caught)
        .await
        .expect_err("the panic resumes in the parent");
    log.push("panic surfaced");
    (payload, caught)
}

/// The message of a panic payload (`&str` or `String`), or `None` for any other payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some((*s).to_owned())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// The task names of the direct members of an error group, as displayed (`pages[3]`).
pub fn task_names<E>(group: &taskgroup::ErrorGroup<E>) -> Vec<String> {
    group
        .members()
        .iter()
        .map(|member| member.task().to_string())
        .collect()
}

/// The leaves' error messages, depth-first.
pub fn leaf_messages(group: &taskgroup::ErrorGroup) -> Vec<String> {
    group.leaves().map(|leaf| leaf.error.to_string()).collect()
}

/// Yields to the scheduler a few times, so that aborted tasks are dropped.
pub async fn settle_runtime() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}
