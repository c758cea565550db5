//! The error a group's deadline adds to its error group.

use std::fmt;
use std::time::Duration;

/// The group's `timeout` elapsed before every task finished.
///
/// It arrives as a leaf of the group's [`ErrorGroup`](crate::ErrorGroup), under the task name
/// `deadline`, and is matched with `except* taskgroup::Elapsed`. Errors that tasks returned before
/// the deadline are in the same group, before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    after: Duration,
}

impl Elapsed {
    pub(crate) const fn new(after: Duration) -> Self {
        Elapsed { after }
    }

    /// The timeout that elapsed.
    pub const fn timeout(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline elapsed after {:?}", self.after)
    }
}

impl std::error::Error for Elapsed {}
