//! The future of a fixed group: in-place tasks only, and none of the options that change how
//! they run (no deadline, limit, grace period or `cancel_on`).
//!
//! Most such groups run to success without anything to react to: they are polled where no
//! other group is being polled (not in another group's task), and no task fails, panics or
//! asks for the group's cancellation signal. For those, the group keeps nothing but its
//! tasks. Its state (the [`Core`] with the options, the timers, the phase)
//! is made only when something happens that the general driver must handle, and from then
//! on that driver runs the group, from the pass where it happened: the group behaves as any
//! other. `group!` uses it for every group that qualifies; [`Untimed`](crate::run::Untimed)
//! runs the others without a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::branch::FixedBranch;
use crate::context::enter_fixed;
use crate::core::{Core, Options};
use crate::error_group::ErrorGroup;
use crate::policy;
use crate::run::{General, drive_on, poll_general};
use crate::trace::{GroupSpan, Site, group_span, in_span};

pin_project! {
    /// The future of a fixed group (see the module's docs). `O` makes the group's options
    /// when its state is made; `group!` passes a closure that captures nothing.
    #[doc(hidden)]
    #[must_use = "a group does nothing unless awaited"]
    #[project = FixedProj]
    pub struct Fixed<B: FixedBranch, O> {
        #[pin]
        branches: B,
        // The general driver's state, once made.
        general: Option<General>,
        options: O,
        site: Site,
        span: GroupSpan,
        stage: Stage,
    }
    impl<B: FixedBranch, O> PinnedDrop for Fixed<B, O> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // A group dropped on its short path has collected nothing to hand up.
            if let Some(general) = this.general {
                general.dropped(this.branches);
            }
        }
    }
}

impl<B: FixedBranch + fmt::Debug, O> fmt::Debug for Fixed<B, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixed")
            .field("branches", &self.branches)
            .field("general", &self.general)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

/// Where a fixed group is in its life, on its short path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    New,
    Polled,
    Done,
}

/// Runs `branches` as one fixed group, whose options `options` makes when they are needed.
#[doc(hidden)]
#[inline]
pub fn run_fixed<B: FixedBranch, O: Fn() -> Options + Copy>(
    options: O,
    branches: B,
) -> Fixed<B, O> {
    // Without the `tracing` feature the site and the span are nothing, and the options are
    // not made here.
    let made = options();
    Fixed {
        site: made.location,
        span: group_span(&made),
        branches,
        general: None,
        options,
        stage: Stage::New,
    }
}

/// A fixed group's core, made when a child needs it: what its short path lends the branches.
#[doc(hidden)]
pub struct LazyCore<'a, O> {
    general: &'a mut Option<General>,
    options: O,
    site: Site,
}

impl<O> fmt::Debug for LazyCore<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyCore")
            .field("made", &self.general.is_some())
            .finish_non_exhaustive()
    }
}

impl<O: Fn() -> Options> LazyCore<'_, O> {
    /// The core, if a child made it earlier in this pass.
    #[inline]
    pub(crate) fn made(&mut self) -> Option<&mut Core> {
        self.general.as_mut().map(|general| &mut general.core)
    }

    /// The core, made now if need be: a child failed or panicked, and is filed in it.
    #[cold]
    #[inline(never)]
    pub(crate) fn make(&mut self) -> &mut Core {
        let options = &self.options;
        &mut self.general.get_or_insert_with(|| made(options())).core
    }

    /// Where the group is written, for the tasks' spans.
    #[inline]
    pub(crate) fn site(&self) -> Site {
        self.site
    }
}

/// The state of a group made on its short path, after its first poll began: nothing to arm
/// (no deadline, and no enclosing group, or the short path would not have been taken).
fn made(options: Options) -> General {
    let mut general = General::new(Core::new(options));
    general.armed = true;
    general
}

impl<B: FixedBranch, O: Fn() -> Options + Copy> Future for Fixed<B, O> {
    type Output = Result<B::Output, ErrorGroup>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let FixedProj {
            mut branches,
            general,
            options,
            site,
            span,
            stage,
        } = self.project();
        if let Some(general) = general {
            return general_poll(general, branches, span, cx);
        }
        let first = match std::mem::replace(stage, Stage::Polled) {
            Stage::New => true,
            Stage::Polled => false,
            Stage::Done => panic!("a task group polled after it completed"),
        };
        let Some(frame) = enter_fixed() else {
            // Polled in a task of another group: the general driver, which binds the group
            // to that one at its first poll (and arms it).
            return general_start(general, options, first, branches, span, cx);
        };
        let mut core = LazyCore {
            general,
            options: *options,
            site: *site,
        };
        let finished = in_span(span, || branches.as_mut().poll_fixed(cx, &mut core)).is_ready();
        let frame = match general {
            // Nothing to react to: no failure, no panic, no signal a child made.
            None => frame.leave().err(),
            Some(_) => Some(frame),
        };
        if frame.is_none() {
            if !finished {
                return Poll::Pending;
            }
            *stage = Stage::Done;
            // Every task has its value: none was kept from starting.
            return Poll::Ready(policy::unfailed_ending(
                branches.as_mut().take_output(),
                || Core::new(options()).cancelled_group(),
            ));
        }
        // Something to react to: the general driver goes on from this pass, in this frame.
        let _frame = frame;
        let general = general.get_or_insert_with(|| made(options()));
        general.core.adopt();
        drive_on(general, branches, span, finished, cx)
    }
}

/// A poll of a fixed group whose state was made: the general driver's.
#[inline(never)]
fn general_poll<B: FixedBranch>(
    general: &mut General,
    branches: Pin<&mut B>,
    span: &GroupSpan,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    poll_general(general, branches, span, cx)
}

/// A fixed group that cannot take its short path makes its state and goes on in the general
/// driver; at its first poll it is not armed yet, and the driver binds and arms it.
#[cold]
#[inline(never)]
fn general_start<B: FixedBranch>(
    general: &mut Option<General>,
    options: &dyn Fn() -> Options,
    first: bool,
    branches: Pin<&mut B>,
    span: &GroupSpan,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    let general = general.insert(General::new(Core::new(options())));
    general.armed = !first;
    poll_general(general, branches, span, cx)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::poll_fn;
    use std::pin::pin;

    use super::*;
    use crate::branch::{Cons, PlainTask, cons, into_box, task};
    use crate::run::run;

    type Plain<F> = PlainTask<F, u32, std::io::Error>;

    /// A task that yields once, then outputs `output`.
    fn yielding(
        name: &'static str,
        output: Result<u32, std::io::Error>,
    ) -> Plain<impl Future<Output = Result<u32, std::io::Error>>> {
        PlainTask::new(
            name,
            async move {
                tokio::task::yield_now().await;
                output
            },
            into_box,
        )
    }

    type Pair<A, B> = Cons<A, Cons<B, ()>>;

    fn pair<A: FixedBranch, B: FixedBranch>(a: A, b: B) -> Pair<A, B> {
        cons(a, cons(b, ()))
    }

    #[tokio::test]
    async fn a_group_that_runs_to_success_makes_no_state() {
        let branches = pair(yielding("a", Ok(1)), yielding("b", Ok(2)));
        let mut group = pin!(run_fixed(Options::new, branches));
        let values = poll_fn(|cx| {
            let poll = group.as_mut().poll(cx);
            assert!(group.general.is_none(), "made at a plain poll");
            poll
        })
        .await;
        assert_eq!(values.unwrap(), (1, (2, ())));
    }

    #[tokio::test]
    async fn a_group_makes_its_state_when_a_task_fails_and_the_driver_ends_it() {
        let branches = pair(
            yielding("a", Err(std::io::Error::other("a failed"))),
            yielding("b", Ok(2)),
        );
        let mut group = pin!(run_fixed(Options::new, branches));
        let mut made = false;
        let errors = poll_fn(|cx| {
            let poll = group.as_mut().poll(cx);
            made |= group.general.is_some();
            poll
        })
        .await
        .unwrap_err();
        assert!(made);
        let names: Vec<String> = errors.leaves().map(|leaf| leaf.task.to_string()).collect();
        assert_eq!(names, ["a"]);
    }

    #[tokio::test]
    async fn a_group_polled_in_another_groups_task_is_nested_from_its_first_poll() {
        let nested = Cell::new(None);
        let outer = task("outer", async {
            let branches = pair(yielding("a", Ok(1)), yielding("b", Ok(2)));
            let mut inner = pin!(run_fixed(Options::new, branches));
            let values = poll_fn(|cx| {
                let poll = inner.as_mut().poll(cx);
                if nested.get().is_none() {
                    let signal = inner.general.as_ref().and_then(|g| g.core.signal.as_ref());
                    nested.set(Some(signal.is_some()));
                }
                poll
            })
            .await;
            values.map_err(std::io::Error::other)
        });
        run(Options::new(), cons(outer, ())).await.unwrap();
        assert_eq!(nested.get(), Some(true), "bound at its first poll");
    }

    #[tokio::test]
    #[should_panic(expected = "a task group polled after it completed")]
    async fn a_group_polled_after_it_completed_panics() {
        let mut group = pin!(run_fixed(
            Options::new,
            pair(yielding("a", Ok(1)), yielding("b", Ok(2)))
        ));
        group.as_mut().await.unwrap();
        let _ = poll_fn(|cx| group.as_mut().poll(cx)).await;
    }
}
