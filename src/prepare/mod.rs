//! Why this exists: artifacts must carry the version being released, so before anything is built
//! the version is written into the files that hold it — package.json (with its workspaces),
//! Cargo.toml (with its members and Cargo.lock), any file by pattern — and the changelog section
//! is prepended to CHANGELOG.md. Edits are computed first (a dry run shows them) and touch only
//! the bytes that change, so formatting and key order survive.

pub mod cargo;
pub mod json_edit;
mod members;
pub mod npm;

pub(crate) use members::member_dirs;

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::config::{VersionConfig, VersionFile};
use crate::error::{Error, Result};

/// One file's new content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEdit {
    /// Relative to the repository root.
    pub path: PathBuf,
    /// What changes, in words.
    pub what: String,
    /// The whole new content.
    #[serde(skip)]
    pub new_text: String,
}

/// Computes every edit for `version`; reads files, writes nothing.
pub fn plan_edits(workspace: &Path, config: &VersionConfig, version: &str, section: &str) -> Result<Vec<FileEdit>> {
    let mut edits: Vec<FileEdit> = Vec::new();
    for file in &config.files {
        let new = match file {
            VersionFile::Manifest(path) => {
                let relative = inside(workspace, path, "[version] files")?;
                match relative.file_name().and_then(|n| n.to_str()) {
                    Some("package.json") => npm::edits(workspace, &relative, version)?,
                    Some("Cargo.toml") => cargo::edits(workspace, &relative, version)?,
                    _ => {
                        return Err(Error::input(
                            "[version] files",
                            format!(
                                "{path:?} is neither package.json nor Cargo.toml; for other files give {{ path = {path:?}, pattern = \"…(version)…\" }}"
                            ),
                        ));
                    }
                }
            }
            VersionFile::Pattern { path, pattern } => vec![pattern_edit(workspace, path, pattern, version)?],
        };
        for edit in new {
            merge(&mut edits, edit);
        }
    }
    if let Some(path) = &config.changelog
        && let Some(edit) = changelog_edit(workspace, path, version, section)?
    {
        merge(&mut edits, edit);
    }
    edits.retain(|e| {
        read(&workspace.join(&e.path))
            .map(|old| old != e.new_text)
            .unwrap_or(true)
    });
    Ok(edits)
}

/// Writes the edits, each checked again to land inside the repository.
pub fn apply(workspace: &Path, edits: &[FileEdit]) -> Result<()> {
    for edit in edits {
        let relative = inside(workspace, &edit.path.to_string_lossy(), "[version] files")?;
        let path = workspace.join(relative);
        std::fs::write(&path, &edit.new_text).map_err(|source| Error::WriteFile { path, source })?;
    }
    Ok(())
}

/// A later edit of the same file (e.g. a workspace member listed twice) replaces the earlier.
fn merge(edits: &mut Vec<FileEdit>, edit: FileEdit) {
    match edits.iter_mut().find(|e| e.path == edit.path) {
        Some(existing) => *existing = edit,
        None => edits.push(edit),
    }
}

/// Reads a file the config names.
pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// A config path, checked to stay inside the repository (no `..`, not absolute) for reading and
/// writing: an existing file (or a link to one) must resolve inside it, a missing file's folder
/// must, and a broken link is refused — writing through it would create its target wherever it
/// points.
pub(crate) fn inside(workspace: &Path, path: &str, key: &str) -> Result<PathBuf> {
    let relative = Path::new(path);
    let escapes = relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_)));
    if escapes {
        return Err(Error::input(
            key,
            format!("{path:?} leaves the repository; paths are relative to its root and may not use .."),
        ));
    }
    let full = workspace.join(relative);
    let root = workspace.canonicalize().map_err(|source| Error::ReadFile {
        path: workspace.to_path_buf(),
        source,
    })?;
    let outside = || {
        Error::input(
            key,
            format!("{path:?} leads outside the repository through a symbolic link"),
        )
    };
    if let Ok(target) = full.canonicalize() {
        return if target.starts_with(&root) {
            Ok(relative.to_path_buf())
        } else {
            Err(outside())
        };
    }
    if full.symlink_metadata().is_ok() {
        return Err(Error::input(
            key,
            format!(
                "{path:?} is a broken symbolic link (to {}); writing through it would create a file where it points — fix or remove the link",
                std::fs::read_link(&full)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    // Missing: the nearest folder above it that exists decides where it would be created.
    let existing = full.ancestors().skip(1).find_map(|a| a.canonicalize().ok());
    match existing {
        Some(folder) if !folder.starts_with(&root) => Err(outside()),
        _ => Ok(relative.to_path_buf()),
    }
}

/// Keeps a requirement's operator and puts the new version in: `^1.2.0` → `^1.3.0`. Ranges that
/// are not one operator and one version (`1.x`, `*`, `>=1 <2`, `workspace:*`) stay as they are.
pub(crate) fn retarget(requirement: &str, version: &str) -> Option<String> {
    let re =
        regex::Regex::new(r"^(\^|~|>=|<=|>|<|=)?(\s*)v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?$").expect("a valid regex");
    let caps = re.captures(requirement.trim())?;
    let op = caps.get(1).map_or("", |m| m.as_str());
    Some(format!("{op}{}{version}", &caps[2]))
}

fn pattern_edit(workspace: &Path, path: &str, pattern: &str, version: &str) -> Result<FileEdit> {
    let relative = inside(workspace, path, "[version] files")?;
    let text = read(&workspace.join(&relative))?;
    let re = regex::Regex::new(pattern).map_err(|e| Error::input("[version] files", format!("{pattern:?}: {e}")))?;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    for caps in re.captures_iter(&text) {
        let Some(group) = caps.get(1) else { continue };
        out.push_str(&text[last..group.start()]);
        out.push_str(version);
        last = group.end();
        count += 1;
    }
    if count == 0 {
        return Err(Error::input(
            "[version] files",
            format!("pattern {pattern:?} matches nothing in {path}"),
        ));
    }
    out.push_str(&text[last..]);
    Ok(FileEdit {
        path: relative,
        what: format!("{count} match(es) of {pattern:?} → {version}"),
        new_text: out,
    })
}

/// Prepends the section under the file's `# ` title; nothing when the version is already there.
fn changelog_edit(workspace: &Path, path: &str, version: &str, section: &str) -> Result<Option<FileEdit>> {
    let relative = inside(workspace, path, "[version] changelog")?;
    let full = workspace.join(&relative);
    let old = if full.exists() { read(&full)? } else { String::new() };
    let present = old.lines().any(|l| {
        l.starts_with("## ") && (l.contains(&format!("[{version}]")) || l.split_whitespace().nth(1) == Some(version))
    });
    if present {
        return Ok(None);
    }
    let section = format!("{}\n", section.trim_end());
    let new_text = match old.split_once('\n') {
        Some((title, rest)) if title.starts_with("# ") => {
            format!("{title}\n\n{section}\n{}", rest.trim_start_matches('\n'))
        }
        _ if old.is_empty() => format!("# Changelog\n\n{section}"),
        _ => format!("{section}\n{old}"),
    };
    Ok(Some(FileEdit {
        path: relative,
        what: format!("prepend the {version} section"),
        new_text,
    }))
}

/// Writes `files` (relative path, text) under `dir`, creating folders: fixtures for the tests of
/// this module's manifests.
#[cfg(test)]
pub(crate) fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retarget_keeps_operators() {
        assert_eq!(retarget("^1.2.0", "1.3.0").as_deref(), Some("^1.3.0"));
        assert_eq!(retarget("~1.2", "1.3.0").as_deref(), Some("~1.3.0"));
        assert_eq!(retarget("1.2.0", "2.0.0-rc.0").as_deref(), Some("2.0.0-rc.0"));
        assert_eq!(retarget(">= 1.2.0", "1.3.0").as_deref(), Some(">= 1.3.0"));
        assert_eq!(retarget("workspace:*", "1.3.0"), None);
        assert_eq!(retarget("1.x", "1.3.0"), None);
        assert_eq!(retarget(">=1 <2", "1.3.0"), None);
    }

    #[test]
    fn paths_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        assert!(inside(dir.path(), "../x", "k").is_err());
        assert!(inside(dir.path(), "/etc/passwd", "k").is_err());
        assert!(inside(dir.path(), "a/b.json", "k").is_ok());
        std::os::unix::fs::symlink("/etc", dir.path().join("out")).unwrap();
        let err = inside(dir.path(), "out/hostname", "k").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        // Files that do not exist yet: their folder decides; a broken link is refused.
        let err = inside(dir.path(), "out/new-file", "k").unwrap_err().to_string();
        assert!(err.contains("leads outside the repository"), "{err}");
        std::os::unix::fs::symlink("../../outside.md", dir.path().join("CHANGELOG.md")).unwrap();
        let err = inside(dir.path(), "CHANGELOG.md", "k").unwrap_err().to_string();
        assert!(err.contains("broken symbolic link (to ../../outside.md)"), "{err}");
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::os::unix::fs::symlink("docs", dir.path().join("notes")).unwrap();
        assert!(inside(dir.path(), "notes/CHANGES.md", "k").is_ok());
    }

    #[test]
    fn changelog_goes_under_the_title_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CHANGELOG.md"), "# Changelog\n\n## 1.0.0\n\n- old\n").unwrap();
        let edit = changelog_edit(
            dir.path(),
            "CHANGELOG.md",
            "1.1.0",
            "## [1.1.0](x) (2026-01-01)\n\n- new\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            edit.new_text,
            "# Changelog\n\n## [1.1.0](x) (2026-01-01)\n\n- new\n\n## 1.0.0\n\n- old\n"
        );
        std::fs::write(dir.path().join("CHANGELOG.md"), &edit.new_text).unwrap();
        assert!(
            changelog_edit(dir.path(), "CHANGELOG.md", "1.1.0", "## [1.1.0](x)\n")
                .unwrap()
                .is_none()
        );
        let fresh = changelog_edit(dir.path(), "NEW.md", "1.0.0", "## 1.0.0\n")
            .unwrap()
            .unwrap();
        assert_eq!(fresh.new_text, "# Changelog\n\n## 1.0.0\n");
    }

    #[test]
    fn pattern_replaces_the_group() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.h"), "#define VERSION \"0.9.0\"\nint x;\n").unwrap();
        let edit = pattern_edit(dir.path(), "v.h", r#"VERSION "([^"]*)""#, "1.0.0").unwrap();
        assert_eq!(edit.new_text, "#define VERSION \"1.0.0\"\nint x;\n");
        let err = pattern_edit(dir.path(), "v.h", r"NOPE (x)", "1.0.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("matches nothing in v.h"), "{err}");
    }
}
