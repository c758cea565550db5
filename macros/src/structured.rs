//! `#[structured]`: rejects every bare spawn in an `async fn`, an `impl` block, a trait or an
//! inline module, at the call, with the fix in the message. The item itself is emitted as it
//! was written: the attribute only checks.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

use crate::error::Errors;
use crate::escape;

pub(crate) fn structured(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(&args, "`#[structured]` takes no arguments");
    }
    // Input that is not an item is left to rustc, whose syntax errors are better than ours.
    if let Ok(item) = syn::parse2::<syn::Item>(input.clone()) {
        check(&item, &mut errors);
    }
    // The item as it was written, followed by the errors.
    let errors = errors.into_error().map(|error| error.to_compile_error());
    quote!(#input #errors)
}

fn check(item: &syn::Item, errors: &mut Errors) {
    match item {
        syn::Item::Fn(function) => {
            if function.sig.asyncness.is_none() {
                errors.at(
                    function.sig.fn_token.span,
                    "`#[structured]` applies to an `async fn`: it checks that no task spawned in it outlives it\nhelp: make the function `async`; if another attribute such as `#[tokio::main]` made it synchronous, put `#[structured]` above that attribute",
                );
            }
        }
        syn::Item::Mod(module) if module.content.is_none() => {
            errors.at(
                module
                    .semi
                    .map_or_else(|| module.ident.span(), |semi| semi.span),
                "`#[structured]` needs the module's items inline: `#[structured] mod name { ... }`",
            );
            return;
        }
        syn::Item::Impl(_) | syn::Item::Mod(_) | syn::Item::Trait(_) => {}
        other => {
            errors.at(
                first_span(other),
                "`#[structured]` applies to an `async fn`, an `impl` block, a trait or an inline module",
            );
            return;
        }
    }
    escape::check_item(item, errors);
}

/// The item's keyword, past its attributes and visibility.
fn first_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Struct(item) => item.struct_token.span,
        syn::Item::Enum(item) => item.enum_token.span,
        syn::Item::Union(item) => item.union_token.span,
        syn::Item::Const(item) => item.const_token.span,
        syn::Item::Static(item) => item.static_token.span,
        syn::Item::Type(item) => item.type_token.span,
        syn::Item::Use(item) => item.use_token.span,
        syn::Item::ExternCrate(item) => item.extern_token.span,
        syn::Item::ForeignMod(item) => item.abi.extern_token.span,
        syn::Item::Macro(item) => item.mac.path.span(),
        other => other.span(),
    }
}
