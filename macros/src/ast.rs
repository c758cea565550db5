//! The typed tree of a `group!` invocation.
//!
//! ```text
//! input      := crate_path ';' group             (`crate_path` is the facade's `$crate`,
//!                                                  supplied by the `group!` shim)
//! group      := option* ( '<' tasks '>' | tasks ) arm*
//! option     := '#' '!' '[' ident '=' expr ']'   name | timeout | limit | grace | mode | cancel_on
//! tasks      := task ( ';' task )* ';'?
//! task       := binding '=' body
//! binding    := 'mut'? ident | '_'
//! body       := 'spawn'? expr
//!             | 'for' pat 'in' expr '=>' 'spawn'? expr
//! arm        := 'except' '*' ( type | '_' ) ( 'as' ident )? '=>' expr ','?
//! ```
//!
//! `spawn` is a keyword only where an expression follows it: `spawn(x)`, `spawn::f()`,
//! `spawn!()` and `spawn.x` are the user's own items.

use proc_macro2::{Span, TokenStream};
use syn::{Expr, Ident, Pat, Type};

pub(crate) struct Group {
    /// The path of the facade crate (`$crate`).
    pub(crate) krate: TokenStream,
    pub(crate) options: Options,
    pub(crate) tasks: Vec<Task>,
    /// Names of tasks that failed to parse: they still get a binding in the fallback.
    pub(crate) broken: Vec<Ident>,
    pub(crate) arms: Vec<Arm>,
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) name: Option<syn::LitStr>,
    pub(crate) timeout: Option<Expr>,
    pub(crate) limit: Option<Expr>,
    pub(crate) grace: Option<Expr>,
    /// The `mode` key (for errors that point at it) and the mode.
    pub(crate) mode: Option<(Ident, Mode)>,
    /// The future that cancels the group when it completes.
    pub(crate) cancel_on: Option<Expr>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    FailFast,
    Supervise,
    Settle,
}

pub(crate) enum Binding {
    Named {
        mutability: Option<syn::Token![mut]>,
        ident: Ident,
    },
    Discard(syn::Token![_]),
}

impl Binding {
    pub(crate) fn ident(&self) -> Option<&Ident> {
        match self {
            Binding::Named { ident, .. } => Some(ident),
            Binding::Discard(_) => None,
        }
    }
}

pub(crate) struct Task {
    pub(crate) binding: Binding,
    /// The `spawn` keyword, if the task runs on the runtime's workers.
    pub(crate) spawn: Option<Span>,
    pub(crate) body: TaskBody,
}

pub(crate) enum TaskBody {
    Single(Expr),
    FanOut {
        pat: Box<Pat>,
        iter: Expr,
        expr: Expr,
    },
}

impl Task {
    /// The future (or, for a fan-out, the future made for each item).
    pub(crate) fn expr(&self) -> &Expr {
        match &self.body {
            TaskBody::Single(expr) | TaskBody::FanOut { expr, .. } => expr,
        }
    }
}

pub(crate) struct Arm {
    /// The `except` keyword.
    pub(crate) except: Span,
    /// `None` for `except* _`.
    pub(crate) ty: Option<Type>,
    pub(crate) name: Option<Ident>,
    pub(crate) body: Expr,
}
