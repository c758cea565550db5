//! Why a group cancels: the reason its children learn from [`cancelled`](crate::cancelled),
//! and the [`Cancelled`] leaf of a group cancelled from outside.

use std::fmt;

/// Why a group began cancelling its children.
///
/// Returned by [`cancelled`](crate::cancelled) so that a child's cleanup can tell a deadline from a sibling's
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
    /// This task alone was cancelled through its [`TaskHandle::cancel`](crate::TaskHandle::cancel);
    /// its group goes on.
    Handle,
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
            CancelReason::Handle => "the task was cancelled through its handle",
        })
    }
}

impl CancelReason {
    /// The reason as a non-zero byte, for [`Signal`]'s state (0 is "running").
    pub(crate) const fn code(self) -> u8 {
        match self {
            CancelReason::SiblingFailed => 1,
            CancelReason::SiblingPanicked => 2,
            CancelReason::SiblingSucceeded => 3,
            CancelReason::Deadline => 4,
            CancelReason::Cancelled => 5,
            CancelReason::Parent => 6,
            CancelReason::Handle => 7,
        }
    }

    /// The reason whose [`code`](Self::code) is `code`; `None` for 0, "running".
    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => CancelReason::SiblingFailed,
            2 => CancelReason::SiblingPanicked,
            3 => CancelReason::SiblingSucceeded,
            4 => CancelReason::Deadline,
            5 => CancelReason::Cancelled,
            6 => CancelReason::Parent,
            7 => CancelReason::Handle,
            _ => return None,
        })
    }
}

/// A cancellation, as an error: a group cancelled from outside, or a task that ends as
/// cancelled.
///
/// **A group** cancelled from outside (by [`Scope::cancel`](crate::Scope::cancel), by
/// `#![cancel_on = ..]` or [`Group::cancel_on`](crate::Group::cancel_on), or by its enclosing
/// group) before every task could finish, with no task failed, has no values to bind: it
/// fails with a `Cancelled` as the only leaf of its [`ErrorGroup`](crate::ErrorGroup), under
/// the task name `cancelled`. Match it with `except* taskgroup::Cancelled`.
///
/// **A task** ends as cancelled by returning one, made from the reason
/// [`cancelled`](crate::cancelled) gave: Python's `except CancelledError: await cleanup();
/// raise`. While its group is cancelling (or after its own [`TaskHandle::cancel`](crate::TaskHandle::cancel)),
/// that is a cancellation, never an error of the group. The task's error type must hold it
/// as itself: `Box<dyn Error + Send + Sync>` (or [`BoxError`](crate::BoxError)) does; an
/// `anyhow::Error` does not (it converts into a box that hides what it wraps), nor does an
/// enum of your own that wraps it: those arrive as errors.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// use taskgroup::{BoxError, Cancelled, ErrorGroup, group};
///
/// async fn worker(flushed: &std::sync::atomic::AtomicBool) -> Result<u32, BoxError> {
///     let why = taskgroup::cancelled().await; // no value to return: it only stops
///     flushed.store(true, std::sync::atomic::Ordering::Relaxed);
///     Err(Cancelled::from(why).into())
/// }
///
/// async fn run(flushed: &std::sync::atomic::AtomicBool) -> Result<(), ErrorGroup> {
///     group! {
///         #![grace = Duration::from_secs(1)]
///         count = worker(flushed);
///         _ = async { Err::<(), _>(std::io::Error::other("disk full")) };
///     }
///     let _ = count;
///     Ok(())
/// }
///
/// let flushed = std::sync::atomic::AtomicBool::new(false);
/// let errors = run(&flushed).await.unwrap_err();
/// // Only the real failure is an error; the worker ended as cancelled, after its cleanup.
/// assert_eq!(errors.len(), 1);
/// assert!(errors.find::<Cancelled>().is_none());
/// assert!(flushed.into_inner());
/// # }
/// ```
///
/// A task that returns a `Cancelled` while nothing cancelled it (its group is not
/// cancelling, its handle was not cancelled) misuses it: that is an error like any other,
/// and fails the group with the `Cancelled` under the task's name, so that it is never
/// silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled {
    reason: CancelReason,
}

impl From<CancelReason> for Cancelled {
    /// A cancellation for `reason`: what a task returns to end as cancelled.
    fn from(reason: CancelReason) -> Self {
        Cancelled::new(reason)
    }
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
