//! [`ErrorGroup`]: the errors of a task group, each with the name of its task.
//!
//! This is the Rust counterpart of Python's `ExceptionGroup` as raised by
//! `asyncio.TaskGroup`: every error that happened before the group finished
//! cancelling is kept, in order, tagged with the [`TaskName`] of the task that
//! returned it. A child task that ran its own group and failed contributes a
//! *nested* group ([`Member::Group`]); nesting is never flattened, exactly as
//! Python keeps an `ExceptionGroup` inside an `ExceptionGroup`.
//!
//! What Python does with `except*` is done here with [`ErrorGroup::split`]
//! (by type), [`ErrorGroup::split_by`] and [`ErrorGroup::subgroup`] (by
//! predicate): every leaf lands in exactly one part, order and nesting kept.
//!
//! `{}` prints one line that names the failed tasks
//! (`"message (2 sub-errors): user, links[1]"`); `{:#}` prints the whole tree in
//! the box format of Python's `traceback` module, with its width (15) and depth
//! (10) limits, and `{:?}` the same tree; [`source`](std::error::Error::source)
//! is a chain with one link per failed task, so that anyhow's `{:?}` lists them
//! all with their errors.
//!
//! Every operation that walks the tree (iteration, splitting, mapping,
//! rendering, `Drop`) is iterative, so a group nested arbitrarily deep never
//! overflows the stack.

mod iter;
mod render;

use std::borrow::Cow;
use std::error::Error;
use std::mem;

pub use self::iter::{IntoLeaves, Leaf, Leaves};

#[cfg(test)]
thread_local! {
    /// How many members `nested_mut` looked through on this thread.
    pub(crate) static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
pub use crate::task_name::TaskName;

/// The default leaf error type of an [`ErrorGroup`]: any error that can cross threads.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// The errors of a task group, each with the name of its task, nested groups kept nested.
///
/// The counterpart of Python's `ExceptionGroup`: [`len`](Self::len) counts the
/// direct members (like `len(eg.exceptions)`), [`leaves`](Self::leaves) walks
/// every leaf depth-first, [`split`](ErrorGroup::split) is `except*`.
///
/// `ErrorGroup<BoxError>` (the default) implements [`std::error::Error`] +
/// `Send + Sync + 'static`, so `?` converts it into
/// `Box<dyn Error + Send + Sync>` or `anyhow::Error`; downcast it back to get
/// the group. Printed, it names its tasks wherever it goes: `{}` in one line,
/// `{:#}` and `{:?}` as a tree with every error, and its
/// [`source`](Error::source) chain has one link per failed task, so that
/// `anyhow`'s `{:?}` (what `fn main() -> anyhow::Result<()>` prints) lists them
/// all.
///
/// # Examples
///
/// ```
/// use taskgroup::{BoxError, ErrorGroup, TaskName};
/// use std::io;
///
/// let mut child = ErrorGroup::new("child group");
/// child.push_leaf(TaskName::indexed("pages", 3), BoxError::from(io::Error::other("timed out")));
///
/// let mut group = ErrorGroup::new("load page");
/// group.push_leaf(TaskName::new("user"), BoxError::from("user 42 not found"));
/// // A child that ran its own group propagated it as a boxed error: it is nested, not flattened.
/// group.push_task_error(TaskName::new("children"), Box::new(child));
///
/// assert_eq!(group.len(), 2);
/// assert_eq!(group.leaf_count(), 2);
/// assert_eq!(group.to_string(), "load page (2 sub-errors): user, children/pages[3]");
/// assert_eq!(
///     format!("{group:#}"),
///     "  | load page (2 sub-errors)
///   +-+---------------- 1 ----------------
///     | user: user 42 not found
///     +---------------- 2 ----------------
///     | children: child group (1 sub-error)
///     +-+---------------- 1 ----------------
///       | pages[3]: timed out
///       +------------------------------------"
/// );
///
/// // Into a boxed error with `?`, and back.
/// fn run(group: ErrorGroup) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     Err(group)?
/// }
/// let boxed = run(group).unwrap_err();
/// let group = boxed.downcast::<ErrorGroup>().unwrap();
/// assert!(group.contains::<io::Error>());
/// ```
pub struct ErrorGroup<E = BoxError> {
    message: Cow<'static, str>,
    members: Vec<Member<E>>,
    // The `source()` chain, made on first use; reset by every change to the members.
    causes: render::Causes,
}

/// A direct member of an [`ErrorGroup`]: a task's error, or a nested group.
pub enum Member<E = BoxError> {
    /// The error a task returned.
    Leaf {
        /// The task that returned the error.
        task: TaskName,
        /// The error.
        error: E,
    },
    /// A nested group, e.g. the error of a child task that ran its own group.
    Group {
        /// The task whose error the nested group is.
        task: TaskName,
        /// The nested group.
        group: ErrorGroup<E>,
    },
}

impl<E> Member<E> {
    /// The task this member came from.
    pub fn task(&self) -> &TaskName {
        match self {
            Member::Leaf { task, .. } | Member::Group { task, .. } => task,
        }
    }

    /// Whether this member is a nested group.
    pub fn is_group(&self) -> bool {
        matches!(self, Member::Group { .. })
    }
}

impl<E> ErrorGroup<E> {
    /// An empty group with the given message.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_members(message, Vec::new())
    }

    /// A group with the given message and members.
    pub fn from_members(message: impl Into<Cow<'static, str>>, members: Vec<Member<E>>) -> Self {
        Self {
            message: message.into(),
            members,
            causes: render::Causes::default(),
        }
    }

    /// The members, to change them: the `source()` chain made from them is reset.
    fn members_mut(&mut self) -> &mut Vec<Member<E>> {
        self.causes.reset();
        &mut self.members
    }

    /// Appends a member.
    pub fn push(&mut self, member: Member<E>) {
        self.members_mut().push(member);
    }

    /// Appends a leaf: `task` returned `error`.
    pub fn push_leaf(&mut self, task: TaskName, error: E) {
        self.members_mut().push(Member::Leaf { task, error });
    }

    /// The group's message (without the sub-error count).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The direct members, in order.
    pub fn members(&self) -> &[Member<E>] {
        &self.members
    }

    /// The direct members, by value.
    pub fn into_members(mut self) -> Vec<Member<E>> {
        mem::take(&mut self.members)
    }

    /// The number of direct members (leaves and nested groups), like Python's `len(eg.exceptions)`.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the group has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The number of leaves, at any depth.
    pub fn leaf_count(&self) -> usize {
        self.leaves().count()
    }

    /// Every leaf, depth-first, in order, with its depth.
    pub fn leaves(&self) -> Leaves<'_, E> {
        Leaves {
            stack: vec![self.members.iter()],
        }
    }

    /// Every leaf by value, depth-first, in order, as `(task, error)`.
    pub fn into_leaves(self) -> IntoLeaves<E> {
        IntoLeaves {
            stack: vec![self.into_members().into_iter()],
        }
    }

    /// Splits the leaves by a predicate into `(matching, rest)`.
    ///
    /// Every leaf lands in exactly one part; order and nesting are kept (nested
    /// groups keep their message and task name); nested groups that end up empty
    /// are dropped, and an empty part is `None`.
    pub fn split_by(
        self,
        mut pred: impl FnMut(&TaskName, &E) -> bool,
    ) -> (Option<Self>, Option<Self>) {
        let (matching, rest) = self.rebuild(
            |task, error| {
                if pred(task, &error) {
                    Ok(error)
                } else {
                    Err(error)
                }
            },
            false,
        );
        (non_empty(matching), non_empty(rest))
    }

    /// The leaves that match a predicate, as Python's `eg.subgroup(condition)`:
    /// nesting kept, emptied nested groups dropped, `None` if nothing matches.
    pub fn subgroup(self, pred: impl FnMut(&TaskName, &E) -> bool) -> Option<Self> {
        self.split_by(pred).0
    }

    /// Applies `f` to every leaf error, keeping the structure (including empty nested groups).
    pub fn map<F>(self, mut f: impl FnMut(E) -> F) -> ErrorGroup<F> {
        self.rebuild(|_, error| Ok::<F, F>(f(error)), true).0
    }

    /// The engine of `split`, `split_by` and `map`: rebuilds the tree, sending each leaf
    /// left (`Ok`) or right (`Err`). Iterative, with an explicit stack of open groups.
    /// Nested groups that end up empty are dropped, except on the left when `keep_empty`.
    fn rebuild<A, B>(
        mut self,
        mut classify: impl FnMut(&TaskName, E) -> Result<A, B>,
        keep_empty: bool,
    ) -> (ErrorGroup<A>, ErrorGroup<B>) {
        struct Open<E, A, B> {
            task: Option<TaskName>,
            message: Cow<'static, str>,
            members: std::vec::IntoIter<Member<E>>,
            left: Vec<Member<A>>,
            right: Vec<Member<B>>,
        }
        impl<E, A, B> Open<E, A, B> {
            fn new(task: Option<TaskName>, group: &mut ErrorGroup<E>) -> Self {
                Self {
                    task,
                    message: mem::take(&mut group.message),
                    members: mem::take(group.members_mut()).into_iter(),
                    left: Vec::new(),
                    right: Vec::new(),
                }
            }
        }

        let mut parents: Vec<Open<E, A, B>> = Vec::new();
        let mut current = Open::new(None, &mut self);
        loop {
            match current.members.next() {
                Some(Member::Leaf { task, error }) => match classify(&task, error) {
                    Ok(error) => current.left.push(Member::Leaf { task, error }),
                    Err(error) => current.right.push(Member::Leaf { task, error }),
                },
                Some(Member::Group { task, mut group }) => {
                    let child = Open::new(Some(task), &mut group);
                    parents.push(mem::replace(&mut current, child));
                }
                None => {
                    let done = current;
                    let left = ErrorGroup::from_members(done.message.clone(), done.left);
                    let right = ErrorGroup::from_members(done.message, done.right);
                    let (Some(parent), Some(task)) = (parents.pop(), done.task) else {
                        return (left, right);
                    };
                    current = parent;
                    match (keep_empty || !left.is_empty(), !right.is_empty()) {
                        (true, true) => {
                            current.left.push(Member::Group {
                                task: task.clone(),
                                group: left,
                            });
                            current.right.push(Member::Group { task, group: right });
                        }
                        (true, false) => current.left.push(Member::Group { task, group: left }),
                        (false, true) => current.right.push(Member::Group { task, group: right }),
                        (false, false) => {}
                    }
                }
            }
        }
    }
}

fn non_empty<E>(group: ErrorGroup<E>) -> Option<ErrorGroup<E>> {
    (!group.is_empty()).then_some(group)
}

impl ErrorGroup<BoxError> {
    /// Adds the error a task returned.
    ///
    /// If the boxed error is itself an `ErrorGroup<BoxError>` (a child task ran
    /// its own group and propagated it), it is added as a nested
    /// [`Member::Group`] under `task`, never flattened; any other error is added
    /// as a leaf.
    pub fn push_task_error(&mut self, task: TaskName, error: BoxError) {
        match error.downcast::<ErrorGroup<BoxError>>() {
            Ok(group) => self.members_mut().push(Member::Group {
                task,
                group: *group,
            }),
            Err(error) => self.push_leaf(task, error),
        }
    }

    /// Appends an empty nested group under `task` with `message`; returns its index.
    pub(crate) fn push_nested(&mut self, task: TaskName, message: &str) -> usize {
        let members = self.members_mut();
        members.push(Member::Group {
            task,
            group: ErrorGroup::new(message.to_owned()),
        });
        members.len() - 1
    }

    /// The nested group at `index`, which [`push_nested`](Self::push_nested) returned.
    pub(crate) fn nested_at(&mut self, index: usize) -> &mut Self {
        match &mut self.members_mut()[index] {
            Member::Group { group, .. } => group,
            Member::Leaf { .. } => unreachable!("push_nested made a group there"),
        }
    }

    /// The nested group under `task` with `message`, the last one if there are several,
    /// created at the end if there is none: where the errors a dropped nested group
    /// collected are put when they are handed up to this group, piece by piece.
    pub(crate) fn nested_mut(&mut self, task: &TaskName, message: &str) -> &mut Self {
        self.causes.reset();
        #[cfg(test)]
        SCANNED.with(|scanned| scanned.set(scanned.get() + self.members.len()));
        let found = self.members.iter().rposition(|member| match member {
            Member::Group { task: t, group } => t == task && group.message == message,
            Member::Leaf { .. } => false,
        });
        let index = found.unwrap_or_else(|| {
            self.members.push(Member::Group {
                task: task.clone(),
                group: ErrorGroup::new(message.to_owned()),
            });
            self.members.len() - 1
        });
        match &mut self.members[index] {
            Member::Group { group, .. } => group,
            Member::Leaf { .. } => unreachable!("found a nested group"),
        }
    }

    /// Python's `eg.split(T)`, i.e. `except* T`: splits the group into
    /// `(matching, rest)`, where `matching` holds the leaves whose error is a
    /// `T`, downcast to `T`.
    ///
    /// Every leaf lands in exactly one part; order is kept; nesting is kept
    /// (nested groups keep their message and task name); nested groups that end
    /// up empty are dropped; an empty part is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskgroup::{BoxError, ErrorGroup, TaskName};
    /// use std::{fmt, io};
    ///
    /// #[derive(Debug)]
    /// struct BadInput;
    /// impl fmt::Display for BadInput {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ///         f.write_str("bad input")
    ///     }
    /// }
    /// impl std::error::Error for BadInput {}
    ///
    /// let mut inner = ErrorGroup::new("inner");
    /// inner.push_leaf(TaskName::new("b"), BoxError::from(io::Error::other("reset")));
    /// let mut group = ErrorGroup::new("outer");
    /// group.push_leaf(TaskName::new("a"), BoxError::from(BadInput));
    /// group.push_task_error(TaskName::new("child"), Box::new(inner));
    ///
    /// let (io_errors, rest) = group.split::<io::Error>();
    /// let io_errors: ErrorGroup<io::Error> = io_errors.unwrap();
    /// assert_eq!(io_errors.to_string(), "outer (1 sub-error): child/b");
    /// let (task, error) = io_errors.into_leaves().next().unwrap();
    /// assert_eq!((task.name(), error.kind()), ("b", io::ErrorKind::Other));
    ///
    /// let rest = rest.unwrap();
    /// assert_eq!(rest.leaf_count(), 1);
    /// assert!(rest.contains::<BadInput>());
    /// ```
    pub fn split<T: Error + Send + Sync + 'static>(
        self,
    ) -> (Option<ErrorGroup<T>>, Option<ErrorGroup<BoxError>>) {
        let (matching, rest) = self.rebuild(|_, error| error.downcast::<T>().map(|t| *t), false);
        (non_empty(matching), non_empty(rest))
    }

    /// Whether any leaf, at any depth, is a `T`.
    pub fn contains<T: Error + 'static>(&self) -> bool {
        self.leaves().any(|leaf| (**leaf.error).is::<T>())
    }

    /// The first leaf (depth-first) that is a `T`.
    pub fn find<T: Error + 'static>(&self) -> Option<&T> {
        self.leaves()
            .find_map(|leaf| (**leaf.error).downcast_ref::<T>())
    }
}

impl<E> Drop for ErrorGroup<E> {
    /// Drops nested groups iteratively, so a deeply nested group cannot overflow the stack.
    fn drop(&mut self) {
        if !self.members.iter().any(Member::is_group) {
            return;
        }
        let mut pending = vec![mem::take(&mut self.members)];
        while let Some(mut members) = pending.pop() {
            for member in members.drain(..) {
                if let Member::Group { mut group, .. } = member {
                    pending.push(mem::take(&mut group.members));
                }
            }
        }
    }
}
