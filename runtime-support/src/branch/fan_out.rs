//! `name = for pat in iter => [spawn] fut;`: one task per item of an iterator, pulled lazily,
//! in place ([`FanOut`]) or spawned ([`SpawnFanOut`]). Both kinds share one poll loop and
//! one way to hand out their values ([`Feed`]); they differ only in how an item runs, how
//! its end settles, and how they cancel.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;
use tokio::task::JoinError;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::pool::Pool;
use super::{Branch, Running, Values, orphan, pending, settle, settle_joined, spawn_child};
use crate::context::in_fan_out;
use crate::core::Core;
use crate::error_group::TaskName;
use crate::future::TaskResult;
use crate::outcomes::Outcomes;
use crate::signal::Orphan;
use crate::trace::{self, GroupSpan};

/// Makes the future of one item of a fan-out (after the user's expression made the task):
/// statically dispatched, where a `fn` pointer would cost an indirect call per item.
#[doc(hidden)]
pub trait MakeTask<Item> {
    /// The future the group runs for the item.
    type Fut;
    /// The item's future.
    fn make(&mut self, item: Item) -> Self::Fut;
}

/// The running items of a fan-out, as its poll loop sees them: a [`Pool`] of futures polled
/// in place, or the spawned children's handles.
trait Items {
    /// What `start` takes: an item made into a running child.
    type Child;
    /// How a child ended.
    type Ended;
    /// Starts a child.
    fn start(&mut self, child: Self::Child);
    /// The next child that ended, with its index; `Ready(None)` when none runs.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Ended)>>;
}

impl<F: Future> Items for Pool<F> {
    type Child = (usize, GroupSpan, F);
    type Ended = Result<F::Output, Box<dyn Any + Send>>;
    #[inline]
    fn start(&mut self, (index, span, fut): Self::Child) {
        self.push(index, span, fut);
    }
    #[inline]
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Ended)>> {
        Pool::poll_next(self, cx)
    }
}

impl<O> Items for FuturesUnordered<IndexedHandle<O>> {
    type Child = IndexedHandle<O>;
    type Ended = Result<O, JoinError>;
    #[inline]
    fn start(&mut self, child: Self::Child) {
        self.push(child);
    }
    #[inline]
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Self::Ended)>> {
        self.poll_next_unpin(cx)
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

/// What a fan-out of either kind holds besides its running items: its name, the iterator
/// and the maker of its items' futures, how many items it pulled, and their values.
#[derive(Debug)]
struct Feed<I, C, T> {
    name: &'static str,
    iter: Option<I>,
    make: C,
    next: usize,
    // The iterator was dropped before it was exhausted: the fan-out has no value.
    stopped: bool,
    results: Slots<T>,
    // When each running item started, in a group that keeps start times.
    #[allow(
        clippy::box_collection,
        reason = "boxed, a fan-out without a deadline is 40 bytes smaller"
    )]
    starts: Option<Box<HashMap<usize, Instant>>>,
}

impl<I, C, T> Feed<I, C, T> {
    /// Every item's value, once every item pulled succeeded and the iterator was exhausted
    /// (not dropped because the group stopped accepting tasks).
    fn take_output(&mut self) -> Option<Vec<T>> {
        if self.stopped {
            return None;
        }
        self.results.take(self.next)
    }

    /// The running items in input order, each with the instant it started if the group
    /// keeps start times.
    fn running(&self, indices: impl Iterator<Item = usize>, spawned: bool, out: &mut Vec<Running>) {
        let mut indices: Vec<usize> = indices.collect();
        indices.sort_unstable();
        for index in indices {
            let at = self
                .starts
                .as_ref()
                .and_then(|starts| starts.get(&index).copied());
            out.push(Running {
                task: TaskName::indexed(self.name, index),
                at,
                spawned,
            });
        }
    }
}

impl<I: Iterator, C: MakeTask<I::Item>, T> Feed<I, C, T> {
    fn new(name: &'static str, iter: I, make: C) -> Self {
        Feed {
            name,
            iter: Some(iter),
            make,
            next: 0,
            stopped: false,
            results: Slots::new(),
            starts: None,
        }
    }

    /// The poll loop of both kinds: starts items while the group has a slot for them (each
    /// made into a running child by `launch`), and settles every child that finished (its
    /// end made into a value by `end`). `Ready` once the iterator is done and nothing runs.
    fn poll<R: Items>(
        &mut self,
        running: &mut R,
        cx: &mut Context<'_>,
        core: &mut Core,
        mut launch: impl FnMut(&mut Core, usize, C::Fut) -> R::Child,
        mut end: impl FnMut(&mut Core, usize, R::Ended) -> Option<T>,
    ) -> Poll<()> {
        let _pass = core.in_pass();
        loop {
            while let Some(fut) = self.next_item(core) {
                running.start(launch(core, self.next, fut));
                if let Some(at) = core.start_time() {
                    self.starts.get_or_insert_default().insert(self.next, at);
                }
                self.next += 1;
            }
            match running.poll_next(cx) {
                Poll::Ready(Some((index, ended))) => {
                    core.release();
                    if let Some(starts) = &mut self.starts {
                        starts.remove(&index);
                    }
                    if let Some(value) = end(core, index, ended) {
                        self.results.put(index, value);
                    }
                }
                Poll::Ready(None) if self.iter.is_none() => return Poll::Ready(()),
                // Nothing running, items left: waiting for a slot held by another branch.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Takes the next item and makes its future, if the group has a free slot for it (the
    /// slot is then held). `None` when no slot is free, the group stops accepting tasks, the
    /// iterator is exhausted, or user code panicked: the iterator is dropped in the last
    /// three cases. A panic in the iterator or in the item's expression is recorded as the
    /// item's panic, so the driver cancels and joins the siblings before resuming it.
    #[inline]
    fn next_item(&mut self, core: &mut Core) -> Option<C::Fut> {
        let items = self.iter.as_mut()?;
        if !core.try_start() {
            if !core.accepting() {
                self.stop();
            }
            return None;
        }
        let make = &mut self.make;
        match catch_unwind(AssertUnwindSafe(|| {
            items.next().map(|item| make.make(item))
        })) {
            Ok(Some(fut)) => Some(fut),
            Ok(None) => {
                self.iter = None;
                core.release();
                None
            }
            Err(payload) => {
                self.panicked(core, payload);
                None
            }
        }
    }

    /// User code panicked while the next item was made: recorded as that item's panic.
    #[cold]
    #[inline(never)]
    fn panicked(&mut self, core: &mut Core, payload: Box<dyn Any + Send>) {
        self.stop();
        core.release();
        core.panicked(&TaskName::indexed(self.name, self.next), payload);
    }

    /// Drops the iterator before it is exhausted: the fan-out has no value.
    fn stop(&mut self) {
        self.iter = None;
        self.stopped = true;
    }
}

pin_project! {
    /// `name = for pat in iter => fut;`: one in-place task per item, pulled lazily.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct FanOut<I, C, Fut, T> {
        feed: Feed<I, C, T>,
        running: Pool<Fut>,
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
        feed: Feed::new(name, iter.into_iter(), make),
        running: Pool::new(),
    }
}

impl<I, C, Fut, T> Values for FanOut<I, C, Fut, T> {
    type Output = Vec<T>;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<Vec<T>> {
        self.project().feed.take_output()
    }
}

impl<I, C, Fut> Branch for FanOut<I, C, Fut, <Fut::Output as TaskResult>::Ok>
where
    I: Iterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future,
    Fut::Output: TaskResult,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        let name = this.feed.name;
        // Each item marks its index under this name.
        in_fan_out(name);
        this.feed.poll(
            this.running,
            cx,
            core,
            |core, index, fut| {
                let span = trace::task_span(|| TaskName::indexed(name, index), &core.options);
                (index, span, fut)
            },
            |core, index, outcome| settle(core, || TaskName::indexed(name, index), outcome),
        )
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let this = self.project();
        this.feed.stop();
        for _ in 0..this.running.len() {
            core.release();
        }
        // Each item is dropped alone: a panic in its `Drop` is recorded, and the rest are
        // dropped too.
        let name = this.feed.name;
        this.running.clear(|_, mut fut| {
            core.drop_children(|| TaskName::new(name), move || fut.set(None));
        });
    }

    fn orphan(self: Pin<&mut Self>, _: &mut Vec<(TaskName, Orphan)>) {}

    fn running(&self, out: &mut Vec<Running>) {
        self.feed.running(self.running.indices(), false, out);
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

pin_project! {
    /// `name = for pat in iter => spawn fut;`: one spawned task per item, pulled lazily. Its
    /// items' output `O` is named, not projected from their future, so that the type asks
    /// nothing of it (see `assert.rs`).
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct SpawnFanOut<I, C, O, T> {
        feed: Feed<I, C, T>,
        running: FuturesUnordered<IndexedHandle<O>>,
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
        feed: Feed::new(name, iter.into_iter(), make),
        running: FuturesUnordered::new(),
    }
}

impl<I, C, O, T> Values for SpawnFanOut<I, C, O, T> {
    type Output = Vec<T>;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<Vec<T>> {
        self.project().feed.take_output()
    }
}

impl<I, C, Fut> Branch for SpawnFanOut<I, C, Fut::Output, <Fut::Output as TaskResult>::Ok>
where
    I: Iterator,
    C: MakeTask<I::Item, Fut = Fut>,
    Fut: Future + Send + 'static,
    Fut::Output: TaskResult + Send + 'static,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        let name = this.feed.name;
        this.feed.poll(
            this.running,
            cx,
            core,
            |core, index, fut| IndexedHandle {
                index,
                handle: spawn_child(core, &TaskName::indexed(name, index), fut),
            },
            |core, index, joined| settle_joined(core, || TaskName::indexed(name, index), joined),
        )
    }

    fn cancel(self: Pin<&mut Self>, _core: &mut Core) {
        let this = self.project();
        this.feed.stop();
        // Aborted, and still joined: the driver polls them until they are gone.
        for child in this.running.iter_mut() {
            child.handle.abort();
        }
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        let name = this.feed.name;
        for child in std::mem::take(this.running) {
            orphans.push((TaskName::indexed(name, child.index), orphan(child.handle)));
        }
    }

    fn running(&self, out: &mut Vec<Running>) {
        let items = self.running.iter();
        self.feed.running(items.map(|item| item.index), true, out);
    }
}

pin_project! {
    /// A fan-out in `settle` mode: its results, under its name ([`Outcomes`]).
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct SettledFanOut<B> {
        #[pin]
        inner: B,
        name: &'static str,
    }
}

/// The fan-out `inner`, named `name`, binding [`Outcomes`].
pub(crate) const fn settled_fan_out<B>(name: &'static str, inner: B) -> SettledFanOut<B> {
    SettledFanOut { inner, name }
}

impl<B, T, E> Values for SettledFanOut<B>
where
    B: Values<Output = Vec<Result<T, E>>>,
{
    type Output = Outcomes<T, E>;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        let this = self.project();
        let name = *this.name;
        this.inner
            .take_output()
            .map(|results| Outcomes::new(name, results))
    }
}

impl<B, T, E> Branch for SettledFanOut<B>
where
    B: Branch<Output = Vec<Result<T, E>>>,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        self.project().inner.poll_branch(cx, core)
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        self.project().inner.cancel(core);
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        self.project().inner.orphan(orphans);
    }

    fn running(&self, out: &mut Vec<Running>) {
        self.inner.running(out);
    }
}
