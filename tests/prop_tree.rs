//! Randomized fault injection over trees of groups: random trees of scopes and
//! `group!` fan-outs, in place and spawned, whose leaves succeed, fail, panic, hang, clean up
//! after cancellation or spawn more tasks, with random options, dropped at a random instant.
//! See `RELIABILITY.md` for what each property holds.

mod common;
mod common_prop;

use common_prop::tree::{Shape, case};
use common_prop::{exact_case, multi_thread_case, run_property};

/// Groups nested up to 4 deep (the root and three levels below it, then the leaves), up to 8
/// children per group, delays of 1 to 10 steps.
const SHAPE: Shape = Shape {
    depth: 3,
    width: 8,
    max_steps: 10,
    drop_probability: 0.2,
    drop_max: 40,
};

#[test]
fn exact_trees_on_the_current_thread_runtime() {
    run_property(
        "exact_trees_on_the_current_thread_runtime",
        2000,
        case(SHAPE),
        exact_case,
    );
}

/// On two workers in real time: a step is 1 ms and the root is always dropped by 60 ms.
#[test]
fn trees_on_the_multi_thread_runtime() {
    let shape = Shape {
        drop_probability: 1.0,
        drop_max: 60,
        ..SHAPE
    };
    run_property(
        "trees_on_the_multi_thread_runtime",
        300,
        case(shape),
        multi_thread_case,
    );
}
