//! Whole-input checks that parsing cannot make: every error is collected, then reported at once.

use std::collections::HashSet;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Expr};

use crate::ast::{Arm, Group, Mode, TaskBody};
use crate::parse::Errors;

pub(crate) fn validate(group: &Group, errors: &mut Errors) {
    if group.tasks.is_empty() && errors_is_quiet(errors) {
        errors.push(Error::new(
            group.span,
            "a group needs at least one task: `name = future;`",
        ));
    }

    let mut names = HashSet::new();
    for task in &group.tasks {
        if let Some(ident) = task.binding.ident()
            && !names.insert(ident.to_string())
        {
            errors.push(Error::new(
                ident.span(),
                format!("duplicate task name `{ident}`: each task binds its own result"),
            ));
        }
        let expr = match &task.body {
            TaskBody::Single { expr, .. } | TaskBody::FanOut { expr, .. } => expr,
        };
        if let Expr::Await(awaited) = expr {
            errors.push(Error::new(
                awaited.await_token.span(),
                "remove this `.await`: a task is a future that the group awaits, concurrently with its siblings",
            ));
        }
    }

    if let Some((mode, Mode::Settle)) = &group.options.mode {
        for arm in &group.arms {
            let mut error = Error::new(
                arm.except,
                "`except*` arms have nothing to match in `settle` mode: every task runs to completion and binds a `Result`",
            );
            error.combine(Error::new(mode.span(), "`settle` mode is set here"));
            errors.push(error);
        }
    }
    check_arms(&group.arms, errors);
}

fn errors_is_quiet(errors: &Errors) -> bool {
    errors.is_empty()
}

fn check_arms(arms: &[Arm], errors: &mut Errors) {
    let mut seen = HashSet::new();
    let mut catch_all = false;
    for arm in arms {
        if catch_all {
            errors.push(Error::new(
                arm.except,
                "unreachable arm: `except* _` before it already takes every remaining error",
            ));
            continue;
        }
        match &arm.ty {
            None => catch_all = true,
            Some(ty) => {
                let key = ty.to_token_stream().to_string();
                if !seen.insert(key) {
                    errors.push(Error::new(
                        ty.span(),
                        "duplicate `except*` arm: an earlier arm already takes every error of this type",
                    ));
                }
            }
        }
    }
}
