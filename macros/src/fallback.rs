//! Output on error: the errors, and a binding for every task name.
//!
//! The first error is emitted as the tail of a block, `let __failed = { compile_error!{..} };`,
//! which gives `__failed` the compiler's error type, and every task name is bound to it. Uses
//! of an error-typed local are never reported, so the rest of the function stays quiet: no
//! "cannot find value `user`", no "type annotations needed" on `user.name`, only the errors
//! that matter.
//!
//! The output stays valid Rust once the `compile_error!` calls expand to nothing, as
//! rust-analyzer expands them: a braced macro call in statement position, where an
//! expression-position call would leave `let __failed = ;` and a second, spurious "Syntax
//! Error in Expansion: expected expression" beside the real error.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Binding, Group};
use crate::expand::mixed;

pub(crate) fn group(group: &Group, error: syn::Error) -> TokenStream {
    let mut errors = error.into_iter().map(|error| error.to_compile_error());
    let Some(first) = errors.next() else {
        return TokenStream::new();
    };
    let mut seen = HashSet::new();
    let mut lets = Vec::new();
    let failed = mixed("__taskgroup_failed");
    let named = group.tasks.iter().filter_map(|task| match &task.binding {
        Binding::Named { mutability, ident } => Some((mutability.as_ref(), ident)),
        Binding::Discard(_) => None,
    });
    for (mutability, ident) in named.chain(group.broken.iter().map(|ident| (None, ident))) {
        if seen.insert(ident.to_string()) {
            lets.push(quote! {
                #[allow(unused_variables, unused_mut)]
                let #mutability #ident = #failed;
            });
        }
    }
    if lets.is_empty() {
        return quote!(#first #(#errors)*);
    }
    quote! {
        #[allow(unused_variables)]
        let #failed = { #first };
        #(#errors)*
        #(#lets)*
    }
}
