//! Why this exists: `[validate]` names the reports each gate reads and the limits it enforces —
//! the binding shape of the validation issue, strict like the rest of the config.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[validate]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ValidateConfig {
    /// JUnit XML report globs; any failure or error fails the gate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
    /// A command (argv) that produces the JUnit reports first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests_command: Vec<String>,
    /// Security audit reports with their thresholds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<AuditGate>,
    /// Benchmark metrics with limits and a regression bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bench: Option<BenchGate>,
    /// Documentation checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<DocsGate>,
}

/// The audit report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditFormat {
    /// `npm audit --json` (npm 7+).
    Npm,
    /// `pnpm audit --json`.
    Pnpm,
    /// `cargo audit --json` (RustSec).
    Cargo,
}

/// An accepted advisory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IgnoredAdvisory {
    /// GHSA-…, RUSTSEC-…, CVE-… or an npm advisory number.
    pub id: String,
    /// Why it is acceptable.
    pub reason: String,
    /// Until when (YYYY-MM-DD); after that day the ignore fails the gate.
    pub until: String,
}

/// `[[validate.audit]]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuditGate {
    /// The report file.
    pub report: String,
    /// npm | pnpm | cargo
    pub format: AuditFormat,
    /// Most advisories allowed per severity (critical, high, moderate, low, unknown);
    /// default critical 0, high 0, others unlimited.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max: BTreeMap<String, u64>,
    /// Accepted advisories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<IgnoredAdvisory>,
    /// A command (argv) that writes the report first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
}

/// A metric's absolute limits.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricLimit {
    /// Fails above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Fails below this (and marks the metric as higher-is-better).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
}

/// `[validate.bench]`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchGate {
    /// The metrics file: `{"name": value}` or `[{"name", "value", "unit"}]`.
    pub report: String,
    /// How much worse than the previous release a metric may get, e.g. `"10%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regression: Option<String>,
    /// Absolute limits per metric.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, MetricLimit>,
    /// Metrics where more is better (throughput); the others are better when lower (time, size).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub higher_is_better: Vec<String>,
    /// A command (argv) that writes the report first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
}

/// `[validate.docs]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocsGate {
    /// Files that must exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// The changelog that must mention the new version [default: `[version] changelog`, else
    /// CHANGELOG.md when it is required].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog: Option<String>,
    /// Markdown globs whose relative links must resolve [default: the required `.md` files].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// A command (argv) run first (e.g. building the site).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
}
