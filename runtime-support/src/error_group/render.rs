//! How an [`ErrorGroup`] prints: `Debug` (derive-like, depth-bounded), `{}` (one line),
//! `{:#}` (the box format of Python's `traceback` module), and `std::error::Error`.

use std::any::Any;
use std::error::Error;
use std::fmt::{self, Debug, Display, Formatter, Write as _};
use std::mem;

use super::{BoxError, ErrorGroup, Member};

/// How many members of one group `{:#}` shows before `and N more errors` (Python's `max_group_width`).
const MAX_GROUP_WIDTH: usize = 15;
/// How deep `{:#}` descends into nested groups (Python's `max_group_depth`).
const MAX_GROUP_DEPTH: usize = 10;
/// How deep `{:?}` descends into nested groups before eliding them (keeps `Debug` stack use bounded).
const MAX_DEBUG_DEPTH: usize = 32;

// Debug (derive-like, depth-bounded)

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

// Display and Error

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
