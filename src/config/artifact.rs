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

impl ArtifactConfig {
    /// The name shown in plans and summaries.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.image.clone())
            .or_else(|| self.path.clone())
            .unwrap_or_else(|| self.kind.as_str().to_string())
    }
}
