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
use crate::targets::github::{self, ReleaseAsset};

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
}

/// Runs `command` for `request`. The `host` is the GitHub release target (the dry-run recorder in
/// a dry run).
pub fn run(command: Command, request: &ReleaseRequest, progress: &mut dyn Progress) -> Result<RunReport> {
    progress.stage_started(Stage::Plan);
    let planned = (|| {
        let (config, _) = Config::load(&request.workspace, request.config_path.as_deref())?;
        let plan = make_plan(&PlanInput {
            workspace: &request.workspace,
            config: &config,
            source: request.version.clone(),
            ci: &request.ci,
        })?;
        tracing::info!(version = %plan.version, tag = %plan.tag, previous = ?plan.previous_tag, "planned");
        Ok::<_, crate::error::Error>((config, plan))
    })();
    progress.stage_finished(Stage::Plan);
    let (config, plan) = planned?;
    let mut report = RunReport {
        command,
        dry_run: request.dry_run,
        plan,
        release: None,
        build: None,
        steps: Vec::new(),
    };
    if command == Command::Plan {
        return Ok(report);
    }
    if request.stages.contains(&Stage::Prepare) {
        progress.stage_started(Stage::Prepare);
        let prepared = prepare(request, &config, &mut report);
        progress.stage_finished(Stage::Prepare);
        prepared?;
    }
    if request.stages.contains(&Stage::Build) {
        progress.stage_started(Stage::Build);
        let built = build_stage(request, &config, &mut report);
        progress.stage_finished(Stage::Build);
        built?;
    }
    if !request.stages.contains(&Stage::Publish) {
        return Ok(report);
    }
    progress.stage_started(Stage::Publish);
    let published = publish_stage(request, &config, &mut report);
    progress.stage_finished(Stage::Publish);
    published?;
    Ok(report)
}

/// Writes the version files (or, in a dry run, records what would change).
fn prepare(request: &ReleaseRequest, config: &Config, report: &mut RunReport) -> Result<()> {
    let plan = &report.plan;
    let edits = prepare::plan_edits(&request.workspace, &config.version, &plan.version, &plan.changelog)?;
    if !request.dry_run {
        prepare::apply(&request.workspace, &edits)?;
    }
    for edit in edits {
        tracing::info!(file = %edit.path.display(), "{}", edit.what);
        report.steps.push(StepRecord {
            target: "workspace".to_string(),
            action: format!("update {}: {}", edit.path.display(), edit.what),
            dry_run: request.dry_run,
        });
    }
    Ok(())
}

/// Builds the artifacts into dist/ (or, in a dry run, checks their inputs).
fn build_stage(request: &ReleaseRequest, config: &Config, report: &mut RunReport) -> Result<()> {
    let outcome = build::build(&build::BuildRequest {
        workspace: &request.workspace,
        config,
        plan: &report.plan,
        selection: request.selection.clone(),
        epoch: request.machine.source_date_epoch.unwrap_or(report.plan.commit_time),
        docker_host: request.machine.docker_host.clone(),
        dry_run: request.dry_run,
    })?;
    for step in outcome.steps {
        tracing::info!("{step}");
        report.steps.push(StepRecord {
            target: "build".to_string(),
            action: step,
            dry_run: request.dry_run,
        });
    }
    report.build = Some(outcome.manifest);
    Ok(())
}

/// The files the build stage made that go on the release: archives, files, npm tarballs, sums.
fn release_assets(request: &ReleaseRequest, report: &RunReport) -> Vec<ReleaseAsset> {
    let dist = build::dist_dir(&request.workspace);
    let Some(manifest) = &report.build else {
        return Vec::new();
    };
    manifest
        .artifacts
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "archive" | "file" | "npm" | "checksums"))
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

/// Stages the GitHub release with its assets and flips it to published.
fn publish_stage(request: &ReleaseRequest, config: &Config, report: &mut RunReport) -> Result<()> {
    let mut host = github::release_host(config, request)?;
    let assets = release_assets(request, report);
    let result = host
        .stage(&report.plan, &assets)
        .and_then(|staged| host.flip(&report.plan, &staged, config.release.draft));
    report.steps.extend(host.steps());
    report.release = Some(result?);
    Ok(())
}
