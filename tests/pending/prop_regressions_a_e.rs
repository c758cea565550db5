//! The shrunk cases the properties of `prop_tree.rs` and `prop_macro.rs` found, kept as fixed
//! tests: each states the guarantee it holds, and fails with the property's own report (the
//! tree, the leaves' log, the model's expectation). See RELIABILITY.md, "What the properties
//! found".


mod common_prop;

use common_prop::interp::Ctx;
use common_prop::tree::{Case, Child, Group, Leaf, Mode, Node, Opts, Plan, Runner};
use common_prop::{exact_case, observe, silence_leaf_panics};

fn opts() -> Opts {
    Opts {
        timeout: None,
        limit: None,
        grace: None,
        mode: Mode::FailFast,
    }
}

fn leaf(leaf: Leaf) -> Child {
    Child {
        spawned: false,
        node: Node::Leaf(leaf),
    }
}

fn spawned(mut child: Child) -> Child {
    child.spawned = true;
    child
}

fn group(runner: Runner, opts: Opts, children: Vec<Child>) -> Child {
    Child {
        spawned: false,
        node: Node::Group(Group {
            runner,
            opts,
            children,
        }),
    }
}

fn scope(opts: Opts, children: Vec<Child>) -> Child {
    group(Runner::Scope, opts, children)
}

fn root(runner: Runner, opts: Opts, children: Vec<Child>, drop_at: Option<u64>) -> Case {
    Case {
        root: Group {
            runner,
            opts,
            children,
        },
        drop_at,
    }
}

fn holds(case: &Case) {
    if let Err(violation) = exact_case(case) {
        panic!("\ncase:\n{case}\nviolation: {violation}");
    }
}

/// Every error raised before cancellation is reported: a nested group that collected an error
/// and is then dropped by its parent's fail-fast (here while it gives a task its grace period)
/// hands that error up. (Finding A.)
#[test]
fn errors_of_a_nested_group_dropped_by_its_parent_are_kept() {
    holds(&root(
        Runner::Scope,
        opts(),
        vec![
            scope(
                Opts {
                    grace: Some(10),
                    ..opts()
                },
                vec![
                    leaf(Leaf::Fail(1)),
                    leaf(Leaf::Cleanup {
                        work: None,
                        clean: 5,
                        fail: false,
                    }),
                ],
            ),
            leaf(Leaf::Fail(2)),
        ],
        None,
    ));
}

/// The same through a deadline, nested deeper, in supervise mode: the error at 40 ms is kept
/// when the middle group's deadline drops the inner group at 100 ms. (Finding A.)
#[test]
fn errors_of_a_nested_group_dropped_by_a_deadline_are_kept() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(1),
            ..opts()
        },
        vec![scope(
            Opts {
                mode: Mode::Supervise,
                timeout: Some(10),
                limit: Some(1),
                ..opts()
            },
            vec![
                leaf(Leaf::Ok(3)),
                scope(
                    Opts {
                        mode: Mode::Supervise,
                        ..opts()
                    },
                    vec![
                        leaf(Leaf::Fail(1)),
                        leaf(Leaf::SpawnMore {
                            after: 1,
                            join: false,
                            more: vec![Leaf::Fail(7)],
                        }),
                    ],
                ),
            ],
        )],
        None,
    ));
}

/// The same when the nested group runs on a worker: its error is not lost when the task it
/// runs in is aborted. (Findings A and E.)
#[test]
fn errors_of_a_spawned_nested_group_dropped_by_its_parent_are_kept() {
    holds(&root(
        Runner::FanOut,
        Opts {
            timeout: Some(2),
            ..opts()
        },
        vec![scope(
            opts(),
            vec![spawned(scope(
                Opts {
                    grace: Some(1),
                    ..opts()
                },
                vec![leaf(Leaf::Ok(2)), leaf(Leaf::Fail(1))],
            ))],
        )],
        None,
    ));
}

/// "A task spawned on the runtime's workers is joined, not just aborted": also when it belongs
/// to a nested group that its parent drops. Nothing of the tree is alive when the root returns.
/// (Finding E.)
#[test]
fn nested_spawned_tasks_are_joined_before_the_root_returns() {
    silence_leaf_panics();
    let case = root(
        Runner::Scope,
        opts(),
        vec![
            scope(
                Opts {
                    timeout: Some(1),
                    ..opts()
                },
                vec![leaf(Leaf::Ok(1))],
            ),
            scope(opts(), vec![spawned(leaf(Leaf::Ok(1)))]),
        ],
        None,
    );
    let plan = Plan::compile(&case, 10);
    let observed = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(async { observe(&plan, Ctx::new(&plan), false).await });
    assert_eq!(
        observed.live_at_end, 0,
        "{} task(s) of the tree still alive when the root returned ({:?})",
        observed.live_at_end, observed.outcome
    );
}

