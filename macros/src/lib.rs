//! Implementation detail of the `taskgroup` crate: the `group!` and `#[structured]` macros.
//!
//! Use them through `taskgroup`, which forwards `group!` here with the path to its runtime.
//!
//! Stages (private modules): `parse` (tokens into the `ast`, one piece at a time), `valid`
//! (whole-input checks, with `escape` for bare spawns), then `expand` (with `arm` for the
//! exits of `except*` arms), or `fallback` on error; `structured` for the attribute. The
//! pipeline itself is `group` below. Every error goes into one `error::Errors` and becomes
//! tokens in one place, so one build reports them all.

mod arm;
mod ast;
mod error;
mod escape;
mod expand;
mod fallback;
mod parse;
mod structured;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// The body of `taskgroup::group!`. Not public API: call `taskgroup::group!`.
#[doc(hidden)]
#[proc_macro]
pub fn group_internal(input: TokenStream) -> TokenStream {
    group(input.into()).into()
}

/// The pipeline of `group_internal!`: parse, validate, then expand, or fall back with every
/// error at once.
fn group(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let (group, mut errors) = parse::parse_input(input);
    valid::validate(&group, &mut errors);
    match errors.into_error() {
        None => expand::expand(&group),
        Some(error) => fallback::group(&group, error),
    }
}

/// Rejects every bare spawn (`tokio::spawn`, `tokio::task::spawn_local`, `spawn_blocking`,
/// `std::thread::spawn`, ...) in an `async fn`, an `impl` block, a trait or an inline module,
/// at the call, saying what to write instead: a task of a `group!`, or a `taskgroup::scope`.
///
/// See `taskgroup::structured` for the rules and examples.
#[proc_macro_attribute]
pub fn structured(args: TokenStream, item: TokenStream) -> TokenStream {
    structured::structured(args.into(), item.into()).into()
}
