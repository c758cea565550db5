//! `group!` itself under randomized fault injection: fixed shapes, since the macro
//! needs a static arity, whose tasks are random trees: an in-place task, a spawned task, an
//! in-place fan-out and a spawned fan-out, with random options and modes (settle included),
//! checked against the same model and invariants as `prop_tree.rs`.

mod common;
mod common_prop;

use std::fmt;
use std::sync::Arc;

use common_prop::interp::{Boom, Ctx, FAR, NodeError, TaskFuture, Value, child_future, ms};
use common_prop::tree::{
    Builder, Mode, Node, Opts, PChild, PGroup, Plan, Shape, node, node_with_fixed, opts, profile,
    simple_leaf,
};
use common_prop::{exact_plan, run_property};
use proptest::prelude::*;
use taskgroup::ErrorGroup;

const SHAPE: Shape = Shape {
    depth: 2,
    width: 4,
    max_steps: 10,
    drop_probability: 0.2,
    drop_max: 40,
};

/// `group! { a = t; b = spawn t; c = for t in cs => t; d = for t in ds => spawn t; }`.
#[derive(Clone, Debug)]
struct ShapeCase {
    opts: Opts,
    settle: bool,
    a: Node,
    b: Node,
    c: Vec<Node>,
    d: Vec<Node>,
    drop_at: Option<u64>,
}

impl fmt::Display for ShapeCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "group! [{}{}], root {}",
            self.opts,
            if self.settle { ", settle" } else { "" },
            match self.drop_at {
                Some(at) => format!("dropped at step {at}"),
                None => "not dropped".to_owned(),
            }
        )?;
        let show = |node: &Node| match node {
            Node::Leaf(leaf) => leaf.to_string(),
            Node::Group(group) => format!("{group:?}"),
        };
        writeln!(f, "  a = {}", show(&self.a))?;
        writeln!(f, "  b = spawn {}", show(&self.b))?;
        for (i, c) in self.c.iter().enumerate() {
            writeln!(f, "  c[{i}] = {}", show(c))?;
        }
        for (i, d) in self.d.iter().enumerate() {
            writeln!(f, "  d[{i}] = spawn {}", show(d))?;
        }
        Ok(())
    }
}

fn shape_case() -> impl Strategy<Value = ShapeCase> {
    profile().prop_flat_map(|p| {
        let node = move || node(SHAPE, p);
        (
            opts(SHAPE),
            node(),
            node(),
            proptest::collection::vec(node(), 0..=3),
            proptest::collection::vec(node(), 0..=3),
            proptest::option::weighted(SHAPE.drop_probability, 1..=SHAPE.drop_max),
        )
            .prop_map(|(mut opts, a, b, c, d, drop_at)| {
                if opts.mode == Mode::Settle {
                    // Settle mode is the leaves-only shape below.
                    opts.mode = Mode::Supervise;
                }
                ShapeCase {
                    opts,
                    settle: false,
                    a,
                    b,
                    c,
                    d,
                    drop_at,
                }
            })
    })
}

/// Settle mode binds each task's `Result`: leaves only, so that each error is one value.
fn settle_case() -> impl Strategy<Value = ShapeCase> {
    profile().prop_flat_map(|p| {
        let leaf = move || simple_leaf(SHAPE, p).prop_map(Node::Leaf);
        (
            opts(SHAPE),
            leaf(),
            leaf(),
            proptest::collection::vec(leaf(), 0..=3),
            proptest::collection::vec(leaf(), 0..=3),
            proptest::option::weighted(SHAPE.drop_probability, 1..=SHAPE.drop_max),
        )
            .prop_map(|(mut opts, a, b, c, d, drop_at)| {
                opts.mode = Mode::Settle;
                ShapeCase {
                    opts,
                    settle: true,
                    a,
                    b,
                    c,
                    d,
                    drop_at,
                }
            })
    })
}

fn plan(case: &ShapeCase) -> Plan {
    let mut builder = Builder::new(10);
    let mut children = vec![
        ("a".to_owned(), false, case.a.clone()),
        ("b".to_owned(), true, case.b.clone()),
    ];
    for (i, c) in case.c.iter().enumerate() {
        children.push((format!("c[{i}]"), false, c.clone()));
    }
    for (i, d) in case.d.iter().enumerate() {
        children.push((format!("d[{i}]"), true, d.clone()));
    }
    let root = builder.shape_root(&case.opts, case.settle, children);
    let bound = case
        .drop_at
        .map_or(common_prop::tree::HANG_BOUND_MS, |steps| steps * 10);
    Plan::from_parts(builder, root, bound)
}

/// The shape's `group!`, with the options spelled as the macro needs them.
macro_rules! shape {
    ($ctx:ident, $a:ident, $b:ident, $cs:ident, $ds:ident; $($option:tt)*) => {
        async {
            taskgroup::group! {
                #![name = "shape"]
                $($option)*
                a = child_future(&$ctx, 0, &$a);
                b = spawn child_future(&$ctx, 0, &$b);
                c = for kid in $cs.iter().cloned() => child_future(&$ctx, 0, &kid);
                d = for kid in $ds.iter().cloned() => spawn child_future(&$ctx, 0, &kid);
            }
            Ok::<_, ErrorGroup>((a, b, c, d))
        }
        .await
    };
}

/// The fan-outs `c` and `d` bind a `Vec` (a settle-mode fan-out, `Outcomes`).
fn list<T>(
    a: T,
    b: T,
    c: impl IntoIterator<Item = T>,
    d: impl IntoIterator<Item = T>,
    value: impl Fn(T) -> Value,
) -> Value {
    let mut values = vec![Some(value(a)), Some(value(b))];
    values.extend(c.into_iter().map(|v| Some(value(v))));
    values.extend(d.into_iter().map(|v| Some(value(v))));
    Value::List(values)
}

fn settled(result: Result<Value, NodeError>) -> Value {
    match result {
        Ok(value) => value,
        Err(error) => match error.downcast_ref::<Boom>() {
            Some(boom) => Value::Err(boom.0),
            None => Value::List(Vec::new()),
        },
    }
}

async fn shape(ctx: Arc<Ctx>, root: Arc<PGroup>) -> Result<Value, NodeError> {
    let kids = &root.children;
    let (a, b) = (kids[0].clone(), kids[1].clone());
    let part = |prefix: &str| -> Vec<Arc<PChild>> {
        kids.iter()
            .filter(|kid| kid.name.starts_with(prefix))
            .cloned()
            .collect()
    };
    let (cs, ds) = (part("c["), part("d["));
    let (c_len, d_len) = (cs.len(), ds.len());
    let limit = root.limit.unwrap_or(usize::MAX);
    let timeout = root.timeout.map_or(FAR, ms);
    // One group per mode and grace, with `$bounds` (a limit and a deadline, or none).
    macro_rules! by_mode {
        ($($bounds:tt)*) => {
            match (root.mode, root.grace.map(ms)) {
                (Mode::Settle, None) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)* #![mode = settle]);
                    r.map(|(a, b, c, d)| list(a, b, c, d, settled))
                }
                (Mode::Settle, Some(grace)) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)* #![mode = settle] #![grace = grace]);
                    r.map(|(a, b, c, d)| list(a, b, c, d, settled))
                }
                (Mode::FailFast, None) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)*);
                    r.map(|(a, b, c, d)| list(a, b, c, d, |v| v))
                }
                (Mode::FailFast, Some(grace)) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)* #![grace = grace]);
                    r.map(|(a, b, c, d)| list(a, b, c, d, |v| v))
                }
                (Mode::Supervise, None) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)* #![mode = supervise]);
                    r.map(|(a, b, c, d)| list(a, b, c, d, |v| v))
                }
                (Mode::Supervise, Some(grace)) => {
                    let r = shape!(ctx, a, b, cs, ds; $($bounds)* #![mode = supervise] #![grace = grace]);
                    r.map(|(a, b, c, d)| list(a, b, c, d, |v| v))
                }
            }
        };
    }
    // Without a limit or a deadline the macro polls its in-place tasks as plain tasks, which
    // keep no start time and take no slot: the same model holds them to the same rules.
    let result = if root.limit.is_none() && root.timeout.is_none() {
        by_mode!()
    } else {
        by_mode!(#![limit = limit] #![timeout = timeout])
    };
    // A group that returns `Ok` binds every item of its fan-outs.
    if let Ok(Value::List(values)) = &result
        && values.len() != 2 + c_len + d_len
    {
        ctx.violation(format!(
            "VALUE: the group! returned Ok with {} values for {} tasks",
            values.len(),
            2 + c_len + d_len
        ));
    }
    result.map_err(|group| Box::new(group) as NodeError)
}

fn shape_future(ctx: Arc<Ctx>, root: Arc<PGroup>) -> TaskFuture {
    Box::pin(shape(ctx, root))
}

#[test]
fn group_macro_shapes() {
    run_property("group_macro_shapes", 400, shape_case(), |case| {
        exact_plan(&plan(case), shape_future)
    });
}

#[test]
fn group_macro_settle_shapes() {
    run_property("group_macro_settle_shapes", 200, settle_case(), |case| {
        exact_plan(&plan(case), shape_future)
    });
}

/// `group! { a = t; b = t; c = t; }`: in-place tasks, and no option but the mode, the group
/// that keeps nothing but its tasks until something happens that it must react to; its tasks'
/// trees hold such groups too (`Runner::Fixed`), nested in tasks.
#[derive(Clone, Debug)]
struct FixedCase {
    mode: Mode,
    tasks: [Node; 3],
    drop_at: Option<u64>,
}

impl fmt::Display for FixedCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "group! [{:?}], root {}",
            self.mode,
            match self.drop_at {
                Some(at) => format!("dropped at step {at}"),
                None => "not dropped".to_owned(),
            }
        )?;
        for (name, node) in ["a", "b", "c"].iter().zip(&self.tasks) {
            match node {
                Node::Leaf(leaf) => writeln!(f, "  {name} = {leaf}")?,
                Node::Group(group) => writeln!(f, "  {name} = {group:?}")?,
            }
        }
        Ok(())
    }
}

fn fixed_case() -> impl Strategy<Value = FixedCase> {
    profile().prop_flat_map(|p| {
        let node = move || node_with_fixed(SHAPE, p);
        (
            prop_oneof![3 => Just(Mode::FailFast), 1 => Just(Mode::Supervise)],
            [node(), node(), node()],
            proptest::option::weighted(SHAPE.drop_probability, 1..=SHAPE.drop_max),
        )
            .prop_map(|(mode, tasks, drop_at)| FixedCase {
                mode,
                tasks,
                drop_at,
            })
    })
}

fn fixed_plan(case: &FixedCase) -> Plan {
    let mut builder = Builder::new(10);
    let opts = Opts {
        timeout: None,
        limit: None,
        grace: None,
        mode: case.mode,
    };
    let children = ["a", "b", "c"]
        .iter()
        .zip(&case.tasks)
        .map(|(name, node)| ((*name).to_owned(), false, node.clone()))
        .collect();
    let root = builder.shape_root(&opts, false, children);
    let bound = case
        .drop_at
        .map_or(common_prop::tree::HANG_BOUND_MS, |steps| steps * 10);
    Plan::from_parts(builder, root, bound)
}

/// The fixed shape's `group!`, in `$mode`.
macro_rules! fixed_shape {
    ($ctx:ident, $kids:ident; $($mode:tt)*) => {
        async {
            taskgroup::group! {
                #![name = "shape"]
                $($mode)*
                a = child_future(&$ctx, 0, &$kids[0]);
                b = child_future(&$ctx, 0, &$kids[1]);
                c = child_future(&$ctx, 0, &$kids[2]);
            }
            Ok::<_, ErrorGroup>(Value::List(vec![Some(a), Some(b), Some(c)]))
        }
        .await
    };
}

async fn fixed(ctx: Arc<Ctx>, root: Arc<PGroup>) -> Result<Value, NodeError> {
    let kids = &root.children;
    let result = match root.mode {
        Mode::Supervise => fixed_shape!(ctx, kids; #![mode = supervise]),
        _ => fixed_shape!(ctx, kids;),
    };
    result.map_err(|group| Box::new(group) as NodeError)
}

fn fixed_future(ctx: Arc<Ctx>, root: Arc<PGroup>) -> TaskFuture {
    Box::pin(fixed(ctx, root))
}

#[test]
fn group_macro_fixed_shapes() {
    run_property("group_macro_fixed_shapes", 400, fixed_case(), |case| {
        exact_plan(&fixed_plan(case), fixed_future)
    });
}
