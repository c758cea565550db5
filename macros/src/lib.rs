//! Implementation detail of the `cohort` crate: the `group!` and `#[structured]` macros.
//!
//! Use them through `cohort`, which forwards `group!` here with the path to its runtime.

mod ast;
mod expand;
mod parse;
mod valid;

use proc_macro::TokenStream;

/// The body of `cohort::group!`. Not public API: call `cohort::group!`.
#[doc(hidden)]
#[proc_macro]
pub fn group_internal(input: TokenStream) -> TokenStream {
    expand::group(input.into()).into()
}
