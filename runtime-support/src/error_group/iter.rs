//! Walking an [`ErrorGroup`]'s leaves depth-first: [`Leaf`], [`Leaves`] (borrowing) and
//! [`IntoLeaves`] (owning), each iterative so that no nesting depth overflows the stack.

use std::fmt::{self, Debug, Formatter};
use std::iter::FusedIterator;

use super::{ErrorGroup, Member};
use crate::task_name::TaskName;

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

impl<'a, E> IntoIterator for &'a ErrorGroup<E> {
    type Item = Leaf<'a, E>;
    type IntoIter = Leaves<'a, E>;

    fn into_iter(self) -> Self::IntoIter {
        self.leaves()
    }
}

/// Depth-first iterator over the leaves of an [`ErrorGroup`]; see [`ErrorGroup::leaves`].
pub struct Leaves<'a, E> {
    /// One iterator per open group; the root's is at the bottom, so a leaf's depth is `len - 1`.
    pub(super) stack: Vec<std::slice::Iter<'a, Member<E>>>,
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
    pub(super) stack: Vec<std::vec::IntoIter<Member<E>>>,
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
