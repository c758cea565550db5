//! The model: what taskgroup's contract says a plan does on tokio's paused clock, computed from
//! the tree alone, instant by instant.
//!
//! Semantics modelled (the crate docs' contract, with Python's `TaskGroup` where it is silent):
//!
//! * A group starts its children in order, at most `limit` at a time; a freed slot starts the
//!   next child at the same instant.
//! * It begins cancelling at the first of: a child's error (fail-fast mode), a child's panic,
//!   its deadline (an `Elapsed` error), or its enclosing group beginning to cancel. From then
//!   on it starts nothing and its children see `cancelled()`.
//! * Without `grace` it then drops its children at once; with `grace` it drops them when the
//!   grace period ends, unless they all finished before. A panic drops them at once.
//! * A group ends when all of its children ended or were dropped.
//! * Nothing raised is lost: an error a task returned is in the root's `ErrorGroup`, at its
//!   task's path, even if a group on the way was dropped after it collected the error
//!   (Python: the nested `TaskGroup` still raises its `ExceptionGroup` when cancelled).
//!   So the model only predicts *what happens to each leaf, and when*; which errors the
//!   root must report is then read off the leaves' log.
//! * A cancelled group that had no error is not an error of its parent.
//!
//! Instants are exact (integer milliseconds). Within one instant, tokio runs the test's own task
//! and each spawned child's task in an order the model does not fix; what it does fix: a group
//! decides (cancel, drop) only after it polled every child of its own task that woke at that
//! instant. When an outcome hinges on the order of two tasks at one instant, the model allows
//! both (a leaf's end or its drop) or, where the difference would spread, gives up on exact
//! prediction for the case (`inexact`), which is then checked by the weaker invariants only.

use std::collections::{BTreeMap, VecDeque};

use super::interp::Value;
use super::tree::{Mode, PChild, PGroup, PKind, PLeaf, PNode, Plan};

/// Three-valued: certainly, maybe (depends on the order of tasks at one instant), not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tri {
    #[default]
    No,
    Maybe,
    Yes,
}

impl Tri {
    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::Maybe, _) | (_, Tri::Maybe) => Tri::Maybe,
            _ => Tri::No,
        }
    }
}

/// Who decided a cancellation: the tokio task whose poll made the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Task(u32),
    Mixed,
}

/// A cancellation: from `at` on, the children see `cancelled()` (soft) or are dropped (hard).
#[derive(Clone, Copy, Debug)]
struct Cut {
    at: u64,
    tag: Tag,
}

fn min_cut(a: Option<Cut>, b: Option<Cut>) -> Option<Cut> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(if a.at < b.at {
            a
        } else if b.at < a.at {
            b
        } else if a.tag == b.tag {
            a
        } else {
            Cut {
                at: a.at,
                tag: Tag::Mixed,
            }
        }),
    }
}

/// The order of an event at `t` in task `task` and a cancellation `cut`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Race {
    /// The event happens.
    Event,
    /// The cancellation comes first: the event never happens.
    Cut,
    /// Same instant, decided in another task: either.
    Tie,
}

fn race(t: u64, task: u32, cut: Option<Cut>) -> Race {
    match cut {
        None => Race::Event,
        Some(cut) if t < cut.at => Race::Event,
        Some(cut) if t > cut.at => Race::Cut,
        Some(cut) if cut.tag == Tag::Task(task) => Race::Event,
        Some(_) => Race::Tie,
    }
}

/// What the enclosing groups do to a node: when its signal is cancelled, when it is dropped,
/// and when its own group's grace period ends (a child told to cancel and dropped by that
/// cut, not by an enclosing group's, is reported as `GraceElapsed`).
#[derive(Clone, Copy, Debug, Default)]
struct Ext {
    soft: Option<Cut>,
    hard: Option<Cut>,
    grace: Option<Cut>,
}

/// How a leaf's life ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Ok,
    Err,
    Panic,
    Dropped,
}

/// What happens to a leaf: never started, or started at an instant and ended (or not, if it
/// runs past the end of the run, which the bound rules out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    NotStarted,
    Ran { start: u64, end: Option<(End, u64)> },
}

/// The result of simulating one node.
#[derive(Clone, Debug, Default)]
struct Sim {
    /// When it ends and hands its result to its group; `None` if it is dropped first (or
    /// never ends).
    end: Option<u64>,
    /// Its end at `end` races a drop at that same instant (decided in another task).
    end_maybe: bool,
    /// It has an error for its group (delivered, or collected before it was dropped).
    err: Tri,
    /// It panicked (the panic resumes in its group).
    panic: Tri,
    /// Its value, if it succeeded without ever being cancelled.
    value: Option<Value>,
    fates: Vec<(u32, Vec<Fate>)>,
    /// Per group id: whether its deadline fired.
    elapsed: Vec<(u32, Tri)>,
    /// Per group id: when it ended or was dropped.
    ends: Vec<(u32, u64)>,
    /// Per group id: when its deadline fired.
    elapsed_at: Vec<(u32, u64)>,
    inexact: Vec<String>,
}

impl Sim {
    fn absorb(&mut self, other: Sim) {
        self.fates.extend(other.fates);
        self.elapsed.extend(other.elapsed);
        self.ends.extend(other.ends);
        self.elapsed_at.extend(other.elapsed_at);
        self.inexact.extend(other.inexact);
    }
}

/// What the model predicts for a whole run.
#[derive(Debug)]
pub struct Prediction {
    /// Per leaf id: the fates it may have (more than one when tasks race at an instant).
    pub fates: BTreeMap<u32, Vec<Fate>>,
    /// Per group id with a timeout: whether its `Elapsed` is in the errors.
    pub elapsed: BTreeMap<u32, Tri>,
    /// Per group id: when it ended or was dropped.
    pub ends: BTreeMap<u32, u64>,
    /// Per group id: when its deadline fired.
    pub elapsed_at: BTreeMap<u32, u64>,
    /// When the root group returns; `None` if the test drops it first (at the bound).
    pub root_end: Option<u64>,
    pub root_err: Tri,
    pub root_panic: Tri,
    /// The root's value, if it succeeds.
    pub root_value: Option<Value>,
    /// Why exact prediction was given up, if it was.
    pub inexact: Vec<String>,
}

pub fn predict(plan: &Plan) -> Prediction {
    let model = Model;
    // The test drops the root at the bound, with a `tokio::time::timeout`: from outside, so
    // a task due at that same instant may finish or be dropped (the timeout polls the group
    // first, but a group nested in a `FuturesUnordered` that needs one more poll at that
    // instant may not get it: `FuturesUnordered` yields once two of its futures woke
    // themselves). Dropping it also cancels its signal (its core's `Drop`), which tasks on
    // other threads may see before their abort.
    let cut = Some(Cut {
        at: plan.bound,
        tag: Tag::Mixed,
    });
    let ext = Ext {
        soft: cut,
        hard: cut,
        grace: None,
    };
    let sim = model.group(&plan.root, 0, ext);
    let mut fates: BTreeMap<u32, Vec<Fate>> = BTreeMap::new();
    for (id, fate) in sim.fates {
        let previous = fates.insert(id, fate);
        assert!(previous.is_none(), "model bug: two fates for leaf {id}");
    }
    for id in 0..plan.leaves.len() as u32 {
        fates.entry(id).or_insert_with(|| vec![Fate::NotStarted]);
    }
    Prediction {
        fates,
        elapsed: sim.elapsed.into_iter().collect(),
        ends: sim.ends.into_iter().collect(),
        elapsed_at: sim.elapsed_at.into_iter().collect(),
        root_end: sim.end,
        root_err: sim.err,
        root_panic: sim.panic,
        root_value: sim.value,
        inexact: sim.inexact,
    }
}

/// Whether a child runs anything on another tokio task (itself, or something below it).
fn has_spawned(child: &PChild) -> bool {
    child.spawned
        || match &child.node {
            PNode::Leaf(_) => false,
            PNode::Group(group) => group.children.iter().any(|kid| has_spawned(kid)),
        }
}

/// Every leaf under a child that was never started.
fn not_started(child: &PChild, fates: &mut Vec<(u32, Vec<Fate>)>) {
    match &child.node {
        PNode::Leaf(leaf) => {
            fates.push((leaf.id, vec![Fate::NotStarted]));
            if let PKind::SpawnMore { more, .. } = &leaf.kind {
                for extra in more {
                    not_started(extra, fates);
                }
            }
        }
        PNode::Group(group) => {
            for kid in &group.children {
                not_started(kid, fates);
            }
        }
    }
}

/// Every leaf under a child that may or may not have been started at `t`, and if it was, was
/// dropped at `t` (polled at most once).
fn started_and_dropped_or_not(child: &PChild, t: u64, fates: &mut Vec<(u32, Vec<Fate>)>) {
    match &child.node {
        PNode::Leaf(leaf) => {
            fates.push((
                leaf.id,
                vec![
                    Fate::NotStarted,
                    Fate::Ran {
                        start: t,
                        end: Some((End::Dropped, t)),
                    },
                ],
            ));
            if let PKind::SpawnMore { more, .. } = &leaf.kind {
                for extra in more {
                    not_started(extra, fates);
                }
            }
        }
        PNode::Group(group) => {
            for kid in &group.children {
                started_and_dropped_or_not(kid, t, fates);
            }
        }
    }
}

/// The state of one child of a group being simulated.
#[derive(Debug)]
enum Kid {
    Queued,
    /// A plain leaf or a group: its simulation under the cuts known so far.
    Running {
        start: u64,
        sim: Sim,
    },
    /// A `SpawnMore` leaf.
    Spawner(Spawner),
    /// Started at the instant the group is dropped, or maybe not (its fates are recorded): it
    /// keeps the group from ending before that drop.
    Doomed,
    /// Ended (delivered) or dropped, or never started: settled for good.
    Over,
}

#[derive(Debug)]
struct Spawner {
    start: u64,
    /// When it spawns.
    at: u64,
    join: bool,
    spawned: bool,
    /// When each extra's handle resolved (value, error, drop or refusal), and its value.
    resolved: Vec<Option<(u64, Option<Value>)>>,
}

fn spawner_parts(child: &PChild) -> Option<(&PLeaf, u64, bool, &[std::sync::Arc<PChild>])> {
    match &child.node {
        PNode::Leaf(
            leaf @ PLeaf {
                kind: PKind::SpawnMore { after, join, more },
                ..
            },
        ) => Some((leaf, *after, *join, more)),
        _ => None,
    }
}

/// One group's children while it is simulated.
struct Kids<'a> {
    children: Vec<&'a PChild>,
    state: Vec<Kid>,
    /// For an extra: its spawner's index and its index among the spawner's extras.
    owner: Vec<Option<(usize, usize)>>,
    queue: VecDeque<usize>,
    in_flight: usize,
    limit: usize,
}

impl<'a> Kids<'a> {
    /// Starts queued children at `t` while there are slots. `task` is the group's tokio task:
    /// if another task drops the group at `t`, whether they start at all is a race.
    fn start_queued(
        &mut self,
        model: &Model,
        t: u64,
        ext: Ext,
        task: u32,
        maybe: bool,
        fates: &mut Vec<(u32, Vec<Fate>)>,
    ) {
        while self.in_flight < self.limit {
            let Some(index) = self.queue.pop_front() else {
                break;
            };
            let child = self.children[index];
            // Started at the instant the group is dropped: by another task (a race), or after
            // a slot freed by a child whose end races that drop, or on a worker that may not
            // poll it before it is aborted.
            let dropped_now = ext.hard.is_some_and(|h| h.at == t);
            if race(t, task, ext.hard) == Race::Tie || (dropped_now && (maybe || child.spawned)) {
                // It holds its slot until the drop, at this same instant.
                started_and_dropped_or_not(child, t, fates);
                self.state[index] = Kid::Doomed;
                self.in_flight += 1;
                continue;
            }
            self.in_flight += 1;
            self.state[index] = match spawner_parts(child) {
                Some((_, after, join, more)) => Kid::Spawner(Spawner {
                    start: t,
                    at: t + after,
                    join,
                    spawned: false,
                    resolved: vec![None; more.len()],
                }),
                None => Kid::Running {
                    start: t,
                    sim: model.node(child, t, ext),
                },
            };
        }
    }

    /// An extra's handle resolved at `t`.
    fn resolve(&mut self, index: usize, t: u64, value: Option<Value>) {
        if let Some((spawner, j)) = self.owner[index]
            && let Kid::Spawner(sp) = &mut self.state[spawner]
            && sp.resolved[j].is_none()
        {
            sp.resolved[j] = Some((t, value));
        }
    }

    fn all_over(&self) -> bool {
        self.queue.is_empty() && self.state.iter().all(|kid| matches!(kid, Kid::Over))
    }
}

struct Model;

impl Model {
    fn node(&self, child: &PChild, start: u64, ext: Ext) -> Sim {
        match &child.node {
            PNode::Leaf(leaf) => self.leaf(leaf, start, ext),
            PNode::Group(group) => self.group(group, start, ext),
        }
    }

    fn leaf(&self, leaf: &PLeaf, start: u64, ext: Ext) -> Sim {
        let mut sim = Sim::default();
        // When a cleanup leaf is told that its group is cancelling.
        let mut told: Option<u64> = None;
        let natural: Option<(u64, End)> = match &leaf.kind {
            PKind::Ok(d) => Some((start + d, End::Ok)),
            PKind::Fail(d) => Some((start + d, End::Err)),
            PKind::Panic(d) => Some((start + d, End::Panic)),
            PKind::Hang => None,
            PKind::Cleanup { work, clean, fail } => {
                let work = work.map(|d| start + d);
                let cleanup_end = if *fail { End::Err } else { End::Ok };
                match (work, ext.soft) {
                    // Work done when the cancellation arrives counts as done (biased select).
                    (Some(w), soft) if soft.is_none_or(|s| w <= s.at) => Some((w, End::Ok)),
                    (_, Some(s)) => {
                        told = Some(s.at.max(start));
                        Some((s.at.max(start) + clean, cleanup_end))
                    }
                    (_, None) => None,
                }
            }
            PKind::SpawnMore { .. } => unreachable!("spawners are simulated by their group"),
        };
        let dropped_at = |h: Option<Cut>| Fate::Ran {
            start,
            end: h.map(|h| (End::Dropped, h.at)),
        };
        // Told, then dropped by its own group's grace period: the group reports it. Certain
        // when that cut is the only one at its instant and comes after the leaf was told.
        let cut_off = |sim: &mut Sim, certain: bool| {
            let (Some(told), Some(grace), Some(hard)) = (told, ext.grace, ext.hard) else {
                return;
            };
            if hard.at != grace.at || hard.at < told {
                return;
            }
            let sure = certain && hard.tag == grace.tag && told < hard.at;
            sim.err = sim.err.or(if sure { Tri::Yes } else { Tri::Maybe });
            if !sure {
                sim.inexact.push(format!(
                    "leaf {} may be cut off in its cleanup at {}",
                    leaf.id, hard.at
                ));
            }
        };
        let fates = match natural {
            None => {
                cut_off(&mut sim, true);
                vec![dropped_at(ext.hard)]
            }
            Some((t, end)) => match race(t, leaf.task, ext.hard) {
                Race::Cut => {
                    cut_off(&mut sim, true);
                    vec![dropped_at(ext.hard)]
                }
                race => {
                    let certain = race == Race::Event;
                    if !certain {
                        cut_off(&mut sim, false);
                    }
                    sim.end = Some(t);
                    sim.end_maybe = !certain;
                    match end {
                        End::Err => sim.err = if certain { Tri::Yes } else { Tri::Maybe },
                        End::Panic if certain => sim.panic = Tri::Yes,
                        End::Panic => {
                            sim.panic = Tri::Maybe;
                            sim.inexact.push(format!(
                                "leaf {} panics at {t}, the instant another task drops it",
                                leaf.id
                            ));
                        }
                        End::Ok if certain && ext.soft.is_none_or(|s| t < s.at) => {
                            sim.value = Some(Value::Leaf(leaf.id));
                        }
                        End::Ok | End::Dropped => {}
                    }
                    let ended = Fate::Ran {
                        start,
                        end: Some((end, t)),
                    };
                    if certain {
                        vec![ended]
                    } else {
                        vec![
                            ended,
                            Fate::Ran {
                                start,
                                end: Some((End::Dropped, t)),
                            },
                        ]
                    }
                }
            },
        };
        sim.fates.push((leaf.id, fates));
        sim
    }

    #[allow(clippy::too_many_lines, clippy::needless_range_loop)]
    fn group(&self, group: &PGroup, start: u64, ext: Ext) -> Sim {
        let task = group.task;
        let own = Tag::Task(task);
        let deadline = group.timeout.map(|d| start + d);
        let fail_fast = group.mode == Mode::FailFast;
        let initial = group.children.len();
        let mut kids = Kids {
            children: group.children.iter().map(|c| &**c).collect(),
            state: (0..initial).map(|_| Kid::Queued).collect(),
            owner: vec![None; initial],
            queue: (0..initial).collect(),
            in_flight: 0,
            limit: group.limit.unwrap_or(usize::MAX),
        };

        let mut out = Sim::default();
        // When this group's signal was cancelled (by itself or from above), and the instant it
        // decided to drop its children.
        let mut tcs: Option<Cut> = None;
        let mut own_hard: Option<Cut> = None;
        // `own_hard` when it is the end of the group's grace period.
        let mut own_grace: Option<Cut> = None;
        let mut elapsed = Tri::No;
        let mut err = Tri::No;
        let mut panic = Tri::No;
        // The initial children's values, for the scope's body.
        let mut values: Vec<Option<Option<Value>>> = vec![None; initial];

        let child_ext = |tcs: Option<Cut>, own_hard: Option<Cut>, own_grace: Option<Cut>| Ext {
            soft: min_cut(ext.soft, tcs),
            hard: min_cut(ext.hard, own_hard),
            grace: own_grace,
        };

        kids.start_queued(
            self,
            start,
            child_ext(tcs, own_hard, own_grace),
            task,
            false,
            &mut out.fates,
        );

        let mut last = start;
        let mut maybe_at: Option<u64> = None;
        // The last instant a child that ran on another tokio task ended.
        let mut late_at: Option<u64> = None;
        let mut rounds = 0u32;
        loop {
            rounds += 1;
            assert!(
                rounds < 100_000,
                "model bug: group {} does not progress",
                group.gid
            );
            if kids.all_over() {
                break;
            }
            let running = tcs.is_none();
            let hard = min_cut(ext.hard, own_hard);

            // The next instant anything happens.
            let mut next = u64::MAX;
            for kid in &kids.state {
                match kid {
                    Kid::Running { sim, .. } => {
                        if let Some(e) = sim.end {
                            next = next.min(e);
                        }
                    }
                    Kid::Spawner(sp) if !sp.spawned => next = next.min(sp.at),
                    _ => {}
                }
            }
            if running {
                if let Some(d) = deadline {
                    next = next.min(d);
                }
                if let Some(s) = ext.soft {
                    next = next.min(s.at.max(start));
                }
            }
            if let Some(h) = hard {
                next = next.min(h.at);
            }
            if next == u64::MAX {
                // Nothing will ever happen again: it hangs until the bound drops it.
                for (index, kid) in kids.state.iter_mut().enumerate() {
                    match std::mem::replace(kid, Kid::Over) {
                        Kid::Running { sim, .. } => out.absorb(sim),
                        Kid::Spawner(sp) => {
                            let (leaf, ..) = spawner_parts(kids.children[index]).expect("spawner");
                            out.fates.push((
                                leaf.id,
                                vec![Fate::Ran {
                                    start: sp.start,
                                    end: None,
                                }],
                            ));
                        }
                        _ => {}
                    }
                }
                for index in kids.queue.drain(..) {
                    not_started(kids.children[index], &mut out.fates);
                }
                out.end = None;
                out.err = err.or(elapsed);
                out.panic = panic;
                out.elapsed.push((group.gid, elapsed));
                return out;
            }
            let t = next;
            last = t;

            // 1. What this group sees at t.
            let mut sure_cause = false;
            let mut other_causes: Vec<usize> = Vec::new();
            let mut panics_at_t = false;
            if running && deadline == Some(t) {
                // Checked first in the group's poll: fires unless the group is dropped first.
                match race(t, task, ext.hard) {
                    Race::Event => {
                        elapsed = Tri::Yes;
                        out.elapsed_at.push((group.gid, t));
                        sure_cause = true;
                    }
                    Race::Tie => {
                        elapsed = Tri::Maybe;
                        out.elapsed_at.push((group.gid, t));
                        out.inexact.push(format!(
                            "group {} deadline at {t} ties with a drop",
                            group.gid
                        ));
                    }
                    Race::Cut => {}
                }
            }
            for (index, kid) in kids.state.iter().enumerate() {
                if let Kid::Running { sim, .. } = kid
                    && sim.end == Some(t)
                {
                    if sim.panic != Tri::No {
                        panics_at_t = true;
                    }
                    if (fail_fast && sim.err != Tri::No) || sim.panic != Tri::No {
                        let child = kids.children[index];
                        let in_place_leaf = matches!(child.node, PNode::Leaf(_)) && !child.spawned;
                        if in_place_leaf && sim.err != Tri::Maybe && sim.panic != Tri::Maybe {
                            sure_cause = true;
                        } else {
                            other_causes.push(index);
                        }
                    }
                }
            }

            // 2. Decide: begin cancelling at t, drop at t.
            let mut new_cut = false;
            let from_parent = running && ext.soft.is_some_and(|s| s.at.max(start) == t);
            let own_cause = sure_cause || !other_causes.is_empty();
            let decided_now = own_cause || panics_at_t;
            if running && (own_cause || from_parent) {
                if !sure_cause && !from_parent && other_causes.len() > 1 {
                    out.inexact.push(format!(
                        "group {}: {} children of other tokio tasks fail at {t}",
                        group.gid,
                        other_causes.len()
                    ));
                }
                let parent_cut = ext.soft.filter(|_| from_parent).map(|s| Cut { at: t, ..s });
                tcs = if own_cause {
                    min_cut(Some(Cut { at: t, tag: own }), parent_cut)
                } else {
                    parent_cut
                };
                own_hard = Some(match (group.grace, panics_at_t) {
                    (Some(grace), false) => Cut {
                        at: t + grace,
                        tag: own,
                    },
                    _ => Cut { at: t, tag: own },
                });
                own_grace = own_hard.filter(|_| group.grace.is_some() && !panics_at_t);
                new_cut = true;
            } else if !running && panics_at_t && own_hard.is_none_or(|h| h.at > t) {
                // A panic during the grace period drops everything at once.
                own_hard = Some(Cut { at: t, tag: own });
                own_grace = None;
                new_cut = true;
            }
            if new_cut {
                // The child that caused the cut keeps its simulation (its event came first);
                // the others are simulated again under the new cuts (what they did before t
                // does not change).
                let new_ext = child_ext(tcs, own_hard, own_grace);
                for index in 0..kids.state.len() {
                    if !sure_cause && !from_parent && other_causes == [index] {
                        continue;
                    }
                    let child = kids.children[index];
                    if let Kid::Running { start, sim } = &mut kids.state[index] {
                        *sim = self.node(child, *start, new_ext);
                    }
                }
            }
            let hard = min_cut(ext.hard, own_hard);
            let soft = min_cut(ext.soft, tcs);
            let now_ext = child_ext(tcs, own_hard, own_grace);

            // 3. Children that end at t hand in their results.
            let mut freed = 0usize;
            let mut maybe_freed = false;
            for index in 0..kids.state.len() {
                let ends_now =
                    matches!(&kids.state[index], Kid::Running { sim, .. } if sim.end == Some(t));
                if !ends_now {
                    continue;
                }
                let Kid::Running { sim, .. } = std::mem::replace(&mut kids.state[index], Kid::Over)
                else {
                    unreachable!()
                };
                freed += 1;
                maybe_freed |= sim.end_maybe;
                // A settle-mode `group!` binds a leaf's error as its value.
                let mut sim = sim;
                if group.settles
                    && sim.err == Tri::Yes
                    && let PNode::Leaf(leaf) = &kids.children[index].node
                {
                    sim.err = Tri::No;
                    sim.value = Some(Value::Err(leaf.id));
                }
                if sim.end_maybe {
                    maybe_at = Some(t);
                }
                if has_spawned(kids.children[index]) {
                    late_at = Some(t);
                }
                err = err.or(sim.err);
                panic = panic.or(sim.panic);
                let value = (sim.err == Tri::No && sim.panic == Tri::No)
                    .then(|| sim.value.clone())
                    .flatten();
                if index < initial {
                    values[index] = Some(value.clone());
                }
                kids.resolve(index, t, value);
                out.absorb(sim);
            }
            kids.in_flight -= freed;

            // 4. Spawners that act at t.
            let acting: Vec<usize> = (0..kids.state.len())
                .filter(
                    |&i| matches!(&kids.state[i], Kid::Spawner(sp) if !sp.spawned && sp.at == t),
                )
                .collect();
            let mut enqueued = false;
            for index in acting {
                let (leaf, _, _, more) = spawner_parts(kids.children[index]).expect("spawner");
                match race(t, leaf.task, hard) {
                    Race::Event => {}
                    Race::Cut => continue,
                    Race::Tie => {
                        out.inexact
                            .push(format!("spawner {} acts at {t} as it is dropped", leaf.id));
                        continue;
                    }
                }
                // `Scope::spawn` refuses once the signal is cancelled.
                let refused = match race(t, leaf.task, soft) {
                    Race::Event => false,
                    Race::Cut => true,
                    Race::Tie => {
                        out.inexact.push(format!(
                            "spawner {} spawns at {t} as its group is cancelled",
                            leaf.id
                        ));
                        true
                    }
                };
                if let Kid::Spawner(sp) = &mut kids.state[index] {
                    sp.spawned = true;
                }
                for (j, extra) in more.iter().enumerate() {
                    let extra_index = kids.children.len();
                    kids.children.push(extra);
                    kids.owner.push(Some((index, j)));
                    if refused {
                        kids.state.push(Kid::Over);
                        not_started(extra, &mut out.fates);
                        kids.resolve(extra_index, t, None);
                    } else {
                        kids.state.push(Kid::Queued);
                        kids.queue.push_back(extra_index);
                        enqueued = true;
                    }
                }
            }

            // A spawner that does not join returns right after it spawned: its slot is free
            // for its extras at once.
            for index in 0..kids.state.len() {
                let done = matches!(&kids.state[index], Kid::Spawner(sp) if sp.spawned && !sp.join && sp.at == t);
                if !done {
                    continue;
                }
                let Kid::Spawner(sp) = std::mem::replace(&mut kids.state[index], Kid::Over) else {
                    unreachable!()
                };
                let (leaf, ..) = spawner_parts(kids.children[index]).expect("spawner");
                out.fates.push((
                    leaf.id,
                    vec![Fate::Ran {
                        start: sp.start,
                        end: Some((End::Ok, t)),
                    }],
                ));
                kids.in_flight -= 1;
                freed += 1;
                if index < initial {
                    values[index] = Some(
                        soft.is_none_or(|s| t < s.at)
                            .then_some(Value::Leaf(leaf.id)),
                    );
                }
            }

            // 5. A cancelling group clears its queue; a running one fills freed slots.
            if tcs.is_some() {
                let cut_now = tcs.is_some_and(|c| c.at == t);
                // Whether tasks that get a slot at t still start depends on the order of the
                // instant's events, except when the group's own first poll at t decided (its
                // deadline, a fail-fast in-place leaf's error, a panic), before any parent's
                // cancellation decided in the same tokio task. (A `group!`'s fan-outs start their
                // next item as soon as a slot is free, in the middle of that poll: never
                // deterministic.)
                let parent_after = !from_parent || ext.soft.is_some_and(|s| s.tag == own);
                let deterministic =
                    sure_cause && parent_after && group.runner == super::tree::Runner::Scope;
                let queued: Vec<usize> = kids.queue.drain(..).collect();
                for index in queued {
                    // (Not bounded by the free slots: a child that ends as it starts, like an
                    // empty group, frees its slot again. The limit itself is checked by the
                    // in-flight trackers.)
                    let could = cut_now
                        && (!deterministic || maybe_freed)
                        && (freed > 0 || enqueued)
                        && kids.in_flight < kids.limit;
                    if could {
                        if hard.is_some_and(|h| h.at == t) {
                            started_and_dropped_or_not(kids.children[index], t, &mut out.fates);
                            kids.state[index] = Kid::Doomed;
                            kids.resolve(index, t, None);
                            if index < initial {
                                values[index] = Some(None);
                            }
                            continue;
                        } else {
                            out.inexact.push(format!(
                                "group {}: a task may start at {t} as it begins cancelling",
                                group.gid
                            ));
                            not_started(kids.children[index], &mut out.fates);
                        }
                    } else {
                        not_started(kids.children[index], &mut out.fates);
                    }
                    kids.state[index] = Kid::Over;
                    kids.resolve(index, t, None);
                    if index < initial {
                        values[index] = Some(None);
                    }
                }
            } else {
                kids.start_queued(self, t, now_ext, task, maybe_freed, &mut out.fates);
            }

            // 6. Spawners whose work is done end at t.
            for index in 0..kids.state.len() {
                let done = match &kids.state[index] {
                    Kid::Spawner(sp) if sp.spawned => {
                        if sp.join {
                            sp.resolved.iter().all(Option::is_some)
                        } else {
                            sp.at == t
                        }
                    }
                    _ => false,
                };
                if !done {
                    continue;
                }
                let Kid::Spawner(sp) = std::mem::replace(&mut kids.state[index], Kid::Over) else {
                    unreachable!()
                };
                let (leaf, ..) = spawner_parts(kids.children[index]).expect("spawner");
                let value = if sp.join {
                    Value::List(
                        sp.resolved
                            .iter()
                            .map(|r| r.as_ref().and_then(|(_, v)| v.clone()))
                            .collect(),
                    )
                } else {
                    Value::Leaf(leaf.id)
                };
                // It needs one more poll after its last extra resolved: if its group drops
                // its children at t, that poll may not come.
                let fates = match race(t, leaf.task, hard) {
                    Race::Event if hard.is_none_or(|h| h.at != t) => vec![Fate::Ran {
                        start: sp.start,
                        end: Some((End::Ok, t)),
                    }],
                    _ => vec![
                        Fate::Ran {
                            start: sp.start,
                            end: Some((End::Ok, t)),
                        },
                        Fate::Ran {
                            start: sp.start,
                            end: Some((End::Dropped, t)),
                        },
                    ],
                };
                out.fates.push((leaf.id, fates));
                kids.in_flight -= 1;
                if index < initial {
                    values[index] = Some(soft.is_none_or(|s| t < s.at).then_some(value));
                }
                if tcs.is_none() {
                    kids.start_queued(self, t, now_ext, task, maybe_freed, &mut out.fates);
                }
            }

            // 7. Dropped at t: every child still running is dropped (their simulations say
            //    so), and the group ends. (If they all ended at t, it ended at t first.)
            // Children started at t that end at t (an empty group) are processed first.
            let more_at_t = kids.state.iter().any(|kid| match kid {
                Kid::Running { sim, .. } => sim.end == Some(t),
                _ => false,
            });
            if let Some(h) = hard
                && h.at == t
                && !kids.all_over()
                && !more_at_t
            {
                // Its end waits for spawned tasks to be joined: a later poll of the instant.
                let joins = kids.state.iter().enumerate().any(|(i, kid)| {
                    matches!(kid, Kid::Running { .. } | Kid::Doomed)
                        && has_spawned(kids.children[i])
                });
                for (index, kid) in kids.state.iter_mut().enumerate() {
                    match std::mem::replace(kid, Kid::Over) {
                        Kid::Running { sim, .. } => {
                            // What it raised before it was dropped is not lost.
                            err = err.or(sim.err);
                            panic = panic.or(sim.panic);
                            out.absorb(sim);
                        }
                        Kid::Spawner(sp) => {
                            let (leaf, ..) = spawner_parts(kids.children[index]).expect("spawner");
                            out.fates.push((
                                leaf.id,
                                vec![Fate::Ran {
                                    start: sp.start,
                                    end: Some((End::Dropped, t)),
                                }],
                            ));
                        }
                        _ => {}
                    }
                }
                for index in kids.queue.drain(..) {
                    not_started(kids.children[index], &mut out.fates);
                }
                // Dropped by an enclosing group: it hands nothing back (what it raised still
                // reaches the root). Ended by its own deadline, error, grace period or panic:
                // it returns now, before an enclosing group that drops it at the same instant
                // decides so, if that one decides in a later poll of the same task and this
                // group has no spawned children to join first.
                let by_parent = ext.hard.is_some_and(|e| e.at == t);
                out.end = if !by_parent {
                    Some(t)
                } else if own_hard.is_some_and(|h| h.at == t) && (decided_now || !new_cut) {
                    // Its own drop at t was decided in its first poll at t: its grace period
                    // ended (a timer), or its deadline or an in-place leaf's error or panic.
                    let first_poll = tcs.is_some_and(|c| c.at < t) && !decided_now || sure_cause;
                    match race(t, task, ext.hard) {
                        Race::Event if first_poll && !joins => Some(t),
                        Race::Cut => None,
                        _ => {
                            out.inexact.push(format!(
                                "group {} ends at {t}, the instant an enclosing group drops it",
                                group.gid
                            ));
                            Some(t)
                        }
                    }
                } else {
                    None
                };
                out.ends.push((group.gid, t));
                out.err = err.or(elapsed);
                out.panic = panic;
                out.elapsed.push((group.gid, elapsed));
                return out;
            }
        }

        // Every child is over: the group returns at the last instant processed.
        out.ends.push((group.gid, last));
        out.end = Some(last);
        // Ended in a later poll of the instant than the one an enclosing group that drops it
        // at that instant may decide in.
        out.end_maybe = maybe_at == Some(last)
            || (late_at == Some(last) && ext.hard.is_some_and(|h| h.at == last));
        out.err = err.or(elapsed);
        out.panic = panic;
        out.elapsed.push((group.gid, elapsed));
        let cancelled = tcs.is_some() || ext.soft.is_some_and(|s| s.at <= last);
        if !cancelled && out.err == Tri::No && out.panic == Tri::No {
            let values: Option<Vec<Option<Value>>> = values.into_iter().collect();
            out.value = values.map(Value::List);
        }
        out
    }
}
