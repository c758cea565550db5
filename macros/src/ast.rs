//! The typed tree of a `group!` invocation.
//!
//! ```text
//! group      := crate_path ';' option* ( '<' task* '>' | task* ) arm*
//! option     := '#' '!' '[' ident '=' value ']'
//! task       := binding '=' body ';'            (the last `;` may be left out)
//! binding    := 'mut'? ident | '_'
//! body       := 'spawn'? expr
//!             | 'for' pat 'in' expr '=>' 'spawn'? expr
//! arm        := 'except' '*' ( type | '_' ) ( 'as' ident )? '=>' expr ','?
//! ```
//!
//! `crate_path` is `$crate` of the facade, supplied by the `group!` shim.

use proc_macro2::{Span, TokenStream};
use syn::{Expr, Ident, Pat, Type};

pub(crate) struct Group {
    /// The path of the facade crate (`$crate`).
    pub(crate) krate: TokenStream,
    pub(crate) options: Options,
    pub(crate) tasks: Vec<Task>,
    /// Names of tasks that failed to parse.
    pub(crate) broken: Vec<Ident>,
    pub(crate) arms: Vec<Arm>,
    /// Where the task list ends, for errors about the whole group.
    pub(crate) span: Span,
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) name: Option<syn::LitStr>,
    pub(crate) timeout: Option<Expr>,
    pub(crate) limit: Option<Expr>,
    pub(crate) grace: Option<Expr>,
    pub(crate) mode: Option<(Ident, Mode)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
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
    pub(crate) body: TaskBody,
}

pub(crate) enum TaskBody {
    Single {
        spawn: Option<Span>,
        expr: Expr,
    },
    FanOut {
        pat: Box<Pat>,
        iter: Expr,
        spawn: Option<Span>,
        expr: Expr,
    },
}

pub(crate) struct Arm {
    pub(crate) except: Span,
    /// `None` for `except* _`.
    pub(crate) ty: Option<Type>,
    pub(crate) name: Option<Ident>,
    pub(crate) body: Expr,
}
