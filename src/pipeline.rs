//! Why this exists: `release` and `plan` are one pipeline (plan, then publish) whatever edge starts
//! it; the edges supply the targets and a [`Progress`] observer that turns stages into log groups.

use crate::build;
use crate::config::Config;
use crate::error::Result;
use crate::plan::{PlanInput, make_plan};
use crate::prepare;
use crate::report::RunReport;
use crate::request::{ReleaseRequest, Stage};
use crate::targets::StepRecord;
use crate::targets::github;

/// Told when a stage starts and ends, so an edge can open and close log groups.
pub trait Progress {
    /// A stage is starting.
    fn stage_started(&mut self, stage: Stage);
    /// The stage that started last has ended.
    fn stage_finished(&mut self, stage: Stage);
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage_started(&mut self, _: Stage) {}
    fn stage_finished(&mut self, _: Stage) {}
}

/// The command being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Run the pipeline.
    Release,
    /// Only plan.
    Plan,
    /// Plan, then evaluate the validation gates.
    Validate,
    /// Put a release's pointers back from its journal.
    Rollback,
}

/// Runs `command` for `request`. The `host` is the GitHub release target (the dry-run recorder in
/// a dry run).
pub fn run(command: Command, request: &ReleaseRequest, progress: &mut dyn Progress) -> Result<RunReport> {
    let started = std::time::Instant::now();
    if command == Command::Rollback {
        let (config, _) = Config::load(&request.workspace, request.config_path.as_deref())?;
        progress.stage_started(Stage::Publish);
        let rolled = match crate::packages::independent(&config) {
            true => crate::packages::rollback::rollback(request, &config, started),
            false if request.package.is_some() => Err(not_independent()),
            false => crate::txn::rollback::rollback(request, &config, started),
        };
        progress.stage_finished(Stage::Publish);
        return rolled;
    }
    progress.stage_started(Stage::Plan);
    let planned = (|| {
        let (config, _) = Config::load(&request.workspace, request.config_path.as_deref())?;
        // A command whose program is not installed stops every run here, not when it is reached.
        let stages = match command {
            Command::Validate => vec![Stage::Validate],
            _ => request.stages.clone(),
        };
        let in_action = request.machine.container_action;
        build::programs::check(&config, &stages, &command_env(request, &config), in_action)?;
        // A bad key or passphrase stops the run here, before anything is built or staged.
        let signing =
            build::signing::SigningKey::from_inputs(request.signing_key.as_ref(), request.signing_passphrase.as_ref())?;
        let fingerprint = signing.as_ref().map(build::signing::SigningKey::fingerprint);
        if request.package.is_some() && !crate::packages::independent(&config) {
            return Err(not_independent());
        }
        if crate::packages::independent(&config) {
            let planned = crate::packages::run::plan_packages(request, &config, fingerprint.as_deref())?;
            for (_, plan) in &planned.1 {
                tracing::info!(
                    "planned {} {} (tag {}); previous release: {}",
                    plan.package.as_deref().unwrap_or_default(),
                    plan.version,
                    plan.tag,
                    plan.previous_tag.as_deref().unwrap_or("none")
                );
            }
            return Ok::<_, crate::error::Error>((config, Planned::Packages(planned), signing));
        }
        let plan = make_plan(&PlanInput {
            workspace: &request.workspace,
            config: &config,
            source: request.version.clone(),
            ci: &request.ci,
            signer: fingerprint.as_deref(),
            package: None,
        })?;
        tracing::info!(
            "planned {} (tag {}); previous release: {}",
            plan.version,
            plan.tag,
            plan.previous_tag.as_deref().unwrap_or("none")
        );
        Ok::<_, crate::error::Error>((config, Planned::One(Box::new(plan)), signing))
    })();
    progress.stage_finished(Stage::Plan);
    let (config, plan, signing) = match planned? {
        (config, Planned::One(plan), signing) => (config, *plan, signing),
        (config, Planned::Packages(planned), signing) => {
            return crate::packages::run::finish(
                command,
                request,
                &config,
                planned,
                signing.as_ref(),
                progress,
                started,
            );
        }
    };
    let mut report = RunReport::new(command, request.dry_run, plan, config.release.attestations);
    if command == Command::Plan {
        return Ok(report);
    }
    if command == Command::Validate {
        progress.stage_started(Stage::Validate);
        let unwritten = match request.dry_run && request.stages.contains(&Stage::Prepare) {
            true => plan_edits(request, &config, &report),
            false => Ok(Vec::new()),
        };
        let validated = unwritten.and_then(|edits| validate_stage(request, &config, &mut report, &edits));
        progress.stage_finished(Stage::Validate);
        validated?;
        return Ok(report);
    }
    // In a dry run, the edits prepare would have written: the gates see them as a real run would.
    let mut unwritten = Vec::new();
    if request.stages.contains(&Stage::Prepare) {
        progress.stage_started(Stage::Prepare);
        let prepared = prepare(request, &config, &mut report);
        progress.stage_finished(Stage::Prepare);
        unwritten = prepared?;
    }
    if request.stages.contains(&Stage::Validate) {
        progress.stage_started(Stage::Validate);
        let validated = validate_stage(request, &config, &mut report, &unwritten);
        progress.stage_finished(Stage::Validate);
        validated?;
    }
    // A run that writes dist/ has it to itself from here until it ends (a dry run, or a run
    // stopped by a gate, writes nothing there).
    let _dist =
        if !request.dry_run && (request.stages.contains(&Stage::Build) || request.stages.contains(&Stage::Publish)) {
            Some(build::DistLock::take(&request.workspace)?)
        } else {
            None
        };
    if request.stages.contains(&Stage::Build) {
        progress.stage_started(Stage::Build);
        let built = build_stage(request, &config, signing.as_ref(), &mut report);
        progress.stage_finished(Stage::Build);
        built?;
    }
    if !request.stages.contains(&Stage::Publish) {
        return Ok(report);
    }
    progress.stage_started(Stage::Publish);
    let published = (|| {
        if !request.stages.contains(&Stage::Build) {
            // Built by an earlier job: ship exactly the dist/ it handed over, once checked.
            if let Some(manifest) = build::handover::load(&request.workspace, &config, &report.plan)? {
                let action = format!(
                    "{} the {} artifact(s) an earlier build left in dist/manifest.json",
                    if request.dry_run { "check" } else { "checked" },
                    manifest.artifacts.len()
                );
                tracing::info!("{}{action}", if request.dry_run { "would " } else { "" });
                report.steps.push(StepRecord {
                    target: "build".to_string(),
                    action,
                    dry_run: request.dry_run,
                });
                report.build = Some(manifest);
            }
        }
        crate::txn::publish::publish(request, &config, &mut report, started)
    })();
    progress.stage_finished(Stage::Publish);
    published?;
    Ok(report)
}

fn not_independent() -> crate::error::Error {
    crate::error::Error::input(
        "package",
        "package names one package of [release] mode = \"independent\"; this config releases everything on one version (mode \"fixed\")",
    )
}

/// What the plan stage planned: one release, or (independent mode) one per package.
enum Planned {
    One(Box<crate::plan::ReleasePlan>),
    Packages((crate::packages::RunSet, Vec<(Config, crate::plan::ReleasePlan)>)),
}

/// The edits to the version files and the changelog that the plan calls for.
fn plan_edits(request: &ReleaseRequest, config: &Config, report: &RunReport) -> Result<Vec<prepare::FileEdit>> {
    let plan = &report.plan;
    prepare::plan_edits(&request.workspace, &config.version, &plan.version, &plan.changelog)
}

/// Writes the version files (or, in a dry run, records what would change). Returns the edits a
/// dry run did not write.
fn prepare(request: &ReleaseRequest, config: &Config, report: &mut RunReport) -> Result<Vec<prepare::FileEdit>> {
    let edits = plan_edits(request, config, report)?;
    write_edits(request, report, &edits)?;
    Ok(if request.dry_run { edits } else { Vec::new() })
}

/// Writes `edits` (not in a dry run) and records each in `report`.
pub(crate) fn write_edits(request: &ReleaseRequest, report: &mut RunReport, edits: &[prepare::FileEdit]) -> Result<()> {
    if !request.dry_run {
        prepare::apply(&request.workspace, edits)?;
    }
    for edit in edits {
        report.prepared.push(edit.path.clone());
        tracing::info!("update {}: {}", edit.path.display(), edit.what);
        report.steps.push(StepRecord {
            target: "workspace".to_string(),
            action: format!("update {}: {}", edit.path.display(), edit.what),
            dry_run: request.dry_run,
        });
    }
    Ok(())
}

/// Builds the artifacts into dist/ (or, in a dry run, checks their inputs).
pub(crate) fn build_stage(
    request: &ReleaseRequest,
    config: &Config,
    signing: Option<&build::signing::SigningKey>,
    report: &mut RunReport,
) -> Result<()> {
    let outcome = build::build(&build::BuildRequest {
        workspace: &request.workspace,
        config,
        plan: &report.plan,
        selection: request.selection.clone(),
        epoch: request.machine.source_date_epoch.unwrap_or(report.plan.commit_time),
        docker_host: request.machine.docker_host.clone(),
        command_env: command_env(request, config),
        signing,
        dry_run: request.dry_run,
    })?;
    for step in outcome.steps {
        tracing::info!("{}{step}", if request.dry_run { "would " } else { "" });
        report.steps.push(StepRecord {
            target: "build".to_string(),
            action: step,
            dry_run: request.dry_run,
        });
    }
    report.build = Some(outcome.manifest);
    Ok(())
}

/// The environment the release's commands get: the process's without the release's secrets.
pub fn command_env(request: &ReleaseRequest, config: &Config) -> build::command::CommandEnv {
    build::command::CommandEnv::new(&request.machine.environment, &config.release.pass_env)
}

/// Evaluates the gates (also in a dry run) and records the metrics in the plan.
pub(crate) fn validate_stage(
    request: &ReleaseRequest,
    config: &Config,
    report: &mut RunReport,
    unwritten: &[prepare::FileEdit],
) -> Result<()> {
    let gates = &config.validate;
    if gates.tests.is_empty() && gates.audit.is_empty() && gates.bench.is_none() && gates.docs.is_none() {
        return Ok(());
    }
    let previous = match (&gates.bench, &report.plan.previous_tag) {
        (Some(bench), Some(tag)) if bench.max_regression.is_some() => {
            github::previous_plan(config, request, tag)?.map(|p| p.metrics)
        }
        _ => None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // A dry run wrote no prepare edits; the gates see them as the real run would.
    let prepared = unwritten
        .iter()
        .map(|edit| (edit.path.clone(), edit.new_text.clone()))
        .collect();
    let validation = crate::validate::run(
        &request.workspace,
        config,
        &report.plan.version,
        previous.as_ref(),
        &crate::dates::iso_date(now),
        request.dry_run,
        &command_env(request, config),
        &prepared,
    )?;
    for gate in &validation.gates {
        let result = if gate.findings.is_empty() { "passed" } else { "FAILED" };
        tracing::info!("{}: {result} — {}", gate.gate, gate.summary);
        report.steps.push(StepRecord {
            target: "validate".into(),
            action: format!("{}: {result} — {}", gate.gate, gate.summary),
            dry_run: request.dry_run,
        });
    }
    report.plan.metrics = validation.metrics.clone();
    let passed = validation.passed();
    let failure = validation.failure();
    report.validation = Some(validation);
    if passed { Ok(()) } else { Err(failure) }
}
