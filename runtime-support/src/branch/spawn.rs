//! Children on the runtime's workers: spawned with their group's context, and aborted and
//! handed up when their group is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio_util::task::AbortOnDropHandle;

use crate::context::{enter_carried, in_task};
use crate::core::Core;
use crate::error_group::TaskName;
use crate::future::TaskResult;
use crate::policy;
use crate::signal::{Orphan, Signal};
use crate::trace;

/// Spawns a child on the runtime's workers, carrying its group's cancellation signal (and,
/// with `tracing`, its span).
pub(crate) fn spawn_child<F>(
    core: &mut Core,
    task: &TaskName,
    fut: F,
) -> AbortOnDropHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let fut = trace::instrument(fut, task, &core.options);
    AbortOnDropHandle::new(tokio::spawn(Carry {
        signal: Some(core.signal().clone()),
        task: task.clone(),
        fut,
    }))
}

pin_project! {
    /// A spawned child: polled with its group as the current one, as in-place children are.
    struct Carry<F> {
        // Lent to the worker's thread-local slot while the child is polled.
        signal: Option<Arc<Signal>>,
        task: TaskName,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Carry<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // Its group is the current one, and it is the task being polled.
        let _frame = enter_carried(this.signal);
        in_task(this.task, || this.fut.poll(cx))
    }
}

/// A spawned child whose group is dropped: aborted, and joined by the enclosing group.
pub(crate) fn orphan<R>(handle: AbortOnDropHandle<R>) -> Orphan
where
    R: TaskResult + Send + 'static,
{
    handle.abort();
    Box::pin(async move {
        match policy::joined(handle.await) {
            // It finished before the abort landed: its error still counts.
            Some(Ok(output)) => Ok(output.into_result().err().map(Into::into)),
            Some(Err(payload)) => Err(payload),
            None => Ok(None),
        }
    })
}
