//! Why this exists: the gates a release passes before anything is staged — tests, security
//! audits, benchmarks, documentation — read the reports earlier workflow steps wrote (the
//! container has no project toolchain), and optionally run a command first where the tool exists.
//! A failed gate stops the release with exit 3 and a table of what failed; a dry run evaluates
//! the gates too.

pub mod audit;
pub mod bench;
pub mod docs;
pub mod junit;

use std::collections::BTreeMap;
use std::path::Path;

use crate::build::command::CommandEnv;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, FileLocation, Result};

/// One reason a gate failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What is wrong.
    pub message: String,
    /// Where, when the report says.
    #[serde(skip)]
    pub location: Option<FileLocation>,
}

/// One gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// `tests`, `audit <report>`, `bench`, `docs`.
    pub gate: String,
    /// What it saw, in words.
    pub summary: String,
    /// Why it failed; empty when it passed.
    pub findings: Vec<Finding>,
}

/// Every gate's outcome and the metrics to record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Validation {
    /// In the order they ran.
    pub gates: Vec<GateResult>,
    /// Benchmark metrics, recorded in the plan for the next release.
    pub metrics: BTreeMap<String, f64>,
}

impl Validation {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|g| g.findings.is_empty())
    }

    /// The error that stops the release, listing what failed.
    pub fn failure(&self) -> Error {
        let mut message = String::from("validation failed; nothing was staged or published:");
        let mut findings = Vec::new();
        for gate in self.gates.iter().filter(|g| !g.findings.is_empty()) {
            for finding in &gate.findings {
                message.push_str(&format!("\n  {}: {}", gate.gate, finding.message));
                if let Some(location) = &finding.location {
                    findings.push(crate::error::LocatedFinding {
                        title: finding_title(&gate.gate).to_string(),
                        message: finding.message.clone(),
                        location: location.clone(),
                    });
                }
            }
        }
        Error::GateFailed { message, findings }
    }
}

/// What an annotation for a finding of `gate` is titled.
fn finding_title(gate: &str) -> &'static str {
    match gate.split_whitespace().next().unwrap_or_default() {
        "tests" => "test failure",
        "audit" => "audit finding",
        "bench" => "benchmark regression",
        "docs" => "docs check",
        _ => "validation",
    }
}

fn report_json(workspace: &Path, key: &str, report: &str) -> Result<serde_json::Value> {
    crate::build::files::check_relative(key, report)?;
    let path = workspace.join(report);
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadFile {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::input(key, format!("{report} is not JSON: {e}")))
}

fn run_command(workspace: &Path, gate: &str, argv: &[String], dry_run: bool, env: &CommandEnv) -> Result<()> {
    if argv.is_empty() || dry_run {
        return Ok(());
    }
    crate::build::command::run(gate, argv, workspace, crate::build::command::DEFAULT_TIMEOUT, env)
}

/// Runs every configured gate. `previous` holds the previous release's metrics, when known;
/// `today` is `YYYY-MM-DD` (ignores expire after it).
///
/// A dry run runs no command, so a gate whose command writes its reports is not judged on
/// reports from an earlier run: it is listed as what would run. `prepared` holds the files the
/// prepare stage would write (path → new text): the docs gate reads those, as the real run would
/// after the prepare stage.
#[allow(clippy::too_many_arguments)]
pub fn run(
    workspace: &Path,
    config: &Config,
    version: &str,
    previous: Option<&BTreeMap<String, f64>>,
    today: &str,
    dry_run: bool,
    env: &CommandEnv,
    prepared: &BTreeMap<std::path::PathBuf, String>,
) -> Result<Validation> {
    let gates = &config.validate;
    let mut out = Validation::default();
    let would_run = |gate: &str, argv: &[String], reports: String| GateResult {
        gate: gate.to_string(),
        summary: format!("would run `{}`, then check {reports}", argv.join(" ")),
        findings: Vec::new(),
    };
    if !gates.tests.is_empty() && dry_run && !gates.tests_command.is_empty() {
        out.gates
            .push(would_run("tests", &gates.tests_command, gates.tests.join(", ")));
    } else if !gates.tests.is_empty() {
        run_command(
            workspace,
            "[validate] tests-command",
            &gates.tests_command,
            dry_run,
            env,
        )?;
        let files = crate::build::files::resolve(workspace, "[validate] tests", &gates.tests)?;
        let mut counts = junit::TestCounts::default();
        let mut findings = Vec::new();
        for file in &files {
            junit::read(&file.path, &file.relative, &mut counts, &mut findings)?;
        }
        out.gates.push(GateResult {
            gate: "tests".into(),
            summary: format!(
                "{} tests in {} report(s): {} failed, {} skipped",
                counts.tests,
                files.len(),
                counts.failed,
                counts.skipped
            ),
            findings,
        });
    }
    for gate in &gates.audit {
        if dry_run && !gate.command.is_empty() {
            out.gates.push(would_run(
                &format!("audit {}", gate.report),
                &gate.command,
                gate.report.clone(),
            ));
            continue;
        }
        run_command(
            workspace,
            &format!("[[validate.audit]] {:?} command", gate.report),
            &gate.command,
            dry_run,
            env,
        )?;
        let report = report_json(workspace, "[[validate.audit]] report", &gate.report)?;
        let found = audit::advisories(gate.format, &report, &gate.report)?;
        let mut findings = Vec::new();
        let counts = audit::check(gate, &found, today, &mut findings)?;
        let shown: Vec<String> = audit::SEVERITIES
            .iter()
            .map(|s| format!("{} {s}", counts.get(*s).copied().unwrap_or(0)))
            .collect();
        out.gates.push(GateResult {
            gate: format!("audit {}", gate.report),
            summary: format!("{} advisories; counted: {}", found.len(), shown.join(", ")),
            findings,
        });
    }
    if let Some(gate) = gates.bench.as_ref().filter(|g| dry_run && !g.command.is_empty()) {
        out.gates.push(would_run("bench", &gate.command, gate.report.clone()));
    } else if let Some(gate) = &gates.bench {
        run_command(workspace, "[validate.bench] command", &gate.command, dry_run, env)?;
        let report = report_json(workspace, "[validate.bench] report", &gate.report)?;
        let metrics = bench::metrics(&report, &gate.report)?;
        let mut findings = Vec::new();
        let notes = bench::check(gate, &metrics, previous, &mut findings)?;
        let mut summary = format!("{} metric(s)", metrics.len());
        for note in notes {
            summary.push_str(&format!("; {note}"));
        }
        out.gates.push(GateResult {
            gate: "bench".into(),
            summary,
            findings,
        });
        out.metrics = metrics;
    }
    if let Some(gate) = &gates.docs {
        run_command(workspace, "[validate.docs] command", &gate.command, dry_run, env)?;
        let changelog = gate
            .changelog
            .clone()
            .or_else(|| config.version.changelog.clone())
            .or_else(|| {
                gate.required
                    .iter()
                    .find(|r| r.eq_ignore_ascii_case("CHANGELOG.md"))
                    .cloned()
            });
        let mut findings = Vec::new();
        let links = docs::check(workspace, gate, changelog.as_deref(), version, prepared, &mut findings)?;
        out.gates.push(GateResult {
            gate: "docs".into(),
            summary: format!(
                "{} required file(s), {links} relative link(s) checked",
                gate.required.len()
            ),
            findings,
        });
    }
    Ok(out)
}
