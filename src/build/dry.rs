//! Why this exists: a dry run must fail only where the real run would. Some inputs cannot exist
//! when a dry run looks: the files of an artifact that its own build command makes (the dry run
//! runs no command), and, in a matrix release checked on one machine, the files of the artifacts
//! other platforms' runners build. Such an artifact is recorded as what the real run would produce
//! — its name, kind and where it comes from — instead of failing on files that are not there yet.
//! Everything that can be checked without them (the name, the config) still is.

use std::path::Path;

use crate::build::manifest::{BuiltArtifact, media_type};
use crate::build::{BuildRequest, Selection, files, npm_pack};
use crate::config::{ArtifactConfig, ArtifactKind};
use crate::error::Result;

/// For a dry run: the record and the step of an artifact whose inputs a later command or another
/// runner makes, or `None` when the dry run can check it here.
pub fn not_yet_made(request: &BuildRequest<'_>, artifact: &ArtifactConfig) -> Result<Option<(BuiltArtifact, String)>> {
    let own_command = !artifact.build.is_empty() || artifact.shell.is_some();
    let elsewhere = match (&artifact.platform, &request.selection) {
        (Some(platform), Selection::All) if !inputs_here(request.workspace, artifact) => Some(platform),
        _ => None,
    };
    let from = match (own_command, elsewhere) {
        (true, _) => "by its build command".to_string(),
        (false, Some(platform)) => format!(
            "on the {platform} runner of a matrix release (`--partial {platform}`); its files are not on this machine"
        ),
        (false, None) => return Ok(None),
    };
    // What can be checked without the files still is: no path may leave the repository.
    let label = format!("artifact {:?}", artifact.display_name());
    let paths = [
        &artifact.path,
        &artifact.oci_layout,
        &artifact.context,
        &artifact.dockerfile,
    ];
    for path in paths.into_iter().flatten().chain(&artifact.files) {
        files::check_relative(&label, path)?;
    }
    let (name, file) = produced_name(request, artifact);
    let kind = artifact.kind.as_str();
    let record = BuiltArtifact {
        media_type: match artifact.kind {
            ArtifactKind::Npm => "application/gzip".into(),
            ArtifactKind::Image => "application/vnd.oci.image.manifest.v1+json".into(),
            _ => media_type(&name).into(),
        },
        path: file.then(|| name.clone()),
        name: name.clone(),
        kind: kind.to_string(),
        size: 0,
        sha256: String::new(),
        platform: artifact.platform.clone(),
        arch: artifact.arch.clone(),
    };
    Ok(Some((record, format!("build {name} {from}"))))
}

/// Whether the files `artifact` reads are here.
pub(crate) fn inputs_here(root: &Path, artifact: &ArtifactConfig) -> bool {
    let label = format!("artifact {:?}", artifact.display_name());
    let exists = |path: &Option<String>| {
        path.as_deref()
            .is_some_and(|p| files::inside(root, &label, p).is_ok_and(|full| full.exists()))
    };
    match artifact.kind {
        ArtifactKind::Archive => files::resolve(root, &label, &artifact.files).is_ok(),
        ArtifactKind::Image => exists(&artifact.oci_layout) || exists(&artifact.context),
        _ => exists(&artifact.path),
    }
}

/// The name the real run gives the artifact, and whether it is a file in dist/.
fn produced_name(request: &BuildRequest<'_>, artifact: &ArtifactConfig) -> (String, bool) {
    let version = &request.plan.version;
    match artifact.kind {
        ArtifactKind::Archive | ArtifactKind::File => {
            (artifact.asset_name().unwrap_or_else(|| artifact.display_name()), true)
        }
        ArtifactKind::Npm => {
            let package = artifact
                .path
                .as_deref()
                .and_then(|p| npm_pack::package_name(&request.workspace.join(p)).ok());
            match package {
                Some(package) => (npm_pack::tarball_name(&package, version), true),
                None => (artifact.display_name(), false),
            }
        }
        ArtifactKind::Image => (
            format!("{}:{version}", artifact.image.as_deref().unwrap_or_default()),
            false,
        ),
        ArtifactKind::Docs => (artifact.display_name(), false),
    }
}
