//! Runs every example and checks the lines that show its scenario, so that no example can
//! silently break.
//!
//! `cargo test` builds the examples next to this test (`target/<profile>/examples/NAME`). When
//! a binary is missing or older than the sources (as under `cargo test --test examples`, which
//! builds only this test), it is rebuilt first with `cargo build --example NAME`.
//!
//! The checks are on structure (which tasks ran, failed, were cancelled, which arms ran), not on
//! exact timings: they hold on a loaded two-core machine.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// No example takes anywhere near this long; past it the example is killed and the test fails.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// What one run of an example printed.
struct Run {
    name: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    /// The first line of stdout that contains `needle`; fails the test if there is none.
    #[track_caller]
    fn line(&self, needle: &str) -> &str {
        self.stdout
            .lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("{}: no line contains {needle:?}\n{self}", self.name))
    }

    /// Every line of stdout that contains `needle`.
    fn lines(&self, needle: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.contains(needle))
            .collect()
    }

    /// Whether some line of stdout contains `needle`.
    fn has(&self, needle: &str) -> bool {
        self.stdout.contains(needle)
    }

    /// Fails the test if a line of stdout contains `needle`.
    #[track_caller]
    fn lacks(&self, needle: &str) {
        assert!(
            !self.has(needle),
            "{}: unexpected {needle:?}\n{self}",
            self.name
        );
    }

    /// Every needle is on some line of stdout, in this order (each after the previous one).
    #[track_caller]
    fn in_order(&self, needles: &[&str]) {
        let mut rest = self.stdout.as_str();
        for needle in needles {
            match rest.find(needle) {
                Some(at) => rest = &rest[at + needle.len()..],
                None => panic!(
                    "{}: {needle:?} missing, or not in the order {needles:?}\n{self}",
                    self.name
                ),
            }
        }
    }

    /// The example exited with success.
    #[track_caller]
    fn succeeded(&self) -> &Self {
        assert!(self.status.success(), "{} failed\n{self}", self.name);
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- {} ({}, {:?}) stdout:\n{}--- stderr:\n{}",
            self.name, self.status, self.took, self.stdout, self.stderr
        )
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: this test runs as `target/<profile>/deps/examples-HASH`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf()
}

/// The newest modification time of the files under `path`.
fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let mut newest = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(self::newest(&entry.path()));
        }
    }
    newest
}

/// Whether `binary` is older than anything it is built from.
fn stale(binary: &Path, example: &str) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|meta| meta.modified()) else {
        return true;
    };
    let root = manifest_dir();
    let sources = [
        root.join("examples").join(format!("{example}.rs")),
        root.join("src"),
        root.join("runtime-support").join("src"),
        root.join("macros").join("src"),
        root.join("Cargo.toml"),
    ];
    sources.iter().any(|source| newest(source) > built)
}

/// The example's binary, built (or rebuilt) if needed.
fn binary(example: &str, features: &[&str]) -> PathBuf {
    // One build at a time, since the tests run in parallel; each example at most once.
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let profile = profile_dir();
    let binary = profile
        .join("examples")
        .join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    let mut built = BUILT.lock().unwrap_or_else(|poison| poison.into_inner());
    if !built.iter().any(|name| name == example) && stale(&binary, example) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .current_dir(manifest_dir())
            .args(["build", "--quiet", "--example", example]);
        if !features.is_empty() {
            command.args(["--features", &features.join(",")]);
        }
        if profile.file_name().is_some_and(|name| name == "release") {
            command.arg("--release");
        }
        if let Some(target) = profile.parent() {
            command.arg("--target-dir").arg(target);
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build --example {example} failed");
        built.push(example.to_owned());
    }
    binary
}

/// Runs an example with arguments and environment variables, and captures what it prints.
fn run_with(example: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_featured(example, &[], args, env)
}

fn run_featured(example: &str, features: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let binary = binary(example, features);
    let start = Instant::now();
    let mut child = Command::new(&binary)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|out| Box::new(out) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|err| Box::new(err) as Box<dyn Read + Send>),
    ]
    .map(|pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    })
    .into_iter();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the example can be waited for") {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{example} ran for more than {TIME_LIMIT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    let stdout = pipes.next().expect("stdout").join().expect("stdout reader");
    let stderr = pipes.next().expect("stderr").join().expect("stderr reader");
    Run {
        name: format!("{example} {}", args.join(" "))
            .trim_end()
            .to_owned(),
        status,
        stdout,
        stderr,
        took,
    }
}

fn run(example: &str) -> Run {
    run_with(example, &[], &[])
}

// ---------------------------------------------------------------------------------------
// fetcher: the README's main example.
// ---------------------------------------------------------------------------------------

#[test]
fn fetcher_first_run_shows_a_success_and_handled_failures_in_a_screenful() {
    let run = run("fetcher");
    run.succeeded();
    assert!(
        run.stdout.lines().count() <= 50,
        "the first run fits a screenful\n{run}"
    );
    run.line("API server listening on http://127.0.0.1:");
    // A success: every request, and the typed results.
    run.in_order(&[
        "Round 1 of 3: every endpoint healthy",
        "All 9 requests succeeded",
        "users: Vec<User> = [Leanne Graham, Ervin Howell, Clementine Bauch]",
        "posts: Vec<Post> = [",
        "comments: Vec<Comment> = [",
    ]);
    // A failure: a typed arm, the error in one tree under its task's name, the requests in
    // flight cancelled, the successes before it kept.
    run.in_order(&[
        "Round 2 of 3: GET /posts/2 answers 500 Internal Server Error",
        "except* HttpStatus: 1 error(s)",
        "| group `fetch_all` failed (1 sub-error)",
        "| posts[1]: GET /posts/2: 500 Internal Server Error",
        "GET /posts/2       500 Internal Server Error",
        "Summary: ",
        "Kept: the ",
    ]);
    // How many requests finished before the 500 depends on the machine's load; that the
    // failure was the only one, and that a request in flight was cancelled, does not.
    let summaries = run.lines("Summary: ");
    assert!(summaries[0].contains(" 1 failed, "), "{run}");
    assert!(!summaries[0].contains(" 0 cancelled in flight"), "{run}");
    // Several errors at once, each under its own name, in one tree.
    run.in_order(&[
        "Round 3 of 3: the users service is down",
        "except* ConnectionError: 3 error(s)",
        "| group `fetch_all` failed (3 sub-errors)",
        "| users[0]: GET /users/1: no response",
        "| users[1]: GET /users/2: no response",
        "| users[2]: GET /users/3: no response",
        "Summary: 0 ok, 3 failed,",
        "Inject faults of your own",
    ]);
    run.lacks("still in flight");
}

#[test]
fn fetcher_once_fetches_everything() {
    let run = run_with("fetcher", &["--once"], &[]);
    run.succeeded();
    run.line("API server listening on http://127.0.0.1:");
    run.in_order(&[
        "Users fetched:",
        "user 1: Leanne Graham <Sincere@april.biz>",
        "user 2: Ervin Howell",
        "user 3: Clementine Bauch",
        "Posts fetched:",
        "post 1 by user 1: sunt aut facere",
        "post 2 by user 1: qui est esse",
        "Comments fetched:",
        "comment 1 on post 1: laudantium enim",
    ]);
    assert_eq!(run.lines("200 OK").len(), 9, "{run}");
    run.line("Summary: 9 ok, 0 failed, 0 cancelled in flight, 0 never started");
    run.line("(limit 4)");
    let peak = run.line("peak in flight");
    assert!(
        [
            "peak in flight 1 ",
            "peak in flight 2 ",
            "peak in flight 3 ",
            "peak in flight 4 "
        ]
        .iter()
        .any(|p| peak.contains(p)),
        "{run}"
    );
    run.lacks("except*");
}

#[test]
fn fetcher_http_500_fails_fast() {
    let run = run_with("fetcher", &["--fail", "posts/2"], &[]);
    run.succeeded();
    run.line("fault injected: --fail posts/2");
    run.in_order(&[
        "except* HttpStatus: 1 error(s)",
        "posts[1]: GET /posts/2: 500 Internal Server Error",
        "The fetch failed: the except* arms above handled every error.",
        "Partial results, fetched before the group stopped:",
        "Requests:",
    ]);
    assert!(
        run.line("GET /posts/2 ").contains("failed: HTTP status"),
        "{run}"
    );
    assert!(run.line("Summary:").contains(" 1 failed"), "{run}");
    run.lacks("Users fetched:");
    run.lacks("still in flight");
}

#[test]
fn fetcher_hang_hits_the_deadline() {
    let run = run_with(
        "fetcher",
        &["--hang", "users/1", "--deadline-ms", "600"],
        &[],
    );
    run.succeeded();
    run.in_order(&[
        "except* taskgroup::Elapsed: 1 error(s)",
        "deadline: deadline elapsed after 600ms",
    ]);
    // The hanging request was in flight when the deadline cancelled it.
    assert!(
        run.line("GET /users/1 ").contains("cancelled after"),
        "{run}"
    );
    assert!(
        run.line("Summary:").contains(" 0 failed, 1 cancelled"),
        "{run}"
    );
    assert!(run.took < Duration::from_secs(20), "{run}");
}

#[test]
fn fetcher_invalid_json_is_a_decode_error() {
    let run = run_with("fetcher", &["--garble", "users/1"], &[]);
    run.succeeded();
    run.in_order(&[
        "except* DecodeError: 1 error(s)",
        "users[0]: GET /users/1: invalid JSON:",
    ]);
    assert!(
        run.line("GET /users/1 ").contains("failed: decode"),
        "{run}"
    );
}

#[test]
fn fetcher_refused_connection_is_a_connection_error() {
    let run = run_with("fetcher", &["--down", "comments"], &[]);
    run.succeeded();
    run.line("fault injected: --down comments (sent to 127.0.0.1:");
    run.line("except* ConnectionError:");
    run.line("GET /comments/1: no response:");
    assert!(
        run.line("GET /comments/1 ").contains("failed: connection"),
        "{run}"
    );
}

#[test]
fn fetcher_takes_faults_from_the_environment() {
    let run = run_with("fetcher", &[], &[("FETCHER_FAIL", "users/3")]);
    run.succeeded();
    run.line("fault injected: --fail users/3");
    run.line("users[2]: GET /users/3: 500 Internal Server Error");
}

#[test]
fn fetcher_rejects_bad_options() {
    let run = run_with("fetcher", &["--bogus"], &[]);
    assert_eq!(run.status.code(), Some(2), "{run}");
    assert!(run.stderr.contains("unknown option `--bogus`"), "{run}");
    let help = run_with("fetcher", &["--help"], &[]);
    help.succeeded();
    help.line("usage: cargo run --example fetcher");
}

// ---------------------------------------------------------------------------------------
// One example per seed scenario.
// ---------------------------------------------------------------------------------------

#[test]
fn tour() {
    let run = run("tour");
    run.succeeded();
    run.in_order(&[
        "1. success",
        "Result 1: Data from api1.com",
        "Result 2: Data from api2.com",
        "Result 3: Data from api3.com",
        "the longest task, not the sum",
        "2. fail-fast",
        "run_forever was cancelled",
        "handled ValueError: Invalid value from task `fail_with_value_error`",
        "handled TypeError: Wrong type from task `fail_with_type_error`",
        "3. deadline",
        "group timed out after",
        "4. nested groups",
        "Parent 1 results:",
        "the io error is in the tree: true",
        "| results[1]: Subtask Parent1.1 failed",
        "done: no task outlived its group",
    ]);
    assert_eq!(run.lines("slow task").len(), 2, "{run}");
}

#[test]
fn quick_start() {
    let run = run("quick_start");
    run.succeeded();
    run.in_order(&[
        "Result 1: Data from api1.com",
        "Result 2: Data from api2.com",
        "Result 3: Data from api3.com",
        "data from url1 data from url2 data from url3",
        r#"[{endpoint: "/users", status: "ok"}, {endpoint: "/orders", status: "ok"}, {endpoint: "/inventory", status: "ok"}]"#,
    ]);
}

#[test]
fn basic_patterns() {
    let run = run("basic_patterns");
    run.succeeded();
    run.in_order(&[
        "Starting tasks...",
        "Results: Task 1 done, Task 2 done, Task 3 done",
        "All tasks completed",
        "Elapsed: ",
        "start a",
        "start b",
        "done b",
        "done a",
        "infallible task: total = 6",
        "spawned task: checksum = ",
    ]);
    // The group took as long as its longest task (150 ms), well short of the sum (300 ms).
    let elapsed: u64 = run
        .line("Elapsed: ")
        .trim_start_matches("Elapsed: ")
        .split(' ')
        .next()
        .and_then(|ms| ms.parse().ok())
        .expect("Elapsed: N ms");
    assert!((150..300).contains(&elapsed), "{run}");
}

#[test]
fn spawn_loop() {
    let run = run("spawn_loop");
    run.succeeded();
    let order = [
        "Task 0 slept for ",
        "Task 1 slept for ",
        "Task 2 slept for ",
        "Task 3 slept for ",
        "Task 4 slept for ",
        "all five ran concurrently",
        "Task 0 slept for ",
        "Task 1 slept for ",
        "Task 2 slept for ",
        "Task 3 slept for ",
        "Task 4 slept for ",
    ];
    run.in_order(&order);
}

#[test]
fn error_handling() {
    let run = run("error_handling");
    run.succeeded();
    run.in_order(&[
        "1. except ExceptionGroup",
        "(reliable_task was cancelled",
        "Caught ExceptionGroup with 1 exceptions",
        " - ValueError: Something went wrong",
        "2. except* ValueError",
        "Caught: ValueError: fail() raised",
        "3. TaskGroup cancellation behavior",
        "I was cancelled!",
        "Handled the failure",
    ]);
    assert_eq!(
        run.lines("(a succeed() task was cancelled)").len(),
        2,
        "{run}"
    );
}

#[test]
fn multiple_errors() {
    let run = run("multiple_errors");
    run.succeeded();
    run.in_order(&[
        "1. fail-fast",
        "Caught 1 exceptions:",
        "Task 3 failed",
        "2. #![mode = supervise]",
        "Caught 3 exceptions:",
        "Task 3 failed",
        "Task 1 failed",
        "Task 2 failed",
        "3. fail-fast, three failures at the same instant",
        "Caught 3 exceptions:",
        "Task 1 failed",
        "Task 2 failed",
        "Task 3 failed",
    ]);
    run.line("(task 1 was cancelled before it could fail)");
    run.line("(task 2 was cancelled before it could fail)");
    assert_eq!(run.lines("was cancelled").len(), 2, "{run}");
}

#[test]
fn except_star() {
    let run = run("except_star");
    run.succeeded();
    run.in_order(&[
        r#"Handled ValueError: task group failed (1 sub-error): task_raises_value_error: [ValueError("Invalid value")]"#,
        "(no TypeError: its task was cancelled by the ValueError at 0.2 s)",
        r#"Value errors: [ValueError("bad value")]"#,
        r#"Type errors: [TypeError("bad type")]"#,
        "connection failure: ConnectionError: cache unreachable",
        "connection failure: ConnectionError: queue unreachable",
        r#"Handled ValueError: [ValueError("cannot parse \"forty\"")]"#,
        "Re-raised to the caller: task group failed (1 sub-error): id",
        "| id: KeyError: user:42",
    ]);
    run.lacks("Handled TypeError");
    run.lacks("validation failures");
}

#[test]
fn nested_groups() {
    let run = run("nested_groups");
    run.succeeded();
    run.in_order(&[
        r#"Parent 1 results: ["Subtask Parent1.0 done", "Subtask Parent1.1 done", "Subtask Parent1.2 done"]"#,
        r#"Parent 2 results: ["Subtask Parent2.0 done", "Subtask Parent2.1 done", "Subtask Parent2.2 done"]"#,
        "Child caught: group `child_tg` failed (1 sub-error)",
        "Parent caught: group `parent_tg` failed (1 sub-error)",
        "| parent_work_failing: group `child_tg` failed (1 sub-error)",
        "| failing_subtask: RuntimeError: Subtask failed",
        "3. a failure deep inside one parent",
        "Child caught:",
        "except* RuntimeError matched `RuntimeError: Subtask failed` from task `failing_subtask`, 1 group(s) down",
    ]);
    for i in 0..3 {
        run.line(&format!("(Subtask Parent2.{i} was cancelled)"));
    }
    run.lacks("(Subtask Parent1.");
}

#[test]
fn timeout() {
    let run = run("timeout");
    run.succeeded();
    run.in_order(&[
        "Task 1 was cancelled",
        "Task 2 was cancelled",
        "Task 3 was cancelled",
        // The deadline names the tasks it cut off, with how long each had run.
        "TaskGroup timed out! (deadline elapsed after 200ms; still running: slow_task (",
        "), slow_task#2 (",
        "), slow_task#3 (",
        "2. an outer tokio::time::timeout",
        r#"(task "slow" was cancelled)"#,
        "deadline hit; group cancelled",
        "3. #![timeout] with #![grace]",
        "TaskGroup timed out!",
    ]);
    run.line("Task 1 cancelled: the group's deadline elapsed");
    run.line("Task 2 cancelled: the group's deadline elapsed");
    run.lacks("completed");
}

#[test]
fn manual_cancel() {
    let run = run("manual_cancel");
    run.succeeded();
    run.in_order(&[
        "Cancelling remaining tasks...",
        "Task ",
        "The group ended without an error: cancelling is not failing.",
    ]);
    for i in 0..3 {
        run.line(&format!("Task {i} cancelled (the group was cancelled)"));
        run.line(&format!("task {i}: Task {i} stopped early"));
    }
    run.lacks("Got ");
}

#[test]
fn graceful_shutdown() {
    let run = run("graceful_shutdown");
    run.succeeded();
    run.in_order(&[
        "Working...",
        "Shutdown requested",
        "Cleaning up... (the group was cancelled)",
        "graceful worker: cleanup done",
        "stubborn worker: dropped at the end of the grace period",
        "shut down cleanly",
        "2. an error during cleanup is kept",
        "Shutdown requested",
        "clumsy worker: cleaning up...",
        "shutdown failed:",
        "| clumsy_worker: could not flush the write-ahead log",
        "3. a cleanup that overruns the grace period is reported",
        "Shutdown requested",
        "slow flusher: flushing 5 s of buffered writes...",
        "graceful worker: cleanup done",
        "shutdown failed: group `service` failed (1 sub-error): slow_flusher",
        "| slow_flusher: dropped when the grace period of 100ms ran out, before it finished cleaning up",
    ]);
    run.lacks("slow flusher: flushed");
}

#[test]
fn sensors() {
    let run = run("sensors");
    run.succeeded();
    run.in_order(&[
        "Broken: bare tokio::spawn",
        "Reading from Sensor-A",
        "Reading from Sensor-B",
        "Main caught: Sensor Sensor-B failed!",
        "(sensor reads still running: 1: Sensor-A is orphaned)",
        "Successfully read from Sensor-A",
        "Fixed: one group",
        "Reading from Sensor-A",
        "Reading from Sensor-B",
        "Cleanup initiated for Sensor-A",
        r#"Caught exception group containing: [RuntimeError("Sensor Sensor-B failed!")]"#,
        "(sensor reads still running: 0)",
    ]);
    let (broken, fixed) = run
        .stdout
        .split_once("Fixed: one group")
        .expect("two parts");
    assert!(!broken.contains("Cleanup initiated"), "{run}");
    assert!(!fixed.contains("Successfully read"), "{run}");
}

#[test]
fn gather_vs_group() {
    let run = run("gather_vs_group");
    run.succeeded();
    let gathered = r#"[0, 1, RuntimeError("task 2 failed"), 3]"#;
    run.in_order(&[
        "1. gather(return_exceptions=True)",
        gathered,
        gathered,
        "2. TaskGroup = fail-fast",
        "(task 3 was cancelled)",
        "raised: task group failed (1 sub-error): results[2]: task 2 failed",
        "3. #![mode = supervise]",
        "raised: task group failed (1 sub-error): results[2]: task 2 failed",
        "4. Group::first_success",
        "fastest healthy mirror: mirror-c",
        "5. plain gather()",
        "raised: task 2 failed",
        "tasks still running after the error: 1",
        "tasks still running 200 ms later: 0",
    ]);
    // Only fail-fast cancels anything.
    assert_eq!(run.lines("was cancelled)").len(), 1, "{run}");
}

#[test]
fn partial_results() {
    let run = run("partial_results");
    run.succeeded();
    run.in_order(&[
        "1 shard(s) failed; kept ",
        "fetch_into[3]: TimeoutError: shard 3 timed out",
        "{0: 0",
        "shard 3: TimeoutError: shard 3 timed out",
        "kept 5: {0: 0, 1: 100, 2: 200, 4: 400, 5: 500}",
    ]);
    // What fail-fast kept: shard 0 at least, and never the shard that failed.
    let kept = run.line("{0: 0");
    assert!(!kept.contains("3: 300"), "{run}");
}

#[test]
fn bounded_fanout() {
    let run = run("bounded_fanout");
    run.succeeded();
    run.line("fetched 500");
    run.line(
        r#"results in input order: first "page of https://api/0", last "page of https://api/499""#,
    );
    run.line("peak in flight: 10 (limit 10)");
    run.line("URLs taken from the iterator when the first fetch finished: 10 of 500");
}

#[test]
fn aggregator() {
    let run = run("aggregator");
    run.succeeded();
    run.line(r#"leaf: call_service[1]: ConnectionError("billing pool exhausted")"#);
    run.line("group: call_service[3]: group `fraud models` failed (1 sub)");
    run.line(r#"leaf: scores[1]: ValueError("fraud model returned NaN score")"#);
    run.line("ok=3 failed=2 partial_failure_rate=0.40");
    run.line(r#"ok: ["inventory", "shipping", "users"]"#);
    run.lacks("deadline");
}

#[test]
fn aggregator_deadline() {
    let run = run_with(
        "aggregator",
        &["--scenario", "deadline", "--deadline-ms", "300"],
        &[],
    );
    run.succeeded();
    run.in_order(&[
        "aggregation exceeded deadline",
        "ok=4 failed=1 partial_failure_rate=0.20",
        r#"failures: [("*", "deadline")]"#,
    ]);
}

#[test]
fn load_user_page() {
    let run = run("load_user_page");
    run.succeeded();
    run.in_order(&[
        "user 7: user-7 (id 7), orders [71, 72], total 2499 cents",
        "user 13: failed",
        "error: I/O failure while loading the page",
        "caused by: group `load_user_page` failed (1 sub-error)",
        "| orders: orders service refused the connection",
        "user 99: degraded page",
        "user 7: 200 OK, profile of user 7",
        "user 42: 500",
        "error: request dependencies failed",
        "caused by: group `handle_request` failed (1 sub-error)",
        "| write_audit_event: audit log: no space left on device",
    ]);
}

/// The `tracing` example needs the crate's `tracing` feature: run with
/// `cargo test --features tracing --test examples`.
#[cfg(feature = "tracing")]
#[test]
fn tracing() {
    let run = run_featured("tracing", &["tracing"], &[], &[]);
    run.succeeded();
    run.in_order(&[
        "profile loaded",
        "task failed task=orders",
        "group cancelling reason=a sibling task failed",
        "load_user_page failed:",
        "| orders: orders service unavailable for 7",
    ]);
}

// ---------------------------------------------------------------------------------------
// Recipes.
// ---------------------------------------------------------------------------------------

#[test]
fn anyhow_main_prints_every_failed_task_with_its_cause() {
    let run = run_with(
        "anyhow_main",
        &[],
        &[("RUST_BACKTRACE", "0"), ("RUST_LIB_BACKTRACE", "0")],
    );
    assert_eq!(run.status.code(), Some(1), "{run}");
    assert!(
        run.stderr.starts_with(
            "Error: task group failed (3 sub-errors): profile, links[1], links[3]

Caused by:
    0: profile: user 7 not found
    1: links[1]: GET /broken: 404 Not Found
    2: links[3]: GET /gone: 404 Not Found"
        ),
        "{run}"
    );
}

#[test]
fn axum_handler_maps_the_group_to_statuses_over_http() {
    let run = run("axum_handler");
    run.succeeded();
    run.in_order(&[
        "shop listening on http://127.0.0.1:",
        r#"GET /product/5 -> 200 OK: {"id":5,"cents":1250,"in_stock":5}"#,
        "GET /product/13 -> 502 Bad Gateway: in_stock: GET /stock/13: 503 Service Unavailable",
        "GET /product/99 -> 504 Gateway Timeout: deadline: deadline elapsed after 300ms; still running: cents (",
    ]);
    // The deadline names only the task still running: the stock answered in time.
    assert!(!run.line("GET /product/99").contains("in_stock"), "{run}");
}

#[test]
fn lifecycle_starts_a_server_cancels_one_task_and_shuts_down_from_outside() {
    let run = run("lifecycle");
    run.succeeded();
    run.in_order(&[
        "server: listening on port ",
        "client: hello from the server",
        "report: cancelled by its handle; the group goes on",
        "server: stops accepting (the group was cancelled)",
        "writer: flushed 3 records (the group was cancelled)",
        "writer: Err(Cancelled(Cancelled))",
        "service: shut down cleanly (it served on port ",
    ]);
}

#[test]
fn keep_going_keeps_every_success_and_names_every_failure() {
    let run = run("keep_going");
    run.succeeded();
    run.in_order(&[
        "fetched 973 pages",
        "27 failed: fan-out `pages` failed (27 sub-errors): pages[13], pages[50], pages[87] and 24 more",
        "| pages[13]: GET /pages/13: 503",
        "| pages[50]: GET /pages/50: 503",
        "and 12 more errors",
    ]);
}

#[test]
fn as_they_complete_handles_each_result_as_it_arrives_and_still_fails_fast() {
    let run = run("as_they_complete");
    run.succeeded();
    run.in_order(&[
        "1. every page arrives",
        "arrived: pages[1] = page 1 (10 ms)",
        "arrived: pages[3] = page 3 (20 ms)",
        "arrived: pages[2] = page 2 (30 ms)",
        "arrived: pages[0] = page 0 (40 ms)",
        "arrived: pages[4] = page 4 (50 ms)",
        "done: 5 pages, each handled as it arrived",
        "2. pages[2] fails",
        "arrived: pages[1] = page 1 (10 ms)",
        "arrived: pages[3] = page 3 (20 ms)",
        "failed: task group failed (1 sub-error): fetch[2]",
        "| fetch[2]: GET /pages/2: 500",
    ]);
    // Nothing arrived after the failure: the later pages were cancelled.
    assert_eq!(run.lines("arrived: pages[0]").len(), 1, "{run}");
}
