//! Whole-input checks that parsing cannot make. Every error is collected, then reported at once.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit::{self, Visit};
use syn::{Expr, Ident};

use crate::ast::{Arm, Group, Mode, Task, TaskBody};
use crate::error::Errors;
use crate::escape::{self, Context};
use crate::parse;

pub(crate) fn validate(group: &Group, errors: &mut Errors) {
    if group.tasks.is_empty() && group.broken.is_empty() && errors.is_empty() {
        match group.arms.first() {
            Some(arm) => errors.at(
                arm.except,
                "a group needs at least one task before its `except*` arms: `name = future;`",
            ),
            None => errors.at(
                proc_macro2::Span::call_site(),
                "a group needs at least one task: `group! { name = future; }`",
            ),
        }
    }

    let mut names = HashMap::new();
    for task in &group.tasks {
        if let Some(ident) = task.binding.ident() {
            let name = ident.unraw().to_string();
            match names.entry(name) {
                std::collections::hash_map::Entry::Occupied(first) => errors.at(
                    ident.span(),
                    format!(
                        "duplicate task name `{}`: an earlier task of this group is already bound to it",
                        first.key()
                    ),
                ),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(ident);
                }
            }
        }
    }

    for task in &group.tasks {
        check_await(task.expr(), errors);
        escape::check_expr(task.expr(), Context::Group, errors);
        check_siblings(task, &names, errors);
    }

    if let Some((mode, Mode::Settle)) = &group.options.mode {
        for arm in &group.arms {
            errors.at(
                arm.except,
                format!(
                    "`except*` arms cannot be used in `{mode} = settle`: every task runs to completion and binds its own `Result`, so no task's error is raised (only a deadline is, and it propagates with `?`); match on the bindings after the group instead"
                ),
            );
        }
    }
    check_arms(&group.arms, errors);
}

/// `name = fetch().await;`: the group awaits its tasks, concurrently. Also through the
/// invisible group a `macro_rules!` `$task:expr` wraps around the expression.
fn check_await(expr: &Expr, errors: &mut Errors) {
    let (awaited, question) = match peel(expr) {
        Expr::Await(awaited) => (awaited, None),
        Expr::Try(tried) => match peel(&tried.expr) {
            Expr::Await(awaited) => (awaited, Some(tried.question_token)),
            _ => return,
        },
        _ => return,
    };
    let dot = awaited.dot_token;
    let keyword = awaited.await_token;
    let what = match question {
        Some(question) => quote::quote!(#dot #keyword #question),
        None => quote::quote!(#dot #keyword),
    };
    let written = if question.is_some() {
        ".await?"
    } else {
        ".await"
    };
    errors.spanned(
        what,
        format!(
            "remove this `{written}`: a task is a future that the group awaits, concurrently with its siblings"
        ),
    );
}

/// `expr` without the invisible groups around it (a `macro_rules!` fragment's).
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => peel(&group.expr),
        _ => expr,
    }
}

/// A task that names a sibling's binding: the binding does not exist until the whole group has
/// finished, so the name is either an error or an outer variable that the binding will shadow.
/// The macro cannot tell which (it cannot see the enclosing scope), and both are confusing, so
/// it is rejected; the message says how to rename. A task may use its own name (`id =
/// parse(id)` reads the outer `id`), and names bound inside the task (closure parameters,
/// `let`, patterns, the fan-out's pattern) shadow siblings as usual.
fn check_siblings(task: &Task, names: &HashMap<String, &Ident>, errors: &mut Errors) {
    let own = task.binding.ident().map(|ident| ident.unraw().to_string());
    let siblings: HashMap<&str, &Ident> = names
        .iter()
        .filter(|(name, _)| Some(*name) != own.as_ref())
        .map(|(name, ident)| (name.as_str(), *ident))
        .collect();
    if siblings.is_empty() {
        return;
    }
    let mut locals = Locals::default();
    if let TaskBody::FanOut { pat, .. } = &task.body {
        locals.visit_pat(pat);
    }
    locals.visit_expr(task.expr());
    let outside = HashSet::new();
    let mut uses = Uses {
        siblings: &siblings,
        locals: &locals.0,
        found: Vec::new(),
    };
    uses.visit_expr(task.expr());
    if let TaskBody::FanOut { iter, .. } = &task.body {
        // The iterator is evaluated when the group starts, outside the fan-out's pattern.
        uses.locals = &outside;
        uses.visit_expr(iter);
    }
    let mut reported = HashSet::new();
    for used in uses.found {
        let name = used.unraw().to_string();
        if reported.insert(name.clone()) {
            errors.at(
                used.span(),
                format!(
                    "`{name}` is the result of the sibling task `{name}`, which is bound only after the whole group has finished: tasks run concurrently and cannot use each other's results\nhelp: to use the result, chain both steps in one task (`async {{ let {name} = ...await?; ... }}`) or run a second group after this one; if `{name}` means a variable from outside the group, rename the task"
                ),
            );
        }
    }
}

/// Every name a pattern binds inside a task.
#[derive(Default)]
struct Locals(HashSet<String>);

impl<'ast> Visit<'ast> for Locals {
    fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
        self.0.insert(node.ident.unraw().to_string());
        visit::visit_pat_ident(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        // A nested group's bindings are locals of the task after that group.
        if let Some(group) = nested_group(node) {
            for task in &group.tasks {
                if let Some(ident) = task.binding.ident() {
                    self.0.insert(ident.unraw().to_string());
                }
            }
        }
        for expr in macro_exprs(node) {
            self.visit_expr(&expr);
        }
    }
}

/// The group inside a `group!` call, if it parses as one.
fn nested_group(mac: &syn::Macro) -> Option<crate::ast::Group> {
    if !parse::is_group_macro(&mac.path) {
        return None;
    }
    let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
    Some(parse::parse_group(proc_macro2::TokenStream::new(), &tokens).0)
}

/// Uses of a sibling's name as a value.
struct Uses<'a> {
    siblings: &'a HashMap<&'a str, &'a Ident>,
    locals: &'a HashSet<String>,
    found: Vec<Ident>,
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        if node.qself.is_none()
            && let Some(ident) = node.path.get_ident()
        {
            let name = ident.unraw().to_string();
            if self.siblings.contains_key(name.as_str()) && !self.locals.contains(&name) {
                self.found.push(ident.clone());
            }
        }
        visit::visit_expr_path(self, node);
    }

    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        // `fetch(x)` calls a function `fetch`, even if a sibling is named `fetch`.
        if !matches!(&*node.func, Expr::Path(path) if path.path.get_ident().is_some()) {
            self.visit_expr(&node.func);
        }
        for arg in &node.args {
            self.visit_expr(arg);
        }
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        for expr in macro_exprs(node) {
            // `println!("{a}")` reads `a` as an inline format argument.
            if let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(format),
                ..
            }) = &expr
            {
                for name in inline_arguments(&format.value()) {
                    if self.siblings.contains_key(name.as_str()) && !self.locals.contains(&name) {
                        self.found.push(Ident::new(&name, format.span()));
                    }
                }
            }
            self.visit_expr(&expr);
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {
        // Items do not capture locals.
    }
}

/// The names a format string reads as inline arguments: `a` in `"{a}"`, `"{a:?}"` or
/// `"{a:>width$}"` (and `width`), not `{{`, positions or empty braces.
pub(crate) fn inline_arguments(format: &str) -> Vec<String> {
    let is_name = |text: &str| {
        text.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && text.chars().all(|c| c.is_alphanumeric() || c == '_')
            && text != "_"
    };
    let mut names = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let Some(close) = rest.find('}') else {
            break;
        };
        let inside = &rest[..close];
        rest = &rest[close + 1..];
        let (argument, spec) = inside.split_once(':').unwrap_or((inside, ""));
        let argument = argument.trim();
        if is_name(argument) {
            names.push(argument.to_owned());
        }
        // `{:width$}` and `{:.precision$}` name arguments too.
        for part in spec.split('$').take(spec.matches('$').count()) {
            let name: String = part
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if is_name(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The expressions inside a macro call, when they can be told: the tasks and arms of a nested
/// `group!`, or comma-separated expressions (`vec![..]`, `format!(..)`, `assert_eq!(..)`).
fn macro_exprs(mac: &syn::Macro) -> Vec<Expr> {
    if let Some(group) = nested_group(mac) {
        let mut exprs = Vec::new();
        for task in group.tasks {
            match task.body {
                TaskBody::Single(expr) => exprs.push(expr),
                TaskBody::FanOut { iter, expr, .. } => exprs.extend([iter, expr]),
            }
        }
        exprs.extend(group.arms.into_iter().map(|arm| arm.body));
        return exprs;
    }
    mac.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .map(|exprs| exprs.into_iter().collect())
        .unwrap_or_default()
}

fn check_arms(arms: &[Arm], errors: &mut Errors) {
    let mut seen = HashSet::new();
    let mut catch_all = None;
    for arm in arms {
        if catch_all.is_some() {
            errors.at(
                arm.except,
                "unreachable arm: the `except* _` before it already takes every remaining error",
            );
            continue;
        }
        match &arm.ty {
            None => catch_all = Some(arm.except),
            Some(ty) => {
                let key = ty.to_token_stream().to_string();
                if !seen.insert(key) {
                    errors.spanned(
                        ty,
                        format!(
                            "duplicate `except* {}` arm: an earlier arm already takes every error of this type",
                            type_string(ty)
                        ),
                    );
                }
            }
        }
    }
}

/// A type as the user would write it: `std::io::Error`, not `std :: io :: Error`.
pub(crate) fn type_string(ty: &syn::Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
}
