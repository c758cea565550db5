//! What `except*` arms expand into: take the matching part of the remaining errors.

use std::error::Error;

use crate::error_group::ErrorGroup;

/// The types an `except*` arm can match.
#[diagnostic::on_unimplemented(
    message = "`except* {Self}` needs an error type, but `{Self}` does not implement `std::error::Error + Send + Sync + 'static`",
    label = "not an error type",
    note = "an arm matches the leaves of the error group whose type is `{Self}`; use `except* _` to take every remaining error"
)]
pub trait ExceptType: Error + Send + Sync + 'static {}

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

/// After the arms: what no arm matched propagates with `?`, structure kept.
///
/// # Errors
///
/// The remainder, if any.
pub fn reraise(rest: Option<ErrorGroup>) -> Result<(), ErrorGroup> {
    match rest {
        Some(remainder) => Err(remainder),
        None => Ok(()),
    }
}

/// A group failed, every error was taken by an arm, yet no arm ran: impossible, since an arm
/// that takes errors runs.
#[cold]
pub fn unreachable_arm() -> ! {
    unreachable!("cohort: an error group was fully matched but no `except*` arm ran")
}

/// A stand-in value for the bindings of a `group!` that failed to compile.
pub fn placeholder<T>() -> T {
    unreachable!("cohort: placeholder of a group that failed to compile")
}
