//! Cooperative cancellation: how a child learns that its group is cancelling, and why.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::LocalKey;

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::error_group::{BoxError, Member, TaskName};

/// Why a group began cancelling its children.
///
/// Returned by [`cancelled`] so that a child's cleanup can tell a deadline from a sibling's
/// failure (the cancellation *cause* that `tokio::task::JoinSet` users ask for).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// A sibling task returned an error (fail-fast).
    SiblingFailed,
    /// A sibling task panicked.
    SiblingPanicked,
    /// In first-success mode, a sibling task succeeded: the others are no longer needed.
    SiblingSucceeded,
    /// The group's `timeout` elapsed.
    Deadline,
    /// The group was ended on purpose with [`Scope::cancel`](crate::Scope::cancel).
    Cancelled,
    /// The enclosing group is cancelling, or the group's own future was dropped.
    Parent,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::SiblingFailed => "a sibling task failed",
            CancelReason::SiblingPanicked => "a sibling task panicked",
            CancelReason::SiblingSucceeded => "a sibling task succeeded first",
            CancelReason::Deadline => "the group's deadline elapsed",
            CancelReason::Cancelled => "the group was cancelled",
            CancelReason::Parent => "the enclosing group was cancelled or dropped",
        })
    }
}

impl CancelReason {
    /// The reason as a non-zero byte, for [`Signal`]'s state (0 is "running").
    const fn code(self) -> u8 {
        match self {
            CancelReason::SiblingFailed => 1,
            CancelReason::SiblingPanicked => 2,
            CancelReason::SiblingSucceeded => 3,
            CancelReason::Deadline => 4,
            CancelReason::Cancelled => 5,
            CancelReason::Parent => 6,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => CancelReason::SiblingFailed,
            2 => CancelReason::SiblingPanicked,
            3 => CancelReason::SiblingSucceeded,
            4 => CancelReason::Deadline,
            5 => CancelReason::Cancelled,
            6 => CancelReason::Parent,
            _ => return None,
        })
    }
}

/// The part of a group that its children and nested groups can see: whether it is cancelling
/// and why, the way to wait for that, and its inbox for what dropped nested groups hand up.
///
/// A group makes one only when something needs it (see [`Current`]): a fixed group of
/// in-place tasks that never cancels and has no nested group allocates none.
pub(crate) struct Signal {
    /// 0 while the group runs; then the [`CancelReason::code`] of the first reason given.
    state: AtomicU8,
    /// The signal of the enclosing group, for a nested group: its cancellation reaches this
    /// one, and this one's errors go there if it is dropped before it ends.
    parent: Option<Arc<Signal>>,
    /// The task of the enclosing group that this group runs in: where what it hands up is
    /// filed.
    key: TaskName,
    /// Whether `slow.mail` may hold something: read without the lock on every poll.
    has_mail: AtomicBool,
    slow: Mutex<Slow>,
}

/// The parts of a [`Signal`] that only slow paths touch.
#[derive(Default)]
struct Slow {
    /// Made on demand, for children awaiting [`cancelled`] and for nested groups that must
    /// wake when this group cancels.
    token: Option<CancellationToken>,
    /// What nested groups handed up, not yet filed by this group's driver.
    mail: Vec<Mail>,
    /// Set when this group was dropped before it ended: mail is then passed on to the
    /// enclosing group, inside a nested group with this message.
    forward: Option<Cow<'static, str>>,
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("cancelling", &self.is_cancelling())
            .field("nested", &self.parent.is_some())
            .finish_non_exhaustive()
    }
}

impl Signal {
    fn with_parent(parent: Option<Arc<Signal>>, key: TaskName) -> Arc<Self> {
        Arc::new(Signal {
            state: AtomicU8::new(0),
            parent,
            key,
            has_mail: AtomicBool::new(false),
            slow: Mutex::new(Slow::default()),
        })
    }

    /// The signal of a group that no other group encloses.
    pub(crate) fn root() -> Arc<Self> {
        Signal::with_parent(None, TaskName::new("task"))
    }

    /// The signal of a group that runs in task `key` of the group whose signal is `parent`.
    pub(crate) fn nested(parent: Arc<Signal>, key: TaskName) -> Arc<Self> {
        Signal::with_parent(Some(parent), key)
    }

    /// The signal of a group that starts here: nested in the enclosing group, if any.
    pub(crate) fn here() -> Arc<Self> {
        match enclosing() {
            Some((parent, key)) => Signal::nested(parent, key),
            None => Signal::root(),
        }
    }

    fn slow(&self) -> MutexGuard<'_, Slow> {
        // No user code runs while the lock is held.
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts cancelling for `reason`; the first reason given stands.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let _ = self
            .state
            .compare_exchange(0, reason.code(), Ordering::AcqRel, Ordering::Acquire);
        // Under the lock, so that a token made at the same time sees the state (`token`).
        if let Some(token) = &self.slow().token {
            token.cancel();
        }
    }

    /// Whether this group or an enclosing one has begun cancelling: lock-free.
    pub(crate) fn is_cancelling(&self) -> bool {
        let mut signal = self;
        loop {
            if signal.state.load(Ordering::Acquire) != 0 {
                return true;
            }
            match &signal.parent {
                Some(parent) => signal = parent,
                None => return false,
            }
        }
    }

    pub(crate) fn reason(&self) -> CancelReason {
        // Cancelling without a reason of its own: an enclosing group is cancelling.
        CancelReason::from_code(self.state.load(Ordering::Acquire)).unwrap_or(CancelReason::Parent)
    }

    /// A token cancelled when this group or an enclosing one begins cancelling.
    pub(crate) fn token(&self) -> CancellationToken {
        let mut slow = self.slow();
        if let Some(token) = &slow.token {
            return token.clone();
        }
        let token = match &self.parent {
            Some(parent) => parent.token().child_token(),
            None => CancellationToken::new(),
        };
        if self.state.load(Ordering::Acquire) != 0 {
            token.cancel();
        }
        slow.token = Some(token.clone());
        token
    }

    /// For a nested group: a future that wakes its driver when an enclosing group cancels
    /// (nothing else would, when the group's task is not polled by that group, or is polled
    /// by a combinator that polls only what woke).
    pub(crate) fn watch(&self) -> Option<WaitForCancellationFutureOwned> {
        self.parent
            .as_ref()
            .map(|parent| parent.token().cancelled_owned())
    }

    /// Hands `mail` to this group, or, if it was dropped, on to the groups above it.
    pub(crate) fn post(&self, mut mail: Mail) {
        let mut signal = self;
        loop {
            let mut slow = signal.slow();
            let Some(message) = slow.forward.clone() else {
                slow.mail.push(mail);
                signal.has_mail.store(true, Ordering::Release);
                return;
            };
            drop(slow);
            mail.path.insert(
                0,
                Hop {
                    task: signal.key.clone(),
                    message,
                },
            );
            match &signal.parent {
                Some(parent) => signal = parent,
                // A group that no other group encloses was dropped: its caller dropped
                // what it would have returned, this with it.
                None => return,
            }
        }
    }

    /// What was handed to this group since the last call.
    /// Whether something was handed to this group and not taken yet.
    #[inline]
    pub(crate) fn has_mail(&self) -> bool {
        self.has_mail.load(Ordering::Acquire)
    }

    pub(crate) fn take_mail(&self) -> Vec<Mail> {
        if !self.has_mail.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut slow = self.slow();
        self.has_mail.store(false, Ordering::Relaxed);
        std::mem::take(&mut slow.mail)
    }

    /// The group was dropped before it ended: from now on what is handed to it goes to the
    /// enclosing group, under its task, inside a nested group with `message`.
    pub(crate) fn forward(&self, message: Cow<'static, str>) {
        let left = {
            let mut slow = self.slow();
            slow.forward = Some(message);
            self.has_mail.store(false, Ordering::Relaxed);
            std::mem::take(&mut slow.mail)
        };
        for mail in left {
            self.post(mail);
        }
    }
}

/// Where a [`Mail`] goes inside the group that files it: under `task`, in the nested group
/// with `message` (created if it is not there yet).
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) task: TaskName,
    pub(crate) message: Cow<'static, str>,
}

/// What a nested group dropped before it ended hands up, so that nothing it collected is lost
/// and none of its spawned tasks outlives the root.
pub(crate) struct Mail {
    /// The nested groups between the group that files it and the one it comes from,
    /// outermost first.
    pub(crate) path: Vec<Hop>,
    pub(crate) content: Content,
}

pub(crate) enum Content {
    /// Errors it collected.
    Errors(Vec<Member>),
    /// A panic it caught and had not resumed yet.
    Panic(Box<dyn Any + Send>),
    /// One of its spawned tasks, aborted, which the group filing it joins before it ends.
    Orphan(TaskName, Orphan),
}

/// A spawned task whose group was dropped, aborted: resolves when it is gone, to its error
/// (it may have finished before the abort), nothing, or its panic.
pub(crate) type Orphan =
    Pin<Box<dyn Future<Output = Result<Option<BoxError>, Box<dyn Any + Send>>> + Send>>;

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
        match self.signal.take() {
            Some(previous) => SIGNAL.set(previous),
            // A child made the signal of this lazy group: the slot is emptied again.
            None if made => SIGNAL.set(None),
            None => {}
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

/// For a group that starts now: the enclosing group's signal and the task it runs in.
pub(crate) fn enclosing() -> Option<(Arc<Signal>, TaskName)> {
    let parent = current_signal()?;
    let key = Key {
        name: KEY_NAME.get(),
        index: KEY_INDEX.get(),
    };
    let key = if key.name.is_empty() && key.index == Key::DYNAMIC.index {
        peek(&DYNAMIC_KEY)
    } else {
        key.name()
    };
    let key = key.unwrap_or(TaskName::new("task"));
    Some((parent, key))
}

/// Waits until the enclosing group begins cancelling, and tells why.
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
///         why = taskgroup_runtime::cancelled() => {
///             log.lock().unwrap().push(format!("cleanup after: {why}"));
///             Ok(())
///         }
///     }
/// }
///
/// let log = std::sync::Mutex::new(Vec::new());
/// let result = taskgroup_runtime::Group::new()
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
    match current_signal() {
        Some(signal) => {
            signal.token().cancelled_owned().await;
            signal.reason()
        }
        None => std::future::pending().await,
    }
}

/// Whether the enclosing group has begun cancelling. `false` outside of any group.
pub fn is_cancelled() -> bool {
    // A group without a signal is not cancelling.
    made_signal().is_some_and(|signal| signal.is_cancelling())
}

/// A group was cancelled from outside (by [`Scope::cancel`](crate::Scope::cancel) or by its
/// enclosing group) before every task could finish, and no task failed.
///
/// It arrives as the only leaf of the group's [`ErrorGroup`](crate::ErrorGroup), under the
/// task name `cancelled`, because the group has no values to bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled {
    reason: CancelReason,
}

impl Cancelled {
    pub(crate) const fn new(reason: CancelReason) -> Self {
        Cancelled { reason }
    }

    /// Why the group was cancelled.
    pub const fn reason(&self) -> CancelReason {
        self.reason
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled: {}", self.reason)
    }
}

impl std::error::Error for Cancelled {}

#[cfg(test)]
mod tests {
    //! The signal's two cross-thread protocols, raced on real threads: a token made while the
    //! group cancels is cancelled, and no handed-up mail is lost or filed twice, even when the
    //! group is dropped (and starts forwarding) while mail arrives.

    use super::*;

    fn mail(n: usize) -> Mail {
        Mail {
            path: Vec::new(),
            content: Content::Errors(vec![Member::Leaf {
                task: TaskName::indexed("m", n),
                error: format!("mail {n}").into(),
            }]),
        }
    }

    fn indices(mails: Vec<Mail>) -> Vec<usize> {
        mails
            .into_iter()
            .flat_map(|mail| match mail.content {
                Content::Errors(members) => members,
                _ => Vec::new(),
            })
            .filter_map(|member| member.task().index())
            .collect()
    }

    #[test]
    fn a_token_made_while_the_group_cancels_is_cancelled() {
        for _ in 0..2_000 {
            let parent = Signal::root();
            let child = Signal::nested(parent.clone(), TaskName::new("t"));
            let (cancelled, token) = std::thread::scope(|s| {
                let cancel = s.spawn(|| parent.cancel(CancelReason::SiblingFailed));
                let token = s.spawn(|| child.token());
                cancel.join().unwrap();
                (parent.is_cancelling(), token.join().unwrap())
            });
            assert!(cancelled);
            assert!(
                token.is_cancelled(),
                "a token missed its group's cancellation"
            );
            assert!(child.is_cancelling());
            assert_eq!(child.reason(), CancelReason::Parent);
        }
    }

    #[test]
    fn mail_posted_from_other_threads_arrives_exactly_once() {
        const SENDERS: usize = 4;
        const EACH: usize = 500;
        let signal = Signal::root();
        let mut received = Vec::new();
        std::thread::scope(|s| {
            for sender in 0..SENDERS {
                let signal = &signal;
                s.spawn(move || {
                    for n in 0..EACH {
                        signal.post(mail(sender * EACH + n));
                    }
                });
            }
            while received.len() < SENDERS * EACH {
                received.extend(indices(signal.take_mail()));
                std::hint::spin_loop();
            }
        });
        received.extend(indices(signal.take_mail()));
        received.sort_unstable();
        assert_eq!(received, (0..SENDERS * EACH).collect::<Vec<_>>());
    }

    #[test]
    fn mail_racing_a_drop_is_forwarded_exactly_once() {
        for _ in 0..200 {
            let parent = Signal::root();
            let child = Signal::nested(parent.clone(), TaskName::new("inner"));
            std::thread::scope(|s| {
                let child = &child;
                s.spawn(move || {
                    for n in 0..50 {
                        child.post(mail(n));
                    }
                });
                s.spawn(move || child.forward("inner failed".into()));
            });
            let mut received = indices(parent.take_mail());
            received.sort_unstable();
            // Whatever the child had not filed before it was dropped reached the parent.
            let mut left = indices(child.take_mail());
            assert!(
                left.is_empty(),
                "mail stranded in a dropped group: {left:?}"
            );
            left.extend(received);
            assert_eq!(left, (0..50).collect::<Vec<_>>());
        }
    }
}
