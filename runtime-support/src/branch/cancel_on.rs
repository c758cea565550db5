//! `#![cancel_on = future]` and `Group::cancel_on`: a group cancelled from outside, by any
//! future, as `Scope::cancel` cancels it from inside.

use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{Branch, Running, Values};
use crate::assert::Trigger;
use crate::cancel::CancelReason;
use crate::core::Core;
use crate::error_group::TaskName;
use crate::signal::Orphan;

pin_project! {
    /// The group's branches, with the future that cancels the group when it completes.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct CancelOn<F, B> {
        // `None` once it completed, or once the group is cancelling anyway.
        #[pin]
        trigger: Option<F>,
        poll: fn(Pin<&mut F>, &mut Context<'_>) -> Poll<()>,
        #[pin]
        inner: B,
        // Whether the branches were polled: a trigger complete before that cancels the group
        // before any of its fixed tasks runs.
        started: bool,
        // A scope's body is not a task: it runs (and makes the value) even then.
        drop_unstarted: bool,
    }
}

/// `branches`, cancelled when `trigger` completes: `#![cancel_on = trigger]`. A trigger
/// already complete at the group's first poll drops every task unpolled.
#[doc(hidden)]
pub fn cancel_on<F, B: Branch>(trigger: Trigger<F>, branches: B) -> CancelOn<F, B> {
    CancelOn {
        trigger: Some(trigger.fut),
        poll: trigger.poll,
        inner: branches,
        started: false,
        drop_unstarted: true,
    }
}

/// A scope's branch, cancelled when `trigger` completes: `Group::cancel_on(trigger)`.
pub(crate) fn scope_cancel_on<F, B: Branch>(trigger: Trigger<F>, scope: B) -> CancelOn<F, B> {
    CancelOn {
        trigger: Some(trigger.fut),
        poll: trigger.poll,
        inner: scope,
        started: false,
        drop_unstarted: false,
    }
}

impl<F, B: Values> Values for CancelOn<F, B> {
    type Output = B::Output;
    #[inline]
    fn take_output(self: Pin<&mut Self>) -> Option<Self::Output> {
        self.project().inner.take_output()
    }
}

// No bound on `F`: its poll function was made where it was known to be a future.
impl<F, B: Branch> Branch for CancelOn<F, B> {
    #[inline]
    fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>, core: &mut Core) -> Poll<()> {
        let mut this = self.project();
        if let Some(trigger) = this.trigger.as_mut().as_pin_mut()
            && (this.poll)(trigger, cx).is_ready()
        {
            this.trigger.set(None);
            if *this.started {
                // The driver cancels after this pass, with the grace period.
                core.request_cancel();
            } else {
                // Complete before the group started: cancelled before anything runs. The
                // fixed tasks of a `group!` are dropped unpolled; a scope's body still runs
                // (it makes the value), and sees the cancellation from its first step.
                core.start_cancel(CancelReason::Cancelled);
                if *this.drop_unstarted {
                    this.inner.as_mut().cancel(core);
                }
            }
        }
        *this.started = true;
        this.inner.poll_branch(cx, core)
    }

    fn cancel(self: Pin<&mut Self>, core: &mut Core) {
        let mut this = self.project();
        this.trigger.set(None);
        this.inner.cancel(core);
    }

    fn orphan(self: Pin<&mut Self>, orphans: &mut Vec<(TaskName, Orphan)>) {
        self.project().inner.orphan(orphans);
    }

    fn running(&self, out: &mut Vec<Running>) {
        self.inner.running(out);
    }
}
