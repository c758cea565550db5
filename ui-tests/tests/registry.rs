//! The published crates' manifests keep the crate registry's rules, which `cargo package`
//! does not check: at most 5 keywords of at most 20 characters, categories from the
//! registry's list, and a description, license, repository and README that ship.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The registry's category slugs that fit this project (<https://crates.io/category_slugs>).
/// A crate may name only these; add another after checking it on that page.
const CATEGORIES: &[&str] = &[
    "asynchronous",
    "concurrency",
    "development-tools",
    "development-tools::procedural-macro-helpers",
    "development-tools::testing",
    "network-programming",
    "rust-patterns",
    "web-programming",
];

/// The workspace's packages, as `cargo metadata` reads them.
fn packages() -> Vec<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("a package list")
        .clone()
}

/// A package is published unless its manifest says `publish = false` (an empty list).
fn published(package: &Value) -> bool {
    !package["publish"].as_array().is_some_and(Vec::is_empty)
}

/// Every rule one package breaks.
fn violations(package: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let strings = |key: &str| -> Vec<String> {
        package[key]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let keywords = strings("keywords");
    if keywords.len() > 5 {
        found.push(format!(
            "{} keywords, at most 5 are allowed",
            keywords.len()
        ));
    }
    for keyword in &keywords {
        let valid_chars = keyword
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+'));
        let starts_alphanumeric = keyword
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if keyword.len() > 20 || !valid_chars || !starts_alphanumeric {
            found.push(format!(
                "keyword `{keyword}`: at most 20 ASCII letters, digits, `-`, `_` or `+`, starting with a letter or digit"
            ));
        }
    }
    let categories = strings("categories");
    if categories.len() > 5 {
        found.push(format!(
            "{} categories, at most 5 are allowed",
            categories.len()
        ));
    }
    for category in &categories {
        if !CATEGORIES.contains(&category.as_str()) {
            found.push(format!(
                "category `{category}` is not one of {CATEGORIES:?}"
            ));
        }
    }
    for key in ["description", "license", "repository", "readme"] {
        if package[key].as_str().is_none_or(str::is_empty) {
            found.push(format!("no `{key}`"));
        }
    }
    let manifest = Path::new(package["manifest_path"].as_str().expect("a manifest path"));
    let dir = manifest.parent().expect("the manifest's folder");
    let readme = package["readme"].as_str().unwrap_or("README.md");
    for file in [readme, "LICENSE-MIT", "LICENSE-APACHE"] {
        if !dir.join(file).is_file() {
            found.push(format!(
                "`{file}` is not in the package's folder, so it does not ship"
            ));
        }
    }
    found
}

#[test]
fn published_crates_keep_the_registrys_rules() {
    let packages = packages();
    let published: Vec<&Value> = packages.iter().filter(|p| published(p)).collect();
    let names: Vec<&str> = published
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "the facade, the macros and the runtime are published, and nothing else: {names:?}"
    );
    let broken: Vec<String> = published
        .iter()
        .flat_map(|package| {
            let name = package["name"].as_str().unwrap_or("?").to_owned();
            violations(package)
                .into_iter()
                .map(move |v| format!("{name}: {v}"))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "the registry would refuse these:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_keyword_longer_than_twenty_characters_is_caught() {
    let package = serde_json::json!({
        "name": "example",
        "keywords": ["structured-concurrency"],
        "categories": ["asynchronous"],
        "description": "d",
        "license": "MIT",
        "repository": "r",
        "readme": "README.md",
        "manifest_path": concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"),
    });
    let found = violations(&package);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("structured-concurrency"), "{found:?}");
}
