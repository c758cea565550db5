//! Observability with the `tracing` feature: a span per group and per task, events for
//! failures and cancellations. Without the feature everything here is zero-sized and inert.
//!
//! Every use of the `tracing` crate is in this file, in the module `on`, which is compiled
//! only with the feature; `off` has the same items, inert. The rest of the crate calls the
//! items re-exported here and never names `tracing`, so that nothing in it is cfg'd out at
//! the statement level (which rust-analyzer may read as an unresolved `tracing::event!`).

use crate::core::Options;
use crate::error_group::{ErrorGroup, TaskName};

#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;

/// Reports the errors an `except*` arm took with it when it left by an exit the macro cannot
/// see: on stderr, or as an error event with the `tracing` feature.
#[cold]
pub(crate) fn lost(errors: &ErrorGroup) {
    if !lost_event(errors) {
        eprintln!(
            "taskgroup: an `except*` arm left its function by an exit the macro cannot see (a \
             `return` inside another macro, a panic, or the drop of the future), so these \
             errors that no arm handled were not handed on:\n{errors:#}"
        );
    }
}

#[cfg(feature = "tracing")]
mod on {
    use super::{ErrorGroup, Options, TaskName};
    use crate::cancel::CancelReason;
    use crate::error_group::BoxError;

    /// Where a group is written: its file and line.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Site(&'static str, u32);

    impl Site {
        pub(crate) const NONE: Site = Site("", 0);

        pub(crate) const fn new(file: &'static str, line: u32) -> Self {
            Site(file, line)
        }
    }

    /// A task's span, made when the task is first polled (inside its group's span).
    #[derive(Debug)]
    pub(crate) struct SpanSlot {
        span: Option<tracing::Span>,
    }

    /// The guard of an entered span.
    pub(crate) type Entered<'a> = tracing::span::Entered<'a>;

    impl SpanSlot {
        /// An empty slot.
        pub(crate) const fn new() -> Self {
            SpanSlot { span: None }
        }

        /// Enters the task's span, making it on first use.
        #[inline]
        pub(crate) fn enter(&mut self, task: &TaskName, site: Site) -> Entered<'_> {
            let Site(file, line) = site;
            self.span
                .get_or_insert_with(
                    || tracing::info_span!("task", task = %task, file = file, line = line),
                )
                .enter()
        }
    }

    /// A group's span.
    pub(crate) type GroupSpan = tracing::Span;

    /// Makes the span of a group named `name` written at `site`, inside the current span (a
    /// parent group's task, if nested).
    pub(crate) fn group_span(name: Option<&str>, site: Site) -> GroupSpan {
        let Site(file, line) = site;
        let name = name.unwrap_or("group");
        tracing::info_span!("group", group = name, file = file, line = line)
    }

    /// Makes the span of a task that has no [`SpanSlot`] (fan-out items, scope children).
    pub(crate) fn task_span(task: impl FnOnce() -> TaskName, options: &Options) -> GroupSpan {
        let Site(file, line) = options.location;
        tracing::info_span!("task", task = %task(), file = file, line = line)
    }

    /// Runs `f` inside a span.
    #[inline]
    pub(crate) fn in_span<R>(span: &GroupSpan, f: impl FnOnce() -> R) -> R {
        span.in_scope(f)
    }

    /// Records that a started task was cancelled.
    #[inline]
    pub(crate) fn task_cancelled(task: &TaskName) {
        tracing::event!(tracing::Level::DEBUG, task = %task, "task cancelled");
    }

    /// Records a task's error, as the group takes it.
    pub(crate) fn task_failed(task: &TaskName, error: &BoxError) {
        tracing::event!(tracing::Level::WARN, task = %task, error = %error, "task failed");
    }

    /// Records a task's panic.
    pub(crate) fn task_panicked(task: &TaskName) {
        tracing::event!(tracing::Level::ERROR, task = %task, "task panicked");
    }

    /// Records that a group begins cancelling.
    pub(crate) fn group_cancelling(reason: &CancelReason) {
        tracing::event!(tracing::Level::INFO, reason = %reason, "group cancelling");
    }

    /// Records errors handed up to a group by a nested group that was dropped.
    pub(crate) fn handed_up(errors: usize) {
        tracing::event!(
            tracing::Level::WARN,
            errors = errors,
            "errors handed up by a dropped group"
        );
    }

    /// Reports errors an `except*` arm took with it as an error event.
    pub(crate) fn lost_event(errors: &ErrorGroup) -> bool {
        tracing::event!(
            tracing::Level::ERROR,
            errors = %format_args!("{errors:#}"),
            "an `except*` arm left without handing on the errors no arm handled"
        );
        true
    }

    /// Makes a spawned task's future carry its span onto the worker.
    pub(crate) fn instrument<F>(
        fut: F,
        task: &TaskName,
        options: &Options,
    ) -> tracing::instrument::Instrumented<F> {
        let Site(file, line) = options.location;
        tracing::Instrument::instrument(
            fut,
            tracing::info_span!("task", task = %task, file = file, line = line),
        )
    }
}

#[cfg(not(feature = "tracing"))]
mod off {
    use std::marker::PhantomData;

    use super::{ErrorGroup, Options, TaskName};
    use crate::cancel::CancelReason;
    use crate::error_group::BoxError;

    /// Where a group is written: nothing is kept without the `tracing` feature.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Site;

    impl Site {
        pub(crate) const NONE: Site = Site;

        pub(crate) const fn new(_: &'static str, _: u32) -> Self {
            Site
        }
    }

    /// A task's span (nothing without the `tracing` feature).
    #[derive(Debug)]
    pub(crate) struct SpanSlot;

    /// The guard of an entered span (nothing without the `tracing` feature).
    pub(crate) type Entered<'a> = PhantomData<&'a ()>;

    impl SpanSlot {
        /// An empty slot.
        pub(crate) const fn new() -> Self {
            SpanSlot
        }

        /// Enters the task's span: nothing to enter.
        #[inline]
        pub(crate) fn enter(&mut self, _: &TaskName, _: Site) -> Entered<'_> {
            PhantomData
        }
    }

    /// A group's span (nothing without the `tracing` feature).
    pub(crate) type GroupSpan = NoSpan;

    /// The span of a group or task when the `tracing` feature is off.
    #[derive(Debug)]
    pub(crate) struct NoSpan;

    #[cfg(test)]
    impl NoSpan {
        /// No span, as `tracing::Span::none()`.
        pub(crate) const fn none() -> Self {
            NoSpan
        }
    }

    /// Makes the span of a group: nothing.
    #[inline]
    pub(crate) fn group_span(_: Option<&str>, _: Site) -> GroupSpan {
        NoSpan
    }

    /// Makes the span of a task: nothing.
    pub(crate) fn task_span(_: impl FnOnce() -> TaskName, _: &Options) -> GroupSpan {
        NoSpan
    }

    /// Runs `f`.
    #[inline]
    pub(crate) fn in_span<R>(_: &GroupSpan, f: impl FnOnce() -> R) -> R {
        f()
    }

    #[inline]
    pub(crate) fn task_cancelled(_: &TaskName) {}

    #[inline]
    pub(crate) fn task_failed(_: &TaskName, _: &BoxError) {}

    #[inline]
    pub(crate) fn task_panicked(_: &TaskName) {}

    #[inline]
    pub(crate) fn group_cancelling(_: &CancelReason) {}

    #[inline]
    pub(crate) fn handed_up(_: usize) {}

    /// No event to report to: the caller writes to stderr.
    pub(crate) fn lost_event(_: &ErrorGroup) -> bool {
        false
    }

    /// The future as it is: no span to carry.
    pub(crate) fn instrument<F>(fut: F, _: &TaskName, _: &Options) -> F {
        fut
    }
}
