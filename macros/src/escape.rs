//! Bare spawns: calls that start a task or a thread that nothing joins, which would escape
//! structured code. Shared by `group!` (in its tasks) and `#[structured]` (in its item).
//!
//! A proc macro sees paths, not resolved items, so the check goes by how the call is written:
//!
//! | written as (any prefix)                          | kind                  |
//! | ------------------------------------------------ | --------------------- |
//! | `tokio::spawn`, `task::spawn`                    | a detached task       |
//! | `spawn_local`, `task::spawn_local`               | a detached local task |
//! | `spawn_blocking`, `task::spawn_blocking`         | detached blocking work |
//! | `thread::spawn`                                  | a detached thread     |
//! | `Handle::current().spawn(..)`, `.spawn_blocking` | a detached task       |
//! | `thread::Builder::new()...spawn(..)`             | a detached thread     |
//! | `Handle::spawn(&h, ..)`, `JoinSet::spawn(..)`    | a detached task       |
//! | `h.spawn(..)`, `h.spawn_blocking(..)`, `h.spawn_local(..)` on a local bound to a `Handle`, `Runtime`, `thread::Builder`, `JoinSet` or `LocalSet` | by what `h` is |
//! | `use tokio::spawn` (and the other `spawn`s)      | an import that would hide them |
//! | `use tokio::*`, `use tokio::task::*`, `use tokio as t`, `use std::thread as th`, `extern crate tokio as tk` | an import that would hide them |
//!
//! Scoped spawns are fine and untouched: a group's `spawn` tasks, `taskgroup::scope`'s
//! `s.spawn(..)`, `std::thread::scope`'s `s.spawn(..)`. Macro arguments are scanned token by
//! token; a nested `group!` checks its own tasks, so only its `except*` arms are scanned here.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit::{self, Visit};
use syn::{Expr, ExprMethodCall, ExprPath, Ident, Macro, Path};

use crate::error::Errors;
use crate::parse;

/// Where the spawn is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// In a task of a `group!`.
    Group,
    /// In an item marked `#[structured]`.
    Structured,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Task,
    Local,
    Blocking,
    Thread,
}

/// Reports every bare spawn in `expr`.
pub(crate) fn check_expr(expr: &Expr, context: Context, errors: &mut Errors) {
    Escapes {
        context,
        errors,
        spawners: Vec::new(),
    }
    .visit_expr(expr);
}

/// Reports every bare spawn in `item`.
pub(crate) fn check_item(item: &syn::Item, errors: &mut Errors) {
    Escapes {
        context: Context::Structured,
        errors,
        spawners: Vec::new(),
    }
    .visit_item(item);
}

struct Escapes<'a> {
    context: Context,
    errors: &'a mut Errors,
    /// Locals bound to something that spawns (`let h = Handle::current();`), with what it is.
    spawners: Vec<(String, Spawner)>,
}

/// What a local that spawns is: its `spawn` methods, and how the message names them.
#[derive(Clone, Copy)]
enum Spawner {
    /// A runtime `Handle` or `Runtime`: `spawn`, `spawn_blocking`.
    Runtime,
    /// A `thread::Builder`: `spawn`.
    ThreadBuilder,
    /// A `JoinSet`: `spawn`, `spawn_blocking`, `spawn_local`.
    JoinSet,
    /// A `LocalSet`: `spawn_local`.
    LocalSet,
}

impl Spawner {
    /// What `root` (the call at the root of a local's initializer) makes, if it spawns.
    fn of(root: &[&str]) -> Option<Spawner> {
        match root {
            [.., "Handle", "current" | "try_current"]
            | [.., "Runtime", "new"]
            | [.., "Builder", "new_multi_thread" | "new_current_thread"] => Some(Spawner::Runtime),
            [.., "thread", "Builder", "new"] => Some(Spawner::ThreadBuilder),
            [.., "JoinSet", "new"] => Some(Spawner::JoinSet),
            [.., "LocalSet", "new"] => Some(Spawner::LocalSet),
            _ => None,
        }
    }

    /// The kind of `method` called on it, and the name the message uses.
    fn method(self, method: &str) -> Option<(Kind, &'static str)> {
        match (self, method) {
            (Spawner::Runtime, "spawn") => Some((Kind::Task, "Handle::spawn")),
            (Spawner::Runtime, "spawn_blocking") => {
                Some((Kind::Blocking, "Handle::spawn_blocking"))
            }
            (Spawner::ThreadBuilder, "spawn") => Some((Kind::Thread, "thread::Builder::spawn")),
            (Spawner::JoinSet, "spawn") => Some((Kind::Task, "JoinSet::spawn")),
            (Spawner::JoinSet, "spawn_blocking") => {
                Some((Kind::Blocking, "JoinSet::spawn_blocking"))
            }
            (Spawner::JoinSet | Spawner::LocalSet, "spawn_local") => {
                Some((Kind::Local, "spawn_local"))
            }
            _ => None,
        }
    }
}

impl Escapes<'_> {
    fn report(&mut self, what: impl ToTokens, written: &str, kind: Kind) {
        let message = message(written, kind, self.context);
        self.errors.spanned(what, message);
    }

    fn report_import(&mut self, what: impl ToTokens, written: &str, kind: Kind) {
        let message = message(written, kind, self.context);
        let (_, help) = message.split_once('\n').unwrap_or((&message, ""));
        self.errors.spanned(
            what,
            format!(
                "importing `{written}` would hide bare spawns: `spawn(future)` cannot be told from your own functions, and each call would escape\n{help}"
            ),
        );
    }

    /// Macro arguments: tokens, scanned for spawn paths; a nested `group!` is parsed and its
    /// arms visited. A name after `.` is a method or a field, not a path.
    fn scan(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let TokenTree::Group(group) = &tokens[i] {
                self.scan(group.stream());
                i += 1;
                continue;
            }
            let after_dot = i > 0 && parse::is_punct(tokens.get(i - 1), '.');
            let len = if after_dot { 0 } else { path_len(&tokens[i..]) };
            if len == 0 {
                i += 1;
                continue;
            }
            let path: TokenStream = tokens[i..i + len].iter().cloned().collect();
            let Ok(parsed) = syn::parse2::<Path>(path.clone()) else {
                i += len;
                continue;
            };
            let is_group = parse::is_group_macro(&parsed);
            match (tokens.get(i + len), tokens.get(i + len + 1)) {
                (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(body)))
                    if is_group && bang.as_char() == '!' =>
                {
                    self.nested_group(body.stream());
                    i += len + 2;
                    continue;
                }
                _ => {}
            }
            if let Some(kind) = path_kind(&parsed) {
                self.report(path, &written(&parsed), kind);
            }
            i += len;
        }
    }

    /// A `group!` inside checked code: its tasks are checked by its own expansion, its arms
    /// (which run after the group, in the enclosing code) here.
    fn nested_group(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let (group, errors) = parse::parse_group(TokenStream::new(), &tokens);
        if errors.is_empty() {
            for arm in &group.arms {
                self.visit_expr(&arm.body);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Escapes<'_> {
    fn visit_expr_path(&mut self, node: &'ast ExprPath) {
        if node.qself.is_none()
            && let Some(kind) = path_kind(&node.path)
        {
            self.report(&node.path, &written(&node.path), kind);
        }
        visit::visit_expr_path(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
        let found = method_kind(node).or_else(|| self.local_spawner(node));
        if let Some((kind, written)) = found {
            let (receiver, dot, method) = (&node.receiver, &node.dot_token, &node.method);
            self.report(quote::quote!(#receiver #dot #method), &written, kind);
        }
        visit::visit_expr_method_call(self, node);
    }

    fn visit_local(&mut self, node: &'ast syn::Local) {
        // `let h = Handle::current();`: its `spawn` calls spawn.
        let pat = match &node.pat {
            syn::Pat::Type(typed) => &*typed.pat,
            pat => pat,
        };
        if let (syn::Pat::Ident(name), Some(init)) = (pat, &node.init)
            && let Some(spawner) = root_call(&init.expr).and_then(|root| {
                let root: Vec<&str> = root.iter().map(String::as_str).collect();
                Spawner::of(&root)
            })
        {
            self.spawners
                .push((name.ident.unraw().to_string(), spawner));
        }
        visit::visit_local(self, node);
    }

    fn visit_item_extern_crate(&mut self, node: &'ast syn::ItemExternCrate) {
        if let Some((_, rename)) = &node.rename
            && hides_spawns(&[node.ident.unraw().to_string()])
        {
            let written = format!("extern crate {} as {}", node.ident, rename);
            self.report_hiding(node, &written);
        }
    }

    fn visit_macro(&mut self, node: &'ast Macro) {
        if parse::is_group_macro(&node.path) {
            self.nested_group(node.tokens.clone());
        } else {
            self.scan(node.tokens.clone());
        }
    }

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.visit_use(&node.tree, &mut prefix, node.leading_colon.is_some());
    }

    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        // A nested `#[structured]` item is checked by its own attribute.
        if !is_structured(&node.attrs) {
            visit::visit_item_fn(self, node);
        }
    }

    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        if !is_structured(&node.attrs) {
            visit::visit_impl_item_fn(self, node);
        }
    }

    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        if !is_structured(&node.attrs) {
            visit::visit_trait_item_fn(self, node);
        }
    }

    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if !is_structured(&node.attrs) {
            visit::visit_item_impl(self, node);
        }
    }

    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if !is_structured(&node.attrs) {
            visit::visit_item_mod(self, node);
        }
    }

    fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
        if !is_structured(&node.attrs) {
            visit::visit_item_trait(self, node);
        }
    }
}

impl Escapes<'_> {
    /// `h.spawn(..)` on a local that spawns.
    fn local_spawner(&self, call: &ExprMethodCall) -> Option<(Kind, String)> {
        let Expr::Path(receiver) = &*call.receiver else {
            return None;
        };
        let name = receiver.path.get_ident()?.unraw().to_string();
        let (_, spawner) = self
            .spawners
            .iter()
            .rev()
            .find(|(local, _)| *local == name)?;
        let (kind, written) = spawner.method(&call.method.unraw().to_string())?;
        Some((kind, written.to_owned()))
    }

    /// A glob import or a rename of a crate or module that spawns: its spawns would be
    /// written in a way this check cannot tell.
    fn report_hiding(&mut self, what: impl ToTokens, written: &str) {
        self.errors.spanned(
            what,
            format!(
                "`{written}` would hide bare spawns from this check: `spawn(future)` or `alias::spawn(future)` cannot be told from your own functions\nhelp: import the items you use by name (`use tokio::time::sleep;`), and write spawns with their path"
            ),
        );
    }

    /// `use` trees: an import of a `spawn` function would hide its calls (`spawn(fut)` cannot be
    /// told from a group's own `spawn` keyword or the user's functions).
    fn visit_use(&mut self, tree: &syn::UseTree, prefix: &mut Vec<Ident>, leading: bool) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.clone());
                self.visit_use(&path.tree, prefix, leading);
                prefix.pop();
            }
            syn::UseTree::Name(syn::UseName { ident })
            | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                if ident == "spawn" {
                    let mut segments: Vec<String> =
                        prefix.iter().map(|s| s.unraw().to_string()).collect();
                    segments.push(ident.to_string());
                    if let Some(kind) = kind_of(&segments) {
                        let written =
                            format!("{}{}", if leading { "::" } else { "" }, segments.join("::"));
                        self.report_import(quote::quote!(#(#prefix)::* :: #tree), &written, kind);
                    }
                }
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.visit_use(tree, prefix, leading);
                }
            }
            syn::UseTree::Glob(glob) => {
                let segments: Vec<String> = prefix.iter().map(|s| s.unraw().to_string()).collect();
                if hides_spawns(&segments) {
                    let written = format!("use {}::*", segments.join("::"));
                    self.report_hiding(quote::quote!(#(#prefix)::* :: #glob), &written);
                }
            }
        }
        if let syn::UseTree::Rename(rename) = tree {
            let mut segments: Vec<String> = prefix.iter().map(|s| s.unraw().to_string()).collect();
            segments.push(rename.ident.unraw().to_string());
            if hides_spawns(&segments) {
                let written = format!("use {} as {}", segments.join("::"), rename.rename);
                self.report_hiding(quote::quote!(#(#prefix)::* :: #tree), &written);
            }
        }
    }
}

/// Whether a glob import or a rename of the path `segments` would hide spawns: `tokio`,
/// `tokio::task`, `tokio::runtime`, `std::thread`.
fn hides_spawns(segments: &[String]) -> bool {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        segments.as_slice(),
        ["tokio"] | ["tokio", "task" | "runtime"] | ["std" | "core", "thread"] | ["thread"]
    )
}

/// The path of the call at the root of a receiver chain: `Handle::current()` in
/// `Handle::current().clone()`, `thread::Builder::new()` in `thread::Builder::new().name(..)`.
fn root_call(expr: &Expr) -> Option<Vec<String>> {
    let mut expr = expr;
    loop {
        expr = match expr {
            Expr::MethodCall(inner) => &inner.receiver,
            Expr::Try(inner) => &inner.expr,
            Expr::Paren(inner) => &inner.expr,
            Expr::Group(inner) => &inner.expr,
            Expr::Await(inner) => &inner.base,
            Expr::Reference(inner) => &inner.expr,
            _ => break,
        };
    }
    let Expr::Call(call) = expr else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    Some(segments(&path.path))
}

fn is_structured(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "structured")
    })
}

/// The length of the path (`a::b::c`, `::a::b`) at the head of `tokens`, 0 if none. Generic
/// arguments end it: `tokio::spawn::<F>` is read as `tokio::spawn`.
fn path_len(tokens: &[TokenTree]) -> usize {
    let colons =
        |i: usize| parse::is_punct(tokens.get(i), ':') && parse::is_punct(tokens.get(i + 1), ':');
    let mut i = if colons(0) { 2 } else { 0 };
    let mut end = 0;
    while let Some(TokenTree::Ident(_)) = tokens.get(i) {
        i += 1;
        end = i;
        if !colons(i) {
            break;
        }
        i += 2;
    }
    end
}

/// A path's segment names, raw identifiers unprefixed.
pub(crate) fn segments(path: &Path) -> Vec<String> {
    path.segments
        .iter()
        .map(|s| s.ident.unraw().to_string())
        .collect()
}

/// The path as written, without generic arguments.
fn written(path: &Path) -> String {
    let prefix = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{prefix}{}", segments(path).join("::"))
}

fn path_kind(path: &Path) -> Option<Kind> {
    kind_of(&segments(path))
}

fn kind_of(segments: &[String]) -> Option<Kind> {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        [.., "tokio" | "task", "spawn"] => Some(Kind::Task),
        // Fully qualified: `Handle::spawn(&h, ..)`, `JoinSet::spawn(&mut set, ..)`.
        [.., "Handle" | "Runtime" | "JoinSet", "spawn"] => Some(Kind::Task),
        [.., "spawn_local"] => Some(Kind::Local),
        [.., "spawn_blocking"] => Some(Kind::Blocking),
        [.., "thread", "spawn"] | [.., "Builder", "spawn"] => Some(Kind::Thread),
        _ => None,
    }
}

/// `Handle::current().spawn(..)`, `thread::Builder::new().name(..).spawn(..)` and the like:
/// the method, and the root of its receiver chain.
fn method_kind(call: &ExprMethodCall) -> Option<(Kind, String)> {
    let method = call.method.unraw().to_string();
    let segments = root_call(&call.receiver)?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (segments.as_slice(), method.as_str()) {
        ([.., "Handle", "current" | "try_current"], "spawn") => {
            Some((Kind::Task, "Handle::spawn".to_owned()))
        }
        ([.., "Handle", "current" | "try_current"], "spawn_blocking") => {
            Some((Kind::Blocking, "Handle::spawn_blocking".to_owned()))
        }
        ([.., "thread", "Builder", "new"], "spawn") => {
            Some((Kind::Thread, "thread::Builder::spawn".to_owned()))
        }
        _ => None,
    }
}

fn message(written: &str, kind: Kind, context: Context) -> String {
    let problem = match (kind, context) {
        (Kind::Thread, Context::Group) => {
            "would start a thread that escapes its group: the group could not wait for it or see its panic"
        }
        (Kind::Thread, Context::Structured) => {
            "would start a thread that escapes this `#[structured]` code: nothing would wait for it or see its panic"
        }
        (Kind::Blocking, Context::Group) => {
            "would run blocking work that escapes its group: the group could not wait for it or see its panic"
        }
        (Kind::Blocking, Context::Structured) => {
            "would run blocking work that escapes this `#[structured]` code: nothing would wait for it or see its panic"
        }
        (_, Context::Group) => {
            "would spawn a task that escapes its group: the group could not wait for it, cancel it or see its error"
        }
        (_, Context::Structured) => {
            "would spawn a task that escapes this `#[structured]` code: nothing would wait for it, cancel it or see its error"
        }
    };
    let fix = match (kind, context) {
        (Kind::Task, Context::Group) => {
            "make it a task of the group, `name = spawn future;`, or spawn it into a `taskgroup::scope` with `s.spawn_parallel(future)`"
        }
        (Kind::Task, Context::Structured) => {
            "run it in a group, `group! { name = spawn future; }`, or spawn it into a `taskgroup::scope` with `s.spawn_parallel(future)`"
        }
        (Kind::Local, Context::Group) => {
            "make it an in-place task of the group, `name = future;`, which runs on this thread and need not be `Send`"
        }
        (Kind::Local, Context::Structured) => {
            "run it in place in a group, `group! { name = future; }`, or with `s.spawn(future)` in a `taskgroup::scope`: it stays on this thread and need not be `Send`"
        }
        (Kind::Blocking, Context::Group) => {
            "do the work in a `spawn` task of the group, on a scoped thread that the task joins: `std::thread::scope(|t| t.spawn(|| work()).join())`, which works on every runtime (`tokio::task::block_in_place` only on the multi-thread one)"
        }
        (Kind::Blocking, Context::Structured) => {
            "do the work in a `spawn` task of a group, on a scoped thread that the task joins: `std::thread::scope(|t| t.spawn(|| work()).join())`, which works on every runtime (`tokio::task::block_in_place` only on the multi-thread one)"
        }
        (Kind::Thread, _) => {
            "use `std::thread::scope`, which joins its threads before it returns, or a `spawn` task of a group"
        }
    };
    format!("`{written}` {problem}\nhelp: {fix}")
}
