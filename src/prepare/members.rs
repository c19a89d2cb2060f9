//! Why this exists: npm workspaces and Cargo workspaces name their members by globs
//! (`packages/*`, `crates/*`); both are expanded the same way, skipping dependency and build trees.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Directories under `base` (relative to it) that match one of the workspace `patterns` (globs
/// like `packages/*`) and hold a `marker` file, sorted. `exclude` removes matches.
pub fn member_dirs(base: &Path, patterns: &[String], exclude: &[String], marker: &str) -> Result<Vec<PathBuf>> {
    let set = |globs: &[String]| -> Result<globset::GlobSet> {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in globs {
            let glob = glob.trim_start_matches("./").trim_end_matches('/');
            builder.add(
                globset::GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| Error::input("workspaces", format!("{glob:?} is not a glob: {e}")))?,
            );
        }
        builder.build().map_err(|e| Error::input("workspaces", e.to_string()))
    };
    let (include, exclude) = (set(patterns)?, set(exclude)?);
    let mut found = Vec::new();
    let mut stack = vec![(PathBuf::new(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(base.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if matches!(name.to_str(), Some("node_modules" | ".git" | "target"))
                || !entry.file_type().is_ok_and(|t| t.is_dir())
            {
                continue;
            }
            let relative = dir.join(&name);
            // An exclusion like pnpm's `!**/test/**` names the files below a folder, so the
            // marker's path is matched too.
            if include.is_match(&relative)
                && !exclude.is_match(&relative)
                && !exclude.is_match(relative.join(marker))
                && base.join(&relative).join(marker).is_file()
            {
                found.push(relative.clone());
            }
            if depth < 6 {
                stack.push((relative, depth + 1));
            }
        }
    }
    found.sort();
    Ok(found)
}
