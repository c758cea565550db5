//! What `except*` arms expand into: take the matching part of the remaining errors, keep the
//! arms' fallback values, and propagate whatever no arm took.

use std::error::Error;

use crate::error_group::ErrorGroup;

/// The types an `except*` arm can match.
#[diagnostic::on_unimplemented(
    message = "`except* {Self}` needs an error type, but `{Self}` does not implement `std::error::Error + Send + Sync + 'static`",
    label = "not an error type",
    note = "an arm matches the leaves of the error group whose type is `{Self}`; use `except* _` to take every remaining error"
)]
pub trait ExceptType: Error + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Error + Send + Sync + 'static> ExceptType for T {}

/// Takes the errors of type `T` out of what earlier arms left, nesting kept.
pub fn take_matching<T: ExceptType>(rest: &mut Option<ErrorGroup>) -> Option<ErrorGroup<T>> {
    let (matching, remainder) = rest.take()?.split::<T>();
    *rest = remainder;
    matching
}

/// `except* _`: takes whatever earlier arms left.
pub fn take_rest(rest: &mut Option<ErrorGroup>) -> Option<ErrorGroup> {
    rest.take()
}

/// The slot for the value an arm yields, typed after the group's successful value, so that
/// an arm yielding something else is reported at the arm as "expected `(A, B)`".
pub const fn value_slot<T>(_: &Result<T, ErrorGroup>) -> Option<T> {
    None
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
