//! Observability with the `tracing` feature: a span per group and per task, events for
//! failures and cancellations. Without the feature everything here is zero-sized and inert.

use crate::core::Options;
use crate::error_group::TaskName;

/// A task's span, made when the task is first polled (inside its group's span).
#[derive(Debug)]
pub(crate) struct SpanSlot {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

/// The guard of an entered span.
#[cfg(feature = "tracing")]
pub(crate) type Entered<'a> = tracing::span::Entered<'a>;
/// The guard of an entered span (nothing without the `tracing` feature).
#[cfg(not(feature = "tracing"))]
pub(crate) type Entered<'a> = std::marker::PhantomData<&'a ()>;

impl SpanSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        SpanSlot {
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// Enters the task's span, making it on first use.
    #[inline]
    pub(crate) fn enter(&mut self, task: &TaskName, options: &Options) -> Entered<'_> {
        #[cfg(feature = "tracing")]
        {
            let (file, line) = options.location;
            self.span
                .get_or_insert_with(
                    || tracing::info_span!("task", task = %task, file = file, line = line),
                )
                .enter()
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (task, options);
            std::marker::PhantomData
        }
    }
}

/// A group's span.
#[cfg(feature = "tracing")]
pub(crate) type GroupSpan = tracing::Span;
/// A group's span (nothing without the `tracing` feature).
#[cfg(not(feature = "tracing"))]
pub(crate) type GroupSpan = NoSpan;

/// The span of a group or task when the `tracing` feature is off.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct NoSpan;

/// Makes the span of a group, inside the current span (a parent group's task, if nested).
pub(crate) fn group_span(options: &Options) -> GroupSpan {
    #[cfg(feature = "tracing")]
    {
        let (file, line) = options.location;
        let name = options.name.as_deref().unwrap_or("group");
        tracing::info_span!("group", group = name, file = file, line = line)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = options;
        NoSpan
    }
}

/// Makes the span of a task that has no [`SpanSlot`] (fan-out items, scope children).
pub(crate) fn task_span(task: impl FnOnce() -> TaskName, options: &Options) -> GroupSpan {
    #[cfg(feature = "tracing")]
    {
        let (file, line) = options.location;
        tracing::info_span!("task", task = %task(), file = file, line = line)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (task, options);
        NoSpan
    }
}

/// Runs `f` inside a span.
#[inline]
pub(crate) fn in_span<R>(span: &GroupSpan, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "tracing")]
    {
        span.in_scope(f)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = span;
        f()
    }
}

/// Records that a started task was cancelled.
#[inline]
pub(crate) fn task_cancelled(task: &TaskName) {
    #[cfg(feature = "tracing")]
    tracing::event!(tracing::Level::DEBUG, task = %task, "task cancelled");
    #[cfg(not(feature = "tracing"))]
    let _ = task;
}

/// Makes a spawned task's future carry its span onto the worker.
#[cfg(feature = "tracing")]
pub(crate) fn instrument<F>(
    fut: F,
    task: &TaskName,
    options: &Options,
) -> tracing::instrument::Instrumented<F> {
    let (file, line) = options.location;
    tracing::Instrument::instrument(
        fut,
        tracing::info_span!("task", task = %task, file = file, line = line),
    )
}

/// Makes a spawned task's future carry its span onto the worker (nothing without `tracing`).
#[cfg(not(feature = "tracing"))]
pub(crate) fn instrument<F>(fut: F, task: &TaskName, options: &Options) -> F {
    let _ = (task, options);
    fut
}
