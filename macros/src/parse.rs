//! Parsing: tokens into the [`ast`](crate::ast) tree.
//!
//! The task list is cut at its top-level `;` first and each task is parsed on its own, so a
//! group with three malformed tasks reports three errors in one build.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, Ident, Token};

use crate::ast::{Arm, Binding, Group, Mode, Options, Task, TaskBody};

mod kw {
    syn::custom_keyword!(except);
    syn::custom_keyword!(spawn);
}

/// Collects errors so that every problem is reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_error(self) -> Option<Error> {
        self.0
    }
}

const OPTIONS: [&str; 5] = ["name", "timeout", "limit", "grace", "mode"];

/// Parses the whole input. Returns the group (with every part that parsed) and the errors.
pub(crate) fn parse_group(input: TokenStream) -> (Group, Errors) {
    let mut errors = Errors::default();
    let mut tokens = input.into_iter().peekable();

    // `$crate ;` from the shim.
    let mut krate = TokenStream::new();
    for tree in tokens.by_ref() {
        if matches!(&tree, TokenTree::Punct(p) if p.as_char() == ';') {
            break;
        }
        krate.extend([tree]);
    }
    let rest: Vec<TokenTree> = tokens.collect();
    let end_span = rest.last().map_or_else(Span::call_site, TokenTree::span);

    // Options: leading inner attributes.
    let mut index = 0;
    let mut attr_tokens = TokenStream::new();
    while index + 2 < rest.len() + 1 && is_punct(rest.get(index), '#') {
        let bang = is_punct(rest.get(index + 1), '!');
        let bracket = if bang { index + 2 } else { index + 1 };
        match rest.get(bracket) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                if !bang {
                    errors.push(Error::new(
                        rest[index].span(),
                        "group options are inner attributes: write `#![...]`",
                    ));
                    attr_tokens.extend([TokenTree::Punct(proc_macro2::Punct::new(
                        '#',
                        Spacing::Alone,
                    ))]);
                    attr_tokens.extend([TokenTree::Punct(proc_macro2::Punct::new(
                        '!',
                        Spacing::Alone,
                    ))]);
                    attr_tokens.extend([rest[bracket].clone()]);
                } else {
                    attr_tokens.extend(rest[index..=bracket].iter().cloned());
                }
                index = bracket + 1;
            }
            _ => break,
        }
    }
    let options = match Attribute::parse_inner.parse2(attr_tokens) {
        Ok(attrs) => parse_options(&attrs, &mut errors),
        Err(error) => {
            errors.push(error);
            Options::default()
        }
    };

    // The task list, in the card's `< ... >` spelling or bare.
    let mut rest = &rest[index..];
    let card = is_punct(rest.first(), '<');
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
        // One task: up to the next top-level `;`, or to an `except*` arm.
        let mut end = 0;
        while end < rest.len() && !is_punct(rest.get(end), ';') && !starts_arm(&rest[end..]) {
            if card && is_punct(rest.get(end), '>') && end > 0 && is_punct(rest.get(end - 1), ';') {
                break;
            }
            end += 1;
        }
        let chunk: TokenStream = rest[..end].iter().cloned().collect();
        match parse_task.parse2(chunk) {
            Ok(task) => tasks.push(task),
            Err(error) => {
                // Keep the name so the rest of the function does not drown in
                // "cannot find value" errors.
                if let (Some(TokenTree::Ident(ident)), true) =
                    (rest.first(), is_punct(rest.get(1), '='))
                {
                    broken.push(ident.clone());
                }
                errors.push(error);
            }
        }
        rest = &rest[end..];
        if is_punct(rest.first(), ';') {
            rest = &rest[1..];
        } else if card && !starts_arm(rest) && !rest.is_empty() {
            continue;
        }
    }
    if !closed {
        errors.push(Error::new(
            end_span,
            "unclosed task list: the card spelling is `< a = f(); b = g(); >`",
        ));
    }

    // The `except*` arms.
    let arms_tokens: TokenStream = rest.iter().cloned().collect();
    let arms = match parse_arms.parse2(arms_tokens) {
        Ok(arms) => arms,
        Err(error) => {
            errors.push(error);
            Vec::new()
        }
    };

    let group = Group {
        krate,
        options,
        tasks,
        broken,
        arms,
        span: end_span,
    };
    (group, errors)
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// `except *` at the head of `tokens`.
fn starts_arm(tokens: &[TokenTree]) -> bool {
    matches!(tokens.first(), Some(TokenTree::Ident(i)) if i == "except")
        && is_punct(tokens.get(1), '*')
}

fn parse_options(attrs: &[Attribute], errors: &mut Errors) -> Options {
    let mut options = Options::default();
    for attr in attrs {
        let syn::Meta::NameValue(meta) = &attr.meta else {
            errors.push(Error::new_spanned(
                &attr.meta,
                "expected an option of the form `#![name = value]`",
            ));
            continue;
        };
        let Some(key) = meta.path.get_ident() else {
            errors.push(Error::new_spanned(
                &meta.path,
                unknown_option(&meta.path.to_token_string()),
            ));
            continue;
        };
        let key_name = key.to_string();
        let duplicate = || Error::new(key.span(), format!("duplicate option `{key_name}`"));
        let value = &meta.value;
        match key_name.as_str() {
            "name" => match value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(name),
                    ..
                }) => {
                    if options.name.replace(name.clone()).is_some() {
                        errors.push(duplicate());
                    }
                }
                _ => errors.push(Error::new_spanned(
                    value,
                    "expected a string literal: `#![name = \"...\"]`",
                )),
            },
            "timeout" => {
                if options.timeout.replace(value.clone()).is_some() {
                    errors.push(duplicate());
                }
            }
            "grace" => {
                if options.grace.replace(value.clone()).is_some() {
                    errors.push(duplicate());
                }
            }
            "limit" => {
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = value
                    && n.base10_parse::<u64>().is_ok_and(|n| n == 0)
                {
                    errors.push(Error::new_spanned(
                        value,
                        "`limit` must be at least 1: a group with no slots could never start a task",
                    ));
                }
                if options.limit.replace(value.clone()).is_some() {
                    errors.push(duplicate());
                }
            }
            "mode" => {
                let mode = match value {
                    Expr::Path(path) if path.path.is_ident("fail_fast") => Some(Mode::FailFast),
                    Expr::Path(path) if path.path.is_ident("supervise") => Some(Mode::Supervise),
                    Expr::Path(path) if path.path.is_ident("settle") => Some(Mode::Settle),
                    _ => None,
                };
                match mode {
                    Some(mode) => {
                        if options.mode.replace((key.clone(), mode)).is_some() {
                            errors.push(duplicate());
                        }
                    }
                    None => errors.push(Error::new_spanned(
                        value,
                        "expected a mode: `fail_fast`, `settle` or `supervise`",
                    )),
                }
            }
            _ => errors.push(Error::new(key.span(), unknown_option(&key_name))),
        }
    }
    options
}

trait ToTokenString {
    fn to_token_string(&self) -> String;
}

impl<T: quote::ToTokens> ToTokenString for T {
    fn to_token_string(&self) -> String {
        self.to_token_stream().to_string().replace(' ', "")
    }
}

fn unknown_option(name: &str) -> String {
    let list = "`name`, `timeout`, `limit`, `grace`, `mode`";
    match OPTIONS
        .iter()
        .min_by_key(|known| edit_distance(name, known))
    {
        Some(best) if edit_distance(name, best) <= 2 => {
            format!("unknown option `{name}`; did you mean `{best}`? (options: {list})")
        }
        _ => format!("unknown option `{name}`; expected one of {list}"),
    }
}

/// Levenshtein distance, for did-you-mean suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
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

/// `spawn` as a keyword, not a call of a function named `spawn`.
fn peek_spawn(input: ParseStream) -> Option<Span> {
    let keyword = input.peek(kw::spawn)
        && !input.peek2(syn::token::Paren)
        && !input.peek2(Token![::])
        && !input.peek2(Token![!])
        && !input.peek2(Token![.])
        && !input.peek2(Token![;]);
    if !keyword {
        return None;
    }
    input.parse::<kw::spawn>().ok().map(|kw| kw.span)
}

fn parse_task(input: ParseStream) -> syn::Result<Task> {
    let binding = if input.peek(Token![_]) {
        Binding::Discard(input.parse()?)
    } else {
        let mutability: Option<Token![mut]> = input.parse()?;
        let lookahead = input.lookahead1();
        if !lookahead.peek(Ident) {
            return Err(input.error("expected a task: `name = future;` or `_ = future;`"));
        }
        let ident: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if ident == "except" {
            return Err(Error::new(
                ident.span(),
                "expected `*` after `except`: arms are written `except* Type => ...`",
            ));
        }
        Binding::Named { mutability, ident }
    };
    if !input.peek(Token![=]) || input.peek(Token![==]) || input.peek(Token![=>]) {
        return Err(input.error(match &binding {
            Binding::Named { ident, .. } => format!("expected `=` after the task name `{ident}`"),
            Binding::Discard(_) => "expected `=` after `_`".to_owned(),
        }));
    }
    input.parse::<Token![=]>()?;
    if input.is_empty() {
        return Err(input.error("expected a future after `=`"));
    }
    let body = if input.peek(Token![for]) {
        input.parse::<Token![for]>()?;
        let pat = Box::new(syn::Pat::parse_single(input)?);
        input.parse::<Token![in]>()?;
        let iter = Expr::parse_without_eager_brace(input)?;
        if !input.peek(Token![=>]) {
            return Err(input.error(
                "expected `=>` after the fan-out's iterator: `name = for x in items => fetch(x);`",
            ));
        }
        input.parse::<Token![=>]>()?;
        let spawn = peek_spawn(input);
        let expr: Expr = input.parse()?;
        TaskBody::FanOut {
            pat,
            iter,
            spawn,
            expr,
        }
    } else {
        let spawn = peek_spawn(input);
        if spawn.is_some() && input.is_empty() {
            return Err(input.error("expected a future after `spawn`"));
        }
        let expr: Expr = input.parse()?;
        TaskBody::Single { spawn, expr }
    };
    if !input.is_empty() {
        return Err(input.error("expected `;` after the task"));
    }
    Ok(Task { binding, body })
}

fn parse_arms(input: ParseStream) -> syn::Result<Vec<Arm>> {
    let mut arms = Vec::new();
    while !input.is_empty() {
        let lookahead = input.lookahead1();
        if !lookahead.peek(kw::except) {
            if arms.is_empty() {
                return Err(input
                    .error("expected `;` before the next task, or an `except* Type => ...` arm"));
            }
            return Err(input.error("expected an `except* Type => ...` arm"));
        }
        let except: kw::except = input.parse()?;
        if !input.peek(Token![*]) {
            return Err(
                input.error("expected `*` after `except`: arms are written `except* Type => ...`")
            );
        }
        input.parse::<Token![*]>()?;
        let ty = if input.peek(Token![_]) {
            input.parse::<Token![_]>()?;
            None
        } else {
            let ty: syn::Type = input.parse().map_err(|e| {
                Error::new(e.span(), "expected an error type or `_` after `except*`")
            })?;
            Some(ty)
        };
        let name = if input.peek(Token![as]) {
            input.parse::<Token![as]>()?;
            Some(input.parse::<Ident>()?)
        } else {
            None
        };
        if !input.peek(Token![=>]) {
            return Err(input.error("expected `=>` and the arm's body"));
        }
        input.parse::<Token![=>]>()?;
        let body: Expr = input.parse()?;
        let block = matches!(
            body,
            Expr::Block(_) | Expr::If(_) | Expr::Match(_) | Expr::Loop(_)
        );
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !input.is_empty() && !block {
            return Err(input.error("expected `,` after the arm's body"));
        }
        arms.push(Arm {
            except: except.span(),
            ty,
            name,
            body,
        });
    }
    Ok(arms)
}
