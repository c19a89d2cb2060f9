//! Why this exists: an npm package is published from a tarball, and ours must hold exactly what
//! `npm pack` would put in it — the `package/` prefix, the `files` list, the files npm always
//! includes and never includes, `.npmignore` (else `.gitignore`) — with the release version in its
//! package.json, and be byte-reproducible (npm itself packs with a fixed mtime) so that a re-run
//! gives the same integrity. A test compares our file list with the real `npm pack --dry-run`.
//! In a workspace, `workspace:` ranges are rewritten in the packed package.json as `pnpm publish`
//! rewrites them (the checkout keeps them), so what is published installs with any client.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha512};

use crate::build::archive::{ArchiveEntry, EntrySource, append_tar_entries};
use crate::build::files::{Links, walk};
use crate::error::{Error, Result};
use crate::prepare::json_edit::replace_string;

/// npm packs every file with this mtime: 1985-10-26T08:15:00Z.
pub const NPM_EPOCH: i64 = 499_162_500;

/// Ignored wherever they are, even when `files` lists them (npm-packlist's defaults).
const ALWAYS_IGNORED: &[&str] = &[
    ".git",
    ".svn",
    ".hg",
    "CVS",
    "node_modules",
    ".npmrc",
    ".DS_Store",
    "npm-debug.log",
    ".lock-wscript",
    ".wafpickle-*",
    ".*.swp",
    "._*",
    "*.orig",
    "config.gypi",
    ".npmignore",
    ".gitignore",
];
/// Ignored at the package root.
const ROOT_IGNORED: &[&str] = &[
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "archived-packages",
];

/// A packed package.
#[derive(Debug, Clone)]
pub struct PackedPackage {
    /// `name` from package.json.
    pub name: String,
    /// The version written into it.
    pub version: String,
    /// The tarball.
    pub tarball: PathBuf,
    /// The tarball's file name as npm names it (`scope-name-1.2.3.tgz`).
    pub file_name: String,
    /// `sha512-<base64>` of the tarball, as npm's `dist.integrity`.
    pub integrity: String,
    /// Paths inside the package (without `package/`), sorted.
    pub files: Vec<String>,
}

pub(crate) fn read_manifest(dir: &Path) -> Result<(String, serde_json::Value)> {
    let path = dir.join("package.json");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadFile {
        path: path.clone(),
        source,
    })?;
    let value = serde_json::from_str(&text)
        .map_err(|e| Error::input("artifact", format!("{} is not valid JSON: {e}", path.display())))?;
    Ok((text, value))
}

fn builder_with(root: &Path, patterns: &[&str]) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        let _ = builder.add_line(None, pattern);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The files `npm pack` would include, relative to `dir`, sorted.
pub fn file_list(dir: &Path) -> Result<Vec<String>> {
    let (_, manifest) = read_manifest(dir)?;
    let always = builder_with(dir, ALWAYS_IGNORED);
    let root_only = builder_with(
        dir,
        &ROOT_IGNORED
            .iter()
            .map(|p| format!("/{p}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let files_field: Option<Vec<String>> = manifest.get("files").and_then(|f| f.as_array()).map(|list| {
        list.iter()
            .filter_map(|v| v.as_str())
            .map(|s| {
                s.trim_start_matches("./")
                    .trim_start_matches('/')
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect()
    });
    let included = files_field.as_ref().map(|patterns| {
        let mut builder = GitignoreBuilder::new(dir);
        for pattern in patterns {
            let _ = builder.add_line(None, &format!("/{pattern}"));
            let _ = builder.add_line(None, &format!("/{pattern}/**"));
        }
        builder.build().unwrap_or_else(|_| Gitignore::empty())
    });
    let user_ignore = if files_field.is_none() {
        let npmignore = dir.join(".npmignore");
        let source = if npmignore.is_file() {
            npmignore
        } else {
            dir.join(".gitignore")
        };
        let mut builder = GitignoreBuilder::new(dir);
        if source.is_file() {
            builder.add(&source);
        }
        Some(builder.build().unwrap_or_else(|_| Gitignore::empty()))
    } else {
        None
    };
    let mut forced: Vec<String> = Vec::new();
    if let Some(main) = manifest.get("main").and_then(|m| m.as_str()) {
        forced.push(main.trim_start_matches("./").to_string());
    }
    match manifest.get("bin") {
        Some(serde_json::Value::String(bin)) => forced.push(bin.trim_start_matches("./").to_string()),
        Some(serde_json::Value::Object(map)) => forced.extend(
            map.values()
                .filter_map(|v| v.as_str())
                .map(|b| b.trim_start_matches("./").to_string()),
        ),
        _ => {}
    }
    let mut out = Vec::new();
    // npm leaves symbolic links out, files and folders alike, even when `files` or `main` names
    // them: so nothing outside the package can end up in the tarball.
    walk(dir, "", Links::Skip, "the npm package", &mut |relative, _| {
        let path = Path::new(relative);
        let is_root = !relative.contains('/');
        let lower = relative.to_ascii_lowercase();
        let always_included = relative == "package.json"
            || is_root
                && ["readme", "license", "licence", "copying"]
                    .iter()
                    .any(|p| lower == *p || lower.starts_with(&format!("{p}.")))
            || forced.iter().any(|f| f == relative);
        if always.matched_path_or_any_parents(path, false).is_ignore() && relative != "package.json" {
            return Ok(());
        }
        if always_included {
            out.push(relative.to_string());
            return Ok(());
        }
        if root_only.matched_path_or_any_parents(path, false).is_ignore() {
            return Ok(());
        }
        let keep = match (&included, &user_ignore) {
            (Some(included), _) => included.matched_path_or_any_parents(path, false).is_ignore(),
            (None, Some(ignore)) => !ignore.matched_path_or_any_parents(path, false).is_ignore(),
            (None, None) => true,
        };
        if keep {
            out.push(relative.to_string());
        }
        Ok(())
    })?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Refuses a package name npm would refuse (validate-npm-package-name's rules for new packages):
/// the name goes into registry URLs and the tarball's file name, so it must be URL-safe.
pub fn check_package_name(name: &str, manifest: &Path) -> Result<()> {
    let url_safe = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.!~*'()".contains(&b))
    };
    let (scope, bare) = match name.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => (Some(""), ""),
        },
        None => (None, name),
    };
    let problem = if name.len() > 214 {
        Some("is longer than 214 characters")
    } else if bare.starts_with(['.', '_']) {
        Some("starts with . or _")
    } else if !url_safe(bare) || scope.is_some_and(|s| !url_safe(s)) {
        Some("is not a lower-case, URL-safe name (letters, digits and - _ . ! ~ * ' ( ), with an optional @scope/)")
    } else if matches!(bare, "node_modules" | "favicon.ico") {
        Some("is reserved")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::input(
            "artifact",
            format!("{}: the package name {name:?} {problem}", manifest.display()),
        )),
        None => Ok(()),
    }
}

/// The dependencies of the npm artifact at `package` (relative to `root`) as they are published:
/// in independent mode a sibling gets its version in the run (`plan.workspace_versions`); else a
/// sibling released by this config gets the plan's version, any other its package.json's.
pub fn workspace_dependencies(
    root: &Path,
    config: &crate::config::Config,
    package: &Path,
    plan: &crate::plan::ReleasePlan,
) -> Result<Vec<crate::workspaces::PublishedDependency>> {
    let version = plan.version.as_str();
    let workspace = crate::workspaces::Workspace::containing(root, package)?;
    let released: Vec<String> = config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Npm)
        .filter_map(|a| a.path.as_deref())
        .filter_map(|p| read_manifest(&root.join(p)).ok())
        .filter_map(|(_, manifest)| manifest["name"].as_str().map(str::to_string))
        .collect();
    let version_of = |member: &crate::workspaces::Member| {
        if let Some(in_run) = plan.workspace_versions.get(&member.name) {
            Some(in_run.clone())
        } else if released.contains(&member.name) {
            Some(version.to_string())
        } else {
            member.version.clone()
        }
    };
    crate::workspaces::published_dependencies(root, package, workspace.as_ref(), &version_of)
}

/// npm's tarball name: `@scope/name` → `scope-name-<version>.tgz`.
pub fn tarball_name(name: &str, version: &str) -> String {
    format!("{}-{version}.tgz", name.trim_start_matches('@').replace('/', "-"))
}

/// The package's `name` from its package.json, checked as npm checks it.
pub fn package_name(dir: &Path) -> Result<String> {
    name_in(&read_manifest(dir)?.1, dir)
}

/// The checked `name` of `manifest`, the package.json in `dir`.
pub(crate) fn name_in(manifest: &serde_json::Value, dir: &Path) -> Result<String> {
    let name = manifest
        .get("name")
        .and_then(|n| n.as_str())
        .ok_or_else(|| Error::input("artifact", format!("{}/package.json has no name", dir.display())))?
        .to_string();
    check_package_name(&name, &dir.join("package.json"))?;
    Ok(name)
}

/// Packs `dir` into `out_dir` with `version` and the published form of `dependencies` (see
/// [`workspace_dependencies`]) written into package.json.
pub fn pack(
    dir: &Path,
    version: &str,
    out_dir: &Path,
    dependencies: &[crate::workspaces::PublishedDependency],
) -> Result<PackedPackage> {
    let (text, manifest) = read_manifest(dir)?;
    let name = name_in(&manifest, dir)?;
    let files = file_list(dir)?;
    let mut rewritten = replace_string(&text, &["version"], version).unwrap_or(text);
    for dependency in dependencies.iter().filter(|d| d.published != d.written) {
        rewritten = replace_string(
            &rewritten,
            &[&dependency.table, &dependency.name],
            &dependency.published,
        )
        .ok_or_else(|| {
            Error::input(
                "artifact",
                format!(
                    "{}/package.json: {}.{} could not be rewritten to {:?}",
                    dir.display(),
                    dependency.table,
                    dependency.name,
                    dependency.published
                ),
            )
        })?;
    }
    use std::os::unix::fs::PermissionsExt;
    let entries: Vec<ArchiveEntry> = files
        .iter()
        .map(|relative| {
            let path = dir.join(relative);
            let executable = std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
            let source = if relative == "package.json" {
                EntrySource::Bytes(rewritten.clone().into_bytes())
            } else {
                EntrySource::File(path)
            };
            ArchiveEntry {
                source,
                name: format!("package/{relative}"),
                executable,
            }
        })
        .collect();
    let file_name = tarball_name(&name, version);
    let tarball = out_dir.join(&file_name);
    let write_error = |source| Error::WriteFile {
        path: tarball.clone(),
        source,
    };
    let file = std::fs::File::create(&tarball).map_err(write_error)?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(std::io::BufWriter::new(file), flate2::Compression::new(9));
    let mut tar = tar::Builder::new(gz);
    let refs: Vec<&ArchiveEntry> = entries.iter().collect();
    append_tar_entries(&mut tar, &refs, NPM_EPOCH, &tarball)?;
    tar.into_inner().map_err(write_error)?.finish().map_err(write_error)?;
    let bytes = std::fs::read(&tarball).map_err(|source| Error::ReadFile {
        path: tarball.clone(),
        source,
    })?;
    let integrity = format!("sha512-{}", base64(&Sha512::digest(&bytes)));
    Ok(PackedPackage {
        name,
        version: version.to_string(),
        tarball,
        file_name,
        integrity,
        files,
    })
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn package_names_follow_npm() {
        let at = Path::new("package.json");
        for good in ["widget", "@acme/cli", "a.b-c_d", "x~y"] {
            assert!(check_package_name(good, at).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../../x",
            "@acme",
            "@acme/",
            "Widget",
            ".hidden",
            "_x",
            "a b",
            "a/b",
            "@a/b/c",
            "node_modules",
        ] {
            assert!(check_package_name(bad, at).is_err(), "{bad}");
        }
    }

    #[test]
    fn tarball_names() {
        assert_eq!(tarball_name("@acme/cli", "1.2.3"), "acme-cli-1.2.3.tgz");
        assert_eq!(tarball_name("widget", "1.0.0-rc.1"), "widget-1.0.0-rc.1.tgz");
    }
}
