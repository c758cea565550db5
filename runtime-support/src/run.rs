//! The driver: one future that runs a group's children to the end, whatever happens.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::branch::Branch;
use crate::cancel::CancelReason;
use crate::context::{enter, enter_lazy};
use crate::core::{Core, Options};
use crate::elapsed::Elapsed;
use crate::error_group::{ErrorGroup, TaskName};
use crate::policy;
use crate::trace::{GroupSpan, group_span, in_span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Children run; the deadline is armed.
    Running,
    /// Cancelling with a grace period: children watching `cancelled()` may finish.
    Grace,
    /// In-place children are dropped and spawned ones aborted; waiting until they are joined.
    Draining,
    /// The output was handed out.
    Done,
}

pin_project! {
    /// The timers of a group that has a deadline, a grace period or an enclosing group:
    /// boxed, so that a group without them stays small.
    #[derive(Debug, Default)]
    struct Timers {
        #[pin]
        deadline: Option<Sleep>,
        #[pin]
        grace: Option<Sleep>,
        #[pin]
        watch: Option<WaitForCancellationFutureOwned>,
    }
}

/// What the general driver keeps beside a group's branches: its state, its timers, where it
/// is in its life.
#[derive(Debug)]
pub(crate) struct General {
    pub(crate) core: Core,
    timers: Option<Pin<Box<Timers>>>,
    phase: Phase,
    pub(crate) armed: bool,
}

impl General {
    #[inline]
    pub(crate) const fn new(core: Core) -> Self {
        General {
            core,
            timers: None,
            phase: Phase::Running,
            armed: false,
        }
    }

    /// The driver's view of the group with these branches.
    #[inline]
    fn parts<'a, B>(&'a mut self, branches: Pin<&'a mut B>) -> Parts<'a, B> {
        Parts {
            core: &mut self.core,
            branches,
            timers: &mut self.timers,
            phase: &mut self.phase,
            armed: &mut self.armed,
        }
    }

    /// The group is dropped: if it had started and not ended, what it collected goes to the
    /// group that encloses it (see [`Run`]).
    #[inline]
    pub(crate) fn dropped<B: Branch>(&mut self, branches: Pin<&mut B>) {
        if self.armed && self.phase != Phase::Done {
            let mut spawned = Vec::new();
            branches.orphan(&mut spawned);
            self.core.hand_up(spawned);
        }
    }
}

/// A poll of the general driver: binds the group to the enclosing one at its first poll,
/// makes it the current group and drives it.
#[inline]
pub(crate) fn poll_general<B: Branch>(
    general: &mut General,
    branches: Pin<&mut B>,
    span: &GroupSpan,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    if !general.armed {
        // Started inside another group's task: nested in that group.
        general.core.bind();
    }
    // Children polled from here see this group in `taskgroup::cancelled()`, and nested
    // groups they start become children of this one.
    let _frame = enter(general.core.signal.as_ref());
    let parts = general.parts(branches);
    in_span(span, || drive(parts, None, cx))
}

/// The rest of a poll whose first pass over the branches was made on a short path
/// ([`Untimed`], [`Fixed`](crate::fixed::Fixed)) and found something to react to: the general
/// driver goes on from that pass, in the frame the short path entered.
#[inline]
pub(crate) fn drive_on<B: Branch>(
    general: &mut General,
    branches: Pin<&mut B>,
    span: &GroupSpan,
    done: bool,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    let parts = general.parts(branches);
    in_span(span, || drive(parts, Some(done), cx))
}

pin_project! {
    /// The future of a group: completes once every child has finished.
    ///
    /// Dropping it cancels the group: in-place children are dropped with it, spawned ones are
    /// aborted, and nested groups' children observe [`CancelReason::Parent`]. A nested group
    /// dropped this way hands what it collected (its errors and its aborted spawned tasks) to
    /// the group that encloses it, which reports the errors and joins the tasks.
    #[doc(hidden)]
    #[derive(Debug)]
    #[must_use = "a group does nothing unless awaited"]
    #[project = RunProj]
    pub struct Run<B: Branch> {
        general: General,
        #[pin]
        branches: B,
        span: GroupSpan,
    }
    impl<B: Branch> PinnedDrop for Run<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.general.dropped(this.branches);
        }
    }
}

/// Runs `branches` as one group with `options`.
#[doc(hidden)]
#[inline]
pub fn run<B: Branch>(options: Options, branches: B) -> Run<B> {
    run_with(Core::new(options), branches)
}

#[inline]
pub(crate) fn run_with<B: Branch>(core: Core, branches: B) -> Run<B> {
    Run {
        span: group_span(core.options.name.as_deref(), core.options.location),
        general: General::new(core),
        branches,
    }
}

impl<B: Branch> Future for Run<B> {
    type Output = Result<B::Output, ErrorGroup>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        poll_general(this.general, this.branches, this.span, cx)
    }
}

pin_project! {
    /// The future of a group without a deadline: a [`Run`] whose plain polls take a short
    /// path. A plain poll is one where nothing has happened that the group must react to:
    /// the group has no signal (it is not nested, no child asked for its cancellation, nothing
    /// cancels it), no child failed or panicked, no slot was freed for a waiting task. Such a
    /// poll enters the thread-local frame in a few stores ([`enter_lazy`]), polls the
    /// branches once, and either returns `Pending` or hands out the values; it checks none of
    /// the timers, phases and hand-ups that the general driver looks at. Whatever else
    /// happens, the poll goes on in the general driver, from the pass it already made: the
    /// group's behaviour is the general driver's.
    ///
    /// `group!` uses it for every group without `#![timeout]`: the deadline is armed at the
    /// first poll, which the short path skips (a group given one anyway arms it there).
    #[doc(hidden)]
    #[derive(Debug)]
    #[must_use = "a group does nothing unless awaited"]
    pub struct Untimed<B: Branch> {
        #[pin]
        run: Run<B>,
    }
}

/// Runs `branches` as one group with `options`. Meant for options without a deadline: with
/// one, the first poll takes the general driver's path, which arms it.
#[doc(hidden)]
#[inline]
pub fn run_untimed<B: Branch>(options: Options, branches: B) -> Untimed<B> {
    Untimed {
        run: run(options, branches),
    }
}

impl<B: Branch> Future for Untimed<B> {
    type Output = Result<B::Output, ErrorGroup>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let RunProj {
            general,
            mut branches,
            span,
        } = self.project().run.project();
        let mut deadline = false;
        if !general.armed {
            // Started inside another group's task: nested in that group.
            general.core.bind();
            // A deadline is armed by the general driver (`group!` never gives one here).
            deadline = general.core.options.timeout.is_some();
        }
        let frame = if deadline
            || general.phase != Phase::Running
            || general.timers.is_some()
            || !general.core.is_plain()
        {
            None
        } else {
            enter_lazy()
        };
        let Some(frame) = frame else {
            // Nested, something to react to, or polled where another group's signal is
            // current: the general driver, which also arms the group at its first poll.
            let _frame = enter(general.core.signal.as_ref());
            let parts = general.parts(branches);
            return in_span(span, || drive(parts, None, cx));
        };
        // No deadline, and no signal whose enclosing group to watch: nothing to arm.
        general.armed = true;
        let core = &mut general.core;
        let done = in_span(span, || pass(branches.as_mut(), core, cx));
        if general.core.is_plain() {
            drop(frame);
            if !done {
                return Poll::Pending;
            }
            general.phase = Phase::Done;
            // Nothing failed: the values, which every task has (none was kept from starting).
            general.core.finish_plain();
            return Poll::Ready(policy::unfailed_ending(
                branches.as_mut().take_output(),
                || general.core.cancelled_group(),
            ));
        }
        // Something to react to: the general driver goes on from this pass, in this frame.
        drive_on(general, branches, span, done, cx)
    }
}

/// The group's timers, made on first use.
fn timers(timers: &mut Option<Pin<Box<Timers>>>) -> Pin<&mut Timers> {
    timers
        .get_or_insert_with(|| Box::pin(Timers::default()))
        .as_mut()
}

/// A waker that records whether a child woke itself while it was polled.
struct WokeFlag {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for WokeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}

/// When the group has decided to cancel (a failure, its deadline, a winner, a cancellation
/// from outside) and before it does: polls the branches again while a child woke itself
/// during the poll (a `FuturesUnordered` that yielded before it polled every item that was
/// ready), so that every task already ready at that instant is polled and its error is kept.
/// Each child is polled at most once more: the settle window (`context::may_poll`) skips the
/// ones the pass that saw the failure polled, and those polled since, so that none runs past
/// its next `.await`. Runs only on the way into cancellation; bounded, and it stops when the
/// task's tokio budget is spent. The driver polls the branches again right after, so what
/// finished is seen there.
fn poll_ready_siblings<B: Branch>(
    mut branches: Pin<&mut B>,
    core: &mut Core,
    cx: &mut Context<'_>,
) {
    // Each child at most once more: not those the pass that saw the failure polled.
    core.open_settle_window();
    for _ in 0..16 {
        if !tokio::task::coop::has_budget_remaining() {
            break;
        }
        let flag = Arc::new(WokeFlag {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(flag.clone());
        let done = pass(branches.as_mut(), core, &mut Context::from_waker(&waker));
        if done || !flag.woken.load(Ordering::Relaxed) {
            break;
        }
    }
    core.close_settle_window();
}

/// One pass of the driver over the branches: whether they are all finished. A signal a child
/// made for the group during the pass is the group's after it.
#[inline]
fn pass<B: Branch>(branches: Pin<&mut B>, core: &mut Core, cx: &mut Context<'_>) -> bool {
    core.begin_pass();
    let done = branches.poll_branch(cx, core).is_ready();
    core.adopt();
    done
}

/// The driver's view of a [`Run`]: everything but its span.
struct Parts<'a, B> {
    core: &'a mut Core,
    branches: Pin<&'a mut B>,
    timers: &'a mut Option<Pin<Box<Timers>>>,
    phase: &'a mut Phase,
    armed: &'a mut bool,
}

/// Drives the group. `polled`: the first pass over the branches was made already (by
/// [`Untimed`]), and this is whether it finished them.
fn drive<B: Branch>(
    parts: Parts<'_, B>,
    mut polled: Option<bool>,
    cx: &mut Context<'_>,
) -> Poll<Result<B::Output, ErrorGroup>> {
    let Parts {
        core,
        mut branches,
        timers: slot,
        phase,
        armed,
    } = parts;
    assert!(
        *phase != Phase::Done,
        "a task group polled after it completed"
    );
    if !*armed {
        // The deadline counts from the group's first poll, when it starts its children.
        *armed = true;
        if core.options.timeout.is_some() || core.signal.is_some() {
            arm(core, slot);
        }
    }
    if *phase == Phase::Running
        && let Some(timers) = slot.as_mut()
        && let Some(parent) = timers.as_mut().project().watch.as_pin_mut()
        && parent.poll(cx).is_ready()
    {
        // An enclosing group is cancelling: from here on nothing new starts, and the
        // driver starts cancelling below (`is_cancelling`).
        timers.as_mut().project().watch.set(None);
    }
    loop {
        let mut reason = None;
        if *phase == Phase::Running
            && let Some(timers) = slot.as_mut()
            && let Some(sleep) = timers.as_mut().project().deadline.as_pin_mut()
            && sleep.poll(cx).is_ready()
        {
            timers.as_mut().project().deadline.set(None);
            let timeout = core.options.timeout.unwrap_or_default();
            let running = still_running(branches.as_ref().get_ref(), timeout);
            core.fail(
                TaskName::new("deadline"),
                Box::new(Elapsed::new(timeout, running)),
            );
            core.stop_accepting();
            reason = Some(CancelReason::Deadline);
        }

        let done = match polled.take() {
            Some(done) => done,
            None => pass(branches.as_mut(), core, cx),
        };
        // Nothing to react to: no error, panic, cancellation, winner, deadline or hand-up.
        let plain = *phase == Phase::Running && slot.is_none() && core.is_plain();
        // What dropped nested groups handed up is filed, and their spawned tasks joined.
        let quiet = plain || core.poll_orphans(cx).is_ready();

        if !plain && react(branches.as_mut(), core, slot, phase, reason, done, cx) {
            continue;
        }

        if done && quiet {
            *phase = Phase::Done;
            let finished = core.finish();
            return Poll::Ready(policy::ending(
                finished,
                || branches.as_mut().take_output(),
                || core.cancelled_group(),
            ));
        }
        if core.take_progress() {
            // A slot was freed while a task waited for it: start it now.
            continue;
        }
        return Poll::Pending;
    }
}

/// At the first poll of a group with a deadline or a signal: starts the deadline, and
/// watches the enclosing group's cancellation.
#[cold]
fn arm(core: &Core, slot: &mut Option<Pin<Box<Timers>>>) {
    let watch = core.signal.as_ref().and_then(|signal| signal.watch());
    if core.options.timeout.is_none() && watch.is_none() {
        return;
    }
    let mut timers = timers(slot);
    if let Some(timeout) = core.options.timeout {
        timers
            .as_mut()
            .project()
            .deadline
            .set(Some(tokio::time::sleep(timeout)));
    }
    timers.as_mut().project().watch.set(watch);
}

/// After a poll that was not plain: reacts to a panic, an error, a winner, the deadline, a
/// cancellation from outside or the end of the grace period. `true` when the driver must
/// poll the branches again at once. Out of line: a plain poll never calls it.
#[cold]
#[inline(never)]
fn react<B: Branch>(
    mut branches: Pin<&mut B>,
    core: &mut Core,
    slot: &mut Option<Pin<Box<Timers>>>,
    phase: &mut Phase,
    mut reason: Option<CancelReason>,
    done: bool,
    cx: &mut Context<'_>,
) -> bool {
    if core.has_panic() && *phase != Phase::Draining {
        // Panics are not errors: drop every sibling at once, join spawned ones, then
        // resume the panic (in `finish`). Siblings already ready at this instant finish
        // first, as for an error.
        core.stop_accepting();
        poll_ready_siblings(branches.as_mut(), core, cx);
        core.start_cancel(CancelReason::SiblingPanicked);
        branches.as_mut().cancel(core);
        *phase = Phase::Draining;
        return true;
    }
    match *phase {
        Phase::Running => {
            if reason.is_none() {
                if core.has_errors() && core.fails_fast() {
                    reason = Some(CancelReason::SiblingFailed);
                } else if core.take_cancel_request() && !done {
                    // `cancel_on` completed: a cancellation on purpose, as `Scope::cancel`.
                    reason = Some(CancelReason::Cancelled);
                } else if !done && core.won() {
                    reason = Some(CancelReason::SiblingSucceeded);
                } else if !done && core.is_cancelling() {
                    // Cancelled from outside: `Scope::cancel` or the enclosing group.
                    // (The reason given there stands.)
                    reason = Some(CancelReason::Parent);
                }
            }
            if let Some(reason) = reason {
                // Siblings that became ready at this instant still finish first: their
                // errors belong in the group (Python runs every task that is ready
                // before the cancellation lands). No new task starts meanwhile.
                core.stop_accepting();
                poll_ready_siblings(branches.as_mut(), core, cx);
                core.start_cancel(reason);
                match core.options.grace {
                    Some(period) => {
                        timers(slot)
                            .project()
                            .grace
                            .set(Some(tokio::time::sleep(period)));
                        *phase = Phase::Grace;
                    }
                    None => {
                        branches.as_mut().cancel(core);
                        *phase = Phase::Draining;
                    }
                }
                return true;
            }
        }
        Phase::Grace => {
            let expired = slot.as_mut().is_some_and(|timers| {
                timers
                    .as_mut()
                    .project()
                    .grace
                    .as_pin_mut()
                    .is_some_and(|sleep| sleep.poll(cx).is_ready())
            });
            if expired && !done {
                report_overruns(branches.as_ref().get_ref(), core);
                branches.as_mut().cancel(core);
                *phase = Phase::Draining;
                return true;
            }
        }
        Phase::Draining | Phase::Done => {}
    }
    false
}

/// The children still running when the deadline fires, with how long each had run; one
/// without a start time started with the group, `timeout` ago.
#[cold]
fn still_running<B: Branch>(branches: &B, timeout: Duration) -> Vec<(TaskName, Duration)> {
    let mut running = Vec::new();
    branches.running(&mut running);
    let now = Instant::now();
    running
        .into_iter()
        .map(|child| {
            let ran = child.at.map_or(timeout, |at| now.duration_since(at));
            (child.task, ran)
        })
        .collect()
}

/// The grace period ran out: every in-place child still running that was told to cancel (and
/// so was cleaning up) is dropped now with a [`GraceElapsed`](crate::GraceElapsed) error under
/// its name. A spawned one is aborted, and reported when it is joined, if the abort cut it off
/// (`Core::aborted`): it may finish first. A scope's body that keeps running is not dropped,
/// and not reported.
#[cold]
fn report_overruns<B: Branch>(branches: &B, core: &mut Core) {
    core.grace_ran_out();
    let mut running = Vec::new();
    branches.running(&mut running);
    let keeps_body = core.keeps_body();
    for child in running {
        if child.spawned || (keeps_body && child.task == TaskName::new("body")) {
            continue;
        }
        core.cut_off(child.task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::{cons, task};

    #[tokio::test(start_paused = true)]
    async fn an_untimed_group_given_a_deadline_arms_it_at_its_first_poll() {
        let never = task(
            "never",
            std::future::pending::<Result<(), std::io::Error>>(),
        );
        let options = Options::new().timeout(Duration::from_secs(1));
        let started = Instant::now();
        let group = run_untimed(options, cons(never, ()));
        // Without its deadline the group would never end: an outer timeout says so.
        let errors = tokio::time::timeout(Duration::from_secs(5), group)
            .await
            .expect("the group's deadline fired")
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        let elapsed = errors
            .leaves()
            .find_map(|leaf| leaf.error.downcast_ref::<Elapsed>());
        assert!(elapsed.is_some(), "{errors:?}");
    }
}
