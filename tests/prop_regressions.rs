//! The shrunk cases the properties of `prop_tree.rs` and `prop_macro.rs` found, kept as fixed
//! tests: each states the guarantee it holds, and fails with the property's own report (the
//! tree, the leaves' log, the model's expectation). See RELIABILITY.md, "What the properties
//! found".

mod common;
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

/// A group whose enclosing group begins cancelling starts cancelling at that instant, with its
/// own (here: no) grace period, even if none of its tasks watches `cancelled()`: the task due
/// at 40 ms is dropped at 10 ms, not when the root's grace period ends. (Finding C.)
#[test]
fn a_nested_group_cancels_when_its_parent_does() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(1),
            ..opts()
        },
        vec![
            group(Runner::FanOut, opts(), vec![leaf(Leaf::Ok(4))]),
            scope(opts(), vec![leaf(Leaf::Fail(1))]),
        ],
        None,
    ));
}

/// A deadline stops the group in every mode: in supervise mode a task queued at the instant the
/// deadline fires is not started (and, with a grace period, does not run and fail after the
/// deadline). (Finding F.)
#[test]
fn a_deadline_starts_no_task_in_supervise_mode() {
    holds(&root(
        Runner::Scope,
        opts(),
        vec![scope(
            opts(),
            vec![scope(
                Opts {
                    mode: Mode::Supervise,
                    timeout: Some(3),
                    grace: Some(5),
                    ..opts()
                },
                vec![leaf(Leaf::SpawnMore {
                    after: 3,
                    join: false,
                    more: vec![Leaf::Fail(1)],
                })],
            )],
        )],
        None,
    ));
}

/// What is ready at an instant happens before a cancellation decided at that instant: the task
/// that fails at the deadline's instant, in a third nested group, is polled before the root's
/// deadline drops it, even though two other nested groups were polled before it (a
/// `FuturesUnordered` yields after polling every future once). (Finding G.)
#[test]
fn tasks_ready_at_the_cancelling_instant_run_first() {
    holds(&root(
        Runner::FanOut,
        Opts {
            timeout: Some(6),
            ..opts()
        },
        vec![
            scope(
                Opts {
                    mode: Mode::Supervise,
                    ..opts()
                },
                vec![leaf(Leaf::SpawnMore {
                    after: 6,
                    join: false,
                    more: vec![Leaf::Ok(1)],
                })],
            ),
            scope(
                opts(),
                vec![leaf(Leaf::SpawnMore {
                    after: 6,
                    join: false,
                    more: vec![Leaf::Ok(1)],
                })],
            ),
            scope(
                opts(),
                vec![group(
                    Runner::FanOut,
                    opts(),
                    vec![leaf(Leaf::Ok(1)), leaf(Leaf::Fail(6))],
                )],
            ),
        ],
        None,
    ));
}

/// Once a group's enclosing group begins cancelling, the group starts nothing more: a slot
/// freed by that cancellation does not start the next queued task. (Finding H.)
#[test]
fn no_task_starts_once_the_enclosing_group_cancels() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(1),
            ..opts()
        },
        vec![
            scope(opts(), vec![leaf(Leaf::Fail(1))]),
            scope(
                Opts {
                    limit: Some(3),
                    ..opts()
                },
                vec![
                    leaf(Leaf::Ok(2)),
                    leaf(Leaf::Ok(2)),
                    group(Runner::FanOut, opts(), vec![leaf(Leaf::Ok(2))]),
                    leaf(Leaf::Ok(1)),
                ],
            ),
        ],
        None,
    ));
}

/// A nested group that its parent cancels (and gives a grace period) and that has no error of
/// its own is not an error of its parent: no `Cancelled` leaf in the report. (Finding B.)
#[test]
fn a_cancelled_nested_group_is_not_an_error() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(10),
            ..opts()
        },
        vec![
            scope(
                Opts {
                    grace: Some(1),
                    ..opts()
                },
                vec![
                    leaf(Leaf::Hang),
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

/// A `group!` that returns `Ok` binds every task: a fan-out whose last item its cancellation
/// dropped (here: its parent cancels it, and it has no grace period) has no value, and is not
/// `Ok` with the items that finished. (Finding J.)
#[test]
fn a_cancelled_fan_out_does_not_return_a_prefix_of_its_items() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(10),
            ..opts()
        },
        vec![
            group(
                Runner::FanOut,
                opts(),
                vec![leaf(Leaf::Ok(1)), leaf(Leaf::Ok(5))],
            ),
            scope(opts(), vec![leaf(Leaf::Fail(2))]),
        ],
        None,
    ));
}

/// The same when the group stops pulling items (it is cancelling, with a grace period) and the
/// running item then succeeds. (Finding J.)
#[test]
fn a_fan_out_that_stops_pulling_does_not_return_a_prefix_of_its_items() {
    holds(&root(
        Runner::Scope,
        Opts {
            grace: Some(10),
            ..opts()
        },
        vec![
            group(
                Runner::FanOut,
                Opts {
                    limit: Some(1),
                    grace: Some(5),
                    ..opts()
                },
                vec![leaf(Leaf::Ok(3)), leaf(Leaf::Ok(1))],
            ),
            scope(opts(), vec![leaf(Leaf::Fail(2))]),
        ],
        None,
    ));
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

/// A task ready at the instant a sibling panics finishes before the panic drops the rest, as
/// it does at a sibling's error: the leaf due at the panic's instant, after two nested scopes
/// that woke themselves, is polled before the group drops its children. (Finding V.)
#[test]
fn tasks_ready_at_a_panics_instant_run_first() {
    let cleanup = || Leaf::Cleanup {
        work: Some(1),
        clean: 1,
        fail: false,
    };
    holds(&root(
        Runner::Scope,
        opts(),
        vec![
            leaf(Leaf::Panic(1)),
            scope(opts(), vec![leaf(cleanup()), leaf(Leaf::Ok(2))]),
            scope(
                opts(),
                vec![scope(opts(), vec![leaf(Leaf::Ok(2)), leaf(cleanup())])],
            ),
            leaf(Leaf::Ok(1)),
        ],
        None,
    ));
}

/// Errors are listed in completion order even when a nested group hands them up as it is
/// dropped: in the supervise scope `g2`, the error of its leaf at 10 ms comes before the error
/// its nested scope `g3` hands up when the root's cancellation drops both at 20 ms, though
/// `g3`'s mail waited in `g2`'s inbox when `g2` handed up its own. (Finding X.)
#[test]
fn errors_handed_up_by_a_dropped_nested_group_follow_earlier_errors() {
    let supervise = || Opts {
        mode: Mode::Supervise,
        ..opts()
    };
    holds(&root(
        Runner::Scope,
        opts(),
        vec![
            spawned(scope(
                supervise(),
                vec![spawned(scope(
                    supervise(),
                    vec![
                        spawned(scope(
                            supervise(),
                            vec![leaf(Leaf::Fail(1)), leaf(Leaf::Ok(7))],
                        )),
                        leaf(Leaf::Fail(1)),
                    ],
                ))],
            )),
            scope(opts(), vec![leaf(Leaf::Fail(2))]),
        ],
        None,
    ));
}

/// A scope task spawned at the instant its scope fails, and not polled before the failure
/// was recorded, never starts: `c0` spawns `c0m0` at 50 ms, the instant `c3m0` fails, and
/// `c0m0` is dropped unpolled (Python cancels a task that has not had its first step, and its
/// body never runs). (Finding W.)
#[test]
fn a_task_spawned_at_the_instant_its_scope_fails_never_starts() {
    let grace = Opts {
        grace: Some(1),
        ..opts()
    };
    holds(&root(
        Runner::Scope,
        opts(),
        vec![
            leaf(Leaf::SpawnMore {
                after: 5,
                join: false,
                more: vec![Leaf::Ok(1)],
            }),
            scope(
                opts(),
                vec![scope(grace, vec![leaf(Leaf::Ok(6)), leaf(Leaf::Fail(5))])],
            ),
            scope(
                opts(),
                vec![scope(opts(), vec![leaf(Leaf::Ok(5)), leaf(Leaf::Fail(6))])],
            ),
            leaf(Leaf::SpawnMore {
                after: 1,
                join: false,
                more: vec![Leaf::Fail(4)],
            }),
        ],
        None,
    ));
}
