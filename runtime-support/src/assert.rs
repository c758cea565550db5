//! Bound assertions of the `group!` expansion.
//!
//! Each helper receives a user's expression and is called at that expression's span, so that a
//! bound that does not hold is reported there, in the macro's own words
//! (`#[diagnostic::on_unimplemented]`) rather than as a failure deep inside the runtime.
//! `#[diagnostic::do_not_recommend]` on the blanket impls keeps rustc from looking through them
//! and reporting the inner bound with its generic message instead.
//!
//! The rule they keep, which the UI tests in `ui-tests/` hold every case to: **a bad task is
//! one error, at the task**, and a good group is `Send` whenever its tasks are. rustc asks a
//! generic type's bounds again wherever the expansion uses it (`cons`, `run`, `.await`, all at
//! the whole macro), so:
//!
//! - every branch is wrapped in [`Checked`], whose `Branch` impl has no bounds, but one: an
//!   in-place task of a group without a limit or a deadline is polled by a direct call, which
//!   the driver's pass inlines. Its type, [`PlainBranch`], is a projection that is the
//!   compiler's error type for a bad task, and its `Branch` impl asks nothing that a task
//!   whose projection normalized could fail (see
//!   [`PlainTask`](crate::branch::PlainTask));
//! - the value types go through [`Poisoned`] projections, which become the compiler's error
//!   type for a bad task, so that nothing mentioning them is reported again;
//! - the spawned branches ([`SpawnTask`], [`SpawnFanOut`]) ask nothing of their parameters
//!   and name the future's output as a parameter rather than projecting it, so that a
//!   `spawn` task's `Send + 'static` are asked once, at the task;
//! - no helper returns `impl Trait` whose hidden type holds a projection of the user's type:
//!   a `Send` bound looking through it normalizes that projection again with the lifetimes
//!   erased, and for `Box<dyn Error + Send + Sync>` the `E: Into<BoxError>` of `TaskResult`
//!   then fails ("implementation of `From` is not general enough").
//!
//! `Send + 'static` on `spawn` tasks stay plain bounds on purpose: for a future, rustc reports
//! which value is held across which `.await`, which no custom message could say.

use std::convert::Infallible;
use std::future::Future;
use std::iter::Map;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::branch::{
    Branch, FanOut, MakeTask, Running, SettledFanOut, SpawnFanOut, SpawnTask, Task, Values,
    fan_out, settled_fan_out, spawn_fan_out, spawn_task, task,
};
use crate::core::Core;
use crate::error_group::TaskName;
use crate::future::{Settled, TaskResult, settled};
use crate::outcomes::Outcomes;
use crate::signal::Orphan;

/// What a task expression must be: a future that the group awaits, whose output is a
/// [`TaskResult`].
///
/// One trait for both requirements, with `do_not_recommend` on its only impl, so that a bad
/// task is one error, in these words, at the task. The type in the message says which
/// requirement failed: `Result<u32, Error>` is no future; `impl Future<Output = u32>` outputs
/// no `Result`.
#[diagnostic::on_unimplemented(
    message = "a task must be a future whose output is `Result<T, E>` or `()`, but this expression is `{Self}`",
    label = "not a task",
    note = "the group awaits its tasks: call an `async fn` without `.await`, or wrap the work in `async {{ ... }}`",
    note = "a task's output is `Result<T, E>` (`E` converts into `Box<dyn Error + Send + Sync>`) or `()`; wrap a future that cannot fail in `taskgroup::infallible(...)` to bind its value as it is"
)]
pub trait IntoTask {
    /// The future's output.
    type Output: TaskResult;
    /// The future the group polls.
    type Future: Future<Output = Self::Output>;
    /// The task as a future.
    #[doc(hidden)]
    fn into_task(self) -> Self::Future;
}

#[diagnostic::do_not_recommend]
impl<F> IntoTask for F
where
    F: Future,
    F::Output: TaskResult,
{
    type Output = F::Output;
    type Future = F;
    fn into_task(self) -> F {
        self
    }
}

/// The success value a task binds.
pub type Value<T> = <<T as IntoTask>::Output as TaskResult>::Ok;
/// A task's error.
pub type Failure<T> = <<T as IntoTask>::Output as TaskResult>::Err;
/// [`Value`], the long way: through the task's own `Future::Output`, so that for a task that
/// is no future the projection cannot be normalized and is the compiler's error type.
pub type Poisoned<T> = <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Ok;
/// `settle` mode's binding, the long way.
pub type Outcome<T> = Result<PoisonedOk<T>, PoisonedErr<T>>;
/// A task's success value, the long way.
pub type PoisonedOk<T> = <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Ok;
/// A task's error, the long way.
pub type PoisonedErr<T> = <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Err;

pin_project! {
    /// A branch whose bounds were checked where it was made, at the task, and are not asked
    /// again where the expansion uses it (`cons`, `run`, `.await`): its `Branch` impl has no
    /// bounds, and calls the branch's own methods through a table of pointers taken when they
    /// held.
    ///
    /// Without it, a bad task would be reported once at the task and once more at the whole
    /// macro, where the concrete branch's `Branch` impl asks for `F: Future` (or `Send`)
    /// again. An `impl Branch` return would not do: its hidden type is normalized again
    /// whenever a `Send` bound looks through it, with the lifetimes erased, and for an error
    /// type such as `Box<dyn Error + Send + Sync>` the `E: Into<BoxError>` of `TaskResult` then
    /// fails ("implementation of `From` is not general enough"), so that a group of such tasks
    /// would not be `Send`. The price is an indirect call per poll of each branch, and one
    /// pointer (to a table in static memory) beside the branch. Taking the values asks
    /// nothing of the branch's futures ([`Values`], implemented without bounds), so that one
    /// is a direct call.
    #[derive(Debug)]
    pub struct Checked<'t, B, V> {
        #[pin]
        branch: B,
        table: &'t Table<B, V>,
    }
}

/// The methods of a [`Checked`] branch, but for taking its values, which goes by [`Values`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Table<B, V> {
    poll: fn(Pin<&mut B>, &mut Context<'_>, &mut Core) -> Poll<()>,
    cancel: fn(Pin<&mut B>, &mut Core),
    // The type of the values, which the table's user takes by `Values`.
    values: PhantomData<fn() -> V>,
    orphan: fn(Pin<&mut B>, &mut Vec<(TaskName, Orphan)>),
    running: fn(&B, &mut Vec<Running>),
}

/// The [`Table`] of a branch type, a constant that its reference promotes to `'static`.
struct Methods<B>(PhantomData<B>);

impl<B: Branch> Methods<B> {
    const TABLE: Table<B, B::Output> = Table {
        poll: B::poll_branch,
        cancel: B::cancel,
        values: PhantomData,
        orphan: B::orphan,
        running: B::running,
    };
}

#[inline]
pub(crate) fn checked<'t, B: Branch + 't>(branch: B) -> Checked<'t, B, B::Output> {
    Checked {
        branch,
        table: &Methods::<B>::TABLE,
    }
}

// `B: Values` asks nothing that a bad task could fail: every branch type implements it
// without bounds.
impl<B: Values<Output = V>, V> Values for Checked<'_, B, V> {
    type Output = V;

    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<V> {
        self.project().branch.take_output()
    }
}

impl<B: Values<Output = V>, V> Branch for Checked<'_, B, V> {
    #[inline]
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let this = self.project();
        (this.table.poll)(this.branch, cx, core)
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let this = self.project();
        (this.table.cancel)(this.branch, core);
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        let this = self.project();
        (this.table.orphan)(this.branch, orphans);
    }

    fn running(&self, out: &mut Vec<Running>) {
        (self.table.running)(&self.branch, out);
    }
}

/// `name = fut;`
pub fn checked_task<'t, T>(
    name: &'static str,
    fut: T,
) -> Checked<'t, Task<T::Future, Poisoned<T>>, Poisoned<T>>
where
    T: IntoTask + 't,
    Poisoned<T>: Sized,
{
    checked(task(name, fut.into_task()))
}

/// `name = fut;` in a group without a limit or a deadline: the task's own branch, polled by
/// a direct call that the driver's pass inlines, rather than a [`Checked`] one. Its type is
/// [`PlainBranch`], a projection that is the compiler's error type for a bad task, so that
/// the `Branch` bounds the expansion asks again of a bad task are not reported again.
pub fn checked_plain_task<'t, T>(name: &'static str, fut: T) -> PlainBranch<T>
where
    T: IntoTask + 't,
    Poisoned<T>: Sized,
{
    <T::Output as TaskResult>::plain(name, fut.into_task())
}

/// The branch of a task of a group without a limit or a deadline, the long way: through the
/// task's own `Future::Output` and its [`TaskResult`] impl, so that for a task that is no
/// future, or whose output is no `Result`, the projection cannot be normalized and is the
/// compiler's error type.
pub type PlainBranch<T> =
    <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Plain<<T as IntoTask>::Future>;

/// `name = fut;` in `settle` mode.
#[allow(clippy::type_complexity)]
pub fn checked_settled_task<'t, T>(
    name: &'static str,
    fut: T,
) -> Checked<'t, Task<Settled<T::Future>, Outcome<T>>, Outcome<T>>
where
    T: IntoTask + 't,
    Poisoned<T>: Sized,
{
    checked(task(name, settled(fut.into_task())))
}

/// The items of a fan-out, made into tasks by the user's closure.
type Items<I, C> = Map<<I as IntoIterator>::IntoIter, C>;

/// A fan-out's task made into its future: [`IntoTask::into_task`].
#[doc(hidden)]
#[derive(Debug)]
pub struct MakeFuture<T>(PhantomData<fn(T)>);

impl<T: IntoTask> MakeTask<T> for MakeFuture<T> {
    type Fut = T::Future;
    #[inline]
    fn make(&mut self, task: T) -> T::Future {
        task.into_task()
    }
}

/// A fan-out's task made into its future in `settle` mode: its `Result` is its value.
#[doc(hidden)]
#[derive(Debug)]
pub struct MakeSettled<T>(PhantomData<fn(T)>);

impl<T: IntoTask> MakeTask<T> for MakeSettled<T> {
    type Fut = Settled<T::Future>;
    #[inline]
    fn make(&mut self, task: T) -> Settled<T::Future> {
        settled(task.into_task())
    }
}

/// `name = for pat in iter => fut;`
#[allow(clippy::type_complexity)]
pub fn checked_fan_out<'t, I, C, T>(
    name: &'static str,
    iter: I,
    make: C,
) -> Checked<'t, FanOut<Items<I, C>, MakeFuture<T>, T::Future, Value<T>>, Vec<Value<T>>>
where
    I: IntoIterator + 't,
    C: FnMut(I::Item) -> T + 't,
    T: IntoTask + 't,
{
    checked(fan_out(
        name,
        iter.into_iter().map(make),
        MakeFuture(PhantomData),
    ))
}

/// `name = for pat in iter => fut;` in `settle` mode.
#[allow(clippy::type_complexity)]
pub fn checked_settled_fan_out<'t, I, C, T>(
    name: &'static str,
    iter: I,
    make: C,
) -> Checked<
    't,
    SettledFanOut<
        FanOut<Items<I, C>, MakeSettled<T>, Settled<T::Future>, Result<Value<T>, Failure<T>>>,
    >,
    Outcomes<Value<T>, Failure<T>>,
>
where
    I: IntoIterator + 't,
    C: FnMut(I::Item) -> T + 't,
    T: IntoTask + 't,
{
    checked(settled_fan_out(
        name,
        fan_out(name, iter.into_iter().map(make), MakeSettled(PhantomData)),
    ))
}

/// What a `spawn` task's output must be: `Send + 'static`, since it comes back from a worker.
///
/// A trait of its own, with `do_not_recommend` on its only impl, so that a value that is not
/// `Send` is reported in these words, naming the task's output, and not through rustc's
/// walk into `Result`'s definition, whose note quotes the standard library's source where
/// the `rust-src` component is installed and not elsewhere.
#[diagnostic::on_unimplemented(
    message = "a `spawn` task's output must be `Send`, but `{Self}` is not",
    label = "this task's output cannot be sent back from a worker thread",
    note = "a `spawn` task runs on the runtime's workers and its output crosses back to the group: make the value `Send` (an `Arc` for an `Rc`, a `Mutex` for a `RefCell`), or drop `spawn` to run the task in place"
)]
pub trait SpawnOutput: Send + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Send + 'static> SpawnOutput for T {}

/// What a `spawn` task's future outputs, joined from the runtime.
pub type Joined<T> = <<T as IntoTask>::Future as Future>::Output;

/// `name = spawn fut;`
///
/// `Send + 'static` are asked here, at the task, and nowhere else: [`SpawnTask`] names the
/// future's output as a parameter of its own and asks nothing of its parameters, so the
/// expansion's uses of the group (`cons`, `run`, `.await`) ask no bound of the task again,
/// and no projection through [`TaskResult`] is normalized again where a `Send` bound looks
/// through the group (which for an error type such as `Box<dyn Error + Send + Sync>` fails
/// with the lifetimes erased: "implementation of `From` is not general enough").
#[allow(clippy::type_complexity)]
pub fn checked_spawn_task<T>(
    name: TaskName,
    fut: T,
) -> Checked<'static, SpawnTask<T::Future, Joined<T>, Poisoned<T>>, Poisoned<T>>
where
    T: IntoTask,
    Poisoned<T>: Sized,
    T::Future: Send + 'static,
    Joined<T>: SpawnOutput,
{
    checked(spawn_task(name, fut.into_task()))
}

/// `name = spawn fut;` in `settle` mode.
#[allow(clippy::type_complexity)]
pub fn checked_settled_spawn_task<T>(
    name: TaskName,
    fut: T,
) -> Checked<
    'static,
    SpawnTask<Settled<T::Future>, Result<Outcome<T>, Infallible>, Outcome<T>>,
    Outcome<T>,
>
where
    T: IntoTask,
    Poisoned<T>: Sized,
    T::Future: Send + 'static,
    Outcome<T>: SpawnOutput,
{
    checked(spawn_task(name, settled(fut.into_task())))
}

/// `name = for pat in iter => spawn fut;`
#[allow(clippy::type_complexity)]
pub fn checked_spawn_fan_out<'t, I, C, T>(
    name: &'static str,
    iter: I,
    make: C,
) -> Checked<'t, SpawnFanOut<Items<I, C>, MakeFuture<T>, Joined<T>, Poisoned<T>>, Vec<Poisoned<T>>>
where
    I: IntoIterator + 't,
    C: FnMut(I::Item) -> T + 't,
    T: IntoTask,
    Poisoned<T>: Sized,
    T::Future: Send + 'static,
    Joined<T>: SpawnOutput,
{
    checked(spawn_fan_out(
        name,
        iter.into_iter().map(make),
        MakeFuture(PhantomData),
    ))
}

/// `name = for pat in iter => spawn fut;` in `settle` mode.
#[allow(clippy::type_complexity)]
pub fn checked_settled_spawn_fan_out<'t, I, C, T>(
    name: &'static str,
    iter: I,
    make: C,
) -> Checked<
    't,
    SettledFanOut<
        SpawnFanOut<Items<I, C>, MakeSettled<T>, Result<Outcome<T>, Infallible>, Outcome<T>>,
    >,
    Outcomes<PoisonedOk<T>, PoisonedErr<T>>,
>
where
    I: IntoIterator + 't,
    C: FnMut(I::Item) -> T + 't,
    T: IntoTask,
    Poisoned<T>: Sized,
    T::Future: Send + 'static,
    Outcome<T>: SpawnOutput,
{
    checked(settled_fan_out(
        name,
        spawn_fan_out(name, iter.into_iter().map(make), MakeSettled(PhantomData)),
    ))
}

/// What `#![timeout = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `timeout` must be a `std::time::Duration`, not `{Self}`",
    label = "expected a `Duration`",
    note = "for example `#![timeout = Duration::from_secs(2)]` or `#![timeout = Duration::from_millis(250)]`"
)]
pub trait TimeoutValue {
    /// The deadline, counted from the group's start.
    #[doc(hidden)]
    fn into_duration(self) -> Duration;
}

impl TimeoutValue for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

/// What `#![cancel_on = ...]` takes: a future (anything `IntoFuture`), whose output is
/// ignored. A value that is not one is reported at the value as the compiler reports any
/// non-future, "`CancellationToken` is not a future": for a token, write `token.cancelled()`.
pub trait CancelOnValue {
    /// The future.
    type Future;
    /// The value as the future that cancels the group.
    #[doc(hidden)]
    fn into_trigger(self) -> Trigger<Self::Future>;
}

#[diagnostic::do_not_recommend]
impl<F: IntoFuture> CancelOnValue for F {
    type Future = F::IntoFuture;
    fn into_trigger(self) -> Trigger<F::IntoFuture> {
        Trigger {
            fut: self.into_future(),
            poll: poll_trigger::<F::IntoFuture>,
        }
    }
}

/// The future that cancels a group, with the function that polls it: made where the value
/// is known to be a future, so that nothing after asks it again (a value that is not a
/// future is then one error, at the value, and not also one at the group's whole type).
#[doc(hidden)]
#[derive(Debug)]
pub struct Trigger<F> {
    pub(crate) fut: F,
    pub(crate) poll: fn(Pin<&mut F>, &mut Context<'_>) -> Poll<()>,
}

fn poll_trigger<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<()> {
    fut.poll(cx).map(drop)
}

impl<F: Future> Trigger<F> {
    /// The future `fut`, as a trigger.
    pub(crate) fn new(fut: F) -> Self {
        Trigger {
            fut,
            poll: poll_trigger::<F>,
        }
    }
}

/// What `#![grace = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `grace` must be a `std::time::Duration`, not `{Self}`",
    label = "expected a `Duration`",
    note = "for example `#![grace = Duration::from_millis(100)]`"
)]
pub trait GraceValue {
    /// How long cancelled tasks may take to clean up.
    #[doc(hidden)]
    fn into_duration(self) -> Duration;
}

impl GraceValue for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

/// What `#![limit = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `limit` must be a `usize`, not `{Self}`",
    label = "expected a `usize`",
    note = "a literal such as `#![limit = 8]` is a `usize` already; convert other integers with `usize::try_from(n)`"
)]
pub trait LimitValue {
    /// The cap on tasks in flight.
    #[doc(hidden)]
    fn into_limit(self) -> usize;
}

impl LimitValue for usize {
    fn into_limit(self) -> usize {
        self
    }
}
