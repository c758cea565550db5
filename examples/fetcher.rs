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
//! ```text
//! cargo run --example fetcher                         # all nine requests succeed
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
comments/1..3 in one task group.

options (each fault option may be repeated; TARGET is `posts/2` or a whole resource, `posts`):
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
    faults: Vec<(Fault, Target)>,
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
            format!("{resource}/{id} fails on purpose (--fail)"),
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

async fn fetch_all(api: &Api, limit: usize, deadline: Duration) -> Result<Fetched, ErrorGroup> {
    let mut handled = false;
    group! {
        #![name = "fetch_all"]
        #![limit = limit]
        #![timeout = deadline]
        users    = for id in IDS => api.get::<User>(Resource::Users, id);
        posts    = for id in IDS => api.get::<Post>(Resource::Posts, id);
        comments = for id in IDS => api.get::<Comment>(Resource::Comments, id);
        except* ConnectionError as errors => {
            handled = true;
            print_arm("ConnectionError", &errors);
            Default::default()
        }
        except* HttpStatus as errors => {
            handled = true;
            print_arm("HttpStatus", &errors);
            Default::default()
        }
        except* DecodeError as errors => {
            handled = true;
            print_arm("DecodeError", &errors);
            Default::default()
        }
        except* taskgroup::Elapsed as errors => {
            handled = true;
            print_arm("taskgroup::Elapsed", &errors);
            Default::default()
        }
    }
    // Whatever no arm matched has already been returned with `?`, still grouped.
    Ok((!handled).then_some((users, posts, comments)))
}

fn print_arm<E: fmt::Display + 'static>(arm: &str, errors: &ErrorGroup<E>) {
    println!("except* {arm}: {} error(s)", errors.leaf_count());
    for leaf in errors {
        println!("  {}: {}", leaf.task, leaf.error);
    }
}

// ---------------------------------------------------------------------------------------
// Options, and the report.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Config {
    faults: Vec<(Fault, Target)>,
    down: Vec<Resource>,
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
        Ok(config)
    }
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

/// On success, the typed results the group bound; on failure, what came back before it
/// stopped (the successes are not lost: every request recorded its own).
fn print_results(api: &Api, fetched: &Fetched) {
    println!();
    let Some((users, posts, comments)) = fetched else {
        println!("Partial results, fetched before the group stopped:");
        let ledger = api.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in ledger.iter() {
            if let Fate::Ok(_, _, line) = &entry.fate {
                println!("  {line}");
            }
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

/// Prints every request's fate and the totals.
fn print_ledger(api: &Api, limit: usize, took: Duration) {
    println!();
    println!("Requests:");
    let ledger = api.ledger.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut ok, mut failed, mut cancelled, mut not_started) = (0, 0, 0, 0);
    let mut busy = Duration::ZERO;
    for entry in ledger.iter() {
        let fate = match &entry.fate {
            Fate::Ok(status, took, _) => {
                ok += 1;
                busy += *took;
                format!("{:<26} {:>4} ms", status.to_string(), ms(*took))
            }
            Fate::Failed(status, took, kind) => {
                failed += 1;
                busy += *took;
                let status = status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
                format!("{status:<26} {:>4} ms  failed: {kind}", ms(*took))
            }
            Fate::Cancelled(after) => {
                cancelled += 1;
                busy += *after;
                format!("cancelled after {} ms in flight", ms(*after))
            }
            Fate::InFlight(_) => "still in flight (a bug: no task outlives its group)".into(),
            Fate::NotStarted => {
                not_started += 1;
                "never started: the group stopped taking tasks".into()
            }
        };
        println!("  {:<18} {fate}", entry.request);
    }
    println!();
    println!(
        "Summary: {ok} ok, {failed} failed, {cancelled} cancelled in flight, \
         {not_started} never started"
    );
    println!(
        "Timing: {} ms for the group; the requests' own times add up to {} ms; \
         peak in flight {} (limit {limit})",
        ms(took),
        ms(busy),
        api.peak.load(Ordering::Relaxed),
    );
}

async fn run(config: Config) -> Result<(), BoxError> {
    // The server: loopback only, at a port the OS picks.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let server = Arc::new(Server {
        faults: config.faults.clone(),
        received: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/{resource}/{id}", get(serve_item))
        .with_state(server.clone());

    // `--down`: a port that was just free, so nothing listens there.
    let mut down = Vec::new();
    for &resource in &config.down {
        let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        down.push((resource, probe.local_addr()?));
    }
    let api = Api::new(address, down);

    println!("API server listening on http://{address} (users, posts, comments)");
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

    // The server is a task of the same scope as the fetch: it cannot outlive `run`. When the
    // fetch is done, `s.cancel()` stops it and the scope ends without an error.
    let start = Instant::now();
    let fetched = taskgroup::Group::new()
        .name("fetcher")
        .scope(async |s| {
            s.spawn_parallel(async move { axum::serve(listener, app).await });
            let fetched = fetch_all(&api, config.limit, config.deadline).await;
            s.cancel();
            fetched
        })
        .await?;
    let took = start.elapsed();

    match &fetched {
        Some(_) => println!("All requests succeeded."),
        None => println!("The fetch failed: the except* arms above handled every error."),
    }
    print_results(&api, &fetched);
    print_ledger(&api, config.limit, took);
    println!(
        "The server received {} request(s).",
        server.received.load(Ordering::Relaxed)
    );
    Ok(())
}

#[tokio::main]
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
