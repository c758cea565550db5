//! The signal: the part of a group that its children and nested groups see from other
//! tasks and threads. Whether the group is cancelling and why, a token to wait for that, and
//! an inbox for what nested groups dropped before they ended hand up.
//!
//! # Invariants
//!
//! - **The first reason stands.** `state` goes from 0 (running) to a reason's code once, by
//!   compare-and-swap; a later `cancel` changes nothing but cancels the token again, which is
//!   idempotent.
//! - **A token sees the state.** `cancel` cancels the token under the cell's lock after the
//!   state is stored; `token` makes a token under the same lock and cancels it if the state is
//!   already set. So a token made while the group cancels is cancelled, whichever comes first.
//!   A nested group's token is a child token of its parent's, so cancellation cascades down.
//!   (This and the inbox's protocol are [`handoff`](crate::handoff)'s cells, which loom
//!   checks in every interleaving.)
//! - **Cancellation is seen in constant time.** A group is cancelling when its own state or an
//!   enclosing group's is set. `cancel` sets the state, cancels the token, then bumps the
//!   process-wide `CANCELS` count; `is_cancelling` looks above only if a cancellation happened
//!   anywhere since this signal last found none (`checked`), so that a deep group that is not
//!   cancelling pays one atomic read. It then asks the parent's token, which the cancellation
//!   of any group above has cancelled before the count moved (a nested group's driver holds
//!   it from its first poll), and walks the enclosing groups only before that. The count is
//!   read before the check and stored after it: a cancellation that lands meanwhile bumps the
//!   count past what is stored, and the next call looks again.
//! - **Mail is filed once.** `post` pushes under the lock and then sets `has_mail`;
//!   `take_mail` clears `has_mail` and takes the list under the lock. `has_mail` is only a
//!   lock-free hint: a stale `false` delays mail to the next poll (the poster's wake-up comes
//!   after), a stale `true` costs one lock.
//! - **Mail is handed on, not stranded.** `forward` (the group was dropped) sets `forward`
//!   and takes what was left under one lock, then posts it upward; a `post` that takes the
//!   lock afterwards sees `forward` and passes its mail on to the enclosing group, with this
//!   group's place prefixed to its path. A root that was dropped drops the mail: its caller
//!   dropped what it would have returned.
//!
//! # Deadlock safety
//!
//! No user code runs while a lock is held, and no lock is held while another signal's is
//! taken: `post` releases a group's inbox before it moves to the parent, and `token` takes
//! the parent's token lock (for its child token) only while holding the child's, never the
//! reverse.
//! RELIABILITY.md enumerates the interleavings.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::cancel::CancelReason;
use crate::error_group::{BoxError, Member, TaskName};
use crate::handoff::{CancelCell, Inbox};

/// How many groups began cancelling, in the whole process: while it does not move, a group
/// that found no enclosing group cancelling need not look again.
static CANCELS: AtomicU64 = AtomicU64::new(0);

/// The part of a group that its children and nested groups can see: whether it is cancelling
/// and why, the way to wait for that, and its inbox for what dropped nested groups hand up.
///
/// A group makes one only when something needs it (see [`Current`]): a fixed group of
/// in-place tasks that never cancels and has no nested group allocates none.
pub(crate) struct Signal {
    /// 0 while the group runs, then the [`CancelReason::code`] of the first reason given;
    /// and the token made on demand, for children awaiting [`cancelled`] and for nested
    /// groups that must wake when this group cancels.
    cancel: CancelCell<CancellationToken>,
    /// The signal of the enclosing group, for a nested group: its cancellation reaches this
    /// one, and this one's errors go there if it is dropped before it ends.
    parent: Option<Arc<Signal>>,
    /// The task of the enclosing group that this group runs in: where what it hands up is
    /// filed.
    key: TaskName,
    /// What nested groups handed up, not yet filed by this group's driver; once the group
    /// was dropped before it ended, mail goes on to the enclosing group, inside a nested
    /// group with the inbox's forward message.
    inbox: Inbox<Mail>,
    /// The value of `CANCELS` when this signal last found no enclosing group cancelling
    /// (`u64::MAX`: never).
    checked: AtomicU64,
    /// The parent's token, once this group watches it: cancelled when the parent or a group
    /// above it cancels, so that the check needs no walk up the enclosing groups.
    parent_token: OnceLock<CancellationToken>,
    /// The children that were told the group is cancelling (their `cancelled()` resolved, or
    /// their `is_cancelled()` returned `true`): dropped when the grace runs out, they are
    /// reported.
    told: Mutex<HashSet<TaskName>>,
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
            cancel: CancelCell::new(),
            parent,
            key,
            inbox: Inbox::new(),
            checked: AtomicU64::new(u64::MAX),
            parent_token: OnceLock::new(),
            told: Mutex::new(HashSet::new()),
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

    fn told_set(&self) -> MutexGuard<'_, HashSet<TaskName>> {
        // No user code runs while the lock is held.
        self.told.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts cancelling for `reason`; the first reason given stands.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        if self.cancel.cancel(reason.code()) {
            // After the state and the token: a check that reads the new count sees both.
            CANCELS.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether this group or an enclosing one has begun cancelling: lock-free, and in
    /// constant time unless a cancellation happened somewhere since the last call.
    #[inline]
    pub(crate) fn is_cancelling(&self) -> bool {
        if self.cancel.state() != 0 {
            return true;
        }
        if self.parent.is_none() {
            return false;
        }
        let cancels = CANCELS.load(Ordering::Acquire);
        if self.checked.load(Ordering::Acquire) == cancels {
            return false;
        }
        self.walk(cancels)
    }

    /// The enclosing groups, checked through the parent's token if this group's driver made
    /// it (`watch`: every nested group's does at its first poll), one by one otherwise;
    /// `cancels` was read before.
    #[cold]
    fn walk(&self, cancels: u64) -> bool {
        if let Some(token) = self.parent_token.get() {
            let cancelling = token.is_cancelled();
            if !cancelling {
                self.checked.store(cancels, Ordering::Release);
            }
            return cancelling;
        }
        let mut signal = self;
        loop {
            #[cfg(test)]
            tests::HOPS.with(|hops| hops.set(hops.get() + 1));
            if signal.cancel.state() != 0 {
                return true;
            }
            match &signal.parent {
                Some(parent) => signal = parent,
                None => break,
            }
        }
        self.checked.store(cancels, Ordering::Release);
        false
    }

    pub(crate) fn reason(&self) -> CancelReason {
        // Cancelling without a reason of its own: an enclosing group is cancelling.
        CancelReason::from_code(self.cancel.state()).unwrap_or(CancelReason::Parent)
    }

    /// A token cancelled when this group or an enclosing one begins cancelling.
    pub(crate) fn token(&self) -> CancellationToken {
        self.cancel
            .token(|| self.parent.as_ref().map(|parent| parent.token()))
    }

    /// For a nested group: a future that wakes its driver when an enclosing group cancels
    /// (nothing else would, when the group's task is not polled by that group, or is polled
    /// by a combinator that polls only what woke).
    pub(crate) fn watch(&self) -> Option<WaitForCancellationFutureOwned> {
        let token = self.parent.as_ref()?.token();
        let _ = self.parent_token.set(token.clone());
        Some(token.cancelled_owned())
    }

    /// Hands `mail` to this group, or, if it was dropped, on to the groups above it.
    pub(crate) fn post(&self, mut mail: Mail) {
        let mut signal = self;
        loop {
            let message;
            (mail, message) = match signal.inbox.post(mail) {
                Ok(()) => return,
                Err(back) => back,
            };
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

    /// `task` was told that the group is cancelling.
    pub(crate) fn told(&self, task: TaskName) {
        self.told_set().insert(task);
    }

    /// Whether `task` was told that the group is cancelling.
    pub(crate) fn was_told(&self, task: &TaskName) -> bool {
        self.told_set().contains(task)
    }

    /// Whether something was handed to this group and not taken yet.
    #[inline]
    pub(crate) fn has_mail(&self) -> bool {
        self.inbox.has_mail()
    }

    /// What was handed to this group since the last call.
    pub(crate) fn take_mail(&self) -> Vec<Mail> {
        self.inbox.take()
    }

    /// The group was dropped before it ended: hands `own`, what it collected, to the
    /// enclosing group, under its task, inside a nested group with `message`; then what was
    /// handed to it and not filed yet (which came after its own: the driver files its inbox
    /// at every poll); and from now on what is handed to it goes there too. So the enclosing
    /// group receives it all in the order it happened.
    pub(crate) fn hand_up(&self, message: Cow<'static, str>, own: Vec<Mail>) {
        if let Some(parent) = &self.parent {
            for mut mail in own {
                mail.path.insert(
                    0,
                    Hop {
                        task: self.key.clone(),
                        message: message.clone(),
                    },
                );
                parent.post(mail);
            }
        }
        // A group that no other group encloses was dropped: its caller dropped what it
        // would have returned, this with it.
        for mail in self.inbox.forward(message) {
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

#[cfg(test)]
mod tests {
    //! The signal's two cross-thread protocols, raced on real threads: a token made while the
    //! group cancels is cancelled, and no handed-up mail is lost or filed twice, even when the
    //! group is dropped (and starts forwarding) while mail arrives.

    use super::*;

    thread_local! {
        /// How many signals `is_cancelling` looked at on this thread.
        pub(super) static HOPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn chain(depth: usize) -> Vec<Arc<Signal>> {
        let mut chain = vec![Signal::root()];
        for _ in 1..depth {
            let parent = chain.last().unwrap().clone();
            chain.push(Signal::nested(parent, TaskName::new("t")));
        }
        chain
    }

    #[test]
    fn a_deep_group_that_is_not_cancelling_checks_in_constant_time() {
        let chain = chain(5_000);
        let deepest = chain.last().unwrap();
        HOPS.with(|hops| hops.set(0));
        let before = CANCELS.load(Ordering::Acquire);
        for _ in 0..10_000 {
            assert!(!deepest.is_cancelling());
        }
        // One walk up the 5,000 levels, then none, not 50 million hops; a cancellation on
        // another test's thread can cost one walk more each.
        let cancels = CANCELS.load(Ordering::Acquire) - before;
        let hops = HOPS.with(std::cell::Cell::get);
        assert!(
            hops <= 5_000 * (1 + cancels as usize),
            "{hops} hops, {cancels} cancellations"
        );
        // A cancellation anywhere makes the next check look again, and find it.
        chain[0].cancel(CancelReason::Cancelled);
        assert!(deepest.is_cancelling());
        assert!(chain[2_500].is_cancelling());
        assert_eq!(deepest.reason(), CancelReason::Parent);
    }

    #[test]
    fn with_the_parent_token_a_check_after_cancellations_elsewhere_walks_nothing() {
        let chain = chain(5_000);
        for signal in &chain[1..] {
            let _watch = signal.watch();
        }
        let deepest = chain.last().unwrap();
        let other = Signal::root();
        HOPS.with(|hops| hops.set(0));
        for _ in 0..1_000 {
            other.cancel(CancelReason::Cancelled);
            assert!(!deepest.is_cancelling());
            // A group that fails in a chain that unwinds: each level cancels in turn.
            let sibling = Signal::root();
            sibling.cancel(CancelReason::SiblingFailed);
        }
        assert_eq!(HOPS.with(std::cell::Cell::get), 0);
        chain[10].cancel(CancelReason::Deadline);
        assert!(deepest.is_cancelling());
        assert!(!chain[9].is_cancelling());
    }

    #[test]
    fn a_cancellation_elsewhere_does_not_make_a_group_cancelling() {
        let chain = chain(10);
        let other = Signal::root();
        assert!(!chain[9].is_cancelling());
        other.cancel(CancelReason::Cancelled);
        assert!(!chain[9].is_cancelling());
        chain[3].cancel(CancelReason::Deadline);
        assert!(chain[9].is_cancelling());
        assert!(!chain[2].is_cancelling());
    }

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
    fn a_dropped_group_hands_up_what_it_collected_before_the_mail_it_had_not_filed() {
        let parent = Signal::root();
        let child = Signal::nested(parent.clone(), TaskName::new("inner"));
        // Handed to the child after its last poll: not filed there.
        child.post(mail(1));
        child.hand_up("inner failed".into(), vec![mail(0)]);
        let received = parent.take_mail();
        assert!(received.iter().all(|mail| mail.path.len() == 1));
        assert_eq!(indices(received), [0, 1]);
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
                s.spawn(move || child.hand_up("inner failed".into(), Vec::new()));
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
