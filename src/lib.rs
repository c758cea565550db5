//! Structured concurrency for tokio: Python's `asyncio.TaskGroup`, as a macro the compiler
//! checks. Tasks that belong together succeed together or fail together.
//!
//! ```
//! use taskgroup::{ErrorGroup, group};
//! # #[derive(Debug)] struct User; #[derive(Debug)] struct Order;
//! # async fn fetch_user(_: u32) -> Result<User, std::io::Error> { Ok(User) }
//! # async fn fetch_orders(_: u32) -> Result<Vec<Order>, std::io::Error> { Ok(vec![]) }
//! # #[derive(Debug)] #[allow(dead_code)] enum AppError { Io(ErrorGroup<std::io::Error>), Other(ErrorGroup) }
//! # impl From<ErrorGroup> for AppError { fn from(e: ErrorGroup) -> Self { AppError::Other(e) } }
//! # impl std::fmt::Display for AppError {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("page failed") }
//! # }
//! # impl std::error::Error for AppError {}
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
//!    stop at their next `.await`. A sibling (or a scope's body) that is ready at that
//!    instant and was not polled since the failure is polled once more, so that an error it
//!    had due then is collected, and none runs past its next `.await`: as Python runs the
//!    steps already scheduled for that instant and cancels each task at its next `await`.
//! 3. **Errors arrive as a group.** Every error that happened before the cancellation settled
//!    is collected, with the name of its task, into one [`ErrorGroup`], in completion order.
//!    Even a single error arrives wrapped. Cancellations the group caused are not errors.
//!    "Before the cancellation settled" means the tasks that are ready when the group polls
//!    them after the first failure. On the current-thread runtime, tasks whose timers fire at
//!    the same instant are ready together, so all their errors arrive; on the multi-thread
//!    runtime their wake-ups can come one by one from another thread, and a sibling whose
//!    wake-up has not arrived yet is cancelled instead.
//! 4. **Nesting is kept.** A task that runs its own group and fails with its `ErrorGroup` adds
//!    it to the parent as a nested group; `except*` matches through it.
//! 5. **Panics are not errors.** A panicking task cancels its siblings, then the panic resumes
//!    in the caller with its original payload (Python re-raises `KeyboardInterrupt` as is).
//!    Siblings ready at the instant of the panic still finish first, as at an error; the
//!    rest are dropped at once, without a grace period.
//! 6. **Deadlines.** `#![timeout = d]` cancels the whole group after `d`; the deadline is a
//!    [`taskgroup::Elapsed`](Elapsed) leaf in the error group, matchable with
//!    `except* taskgroup::Elapsed`. It names the tasks still running at the deadline and how
//!    long each had run (`deadline elapsed after 2s; still running: orders (2s), pages[3]
//!    (1.2s)`, and [`Elapsed::running`]), which Python's `TimeoutError` does not. An outer
//!    `tokio::time::timeout` works too, by drop.
//! 7. **Cancellation from outside.** Dropping the group's future drops its in-place tasks at
//!    once and aborts its spawned ones. A nested group dropped before it ends (its parent
//!    cancelled it, a deadline, a `select!`) loses nothing: it hands the errors it had
//!    collected to the group that encloses it, filed under the task it ran in with the
//!    nesting kept (in completion order: its own errors before those its nested groups
//!    handed to it later), and its aborted spawned tasks too, which that group joins before
//!    it ends. A group that no other group encloses has no one to hand to: when its caller
//!    drops it, it drops what it collected with it, and its spawned tasks are aborted but
//!    not joined (a `Drop` cannot wait): each stops at its next `.await`, so one that is
//!    busy between two awaits runs on until it reaches one.
//! 8. **Graceful cancellation.** A task can await [`cancelled()`] to learn that its group is
//!    cancelling, and why; with `#![grace = d]` the group waits up to `d` for such tasks to
//!    clean up before it drops them. A task's error during cleanup is kept: errors beat
//!    cancellation. A task that was told (its `cancelled()` resolved, or `is_cancelled()`
//!    returned `true`) and is still cleaning up when the grace runs out is dropped, and the
//!    group fails with a [`GraceElapsed`] leaf under its name, so that a flush cut short is
//!    never silent, whether a failure, the deadline, [`Scope::cancel`] or an enclosing group
//!    started the cancellation; a task that never looked at cancellation is dropped as a
//!    plain cancellation. (Python's `TaskGroup` has no grace period: its tasks' cleanup runs
//!    until it ends.) A failure during the grace period does not cut the other tasks'
//!    cleanup short: they keep the rest of their grace. (Python's `TaskGroup` cancels its
//!    tasks again on such a failure; a graceful shutdown is better served by letting every
//!    task finish flushing.)
//!
//! # Printing errors
//!
//! An [`ErrorGroup`] names its tasks wherever it is printed:
//!
//! - `{}` is one line for a log: Python's `str(eg)` (`"task group failed (3 sub-errors)"`)
//!   followed by the first three failed tasks, nested ones by their path, and how many more:
//!   `"task group failed (3 sub-errors): user, links[1], links[2]"`.
//! - `{:#}` is the tree in the box format of Python's `traceback` module, every task with its
//!   error and that error's causes.
//! - `{:?}` is the same tree, so that `fn main() -> Result<(), ErrorGroup>` and `unwrap`
//!   show every error, not a struct dump.
//! - Its [`source()`](std::error::Error::source) chain has one link per failed task
//!   (`"links[1]: 404 Not Found"`), so that reporters that print a chain list them all:
//!   anyhow's `{:?}` (what `fn main() -> anyhow::Result<()>` prints) shows
//!
//! ```text
//! Error: task group failed (3 sub-errors): user, links[1], links[2]
//!
//! Caused by:
//!     0: user: user 42 not found
//!     1: links[1]: 404 Not Found
//!     2: links[2]: 404 Not Found
//! ```
//!
//! The recipe [`examples/anyhow_main.rs`](https://github.com/taskgroup-rs/taskgroup/blob/main/examples/anyhow_main.rs)
//! runs one.
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
//! be `Send + 'static`. A group of in-place tasks without a deadline, a limit, a grace period
//! or `cancel_on` costs about what `tokio::try_join!` costs: it allocates nothing, and keeps
//! nothing but its tasks until something happens that it must handle (a failure, a panic, a
//! task that waits for [`cancelled()`], a group nested in another's task); from then on it
//! runs as any group.
//!
//! *Fan-outs.* `pages = for url in &urls => fetch(url);` runs one task per item and binds a
//! `Vec` of the results in input order. With `#![limit]` the iterator is pulled lazily, so
//! a fan-out over a million items holds only `limit` of them at a time. An in-place fan-out
//! keeps its running items' futures inline in slots, with no allocation per item (a wake-up
//! re-polls only the item that woke, as in `FuturesUnordered`); its slots are freed when the
//! fan-out ends, so one without a limit holds, until then, room for as many items as ever
//! ran at once.
//!
//! *Names.* Errors and traces name a task after its binding (`user`), a fan-out's items after
//! it with their index from 0 (`pages[3]` is the fourth item), and a `_` task or fan-out
//! after the function it calls (`_ = audit(id);` is `audit`, the items of
//! `_ = for url in urls => crawl(url);` are `crawl[0]`, `crawl[1]`, ...); names are
//! distinct, so a second `_` task calling `audit` is `audit#2`.
//!
//! *First steps.* Tasks start in declaration order in the group's first poll. A task that
//! fails in that very step stops the group from starting the tasks declared after it: they
//! are dropped without being polled (as a task the group refuses), so code in them, a
//! cleanup after [`cancelled()`] included, never runs; the ones before it had their first
//! step and are cancelled as usual. (In Python a task cancelled before its first step does
//! not run its body either.)
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
//! | `#![cancel_on = f]` | any future (`IntoFuture`) | cancels the group when `f` completes, see below |
//!
//! **`cancel_on`: a graceful shutdown from outside.** A `group!` is otherwise cancelled from
//! outside only by dropping it, without a grace period. With `#![cancel_on = f]`, when `f`
//! completes (`token.cancelled()` from tokio-util's `CancellationToken`,
//! `tokio::signal::ctrl_c()`, a oneshot receiver) the group cancels as
//! [`Scope::cancel`] cancels a scope: the reason is [`CancelReason::Cancelled`], tasks
//! watching [`cancelled()`] get the `grace` period, the rest are dropped or aborted. If every
//! task still ends `Ok` within the grace, the group succeeds with their values; otherwise it
//! fails with a [`Cancelled`] leaf (named `cancelled`), which `except* taskgroup::Cancelled`
//! takes. A future already complete when the group starts cancels it before any task runs.
//! An error before or during the shutdown is the group's error, not a cancellation.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), taskgroup::ErrorGroup> {
//! use std::time::Duration;
//! use taskgroup::{ErrorGroup, group};
//! use tokio_util::sync::CancellationToken;
//!
//! async fn ingest(feed: &str) -> Result<(), std::io::Error> {
//!     tokio::select! {
//!         () = tokio::time::sleep(Duration::from_secs(3600)) => Ok(()),
//!         _ = taskgroup::cancelled() => {
//!             println!("{feed}: flushed"); // flush, then stop
//!             Ok(())
//!         }
//!     }
//! }
//!
//! async fn run(shutdown: &CancellationToken) -> Result<(), ErrorGroup> {
//!     group! {
//!         #![cancel_on = shutdown.cancelled()]
//!         #![grace = Duration::from_secs(5)]
//!         _ = ingest("feed a");
//!         _ = ingest("feed b");
//!         except* taskgroup::Cancelled => return Ok(()), // a task that did not finish in time
//!     }
//!     Ok(())
//! }
//!
//! let shutdown = CancellationToken::new();
//! let stop = shutdown.clone();
//! tokio::spawn(async move {
//!     tokio::time::sleep(Duration::from_secs(10)).await;
//!     stop.cancel();
//! });
//! run(&shutdown).await?;
//! # Ok(())
//! # }
//! ```
//!
//! **Ending as cancelled.** A task that sees [`cancelled()`] may clean up and then end *as
//! cancelled*, Python's `except CancelledError: await cleanup(); raise`:
//! `return Err(taskgroup::Cancelled::from(why).into())` from a task whose error type holds
//! it as itself (`Box<dyn Error + Send + Sync>` does). While its group is cancelling that is
//! a cancellation, never an error of the group; see [`Cancelled`] for the details and for
//! what it means when nothing cancelled the task.
//!
//! **Modes.** `fail_fast` (the default) is Python's `TaskGroup`. `supervise` lets every task
//! finish even when some fail, then raises all errors together (Kotlin's
//! `supervisorScope`). `settle` runs every task to completion and binds each result as
//! `Result<T, E>`, with `E` the task's own error type (`asyncio.gather(...,
//! return_exceptions=True)`), and a fan-out as [`Outcomes`], those results under the
//! fan-out's name; it takes no `except*` arms, since nothing is raised but a deadline. So
//! a `settle` group without a timeout needs no `Result` around it: it is the one form of
//! `group!` that can stand in a function returning a plain value. What could
//! still reach such a group from outside its tasks is never lost: when an enclosing group
//! cancels it, it hands that group whatever is more than the cancellation (a task of its own
//! that its grace period cut off) and waits to be dropped; errors that nested groups hand
//! up to it when its tasks drop them before they end (a `select!` or a `timeout` around
//! one) have no `Result` to travel in and are raised as a panic that shows them. With a
//! timeout, the deadline is raised with `?` as in the other modes.
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
//! An arm that leaves early takes with it every error no arm has handled: those of the arms
//! after it (which do not run) and those no arm matches.
//!
//! - `return Err(e)`, and `?` in the arm: if errors are unhandled, the function returns them
//!   and `e` as one [`ErrorGroup`] (`e` under the task name `except* T`, after the others),
//!   converted with `From<ErrorGroup>`; so the function's error type must also be a
//!   `std::error::Error + Send + Sync + 'static`, as `ErrorGroup`, `Box<dyn Error + Send +
//!   Sync>` and `anyhow::Error` are. If nothing is unhandled, `e` is returned as written.
//! - `return Ok(v)`, `break`, `continue` and `return;`: if errors are unhandled, they propagate
//!   instead, as the remainder does after the arms; else the arm leaves as written.
//! - `except* _` leaves nothing unhandled: it returns and breaks as written.
//! - An exit the macro cannot see (a `return` inside another macro, such as anyhow's `bail!`)
//!   cannot hand the errors on: they are reported when the arm leaves, as a `tracing` error
//!   event with the `tracing` feature, else on standard error.
//!
//! Python rejects `return`, `break` and `continue` inside `except*` at compile time, and an
//! exception raised in an `except*` clause is raised together with the unhandled ones in a
//! new group. Here an early exit is allowed, and the same rule makes it safe: what the arm
//! did not handle leaves with it.
//!
//! The propagation of the remainder is why the function around a group with typed arms
//! must return an error type with `From<ErrorGroup>`, even when the arms name every error
//! type its tasks return: a group also carries errors from outside its tasks' signatures
//! (those that a nested group, dropped inside a task, hands up to it), and the compiler
//! cannot prove that the arms cover them. End the arms with
//! `except* _` to need no conversion. The recipe
//! [`examples/axum_handler.rs`](https://github.com/taskgroup-rs/taskgroup/blob/main/examples/axum_handler.rs)
//! shows the usual shape in a web handler: an application error that is `IntoResponse`,
//! `std::error::Error` and `From<ErrorGroup>`, with `except* Elapsed` as a 504 and
//! `except* UpstreamError` as a 502.
//!
//! An arm `=> Err(e)` or `=> Ok(v)` without `return` is reported as the missing `return` it
//! almost always is ("an `except*` arm must leave ... or yield the group's values"), unless
//! the group's values are themselves that `Result`.
//!
//! An arm that yields replaces *every* binding with its fallback, the successes too: in
//! `supervise` mode, where every task ran to its end, that throws away the values of all the
//! tasks that succeeded. To keep going and keep them, see the next section.
//!
//! ## Keep going: every success, and every failure by name
//!
//! A crawl, a batch, a health check: run everything, keep what succeeded, report what did
//! not. `#![mode = settle]` binds a fan-out as [`Outcomes`], each item's `Result` in input
//! order, and [`Outcomes::split`] gives the values and the failures as one [`ErrorGroup`]
//! whose leaves are named as the group names them (`pages[13]`):
//!
//! ```
//! # async fn fetch(page: u32) -> Result<String, std::io::Error> {
//! #     if page % 40 == 13 { Err(std::io::Error::other("503")) } else { Ok(String::new()) }
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use taskgroup::group;
//!
//! group! {
//!     #![mode = settle]
//!     #![limit = 32]
//!     pages = for page in 0..10_000 => fetch(page);
//! }
//! let (fetched, failed) = pages.split();
//! if let Some(failed) = &failed {
//!     eprintln!("{failed:#}"); // `pages[13]: 503`, `pages[53]: 503`, ...
//! }
//! assert_eq!(fetched.len(), 9_750);
//! # }
//! ```
//!
//! A settle-mode group without a timeout needs no `Result` around it; [`Outcomes::into_result`]
//! turns the fan-out back into all-or-errors when that is what the caller wants. The recipe
//! [`examples/keep_going.rs`](https://github.com/taskgroup-rs/taskgroup/blob/main/examples/keep_going.rs)
//! runs a whole crawl this way.
//!
//! ## Partial results
//!
//! Successes that completed before a failure are not lost: since in-place tasks may borrow,
//! they can record into a local `Mutex` that the `except*` arm reads, which is what the
//! Python idiom `report.ok[name] = ...` does. (A `RefCell` works too, but makes the group
//! `!Send`, so not in `tokio::spawn` or an axum handler; a `std::sync::Mutex` keeps it
//! `Send`.) To act on each result as it arrives instead, see the recipe
//! [`examples/as_they_complete.rs`](https://github.com/taskgroup-rs/taskgroup/blob/main/examples/as_they_complete.rs).
//!
//! ```
//! use std::sync::Mutex;
//! use taskgroup::{ErrorGroup, group};
//!
//! async fn shard(n: u32, ok: &Mutex<Vec<u32>>) -> Result<(), std::io::Error> {
//!     tokio::time::sleep(std::time::Duration::from_millis(10 * u64::from(n))).await;
//!     if n == 3 {
//!         return Err(std::io::Error::other("shard 3 timed out"));
//!     }
//!     ok.lock().unwrap().push(n * 100);
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), ErrorGroup> {
//! let ok = Mutex::new(Vec::new());
//! group! {
//!     _ = for n in 0..6 => shard(n, &ok);
//!     except* std::io::Error as failed => {
//!         assert_eq!(failed.len(), 1);
//!     }
//! }
//! assert_eq!(*ok.lock().unwrap(), [0, 100, 200]); // the shards done before the cancel landed
//! # Ok(())
//! # }
//! ```
//!
//! # The imperative API
//!
//! For what a fixed list cannot express (spawning in a loop that awaits between spawns,
//! spawning from inside a task, an early return), [`scope!`] gives a [`Scope`] handle with
//! the same options and semantics. Like `std::thread::scope`'s, the handle is branded by a
//! lifetime: it cannot escape the scope.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), taskgroup::ErrorGroup> {
//! async fn fetch(id: u32) -> Result<u32, std::io::Error> {
//!     Ok(id * 10)
//! }
//!
//! let ids = [1, 2, 3];
//! let total = taskgroup::scope!(async |s| {
//!     let mut handles = Vec::new();
//!     for id in ids {
//!         handles.push(s.spawn(fetch(id)));
//!     }
//!     let mut total = 0;
//!     for handle in handles {
//!         total += handle.await.unwrap_or(0);
//!     }
//!     Ok::<_, std::io::Error>(total)
//! })
//! .await?;
//! assert_eq!(total, 60);
//! # Ok(())
//! # }
//! ```
//!
//! A task's [`TaskHandle`] yields `Ok(value)`, or a [`HandleError`] that tells a failed task
//! from a panicked, cancelled or refused one; [`TaskHandle::cancel`] cancels that task alone
//! (the group goes on and is not failing; with a `grace` period the task sees
//! [`cancelled()`] and has that long to finish). [`Scope::start`] is Trio's
//! `nursery.start()`: it starts a task and waits until the task calls
//! [`Ready::started`] with a value, such as the port a server bound, while the group still
//! waits for the task to end. [`Group::cancel_on`] shuts a scope down from outside, as
//! `#![cancel_on]` does a `group!`. The recipe
//! [`examples/lifecycle.rs`](https://github.com/taskgroup-rs/taskgroup/blob/main/examples/lifecycle.rs)
//! uses all three.
//!
//! Use `scope!` wherever the future must be `Send`: inside `tokio::spawn`, in an axum
//! handler, in any `async fn` that is spawned. The function form, [`scope()`](fn@scope) (and
//! [`Group::scope`]), takes an async closure, and rustc cannot yet prove such a future
//! `Send` when the closure borrows; there it fails with
//! "implementation of `AsyncFnOnce` is not general enough" at the `tokio::spawn` call. That
//! is a compiler limit (rust-lang/rust#110338), and `scope!` is the way around it. Options
//! come first, as a [`Group`]: `taskgroup::scope!(Group::new().limit(4), async |s| ...)`.
//!
//! # Compile-time checks
//!
//! `group!` rejects, at the offending tokens and all in one build: duplicate names, a task
//! that uses a sibling's result, `.await` on a task, a task that is no future, a bare
//! `tokio::spawn` or `std::thread::spawn` inside a task (it would escape the group), a `spawn`
//! task that is not `Send + 'static`, malformed options, and unreachable, duplicate or
//! ill-typed `except*` arms; see [`group!`]. [`#[structured]`](structured) extends the bare-spawn
//! check to a whole `async fn`, `impl` block or module.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tracing` | off | a [`tracing`](https://docs.rs/tracing) span per group (its name) and per task (its binding name, file and line), an event per failure and cancellation |
//!
//! The feature changes what a group reports to a subscriber, not its API: no item exists only
//! with it, and a program compiles the same with and without it. Without it, the
//! instrumentation compiles to nothing.
//!
//! # Compared with
//!
//! | | taskgroup | `JoinSet` | `try_join!` | moro / futures-concurrency |
//! | --- | --- | --- | --- | --- |
//! | borrows locals | yes (in place) | no, `'static` | yes | yes |
//! | parallel on workers | yes (`spawn`) | yes | no | no |
//! | typed results bound to names | yes | one `T`, completion order | yes | yes |
//! | fail-fast cancellation | yes | by hand | yes | yes |
//! | every error, with task names | [`ErrorGroup`] | by hand | first only | first only |
//! | per-type handlers (`except*`) | yes | no | no | no |
//! | deadline, limit, grace, modes | built in | by hand | no | partly |
#![doc(test(no_crate_inject, attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use taskgroup_runtime::{
    BoxError, CancelReason, Cancelled, Elapsed, ErrorGroup, GraceElapsed, Group, HandleError, Mode,
    NotStarted, Outcomes, Ready, Scope, Starting, TaskHandle, TaskName, TaskResult, cancelled,
    infallible, is_cancelled, scope, settled,
};
pub use taskgroup_runtime::{bounds, error_group, future};

/// Checks that no task escapes: rejects every bare spawn in an `async fn`, an `impl` block,
/// a trait or an inline module, at the call, saying what to write instead.
///
/// Structured concurrency holds only if nothing detaches work behind the group's back.
/// `#[structured]` rejects, anywhere in the item (closures, nested functions and modules,
/// macro arguments, the arms of a `group!`):
///
/// | written | use instead |
/// | --- | --- |
/// | `tokio::spawn(f)`, `tokio::task::spawn(f)`, `Handle::current().spawn(f)`, `Handle::spawn(&h, f)`, `JoinSet::spawn(&mut set, f)` | a `spawn` task of a [`group!`], or [`Scope::spawn_parallel`] |
/// | `spawn`, `spawn_blocking` or `spawn_local` on a local bound in the item to a `Handle`, a `Runtime`, a runtime `Builder`'s runtime, a `thread::Builder`, a `JoinSet` or a `LocalSet` (`let h = Handle::current(); h.spawn(f)`) | the same |
/// | `tokio::task::spawn_local(f)` | an in-place task of a [`group!`], or [`Scope::spawn`] |
/// | `tokio::task::spawn_blocking(f)` | a scoped thread inside a `spawn` task, `std::thread::scope(\|t\| t.spawn(work).join())`, which works on every runtime (`tokio::task::block_in_place` only on the multi-thread one) |
/// | `std::thread::spawn(f)`, `thread::Builder::spawn` | `std::thread::scope` |
/// | `use tokio::spawn;` (and the other `spawn`s), `use tokio::task::*;`, `use tokio as t;`, `use std::thread as th;`, `extern crate tokio as tk;` | the qualified path, so that calls are seen |
///
/// Scoped spawns are untouched: [`Scope::spawn`], [`Scope::spawn_parallel`],
/// `std::thread::scope`'s `s.spawn`, and a group's own `spawn` tasks (which `group!` checks
/// itself). The item is compiled as written; the attribute adds nothing at run time.
///
/// **What it cannot see.** The check reads the item's own tokens, not resolved items, so it
/// misses what the item does not show: a spawn in a helper function, a trait method, a
/// `Drop` impl or a macro defined outside the item; a name imported or re-exported outside
/// the item (`use tokio::spawn as s;` at the top of the module, `rt::spawn` from a crate of
/// your own); a spawner that reaches the item as a parameter or a field (`self.handle.spawn`).
/// A function of your own named `spawn` is fine. For those, the guarantee rests on review
/// and on putting `#[structured]` on the module that holds the helpers too.
///
/// On a function, it must be `async` (with `#[tokio::main]`, put `#[structured]` above it). A
/// nested item with its own `#[structured]` is checked by that attribute.
///
/// ```
/// use taskgroup::{ErrorGroup, group, structured};
///
/// async fn fetch(n: u32) -> Result<u32, std::io::Error> {
///     Ok(n)
/// }
///
/// #[structured]
/// async fn load() -> Result<u32, ErrorGroup> {
///     group! {
///         a = spawn fetch(1); // joined by the group: fine
///         b = fetch(2);
///     }
///     let c = taskgroup::scope(async |s| {
///         let c = s.spawn_parallel(fetch(3)); // joined by the scope: fine
///         Ok::<_, std::io::Error>(c.await.unwrap_or(0))
///     })
///     .await?;
///     Ok(a + b + c)
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() { assert_eq!(load().await.unwrap(), 6); }
/// ```
///
/// ```compile_fail
/// # async fn fetch(n: u32) -> Result<u32, std::io::Error> { Ok(n) }
/// #[taskgroup::structured]
/// async fn load() {
///     let handle = tokio::spawn(fetch(1)); // error: `tokio::spawn` would spawn a task that escapes this `#[structured]` code
///     let _ = handle.await;
/// }
/// ```
#[doc(inline)]
pub use taskgroup_macros::structured;

/// Not public API: what the expansion of `group!` uses.
#[doc(hidden)]
pub mod __private {
    pub use taskgroup_macros::group_internal;
    pub use taskgroup_runtime::__private::*;
}

/// Not public API: the procedural macro behind `group!`, under a name that reads as such in
/// the compiler's "this error originates in the macro ..." notes.
#[doc(hidden)]
pub mod macros {
    pub use taskgroup_macros::group_internal as group;
}

/// [`scope()`](fn@scope) as a macro: the same scope, written so that its future is `Send` whenever its
/// tasks are.
///
/// `taskgroup::scope(async |s| ...)` takes an async closure, and today's rustc cannot prove
/// that a future holding the call of a higher-ranked async closure is `Send` when the
/// closure borrows (rust-lang/rust#110338, #134997): inside `tokio::spawn` it fails with
/// "implementation of `AsyncFnOnce` is not general enough". `scope!` runs the same body as
/// a plain `async` block instead, so it works inside `tokio::spawn` and in axum handlers. It
/// evaluates to a future: await it as you would the function's.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// async fn total(items: Vec<u64>) -> Result<u64, taskgroup::ErrorGroup> {
///     let sum = AtomicU64::new(0);
///     taskgroup::scope!(async |s| {
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
/// `taskgroup::scope!(Group::new().limit(4).timeout(d), async |s| { ... })`.
#[macro_export]
macro_rules! scope {
    ($group:expr, async |$s:ident| $body:block) => {
        async {
            let (__taskgroup_core, __taskgroup_state, __taskgroup_trigger) =
                $crate::__private::group_parts($group);
            let $s = $crate::__private::scope_handle(&__taskgroup_state);
            $crate::__private::run_scope(
                __taskgroup_core,
                &__taskgroup_state,
                __taskgroup_trigger,
                async $body,
            )
            .await
        }
    };
    (async |$s:ident| $body:block) => {
        $crate::scope!($crate::Group::new(), async |$s| $body)
    };
}

/// Runs tasks together as one group: every task finishes before the macro does, the first
/// failure cancels the rest, and every error arrives in one [`ErrorGroup`].
///
/// Written in statement position inside an `async` function, closure or block; each named
/// task's success value is a local of that name after the macro. The [crate docs](crate)
/// describe the semantics.
///
/// # Grammar
///
/// ```text
/// group      := option* ( '<' tasks '>' | tasks ) arm*
/// option     := '#' '!' '[' key '=' value ']'
/// key        := 'name' | 'timeout' | 'limit' | 'grace' | 'mode' | 'cancel_on'
/// tasks      := task ( ';' task )* ';'?
/// task       := binding '=' body
/// binding    := 'mut'? identifier | '_'
/// body       := 'spawn'? expression
///             | 'for' pattern 'in' expression '=>' 'spawn'? expression
/// arm        := 'except' '*' ( type | '_' ) ( 'as' identifier )? '=>' expression ','?
/// ```
///
/// - Options come first, one per `#![...]`: `name = "literal"`, `timeout = Duration`,
///   `limit = usize` (at least 1), `grace = Duration`, `mode = fail_fast | supervise |
///   settle`, `cancel_on = future` (the group cancels when it completes: a token's
///   `cancelled()`, not the token).
/// - A task's expression is a future that the group awaits: do not `.await` it yourself. It
///   outputs `Result<T, E>` (or `()`); wrap any other future in [`infallible`].
/// - `spawn` is the keyword when an expression follows it; `spawn(x)`, `spawn::f()` and
///   `spawn!()` are your own items.
/// - An arm's body ends at its `,`, which may be left out after a block, as in `match`. It
///   either diverges (`return`, `break`, `panic!`) or yields the bindings' values: a tuple in
///   declaration order, the value itself for one binding, `()` for none.
///
/// # Checked at compile time
///
/// Every check reports at the offending tokens, and a group with several mistakes reports
/// them all in one build. A group that fails to compile still binds its names, so the rest
/// of the function reports nothing more about them.
///
/// - **Names.** Two tasks cannot bind the same name. A task cannot use a sibling's name:
///   siblings run concurrently, so a binding exists only once the whole group has finished.
///   The macro cannot see the enclosing scope, so it cannot tell a sibling's result from an
///   outer variable of the same name that the binding would shadow; it rejects both, because
///   both read as a dependency the group does not have, and the error says to rename the task
///   if an outer variable was meant. A task may use its *own* name (`id = parse(id)` reads the
///   outer `id`), and names bound inside the task (closure parameters, `let`, patterns, the
///   fan-out's pattern) shadow siblings as usual.
/// - **Tasks.** `.await` on a task, a task that is no future, a task whose output is not a
///   `Result` or `()`, and a `spawn` task that is not `Send + 'static` are reported at the task.
/// - **Bare spawns.** `tokio::spawn`, `tokio::task::spawn`, `spawn_local`, `spawn_blocking`,
///   `std::thread::spawn`, `Handle::current().spawn` and `thread::Builder::spawn` inside a task
///   would start work that escapes the group: nothing would join it, cancel it or see its
///   error. They are rejected at the call, with what to write instead: a `spawn` task of the
///   group, or [`Scope::spawn_parallel`] in a [`scope`](fn@scope). The check reads paths as
///   written, so `use tokio::spawn;` then `spawn(f)` is not seen; [`#[structured]`](structured)
///   rejects such imports.
/// - **Options.** Unknown options (with a did-you-mean), duplicates, `limit = 0`, a number
///   where a `Duration` goes, a value of the wrong type, an unknown mode.
/// - **Arms.** An arm after `except* _` (unreachable), two arms for one type, an arm type that
///   is not an error, arms in `settle` mode (which raises nothing to catch), an arm that
///   neither diverges nor yields the bindings' values.
/// - **Hygiene.** The expansion's own locals are invisible to your code, and reaches its
///   runtime through `$crate` and `::core`: your own `Result`, `Ok`, `Some`, `tokio`, `core`
///   or `taskgroup` items change nothing.
///
/// # Errors
///
/// After the arms, errors that no arm took propagate with `?` semantics,
/// `return Err(From::from(remainder))`: the enclosing function or async block must return a
/// `Result` whose error type implements `From<ErrorGroup>` ([`ErrorGroup`] itself,
/// `Box<dyn Error + Send + Sync>`, `anyhow::Error`, or your own type). A group whose last arm
/// is `except* _` propagates nothing and needs no `Result`.
///
/// # Panics
///
/// A panicking task cancels its siblings; the panic then resumes here with its payload.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskgroup::{ErrorGroup, group};
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
///     except* taskgroup::Elapsed => (0, Vec::new()),
/// }
/// assert_eq!(home, 19);
/// assert_eq!(pages, [17, 18]);
/// # Ok(())
/// # }
/// ```
///
/// The scoping rule: in-place tasks may borrow from the function, but a `spawn` task runs on
/// the runtime's workers and must be `'static`, so it cannot:
///
/// ```compile_fail,E0597
/// # async fn f() -> Result<(), taskgroup::ErrorGroup> {
/// let name = String::from("local");
/// taskgroup::group! {
///     len = spawn async { Ok::<_, std::io::Error>(name.len()) }; // error: `name` does not live long enough
/// }
/// # Ok(())
/// # }
/// ```
///
/// Nor can a task outlive its group through a bare spawn, or use a sibling's result:
///
/// ```compile_fail
/// # async fn f() -> Result<(), taskgroup::ErrorGroup> {
/// taskgroup::group! {
///     user = async { Ok::<_, std::io::Error>(1) };
///     audit = async {
///         tokio::spawn(async {}); // error: `tokio::spawn` would spawn a task that escapes its group
///         Ok::<_, std::io::Error>(())
///     };
/// }
/// # Ok(())
/// # }
/// ```
///
/// ```compile_fail
/// # async fn fetch_user() -> Result<u32, std::io::Error> { Ok(1) }
/// # async fn fetch_orders(_: u32) -> Result<u32, std::io::Error> { Ok(1) }
/// # async fn f() -> Result<(), taskgroup::ErrorGroup> {
/// taskgroup::group! {
///     user = fetch_user();
///     orders = fetch_orders(user); // error: `user` is the result of the sibling task `user`
/// }
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! group {
    // Said here, so that the error is the macro's own and not the inner macro's.
    () => {
        ::core::compile_error! { "a group needs at least one task: `group! { name = future; }`" }
    };
    ($($tokens:tt)*) => {
        $crate::macros::group! { $crate; $($tokens)* }
    };
}

/// The README's examples, compiled and run as doctests so that they cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
