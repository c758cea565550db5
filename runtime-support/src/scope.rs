//! The imperative API: a scope whose handle spawns tasks dynamically, from the body or from
//! inside other tasks, and which cannot escape the scope.

use std::any::Any;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use crate::assert::{Checked, Trigger, checked};
use crate::branch::{Branch, CancelOn, Running, Values, scope_cancel_on};
use crate::branch::{orphan, pending, settle, settle_joined, spawn_child};
use crate::cancel::CancelReason;
use crate::context::{in_scope_pass, in_task, may_poll, set_starting, signal_here, starting};
use crate::core::{Core, Mode, Options};
use crate::error_group::{BoxError, ErrorGroup, TaskName};
use crate::future::TaskResult;
use crate::handle::{Ready, Starting, TaskHandle, deliver, ready};
use crate::run::{Run, run_with};
use crate::signal::{Orphan, Signal};
use crate::trace::{self, GroupSpan};

type Payload = Box<dyn Any + Send>;
type LocalChild<'scope> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'scope>>;
type SpawnedChild = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// A task waiting for a slot.
enum Queued<'scope> {
    Local(TaskName, LocalChild<'scope>),
    Spawned(TaskName, SpawnedChild),
}

/// The handle of a running [`scope`]: spawns tasks into it.
///
/// Like [`std::thread::Scope`], it is branded with the scope's lifetime: it can be used by the
/// body and by the scope's tasks, but it cannot be returned from the scope, stored beyond it,
/// or moved into a `'static` task such as `tokio::spawn`'s.
///
/// ```compile_fail
/// # async fn f() {
/// let mut leaked = None;
/// let _ = taskgroup::scope(async |s| {
///     leaked = Some(s); // error: borrowed data escapes the scope
///     Ok::<_, std::io::Error>(())
/// })
/// .await;
/// # }
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    state: &'scope ScopeState<'scope, 'env>,
}

impl Clone for Scope<'_, '_> {
    fn clone(&self) -> Self {
        *self
    }
}

impl Copy for Scope<'_, '_> {}

/// What a [`Scope`] handle points to: the queue of tasks waiting to start and the group's
/// cancellation signal. Not public API.
#[doc(hidden)]
pub struct ScopeState<'scope, 'env: 'scope> {
    /// Tasks waiting for a slot. `ManuallyDrop` because the scope is borrowed for `'scope`
    /// while it holds `'scope` futures: with drop glue of its own it could not be dropped
    /// after that borrow ends. The scope's driver, which is always dropped first, empties it.
    queue: ManuallyDrop<Mutex<VecDeque<Queued<'scope>>>>,
    signal: Arc<Signal>,
    /// The group's grace period, for a task cancelled through its handle.
    grace: Option<Duration>,
    spawned: AtomicUsize,
    /// Invariant in `'scope`, as in `std::thread::Scope`, so the handle cannot be shortened
    /// or lengthened to escape.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.state, f)
    }
}

impl<'scope> ScopeState<'scope, '_> {
    /// The queue of tasks waiting for a slot. No user code runs while it is held (queued
    /// tasks are taken out before they are dropped), so a poisoned lock is used as is.
    fn queue(&self) -> MutexGuard<'_, VecDeque<Queued<'scope>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes every queued task out, so that the caller drops them outside the lock.
    fn take_queue(&self) -> VecDeque<Queued<'scope>> {
        std::mem::take(&mut *self.queue())
    }
}

impl fmt::Debug for ScopeState<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("spawned", &self.spawned.load(Ordering::Relaxed))
            .field("cancelling", &self.signal.is_cancelling())
            .finish_non_exhaustive()
    }
}

impl<'scope> Scope<'scope, '_> {
    fn next_name(self) -> TaskName {
        let n = self.state.spawned.fetch_add(1, Ordering::Relaxed);
        TaskName::owned(format!("task-{n}"))
    }

    fn enqueue(self, child: Queued<'scope>) -> bool {
        if self.state.signal.is_cancelling() {
            // The group is cancelling or finished: the task is refused and dropped unpolled.
            return false;
        }
        self.state.queue().push_back(child);
        true
    }

    /// Spawns a task polled in place, inside the scope's own future: it may borrow from the
    /// enclosing function (`'env`) and from the scope. Its name in error reports is `task-N`.
    ///
    /// Returns a handle to its value, which also cancels this task alone. If the group is
    /// already cancelling, the task is refused: it is dropped without being polled and its
    /// handle yields `Err(HandleError::Refused)`. So is a task spawned at the instant the
    /// group stops accepting tasks (a fail-fast failure, a panic), before its first poll: as
    /// in Python, where a task cancelled before its first step never runs.
    pub fn spawn<F>(self, fut: F) -> TaskHandle<<F::Output as TaskResult>::Ok>
    where
        F: Future + Send + 'scope,
        F::Output: TaskResult,
        <F::Output as TaskResult>::Ok: Send + 'scope,
    {
        self.spawn_named(self.next_name(), fut)
    }

    /// [`spawn`](Scope::spawn) with a name for error reports and traces.
    pub fn spawn_named<F>(
        self,
        name: impl Into<TaskName>,
        fut: F,
    ) -> TaskHandle<<F::Output as TaskResult>::Ok>
    where
        F: Future + Send + 'scope,
        F::Output: TaskResult,
        <F::Output as TaskResult>::Ok: Send + 'scope,
    {
        let (task, handle) = deliver(fut, &self.state.signal, self.state.grace);
        self.enqueue(Queued::Local(name.into(), Box::pin(task)));
        handle
    }

    /// Spawns a task on the runtime's workers, in parallel with the rest of the group. It
    /// must be `Send + 'static`; the group still joins it before it ends, and aborts it if
    /// the group is cancelled.
    pub fn spawn_parallel<F>(self, fut: F) -> TaskHandle<<F::Output as TaskResult>::Ok>
    where
        F: Future + Send + 'static,
        F::Output: TaskResult,
        <F::Output as TaskResult>::Ok: Send + 'static,
    {
        let (task, handle) = deliver(fut, &self.state.signal, self.state.grace);
        self.enqueue(Queued::Spawned(self.next_name(), Box::pin(task)));
        handle
    }

    /// Starts a task that must be ready before the body goes on (Trio's `nursery.start()`):
    /// a server that binds its port, a pool that connects, a subscriber that subscribes.
    ///
    /// `task` is called with a [`Ready`], and runs in place as a task of the group, like
    /// [`spawn`](Scope::spawn)'s (its name is `task-N`). The returned future resolves with
    /// the value the task passes to [`Ready::started`] as soon as it calls it, while the task
    /// goes on; the group still waits for the task to end. If the task ends, fails, panics or
    /// is cancelled before it calls `started` (or drops its `Ready`), the future resolves to
    /// [`NotStarted`](crate::NotStarted): the task's own error, if it failed, goes to the group
    /// as usual, once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
    /// use std::time::Duration;
    ///
    /// let served = taskgroup::scope!(async |s| {
    ///     let port: u16 = s
    ///         .start(async |ready: taskgroup::Ready<u16>| {
    ///             tokio::time::sleep(Duration::from_millis(50)).await; // bind a listener
    ///             ready.started(8080);
    ///             tokio::time::sleep(Duration::from_secs(1)).await; // serve
    ///             Ok::<_, std::io::Error>(())
    ///         })
    ///         .await?;
    ///     // The server is listening here; the group still waits for it to end.
    ///     Ok::<_, taskgroup::BoxError>(port)
    /// })
    /// .await?;
    /// assert_eq!(served, 8080);
    /// # Ok(())
    /// # }
    /// ```
    pub fn start<F, Fut, V>(self, task: F) -> Starting<V, <Fut::Output as TaskResult>::Ok>
    where
        F: FnOnce(Ready<V>) -> Fut,
        Fut: Future + Send + 'scope,
        Fut::Output: TaskResult,
        <Fut::Output as TaskResult>::Ok: Send + 'scope,
    {
        let (ready, started) = ready();
        Starting::new(started, self.spawn(task(ready)))
    }

    /// [`start`](Scope::start) for a task on the runtime's workers, in parallel with the rest
    /// of the group, as [`spawn_parallel`](Scope::spawn_parallel)'s: `Send + 'static`.
    pub fn start_parallel<F, Fut, V>(self, task: F) -> Starting<V, <Fut::Output as TaskResult>::Ok>
    where
        F: FnOnce(Ready<V>) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: TaskResult,
        <Fut::Output as TaskResult>::Ok: Send + 'static,
        V: Send + 'static,
    {
        let (ready, started) = ready();
        Starting::new(started, self.spawn_parallel(task(ready)))
    }

    /// Whether the group has begun cancelling (new tasks are then refused).
    pub fn is_cancelled(self) -> bool {
        self.state.signal.is_cancelling()
    }

    /// Ends the group cleanly, without an error: Python 3.15's `TaskGroup.cancel()`.
    ///
    /// Every task is cancelled (given the `grace` period if one is set, then dropped or
    /// aborted) and new ones are refused; their handles yield
    /// `Err(HandleError::Cancelled(CancelReason::Cancelled))`, or `Err(HandleError::Refused)`.
    /// The body is not cancelled, because it makes the scope's value: it sees
    /// [`is_cancelled`](Self::is_cancelled) and returns when it is ready, and the scope
    /// returns `Ok` with that value unless a task failed before the cancellation. (In Python the body is cancelled too; a Rust body has a
    /// value to return.) Calling it again, or once the group is ending, does nothing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
    /// use std::time::Duration;
    ///
    /// let ticks = std::sync::atomic::AtomicU32::new(0);
    /// taskgroup::scope(async |s| {
    ///     s.spawn(async {
    ///         for tick in 1.. {
    ///             tokio::time::sleep(Duration::from_secs(1)).await;
    ///             ticks.store(tick, std::sync::atomic::Ordering::Relaxed);
    ///         }
    ///     });
    ///     tokio::time::sleep(Duration::from_millis(3500)).await;
    ///     s.cancel(); // the ticker is dropped; the scope ends without an error
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .await?;
    /// assert_eq!(ticks.into_inner(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(self) {
        self.state.signal.cancel(CancelReason::Cancelled);
    }
}

pin_project! {
    /// An in-place child of a scope, with its name; panics are caught and returned.
    struct Named<F> {
        name: TaskName,
        // The pass it was last polled in (`context::may_poll`).
        stamp: u64,
        // It had its first poll.
        started: bool,
        span: GroupSpan,
        // When it started, in a group that keeps start times.
        at: Option<Instant>,
        // `None` once the group cancelled it: dropped alone, where a panic is caught.
        #[pin]
        fut: Option<F>,
    }
}

impl<F: Future> Future for Named<F> {
    /// Its outcome, or `None` if it never started: the scope stopped accepting tasks before
    /// its first poll, and it was dropped unpolled.
    type Output = (TaskName, Option<Result<F::Output, Payload>>);
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if !may_poll(this.stamp) {
            // Polled since the failure: it waits, awake, for the cancellation.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if !*this.started {
            if !starting() {
                // Spawned at the instant its scope stopped accepting tasks, and not polled
                // yet: never started (its handle says `Refused`).
                this.fut.set(None);
                return Poll::Ready((this.name.clone(), None));
            }
            *this.started = true;
        }
        let Some(fut) = this.fut.as_pin_mut() else {
            // Polled after it completed: `FuturesUnordered` never does.
            return Poll::Pending;
        };
        let polled = in_task(this.name, || {
            trace::in_span(this.span, || {
                catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
            })
        });
        match polled {
            Ok(Poll::Pending) => pending(cx),
            Ok(Poll::Ready(output)) => Poll::Ready((this.name.clone(), Some(Ok(output)))),
            Err(payload) => Poll::Ready((this.name.clone(), Some(Err(payload)))),
        }
    }
}

/// A spawned child of a scope, with its name.
struct NamedHandle {
    name: TaskName,
    handle: AbortOnDropHandle<Result<(), BoxError>>,
    // When it started, in a group that keeps start times.
    at: Option<Instant>,
}

impl Future for NamedHandle {
    type Output = (
        TaskName,
        Result<Result<(), BoxError>, tokio::task::JoinError>,
    );
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.handle).poll(cx) {
            Poll::Ready(joined) => Poll::Ready((self.name.clone(), joined)),
            Poll::Pending => pending(cx),
        }
    }
}

pin_project! {
    /// The children of a scope: its body and everything spawned into it.
    #[doc(hidden)]
    pub struct ScopeBranch<'a, 'scope, 'env, B, T> {
        scope: &'a ScopeState<'scope, 'env>,
        #[pin]
        body: Option<B>,
        out: Option<T>,
        local: FuturesUnordered<Named<LocalChild<'scope>>>,
        spawned: FuturesUnordered<NamedHandle>,
    }
    impl<'a, 'scope, 'env, B, T> PinnedDrop for ScopeBranch<'a, 'scope, 'env, B, T> {
        fn drop(this: Pin<&mut Self>) {
            // Frees the tasks that never got a slot, and the queue's buffer (see `Scope::queue`).
            drop(this.scope.take_queue());
        }
    }
}

impl<'scope, B, T> ScopeBranch<'_, 'scope, '_, B, T> {
    /// Starts queued tasks while the group has slots. Refused ones are dropped unpolled.
    fn start_queued(
        scope: &ScopeState<'scope, '_>,
        local: &mut FuturesUnordered<Named<LocalChild<'scope>>>,
        spawned: &mut FuturesUnordered<NamedHandle>,
        core: &mut Core,
    ) {
        let mut queue = scope.queue();
        while !queue.is_empty() {
            if !core.try_start() {
                if !core.accepting() {
                    // Refused: dropped unpolled, outside the lock.
                    let refused = std::mem::take(&mut *queue);
                    drop(queue);
                    drop(refused);
                }
                return;
            }
            match queue.pop_front() {
                Some(Queued::Local(name, fut)) => {
                    let span = trace::task_span(|| name.clone(), &core.options);
                    let at = core.start_time();
                    local.push(Named {
                        name,
                        stamp: 0,
                        started: false,
                        span,
                        at,
                        fut: Some(fut),
                    });
                }
                Some(Queued::Spawned(name, fut)) => {
                    let handle = spawn_child(core, &name, fut);
                    let at = core.start_time();
                    spawned.push(NamedHandle { name, handle, at });
                }
                None => core.release(),
            }
        }
    }
}

/// Polls the body of a scope, if it is still running; its value, error or panic is recorded.
fn poll_body<B>(
    mut body: Pin<&mut Option<B>>,
    out: &mut Option<<B::Output as TaskResult>::Ok>,
    cx: &mut Context<'_>,
    core: &mut Core,
) where
    B: Future,
    B::Output: TaskResult,
{
    let Some(fut) = body.as_mut().as_pin_mut() else {
        return;
    };
    if core.settling() {
        // Every pass polls it: it was polled in the one that saw the failure.
        return;
    }
    let polled = in_task(&TaskName::new("body"), || {
        catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
    });
    match polled {
        Ok(Poll::Pending) => {}
        Ok(Poll::Ready(output)) => {
            body.set(None);
            match output.into_result() {
                Ok(value) => *out = Some(value),
                // The body's error comes last in the group, as in Python.
                Err(error) => core.fail_last(TaskName::new("body"), error.into()),
            }
        }
        Err(payload) => {
            body.set(None);
            core.panicked(&TaskName::new("body"), payload);
        }
    }
}

impl<B, T> Values for ScopeBranch<'_, '_, '_, B, T> {
    type Output = T;
    fn take_output(self: Pin<&mut Self>) -> Option<T> {
        self.project().out.take()
    }
}

impl<B> Branch for ScopeBranch<'_, '_, '_, B, <B::Output as TaskResult>::Ok>
where
    B: Future,
    B::Output: TaskResult,
{
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let mut this = self.project();
        // Its tasks are polled only when they woke: see `context::may_poll`.
        let _pass = core.in_pass();
        // A task not polled yet starts only while the group accepts tasks.
        let _starting = in_scope_pass(core.accepting());
        poll_body(this.body.as_mut(), this.out, cx, core);
        set_starting(core.accepting());
        // Tasks spawned while their siblings are polled start in the same poll when a slot
        // is free, whether or not the spawner finished. A budget keeps a task that spawns on
        // every poll from holding the thread: past it, the group yields and wakes itself.
        let mut budget = 64;
        loop {
            Self::start_queued(this.scope, this.local, this.spawned, core);
            let mut settled = false;
            while let Poll::Ready(Some((name, outcome))) = this.local.poll_next_unpin(cx) {
                core.release();
                if let Some(outcome) = outcome {
                    settle(core, || name, outcome);
                    set_starting(core.accepting());
                    settled = true;
                }
            }
            while let Poll::Ready(Some((name, joined))) = this.spawned.poll_next_unpin(cx) {
                core.release();
                settle_joined(core, || name, joined);
                set_starting(core.accepting());
                settled = true;
            }
            if settled && core.accepting() {
                // The body may be waiting for the values just delivered: it goes on in this
                // poll, not the next, so the scope ends at the instant its last task does.
                // Not once the group stopped accepting tasks (a failure, its deadline, a
                // winner, a cancellation): the body already had its step at this instant.
                poll_body(this.body.as_mut(), this.out, cx, core);
                set_starting(core.accepting());
            }
            let queued = !this.scope.queue().is_empty();
            if !queued || !core.can_start() {
                break;
            }
            budget -= 1;
            if budget == 0 {
                cx.waker().wake_by_ref();
                break;
            }
        }
        let queued = !this.scope.queue().is_empty();
        if this.body.is_none() && this.local.is_empty() && this.spawned.is_empty() && !queued {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let mut this = self.project();
        // A panic in a dropped child's `Drop` is recorded, and the group goes on.
        if !core.keeps_body() {
            let mut body = this.body.as_mut();
            core.drop_children(|| TaskName::new("body"), move || body.set(None));
        }
        let queue = this.scope.take_queue();
        core.drop_children(|| TaskName::new("task"), move || drop(queue));
        for _ in 0..this.local.len() {
            core.release();
        }
        // Each task is dropped alone: a panic in its `Drop` is recorded, and the rest are
        // dropped too.
        for child in Pin::new(&mut *this.local).iter_pin_mut() {
            let child = child.project();
            let mut fut = child.fut;
            if fut.is_some() {
                let name = child.name.clone();
                core.drop_children(|| name, move || fut.set(None));
            }
        }
        this.local.clear();
        // Aborted, and still joined: the driver polls them until they are gone.
        for child in this.spawned.iter_mut() {
            child.handle.abort();
        }
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        for child in std::mem::take(self.project().spawned) {
            orphans.push((child.name, orphan(child.handle)));
        }
    }

    fn running(&self, out: &mut Vec<Running>) {
        if self.body.is_some() {
            // It started with the group.
            out.push(Running {
                task: TaskName::new("body"),
                at: None,
                spawned: false,
            });
        }
        // The sets list their newest child first: in start order, the oldest first.
        let local = out.len();
        for child in Pin::new(&self.local).iter_pin_ref() {
            let child = child.get_ref();
            out.push(Running {
                task: child.name.clone(),
                at: child.at,
                spawned: false,
            });
        }
        out[local..].reverse();
        let spawned = out.len();
        for child in &self.spawned {
            out.push(Running {
                task: child.name.clone(),
                at: child.at,
                spawned: true,
            });
        }
        out[spawned..].reverse();
    }
}

/// A group built step by step: options first, then [`scope`](Group::scope).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
/// use std::time::Duration;
///
/// let urls = ["a", "b", "c"];
/// let lengths = taskgroup::Group::new()
///     .name("lengths")
///     .limit(2)
///     .timeout(Duration::from_secs(1))
///     .scope(async |s| {
///         let mut handles = Vec::new();
///         for url in &urls {
///             handles.push(s.spawn(async move { Ok::<_, std::io::Error>(url.len()) }));
///         }
///         let mut lengths = Vec::new();
///         for handle in handles {
///             lengths.extend(handle.await);
///         }
///         Ok::<_, std::io::Error>(lengths)
///     })
///     .await?;
/// assert_eq!(lengths, [1, 1, 1]);
/// # Ok(())
/// # }
/// ```
///
/// `C` is the future set by [`cancel_on`](Group::cancel_on); without one it is a future that
/// never completes.
#[derive(Clone)]
#[must_use = "a group builder does nothing until `scope` is awaited"]
pub struct Group<C = std::future::Pending<()>> {
    options: Options,
    cancel_on: C,
}

impl<C> fmt::Debug for Group<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Default for Group {
    #[track_caller]
    fn default() -> Self {
        Group::new()
    }
}

impl Group {
    /// A group with the default options: unnamed, no deadline, no limit, fail-fast.
    #[track_caller]
    pub fn new() -> Self {
        let caller = std::panic::Location::caller();
        Group {
            options: Options::new().at(caller.file(), caller.line()),
            cancel_on: std::future::pending(),
        }
    }
}

impl<C> Group<C> {
    fn with(self, options: impl FnOnce(Options) -> Options) -> Self {
        Group {
            options: options(self.options),
            cancel_on: self.cancel_on,
        }
    }

    /// Cancels the group when `trigger` completes: `token.cancelled_owned()` from tokio-util,
    /// `tokio::signal::ctrl_c()`, a oneshot receiver. As `#![cancel_on = trigger]`.
    ///
    /// The group then cancels as [`Scope::cancel`] cancels it: the reason is
    /// [`CancelReason::Cancelled`], tasks watching [`cancelled`](crate::cancelled) get the
    /// `grace` period, the rest are dropped or aborted, new tasks are refused, and the body
    /// goes on to make the scope's value. A trigger already complete when the group starts
    /// cancels it before any task runs. The trigger's output is ignored.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
    /// use std::time::Duration;
    ///
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let ticks = std::sync::atomic::AtomicU32::new(0);
    /// taskgroup::Group::new()
    ///     .cancel_on(stopped)
    ///     .scope(async |s| {
    ///         s.spawn(async {
    ///             for _ in 0.. {
    ///                 tokio::time::sleep(Duration::from_secs(1)).await;
    ///                 ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ///             }
    ///         });
    ///         s.spawn(async move {
    ///             tokio::time::sleep(Duration::from_millis(2500)).await;
    ///             let _ = stop.send(()); // the ticker is dropped; the scope ends cleanly
    ///         });
    ///         Ok::<_, std::io::Error>(())
    ///     })
    ///     .await?;
    /// assert_eq!(ticks.into_inner(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel_on<F: IntoFuture>(self, trigger: F) -> Group<F::IntoFuture> {
        Group {
            options: self.options,
            cancel_on: trigger.into_future(),
        }
    }

    /// Names the group in its error message and in traces.
    pub fn name(self, name: impl Into<Cow<'static, str>>) -> Self {
        self.with(|options| options.name(name))
    }

    /// Cancels the whole group when `timeout` has passed since it started; the group's error
    /// group then holds an [`Elapsed`](crate::Elapsed) leaf, named `deadline`. As
    /// `#![timeout = d]` in `group!`.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|options| options.timeout(timeout))
    }

    /// Caps the number of tasks in flight, group-wide. Tasks beyond the cap wait, in the order
    /// they were spawned; fan-outs pull from their iterator only when a slot is free, so their
    /// memory stays proportional to the limit. A limit of 0 could never start anything and is
    /// taken as 1 (`group!` rejects `#![limit = 0]` at compile time). As `#![limit = n]`.
    pub fn limit(self, limit: usize) -> Self {
        self.with(|options| options.limit(limit))
    }

    /// When the group cancels, gives the tasks that watch [`cancelled`](crate::cancelled) up to
    /// `grace` to clean up and finish before they are dropped. As `#![grace = d]`.
    pub fn grace(self, grace: Duration) -> Self {
        self.with(|options| options.grace(grace))
    }

    /// Sets the failure mode: fail-fast (the default), supervise, settle or first-success; see
    /// [`Mode`]. As `#![mode = ...]`.
    pub fn mode(self, mode: Mode) -> Self {
        self.with(|options| options.mode(mode))
    }

    /// Runs `body` with a scope handle, then waits for every task spawned into the scope.
    ///
    /// Returns the body's value once the body and every task succeeded. Otherwise returns
    /// every error, each with its task's name, in completion order (the body's own error
    /// last). A panic in the body or a task cancels the rest and then resumes.
    pub async fn scope<'env, F, T, E>(self, body: F) -> Result<T, ErrorGroup>
    where
        C: Future,
        F: for<'scope> AsyncFnOnce(Scope<'scope, 'env>) -> Result<T, E>,
        E: Into<BoxError>,
    {
        let (core, state, trigger) = group_parts(self);
        let body = body(Scope { state: &state });
        run_scope(core, &state, trigger, body).await
    }
}

/// A group's state and its scope's, for `scope!`. Not public API.
#[doc(hidden)]
pub fn group_parts<'scope, 'env, C>(group: Group<C>) -> (Core, ScopeState<'scope, 'env>, C) {
    let signal = signal_here();
    let core = Core::with_signal(group.options, signal.clone());
    let state = ScopeState {
        queue: ManuallyDrop::new(Mutex::new(VecDeque::new())),
        grace: core.options.grace,
        signal,
        spawned: AtomicUsize::new(0),
        scope: PhantomData,
        env: PhantomData,
    };
    (core, state, group.cancel_on)
}

/// The handle of a scope's state, for `scope!`. Not public API.
#[doc(hidden)]
pub fn scope_handle<'scope, 'env>(state: &'scope ScopeState<'scope, 'env>) -> Scope<'scope, 'env> {
    Scope { state }
}

/// Runs a scope's body and its tasks as one group, for `scope!`. Not public API.
///
/// The body's value `T` is a parameter of the returned type, bound where the body is written,
/// and the branch is [`Checked`](crate::assert::Checked), whose `Branch` impl asks nothing: so
/// that no projection through [`TaskResult`] is normalized again where a `Send` bound looks
/// through the scope's future, which for a body failing with `Box<dyn Error + Send + Sync>`
/// fails with the lifetimes erased ("implementation of `From` is not general enough").
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn run_scope<'a, 'scope, 'env, C, B, T>(
    core: Core,
    state: &'a ScopeState<'scope, 'env>,
    trigger: C,
    body: B,
) -> Run<Checked<'a, CancelOn<C, ScopeBranch<'a, 'scope, 'env, B, T>>, T>>
where
    C: Future,
    B: Future,
    B::Output: TaskResult<Ok = T>,
{
    run_with(
        core,
        checked(scope_cancel_on(
            Trigger::new(trigger),
            ScopeBranch {
                scope: state,
                body: Some(body),
                out: None,
                local: FuturesUnordered::new(),
                spawned: FuturesUnordered::new(),
            },
        )),
    )
}

impl<C: Future> Group<C> {
    /// Runs `tasks` as a race: the first to succeed wins and the others are cancelled
    /// (Java's `anySuccessfulOrThrow`, futures-concurrency's `race_ok`, with a group's
    /// options). Failures do not cancel anything.
    ///
    /// # Errors
    ///
    /// Every task's error, if none succeeds (an empty group if there were no tasks).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
    /// use std::time::Duration;
    ///
    /// async fn mirror(delay_ms: u64, ok: bool) -> Result<u64, std::io::Error> {
    ///     tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    ///     if ok { Ok(delay_ms) } else { Err(std::io::Error::other("mirror down")) }
    /// }
    ///
    /// let fastest = taskgroup::Group::new()
    ///     .first_success([mirror(10, false), mirror(30, true), mirror(20, true)])
    ///     .await?;
    /// assert_eq!(fastest, 20);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn first_success<I, F, T, E>(self, tasks: I) -> Result<T, ErrorGroup>
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = Result<T, E>> + Send,
        T: Send,
        E: Into<BoxError>,
    {
        let mode = self.mode(Mode::FirstSuccess);
        let message = mode
            .options
            .name
            .clone()
            .unwrap_or(Cow::Borrowed("first_success"));
        let winner = mode
            .scope(async |s| {
                let handles: Vec<_> = tasks.into_iter().map(|task| s.spawn(task)).collect();
                // Losers' handles resolve to an error as soon as they fail or are cancelled.
                for handle in handles {
                    if let Ok(value) = handle.await {
                        return Ok(Some(value));
                    }
                }
                Ok::<_, std::convert::Infallible>(None)
            })
            .await?;
        winner.ok_or_else(|| ErrorGroup::new(format!("{message}: no tasks to race")))
    }
}

/// Runs `body` with a [`Scope`] handle for spawning tasks dynamically, then waits for every
/// task: Python's `async with asyncio.TaskGroup() as tg:` in one call.
///
/// The body and the tasks it spawns with [`Scope::spawn`] are polled in place, so they may
/// borrow from the enclosing function; [`Scope::spawn_parallel`] runs `'static` tasks on the
/// runtime's workers. Tasks can spawn further tasks through the same handle. Options are set
/// with [`Group`]; `scope(body)` is `Group::new().scope(body)`.
///
/// # `Send`
///
/// The scope's future is `Send` when its tasks are, but today's rustc cannot prove it when
/// the async closure borrows from the enclosing function (rust-lang/rust#110338): in
/// `tokio::spawn` or an axum handler ("implementation of `AsyncFnOnce` is not general
/// enough"), write the same body with the `taskgroup::scope!` macro, which runs it as a
/// plain `async` block.
///
/// # Errors
///
/// The first error cancels the body and every other task; all errors that happened before
/// the cancellation settled come back in one [`ErrorGroup`], with their task names, in
/// completion order, the body's own error last.
///
/// # Panics
///
/// A panic in the body or a task cancels everything else, then resumes with its payload.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
/// use std::sync::Mutex;
///
/// let done = Mutex::new(Vec::new());
/// taskgroup::scope(async |s| {
///     for i in 0..5 {
///         let done = &done;
///         s.spawn(async move {
///             tokio::time::sleep(std::time::Duration::from_millis(500 + i * 100)).await;
///             done.lock().unwrap().push(i);
///             Ok::<_, std::io::Error>(())
///         });
///     }
///     Ok::<_, std::io::Error>(())
/// })
/// .await?;
/// assert_eq!(*done.lock().unwrap(), [0, 1, 2, 3, 4]);
/// # Ok(())
/// # }
/// ```
#[track_caller]
pub fn scope<'env, F, T, E>(body: F) -> impl Future<Output = Result<T, ErrorGroup>>
where
    F: for<'scope> AsyncFnOnce(Scope<'scope, 'env>) -> Result<T, E>,
    E: Into<BoxError>,
{
    Group::new().scope(body)
}
