//! Why this exists: a release must not ship with critical or high advisories nobody accepted.
//! Reports come from the tools the project already runs — `npm audit --json` (npm 7+),
//! `pnpm audit --json`, `cargo audit --json` (RustSec, severity from the CVSS vector) — and each
//! accepted advisory needs a reason and an expiry date, after which it fails the gate again.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::config::{AuditFormat, AuditGate};
use crate::error::{Error, Result};
use crate::validate::Finding;

/// Severities in order.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "moderate", "low", "unknown"];

/// One advisory found in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// Every id it is known by (GHSA-…, CVE-…, RUSTSEC-…, npm number).
    pub ids: Vec<String>,
    /// critical | high | moderate | low | unknown
    pub severity: String,
    /// The affected package.
    pub package: String,
}

fn normalise(severity: &str) -> String {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => "critical",
        "high" => "high",
        "moderate" | "medium" => "moderate",
        "low" | "info" | "none" => "low",
        _ => "unknown",
    }
    .to_string()
}

/// Parses a report.
pub fn advisories(format: AuditFormat, report: &Value, shown: &str) -> Result<Vec<Advisory>> {
    let bad = |what: &str| {
        Error::input(
            "[[validate.audit]] format",
            format!("{shown} is not a {format:?} audit report ({what})").to_lowercase(),
        )
    };
    let mut out = Vec::new();
    match format {
        AuditFormat::Npm => {
            let vulnerabilities = report
                .get("vulnerabilities")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("no vulnerabilities object"))?;
            let mut seen = BTreeSet::new();
            for (package, vulnerability) in vulnerabilities {
                for via in vulnerability["via"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| v.is_object())
                {
                    let url = via["url"].as_str().unwrap_or_default();
                    let ghsa = url
                        .rsplit('/')
                        .next()
                        .filter(|s| s.starts_with("GHSA-"))
                        .map(str::to_string);
                    let source = via["source"].as_u64().map(|n| n.to_string());
                    let key = ghsa.clone().or(source.clone()).unwrap_or_else(|| package.clone());
                    if !seen.insert(key) {
                        continue;
                    }
                    out.push(Advisory {
                        ids: ghsa.into_iter().chain(source).collect(),
                        severity: normalise(via["severity"].as_str().unwrap_or_default()),
                        package: package.clone(),
                    });
                }
            }
        }
        AuditFormat::Pnpm => {
            let advisories = report
                .get("advisories")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("no advisories object"))?;
            for advisory in advisories.values() {
                let mut ids: Vec<String> = advisory["github_advisory_id"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                ids.extend(advisory["id"].as_u64().map(|n| n.to_string()));
                ids.extend(
                    advisory["cves"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str().map(str::to_string)),
                );
                out.push(Advisory {
                    ids,
                    severity: normalise(advisory["severity"].as_str().unwrap_or_default()),
                    package: advisory["module_name"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        AuditFormat::Cargo => {
            let list = report["vulnerabilities"]["list"]
                .as_array()
                .ok_or_else(|| bad("no vulnerabilities.list"))?;
            for item in list {
                let advisory = &item["advisory"];
                let mut ids: Vec<String> = advisory["id"].as_str().map(str::to_string).into_iter().collect();
                ids.extend(
                    advisory["aliases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(str::to_string)),
                );
                let severity = match advisory["cvss"].as_str().map(str::parse::<cvss::Cvss>) {
                    Some(Ok(vector)) => normalise(&format!("{:?}", vector.severity())),
                    _ => advisory["severity"]
                        .as_str()
                        .map(normalise)
                        .unwrap_or_else(|| "unknown".into()),
                };
                out.push(Advisory {
                    ids,
                    severity,
                    package: item["package"]["name"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Checks advisories against the gate's limits and ignore list; `today` is `YYYY-MM-DD`.
pub fn check(
    gate: &AuditGate,
    found: &[Advisory],
    today: &str,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, u64>> {
    let mut limits: BTreeMap<String, u64> = [("critical".to_string(), 0), ("high".to_string(), 0)].into();
    for (severity, max) in &gate.max {
        if !SEVERITIES.contains(&severity.as_str()) {
            return Err(Error::input(
                "[[validate.audit]] max",
                format!("{severity:?} is not a severity; allowed: {}", SEVERITIES.join(", ")),
            ));
        }
        limits.insert(severity.clone(), *max);
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for ignore in &gate.ignore {
        if ignore.until.len() != 10 || ignore.until.as_bytes()[4] != b'-' || ignore.until.as_bytes()[7] != b'-' {
            return Err(Error::input(
                "[[validate.audit]] ignore",
                format!(
                    "until = {:?} for {} is not a date (YYYY-MM-DD)",
                    ignore.until, ignore.id
                ),
            ));
        }
        if ignore.until.as_str() < today {
            findings.push(Finding {
                message: format!(
                    "the ignore of {} expired on {} (reason was: {})",
                    ignore.id, ignore.until, ignore.reason
                ),
                location: None,
            });
        }
    }
    for advisory in found {
        let ignored = gate
            .ignore
            .iter()
            .any(|i| advisory.ids.iter().any(|id| id.eq_ignore_ascii_case(&i.id)) && i.until.as_str() >= today);
        if !ignored {
            *counts.entry(advisory.severity.clone()).or_default() += 1;
        }
    }
    for (severity, max) in &limits {
        let count = counts.get(severity).copied().unwrap_or(0);
        if count > *max {
            let examples: Vec<String> = found
                .iter()
                .filter(|a| &a.severity == severity)
                .take(5)
                .map(|a| format!("{} in {}", a.ids.first().cloned().unwrap_or_default(), a.package))
                .collect();
            findings.push(Finding {
                message: format!(
                    "{count} {severity} advisor{} in {} (at most {max} allowed): {}",
                    if count == 1 { "y" } else { "ies" },
                    gate.report,
                    examples.join(", ")
                ),
                location: None,
            });
        }
    }
    Ok(counts)
}
