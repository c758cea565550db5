//! One task: polled in place, inside the group's own future ([`Task`]), or spawned on the
//! runtime's workers and joined ([`SpawnTask`]).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::{
    Branch, FixedBranch, Running, Values, orphan, poll_caught, settle, settle_joined, settle_plain,
    spawn_child,
};
use crate::context::{in_fixed, in_named};
use crate::core::Core;
use crate::error_group::{BoxError, TaskName};
use crate::fixed::LazyCore;
use crate::future::TaskResult;
use crate::signal::Orphan;
use crate::trace::{self, SpanSlot};

pin_project! {
    /// A task polled in place, inside the group's own future.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Task<F, T> {
        name: &'static str,
        span: SpanSlot,
        started: bool,
        // When it started, in a group that keeps start times.
        at: Option<Instant>,
        #[pin]
        fut: Option<F>,
        out: Option<T>,
    }
}

/// A task polled in place.
#[doc(hidden)]
pub const fn task<F>(name: &'static str, fut: F) -> Task<F, <F::Output as TaskResult>::Ok>
where
    F: Future,
    F::Output: TaskResult,
{
    Task {
        name,
        span: SpanSlot::new(),
        started: false,
        at: None,
        fut: Some(fut),
        out: None,
    }
}

impl<F, T> Values for Task<F, T> {
    type Output = T;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<T> {
        self.project().out.take()
    }
}

impl<F> Branch for Task<F, <F::Output as TaskResult>::Ok>
where
    F: Future,
    F::Output: TaskResult,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        if core.settling() {
            // Every pass polls it: it was polled in the one that saw the failure.
            return Poll::Pending;
        }
        if !*this.started {
            if !core.try_start() {
                if core.accepting() {
                    return Poll::Pending;
                }
                // Never started, and never will be: dropped unpolled.
                this.fut.set(None);
                return Poll::Ready(());
            }
            *this.started = true;
            *this.at = core.start_time();
        }
        let name = *this.name;
        let outcome = ready!(poll_named(this.span, name, core, fut, cx));
        this.fut.set(None);
        core.release();
        *this.out = settle(core, || TaskName::new(name), outcome);
        Poll::Ready(())
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let mut this = self.project();
        if this.fut.is_some() {
            // A panic in its `Drop` is recorded, and the group goes on cancelling the rest.
            let mut fut = this.fut.as_mut();
            let name = *this.name;
            core.drop_children(|| TaskName::new(name), move || fut.set(None));
            if *this.started {
                trace::task_cancelled(&TaskName::new(this.name));
                core.release();
            }
        }
    }

    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}

    fn running(&self, out: &mut Vec<Running>) {
        if self.started && self.fut.is_some() {
            out.push(Running {
                task: TaskName::new(self.name),
                at: self.at,
                spawned: false,
            });
        }
    }
}

/// Polls an in-place task's future in its span, marked as the task being polled (a group
/// started inside it is nested under its name), with panics caught.
#[inline]
fn poll_named<F: Future>(
    span: &mut SpanSlot,
    name: &'static str,
    core: &Core,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    let _entered = span.enter(&TaskName::new(name), core.options.location);
    in_named(name);
    poll_caught(fut, cx)
}

pin_project! {
    /// What a [`PlainTask`] holds: its future while it runs, then its value until the group
    /// takes it. One place for both, as `MaybeDone` keeps them.
    #[project = SlotProj]
    #[project_replace = SlotTaken]
    enum Slot<F, T> {
        Running { #[pin] fut: F },
        Done { value: T },
        Gone,
    }
}

pin_project! {
    /// A task polled in place in a group that has neither a limit nor a deadline: it starts
    /// with the group, keeps no start time and takes no slot, and holds its future and then
    /// its value in one place. `group!` uses it for every in-place task of such a group
    /// (those groups never race for the first success).
    ///
    /// Its `Branch` impl asks only that the future output a [`Split`] type (`Result<T, E>`
    /// or `()`, whatever `E`): the error is boxed through `to_box`, taken where `E` was
    /// known to convert, so that a task whose error does not convert is reported once, where
    /// it is made, and not again where the group asks its branches to be `Branch`.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct PlainTask<F, T, E> {
        name: &'static str,
        span: SpanSlot,
        started: bool,
        to_box: fn(E) -> BoxError,
        #[pin]
        slot: Slot<F, T>,
    }
}

/// What a [`PlainTask`]'s future outputs: `Result<T, E>` or `()`, split into its value and
/// its error, with no bound on the error (the sealed [`TaskResult`]'s cases).
#[doc(hidden)]
pub trait Split {
    /// The value.
    type Ok;
    /// The error.
    type Err;
    /// Splits the output.
    fn split(self) -> Result<Self::Ok, Self::Err>;
}

impl<T, E> Split for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline]
    fn split(self) -> Result<T, E> {
        self
    }
}

impl Split for () {
    type Ok = ();
    type Err = std::convert::Infallible;
    #[inline]
    fn split(self) -> Result<(), std::convert::Infallible> {
        Ok(())
    }
}

/// A [`PlainTask`]'s `to_box` for an error that converts.
pub(crate) fn into_box<E: Into<BoxError>>(error: E) -> BoxError {
    error.into()
}

impl<F, T> std::fmt::Debug for Slot<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Slot::Running { .. } => "Running",
            Slot::Done { .. } => "Done",
            Slot::Gone => "Gone",
        })
    }
}

impl<F, T, E> PlainTask<F, T, E> {
    /// The branch, asking nothing of its types: `TaskResult::plain` makes it.
    #[inline]
    pub(crate) const fn new(name: &'static str, fut: F, to_box: fn(E) -> BoxError) -> Self {
        PlainTask {
            name,
            span: SpanSlot::new(),
            started: false,
            to_box,
            slot: Slot::Running { fut },
        }
    }
}

impl<F, T, E> Values for PlainTask<F, T, E> {
    type Output = T;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<T> {
        match self.project().slot.project_replace(Slot::Gone) {
            SlotTaken::Done { value } => Some(value),
            _ => None,
        }
    }
}

impl<F, T, E> Branch for PlainTask<F, T, E>
where
    F: Future,
    F::Output: Split<Ok = T, Err = E>,
{
    #[inline]
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let mut this = self.project();
        let SlotProj::Running { fut } = this.slot.as_mut().project() else {
            return Poll::Ready(());
        };
        if core.settling() {
            // Every pass polls it: it was polled in the one that saw the failure.
            return Poll::Pending;
        }
        if !*this.started {
            debug_assert!(core.options.limit.is_none() && core.options.timeout.is_none());
            if !core.may_start() {
                // Never started, and never will be: dropped unpolled.
                this.slot.set(Slot::Gone);
                return Poll::Ready(());
            }
            *this.started = true;
        }
        let name = *this.name;
        let outcome = ready!(poll_named(this.span, name, core, fut, cx));
        debug_assert!(core.options.mode != crate::core::Mode::FirstSuccess);
        let outcome = outcome.map(Split::split);
        match settle_plain(move || core, || TaskName::new(name), outcome, *this.to_box) {
            Some(value) => this.slot.set(Slot::Done { value }),
            None => this.slot.set(Slot::Gone),
        }
        Poll::Ready(())
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let mut this = self.project();
        if let Slot::Running { .. } = &*this.slot {
            // A panic in its `Drop` is recorded, and the group goes on cancelling the rest.
            let mut slot = this.slot.as_mut();
            let name = *this.name;
            core.drop_children(|| TaskName::new(name), move || slot.set(Slot::Gone));
            if *this.started {
                trace::task_cancelled(&TaskName::new(this.name));
            }
        }
    }

    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}

    fn running(&self, out: &mut Vec<Running>) {
        if self.started && matches!(self.slot, Slot::Running { .. }) {
            out.push(Running {
                task: TaskName::new(self.name),
                at: None,
                spawned: false,
            });
        }
    }
}

impl<F, T, E> FixedBranch for PlainTask<F, T, E>
where
    F: Future,
    F::Output: Split<Ok = T, Err = E>,
{
    #[inline]
    fn poll_fixed(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut LazyCore) -> Poll<()> {
        let mut this = self.project();
        let SlotProj::Running { fut } = this.slot.as_mut().project() else {
            return Poll::Ready(());
        };
        if !*this.started {
            if let Some(core) = core.made()
                && !core.may_start()
            {
                // A sibling failed earlier in this pass: never started, dropped unpolled.
                this.slot.set(Slot::Gone);
                return Poll::Ready(());
            }
            *this.started = true;
        }
        let name = *this.name;
        let outcome = {
            let _entered = this.span.enter(&TaskName::new(name), core.site());
            in_fixed(name);
            ready!(poll_caught(fut, cx))
        };
        let outcome = outcome.map(Split::split);
        match settle_plain(
            || core.make(),
            || TaskName::new(name),
            outcome,
            *this.to_box,
        ) {
            Some(value) => this.slot.set(Slot::Done { value }),
            None => this.slot.set(Slot::Gone),
        }
        Poll::Ready(())
    }
}

/// The state of a spawned task whose future is `F` and whose output is `O`.
enum Spawned<F, O> {
    Waiting(F),
    // With the instant it started, in a group that keeps start times.
    Running(AbortOnDropHandle<O>, Option<Instant>),
    Done,
}

impl<F, O> std::fmt::Debug for Spawned<F, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Spawned::Waiting(_) => "Waiting",
            Spawned::Running(..) => "Running",
            Spawned::Done => "Done",
        })
    }
}

pin_project! {
    /// A task spawned on the runtime's workers and joined by the group: its future `F`, the
    /// future's output `O` and the value `T` it binds. The type asks nothing of them (`O` is
    /// named, not projected from `F`), so that a bad task's bounds are asked only where the
    /// task is made, and the group is `Send` exactly when they are.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct SpawnTask<F, O, T> {
        name: TaskName,
        state: Spawned<F, O>,
        out: Option<T>,
    }
}

/// A task spawned on the runtime's workers. The bounds are checked at the task, so a
/// non-`Send` or borrowing future is reported there.
#[doc(hidden)]
pub const fn spawn_task<F>(
    name: TaskName,
    fut: F,
) -> SpawnTask<F, F::Output, <F::Output as TaskResult>::Ok>
where
    F: Future + Send + 'static,
    F::Output: TaskResult + Send + 'static,
{
    SpawnTask {
        name,
        state: Spawned::Waiting(fut),
        out: None,
    }
}

impl<F, O, T> Values for SpawnTask<F, O, T> {
    type Output = T;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<T> {
        self.project().out.take()
    }
}

impl<F> Branch for SpawnTask<F, F::Output, <F::Output as TaskResult>::Ok>
where
    F: Future + Send + 'static,
    F::Output: TaskResult + Send + 'static,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        if let Spawned::Waiting(_) = this.state {
            if !core.try_start() {
                if core.accepting() {
                    return Poll::Pending;
                }
                *this.state = Spawned::Done;
                return Poll::Ready(());
            }
            let Spawned::Waiting(fut) = std::mem::replace(this.state, Spawned::Done) else {
                unreachable!("checked above")
            };
            *this.state = Spawned::Running(spawn_child(core, this.name, fut), core.start_time());
        }
        let Spawned::Running(handle, _) = this.state else {
            return Poll::Ready(());
        };
        let joined = ready!(Pin::new(handle).poll(cx));
        *this.state = Spawned::Done;
        core.release();
        *this.out = settle_joined(core, || this.name.clone(), joined);
        Poll::Ready(())
    }

    fn cancel(self: Pin<&mut Self>, _core: &mut Core) {
        let this = self.project();
        match this.state {
            Spawned::Waiting(_) => *this.state = Spawned::Done,
            // Aborted, and still joined: the driver polls it until it is gone.
            Spawned::Running(handle, _) => {
                trace::task_cancelled(this.name);
                handle.abort();
            }
            Spawned::Done => {}
        }
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        if let Spawned::Running(..) = this.state
            && let Spawned::Running(handle, _) = std::mem::replace(this.state, Spawned::Done)
        {
            orphans.push((this.name.clone(), orphan(handle)));
        }
    }

    fn running(&self, out: &mut Vec<Running>) {
        if let Spawned::Running(_, at) = &self.state {
            out.push(Running {
                task: self.name.clone(),
                at: *at,
                spawned: true,
            });
        }
    }
}
