//! How an [`ErrorGroup`] prints: `{}` (one line that names the failed tasks), `{:#}` (the box
//! format of Python's `traceback` module), `Debug` (the same tree, for `fn main` and
//! `unwrap`), and `std::error::Error` (a `source()` chain with every task and its error, for
//! reporters such as anyhow's). A [`Member`]'s `Debug` is derive-like, and depth-bounded.

use std::any::Any;
use std::error::Error;
use std::fmt::{self, Debug, Display, Formatter, Write as _};
use std::mem;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use super::{BoxError, ErrorGroup, Member};
use crate::task_name::TaskName;

/// How many members of one group `{:#}` shows before `and N more errors` (Python's `max_group_width`).
const MAX_GROUP_WIDTH: usize = 15;
/// How deep `{:#}` descends into nested groups (Python's `max_group_depth`).
const MAX_GROUP_DEPTH: usize = 10;
/// How deep a [`Member`]'s `{:?}` descends into nested groups before eliding them (keeps its
/// stack use bounded).
const MAX_DEBUG_DEPTH: usize = 32;
/// How many failed tasks `{}` names before `and N more`.
const MAX_NAMED: usize = 3;
/// How many failed tasks the `source()` chain lists before `and N more errors`.
const MAX_CAUSES: usize = 15;

// Debug

impl<E: Display + 'static> Debug for ErrorGroup<E> {
    /// The tree of `{:#}`, with its first line (the group's message and size) without the
    /// margin, so that it reads well after `Error: ` (what `fn main() -> Result<(), ErrorGroup>`
    /// prints) or in an `unwrap` panic. `{:#?}` prints the same.
    ///
    /// ```
    /// use taskgroup::{BoxError, ErrorGroup, TaskName};
    ///
    /// let mut group = ErrorGroup::new("task group failed");
    /// group.push_leaf(TaskName::new("user"), BoxError::from("user 42 not found"));
    /// group.push_leaf(TaskName::indexed("links", 1), BoxError::from("HTTP 404"));
    /// assert_eq!(
    ///     format!("{group:?}"),
    ///     "task group failed (2 sub-errors)
    ///   +-+---------------- 1 ----------------
    ///     | user: user 42 not found
    ///     +---------------- 2 ----------------
    ///     | links[1]: HTTP 404
    ///     +------------------------------------"
    /// );
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        render_tree(self, f, Header::Plain)
    }
}

// The derive-like `Debug` of a member, depth-bounded.

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

// Display and Error

/// `"{message} ({n} sub-error)"` / `"({n} sub-errors)"`, `n` the number of direct members:
/// Python's `str(eg)`, and the first line of each group in the tree.
struct OneLine<'a, E>(&'a ErrorGroup<E>);

impl<E> Display for OneLine<'_, E> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{} ({n} sub-error{plural})", self.0.message)
    }
}

/// The task names on the way from a group to one of its leaves, `/`-separated:
/// `children/pages[3]` is the leaf of task `pages[3]` in the group that task `children` ran.
/// A path deeper than [`MAX_PATH`] keeps its first and last names around `...`.
struct Path<'p, 'a>(&'p [&'a TaskName]);

/// How many names a [`Path`] shows in full.
const MAX_PATH: usize = 4;

impl Display for Path<'_, '_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let tasks = self.0;
        let shown: &mut dyn Iterator<Item = Option<&TaskName>> = if tasks.len() <= MAX_PATH {
            &mut tasks.iter().copied().map(Some)
        } else {
            let (head, tail) = (&tasks[..MAX_PATH - 2], &tasks[tasks.len() - 1..]);
            &mut head
                .iter()
                .copied()
                .map(Some)
                .chain([None])
                .chain(tail.iter().copied().map(Some))
        };
        for (i, task) in shown.enumerate() {
            if i > 0 {
                f.write_char('/')?;
            }
            match task {
                Some(task) => Display::fmt(task, f)?,
                None => f.write_str("...")?,
            }
        }
        Ok(())
    }
}

/// Visits the leaves depth-first, each with its [`Path`] (which ends with its own task);
/// iterative, as every walk of the tree is.
fn walk_paths<'a, E>(
    group: &'a ErrorGroup<E>,
    mut visit: impl FnMut(&[&'a TaskName], &'a E) -> ControlFlow<()>,
) {
    let mut stack = vec![group.members.iter()];
    let mut path: Vec<&'a TaskName> = Vec::new();
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
                path.pop();
            }
            Some(Member::Leaf { task, error }) => {
                path.push(task);
                let flow = visit(&path, error);
                path.pop();
                if flow.is_break() {
                    return;
                }
            }
            Some(Member::Group { task, group }) => {
                path.push(task);
                stack.push(group.members.iter());
            }
        }
    }
}

/// `{}`: the group's line, then the first failed tasks by name.
fn summary<E>(group: &ErrorGroup<E>, f: &mut Formatter<'_>) -> fmt::Result {
    OneLine(group).fmt(f)?;
    let mut named = 0;
    let mut result = Ok(());
    walk_paths(group, |path, _| {
        if named == MAX_NAMED {
            return ControlFlow::Break(());
        }
        let separator = if named == 0 { ": " } else { ", " };
        named += 1;
        result = write!(f, "{separator}{}", Path(path));
        if result.is_err() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    result?;
    if named == MAX_NAMED {
        let more = group.leaf_count() - named;
        if more > 0 {
            write!(f, " and {more} more")?;
        }
    }
    Ok(())
}

impl<E: Display + 'static> Display for ErrorGroup<E> {
    /// `{}` prints one line: Python's `str(eg)`, `"message (2 sub-errors)"`, then the failed
    /// tasks by name, nested ones by their path (`children/pages[3]`), the first three and
    /// then how many more: `"task group failed (5 sub-errors): user, links[1], links[2] and
    /// 2 more"`. Their errors are in `{:#}`, in `{:?}` and in the [`source`](Error::source)
    /// chain.
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
            render_tree(self, f, Header::Boxed)
        } else {
            summary(self, f)
        }
    }
}

/// Converts into `Box<dyn Error + Send + Sync>` and `anyhow::Error` with `?` (for
/// `E = BoxError` or any other `Send + Sync + 'static` leaf type).
impl<E: Display + 'static> Error for ErrorGroup<E> {
    /// A chain with one link per failed task, depth-first: `"links[1]: HTTP 404"`, the
    /// leaf's own sources folded into its line (`"links[1]: request failed: connection
    /// refused"`), at most 15 links and then `"and N more errors"`. Reporters that print a
    /// chain (anyhow's `{:?}`, eyre, a `tracing` error field) thus list every task with its
    /// error:
    ///
    /// ```text
    /// Error: task group failed (2 sub-errors): user, links[1]
    ///
    /// Caused by:
    ///     0: user: user 42 not found
    ///     1: links[1]: HTTP 404
    /// ```
    ///
    /// The links are text: to get at a leaf's typed error, use
    /// [`leaves`](ErrorGroup::leaves), [`find`](ErrorGroup::find) or `except*`.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        let first = self.causes.0.get_or_init(|| causes(self));
        first
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

/// The `source()` chain of a group, made on first use.
#[derive(Default)]
pub(super) struct Causes(OnceLock<Option<Box<Cause>>>);

impl Causes {
    /// Forgets the chain: the members changed.
    pub(super) fn reset(&mut self) {
        self.0.take();
    }
}

/// One link of the `source()` chain: a failed task and its error, as text.
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl Display for Cause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Debug for Cause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.text, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.next
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

fn causes<E: Display + 'static>(group: &ErrorGroup<E>) -> Option<Box<Cause>> {
    let mut texts = Vec::new();
    walk_paths(group, |path, error| {
        if texts.len() == MAX_CAUSES {
            return ControlFlow::Break(());
        }
        let mut text = format!("{}: {error}", Path(path));
        let mut source = as_dyn_error(error).and_then(Error::source);
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        texts.push(text);
        ControlFlow::Continue(())
    });
    if texts.len() == MAX_CAUSES {
        let more = group.leaf_count() - MAX_CAUSES;
        if more > 0 {
            let plural = if more == 1 { "" } else { "s" };
            texts.push(format!("and {more} more error{plural}"));
        }
    }
    texts
        .into_iter()
        .rev()
        .fold(None, |next, text| Some(Box::new(Cause { text, next })))
}

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

/// How the tree's first line is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Header {
    /// With Python's indent and margin: `  | message (2 sub-errors)` (`{:#}`).
    Boxed,
    /// As is: `message (2 sub-errors)` (`Debug`).
    Plain,
}

/// `TracebackException.format` for a group, without recursion: `stack` holds the open groups,
/// `depth` is Python's `exception_group_depth`, `need_close` its `_ctx.need_close`.
fn render_tree<E: Display + 'static>(
    root: &ErrorGroup<E>,
    f: &mut Formatter<'_>,
    header: Header,
) -> fmt::Result {
    let mut w = TreeWriter {
        f,
        started: false,
        buf: String::new(),
    };
    // The top-level group is formatted at depth 1.
    let mut depth = 1;
    match header {
        Header::Boxed => w.emit(depth, format_args!("{}", OneLine(root)))?,
        Header::Plain => {
            w.started = true;
            write!(w.f, "{}", OneLine(root))?;
        }
    }
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
