//! Behaviour of `ErrorGroup`: structure, iteration, `split` (Python's `except*`), rendering.

use std::error::Error;
use std::fmt::{self, Display};
use std::io;
use taskgroup_runtime::error_group::{Leaf, Member};
use taskgroup_runtime::{BoxError, ErrorGroup, TaskName};

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/// A custom error type, distinct from `io::Error`, with an optional source.
#[derive(Debug)]
struct Invalid {
    what: String,
    source: Option<BoxError>,
}

impl Invalid {
    fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }

    fn caused_by(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

impl Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}", self.what)
    }
}

impl Error for Invalid {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn io_err(msg: &str) -> BoxError {
    Box::new(io::Error::other(msg.to_owned()))
}

fn invalid(what: &str) -> BoxError {
    Box::new(Invalid::new(what))
}

fn leaf<E>(task: &'static str, error: E) -> Member<E> {
    Member::Leaf {
        task: TaskName::new(task),
        error,
    }
}

fn group<E>(task: &'static str, message: &'static str, members: Vec<Member<E>>) -> Member<E> {
    Member::Group {
        task: TaskName::new(task),
        group: ErrorGroup::from_members(message, members),
    }
}

/// A compact, recursive description of a (small) tree: `message[task:error, task:message[...]]`.
fn shape<E: Display>(g: &ErrorGroup<E>) -> String {
    let members: Vec<String> = g
        .members()
        .iter()
        .map(|m| match m {
            Member::Leaf { task, error } => format!("{task}:{error}"),
            Member::Group { task, group } => format!("{task}:{}", shape(group)),
        })
        .collect();
    format!("{}[{}]", g.message(), members.join(", "))
}

/// Three levels, `io::Error` and `Invalid` leaves at every level, plus nested groups that
/// hold only one of the two kinds.
fn mixed_tree() -> ErrorGroup {
    ErrorGroup::from_members(
        "root",
        vec![
            leaf("a", io_err("io 1")),
            leaf("b", invalid("2")),
            group(
                "child",
                "child group",
                vec![
                    leaf("c", invalid("3")),
                    leaf("d", io_err("io 4")),
                    group(
                        "grand",
                        "grand group",
                        vec![leaf("e", io_err("io 5")), leaf("f", invalid("6"))],
                    ),
                    group(
                        "only_invalid",
                        "only invalid",
                        vec![leaf("g", invalid("7"))],
                    ),
                ],
            ),
            leaf("h", io_err("io 8")),
            group("only_io", "only io", vec![leaf("i", io_err("io 9"))]),
        ],
    )
}

fn run_with_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// TaskName
// ---------------------------------------------------------------------------------------------

#[test]
fn task_names_display_with_their_index() {
    const USER: TaskName = TaskName::new("user");
    const PAGE: TaskName = TaskName::indexed("pages", 3);
    assert_eq!(USER.to_string(), "user");
    assert_eq!(USER.index(), None);
    assert_eq!(PAGE.to_string(), "pages[3]");
    assert_eq!((PAGE.name(), PAGE.index()), ("pages", Some(3)));
    assert_eq!(TaskName::owned("pages".to_owned()).with_index(3), PAGE);
    assert_ne!(TaskName::new("pages"), PAGE);
}

// ---------------------------------------------------------------------------------------------
// structure and iteration
// ---------------------------------------------------------------------------------------------

#[test]
fn len_counts_direct_members_and_leaf_count_counts_all_leaves() {
    let g = mixed_tree();
    assert_eq!(g.len(), 5);
    assert_eq!(g.leaf_count(), 9);
    assert!(!g.is_empty());

    let empty: ErrorGroup = ErrorGroup::new("nothing");
    assert_eq!((empty.len(), empty.leaf_count()), (0, 0));
    assert!(empty.is_empty());
}

#[test]
fn leaves_are_depth_first_in_order_with_depths() {
    let g = mixed_tree();
    let seen: Vec<(String, String, usize)> = g
        .leaves()
        .map(|Leaf { task, error, depth }| (task.to_string(), error.to_string(), depth))
        .collect();
    let expected = [
        ("a", "io 1", 0),
        ("b", "invalid 2", 0),
        ("c", "invalid 3", 1),
        ("d", "io 4", 1),
        ("e", "io 5", 2),
        ("f", "invalid 6", 2),
        ("g", "invalid 7", 2),
        ("h", "io 8", 0),
        ("i", "io 9", 1),
    ];
    let expected: Vec<(String, String, usize)> = expected
        .iter()
        .map(|&(t, e, d)| (t.to_owned(), e.to_owned(), d))
        .collect();
    assert_eq!(seen, expected);

    // `&ErrorGroup` is `IntoIterator` over the same leaves.
    let mut tasks = Vec::new();
    for leaf in &g {
        tasks.push(leaf.task.name().to_owned());
    }
    assert_eq!(tasks, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);

    // `into_leaves` yields the same order, by value.
    let owned: Vec<(String, String)> = g
        .into_leaves()
        .map(|(task, error)| (task.to_string(), error.to_string()))
        .collect();
    let expected_owned: Vec<(String, String)> =
        expected.into_iter().map(|(t, e, _)| (t, e)).collect();
    assert_eq!(owned, expected_owned);
}

#[test]
fn push_task_error_nests_a_boxed_group_and_keeps_plain_errors_as_leaves() {
    let mut child = ErrorGroup::new("child group");
    child.push_leaf(TaskName::indexed("pages", 0), io_err("reset"));
    child.push_leaf(TaskName::indexed("pages", 1), invalid("page"));

    let mut parent = ErrorGroup::new("parent");
    parent.push_task_error(TaskName::new("user"), io_err("not found"));
    parent.push_task_error(TaskName::new("children"), Box::new(child));

    assert_eq!(parent.len(), 2);
    assert_eq!(parent.leaf_count(), 3);
    match &parent.members()[0] {
        Member::Leaf { task, error } => {
            assert_eq!(task, &TaskName::new("user"));
            assert!(error.is::<io::Error>());
        }
        Member::Group { .. } => panic!("a plain error must stay a leaf"),
    }
    match &parent.members()[1] {
        Member::Group { task, group } => {
            assert_eq!(task.name(), "children");
            assert_eq!(group.message(), "child group");
            assert_eq!(group.len(), 2);
        }
        Member::Leaf { .. } => panic!("a boxed ErrorGroup must become a nested group"),
    }
    assert!(parent.members()[1].is_group());
    assert_eq!(parent.members()[1].task().name(), "children");
    let depths: Vec<usize> = parent.leaves().map(|l| l.depth).collect();
    assert_eq!(depths, [0, 1, 1]);
}

#[test]
fn push_and_into_members() {
    let mut g: ErrorGroup<&str> = ErrorGroup::new(String::from("owned message"));
    g.push(leaf("a", "x"));
    g.push(group("b", "inner", vec![leaf("c", "y")]));
    assert_eq!(g.message(), "owned message");
    let members = g.into_members();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1].task().name(), "b");
}

// ---------------------------------------------------------------------------------------------
// split / split_by / subgroup / map
// ---------------------------------------------------------------------------------------------

#[test]
fn split_by_type_keeps_every_leaf_once_with_order_and_nesting() {
    let (io_errors, rest) = mixed_tree().split::<io::Error>();
    let io_errors: ErrorGroup<io::Error> = io_errors.expect("there are io errors");
    let rest: ErrorGroup = rest.expect("there are other errors");

    // Nesting kept, messages and task names kept, emptied nested groups dropped.
    assert_eq!(
        shape(&io_errors),
        "root[a:io 1, child:child group[d:io 4, grand:grand group[e:io 5]], h:io 8, \
         only_io:only io[i:io 9]]"
    );
    assert_eq!(
        shape(&rest),
        "root[b:invalid 2, child:child group[c:invalid 3, grand:grand group[f:invalid 6], \
         only_invalid:only invalid[g:invalid 7]]]"
    );

    // The matching part holds real `io::Error`s (downcast, not wrapped).
    assert!(
        io_errors
            .leaves()
            .all(|l| l.error.kind() == io::ErrorKind::Other)
    );
    assert!(rest.leaves().all(|l| l.error.is::<Invalid>()));

    // Every leaf exactly once across the two parts.
    let mut all: Vec<String> = io_errors
        .leaves()
        .map(|l| l.task.to_string())
        .chain(rest.leaves().map(|l| l.task.to_string()))
        .collect();
    all.sort();
    assert_eq!(all, ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);

    // Depths are those of the original tree.
    let depths: Vec<(String, usize)> = io_errors
        .leaves()
        .map(|l| (l.task.to_string(), l.depth))
        .collect();
    let depths: Vec<(&str, usize)> = depths.iter().map(|(t, d)| (t.as_str(), *d)).collect();
    assert_eq!(depths, [("a", 0), ("d", 1), ("e", 2), ("h", 0), ("i", 1)]);

    // Splitting what is left by the other type empties it.
    let (invalids, nothing) = rest.split::<Invalid>();
    assert!(nothing.is_none());
    assert_eq!(invalids.unwrap().leaf_count(), 4);
}

#[test]
fn split_without_matches_returns_none_and_everything() {
    let (matching, rest) = mixed_tree().split::<fmt::Error>();
    assert!(matching.is_none());
    assert_eq!(shape(&rest.unwrap()), shape(&mixed_tree()));

    let (all, none) = mixed_tree().split_by(|_, _| true);
    assert!(none.is_none());
    assert_eq!(shape(&all.unwrap()), shape(&mixed_tree()));

    let empty: ErrorGroup = ErrorGroup::new("empty");
    let (m, r) = empty.split::<io::Error>();
    assert!(m.is_none() && r.is_none());
}

#[test]
fn split_by_predicate_on_task_and_error() {
    let (deep, shallow) = mixed_tree().split_by(|task, _| task.name() > "d");
    assert_eq!(
        shape(&deep.unwrap()),
        "root[child:child group[grand:grand group[e:io 5, f:invalid 6], \
         only_invalid:only invalid[g:invalid 7]], h:io 8, only_io:only io[i:io 9]]"
    );
    assert_eq!(
        shape(&shallow.unwrap()),
        "root[a:io 1, b:invalid 2, child:child group[c:invalid 3, d:io 4]]"
    );
}

#[test]
fn subgroup_keeps_matching_leaves_with_their_nesting() {
    let sub = mixed_tree()
        .subgroup(|_, e| e.to_string().ends_with('6') || e.to_string().ends_with('9'))
        .unwrap();
    assert_eq!(
        shape(&sub),
        "root[child:child group[grand:grand group[f:invalid 6]], only_io:only io[i:io 9]]"
    );
    assert!(mixed_tree().subgroup(|_, _| false).is_none());
}

#[test]
fn map_transforms_leaves_and_keeps_structure() {
    let mut tree = mixed_tree();
    tree.push(group("empty", "empty group", Vec::new()));
    let mapped: ErrorGroup<String> = tree.map(|e| e.to_string().to_uppercase());
    assert_eq!(
        shape(&mapped),
        "root[a:IO 1, b:INVALID 2, child:child group[c:INVALID 3, d:IO 4, \
         grand:grand group[e:IO 5, f:INVALID 6], only_invalid:only invalid[g:INVALID 7]], \
         h:IO 8, only_io:only io[i:IO 9], empty:empty group[]]"
    );
    let lengths = mapped.map(|s| s.len());
    assert_eq!(
        lengths.leaves().map(|l| *l.error).sum::<usize>(),
        4 * 5 + 9 * 4
    );
}

#[test]
fn contains_and_find_look_at_every_depth() {
    let g = mixed_tree();
    assert!(g.contains::<io::Error>());
    assert!(g.contains::<Invalid>());
    assert!(!g.contains::<fmt::Error>());
    assert_eq!(g.find::<Invalid>().unwrap().what, "2");
    assert_eq!(g.find::<io::Error>().unwrap().to_string(), "io 1");
    assert!(g.find::<fmt::Error>().is_none());

    // Only in a nested group.
    let (_, rest) = mixed_tree().split::<io::Error>();
    let rest = rest.unwrap();
    let (_, deep_only) = rest.split_by(|t, _| t.name() != "f");
    let deep_only = deep_only.unwrap();
    assert_eq!(deep_only.leaf_count(), 1);
    assert_eq!(deep_only.find::<Invalid>().unwrap().what, "6");
    assert!(!deep_only.contains::<io::Error>());
}

// ---------------------------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------------------------

#[test]
fn display_is_one_line_with_the_number_of_direct_members_and_the_first_failed_tasks() {
    let mut g = ErrorGroup::new("unhandled errors in a task group");
    assert_eq!(
        g.to_string(),
        "unhandled errors in a task group (0 sub-errors)"
    );
    g.push_leaf(TaskName::new("a"), io_err("x"));
    assert_eq!(
        g.to_string(),
        "unhandled errors in a task group (1 sub-error): a"
    );
    g.push(group(
        "b",
        "inner",
        vec![leaf("c", io_err("y")), leaf("d", io_err("z"))],
    ));
    // Nested tasks by their path; three named, then how many more.
    assert_eq!(
        g.to_string(),
        "unhandled errors in a task group (2 sub-errors): a, b/c, b/d"
    );
    assert_eq!(
        mixed_tree().to_string(),
        "root (5 sub-errors): a, b, child/c and 6 more"
    );
}

#[test]
fn display_shortens_a_deep_path_around_dots() {
    let mut g = ErrorGroup::from_members("bottom", vec![leaf("leaf", io_err("x"))]);
    for name in ["g5", "g4", "g3", "g2", "g1"] {
        g = ErrorGroup::from_members("level", vec![group_member(name, g)]);
    }
    assert_eq!(g.to_string(), "level (1 sub-error): g1/g2/.../leaf");
    assert_eq!(g.source().unwrap().to_string(), "g1/g2/.../leaf: x");
}

#[test]
fn source_is_a_chain_with_every_failed_task_and_its_error() {
    let chain = |g: &ErrorGroup| {
        let mut links = Vec::new();
        let mut source = g.source();
        while let Some(link) = source {
            links.push(link.to_string());
            source = link.source();
        }
        links
    };
    let g = mixed_tree();
    assert_eq!(
        chain(&g),
        [
            "a: io 1",
            "b: invalid 2",
            "child/c: invalid 3",
            "child/d: io 4",
            "child/grand/e: io 5",
            "child/grand/f: invalid 6",
            "child/only_invalid/g: invalid 7",
            "h: io 8",
            "only_io/i: io 9",
        ]
    );

    // A leaf's own sources are folded into its link.
    let mut g: ErrorGroup = ErrorGroup::new("m");
    g.push_leaf(
        TaskName::new("orders"),
        Box::new(Invalid::caused_by("order 17", io_err("connection reset"))),
    );
    assert_eq!(chain(&g), ["orders: invalid order 17: connection reset"]);

    // The chain follows changes to the group.
    g.push_leaf(TaskName::indexed("pages", 2), io_err("timed out"));
    assert_eq!(chain(&g)[1], "pages[2]: timed out");

    // At most 15 links, then how many more.
    let mut big = ErrorGroup::new("big");
    for i in 0..40 {
        big.push_leaf(TaskName::indexed("item", i), io_err("no"));
    }
    let links = chain(&big);
    assert_eq!(links.len(), 16);
    assert_eq!(links[14], "item[14]: no");
    assert_eq!(links[15], "and 25 more errors");

    assert!(ErrorGroup::<BoxError>::new("empty").source().is_none());
}

/// The snapshot below follows CPython's `traceback` layout for
/// `ExceptionGroup("load_user_page", [OSError(..), ExceptionGroup(.., [.., ExceptionGroup(..)]), ..])`
/// with the class names replaced by task names.
#[test]
fn alternate_display_renders_the_tree_like_python() {
    let pages = ErrorGroup::from_members(
        "fan-out failed",
        vec![
            Member::Leaf {
                task: TaskName::indexed("pages", 3),
                error: io_err("timed out"),
            },
            Member::Leaf {
                task: TaskName::indexed("pages", 7),
                error: "status 500\nbody: oops".into(),
            },
        ],
    );
    let mut children = ErrorGroup::new("child group failed");
    children.push_task_error(
        TaskName::new("orders"),
        Box::new(Invalid::caused_by("order 17", io_err("connection reset"))),
    );
    children.push_task_error(TaskName::new("pages"), Box::new(pages));

    let mut g = ErrorGroup::new("load_user_page");
    g.push_task_error(
        TaskName::new("user"),
        Box::new(io::Error::new(io::ErrorKind::NotFound, "user 42 not found")),
    );
    g.push_task_error(TaskName::new("children"), Box::new(children));
    g.push_task_error(TaskName::new("audit"), "audit log full".into());

    let expected = "  | load_user_page (3 sub-errors)
  +-+---------------- 1 ----------------
    | user: user 42 not found
    +---------------- 2 ----------------
    | children: child group failed (2 sub-errors)
    +-+---------------- 1 ----------------
      | orders: invalid order 17
      | caused by: connection reset
      +---------------- 2 ----------------
      | pages: fan-out failed (2 sub-errors)
      +-+---------------- 1 ----------------
        | pages[3]: timed out
        +---------------- 2 ----------------
        | pages[7]: status 500
        | body: oops
        +------------------------------------
    +---------------- 3 ----------------
    | audit: audit log full
    +------------------------------------";
    assert_eq!(format!("{g:#}"), expected);
    // `{}` stays one line.
    assert_eq!(
        g.to_string(),
        "load_user_page (3 sub-errors): user, children/orders, children/pages/pages[3] and 2 more"
    );
    // `{:?}` is the same tree, its first line without the margin.
    let debug = format!("{g:?}");
    assert_eq!(
        debug,
        expected.replacen("  | load_user_page", "load_user_page", 1)
    );
    assert_eq!(format!("{g:#?}"), debug);
}

#[test]
fn alternate_display_closes_once_when_the_last_member_is_a_group() {
    let g = ErrorGroup::from_members(
        "msg",
        vec![
            leaf("a", io_err("a")),
            group("b", "inner", vec![leaf("c", io_err("b"))]),
        ],
    );
    assert_eq!(
        format!("{g:#}"),
        "  | msg (2 sub-errors)
  +-+---------------- 1 ----------------
    | a: a
    +---------------- 2 ----------------
    | b: inner (1 sub-error)
    +-+---------------- 1 ----------------
      | c: b
      +------------------------------------"
    );
}

#[test]
fn alternate_display_prints_the_source_chain_of_each_leaf() {
    let chain = Invalid::caused_by(
        "config",
        Invalid::caused_by("file settings.toml", io_err("permission denied")),
    );
    let mut g = ErrorGroup::new("startup");
    g.push_task_error(TaskName::new("load"), Box::new(chain));
    assert_eq!(
        format!("{g:#}"),
        "  | startup (1 sub-error)
  +-+---------------- 1 ----------------
    | load: invalid config
    | caused by: invalid file settings.toml
    | caused by: permission denied
    +------------------------------------"
    );

    // Leaves of a concrete type that is not a known error type print no chain, but still render.
    let plain: ErrorGroup<&str> = ErrorGroup::from_members("plain", vec![leaf("x", "boom")]);
    assert_eq!(
        format!("{plain:#}"),
        "  | plain (1 sub-error)
  +-+---------------- 1 ----------------
    | x: boom
    +------------------------------------"
    );
}

#[test]
fn alternate_display_shows_15_members_then_how_many_more() {
    let mut g = ErrorGroup::new("wide");
    for i in 0..17 {
        g.push_leaf(TaskName::indexed("items", i), io_err(&format!("e{i}")));
    }
    let out = format!("{g:#}");
    let mut expected = String::from("  | wide (17 sub-errors)\n");
    for i in 0..15 {
        let corner = if i == 0 { "+-" } else { "  " };
        expected.push_str(&format!(
            "  {corner}+---------------- {} ----------------\n    | items[{i}]: e{i}\n",
            i + 1
        ));
    }
    expected.push_str(
        "    +---------------- ... ----------------
    | and 2 more errors
    +------------------------------------",
    );
    assert_eq!(out, expected);
    assert!(!out.contains("items[15]"));

    let mut sixteen = ErrorGroup::new("sixteen");
    for i in 0..16 {
        sixteen.push_leaf(TaskName::indexed("items", i), io_err("e"));
    }
    assert!(format!("{sixteen:#}").ends_with(
        "    +---------------- ... ----------------
    | and 1 more error
    +------------------------------------"
    ));
}

#[test]
fn alternate_display_stops_at_depth_10() {
    // g11 > g10 > ... > g0 > leaf: twelve nested groups, as in
    // `python3 -c 'import traceback; ...print_exception(chain(12))'`.
    let mut g: ErrorGroup = ErrorGroup::from_members("g0", vec![leaf("leaf", io_err("deep"))]);
    for i in 1..12 {
        g = ErrorGroup::from_members(format!("g{i}"), vec![group_member("sub", g)]);
    }
    let expected = "  | g11 (1 sub-error)
  +-+---------------- 1 ----------------
    | sub: g10 (1 sub-error)
    +-+---------------- 1 ----------------
      | sub: g9 (1 sub-error)
      +-+---------------- 1 ----------------
        | sub: g8 (1 sub-error)
        +-+---------------- 1 ----------------
          | sub: g7 (1 sub-error)
          +-+---------------- 1 ----------------
            | sub: g6 (1 sub-error)
            +-+---------------- 1 ----------------
              | sub: g5 (1 sub-error)
              +-+---------------- 1 ----------------
                | sub: g4 (1 sub-error)
                +-+---------------- 1 ----------------
                  | sub: g3 (1 sub-error)
                  +-+---------------- 1 ----------------
                    | sub: g2 (1 sub-error)
                    +-+---------------- 1 ----------------
                      | ... (max_group_depth is 10)
                      +------------------------------------";
    assert_eq!(format!("{g:#}"), expected);
}

fn group_member(task: &'static str, group: ErrorGroup) -> Member {
    Member::Group {
        task: TaskName::new(task),
        group,
    }
}

#[test]
fn debug_of_a_group_is_the_tree_and_of_a_member_derive_like() {
    let g: ErrorGroup<&str> = ErrorGroup::from_members(
        "m",
        vec![leaf("a", "x"), group("b", "inner", vec![leaf("c", "y")])],
    );
    assert_eq!(
        format!("{g:?}"),
        "m (2 sub-errors)
  +-+---------------- 1 ----------------
    | a: x
    +---------------- 2 ----------------
    | b: inner (1 sub-error)
    +-+---------------- 1 ----------------
      | c: y
      +------------------------------------"
    );
    assert_eq!(
        format!("{:?}", g.members()[1]),
        "Group { task: TaskName { name: \"b\", index: None }, group: ErrorGroup { \
         message: \"inner\", members: [Leaf { task: TaskName { name: \"c\", index: None }, \
         error: \"y\" }] } }"
    );
}

// ---------------------------------------------------------------------------------------------
// deep nesting: nothing recurses
// ---------------------------------------------------------------------------------------------

const DEEP: usize = 100_000;

/// `DEEP` nested groups; every level holds an `io::Error` leaf (even levels) or an `Invalid`
/// leaf (odd levels), then the next level.
fn deep_tree() -> ErrorGroup {
    let mut g = ErrorGroup::from_members("level 0", vec![leaf("bottom", io_err("bottom"))]);
    for level in 1..DEEP {
        let error = if level % 2 == 0 {
            io_err("io")
        } else {
            invalid("x")
        };
        g = ErrorGroup::from_members(
            "level",
            vec![
                Member::Leaf {
                    task: TaskName::indexed("leaf", level),
                    error,
                },
                group_member("next", g),
            ],
        );
    }
    g
}

#[test]
fn a_very_deep_group_renders_iterates_splits_and_drops_on_a_small_stack() {
    run_with_small_stack(|| {
        let g = deep_tree();

        let rendered = format!("{g:#}");
        assert!(rendered.contains("... (max_group_depth is 10)"));
        assert!(rendered.lines().count() < 100);
        assert_eq!(
            g.to_string(),
            "level (2 sub-errors): leaf[99999], next/leaf[99998], next/next/leaf[99997] and 99997 more"
        );
        let debug = format!("{g:?}");
        assert!(debug.contains("... (max_group_depth is 10)"));
        assert!(debug.lines().count() < 100);
        let member = format!("{:?}", g.members()[1]);
        assert!(member.contains(".. }"));
        let pretty = format!("{:#?}", g.members()[1]);
        assert!(pretty.len() > member.len());
        let mut links = 0;
        let mut source = g.source();
        while let Some(link) = source {
            links += 1;
            source = link.source();
        }
        assert_eq!(links, 16);

        assert_eq!(g.leaf_count(), DEEP);
        let last = g.leaves().last().unwrap();
        assert_eq!((last.task.name(), last.depth), ("bottom", DEEP - 1));
        assert!(g.contains::<Invalid>());
        assert_eq!(g.find::<io::Error>().unwrap().to_string(), "io");

        let (io_errors, rest) = g.split::<io::Error>();
        let (io_errors, rest) = (io_errors.unwrap(), rest.unwrap());
        assert_eq!(io_errors.leaf_count() + rest.leaf_count(), DEEP);
        assert_eq!(rest.leaf_count(), DEEP / 2);
        drop(rest);

        let mapped = io_errors.map(|e| e.kind());
        assert_eq!(mapped.into_leaves().count(), DEEP / 2);

        let sub = deep_tree().subgroup(|t, _| t.name() == "bottom").unwrap();
        let bottom = sub.leaves().next().unwrap();
        assert_eq!(bottom.depth, DEEP - 1);
        drop(sub);

        // Dropped without being walked.
        drop(deep_tree());
        // And by value, partially consumed.
        let mut leaves = deep_tree().into_leaves();
        assert_eq!(
            leaves.next().unwrap().0,
            TaskName::indexed("leaf", DEEP - 1)
        );
        drop(leaves);
    });
}

// ---------------------------------------------------------------------------------------------
// conversions
// ---------------------------------------------------------------------------------------------

fn failing_child() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut g = ErrorGroup::new("child failed");
    g.push_leaf(TaskName::new("inner"), io_err("broken pipe"));
    Err(g)?;
    Ok(())
}

fn failing_non_send() -> Result<(), Box<dyn Error>> {
    let g: ErrorGroup<String> =
        ErrorGroup::from_members("strings", vec![leaf("s", "x".to_owned())]);
    Err(g)?;
    Ok(())
}

#[test]
fn converts_into_a_boxed_error_with_question_mark_and_downcasts_back() {
    let boxed = failing_child().unwrap_err();
    assert_eq!(boxed.to_string(), "child failed (1 sub-error): inner");
    assert_eq!(boxed.source().unwrap().to_string(), "inner: broken pipe");
    assert!(boxed.is::<ErrorGroup>());

    // Propagated from a child task, it nests in the parent.
    let mut parent = ErrorGroup::new("parent");
    parent.push_task_error(TaskName::new("child"), boxed);
    assert!(parent.members()[0].is_group());
    assert_eq!(
        parent.find::<io::Error>().unwrap().to_string(),
        "broken pipe"
    );

    let back: Box<ErrorGroup> = failing_child().unwrap_err().downcast().unwrap();
    assert_eq!(back.message(), "child failed");
    assert_eq!(back.leaf_count(), 1);

    let other = failing_non_send().unwrap_err();
    assert!(other.downcast_ref::<ErrorGroup<String>>().is_some());
}

#[test]
fn error_groups_are_send_sync_static_errors() {
    fn assert_error<T: Error + Send + Sync + 'static>() {}
    assert_error::<ErrorGroup>();
    assert_error::<ErrorGroup<io::Error>>();
}
