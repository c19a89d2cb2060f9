//! Why this exists: every place a release lands sits behind a small trait sized to our needs, so
//! the pipeline can run against the real system, a fake in tests, or the dry-run recorder.

pub mod deploy;
pub mod email;
pub mod github;
pub mod notify;
pub mod npm;
pub mod npm_oidc;
pub mod oci;

use serde::Serialize;

/// One thing the pipeline did (or, in a dry run, would have done) to a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StepRecord {
    /// The target, e.g. `github-release`.
    pub target: String,
    /// What was done, in words.
    pub action: String,
    /// True when nothing was written because this is a dry run.
    pub dry_run: bool,
}

/// A pointer a release moved (a dist-tag, an image tag), with the value it had before — what a
/// rollback puts back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PointerMove {
    /// The target, e.g. `npm`.
    pub target: String,
    /// What moved, e.g. `@acme/cli@latest` or `ghcr.io/acme/widget:latest`.
    pub pointer: String,
    /// Its value before (a version or digest), `None` when it did not exist.
    pub old: Option<String>,
    /// Its value after.
    pub new: String,
}

/// The channel pointer for a version: `latest` for stable versions, the first prerelease
/// identifier (`alpha`, `beta`, `rc`) otherwise, `next` when that is a number.
pub fn channel_for(version: &semver::Version) -> String {
    match version.pre.as_str().split('.').next() {
        None | Some("") => "latest".to_string(),
        Some(id) if id.bytes().all(|b| b.is_ascii_digit()) => "next".to_string(),
        Some(id) => id.to_string(),
    }
}
