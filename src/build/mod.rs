//! Why this exists: the build stage turns `[[artifact]]` entries into files in `dist/` — archives,
//! plain files, npm tarballs, checked OCI layouts, daemon-built images, docs sites — each with its
//! size and SHA-256 in `dist/manifest.json`, plus `SHA256SUMS` for the downloadable ones. It is
//! local only: nothing leaves the machine, so a failed build costs a re-run, not a version.
//! A dry run resolves and checks every input (globs, paths, layouts, package file lists) and
//! writes nothing, runs no build command and no docker build.

pub mod archive;
pub mod checksum;
pub mod command;
mod dist;
pub mod docker;
pub(crate) mod dry;
pub mod files;
pub mod handover;
pub mod manifest;
pub mod npm_pack;
pub mod oci;
mod package;
pub mod pargz;
pub mod programs;
pub mod signing;

pub use dist::{DistLock, dist_dir};
pub use package::{package, package_root};

use std::path::{Path, PathBuf};

use crate::config::{ArtifactConfig, ArtifactKind, Config};
use crate::error::{Error, Result};
use crate::plan::ReleasePlan;
use archive::{ArchiveEntry, ArchiveFormat, write_archive};
use manifest::{BuildManifest, BuiltArtifact, MANIFEST_SCHEMA_VERSION, media_type};

/// The name of the checksums asset.
pub const SUMS_NAME: &str = "SHA256SUMS";

/// Which artifacts this job builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every artifact (a single-job release).
    All,
    /// `--partial NAME`: the artifacts whose `platform` is NAME.
    Partial(String),
    /// `--merge`: the artifacts without a platform; the rest come from partial manifests.
    Merge(Vec<PathBuf>),
}

/// Everything the build stage needs.
pub struct BuildRequest<'a> {
    /// The repository root.
    pub workspace: &'a Path,
    /// The config.
    pub config: &'a Config,
    /// The plan.
    pub plan: &'a ReleasePlan,
    /// Which artifacts.
    pub selection: Selection,
    /// The time written into archives (SOURCE_DATE_EPOCH, else the commit time).
    pub epoch: i64,
    /// `DOCKER_HOST`, when set.
    pub docker_host: Option<String>,
    /// The environment build commands run with.
    pub command_env: command::CommandEnv,
    /// The key that signs `SHA256SUMS`, when the release signs it.
    pub signing: Option<&'a signing::SigningKey>,
    /// Check only; write nothing.
    pub dry_run: bool,
}

/// What the build stage did.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// The manifest (also written to `dist/`, unless a dry run).
    pub manifest: BuildManifest,
    /// What was done, in words, one line per artifact.
    pub steps: Vec<String>,
}

/// Where the build stage keeps an image's checked OCI layout (a directory) for publishing.
pub fn stored_layout(dist: &Path, image: &str) -> PathBuf {
    dist.join("oci")
        .join(image.to_ascii_lowercase().replace(['/', ':'], "_"))
}

/// How errors name an artifact: `artifact "widget.tar.gz"`.
fn key(name: &str) -> String {
    format!("artifact {name:?}")
}

fn label(artifact: &ArtifactConfig) -> String {
    artifact.display_name()
}

fn selected<'a>(config: &'a Config, selection: &Selection) -> Result<Vec<&'a ArtifactConfig>> {
    let chosen: Vec<&ArtifactConfig> = match selection {
        Selection::All => config.artifacts.iter().collect(),
        Selection::Partial(name) => {
            let chosen: Vec<_> = config
                .artifacts
                .iter()
                .filter(|a| a.platform.as_deref() == Some(name))
                .collect();
            if chosen.is_empty() {
                let known: Vec<&str> = config.artifacts.iter().filter_map(|a| a.platform.as_deref()).collect();
                return Err(Error::input(
                    "--partial",
                    format!(
                        "no [[artifact]] has platform = {name:?}; platforms in the config: {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            chosen
        }
        Selection::Merge(_) => config.artifacts.iter().filter(|a| a.platform.is_none()).collect(),
    };
    Ok(chosen)
}

/// Runs the build stage.
pub fn build(request: &BuildRequest<'_>) -> Result<BuildOutcome> {
    let dist = dist_dir(request.workspace);
    let mut built: Vec<BuiltArtifact> = Vec::new();
    let mut steps = Vec::new();
    if !request.dry_run {
        std::fs::create_dir_all(&dist).map_err(|source| Error::WriteFile {
            path: dist.clone(),
            source,
        })?;
    }
    if let Selection::Merge(dirs) = &request.selection {
        for located in manifest::merge(dirs, &request.plan.version)? {
            let mut artifact = located.artifact;
            if let (Some(source), false) = (&located.file, request.dry_run) {
                // The name was checked to be one legal file name (see manifest::merge).
                let file_name = PathBuf::from(&artifact.name);
                let target = dist.join(&file_name);
                if source.is_file() {
                    std::fs::copy(source, &target).map_err(|source_err| Error::WriteFile {
                        path: target.clone(),
                        source: source_err,
                    })?;
                    let digest = checksum::sha256_file(&target)?;
                    if digest.sha256 != artifact.sha256 {
                        return Err(Error::Failed(format!(
                            "{} does not match its partial manifest (sha256 {} expected, {} found); the download is damaged — re-run the job",
                            source.display(),
                            artifact.sha256,
                            digest.sha256
                        )));
                    }
                    artifact.path = Some(file_name.to_string_lossy().into_owned());
                }
            }
            steps.push(format!(
                "{} {} ({}) from a partial manifest",
                if request.dry_run { "merge" } else { "merged" },
                artifact.name,
                artifact.kind
            ));
            built.push(artifact);
        }
    }
    for artifact in selected(request.config, &request.selection)? {
        let later = match request.dry_run {
            true => dry::not_yet_made(request, artifact)?,
            false => None,
        };
        let (item, step) = match later {
            Some(later) => later,
            None => build_one(request, artifact, &dist)?,
        };
        steps.push(step);
        if let Some(existing) = built.iter().find(|b| b.name == item.name) {
            return Err(Error::input(
                "[[artifact]]",
                format!(
                    "two artifacts produce {:?} ({} and {}); names must be unique",
                    item.name, existing.kind, item.kind
                ),
            ));
        }
        built.push(item);
    }
    let partial = match &request.selection {
        Selection::Partial(name) => Some(name.clone()),
        _ => None,
    };
    let downloadable: Vec<(String, String)> = built
        .iter()
        .filter(|b| matches!(b.kind.as_str(), "archive" | "file" | "npm"))
        .map(|b| (b.name.clone(), b.sha256.clone()))
        .collect();
    if partial.is_none() && !downloadable.is_empty() {
        let text = checksum::sums_file(&downloadable);
        let sha = checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        if !request.dry_run {
            let path = dist.join(SUMS_NAME);
            std::fs::write(&path, &text).map_err(|source| Error::WriteFile { path, source })?;
        }
        let verb = if request.dry_run { "write" } else { "wrote" };
        steps.push(format!("{verb} {SUMS_NAME} over {} asset(s)", downloadable.len()));
        built.push(BuiltArtifact {
            name: SUMS_NAME.into(),
            kind: "checksums".into(),
            path: Some(SUMS_NAME.into()),
            size: text.len() as u64,
            sha256: sha,
            platform: None,
            arch: None,
            media_type: media_type(SUMS_NAME).into(),
        });
        if let Some(key) = request.signing {
            built.push(sign_sums(key, &text, &dist, request.dry_run, &mut steps)?);
        }
    }
    let manifest = BuildManifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        version: request.plan.version.clone(),
        tag: request.plan.tag.clone(),
        commit: request.plan.commit.clone(),
        partial: partial.clone(),
        artifacts: built,
    };
    if !request.dry_run {
        let name = match &partial {
            Some(p) => format!("partial-{p}.json"),
            None => "manifest.json".to_string(),
        };
        manifest.write(&dist.join(name))?;
    }
    Ok(BuildOutcome { manifest, steps })
}

fn record(
    artifact: &ArtifactConfig,
    name: String,
    kind: &str,
    path: Option<String>,
    size: u64,
    sha256: String,
    media: &str,
) -> BuiltArtifact {
    BuiltArtifact {
        name,
        kind: kind.to_string(),
        path,
        size,
        sha256,
        platform: artifact.platform.clone(),
        arch: artifact.arch.clone(),
        media_type: media.to_string(),
    }
}

/// Refuses an asset name that is not one legal file name (the config loader already did; this
/// keeps every `dist.join(name)` below safe whoever built the config).
fn legal_asset(name: &str) -> Result<()> {
    match crate::config::asset_name_problem(name) {
        Some(problem) => Err(Error::input(
            format!("artifact {name:?}"),
            format!("the name {problem}"),
        )),
        None => Ok(()),
    }
}

fn required<'a>(artifact: &ArtifactConfig, value: &'a Option<String>, key: &str) -> Result<&'a str> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        Error::input(
            format!("artifact {:?}", label(artifact)),
            format!("kind = \"{}\" needs `{key}`", artifact.kind.as_str()),
        )
    })
}

fn run_build_command(request: &BuildRequest<'_>, artifact: &ArtifactConfig) -> Result<()> {
    let argv: Vec<String> = match (&artifact.shell, artifact.build.is_empty()) {
        (Some(shell), _) => vec!["sh".into(), "-c".into(), shell.clone()],
        (None, false) => artifact.build.clone(),
        (None, true) => return Ok(()),
    };
    let timeout = match &artifact.timeout {
        Some(t) => command::parse_duration(&format!("artifact {:?} timeout", label(artifact)), t)?,
        None => command::DEFAULT_TIMEOUT,
    };
    if request.dry_run {
        tracing::info!("would run {}", argv.join(" "));
        return Ok(());
    }
    command::run(
        &key(&label(artifact)),
        &argv,
        request.workspace,
        timeout,
        &request.command_env,
    )
}

/// Writes `SHA256SUMS.asc`, the detached signature of the sums (a dry run signs, to prove the
/// key works, and writes nothing).
fn sign_sums(
    key: &signing::SigningKey,
    sums: &str,
    dist: &Path,
    dry_run: bool,
    steps: &mut Vec<String>,
) -> Result<BuiltArtifact> {
    let signature = key.sign(sums.as_bytes())?;
    if !dry_run {
        let path = dist.join(signing::SIGNATURE_NAME);
        std::fs::write(&path, &signature).map_err(|source| Error::WriteFile { path, source })?;
    }
    let verb = if dry_run { "sign" } else { "signed" };
    steps.push(format!("{verb} {SUMS_NAME} with OpenPGP key {}", key.fingerprint()));
    Ok(BuiltArtifact {
        name: signing::SIGNATURE_NAME.into(),
        kind: "signature".into(),
        path: Some(signing::SIGNATURE_NAME.into()),
        size: signature.len() as u64,
        sha256: checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(signature.as_bytes())),
        platform: None,
        arch: None,
        media_type: media_type(signing::SIGNATURE_NAME).into(),
    })
}

fn build_one(request: &BuildRequest<'_>, artifact: &ArtifactConfig, dist: &Path) -> Result<(BuiltArtifact, String)> {
    let root = request.workspace;
    let name = label(artifact);
    // A dry run's steps are in the plain form, shown with "would" in front; a real run's are done.
    let verb = if request.dry_run { "build" } else { "built" };
    run_build_command(request, artifact)?;
    match artifact.kind {
        ArtifactKind::Archive => {
            let asset = required(artifact, &artifact.name, "name")?;
            legal_asset(asset)?;
            let format = ArchiveFormat::for_name(&format!("artifact {asset:?}"), asset)?;
            if artifact.files.is_empty() {
                return Err(Error::input(
                    format!("artifact {asset:?}"),
                    "kind = \"archive\" needs `files` (globs relative to the repository root)",
                ));
            }
            let matched = files::resolve(root, &key(asset), &artifact.files)?;
            let entries: Vec<ArchiveEntry> = matched
                .iter()
                .map(|m| ArchiveEntry {
                    source: m.path.clone().into(),
                    name: files::archive_name(&m.relative, artifact.strip_prefix.as_deref()),
                    executable: m.executable,
                })
                .collect();
            let (size, sha) = if request.dry_run {
                (0, String::new())
            } else {
                let out = dist.join(asset);
                write_archive(&out, format, &entries, request.epoch)?;
                let digest = checksum::sha256_file(&out)?;
                (digest.size, digest.sha256)
            };
            Ok((
                record(
                    artifact,
                    asset.into(),
                    "archive",
                    Some(asset.into()),
                    size,
                    sha,
                    media_type(asset),
                ),
                format!("{verb} {asset} from {} file(s)", entries.len()),
            ))
        }
        ArtifactKind::File => {
            let path = required(artifact, &artifact.path, "path")?;
            let asset = artifact.name.clone().unwrap_or_else(|| {
                Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            legal_asset(&asset)?;
            let source = files::inside(root, &key(&asset), path)?;
            let (size, sha) = if request.dry_run {
                let digest = checksum::sha256_file(&source)?;
                (digest.size, digest.sha256)
            } else {
                let target = dist.join(&asset);
                std::fs::copy(&source, &target).map_err(|e| Error::WriteFile {
                    path: target.clone(),
                    source: e,
                })?;
                let digest = checksum::sha256_file(&target)?;
                (digest.size, digest.sha256)
            };
            Ok((
                record(
                    artifact,
                    asset.clone(),
                    "file",
                    Some(asset.clone()),
                    size,
                    sha,
                    media_type(&asset),
                ),
                format!("{verb} {asset} from {path}"),
            ))
        }
        ArtifactKind::Npm => {
            let path = required(artifact, &artifact.path, "path")?;
            let dir = files::inside(root, &key(&name), path)?;
            let dependencies = npm_pack::workspace_dependencies(root, request.config, Path::new(path), request.plan)?;
            let rewritten = dependencies.iter().filter(|d| d.published != d.written).count();
            let rewritten = match rewritten {
                0 => String::new(),
                n => format!(", {n} workspace range(s) rewritten"),
            };
            if request.dry_run {
                // Named as the real run names it, so the dry run lists the asset it would upload.
                let package = npm_pack::package_name(&dir)?;
                let tarball = npm_pack::tarball_name(&package, &request.plan.version);
                let list = npm_pack::file_list(&dir)?;
                return Ok((
                    record(
                        artifact,
                        tarball.clone(),
                        "npm",
                        Some(tarball.clone()),
                        0,
                        String::new(),
                        "application/gzip",
                    ),
                    format!(
                        "{verb} {tarball} ({package}@{}, {} file(s){rewritten})",
                        request.plan.version,
                        list.len()
                    ),
                ));
            }
            let packed = npm_pack::pack(&dir, &request.plan.version, dist, &dependencies)?;
            let digest = checksum::sha256_file(&packed.tarball)?;
            Ok((
                record(
                    artifact,
                    packed.file_name.clone(),
                    "npm",
                    Some(packed.file_name.clone()),
                    digest.size,
                    digest.sha256,
                    "application/gzip",
                ),
                format!(
                    "{verb} {} ({}@{}, {} file(s){rewritten}, {})",
                    packed.file_name,
                    packed.name,
                    packed.version,
                    packed.files.len(),
                    packed.integrity
                ),
            ))
        }
        ArtifactKind::Image => {
            let image = required(artifact, &artifact.image, "image")?;
            let reference = format!("{image}:{}", request.plan.version);
            match (&artifact.oci_layout, &artifact.context) {
                (Some(layout), None) => {
                    let source = files::inside(root, &key(&name), layout)?;
                    let summary = oci::validate(&name, &source)?;
                    let hex = summary.digest.trim_start_matches("sha256:").to_string();
                    let stored = if request.dry_run {
                        None
                    } else {
                        let target = stored_layout(dist, image);
                        if source.is_file() {
                            let file = std::fs::File::open(&source).map_err(|e| Error::ReadFile {
                                path: source.clone(),
                                source: e,
                            })?;
                            tar::Archive::new(file).unpack(&target).map_err(|e| Error::WriteFile {
                                path: target.clone(),
                                source: e,
                            })?;
                        } else {
                            copy_dir(&source, &target)?;
                        }
                        Some(
                            target
                                .strip_prefix(dist)
                                .unwrap_or(&target)
                                .to_string_lossy()
                                .into_owned(),
                        )
                    };
                    Ok((
                        record(
                            artifact,
                            reference.clone(),
                            "image",
                            stored,
                            summary.size,
                            hex,
                            &summary.media_type,
                        ),
                        format!("checked the OCI layout {layout} for {reference} ({})", summary.digest),
                    ))
                }
                (None, Some(context)) => {
                    let context_dir = files::inside(root, &key(&name), context)?;
                    let dockerfile = artifact
                        .dockerfile
                        .clone()
                        .unwrap_or_else(|| format!("{}/Dockerfile", context.trim_end_matches('/')));
                    let dockerfile_path = files::inside(root, &key(&name), &dockerfile)?;
                    let in_context = dockerfile_path
                        .strip_prefix(&context_dir)
                        .map_err(|_| {
                            Error::input(
                                format!("artifact {name:?}"),
                                format!("dockerfile {dockerfile:?} must be inside the context {context:?}"),
                            )
                        })?
                        .to_string_lossy()
                        .into_owned();
                    if request.dry_run {
                        return Ok((
                            record(
                                artifact,
                                reference.clone(),
                                "image",
                                None,
                                0,
                                String::new(),
                                "application/vnd.docker.distribution.manifest.v2+json",
                            ),
                            format!("{verb} {reference} from {dockerfile}"),
                        ));
                    }
                    let built = docker::build(request.docker_host.as_deref(), &context_dir, &in_context, &reference)?;
                    let hex = built.id.trim_start_matches("sha256:").to_string();
                    Ok((
                        record(
                            artifact,
                            reference.clone(),
                            "image",
                            None,
                            0,
                            hex,
                            "application/vnd.docker.distribution.manifest.v2+json",
                        ),
                        format!("{verb} {reference} ({})", built.id),
                    ))
                }
                _ => Err(Error::input(
                    format!("artifact {name:?}"),
                    "kind = \"image\" needs either `oci-layout` or `context` (with an optional `dockerfile`), not both",
                )),
            }
        }
        ArtifactKind::Docs => {
            let path = required(artifact, &artifact.path, "path")?;
            let dir = files::inside(root, &key(&name), path)?;
            let canonical = dir.canonicalize().map_err(|source| Error::ReadFile {
                path: dir.clone(),
                source,
            })?;
            let mut names = Vec::new();
            let mut paths = Vec::new();
            let owner = format!("artifact {name:?}");
            let called = format!("the docs folder {path}");
            files::walk(
                &dir,
                "",
                files::Links::Within(&canonical, &called),
                &owner,
                &mut |relative, file| {
                    names.push(relative.to_string());
                    paths.push(file.to_path_buf());
                    Ok(())
                },
            )?;
            if names.is_empty() {
                return Err(Error::input(
                    format!("artifact {name:?}"),
                    format!("the docs directory {path:?} is empty; build the site first"),
                ));
            }
            // The site's digest: sha256 over its sorted `sha256  path` lines, as sha256sum prints them.
            let digests = checksum::sha256_files(&paths)?;
            let size = digests.iter().map(|d| d.size).sum();
            let listing: Vec<(String, String)> = names
                .iter()
                .cloned()
                .zip(digests.iter().map(|d| d.sha256.clone()))
                .collect();
            let tree = checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                checksum::sums_file(&listing).as_bytes(),
            ));
            let count = names.len();
            Ok((
                record(
                    artifact,
                    name.clone(),
                    "docs",
                    Some(format!("../{path}")),
                    size,
                    tree,
                    "text/html",
                ),
                format!("checked the docs site {path} ({count} file(s))"),
            ))
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let canonical = from.canonicalize().map_err(|source| Error::ReadFile {
        path: from.to_path_buf(),
        source,
    })?;
    files::walk(
        from,
        "",
        files::Links::Within(&canonical, "the OCI layout"),
        "the OCI layout",
        &mut |relative, path| {
            let target = to.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::WriteFile {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::copy(path, &target).map_err(|source| Error::WriteFile {
                path: target.clone(),
                source,
            })?;
            Ok(())
        },
    )
}
