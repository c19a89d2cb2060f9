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
pub fn check_relative(key: &str, path: &str) -> Result<()> {
    let p = Path::new(path);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_)))
    {
        return Err(Error::input(
            key.to_string(),
            format!("{path:?} leaves the repository; paths are relative to its root and may not use .."),
        ));
    }
    Ok(())
}

/// Resolves `path` under `root`, refusing anything that ends up outside (also through links).
pub fn inside(root: &Path, key: &str, path: &str) -> Result<PathBuf> {
    check_relative(key, path)?;
    let full = root.join(path);
    let canonical_root = root.canonicalize().map_err(|source| Error::ReadFile {
        path: root.to_path_buf(),
        source,
    })?;
    match full.canonicalize() {
        Ok(target) if !target.starts_with(&canonical_root) => Err(Error::input(
            key.to_string(),
            format!("{path:?} leads outside the repository through a symbolic link"),
        )),
        Ok(_) => Ok(full),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Err(Error::input(
            key.to_string(),
            format!("{path:?} does not exist (paths are relative to the repository root)"),
        )),
        Err(source) => Err(Error::ReadFile { path: full, source }),
    }
}

/// Every file matching any of `globs`, sorted, each glob matching at least one file.
pub fn resolve(root: &Path, key: &str, globs: &[String]) -> Result<Vec<MatchedFile>> {
    let canonical_root = root.canonicalize().map_err(|source| Error::ReadFile {
        path: root.to_path_buf(),
        source,
    })?;
    let mut found: Vec<MatchedFile> = Vec::new();
    for glob in globs {
        let pattern = glob.trim_start_matches("./");
        check_relative(key, pattern)?;
        let matcher = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::input(key.to_string(), format!("{glob:?} is not a glob: {e}")))?
            .compile_matcher();
        let base: Vec<&str> = pattern.split('/').take_while(|s| !has_meta(s)).collect();
        let base = base.join("/");
        let before = found.len();
        let start = root.join(&base);
        if start.is_file() || start.is_symlink() && !start.is_dir() {
            push(&canonical_root, &start, &base, key, &mut found)?;
        } else {
            let owner = key.to_string();
            walk(
                root,
                &base,
                Links::Within(&canonical_root, "the repository"),
                &owner,
                &mut |relative, path| {
                    if matcher.is_match(relative) {
                        push(&canonical_root, path, relative, key, &mut found)?;
                    }
                    Ok(())
                },
            )?;
        }
        if found.len() == before {
            return Err(Error::input(
                key.to_string(),
                format!("the glob {glob:?} matches no file"),
            ));
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.relative == b.relative);
    Ok(found)
}

fn push(canonical_root: &Path, path: &Path, relative: &str, key: &str, found: &mut Vec<MatchedFile>) -> Result<()> {
    if relative.split('/').any(|segment| segment == ".git") {
        return Ok(());
    }
    let target = path.canonicalize().map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    if !target.starts_with(canonical_root) {
        return Err(Error::input(
            key.to_string(),
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

/// How a walk treats symbolic links.
#[derive(Debug, Clone, Copy)]
pub enum Links<'a> {
    /// Leave them out, files and folders alike (as `npm pack` does).
    Skip,
    /// Visit each link itself without following it (a Docker build context sends links as links).
    Keep,
    /// Follow a link whose target stays inside this canonical folder (called by the name given,
    /// e.g. "the repository"); a link that leads out of it, a broken link and a link loop are
    /// errors that name the link.
    Within(&'a Path, &'a str),
}

/// Visits every file under `root/base` (never `.git`), sorted by name, with its `/`-separated path
/// relative to `root`. Symbolic links are treated as `links` says; `owner` (an artifact, a config
/// key) names the walk in errors. Loops are detected (walkdir compares each followed folder with
/// the folders above it), so `site/self -> .` is refused instead of walked forever.
pub fn walk(
    root: &Path,
    base: &str,
    links: Links<'_>,
    owner: &str,
    visit: &mut dyn FnMut(&str, &Path) -> Result<()>,
) -> Result<()> {
    let start = root.join(base);
    if !start.is_dir() {
        return Ok(());
    }
    let refused: std::cell::RefCell<Option<Error>> = std::cell::RefCell::new(None);
    let relative_of = |path: &Path| -> String {
        path.strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/")
    };
    let entries = walkdir::WalkDir::new(&start)
        .min_depth(1)
        .follow_links(matches!(links, Links::Within(..)))
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            if entry.file_name() == ".git" {
                return false;
            }
            if !entry.path_is_symlink() {
                return true;
            }
            match links {
                Links::Skip => false,
                Links::Keep => true,
                Links::Within(boundary, called) => match entry.path().canonicalize() {
                    Ok(target) if target.starts_with(boundary) => true,
                    Ok(target) => {
                        refused.borrow_mut().get_or_insert_with(|| {
                            Error::input(
                                owner,
                                format!(
                                    "{} is a symbolic link to {}, outside {called}; links may only point inside it",
                                    relative_of(entry.path()),
                                    target.display(),
                                ),
                            )
                        });
                        false
                    }
                    Err(_) => {
                        refused.borrow_mut().get_or_insert_with(|| {
                            Error::input(
                                owner,
                                format!("{} is a broken symbolic link", relative_of(entry.path())),
                            )
                        });
                        false
                    }
                },
            }
        });
    for entry in entries {
        if let Some(error) = refused.borrow_mut().take() {
            return Err(error);
        }
        let entry = entry.map_err(|e| walk_error(root, owner, e))?;
        if entry.file_type().is_dir() {
            continue;
        }
        visit(&relative_of(entry.path()), entry.path())?;
    }
    match refused.into_inner() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn walk_error(root: &Path, owner: &str, error: walkdir::Error) -> Error {
    let shown = |path: &Path| path.strip_prefix(root).unwrap_or(path).display().to_string();
    match (error.loop_ancestor(), error.path()) {
        (Some(ancestor), Some(path)) => Error::input(
            owner,
            format!(
                "{} is a symbolic link loop: it leads back to {}, which contains it; remove the link",
                shown(path),
                shown(ancestor)
            ),
        ),
        (None, Some(path)) if path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) && !path.exists() => {
            Error::input(owner, format!("{} is a broken symbolic link", shown(path)))
        }
        _ => {
            let path = error
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf());
            let source = error
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("cannot walk the folder"));
            Error::ReadFile { path, source }
        }
    }
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
        let err = resolve(dir.path(), "artifact \"w.tar.gz\"", &["target/*.exe".into()])
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
        assert!(
            err.contains("dist/host is a symbolic link to /etc/hostname, outside the repository"),
            "{err}"
        );
        assert!(
            resolve(dir.path(), "a", &[".git/*".into()]).is_err(),
            ".git is never packed"
        );
    }

    fn walked(root: &Path, links: Links<'_>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        walk(root, "", links, "t", &mut |relative, _| {
            out.push(relative.to_string());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn links_are_skipped_kept_or_followed_inside_only() {
        let dir = tree();
        let root = dir.path().join("dist");
        std::os::unix::fs::symlink("bin", root.join("alias")).unwrap();
        std::os::unix::fs::symlink("README.md", root.join("readme-link")).unwrap();
        assert_eq!(walked(&root, Links::Skip).unwrap(), ["README.md", "bin/widget"]);
        assert_eq!(
            walked(&root, Links::Keep).unwrap(),
            ["README.md", "alias", "bin/widget", "readme-link"]
        );
        let canonical = root.canonicalize().unwrap();
        assert_eq!(
            walked(&root, Links::Within(&canonical, "the walked folder")).unwrap(),
            ["README.md", "alias/widget", "bin/widget", "readme-link"]
        );
        // A link to elsewhere in the repository still leaves the walked folder.
        std::os::unix::fs::symlink("../docs", root.join("docs")).unwrap();
        let err = walked(&root, Links::Within(&canonical, "the walked folder"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t: docs is a symbolic link to ") && err.contains("outside the walked folder"),
            "{err}"
        );
        std::fs::remove_file(root.join("docs")).unwrap();
        std::os::unix::fs::symlink("gone", root.join("broken")).unwrap();
        let err = walked(&root, Links::Within(&canonical, "the walked folder"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t: broken is a broken symbolic link");
    }

    #[test]
    fn link_loops_are_refused_not_walked_forever() {
        let dir = tree();
        let site = dir.path().join("dist");
        std::os::unix::fs::symlink(".", site.join("self")).unwrap();
        let canonical = site.canonicalize().unwrap();
        let err = walked(&site, Links::Within(&canonical, "the walked folder")).unwrap_err();
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        assert!(err.to_string().contains("self is a symbolic link loop"), "{err}");
        // Two folders pointing at each other loop too.
        std::fs::remove_file(site.join("self")).unwrap();
        std::os::unix::fs::symlink("../bin", site.join("bin/up")).unwrap();
        let err = walked(&site, Links::Within(&canonical, "the walked folder"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("symbolic link loop"), "{err}");
        // Not followed, a loop is harmless.
        assert!(walked(&site, Links::Skip).is_ok());
        let err = resolve(dir.path(), "a", &["dist/**".into()]).unwrap_err().to_string();
        assert!(err.contains("symbolic link loop"), "{err}");
    }
}
