//! Structured concurrency for tokio: Python's `asyncio.TaskGroup`, as a macro the compiler
//! checks. Tasks that belong together succeed together or fail together.
//!
//! ```
//! use cohort::{ErrorGroup, group};
//! # #[derive(Debug)] struct User; #[derive(Debug)] struct Order;
//! # async fn fetch_user(_: u32) -> Result<User, std::io::Error> { Ok(User) }
//! # async fn fetch_orders(_: u32) -> Result<Vec<Order>, std::io::Error> { Ok(vec![]) }
//! # #[derive(Debug)] #[allow(dead_code)] enum AppError { Io(ErrorGroup<std::io::Error>), Other(ErrorGroup) }
//! # impl From<ErrorGroup> for AppError { fn from(e: ErrorGroup) -> Self { AppError::Other(e) } }
//!
//! async fn load_user_page(id: u32) -> Result<(User, Vec<Order>), AppError> {
//!     group! {
//!         user   = fetch_user(id);
//!         orders = fetch_orders(id);
//!         except* std::io::Error as errs => return Err(AppError::Io(errs)),
//!     }
//!     // `user` and `orders` are typed locals here. On the first failure the sibling was
//!     // cancelled, every error is in one `ErrorGroup`, and errors no arm matched
//!     // propagated with `?`.
//!     Ok((user, orders))
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() { load_user_page(7).await.unwrap(); }
//! ```
//!
//! # What a group guarantees
//!
//! 1. **No task outlives its group.** The group finishes only once every task has finished:
//!    succeeded, failed, or been cancelled and dropped. A task spawned on the runtime's
//!    workers is joined, not just aborted.
//! 2. **Fail fast.** The first error cancels every other task and the group starts no new
//!    one. In-place siblings are dropped at that instant; spawned ones are aborted, so they
//!    stop at their next `.await`.
//! 3. **Errors arrive as a group.** Every error that happened before the cancellation settled
//!    is collected, with the name of its task, into one [`ErrorGroup`], in completion order.
//!    Even a single error arrives wrapped. Cancellations the group caused are not errors.
//! 4. **Nesting is kept.** A task that runs its own group and fails with its `ErrorGroup` adds
//!    it to the parent as a nested group; `except*` matches through it.
//! 5. **Panics are not errors.** A panicking task cancels its siblings, then the panic resumes
//!    in the caller with its original payload (Python re-raises `KeyboardInterrupt` as is).
//! 6. **Deadlines.** `#![timeout = d]` cancels the whole group after `d`; the deadline is a
//!    [`cohort::Elapsed`](Elapsed) leaf in the error group, matchable with
//!    `except* cohort::Elapsed`. An outer `tokio::time::timeout` works too, by drop.
//! 7. **Cancellation from outside.** Dropping the group's future drops its in-place tasks at
//!    once and aborts its spawned ones.
//! 8. **Graceful cancellation.** A task can await [`cancelled()`] to learn that its group is
//!    cancelling, and why; with `#![grace = d]` the group waits up to `d` for such tasks to
//!    clean up before it drops them. A task's error during cleanup is kept: errors beat
//!    cancellation.
//!
//! # `group!`
//!
//! ```text
//! group! {
//!     #![option = value]*                  name, timeout, limit, grace, mode
//!     binding = [spawn] future;            binding: `name`, `mut name` or `_`
//!     binding = for pattern in iterator => [spawn] future;
//!     except* Type [as name] => expr,      tried in order; `except* _` takes the rest
//! }
//! ```
//!
//! The task list may also be written between `< >`, as Python's design card spells it:
//! `group! { < a = fetch(u1); b = fetch(u2); > except* IoError => ... }`.
//!
//! See [`group!`] for every rule.
//!
//! ## Tasks
//!
//! A task is a future that the group awaits (do not `.await` it yourself). It outputs
//! `Result<T, E>` where `E` converts into `Box<dyn Error + Send + Sync>`: any
//! `std::error::Error + Send + Sync + 'static`, a boxed error, `anyhow::Error`, or the
//! `ErrorGroup` of a nested group. Its binding is then a local of type `T` after the macro.
//!
//! *Infallible tasks* output `()`, or are wrapped in [`infallible`], which binds the future's
//! output as it is. (A macro cannot see types, so the choice is spelled out rather than
//! guessed.)
//!
//! *In place or spawned.* By default a task is polled inside the group's own future: it may
//! borrow locals of the enclosing function and need not be `Send`, and a group whose tasks
//! are all `Send` is itself `Send` (so it works in `tokio::spawn` and axum handlers).
//! Prefix a task with `spawn` to run it on the runtime's workers, in parallel; it must then
//! be `Send + 'static`.
//!
//! *Fan-outs.* `pages = for url in &urls => fetch(url);` runs one task per item and binds a
//! `Vec` of the results in input order. With `#![limit]` the iterator is pulled lazily, so
//! a fan-out over a million items holds only `limit` of them at a time.
//!
//! ## Options
//!
//! | option | value | effect |
//! | --- | --- | --- |
//! | `#![name = "..."]` | string literal | names the group in its error message |
//! | `#![timeout = d]` | `Duration` | cancels the group after `d`; adds an [`Elapsed`] leaf |
//! | `#![limit = n]` | `usize`, at least 1 | at most `n` tasks in flight, group-wide; the rest wait in declaration order |
//! | `#![grace = d]` | `Duration` | on cancellation, tasks watching [`cancelled()`] get `d` to finish |
//! | `#![mode = m]` | `fail_fast`, `supervise`, `settle` | see below |
//!
//! **Modes.** `fail_fast` (the default) is Python's `TaskGroup`. `supervise` lets every task
//! finish even when some fail, then raises all errors together (Kotlin's
//! `supervisorScope`). `settle` runs every task to completion and binds each result as
//! `Result<T, E>`, with `E` the task's own error type (`asyncio.gather(...,
//! return_exceptions=True)`); it takes no `except*` arms, since nothing is raised but a
//! deadline.
//!
//! ## `except*` arms
//!
//! Python's `except*`: after a failure, the arms are tried in order against what earlier arms
//! left. Each runs at most once, with the sub-group of the errors of its type, matched
//! through nested groups with the nesting kept; `as name` binds it as an
//! [`ErrorGroup<T>`](ErrorGroup). `except* _ as rest` takes whatever is left.
//!
//! An arm either diverges (`return`, `break`, `continue`, `panic!`) or yields fallback values
//! for the bindings: a tuple in declaration order, the value itself for one binding, `()` for
//! none. If several arms yield, the last one's value stands. Whatever no arm matched is
//! propagated with `?` semantics (`return Err(From::from(remainder))`), keeping its
//! structure: nothing is ever silently dropped.
//!
//! ## Partial results
//!
//! Successes that completed before a failure are not lost: since in-place tasks may borrow,
//! they can record into a local `Mutex` or `RefCell` that the `except*` arm reads, which is
//! what the Python idiom `report.ok[name] = ...` does.
//!
//! ```
//! use std::cell::RefCell;
//! use cohort::{ErrorGroup, group};
//!
//! async fn shard(n: u32, ok: &RefCell<Vec<u32>>) -> Result<(), std::io::Error> {
//!     tokio::time::sleep(std::time::Duration::from_millis(10 * u64::from(n))).await;
//!     if n == 3 {
//!         return Err(std::io::Error::other("shard 3 timed out"));
//!     }
//!     ok.borrow_mut().push(n * 100);
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), ErrorGroup> {
//! let ok = RefCell::new(Vec::new());
//! group! {
//!     _ = for n in 0..6 => shard(n, &ok);
//!     except* std::io::Error as failed => {
//!         assert_eq!(failed.len(), 1);
//!     }
//! }
//! assert_eq!(*ok.borrow(), [0, 100, 200]); // the shards done before the cancel landed
//! # Ok(())
//! # }
//! ```
//!
//! # The imperative API
//!
//! For what a fixed list cannot express (spawning in a loop that awaits between spawns,
//! spawning from inside a task, an early return), [`scope`] and the [`Group`] builder give a
//! [`Scope`] handle with the same options and semantics. Like `std::thread::scope`'s, the
//! handle is branded by a lifetime: it cannot escape the scope.
//!
//! # Compared with
//!
//! | | cohort | `JoinSet` | `try_join!` | moro / futures-concurrency |
//! | --- | --- | --- | --- | --- |
//! | borrows locals | yes (in place) | no, `'static` | yes | yes |
//! | parallel on workers | yes (`spawn`) | yes | no | no |
//! | typed results bound to names | yes | one `T`, completion order | yes | yes |
//! | fail-fast cancellation | yes | by hand | yes | yes |
//! | every error, with task names | [`ErrorGroup`] | by hand | first only | first only |
//! | per-type handlers (`except*`) | yes | no | no | no |
//! | deadline, limit, grace, modes | built in | by hand | no | partly |
#![doc(test(no_crate_inject, attr(deny(warnings))))]

pub use cohort_runtime::error_group;
pub use cohort_runtime::{
    BoxError, CancelReason, Cancelled, Elapsed, ErrorGroup, Group, Infallible, Leaf, Member, Mode,
    Options, Scope, Settled, TaskHandle, TaskName, TaskResult, cancelled, infallible, is_cancelled,
    scope, settled,
};

/// Not public API: what the expansion of `group!` uses.
#[doc(hidden)]
pub mod __private {
    pub use cohort_macros::group_internal;
    pub use cohort_runtime::__private::*;
}

/// [`scope`] as a macro: the same scope, written so that its future is `Send` whenever its
/// tasks are.
///
/// `cohort::scope(async |s| ...)` takes an async closure, and today's rustc cannot prove
/// that a future holding the call of a higher-ranked async closure is `Send` when the
/// closure borrows (rust-lang/rust#110338, #134997). `scope!` runs the same body as a plain
/// `async` block instead, so it works inside `tokio::spawn` and in axum handlers. It
/// evaluates to a future: await it as you would the function's.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// async fn total(items: Vec<u64>) -> Result<u64, cohort::ErrorGroup> {
///     let sum = AtomicU64::new(0);
///     cohort::scope!(async |s| {
///         for item in &items {
///             let sum = &sum;
///             s.spawn(async move {
///                 sum.fetch_add(*item, Ordering::Relaxed);
///                 Ok::<_, std::io::Error>(())
///             });
///         }
///         Ok::<_, std::io::Error>(())
///     })
///     .await?;
///     Ok(sum.into_inner())
/// }
///
/// // A scope that borrows, inside `tokio::spawn`: its future is `Send`.
/// let handle = tokio::spawn(total(vec![1, 2, 3]));
/// assert_eq!(handle.await.unwrap().unwrap(), 6);
/// # }
/// ```
///
/// Options come first, as a [`Group`]:
/// `cohort::scope!(Group::new().limit(4).timeout(d), async |s| { ... })`.
#[macro_export]
macro_rules! scope {
    ($group:expr, async |$s:ident| $body:block) => {
        async {
            let (__cohort_core, __cohort_state) = $crate::Group::into_parts($group);
            let $s = $crate::__private::scope_handle(&__cohort_state);
            $crate::__private::run_scope(__cohort_core, &__cohort_state, async $body).await
        }
    };
    (async |$s:ident| $body:block) => {
        $crate::scope!($crate::Group::new(), async |$s| $body)
    };
}

/// Runs tasks together as one group: every task finishes before the macro does, the first
/// failure cancels the rest, and every error arrives in one [`ErrorGroup`].
///
/// Written in statement position inside an `async` function or block; each named task's
/// success value is a local of that name after the macro. The [crate docs](crate) describe
/// the semantics.
///
/// # Grammar
///
/// ```text
/// group      := option* tasks arm*
/// option     := '#' '!' '[' ('name' | 'timeout' | 'limit' | 'grace' | 'mode') '=' value ']'
/// tasks      := task* | '<' task* '>'
/// task       := binding '=' body ';'              the last `;` may be left out
/// binding    := 'mut'? identifier | '_'
/// body       := 'spawn'? expression
///             | 'for' pattern 'in' expression '=>' 'spawn'? expression
/// arm        := 'except' '*' (type | '_') ('as' identifier)? '=>' expression ','?
/// ```
///
/// `spawn` is the keyword when another expression follows it; `spawn(x)` and `spawn::f()`
/// are calls of your own functions.
///
/// # Errors
///
/// After the arms, errors that no arm took propagate with `?`: the enclosing function must
/// return a `Result` whose error type implements `From<ErrorGroup>` (`ErrorGroup` itself,
/// `Box<dyn Error + Send + Sync>`, `anyhow::Error`, or your own type).
///
/// # Panics
///
/// A panicking task cancels its siblings; the panic then resumes here with its payload.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use cohort::{ErrorGroup, group};
///
/// async fn fetch(url: &str) -> Result<usize, std::io::Error> {
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     Ok(url.len())
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), ErrorGroup> {
/// let urls = ["https://a.example", "https://bb.example"];
/// group! {
///     #![name = "crawl"]
///     #![limit = 8]
///     #![timeout = Duration::from_secs(2)]
///     home  = fetch("https://example.com");
///     pages = for url in urls => fetch(url);
///     except* cohort::Elapsed => (0, Vec::new()),
/// }
/// assert_eq!(home, 19);
/// assert_eq!(pages, [17, 18]);
/// # Ok(())
/// # }
/// ```
///
/// A spawned task runs on the workers, so it cannot borrow from the function:
///
/// ```compile_fail
/// # async fn f() -> Result<(), cohort::ErrorGroup> {
/// let name = String::from("local");
/// cohort::group! {
///     len = spawn async { Ok::<_, std::io::Error>(name.len()) }; // error: `name` does not live long enough
/// }
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! group {
    ($($tokens:tt)*) => {
        $crate::__private::group_internal! { $crate; $($tokens)* }
    };
}
