//! Why this exists: an npm release must ship package.json files that say the released version —
//! the root, every workspace package (npm, yarn or pnpm workspaces), and the ranges by which they
//! depend on each other. Workspaces are released together at one version (a fixed monorepo).
//! `workspace:` ranges stay as they are in the checkout: packing rewrites them (see
//! [`crate::workspaces`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::prepare::json_edit::{replace_string, value_span};
use crate::prepare::{FileEdit, read, retarget};
use crate::workspaces::Workspace;

const DEPENDENCY_TABLES: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

/// Edits for `relative` (a package.json) and its workspaces.
pub fn edits(workspace: &Path, relative: &Path, version: &str) -> Result<Vec<FileEdit>> {
    let root_text = read(&workspace.join(relative))?;
    let dir = relative.parent().unwrap_or(Path::new(""));
    let mut files: Vec<PathBuf> = vec![relative.to_path_buf()];
    if let Some(members) = Workspace::at(workspace, dir)? {
        files.extend(members.members.iter().map(|m| m.dir.join("package.json")));
    }
    let mut texts = vec![root_text];
    for file in &files[1..] {
        texts.push(read(&workspace.join(file))?);
    }
    let names: BTreeSet<String> = texts
        .iter()
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .filter_map(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for (file, text) in files.into_iter().zip(texts) {
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input("[version] files", format!("{} is not valid JSON: {e}", file.display())))?;
        let mut new_text = text.clone();
        let mut what = Vec::new();
        if value.get("version").is_some_and(|v| v.is_string())
            && let Some(edited) = replace_string(&new_text, &["version"], version)
        {
            new_text = edited;
            what.push(format!("version → {version}"));
        }
        for table in DEPENDENCY_TABLES {
            let Some(deps) = value.get(table).and_then(|d| d.as_object()) else {
                continue;
            };
            for (name, range) in deps {
                let Some(range) = range.as_str() else { continue };
                if !names.contains(name) {
                    continue;
                }
                if let Some(new_range) = retarget(range, version)
                    && value_span(&new_text, &[table, name]).is_some()
                    && let Some(edited) = replace_string(&new_text, &[table, name], &new_range)
                {
                    new_text = edited;
                    what.push(format!("{table}.{name} → {new_range}"));
                }
            }
        }
        if !what.is_empty() {
            out.push(FileEdit {
                path: file,
                what: what.join(", "),
                new_text,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_workspaces_and_internal_ranges() {
        let dir = tempfile::tempdir().unwrap();
        crate::prepare::write_tree(
            dir.path(),
            &[
                (
                    "package.json",
                    "{\n  \"name\": \"root\",\n  \"private\": true,\n  \"version\": \"1.0.0\",\n  \"workspaces\": [\"packages/*\"]\n}\n",
                ),
                (
                    "packages/cli/package.json",
                    "{\n\t\"name\": \"@acme/cli\",\n\t\"version\": \"1.0.0\",\n\t\"dependencies\": {\"@acme/shared\": \"^1.0.0\", \"left-pad\": \"^1.0.0\"},\n\t\"devDependencies\": {\"@acme/api\": \"workspace:*\"}\n}\n",
                ),
                (
                    "packages/shared/package.json",
                    "{\"name\":\"@acme/shared\",\"version\":\"1.0.0\"}",
                ),
                (
                    "packages/node_modules/x/package.json",
                    "{\"name\":\"x\",\"version\":\"9.9.9\"}",
                ),
            ],
        );
        let edits = edits(dir.path(), Path::new("package.json"), "1.1.0").unwrap();
        let paths: Vec<_> = edits.iter().map(|e| e.path.to_string_lossy().into_owned()).collect();
        assert_eq!(
            paths,
            [
                "package.json",
                "packages/cli/package.json",
                "packages/shared/package.json"
            ]
        );
        assert_eq!(
            edits[1].new_text,
            "{\n\t\"name\": \"@acme/cli\",\n\t\"version\": \"1.1.0\",\n\t\"dependencies\": {\"@acme/shared\": \"^1.1.0\", \"left-pad\": \"^1.0.0\"},\n\t\"devDependencies\": {\"@acme/api\": \"workspace:*\"}\n}\n"
        );
        assert_eq!(edits[2].new_text, "{\"name\":\"@acme/shared\",\"version\":\"1.1.0\"}");
    }
}
