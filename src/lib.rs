//! cohort: placeholder docs, replaced below.
#![doc(test(no_crate_inject, attr(deny(warnings))))]

pub use cohort_macros::*;
pub use cohort_runtime::error_group;
pub use cohort_runtime::{
    BoxError, CancelReason, Cancelled, Elapsed, ErrorGroup, Group, Infallible, Leaf, Member, Mode,
    Options, Scope, TaskHandle, TaskName, TaskResult, cancelled, infallible, is_cancelled, scope,
};

/// Not public API: what the expansion of `group!` uses.
#[doc(hidden)]
pub mod __private {
    pub use cohort_macros::group_internal;
    pub use cohort_runtime::__private::*;
}

/// Runs tasks together as one group. (Docs below.)
#[macro_export]
macro_rules! group {
    ($($tokens:tt)*) => {
        $crate::__private::group_internal! { $crate; $($tokens)* }
    };
}
