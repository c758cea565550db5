//! A scope task's handle: its value or why there is none, and the cancellation of that one
//! task; and the `start` handshake built on it.
//!
//! Every task spawned into a scope runs inside a [`Deliver`], which hands the task's outcome
//! to its [`TaskHandle`] exactly once (its value, or a [`HandleError`] saying why there is
//! none), and which carries the task's own cancellation: [`TaskHandle::cancel`] sets a flag
//! and wakes the task; the task is then dropped, or, in a group with a grace period, sees
//! [`cancelled`](crate::cancelled) resolve and has the grace to finish. Either way the group
//! goes on: cancelling one task is not a failure.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use pin_project_lite::pin_project;
use tokio::sync::{Notify, oneshot};
use tokio::time::Sleep;

use crate::cancel::{CancelReason, Cancelled};
use crate::context;
use crate::elapsed::GraceElapsed;
use crate::error_group::BoxError;
use crate::future::TaskResult;
use crate::signal::Signal;

/// Why a [`TaskHandle`] has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandleError {
    /// The task returned an error; the error itself went to the group, under the task's name.
    Failed,
    /// The task panicked; the group resumes the panic once its other tasks are done.
    Panicked,
    /// The task was cancelled after it started: by [`TaskHandle::cancel`]
    /// ([`CancelReason::Handle`]), or because its group cancelled (the group's reason). It
    /// is also how a task that ended as cancelled (`Err(Cancelled)`) is reported.
    Cancelled(CancelReason),
    /// The task never started: its group was cancelling when it was spawned, stopped
    /// accepting tasks at that instant before the task's first poll, or began cancelling
    /// while the task waited for a slot under `limit`.
    Refused,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Failed => f.write_str("the task failed (its error went to the group)"),
            HandleError::Panicked => f.write_str("the task panicked"),
            HandleError::Cancelled(reason) => write!(f, "the task was cancelled: {reason}"),
            HandleError::Refused => {
                f.write_str("the task was refused: its group was cancelling before it started")
            }
        }
    }
}

impl Error for HandleError {}

/// What a task and its handle share: the task's own cancellation.
#[derive(Debug)]
pub(crate) struct TaskCtl {
    /// Set by [`TaskHandle::cancel`].
    cancelled: AtomicBool,
    /// Set when the task saw its own cancellation (`cancelled()` resolved for it, or
    /// `is_cancelled()` returned `true`): if the grace runs out, the overrun is reported.
    told: AtomicBool,
    /// The task's waker, for the cancellation to wake it.
    waker: AtomicWaker,
    /// Wakes the task's `cancelled()` futures, wherever in the task they are polled.
    notify: Notify,
    /// The group the task belongs to: only there does `cancelled()` see this cancellation.
    signal: Arc<Signal>,
}

impl TaskCtl {
    pub(crate) fn new(signal: Arc<Signal>) -> Arc<Self> {
        Arc::new(TaskCtl {
            cancelled: AtomicBool::new(false),
            told: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            notify: Notify::new(),
            signal,
        })
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.waker.wake();
        self.notify.notify_waiters();
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether this is a task of the group whose signal is `signal`.
    pub(crate) fn belongs_to(&self, signal: &Arc<Signal>) -> bool {
        Arc::ptr_eq(&self.signal, signal)
    }

    /// For `is_cancelled()`: whether the task was cancelled through its handle (it is then
    /// told).
    pub(crate) fn check(&self) -> bool {
        let cancelled = self.is_cancelled();
        if cancelled {
            self.told.store(true, Ordering::Relaxed);
        }
        cancelled
    }

    /// For `cancelled()`: resolves once the task is cancelled through its handle (it is then
    /// told).
    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                self.told.store(true, Ordering::Relaxed);
                return;
            }
            notified.await;
        }
    }
}

/// The value of a task spawned into a [`Scope`](crate::Scope), or why there is none.
///
/// Awaiting it yields `Ok(value)` once the task succeeded, or a [`HandleError`]: the task
/// failed (its error went to the group), panicked, was cancelled, or was refused. A body
/// can so react to a cancelled task differently from a failed one.
///
/// [`cancel`](TaskHandle::cancel) cancels this task alone.
pub struct TaskHandle<T> {
    rx: oneshot::Receiver<Result<T, HandleError>>,
    ctl: Arc<TaskCtl>,
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("cancelled", &self.ctl.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl<T> TaskHandle<T> {
    /// Cancels this task alone (CPython's `task.cancel()`); its group goes on, and is not
    /// failing.
    ///
    /// A task that has not started is dropped unpolled. A running task is dropped at once,
    /// or, if its group has a `grace` period, sees [`cancelled`](crate::cancelled) resolve
    /// (with [`CancelReason::Handle`]) and has that long to finish: its value, if it still
    /// returns one, reaches the handle. A task that saw the cancellation and is still running
    /// when the grace runs out is dropped and fails its group with a
    /// [`GraceElapsed`](crate::GraceElapsed), as in a cancellation of the whole group.
    /// The handle then yields `Err(HandleError::Cancelled(CancelReason::Handle))`. Calling it
    /// again, or after the task ended, does nothing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
    /// use std::time::Duration;
    /// use taskgroup::{CancelReason, HandleError};
    ///
    /// let (slow, fast) = taskgroup::scope!(async |s| {
    ///     let slow = s.spawn(async {
    ///         tokio::time::sleep(Duration::from_secs(60)).await;
    ///         Ok::<_, std::io::Error>("slow")
    ///     });
    ///     let fast = s.spawn(async {
    ///         tokio::time::sleep(Duration::from_secs(1)).await;
    ///         Ok::<_, std::io::Error>("fast")
    ///     });
    ///     slow.cancel();
    ///     Ok::<_, std::io::Error>((slow.await, fast.await))
    /// })
    /// .await?;
    /// assert_eq!(slow, Err(HandleError::Cancelled(CancelReason::Handle)));
    /// assert_eq!(fast, Ok("fast"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel(&self) {
        self.ctl.cancel();
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, HandleError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|received| {
            // The task always answers before it is dropped; a runtime shutting down drops it
            // unanswered.
            received.unwrap_or(Err(HandleError::Cancelled(CancelReason::Parent)))
        })
    }
}

pin_project! {
    /// A scope task with its handle's end: hands the task's outcome to the handle exactly
    /// once, and carries the task's own cancellation.
    pub(crate) struct Deliver<F, V> {
        #[pin]
        fut: Option<F>,
        tx: Option<oneshot::Sender<Result<V, HandleError>>>,
        // Moved into the thread-local slot while the task is polled (`context::with_task`).
        ctl: Option<Arc<TaskCtl>>,
        // The group's grace period, for a cancellation through the handle.
        grace: Option<Duration>,
        #[pin]
        overrun: Option<Sleep>,
        started: bool,
    }
    impl<F, V> PinnedDrop for Deliver<F, V> {
        fn drop(this: Pin<&mut Self>) {
            // Before the task is dropped: whoever waits for the task learns of it first.
            let this = this.project();
            if let Some(tx) = this.tx.take() {
                let why = match this.ctl.as_deref() {
                    _ if !*this.started => HandleError::Refused,
                    Some(ctl) if ctl.is_cancelled() => HandleError::Cancelled(CancelReason::Handle),
                    Some(ctl) => HandleError::Cancelled(ctl.signal.reason()),
                    None => HandleError::Cancelled(CancelReason::Parent),
                };
                let _ = tx.send(Err(why));
            }
        }
    }
}

/// Wraps `fut` for a scope: its outcome goes to the returned handle.
pub(crate) fn deliver<F, V>(
    fut: F,
    signal: &Arc<Signal>,
    grace: Option<Duration>,
) -> (Deliver<F, V>, TaskHandle<V>)
where
    F: Future,
    F::Output: TaskResult<Ok = V>,
{
    let (tx, rx) = oneshot::channel();
    let ctl = TaskCtl::new(signal.clone());
    let task = Deliver {
        fut: Some(fut),
        tx: Some(tx),
        ctl: Some(ctl.clone()),
        grace,
        overrun: None,
        started: false,
    };
    (task, TaskHandle { rx, ctl })
}

impl<F, V> Deliver<F, V> {
    fn answer(
        tx: &mut Option<oneshot::Sender<Result<V, HandleError>>>,
        answer: Result<V, HandleError>,
    ) {
        if let Some(tx) = tx.take() {
            let _ = tx.send(answer);
        }
    }
}

impl<F, V> Future for Deliver<F, V>
where
    F: Future,
    F::Output: TaskResult<Ok = V>,
{
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(ctl) = this.ctl.as_ref() else {
            // Polled after it completed: the group never does.
            return Poll::Pending;
        };
        // Registered before the flag is read: a cancellation from another thread either is
        // seen below or wakes this waker.
        ctl.waker.register(cx.waker());
        if ctl.is_cancelled() {
            let answer = Err(HandleError::Cancelled(CancelReason::Handle));
            match (*this.started, *this.grace) {
                // Not started, or no grace: dropped now.
                (false, _) | (_, None) => {
                    *this.started = true;
                    Self::answer(this.tx, answer);
                    this.fut.set(None);
                    return Poll::Ready(Ok(()));
                }
                (true, Some(grace)) => {
                    if this.overrun.is_none() {
                        this.overrun.set(Some(tokio::time::sleep(grace)));
                    }
                    if let Some(sleep) = this.overrun.as_mut().as_pin_mut()
                        && sleep.poll(cx).is_ready()
                    {
                        let told = ctl.told.load(Ordering::Relaxed);
                        Self::answer(this.tx, answer);
                        this.fut.set(None);
                        return Poll::Ready(if told {
                            Err(Box::new(GraceElapsed::new(grace)))
                        } else {
                            Ok(())
                        });
                    }
                }
            }
        }
        *this.started = true;
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Pending;
        };
        // A panic unwinds through here to the scope's own panic boundary; on the way, the
        // guard answers the handle.
        let polled = {
            let mut on_panic = AnswerOnPanic {
                tx: &mut *this.tx,
                armed: true,
            };
            let polled = context::with_task(this.ctl, || fut.poll(cx));
            on_panic.armed = false;
            polled
        };
        let Poll::Ready(output) = polled else {
            return Poll::Pending;
        };
        let cancelled_here = this.ctl.as_ref().is_some_and(|ctl| ctl.is_cancelled());
        match output.into_result() {
            Ok(value) => {
                Self::answer(this.tx, Ok(value));
                Poll::Ready(Ok(()))
            }
            Err(error) => {
                let error: BoxError = error.into();
                match error.downcast_ref::<Cancelled>() {
                    // It ended as cancelled after its handle cancelled it: not an error.
                    Some(_) if cancelled_here => {
                        Self::answer(this.tx, Err(HandleError::Cancelled(CancelReason::Handle)));
                        Poll::Ready(Ok(()))
                    }
                    Some(cancelled) => {
                        Self::answer(this.tx, Err(HandleError::Cancelled(cancelled.reason())));
                        Poll::Ready(Err(error))
                    }
                    None => {
                        Self::answer(this.tx, Err(HandleError::Failed));
                        Poll::Ready(Err(error))
                    }
                }
            }
        }
    }
}

/// Answers `Panicked` to the handle if the task's poll unwinds, while armed.
struct AnswerOnPanic<'a, V> {
    tx: &'a mut Option<oneshot::Sender<Result<V, HandleError>>>,
    armed: bool,
}

impl<V> Drop for AnswerOnPanic<'_, V> {
    fn drop(&mut self) {
        if self.armed
            && let Some(tx) = self.tx.take()
        {
            let _ = tx.send(Err(HandleError::Panicked));
        }
    }
}

/// The other end of [`Scope::start`](crate::Scope::start): the task calls
/// [`started`](Ready::started) once it is ready, with a value for the starter.
///
/// It takes `self`, so it is called at most once; dropping it uncalled tells the starter
/// that the task did not start ([`NotStarted`]).
pub struct Ready<V> {
    tx: oneshot::Sender<V>,
}

impl<V> fmt::Debug for Ready<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready").finish_non_exhaustive()
    }
}

impl<V> Ready<V> {
    /// Tells the starter that the task is ready, with `value`: the future
    /// [`Scope::start`](crate::Scope::start) returned resolves with it now, while the task
    /// goes on.
    pub fn started(self, value: V) {
        // The starter may have stopped waiting: the task goes on regardless.
        let _ = self.tx.send(value);
    }
}

/// The task that [`Scope::start`](crate::Scope::start) started ended, failed, panicked or
/// was cancelled before it called [`Ready::started`], or dropped its [`Ready`] uncalled.
///
/// The task's own error, if it failed, went to the group as usual: this only tells the
/// starter that there is no value. [`cause`](NotStarted::cause) says how the task ended, if
/// it had ended when its `Ready` was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotStarted {
    cause: Option<HandleError>,
}

impl NotStarted {
    /// How the task ended: failed, panicked, cancelled or refused; `None` if it returned
    /// `Ok` without calling `started`, or dropped its `Ready` and went on.
    pub const fn cause(&self) -> Option<HandleError> {
        self.cause
    }
}

impl fmt::Display for NotStarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task ended before it called `Ready::started`")?;
        match &self.cause {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}

impl Error for NotStarted {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_ref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

/// The future [`Scope::start`](crate::Scope::start) returns: the value the task passes to
/// [`Ready::started`], or [`NotStarted`].
#[must_use = "the task starts anyway; await this to wait until it is ready"]
pub struct Starting<V, T> {
    ready: oneshot::Receiver<V>,
    task: TaskHandle<T>,
}

impl<V, T> fmt::Debug for Starting<V, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Starting").finish_non_exhaustive()
    }
}

impl<V, T> Starting<V, T> {
    pub(crate) fn new(ready: oneshot::Receiver<V>, task: TaskHandle<T>) -> Self {
        Starting { ready, task }
    }

    /// Cancels the task, as [`TaskHandle::cancel`] does.
    pub fn cancel(&self) {
        self.task.cancel();
    }
}

impl<V, T> Future for Starting<V, T> {
    type Output = Result<V, NotStarted>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match Pin::new(&mut this.ready).poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(Ok(value)),
            Poll::Ready(Err(_)) => {
                // `Ready` was dropped uncalled. A task that ended has answered its handle
                // before its future (and the `Ready` in it) was dropped.
                let cause = match Pin::new(&mut this.task).poll(cx) {
                    Poll::Ready(Err(cause)) => Some(cause),
                    Poll::Ready(Ok(_)) | Poll::Pending => None,
                };
                Poll::Ready(Err(NotStarted { cause }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// For [`Scope::start`](crate::Scope::start): the `Ready` to hand to the task and the
/// receiver its value arrives on.
pub(crate) fn ready<V>() -> (Ready<V>, oneshot::Receiver<V>) {
    let (tx, rx) = oneshot::channel();
    (Ready { tx }, rx)
}
