//! Why this exists: what a release ships, read from the build manifest and the config — the
//! files that go on the GitHub release, the npm packages, the images — kept apart from the
//! transaction that ships them.

use crate::build;
use crate::config::Config;
use crate::error::Result;
use crate::report::RunReport;
use crate::request::ReleaseRequest;
use crate::targets::github::{self, ReleaseAsset};
use crate::targets::{npm, oci};

/// The files the build stage made that go on the release: archives, files, npm tarballs, sums.
pub fn release_assets(request: &ReleaseRequest, report: &RunReport) -> Vec<ReleaseAsset> {
    let dist = build::dist_dir(&request.workspace);
    let Some(manifest) = &report.build else {
        return Vec::new();
    };
    manifest
        .artifacts
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "archive" | "file" | "npm" | "checksums" | "signature"))
        .filter_map(|a| {
            Some(ReleaseAsset {
                name: a.name.clone(),
                path: dist.join(a.path.as_ref()?),
                sha256: a.sha256.clone(),
                size: a.size,
                media_type: a.media_type.clone(),
            })
        })
        .collect()
}

/// Who an npm artifact is on which registry: read from its package.json in the checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageIdentity {
    /// `name` from package.json.
    pub name: String,
    /// The registry: `publishConfig.registry`, else `[npm] registry`, else npmjs — without user
    /// info or query (credentials in a committed URL are not used, and never printed).
    pub registry: String,
    /// `publishConfig.access`.
    pub access: Option<String>,
    /// The package's folder, relative to the repository root.
    pub dir: std::path::PathBuf,
}

/// The identity of every `kind = "npm"` artifact, in config order.
pub fn npm_identities(workspace: &std::path::Path, config: &Config) -> Result<Vec<PackageIdentity>> {
    let mut out = Vec::new();
    for artifact in config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Npm)
    {
        let Some(path) = &artifact.path else { continue };
        let manifest_path = workspace.join(path).join("package.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| crate::error::Error::ReadFile {
            path: manifest_path.clone(),
            source,
        })?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            crate::error::Error::input(
                "artifact",
                format!("{} is not valid JSON: {e}", manifest_path.display()),
            )
        })?;
        let name = manifest["name"].as_str().unwrap_or_default().to_string();
        let raw = manifest["publishConfig"]["registry"]
            .as_str()
            .map(str::to_string)
            .or_else(|| config.npm.registry.clone())
            .unwrap_or_else(|| npm::DEFAULT_REGISTRY.to_string());
        let (registry, had_credentials) = crate::redact::registry_url(&raw);
        if had_credentials {
            tracing::warn!(
                "the registry URL of {name} carries credentials; they are not used (give npm-token) and never printed — remove them from {}",
                manifest_path.display()
            );
        }
        out.push(PackageIdentity {
            name,
            registry,
            access: manifest["publishConfig"]["access"].as_str().map(str::to_string),
            dir: std::path::PathBuf::from(path),
        });
    }
    Ok(out)
}

/// The npm packages this release publishes, from the `kind = "npm"` artifacts, each after the
/// packages of this release it depends on (so `shared` is on the registry before `cli`).
pub fn npm_packages(request: &ReleaseRequest, config: &Config, report: &RunReport) -> Result<Vec<npm::NpmPackage>> {
    let version =
        semver::Version::parse(&report.plan.version).map_err(|e| crate::error::Error::Failed(e.to_string()))?;
    let dist = build::dist_dir(&request.workspace);
    let mut packages = Vec::new();
    for identity in npm_identities(&request.workspace, config)? {
        let dependencies =
            build::npm_pack::workspace_dependencies(&request.workspace, config, &identity.dir, &report.plan)?;
        packages.push(npm::NpmPackage {
            tarball: dist.join(build::npm_pack::tarball_name(&identity.name, &report.plan.version)),
            version: report.plan.version.clone(),
            access: identity.access,
            channel: crate::targets::channel_for(&version),
            registry: identity.registry,
            name: identity.name,
            dependencies,
        });
    }
    let graph: Vec<(String, Vec<String>)> = packages
        .iter()
        .map(|p| {
            let needs = p
                .dependencies
                .iter()
                .filter(|d| d.table != "devDependencies")
                .filter_map(|d| d.sibling.clone())
                .collect();
            (p.name.clone(), needs)
        })
        .collect();
    let order = crate::workspaces::dependency_order(&graph);
    packages.sort_by_key(|p| order.iter().position(|n| *n == p.name));
    Ok(packages)
}

/// The registry credentials of the request, scoped to the one registry they log in to (see
/// [`oci::Credentials::scoped`]).
pub fn image_credentials(request: &ReleaseRequest, config: &Config) -> Result<oci::Credentials> {
    let images: Vec<&str> = config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Image)
        .filter_map(|a| a.image.as_deref())
        .collect();
    request
        .registry
        .clone()
        .scoped(config.image.registry.as_deref(), &images)
}

/// What `templates` (`v{major}`, `{major}.{minor}`) give for `version`, for the lines whose
/// highest stable release this is: nothing for a prerelease, nothing for a line that already has
/// a higher stable release in `released` (1.3.9 after 1.4.0 moves no `1`), and with
/// `major_zero_moves` false no `{major}`-only tag for 0.x (docker/metadata-action's semver rule).
pub fn line_tags(
    templates: &[String],
    version: &semver::Version,
    released: &[semver::Version],
    major_zero_moves: bool,
) -> Vec<String> {
    if !version.pre.is_empty() {
        return Vec::new();
    }
    templates
        .iter()
        .filter(|t| t.contains("{major}"))
        .filter(|t| major_zero_moves || version.major > 0 || t.contains("{minor}"))
        .filter(|template| {
            let same_line = |v: &semver::Version| {
                v.major == version.major && (!template.contains("{minor}") || v.minor == version.minor)
            };
            !released
                .iter()
                .any(|v| v.pre.is_empty() && same_line(v) && v.cmp_precedence(version).is_gt())
        })
        .map(|template| {
            template
                .replace("{major}", &version.major.to_string())
                .replace("{minor}", &version.minor.to_string())
        })
        .collect()
}

/// The images this release publishes, from the `kind = "image"` artifacts.
pub fn image_releases(request: &ReleaseRequest, config: &Config, report: &RunReport) -> Result<Vec<oci::ImageRelease>> {
    let version = semver::Version::parse(&report.plan.version).ok();
    let dist = build::dist_dir(&request.workspace);
    let version_tags = match &version {
        Some(version) if config.image.tags.iter().any(|t| t.contains("{major}")) => {
            let released: Vec<semver::Version> = crate::plan::git::GitRepo::discover(&request.workspace)?
                .release_tags(&config.release.tag_prefix)?
                .into_iter()
                .map(|t| t.version)
                .collect();
            line_tags(&config.image.tags, version, &released, false)
        }
        _ => Vec::new(),
    };
    Ok(config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Image)
        .filter_map(|a| {
            let image = a.image.as_ref()?;
            let source = match &a.oci_layout {
                Some(_) => oci::ImageSource::Layout(build::stored_layout(&dist, image)),
                None => oci::ImageSource::Daemon,
            };
            Some(oci::ImageRelease {
                repository: image.to_ascii_lowercase(),
                version: report.plan.version.clone(),
                channel: version
                    .as_ref()
                    .map(crate::targets::channel_for)
                    .unwrap_or_else(|| "latest".into()),
                line_tags: version_tags.clone(),
                source,
            })
        })
        .collect())
}

/// Writes dist/release-plan.json (the plan with its metrics) to attach to the release, so the
/// next release can read what this one measured.
pub fn write_plan_asset(request: &ReleaseRequest, report: &RunReport) -> Result<ReleaseAsset> {
    let dist = build::dist_dir(&request.workspace);
    std::fs::create_dir_all(&dist).map_err(|source| crate::error::Error::WriteFile {
        path: dist.clone(),
        source,
    })?;
    let path = dist.join(github::PLAN_ASSET);
    let mut text = serde_json::to_string_pretty(&report.plan).expect("a plan serializes");
    text.push('\n');
    std::fs::write(&path, &text).map_err(|source| crate::error::Error::WriteFile {
        path: path.clone(),
        source,
    })?;
    let digest = build::checksum::sha256_file(&path)?;
    Ok(ReleaseAsset {
        name: github::PLAN_ASSET.into(),
        path,
        sha256: digest.sha256,
        size: digest.size,
        media_type: "application/json".into(),
    })
}

/// The npm and container-registry clients that read and move pointers outside a publish run
/// (rollback, history), with the request's credentials and the config's HTTP policy.
pub fn pointer_targets(
    request: &ReleaseRequest,
    config: &Config,
) -> Result<(crate::targets::npm::NpmTarget, crate::targets::oci::OciTarget)> {
    let http = crate::http::Http::new(crate::targets::github::http_policy(config, &request.ci)?)?;
    let npm = crate::targets::npm::NpmTarget::new(Some(http.clone()), request.npm_token.clone());
    let oci = crate::targets::oci::OciTarget::new(
        Some(http),
        image_credentials(request, config)?,
        config.image.insecure_registries.clone(),
        request.machine.docker_host.clone(),
    );
    Ok((npm, oci))
}
