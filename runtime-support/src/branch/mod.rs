//! The children of a group, as the driver sees them.
//!
//! A fixed list of tasks becomes a cons list of typed branches ([`Cons`]), so a group of
//! three tasks is one future holding three children inline: no box, no vector, and `Send`
//! exactly when every child is. A fan-out keeps its items so that a wake-up re-polls only the
//! item that woke: in place, in a pool of slots with a waker each (`pool.rs`); spawned, as
//! handles in a `FuturesUnordered`.
//!
//! - this file: the [`Branch`] trait, [`Cons`], and how a finished child settles in its
//!   group's [`Core`];
//! - `task.rs`: one task, polled in place ([`Task`]) or spawned ([`SpawnTask`]);
//! - `fan_out.rs`: one task per item of an iterator, in place ([`FanOut`]) or spawned
//!   ([`SpawnFanOut`]), sharing one poll loop;
//! - `pool.rs`: the running items of an in-place fan-out, their futures inline in slots
//!   that never move, each slot with a waker of its own;
//! - `spawn.rs`: how a child runs on the runtime's workers, and what is left of it when its
//!   group is dropped.

mod cancel_on;
mod fan_out;
mod pool;
mod spawn;
mod task;

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::JoinError;
use tokio::time::Instant;

use crate::core::Core;
use crate::error_group::{BoxError, TaskName};
use crate::fixed::LazyCore;
use crate::future::TaskResult;
use crate::policy;
use crate::signal::Orphan;

pub(crate) use self::cancel_on::scope_cancel_on;
pub use self::cancel_on::{CancelOn, cancel_on};
pub(crate) use self::fan_out::MakeTask;
pub(crate) use self::fan_out::settled_fan_out;
pub use self::fan_out::{FanOut, SettledFanOut, SpawnFanOut, fan_out, spawn_fan_out};
pub(crate) use self::spawn::{orphan, spawn_child};
pub(crate) use self::task::into_box;
pub use self::task::{PlainTask, SpawnTask, Split, Task, spawn_task, task};

/// What a branch binds, handed out once every child succeeded. A trait of its own, apart from
/// [`Branch`], because taking the values asks nothing of the children's futures: every branch
/// type implements it without bounds, so that a [`Checked`](crate::assert::Checked) branch
/// takes them by a direct call, which inlines, where its other methods go through a table of
/// pointers made where the bounds held.
#[doc(hidden)]
pub trait Values {
    /// What the branch binds on success.
    type Output;
    /// The success values, once every child succeeded.
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output>;
}

/// One child (or set of children) of a group, polled by the group's driver.
#[doc(hidden)]
pub trait Branch: Values {
    /// Polls the branch's children. `Ready` once they are all finished: succeeded, failed
    /// (recorded in `core`), or cancelled.
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()>;
    /// Hard cancellation: drops in-place children now and aborts spawned ones, which the
    /// driver then keeps polling until they are joined.
    fn cancel(self: Pin<&mut Self>, core: &mut Core);
    /// The group is dropped before it ended: aborts the spawned children still running and
    /// moves them to `orphans`, for the enclosing group to join.
    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>);
    /// The children still running: what a deadline and the end of a grace period report.
    fn running(&self, out: &mut Vec<Running>);
}

/// A branch of a fixed group ([`Fixed`](crate::fixed::Fixed)): in-place tasks of a group
/// without options that change how they run, and lists of them. The group's short path polls
/// them before it has a [`Core`], which it makes only when something happens that it must
/// react to.
#[doc(hidden)]
pub trait FixedBranch: Branch {
    /// Polls the children as [`Branch::poll_branch`] does in a pass of a group that had
    /// nothing to react to when the pass began: no settle window, no limit, no start times.
    /// A child that fails or panics makes the group's core (`core.make()`) to file it in;
    /// once it is made, a child that has not started asks it whether it may.
    fn poll_fixed(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut LazyCore) -> Poll<()>;
}

impl FixedBranch for () {
    #[inline]
    fn poll_fixed(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut LazyCore) -> Poll<()> {
        Poll::Ready(())
    }
}

impl<H: FixedBranch, T: FixedBranch> FixedBranch for Cons<H, T> {
    #[inline]
    fn poll_fixed(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut LazyCore) -> Poll<()> {
        let this = self.project();
        let head = this.head.poll_fixed(cx, core);
        let tail = this.tail.poll_fixed(cx, core);
        if head.is_ready() && tail.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A child still running, as [`Branch::running`] lists it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Running {
    pub(crate) task: TaskName,
    /// When it started, if the group keeps start times (a group with a deadline does, see
    /// [`Core::start_time`]).
    pub(crate) at: Option<Instant>,
    /// It runs on the runtime's workers: whether it finishes before its abort lands is known
    /// only when it is joined.
    pub(crate) spawned: bool,
}

impl Values for () {
    type Output = ();
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<()> {
        Some(())
    }
}

/// The empty end of a list of branches.
impl Branch for () {
    fn poll_branch(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut Core) -> Poll<()> {
        Poll::Ready(())
    }
    fn cancel(self: Pin<&mut Self>, _: &mut Core) {}
    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}
    fn running(&self, _: &mut Vec<Running>) {}
}

pin_project! {
    /// Two branches polled together, in order: `head` first.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Cons<H, T> {
        #[pin]
        head: H,
        #[pin]
        tail: T,
    }
}

/// Joins `head` in front of `tail`.
#[doc(hidden)]
pub const fn cons<H: Branch, T: Branch>(head: H, tail: T) -> Cons<H, T> {
    Cons { head, tail }
}

impl<H: Values, T: Values> Values for Cons<H, T> {
    type Output = (H::Output, T::Output);
    // Always: left to itself, LLVM keeps the list's takes out of line, a call per level.
    #[inline(always)]
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        let this = self.project();
        Some((this.head.take_output()?, this.tail.take_output()?))
    }
}

impl<H: Branch, T: Branch> Branch for Cons<H, T> {
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        let head = this.head.poll_branch(cx, core);
        let tail = this.tail.poll_branch(cx, core);
        if head.is_ready() && tail.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let this = self.project();
        this.head.cancel(core);
        this.tail.cancel(core);
    }
    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        this.head.orphan(orphans);
        this.tail.orphan(orphans);
    }
    fn running(&self, out: &mut Vec<Running>) {
        self.head.running(out);
        self.tail.running(out);
    }
}

/// Called when a child returned `Pending`: if the task's tokio budget is spent, the child may
/// only be waiting for the budget (a `JoinHandle` or a tokio resource returns `Pending` then
/// and schedules a *deferred* wake-up), so its waker is woken now. `FuturesUnordered` counts a
/// child that wakes itself as having yielded and returns after a bounded number of them;
/// without this, a fan-out whose children all hit the exhausted budget re-polls every one of
/// them on every poll, which is quadratic in the number of children. Checked only after a
/// `Pending`, so that a child that finishes pays nothing for it.
#[inline]
pub(crate) fn pending<T>(cx: &Context<'_>) -> Poll<T> {
    if !tokio::task::coop::has_budget_remaining() {
        cx.waker().wake_by_ref();
    }
    Poll::Pending
}

/// Polls a child, turning a panic into its payload.
#[inline(always)]
pub(crate) fn poll_caught<F: Future>(
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// Settles one finished child in `core`: its value, its error or its panic. Inlined into
/// each task's poll; the error and the panic are filed out of line.
#[inline]
pub(crate) fn settle<R: TaskResult>(
    core: &mut Core,
    task: impl FnOnce() -> TaskName,
    outcome: Result<R, Box<dyn Any + Send>>,
) -> Option<R::Ok> {
    let filed = &mut *core;
    let value = settle_plain(move || filed, task, outcome.map(R::into_result), Into::into);
    if value.is_some() {
        core.succeeded();
    }
    value
}

/// [`settle`] without the race for the first success, of an outcome already split into
/// its value and its error, which `to_box` boxes: a [`PlainTask`]'s, whose error type is not
/// bounded, and every other task's through [`TaskResult::into_result`]. `core` is asked for
/// only when there is an error or a panic to file (a fixed group makes its core then).
#[inline]
pub(crate) fn settle_plain<'c, T, E>(
    core: impl FnOnce() -> &'c mut Core,
    task: impl FnOnce() -> TaskName,
    outcome: Result<Result<T, E>, Box<dyn Any + Send>>,
    to_box: impl FnOnce(E) -> BoxError,
) -> Option<T> {
    match outcome {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            settle_error(core(), task(), to_box(error));
            None
        }
        Err(payload) => {
            settle_panic(core(), task(), payload);
            None
        }
    }
}

#[cold]
#[inline(never)]
fn settle_error(core: &mut Core, task: TaskName, error: BoxError) {
    core.fail(task, error);
}

#[cold]
#[inline(never)]
fn settle_panic(core: &mut Core, task: TaskName, payload: Box<dyn Any + Send>) {
    core.panicked(&task, payload);
}

/// Settles a spawned child's join result: an abort the group caused settles nothing, unless
/// it cut off a child that was cleaning up when the grace period ran out.
pub(crate) fn settle_joined<R: TaskResult>(
    core: &mut Core,
    task: impl FnOnce() -> TaskName,
    joined: Result<R, JoinError>,
) -> Option<R::Ok> {
    match policy::joined(joined) {
        Some(outcome) => settle(core, task, outcome),
        None => {
            core.aborted(task());
            None
        }
    }
}
