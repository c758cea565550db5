//! Errors beat cancellation: how a group that cancels its children tells what it caused from
//! what went wrong.
//!
//! A group cancels its children for many reasons (a failure, its deadline, a winner,
//! [`Scope::cancel`](crate::Scope::cancel), an enclosing group, the drop of its future), and
//! its children then end in ways that only report that cancellation. The rule, decided here
//! and nowhere else:
//!
//! 1. **A cancellation the group caused is not an error.** An aborted spawned task
//!    ([`joined`]), and a nested group that the cancellation ended before its tasks could
//!    finish ([`counts`]), add nothing to the group's errors.
//! 2. **Every other error is kept, however late.** A task's error during its cleanup after
//!    [`cancelled()`](crate::cancelled), an error a nested group had collected before it was
//!    dropped, the error of a spawned task that finished before its abort landed: each is
//!    reported with its task's name ([`counts`] is `true` for them).
//! 3. **A group with an error reports its errors, not its cancellation.** Only a group that
//!    has no error and lost children to a cancellation from outside reports a
//!    [`Cancelled`] leaf ([`ending`]).
//! 4. **An imperative body outlives its tasks' cancellation only while nothing failed.**
//!    When the group was cancelled on purpose or a task won the race, the body still makes
//!    the value; an error or a panic ends it with the tasks ([`keeps_body`]).
//! 5. **A cleanup cut short is an error.** A task that was told to cancel (its `cancelled()`
//!    resolved, or its `is_cancelled()` returned `true`) and is dropped when the grace
//!    period runs out, before it finished, fails its group with a
//!    [`GraceElapsed`](crate::GraceElapsed) under its name ([`cut_off`]); a task that never
//!    looked at cancellation and is dropped is a cancellation the group caused.

use std::any::Any;

use tokio::task::JoinError;

use crate::cancel::{CancelReason, Cancelled};
use crate::error_group::ErrorGroup;

/// Whether a child's `error` counts as a failure of its group. It does not when it only
/// reports a cancellation (a [`Cancelled`], or an error group whose every leaf is one) and
/// the group is `cancelling` (here or in an enclosing group), so that the cancellation
/// caused it. A nested group that reports a cancellation its own group did not cause (its
/// own [`Scope::cancel`](crate::Scope::cancel)) is an error like any other.
pub(crate) fn counts(error: &(dyn std::error::Error + 'static), cancelling: bool) -> bool {
    !(cancelling && is_cancellation(error))
}

/// Whether `error` only reports a cancellation: a [`Cancelled`], or an error group whose
/// every leaf is one.
fn is_cancellation(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<Cancelled>() {
        return true;
    }
    error.downcast_ref::<ErrorGroup>().is_some_and(|group| {
        !group.is_empty() && group.leaves().all(|leaf| leaf.error.is::<Cancelled>())
    })
}

/// How a spawned child ended, as its group counts it: its output, or its panic; `None` when
/// it was aborted, which only the group does (its cancellation, or its drop).
pub(crate) fn joined<R>(joined: Result<R, JoinError>) -> Option<Result<R, Box<dyn Any + Send>>> {
    match joined {
        Ok(output) => Some(Ok(output)),
        Err(error) => error.try_into_panic().ok().map(Err),
    }
}

/// What a group that ran to its end reports: its errors if it has any (`finished`), else the
/// children's values (`output`), else (some children were cancelled before they could
/// succeed, with no error anywhere) the cancellation, as made by `cancelled`.
#[inline]
pub(crate) fn ending<T>(
    finished: Result<(), ErrorGroup>,
    output: impl FnOnce() -> Option<T>,
    cancelled: impl FnOnce() -> ErrorGroup,
) -> Result<T, ErrorGroup> {
    finished?;
    unfailed_ending(output(), cancelled)
}

/// [`ending`] of a group known to have no error: the children's values, else the
/// cancellation.
#[inline]
pub(crate) fn unfailed_ending<T>(
    output: Option<T>,
    cancelled: impl FnOnce() -> ErrorGroup,
) -> Result<T, ErrorGroup> {
    output.ok_or_else(cancelled)
}

/// Whether the imperative body of a scope keeps running while its tasks are cancelled:
/// when the group was cancelled on purpose (`reason`) or a task `won` the race, and no task
/// failed (`errors`) or panicked (`panic`), the body still makes the value.
pub(crate) fn keeps_body(reason: CancelReason, errors: bool, won: bool, panic: bool) -> bool {
    !panic
        && matches!(
            reason,
            CancelReason::Cancelled | CancelReason::SiblingSucceeded
        )
        && (won || !errors)
}

/// Whether a task dropped or aborted now is reported as cut off in its cleanup: it was `told`
/// to cancel, and the drop is the end of the grace period (`grace_ran_out`).
pub(crate) const fn cut_off(told: bool, grace_ran_out: bool) -> bool {
    told && grace_ran_out
}
