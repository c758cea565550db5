//! The context: which group is being polled on this thread, and which of its tasks. A group's
//! driver and each spawned child set thread-locals around their polls, and each child its
//! task around its own poll, so that a group that starts inside a task knows where it is
//! nested, and [`cancelled`] knows whose cancellation to wait for.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::LocalKey;

use crate::cancel::CancelReason;
use crate::error_group::TaskName;
use crate::handle::TaskCtl;
use crate::signal::Signal;

// What the group being polled shows its children: thread-locals set around each poll of a
// group's driver and of each spawned child, and (the task) around each poll of a child.
// Everything a poll writes there is `Copy` but the signal, so that a group without one
// pays two plain stores per poll.

/// Which group is being polled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// None: the future runs outside of any group.
    Outside,
    /// A group without a [`Signal`] yet. It has no enclosing group and is not cancelling
    /// (either would have made one); a child that needs the signal makes it (the state then
    /// becomes `Group`), and the driver adopts it.
    Lazy,
    /// A group whose signal is in `SIGNAL`.
    Group,
}

/// The task of that group being polled: a nested group started there is filed under it.
/// A name the macros wrote (`&'static`) with its fan-out index, or a marker.
#[derive(Clone, Copy, Debug)]
struct Key {
    name: &'static str,
    index: usize,
}

/// Makes `key` the current task's key; returns the previous one.
#[inline]
fn replace_key(key: Key) -> Key {
    Key {
        name: KEY_NAME.replace(key.name),
        index: KEY_INDEX.replace(key.index),
    }
}

/// Restores a key that [`replace_key`] returned.
#[inline]
fn set_key(key: Key) {
    KEY_NAME.set(key.name);
    KEY_INDEX.set(key.index);
}

impl Key {
    /// No task: the driver itself.
    const NONE: Key = Key {
        name: "",
        index: Key::NO_INDEX,
    };
    /// The index of no task.
    const NO_INDEX: usize = usize::MAX;
    /// A name made at run time, in `DYNAMIC_KEY`.
    const DYNAMIC: Key = Key {
        name: "",
        index: usize::MAX - 1,
    };
    /// `index` for a name without one.
    const UNINDEXED: usize = usize::MAX - 2;

    fn name(self) -> Option<TaskName> {
        match self.index {
            _ if self.name.is_empty() => None,
            // A fan-out named, but none of its items polled (its iterator runs): the fan-out.
            Key::UNINDEXED | Key::NO_INDEX => Some(TaskName::new(self.name)),
            index => Some(TaskName::indexed(self.name, index)),
        }
    }
}

thread_local! {
    static STATE: Cell<State> = const { Cell::new(State::Outside) };
    static SIGNAL: Cell<Option<Arc<Signal>>> = const { Cell::new(None) };
    // The task's key, in two slots so that a fan-out item sets only its index. The hot paths
    // (a task, a fan-out and its items) mark it without restoring it afterwards, and need not:
    // it is read only by a group that starts inside a child's poll, every child's poll marks
    // its own key first, a nested group's driver restores the key it found when it returns
    // (`Frame`), and so does a spawned child's (`CarriedFrame`).
    static KEY_NAME: Cell<&'static str> = const { Cell::new(Key::NONE.name) };
    static KEY_INDEX: Cell<usize> = const { Cell::new(Key::NONE.index) };
    static DYNAMIC_KEY: Cell<Option<TaskName>> = const { Cell::new(None) };
    // The pass of the group being polled over its children, and the first pass of its settle
    // window (`u64::MAX`: none), for the children that a pass polls only when they woke (a
    // fan-out's items, a scope's tasks): see [`may_poll`].
    static PASS: Cell<u64> = const { Cell::new(0) };
    static SETTLE_FROM: Cell<u64> = const { Cell::new(u64::MAX) };
    // The scope task being polled, with its own cancellation (`TaskHandle::cancel`): moved in
    // by the task around each poll and moved back after. `cancelled()` heeds it only in that
    // task's own group, not in groups nested inside the task.
    static TASK: Cell<Option<Arc<TaskCtl>>> = const { Cell::new(None) };
    // Whether the scope being polled still starts the tasks spawned into it: `false` from the
    // instant it stops accepting tasks (a fail-fast failure, a panic, its deadline, a
    // cancellation), so that a task spawned earlier at that instant and not polled yet is
    // dropped unpolled. See `starting`.
    static STARTING: Cell<bool> = const { Cell::new(true) };
}

/// Polls a scope task with its cancellation in `slot` lent to the thread-local slot.
pub(crate) fn with_task<R>(slot: &mut Option<Arc<TaskCtl>>, poll: impl FnOnce() -> R) -> R {
    struct Lent<'a> {
        slot: &'a mut Option<Arc<TaskCtl>>,
        previous: Option<Arc<TaskCtl>>,
    }
    impl Drop for Lent<'_> {
        fn drop(&mut self) {
            *self.slot = TASK.replace(self.previous.take());
        }
    }
    let previous = TASK.replace(slot.take());
    let _lent = Lent { slot, previous };
    poll()
}

/// The cancellation of the scope task being polled, if the group being polled is its own.
fn task_ctl(signal: &Arc<Signal>) -> Option<Arc<TaskCtl>> {
    peek(&TASK).filter(|ctl| ctl.belongs_to(signal))
}

/// A fan-out or a scope polls the children that a pass polls only when they woke, in pass
/// `pass` of its group, whose settle window begins at `settle_from` (`u64::MAX`: none),
/// until the returned guard drops; then what a branch of an enclosing group set is back.
#[inline]
pub(crate) fn in_pass(pass: u64, settle_from: u64) -> PassGuard {
    PassGuard(PASS.replace(pass), SETTLE_FROM.replace(settle_from))
}

/// Drops a panic payload that is not resumed; if its own `Drop` panics, that second payload
/// is leaked rather than let loose.
pub(crate) fn forget_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        std::mem::forget(again);
    }
}

/// A scope polls its tasks, which may start while `starting` holds, until the guard drops;
/// then what an enclosing scope set is back. Updated with [`set_starting`] as the scope's
/// tasks settle.
#[inline]
pub(crate) fn in_scope_pass(starting: bool) -> StartingGuard {
    StartingGuard(STARTING.replace(starting))
}

/// The scope being polled starts new tasks (`true`) or no longer does.
#[inline]
pub(crate) fn set_starting(starting: bool) {
    STARTING.set(starting);
}

/// Whether a scope task polled now for the first time may start: the scope being polled has
/// not stopped accepting tasks since it was spawned. (Python cancels a task that has not had
/// its first step when its group aborts, and its body never runs.)
#[inline]
pub(crate) fn starting() -> bool {
    STARTING.get()
}

/// Restores what [`in_scope_pass`] replaced.
pub(crate) struct StartingGuard(bool);

impl Drop for StartingGuard {
    #[inline]
    fn drop(&mut self) {
        STARTING.set(self.0);
    }
}

/// Restores the passes that [`in_pass`] replaced.
pub(crate) struct PassGuard(u64, u64);

impl Drop for PassGuard {
    #[inline]
    fn drop(&mut self) {
        PASS.set(self.0);
        SETTLE_FROM.set(self.1);
    }
}

/// Whether a child that a pass polls only when it woke may be polled now, given `stamp`,
/// the pass it was last polled in; if so, the stamp becomes the current pass.
///
/// After the first failure (or the deadline, a winner, a cancellation from outside), the
/// group polls once more the children that were ready at that instant but not yet polled,
/// so that their errors are collected, and only those: a child polled in the pass that saw
/// the failure, or since, is not polled again before the cancellation lands (its settle
/// window), so that nothing runs past its next `.await` (Python cancels a task there).
#[inline]
pub(crate) fn may_poll(stamp: &mut u64) -> bool {
    if *stamp >= SETTLE_FROM.get() {
        return false;
    }
    *stamp = PASS.get();
    true
}

/// A group's driver is being polled: restores what was current before when dropped, even
/// on unwinding.
pub(crate) struct Frame {
    state: State,
    key: Key,
    /// The previous signal, if this frame replaced it.
    signal: Option<Option<Arc<Signal>>>,
}

/// Makes the group whose signal is `signal` (`None`: not made yet) the current one, until the
/// frame drops.
#[inline]
pub(crate) fn enter(signal: Option<&Arc<Signal>>) -> Frame {
    let key = replace_key(Key::NONE);
    match signal {
        Some(signal) => Frame {
            state: STATE.replace(State::Group),
            key,
            signal: Some(SIGNAL.replace(Some(signal.clone()))),
        },
        None => {
            let state = STATE.replace(State::Lazy);
            Frame {
                state,
                key,
                // A group without a signal is polled outside of any group: the signal slot
                // is empty, unless it was first polled elsewhere (then it keeps the slot).
                signal: (state == State::Group).then(|| SIGNAL.take()),
            }
        }
    }
}

impl Drop for Frame {
    #[inline(always)]
    fn drop(&mut self) {
        let made = STATE.replace(self.state) == State::Group;
        set_key(self.key);
        if made || self.signal.is_some() {
            // Out of line: a plain group (no signal, none made) drops its frame in a few
            // stores.
            restore_signal(self.signal.take(), made);
        }
    }
}

/// Puts back the signal a [`Frame`] replaced; or, if a child made the signal of this lazy
/// group, empties the slot again.
#[cold]
#[inline(never)]
fn restore_signal(previous: Option<Option<Arc<Signal>>>, made: bool) {
    match previous {
        Some(previous) => SIGNAL.set(previous),
        None if made => SIGNAL.set(None),
        None => {}
    }
}

/// The frame of a group without a signal polled where no group's signal is current: nothing
/// but the state and the key to put back. See [`enter_lazy`].
pub(crate) struct LazyFrame {
    state: State,
    key: Key,
}

/// Makes a group without a signal the current one, until the frame drops; `None` (nothing
/// changed) when a group's signal is current, which [`enter`] handles.
#[inline]
pub(crate) fn enter_lazy() -> Option<LazyFrame> {
    let state = STATE.get();
    if state == State::Group {
        return None;
    }
    STATE.set(State::Lazy);
    Some(LazyFrame {
        state,
        key: replace_key(Key::NONE),
    })
}

/// The frame of a fixed group's short path ([`Fixed`](crate::fixed::Fixed)), see
/// [`enter_fixed`].
pub(crate) struct FixedFrame(());

/// Makes a fixed group without a signal the current one, until the frame drops; `None`
/// (nothing changed) unless no group is being polled: in a task of another group the fixed
/// group takes the general path.
///
/// It only sets the state and the key's index ([`Key::NO_INDEX`], which the group's tasks
/// rely on, see [`in_fixed`]): the tasks mark their names, and the key is put back by nobody,
/// since where no group is being polled nobody reads it until a group's frame sets it again.
#[inline]
pub(crate) fn enter_fixed() -> Option<FixedFrame> {
    if STATE.get() != State::Outside {
        return None;
    }
    STATE.set(State::Lazy);
    KEY_INDEX.set(Key::NO_INDEX);
    Some(FixedFrame(()))
}

impl FixedFrame {
    /// Leaves the frame after a pass, unless a child made the group's signal during it: then
    /// the frame is handed back, still current, for the general driver to go on in.
    #[inline]
    pub(crate) fn leave(self) -> Result<(), FixedFrame> {
        if STATE.get() == State::Group {
            return Err(self);
        }
        std::mem::forget(self);
        STATE.set(State::Outside);
        Ok(())
    }
}

impl Drop for FixedFrame {
    #[inline]
    fn drop(&mut self) {
        if STATE.replace(State::Outside) == State::Group {
            // A child made the group's signal: the slot is emptied again, out of line.
            restore_signal(None, true);
        }
    }
}

impl Drop for LazyFrame {
    #[inline(always)]
    fn drop(&mut self) {
        let made = STATE.replace(self.state) == State::Group;
        set_key(self.key);
        if made {
            // A child made the group's signal: the slot is emptied again, out of line.
            restore_signal(None, true);
        }
    }
}

/// A spawned child is being polled on a worker: its group's signal is lent to the
/// thread-local slot for the poll (moved, not cloned, so that two workers polling children
/// of one group do not contend on its reference count), and moved back when the frame drops,
/// even on unwinding.
pub(crate) struct CarriedFrame<'a> {
    slot: &'a mut Option<Arc<Signal>>,
    state: State,
    key: Key,
    previous: Option<Arc<Signal>>,
}

/// Makes the group whose signal `slot` holds the current one, until the frame drops.
#[inline]
pub(crate) fn enter_carried(slot: &mut Option<Arc<Signal>>) -> CarriedFrame<'_> {
    let key = replace_key(Key::NONE);
    let state = STATE.replace(State::Group);
    let previous = SIGNAL.replace(slot.take());
    CarriedFrame {
        slot,
        state,
        key,
        previous,
    }
}

impl Drop for CarriedFrame<'_> {
    #[inline]
    fn drop(&mut self) {
        STATE.set(self.state);
        set_key(self.key);
        *self.slot = SIGNAL.replace(self.previous.take());
    }
}

/// A child of the current group is being polled: restores the previous task when dropped.
pub(crate) struct TaskFrame(Key);

impl Drop for TaskFrame {
    #[inline]
    fn drop(&mut self) {
        set_key(self.0);
    }
}

/// Marks item `index` of the fan-out named by [`in_fan_out`] as the child being polled.
#[inline]
pub(crate) fn in_index(index: usize) {
    KEY_INDEX.set(index);
}

/// The fan-out `name` is being polled: its items mark only their index ([`in_index`]).
#[inline]
pub(crate) fn in_fan_out(name: &'static str) {
    KEY_NAME.set(name);
}

/// Marks the task `name` (no fan-out item) as the child of the current group being polled.
#[inline]
pub(crate) fn in_named(name: &'static str) {
    set_key(Key {
        name,
        index: Key::UNINDEXED,
    });
}

/// Marks the task `name` as the child being polled, in a fixed group's short pass
/// ([`enter_fixed`]): only the name changes, the index stays [`Key::NO_INDEX`] from the
/// frame, since nothing else polled in such a pass leaves an index behind (a group polled
/// inside a task restores the key it found).
#[inline]
pub(crate) fn in_fixed(name: &'static str) {
    KEY_NAME.set(name);
}

/// Runs `poll` with `task` marked as the child of the current group being polled.
#[inline]
pub(crate) fn in_task<R>(task: &TaskName, poll: impl FnOnce() -> R) -> R {
    match task.as_static() {
        Some((name, index)) => {
            let _frame = TaskFrame(replace_key(Key {
                name,
                index: index.unwrap_or(Key::UNINDEXED),
            }));
            poll()
        }
        None => in_dynamic_task(task, poll),
    }
}

#[cold]
fn in_dynamic_task<R>(task: &TaskName, poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<TaskName>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DYNAMIC_KEY.set(self.0.take());
        }
    }
    let _frame = TaskFrame(replace_key(Key::DYNAMIC));
    let _restore = Restore(DYNAMIC_KEY.replace(Some(task.clone())));
    poll()
}

/// The signal of the group being polled, made now if it has none yet.
pub(crate) fn current_signal() -> Option<Arc<Signal>> {
    match STATE.get() {
        State::Outside => None,
        State::Lazy => {
            let signal = Signal::root();
            SIGNAL.set(Some(signal.clone()));
            STATE.set(State::Group);
            Some(signal)
        }
        State::Group => made_signal(),
    }
}

/// The signal of the group being polled, if it has one.
#[inline]
pub(crate) fn made_signal() -> Option<Arc<Signal>> {
    if STATE.get() != State::Group {
        return None;
    }
    peek(&SIGNAL)
}

/// Whether the group being polled has a signal: one of its own, or one a child made for it.
#[inline]
pub(crate) fn has_signal() -> bool {
    STATE.get() == State::Group
}

/// Whether some group is being polled (a group that starts now is nested in it).
#[inline]
pub(crate) fn in_group() -> bool {
    STATE.get() != State::Outside
}

/// A copy of what a thread-local slot holds, left in place.
fn peek<T: Clone>(slot: &'static LocalKey<Cell<Option<T>>>) -> Option<T> {
    let value = slot.take();
    let copy = value.clone();
    slot.set(value);
    copy
}

/// The signal of a group that starts here: nested in the enclosing group, if any.
pub(crate) fn signal_here() -> Arc<Signal> {
    match enclosing() {
        Some((parent, key)) => Signal::nested(parent, key),
        None => Signal::root(),
    }
}

/// For a group that starts now: the enclosing group's signal and the task it runs in.
pub(crate) fn enclosing() -> Option<(Arc<Signal>, TaskName)> {
    let parent = current_signal()?;
    let key = current_task().unwrap_or(TaskName::new("task"));
    Some((parent, key))
}

/// The child of the current group being polled, if it is known.
fn current_task() -> Option<TaskName> {
    let key = Key {
        name: KEY_NAME.get(),
        index: KEY_INDEX.get(),
    };
    if key.name.is_empty() && key.index == Key::DYNAMIC.index {
        peek(&DYNAMIC_KEY)
    } else {
        key.name()
    }
}

/// The child being polled was told that its group is cancelling: if the grace period runs
/// out before it finishes, it is reported.
#[cold]
fn told(signal: &Signal) {
    if let Some(task) = current_task() {
        signal.told(task);
    }
}

/// Waits until the enclosing group begins cancelling, and tells why.
///
/// In a task spawned into a [`Scope`](crate::Scope), it also resolves when that task alone is
/// cancelled through its [`TaskHandle::cancel`](crate::TaskHandle::cancel), with
/// [`CancelReason::Handle`].
///
/// A task whose `cancelled()` resolved was told to cancel: if the group's grace period runs
/// out before the task finishes, the group fails with a [`GraceElapsed`](crate::GraceElapsed)
/// leaf under its name, so that a cleanup cut short is never silent. A task that never looked
/// at cancellation and is dropped is a plain cancellation, not an error.
///
/// This is taskgroup's `except asyncio.CancelledError:` block: a child that wants to clean up
/// asynchronously when its group is cancelled races its work against `cancelled()`. The group
/// gives such children its `grace` period (see the `grace` option) before it drops them; without
/// a grace period children are dropped at once and never observe the signal.
///
/// Outside of any group the future never resolves.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
///
/// async fn sensor(log: &std::sync::Mutex<Vec<String>>) -> Result<(), std::io::Error> {
///     tokio::select! {
///         _ = tokio::time::sleep(Duration::from_secs(2)) => Ok(()),
///         why = taskgroup::cancelled() => {
///             log.lock().unwrap().push(format!("cleanup after: {why}"));
///             Ok(())
///         }
///     }
/// }
///
/// let log = std::sync::Mutex::new(Vec::new());
/// let result = taskgroup::Group::new()
///     .grace(Duration::from_millis(100))
///     .scope(async |s| {
///         s.spawn(sensor(&log));
///         s.spawn(async {
///             tokio::time::sleep(Duration::from_millis(500)).await;
///             Err::<(), _>(std::io::Error::other("sensor B failed"))
///         });
///         Ok::<_, std::io::Error>(())
///     })
///     .await;
/// assert!(result.is_err());
/// assert_eq!(log.lock().unwrap()[0], "cleanup after: a sibling task failed");
/// # }
/// ```
pub async fn cancelled() -> CancelReason {
    let Some(signal) = current_signal() else {
        return std::future::pending().await;
    };
    let group = signal.token().cancelled_owned();
    if let Some(task) = task_ctl(&signal) {
        // A scope task: its own cancellation (`TaskHandle::cancel`) or its group's.
        let own = task.cancelled();
        let mut group = std::pin::pin!(group);
        let mut own = std::pin::pin!(own);
        let by_handle = std::future::poll_fn(|cx| {
            if group.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(false);
            }
            own.as_mut().poll(cx).map(|()| true)
        })
        .await;
        if by_handle {
            return CancelReason::Handle;
        }
    } else {
        group.await;
    }
    told(&signal);
    signal.reason()
}

/// Whether the enclosing group has begun cancelling. `false` outside of any group. In a task
/// spawned into a [`Scope`](crate::Scope), also whether that task alone was cancelled through
/// its [`TaskHandle::cancel`](crate::TaskHandle::cancel).
///
/// A task that sees `true` here (or whose [`cancelled`] resolved) was told to cancel: if the
/// group's grace period runs out before it finishes, the group fails with a
/// [`GraceElapsed`](crate::GraceElapsed) leaf under its name.
pub fn is_cancelled() -> bool {
    // A group without a signal is not cancelling.
    made_signal().is_some_and(|signal| {
        let cancelling = signal.is_cancelling();
        if cancelling {
            told(&signal);
            return true;
        }
        // A scope task cancelled through its handle.
        task_ctl(&signal).is_some_and(|task| task.check())
    })
}
