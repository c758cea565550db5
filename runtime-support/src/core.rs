//! The state one group keeps while it runs: options, errors, the limit, the cancellation signal.

use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::cancel::{CancelReason, Cancelled, Signal};
use crate::error_group::{BoxError, ErrorGroup, TaskName};

/// How a group reacts to a failing task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// The first error cancels every other task (Python's `TaskGroup`). The default.
    #[default]
    FailFast,
    /// Failures do not cancel siblings: every task runs to completion and all errors are raised
    /// together at the end (Kotlin's `supervisorScope`).
    Supervise,
    /// Every task runs to completion and nothing is raised but a deadline: each task's
    /// `Result` is its value (`asyncio.gather(..., return_exceptions=True)`). In `group!`,
    /// `#![mode = settle]` binds each task as `Result<T, E>`. A [`Scope`](crate::Scope)'s
    /// handles carry only values, so there tasks spawned as [`settled(fut)`](crate::settled)
    /// carry their `Result`, and an error of a task spawned otherwise is still raised at the
    /// end, as in `Supervise`: no error is ever dropped.
    Settle,
    /// The first task to succeed wins and the others are cancelled; failures do not cancel
    /// anything, and if no task succeeds every error is raised. Errors of tasks that lost the
    /// race are discarded once one task has succeeded. See
    /// [`Group::first_success`](crate::Group::first_success).
    FirstSuccess,
}

impl Mode {
    /// Whether a failure cancels the other tasks.
    const fn fail_fast(self) -> bool {
        matches!(self, Mode::FailFast)
    }
}

/// The options of a group: what `#![name]`, `#![timeout]`, `#![limit]`, `#![grace]` and
/// `#![mode]` set in `group!`, and what [`Group`](crate::Group)'s builder methods set.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) limit: Option<usize>,
    pub(crate) grace: Option<Duration>,
    pub(crate) mode: Mode,
    /// Where the group is written, for traces.
    pub(crate) location: (&'static str, u32),
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

impl Options {
    /// Options with every default: unnamed, no deadline, no limit, no grace, fail-fast.
    pub const fn new() -> Self {
        Options {
            name: None,
            timeout: None,
            limit: None,
            grace: None,
            mode: Mode::FailFast,
            location: ("", 0),
        }
    }

    /// Where the group is written, for traces (`group!` passes `file!()` and `line!()`).
    #[doc(hidden)]
    pub const fn at(mut self, file: &'static str, line: u32) -> Self {
        self.location = (file, line);
        self
    }

    /// Names the group in its error message and in traces.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Cancels the whole group when `timeout` has passed since it started; the group's error
    /// group then holds an [`Elapsed`](crate::Elapsed) leaf.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Caps the number of tasks in flight, group-wide. Tasks beyond the cap wait, in the order
    /// they were declared or spawned; fan-outs pull from their iterator only when a slot is
    /// free, so their memory stays proportional to the limit. A limit of 0 could never start
    /// anything and is treated as 1 (`group!` rejects it at compile time).
    pub const fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(if limit == 0 { 1 } else { limit });
        self
    }

    /// When the group cancels, gives children that watch [`cancelled`](crate::cancelled) up to
    /// `grace` to clean up and finish before they are dropped.
    pub const fn grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// Sets the failure mode.
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

/// A group's running state. The driver owns it and lends it to the branches as they are polled.
#[doc(hidden)]
#[derive(Debug)]
pub struct Core {
    pub(crate) signal: Arc<Signal>,
    pub(crate) options: Options,
    /// The errors so far, in completion order (the message is set when the group ends).
    errors: ErrorGroup,
    /// The error of an imperative body: it comes last, as in Python.
    last: Option<(TaskName, BoxError)>,
    panic: Option<Box<dyn Any + Send>>,
    in_flight: usize,
    /// Some task could not start because the limit was reached.
    waiting: bool,
    /// A slot was freed while a task was waiting: the driver polls once more.
    progressed: bool,
    accepting: bool,
    finished: bool,
    /// First-success mode: a task succeeded.
    won: bool,
}

impl Core {
    pub(crate) fn new(options: Options) -> Self {
        Core {
            signal: Signal::new(),
            options,
            errors: ErrorGroup::new(""),
            last: None,
            panic: None,
            in_flight: 0,
            waiting: false,
            progressed: false,
            accepting: true,
            finished: false,
            won: false,
        }
    }

    /// Asks for a slot to start a task. `false` if the group no longer accepts tasks or the
    /// limit is reached (the caller asks again on the next poll).
    pub(crate) fn try_start(&mut self) -> bool {
        if !self.accepting || self.signal.cancelling() {
            // Cancelling, here or in an enclosing group: nothing new starts.
            self.accepting = false;
            return false;
        }
        if self
            .options
            .limit
            .is_some_and(|limit| self.in_flight >= limit)
        {
            self.waiting = true;
            return false;
        }
        self.in_flight += 1;
        true
    }

    /// A started task finished or was dropped.
    pub(crate) fn release(&mut self) {
        self.in_flight -= 1;
        if self.waiting {
            self.waiting = false;
            self.progressed = true;
        }
    }

    /// Stops starting tasks, whatever the mode (a deadline ends every mode).
    pub(crate) fn stop_accepting(&mut self) {
        self.accepting = false;
    }

    /// Whether new tasks may still start.
    pub(crate) fn accepting(&self) -> bool {
        self.accepting
    }

    /// Records a task's error, in completion order. In fail-fast mode the group stops
    /// accepting tasks at once; the driver cancels the rest after this poll.
    pub(crate) fn fail(&mut self, task: TaskName, error: BoxError) {
        if self.is_cancelling() && is_cancellation(&*error) {
            // A nested group that this group's own cancellation ended before its tasks
            // could finish: a cancellation the group caused, not an error.
            return;
        }
        #[cfg(feature = "tracing")]
        tracing::event!(tracing::Level::WARN, task = %task, error = %error, "task failed");
        self.errors.push_task_error(task, error);
        if self.options.mode.fail_fast() {
            self.accepting = false;
        }
    }

    /// Whether a task could start now (a free slot, and the group accepts tasks).
    pub(crate) fn can_start(&self) -> bool {
        self.accepting
            && self
                .options
                .limit
                .is_none_or(|limit| self.in_flight < limit)
    }

    /// A task succeeded. In first-success mode, the race is over.
    pub(crate) fn succeeded(&mut self) {
        if self.options.mode == Mode::FirstSuccess && !self.won {
            self.won = true;
            self.accepting = false;
        }
    }

    /// In first-success mode, whether some task has succeeded.
    pub(crate) fn won(&self) -> bool {
        self.won
    }

    /// Whether the imperative body keeps running while its tasks are cancelled: when the
    /// group was ended on purpose, or a task won the race, the body still makes the value.
    pub(crate) fn keeps_body(&self) -> bool {
        self.panic.is_none()
            && matches!(
                self.signal.reason(),
                CancelReason::Cancelled | CancelReason::SiblingSucceeded
            )
            && (self.won || !self.has_errors())
    }

    /// Records the error of an imperative body: it cancels like any error but is listed
    /// after the tasks' errors.
    pub(crate) fn fail_last(&mut self, task: TaskName, error: BoxError) {
        self.last = Some((task, error));
        if self.options.mode.fail_fast() {
            self.accepting = false;
        }
    }

    /// Records a panic; the first payload is the one resumed.
    pub(crate) fn panicked(&mut self, task: &TaskName, payload: Box<dyn Any + Send>) {
        #[cfg(feature = "tracing")]
        tracing::event!(tracing::Level::ERROR, task = %task, "task panicked");
        let _ = task;
        self.accepting = false;
        if self.panic.is_none() {
            self.panic = Some(payload);
        }
    }

    pub(crate) fn has_panic(&self) -> bool {
        self.panic.is_some()
    }

    pub(crate) fn fails_fast(&self) -> bool {
        self.options.mode.fail_fast()
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.last.is_some()
    }

    pub(crate) fn take_progress(&mut self) -> bool {
        std::mem::take(&mut self.progressed)
    }

    /// Starts cancelling: children watching [`cancelled`](crate::cancelled) are told why, and
    /// no new task starts.
    pub(crate) fn start_cancel(&mut self, reason: CancelReason) {
        #[cfg(feature = "tracing")]
        tracing::event!(tracing::Level::INFO, reason = %reason, "group cancelling");
        self.accepting = false;
        self.signal.cancel(reason);
    }

    pub(crate) fn is_cancelling(&self) -> bool {
        self.signal.cancelling()
    }

    /// The error of a group cancelled from outside before its tasks could finish.
    pub(crate) fn cancelled_group(&self) -> ErrorGroup {
        let mut group = ErrorGroup::new(self.message());
        let reason = self.signal.reason();
        group.push_task_error(TaskName::new("cancelled"), Box::new(Cancelled::new(reason)));
        group
    }

    fn message(&self) -> Cow<'static, str> {
        match &self.options.name {
            Some(name) => format!("group `{name}` failed").into(),
            None => Cow::Borrowed("task group failed"),
        }
    }

    /// Ends the group: resumes a child's panic, or hands back the errors.
    pub(crate) fn finish(&mut self) -> Result<(), ErrorGroup> {
        self.finished = true;
        if let Some(payload) = self.panic.take() {
            std::panic::resume_unwind(payload);
        }
        let mut errors = std::mem::replace(&mut self.errors, ErrorGroup::new(""));
        if self.won {
            // The race was won: the losers' errors do not matter, and the body's own
            // error still does.
            errors = ErrorGroup::new("");
        }
        if let Some((task, error)) = self.last.take() {
            errors.push_task_error(task, error);
        }
        if errors.is_empty() {
            return Ok(());
        }
        Err(ErrorGroup::from_members(
            self.message(),
            errors.into_members(),
        ))
    }
}

/// Whether `error` only reports a cancellation: a [`Cancelled`], or an error group whose
/// every leaf is one.
fn is_cancellation(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<Cancelled>() {
        return true;
    }
    error.downcast_ref::<ErrorGroup>().is_some_and(|group| {
        !group.is_empty() && group.leaves().all(|leaf| leaf.error.is::<Cancelled>())
    })
}

impl Drop for Core {
    fn drop(&mut self) {
        // Dropped before it finished: the group's own future was dropped (parent
        // cancellation). Children are dropped or aborted with it; grandchildren in nested
        // groups that hold a child token hear about it too.
        if !self.finished {
            self.signal.cancel(CancelReason::Parent);
        }
    }
}
