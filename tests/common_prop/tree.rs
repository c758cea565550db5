//! The random trees: what proptest generates, how it prints, and the plan compiled from it
//! (ids, task names, tokio task numbers) that both the interpreter and the model read.

use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;

/// A group's failure mode, as `taskgroup::Mode` (first-success is left to `test_modes.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    FailFast,
    Supervise,
    Settle,
}

/// What a leaf task does. Durations are in steps (one step is 10 ms of virtual time in the
/// exact tests, 1 ms of real time on the multi-thread runtime).
#[derive(Clone, Debug)]
pub enum Leaf {
    /// Succeeds after `n` steps.
    Ok(u64),
    /// Fails with its own error after `n` steps.
    Fail(u64),
    /// Panics with its own payload after `n` steps.
    Panic(u64),
    /// Never finishes; only cancellation ends it.
    Hang,
    /// Works for `work` steps (forever if `None`); if its group cancels first it notices through
    /// `taskgroup::cancelled()`, cleans up for `clean` steps, then succeeds or (`fail`) fails.
    Cleanup {
        work: Option<u64>,
        clean: u64,
        fail: bool,
    },
    /// After `after` steps, spawns `more` into its own scope with `Scope::spawn_named`; with
    /// `join` it then waits for their values and returns them, else it returns at once. Only
    /// in place in a scope (elsewhere it is compiled as `Ok(after)`).
    SpawnMore {
        after: u64,
        join: bool,
        more: Vec<Leaf>,
    },
}

/// How a group node is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// `taskgroup::scope!(Group::new()..., async |s| { s.spawn_named / s.spawn_parallel ... })`.
    Scope,
    /// `group! { items = for c in children => [spawn] run(c); }`: every child in place, or
    /// every child spawned (the first child's choice).
    FanOut,
    /// A fixed-shape `group!` of `prop_macro.rs` (the root only).
    Shape,
    /// `group! { a = run(c0); b = run(c1); c = run(c2); }`: one to three in-place children, no
    /// option but the mode (fail-fast or supervise). Drawn only by [`node_with_fixed`].
    Fixed,
}

/// A group's options, durations in steps.
#[derive(Clone, Debug)]
pub struct Opts {
    pub timeout: Option<u64>,
    pub limit: Option<usize>,
    pub grace: Option<u64>,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub runner: Runner,
    pub opts: Opts,
    pub children: Vec<Child>,
}

#[derive(Clone, Debug)]
pub struct Child {
    /// Run on the runtime's workers (`spawn_parallel`, or `spawn` in a fan-out).
    pub spawned: bool,
    pub node: Node,
}

#[derive(Clone, Debug)]
pub enum Node {
    Leaf(Leaf),
    Group(Group),
}

/// One generated case: a tree of groups, and the instant (in steps) the test drops it, if any.
#[derive(Clone, Debug)]
pub struct Case {
    pub root: Group,
    pub drop_at: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Printing: a shrunk tree is read by a human
// ---------------------------------------------------------------------------------------------

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leaf::Ok(n) => write!(f, "ok after {n}"),
            Leaf::Fail(n) => write!(f, "FAIL after {n}"),
            Leaf::Panic(n) => write!(f, "PANIC after {n}"),
            Leaf::Hang => write!(f, "hang"),
            Leaf::Cleanup { work, clean, fail } => {
                match work {
                    Some(work) => write!(f, "work {work}")?,
                    None => write!(f, "work forever")?,
                }
                write!(
                    f,
                    ", on cancel clean up {clean} then {}",
                    if *fail { "FAIL" } else { "ok" }
                )
            }
            Leaf::SpawnMore { after, join, more } => {
                write!(
                    f,
                    "after {after} spawn [{}]{}",
                    more.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    if *join { " and join them" } else { "" }
                )
            }
        }
    }
}

impl fmt::Display for Opts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.mode)?;
        if let Some(timeout) = self.timeout {
            write!(f, " timeout={timeout}")?;
        }
        if let Some(limit) = self.limit {
            write!(f, " limit={limit}")?;
        }
        if let Some(grace) = self.grace {
            write!(f, " grace={grace}")?;
        }
        Ok(())
    }
}

impl Group {
    fn write(&self, f: &mut fmt::Formatter<'_>, indent: usize) -> fmt::Result {
        writeln!(f, "{:?} group [{}]", self.runner, self.opts)?;
        for (i, child) in self.children.iter().enumerate() {
            write!(
                f,
                "{:indent$}  {i}{} ",
                "",
                if child.spawned { " spawn" } else { "" },
                indent = indent
            )?;
            match &child.node {
                Node::Leaf(leaf) => writeln!(f, "{leaf}")?,
                Node::Group(group) => group.write(f, indent + 2)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.drop_at {
            Some(at) => writeln!(f, "root dropped at step {at}")?,
            None => writeln!(f, "root not dropped")?,
        }
        self.root.write(f, 0)
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Shapes of the generated trees.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Levels of groups below the root (the root is level 0).
    pub depth: u32,
    /// Children per group, at most.
    pub width: usize,
    /// Longest delay, in steps.
    pub max_steps: u64,
    /// The probability that the root is dropped at a random instant (1.0: always).
    pub drop_probability: f64,
    /// Drop instants are drawn from `1..=drop_max` steps.
    pub drop_max: u64,
}

/// Relative weights of the leaves' behaviours, drawn once per case so that some trees mostly
/// succeed (and check the values bound), some fail a lot, and some panic.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    pub ok: u32,
    pub fail: u32,
    pub panic: u32,
    pub hang: u32,
    pub cleanup: u32,
    pub spawn_more: u32,
}

pub fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![
        3 => Just(Profile { ok: 10, fail: 1, panic: 0, hang: 0, cleanup: 2, spawn_more: 2 }),
        5 => Just(Profile { ok: 5, fail: 4, panic: 0, hang: 2, cleanup: 4, spawn_more: 2 }),
        2 => Just(Profile { ok: 5, fail: 3, panic: 1, hang: 2, cleanup: 3, spawn_more: 2 }),
    ]
}

fn steps(shape: Shape) -> impl Strategy<Value = u64> + Clone {
    1..=shape.max_steps
}

fn weighted<T: fmt::Debug + 'static>(
    options: Vec<(u32, BoxedStrategy<T>)>,
) -> impl Strategy<Value = T> + Clone {
    proptest::strategy::Union::new_weighted(
        options
            .into_iter()
            .filter(|(weight, _)| *weight > 0)
            .collect(),
    )
}

/// A leaf without `SpawnMore`.
pub fn simple_leaf(shape: Shape, p: Profile) -> impl Strategy<Value = Leaf> + Clone {
    let d = steps(shape);
    let work = if p.hang == 0 {
        d.clone().prop_map(Some).boxed()
    } else {
        proptest::option::weighted(0.6, d.clone()).boxed()
    };
    weighted(vec![
        (p.ok, d.clone().prop_map(Leaf::Ok).boxed()),
        (p.fail, d.clone().prop_map(Leaf::Fail).boxed()),
        (p.panic, d.clone().prop_map(Leaf::Panic).boxed()),
        (p.hang, Just(Leaf::Hang).boxed()),
        (
            p.cleanup,
            (work, d, any::<bool>())
                .prop_map(move |(work, clean, fail)| Leaf::Cleanup {
                    work,
                    clean,
                    fail: fail && p.fail > 1,
                })
                .boxed(),
        ),
    ])
}

pub fn leaf(shape: Shape, p: Profile) -> impl Strategy<Value = Leaf> + Clone {
    let more = proptest::collection::vec(simple_leaf(shape, p), 1..=3);
    weighted(vec![
        (12, simple_leaf(shape, p).boxed()),
        (
            p.spawn_more,
            (steps(shape), any::<bool>(), more)
                .prop_map(|(after, join, more)| Leaf::SpawnMore { after, join, more })
                .boxed(),
        ),
    ])
}

pub fn opts(shape: Shape) -> impl Strategy<Value = Opts> + Clone {
    (
        proptest::option::weighted(0.3, 1..=shape.max_steps + 5),
        proptest::option::weighted(0.3, 1..=4usize),
        proptest::option::weighted(0.35, 1..=shape.max_steps),
        prop_oneof![6 => Just(Mode::FailFast), 2 => Just(Mode::Supervise), 1 => Just(Mode::Settle)],
    )
        .prop_map(|(timeout, limit, grace, mode)| Opts {
            timeout,
            limit,
            grace,
            mode,
        })
}

fn runner() -> impl Strategy<Value = Runner> + Clone {
    prop_oneof![3 => Just(Runner::Scope), 1 => Just(Runner::FanOut)]
}

pub fn node(shape: Shape, p: Profile) -> impl Strategy<Value = Node> {
    node_from(shape, p, runner().boxed())
}

/// [`node`], whose groups are also `Runner::Fixed` groups: then with at most three
/// children, all in place, and no option but the mode (fail-fast or supervise).
pub fn node_with_fixed(shape: Shape, p: Profile) -> impl Strategy<Value = Node> {
    let runner = prop_oneof![
        3 => Just(Runner::Scope),
        1 => Just(Runner::FanOut),
        2 => Just(Runner::Fixed)
    ];
    node_from(shape, p, runner.boxed())
}

fn node_from(
    shape: Shape,
    p: Profile,
    runner: BoxedStrategy<Runner>,
) -> impl Strategy<Value = Node> {
    let width = shape.width;
    leaf(shape, p).prop_map(Node::Leaf).prop_recursive(
        shape.depth,
        // Desired total size; keeps trees small enough that no tokio task polls more than the
        // coop budget's worth of timers in one instant.
        40,
        width as u32,
        move |inner| {
            (
                runner.clone(),
                opts(shape),
                proptest::collection::vec((proptest::bool::weighted(0.3), inner), 0..=width),
            )
                .prop_map(|(runner, mut opts, mut children)| {
                    if runner == Runner::Fixed {
                        opts.timeout = None;
                        opts.limit = None;
                        opts.grace = None;
                        if opts.mode == Mode::Settle {
                            opts.mode = Mode::Supervise;
                        }
                        children.truncate(3);
                        for child in &mut children {
                            child.0 = false;
                        }
                    }
                    let keep = runner != Runner::Fixed || !children.is_empty();
                    Node::Group(Group {
                        // A fixed group has at least one task: an empty one is a scope.
                        runner: if keep { runner } else { Runner::Scope },
                        opts,
                        children: children
                            .into_iter()
                            .map(|(spawned, node)| Child { spawned, node })
                            .collect(),
                    })
                })
        },
    )
}

pub fn case(shape: Shape) -> impl Strategy<Value = Case> {
    profile().prop_flat_map(move |p| case_with(shape, p))
}

fn case_with(shape: Shape, p: Profile) -> impl Strategy<Value = Case> {
    let children = proptest::collection::vec(
        (proptest::bool::weighted(0.3), node(shape, p)),
        1..=shape.width,
    );
    let drop_at = if shape.drop_probability >= 1.0 {
        (1..=shape.drop_max).prop_map(Some).boxed()
    } else {
        proptest::option::weighted(shape.drop_probability, 1..=shape.drop_max).boxed()
    };
    (runner(), opts(shape), children, drop_at).prop_map(|(runner, opts, children, drop_at)| Case {
        root: Group {
            runner,
            opts,
            children: children
                .into_iter()
                .map(|(spawned, node)| Child { spawned, node })
                .collect(),
        },
        drop_at,
    })
}

// ---------------------------------------------------------------------------------------------
// The plan: the tree with ids, names and tokio task numbers, durations in milliseconds
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
pub enum PKind {
    Ok(u64),
    Fail(u64),
    Panic(u64),
    Hang,
    Cleanup {
        work: Option<u64>,
        clean: u64,
        fail: bool,
    },
    SpawnMore {
        after: u64,
        join: bool,
        more: Vec<Arc<PChild>>,
    },
}

#[derive(Debug)]
pub struct PLeaf {
    pub id: u32,
    pub kind: PKind,
    /// The tokio task that polls it: 0 for the test's own task, else a spawned child's.
    pub task: u32,
}

#[derive(Debug)]
pub struct PGroup {
    pub gid: u32,
    pub runner: Runner,
    pub timeout: Option<u64>,
    pub limit: Option<usize>,
    pub grace: Option<u64>,
    pub mode: Mode,
    pub children: Vec<Arc<PChild>>,
    /// The tokio task that polls its driver.
    pub task: u32,
    /// Its `ErrorGroup`'s message.
    pub message: String,
    /// A settle-mode `group!`: its children's errors are values, not errors.
    pub settles: bool,
}

#[derive(Debug)]
pub enum PNode {
    Leaf(PLeaf),
    Group(Arc<PGroup>),
}

#[derive(Debug)]
pub struct PChild {
    /// Its task name in its group's error reports.
    pub name: String,
    pub spawned: bool,
    pub node: PNode,
}

/// What the checks need to know about a leaf.
#[derive(Clone, Debug)]
pub struct LeafInfo {
    /// Task names from the root group's member down to the leaf.
    pub path: Vec<String>,
    pub task: u32,
    /// Its error is a value of its group (a settle-mode `group!`), not raised.
    pub settled: bool,
}

/// What the checks need to know about a group.
#[derive(Clone, Debug)]
pub struct GroupInfo {
    /// Task names from the root group's member down to the group (empty for the root).
    pub path: Vec<String>,
    pub message: String,
    pub limit: Option<usize>,
    pub timeout: bool,
}

#[derive(Debug)]
pub struct Plan {
    pub root: Arc<PGroup>,
    pub leaves: Vec<LeafInfo>,
    pub groups: Vec<GroupInfo>,
    /// Milliseconds per step.
    pub step_ms: u64,
    /// When the test drops the root, in ms (an hour of virtual time if the case does not).
    pub bound: u64,
    pub tasks: u32,
}

/// The message of a group's `ErrorGroup`.
pub fn scope_message(gid: u32) -> String {
    format!("group `g{gid}` failed")
}

pub const FAN_MESSAGE: &str = "group `fan` failed";

/// The message of a `Runner::Fixed` group.
pub const FIXED_MESSAGE: &str = "group `fixed` failed";

/// An hour, in ms: how long a case that is not dropped may run before it counts as hung.
pub const HANG_BOUND_MS: u64 = 3_600_000;

impl Plan {
    pub fn compile(case: &Case, step_ms: u64) -> Plan {
        let mut builder = Builder {
            leaves: Vec::new(),
            groups: Vec::new(),
            step_ms,
            tasks: 1,
        };
        let root = builder.group(&case.root, 0, Vec::new());
        Plan {
            root,
            leaves: builder.leaves,
            groups: builder.groups,
            step_ms,
            bound: case.drop_at.map_or(HANG_BOUND_MS, |steps| steps * step_ms),
            tasks: builder.tasks,
        }
    }

    /// A plan for a group built by hand (the fixed `group!` shapes).
    pub fn from_parts(builder: Builder, root: Arc<PGroup>, bound: u64) -> Plan {
        Plan {
            root,
            leaves: builder.leaves,
            groups: builder.groups,
            step_ms: builder.step_ms,
            bound,
            tasks: builder.tasks,
        }
    }
}

/// Numbers leaves, groups and tokio tasks while it compiles a tree.
#[derive(Debug)]
pub struct Builder {
    pub leaves: Vec<LeafInfo>,
    pub groups: Vec<GroupInfo>,
    pub step_ms: u64,
    pub tasks: u32,
}

impl Builder {
    pub fn new(step_ms: u64) -> Self {
        Builder {
            leaves: Vec::new(),
            groups: Vec::new(),
            step_ms,
            tasks: 1,
        }
    }

    pub fn new_task(&mut self) -> u32 {
        self.tasks += 1;
        self.tasks - 1
    }

    pub fn leaf(
        &mut self,
        leaf: &Leaf,
        task: u32,
        path: Vec<String>,
        settled: bool,
        scope: Option<(u32, usize)>,
    ) -> PLeaf {
        let ms = self.step_ms;
        let id = self.leaves.len() as u32;
        self.leaves.push(LeafInfo {
            path,
            task,
            settled,
        });
        let kind = match leaf {
            Leaf::Ok(n) => PKind::Ok(n * ms),
            Leaf::Fail(n) => PKind::Fail(n * ms),
            Leaf::Panic(n) => PKind::Panic(n * ms),
            Leaf::Hang => PKind::Hang,
            Leaf::Cleanup { work, clean, fail } => PKind::Cleanup {
                work: work.map(|n| n * ms),
                clean: clean * ms,
                fail: *fail,
            },
            Leaf::SpawnMore { after, join, more } => match scope {
                // In place in a scope: its extra tasks are in-place children of the same
                // scope, named after the leaf.
                Some((_, index)) => {
                    let group_path = &self.leaves[id as usize].path;
                    let group_path = group_path[..group_path.len() - 1].to_vec();
                    let more = more
                        .iter()
                        .enumerate()
                        .map(|(j, extra)| {
                            let name = format!("c{index}m{j}");
                            let mut path = group_path.clone();
                            path.push(name.clone());
                            let extra = match extra {
                                Leaf::SpawnMore { after, .. } => Leaf::Ok(*after),
                                other => other.clone(),
                            };
                            Arc::new(PChild {
                                name,
                                spawned: false,
                                node: PNode::Leaf(self.leaf(&extra, task, path, false, None)),
                            })
                        })
                        .collect();
                    PKind::SpawnMore {
                        after: after * ms,
                        join: *join,
                        more,
                    }
                }
                None => PKind::Ok(after * ms),
            },
        };
        PLeaf { id, kind, task }
    }

    pub fn group(&mut self, group: &Group, task: u32, path: Vec<String>) -> Arc<PGroup> {
        let ms = self.step_ms;
        let gid = self.groups.len() as u32;
        let (message, mode) = match group.runner {
            Runner::Scope | Runner::Shape => (scope_message(gid), group.opts.mode),
            Runner::Fixed => (FIXED_MESSAGE.to_owned(), group.opts.mode),
            Runner::FanOut => (
                FAN_MESSAGE.to_owned(),
                // `group!`'s settle mode binds `Result`s: left to the fixed shapes.
                match group.opts.mode {
                    Mode::Settle => Mode::Supervise,
                    mode => mode,
                },
            ),
        };
        self.groups.push(GroupInfo {
            path: path.clone(),
            message: message.clone(),
            limit: group.opts.limit,
            timeout: group.opts.timeout.is_some(),
        });
        let fan_spawned = group.children.first().is_some_and(|child| child.spawned);
        let mut spawned_count = 0;
        let mut children = Vec::new();
        for (index, child) in group.children.iter().enumerate() {
            let spawned = match group.runner {
                Runner::Scope | Runner::Shape | Runner::Fixed => child.spawned,
                Runner::FanOut => fan_spawned,
            };
            let name = match group.runner {
                Runner::FanOut | Runner::Shape => format!("items[{index}]"),
                Runner::Fixed => ["a", "b", "c"][index].to_owned(),
                Runner::Scope if spawned => {
                    spawned_count += 1;
                    format!("task-{}", spawned_count - 1)
                }
                Runner::Scope => format!("c{index}"),
            };
            let child_task = if spawned { self.new_task() } else { task };
            let mut child_path = path.clone();
            child_path.push(name.clone());
            let node = match &child.node {
                Node::Leaf(leaf) => {
                    let scope = (group.runner == Runner::Scope && !spawned).then_some((gid, index));
                    PNode::Leaf(self.leaf(leaf, child_task, child_path, false, scope))
                }
                Node::Group(inner) => PNode::Group(self.group(inner, child_task, child_path)),
            };
            children.push(Arc::new(PChild {
                name,
                spawned,
                node,
            }));
        }
        Arc::new(PGroup {
            gid,
            runner: group.runner,
            timeout: group.opts.timeout.map(|n| n * ms),
            limit: group.opts.limit,
            grace: group.opts.grace.map(|n| n * ms),
            mode,
            children,
            task,
            message,
            settles: false,
        })
    }

    /// The root of a fixed-shape `group!`: children with the names the macro gives them.
    pub fn shape_root(
        &mut self,
        opts: &Opts,
        settles: bool,
        children: Vec<(String, bool, Node)>,
    ) -> Arc<PGroup> {
        let ms = self.step_ms;
        let message = "group `shape` failed".to_owned();
        self.groups.push(GroupInfo {
            path: Vec::new(),
            message: message.clone(),
            limit: opts.limit,
            timeout: opts.timeout.is_some(),
        });
        let children = children
            .into_iter()
            .map(|(name, spawned, node)| {
                let task = if spawned { self.new_task() } else { 0 };
                let path = vec![name.clone()];
                let node = match &node {
                    Node::Leaf(leaf) => PNode::Leaf(self.leaf(leaf, task, path, settles, None)),
                    Node::Group(group) => PNode::Group(self.group(group, task, path)),
                };
                Arc::new(PChild {
                    name,
                    spawned,
                    node,
                })
            })
            .collect();
        Arc::new(PGroup {
            gid: 0,
            runner: Runner::Shape,
            timeout: opts.timeout.map(|n| n * ms),
            limit: opts.limit,
            grace: opts.grace.map(|n| n * ms),
            mode: opts.mode,
            children,
            task: 0,
            message,
            settles,
        })
    }
}
