//! The children of a group, as the driver sees them.
//!
//! A fixed list of tasks becomes a cons list of typed branches ([`Cons`]), so a group of
//! three tasks is one future holding three children inline: no box, no vector, and `Send`
//! exactly when every child is. Fan-outs keep their items in a `FuturesUnordered` so that a
//! wake-up re-polls only the item that woke.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;
use tokio::task::JoinError;
use tokio_util::task::AbortOnDropHandle;

use crate::context::{enter_carried, in_fan_out, in_index, in_named, in_task};
use crate::core::Core;
use crate::error_group::TaskName;
use crate::future::TaskResult;
use crate::signal::{Orphan, Signal};
use crate::trace::{self, GroupSpan, SpanSlot};

/// One child (or set of children) of a group, polled by the group's driver.
#[doc(hidden)]
pub trait Branch {
    /// What the branch binds on success.
    type Output;
    /// Polls the branch's children. `Ready` once they are all finished: succeeded, failed
    /// (recorded in `core`), or cancelled.
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()>;
    /// Hard cancellation: drops in-place children now and aborts spawned ones, which the
    /// driver then keeps polling until they are joined.
    fn cancel(self: Pin<&mut Self>, core: &mut Core);
    /// The success values, once every child succeeded.
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output>;
    /// The group is dropped before it ended: aborts the spawned children still running and
    /// moves them to `orphans`, for the enclosing group to join.
    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>);
}

/// The empty end of a list of branches.
impl Branch for () {
    type Output = ();
    fn poll_branch(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut Core) -> Poll<()> {
        Poll::Ready(())
    }
    fn cancel(self: Pin<&mut Self>, _: &mut Core) {}
    fn take_output(self: Pin<&mut Self>) -> Option<()> {
        Some(())
    }
    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}
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

impl<H: Branch, T: Branch> Branch for Cons<H, T> {
    type Output = (H::Output, T::Output);
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
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        let this = self.project();
        Some((this.head.take_output()?, this.tail.take_output()?))
    }
    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        this.head.orphan(orphans);
        this.tail.orphan(orphans);
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
fn poll_caught<F: Future>(
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// Settles one finished child in `core`: its value, its error or its panic.
pub(crate) fn settle<R: TaskResult>(
    core: &mut Core,
    task: impl FnOnce() -> TaskName,
    outcome: Result<R, Box<dyn Any + Send>>,
) -> Option<R::Ok> {
    match outcome {
        Ok(output) => match output.into_result() {
            Ok(value) => {
                core.succeeded();
                Some(value)
            }
            Err(error) => {
                core.fail(task(), error.into());
                None
            }
        },
        Err(payload) => {
            core.panicked(&task(), payload);
            None
        }
    }
}

/// Settles a spawned child's join result: an abort we caused is not an error.
pub(crate) fn settle_joined<R: TaskResult>(
    core: &mut Core,
    task: impl FnOnce() -> TaskName,
    joined: Result<R, JoinError>,
) -> Option<R::Ok> {
    match joined {
        Ok(output) => settle(core, task, Ok(output)),
        Err(error) => match error.try_into_panic() {
            Ok(payload) => settle::<R>(core, task, Err(payload)),
            Err(_cancelled) => None,
        },
    }
}

/// Spawns a child on the runtime's workers, carrying its group's cancellation signal (and,
/// with `tracing`, its span).
pub(crate) fn spawn_child<F>(
    core: &mut Core,
    task: &TaskName,
    fut: F,
) -> AbortOnDropHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let fut = trace::instrument(fut, task, &core.options);
    AbortOnDropHandle::new(tokio::spawn(Carry {
        signal: Some(core.signal().clone()),
        task: task.clone(),
        fut,
    }))
}

pin_project! {
    /// A spawned child: polled with its group as the current one, as in-place children are.
    struct Carry<F> {
        // Lent to the worker's thread-local slot while the child is polled.
        signal: Option<Arc<Signal>>,
        task: TaskName,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Carry<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // Its group is the current one, and it is the task being polled.
        let _frame = enter_carried(this.signal);
        in_task(this.task, || this.fut.poll(cx))
    }
}

/// A spawned child whose group is dropped: aborted, and joined by the enclosing group.
pub(crate) fn orphan<R>(handle: AbortOnDropHandle<R>) -> Orphan
where
    R: TaskResult + Send + 'static,
{
    handle.abort();
    Box::pin(async move {
        match handle.await {
            // It finished before the abort landed: its error still counts.
            Ok(output) => Ok(output.into_result().err().map(Into::into)),
            Err(error) => match error.try_into_panic() {
                Ok(payload) => Err(payload),
                Err(_cancelled) => Ok(None),
            },
        }
    })
}

pin_project! {
    /// A task polled in place, inside the group's own future.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Task<F, T> {
        name: &'static str,
        span: SpanSlot,
        started: bool,
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
        fut: Some(fut),
        out: None,
    }
}

impl<F> Branch for Task<F, <F::Output as TaskResult>::Ok>
where
    F: Future,
    F::Output: TaskResult,
{
    type Output = <F::Output as TaskResult>::Ok;

    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
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
        }
        let name = *this.name;
        let outcome = {
            let _entered = this.span.enter(&TaskName::new(name), &core.options);
            in_named(name);
            ready!(poll_caught(fut, cx))
        };
        this.fut.set(None);
        core.release();
        *this.out = settle(core, || TaskName::new(name), outcome);
        Poll::Ready(())
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let mut this = self.project();
        if this.fut.is_some() {
            this.fut.set(None);
            if *this.started {
                trace::task_cancelled(&TaskName::new(this.name));
                core.release();
            }
        }
    }

    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        self.project().out.take()
    }

    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}
}

/// The state of a spawned task whose future is `F` and whose output is `O`.
enum Spawned<F, O> {
    Waiting(F),
    Running(AbortOnDropHandle<O>),
    Done,
}

impl<F, O> std::fmt::Debug for Spawned<F, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Spawned::Waiting(_) => "Waiting",
            Spawned::Running(_) => "Running",
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

impl<F> Branch for SpawnTask<F, F::Output, <F::Output as TaskResult>::Ok>
where
    F: Future + Send + 'static,
    F::Output: TaskResult + Send + 'static,
{
    type Output = <F::Output as TaskResult>::Ok;

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
            *this.state = Spawned::Running(spawn_child(core, this.name, fut));
        }
        let Spawned::Running(handle) = this.state else {
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
            Spawned::Running(handle) => {
                trace::task_cancelled(this.name);
                handle.abort();
            }
            Spawned::Done => {}
        }
    }

    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        self.project().out.take()
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        if let Spawned::Running(_) = this.state
            && let Spawned::Running(handle) = std::mem::replace(this.state, Spawned::Done)
        {
            orphans.push((this.name.clone(), orphan(handle)));
        }
    }
}

pin_project! {
    /// A future tagged with its index in a fan-out; panics are caught and returned.
    #[derive(Debug)]
    struct Indexed<F> {
        index: usize,
        span: GroupSpan,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Indexed<F> {
    type Output = (usize, Result<F::Output, Box<dyn Any + Send>>);
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let index = *this.index;
        in_index(index);
        match trace::in_span(this.span, || poll_caught(this.fut, cx)) {
            Poll::Ready(outcome) => Poll::Ready((index, outcome)),
            Poll::Pending => pending(cx),
        }
    }
}

/// The results of a fan-out, in input order. Values of a zero-sized type (the `()` of a
/// `_ = for ...` fan-out) go to a `Vec` of that type, which never allocates, so a fan-out
/// over a million items that binds nothing keeps no memory per item; such values are all
/// alike, so their order does not matter.
#[derive(Debug)]
struct Slots<T> {
    values: Vec<Option<T>>,
    zero_sized: Vec<T>,
    count: usize,
}

impl<T> Slots<T> {
    const fn new() -> Self {
        Slots {
            values: Vec::new(),
            zero_sized: Vec::new(),
            count: 0,
        }
    }

    fn put(&mut self, index: usize, value: T) {
        self.count += 1;
        if size_of::<T>() == 0 {
            self.zero_sized.push(value);
            return;
        }
        if self.values.len() <= index {
            self.values.resize_with(index + 1, || None);
        }
        self.values[index] = Some(value);
    }

    /// Every value, if each of the `items` items succeeded: never a prefix of them.
    fn take(&mut self, items: usize) -> Option<Vec<T>> {
        if self.count != items {
            return None;
        }
        if size_of::<T>() == 0 {
            return Some(std::mem::take(&mut self.zero_sized));
        }
        std::mem::take(&mut self.values).into_iter().collect()
    }
}

pin_project! {
    /// `name = for pat in iter => fut;`: one in-place task per item, pulled lazily.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct FanOut<I, C, Fut, T> {
        name: &'static str,
        iter: Option<I>,
        make: C,
        next: usize,
        // The iterator was dropped before it was exhausted: the fan-out has no value.
        stopped: bool,
        running: FuturesUnordered<Indexed<Fut>>,
        results: Slots<T>,
    }
}

/// A fan-out polled in place.
#[doc(hidden)]
pub fn fan_out<I, C, Fut>(
    name: &'static str,
    iter: I,
    make: C,
) -> FanOut<I::IntoIter, C, Fut, <Fut::Output as TaskResult>::Ok>
where
    I: IntoIterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future,
    Fut::Output: TaskResult,
{
    FanOut {
        name,
        iter: Some(iter.into_iter()),
        make,
        next: 0,
        stopped: false,
        running: FuturesUnordered::new(),
        results: Slots::new(),
    }
}

/// Makes the future of one item of a fan-out (after the user's expression made the task):
/// statically dispatched, where a `fn` pointer would cost an indirect call per item.
#[doc(hidden)]
pub trait MakeTask<Item> {
    /// The future the group runs for the item.
    type Fut;
    /// The item's future.
    fn make(&mut self, item: Item) -> Self::Fut;
}

/// Takes the next item of a fan-out and makes its future, if the group has a free slot for
/// it (the slot is then held). `None` when no slot is free, the group stops accepting tasks,
/// the iterator is exhausted, or user code panicked: the iterator is dropped in the last
/// three cases. A panic in the iterator or in the item's expression is recorded as the
/// item's panic, so the driver cancels and joins the siblings before resuming it.
fn next_item<I: Iterator, Fut>(
    iter: &mut Option<I>,
    stopped: &mut bool,
    make: &mut impl MakeTask<I::Item, Fut = Fut>,
    core: &mut Core,
    task: impl FnOnce() -> TaskName,
) -> Option<Fut> {
    let items = iter.as_mut()?;
    if !core.try_start() {
        if !core.accepting() {
            *iter = None;
            *stopped = true;
        }
        return None;
    }
    match catch_unwind(AssertUnwindSafe(|| {
        items.next().map(|item| make.make(item))
    })) {
        Ok(Some(fut)) => Some(fut),
        Ok(None) => {
            *iter = None;
            core.release();
            None
        }
        Err(payload) => {
            *iter = None;
            *stopped = true;
            core.release();
            core.panicked(&task(), payload);
            None
        }
    }
}

impl<I, C, Fut> Branch for FanOut<I, C, Fut, <Fut::Output as TaskResult>::Ok>
where
    I: Iterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future,
    Fut::Output: TaskResult,
{
    type Output = Vec<<Fut::Output as TaskResult>::Ok>;

    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        // Each item marks its index under this name.
        in_fan_out(this.name);
        loop {
            let name = *this.name;
            while let Some(fut) = next_item(this.iter, this.stopped, this.make, core, || {
                TaskName::indexed(name, *this.next)
            }) {
                let index = *this.next;
                this.running.push(Indexed {
                    index,
                    span: trace::task_span(|| TaskName::indexed(name, index), &core.options),
                    fut,
                });
                *this.next += 1;
            }
            match this.running.poll_next_unpin(cx) {
                Poll::Ready(Some((index, outcome))) => {
                    core.release();
                    if let Some(value) = settle(core, || TaskName::indexed(name, index), outcome) {
                        this.results.put(index, value);
                    }
                }
                Poll::Ready(None) if this.iter.is_none() => return Poll::Ready(()),
                // Nothing running, items left: waiting for a slot held by another branch.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let this = self.project();
        *this.iter = None;
        *this.stopped = true;
        for _ in 0..this.running.len() {
            core.release();
        }
        this.running.clear();
    }

    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        // Every item pulled must have succeeded, and the iterator must have been exhausted
        // (not dropped because the group stopped accepting tasks).
        let this = self.project();
        if *this.stopped {
            return None;
        }
        this.results.take(*this.next)
    }

    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}
}

pin_project! {
    /// `name = for pat in iter => spawn fut;`: one spawned task per item, pulled lazily.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct SpawnFanOut<I, C, O, T> {
        name: &'static str,
        iter: Option<I>,
        make: C,
        next: usize,
        // The iterator was dropped before it was exhausted: the fan-out has no value.
        stopped: bool,
        running: FuturesUnordered<IndexedHandle<O>>,
        results: Slots<T>,
    }
}

/// A spawned child tagged with its index in a fan-out.
#[derive(Debug)]
struct IndexedHandle<T> {
    index: usize,
    handle: AbortOnDropHandle<T>,
}

impl<T> Future for IndexedHandle<T> {
    type Output = (usize, Result<T, JoinError>);
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        match Pin::new(&mut self.handle).poll(cx) {
            Poll::Ready(joined) => Poll::Ready((index, joined)),
            Poll::Pending => pending(cx),
        }
    }
}

/// A fan-out whose items run on the runtime's workers.
#[doc(hidden)]
pub fn spawn_fan_out<I, C, Fut>(
    name: &'static str,
    iter: I,
    make: C,
) -> SpawnFanOut<I::IntoIter, C, Fut::Output, <Fut::Output as TaskResult>::Ok>
where
    I: IntoIterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future + Send + 'static,
    Fut::Output: TaskResult + Send + 'static,
{
    SpawnFanOut {
        name,
        iter: Some(iter.into_iter()),
        make,
        next: 0,
        stopped: false,
        running: FuturesUnordered::new(),
        results: Slots::new(),
    }
}

impl<I, C, Fut> Branch for SpawnFanOut<I, C, Fut::Output, <Fut::Output as TaskResult>::Ok>
where
    I: Iterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future + Send + 'static,
    Fut::Output: TaskResult + Send + 'static,
{
    type Output = Vec<<Fut::Output as TaskResult>::Ok>;

    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        let name = *this.name;
        loop {
            while let Some(fut) = next_item(this.iter, this.stopped, this.make, core, || {
                TaskName::indexed(name, *this.next)
            }) {
                let task = TaskName::indexed(name, *this.next);
                this.running.push(IndexedHandle {
                    index: *this.next,
                    handle: spawn_child(core, &task, fut),
                });
                *this.next += 1;
            }
            match this.running.poll_next_unpin(cx) {
                Poll::Ready(Some((index, joined))) => {
                    core.release();
                    if let Some(value) =
                        settle_joined(core, || TaskName::indexed(name, index), joined)
                    {
                        this.results.put(index, value);
                    }
                }
                Poll::Ready(None) if this.iter.is_none() => return Poll::Ready(()),
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn cancel(self: Pin<&mut Self>, _core: &mut Core) {
        let this = self.project();
        *this.iter = None;
        *this.stopped = true;
        // Aborted, and still joined: the driver polls them until they are gone.
        for child in this.running.iter_mut() {
            child.handle.abort();
        }
    }

    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        // Every item pulled must have succeeded, and the iterator must have been exhausted
        // (not dropped because the group stopped accepting tasks).
        let this = self.project();
        if *this.stopped {
            return None;
        }
        this.results.take(*this.next)
    }
    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        let name = *this.name;
        for child in std::mem::take(this.running) {
            orphans.push((TaskName::indexed(name, child.index), orphan(child.handle)));
        }
    }
}
