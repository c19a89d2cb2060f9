//! Why this exists: a Rust release must build with `--locked` at the released version, so the
//! version goes into `[package]` or `[workspace.package]`, into internal path dependencies, and
//! into Cargo.lock's entries for the workspace's own crates. toml_edit keeps comments and layout.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Value};

use crate::error::{Error, Result};
use crate::prepare::{FileEdit, member_dirs, read, retarget};

const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

fn parse(path: &Path, text: &str) -> Result<DocumentMut> {
    text.parse::<DocumentMut>()
        .map_err(|e| Error::input("[version] files", format!("{} is not valid TOML: {e}", path.display())))
}

fn string_array(doc: &DocumentMut, table: &str, key: &str) -> Vec<String> {
    doc.get(table)
        .and_then(|t| t.get(key))
        .and_then(Item::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Replaces a string value, keeping the whitespace and comments around it.
fn set_keeping_decor(item: &mut Item, text: &str) {
    let mut value = Value::from(text);
    if let Some(old) = item.as_value() {
        *value.decor_mut() = old.decor().clone();
    }
    *item = Item::Value(value);
}

/// Edits for `relative` (a Cargo.toml), its workspace members and the Cargo.lock beside it.
pub fn edits(workspace: &Path, relative: &Path, version: &str) -> Result<Vec<FileEdit>> {
    let dir = relative.parent().unwrap_or(Path::new(""));
    let root_text = read(&workspace.join(relative))?;
    let root = parse(relative, &root_text)?;
    let members = member_dirs(
        &workspace.join(dir),
        &string_array(&root, "workspace", "members"),
        &string_array(&root, "workspace", "exclude"),
        "Cargo.toml",
    )?;
    let mut manifests: Vec<(PathBuf, DocumentMut)> = vec![(relative.to_path_buf(), root)];
    for member in members {
        let path = dir.join(member).join("Cargo.toml");
        if path == relative {
            continue;
        }
        let text = read(&workspace.join(&path))?;
        let doc = parse(&path, &text)?;
        manifests.push((path, doc));
    }
    let names: BTreeSet<String> = manifests
        .iter()
        .filter_map(|(_, d)| d.get("package")?.get("name")?.as_str().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for (path, mut doc) in manifests {
        let mut what = Vec::new();
        if let Some(Item::Value(Value::String(_))) = doc.get("package").and_then(|p| p.get("version")) {
            set_keeping_decor(&mut doc["package"]["version"], version);
            what.push(format!("package.version → {version}"));
        }
        if let Some(Item::Value(Value::String(_))) = doc
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
        {
            set_keeping_decor(&mut doc["workspace"]["package"]["version"], version);
            what.push(format!("workspace.package.version → {version}"));
        }
        let mut tables: Vec<&mut Item> = Vec::new();
        let root_table = doc.as_table_mut();
        for (key, item) in root_table.iter_mut() {
            match key.get() {
                "workspace" => {
                    if let Some(deps) = item.get_mut("dependencies") {
                        tables.push(deps);
                    }
                }
                "target" => {
                    if let Some(targets) = item.as_table_like_mut() {
                        for (_, target) in targets.iter_mut() {
                            if let Some(target) = target.as_table_like_mut() {
                                for (name, deps) in target.iter_mut() {
                                    if DEPENDENCY_TABLES.contains(&name.get()) {
                                        tables.push(deps);
                                    }
                                }
                            }
                        }
                    }
                }
                name if DEPENDENCY_TABLES.contains(&name) => tables.push(item),
                _ => {}
            }
        }
        for deps in tables {
            let Some(deps) = deps.as_table_like_mut() else { continue };
            for (name, dep) in deps.iter_mut() {
                let Some(dep) = dep.as_table_like_mut() else { continue };
                let crate_name = dep
                    .get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(name.get())
                    .to_string();
                if !names.contains(&crate_name) || dep.get("path").is_none() {
                    continue;
                }
                let Some(old) = dep.get("version").and_then(|v| v.as_str()).map(str::to_string) else {
                    continue;
                };
                if let (Some(new), Some(item)) = (retarget(&old, version), dep.get_mut("version")) {
                    set_keeping_decor(item, &new);
                    what.push(format!("{} → {new}", name.get()));
                }
            }
        }
        if !what.is_empty() {
            out.push(FileEdit {
                path,
                what: what.join(", "),
                new_text: doc.to_string(),
            });
        }
    }
    let lock_path = dir.join("Cargo.lock");
    if workspace.join(&lock_path).is_file() {
        let text = read(&workspace.join(&lock_path))?;
        let mut lock = parse(&lock_path, &text)?;
        let mut changed = Vec::new();
        if let Some(packages) = lock.get_mut("package").and_then(Item::as_array_of_tables_mut) {
            for package in packages.iter_mut() {
                let name = package
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string();
                if names.contains(&name) && package.get("source").is_none() {
                    set_keeping_decor(&mut package["version"], version);
                    changed.push(name);
                }
            }
        }
        if !changed.is_empty() {
            out.push(FileEdit {
                path: lock_path,
                what: format!("{} → {version}", changed.join(", ")),
                new_text: lock.to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_members_path_dependencies_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        crate::prepare::write_tree(
            dir.path(),
            &[
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.3.0\" # shared\nedition = \"2024\"\n",
                ),
                (
                    "crates/core/Cargo.toml",
                    "[package]\nname = \"w-core\"\nversion.workspace = true\n",
                ),
                (
                    "crates/cli/Cargo.toml",
                    "[package]\nname = \"w-cli\"\nversion = \"0.3.0\"\n\n[dependencies]\nw-core = { path = \"../core\", version = \"=0.3.0\" }\nserde = \"1\"\n\n[target.'cfg(unix)'.dependencies]\ncore2 = { package = \"w-core\", path = \"../core\", version = \"0.3\" }\n",
                ),
                (
                    "Cargo.lock",
                    "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"w-cli\"\nversion = \"0.3.0\"\n\n[[package]]\nname = \"w-core\"\nversion = \"0.3.0\"\n",
                ),
            ],
        );
        let edits = edits(dir.path(), Path::new("Cargo.toml"), "0.4.0").unwrap();
        let by_path = |p: &str| {
            edits
                .iter()
                .find(|e| e.path == Path::new(p))
                .unwrap_or_else(|| panic!("{p}: {edits:?}"))
        };
        assert_eq!(
            by_path("Cargo.toml").new_text,
            "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.4.0\" # shared\nedition = \"2024\"\n"
        );
        let cli = &by_path("crates/cli/Cargo.toml").new_text;
        assert!(cli.contains("version = \"0.4.0\"\n"), "{cli}");
        assert!(
            cli.contains("w-core = { path = \"../core\", version = \"=0.4.0\" }"),
            "{cli}"
        );
        assert!(
            cli.contains("core2 = { package = \"w-core\", path = \"../core\", version = \"0.4.0\" }"),
            "{cli}"
        );
        assert!(cli.contains("serde = \"1\""));
        assert!(
            edits.iter().all(|e| e.path != Path::new("crates/core/Cargo.toml")),
            "version.workspace stays"
        );
        let lock = &by_path("Cargo.lock").new_text;
        assert!(lock.contains("name = \"w-cli\"\nversion = \"0.4.0\""), "{lock}");
        assert!(lock.contains("name = \"serde\"\nversion = \"1.0.0\""), "{lock}");
    }
}
