//! Why this exists: an artifact names its files by globs relative to the repository root. Every
//! glob must match something (a typo must not ship an empty archive), and nothing may come from
//! outside the repository — not by `..`, not by an absolute path, not through a symbolic link.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A matched file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchedFile {
    /// `/`-separated, relative to the root.
    pub relative: String,
    /// The file on disk.
    pub path: PathBuf,
    /// Whether any executable bit is set.
    pub executable: bool,
}

fn has_meta(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '{'])
}

/// Checks that `path` (relative, as the user wrote it) cannot leave `root`.
pub fn check_relative(artifact: &str, path: &str) -> Result<()> {
    let p = Path::new(path);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_)))
    {
        return Err(Error::input(
            format!("artifact {artifact:?}"),
            format!("{path:?} leaves the repository; paths are relative to its root and may not use .."),
        ));
    }
    Ok(())
}

/// Resolves `path` under `root`, refusing anything that ends up outside (also through links).
pub fn inside(root: &Path, artifact: &str, path: &str) -> Result<PathBuf> {
    check_relative(artifact, path)?;
    let full = root.join(path);
    let canonical_root = root.canonicalize().map_err(|source| Error::ReadFile {
        path: root.to_path_buf(),
        source,
    })?;
    match full.canonicalize() {
        Ok(target) if !target.starts_with(&canonical_root) => Err(Error::input(
            format!("artifact {artifact:?}"),
            format!("{path:?} leads outside the repository through a symbolic link"),
        )),
        Ok(_) => Ok(full),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Err(Error::input(
            format!("artifact {artifact:?}"),
            format!("{path:?} does not exist (paths are relative to the repository root)"),
        )),
        Err(source) => Err(Error::ReadFile { path: full, source }),
    }
}

/// Every file matching any of `globs`, sorted, each glob matching at least one file.
pub fn resolve(root: &Path, artifact: &str, globs: &[String]) -> Result<Vec<MatchedFile>> {
    let canonical_root = root.canonicalize().map_err(|source| Error::ReadFile {
        path: root.to_path_buf(),
        source,
    })?;
    let mut found: Vec<MatchedFile> = Vec::new();
    for glob in globs {
        let pattern = glob.trim_start_matches("./");
        check_relative(artifact, pattern)?;
        let matcher = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::input(format!("artifact {artifact:?}"), format!("{glob:?} is not a glob: {e}")))?
            .compile_matcher();
        let base: Vec<&str> = pattern.split('/').take_while(|s| !has_meta(s)).collect();
        let base = base.join("/");
        let before = found.len();
        let start = root.join(&base);
        if start.is_file() || start.is_symlink() && !start.is_dir() {
            push(&canonical_root, &start, &base, artifact, &mut found)?;
        } else {
            walk(&canonical_root, root, &base, &mut |relative, path| {
                if matcher.is_match(relative) {
                    push(&canonical_root, path, relative, artifact, &mut found)?;
                }
                Ok(())
            })?;
        }
        if found.len() == before {
            return Err(Error::input(
                format!("artifact {artifact:?}"),
                format!("the glob {glob:?} matches no file"),
            ));
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.relative == b.relative);
    Ok(found)
}

fn push(
    canonical_root: &Path,
    path: &Path,
    relative: &str,
    artifact: &str,
    found: &mut Vec<MatchedFile>,
) -> Result<()> {
    if relative.split('/').any(|segment| segment == ".git") {
        return Ok(());
    }
    let target = path.canonicalize().map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    if !target.starts_with(canonical_root) {
        return Err(Error::input(
            format!("artifact {artifact:?}"),
            format!("{relative:?} leads outside the repository through a symbolic link"),
        ));
    }
    let metadata = std::fs::metadata(&target).map_err(|source| Error::ReadFile {
        path: target.clone(),
        source,
    })?;
    if !metadata.is_file() {
        return Ok(());
    }
    use std::os::unix::fs::PermissionsExt;
    let executable = metadata.permissions().mode() & 0o111 != 0;
    found.push(MatchedFile {
        relative: relative.to_string(),
        path: path.to_path_buf(),
        executable,
    });
    Ok(())
}

/// Visits every file under `root/base` (not `.git`), with its `/`-separated relative path.
pub fn walk(
    canonical_root: &Path,
    root: &Path,
    base: &str,
    visit: &mut dyn FnMut(&str, &Path) -> Result<()>,
) -> Result<()> {
    let mut stack = vec![base.to_string()];
    while let Some(dir) = stack.pop() {
        let full = root.join(&dir);
        let Ok(entries) = std::fs::read_dir(&full) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            let relative = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            let path = entry.path();
            let file_type = entry.file_type().map_err(|source| Error::ReadFile {
                path: path.clone(),
                source,
            })?;
            let is_dir = file_type.is_dir()
                || file_type.is_symlink()
                    && path
                        .canonicalize()
                        .is_ok_and(|t| t.is_dir() && t.starts_with(canonical_root));
            if is_dir {
                stack.push(relative);
            } else {
                visit(&relative, &path)?;
            }
        }
    }
    Ok(())
}

/// The name inside an archive: `relative` without `strip_prefix` when it starts with it.
pub fn archive_name(relative: &str, strip_prefix: Option<&str>) -> String {
    match strip_prefix {
        Some(prefix) => {
            let prefix = prefix.trim_start_matches("./");
            let prefix = if prefix.ends_with('/') || prefix.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}/")
            };
            relative.strip_prefix(prefix.as_str()).unwrap_or(relative).to_string()
        }
        None => relative.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in [
            ("dist/bin/widget", "w"),
            ("dist/README.md", "r"),
            ("docs/a.md", "a"),
            (".git/config", "x"),
        ] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        dir
    }

    #[test]
    fn globs_literals_and_stripping() {
        let dir = tree();
        let files = resolve(dir.path(), "a", &["dist/**".into(), "docs/a.md".into()]).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(names, ["dist/README.md", "dist/bin/widget", "docs/a.md"]);
        assert_eq!(archive_name("dist/bin/widget", Some("dist")), "bin/widget");
        assert_eq!(archive_name("docs/a.md", Some("dist/")), "docs/a.md");
    }

    #[test]
    fn refusals() {
        let dir = tree();
        let err = resolve(dir.path(), "w.tar.gz", &["target/*.exe".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "artifact \"w.tar.gz\": the glob \"target/*.exe\" matches no file");
        assert!(
            resolve(dir.path(), "a", &["../x".into()])
                .unwrap_err()
                .to_string()
                .contains("leaves the repository")
        );
        assert!(resolve(dir.path(), "a", &["/etc/*".into()]).is_err());
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("dist/host")).unwrap();
        let err = resolve(dir.path(), "a", &["dist/*".into()]).unwrap_err().to_string();
        assert!(err.contains("outside the repository through a symbolic link"), "{err}");
        assert!(
            resolve(dir.path(), "a", &[".git/*".into()]).is_err(),
            ".git is never packed"
        );
    }
}
