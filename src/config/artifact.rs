//! Why this exists: `[[artifact]]` is the one list of everything a release ships; its keys are
//! binding across the build, publish and deploy stages, so they live in one place.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of thing an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// An archive (`.tar.gz` or `.zip`) made from `files`.
    Archive,
    /// A file uploaded as it is, from `path`.
    File,
    /// An npm package directory at `path`.
    Npm,
    /// A container image.
    Image,
    /// A built documentation site directory at `path`.
    Docs,
}

impl ArtifactKind {
    /// The name used in the config file and in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Archive => "archive",
            ArtifactKind::File => "file",
            ArtifactKind::Npm => "npm",
            ArtifactKind::Image => "image",
            ArtifactKind::Docs => "docs",
        }
    }
}

/// `[[artifact]]`: one thing a release ships.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArtifactConfig {
    /// The asset name (for archives and files) or a label for the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// archive | file | npm | image | docs
    pub kind: ArtifactKind,
    /// Globs relative to the repository root (archives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// A path relative to the repository root (file, npm, docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The image reference without a tag, e.g. `ghcr.io/acme/widget` (image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A path prefix removed from names inside the archive (archive), e.g. `dist/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<String>,
    /// The platform this artifact is for, e.g. `linux` or a target triple; `--partial NAME`
    /// builds the artifacts whose platform is NAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The CPU architecture, e.g. `x64`, `arm64` (recorded in the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// An OCI image layout directory or tar, e.g. from `docker buildx build --output type=oci` (image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_layout: Option<String>,
    /// The Docker build context directory, built through the Docker daemon (image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The Dockerfile, relative to the repository root [default: `<context>/Dockerfile`] (image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// A command (argv, no shell) run in the repository before packing this artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build: Vec<String>,
    /// A shell command run with `sh -c` instead of `build`, when you need a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// How long the build command may run: `90s`, `10m`, `1h` [default: 30m].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// Names the release writes into `dist/` or attaches itself, which no artifact may take.
pub const RESERVED_NAMES: &[&str] = &[
    "SHA256SUMS",
    "SHA256SUMS.asc",
    "release-journal.json",
    "release-plan.json",
    "manifest.json",
    "oci",
];

/// Whether GitHub keeps an asset name as it is: it renames special characters and leading or
/// trailing dots.
pub fn github_keeps_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

/// What is wrong with `name` as the file name of an asset — written to `dist/<name>` and uploaded
/// under it — if anything: it must be one path component (no `/`, `\`, `..`), not start with a
/// dot (`.git`, hidden files), hold no control character, be kept by GitHub as it is, and not be
/// one of the names the release writes itself.
pub fn asset_name_problem(name: &str) -> Option<String> {
    let problem = if name.is_empty() {
        "is empty".to_string()
    } else if name.chars().any(char::is_control) {
        "contains a control character".to_string()
    } else if name.contains(['/', '\\']) {
        "contains a / or \\; an asset name is one file name in dist/, not a path".to_string()
    } else if name.starts_with('.') {
        "starts with a dot; asset names may not be hidden files, `.` or `..`".to_string()
    } else if name.len() > 255 {
        format!("is {} bytes long; file names have at most 255", name.len())
    } else if !github_keeps_name(name) {
        "would be renamed by GitHub; use letters, digits and . _ - + (not . at the end)".to_string()
    } else if RESERVED_NAMES.contains(&name) || name.starts_with("partial-") && name.ends_with(".json") {
        "is reserved: the release writes a file of that name itself".to_string()
    } else {
        return None;
    };
    Some(problem)
}

impl ArtifactConfig {
    /// The asset file name this artifact is written to in `dist/` and uploaded as: `name` for an
    /// archive, `name` or the file name of `path` for a file; `None` for the other kinds (npm
    /// tarballs are named by their package, images and docs are not files).
    pub fn asset_name(&self) -> Option<String> {
        match self.kind {
            ArtifactKind::Archive => self.name.clone(),
            ArtifactKind::File => self.name.clone().or_else(|| {
                self.path.as_deref().map(|p| {
                    std::path::Path::new(p)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
            }),
            _ => None,
        }
    }

    /// The name shown in plans and summaries.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.image.clone())
            .or_else(|| self.path.clone())
            .unwrap_or_else(|| self.kind.as_str().to_string())
    }
}
