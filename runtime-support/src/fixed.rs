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
use crate::core::{Core, Mode, Options};
use crate::error_group::ErrorGroup;
use crate::policy;
use crate::run::{General, drive_on, poll_general};
use crate::trace::{GroupSpan, Site, group_span, in_span};

pin_project! {
    /// The future of a fixed group (see the module's docs).
    #[doc(hidden)]
    #[must_use = "a group does nothing unless awaited"]
    #[project = FixedProj]
    pub struct Fixed<B: FixedBranch> {
        // The general driver's state, once made, and the options to make it with. Before the
        // branches: dropped first, it hands up what the group collected before the tasks are
        // dropped (as `Run` does).
        state: LazyCore,
        #[pin]
        branches: B,
        span: GroupSpan,
        stage: Stage,
    }
}

impl<B: FixedBranch + fmt::Debug> fmt::Debug for Fixed<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixed")
            .field("branches", &self.branches)
            .field("state", &self.state)
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

/// The options a fixed group may have: its name and its mode, and where it is written. A
/// constant, so that `group!` passes a `&'static` to it and groups of the same tasks share
/// one type (a closure making the options would make each group's type its own).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct FixedOptions {
    name: Option<&'static str>,
    mode: Mode,
    location: Site,
}

impl FixedOptions {
    /// A group written at `file`:`line`, unnamed, fail-fast.
    pub const fn at(file: &'static str, line: u32) -> Self {
        FixedOptions {
            name: None,
            mode: Mode::FailFast,
            location: Site::new(file, line),
        }
    }

    /// Names the group.
    pub const fn name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the failure mode (fail-fast or supervise: the others are not fixed groups).
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The options of the group's core.
    fn options(&self) -> Options {
        let options = Options::new().mode(self.mode);
        let options = match self.name {
            Some(name) => options.name(name),
            None => options,
        };
        Options {
            location: self.location,
            ..options
        }
    }
}

/// Runs `branches` as one fixed group with `options`.
#[doc(hidden)]
#[inline]
pub fn run_fixed<B: FixedBranch>(options: &'static FixedOptions, branches: B) -> Fixed<B> {
    Fixed {
        span: group_span(options.name, options.location),
        branches,
        state: LazyCore {
            general: None,
            options,
        },
        stage: Stage::New,
    }
}

/// A fixed group's state, made when a child needs it (a core, for the general driver), and
/// the options to make it with: what the group's short path lends its branches.
#[doc(hidden)]
pub struct LazyCore {
    general: Option<General>,
    options: &'static FixedOptions,
}

impl Drop for LazyCore {
    #[inline]
    fn drop(&mut self) {
        // A group dropped on its short path has collected nothing to hand up; the tasks of a
        // fixed group are all in place, and leave no spawned task to orphan.
        if let Some(general) = &mut self.general {
            general.dropped(Pin::new(&mut ()));
        }
    }
}

impl fmt::Debug for LazyCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyCore")
            .field("made", &self.general.is_some())
            .finish_non_exhaustive()
    }
}

impl LazyCore {
    /// The core, if a child made it earlier in this pass.
    #[inline]
    pub(crate) fn made(&mut self) -> Option<&mut Core> {
        self.general.as_mut().map(|general| &mut general.core)
    }

    /// The core, made now if need be: a child failed or panicked, and is filed in it.
    #[cold]
    #[inline(never)]
    pub(crate) fn make(&mut self) -> &mut Core {
        &mut self.general(true).core
    }

    /// The general driver's state, made now if need be, `armed` if the group's first poll
    /// is behind it (made on its short path, or polled before): nothing to arm then, since
    /// the short path is taken only without a deadline and outside of any group.
    fn general(&mut self, armed: bool) -> &mut General {
        let options = self.options;
        self.general.get_or_insert_with(|| {
            let mut general = General::new(Core::new(options.options()));
            general.armed = armed;
            general
        })
    }

    /// Where the group is written, for the tasks' spans.
    #[inline]
    pub(crate) fn site(&self) -> Site {
        self.options.location
    }
}

impl<B: FixedBranch> Future for Fixed<B> {
    type Output = Result<B::Output, ErrorGroup>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let FixedProj {
            mut branches,
            state,
            span,
            stage,
        } = self.project();
        if let Some(general) = &mut state.general {
            return general_poll(general, branches, span, None, cx);
        }
        let first = match std::mem::replace(stage, Stage::Polled) {
            Stage::New => true,
            Stage::Polled => false,
            Stage::Done => panic!("a task group polled after it completed"),
        };
        let Some(frame) = enter_fixed() else {
            // Polled in a task of another group: the general driver, which binds the group
            // to that one at its first poll (and arms it).
            let general = state.start(!first);
            return general_poll(general, branches, span, None, cx);
        };
        let finished = in_span(span, || branches.as_mut().poll_fixed(cx, state)).is_ready();
        let frame = match state.general {
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
            let options = state.options;
            return Poll::Ready(policy::unfailed_ending(
                branches.as_mut().take_output(),
                || Core::new(options.options()).cancelled_group(),
            ));
        }
        // Something to react to: the general driver goes on from this pass, in this frame.
        let _frame = frame;
        let general = state.adopt();
        general_poll(general, branches, span, Some(finished), cx)
    }
}

impl LazyCore {
    /// Makes the state of a group that takes the general path from this poll on (it has
    /// none yet), `armed` unless this is its first poll.
    #[cold]
    #[inline(never)]
    fn start(&mut self, armed: bool) -> &mut General {
        self.general(armed)
    }

    /// After a pass that found something to react to: the state, made now if no child made
    /// it, takes the signal a child made.
    #[inline(never)]
    fn adopt(&mut self) -> &mut General {
        let general = self.general(true);
        general.core.adopt();
        general
    }
}

/// The general driver's poll of a fixed group whose state is made: the whole poll
/// (`polled` is `None`), or the rest of a poll whose short pass found something to react to
/// (whether that pass finished the branches), in the frame that pass entered. One function
/// for both, out of line: the short path inlines where the group is awaited, and the driver
/// is instantiated once per group.
#[inline(never)]
fn general_poll<B: FixedBranch>(
    general: &mut General,
    branches: Pin<&mut B>,
    span: &GroupSpan,
    polled: Option<bool>,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    match polled {
        None => poll_general(general, branches, span, cx),
        Some(done) => drive_on(general, branches, span, done, cx),
    }
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

    const OPTIONS: FixedOptions = FixedOptions::at(file!(), line!());

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
        let mut group = pin!(run_fixed(&OPTIONS, branches));
        let values = poll_fn(|cx| {
            let poll = group.as_mut().poll(cx);
            assert!(group.state.general.is_none(), "made at a plain poll");
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
        let mut group = pin!(run_fixed(&OPTIONS, branches));
        let mut made = false;
        let errors = poll_fn(|cx| {
            let poll = group.as_mut().poll(cx);
            made |= group.state.general.is_some();
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
            let mut inner = pin!(run_fixed(&OPTIONS, branches));
            let values = poll_fn(|cx| {
                let poll = inner.as_mut().poll(cx);
                if nested.get().is_none() {
                    let signal = inner
                        .state
                        .general
                        .as_ref()
                        .and_then(|g| g.core.signal.as_ref());
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
            &OPTIONS,
            pair(yielding("a", Ok(1)), yielding("b", Ok(2)))
        ));
        group.as_mut().await.unwrap();
        let _ = poll_fn(|cx| group.as_mut().poll(cx)).await;
    }
}
