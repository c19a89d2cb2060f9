//! Why this exists: `[deploy.docs]`, `[deploy.staging]` and `[notify]` describe where a release is
//! deployed after its pointers move, how that is checked, and who hears about it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[deploy]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeployConfig {
    /// The documentation site, committed to a branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<DocsDeploy>,
    /// A staging environment, recorded as a GitHub Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging: Option<StagingDeploy>,
}

/// `[deploy.docs]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocsDeploy {
    /// The built site directory.
    pub path: String,
    /// The branch that serves it [default: gh-pages].
    #[serde(default = "default_branch")]
    pub branch: String,
    /// Keep `/vX.Y.Z/` folders and a `latest/` one instead of replacing the site.
    #[serde(default)]
    pub versioned: bool,
    /// Where the site is served, shown on the `docs` deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn default_branch() -> String {
    "gh-pages".to_string()
}

/// A smoke check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmokeCheck {
    /// The URL polled.
    pub url: String,
    /// The status it must answer [default: 200].
    #[serde(default = "default_status")]
    pub expect_status: u16,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// How long to keep polling [default: 2m].
    #[serde(default = "default_timeout")]
    pub timeout: String,
}

fn default_status() -> u16 {
    200
}

fn default_timeout() -> String {
    "2m".to_string()
}

/// `[deploy.staging]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StagingDeploy {
    /// The GitHub environment name [default: staging].
    #[serde(default = "default_environment")]
    pub environment: String,
    /// The environment's URL, shown on the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A URL that receives the release as signed JSON (header X-Tamma-Signature-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// A command (argv) that deploys, where the tool exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Polled until it passes or times out; failure rolls the pointers back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<SmokeCheck>,
}

fn default_environment() -> String {
    "staging".to_string()
}

/// `[notify]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NotifyConfig {
    /// Generic webhooks that receive a JSON message on success, failure and rollback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<String>,
    /// An email on success, failure and rollback, with the same content as the webhooks'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
}

/// `[notify.email]`: who is told by email, and through which SMTP server. The user and password
/// come from the `smtp-username` and `smtp-password` inputs (SMTP_USERNAME, SMTP_PASSWORD).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EmailConfig {
    /// Recipients, e.g. ["team@example.com", "Ops <ops@example.com>"].
    pub to: Vec<String>,
    /// The sender, e.g. "Releases <releases@example.com>".
    pub from: String,
    /// The server: `smtps://host[:465]` (TLS from the first byte) or `smtp://host[:587]`
    /// (STARTTLS, required — on a loopback host used when the server offers it).
    pub smtp: String,
    /// A PEM file of root certificates the server's may chain to besides the public ones (a
    /// private CA), relative to the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}
