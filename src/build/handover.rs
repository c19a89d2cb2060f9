//! Why this exists: a release may build in one job and publish in another (`--stages build`,
//! then `--stages publish`), so that a job between them can attest `dist/SHA256SUMS` before
//! anything is published (the provenance recipe) or so that the publishing job never runs build
//! tools. The publish job then ships exactly the `dist/` the build job handed over — but that
//! folder arrives as a download, so it is read as untrusted: the manifest must be for this very
//! release (version, tag and commit), every file must be a plain file inside `dist/` with the
//! size and digest the manifest records, `SHA256SUMS` must list exactly the downloads, and every
//! image layout must hold the image the manifest records.

use std::path::Path;

use crate::build::manifest::{BuildManifest, BuiltArtifact};
use crate::build::{SUMS_NAME, checksum, dist_dir, oci, signing, stored_layout};
use crate::config::{ArtifactKind, Config};
use crate::error::{Error, Result};
use crate::plan::ReleasePlan;

const INPUT: &str = "stages";

/// Reads and checks `dist/manifest.json` from an earlier build of this release. A release whose
/// config builds nothing (docs and staging deploys only) needs none: `None`.
pub fn load(workspace: &Path, config: &Config, plan: &ReleasePlan) -> Result<Option<BuildManifest>> {
    let dist = dist_dir(workspace);
    let path = dist.join("manifest.json");
    let builds_something = config.artifacts.iter().any(|a| a.kind != ArtifactKind::Docs);
    if !path.is_file() && !builds_something {
        return Ok(None);
    }
    if !path.is_file() {
        return Err(Error::input(
            INPUT,
            format!(
                "publishing without the build stage ships the dist/ an earlier build left, but {} does not exist; \
                 run `--stages build` for {} first (in a workflow: download the build job's dist/ artifact here), \
                 or add build to the stages",
                path.display(),
                plan.tag
            ),
        ));
    }
    let manifest = BuildManifest::read(&path, INPUT)?;
    let refuse = |what: String| Error::input(INPUT, format!("{} {what}", path.display()));
    if let Some(partial) = &manifest.partial {
        return Err(refuse(format!(
            "is the partial build {partial:?}; merge partial builds with --merge"
        )));
    }
    if (
        manifest.version.as_str(),
        manifest.tag.as_str(),
        manifest.commit.as_str(),
    ) != (plan.version.as_str(), plan.tag.as_str(), plan.commit.as_str())
    {
        return Err(refuse(format!(
            "was built for {} at commit {}, but this release is {} at commit {}; build this release again",
            manifest.tag, manifest.commit, plan.tag, plan.commit
        )));
    }
    let mut downloads = Vec::new();
    let mut sums = None;
    for artifact in &manifest.artifacts {
        match artifact.kind.as_str() {
            "archive" | "file" | "npm" => {
                if let Some(problem) = crate::config::asset_name_problem(&artifact.name) {
                    return Err(refuse(format!(
                        "names an artifact {:?}, which {problem}",
                        artifact.name
                    )));
                }
                check_file(&dist, artifact, &refuse)?;
                downloads.push((artifact.name.clone(), artifact.sha256.clone()));
            }
            "checksums" if artifact.name == SUMS_NAME => sums = Some(check_file(&dist, artifact, &refuse)?),
            "signature" if artifact.name == signing::SIGNATURE_NAME => {
                check_file(&dist, artifact, &refuse)?;
            }
            "image" => check_image(&dist, config, plan, artifact, &refuse)?,
            // A docs site is deployed from the checkout, not carried in dist/.
            "docs" => {}
            kind => return Err(refuse(format!("lists {:?} of kind {kind:?}", artifact.name))),
        }
    }
    match sums {
        Some(text) if text == checksum::sums_file(&downloads).into_bytes() => {}
        None if downloads.is_empty() => {}
        _ => {
            return Err(refuse(format!(
                "does not agree with {SUMS_NAME}: the sums must list exactly the downloads the manifest records"
            )));
        }
    }
    for artifact in config.artifacts.iter().filter(|a| a.kind == ArtifactKind::Image) {
        let reference = format!("{}:{}", artifact.image.as_deref().unwrap_or_default(), plan.version);
        if !manifest
            .artifacts
            .iter()
            .any(|a| a.kind == "image" && a.name == reference)
        {
            return Err(refuse(format!(
                "has no image {reference}, which the config releases; it was built with another config"
            )));
        }
    }
    Ok(Some(manifest))
}

/// Checks that `artifact`'s file is a plain file directly in `dist/` with its recorded size and
/// digest, and returns its bytes when it is small (the sums file).
fn check_file(dist: &Path, artifact: &BuiltArtifact, refuse: &dyn Fn(String) -> Error) -> Result<Vec<u8>> {
    let name = artifact.path.as_deref().unwrap_or_default();
    let single = Path::new(name).components().count() == 1
        && matches!(
            Path::new(name).components().next(),
            Some(std::path::Component::Normal(_))
        );
    if !single {
        return Err(refuse(format!(
            "gives {:?} the path {name:?}; a file of the release is one file directly in dist/",
            artifact.name
        )));
    }
    let file = dist.join(name);
    let meta = std::fs::symlink_metadata(&file).map_err(|source| Error::ReadFile {
        path: file.clone(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(refuse(format!(
            "gives {:?} {}, which is not a plain file",
            artifact.name,
            file.display()
        )));
    }
    // The checksums file is needed whole: read it once and hash what was read.
    let (digest, bytes) = if artifact.kind == "checksums" {
        let bytes = std::fs::read(&file).map_err(|source| Error::ReadFile {
            path: file.clone(),
            source,
        })?;
        let digest = checksum::FileDigest {
            path: file.clone(),
            sha256: checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            size: bytes.len() as u64,
        };
        (digest, bytes)
    } else {
        (checksum::sha256_file(&file)?, Vec::new())
    };
    if (digest.sha256.as_str(), digest.size) != (artifact.sha256.as_str(), artifact.size) {
        return Err(refuse(format!(
            "records {} with sha256 {} ({} bytes), but the file has sha256 {} ({} bytes); the download is damaged or was changed — build again",
            artifact.name, artifact.sha256, artifact.size, digest.sha256, digest.size
        )));
    }
    Ok(bytes)
}

/// Checks that the layout publishing will push holds the image the manifest records, and that no
/// link in it leads anywhere.
fn check_image(
    dist: &Path,
    config: &Config,
    plan: &ReleasePlan,
    artifact: &BuiltArtifact,
    refuse: &dyn Fn(String) -> Error,
) -> Result<()> {
    let configured = config
        .artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Image)
        .find(|a| {
            a.image
                .as_deref()
                .is_some_and(|i| format!("{i}:{}", plan.version) == artifact.name)
        });
    let Some(image) = configured.and_then(|a| a.image.as_deref()) else {
        return Err(refuse(format!(
            "lists the image {:?}, which the config does not release",
            artifact.name
        )));
    };
    if artifact.path.is_none() || configured.is_some_and(|a| a.oci_layout.is_none()) {
        return Err(refuse(format!(
            "lists {:?}, built by a Docker daemon; an image is carried from one job to another only as an OCI \
             layout (`oci-layout = \"…\"`), or build it in the publishing job",
            artifact.name
        )));
    }
    let layout = stored_layout(dist, image);
    for entry in walkdir::WalkDir::new(&layout).follow_links(false) {
        let entry = entry.map_err(|e| refuse(format!("has an unreadable image layout: {e}")))?;
        if entry.path_is_symlink() {
            return Err(refuse(format!(
                "has a symbolic link in the layout of {:?} ({}); layouts handed over are plain files",
                artifact.name,
                entry.path().display()
            )));
        }
    }
    let summary = oci::validate(&artifact.name, &layout)?;
    if summary.digest.trim_start_matches("sha256:") != artifact.sha256 {
        return Err(refuse(format!(
            "records {} as sha256:{}, but its layout holds {}; build again",
            artifact.name, artifact.sha256, summary.digest
        )));
    }
    Ok(())
}
