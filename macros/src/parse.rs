//! Parsing: tokens into the [`ast`](crate::ast) tree.
//!
//! The input is cut first, at its top-level `;` and `except*` tokens, and each piece is parsed
//! on its own: a group with three malformed tasks reports three errors in one build, and the
//! names of the tasks that did not parse still get bindings (see [`fallback`](crate::fallback)).
//!
//! Each piece is parsed inside a parenthesized group whose span is the token that ends the
//! piece, so that "unexpected end of input" points at that `;` rather than at the whole macro.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, Token};

use crate::ast::{Arm, Binding, Group, Mode, Options, Task, TaskBody};
use crate::error::Errors;

mod kw {
    syn::custom_keyword!(except);
    syn::custom_keyword!(spawn);
}

/// The options `group!` knows, for did-you-mean suggestions.
const OPTIONS: [&str; 6] = ["name", "timeout", "limit", "grace", "mode", "cancel_on"];

/// Parses the input of `group_internal!`: `$crate ;` then the group.
pub(crate) fn parse_input(input: TokenStream) -> (Group, Errors) {
    let mut tokens = input.into_iter();
    let mut krate = TokenStream::new();
    for tree in tokens.by_ref() {
        if is_punct(Some(&tree), ';') {
            break;
        }
        krate.extend([tree]);
    }
    parse_group(krate, &tokens.collect::<Vec<_>>())
}

/// Parses a group's body. Returns the group, with every part that parsed, and the errors.
pub(crate) fn parse_group(krate: TokenStream, tokens: &[TokenTree]) -> (Group, Errors) {
    let mut errors = Errors::default();
    let end_span = tokens.last().map_or_else(Span::call_site, TokenTree::span);
    let (options, rest) = parse_options(tokens, &mut errors);
    let (tasks, broken, card, rest) = parse_tasks(rest, end_span, &mut errors);
    let arms = parse_arms(rest, card, end_span, &mut errors);
    let group = Group {
        krate,
        options,
        tasks,
        broken,
        arms,
    };
    (group, errors)
}

/// The options: the leading inner attributes. Returns them and the tokens after them.
fn parse_options<'a>(tokens: &'a [TokenTree], errors: &mut Errors) -> (Options, &'a [TokenTree]) {
    let mut options = Options::default();
    let mut rest = tokens;
    while let Some((attr, bang, len)) = split_attr(rest) {
        if !bang && !names_option(attr) {
            // `#[cfg(test)] a = f();`: an attribute on the task that follows.
            errors.spanned(
                rest[..len].iter().cloned().collect::<TokenStream>(),
                TASK_ATTRIBUTE,
            );
            rest = &rest[len..];
            continue;
        }
        if !bang {
            errors.at(
                rest[0].span(),
                "group options are inner attributes: write `#![...]`",
            );
        }
        parse_option(attr, &mut options, errors);
        rest = &rest[len..];
    }
    (options, rest)
}

/// What an attribute on a task gets.
const TASK_ATTRIBUTE: &str = "attributes on tasks are not supported: a `#[cfg(..)]` cannot remove a task, since the group's bindings are fixed where it is written\nhelp: put the condition inside the task (`a = async { if cfg!(test) { .. } else { .. } };`), or write a group for each case; group options are inner attributes, `#![..]`, before the first task";

/// Whether an attribute's body is `option = ...` for one of the group's options.
fn names_option(attr: &proc_macro2::Group) -> bool {
    let mut tokens = attr.stream().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(TokenTree::Ident(key)), Some(TokenTree::Punct(eq)))
            if eq.as_char() == '=' && OPTIONS.contains(&key.to_string().as_str())
    )
}

/// The task list, in the card's `< ... >` spelling or bare. Returns the tasks that parsed,
/// the names of those that did not (so that the fallback still binds them), whether the card
/// spelling was used, and the tokens after the list.
fn parse_tasks<'a>(
    tokens: &'a [TokenTree],
    end_span: Span,
    errors: &mut Errors,
) -> (Vec<Task>, Vec<Ident>, bool, &'a [TokenTree]) {
    let mut rest = tokens;
    let card = is_punct(rest.first(), '<');
    let open_span = rest.first().map_or(end_span, TokenTree::span);
    if card {
        rest = &rest[1..];
    }
    let mut tasks = Vec::new();
    let mut broken = Vec::new();
    let mut closed = !card;
    loop {
        if card && is_punct(rest.first(), '>') {
            rest = &rest[1..];
            closed = true;
            break;
        }
        if rest.is_empty() || starts_arm(rest) {
            break;
        }
        if let Some((attr, bang, len)) = split_attr(rest) {
            let message = if !bang && !names_option(attr) {
                TASK_ATTRIBUTE
            } else {
                "options go before the first task"
            };
            errors.spanned(
                rest[..len].iter().cloned().collect::<TokenStream>(),
                message,
            );
            rest = &rest[len..];
            continue;
        }
        // One task: up to the next top-level `;`, an `except*` arm, or the card's closing `>`.
        let end = (0..rest.len())
            .find(|&i| {
                is_punct(rest.get(i), ';')
                    || starts_arm(&rest[i..])
                    || (card
                        && is_punct(rest.get(i), '>')
                        && (i + 1 == rest.len() || starts_arm(&rest[i + 1..])))
            })
            .unwrap_or(rest.len());
        let chunk = &rest[..end];
        let terminator = rest.get(end).map_or(end_span, TokenTree::span);
        if chunk.is_empty() {
            errors.at(
                terminator,
                "expected a task before this `;`: `name = future;`",
            );
        }
        let mut chunk: Vec<TokenTree> = chunk.to_vec();
        while !chunk.is_empty() {
            match parse_scoped(&chunk, terminator, parse_task) {
                Ok((task, rest)) => {
                    tasks.push(task);
                    // `a = f() b = g();`: the first task parsed; report the missing `;` and
                    // go on with the next, so that `b` is neither lost nor reported twice.
                    if let Some(next) = rest.first() {
                        errors.at(next.span(), "expected `;` after the task");
                    }
                    chunk = rest;
                }
                Err(error) => {
                    broken.extend(task_name(&chunk));
                    errors.push(error);
                    break;
                }
            }
        }
        rest = &rest[end..];
        if is_punct(rest.first(), ';') {
            rest = &rest[1..];
        }
    }
    if !closed {
        errors.at(
            open_span,
            "this `<` is never closed: the card spelling is `group! { < a = f(); b = g(); > ... }`",
        );
    }
    (tasks, broken, card, rest)
}

/// The `except*` arms, each parsed on its own, so that a bad arm does not hide the next.
fn parse_arms(tokens: &[TokenTree], card: bool, end_span: Span, errors: &mut Errors) -> Vec<Arm> {
    let mut rest = tokens;
    let mut arms = Vec::new();
    if !rest.is_empty() && !starts_arm(rest) {
        let what = if card {
            "expected `except* Type => ...` after the task list"
        } else {
            "expected `;` before the next task, or an `except* Type => ...` arm"
        };
        errors.at(rest[0].span(), what);
        let skip = (0..rest.len())
            .find(|&i| starts_arm(&rest[i..]))
            .unwrap_or(rest.len());
        rest = &rest[skip..];
    }
    while !rest.is_empty() {
        let end = (2..rest.len())
            .find(|&i| starts_arm(&rest[i..]))
            .unwrap_or(rest.len());
        let terminator = rest.get(end).map_or(end_span, TokenTree::span);
        match parse_scoped(&rest[..end], terminator, parse_arm) {
            Ok(arm) => arms.push(arm),
            Err(error) => errors.push(error),
        }
        rest = &rest[end..];
    }
    arms
}

/// Whether a macro call's path names a nested `group!` (`group!`, `taskgroup::group!`). The
/// one place that decides it, for the sibling check and the bare-spawn check alike.
pub(crate) fn is_group_macro(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| segment.ident.unraw() == "group")
}

/// Parses `tokens` with `parser` as the contents of a group spanned at `terminator`, so that
/// errors at the end of the input point at the token after it.
fn parse_scoped<T>(
    tokens: &[TokenTree],
    terminator: Span,
    parser: fn(ParseStream) -> syn::Result<T>,
) -> syn::Result<T> {
    let mut group =
        proc_macro2::Group::new(Delimiter::Parenthesis, tokens.iter().cloned().collect());
    group.set_span(terminator);
    let wrapped = TokenStream::from(TokenTree::Group(group));
    (|input: ParseStream| {
        let content;
        syn::parenthesized!(content in input);
        parser(&content)
    })
    .parse2(wrapped)
}

pub(crate) fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// `except *` at the head of `tokens`.
fn starts_arm(tokens: &[TokenTree]) -> bool {
    matches!(tokens.first(), Some(TokenTree::Ident(i)) if i == "except")
        && is_punct(tokens.get(1), '*')
}

/// `# ! [...]` or `# [...]` at the head of `tokens`: the bracket group, whether it had the `!`,
/// and how many tokens it took.
fn split_attr(tokens: &[TokenTree]) -> Option<(&proc_macro2::Group, bool, usize)> {
    if !is_punct(tokens.first(), '#') {
        return None;
    }
    let bang = is_punct(tokens.get(1), '!');
    let at = if bang { 2 } else { 1 };
    match tokens.get(at) {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => {
            Some((group, bang, at + 1))
        }
        _ => None,
    }
}

/// The name of a task that did not parse, if it got as far as `name =`.
fn task_name(chunk: &[TokenTree]) -> Option<Ident> {
    let chunk = match chunk.first() {
        Some(TokenTree::Ident(m)) if m == "mut" => &chunk[1..],
        _ => chunk,
    };
    match (chunk.first(), chunk.get(1)) {
        (Some(TokenTree::Ident(ident)), Some(TokenTree::Punct(eq)))
            if eq.as_char() == '=' && eq.spacing() == proc_macro2::Spacing::Alone =>
        {
            let name = ident.to_string();
            let keyword = syn::parse_str::<Ident>(&name).is_err();
            (!keyword && name != "_").then(|| ident.clone())
        }
        _ => None,
    }
}

fn parse_option(attr: &proc_macro2::Group, options: &mut Options, errors: &mut Errors) {
    let parsed = parse_scoped(
        &attr.stream().into_iter().collect::<Vec<_>>(),
        attr.span_close(),
        |input| {
            let key = input.call(Ident::parse_any)?;
            if !input.peek(Token![=]) {
                return Err(expected(
                    input,
                    format!("expected `=` and a value: `#![{} = ...]`", key.unraw()),
                ));
            }
            input.parse::<Token![=]>()?;
            if input.is_empty() {
                return Err(expected(input, "expected the option's value after `=`"));
            }
            let value: Expr = input.parse()?;
            if !input.is_empty() {
                return Err(expected(input, "expected `]` after the option's value"));
            }
            Ok((key, value))
        },
    );
    let (key, value) = match parsed {
        Ok(option) => option,
        Err(error) => return errors.push(error),
    };
    let key_name = key.unraw().to_string();
    let duplicate = |errors: &mut Errors| {
        errors.at(
            key.span(),
            format!("duplicate option `{key_name}`: each option is set once"),
        );
    };
    match key_name.as_str() {
        "name" => match &value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            }) => {
                if options.name.replace(name.clone()).is_some() {
                    duplicate(errors);
                }
            }
            _ => errors.spanned(&value, "expected a string literal: `#![name = \"...\"]`"),
        },
        "timeout" | "grace" => {
            if let Some(example) = bare_number(&value) {
                errors.spanned(
                    &value,
                    format!(
                        "`{key_name}` is a `std::time::Duration`, not a number: write `Duration::from_secs({example})` or `Duration::from_millis({example})`"
                    ),
                );
            }
            let slot = if key_name == "timeout" {
                &mut options.timeout
            } else {
                &mut options.grace
            };
            if slot.replace(value).is_some() {
                duplicate(errors);
            }
        }
        "cancel_on" => {
            if options.cancel_on.replace(value).is_some() {
                duplicate(errors);
            }
        }
        "limit" => {
            if let Some(n) = int_literal(&value)
                && n <= 0
            {
                errors.spanned(
                    &value,
                    "`limit` must be at least 1: a group with no slots could never start a task",
                );
            }
            if options.limit.replace(value).is_some() {
                duplicate(errors);
            }
        }
        "mode" => {
            let mode = match &value {
                Expr::Path(path) if path.path.is_ident("fail_fast") => Some(Mode::FailFast),
                Expr::Path(path) if path.path.is_ident("supervise") => Some(Mode::Supervise),
                Expr::Path(path) if path.path.is_ident("settle") => Some(Mode::Settle),
                _ => None,
            };
            match mode {
                Some(mode) => {
                    if options.mode.replace((key.clone(), mode)).is_some() {
                        duplicate(errors);
                    }
                }
                None => errors.spanned(
                    &value,
                    "unknown mode: expected `fail_fast`, `supervise` or `settle`",
                ),
            }
        }
        _ => errors.at(key.span(), unknown_option(&key_name)),
    }
}

/// The literal of `5`, `2.5` or `5u64`, for the hint of a duration written as a number.
fn bare_number(value: &Expr) -> Option<String> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => Some(n.base10_digits().to_owned()),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(n),
            ..
        }) => Some(n.base10_digits().to_owned()),
        _ => None,
    }
}

/// The value of an integer literal, with its sign.
fn int_literal(value: &Expr) -> Option<i128> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => int_literal(expr).map(|n| -n),
        Expr::Paren(paren) => int_literal(&paren.expr),
        _ => None,
    }
}

fn unknown_option(name: &str) -> String {
    let list = "`name`, `timeout`, `limit`, `grace`, `mode`, `cancel_on`";
    // The words the docs and other libraries use for an option, which no spelling distance
    // leads to.
    let synonym = match name.to_lowercase().as_str() {
        "deadline" | "timeout_ms" | "within" => Some("timeout"),
        "concurrency" | "max_concurrency" | "max_in_flight" | "parallelism" => Some("limit"),
        "grace_period" | "shutdown_grace" => Some("grace"),
        "label" => Some("name"),
        "shutdown" | "cancel" | "cancel_when" | "cancel_token" | "cancellation" | "stop_on"
        | "until" | "cancelled_by" => Some("cancel_on"),
        _ => None,
    };
    if let Some(option) = synonym {
        return format!(
            "unknown option `{name}`: did you mean `{option}`? (the options are {list})"
        );
    }
    let best = OPTIONS
        .iter()
        .min_by_key(|known| edit_distance(&name.to_lowercase(), known));
    match best {
        Some(best) if edit_distance(&name.to_lowercase(), best) <= 2 => {
            format!("unknown option `{name}`: did you mean `{best}`? (the options are {list})")
        }
        _ => format!("unknown option `{name}`: the options are {list}"),
    }
}

/// Levenshtein distance, for did-you-mean suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// `spawn` as the keyword, not the user's own `spawn(x)`, `spawn::f()`, `spawn!()`,
/// `spawn.x`, `spawn[i]`, `spawn?` or a lone variable `spawn`.
fn peek_spawn(input: ParseStream) -> Option<Span> {
    let keyword = input.peek(kw::spawn)
        && !input.peek2(syn::token::Paren)
        && !input.peek2(syn::token::Bracket)
        && !input.peek2(Token![::])
        && !input.peek2(Token![!])
        && !input.peek2(Token![.])
        && !input.peek2(Token![?])
        && !input.peek2(Token![as])
        && !input.peek2(Token![=])
        && !input.peek2(Token![;]);
    let keyword = keyword && {
        let fork = input.fork();
        fork.parse::<kw::spawn>().is_ok() && !fork.is_empty()
    };
    if !keyword {
        return None;
    }
    input.parse::<kw::spawn>().ok().map(|kw| kw.span)
}

/// An error at the next token, or at the end of the piece (the token after it) without
/// syn's "unexpected end of input" prefix, which reads oddly when the end is a `;`.
fn expected(input: ParseStream, message: impl std::fmt::Display) -> syn::Error {
    if input.is_empty() {
        syn::Error::new(input.span(), message)
    } else {
        input.error(message)
    }
}

/// One task, and the tokens after it (none, unless a `;` is missing).
fn parse_task(input: ParseStream) -> syn::Result<(Task, Vec<TokenTree>)> {
    let binding = if input.peek(Token![_]) {
        Binding::Discard(input.parse()?)
    } else {
        let mutability: Option<Token![mut]> = input.parse()?;
        if input.peek(kw::except) {
            let except: kw::except = input.parse()?;
            return Err(syn::Error::new(
                except.span,
                "expected `*` after `except`: arms are written `except* Type => ...`",
            ));
        }
        if !input.peek(Ident) {
            return Err(expected(
                input,
                "expected a task: `name = future;` or `_ = future;`",
            ));
        }
        let ident: Ident = input.parse()?;
        Binding::Named { mutability, ident }
    };
    if !input.peek(Token![=]) || input.peek(Token![==]) || input.peek(Token![=>]) {
        return Err(expected(
            input,
            match &binding {
                Binding::Named { ident, .. } => format!(
                    "expected `=` after the task name: `{} = future;`",
                    ident.unraw()
                ),
                Binding::Discard(_) => "expected `=` after `_`: `_ = future;`".to_owned(),
            },
        ));
    }
    input.parse::<Token![=]>()?;
    if input.is_empty() {
        return Err(expected(input, "expected a future after `=`"));
    }
    let (spawn, body) = if input.peek(Token![for]) {
        input.parse::<Token![for]>()?;
        let pat = Box::new(syn::Pat::parse_multi_with_leading_vert(input)?);
        if !input.peek(Token![in]) {
            return Err(expected(
                input,
                "expected `in` after the fan-out's pattern: `name = for x in items => fetch(x);`",
            ));
        }
        input.parse::<Token![in]>()?;
        let iter = Expr::parse_without_eager_brace(input)?;
        if !input.peek(Token![=>]) {
            return Err(expected(
                input,
                "expected `=>` after the fan-out's iterator: `name = for x in items => fetch(x);`",
            ));
        }
        input.parse::<Token![=>]>()?;
        if input.is_empty() {
            return Err(expected(input, "expected a future after `=>`"));
        }
        let spawn = peek_spawn(input);
        let expr: Expr = input.parse()?;
        (spawn, TaskBody::FanOut { pat, iter, expr })
    } else {
        let spawn = peek_spawn(input);
        let expr: Expr = input.parse()?;
        (spawn, TaskBody::Single(expr))
    };
    let rest: TokenStream = input.parse()?;
    let task = Task {
        binding,
        spawn,
        body,
    };
    Ok((task, rest.into_iter().collect()))
}

fn parse_arm(input: ParseStream) -> syn::Result<Arm> {
    let except: kw::except = input.parse()?;
    input.parse::<Token![*]>()?;
    let ty = if input.peek(Token![_]) {
        input.parse::<Token![_]>()?;
        None
    } else {
        if input.is_empty() || input.peek(Token![=>]) || input.peek(Token![as]) {
            return Err(expected(
                input,
                "expected an error type or `_` after `except*`",
            ));
        }
        Some(input.parse::<syn::Type>()?)
    };
    let name = if input.peek(Token![as]) {
        input.parse::<Token![as]>()?;
        if !input.peek(Ident) {
            return Err(expected(
                input,
                "expected a name for the matched errors after `as`",
            ));
        }
        Some(input.parse::<Ident>()?)
    } else {
        None
    };
    if !input.peek(Token![=>]) {
        return Err(expected(input, "expected `=>` and the arm's body"));
    }
    input.parse::<Token![=>]>()?;
    if input.is_empty() {
        return Err(expected(input, "expected the arm's body after `=>`"));
    }
    let body: Expr = input.parse()?;
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        let block = matches!(
            body,
            Expr::Block(_)
                | Expr::If(_)
                | Expr::Match(_)
                | Expr::Loop(_)
                | Expr::While(_)
                | Expr::ForLoop(_)
                | Expr::Unsafe(_)
        );
        return Err(expected(
            input,
            if block {
                "expected another `except* Type => ...` arm"
            } else {
                "expected `,` after the arm's body"
            },
        ));
    }
    Ok(Arm {
        except: except.span,
        ty,
        name,
        body,
    })
}
