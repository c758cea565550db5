//! `except*` arms under random errors and random ways of leaving: no path through the arms
//! loses an error. Random tasks fail with one of three error types (or succeed); two typed
//! arms each yield, `return Err`, `return Ok`, `?`, `break` or `continue`; whatever the arms
//! did not see must come out of the function, each error once, under its task's name, with
//! the leaving arm's own error beside them.

use std::collections::BTreeSet;
use std::fmt;

use proptest::prelude::*;
use taskgroup::{BoxError, ErrorGroup, group};

#[derive(Debug)]
struct Red(usize);
#[derive(Debug)]
struct Green(usize);
#[derive(Debug)]
struct Blue(usize);

macro_rules! error_type {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", stringify!($ty), self.0)
            }
        }
        impl std::error::Error for $ty {}
    )*};
}
error_type!(Red, Green, Blue);

/// How a task ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Ok,
    Red,
    Green,
    Blue,
}

/// How an arm leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    Yield,
    ReturnErr,
    ReturnOk,
    Question,
    Break,
    Continue,
}

async fn task(i: usize, end: End) -> Result<(), BoxError> {
    tokio::task::yield_now().await;
    match end {
        End::Ok => Ok(()),
        End::Red => Err(Red(i).into()),
        End::Green => Err(Green(i).into()),
        End::Blue => Err(Blue(i).into()),
    }
}

/// What the arms saw: the errors of the arms that ran, as `task: error`.
#[derive(Default)]
struct Seen(BTreeSet<String>);

impl Seen {
    fn add<E: fmt::Display + 'static>(&mut self, errors: &ErrorGroup<E>) {
        self.0.extend(
            errors
                .leaves()
                .map(|leaf| format!("{}: {}", leaf.task, leaf.error)),
        );
    }
}

/// One group with the two arms, in a loop that `break` and `continue` leave (once).
async fn run(
    ends: &[End],
    red: Leave,
    green: Leave,
    seen: &mut Seen,
) -> Result<&'static str, BoxError> {
    let mut rounds = 0;
    loop {
        rounds += 1;
        if rounds > 1 {
            return Ok("continued");
        }
        group! {
            #![mode = supervise]
            _ = for (i, end) in ends.iter().enumerate() => task(i, *end);
            except* Red as errors => {
                seen.add(&errors);
                match red {
                    Leave::Yield => {}
                    Leave::ReturnErr => return Err("red arm failed".into()),
                    Leave::ReturnOk => return Ok("red arm returned"),
                    Leave::Question => Err(std::fmt::Error)?,
                    Leave::Break => break,
                    Leave::Continue => continue,
                }
            }
            except* Green as errors => {
                seen.add(&errors);
                match green {
                    Leave::Yield => {}
                    Leave::ReturnErr => return Err("green arm failed".into()),
                    Leave::ReturnOk => return Ok("green arm returned"),
                    Leave::Question => Err(std::fmt::Error)?,
                    Leave::Break => break,
                    Leave::Continue => continue,
                }
            }
        }
        return Ok("completed");
    }
    Ok("broke")
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Ok),
        Just(End::Red),
        Just(End::Green),
        Just(End::Blue)
    ]
}

fn leave() -> impl Strategy<Value = Leave> {
    prop_oneof![
        Just(Leave::Yield),
        Just(Leave::ReturnErr),
        Just(Leave::ReturnOk),
        Just(Leave::Question),
        Just(Leave::Break),
        Just(Leave::Continue),
    ]
}

/// The arm's own error, as the delivered group names it, when it leaves with one.
fn own_error(leave: Leave, arm: &str) -> Option<String> {
    match leave {
        Leave::ReturnErr => Some(format!(
            "except* {}: {} arm failed",
            arm,
            arm.to_lowercase()
        )),
        Leave::Question => Some(format!(
            "except* {arm}: an error occurred when formatting an argument"
        )),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_path_through_the_arms_loses_an_error(
        ends in proptest::collection::vec(end(), 0..8),
        red in leave(),
        green in leave(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut seen = Seen::default();
        let result = rt.block_on(run(&ends, red, green, &mut seen));

        let all: BTreeSet<String> = ends
            .iter()
            .enumerate()
            .filter_map(|(i, end)| match end {
                End::Ok => None,
                End::Red => Some(format!("task[{i}]: Red {i}")),
                End::Green => Some(format!("task[{i}]: Green {i}")),
                End::Blue => Some(format!("task[{i}]: Blue {i}")),
            })
            .collect();
        let has = |pred: fn(&End) -> bool| ends.iter().any(pred);
        let red_ran = has(|e| matches!(e, End::Red));
        // The arm that leaves first, if any: the red arm runs first.
        let leaving = if red_ran && red != Leave::Yield {
            Some((red, "Red"))
        } else if has(|e| matches!(e, End::Green)) && green != Leave::Yield {
            Some((green, "Green"))
        } else {
            None
        };

        // Every error is either seen by an arm or delivered, never both, never neither. An
        // error that is not a group is the leaving arm's own, returned as written.
        let own = leaving.and_then(|(leave, arm)| own_error(leave, arm));
        let delivered: Vec<String> = match &result {
            Ok(_) => Vec::new(),
            Err(error) => match error.downcast_ref::<ErrorGroup>() {
                Some(group) => group
                    .leaves()
                    .map(|leaf| format!("{}: {}", leaf.task, leaf.error))
                    .collect(),
                None => {
                    let own = own.clone();
                    prop_assert!(own.is_some(), "a bare error from no leaving arm: {}", error);
                    let own = own.unwrap();
                    prop_assert_eq!(&own[own.find(": ").unwrap() + 2..], error.to_string());
                    vec![own]
                }
            },
        };
        let from_tasks: BTreeSet<String> = delivered
            .iter()
            .filter(|line| Some(*line) != own.as_ref())
            .cloned()
            .collect();
        let own_delivered = delivered.iter().filter(|line| Some(*line) == own.as_ref()).count();
        prop_assert_eq!(from_tasks.len() + own_delivered, delivered.len(), "an error delivered twice: {:?}", delivered);
        prop_assert!(seen.0.is_disjoint(&from_tasks), "seen and delivered: {:?} {:?}", seen.0, delivered);
        let union: BTreeSet<String> = seen.0.union(&from_tasks).cloned().collect();
        prop_assert_eq!(&union, &all, "lost: {:?}", all.difference(&union).collect::<Vec<_>>());

        // A leaving arm's own error is delivered, once.
        if own.is_some() {
            prop_assert_eq!(own_delivered, 1, "{:?} not in {:?}", own, delivered);
        }
        // With nothing unhandled the arm leaves as written.
        if from_tasks.is_empty() && own.is_none() {
            let expected = match leaving {
                None => "completed",
                Some((Leave::ReturnOk, "Red")) => "red arm returned",
                Some((Leave::ReturnOk, _)) => "green arm returned",
                Some((Leave::Break, _)) => "broke",
                Some((Leave::Continue, _)) => "continued",
                Some(other) => unreachable!("{other:?}"),
            };
            prop_assert_eq!(result.unwrap(), expected);
        }
    }
}
