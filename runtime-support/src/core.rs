//! The state one group keeps while it runs: options, errors, the limit, the cancellation signal.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::cancel::{CancelReason, Cancelled};
use crate::context::{self, current_signal, enclosing, has_signal, in_group, made_signal};
use crate::elapsed::GraceElapsed;
use crate::error_group::{BoxError, ErrorGroup, TaskName};
use crate::policy;
use crate::signal::{Content, Hop, Mail, Orphan, Signal};
use crate::trace;

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
/// `#![mode]` set in `group!`, and what [`Group`](crate::Group)'s builder methods set (their
/// docs are the options' docs). Not public API: the expansion's way to the options.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) limit: Option<usize>,
    pub(crate) grace: Option<Duration>,
    pub(crate) mode: Mode,
    /// Where the group is written, for traces (nothing without the `tracing` feature).
    pub(crate) location: trace::Site,
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
            location: trace::Site::NONE,
        }
    }

    /// Where the group is written, for traces (`group!` passes `file!()` and `line!()`).
    #[doc(hidden)]
    pub const fn at(mut self, file: &'static str, line: u32) -> Self {
        self.location = trace::Site::new(file, line);
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
    /// Made when something needs it (a nested group, a spawned child, a child awaiting [`cancelled`](crate::cancelled), a
    /// cancellation); a nested group and a scope have one
    /// from the start.
    pub(crate) signal: Option<Arc<Signal>>,
    pub(crate) options: Options,
    /// What only failing or dropped groups need, allocated on the first error.
    cold: ColdSlot,
    in_flight: usize,
    /// Some task could not start because the limit was reached.
    waiting: bool,
    /// A slot was freed while a task was waiting: the driver polls once more.
    progressed: bool,
    accepting: bool,
    finished: bool,
    /// First-success mode: a task succeeded.
    won: bool,
    /// The grace period ran out: a spawned child whose abort is joined from now on, and that
    /// was told to cancel, was cut off in its cleanup.
    grace_ran_out: bool,
    /// The driver's passes over the children, counted.
    pass: u64,
    /// The first pass of the settle window (`u64::MAX`: none), see [`context::may_poll`].
    settle_from: u64,
}

/// Where a [`Core`] keeps its [`Cold`] part: a group that ran to success has none, and its
/// drop is a check inlined where the group is dropped, not a call.
struct ColdSlot(Option<Box<Cold>>);

impl Drop for ColdSlot {
    #[inline]
    fn drop(&mut self) {
        if let Some(cold) = self.0.take() {
            drop_cold(cold);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_cold(cold: Box<Cold>) {
    drop(cold);
}

impl std::fmt::Debug for ColdSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The part of a [`Core`] that a group which runs to success never needs.
struct Cold {
    /// The errors so far, in completion order (the message is set when the group ends).
    errors: ErrorGroup,
    /// The error of an imperative body: it comes last, as in Python.
    last: Option<(TaskName, BoxError)>,
    panic: Option<Box<dyn Any + Send>>,
    /// Spawned tasks of dropped nested groups, handed up to be joined before this group ends.
    orphans: FuturesUnordered<Adopted>,
    /// Where the errors handed up from under each task go: the index in `errors` of the
    /// nested group for a task and message, so that filing does not scan the members.
    nested: HashMap<(TaskName, Cow<'static, str>), usize>,
    /// The group's `cancel_on` future completed during a pass: the driver cancels the group
    /// after it, as for [`Scope::cancel`](crate::Scope::cancel).
    cancel_requested: bool,
}

impl Default for Cold {
    fn default() -> Self {
        Cold {
            errors: ErrorGroup::new(""),
            last: None,
            panic: None,
            orphans: FuturesUnordered::new(),
            nested: HashMap::new(),
            cancel_requested: false,
        }
    }
}

impl std::fmt::Debug for Cold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cold")
            .field("errors", &self.errors)
            .field("panicked", &self.panic.is_some())
            .field("orphans", &self.orphans.len())
            .finish_non_exhaustive()
    }
}

/// A handed-up spawned task, joined by the group that adopted it.
struct Adopted {
    path: Vec<Hop>,
    task: TaskName,
    orphan: Orphan,
}

impl Future for Adopted {
    type Output = (
        Vec<Hop>,
        TaskName,
        Result<Option<BoxError>, Box<dyn Any + Send>>,
    );
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let end = ready!(self.orphan.as_mut().poll(cx));
        let this = &mut *self;
        Poll::Ready((std::mem::take(&mut this.path), this.task.clone(), end))
    }
}

impl Core {
    /// The state of a `group!`: its signal is made at its first poll, if it is nested, or
    /// when something needs it.
    pub(crate) const fn new(options: Options) -> Self {
        Core {
            signal: None,
            options,
            cold: ColdSlot(None),
            in_flight: 0,
            waiting: false,
            progressed: false,
            accepting: true,
            finished: false,
            won: false,
            grace_ran_out: false,
            pass: 0,
            settle_from: u64::MAX,
        }
    }

    /// The state of a scope, whose handle needs the signal before the first poll.
    pub(crate) fn with_signal(options: Options, signal: Arc<Signal>) -> Self {
        let mut core = Core::new(options);
        core.signal = Some(signal);
        core
    }

    /// At the first poll: a group started inside another is nested in it.
    #[inline]
    pub(crate) fn bind(&mut self) {
        if self.signal.is_none() && in_group() {
            self.signal = enclosing().map(|(parent, key)| Signal::nested(parent, key));
        }
    }

    /// Takes the signal a child made for the group during the poll, if it has none yet: a
    /// check inlined after each pass, the taking out of line.
    #[inline(always)]
    pub(crate) fn adopt(&mut self) {
        if self.signal.is_none() && has_signal() {
            self.adopt_made();
        }
    }

    #[cold]
    #[inline(never)]
    fn adopt_made(&mut self) {
        self.signal = made_signal();
    }

    /// The group's signal, made now if needed. Only while its driver polls (its frame is
    /// the current one).
    pub(crate) fn signal(&mut self) -> &Arc<Signal> {
        self.signal.get_or_insert_with(|| {
            current_signal().unwrap_or_else(|| unreachable!("called while the group is polled"))
        })
    }

    fn cold(&mut self) -> &mut Cold {
        self.cold.0.get_or_insert_with(Box::default)
    }

    /// Asks for a slot to start a task. `false` if the group no longer accepts tasks or the
    /// limit is reached (the caller asks again on the next poll).
    #[inline]
    pub(crate) fn try_start(&mut self) -> bool {
        if !self.may_start() {
            return false;
        }
        if let Some(limit) = self.options.limit {
            if self.in_flight >= limit {
                self.waiting = true;
                return false;
            }
            self.in_flight += 1;
        }
        true
    }

    /// Whether a task may start now, the limit aside (what a group without one asks):
    /// `false` once the group no longer accepts tasks or it (or an enclosing group) is
    /// cancelling.
    #[inline]
    pub(crate) fn may_start(&mut self) -> bool {
        if !self.accepting || self.is_cancelling() {
            // Cancelling, here or in an enclosing group: nothing new starts.
            self.accepting = false;
            return false;
        }
        true
    }

    /// Starts a pass of the driver over the children.
    #[inline]
    pub(crate) fn begin_pass(&mut self) {
        self.pass += 1;
    }

    /// For a branch that polls the children that a pass polls only when they woke (a
    /// fan-out's items, a scope's tasks), until the guard drops: see [`context::may_poll`].
    #[inline]
    pub(crate) fn in_pass(&self) -> context::PassGuard {
        context::in_pass(self.pass, self.settle_from)
    }

    /// Opens the settle window after the pass that saw the failure: until it closes, no
    /// child polled since that pass is polled again.
    #[cold]
    pub(crate) fn open_settle_window(&mut self) {
        self.settle_from = self.pass;
    }

    #[cold]
    pub(crate) fn close_settle_window(&mut self) {
        self.settle_from = u64::MAX;
    }

    /// Whether the settle window is open: the children that every pass polls (the tasks of a
    /// fixed group, a scope's body) were all polled in the pass that saw the failure, so they
    /// are not polled in it.
    #[inline]
    pub(crate) fn settling(&self) -> bool {
        self.settle_from != u64::MAX
    }

    /// The grace period ran out: children still cleaning up are cut off.
    #[cold]
    pub(crate) fn grace_ran_out(&mut self) {
        self.grace_ran_out = true;
    }

    /// `task` was dropped now, when the grace period ran out: reported if it was cleaning up.
    #[cold]
    pub(crate) fn cut_off(&mut self, task: TaskName) {
        let told = self
            .signal
            .as_ref()
            .is_some_and(|signal| signal.was_told(&task));
        if policy::cut_off(told, self.grace_ran_out) {
            let grace = self.options.grace.unwrap_or_default();
            self.fail(task, Box::new(GraceElapsed::new(grace)));
        }
    }

    /// A spawned child's abort was joined: reported if it cut the child off in its cleanup.
    #[inline]
    pub(crate) fn aborted(&mut self, task: TaskName) {
        if self.grace_ran_out {
            self.cut_off(task);
        }
    }

    /// The instant a task starts now, if the group keeps start times: a group with a
    /// deadline does, to say how long each task still running at the deadline had run.
    #[inline]
    pub(crate) fn start_time(&self) -> Option<tokio::time::Instant> {
        self.options.timeout.map(|_| tokio::time::Instant::now())
    }

    /// A started task finished or was dropped.
    #[inline]
    pub(crate) fn release(&mut self) {
        if self.options.limit.is_some() {
            self.in_flight -= 1;
            if self.waiting {
                self.waiting = false;
                self.progressed = true;
            }
        }
    }

    /// Stops starting tasks, whatever the mode (a deadline ends every mode).
    #[inline]
    pub(crate) fn stop_accepting(&mut self) {
        self.accepting = false;
    }

    /// Whether new tasks may still start.
    #[inline]
    pub(crate) fn accepting(&self) -> bool {
        self.accepting
    }

    /// Records a task's error, in completion order. In fail-fast mode the group stops
    /// accepting tasks at once; the driver cancels the rest after this poll.
    pub(crate) fn fail(&mut self, task: TaskName, error: BoxError) {
        if !policy::counts(&*error, self.is_cancelling()) {
            return;
        }
        trace::task_failed(&task, &error);
        self.cold().errors.push_task_error(task, error);
        self.failed();
    }

    fn failed(&mut self) {
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
    #[inline]
    pub(crate) fn succeeded(&mut self) {
        if self.options.mode == Mode::FirstSuccess && !self.won {
            self.won = true;
            self.accepting = false;
        }
    }

    /// In first-success mode, whether some task has succeeded.
    #[inline]
    pub(crate) fn won(&self) -> bool {
        self.won
    }

    /// Whether the imperative body keeps running while its tasks are cancelled: when the
    /// group was ended on purpose, or a task won the race, the body still makes the value.
    pub(crate) fn keeps_body(&self) -> bool {
        policy::keeps_body(self.reason(), self.has_errors(), self.won, self.has_panic())
    }

    /// Records the error of an imperative body: it cancels like any error but is listed
    /// after the tasks' errors.
    pub(crate) fn fail_last(&mut self, task: TaskName, error: BoxError) {
        self.cold().last = Some((task, error));
        self.failed();
    }

    /// Records a panic; the first payload is the one resumed.
    pub(crate) fn panicked(&mut self, task: &TaskName, payload: Box<dyn Any + Send>) {
        trace::task_panicked(task);
        self.accepting = false;
        let cold = self.cold();
        if cold.panic.is_none() {
            cold.panic = Some(payload);
        } else {
            // The first payload is the one resumed; this one's `Drop` may panic too.
            context::forget_payload(payload);
        }
    }

    /// Runs `cancel`, which drops a child `task` (or several); a panic in its `Drop` is
    /// recorded as `task`'s (the first payload is still the one resumed), and the group goes
    /// on cancelling and joining the others.
    pub(crate) fn drop_children(&mut self, task: impl FnOnce() -> TaskName, cancel: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(cancel)) {
            self.panicked(&task(), payload);
        }
    }

    #[inline]
    pub(crate) fn has_panic(&self) -> bool {
        self.cold
            .0
            .as_ref()
            .is_some_and(|cold| cold.panic.is_some())
    }

    #[inline]
    pub(crate) fn fails_fast(&self) -> bool {
        self.options.mode.fail_fast()
    }

    #[inline]
    pub(crate) fn has_errors(&self) -> bool {
        self.cold
            .0
            .as_ref()
            .is_some_and(|cold| !cold.errors.is_empty() || cold.last.is_some())
    }

    /// Nothing the driver must react to after a poll: no signal (so no cancellation and no
    /// hand-up), no error or panic, no winner, no slot freed for a waiting task.
    #[inline]
    pub(crate) fn is_plain(&self) -> bool {
        self.signal.is_none() && self.cold.0.is_none() && !self.won && !self.progressed
    }

    #[inline]
    pub(crate) fn take_progress(&mut self) -> bool {
        std::mem::take(&mut self.progressed)
    }

    /// The group's `cancel_on` future completed during a pass: after the pass (the tasks
    /// ready at this instant still run first, none of them yet told), the driver cancels the
    /// group as [`Scope::cancel`](crate::Scope::cancel) does: the grace period, then the drop
    /// of what still runs.
    #[cold]
    pub(crate) fn request_cancel(&mut self) {
        self.cold().cancel_requested = true;
    }

    /// Whether [`request_cancel`](Self::request_cancel) was called since the last call.
    #[inline]
    pub(crate) fn take_cancel_request(&mut self) -> bool {
        self.cold
            .0
            .as_mut()
            .is_some_and(|cold| std::mem::take(&mut cold.cancel_requested))
    }

    /// Starts cancelling: children watching [`cancelled`](crate::cancelled) are told why, and
    /// no new task starts.
    pub(crate) fn start_cancel(&mut self, reason: CancelReason) {
        trace::group_cancelling(&reason);
        self.accepting = false;
        self.signal().cancel(reason);
    }

    /// Whether this group or an enclosing one has begun cancelling. A group without a
    /// signal has no enclosing group and has not begun.
    #[inline]
    pub(crate) fn is_cancelling(&self) -> bool {
        self.signal
            .as_ref()
            .is_some_and(|signal| signal.is_cancelling())
    }

    fn reason(&self) -> CancelReason {
        self.signal
            .as_ref()
            .map_or(CancelReason::Parent, |signal| signal.reason())
    }

    /// Files what dropped nested groups handed up since the last call.
    pub(crate) fn take_mail(&mut self) {
        let Some(signal) = &self.signal else { return };
        for mail in signal.take_mail() {
            self.file(mail);
        }
    }

    fn file(&mut self, mail: Mail) {
        let Mail { path, content } = mail;
        match content {
            Content::Errors(members) => {
                trace::handed_up(members.len());
                let group = self.errors_at(&path);
                for member in members {
                    group.push(member);
                }
                self.failed();
            }
            Content::Panic(payload) => {
                let task = path
                    .first()
                    .map_or(TaskName::new("task"), |hop| hop.task.clone());
                self.panicked(&task, payload);
            }
            Content::Orphan(task, orphan) => {
                self.cold().orphans.push(Adopted { path, task, orphan })
            }
        }
    }

    /// Where handed-up errors at `path` go: the nested group at the end of it. The first hop
    /// is found through `nested`, in constant time however many tasks handed errors up.
    fn errors_at(&mut self, path: &[Hop]) -> &mut ErrorGroup {
        let cold = self.cold();
        let Some((first, rest)) = path.split_first() else {
            return &mut cold.errors;
        };
        let key = (first.task.clone(), first.message.clone());
        let index = match cold.nested.get(&key) {
            Some(&index) => index,
            None => {
                let index = cold.errors.push_nested(first.task.clone(), &first.message);
                cold.nested.insert(key, index);
                index
            }
        };
        let mut group = cold.errors.nested_at(index);
        for hop in rest {
            group = group.nested_mut(&hop.task, &hop.message);
        }
        group
    }

    /// Files handed-up mail and joins handed-up spawned tasks: `Ready` once there is none
    /// left.
    #[inline]
    pub(crate) fn poll_orphans(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.cold.0.is_none() && self.signal.as_ref().is_none_or(|signal| !signal.has_mail()) {
            return Poll::Ready(());
        }
        self.poll_orphans_slow(cx)
    }

    #[cold]
    fn poll_orphans_slow(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            self.take_mail();
            let Some(cold) = self.cold.0.as_mut() else {
                return Poll::Ready(());
            };
            if cold.orphans.is_empty() {
                return Poll::Ready(());
            }
            let Some((path, task, end)) = ready!(cold.orphans.poll_next_unpin(cx)) else {
                continue;
            };
            match end {
                // A nested group ended by the drop of its enclosing group: not an error.
                Ok(None) => {}
                Ok(Some(error)) if !policy::counts(&*error, true) => {}
                Ok(Some(error)) => {
                    self.errors_at(&path).push_task_error(task, error);
                    self.failed();
                }
                Err(payload) => self.panicked(&task, payload),
            }
        }
    }

    /// The group is dropped before it ended: hands what it collected (its errors, a panic
    /// not yet resumed, its spawned tasks, aborted) to the enclosing group, and from now on
    /// passes on what its own nested groups hand to it. A group that no other group
    /// encloses has no one to hand to: its caller dropped its result.
    pub(crate) fn hand_up(&mut self, spawned: Vec<(TaskName, Orphan)>) {
        let Some(signal) = self.signal.clone() else {
            return;
        };
        signal.cancel(CancelReason::Parent);
        let mut own = Vec::new();
        let mail = |content| Mail {
            path: Vec::new(),
            content,
        };
        if let Some(cold) = self.cold.0.take() {
            let Cold {
                errors,
                last,
                panic,
                orphans,
                ..
            } = *cold;
            let errors = self.reported(errors, last);
            if !errors.is_empty() {
                own.push(mail(Content::Errors(errors.into_members())));
            }
            if let Some(payload) = panic {
                own.push(mail(Content::Panic(payload)));
            }
            for adopted in orphans {
                own.push(Mail {
                    path: adopted.path,
                    content: Content::Orphan(adopted.task, adopted.orphan),
                });
            }
        }
        for (task, orphan) in spawned {
            own.push(mail(Content::Orphan(task, orphan)));
        }
        // What it collected first, then what was handed to it since its last poll.
        signal.hand_up(self.message(), own);
    }

    /// The error of a group cancelled from outside before its tasks could finish.
    pub(crate) fn cancelled_group(&self) -> ErrorGroup {
        let mut group = ErrorGroup::new(self.message());
        group.push_task_error(
            TaskName::new("cancelled"),
            Box::new(Cancelled::new(self.reason())),
        );
        group
    }

    fn message(&self) -> Cow<'static, str> {
        match &self.options.name {
            Some(name) => format!("group `{name}` failed").into(),
            None => Cow::Borrowed("task group failed"),
        }
    }

    /// The errors the group reports, whether it ends or is dropped: the tasks' errors in
    /// completion order, then the body's.
    fn reported(&self, errors: ErrorGroup, last: Option<(TaskName, BoxError)>) -> ErrorGroup {
        let mut errors = if self.won {
            // The race was won: the losers' errors do not matter, and the body's own
            // error still does.
            ErrorGroup::new("")
        } else {
            errors
        };
        if let Some((task, error)) = last {
            errors.push_task_error(task, error);
        }
        errors
    }

    /// Ends the group: resumes a child's panic, or hands back the errors.
    #[inline]
    pub(crate) fn finish(&mut self) -> Result<(), ErrorGroup> {
        self.finished = true;
        match self.cold.0.take() {
            None => Ok(()),
            Some(cold) => self.finish_cold(*cold),
        }
    }

    /// Ends a group that has nothing to report (no error, no panic: no cold part).
    #[inline]
    pub(crate) fn finish_plain(&mut self) {
        debug_assert!(self.cold.0.is_none());
        self.finished = true;
    }

    #[cold]
    fn finish_cold(&self, cold: Cold) -> Result<(), ErrorGroup> {
        let Cold {
            errors,
            last,
            panic,
            ..
        } = cold;
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        let errors = self.reported(errors, last);
        if errors.is_empty() {
            return Ok(());
        }
        Err(ErrorGroup::from_members(
            self.message(),
            errors.into_members(),
        ))
    }
}

impl Drop for Core {
    #[inline]
    fn drop(&mut self) {
        // Dropped before it finished: the group's own future was dropped (parent
        // cancellation). Children are dropped or aborted with it; grandchildren in nested
        // groups that hold a child token hear about it too.
        if !self.finished
            && let Some(signal) = &self.signal
        {
            dropped_unfinished(signal);
        }
    }
}

#[cold]
#[inline(never)]
fn dropped_unfinished(signal: &Signal) {
    signal.cancel(CancelReason::Parent);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_group::SCANNED;

    fn mail(task: TaskName, error: &str) -> Mail {
        Mail {
            path: vec![Hop {
                task,
                message: Cow::Borrowed("task group failed"),
            }],
            content: Content::Errors(vec![crate::error_group::Member::Leaf {
                task: TaskName::new("inner"),
                error: error.to_owned().into(),
            }]),
        }
    }

    #[test]
    fn filing_the_errors_of_many_dropped_nested_groups_scans_no_members() {
        let mut core = Core::new(Options::new());
        SCANNED.with(|scanned| scanned.set(0));
        for i in 0..10_000 {
            core.file(mail(TaskName::indexed("items", i), "first"));
        }
        // A later mail from under the same task joins its nested group.
        core.file(mail(TaskName::indexed("items", 3), "second"));
        assert_eq!(SCANNED.with(std::cell::Cell::get), 0);

        let errors = &core.cold.0.as_ref().unwrap().errors;
        assert_eq!(errors.len(), 10_000);
        let third = &errors.members()[3];
        assert_eq!(third.task(), &TaskName::indexed("items", 3));
        let crate::error_group::Member::Group { group, .. } = third else {
            panic!("a nested group");
        };
        let texts: Vec<String> = group.leaves().map(|l| l.error.to_string()).collect();
        assert_eq!(texts, ["first", "second"]);
    }
}
