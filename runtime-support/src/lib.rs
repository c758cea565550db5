//! Runtime support for [`taskgroup`](https://docs.rs/taskgroup): the task group that `group!` expands
//! into, its [`ErrorGroup`], cooperative cancellation, limits and deadlines.
//!
//! Users depend on the `taskgroup` crate, which re-exports everything public here; the
//! `#[doc(hidden)]` items are the expansion's API and are not covered by semver.
#![warn(missing_docs)]
#![doc(test(no_crate_inject, attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod assert;
mod branch;
mod cancel;
mod context;
mod core;
mod elapsed;
pub mod error_group;
mod except;
mod fixed;
pub mod future;
mod handle;
mod handoff;
mod outcomes;
mod policy;
mod run;
mod scope;
mod signal;
mod task_name;
mod trace;

pub use crate::cancel::{CancelReason, Cancelled};
pub use crate::context::{cancelled, is_cancelled};
pub use crate::core::Mode;
pub use crate::elapsed::{Elapsed, GraceElapsed};
pub use crate::error_group::{BoxError, ErrorGroup, TaskName};
pub use crate::future::{TaskResult, infallible, settled};
pub use crate::handle::{HandleError, NotStarted, Ready, Starting, TaskHandle};
pub use crate::outcomes::Outcomes;
pub use crate::scope::{Group, Scope, scope};

pub mod bounds {
    //! What `group!` asks of the code it is given, as the compiler names it in an error.
    //!
    //! Each trait here is one requirement of the macro, checked where the requirement arises
    //! and reported there with a message of its own: a task that is not a future
    //! ([`IntoTask`]), an option of the wrong type ([`TimeoutValue`], [`GraceValue`],
    //! [`LimitValue`], [`CancelOnValue`]), an `except*` type that is not an error ([`ExceptType`]), a function that
    //! cannot return the errors no arm takes ([`Propagate`], [`SettlePropagate`]), an arm that
    //! cannot leave or yields the wrong thing ([`ArmReturn`], [`ArmOk`], [`ArmLeave`],
    //! [`ArmYields`]), and a `spawn` task whose output cannot cross threads ([`SpawnOutput`]).
    //!
    //! The crate implements them for every type that meets the requirement; they are named
    //! here so that the compiler's "the trait `Propagate` is not implemented for `()`" has a
    //! page to point to. Their methods, and the hidden functions here that ask a `spawn`
    //! task's `Send + 'static`, are the expansion's and are not public API.

    pub use crate::assert::{
        CancelOnValue, GraceValue, IntoTask, LimitValue, SpawnOutput, TimeoutValue,
    };
    pub use crate::except::{
        ArmLeave, ArmOk, ArmReturn, ArmYields, ExceptType, Propagate, SettlePropagate,
    };

    // Where a `spawn` task's `Send + 'static` is asked: named in "required by a bound in".
    #[doc(hidden)]
    pub use crate::assert::{
        checked_settled_spawn_fan_out, checked_settled_spawn_task, checked_spawn_fan_out,
        checked_spawn_task,
    };
}

/// The expansion's API. Not public API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    pub use crate::assert::*;
    pub use crate::branch::{
        Branch, CancelOn, Cons, FanOut, FixedBranch, PlainTask, SettledFanOut, SpawnFanOut,
        SpawnTask, Split, Task, Values, cancel_on, cons, fan_out, spawn_fan_out, spawn_task, task,
    };
    pub use crate::core::{Core, Mode, Options};
    pub use crate::error_group::TaskName;
    pub use crate::except::*;
    pub use crate::fixed::{Fixed, FixedOptions, LazyCore, run_fixed};
    pub use crate::future::{Settled, settled};
    pub use crate::run::{Run, Untimed, run, run_untimed};
    pub use crate::scope::{ScopeBranch, ScopeState, group_parts, run_scope, scope_handle};
}
