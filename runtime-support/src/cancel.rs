//! Cooperative cancellation: how a child learns that its group is cancelling, and why.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// Why a group began cancelling its children.
///
/// Returned by [`cancelled`] so that a child's cleanup can tell a deadline from a sibling's
/// failure (the cancellation *cause* that `tokio::task::JoinSet` users ask for).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// A sibling task returned an error (fail-fast).
    SiblingFailed,
    /// A sibling task panicked.
    SiblingPanicked,
    /// In first-success mode, a sibling task succeeded: the others are no longer needed.
    SiblingSucceeded,
    /// The group's `timeout` elapsed.
    Deadline,
    /// The group was ended on purpose with [`Scope::cancel`](crate::Scope::cancel).
    Cancelled,
    /// The enclosing group is cancelling, or the group's own future was dropped.
    Parent,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::SiblingFailed => "a sibling task failed",
            CancelReason::SiblingPanicked => "a sibling task panicked",
            CancelReason::SiblingSucceeded => "a sibling task succeeded first",
            CancelReason::Deadline => "the group's deadline elapsed",
            CancelReason::Cancelled => "the group was cancelled",
            CancelReason::Parent => "the enclosing group was cancelled or dropped",
        })
    }
}

/// The part of a group that its children can see: the cancellation signal and its reason.
#[derive(Debug)]
pub(crate) struct Signal {
    token: CancellationToken,
    /// Set when this group begins cancelling: by its own `cancel`, or by its driver when it
    /// sees an enclosing group's cancellation (before it polls any child). A lock-free
    /// mirror of the token for the hot paths; the token itself takes a lock to read.
    cancelling: AtomicBool,
    reason: OnceLock<CancelReason>,
    /// The group is nested in another, whose cancellation reaches it through the token.
    nested: bool,
}

impl Signal {
    /// A signal for a new group: a child of the enclosing group's signal, if any, so that a
    /// parent's cancellation reaches grandchildren.
    pub(crate) fn new() -> Arc<Self> {
        let parent = CURRENT.try_with(|parent| parent.token.child_token()).ok();
        Arc::new(Signal {
            cancelling: AtomicBool::new(false),
            nested: parent.is_some(),
            token: parent.unwrap_or_default(),
            reason: OnceLock::new(),
        })
    }

    /// Starts cancelling for `reason`; the first reason given stands.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let _ = self.reason.set(reason);
        self.cancelling.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Whether the group's token is cancelled, exactly (it takes the token's lock).
    pub(crate) fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Whether the group has begun cancelling, as its driver knows it: lock-free.
    pub(crate) fn cancelling(&self) -> bool {
        self.cancelling.load(Ordering::Acquire)
    }

    /// The driver saw an enclosing group's cancellation reach this group's token.
    pub(crate) fn mark_cancelling(&self) {
        self.cancelling.store(true, Ordering::Release);
    }

    /// For a nested group: a future that wakes its driver when an enclosing group cancels
    /// (nothing else would, when the group runs in a spawned task whose children sleep).
    pub(crate) fn watch(&self) -> Option<tokio_util::sync::WaitForCancellationFutureOwned> {
        self.nested.then(|| self.token.clone().cancelled_owned())
    }

    pub(crate) fn reason(&self) -> CancelReason {
        // A token cancelled without a reason of its own was cancelled through its parent.
        self.reason.get().copied().unwrap_or(CancelReason::Parent)
    }
}

tokio::task_local! {
    /// The signal of the group whose children are being polled right now.
    pub(crate) static CURRENT: Arc<Signal>;
}

/// Waits until the enclosing group begins cancelling, and tells why.
///
/// This is cohort's `except asyncio.CancelledError:` block: a child that wants to clean up
/// asynchronously when its group is cancelled races its work against `cancelled()`. The group
/// gives such children its `grace` period (see the `grace` option) before it drops them; without
/// a grace period children are dropped at once and never observe the signal.
///
/// Outside of any group the future never resolves.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
///
/// async fn sensor(log: &std::sync::Mutex<Vec<String>>) -> Result<(), std::io::Error> {
///     tokio::select! {
///         _ = tokio::time::sleep(Duration::from_secs(2)) => Ok(()),
///         why = cohort_runtime::cancelled() => {
///             log.lock().unwrap().push(format!("cleanup after: {why}"));
///             Ok(())
///         }
///     }
/// }
///
/// let log = std::sync::Mutex::new(Vec::new());
/// let result = cohort_runtime::Group::new()
///     .grace(Duration::from_millis(100))
///     .scope(async |s| {
///         s.spawn(sensor(&log));
///         s.spawn(async {
///             tokio::time::sleep(Duration::from_millis(500)).await;
///             Err::<(), _>(std::io::Error::other("sensor B failed"))
///         });
///         Ok::<_, std::io::Error>(())
///     })
///     .await;
/// assert!(result.is_err());
/// assert_eq!(log.lock().unwrap()[0], "cleanup after: a sibling task failed");
/// # }
/// ```
pub async fn cancelled() -> CancelReason {
    match CURRENT.try_with(Arc::clone) {
        Ok(signal) => {
            signal.token.cancelled().await;
            signal.reason()
        }
        Err(_) => std::future::pending().await,
    }
}

/// Whether the enclosing group has begun cancelling. `false` outside of any group.
pub fn is_cancelled() -> bool {
    CURRENT
        .try_with(|signal| signal.is_cancelled())
        .unwrap_or(false)
}

/// A group was cancelled from outside (by [`Scope::cancel`](crate::Scope::cancel) or by its
/// enclosing group) before every task could finish, and no task failed.
///
/// It arrives as the only leaf of the group's [`ErrorGroup`](crate::ErrorGroup), under the
/// task name `cancelled`, because the group has no values to bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled {
    reason: CancelReason,
}

impl Cancelled {
    pub(crate) const fn new(reason: CancelReason) -> Self {
        Cancelled { reason }
    }

    /// Why the group was cancelled.
    pub const fn reason(&self) -> CancelReason {
        self.reason
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled: {}", self.reason)
    }
}

impl std::error::Error for Cancelled {}
