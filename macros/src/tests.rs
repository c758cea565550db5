//! Unit tests of the macros outside the compiler, through `proc-macro2`'s fallback: the parser
//! and the checks on small inputs, the shape of the expansion, and a mutation test that the
//! macros never panic.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::{parse, structured, valid};

fn tokens(source: &str) -> TokenStream {
    source.parse().expect("test input tokenizes")
}

/// The messages of every error the group's input produces.
fn errors(body: &str) -> Vec<String> {
    let (group, mut errors) = parse::parse_input(tokens(&format!("::taskgroup; {body}")));
    valid::validate(&group, &mut errors);
    errors
        .into_error()
        .map(|error| error.into_iter().map(|e| e.to_string()).collect())
        .unwrap_or_default()
}

fn structured_errors(item: &str) -> Vec<String> {
    let output = structured::structured(TokenStream::new(), tokens(item)).to_string();
    output
        .match_indices("compile_error")
        .map(|(at, _)| {
            output[at..]
                .split('"')
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn parses_every_form() {
    let source = "::taskgroup;
        #![name = \"page\"] #![timeout = d] #![limit = 4] #![grace = g] #![mode = supervise]
        user = fetch_user(id);
        mut orders = spawn fetch_orders(id);
        _ = audit(id);
        pages = for url in &urls => fetch(url);
        stats = for (i, x) in items.iter().enumerate() => spawn crunch(i, x)
        except* std::io::Error as errs => return Err(errs.into()),
        except* taskgroup::Elapsed => { (a, b, c, d) }
        except* _ => panic!(),";
    let (group, errors) = parse::parse_input(tokens(source));
    assert!(errors.is_empty());
    assert_eq!(group.tasks.len(), 5);
    assert_eq!(group.arms.len(), 3);
    assert!(group.tasks[1].spawn.is_some() && group.tasks[4].spawn.is_some());
    assert!(group.tasks[0].spawn.is_none() && group.tasks[3].spawn.is_none());
    assert_eq!(
        group.options.mode.map(|(_, mode)| mode),
        Some(crate::ast::Mode::Supervise)
    );
}

#[test]
fn card_spelling_with_and_without_the_last_semicolon() {
    for body in [
        "< a = f(); b = g(); >",
        "< a = f(); b = g() >",
        "< a = f(); b = g(); > except* E => (1, 2),",
        "< a = f(); b = x > y; >",
    ] {
        let (group, errors) = parse::parse_input(tokens(&format!("::taskgroup; {body}")));
        assert!(errors.is_empty(), "{body}");
        assert_eq!(group.tasks.len(), 2, "{body}");
    }
}

#[test]
fn spawn_is_a_keyword_only_before_an_expression() {
    for (body, keyword) in [
        ("a = spawn f();", true),
        ("a = spawn async { Ok::<_, E>(1) };", true),
        ("a = spawn(x);", false),
        ("a = spawn::f();", false),
        ("a = spawn!(x);", false),
        ("a = spawn.f();", false),
        ("a = spawn;", false),
    ] {
        let (group, errors) = parse::parse_input(tokens(&format!("::taskgroup; {body}")));
        assert!(errors.is_empty(), "{body}");
        assert_eq!(group.tasks[0].spawn.is_some(), keyword, "{body}");
    }
}

#[test]
fn every_error_at_once() {
    let found = errors("a = f().await; b = ; c = async { tokio::spawn(g()) }; d = h();");
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn a_missing_semicolon_keeps_both_tasks() {
    let (group, errors) = parse::parse_input(tokens("::taskgroup; a = f() b = g();"));
    assert_eq!(group.tasks.len(), 2);
    let errors: Vec<String> = errors
        .into_error()
        .unwrap()
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, ["expected `;` after the task"]);
}

#[test]
fn broken_tasks_keep_their_names() {
    let (group, _) = parse::parse_input(tokens("::taskgroup; a = f(1 +); mut b = ; c = g();"));
    let broken: Vec<String> = group.broken.iter().map(ToString::to_string).collect();
    assert_eq!(broken, ["a", "b"]);
    assert_eq!(group.tasks.len(), 1);
}

#[test]
fn options_are_checked() {
    assert!(errors("#![timeuot = d] a = f();")[0].contains("did you mean `timeout`?"));
    assert!(errors("#![limit = 1] #![limit = 2] a = f();")[0].contains("duplicate option"));
    assert!(errors("#![limit = 0] a = f();")[0].contains("at least 1"));
    assert!(errors("#![limit = -3] a = f();")[0].contains("at least 1"));
    assert!(errors("#![timeout = 5] a = f();")[0].contains("Duration::from_secs(5)"));
    assert!(errors("#![mode = parallel] a = f();")[0].contains("unknown mode"));
    assert!(errors("#![name = x] a = f();")[0].contains("string literal"));
    assert!(errors("#[limit = 2] a = f();")[0].contains("inner attributes"));
    assert!(errors("a = f(); #![limit = 2] b = g();")[0].contains("before the first task"));
}

#[test]
fn arms_are_checked() {
    assert!(errors("a = f(); except* _ => 0, except* E => 1,")[0].contains("unreachable arm"));
    assert!(
        errors("a = f(); except* E => 0, except* E => 1,")[0].contains("duplicate `except* E`")
    );
    assert!(errors("#![mode = settle] a = f(); except* E => 0,")[0].contains("settle"));
    assert!(errors("a = f(); except E => 0,")[0].contains("expected `*`"));
    assert!(errors("except* E => 0,")[0].contains("at least one task"));
    assert!(errors("")[0].contains("at least one task"));
}

#[test]
fn names_are_checked() {
    assert!(errors("a = f(); a = g();")[0].contains("duplicate task name `a`"));
    assert!(errors("a = f(); b = g(a);")[0].contains("sibling task `a`"));
    assert!(errors("a = f(); b = g(S { a });")[0].contains("sibling task `a`"));
    assert!(errors("a = f(); b = g(vec![a]);")[0].contains("sibling task `a`"));
    assert!(errors("a = f(); b = for x in a => g(x);")[0].contains("sibling task `a`"));
    // Its own name, names bound inside the task, calls and fields are not siblings.
    assert!(errors("id = parse(id); other = parse(2);").is_empty());
    assert!(errors("a = f(); b = async { let a = 1; g(a).await };").is_empty());
    assert!(errors("a = f(); b = h(|a| a + 1);").is_empty());
    assert!(errors("a = f(); b = for a in items => g(a);").is_empty());
    assert!(errors("a = f(); b = a(1); c = x.a; d = x.a();").is_empty());
    assert!(errors("a = f(); b = async { group! { a = g(); } Ok(a) };").is_empty());
    assert!(errors("a = f(); b = async { group! { c = g(a); } Ok(c) };")[0].contains("`a`"));
}

#[test]
fn awaited_tasks_are_rejected() {
    assert!(errors("a = f().await;")[0].contains("remove this `.await`"));
    assert!(errors("a = spawn f().await?;")[0].contains("remove this `.await?`"));
    assert!(errors("a = async { f().await };").is_empty());
}

#[test]
fn bare_spawns_in_tasks() {
    for call in [
        "tokio::spawn(x)",
        "::tokio::spawn(x)",
        "tokio::task::spawn(x)",
        "task::spawn(x)",
        "tokio::task::spawn_local(x)",
        "spawn_local(x)",
        "tokio::task::spawn_blocking(f)",
        "spawn_blocking(f)",
        "std::thread::spawn(f)",
        "thread::spawn(f)",
        "tokio::runtime::Handle::current().spawn(x)",
        "Handle::try_current().unwrap().spawn_blocking(f)",
        "std::thread::Builder::new().name(n).spawn(f)",
        "xs.map(tokio::spawn)",
        "println!(\"{:?}\", tokio::spawn(x))",
        "println!(\"{:?}\", tokio::spawn::<F>(x))",
        "tokio::spawn::<F>(x)",
        "tokio::select! { _ = tokio::spawn(x) => {} }",
    ] {
        let found = errors(&format!("a = async {{ {call}; Ok(()) }};"));
        assert_eq!(found.len(), 1, "{call}: {found:#?}");
        assert!(found[0].contains("escapes its group"), "{call}");
    }
    for fine in [
        "s.spawn(x)",
        "s.spawn_parallel(x)",
        "spawn(x)",
        "std::thread::scope(|s| { s.spawn(f); })",
        "set.spawn(x)",
        "my::spawn(x)",
        "taskgroup::group! { b = spawn f(); }",
        "println!(\"{:?}\", local.spawn_local(f))",
        "tokio::join!(async { taskgroup::group! { b = spawn f(); } })",
    ] {
        assert!(
            errors(&format!("a = async {{ {fine}; Ok(()) }};")).is_empty(),
            "{fine}"
        );
    }
    // A nested group checks its own tasks; its arms run here.
    let nested = errors(
        "a = async { taskgroup::group! { b = g(); except* _ => { tokio::spawn(x); } } Ok(()) };",
    );
    assert_eq!(nested.len(), 1);
    let in_macro = errors(
        "a = async { tokio::join!(async { taskgroup::group! { b = tokio::spawn(x); } }); Ok(()) };",
    );
    assert!(in_macro.is_empty(), "{in_macro:#?}");
}

#[test]
fn structured_checks() {
    assert!(structured_errors("async fn f() { tokio::spawn(x); }")[0].contains("`#[structured]`"));
    assert!(structured_errors("fn f() {}")[0].contains("applies to an `async fn`"));
    assert!(structured_errors("struct S;")[0].contains("applies to"));
    assert!(structured_errors("mod m;")[0].contains("inline"));
    assert_eq!(
        structured_errors(
            "impl S { async fn a() { tokio::spawn(x); } fn b() { std::thread::spawn(f); } }"
        )
        .len(),
        2
    );
    assert_eq!(
        structured_errors("mod m { use tokio::{spawn, task}; fn f() { task::spawn_local(x); } }")
            .len(),
        2
    );
    // Nested `#[structured]` items are left to their own attribute.
    assert!(
        structured_errors("mod m { #[structured] async fn f() { tokio::spawn(x); } }").is_empty()
    );
    assert!(structured_errors("async fn f() { s.spawn(x); group! { a = spawn f(); } }").is_empty());
    // Not an item at all: left to rustc.
    assert!(structured_errors("async fn f() -> { tokio::spawn(x) }").is_empty());
    let with_args = structured::structured(tokens("strict"), tokens("async fn f() {}"));
    assert!(with_args.to_string().contains("takes no arguments"));
}

#[test]
fn expansion_shape() {
    let output = crate::group(tokens(
        "$crate; a = f(); b = spawn g(); except* E => (1, 2),",
    ))
    .to_string();
    for part in [
        "let (a , b) =",
        "use $ crate :: __private as __taskgroup_p",
        "__taskgroup_p :: checked_plain_task",
        "__taskgroup_p :: checked_spawn_task",
        "< E as $ crate :: __private :: ExceptType > :: take_matching",
        "value_slot",
        "Propagate :: propagate",
    ] {
        assert!(output.contains(part), "{part} in {output}");
    }
    // With a catch-all arm, nothing propagates.
    let output = crate::group(tokens("$crate; a = f(); except* _ => 0,")).to_string();
    assert!(!output.contains("Propagate"));
}

#[test]
fn a_task_keeps_its_start_time_and_slot_only_under_a_deadline_or_a_limit() {
    for (options, func) in [
        ("", "checked_plain_task"),
        (
            "#![grace = d] #![name = \"n\"] #![mode = supervise]",
            "checked_plain_task",
        ),
        ("#![timeout = d]", "checked_task"),
        ("#![limit = 2]", "checked_task"),
        ("#![mode = settle]", "checked_settled_task"),
    ] {
        let output = crate::group(tokens(&format!("$crate; {options} a = f();"))).to_string();
        assert!(
            output.contains(&format!("__taskgroup_p :: {func} (")),
            "{func} for {options:?} in {output}"
        );
    }
}

#[test]
fn each_group_runs_on_the_shortest_path_its_tasks_and_options_allow() {
    for (group, func) in [
        // In-place tasks, and no option that changes how they run: the fixed group.
        ("a = f(); b = g();", "run_fixed"),
        (
            "#![name = \"n\"] #![mode = supervise] a = f(); _ = g();",
            "run_fixed",
        ),
        ("#![mode = fail_fast] a = f();", "run_fixed"),
        // A fan-out, a spawned task or such an option: the general driver's short path.
        ("a = f(); b = for x in xs => g(x);", "run_untimed"),
        ("a = f(); b = spawn g();", "run_untimed"),
        ("#![limit = 2] a = f();", "run_untimed"),
        ("#![grace = d] a = f();", "run_untimed"),
        ("#![mode = settle] a = f();", "run_untimed"),
        ("#![cancel_on = t] a = f();", "run_untimed"),
        // A deadline: the general driver, which arms it at the first poll.
        ("#![timeout = d] a = f();", "run"),
        ("#![timeout = d] #![limit = 2] a = f();", "run"),
    ] {
        let output = crate::group(tokens(&format!("$crate; {group}"))).to_string();
        assert!(
            output.contains(&format!("__taskgroup_p :: {func} (")),
            "{func} for {group:?} in {output}"
        );
        for other in ["run_fixed", "run_untimed", "run"] {
            if other != func {
                assert!(
                    !output.contains(&format!("__taskgroup_p :: {other} (")),
                    "no {other} for {group:?} in {output}"
                );
            }
        }
    }
}

#[test]
fn fallback_binds_every_name() {
    let output =
        crate::group(tokens("$crate; a = f().await; mut b = g(1 +); _ = h();")).to_string();
    assert!(output.starts_with(
        "# [allow (unused_variables)] let __taskgroup_failed = { :: core :: compile_error !"
    ));
    assert!(output.contains("let a = __taskgroup_failed"));
    assert!(output.contains("let b = __taskgroup_failed"));
}

/// The output as rust-analyzer reads it: `compile_error!` expands to nothing there, and what
/// is left must parse as statements, or the IDE adds "Syntax Error in Expansion" to the real
/// error.
fn ide_parses(output: TokenStream) -> Result<(), syn::Error> {
    fn strip(stream: TokenStream) -> TokenStream {
        let mut kept: Vec<TokenTree> = Vec::new();
        let mut trees = stream.into_iter().peekable();
        while let Some(tree) = trees.next() {
            match tree {
                TokenTree::Ident(ident) if ident == "compile_error" => {
                    // `::core::` before it, `!` and the message after it.
                    let path = kept.len().saturating_sub(5);
                    if kept[path..]
                        .iter()
                        .map(ToString::to_string)
                        .collect::<String>()
                        == "::core::"
                    {
                        kept.truncate(path);
                    }
                    trees.next();
                    trees.next();
                }
                TokenTree::Group(group) => {
                    let mut inner = Group::new(group.delimiter(), strip(group.stream()));
                    inner.set_span(group.span());
                    kept.push(TokenTree::Group(inner));
                }
                other => kept.push(other),
            }
        }
        kept.into_iter().collect()
    }
    let block = TokenTree::Group(Group::new(Delimiter::Brace, strip(output)));
    syn::parse2::<syn::Block>(block.into()).map(drop)
}

#[test]
fn fallback_is_valid_rust_without_its_errors() {
    for input in [
        "$crate; a = f().await; mut b = g(1 +); _ = h();",
        "$crate; #![deadline = d] a = f();",
        "$crate;",
        "$crate; except* E => 0,",
    ] {
        let output = crate::group(tokens(input));
        assert!(output.to_string().contains("compile_error"), "{input}");
        if let Err(error) = ide_parses(output.clone()) {
            panic!("{input}: {error} in {output}");
        }
    }
}

/// A small deterministic generator (xorshift64*), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }
}

/// Tokens the DSL gives meaning to, to splice in.
fn interesting(rng: &mut Rng) -> TokenTree {
    let span = Span::call_site();
    match rng.below(14) {
        0 => Punct::new(';', Spacing::Alone).into(),
        1 => Punct::new('=', Spacing::Alone).into(),
        2 => Punct::new('*', Spacing::Alone).into(),
        3 => Punct::new('#', Spacing::Alone).into(),
        4 => Punct::new('!', Spacing::Alone).into(),
        5 => Punct::new('<', Spacing::Alone).into(),
        6 => Punct::new('>', Spacing::Alone).into(),
        7 => Punct::new(',', Spacing::Alone).into(),
        8 => Ident::new("except", span).into(),
        9 => Ident::new("spawn", span).into(),
        10 => Ident::new("for", span).into(),
        11 => Ident::new("tokio", span).into(),
        12 => Group::new(Delimiter::Bracket, tokens("limit = 0")).into(),
        _ => Ident::new("_", span).into(),
    }
}

/// One random edit: drop, duplicate, swap, truncate, splice, or the same inside a group.
fn mutate(trees: &mut Vec<TokenTree>, rng: &mut Rng) {
    if trees.is_empty() {
        trees.push(interesting(rng));
        return;
    }
    let at = rng.below(trees.len());
    match rng.below(7) {
        0 => {
            trees.remove(at);
        }
        1 => {
            let copy = trees[at].clone();
            trees.insert(at, copy);
        }
        2 => {
            let other = rng.below(trees.len());
            trees.swap(at, other);
        }
        3 => trees.truncate(at),
        4 => trees.insert(at, interesting(rng)),
        _ => {
            let groups: Vec<usize> = (0..trees.len())
                .filter(|&i| matches!(trees[i], TokenTree::Group(_)))
                .collect();
            if let Some(&i) = groups.get(rng.below(groups.len())) {
                if let TokenTree::Group(group) = &trees[i] {
                    let mut inner: Vec<TokenTree> = group.stream().into_iter().collect();
                    mutate(&mut inner, rng);
                    let mut changed = Group::new(group.delimiter(), inner.into_iter().collect());
                    changed.set_span(group.span());
                    trees[i] = changed.into();
                }
            } else {
                trees.remove(at);
            }
        }
    }
}

const GROUPS: &[&str] = &[
    "::taskgroup; a = f(); b = g();",
    "::taskgroup; #![name = \"n\"] #![timeout = Duration::from_secs(1)] #![limit = 8] \
     user = fetch_user(id); _ = audit(id); pages = for url in &urls => fetch(url); \
     stats = spawn crunch(data.clone()); \
     except* std::io::Error as errs => return Err(AppError::Io(errs)), \
     except* taskgroup::Elapsed => return Ok(Page::degraded()),",
    "::taskgroup; < a = fetch(u1); b = fetch(u2); > except* IoError => (1, 2),",
    "::taskgroup; #![mode = settle] a = spawn async { Ok::<_, E>(1) }; b = for (i, x) in xs => g(i, x)",
    "::taskgroup; mut a = async { group! { b = f(); except* _ => 0, } Ok(b) }; \
     except* _ as rest => { log(rest); 0 }",
];

const ITEMS: &[&str] = &[
    "async fn f() { let h = tokio::spawn(x); s.spawn(y); group! { a = f(); } }",
    "impl S { async fn a(&self) { std::thread::spawn(|| ()); } fn b() {} }",
    "mod m { use tokio::spawn; async fn f() { println!(\"{:?}\", task::spawn_local(x)); } }",
];

/// Runs `f` on `input`, turning a panic into a test failure that shows the input.
fn no_panic(input: &TokenStream, f: impl FnOnce(TokenStream)) {
    let result = catch_unwind(AssertUnwindSafe(|| f(input.clone())));
    assert!(result.is_ok(), "the macro panicked on: {input}");
}

#[test]
fn never_panics_on_mutated_input() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = 0;
    for round in 0..2_200 {
        for seed in GROUPS {
            let mut trees: Vec<TokenTree> = tokens(seed).into_iter().collect();
            for _ in 0..=rng.below(3) {
                mutate(&mut trees, &mut rng);
            }
            let input: TokenStream = trees.into_iter().collect();
            no_panic(&input, |input| {
                // The parser alone yields a group or errors...
                let (group, mut errors) = parse::parse_input(input.clone());
                valid::validate(&group, &mut errors);
                // ...and the whole macro yields tokens, never a panic; on error, tokens
                // that stay valid Rust without the errors.
                let output = crate::group(input);
                if output.to_string().contains("compile_error")
                    && let Err(error) = ide_parses(output.clone())
                {
                    panic!("{error} in {output}");
                }
            });
            cases += 1;
        }
        if round % 4 == 0 {
            for seed in ITEMS {
                let mut trees: Vec<TokenTree> = tokens(seed).into_iter().collect();
                mutate(&mut trees, &mut rng);
                let input: TokenStream = trees.into_iter().collect();
                no_panic(&input, |input| {
                    let _ = structured::structured(TokenStream::new(), input);
                });
            }
        }
    }
    assert!(cases >= 10_000);
}

#[test]
fn a_sibling_read_as_an_inline_format_argument_is_reported() {
    let found = errors(
        r#"user = fetch(1); orders = async { println!("{user} {{user}} {0}", 1); Ok::<_, E>(()) };"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`user` is the result of the sibling task `user`"));
    // Width and precision arguments too; escaped braces and positions are not names.
    assert_eq!(
        valid::inline_arguments("{a:>w$} {{b}} {0} {:.p$} {_x:?}"),
        ["a", "w", "p", "_x"]
    );
}

#[test]
fn structured_catches_spawns_through_locals_qualified_calls_globs_and_renames() {
    let caught = |body: &str| {
        let found = structured_errors(&format!("async fn f() {{ {body} }}"));
        assert_eq!(found.len(), 1, "{body}: {found:?}");
        found[0].clone()
    };
    for body in [
        "let h = Handle::current(); h.spawn(x);",
        "let h: Handle = tokio::runtime::Handle::current(); h.spawn_blocking(x);",
        "let rt = tokio::runtime::Runtime::new()?; rt.spawn(x);",
        "let rt = Builder::new_multi_thread().build()?; rt.spawn(x);",
        "let b = std::thread::Builder::new(); b.spawn(x);",
        "let mut set = JoinSet::new(); set.spawn(x);",
        "let local = LocalSet::new(); local.spawn_local(x);",
        "Handle::spawn(&h, x);",
        "JoinSet::spawn(&mut set, x);",
        "use tokio::task::*;",
        "use tokio::*;",
        "use tokio as t;",
        "use std::thread as th;",
        "extern crate tokio as tk;",
    ] {
        let message = caught(body);
        assert!(
            message.contains("escapes") || message.contains("would hide bare spawns"),
            "{body}: {message}"
        );
    }
    // A local that does not spawn, and a scope's own handle, are fine.
    assert!(structured_errors("async fn f() { let v = Vec::new(); v.spawn(x); }").is_empty());
    assert!(
        structured_errors("async fn f() { use tokio::time::sleep; sleep(d).await; }").is_empty()
    );
    // The fix for blocking work works on the current-thread runtime too.
    let blocking = caught("tokio::task::spawn_blocking(x);");
    assert!(blocking.contains("std::thread::scope"), "{blocking}");
}

#[test]
fn an_option_named_by_a_synonym_suggests_the_option() {
    let found = errors("#![deadline = d] a = f();");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("unknown option `deadline`: did you mean `timeout`?"),
        "{found:?}"
    );
    let found = errors("#![concurrency = 8] a = f();");
    assert!(found[0].contains("did you mean `limit`?"), "{found:?}");
}

#[test]
fn an_attribute_on_a_task_says_that_tasks_take_none() {
    for body in ["#[cfg(test)] a = f();", "a = f(); #[cfg(test)] b = g();"] {
        let found = errors(body);
        assert_eq!(found.len(), 1, "{body}: {found:?}");
        assert!(
            found[0].contains("attributes on tasks are not supported"),
            "{found:?}"
        );
    }
    // An option written as an outer attribute still says to write `#![...]`.
    assert!(errors("#[limit = 2] a = f();")[0].contains("inner attributes"));
}
