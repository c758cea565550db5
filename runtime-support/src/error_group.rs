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
//! `{}` prints one line (`"message (2 sub-errors)"`); `{:#}` prints the whole
//! tree in the box format of Python's `traceback` module, with its width (15)
//! and depth (10) limits.
//!
//! Every operation that walks the tree (iteration, splitting, mapping,
//! rendering, `Drop`) is iterative, so a group nested arbitrarily deep never
//! overflows the stack.

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::fmt::{self, Debug, Display, Formatter, Write as _};
use std::iter::FusedIterator;
use std::mem;
use std::sync::Arc;

/// The default leaf error type of an [`ErrorGroup`]: any error that can cross threads.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// How many members of one group `{:#}` shows before `and N more errors` (Python's `max_group_width`).
const MAX_GROUP_WIDTH: usize = 15;
/// How deep `{:#}` descends into nested groups (Python's `max_group_depth`).
const MAX_GROUP_DEPTH: usize = 10;
/// How deep `{:?}` descends into nested groups before eliding them (keeps `Debug` stack use bounded).
const MAX_DEBUG_DEPTH: usize = 32;

// ---------------------------------------------------------------------------------------------
// TaskName
// ---------------------------------------------------------------------------------------------

/// The name of the task an error came from: its binding name, with an index
/// for the items of a fan-out.
///
/// Displays as `user`, or `pages[3]` for the fourth item of the fan-out `pages`.
///
/// ```
/// use taskgroup_runtime::TaskName;
///
/// const USER: TaskName = TaskName::new("user");
/// assert_eq!(USER.to_string(), "user");
/// assert_eq!(TaskName::indexed("pages", 3).to_string(), "pages[3]");
/// assert_eq!(TaskName::owned(format!("worker-{}", 2)).name(), "worker-2");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaskName {
    name: Text,
    index: Option<usize>,
}

/// A task name's text: borrowed for the names the macros write, shared for names computed at
/// run time, so that a clone never copies the text.
#[derive(Clone)]
enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Static(text) => text,
            Text::Shared(text) => text,
        }
    }
}

impl Debug for Text {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl TaskName {
    /// A task name without an index, usable in `const` context.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name: Text::Static(name),
            index: None,
        }
    }

    /// The name of item `index` (0-based) of the fan-out `name`, usable in `const` context.
    pub const fn indexed(name: &'static str, index: usize) -> Self {
        Self {
            name: Text::Static(name),
            index: Some(index),
        }
    }

    /// A task name computed at run time.
    pub fn owned(name: String) -> Self {
        Self {
            name: Text::Shared(name.into()),
            index: None,
        }
    }

    /// The same name with the fan-out index set to `index`.
    #[must_use]
    pub fn with_index(self, index: usize) -> Self {
        Self {
            index: Some(index),
            ..self
        }
    }

    /// The binding name, without the index.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The fan-out index, if the task is an item of a fan-out.
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// The name and index, if the name is a `&'static str`.
    #[inline]
    pub(crate) fn as_static(&self) -> Option<(&'static str, Option<usize>)> {
        match self.name {
            Text::Static(name) => Some((name, self.index)),
            Text::Shared(_) => None,
        }
    }
}

impl Display for TaskName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.index {
            None => f.write_str(self.name()),
            Some(index) => write!(f, "{}[{index}]", self.name()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ErrorGroup and Member
// ---------------------------------------------------------------------------------------------

/// The errors of a task group, each with the name of its task, nested groups kept nested.
///
/// The counterpart of Python's `ExceptionGroup`: [`len`](Self::len) counts the
/// direct members (like `len(eg.exceptions)`), [`leaves`](Self::leaves) walks
/// every leaf depth-first, [`split`](ErrorGroup::split) is `except*`.
///
/// `ErrorGroup<BoxError>` (the default) implements [`std::error::Error`] +
/// `Send + Sync + 'static`, so `?` converts it into
/// `Box<dyn Error + Send + Sync>` or `anyhow::Error`; downcast it back to get
/// the group. (Its [`source`](Error::source) is `None`: a group has many
/// causes, not one; use `{:#}` or [`leaves`](Self::leaves) to report them.)
///
/// # Examples
///
/// ```
/// use taskgroup_runtime::{BoxError, ErrorGroup, TaskName};
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
/// assert_eq!(group.to_string(), "load page (2 sub-errors)");
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

/// A leaf of an [`ErrorGroup`], as yielded by [`ErrorGroup::leaves`].
pub struct Leaf<'a, E> {
    /// The task that returned the error.
    pub task: &'a TaskName,
    /// The error.
    pub error: &'a E,
    /// How many nested groups lie between the root group and this leaf: 0 for a direct member.
    pub depth: usize,
}

impl<E> Clone for Leaf<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Leaf<'_, E> {}

impl<E: Debug> Debug for Leaf<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leaf")
            .field("task", self.task)
            .field("error", self.error)
            .field("depth", &self.depth)
            .finish()
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
        }
    }

    /// Appends a member.
    pub fn push(&mut self, member: Member<E>) {
        self.members.push(member);
    }

    /// Appends a leaf: `task` returned `error`.
    pub fn push_leaf(&mut self, task: TaskName, error: E) {
        self.members.push(Member::Leaf { task, error });
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
                    members: mem::take(&mut group.members).into_iter(),
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
            Ok(group) => self.members.push(Member::Group {
                task,
                group: *group,
            }),
            Err(error) => self.push_leaf(task, error),
        }
    }

    /// The nested group under `task` with `message`, the last one if there are several,
    /// created at the end if there is none: where the errors a dropped nested group
    /// collected are put when they are handed up to this group, piece by piece.
    pub(crate) fn nested_mut(&mut self, task: &TaskName, message: &str) -> &mut Self {
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
    /// use taskgroup_runtime::{BoxError, ErrorGroup, TaskName};
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
    /// assert_eq!(io_errors.to_string(), "outer (1 sub-error)");
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

impl<'a, E> IntoIterator for &'a ErrorGroup<E> {
    type Item = Leaf<'a, E>;
    type IntoIter = Leaves<'a, E>;

    fn into_iter(self) -> Self::IntoIter {
        self.leaves()
    }
}

// ---------------------------------------------------------------------------------------------
// Iterators
// ---------------------------------------------------------------------------------------------

/// Depth-first iterator over the leaves of an [`ErrorGroup`]; see [`ErrorGroup::leaves`].
pub struct Leaves<'a, E> {
    /// One iterator per open group; the root's is at the bottom, so a leaf's depth is `len - 1`.
    stack: Vec<std::slice::Iter<'a, Member<E>>>,
}

impl<'a, E> Iterator for Leaves<'a, E> {
    type Item = Leaf<'a, E>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                }
                Some(Member::Leaf { task, error }) => {
                    return Some(Leaf {
                        task,
                        error,
                        depth: self.stack.len() - 1,
                    });
                }
                Some(Member::Group { group, .. }) => self.stack.push(group.members.iter()),
            }
        }
    }
}

impl<E> FusedIterator for Leaves<'_, E> {}

impl<E> Debug for Leaves<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leaves")
            .field("open_groups", &self.stack.len())
            .finish_non_exhaustive()
    }
}

/// Depth-first iterator over the leaves of an [`ErrorGroup`] by value; see [`ErrorGroup::into_leaves`].
pub struct IntoLeaves<E> {
    stack: Vec<std::vec::IntoIter<Member<E>>>,
}

impl<E> Iterator for IntoLeaves<E> {
    type Item = (TaskName, E);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                }
                Some(Member::Leaf { task, error }) => return Some((task, error)),
                Some(Member::Group { group, .. }) => {
                    // Depth is not reported, so an exhausted parent can go before its child comes:
                    // a long chain of nested groups keeps the stack short.
                    if top.len() == 0 {
                        self.stack.pop();
                    }
                    self.stack.push(group.into_members().into_iter());
                }
            }
        }
    }
}

impl<E> FusedIterator for IntoLeaves<E> {}

impl<E> Debug for IntoLeaves<E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoLeaves")
            .field("open_groups", &self.stack.len())
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Debug (derive-like, depth-bounded)
// ---------------------------------------------------------------------------------------------

impl<E: Debug> Debug for ErrorGroup<E> {
    /// Like a derived `Debug` (`ErrorGroup { message: .., members: [..] }`), except that groups
    /// nested deeper than 32 levels are elided as `ErrorGroup { message: .., .. }`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        DebugGroup(self, 0).fmt(f)
    }
}

impl<E: Debug> Debug for Member<E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        DebugMember(self, 0).fmt(f)
    }
}

struct DebugGroup<'a, E>(&'a ErrorGroup<E>, usize);
struct DebugMembers<'a, E>(&'a [Member<E>], usize);
struct DebugMember<'a, E>(&'a Member<E>, usize);

impl<E: Debug> Debug for DebugGroup<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Self(group, depth) = *self;
        let mut s = f.debug_struct("ErrorGroup");
        s.field("message", &group.message());
        if depth >= MAX_DEBUG_DEPTH && !group.is_empty() {
            return s.finish_non_exhaustive();
        }
        s.field("members", &DebugMembers(&group.members, depth))
            .finish()
    }
}

impl<E: Debug> Debug for DebugMembers<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Self(members, depth) = *self;
        f.debug_list()
            .entries(members.iter().map(|m| DebugMember(m, depth)))
            .finish()
    }
}

impl<E: Debug> Debug for DebugMember<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            DebugMember(Member::Leaf { task, error }, _) => f
                .debug_struct("Leaf")
                .field("task", task)
                .field("error", error)
                .finish(),
            DebugMember(Member::Group { task, group }, depth) => f
                .debug_struct("Group")
                .field("task", task)
                .field("group", &DebugGroup(group, depth + 1))
                .finish(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Display and Error
// ---------------------------------------------------------------------------------------------

/// `"{message} ({n} sub-error)"` / `"({n} sub-errors)"`, `n` the number of direct members.
struct OneLine<'a, E>(&'a ErrorGroup<E>);

impl<E> Display for OneLine<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{} ({n} sub-error{plural})", self.0.message)
    }
}

impl<E: Display + 'static> Display for ErrorGroup<E> {
    /// `{}` prints one line, `"message (2 sub-errors)"`, like Python's `str(eg)`.
    ///
    /// `{:#}` prints the whole tree in the box format Python's `traceback` module
    /// uses for exception groups: one `+---- i ----` frame per member, 2 spaces of
    /// indent per nesting level, each leaf as `task: error` followed by one
    /// `caused by: ...` line per [`source`](Error::source) (for `Box<dyn Error>`
    /// and `io::Error` leaves), each nested group as `task: message (n sub-errors)`.
    /// At most 15 members of a group are shown (then `and N more errors`) and at
    /// most 10 levels of groups (then `... (max_group_depth is 10)`). The output
    /// has no trailing newline.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            render_tree(self, f)
        } else {
            OneLine(self).fmt(f)
        }
    }
}

/// Converts into `Box<dyn Error + Send + Sync>` and `anyhow::Error` with `?` (for
/// `E = BoxError` or any other `Send + Sync + 'static` leaf type).
impl<E: Display + Debug + 'static> Error for ErrorGroup<E> {}

/// The leaf as a `dyn Error`, when its type is known to be one (the generic `E` is only `Display`).
fn as_dyn_error<E: 'static>(error: &E) -> Option<&(dyn Error + 'static)> {
    let any = error as &dyn Any;
    if let Some(error) = any.downcast_ref::<BoxError>() {
        return Some(&**error);
    }
    if let Some(error) = any.downcast_ref::<Box<dyn Error + Send + 'static>>() {
        return Some(&**error);
    }
    if let Some(error) = any.downcast_ref::<Box<dyn Error + 'static>>() {
        return Some(&**error);
    }
    if let Some(error) = any.downcast_ref::<std::io::Error>() {
        return Some(error);
    }
    None
}

/// Writes lines separated by `\n` (no trailing newline), with Python's indent and margin.
struct TreeWriter<'f, 'b> {
    f: &'f mut Formatter<'b>,
    started: bool,
    buf: String,
}

impl TreeWriter<'_, '_> {
    fn start_line(&mut self, depth: usize) -> fmt::Result {
        if self.started {
            self.f.write_char('\n')?;
        }
        self.started = true;
        for _ in 0..depth {
            self.f.write_str("  ")?;
        }
        Ok(())
    }

    /// A frame line (`+-...`): indent, then the text as is.
    fn frame(&mut self, depth: usize, args: fmt::Arguments<'_>) -> fmt::Result {
        self.start_line(depth)?;
        self.f.write_fmt(args)
    }

    /// Python's `_ctx.emit`: every line of the text gets the indent and the `| ` margin.
    fn emit(&mut self, depth: usize, args: fmt::Arguments<'_>) -> fmt::Result {
        let mut buf = mem::take(&mut self.buf);
        buf.clear();
        buf.write_fmt(args)?;
        for line in buf.lines() {
            self.start_line(depth)?;
            if depth > 0 {
                self.f.write_str("| ")?;
            }
            self.f.write_str(line)?;
        }
        self.buf = buf;
        Ok(())
    }
}

/// An open group of the renderer: its members, how many are shown, and the next to show.
struct Frame<'a, E> {
    members: &'a [Member<E>],
    shown: usize,
    next: usize,
}

impl<'a, E> Frame<'a, E> {
    fn new(group: &'a ErrorGroup<E>) -> Self {
        let len = group.members.len();
        Self {
            members: &group.members,
            // Python shows `max_group_width` members, then one truncated `...` frame.
            shown: if len <= MAX_GROUP_WIDTH {
                len
            } else {
                MAX_GROUP_WIDTH + 1
            },
            next: 0,
        }
    }
}

/// `TracebackException.format` for a group, without recursion: `stack` holds the open groups,
/// `depth` is Python's `exception_group_depth`, `need_close` its `_ctx.need_close`.
fn render_tree<E: Display + 'static>(root: &ErrorGroup<E>, f: &mut Formatter<'_>) -> fmt::Result {
    let mut w = TreeWriter {
        f,
        started: false,
        buf: String::new(),
    };
    // The top-level group is formatted at depth 1.
    let mut depth = 1;
    w.emit(depth, format_args!("{}", OneLine(root)))?;
    let mut need_close = false;
    let mut stack = vec![Frame::new(root)];

    // What Python does after formatting member `i` (now done) of its group.
    let finish_member = |w: &mut TreeWriter<'_, '_>,
                         depth: &mut usize,
                         need_close: &mut bool,
                         last: bool|
     -> fmt::Result {
        if last && *need_close {
            w.frame(
                *depth,
                format_args!("+------------------------------------"),
            )?;
            *need_close = false;
        }
        *depth -= 1;
        Ok(())
    };

    while let Some(frame) = stack.last_mut() {
        if frame.next == frame.shown {
            stack.pop();
            // The group was the member `next - 1` of its parent (unless it was the root).
            if let Some(parent) = stack.last() {
                let last = parent.next == parent.shown;
                finish_member(&mut w, &mut depth, &mut need_close, last)?;
            }
            continue;
        }
        let i = frame.next;
        frame.next += 1;
        let last = frame.next == frame.shown;
        let members = frame.members;
        if last {
            // The closing frame may be added by a nested group.
            need_close = true;
        }
        let truncated = i >= MAX_GROUP_WIDTH;
        let corner = if i == 0 { "+-" } else { "  " };
        if truncated {
            w.frame(
                depth,
                format_args!("{corner}+---------------- ... ----------------"),
            )?;
        } else {
            w.frame(
                depth,
                format_args!("{corner}+---------------- {} ----------------", i + 1),
            )?;
        }
        depth += 1;
        if truncated {
            let remaining = members.len() - MAX_GROUP_WIDTH;
            let plural = if remaining == 1 { "" } else { "s" };
            w.emit(depth, format_args!("and {remaining} more error{plural}"))?;
        } else {
            match &members[i] {
                Member::Leaf { task, error } => {
                    w.emit(depth, format_args!("{task}: {error}"))?;
                    let mut source = as_dyn_error(error).and_then(Error::source);
                    while let Some(cause) = source {
                        w.emit(depth, format_args!("caused by: {cause}"))?;
                        source = cause.source();
                    }
                }
                Member::Group { .. } if depth > MAX_GROUP_DEPTH => {
                    w.emit(
                        depth,
                        format_args!("... (max_group_depth is {MAX_GROUP_DEPTH})"),
                    )?;
                }
                Member::Group { task, group } => {
                    w.emit(depth, format_args!("{task}: {}", OneLine(group)))?;
                    // Python resets `need_close` here; an empty group (which Python cannot have)
                    // shows no member, so it leaves the closing line to its parent.
                    if !group.is_empty() {
                        need_close = false;
                    }
                    stack.push(Frame::new(group));
                    // `finish_member` runs when the nested group's frame is popped.
                    continue;
                }
            }
        }
        finish_member(&mut w, &mut depth, &mut need_close, last)?;
    }
    Ok(())
}
