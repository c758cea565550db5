//! [`TaskName`]: the name of the task an error came from.

use std::borrow::Cow;
use std::fmt::{self, Debug, Display, Formatter};
use std::sync::Arc;

/// The name of the task an error came from: its binding name, with an index
/// for the items of a fan-out.
///
/// Displays as `user`, or `pages[3]` for the fourth item of the fan-out `pages`.
///
/// ```
/// use taskgroup::TaskName;
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

impl From<&'static str> for TaskName {
    fn from(name: &'static str) -> Self {
        TaskName::new(name)
    }
}

impl From<String> for TaskName {
    fn from(name: String) -> Self {
        TaskName::owned(name)
    }
}

impl From<Cow<'static, str>> for TaskName {
    fn from(name: Cow<'static, str>) -> Self {
        match name {
            Cow::Borrowed(name) => TaskName::new(name),
            Cow::Owned(name) => TaskName::owned(name),
        }
    }
}
