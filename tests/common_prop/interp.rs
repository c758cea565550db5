//! Runs a plan with taskgroup: each group node with `taskgroup::scope!` or `group!`, each leaf as an
//! instrumented future that logs what happened to it, when, and counts itself alive.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskgroup::{BoxError, ErrorGroup, Scope};
use tokio::time::Instant;

use super::tree::{Mode, PChild, PGroup, PKind, PLeaf, PNode, Plan, Runner};

/// A task's value: what a leaf returns, or a group's values in order (`None` for a task that
/// did not succeed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Leaf(u32),
    List(Vec<Option<Value>>),
    /// A settled error, in a settle-mode `group!`: the failing leaf.
    Err(u32),
}

/// The error a failing leaf returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boom(pub u32);

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leaf {} failed", self.0)
    }
}

impl std::error::Error for Boom {}

/// The error type of every task of the trees. (A `group!` of tasks failing with it must be
/// `Send`: the spawned fan-outs box theirs as `dyn Future + Send`.)
pub type NodeError = BoxError;

fn leaf_error(id: u32) -> NodeError {
    Box::new(Boom(id))
}

/// The payload a panicking leaf panics with (not a string: it must come back as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanicPayload(pub u32);

/// What happened to a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum What {
    Start,
    Ok,
    Err,
    Panic,
    Dropped,
}

#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub leaf: u32,
    pub what: What,
    /// Milliseconds since the root started.
    pub at: u64,
}

/// Tasks in flight in one group, as its children see them.
#[derive(Debug, Default)]
pub struct Tracker {
    current: AtomicUsize,
    max: AtomicUsize,
}

impl Tracker {
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }
}

struct InFlight<'a>(&'a Tracker);

impl<'a> InFlight<'a> {
    fn enter(tracker: &'a Tracker) -> Self {
        let now = tracker.current.fetch_add(1, Ordering::SeqCst) + 1;
        tracker.max.fetch_max(now, Ordering::SeqCst);
        InFlight(tracker)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every task of one run shares.
#[derive(Debug)]
pub struct Ctx {
    pub start: Instant,
    pub log: Mutex<Vec<Event>>,
    /// Leaves alive (created and not yet dropped), everywhere.
    pub live: AtomicUsize,
    /// Leaves alive that are polled by the test's own task (in place all the way up).
    pub live_in_place: AtomicUsize,
    /// Per group id.
    pub trackers: Vec<Tracker>,
    /// Where the leaves live (per leaf id: tokio task number).
    leaf_tasks: Vec<u32>,
    /// What a group returned that it may not: checked with the rest at the end.
    pub violations: Mutex<Vec<String>>,
    /// The leaves that were told their group is cancelling (their `cancelled()` resolved):
    /// dropped when a grace period runs out, they are reported as `GraceElapsed`.
    pub told: Mutex<Vec<u32>>,
}

impl Ctx {
    pub fn new(plan: &Plan) -> Arc<Ctx> {
        Arc::new(Ctx {
            start: Instant::now(),
            log: Mutex::new(Vec::new()),
            live: AtomicUsize::new(0),
            live_in_place: AtomicUsize::new(0),
            trackers: (0..plan.groups.len()).map(|_| Tracker::default()).collect(),
            leaf_tasks: plan.leaves.iter().map(|leaf| leaf.task).collect(),
            violations: Mutex::new(Vec::new()),
            told: Mutex::new(Vec::new()),
        })
    }

    pub fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn push(&self, leaf: u32, what: What) {
        let at = self.now();
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Event { leaf, what, at });
    }

    pub fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Records that a group returned something it may not.
    pub fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    pub fn live_in_place(&self) -> usize {
        self.live_in_place.load(Ordering::SeqCst)
    }
}

/// A leaf's life: logs its start when created (at the leaf's first poll), its end when told,
/// and `Dropped` if it is dropped before it ended. Counts itself alive meanwhile.
struct Life {
    ctx: Arc<Ctx>,
    leaf: u32,
    in_place: bool,
    ended: bool,
}

impl Life {
    fn start(ctx: &Arc<Ctx>, leaf: u32) -> Life {
        let in_place = ctx.leaf_tasks[leaf as usize] == 0;
        ctx.live.fetch_add(1, Ordering::SeqCst);
        if in_place {
            ctx.live_in_place.fetch_add(1, Ordering::SeqCst);
        }
        ctx.push(leaf, What::Start);
        Life {
            ctx: ctx.clone(),
            leaf,
            in_place,
            ended: false,
        }
    }

    fn end(&mut self, what: What) {
        self.ended = true;
        self.ctx.push(self.leaf, what);
    }
}

impl Drop for Life {
    fn drop(&mut self) {
        if !self.ended {
            self.ctx.push(self.leaf, What::Dropped);
        }
        self.ctx.live.fetch_sub(1, Ordering::SeqCst);
        if self.in_place {
            self.ctx.live_in_place.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, NodeError>> + Send + 'static>>;

pub use crate::common::ms;

/// No timeout: longer than any case runs.
pub const FAR: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A child of group `gid`: counted in the group's tracker while it is alive.
pub fn child_future(ctx: &Arc<Ctx>, gid: u32, child: &Arc<PChild>) -> TaskFuture {
    let ctx = ctx.clone();
    let child = child.clone();
    Box::pin(async move {
        let _in_flight = InFlight::enter(&ctx.trackers[gid as usize]);
        match &child.node {
            PNode::Leaf(leaf) => leaf_future(&ctx, leaf).await,
            PNode::Group(group) => group_future(ctx.clone(), group.clone()).await,
        }
    })
}

async fn leaf_future(ctx: &Arc<Ctx>, leaf: &PLeaf) -> Result<Value, NodeError> {
    let mut life = Life::start(ctx, leaf.id);
    let id = leaf.id;
    match &leaf.kind {
        PKind::Ok(n) => {
            tokio::time::sleep(ms(*n)).await;
            life.end(What::Ok);
            Ok(Value::Leaf(id))
        }
        PKind::Fail(n) => {
            tokio::time::sleep(ms(*n)).await;
            life.end(What::Err);
            Err(leaf_error(id))
        }
        PKind::Panic(n) => {
            tokio::time::sleep(ms(*n)).await;
            life.end(What::Panic);
            std::panic::panic_any(PanicPayload(id))
        }
        PKind::Hang => std::future::pending().await,
        PKind::Cleanup { work, clean, fail } => {
            let work = async {
                match work {
                    Some(n) => tokio::time::sleep(ms(*n)).await,
                    None => std::future::pending().await,
                }
            };
            // Biased: work that is done when the cancellation arrives counts as done.
            let cancelled = tokio::select! {
                biased;
                () = work => false,
                _ = taskgroup::cancelled() => true,
            };
            if cancelled {
                life.ctx
                    .told
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(id);
                tokio::time::sleep(ms(*clean)).await;
                if *fail {
                    life.end(What::Err);
                    return Err(leaf_error(id));
                }
            }
            life.end(What::Ok);
            Ok(Value::Leaf(id))
        }
        PKind::SpawnMore { .. } => unreachable!("a SpawnMore leaf runs in its scope"),
    }
}

/// A `SpawnMore` leaf: spawns its extra tasks into `s`, the scope it runs in.
async fn spawn_more<'scope>(
    s: Scope<'scope, '_>,
    ctx: Arc<Ctx>,
    gid: u32,
    leaf: &'scope PLeaf,
) -> Result<Value, NodeError> {
    let mut life = Life::start(&ctx, leaf.id);
    let PKind::SpawnMore { after, join, more } = &leaf.kind else {
        unreachable!("not a SpawnMore leaf")
    };
    tokio::time::sleep(ms(*after)).await;
    let handles: Vec<_> = more
        .iter()
        .map(|extra| s.spawn_named(extra.name.clone(), child_future(&ctx, gid, extra)))
        .collect();
    let value = if *join {
        let mut values = Vec::new();
        for handle in handles {
            values.push(handle.await.ok());
        }
        Value::List(values)
    } else {
        Value::Leaf(leaf.id)
    };
    life.end(What::Ok);
    Ok(value)
}

/// A group node, run by its runner.
pub fn group_future(ctx: Arc<Ctx>, group: Arc<PGroup>) -> TaskFuture {
    match group.runner {
        Runner::Scope | Runner::Shape => Box::pin(scope_group(ctx, group)),
        Runner::FanOut => Box::pin(fan_out_group(ctx, group)),
        Runner::Fixed => Box::pin(fixed_group(ctx, group)),
    }
}

/// A `Runner::Fixed` group's `group!`: its one to three in-place children as tasks `a`, `b`
/// and `c`, with the mode's option (`$($mode)*`).
macro_rules! fixed {
    ($ctx:ident, $gid:ident, $kids:ident; $($mode:tt)*) => {
        match $kids.len() {
            1 => {
                taskgroup::group! {
                    #![name = "fixed"]
                    $($mode)*
                    a = child_future(&$ctx, $gid, &$kids[0]);
                }
                Ok::<_, ErrorGroup>(vec![a])
            }
            2 => {
                taskgroup::group! {
                    #![name = "fixed"]
                    $($mode)*
                    a = child_future(&$ctx, $gid, &$kids[0]);
                    b = child_future(&$ctx, $gid, &$kids[1]);
                }
                Ok::<_, ErrorGroup>(vec![a, b])
            }
            _ => {
                taskgroup::group! {
                    #![name = "fixed"]
                    $($mode)*
                    a = child_future(&$ctx, $gid, &$kids[0]);
                    b = child_future(&$ctx, $gid, &$kids[1]);
                    c = child_future(&$ctx, $gid, &$kids[2]);
                }
                Ok::<_, ErrorGroup>(vec![a, b, c])
            }
        }
    };
}

async fn fixed_group(ctx: Arc<Ctx>, group: Arc<PGroup>) -> Result<Value, NodeError> {
    let kids = &group.children;
    let gid = group.gid;
    let result = async {
        match group.mode {
            Mode::Supervise => fixed!(ctx, gid, kids; #![mode = supervise]),
            _ => fixed!(ctx, gid, kids;),
        }
    }
    .await;
    result
        .map(|values| Value::List(values.into_iter().map(Some).collect()))
        .map_err(|group| Box::new(group) as NodeError)
}

async fn scope_group(ctx: Arc<Ctx>, group: Arc<PGroup>) -> Result<Value, NodeError> {
    let mut builder = taskgroup::Group::new()
        .name(format!("g{}", group.gid))
        .mode(match group.mode {
            Mode::FailFast => taskgroup::Mode::FailFast,
            Mode::Supervise => taskgroup::Mode::Supervise,
            Mode::Settle => taskgroup::Mode::Settle,
        });
    if let Some(timeout) = group.timeout {
        builder = builder.timeout(ms(timeout));
    }
    if let Some(limit) = group.limit {
        builder = builder.limit(limit);
    }
    if let Some(grace) = group.grace {
        builder = builder.grace(ms(grace));
    }
    let gid = group.gid;
    let result = taskgroup::scope!(builder, async |s| {
        let mut handles = Vec::with_capacity(group.children.len());
        for child in &group.children {
            let handle = match &child.node {
                PNode::Leaf(
                    leaf @ PLeaf {
                        kind: PKind::SpawnMore { .. },
                        ..
                    },
                ) => {
                    let ctx2 = ctx.clone();
                    let tracker = &ctx.trackers[gid as usize];
                    let fut = spawn_more(s, ctx2, gid, leaf);
                    s.spawn_named(child.name.clone(), async move {
                        let _in_flight = InFlight::enter(tracker);
                        fut.await
                    })
                }
                _ if child.spawned => s.spawn_parallel(child_future(&ctx, gid, child)),
                _ => s.spawn_named(child.name.clone(), child_future(&ctx, gid, child)),
            };
            handles.push(handle);
        }
        let mut values = Vec::with_capacity(handles.len());
        for handle in handles {
            values.push(handle.await.ok());
        }
        Ok::<_, std::convert::Infallible>(Value::List(values))
    })
    .await;
    result.map_err(|group| Box::new(group) as NodeError)
}

/// One `group!` fan-out over the children, with the options spelled as the macro needs them.
macro_rules! fan_out {
    ($ctx:ident, $gid:ident, $kids:ident, $limit:ident, $timeout:ident, [$($spawn:tt)?] $($option:tt)*) => {
        async {
            taskgroup::group! {
                #![name = "fan"]
                #![limit = $limit]
                #![timeout = $timeout]
                $($option)*
                items = for kid in $kids.iter().cloned() => $($spawn)? child_future(&$ctx, $gid, &kid);
            }
            Ok::<_, ErrorGroup>(items)
        }
        .await
    };
}

async fn fan_out_group(ctx: Arc<Ctx>, group: Arc<PGroup>) -> Result<Value, NodeError> {
    let kids = group.children.clone();
    let gid = group.gid;
    let limit = group.limit.unwrap_or(usize::MAX);
    let timeout = group.timeout.map_or(FAR, ms);
    let spawned = kids.first().is_some_and(|kid| kid.spawned);
    let supervise = group.mode != Mode::FailFast;
    let result = match (spawned, group.grace, supervise) {
        (false, None, false) => fan_out!(ctx, gid, kids, limit, timeout, []),
        (false, None, true) => {
            fan_out!(ctx, gid, kids, limit, timeout, [] #![mode = supervise])
        }
        (false, Some(grace), false) => {
            let grace = ms(grace);
            fan_out!(ctx, gid, kids, limit, timeout, [] #![grace = grace])
        }
        (false, Some(grace), true) => {
            let grace = ms(grace);
            fan_out!(ctx, gid, kids, limit, timeout, [] #![grace = grace] #![mode = supervise])
        }
        (true, None, false) => fan_out!(ctx, gid, kids, limit, timeout, [spawn]),
        (true, None, true) => {
            fan_out!(ctx, gid, kids, limit, timeout, [spawn] #![mode = supervise])
        }
        (true, Some(grace), false) => {
            let grace = ms(grace);
            fan_out!(ctx, gid, kids, limit, timeout, [spawn] #![grace = grace])
        }
        (true, Some(grace), true) => {
            let grace = ms(grace);
            fan_out!(ctx, gid, kids, limit, timeout, [spawn] #![grace = grace] #![mode = supervise])
        }
    };
    // A group that returns `Ok` binds every item: one value per item, in input order.
    if let Ok(values) = &result
        && values.len() != kids.len()
    {
        ctx.violation(format!(
            "VALUE: the fan-out group g{gid} returned Ok with {} values for {} items",
            values.len(),
            kids.len()
        ));
    }
    result
        .map(|values| Value::List(values.into_iter().map(Some).collect()))
        .map_err(|group| Box::new(group) as NodeError)
}
