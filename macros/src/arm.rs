//! The exits of an `except*` arm: every way out of the arm that the macro can see hands on the
//! errors no arm has handled yet (`rest`), so that no path through the arms loses one.
//!
//! | written in the arm            | becomes                                                    |
//! | ----------------------------- | ---------------------------------------------------------- |
//! | `return Ok(value)`            | `return ArmOk::arm_ok(Ok(value), rest.take())`             |
//! | `return value`                | `return ArmReturn::arm_return(value, rest.take(), "except* T")` |
//! | `expr?`                       | `match expr { Ok(v) => v, Err(e) => return ArmReturn::arm_return(Err(From::from(e)), ..) }` |
//! | `break`, `continue`, `return;` | `{ if let Some(r) = ArmLeave::arm_leave(&mut rest) { return r; } break }` |
//!
//! A `break` or `continue` that stays inside the arm (in a loop of the arm, or to a label of
//! the arm) is not an exit; nor is anything inside a closure, an `async` block or an item of
//! the arm, which leaves only them. A `return` inside another macro's arguments cannot be
//! seen: the runtime's `Unhandled` reports the errors if they are dropped that way.

use proc_macro2::{Group as TokenGroup, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Item, Label, LitStr};

use crate::escape::segments;
use crate::expand::mixed;

/// Rewrites the exits of `body`, the body of the arm `arm` (`except* T`, as written).
pub(crate) fn hand_on(body: &mut Expr, rest: &Ident, p: &TokenStream, arm: &str) {
    Exits {
        rest,
        p,
        arm: LitStr::new(arm, Span::call_site()),
        loops: 0,
        labels: Vec::new(),
    }
    .visit_expr_mut(body);
}

struct Exits<'a> {
    rest: &'a Ident,
    p: &'a TokenStream,
    arm: LitStr,
    /// How many loops of the arm enclose the current expression.
    loops: usize,
    /// The labels of the arm that enclose the current expression.
    labels: Vec<String>,
}

impl Exits<'_> {
    /// Whether a `break` or `continue` with `label` leaves the arm.
    fn leaves(&self, label: Option<&syn::Lifetime>) -> bool {
        match label {
            None => self.loops == 0,
            Some(label) => !self.labels.contains(&label.ident.to_string()),
        }
    }

    /// Visits a loop or a labeled block of the arm: `looping` for a loop, which an unlabeled
    /// `break` leaves; a labeled block only adds its label.
    fn enter(&mut self, label: Option<&Label>, looping: bool, visit: impl FnOnce(&mut Self)) {
        let labels = self.labels.len();
        if let Some(label) = label {
            self.labels.push(label.name.ident.to_string());
        }
        self.loops += usize::from(looping);
        visit(self);
        self.loops -= usize::from(looping);
        self.labels.truncate(labels);
    }

    /// `{ if let Some(r) = ArmLeave::arm_leave(&mut rest) { return r; } exit }`, the path
    /// spanned at the exit, where an unfit return type is reported.
    fn leave(&self, exit: &Expr) -> Expr {
        let rest = self.rest;
        let span = exit.span();
        let p = respan(self.p, span);
        let r = mixed("__taskgroup_leave");
        Expr::Verbatim(quote_spanned! {span=>
            {
                if let ::core::option::Option::Some(#r) = #p::ArmLeave::arm_leave(&mut #rest) {
                    return #r;
                }
                #exit
            }
        })
    }

    /// `return ArmOk::arm_ok(Ok(..), rest.take())`, the path spanned at the value.
    fn arm_ok(&self, span: Span, value: &Expr) -> Expr {
        let rest = self.rest;
        let p = respan(self.p, value.span());
        Expr::Verbatim(quote_spanned! {span=>
            return #p::ArmOk::arm_ok(#value, #rest.take())
        })
    }

    /// `return ArmReturn::arm_return(value, rest.take(), "except* T")`, spanned at `span`
    /// (the `return` or the `?`), where an unfit return type is reported.
    fn arm_return(&self, span: Span, value: TokenStream) -> Expr {
        let (rest, p, arm) = (self.rest, self.p, &self.arm);
        Expr::Verbatim(quote_spanned! {span=>
            return #p::ArmReturn::arm_return(#value, #rest.take(), #arm)
        })
    }
}

/// `tokens` located at `span`, each resolved as before (`$crate` stays the crate).
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = TokenGroup::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(group.span().located_at(span));
                token = TokenTree::Group(inner);
            } else {
                token.set_span(token.span().located_at(span));
            }
            token
        })
        .collect()
}

/// Whether `value` is written `Ok(..)` (or `Result::Ok(..)`), whose return needs only
/// `From<ErrorGroup>` of the function's error type.
fn is_ok(value: &Expr) -> bool {
    constructor(value) == Some("Ok")
}

/// Whether `value` is a call of `Ok(..)` or `Err(..)` (in any of their spellings).
pub(crate) fn is_result(value: &Expr) -> bool {
    constructor(value).is_some()
}

fn constructor(value: &Expr) -> Option<&'static str> {
    let Expr::Call(call) = value else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments = segments(&path.path);
    let (last, prefix) = segments.split_last()?;
    let variant = match last.as_str() {
        "Ok" => "Ok",
        "Err" => "Err",
        _ => return None,
    };
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    matches!(
        prefix[..],
        [] | ["Result"] | ["result", "Result"] | [_, "result", "Result"]
    )
    .then_some(variant)
}

impl VisitMut for Exits<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // They leave only themselves.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Loop(node) => {
                let label = node.label.clone();
                self.enter(label.as_ref(), true, |this| {
                    visit_mut::visit_expr_loop_mut(this, node);
                });
            }
            Expr::While(node) => {
                let label = node.label.clone();
                self.enter(label.as_ref(), true, |this| {
                    visit_mut::visit_expr_while_mut(this, node);
                });
            }
            Expr::ForLoop(node) => {
                let label = node.label.clone();
                self.enter(label.as_ref(), true, |this| {
                    visit_mut::visit_expr_for_loop_mut(this, node);
                });
            }
            Expr::Block(node) if node.label.is_some() => {
                let label = node.label.clone();
                self.enter(label.as_ref(), false, |this| {
                    visit_mut::visit_expr_block_mut(this, node);
                });
            }
            Expr::Return(node) => {
                if let Some(value) = &mut node.expr {
                    self.visit_expr_mut(value);
                }
                let span = node.return_token.span;
                *expr = match node.expr.take() {
                    Some(value) if is_ok(&value) => self.arm_ok(span, &value),
                    Some(value) => self.arm_return(span, value.into_token_stream()),
                    None => self.leave(&Expr::Verbatim(quote_spanned!(span=> return))),
                };
            }
            Expr::Try(node) => {
                self.visit_expr_mut(&mut node.expr);
                let span = node.question_token.span;
                let inner = &node.expr;
                let ok = mixed("__taskgroup_ok");
                let err = mixed("__taskgroup_err");
                let exit = self.arm_return(
                    span,
                    quote_spanned!(span=>
                        ::core::result::Result::Err(::core::convert::From::from(#err))
                    ),
                );
                *expr = Expr::Verbatim(quote_spanned! {span=>
                    match #inner {
                        ::core::result::Result::Ok(#ok) => #ok,
                        ::core::result::Result::Err(#err) => #exit,
                    }
                });
            }
            Expr::Break(node) => {
                if let Some(value) = &mut node.expr {
                    self.visit_expr_mut(value);
                }
                if self.leaves(node.label.as_ref()) {
                    let exit = expr.clone();
                    *expr = self.leave(&exit);
                }
            }
            Expr::Continue(node) => {
                if self.leaves(node.label.as_ref()) {
                    let exit = expr.clone();
                    *expr = self.leave(&exit);
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    // A nested `fn` (or any item) leaves only itself.
    fn visit_item_mut(&mut self, _: &mut Item) {}
}
