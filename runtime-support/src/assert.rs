//! Bound assertions of the `group!` expansion.
//!
//! Each helper receives a user's expression and is called at that expression's span, so that a
//! bound that does not hold is reported there, in the macro's own words
//! (`#[diagnostic::on_unimplemented]`) rather than as a failure deep inside the runtime.
//! `#[diagnostic::do_not_recommend]` on the blanket impls keeps rustc from looking through them
//! and reporting the inner bound with its generic message instead.
//!
//! The task helpers wrap those of [`branch`](crate::branch) with one change: the task is an
//! [`IntoTask`] rather than a `Future`. One bound per call means one error per bad task; a
//! separate `assert_future(expr)` around the expression would be reported a second time by the
//! branch's own `Future` bound.
//!
//! `Send + 'static` on `spawn` tasks stay plain bounds on purpose: for a future rustc reports
//! which value is held across which `.await`, which no custom message could say.

use std::future::Future;
use std::time::Duration;

use crate::branch::{
    Branch, Settled, SpawnTask, Task, TaskResult, fan_out, settled, spawn_fan_out, spawn_task,
    task,
};
use crate::error_group::TaskName;

/// What a task expression must be: a future that the group awaits.
#[diagnostic::on_unimplemented(
    message = "a task must be a future, but this expression is a `{Self}`",
    label = "not a future",
    note = "the group awaits its tasks: call an `async fn` (without `.await`), or wrap the work in `async {{ ... }}`"
)]
pub trait IntoTask {
    /// The future the group polls.
    type Future: Future;
    /// The task as a future.
    fn into_task(self) -> Self::Future;
}

#[diagnostic::do_not_recommend]
impl<F: Future> IntoTask for F {
    type Future = F;
    fn into_task(self) -> F {
        self
    }
}

/// The success value a task binds.
type Value<T> = <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Ok;
/// A task's own output, as `settle` mode binds it.
type Outcome<T> = Result<
    <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Ok,
    <<<T as IntoTask>::Future as Future>::Output as TaskResult>::Err,
>;

/// `name = fut;`
pub fn checked_task<T>(name: TaskName, fut: T) -> Task<T::Future, Value<T>>
where
    T: IntoTask,
    <T::Future as Future>::Output: TaskResult,
{
    task(name, fut.into_task())
}

/// `name = spawn fut;`
pub fn checked_spawn_task<T>(name: TaskName, fut: T) -> SpawnTask<T::Future, Value<T>>
where
    T: IntoTask,
    T::Future: Send + 'static,
    <T::Future as Future>::Output: TaskResult + Send + 'static,
{
    spawn_task(name, fut.into_task())
}

/// `name = fut;` in `settle` mode.
pub fn checked_settled_task<T>(name: TaskName, fut: T) -> Task<Settled<T::Future>, Outcome<T>>
where
    T: IntoTask,
    <T::Future as Future>::Output: TaskResult,
{
    task(name, settled(fut.into_task()))
}

/// `name = spawn fut;` in `settle` mode.
pub fn checked_settled_spawn_task<T>(
    name: TaskName,
    fut: T,
) -> SpawnTask<Settled<T::Future>, Outcome<T>>
where
    T: IntoTask,
    T::Future: Send + 'static,
    <T::Future as Future>::Output: TaskResult + Send + 'static,
    Outcome<T>: Send + 'static,
{
    spawn_task(name, settled(fut.into_task()))
}

/// `name = for pat in iter => fut;`
pub fn checked_fan_out<I, C, T>(
    name: &'static str,
    iter: I,
    mut make: C,
) -> impl Branch<Output = Vec<Value<T>>>
where
    I: IntoIterator,
    C: FnMut(I::Item) -> T,
    T: IntoTask,
    <T::Future as Future>::Output: TaskResult,
{
    fan_out(name, iter, move |item| make(item).into_task())
}

/// `name = for pat in iter => spawn fut;`
pub fn checked_spawn_fan_out<I, C, T>(
    name: &'static str,
    iter: I,
    mut make: C,
) -> impl Branch<Output = Vec<Value<T>>>
where
    I: IntoIterator,
    C: FnMut(I::Item) -> T,
    T: IntoTask,
    T::Future: Send + 'static,
    <T::Future as Future>::Output: TaskResult + Send + 'static,
{
    spawn_fan_out(name, iter, move |item| make(item).into_task())
}

/// `name = for pat in iter => fut;` in `settle` mode.
pub fn checked_settled_fan_out<I, C, T>(
    name: &'static str,
    iter: I,
    mut make: C,
) -> impl Branch<Output = Vec<Outcome<T>>>
where
    I: IntoIterator,
    C: FnMut(I::Item) -> T,
    T: IntoTask,
    <T::Future as Future>::Output: TaskResult,
{
    fan_out(name, iter, move |item| settled(make(item).into_task()))
}

/// `name = for pat in iter => spawn fut;` in `settle` mode.
pub fn checked_settled_spawn_fan_out<I, C, T>(
    name: &'static str,
    iter: I,
    mut make: C,
) -> impl Branch<Output = Vec<Outcome<T>>>
where
    I: IntoIterator,
    C: FnMut(I::Item) -> T,
    T: IntoTask,
    T::Future: Send + 'static,
    <T::Future as Future>::Output: TaskResult + Send + 'static,
    Outcome<T>: Send + 'static,
{
    spawn_fan_out(name, iter, move |item| settled(make(item).into_task()))
}

/// What `#![timeout = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `timeout` must be a `std::time::Duration`, not `{Self}`",
    label = "expected a `Duration`",
    note = "for example `#![timeout = Duration::from_secs(2)]` or `#![timeout = Duration::from_millis(250)]`"
)]
pub trait TimeoutValue {
    /// The deadline, counted from the group's start.
    fn into_duration(self) -> Duration;
}

impl TimeoutValue for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

/// `#![timeout = d]`
pub fn timeout<D: TimeoutValue>(value: D) -> Duration {
    value.into_duration()
}

/// What `#![grace = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `grace` must be a `std::time::Duration`, not `{Self}`",
    label = "expected a `Duration`",
    note = "for example `#![grace = Duration::from_millis(100)]`"
)]
pub trait GraceValue {
    /// How long cancelled tasks may take to clean up.
    fn into_duration(self) -> Duration;
}

impl GraceValue for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

/// `#![grace = d]`
pub fn grace<D: GraceValue>(value: D) -> Duration {
    value.into_duration()
}

/// What `#![limit = ...]` takes.
#[diagnostic::on_unimplemented(
    message = "the group's `limit` must be a `usize`, not `{Self}`",
    label = "expected a `usize`",
    note = "a literal such as `#![limit = 8]` is a `usize` already; convert other integers with `usize::try_from(n)`"
)]
pub trait LimitValue {
    /// The cap on tasks in flight.
    fn into_limit(self) -> usize;
}

impl LimitValue for usize {
    fn into_limit(self) -> usize {
        self
    }
}

/// `#![limit = n]`
pub fn limit<L: LimitValue>(value: L) -> usize {
    value.into_limit()
}
