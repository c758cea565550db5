//! Code generation: the group as a thin sequence of calls into `taskgroup-runtime`.
//!
//! ```text
//! group! {
//!     #![timeout = d]
//!     user = fetch_user(id);
//!     _ = audit(id);
//!     pages = for url in &urls => fetch(url);
//!     stats = spawn crunch(data);
//!     except* io::Error as errs => return Err(errs.into()),
//! }
//! ```
//! becomes (`$crate::__private` is `__p` at the macro's span and `__taskgroup_p` at the tasks';
//! `__`-names are `mixed_site`, so the user's code cannot see them, nor they the user's):
//! ```text
//! let (user, pages, stats) = {
//!     let __result = match {
//!         let __fut = {
//!             use $crate::__private as __taskgroup_p;
//!             __taskgroup_p::run(
//!                 __taskgroup_p::Options::new()
//!                     .at(file!(), line!())
//!                     .timeout(__taskgroup_p::TimeoutValue::into_duration(d)),
//!                 __taskgroup_p::cons(__taskgroup_p::checked_task("user", fetch_user(id)),
//!                 __taskgroup_p::cons(__taskgroup_p::checked_task("audit", audit(id)),
//!                 __taskgroup_p::cons(__taskgroup_p::checked_fan_out("pages", &urls, |url| fetch(url)),
//!                 __taskgroup_p::cons(__taskgroup_p::checked_spawn_task(TaskName::new("stats"),
//!                     crunch(data)),
//!                 ())))),
//!             )
//!         };
//!         __fut.await
//!     } {
//!         Ok((__v0, (_, (__v2, (__v3, ()))))) => Ok((__v0, __v2, __v3)),
//!         Err(__eg) => Err(__eg),
//!     };
//!     let mut __value = __p::value_slot(&__result); // Option<(User, Vec<Page>, Stats)>
//!     match __result {
//!         Ok(__v) => __v,
//!         Err(__eg) => {
//!             let mut __rest = Some(__eg);
//!             if let Some(errs) = <io::Error as __p::ExceptType>::take_matching(&mut __rest) {
//!                 __value = Some { 0: return Err(errs.into()) };
//!             }
//!             if let Some(__eg) = __rest {                // left out after `except* _`
//!                 return __p::Propagate::propagate(__eg); // `?`: Err(From::from(remainder))
//!             }
//!             match __value { Some(__v) => __v, None => __p::unreachable_arm() }
//!         }
//!     }
//! };
//! ```
//! Without arms it is `let (..) = match .. { Ok(..) => .., Err(__eg) => return propagate };`.
//! A group without `#![timeout]` calls `run_untimed` where this one calls `run`: the same
//! driver, with a short path for the polls where nothing happened that it must react to. A
//! group of in-place tasks (no fan-out, no `spawn`) without a deadline, a limit, a grace
//! period, `cancel_on` or settle mode calls `run_fixed(&OPTIONS, cons(checked_plain_task("a",
//! a()), ..))`, where `OPTIONS` is a constant `FixedOptions::at(file!(), line!())` with the name
//! and the mode: it keeps nothing but its tasks until something happens that it must react
//! to, and makes its options then. (A constant rather than a closure: groups of the same
//! tasks then share one type, compiled once.)
//!
//! Spans, which decide where rustc reports a bound that does not hold:
//! - Each task's call (`checked_task`, `checked_spawn_fan_out`, ...) is spanned from the first to the last
//!   token of the task's expression: its path carries the first span, its argument list the
//!   last. The calls go through `__taskgroup_p` rather than `$crate`, whose span belongs to the
//!   shim: a call whose first token came from the shim would be reported at the whole macro.
//! - Option values are checked the same way (`__taskgroup_p::TimeoutValue::into_duration(d)`),
//!   at the value.
//! - An arm's body is assigned to a slot typed after the group's value, so an arm that yields
//!   the wrong thing is a type mismatch at the arm, "expected `(User, Vec<Page>)`". It is
//!   written `Some { 0: body }`, not `Some(body)`, so that rustc reports the body alone and
//!   not "arguments to this enum variant are incorrect" with a note inside `core`. A body
//!   that is an `Ok(..)` or `Err(..)` goes through `ArmYields::arm_yields(&slot, body)`,
//!   which says at the arm that it lacks a `return` (unless the values are that `Result`).
//! - Only the propagation of the remainder is at the macro's span: it has no tokens of its own.

use std::collections::HashSet;

use proc_macro2::{Delimiter, Group as TokenGroup, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

use crate::arm;
use crate::ast::{Binding, Group, Mode, Task, TaskBody};
use crate::valid::type_string;

pub(crate) fn mixed(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The first and last spans of a node's tokens.
fn span_range(node: &impl ToTokens) -> (Span, Span) {
    let mut tokens = node.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| match t {
        TokenTree::Group(group) => group.span_close(),
        other => other.span(),
    });
    (first, last)
}

/// `alias::func(args)`, spanned over `node`: the path carries the node's first span, the
/// argument list its last, so that the call covers exactly the node.
fn call_over(node: &impl ToTokens, func: &str, args: TokenStream) -> TokenStream {
    let (first, last) = span_range(node);
    let alias = Ident::new(ALIAS, first);
    let func = func.split("::").map(|segment| Ident::new(segment, first));
    let mut args = TokenGroup::new(Delimiter::Parenthesis, args);
    args.set_span(last);
    quote_spanned!(first=> #alias #(::#func)* #args)
}

/// The tasks' names in error reports: a task's binding, or for `_` the function it calls.
/// Names are distinct: a `_` task whose name another task has already is `name#2`,
/// `name#3`, ... in declaration order (`_ = f(); _ = f();` are `f` and `f#2`).
fn task_names(tasks: &[Task]) -> Vec<LitStr> {
    let mut taken: HashSet<String> = tasks
        .iter()
        .filter_map(|task| match &task.binding {
            Binding::Named { ident, .. } => Some(ident.unraw().to_string()),
            Binding::Discard(_) => None,
        })
        .collect();
    tasks
        .iter()
        .map(|task| match &task.binding {
            Binding::Named { ident, .. } => LitStr::new(&ident.unraw().to_string(), ident.span()),
            Binding::Discard(underscore) => {
                let base = callee(task.expr()).unwrap_or_else(|| "_".to_owned());
                let mut name = base.clone();
                let mut n = 1;
                while !taken.insert(name.clone()) {
                    n += 1;
                    name = format!("{base}#{n}");
                }
                LitStr::new(&name, underscore.span)
            }
        })
        .collect()
}

fn callee(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(path) => path
                .path
                .segments
                .last()
                .map(|s| s.ident.unraw().to_string()),
            _ => None,
        },
        Expr::MethodCall(call) => Some(call.method.unraw().to_string()),
        _ => None,
    }
}

/// One task's branch: `checked_[settled_][spawn_]task(name, expr)`, or for a fan-out
/// `checked_[settled_][spawn_]fan_out(name, iter, |pat| expr)`. The helper checks the task
/// (a future with a `Result` output; `Send + 'static` for `spawn`) and is spanned over the
/// expression, so that a bound that fails is reported there, once.
fn branch(task: &Task, name: &LitStr, settle: bool, plain: bool, p: &Ident) -> TokenStream {
    let expr = task.expr();
    let first = span_range(expr).0;
    let settled = if settle { "settled_" } else { "" };
    let spawn = if task.spawn.is_some() { "spawn_" } else { "" };
    match &task.body {
        TaskBody::Single(expr) => {
            // An in-place task takes its name as it is; a spawned one carries a `TaskName`.
            let name = match task.spawn {
                Some(_) => quote!(#p::TaskName::new(#name)),
                None => quote!(#name),
            };
            // In a group without a limit or a deadline, an in-place task keeps no start time
            // and takes no slot.
            let func = if plain && !settle && task.spawn.is_none() {
                "checked_plain_task".to_owned()
            } else {
                format!("checked_{settled}{spawn}task")
            };
            call_over(expr, &func, quote!(#name, #expr))
        }
        TaskBody::FanOut { pat, iter, expr } => call_over(
            expr,
            &format!("checked_{settled}{spawn}fan_out"),
            quote_spanned!(first=> #name, #iter, |#pat| #expr),
        ),
    }
}

fn options(group: &Group, p: &Ident) -> TokenStream {
    let options = &group.options;
    // Where the group is written, for its `tracing` spans.
    let mut chain = quote!(#p::Options::new().at(::core::file!(), ::core::line!()));
    if let Some(name) = &options.name {
        chain = quote!(#chain.name(#name));
    }
    for (key, check, value) in [
        ("timeout", "TimeoutValue::into_duration", &options.timeout),
        ("limit", "LimitValue::into_limit", &options.limit),
        ("grace", "GraceValue::into_duration", &options.grace),
    ] {
        if let Some(value) = value {
            let check = call_over(value, check, value.to_token_stream());
            let key = Ident::new(key, Span::call_site());
            chain = quote!(#chain.#key(#check));
        }
    }
    if let Some((_, mode)) = &options.mode {
        let mode = match mode {
            Mode::FailFast => quote!(#p::Mode::FailFast),
            Mode::Supervise => quote!(#p::Mode::Supervise),
            // Settled tasks never fail: fail-fast only reacts to the deadline.
            Mode::Settle => quote!(#p::Mode::FailFast),
        };
        chain = quote!(#chain.mode(#mode));
    }
    chain
}

/// The name of `$crate::__private` inside the block that builds the group's future. The
/// calls there start with it rather than with `$crate`, whose span belongs to the shim: a call
/// whose first token came from the shim would be reported at the whole macro.
const ALIAS: &str = "__taskgroup_p";

/// The branches as a balanced tree of `cons` (each task a `cons(branch, ())` leaf), with the
/// pattern of the same shape that binds their values: the tasks are polled in declaration
/// order (depth first, head before tail), and the type's depth grows with the logarithm of
/// the number of tasks, so that a group of hundreds of tasks stays within the trait solver's
/// recursion limit when its `Send`-ness is asked.
fn balanced(alias: &Ident, leaves: &[(TokenStream, TokenStream)]) -> (TokenStream, TokenStream) {
    match leaves {
        [] => (quote!(()), quote!(())),
        [(branch, pattern)] => (quote!(#alias::cons(#branch, ())), quote!((#pattern, ()))),
        _ => {
            let (left, right) = leaves.split_at(leaves.len() / 2);
            let (left_branches, left_pattern) = balanced(alias, left);
            let (right_branches, right_pattern) = balanced(alias, right);
            (
                quote!(#alias::cons(#left_branches, #right_branches)),
                quote!((#left_pattern, #right_pattern)),
            )
        }
    }
}

pub(crate) fn expand(group: &Group) -> TokenStream {
    let krate = &group.krate;
    let p = quote!(#krate::__private);
    let alias = Ident::new(ALIAS, Span::call_site());

    let mut branches = quote!(());
    let mut pattern = quote!(());
    let mut values = Vec::new();
    let mut bindings = Vec::new();
    let settle = matches!(group.options.mode, Some((_, Mode::Settle)));
    let names = task_names(&group.tasks);
    // Each task's branch, with the pattern that binds its value.
    let mut leaves = Vec::new();
    let plain = group.options.limit.is_none() && group.options.timeout.is_none();
    for (index, task) in group.tasks.iter().enumerate() {
        let branch = branch(task, &names[index], settle, plain, &alias);
        match &task.binding {
            Binding::Named { mutability, ident } => {
                let value = format_ident!("__taskgroup_v{}", index, span = Span::mixed_site());
                leaves.push((branch, quote!(#value)));
                values.push(value);
                bindings.push(quote!(#mutability #ident));
            }
            Binding::Discard(_) => leaves.push((branch, quote!(_))),
        }
    }
    if !leaves.is_empty() {
        (branches, pattern) = balanced(&alias, &leaves);
    }

    let flat = match values.as_slice() {
        [] => quote!(()),
        [one] => quote!(#one),
        many => quote!((#(#many),*)),
    };
    let lhs = match bindings.as_slice() {
        [] => quote!(),
        [one] => quote!(let #one =),
        many => quote!(let (#(#many),*) =),
    };

    let ok = quote!(::core::result::Result::Ok);
    let err = quote!(::core::result::Result::Err);
    let some = quote!(::core::option::Option::Some);
    let none = quote!(::core::option::Option::None);
    let eg = mixed("__taskgroup_eg");
    let v = mixed("__taskgroup_v");
    let opts = options(group, &alias);
    if let Some(trigger) = &group.options.cancel_on {
        // The trigger is checked to be a future at its value, as the other options are.
        let trigger = call_over(
            trigger,
            "CancelOnValue::into_trigger",
            trigger.to_token_stream(),
        );
        branches = quote!(#alias::cancel_on(#trigger, #branches));
    }
    let fut = mixed("__taskgroup_fut");
    // A fixed group of in-place tasks, without the options that change how they run, keeps
    // nothing but its tasks until something happens (`Fixed`): its options are made then,
    // from a constant. Another group without a deadline has a short path for its plain polls
    // (`Untimed`); the deadline is armed at the first poll, which that path skips.
    let fixed = plain
        && !settle
        && group.options.grace.is_none()
        && group.options.cancel_on.is_none()
        && group
            .tasks
            .iter()
            .all(|task| task.spawn.is_none() && matches!(task.body, TaskBody::Single(_)));
    let start = if fixed {
        // A constant, so that groups of the same tasks share one type.
        let mut fixed_opts = quote!(#alias::FixedOptions::at(::core::file!(), ::core::line!()));
        if let Some(name) = &group.options.name {
            fixed_opts = quote!(#fixed_opts.name(#name));
        }
        if let Some((_, Mode::Supervise)) = &group.options.mode {
            fixed_opts = quote!(#fixed_opts.mode(#alias::Mode::Supervise));
        }
        let constant = mixed("__TASKGROUP_OPTIONS");
        quote! {{
            const #constant: #alias::FixedOptions = #fixed_opts;
            #alias::run_fixed(&#constant, #branches)
        }}
    } else if group.options.timeout.is_none() {
        quote!(#alias::run_untimed(#opts, #branches))
    } else {
        quote!(#alias::run(#opts, #branches))
    };
    let run = quote! {{
        // The fan-out closures carry the user's spans (so that errors point at the task);
        // `|x| fetch(x)` is the user's `for x in xs => fetch(x)`, not a redundant closure.
        #[allow(clippy::redundant_closure, clippy::redundant_closure_for_method_calls)]
        let #fut = {
            use #p as #alias;
            #start
        };
        #fut.await
    }};
    // `?` on the group: errors no arm took leave the function as `Err(From::from(remainder))`.
    let propagate = quote!(return #p::Propagate::propagate(#eg));

    if group.arms.is_empty() {
        let failed = match (settle, &group.options.timeout) {
            // Every task's result is bound: without a deadline nothing is raised with `?`.
            (true, None) => quote!(#p::unraised(#eg).await),
            (true, Some(_)) => quote!(return #p::SettlePropagate::propagate(#eg)),
            (false, _) => propagate,
        };
        return quote! {
            #lhs match #run {
                #ok(#pattern) => #flat,
                #err(#eg) => #failed,
            };
        };
    }

    let result = mixed("__taskgroup_result");
    let rest = mixed("__taskgroup_rest");
    let value = mixed("__taskgroup_value");
    let arms = group.arms.iter().map(|arm| {
        let binding = match &arm.name {
            Some(name) => quote!(#name),
            None => quote!(_),
        };
        let mut body = arm.body.clone();
        // `=> Err(e)` is almost always a missing `return`: said so at the arm, unless the
        // group's values are themselves that `Result`.
        let yields = arm::is_result(&arm.body);
        let take = match &arm.ty {
            Some(ty) => {
                // Its exits hand on what it leaves unhandled; `except* _` leaves nothing.
                let name = format!("except* {}", type_string(ty));
                arm::hand_on(&mut body, &rest, &p, &name);
                quote!(<#ty as #p::ExceptType>::take_matching(&mut #rest))
            }
            None => quote!(#p::take_rest(&mut #rest)),
        };
        let body = if yields {
            let span = body.span();
            let alias = Ident::new(ALIAS, span);
            quote_spanned!(span=> {
                use #p as #alias;
                #alias::ArmYields::arm_yields(&#value, #body)
            })
        } else {
            body.into_token_stream()
        };
        quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if let #some(#binding) = #take {
                #value = #some { 0: #body };
            }
        }
    });
    let catch_all = group.arms.iter().any(|arm| arm.ty.is_none());
    let remainder = (!catch_all).then(|| {
        quote! {
            if let #some(#eg) = #rest.take() {
                #propagate;
            }
        }
    });

    quote! {
        #lhs {
            let #result = match #run {
                #ok(#pattern) => #ok(#flat),
                #err(#eg) => #err(#eg),
            };
            #[allow(unused_mut, unused_assignments)]
            let mut #value = #p::value_slot(&#result);
            match #result {
                #ok(#v) => #v,
                #err(#eg) => {
                    #[allow(unused_mut)]
                    let mut #rest = #p::Unhandled::new(#eg);
                    #(#arms)*
                    #remainder
                    match #value {
                        #some(#v) => #v,
                        #none => #p::unreachable_arm(),
                    }
                }
            }
        };
    }
}
