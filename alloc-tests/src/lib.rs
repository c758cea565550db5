//! The heap allocations of taskgroup's hot paths, counted in `tests/allocations.rs`.
//!
//! A crate of its own because its tests install a counting global allocator, which would
//! otherwise count (and slow down) every other test, example and benchmark of the workspace.
