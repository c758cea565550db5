//! A parallel API fetcher over real HTTP: the README's main example.
//!
//! Mirrors the seeds' "Real-Life Example: Parallel API Fetcher" (users, posts and comments
//! fetched in parallel in one task group) and adds what a real fetcher needs and the seed
//! leaves out: a bound on requests in flight (`#![limit]`), a deadline (`#![timeout]`), and
//! `except*` arms by error type (connection, HTTP status, decode, deadline).
//!
//! It starts an HTTP server (axum) on `127.0.0.1`, at a port the OS picks, serving
//! JSONPlaceholder-style users, posts and comments as JSON after a short delay, then fetches
//! three of each with hyper's client in one `group!` and prints what came back, what failed
//! and why, what was cancelled, and how long it all took. Nothing leaves the machine.
//!
//! Without fault options it runs the group three times, in a screenful: against a healthy
//! server (the typed results), with `posts/2` answering 500 (fail-fast: the requests in
//! flight are cancelled, the error arrives in one tree with its task's name, a typed
//! `except*` arm handles it and the successes before it are kept), and with the users service
//! down (three errors at once, in one tree). With fault options, or `--once`, it runs once
//! and prints every request's fate.
//!
//! ```text
//! cargo run --example fetcher                         # the three rounds
//! cargo run --example fetcher -- --once               # one round, all nine requests succeed
//! cargo run --example fetcher -- --fail posts/2       # HTTP 500: fail-fast cancels the rest
//! cargo run --example fetcher -- --hang comments/3    # never answers: the deadline fires
//! cargo run --example fetcher -- --garble users/1     # invalid JSON: a decode error
//! cargo run --example fetcher -- --down comments      # nothing listens there: connection refused
//! cargo run --example fetcher -- --help               # every option
//! ```
//!
//! The same faults can be set with environment variables (`FETCHER_FAIL=posts/2` and so on;
//! see `--help`), which is handy under `cargo test`.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use taskgroup::{BoxError, ErrorGroup, group};

const USAGE: &str = "\
usage: cargo run --example fetcher -- [OPTIONS]

Serves users, posts and comments on 127.0.0.1 and fetches users/1..3, posts/1..3 and
comments/1..3 in one task group. Without fault options the group runs three times: against a
healthy server, with posts/2 answering 500, and with the users service down. With fault
options, or --once, it runs once, with those faults, and prints every request.

options (each fault option may be repeated; TARGET is `posts/2` or a whole resource, `posts`):
  --once             one round, with the faults given (none: a healthy server)
  --fail TARGET      the server answers 500 Internal Server Error
  --hang TARGET      the server never answers (the group's deadline ends the wait)
  --garble TARGET    the server answers 200 with a body that is not valid JSON
  --down RESOURCE    the client asks a port where nothing listens: connection refused
  --limit N          at most N requests in flight (default 4)
  --deadline-ms N    the group's deadline in milliseconds (default 1000)
  -h, --help         this text

environment: FETCHER_FAIL, FETCHER_HANG, FETCHER_GARBLE, FETCHER_DOWN (comma-separated
targets), FETCHER_LIMIT, FETCHER_DEADLINE_MS; options on the command line come on top.";

/// The ids fetched of each resource.
const IDS: std::ops::RangeInclusive<u32> = 1..=3;
/// How long a hanging endpoint waits before it gives up answering. Far past any deadline,
/// but bounded, so that nothing here runs forever.
const HANG_FOR: Duration = Duration::from_secs(30);
/// Bodies larger than this are refused.
const MAX_BODY: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// The data: JSONPlaceholder's shapes, shared by the server and the client.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Users,
    Posts,
    Comments,
}

impl Resource {
    const ALL: [Resource; 3] = [Resource::Users, Resource::Posts, Resource::Comments];

    fn parse(name: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.as_str() == name)
    }

    fn as_str(self) -> &'static str {
        match self {
            Resource::Users => "users",
            Resource::Posts => "posts",
            Resource::Comments => "comments",
        }
    }

    /// The server's delay before it answers: a little longer for later ids.
    fn delay(self, id: u32) -> Duration {
        let base = match self {
            Resource::Users => 20,
            Resource::Posts => 40,
            Resource::Comments => 30,
        };
        Duration::from_millis(base + 10 * u64::from(id))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct User {
    id: u32,
    name: String,
    email: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Post {
    id: u32,
    user_id: u32,
    title: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    id: u32,
    post_id: u32,
    body: String,
}

/// One line about a fetched item, for the report.
trait Describe {
    fn describe(&self) -> String;
}

impl Describe for User {
    fn describe(&self) -> String {
        format!("user {}: {} <{}>", self.id, self.name, self.email)
    }
}

impl Describe for Post {
    fn describe(&self) -> String {
        format!(
            "post {} by user {}: {}",
            self.id,
            self.user_id,
            shorten(&self.title, 36)
        )
    }
}

impl Describe for Comment {
    fn describe(&self) -> String {
        format!(
            "comment {} on post {}: {}",
            self.id,
            self.post_id,
            shorten(&self.body, 36)
        )
    }
}

fn user(id: u32) -> Option<User> {
    let (name, email) = match id {
        1 => ("Leanne Graham", "Sincere@april.biz"),
        2 => ("Ervin Howell", "Shanna@melissa.tv"),
        3 => ("Clementine Bauch", "Nathan@yesenia.net"),
        _ => return None,
    };
    Some(User {
        id,
        name: name.into(),
        email: email.into(),
    })
}

fn post(id: u32) -> Option<Post> {
    let title = match id {
        1 => "sunt aut facere repellat provident occaecati excepturi optio reprehenderit",
        2 => "qui est esse",
        3 => "ea molestias quasi exercitationem repellat qui ipsa sit aut",
        _ => return None,
    };
    Some(Post {
        id,
        user_id: 1,
        title: title.into(),
    })
}

fn comment(id: u32) -> Option<Comment> {
    let body = match id {
        1 => "laudantium enim quasi est quidem magnam voluptate ipsam eos tempora quo",
        2 => "est nisi doloremque illum quis sequi ut fugit voluptatibus neque",
        3 => "quia et suscipit suscipit recusandae consequuntur expedita et cum",
        _ => return None,
    };
    Some(Comment {
        id,
        post_id: 1,
        body: body.into(),
    })
}

/// The first `max` characters of `text`, with `...` if it was longer.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// The server.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Fail,
    Hang,
    Garble,
}

impl Fault {
    fn flag(self) -> &'static str {
        match self {
            Fault::Fail => "fail",
            Fault::Hang => "hang",
            Fault::Garble => "garble",
        }
    }
}

/// `posts/2`, or `posts` for every post.
#[derive(Clone, Copy, Debug)]
struct Target {
    resource: Resource,
    id: Option<u32>,
}

impl Target {
    fn parse(text: &str) -> Result<Target, String> {
        let (name, id) = match text.split_once('/') {
            Some((name, id)) => {
                let id = id
                    .parse()
                    .map_err(|_| format!("`{text}`: `{id}` is not an id"))?;
                (name, Some(id))
            }
            None => (text, None),
        };
        let resource = Resource::parse(name).ok_or_else(|| {
            format!("`{text}`: unknown resource `{name}` (users, posts or comments)")
        })?;
        Ok(Target { resource, id })
    }

    fn matches(self, resource: Resource, id: u32) -> bool {
        self.resource == resource && self.id.is_none_or(|own| own == id)
    }
}

#[derive(Debug)]
struct Server {
    /// The faults of the current round.
    faults: Mutex<Vec<(Fault, Target)>>,
    received: AtomicUsize,
}

async fn serve_item(
    State(server): State<Arc<Server>>,
    Path((resource, id)): Path<(String, u32)>,
) -> Response {
    let Some(resource) = Resource::parse(&resource) else {
        return (StatusCode::NOT_FOUND, "no such resource").into_response();
    };
    let fault = server
        .faults
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(_, target)| target.matches(resource, id))
        .map(|&(fault, _)| fault);
    server.received.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(resource.delay(id)).await;
    let json = match resource {
        Resource::Users => user(id).map(|v| Json(v).into_response()),
        Resource::Posts => post(id).map(|v| Json(v).into_response()),
        Resource::Comments => comment(id).map(|v| Json(v).into_response()),
    };
    match fault {
        Some(Fault::Fail) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{resource}/{id} fails on purpose"),
        )
            .into_response(),
        Some(Fault::Hang) => {
            tokio::time::sleep(HANG_FOR).await;
            (StatusCode::SERVICE_UNAVAILABLE, "gave up hanging").into_response()
        }
        Some(Fault::Garble) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"id\": {id}, \"name\": \"trunc"),
        )
            .into_response(),
        None => json.unwrap_or_else(|| (StatusCode::NOT_FOUND, "no such id").into_response()),
    }
}

// ---------------------------------------------------------------------------------------
// The client's errors: one type per kind of failure, so that `except*` can sort them.
// ---------------------------------------------------------------------------------------

/// The source chain of an error, as `outer: inner: innermost`.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// No HTTP response came back: the connection was refused, reset or closed.
#[derive(Debug)]
struct ConnectionError {
    request: String,
    source: BoxError,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: no response: {}", self.request, chain(&*self.source))
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// The server answered with a status other than 2xx.
#[derive(Debug)]
struct HttpStatus {
    request: String,
    status: StatusCode,
    body: String,
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({:?})", self.request, self.status, self.body)
    }
}

impl std::error::Error for HttpStatus {}

/// The body was not the JSON expected.
#[derive(Debug)]
struct DecodeError {
    request: String,
    source: serde_json::Error,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: invalid JSON: {}", self.request, self.source)
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

// ---------------------------------------------------------------------------------------
// The client, and the ledger of every request it makes.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
enum Fate {
    NotStarted,
    InFlight(Instant),
    /// The status, the time taken, and what came back.
    Ok(StatusCode, Duration, String),
    Failed(Option<StatusCode>, Duration, &'static str),
    Cancelled(Duration),
}

#[derive(Debug)]
struct Entry {
    request: String,
    fate: Fate,
}

#[derive(Debug)]
struct Api {
    client: Client<HttpConnector, Body>,
    server: SocketAddr,
    /// Resources that `--down` sends to a port where nothing listens.
    down: Vec<(Resource, SocketAddr)>,
    ledger: Mutex<Vec<Entry>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// One request in flight: if it is dropped before it finishes, the group cancelled it.
struct Flight<'a> {
    api: &'a Api,
    index: usize,
    started: Instant,
}

impl Flight<'_> {
    fn settle(&self, fate: Fate) {
        self.api.set(self.index, fate);
    }

    fn fail(
        &self,
        status: Option<StatusCode>,
        kind: &'static str,
        error: impl Into<BoxError>,
    ) -> BoxError {
        self.settle(Fate::Failed(status, self.started.elapsed(), kind));
        error.into()
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.api.in_flight.fetch_sub(1, Ordering::Relaxed);
        let mut ledger = self
            .api
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = &mut ledger[self.index];
        if let Fate::InFlight(started) = entry.fate {
            entry.fate = Fate::Cancelled(started.elapsed());
        }
    }
}

impl Api {
    fn new(server: SocketAddr, down: Vec<(Resource, SocketAddr)>) -> Api {
        let ledger = Resource::ALL
            .into_iter()
            .flat_map(|resource| IDS.map(move |id| (resource, id)))
            .map(|(resource, id)| Entry {
                request: format!("GET /{resource}/{id}"),
                fate: Fate::NotStarted,
            })
            .collect();
        Api {
            client: Client::builder(TokioExecutor::new()).build_http(),
            server,
            down,
            ledger: Mutex::new(ledger),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    fn set(&self, index: usize, fate: Fate) {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)[index].fate = fate;
    }

    fn start(&self, resource: Resource, id: u32) -> Flight<'_> {
        let index = Resource::ALL
            .iter()
            .position(|&r| r == resource)
            .expect("a known resource")
            * IDS.count()
            + (id - IDS.start()) as usize;
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        let started = Instant::now();
        self.set(index, Fate::InFlight(started));
        Flight {
            api: self,
            index,
            started,
        }
    }

    fn address(&self, resource: Resource) -> SocketAddr {
        self.down
            .iter()
            .find(|(r, _)| *r == resource)
            .map_or(self.server, |&(_, addr)| addr)
    }

    /// `GET /{resource}/{id}`, decoded as a `T`. Each kind of failure is its own error type,
    /// boxed, so that the group's `except*` arms can tell them apart.
    async fn get<T: DeserializeOwned + Describe>(
        &self,
        resource: Resource,
        id: u32,
    ) -> Result<T, BoxError> {
        let request = format!("GET /{resource}/{id}");
        let uri: Uri = format!("http://{}/{resource}/{id}", self.address(resource)).parse()?;
        let flight = self.start(resource, id);
        let no_response = |status, source: BoxError| {
            let request = request.clone();
            flight.fail(status, "connection", ConnectionError { request, source })
        };

        let response = self
            .client
            .get(uri)
            .await
            .map_err(|source| no_response(None, source.into()))?;
        let status = response.status();
        let body = axum::body::to_bytes(Body::new(response.into_body()), MAX_BODY)
            .await
            .map_err(|source| no_response(Some(status), source.into()))?;
        if !status.is_success() {
            let body = String::from_utf8_lossy(&body).into_owned();
            let error = HttpStatus {
                request,
                status,
                body,
            };
            return Err(flight.fail(Some(status), "HTTP status", error));
        }
        match serde_json::from_slice(&body) {
            Ok(value) => {
                let line = T::describe(&value);
                flight.settle(Fate::Ok(status, flight.started.elapsed(), line));
                Ok(value)
            }
            Err(source) => {
                Err(flight.fail(Some(status), "decode", DecodeError { request, source }))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The fetch: one group, a limit, a deadline, and an arm per kind of error.
// ---------------------------------------------------------------------------------------

/// The nine resources, or `None` if an `except*` arm handled a failure.
type Fetched = Option<(Vec<User>, Vec<Post>, Vec<Comment>)>;

/// What one `except*` arm took: its type, and the errors as the group's tree.
#[derive(Debug)]
struct Caught {
    arm: &'static str,
    count: usize,
    tree: String,
}

impl Caught {
    fn new<E: std::error::Error + Send + Sync + 'static>(
        arm: &'static str,
        errors: &ErrorGroup<E>,
    ) -> Caught {
        Caught {
            arm,
            count: errors.leaf_count(),
            // `{:#}` draws the tree as Python draws an exception group: every error under
            // the name of its task (`posts[1]` is the second item of the `posts` fan-out).
            tree: format!("{errors:#}"),
        }
    }
}

/// The typed results, and what the arms caught (nothing when every task succeeded).
async fn fetch_all(
    api: &Api,
    limit: usize,
    deadline: Duration,
) -> Result<(Fetched, Vec<Caught>), ErrorGroup> {
    let mut caught = Vec::new();
    group! {
        #![name = "fetch_all"]
        #![limit = limit]
        #![timeout = deadline]
        users    = for id in IDS => api.get::<User>(Resource::Users, id);
        posts    = for id in IDS => api.get::<Post>(Resource::Posts, id);
        comments = for id in IDS => api.get::<Comment>(Resource::Comments, id);
        except* ConnectionError as errors => {
            caught.push(Caught::new("ConnectionError", &errors));
            Default::default()
        }
        except* HttpStatus as errors => {
            caught.push(Caught::new("HttpStatus", &errors));
            Default::default()
        }
        except* DecodeError as errors => {
            caught.push(Caught::new("DecodeError", &errors));
            Default::default()
        }
        except* taskgroup::Elapsed as errors => {
            caught.push(Caught::new("taskgroup::Elapsed", &errors));
            Default::default()
        }
    }
    // Whatever no arm matched has already been returned with `?`, still grouped.
    let fetched = caught.is_empty().then_some((users, posts, comments));
    Ok((fetched, caught))
}

/// Each arm that ran, with the errors it took drawn as a tree.
fn print_caught(caught: &[Caught], indent: &str) {
    for arm in caught {
        println!("{indent}except* {}: {} error(s)", arm.arm, arm.count);
        for line in arm.tree.lines() {
            println!("{indent}{line}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Options, and the report.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Config {
    faults: Vec<(Fault, Target)>,
    down: Vec<Resource>,
    /// One round with the faults given, rather than the three rounds.
    once: bool,
    limit: usize,
    deadline: Duration,
}

/// The options that take a value.
const FLAGS: [&str; 6] = [
    "--fail",
    "--hang",
    "--garble",
    "--down",
    "--limit",
    "--deadline-ms",
];

impl Config {
    fn parse() -> Result<Config, String> {
        let mut config = Config {
            faults: Vec::new(),
            down: Vec::new(),
            once: false,
            limit: 4,
            deadline: Duration::from_millis(1000),
        };
        let mut options = Vec::new();
        for (var, flag) in [
            ("FETCHER_FAIL", "--fail"),
            ("FETCHER_HANG", "--hang"),
            ("FETCHER_GARBLE", "--garble"),
            ("FETCHER_DOWN", "--down"),
            ("FETCHER_LIMIT", "--limit"),
            ("FETCHER_DEADLINE_MS", "--deadline-ms"),
        ] {
            if let Ok(value) = std::env::var(var) {
                for value in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                    options.push((flag.to_owned(), value.to_owned()));
                }
            }
        }
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Err(String::new());
            }
            if arg == "--once" {
                config.once = true;
                continue;
            }
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), value.to_owned()),
                None if !FLAGS.contains(&arg.as_str()) => {
                    return Err(format!("unknown option `{arg}`"));
                }
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("`{arg}` needs a value"))?;
                    (arg, value)
                }
            };
            options.push((flag, value));
        }
        for (flag, value) in options {
            match flag.as_str() {
                "--fail" => config.faults.push((Fault::Fail, Target::parse(&value)?)),
                "--hang" => config.faults.push((Fault::Hang, Target::parse(&value)?)),
                "--garble" => config.faults.push((Fault::Garble, Target::parse(&value)?)),
                "--down" => config.down.push(
                    Resource::parse(&value)
                        .ok_or_else(|| format!("--down: unknown resource `{value}`"))?,
                ),
                "--limit" => {
                    config.limit = value
                        .parse()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| format!("--limit: `{value}` is not a number >= 1"))?;
                }
                "--deadline-ms" => {
                    let ms = value
                        .parse()
                        .map_err(|_| format!("--deadline-ms: `{value}` is not a number"))?;
                    config.deadline = Duration::from_millis(ms);
                }
                _ => return Err(format!("unknown option `{flag}`")),
            }
        }
        if !config.faults.is_empty() || !config.down.is_empty() {
            config.once = true;
        }
        Ok(config)
    }
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

/// The successes the ledger recorded, as (request, what came back): what the caller still
/// has after a failure, since every request recorded its own result.
fn kept(api: &Api) -> Vec<(String, String)> {
    let ledger = api.ledger.lock().unwrap_or_else(PoisonError::into_inner);
    ledger
        .iter()
        .filter_map(|entry| match &entry.fate {
            Fate::Ok(_, _, line) => Some((entry.request.clone(), line.clone())),
            _ => None,
        })
        .collect()
}

/// On success, the typed results the group bound; on failure, what came back before it
/// stopped.
fn print_results(api: &Api, fetched: &Fetched) {
    println!();
    let Some((users, posts, comments)) = fetched else {
        println!("Partial results, fetched before the group stopped:");
        for (_, line) in kept(api) {
            println!("  {line}");
        }
        return;
    };
    println!("Users fetched:");
    for user in users {
        println!("  {}", user.describe());
    }
    println!("Posts fetched:");
    for post in posts {
        println!("  {}", post.describe());
    }
    println!("Comments fetched:");
    for comment in comments {
        println!("  {}", comment.describe());
    }
}

/// How the requests of one round ended.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    failed: usize,
    cancelled: usize,
    not_started: usize,
    /// The requests' own times, added up.
    busy: Duration,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ok, {} failed, {} cancelled in flight, {} never started",
            self.ok, self.failed, self.cancelled, self.not_started
        )
    }
}

/// Every request's fate, one line each (printed when `lines` is set), and the tally.
fn ledger(api: &Api, lines: Option<&str>) -> Tally {
    let ledger = api.ledger.lock().unwrap_or_else(PoisonError::into_inner);
    let mut tally = Tally::default();
    for entry in ledger.iter() {
        let fate = match &entry.fate {
            Fate::Ok(status, took, _) => {
                tally.ok += 1;
                tally.busy += *took;
                format!("{:<26} {:>4} ms", status.to_string(), ms(*took))
            }
            Fate::Failed(status, took, kind) => {
                tally.failed += 1;
                tally.busy += *took;
                let status = status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
                format!("{status:<26} {:>4} ms  failed: {kind}", ms(*took))
            }
            Fate::Cancelled(after) => {
                tally.cancelled += 1;
                tally.busy += *after;
                format!("cancelled after {} ms in flight", ms(*after))
            }
            Fate::InFlight(_) => "still in flight (a bug: no task outlives its group)".into(),
            Fate::NotStarted => {
                tally.not_started += 1;
                "never started: the group stopped taking tasks".into()
            }
        };
        if let Some(indent) = lines {
            println!("{indent}{:<18} {fate}", entry.request);
        }
    }
    tally
}

/// The server's side of every round: the faults it plays, and what it was asked.
#[derive(Debug)]
struct Backend {
    address: SocketAddr,
    server: Arc<Server>,
}

/// One run of the group against the server.
#[derive(Debug)]
struct Round {
    api: Api,
    fetched: Fetched,
    caught: Vec<Caught>,
    took: Duration,
}

impl Backend {
    /// The client for a round in which the server plays `faults` and the resources in `down`
    /// are sent to a port where nothing listens.
    fn prepare(&self, faults: &[(Fault, Target)], down: &[Resource]) -> Result<Api, BoxError> {
        *self
            .server
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = faults.to_vec();
        self.server.received.store(0, Ordering::Relaxed);
        // A port that was just free, so nothing listens there.
        let mut unreachable = Vec::new();
        for &resource in down {
            let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            unreachable.push((resource, probe.local_addr()?));
        }
        Ok(Api::new(self.address, unreachable))
    }

    /// Runs the group once with `api`.
    async fn fetch(&self, api: Api, config: &Config) -> Result<Round, BoxError> {
        let start = Instant::now();
        let (fetched, caught) = fetch_all(&api, config.limit, config.deadline).await?;
        Ok(Round {
            api,
            fetched,
            caught,
            took: start.elapsed(),
        })
    }

    fn received(&self) -> usize {
        self.server.received.load(Ordering::Relaxed)
    }
}

/// `--once` or fault options: one round with the faults given, every request printed.
async fn once(backend: &Backend, config: &Config) -> Result<(), BoxError> {
    let api = backend.prepare(&config.faults, &config.down)?;
    for (fault, target) in &config.faults {
        let what = match target.id {
            Some(id) => format!("{}/{id}", target.resource),
            None => format!("{} (all of them)", target.resource),
        };
        println!("  fault injected: --{} {what}", fault.flag());
    }
    for (resource, addr) in &api.down {
        println!("  fault injected: --down {resource} (sent to {addr}, where nothing listens)");
    }
    println!(
        "Starting parallel API fetches: 9 requests, at most {} in flight, deadline {} ms",
        config.limit,
        ms(config.deadline)
    );
    println!();

    let round = backend.fetch(api, config).await?;
    print_caught(&round.caught, "");
    match &round.fetched {
        Some(_) => println!("All requests succeeded."),
        None => println!("The fetch failed: the except* arms above handled every error."),
    }
    print_results(&round.api, &round.fetched);
    println!();
    println!("Requests:");
    let tally = ledger(&round.api, Some("  "));
    println!();
    println!("Summary: {tally}");
    println!(
        "Timing: {} ms for the group; the requests' own times add up to {} ms; \
         peak in flight {} (limit {})",
        ms(round.took),
        ms(tally.busy),
        round.api.peak.load(Ordering::Relaxed),
        config.limit,
    );
    println!("The server received {} request(s).", backend.received());
    Ok(())
}

/// A round that an arm handled, in the three rounds' report: what the arms caught, every
/// request's fate (with `requests`), and the tally.
fn report_failed(round: &Round, requests: bool) {
    print_caught(&round.caught, "  ");
    let tally = ledger(&round.api, requests.then_some("  "));
    println!("  Summary: {tally}; the group took {} ms", ms(round.took));
}

/// No fault options: the same group three times, healthy, with an HTTP 500, with a service
/// down, in a screenful.
async fn rounds(backend: &Backend, config: &Config) -> Result<(), BoxError> {
    println!(
        "Each round fetches users/1..3, posts/1..3 and comments/1..3 in one group: at most {} \
         in flight, deadline {} ms.",
        config.limit,
        ms(config.deadline)
    );

    println!();
    println!("Round 1 of 3: every endpoint healthy");
    let round = backend.fetch(backend.prepare(&[], &[])?, config).await?;
    match &round.fetched {
        Some((users, posts, comments)) => {
            let tally = ledger(&round.api, None);
            println!(
                "  All {} requests succeeded in {} ms (their own times add up to {} ms; peak \
                 {} in flight, limit {})",
                tally.ok,
                ms(round.took),
                ms(tally.busy),
                round.api.peak.load(Ordering::Relaxed),
                config.limit,
            );
            // The typed results the group bound: `Vec<User>`, `Vec<Post>`, `Vec<Comment>`.
            let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
            println!("  users: Vec<User> = [{}]", names.join(", "));
            let titles: Vec<String> = posts.iter().map(|p| shorten(&p.title, 16)).collect();
            println!("  posts: Vec<Post> = [{}]", titles.join(", "));
            let bodies: Vec<String> = comments.iter().map(|c| shorten(&c.body, 16)).collect();
            println!("  comments: Vec<Comment> = [{}]", bodies.join(", "));
        }
        None => report_failed(&round, false),
    }

    println!();
    println!("Round 2 of 3: GET /posts/2 answers 500 Internal Server Error");
    let fail = Target::parse("posts/2")?;
    let round = backend
        .fetch(backend.prepare(&[(Fault::Fail, fail)], &[])?, config)
        .await?;
    report_failed(&round, true);
    let kept: Vec<String> = kept(&round.api)
        .into_iter()
        .map(|(request, _)| request.trim_start_matches("GET /").to_owned())
        .collect();
    println!(
        "  Kept: the {} successes before the failure ({})",
        kept.len(),
        kept.join(", ")
    );

    println!();
    println!("Round 3 of 3: the users service is down (connection refused)");
    let round = backend
        .fetch(backend.prepare(&[], &[Resource::Users])?, config)
        .await?;
    report_failed(&round, false);

    println!();
    println!(
        "Inject faults of your own: --fail posts/2, --hang comments/3, --garble users/1, \
         --down comments (see --help)."
    );
    Ok(())
}

async fn run(config: Config) -> Result<(), BoxError> {
    // The server: loopback only, at a port the OS picks.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let backend = Backend {
        address: listener.local_addr()?,
        server: Arc::new(Server {
            faults: Mutex::new(Vec::new()),
            received: AtomicUsize::new(0),
        }),
    };
    let app = Router::new()
        .route("/{resource}/{id}", get(serve_item))
        .with_state(backend.server.clone());
    println!(
        "API server listening on http://{} (users, posts, comments)",
        backend.address
    );

    // The server is a task of the same scope as the fetches: it cannot outlive `run`. When
    // they are done, `s.cancel()` stops it and the scope ends without an error.
    taskgroup::Group::new()
        .name("fetcher")
        .scope(async |s| {
            s.spawn_parallel(async move { axum::serve(listener, app).await });
            let done = if config.once {
                once(&backend, &config).await
            } else {
                rounds(&backend, &config).await
            };
            s.cancel();
            done
        })
        .await?;
    Ok(())
}

// One thread, as asyncio's event loop: the requests are in flight together all the same, and
// what the operating system reports in one turn of the loop (round 3's three refused
// connections) reaches the group in one poll, so those errors arrive together on every run.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match Config::parse() {
        Ok(config) => config,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fetcher: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Errors no arm handled: print the whole tree, as Python prints a traceback.
            match error.downcast_ref::<ErrorGroup>() {
                Some(group) => eprintln!("fetcher: unhandled errors:\n{group:#}"),
                None => eprintln!("fetcher: {}", chain(&*error)),
            }
            ExitCode::FAILURE
        }
    }
}
