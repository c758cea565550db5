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
            _ => return None,
        })
    }
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
