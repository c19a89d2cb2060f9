//! Why this exists: `dist/manifest.json` is the one record of what a build produced — each
//! artifact's name, kind, file, size, digest, platform — that publishing reads, and the unit that
//! matrix jobs hand over: each runner writes a partial manifest, one job merges them.
//!
//! Schema (version 1), all keys kebab-case:
//! `{ "schema-version": 1, "version", "tag", "commit", "partial": null | "NAME",
//!    "artifacts": [{ "name", "kind", "path", "size", "sha256", "platform", "arch", "media-type" }] }`
//! `path` is relative to the directory holding the manifest (for images: the layout, if any).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of the manifest's JSON shape.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// What a build produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildManifest {
    /// [`MANIFEST_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The version built.
    pub version: String,
    /// Its tag.
    pub tag: String,
    /// The commit built.
    pub commit: String,
    /// The matrix job's name for a partial manifest.
    pub partial: Option<String>,
    /// Everything built, by name.
    pub artifacts: Vec<BuiltArtifact>,
}

/// One built artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuiltArtifact {
    /// The asset name (archives, files, npm tarballs), or the image reference or docs label.
    pub name: String,
    /// archive | file | npm | image | docs | checksums | signature
    pub kind: String,
    /// Relative to the manifest's directory.
    pub path: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the file (for images: of the image manifest).
    pub sha256: String,
    /// The platform, when the artifact is platform-specific.
    pub platform: Option<String>,
    /// The architecture.
    pub arch: Option<String>,
    /// The media type uploads use.
    pub media_type: String,
}

/// The media type for an asset file name.
pub fn media_type(name: &str) -> &'static str {
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        "application/gzip"
    } else if name.ends_with(".zip") {
        "application/zip"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".asc") {
        "application/pgp-signature"
    } else if name == "SHA256SUMS" || name.ends_with(".txt") {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

impl BuildManifest {
    /// Writes the manifest as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest serializes");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a manifest, refusing other schema versions; errors name `input`, what brought it.
    pub fn read(path: &Path, input: &str) -> Result<BuildManifest> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        let manifest: BuildManifest = serde_json::from_str(&text)
            .map_err(|e| Error::input(input, format!("{} is not a build manifest: {e}", path.display())))?;
        if manifest.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(Error::input(
                input,
                format!(
                    "{} has schema-version {}; this tamma-release reads {MANIFEST_SCHEMA_VERSION}",
                    path.display(),
                    manifest.schema_version
                ),
            ));
        }
        Ok(manifest)
    }
}

/// A manifest found in a merge directory, with paths made absolute.
#[derive(Debug, Clone)]
pub struct Located {
    /// The artifact.
    pub artifact: BuiltArtifact,
    /// The file, when it has one.
    pub file: Option<PathBuf>,
}

/// Reads every `*.json` build manifest directly in each directory and merges their artifacts.
/// One name with two digests is an error; the same artifact twice is kept once.
pub fn merge(dirs: &[PathBuf], version: &str) -> Result<Vec<Located>> {
    let mut by_name: BTreeMap<String, Located> = BTreeMap::new();
    let mut found_any = false;
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadFile {
            path: dir.clone(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if !text.contains("\"schema-version\"") || !text.contains("\"artifacts\"") {
                continue;
            }
            let manifest = BuildManifest::read(&file, "--merge")?;
            found_any = true;
            if manifest.version != version {
                return Err(Error::input(
                    "--merge",
                    format!(
                        "{} was built for {} but this release is {version}",
                        file.display(),
                        manifest.version
                    ),
                ));
            }
            for artifact in manifest.artifacts {
                match by_name.get(&artifact.name) {
                    Some(existing) if existing.artifact.sha256 != artifact.sha256 => {
                        return Err(Error::input(
                            "--merge",
                            format!(
                                "artifact {:?} was built twice with different contents (sha256 {} and {}); each name must come from one job",
                                artifact.name, existing.artifact.sha256, artifact.sha256
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        let located = locate(dir, &file, artifact)?;
                        by_name.insert(located.artifact.name.clone(), located);
                    }
                }
            }
        }
    }
    if !found_any {
        return Err(Error::input(
            "--merge",
            format!(
                "no build manifest in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(by_name.into_values().collect())
}

/// Checks one artifact of a partial manifest — which came from another job's upload and is read
/// as untrusted — and finds its file: a downloadable artifact needs a legal asset name and a
/// `path` that stays inside the partial's folder (relative, no `..`, no link out of it).
fn locate(dir: &Path, manifest: &Path, artifact: BuiltArtifact) -> Result<Located> {
    let refuse = |what: String| {
        Error::input(
            "--merge",
            format!(
                "{} {what}; a partial manifest may only name files in its own folder",
                manifest.display()
            ),
        )
    };
    match artifact.kind.as_str() {
        "archive" | "file" | "npm" => {}
        // Images and docs are not carried as files in a partial; nothing of theirs is read.
        "image" | "docs" => return Ok(Located { file: None, artifact }),
        other => return Err(refuse(format!("lists {:?} of kind {other:?}", artifact.name))),
    }
    if let Some(problem) = crate::config::asset_name_problem(&artifact.name) {
        return Err(refuse(format!(
            "names an artifact {:?}, which {problem}",
            artifact.name
        )));
    }
    let Some(path) = &artifact.path else {
        return Err(refuse(format!("gives {:?} no path", artifact.name)));
    };
    let relative = Path::new(path);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(refuse(format!("gives {:?} the path {path:?}", artifact.name)));
    }
    let file = dir.join(relative);
    let canonical_dir = dir.canonicalize().map_err(|source| Error::ReadFile {
        path: dir.to_path_buf(),
        source,
    })?;
    match file.canonicalize() {
        Ok(target) if target.starts_with(&canonical_dir) => Ok(Located {
            file: Some(target),
            artifact,
        }),
        Ok(target) => Err(refuse(format!(
            "gives {:?} the path {path:?}, a link to {}",
            artifact.name,
            target.display()
        ))),
        Err(source) => Err(Error::ReadFile { path: file, source }),
    }
}

/// Resolves `--merge` / `merge` entries against `base`: `dir/*` becomes every directory in `dir`
/// (sorted), other entries are taken as they are. An entry that matches nothing is an error.
pub fn expand_merge_dirs(base: &Path, entries: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in entries {
        let path = base.join(entry);
        if entry.file_name().is_some_and(|n| n == "*") {
            let parent = path.parent().unwrap_or(base);
            let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
                .map_err(|source| Error::ReadFile {
                    path: parent.to_path_buf(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            if found.is_empty() {
                return Err(Error::input(
                    "merge",
                    format!(
                        "{} matches no directory; download the partial builds there first",
                        entry.display()
                    ),
                ));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}
