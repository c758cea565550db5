//! The basics of `group!`: typed bindings, timing, `_`, the card spelling, infallible tasks,
//! fan-outs, `spawn`, borrowing and `Send`.

mod common;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use taskgroup::{ErrorGroup, group};
use tokio::time::Instant;

async fn heterogeneous() -> Result<(String, Vec<u8>, u32), ErrorGroup> {
    group! {
        // Completion order (10, 20, 30 ms) differs from declaration order.
        text = ok_after(30, String::from("text"));
        bytes = ok_after(10, vec![1u8, 2, 3]);
        number = ok_after(20, 7u32);
    }
    let text: String = text;
    let bytes: Vec<u8> = bytes;
    let number: u32 = number;
    Ok((text, bytes, number))
}

#[tokio::test(start_paused = true)]
async fn results_are_bound_in_declaration_order_with_their_types() {
    let (text, bytes, number) = heterogeneous().await.unwrap();
    assert_eq!(text, "text");
    assert_eq!(bytes, [1, 2, 3]);
    assert_eq!(number, 7);
}

#[tokio::test(start_paused = true)]
async fn elapsed_time_is_the_longest_task_not_the_sum() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    group! {
        a = ok_after(1000, 'a');
        b = ok_after(2000, 'b');
        c = ok_after(1500, 'c');
    }
    assert_eq!(start.elapsed(), ms(2000));
    assert_eq!((a, b, c), ('a', 'b', 'c'));
    Ok(())
}

async fn write_audit(counter: &AtomicUsize) -> Result<u64, std::io::Error> {
    sleep_ms(500).await;
    counter.fetch_add(1, Ordering::SeqCst);
    Ok(99)
}

#[tokio::test(start_paused = true)]
async fn discarded_task_runs_and_the_group_waits_for_it() -> Result<(), ErrorGroup> {
    let counter = AtomicUsize::new(0);
    let start = Instant::now();
    group! {
        a = ok_after(100, 1u8);
        _ = write_audit(&counter);
    }
    // The discarded task ran to completion, and the group waited for it (it is the longest).
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    assert_eq!(start.elapsed(), ms(500));
    assert_eq!(a, 1);
    Ok(())
}

async fn failing_audit() -> Result<u64, std::io::Error> {
    io_fail_after(10, "audit down").await
}

async fn discarded_failure() -> Result<u8, ErrorGroup> {
    group! {
        a = ok_after(100, 1u8);
        _ = failing_audit();
    }
    Ok(a)
}

#[tokio::test(start_paused = true)]
async fn discarded_task_error_is_reported_under_its_callee_name() {
    let errors = discarded_failure().await.unwrap_err();
    assert_eq!(task_names(&errors), ["failing_audit"]);
    assert_eq!(leaf_messages(&errors), ["audit down"]);
}

#[tokio::test(start_paused = true)]
async fn card_spelling_binds_like_the_bare_list() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    group! {
        <
            a = ok_after(20, 1u8);
            b = ok_after(10, String::from("b"));
        >
    }
    let a: u8 = a;
    let b: String = b;
    assert_eq!((a, b.as_str()), (1, "b"));
    assert_eq!(start.elapsed(), ms(20));
    Ok(())
}

async fn card_with_arm(seen: &mut Vec<String>) -> Result<(u8, u8), ErrorGroup> {
    group! {
        < a = ok_after(20, 1u8); b = io_fail_after::<u8>(10, "card failed"); >
        except* std::io::Error as errs => {
            seen.extend(errs.leaves().map(|leaf| format!("{}: {}", leaf.task, leaf.error)));
            (10, 20)
        }
    }
    Ok((a, b))
}

#[tokio::test(start_paused = true)]
async fn card_spelling_with_an_except_arm() {
    let mut seen = Vec::new();
    let values = card_with_arm(&mut seen).await.unwrap();
    assert_eq!(values, (10, 20));
    assert_eq!(seen, ["b: card failed"]);
}

#[tokio::test(start_paused = true)]
async fn infallible_and_unit_output_tasks() -> Result<(), ErrorGroup> {
    let ran = AtomicUsize::new(0);
    let start = Instant::now();
    group! {
        n = taskgroup::infallible(async {
            sleep_ms(30).await;
            5u64
        });
        word = taskgroup::infallible(async { "five" });
        unit = async {
            sleep_ms(50).await;
            ran.fetch_add(1, Ordering::SeqCst);
        };
        _ = async {
            ran.fetch_add(10, Ordering::SeqCst);
        };
    }
    let n: u64 = n;
    let word: &str = word;
    let () = unit;
    assert_eq!((n, word), (5, "five"));
    assert_eq!(ran.load(Ordering::SeqCst), 11);
    assert_eq!(start.elapsed(), ms(50));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn in_place_fan_out_keeps_input_order() -> Result<(), ErrorGroup> {
    let delays = vec![300u64, 100, 200, 0];
    let start = Instant::now();
    group! {
        echoed = for d in &delays => ok_after(*d, *d * 2);
    }
    let echoed: Vec<u64> = echoed;
    assert_eq!(echoed, [600, 200, 400, 0]);
    // Items run concurrently.
    assert_eq!(start.elapsed(), ms(300));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn empty_fan_out_binds_an_empty_vec() -> Result<(), ErrorGroup> {
    let none: Vec<u64> = Vec::new();
    group! {
        a = ok_after(10, 1u8);
        echoed = for d in none => ok_after(d, d);
    }
    assert_eq!(a, 1);
    assert!(echoed.is_empty());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spawn_fan_out_keeps_input_order() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    group! {
        echoed = for d in vec![300u64, 100, 200, 0] => spawn ok_after(d, d + 1);
    }
    let echoed: Vec<u64> = echoed;
    assert_eq!(echoed, [301, 101, 201, 1]);
    assert_eq!(start.elapsed(), ms(300));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spawn_task_binds_its_value_and_runs_concurrently() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    let on_worker = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&on_worker);
    group! {
        local = ok_after(200, 1u8);
        remote = spawn async move {
            sleep_ms(200).await;
            flag.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(String::from("remote"))
        };
    }
    let remote: String = remote;
    assert_eq!((local, remote.as_str()), (1, "remote"));
    assert_eq!(on_worker.load(Ordering::SeqCst), 1);
    assert_eq!(start.elapsed(), ms(200));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn in_place_tasks_borrow_locals_including_non_send_refcell() -> Result<(), ErrorGroup> {
    let numbers = vec![1u64, 2, 3];
    let cell = RefCell::new(Vec::new());
    let numbers_ref = &numbers;
    let cell_ref = &cell;
    group! {
        sum = async {
            sleep_ms(10).await;
            Ok::<_, std::io::Error>(numbers_ref.iter().sum::<u64>())
        };
        _ = async {
            sleep_ms(5).await;
            cell_ref.borrow_mut().push("first");
            Ok::<_, std::io::Error>(())
        };
        _ = async {
            sleep_ms(15).await;
            cell_ref.borrow_mut().push("second");
            Ok::<_, std::io::Error>(())
        };
        doubled = for n in numbers_ref => async move {
            sleep_ms(*n).await;
            cell_ref.borrow_mut().push("item");
            Ok::<_, std::io::Error>(n * 2)
        };
    }
    assert_eq!(sum, 6);
    assert_eq!(doubled, [2, 4, 6]);
    // Each task ran at its own instant: items at 1, 2, 3 ms, then 5 ms, then 15 ms.
    assert_eq!(*cell.borrow(), ["item", "item", "item", "first", "second"]);
    // Still usable after the group: the borrows ended.
    assert_eq!(numbers.len(), 3);
    Ok(())
}

fn assert_send<T: Send>(_: &T) {}

async fn send_group(items: Vec<u64>) -> Result<(u64, Vec<u64>, u64), ErrorGroup> {
    let offset = 1000u64;
    let offset_ref = &offset;
    group! {
        a = ok_after(10, 1u64);
        pages = for item in &items => async move {
            sleep_ms(*item).await;
            Ok::<_, std::io::Error>(item + offset_ref)
        };
        s = spawn ok_after(20, 2u64);
    }
    Ok((a, pages, s))
}

#[tokio::test(start_paused = true)]
async fn group_of_send_tasks_is_send_and_runs_in_tokio_spawn() {
    let fut = send_group(vec![3, 1, 2]);
    assert_send(&fut);
    let result = tokio::spawn(fut).await.unwrap().unwrap();
    assert_eq!(result, (1, vec![1003, 1001, 1002], 2));
}

async fn named_failure() -> Result<(), ErrorGroup> {
    group! {
        #![name = "loader"]
        _ = io_fail_after::<()>(10, "nope");
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn group_name_appears_in_the_error() {
    let errors = named_failure().await.unwrap_err();
    assert!(errors.message().contains("loader"), "{}", errors.message());
    assert!(errors.to_string().contains("loader"), "{errors}");
}

#[tokio::test(start_paused = true)]
async fn mut_binding_is_mutable_after_the_group() -> Result<(), ErrorGroup> {
    group! {
        mut items = ok_after(10, vec![1u8]);
    }
    items.push(2);
    assert_eq!(items, [1, 2]);
    Ok(())
}

/// Counts itself in, then waits (blocking its worker thread, in real time) until `peers`
/// tasks are in at once, or gives up after 5 s. Returns whether they all met.
fn rendezvous(arrived: &AtomicUsize, peers: usize) -> bool {
    arrived.fetch_add(1, Ordering::SeqCst);
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < give_up {
        if arrived.load(Ordering::SeqCst) >= peers {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_tasks_run_in_parallel_on_the_workers() -> Result<(), ErrorGroup> {
    let arrived = Arc::new(AtomicUsize::new(0));
    let (first, second) = (Arc::clone(&arrived), Arc::clone(&arrived));
    group! {
        a = spawn async move { Ok::<_, std::io::Error>(rendezvous(&first, 2)) };
        b = spawn async move { Ok::<_, std::io::Error>(rendezvous(&second, 2)) };
    }
    assert!(a && b, "the two spawned tasks never ran at the same time");
    Ok(())
}
