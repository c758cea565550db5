//! The errors a group's own clock adds to its error group: its deadline ([`Elapsed`]) and the
//! end of its grace period for a task that was cleaning up ([`GraceElapsed`]).

use std::fmt;
use std::time::Duration;

use crate::error_group::TaskName;

/// How many running tasks [`Elapsed`]'s `Display` names before `and N more`.
const MAX_NAMED: usize = 5;

/// The group's `timeout` elapsed before every task finished.
///
/// It arrives as a leaf of the group's [`ErrorGroup`](crate::ErrorGroup), under the task name
/// `deadline`, and is matched with `except* taskgroup::Elapsed`. Errors that tasks returned before
/// the deadline are in the same group, before it.
///
/// It names the tasks that were still running when the deadline fired, with how long each had
/// run ([`running`](Self::running)), so that the first question after a timeout, which task
/// hung, has its answer in the error: `deadline elapsed after 2s; still running: fetch_orders
/// (2s), pages[3] (1.2s)`. (Python's `TimeoutError` says only that the deadline passed.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elapsed {
    after: Duration,
    running: Vec<(TaskName, Duration)>,
}

impl Elapsed {
    pub(crate) const fn new(after: Duration, running: Vec<(TaskName, Duration)>) -> Self {
        Elapsed { after, running }
    }

    /// The timeout that elapsed.
    pub const fn timeout(&self) -> Duration {
        self.after
    }

    /// The tasks still running when the deadline fired, in the order the group holds them
    /// (declaration order, then each fan-out's items and each scope's tasks as they started),
    /// each with how long it had run. A scope's body is named `body`.
    pub fn running(&self) -> &[(TaskName, Duration)] {
        &self.running
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline elapsed after {:?}", self.after)?;
        for (i, (task, ran)) in self.running.iter().take(MAX_NAMED).enumerate() {
            let separator = if i == 0 { "; still running: " } else { ", " };
            // To the millisecond: `1.2s`, `350ms`.
            let ran = Duration::from_millis(u64::try_from(ran.as_millis()).unwrap_or(u64::MAX));
            write!(f, "{separator}{task} ({ran:?})")?;
        }
        if self.running.len() > MAX_NAMED {
            write!(f, " and {} more", self.running.len() - MAX_NAMED)?;
        }
        Ok(())
    }
}

impl std::error::Error for Elapsed {}

/// A task that was told to cancel was dropped when the group's grace period ran out, before
/// it finished cleaning up.
///
/// A task is told when its [`cancelled()`](crate::cancelled) resolves or its
/// [`is_cancelled()`](crate::is_cancelled) returns `true`. If it is still running when the
/// grace period ends, it is dropped (or aborted, if spawned) as any other task, and this error
/// is added to the group under the task's name, so that the group fails and says whose cleanup
/// was cut short, whatever started the cancellation: a failure, the deadline,
/// [`Scope::cancel`](crate::Scope::cancel) or an enclosing group. A task that never looked at
/// cancellation is dropped as a plain cancellation, as before the grace period began. Matched
/// with `except* taskgroup::GraceElapsed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraceElapsed {
    grace: Duration,
}

impl GraceElapsed {
    pub(crate) const fn new(grace: Duration) -> Self {
        GraceElapsed { grace }
    }

    /// The grace period that ran out.
    pub const fn grace(&self) -> Duration {
        self.grace
    }
}

impl fmt::Display for GraceElapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dropped when the grace period of {:?} ran out, before it finished cleaning up",
            self.grace
        )
    }
}

impl std::error::Error for GraceElapsed {}
