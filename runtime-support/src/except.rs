//! What `except*` arms expand into: take the matching part of the remaining errors, keep the
//! arms' fallback values, and propagate whatever no arm took, also when an arm leaves early.

use std::error::Error;

use crate::error_group::{BoxError, ErrorGroup, TaskName};

/// The errors no arm has handled yet: what earlier arms left, taken piece by piece by the
/// arms after them. An arm that leaves the function hands them on (the macro rewrites the
/// `return`, `?`, `break` and `continue` it can see); if they are dropped still here (an exit
/// the macro cannot see, such as a `return` inside another macro, a panic, or the drop of
/// the future during the arm), they are reported: as a `tracing` error event with the
/// `tracing` feature, else on standard error.
#[derive(Debug)]
pub struct Unhandled(Option<ErrorGroup>);

impl Unhandled {
    /// The errors of a group that failed, before any arm took its part.
    pub const fn new(errors: ErrorGroup) -> Self {
        Unhandled(Some(errors))
    }

    /// Takes every error left: the arm takes them with it, or they propagate.
    pub fn take(&mut self) -> Option<ErrorGroup> {
        self.0.take()
    }
}

impl Drop for Unhandled {
    fn drop(&mut self) {
        if let Some(errors) = self.0.take() {
            crate::trace::lost(&errors);
        }
    }
}

/// The types an `except*` arm can match.
#[diagnostic::on_unimplemented(
    message = "`except* {Self}` needs an error type, but `{Self}` does not implement `std::error::Error + Send + Sync + 'static`",
    label = "not an error type",
    note = "an arm matches the leaves of the error group whose type is `{Self}`; use `except* _` to take every remaining error"
)]
pub trait ExceptType: Sized {
    /// Takes the errors of this type out of what earlier arms left, nesting kept.
    #[doc(hidden)]
    fn take_matching(rest: &mut Unhandled) -> Option<ErrorGroup<Self>>;
}

// The bound is on the impl, not a supertrait, so that a type that is not an error is
// reported with the message above rather than as "`String: Error` is not satisfied".
#[diagnostic::do_not_recommend]
impl<T: Error + Send + Sync + 'static> ExceptType for T {
    fn take_matching(rest: &mut Unhandled) -> Option<ErrorGroup<T>> {
        let (matching, remainder) = rest.take()?.split::<T>();
        rest.0 = remainder;
        matching
    }
}

/// `except* _`: takes whatever earlier arms left.
pub fn take_rest(rest: &mut Unhandled) -> Option<ErrorGroup> {
    rest.take()
}

/// What an arm's `return value` (or `?`) becomes while errors are unhandled (`rest`): as
/// written when there are none; else the unhandled errors and the arm's own error (named
/// after the arm, `except* T`) as one group, converted with `From<ErrorGroup>`, or the
/// unhandled errors alone when the arm returns `Ok`.
#[diagnostic::on_unimplemented(
    message = "an `except*` arm that returns must hand on the errors no arm handled, which a function returning `{Self}` cannot",
    label = "this `return` carries the unhandled errors with it",
    note = "the arm's error and the errors no arm handled (those of the arms after it, which do not run, and those no arm matches) leave the function as one `ErrorGroup`: it must return `Result<_, E>` where `E: From<taskgroup::ErrorGroup>` and `E: std::error::Error + Send + Sync + 'static`, such as `taskgroup::ErrorGroup`, `Box<dyn Error + Send + Sync>` or `anyhow::Error`",
    note = "or make this arm the last one and `except* _`, so that nothing is left unhandled when it returns"
)]
pub trait ArmReturn: Sized {
    /// The value the function returns instead of `self`.
    #[doc(hidden)]
    fn arm_return(self, rest: Option<ErrorGroup>, arm: &'static str) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T, E> ArmReturn for Result<T, E>
where
    E: From<ErrorGroup> + Into<BoxError>,
{
    fn arm_return(self, rest: Option<ErrorGroup>, arm: &'static str) -> Self {
        let Some(mut rest) = rest else {
            return self;
        };
        if let Err(error) = self {
            rest.push_task_error(TaskName::new(arm), error.into());
        }
        Err(E::from(rest))
    }
}

/// What an arm's `return Ok(value)` becomes while errors are unhandled (`rest`): as written
/// when there are none; else the unhandled errors are raised instead, converted with
/// `From<ErrorGroup>`, as the remainder is after the arms.
#[diagnostic::on_unimplemented(
    message = "an `except*` arm that returns `Ok` raises the errors no arm handled instead, which a function returning `{Self}` cannot",
    label = "the errors no arm handled would be lost here",
    note = "the errors no arm handled (those of the arms after this one, which do not run, and those no arm matches) propagate instead: the function must return `Result<_, E>` where `E: From<taskgroup::ErrorGroup>`",
    note = "or make this arm the last one and `except* _`, so that nothing is left unhandled when it returns"
)]
pub trait ArmOk: Sized {
    /// The value the function returns instead of `self`.
    #[doc(hidden)]
    fn arm_ok(self, rest: Option<ErrorGroup>) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T, E: From<ErrorGroup>> ArmOk for Result<T, E> {
    fn arm_ok(self, rest: Option<ErrorGroup>) -> Self {
        match rest {
            Some(rest) => Err(E::from(rest)),
            None => self,
        }
    }
}

/// What an arm's `break`, `continue` or bare `return` becomes while errors are unhandled:
/// they propagate instead, as the remainder does after the arms.
#[diagnostic::on_unimplemented(
    message = "a `break`, `continue` or `return;` in an `except*` arm raises the errors no arm handled, which a function returning `{Self}` cannot",
    label = "the errors no arm handled would be lost here",
    note = "the errors no arm handled (those of the arms after this one, which do not run, and those no arm matches) propagate instead of the `break`: the function must return `Result<_, E>` where `E: From<taskgroup::ErrorGroup>`",
    note = "or make this arm the last one and `except* _`, so that nothing is left unhandled when it leaves"
)]
pub trait ArmLeave: Sized {
    /// The early return that carries `rest`, if it holds errors.
    #[doc(hidden)]
    fn arm_leave(rest: &mut Unhandled) -> Option<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: Propagate> ArmLeave for T {
    fn arm_leave(rest: &mut Unhandled) -> Option<Self> {
        rest.take().map(T::propagate)
    }
}

/// The slot for the value an arm yields, typed after the group's successful value, so that
/// an arm yielding something else is reported at the arm as "expected `(A, B)`".
pub const fn value_slot<T>(_: &Result<T, ErrorGroup>) -> Option<T> {
    None
}

/// What an arm whose body is a `Result` constructor (`=> Ok(..)`, `=> Err(..)`) yields: the
/// group's values, which are a `Result` only when a task's value is one. Anything else is
/// almost always a missing `return`, and is reported at the arm as such.
#[diagnostic::on_unimplemented(
    message = "an `except*` arm must leave (`return`, `break`, `continue`, a panic) or yield the group's values `{V}`, not `{Self}`",
    label = "this arm yields `{Self}` as the group's values `{V}`",
    note = "to leave the function with this `Result`, write `return` before it: `=> return Err(..)`",
    note = "an arm that handles the errors and goes on yields one value per named task, in order: `{V}`"
)]
pub trait ArmYields<V>: Sized {
    /// The arm's value as the group's values; `slot` fixes `V` before `Self` is checked.
    #[doc(hidden)]
    fn arm_yields(slot: &Option<V>, value: Self) -> V;
}

impl<V> ArmYields<V> for V {
    fn arm_yields(_: &Option<V>, value: Self) -> V {
        value
    }
}

/// What the enclosing function must return for errors that no arm took to propagate:
/// `return Err(From::from(remainder))`, the `?` of the group.
#[diagnostic::on_unimplemented(
    message = "errors that no `except*` arm takes cannot propagate from a function returning `{Self}`",
    label = "unmatched errors of this group are returned from here",
    note = "the function (or async block) around `group!` must return `Result<_, E>` where `E: From<taskgroup::ErrorGroup>`: `taskgroup::ErrorGroup`, `Box<dyn Error + Send + Sync>`, `anyhow::Error`, or your own error type with that `From` impl",
    note = "or handle every error in the group: end its arms with `except* _ => ...`"
)]
pub trait Propagate: Sized {
    /// The early return that carries `remainder`.
    #[doc(hidden)]
    fn propagate(remainder: ErrorGroup) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T, E: From<ErrorGroup>> Propagate for Result<T, E> {
    fn propagate(remainder: ErrorGroup) -> Self {
        Err(E::from(remainder))
    }
}

/// A group failed, every error was taken by an arm, yet no arm ran: impossible, since an arm
/// that takes errors runs.
#[cold]
pub fn unreachable_arm() -> ! {
    unreachable!("taskgroup: an error group was fully matched but no `except*` arm ran")
}

/// What a settle-mode group with a deadline must return its deadline through: the `?` of
/// the group.
#[diagnostic::on_unimplemented(
    message = "a `#![mode = settle]` group with a timeout raises its deadline with `?`, which a function returning `{Self}` cannot",
    label = "the deadline's `Elapsed` is returned from here",
    note = "every task's own result is bound as a `Result`; only the deadline (and a cancellation or errors that reach the group from outside its tasks) is raised: the function (or async block) around `group!` must return `Result<_, E>` where `E: From<taskgroup::ErrorGroup>`, such as `taskgroup::ErrorGroup`, `Box<dyn Error + Send + Sync>` or `anyhow::Error`",
    note = "or remove `#![timeout = ..]`: a settle-mode group without one needs no `Result` around it"
)]
pub trait SettlePropagate: Sized {
    /// The early return that carries `errors`.
    #[doc(hidden)]
    fn propagate(errors: ErrorGroup) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T: Propagate> SettlePropagate for T {
    fn propagate(errors: ErrorGroup) -> Self {
        T::propagate(errors)
    }
}

/// The error of a settle-mode group without a timeout, which has no `?` to return it with.
/// Every task's own result is bound, so what is left can only come from outside its tasks:
///
/// - The enclosing group is cancelling it (with the leaves that says, and those of its own
///   tasks that the grace period cut off): the errors that are more than a cancellation are
///   handed to the enclosing group, under the task this group runs in, and the task waits to
///   be dropped, which the enclosing group does when its own grace period ends at the latest.
/// - Errors that nested groups handed up when its tasks dropped them before they ended (a
///   `select!` or a `timeout` around one): with no `Result` to return them in and no
///   cancellation under way, they are raised as a panic that shows them all.
pub async fn unraised<T>(errors: ErrorGroup) -> T {
    let enclosing = crate::context::enclosing().filter(|(signal, _)| signal.is_cancelling());
    let Some((signal, task)) = enclosing else {
        panic!(
            "a `#![mode = settle]` group without a timeout received errors that none of its \
             tasks returned (nested groups its tasks dropped handed them up), and it has no \
             `Result` to return them in:\n{errors:#}"
        );
    };
    let message = std::borrow::Cow::Owned(errors.message().to_owned());
    let (_cancellations, errors) = errors.split::<crate::cancel::Cancelled>();
    if let Some(errors) = errors {
        signal.post(crate::signal::Mail {
            path: vec![crate::signal::Hop { task, message }],
            content: crate::signal::Content::Errors(errors.into_members()),
        });
    }
    std::future::pending().await
}
