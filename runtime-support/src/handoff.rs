//! The two cross-thread protocols of a group's [`Signal`](crate::signal::Signal), each in a
//! cell of its own, written against `std::sync` or, under `--cfg taskgroup_loom`, against
//! loom's model of it, so that loom can check them in every interleaving (the `loom` tests at
//! the end of this file; `cargo test` does not build them).
//!
//! - [`CancelCell`]: the first reason stands, and a token made while the group cancels is
//!   cancelled, whichever comes first.
//! - [`Inbox`]: mail posted from any thread is taken exactly once, and mail posted while the
//!   group is dropped (and starts forwarding) lands in exactly one place: this inbox before
//!   the drop, or back with its poster, to go on to the enclosing group.
//!
//! The cells know nothing of tasks or errors: the token type and the mail type are
//! parameters, so that the model runs them with stand-ins.

use std::borrow::Cow;

#[cfg(taskgroup_loom)]
use loom::sync::atomic::{AtomicBool, AtomicU8, Ordering};
#[cfg(taskgroup_loom)]
use loom::sync::{Mutex, MutexGuard};
#[cfg(not(taskgroup_loom))]
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
#[cfg(not(taskgroup_loom))]
use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

/// What [`CancelCell`] needs of a cancellation token: `CancellationToken`'s tree.
pub(crate) trait Token: Clone {
    /// A token of its own.
    fn root() -> Self;
    /// A token cancelled when this one is (at once, if this one is already).
    fn child(&self) -> Self;
    /// Cancels this token and its children; idempotent.
    fn cancel(&self);
}

impl Token for CancellationToken {
    fn root() -> Self {
        CancellationToken::new()
    }

    fn child(&self) -> Self {
        self.child_token()
    }

    fn cancel(&self) {
        CancellationToken::cancel(self);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // No user code runs while a cell's lock is held.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a group is cancelling and why, and the token its children wait on.
///
/// `state` goes from 0 to a reason's code once, by compare-and-swap. `cancel` cancels the
/// token under the lock after the state is stored; `token` makes the token under the same
/// lock and cancels it if the state is already set. So a token made while the group
/// cancels is cancelled, whichever comes first.
#[derive(Debug)]
pub(crate) struct CancelCell<T> {
    state: AtomicU8,
    token: Mutex<Option<T>>,
}

impl<T: Token> CancelCell<T> {
    pub(crate) fn new() -> Self {
        CancelCell {
            state: AtomicU8::new(0),
            token: Mutex::new(None),
        }
    }

    /// Starts cancelling with `code` (not 0); returns whether this was the first reason,
    /// which is the one that stands.
    pub(crate) fn cancel(&self, code: u8) -> bool {
        let first = self
            .state
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        // Under the lock, so that a token made at the same time sees the state (`token`).
        if let Some(token) = &*lock(&self.token) {
            token.cancel();
        }
        first
    }

    /// 0 while not cancelling; else the first reason's code.
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// The token, made on first use: a child of `parent()`'s if there is one, which is asked
    /// while this cell's lock is held (locks are taken from a child to its parent, never the
    /// reverse).
    pub(crate) fn token(&self, parent: impl FnOnce() -> Option<T>) -> T {
        let mut slot = lock(&self.token);
        if let Some(token) = &*slot {
            return token.clone();
        }
        let token = match parent() {
            Some(parent) => parent.child(),
            None => T::root(),
        };
        if self.state.load(Ordering::Acquire) != 0 {
            token.cancel();
        }
        *slot = Some(token.clone());
        token
    }
}

/// A group's inbox: what nested groups hand up, from any thread.
///
/// `post` pushes under the lock and then sets `has_mail`; `take` clears `has_mail` and takes
/// the list under the lock. `has_mail` is only a lock-free hint, written under the lock: a
/// stale `false` delays mail to the next poll (the poster's wake-up comes after), a stale
/// `true` costs one lock, and it is never cleared with mail left. `forward` (the group was
/// dropped) sets the forward message and takes what was left under one lock; a `post` that
/// takes the lock afterwards sees the message and gets its mail back to pass on.
#[derive(Debug)]
pub(crate) struct Inbox<M> {
    has_mail: AtomicBool,
    slow: Mutex<Slots<M>>,
}

#[derive(Debug)]
struct Slots<M> {
    mail: Vec<M>,
    forward: Option<Cow<'static, str>>,
}

impl<M> Inbox<M> {
    pub(crate) fn new() -> Self {
        Inbox {
            has_mail: AtomicBool::new(false),
            slow: Mutex::new(Slots {
                mail: Vec::new(),
                forward: None,
            }),
        }
    }

    /// Files `mail` here; or, if the group was dropped, hands it back with the message
    /// of the nested group it goes on in.
    pub(crate) fn post(&self, mail: M) -> Result<(), (M, Cow<'static, str>)> {
        let mut slow = lock(&self.slow);
        if let Some(message) = &slow.forward {
            return Err((mail, message.clone()));
        }
        slow.mail.push(mail);
        self.has_mail.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether something may have been filed and not taken yet.
    #[inline]
    pub(crate) fn has_mail(&self) -> bool {
        self.has_mail.load(Ordering::Acquire)
    }

    /// What was filed since the last call.
    pub(crate) fn take(&self) -> Vec<M> {
        if !self.has_mail.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut slow = lock(&self.slow);
        self.has_mail.store(false, Ordering::Relaxed);
        std::mem::take(&mut slow.mail)
    }

    /// The group was dropped: from now on mail is handed back to its posters. Returns what
    /// was filed and not taken, for the caller to pass on.
    pub(crate) fn forward(&self, message: Cow<'static, str>) -> Vec<M> {
        let mut slow = lock(&self.slow);
        slow.forward = Some(message);
        self.has_mail.store(false, Ordering::Relaxed);
        std::mem::take(&mut slow.mail)
    }
}

#[cfg(all(test, taskgroup_loom))]
mod loom_model {
    //! Every interleaving of the two protocols, explored by loom:
    //! `RUSTFLAGS="--cfg taskgroup_loom" cargo test -p taskgroup-runtime --lib loom_model`.
    //!
    //! The token is a stand-in for `CancellationToken` built on loom's `Mutex`: a tree whose
    //! `cancel` marks a token and then its children, and whose `child` of a cancelled token is
    //! cancelled, as tokio-util's is.

    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    #[derive(Clone, Debug, Default)]
    struct ModelToken(Arc<Mutex<Node>>);

    #[derive(Debug, Default)]
    struct Node {
        cancelled: bool,
        children: Vec<ModelToken>,
    }

    impl ModelToken {
        fn is_cancelled(&self) -> bool {
            lock(&self.0).cancelled
        }
    }

    impl Token for ModelToken {
        fn root() -> Self {
            ModelToken::default()
        }

        fn child(&self) -> Self {
            let child = ModelToken::default();
            let mut node = lock(&self.0);
            if node.cancelled {
                lock(&child.0).cancelled = true;
            } else {
                node.children.push(child.clone());
            }
            child
        }

        fn cancel(&self) {
            let children = {
                let mut node = lock(&self.0);
                node.cancelled = true;
                std::mem::take(&mut node.children)
            };
            for child in children {
                child.cancel();
            }
        }
    }

    #[test]
    fn loom_a_token_made_while_the_group_cancels_is_cancelled() {
        loom::model(|| {
            let cell = Arc::new(CancelCell::<ModelToken>::new());
            let cancel = {
                let cell = cell.clone();
                thread::spawn(move || cell.cancel(3))
            };
            let token = cell.token(|| None);
            assert!(cancel.join().unwrap());
            assert!(
                token.is_cancelled(),
                "a token missed its group's cancellation"
            );
            assert_eq!(cell.state(), 3);
        });
    }

    #[test]
    fn loom_a_nested_token_made_while_the_parent_cancels_is_cancelled() {
        loom::model(|| {
            let parent = Arc::new(CancelCell::<ModelToken>::new());
            let child = Arc::new(CancelCell::<ModelToken>::new());
            let cancel = {
                let parent = parent.clone();
                thread::spawn(move || parent.cancel(1))
            };
            let token = child.token(|| Some(parent.token(|| None)));
            cancel.join().unwrap();
            assert!(
                token.is_cancelled(),
                "a nested token missed the parent's cancellation"
            );
            // The child's own state is untouched: it is cancelling through its parent.
            assert_eq!(child.state(), 0);
        });
    }

    #[test]
    fn loom_the_first_reason_stands() {
        loom::model(|| {
            let cell = Arc::new(CancelCell::<ModelToken>::new());
            let other = {
                let cell = cell.clone();
                thread::spawn(move || cell.cancel(2))
            };
            let mine = cell.cancel(1);
            let theirs = other.join().unwrap();
            assert!(mine != theirs, "exactly one reason is the first");
            assert_eq!(cell.state(), if mine { 1 } else { 2 });
        });
    }

    #[test]
    fn loom_mail_from_two_threads_is_taken_exactly_once() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::<u32>::new());
            let posters: Vec<_> = [1, 2]
                .into_iter()
                .map(|n| {
                    let inbox = inbox.clone();
                    thread::spawn(move || inbox.post(n).unwrap())
                })
                .collect();
            // The driver takes while the posts land...
            let mut taken = inbox.take();
            for poster in posters {
                poster.join().unwrap();
            }
            // ...and after they are joined the hint is set whenever mail is left.
            if taken.len() < 2 {
                assert!(inbox.has_mail(), "the hint was cleared with mail left");
            }
            taken.extend(inbox.take());
            taken.sort_unstable();
            assert_eq!(taken, [1, 2]);
            assert!(inbox.take().is_empty());
        });
    }

    #[test]
    fn loom_mail_racing_a_drop_lands_in_exactly_one_place() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::<u32>::new());
            let poster = {
                let inbox = inbox.clone();
                thread::spawn(move || inbox.post(7).err())
            };
            let left = inbox.forward("inner failed".into());
            let handed_back = poster.join().unwrap();
            let mut places = left.len();
            if let Some((mail, message)) = handed_back {
                assert_eq!((mail, &*message), (7, "inner failed"));
                places += 1;
            }
            assert_eq!(places, 1, "mail lost or filed twice");
            // Nothing is stranded in the dropped group.
            assert!(inbox.take().is_empty());
            assert!(inbox.post(8).is_err());
        });
    }
}
