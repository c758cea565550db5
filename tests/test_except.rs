//! Errors: how they are collected into an `ErrorGroup`, matched by `except*` arms, and
//! propagated.

mod common;

use std::io;

use common::*;
use taskgroup::error_group::Member;
use taskgroup::{ErrorGroup, group};
use tokio::time::Instant;

async fn one_failure() -> Result<(u8, u8), ErrorGroup> {
    group! {
        a = ok_after(100, 1u8);
        b = io_fail_after::<u8>(10, "b failed");
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn a_single_error_still_arrives_wrapped_in_a_group() {
    let errors = one_failure().await.unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(task_names(&errors), ["b"]);
    assert!(matches!(&errors.members()[0], Member::Leaf { .. }));
    assert!(errors.contains::<io::Error>());
}

async fn two_at_once() -> Result<(u8, u8, u8), ErrorGroup> {
    group! {
        first = io_fail_after::<u8>(1000, "first failed");
        ok = ok_after(5000, 0u8);
        second = my_fail_after::<u8>(1000, "second failed");
    }
    Ok((first, ok, second))
}

#[tokio::test(start_paused = true)]
async fn two_failures_at_the_same_instant_are_both_collected() {
    let start = Instant::now();
    let errors = two_at_once().await.unwrap_err();
    assert_eq!(start.elapsed(), ms(1000));
    assert_eq!(errors.len(), 2);
    let mut names = task_names(&errors);
    names.sort();
    assert_eq!(names, ["first", "second"]);
    assert!(errors.contains::<io::Error>());
    assert!(errors.contains::<MyError>());
}

async fn two_items_at_once() -> Result<Vec<u8>, ErrorGroup> {
    group! {
        items = for i in 0..4u8 => async move {
            sleep_ms(if i == 1 || i == 3 { 100 } else { 1000 }).await;
            if i == 1 || i == 3 {
                return Err(io::Error::other(format!("item {i}")));
            }
            Ok(i)
        };
    }
    Ok(items)
}

#[tokio::test(start_paused = true)]
async fn two_fan_out_failures_at_the_same_instant_are_both_collected_with_indices() {
    let start = Instant::now();
    let errors = two_items_at_once().await.unwrap_err();
    assert_eq!(start.elapsed(), ms(100));
    let mut names = task_names(&errors);
    names.sort();
    assert_eq!(names, ["items[1]", "items[3]"]);
    let indices: Vec<_> = errors.members().iter().map(|m| m.task().index()).collect();
    assert!(indices.iter().all(|i| i.is_some()));
    assert!(errors.members().iter().all(|m| m.task().name() == "items"));
}

async fn supervised_order() -> Result<(), ErrorGroup> {
    group! {
        #![mode = supervise]
        slow = io_fail_after::<()>(300, "slow");
        fast = io_fail_after::<()>(100, "fast");
        middle = my_fail_after::<()>(200, "middle");
    }
    let ((), (), ()) = (slow, fast, middle);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn errors_are_collected_in_completion_order() {
    let errors = supervised_order().await.unwrap_err();
    assert_eq!(task_names(&errors), ["fast", "middle", "slow"]);
    assert_eq!(leaf_messages(&errors), ["fast", "my error: middle", "slow"]);
}

async fn inner_group() -> Result<u32, ErrorGroup> {
    group! {
        #![name = "inner"]
        fine = ok_after(500, 1u32);
        leaf = io_fail_after::<u32>(100, "inner leaf failed");
    }
    Ok(fine + leaf)
}

async fn outer_group() -> Result<(u32, u32), ErrorGroup> {
    group! {
        #![name = "outer"]
        nested = inner_group();
        sibling = ok_after(1000, 2u32);
    }
    Ok((nested, sibling))
}

#[tokio::test(start_paused = true)]
async fn a_nested_group_error_stays_nested_under_its_task_name() {
    let start = Instant::now();
    let errors = outer_group().await.unwrap_err();
    // The inner failure (at 100 ms) failed the outer group at once.
    assert_eq!(start.elapsed(), ms(100));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.leaf_count(), 1);
    match &errors.members()[0] {
        Member::Group { task, group } => {
            assert_eq!(task.to_string(), "nested");
            assert!(group.message().contains("inner"), "{}", group.message());
            assert_eq!(group.len(), 1);
            match &group.members()[0] {
                Member::Leaf { task, error } => {
                    assert_eq!(task.to_string(), "leaf");
                    assert_eq!(error.to_string(), "inner leaf failed");
                    assert!(error.is::<io::Error>());
                }
                other => panic!("expected a leaf, got {other:?}"),
            }
        }
        other => panic!("expected a nested group, got {other:?}"),
    }
    let leaf = errors.leaves().next().unwrap();
    assert_eq!(leaf.depth, 1);
}

async fn outer_matching_nested(
    seen: &mut Option<ErrorGroup<io::Error>>,
) -> Result<u32, ErrorGroup> {
    group! {
        nested = inner_group();
        sibling = ok_after(1000, 2u32);
        except* io::Error as errs => {
            *seen = Some(errs);
            (0, 0)
        }
    }
    Ok(nested + sibling)
}

#[tokio::test(start_paused = true)]
async fn except_star_matches_through_a_nested_group_and_keeps_the_nesting() {
    let mut seen = None;
    let value = outer_matching_nested(&mut seen).await.unwrap();
    assert_eq!(value, 0);
    let errs: ErrorGroup<io::Error> = seen.expect("the arm ran");
    assert_eq!(errs.len(), 1);
    match &errs.members()[0] {
        Member::Group { task, group } => {
            assert_eq!(task.to_string(), "nested");
            match &group.members()[0] {
                Member::Leaf { task, error } => {
                    assert_eq!(task.to_string(), "leaf");
                    assert_eq!(error.kind(), io::ErrorKind::Other);
                    assert_eq!(error.to_string(), "inner leaf failed");
                }
                other => panic!("expected a leaf, got {other:?}"),
            }
        }
        other => panic!("expected the nesting to be kept, got {other:?}"),
    }
}

#[derive(Debug, Default)]
struct ArmRuns {
    io: Vec<usize>,
    mine: Vec<usize>,
}

async fn two_arms(runs: &mut ArmRuns) -> Result<(u8, u8, u8), ErrorGroup> {
    group! {
        a = io_fail_after::<u8>(100, "io");
        b = my_fail_after::<u8>(100, "mine 1");
        c = my_fail_after::<u8>(100, "mine 2");
        except* io::Error as errs => {
            runs.io.push(errs.leaf_count());
            (0, 0, 0)
        },
        except* MyError as errs => {
            runs.mine.push(errs.leaf_count());
            (1, 2, 3)
        },
    }
    Ok((a, b, c))
}

#[tokio::test(start_paused = true)]
async fn two_except_arms_both_run_once_with_their_errors() {
    let mut runs = ArmRuns::default();
    let values = two_arms(&mut runs).await.unwrap();
    assert_eq!(runs.io, [1]);
    assert_eq!(runs.mine, [2]);
    assert_eq!(values, (1, 2, 3));
}

async fn last_yield_wins() -> Result<(u8, u8), ErrorGroup> {
    group! {
        #![mode = supervise]
        a = io_fail_after::<u8>(100, "io");
        b = my_fail_after::<u8>(200, "mine");
        except* io::Error => (1, 1),
        except* MyError => (2, 2),
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn when_several_arms_yield_the_last_ones_values_stand() {
    assert_eq!(last_yield_wins().await.unwrap(), (2, 2));
}

async fn fallback_tuple() -> Result<(u8, String), ErrorGroup> {
    group! {
        a = ok_after(50, 1u8);
        b = io_fail_after::<String>(10, "b failed");
        except* io::Error => (7, String::from("fallback")),
    }
    Ok((a, b))
}

async fn fallback_single() -> Result<String, ErrorGroup> {
    group! {
        only = io_fail_after::<String>(10, "only failed");
        except* io::Error => String::from("fallback"),
    }
    Ok(only)
}

async fn fallback_none(ran: &mut bool) -> Result<(), ErrorGroup> {
    group! {
        _ = io_fail_after::<String>(10, "discarded failed");
        except* io::Error => {
            *ran = true;
        }
    }
    Ok(())
}

/// A task whose value is itself a `Result`: an arm `=> Ok(..)` yields it, as written.
async fn fallback_result() -> Result<Result<u8, String>, ErrorGroup> {
    group! {
        lookup = io_fail_after::<Result<u8, String>>(10, "lookup failed");
        except* io::Error => Ok(0),
    }
    Ok(lookup)
}

#[tokio::test(start_paused = true)]
async fn an_arm_yields_fallback_values_for_the_bindings() {
    assert_eq!(fallback_result().await.unwrap(), Ok(0));
    assert_eq!(fallback_tuple().await.unwrap(), (7, "fallback".to_owned()));
    assert_eq!(fallback_single().await.unwrap(), "fallback");
    let mut ran = false;
    fallback_none(&mut ran).await.unwrap();
    assert!(ran);
}

async fn diverging_arm() -> Result<&'static str, ErrorGroup> {
    group! {
        a = io_fail_after::<u8>(10, "a failed");
        except* io::Error => return Ok("returned from the arm"),
    }
    let _ = a;
    Ok("after the group")
}

#[tokio::test(start_paused = true)]
async fn a_diverging_arm_returns_from_the_function() {
    assert_eq!(diverging_arm().await.unwrap(), "returned from the arm");
}

async fn catch_all(rest_names: &mut Vec<String>) -> Result<(u8, u8), ErrorGroup> {
    group! {
        a = io_fail_after::<u8>(100, "io");
        b = my_fail_after::<u8>(100, "mine");
        except* io::Error => (0, 0),
        except* _ as rest => {
            rest_names.extend(task_names(&rest));
            (9, 9)
        }
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn except_underscore_takes_what_the_earlier_arms_left() {
    let mut rest = Vec::new();
    assert_eq!(catch_all(&mut rest).await.unwrap(), (9, 9));
    assert_eq!(rest, ["b"]);
}

async fn unmatched() -> Result<u8, ErrorGroup> {
    group! {
        a = ok_after(100, 1u8);
        broken = my_fail_after::<u8>(10, "unmatched");
        except* io::Error => (0, 0),
    }
    Ok(a + broken)
}

#[tokio::test(start_paused = true)]
async fn an_unmatched_error_propagates_out_of_the_function() {
    let errors = unmatched().await.unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(task_names(&errors), ["broken"]);
    assert_eq!(errors.find::<MyError>(), Some(&MyError("unmatched")));
}

async fn partly_matched(ran: &mut usize) -> Result<(u8, u8, u8), ErrorGroup> {
    group! {
        a = io_fail_after::<u8>(100, "io");
        b = my_fail_after::<u8>(100, "mine");
        c = ok_after(1000, 3u8);
        except* io::Error as errs => {
            *ran += errs.leaf_count();
            (0, 0, 0)
        }
    }
    Ok((a, b, c))
}

#[tokio::test(start_paused = true)]
async fn matched_errors_are_handled_and_only_the_rest_propagates() {
    let mut ran = 0;
    let errors = partly_matched(&mut ran).await.unwrap_err();
    assert_eq!(ran, 1);
    assert_eq!(task_names(&errors), ["b"]);
    assert!(!errors.contains::<io::Error>());
}

async fn nested_partly_matched() -> Result<u32, ErrorGroup> {
    group! {
        nested = inner_group();
        other = my_fail_after::<u32>(100, "outer mine");
        except* MyError => (0, 0),
    }
    Ok(nested + other)
}

#[tokio::test(start_paused = true)]
async fn the_propagated_remainder_keeps_its_nesting() {
    let errors = nested_partly_matched().await.unwrap_err();
    assert_eq!(errors.len(), 1);
    match &errors.members()[0] {
        Member::Group { task, group } => {
            assert_eq!(task.to_string(), "nested");
            assert_eq!(task_names(group), ["leaf"]);
        }
        other => panic!("expected the nested group, got {other:?}"),
    }
}

async fn into_box() -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    group! {
        boxed = io_fail_after::<u8>(10, "boxed failure");
    }
    Ok(boxed)
}

async fn into_anyhow() -> anyhow::Result<u8> {
    group! {
        via_anyhow = my_fail_after::<u8>(10, "anyhow failure");
    }
    Ok(via_anyhow)
}

#[tokio::test(start_paused = true)]
async fn unmatched_errors_convert_into_box_dyn_error_and_anyhow() {
    let boxed = into_box().await.unwrap_err();
    let group = boxed
        .downcast::<ErrorGroup>()
        .expect("the boxed error is the ErrorGroup");
    assert_eq!(task_names(&group), ["boxed"]);
    assert_eq!(leaf_messages(&group), ["boxed failure"]);

    let error = into_anyhow().await.unwrap_err();
    let group = error
        .downcast_ref::<ErrorGroup>()
        .expect("the anyhow error is the ErrorGroup");
    assert_eq!(task_names(group), ["via_anyhow"]);
    assert_eq!(group.find::<MyError>(), Some(&MyError("anyhow failure")));
}

async fn task_with_anyhow_error() -> anyhow::Result<u8> {
    sleep_ms(10).await;
    Err(anyhow::anyhow!("anyhow inside a task"))
}

async fn boxed_task_errors() -> Result<(u8, u8), ErrorGroup> {
    group! {
        a = task_with_anyhow_error();
        b = async {
            sleep_ms(10).await;
            Err::<u8, Box<dyn std::error::Error + Send + Sync>>("boxed str".into())
        };
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn tasks_may_fail_with_anyhow_or_boxed_errors() {
    let errors = boxed_task_errors().await.unwrap_err();
    let mut names = task_names(&errors);
    names.sort();
    assert_eq!(names, ["a", "b"]);
    let mut messages = leaf_messages(&errors);
    messages.sort();
    assert_eq!(messages, ["anyhow inside a task", "boxed str"]);
}

async fn settled_group() -> Result<
    (
        Result<u8, io::Error>,
        Result<u8, io::Error>,
        Vec<Result<u8, MyError>>,
    ),
    ErrorGroup,
> {
    group! {
        #![mode = settle]
        a = ok_after(300, 1u8);
        b = io_fail_after::<u8>(100, "b failed");
        items = for i in 0..3u8 => async move {
            sleep_ms(100 * u64::from(i)).await;
            if i == 1 {
                return Err(MyError("item 1"));
            }
            Ok(i)
        };
    }
    Ok((a, b, items.into_vec()))
}

#[tokio::test(start_paused = true)]
async fn settle_mode_runs_every_task_and_binds_results() {
    let start = Instant::now();
    let (a, b, items) = settled_group().await.unwrap();
    assert_eq!(start.elapsed(), ms(300));
    assert_eq!(a.unwrap(), 1);
    assert_eq!(b.unwrap_err().to_string(), "b failed");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0], Ok(0));
    assert_eq!(items[1], Err(MyError("item 1")));
    assert_eq!(items[2], Ok(2));
}

// ---------------------------------------------------------------------------------------------
// An arm that leaves early hands on what no arm handled
// ---------------------------------------------------------------------------------------------

type BoxError = taskgroup::BoxError;

/// The leaves of a returned error, as `task: error`, when it is a group; else its text.
fn delivered(error: &BoxError) -> Vec<String> {
    match error.downcast_ref::<ErrorGroup>() {
        Some(group) => group
            .leaves()
            .map(|leaf| format!("{}: {}", leaf.task, leaf.error))
            .collect(),
        None => vec![error.to_string()],
    }
}

async fn arm_returns_err() -> Result<(), BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("unhandled")) };
        except* std::fmt::Error => return Err("handled".into()),
    }
    let ((), ()) = (a, b);
    Ok(())
}

#[tokio::test]
async fn an_arm_that_returns_err_delivers_its_error_with_the_unhandled_ones() {
    let error = arm_returns_err().await.unwrap_err();
    assert_eq!(
        delivered(&error),
        ["b: unhandled", "except* std::fmt::Error: handled"]
    );
}

async fn arm_returns_ok() -> Result<&'static str, BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("unhandled")) };
        except* std::fmt::Error => return Ok("degraded"),
    }
    let ((), ()) = (a, b);
    Ok("full")
}

#[tokio::test]
async fn an_arm_that_returns_ok_still_raises_the_unhandled_errors() {
    let error = arm_returns_ok().await.unwrap_err();
    assert_eq!(delivered(&error), ["b: unhandled"]);
}

async fn question_mark_in_arm() -> Result<(), BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("unhandled")) };
        except* std::fmt::Error => {
            Err::<(), _>(io::Error::other("failed in the arm"))?;
            ((), ())
        }
    }
    let ((), ()) = (a, b);
    Ok(())
}

#[tokio::test]
async fn question_mark_in_an_arm_returns_its_error_with_the_unhandled_ones() {
    let error = question_mark_in_arm().await.unwrap_err();
    assert_eq!(
        delivered(&error),
        ["b: unhandled", "except* std::fmt::Error: failed in the arm"]
    );
}

async fn earlier_arm_returns(later_ran: &mut bool) -> Result<(), BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("for the later arm")) };
        except* std::fmt::Error => return Err("handled".into()),
        except* io::Error => {
            *later_ran = true;
            ((), ())
        }
    }
    let ((), ()) = (a, b);
    Ok(())
}

#[tokio::test]
async fn an_arm_that_returns_hands_on_the_errors_of_the_arms_after_it() {
    let mut later_ran = false;
    let error = earlier_arm_returns(&mut later_ran).await.unwrap_err();
    assert!(!later_ran, "the arms after a returning arm do not run");
    assert_eq!(
        delivered(&error),
        ["b: for the later arm", "except* std::fmt::Error: handled"]
    );
}

async fn nothing_left() -> Result<(), BoxError> {
    group! {
        a = async { Err::<(), _>(std::fmt::Error) };
        except* std::fmt::Error => return Err("handled".into()),
    }
    let () = a;
    Ok(())
}

#[tokio::test]
async fn with_nothing_unhandled_an_arm_returns_as_written() {
    let error = nothing_left().await.unwrap_err();
    assert!(!error.is::<ErrorGroup>());
    assert_eq!(error.to_string(), "handled");
}

/// `break` and `continue` leave the arm: the unhandled errors propagate instead.
async fn loop_exits(leave: &str, unhandled: bool, rounds: &mut u32) -> Result<(), ErrorGroup> {
    for _ in 0..3 {
        *rounds += 1;
        group! {
            #![mode = supervise]
            a = async { Err::<(), _>(std::fmt::Error) };
            b = async {
                if unhandled {
                    Err(io::Error::other("unhandled"))
                } else {
                    Ok(())
                }
            };
            except* std::fmt::Error => {
                if leave == "break" {
                    break;
                }
                continue;
            }
        }
        let ((), ()) = (a, b);
    }
    Ok(())
}

#[tokio::test]
async fn break_and_continue_in_an_arm_raise_what_no_arm_handled() {
    for leave in ["break", "continue"] {
        let mut rounds = 0;
        let errors = loop_exits(leave, true, &mut rounds).await.unwrap_err();
        assert_eq!(task_names(&errors), ["b"], "{leave}");
        assert_eq!(rounds, 1, "{leave}");
    }
    let mut rounds = 0;
    loop_exits("break", false, &mut rounds).await.unwrap();
    assert_eq!(rounds, 1);
    let mut rounds = 0;
    loop_exits("continue", false, &mut rounds).await.unwrap();
    assert_eq!(rounds, 3);
}

async fn loop_inside_arm(seen: &mut u32) -> Result<u32, ErrorGroup> {
    group! {
        #![mode = supervise]
        a = async { Err::<u32, _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("unhandled")) };
        except* std::fmt::Error => {
            let mut n = 0;
            'outer: for i in 0..10 {
                for j in 0..3 {
                    if i == 2 {
                        break 'outer;
                    }
                    if j == 1 {
                        break;
                    }
                    if j == 0 {
                        continue;
                    }
                }
                n += 1;
            }
            *seen = n;
            (n, ())
        }
    }
    let () = b;
    Ok(a)
}

#[tokio::test]
async fn loops_inside_an_arm_break_and_continue_as_written() {
    // The arm's own loops ran to their end (n = 2); then the remainder propagated as always.
    let mut seen = 0;
    let errors = loop_inside_arm(&mut seen).await.unwrap_err();
    assert_eq!(seen, 2);
    assert_eq!(task_names(&errors), ["b"]);
}

async fn closures_inside_arm() -> Result<u32, ErrorGroup> {
    group! {
        a = async { Err::<u32, _>(std::fmt::Error) };
        except* std::fmt::Error => {
            let half = |x: u32| -> Result<u32, io::Error> {
                if x % 2 == 1 {
                    return Err(io::Error::other("odd"));
                }
                Ok(x / 2)
            };
            let fallback = async { half(8) }.await.unwrap_or(0);
            half(3).unwrap_or(fallback)
        }
    }
    Ok(a)
}

#[tokio::test]
async fn returns_inside_closures_and_async_blocks_of_an_arm_are_theirs() {
    assert_eq!(closures_inside_arm().await.unwrap(), 4);
}

/// Another macro's `return` is an exit `group!` cannot see.
macro_rules! bail {
    ($message:literal) => {
        return Err($message.into())
    };
}

async fn invisible_exit() -> Result<(), BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(io::Error::other("left behind")) };
        except* std::fmt::Error => bail!("handled"),
    }
    let ((), ()) = (a, b);
    Ok(())
}

const INVISIBLE_EXIT_CHILD: &str = "TASKGROUP_TEST_INVISIBLE_EXIT";

/// Runs the scenario in a child process (this test again, with `INVISIBLE_EXIT_CHILD` set), so
/// that its standard error can be read.
#[tokio::test]
async fn an_exit_the_macro_cannot_see_is_reported_on_standard_error() {
    if std::env::var_os(INVISIBLE_EXIT_CHILD).is_some() {
        let error = invisible_exit().await.unwrap_err();
        assert_eq!(error.to_string(), "handled");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_exit_the_macro_cannot_see_is_reported_on_standard_error",
            "--nocapture",
        ])
        .env(INVISIBLE_EXIT_CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "taskgroup: an `except*` arm left its function by an exit the macro cannot see"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("| b: left behind"), "{stderr}");
}

async fn same_function_twice() -> Result<(), ErrorGroup> {
    group! {
        #![mode = supervise]
        _ = io_fail_after::<()>(10, "first");
        _ = io_fail_after::<()>(20, "second");
        io_fail_after = ok_after(5, ());
    }
    let () = io_fail_after;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn discarded_tasks_calling_the_same_function_get_distinct_names() {
    let errors = same_function_twice().await.unwrap_err();
    // The binding keeps its name; the `_` tasks are told apart in declaration order.
    assert_eq!(task_names(&errors), ["io_fail_after#2", "io_fail_after#3"]);
}
