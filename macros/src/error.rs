//! The error accumulator: every check pushes into it, and the errors become tokens in one place
//! ([`fallback`](crate::fallback)), so a user with three mistakes sees three errors at once
//! (serde's `Ctxt` shape).

use proc_macro2::Span;
use syn::Error;

#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error at one token.
    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(Error::new(span, message));
    }

    /// An error over the tokens of `node`, from its first token to its last.
    pub(crate) fn spanned(&mut self, node: impl quote::ToTokens, message: impl std::fmt::Display) {
        self.push(Error::new_spanned(node, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_error(self) -> Option<Error> {
        self.0
    }
}
