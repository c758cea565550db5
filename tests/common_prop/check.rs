//! The invariants, checked on every case: against the leaves' own log always, against the
//! model when it predicts the case exactly.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use taskgroup::error_group::Member;
use taskgroup::{Elapsed, ErrorGroup, GraceElapsed};

use super::interp::{Boom, Event, NodeError, PanicPayload, Value, What};
use super::model::{End, Fate, Prediction, Tri};
use super::tree::{PGroup, PKind, PLeaf, PNode, Plan};

/// How the root group's run ended.
pub enum Outcome {
    Returned {
        at: u64,
        result: Result<Value, NodeError>,
    },
    Panicked {
        at: u64,
        payload: Box<dyn Any + Send>,
    },
    /// The test dropped it (at its drop instant, or because it hung).
    Dropped { at: u64 },
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Returned { at, result: Ok(v) } => write!(f, "returned Ok at {at} ms: {v:?}"),
            Outcome::Returned { at, result: Err(e) } => {
                write!(f, "returned Err at {at} ms:\n{e:#}")
            }
            Outcome::Panicked { at, payload } => write!(
                f,
                "panicked at {at} ms with {:?}",
                payload
                    .downcast_ref::<PanicPayload>()
                    .map(|p| format!("PanicPayload({})", p.0))
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a foreign payload".to_owned())
            ),
            Outcome::Dropped { at } => write!(f, "dropped by the test at {at} ms"),
        }
    }
}

/// What a run left behind, for the checks.
#[derive(Debug)]
pub struct Observed {
    pub outcome: Outcome,
    pub events: Vec<Event>,
    /// The leaves that were told their group is cancelling.
    pub told: Vec<u32>,
    /// Leaves alive right when the root returned or was dropped.
    pub live_at_end: usize,
    /// Leaves of the test's own task alive right then.
    pub live_in_place_at_end: usize,
    /// Leaves alive after one idle tick of the runtime (1 s of real time on the multi-thread
    /// runtime).
    pub live_after_tick: usize,
    /// Leaves alive after fifty more.
    pub live_after_ticks: usize,
    /// Per group: (in flight after ticks, most ever in flight).
    pub trackers: Vec<(usize, usize)>,
    /// What groups returned that they may not (recorded by the interpreter).
    pub violations: Vec<String>,
}

/// A leaf's observed fate, from its events.
fn observed_fates(plan: &Plan, events: &[Event]) -> Result<Vec<Fate>, String> {
    let mut fates = vec![Fate::NotStarted; plan.leaves.len()];
    for event in events {
        let fate = &mut fates[event.leaf as usize];
        match (event.what, *fate) {
            (What::Start, Fate::NotStarted) => {
                *fate = Fate::Ran {
                    start: event.at,
                    end: None,
                }
            }
            (What::Start, _) => return Err(format!("leaf {} started twice", event.leaf)),
            (what, Fate::Ran { start, end: None }) => {
                let end = match what {
                    What::Ok => End::Ok,
                    What::Err => End::Err,
                    What::Panic => End::Panic,
                    What::Dropped => End::Dropped,
                    What::Start => unreachable!(),
                };
                *fate = Fate::Ran {
                    start,
                    end: Some((end, event.at)),
                };
            }
            (what, _) => {
                return Err(format!(
                    "leaf {}: {what:?} after its end, or before its start",
                    event.leaf
                ));
            }
        }
    }
    Ok(fates)
}

/// A leaf of the reported error tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reported {
    Boom(u32),
    /// A deadline, with the names of the tasks it says were still running.
    Elapsed(Vec<String>),
    Grace,
    Other(String),
}

/// The reported tree, flattened: each leaf with its path of task names, each nested group with
/// its path, message and member count; and per group (by path), its members in order.
/// Per group path: its members, as (path of the member, leaf or group).
type Members = BTreeMap<Vec<String>, Vec<(Vec<String>, Option<Reported>)>>;

#[derive(Default, Debug)]
struct Flat {
    leaves: Vec<(Vec<String>, Reported)>,
    groups: Vec<(Vec<String>, String, usize)>,
    members: Members,
}

fn flatten(group: &ErrorGroup, path: &mut Vec<String>, flat: &mut Flat) {
    let mut members = Vec::new();
    for member in group.members() {
        path.push(member.task().to_string());
        match member {
            Member::Leaf { error, .. } => {
                let reported = if let Some(boom) = error.downcast_ref::<Boom>() {
                    Reported::Boom(boom.0)
                } else if let Some(elapsed) = error.downcast_ref::<Elapsed>() {
                    Reported::Elapsed(
                        elapsed
                            .running()
                            .iter()
                            .map(|(task, _)| task.to_string())
                            .collect(),
                    )
                } else if error.downcast_ref::<GraceElapsed>().is_some() {
                    Reported::Grace
                } else {
                    Reported::Other(format!("{error} ({error:?})"))
                };
                flat.leaves.push((path.clone(), reported.clone()));
                members.push((path.clone(), Some(reported)));
            }
            Member::Group { group, .. } => {
                flat.groups
                    .push((path.clone(), group.message().to_owned(), group.len()));
                members.push((path.clone(), None));
                flatten(group, path, flat);
            }
        }
        path.pop();
    }
    flat.members.insert(path.clone(), members);
}

/// The value a plan's root returns when every task succeeds.
pub fn success_value(group: &PGroup) -> Option<Value> {
    group
        .children
        .iter()
        .map(|child| match &child.node {
            PNode::Leaf(PLeaf {
                id,
                kind: PKind::Fail(_),
                ..
            }) if group.settles => Some(Some(Value::Err(*id))),
            PNode::Leaf(leaf) => leaf_value(leaf).map(Some),
            PNode::Group(group) => success_value(group).map(Some),
        })
        .collect::<Option<Vec<_>>>()
        .map(Value::List)
}

fn leaf_value(leaf: &PLeaf) -> Option<Value> {
    match &leaf.kind {
        PKind::Ok(_) | PKind::Cleanup { work: Some(_), .. } => Some(Value::Leaf(leaf.id)),
        PKind::SpawnMore { join: false, .. } => Some(Value::Leaf(leaf.id)),
        PKind::SpawnMore {
            join: true, more, ..
        } => more
            .iter()
            .map(|extra| match &extra.node {
                PNode::Leaf(leaf) => leaf_value(leaf).map(Some),
                PNode::Group(group) => success_value(group).map(Some),
            })
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        _ => None,
    }
}

fn fmt_fate(fate: &Fate) -> String {
    match fate {
        Fate::NotStarted => "never started".to_owned(),
        Fate::Ran { start, end: None } => format!("started at {start}, never ended"),
        Fate::Ran {
            start,
            end: Some((end, at)),
        } => format!("started at {start}, {end:?} at {at}"),
    }
}

/// Checks a run. `prediction` is `None` when the model gave up on an exact prediction (or on
/// the multi-thread runtime): then only the model-free invariants are checked.
#[allow(clippy::too_many_lines)]
pub fn check(
    plan: &Plan,
    observed: &Observed,
    prediction: Option<&Prediction>,
) -> Result<(), String> {
    let fates = observed_fates(plan, &observed.events)?;
    if let Some(violation) = observed.violations.first() {
        return Err(violation.clone());
    }

    // --- No task outlives its group: in-place leaves are gone when the root returns or is
    //     dropped; spawned ones after at most one idle tick (an aborted task is dropped when the
    //     runtime next runs it). `nested_spawned_tasks_are_joined_before_the_root_returns`
    //     holds the stricter "joined, not just aborted" for spawned ones.
    if observed.live_in_place_at_end != 0 {
        let alive: Vec<_> = fates
            .iter()
            .enumerate()
            .filter(|(id, f)| {
                matches!(f, Fate::Ran { end: None, .. }) && plan.leaves[*id].task == 0
            })
            .map(|(id, _)| id)
            .collect();
        return Err(format!(
            "LEAK: {} in-place leaves still alive when the root {} (leaves {alive:?})",
            observed.live_in_place_at_end,
            match observed.outcome {
                Outcome::Dropped { .. } => "was dropped",
                _ => "returned",
            }
        ));
    }
    if observed.live_after_tick != 0 {
        return Err(format!(
            "LEAK: {} leaves still alive one idle tick after the root returned or was dropped \
             ({} after fifty)",
            observed.live_after_tick, observed.live_after_ticks
        ));
    }
    for (gid, &(current, max)) in observed.trackers.iter().enumerate() {
        if current != 0 {
            return Err(format!(
                "LEAK: group {gid} still has {current} tasks in flight"
            ));
        }
        // --- The limit is never exceeded ---------------------------------------------------
        if let Some(limit) = plan.groups[gid].limit
            && max > limit
        {
            return Err(format!(
                "LIMIT: group {gid} had {max} tasks in flight with limit {limit}"
            ));
        }
    }

    // --- What the leaves raised --------------------------------------------------------------
    let raised: Vec<(u32, u64)> = fates
        .iter()
        .enumerate()
        .filter_map(|(id, fate)| match fate {
            Fate::Ran {
                end: Some((End::Err, at)),
                ..
            } if !plan.leaves[id].settled => Some((id as u32, *at)),
            _ => None,
        })
        .collect();
    let panics: Vec<(u32, u64)> = fates
        .iter()
        .enumerate()
        .filter_map(|(id, fate)| match fate {
            Fate::Ran {
                end: Some((End::Panic, at)),
                ..
            } => Some((id as u32, *at)),
            _ => None,
        })
        .collect();

    match &observed.outcome {
        Outcome::Panicked { payload, .. } => {
            // --- A panic surfaces as a panic, with its original payload ---------------------
            let Some(PanicPayload(id)) = payload.downcast_ref::<PanicPayload>().copied() else {
                return Err("PANIC: the root panicked with a payload that is not a leaf's".into());
            };
            let Some(first) = panics.iter().map(|(_, at)| *at).min() else {
                return Err(format!("PANIC: payload of leaf {id}, which never panicked"));
            };
            // With an exact prediction the first panic (ties aside) wins; otherwise any panic
            // raised may reach the root first (a group that panicked may still be joining its
            // spawned children when another panic arrives).
            let first_ok = panics.iter().any(|&(p, at)| p == id && at == first);
            if !first_ok && (prediction.is_some() || !panics.iter().any(|&(p, _)| p == id)) {
                return Err(format!(
                    "PANIC: resumed the payload of leaf {id}, not one of the first panics {panics:?}"
                ));
            }
        }
        Outcome::Returned { result, .. } => {
            if let Some((id, _)) = panics.first() {
                return Err(format!(
                    "PANIC LOST: leaf {id} panicked but the root returned instead of panicking"
                ));
            }
            match result {
                Ok(value) => {
                    if let Some((id, _)) = raised.first() {
                        return Err(format!(
                            "ERROR LOST: leaf {id} failed but the root returned Ok"
                        ));
                    }
                    // --- On success every binding holds the right value --------------------
                    let expected = success_value(&plan.root);
                    if expected.as_ref() != Some(value) {
                        return Err(format!(
                            "VALUE: the root returned {value:?}, expected {expected:?}"
                        ));
                    }
                }
                Err(error) => {
                    let Some(group) = error.downcast_ref::<ErrorGroup>() else {
                        return Err(format!("the root failed with a non-group error: {error}"));
                    };
                    check_errors(plan, &fates, &raised, &observed.told, group, prediction)?;
                }
            }
        }
        Outcome::Dropped { .. } => {}
    }

    // --- The model: each leaf's fate, the root's outcome and instant -------------------------
    if let Some(prediction) = prediction {
        for (id, fate) in fates.iter().enumerate() {
            let expected = &prediction.fates[&(id as u32)];
            if !expected.contains(fate) {
                return Err(format!(
                    "FATE: leaf {id} at {:?}: {}; the model expects {}",
                    plan.leaves[id].path,
                    fmt_fate(fate),
                    expected
                        .iter()
                        .map(fmt_fate)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
        }
        check_outcome(plan, &observed.outcome, prediction)?;
    }
    Ok(())
}

fn check_outcome(plan: &Plan, outcome: &Outcome, prediction: &Prediction) -> Result<(), String> {
    let (at, kind) = match outcome {
        Outcome::Returned { at, result: Ok(_) } => (*at, "Ok"),
        Outcome::Returned { at, result: Err(_) } => (*at, "Err"),
        Outcome::Panicked { at, .. } => (*at, "panic"),
        Outcome::Dropped { at } => (*at, "dropped"),
    };
    let expected_at = prediction.root_end.unwrap_or(plan.bound);
    let at_bound = at == plan.bound && expected_at == plan.bound;
    if kind == "dropped" {
        if prediction.root_end.is_some_and(|end| end < plan.bound) {
            return Err(format!(
                "HANG: the root should have returned at {} ms but was still running at {at} ms",
                expected_at
            ));
        }
        return Ok(());
    }
    if at != expected_at && !at_bound {
        return Err(format!(
            "TIME: the root returned ({kind}) at {at} ms, the model expects {}",
            match prediction.root_end {
                Some(end) => format!("{end} ms"),
                None => format!("it to run until the test drops it at {} ms", plan.bound),
            }
        ));
    }
    let expected_kind = match (prediction.root_panic, prediction.root_err) {
        (Tri::Yes, _) => Some("panic"),
        (Tri::Maybe, _) => None,
        (Tri::No, Tri::Yes) => Some("Err"),
        (Tri::No, Tri::Maybe) => None,
        (Tri::No, Tri::No) => Some("Ok"),
    };
    if let Some(expected) = expected_kind
        && expected != kind
        && !(kind == "Err" && expected == "Ok" && prediction.root_value.is_none())
    {
        return Err(format!(
            "OUTCOME: the root ended with {kind}, the model expects {expected}"
        ));
    }
    if kind == "Ok"
        && let (Outcome::Returned { result: Ok(v), .. }, Some(expected)) =
            (outcome, &prediction.root_value)
        && v != expected
    {
        return Err(format!(
            "VALUE: the root returned {v:?}, the model expects {expected:?}"
        ));
    }
    Ok(())
}

/// Every error raised appears exactly once, at its task's path, nested as its groups are;
/// nothing else appears but the deadlines that fired and the leaves (`told`) that were cut
/// off in their cleanup when a grace period ran out.
fn check_errors(
    plan: &Plan,
    fates: &[Fate],
    raised: &[(u32, u64)],
    told: &[u32],
    group: &ErrorGroup,
    prediction: Option<&Prediction>,
) -> Result<(), String> {
    if group.message() != plan.groups[0].message {
        return Err(format!(
            "MESSAGE: the root's error says {:?}, expected {:?}",
            group.message(),
            plan.groups[0].message
        ));
    }
    let mut flat = Flat::default();
    flatten(group, &mut Vec::new(), &mut flat);
    let group_at: BTreeMap<&[String], usize> = plan
        .groups
        .iter()
        .enumerate()
        .map(|(gid, info)| (info.path.as_slice(), gid))
        .collect();

    // Nested groups: each is a group of the plan, with its message, and not empty.
    for (path, message, len) in &flat.groups {
        let Some(&gid) = group_at.get(path.as_slice()) else {
            return Err(format!(
                "NESTING: a nested group at {path:?}, where the plan has no group"
            ));
        };
        if *message != plan.groups[gid].message {
            return Err(format!(
                "MESSAGE: the nested group at {path:?} says {message:?}, expected {:?}",
                plan.groups[gid].message
            ));
        }
        if *len == 0 {
            return Err(format!(
                "EMPTY: the nested group at {path:?} has no members"
            ));
        }
    }

    let mut seen = vec![0usize; plan.leaves.len()];
    for (path, reported) in &flat.leaves {
        match reported {
            Reported::Boom(id) => {
                let id = *id as usize;
                if id >= plan.leaves.len() {
                    return Err(format!("a Boom({id}) that no leaf raises"));
                }
                seen[id] += 1;
                if seen[id] > 1 {
                    return Err(format!(
                        "DUPLICATE: leaf {id}'s error appears {} times",
                        seen[id]
                    ));
                }
                if *path != plan.leaves[id].path {
                    return Err(format!(
                        "NAME: leaf {id}'s error is reported at {path:?}, its task is at {:?}",
                        plan.leaves[id].path
                    ));
                }
                if !raised.iter().any(|&(r, _)| r as usize == id) {
                    return Err(format!(
                        "INVENTED: leaf {id}'s error is reported but the leaf did not fail ({})",
                        fmt_fate(&fates[id])
                    ));
                }
            }
            Reported::Elapsed(running) => {
                let group_path = &path[..path.len() - 1];
                let gid = group_at.get(group_path).copied();
                let ok = path.last().is_some_and(|name| name == "deadline")
                    && gid.is_some_and(|gid| plan.groups[gid].timeout);
                if !ok {
                    return Err(format!(
                        "DEADLINE: an Elapsed at {path:?}, which is no group's deadline"
                    ));
                }
                // The tasks it names as still running are that group's own.
                for name in running {
                    let mut child = group_path.to_vec();
                    child.push(name.clone());
                    let known = name == "body"
                        || plan.leaves.iter().any(|leaf| leaf.path == child)
                        || plan.groups.iter().any(|group| group.path == child);
                    if !known {
                        return Err(format!(
                            "DEADLINE: the Elapsed at {path:?} names {name:?} as still running, \
                             which is no task of its group"
                        ));
                    }
                }
                if let (Some(prediction), Some(gid)) = (prediction, gid)
                    && prediction
                        .elapsed
                        .get(&(gid as u32))
                        .copied()
                        .unwrap_or(Tri::No)
                        == Tri::No
                {
                    return Err(format!(
                        "DEADLINE: group {gid}'s deadline is reported, the model says it never fired"
                    ));
                }
            }
            Reported::Grace => {
                // A leaf that was told to cancel and dropped when its group's grace ran out.
                let leaf = (0..plan.leaves.len()).find(|&id| plan.leaves[id].path == *path);
                let Some(id) = leaf else {
                    return Err(format!(
                        "GRACE: a GraceElapsed at {path:?}, where no leaf is"
                    ));
                };
                if !told.contains(&(id as u32)) {
                    return Err(format!(
                        "GRACE: leaf {id} is reported cut off in its cleanup, but it was never told to cancel"
                    ));
                }
                if !matches!(
                    fates[id],
                    Fate::Ran {
                        end: Some((End::Dropped, _)),
                        ..
                    }
                ) {
                    return Err(format!(
                        "GRACE: leaf {id} is reported cut off in its cleanup, but it was not dropped ({})",
                        fmt_fate(&fates[id])
                    ));
                }
                seen[id] += 1;
                if seen[id] > 1 {
                    return Err(format!(
                        "DUPLICATE: leaf {id} is reported {} times",
                        seen[id]
                    ));
                }
            }
            Reported::Other(what) => {
                return Err(format!(
                    "NOT AN ERROR: {what} is reported at {path:?}: a cancellation the group \
                     caused (or something no task raised) became an error"
                ));
            }
        }
    }
    for &(id, at) in raised {
        // Required: with an exact prediction, unless the model lets the leaf's end race its
        // drop at that instant; else only in-place leaves (polled by the test's own task,
        // which no abort can race: their group records the error in the poll that returned it).
        let required = match prediction {
            Some(prediction) => prediction.fates[&id].len() == 1,
            None => plan.leaves[id as usize].task == 0,
        };
        if required && seen[id as usize] == 0 {
            return Err(format!(
                "ERROR LOST: leaf {id} (task {:?}) returned its error at {at} ms; it is not in \
                 the root's ErrorGroup",
                plan.leaves[id as usize].path
            ));
        }
    }

    if let Some(prediction) = prediction {
        // Deadlines the model says fired.
        for (&gid, &fired) in &prediction.elapsed {
            if fired != Tri::Yes {
                continue;
            }
            let mut path = plan.groups[gid as usize].path.clone();
            path.push("deadline".to_owned());
            if !flat
                .leaves
                .iter()
                .any(|(p, r)| *p == path && matches!(r, Reported::Elapsed(_)))
            {
                return Err(format!(
                    "DEADLINE LOST: group {gid}'s deadline fired (model) but is not reported"
                ));
            }
        }
        // Completion order: members in the order they reached their group.
        let leaf_at: BTreeMap<u32, u64> = raised.iter().copied().collect();
        for (group_path, members) in &flat.members {
            let mut previous = 0u64;
            for (path, reported) in members {
                let at = match reported {
                    Some(Reported::Boom(id)) => leaf_at.get(id).copied(),
                    Some(Reported::Elapsed(_)) => group_at
                        .get(group_path.as_slice())
                        .and_then(|gid| prediction.elapsed_at.get(&(*gid as u32)).copied()),
                    // When the grace ran out: the instant the leaf was dropped.
                    Some(Reported::Grace) => (0..plan.leaves.len())
                        .find(|&id| plan.leaves[id].path == *path)
                        .and_then(|id| match fates[id] {
                            Fate::Ran {
                                end: Some((End::Dropped, t)),
                                ..
                            } => Some(t),
                            _ => None,
                        }),
                    Some(Reported::Other(_)) => None,
                    None => group_at
                        .get(path.as_slice())
                        .and_then(|gid| prediction.ends.get(&(*gid as u32)).copied()),
                };
                if let Some(at) = at {
                    if at < previous {
                        let mut order = String::new();
                        for (p, r) in members {
                            let _ = write!(order, "{p:?}={r:?}; ");
                        }
                        return Err(format!(
                            "ORDER: in the group at {group_path:?}, {path:?} (at {at} ms) comes \
                             after a member that arrived at {previous} ms: {order}"
                        ));
                    }
                    previous = at;
                }
            }
        }
    }
    Ok(())
}
