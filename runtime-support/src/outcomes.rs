//! [`Outcomes`]: what a fan-out binds in `#![mode = settle]`, each result under its task's
//! name.

use std::fmt;
use std::ops::Deref;

use crate::error_group::{ErrorGroup, TaskName};

/// The results of a fan-out in `#![mode = settle]`, in input order: `Result<T, E>` per item,
/// `E` the task's own error type, as `asyncio.gather(..., return_exceptions=True)` returns
/// them.
///
/// It derefs to `[Result<T, E>]` and iterates like the `Vec` it holds; what it adds is the
/// fan-out's name, so that the failures come out named as the group names them
/// (`pages[13]`), with nothing rebuilt by hand. [`split`](Self::split) is the recipe for
/// "keep going": the values of every task that succeeded, and the failures as one
/// [`ErrorGroup`] to report or to raise.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use taskgroup::group;
///
/// async fn fetch(page: u32) -> Result<String, std::io::Error> {
///     match page {
///         3 | 7 => Err(std::io::Error::other(format!("page {page}: 503"))),
///         _ => Ok(format!("page {page}")),
///     }
/// }
///
/// group! {
///     #![mode = settle]
///     #![limit = 4]
///     pages = for page in 0..10 => fetch(page);
/// }
/// let (fetched, failed) = pages.split();
/// assert_eq!(fetched.len(), 8);
/// let failed = failed.unwrap();
/// assert_eq!(
///     failed.to_string(),
///     "fan-out `pages` failed (2 sub-errors): pages[3], pages[7]"
/// );
/// # }
/// ```
pub struct Outcomes<T, E> {
    name: &'static str,
    results: Vec<Result<T, E>>,
}

impl<T, E> Outcomes<T, E> {
    pub(crate) const fn new(name: &'static str, results: Vec<Result<T, E>>) -> Self {
        Outcomes { name, results }
    }

    /// The fan-out's name: its binding, as in `name[i]`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The results, in input order.
    pub fn into_vec(self) -> Vec<Result<T, E>> {
        self.results
    }

    /// The values of the items that succeeded, in input order, and the failures as one
    /// [`ErrorGroup`] (`None` if none failed), each leaf named after its item (`pages[3]`),
    /// in input order.
    pub fn split(self) -> (Vec<T>, Option<ErrorGroup<E>>) {
        let name = self.name;
        let mut values = Vec::new();
        let mut failed = ErrorGroup::new(format!("fan-out `{name}` failed"));
        for (index, result) in self.results.into_iter().enumerate() {
            match result {
                Ok(value) => values.push(value),
                Err(error) => failed.push_leaf(TaskName::indexed(name, index), error),
            }
        }
        (values, (!failed.is_empty()).then_some(failed))
    }

    /// Every value if every item succeeded, else the failures (as [`split`](Self::split)
    /// names them): the fan-out as `supervise` mode would have raised it, with the values
    /// kept when nothing failed.
    pub fn into_result(self) -> Result<Vec<T>, ErrorGroup<E>> {
        match self.split() {
            (values, None) => Ok(values),
            (_, Some(failed)) => Err(failed),
        }
    }
}

impl<T, E> Deref for Outcomes<T, E> {
    type Target = [Result<T, E>];

    fn deref(&self) -> &[Result<T, E>] {
        &self.results
    }
}

impl<T, E> IntoIterator for Outcomes<T, E> {
    type Item = Result<T, E>;
    type IntoIter = std::vec::IntoIter<Result<T, E>>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.into_iter()
    }
}

impl<'a, T, E> IntoIterator for &'a Outcomes<T, E> {
    type Item = &'a Result<T, E>;
    type IntoIter = std::slice::Iter<'a, Result<T, E>>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.iter()
    }
}

impl<T, E> From<Outcomes<T, E>> for Vec<Result<T, E>> {
    fn from(outcomes: Outcomes<T, E>) -> Self {
        outcomes.results
    }
}

/// As the `Vec` of results.
impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Outcomes<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.results.fmt(f)
    }
}

impl<T: PartialEq, E: PartialEq> PartialEq for Outcomes<T, E> {
    fn eq(&self, other: &Self) -> bool {
        self.results == other.results
    }
}

impl<T: PartialEq, E: PartialEq> PartialEq<Vec<Result<T, E>>> for Outcomes<T, E> {
    fn eq(&self, other: &Vec<Result<T, E>>) -> bool {
        self.results == *other
    }
}
