//! Code generation: the group as a thin sequence of calls into `cohort-runtime`.
//!
//! ```text
//! group! {
//!     #![timeout = d]
//!     user = fetch_user(id);
//!     _ = audit(id);
//!     pages = for url in &urls => fetch(url);
//!     except* io::Error as errs => return Err(errs.into()),
//! }
//! ```
//! becomes (paths shortened; `__p` is `$crate::__private`, `__`-names are mixed-site):
//! ```text
//! let (user, pages) = match __p::run(
//!     __p::Options::new().timeout(d),
//!     __p::cons(__p::task(TaskName::new("user"), fetch_user(id)),
//!     __p::cons(__p::task(TaskName::new("audit"), audit(id)),
//!     __p::cons(__p::fan_out("pages", &urls, |url| fetch(url)), ()))),
//! ).await {
//!     Ok((__v0, (_, (__v2, ())))) => (__v0, __v2),
//!     Err(__eg) => {
//!         let mut __rest = Some(__eg);
//!         let mut __value = None;
//!         if let Some(errs) = __p::take_matching::<io::Error>(&mut __rest) {
//!             __value = Some(return Err(errs.into()));
//!         }
//!         __p::reraise(__rest)?;          // unmatched errors propagate, structure kept
//!         match __value { Some(v) => v, None => __p::unreachable_arm() }
//!     }
//! };
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

use crate::ast::{Binding, Group, Mode, Task, TaskBody};
use crate::{parse, valid};

pub(crate) fn group(input: TokenStream) -> TokenStream {
    let (group, mut errors) = parse::parse_group(input);
    valid::validate(&group, &mut errors);
    match errors.into_error() {
        None => expand(&group),
        Some(error) => fallback(&group, &error),
    }
}

/// The errors, plus a binding for every task name so that the rest of the function does not
/// report each use of a name as missing.
fn fallback(group: &Group, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let krate = &group.krate;
    let mut seen = std::collections::HashSet::new();
    let names = group
        .tasks
        .iter()
        .filter_map(|task| task.binding.ident())
        .chain(&group.broken)
        .filter(|ident| seen.insert(ident.to_string()));
    let lets = names.map(|ident| {
        quote! {
            #[allow(unused_variables, unreachable_code)]
            let #ident = #krate::__private::placeholder();
        }
    });
    quote! { #errors #(#lets)* }
}

fn mixed(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The task's name in error reports: its binding, or for `_` the function it calls.
fn task_name(task: &Task) -> LitStr {
    let (text, span) = match &task.binding {
        Binding::Named { ident, .. } => (ident.to_string(), ident.span()),
        Binding::Discard(underscore) => {
            let expr = match &task.body {
                TaskBody::Single { expr, .. } | TaskBody::FanOut { expr, .. } => expr,
            };
            (
                callee(expr).unwrap_or_else(|| "_".to_owned()),
                underscore.span,
            )
        }
    };
    LitStr::new(&text, span)
}

fn callee(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
        Expr::MethodCall(call) => Some(call.method.to_string()),
        _ => None,
    }
}

fn branch(task: &Task, settle: bool, p: &TokenStream) -> TokenStream {
    let name = task_name(task);
    let wrap = |expr: &Expr| {
        if settle {
            quote_spanned!(expr.span()=> #p::settled(#expr))
        } else {
            quote!(#expr)
        }
    };
    match &task.body {
        TaskBody::Single { spawn, expr } => {
            let span = expr.span();
            let expr = wrap(expr);
            match spawn {
                None => quote_spanned! {span=>
                    #p::task(#p::TaskName::new(#name), #expr)
                },
                Some(_) => quote_spanned! {span=>
                    #p::spawn_task(#p::TaskName::new(#name), #expr)
                },
            }
        }
        TaskBody::FanOut {
            pat,
            iter,
            spawn,
            expr,
        } => {
            let span = expr.span();
            let expr = wrap(expr);
            let make = match spawn {
                None => quote_spanned!(span=> #p::fan_out),
                Some(_) => quote_spanned!(span=> #p::spawn_fan_out),
            };
            quote_spanned! {span=>
                #make(#name, #iter, |#pat| #expr)
            }
        }
    }
}

fn options(group: &Group, p: &TokenStream) -> TokenStream {
    let options = &group.options;
    let mut chain = quote!(#p::Options::new().at(::core::file!(), ::core::line!()));
    if let Some(name) = &options.name {
        chain = quote!(#chain.name(#name));
    }
    if let Some(timeout) = &options.timeout {
        chain = quote_spanned!(timeout.span()=> #chain.timeout(#timeout));
    }
    if let Some(limit) = &options.limit {
        chain = quote_spanned!(limit.span()=> #chain.limit(#limit));
    }
    if let Some(grace) = &options.grace {
        chain = quote_spanned!(grace.span()=> #chain.grace(#grace));
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

fn expand(group: &Group) -> TokenStream {
    let krate = &group.krate;
    let p = quote!(#krate::__private);

    let mut branches = quote!(());
    let mut pattern = quote!(());
    let mut values = Vec::new();
    let mut bindings = Vec::new();
    let settle = matches!(group.options.mode, Some((_, Mode::Settle)));
    for (index, task) in group.tasks.iter().enumerate().rev() {
        let branch = branch(task, settle, &p);
        branches = quote!(#p::cons(#branch, #branches));
        match &task.binding {
            Binding::Named { mutability, ident } => {
                let value = format_ident!("__cohort_v{}", index, span = Span::mixed_site());
                pattern = quote!((#value, #pattern));
                values.push(value);
                bindings.push(quote!(#mutability #ident));
            }
            Binding::Discard(_) => pattern = quote!((_, #pattern)),
        }
    }
    values.reverse();
    bindings.reverse();

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

    let eg = mixed("__cohort_eg");
    let rest = mixed("__cohort_rest");
    let value = mixed("__cohort_value");
    let arms = group.arms.iter().map(|arm| {
        let binding = match &arm.name {
            Some(name) => quote!(#name),
            None => quote!(_),
        };
        let body = &arm.body;
        let take = match &arm.ty {
            Some(ty) => quote_spanned!(ty.span()=> #p::take_matching::<#ty>),
            None => quote!(#p::take_rest),
        };
        quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if let ::core::option::Option::Some(#binding) = #take(&mut #rest) {
                #value = ::core::option::Option::Some(#body);
            }
        }
    });

    let opts = options(group, &p);
    quote! {
        #lhs match #p::run(#opts, #branches).await {
            ::core::result::Result::Ok(#pattern) => #flat,
            ::core::result::Result::Err(#eg) => {
                #[allow(unused_mut)]
                let mut #rest = ::core::option::Option::Some(#eg);
                #[allow(unused_mut)]
                let mut #value = ::core::option::Option::None;
                #(#arms)*
                #p::reraise(#rest)?;
                match #value {
                    ::core::option::Option::Some(#value) => #value,
                    ::core::option::Option::None => #p::unreachable_arm(),
                }
            }
        };
    }
}
