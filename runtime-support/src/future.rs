//! What a task outputs, and the two futures that adapt a task's output: [`Infallible`] binds
//! the output of a future that cannot fail as it is, [`Settled`] makes a task's error part of
//! its value.
//!
//! [`TaskResult`] is sealed: a task outputs `Result<T, E>` or `()`, and other futures go
//! through [`infallible`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::branch::{PlainTask, into_box};
use crate::error_group::BoxError;

/// What a task's future may output: `Result<T, E>` where `E` converts into a boxed error
/// (any `std::error::Error + Send + Sync + 'static`, `Box<dyn Error + Send + Sync>`,
/// `anyhow::Error`, an [`ErrorGroup`](crate::ErrorGroup) from a nested group), or `()` for a
/// task that cannot fail. Wrap any other infallible future in [`infallible`].
#[diagnostic::on_unimplemented(
    message = "a task of a group must output `Result<T, E>` or `()`, but this one outputs `{Self}`",
    label = "this task's output is `{Self}`",
    note = "wrap a future that cannot fail in `taskgroup::infallible(...)`; its value is then bound as is"
)]
pub trait TaskResult: sealed::Sealed {
    /// The success value bound to the task's name.
    type Ok;
    /// The error, collected into the group's error group.
    type Err: Into<BoxError>;
    /// Splits the output into success and error.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// The branch of a task whose future `F` outputs `Self`, in a group without a limit or
    /// a deadline (see `checked_plain_task`). Not public API.
    #[doc(hidden)]
    type Plain<F>;
    /// Makes that branch. Not public API.
    #[doc(hidden)]
    fn plain<F>(name: &'static str, fut: F) -> Self::Plain<F>;
}

mod sealed {
    /// Only `Result<T, E>` and `()` are task outputs: the set is closed, so that the macro's
    /// diagnostics and the runtime's handling of each can rely on it.
    pub trait Sealed {}
    impl<T, E> Sealed for Result<T, E> {}
    impl Sealed for () {}
}

impl<T, E: Into<BoxError>> TaskResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    fn into_result(self) -> Result<T, E> {
        self
    }
    type Plain<F> = PlainTask<F, T, E>;
    #[inline]
    fn plain<F>(name: &'static str, fut: F) -> PlainTask<F, T, E> {
        PlainTask::new(name, fut, into_box)
    }
}

impl TaskResult for () {
    type Ok = ();
    type Err = std::convert::Infallible;
    fn into_result(self) -> Result<(), std::convert::Infallible> {
        Ok(())
    }
    type Plain<F> = PlainTask<F, (), std::convert::Infallible>;
    #[inline]
    fn plain<F>(name: &'static str, fut: F) -> PlainTask<F, (), std::convert::Infallible> {
        PlainTask::new(name, fut, |never| match never {})
    }
}

pin_project! {
    /// The future returned by [`infallible`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Infallible<F> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Infallible<F> {
    type Output = Result<F::Output, std::convert::Infallible>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().fut.poll(cx).map(Ok)
    }
}

/// Makes a future that cannot fail into a task: its output is bound as is.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
/// use taskgroup::{infallible, scope};
///
/// let answer = scope(async |s| {
///     let answer = s.spawn(infallible(async { 42 }));
///     Ok::<_, std::io::Error>(answer.await)
/// })
/// .await?;
/// assert_eq!(answer, Ok(42));
/// # Ok(())
/// # }
/// ```
///
/// In `group!`: `answer = infallible(async { 42 });` binds `answer: i32`.
pub fn infallible<F: Future>(fut: F) -> Infallible<F> {
    Infallible { fut }
}

pin_project! {
    /// The future returned by [`settled`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Settled<F> {
        #[pin]
        fut: F,
    }
}

impl<F> Future for Settled<F>
where
    F: Future,
    F::Output: TaskResult,
{
    type Output = Result<
        Result<<F::Output as TaskResult>::Ok, <F::Output as TaskResult>::Err>,
        std::convert::Infallible,
    >;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .fut
            .poll(cx)
            .map(|output| Ok(output.into_result()))
    }
}

/// Makes a task's error part of its value, so it never fails its group: the task binds
/// (or its handle yields) its whole `Result`. What `#![mode = settle]` does to every task.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), taskgroup::ErrorGroup> {
/// use taskgroup::{scope, settled};
///
/// let results = scope(async |s| {
///     let good = s.spawn(settled(async { Ok::<_, std::io::Error>(1) }));
///     let bad = s.spawn(settled(async { Err::<u32, _>(std::io::Error::other("no")) }));
///     Ok::<_, std::io::Error>((good.await, bad.await))
/// })
/// .await?;
/// assert_eq!(results.0.unwrap().unwrap(), 1);
/// assert_eq!(results.1.unwrap().unwrap_err().to_string(), "no");
/// # Ok(())
/// # }
/// ```
pub const fn settled<F>(fut: F) -> Settled<F>
where
    F: Future,
    F::Output: TaskResult,
{
    Settled { fut }
}
