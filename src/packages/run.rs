//! Why this exists: independent mode runs the same stages as a fixed release, but for a set of
//! packages: every package is planned before anything is written, the version files of all of
//! them are prepared and the gates run once over the result, and then each package is built and
//! published as a release of its own (its own tag, GitHub release, journal and dist-tags), in
//! dependency order so a dependent never reaches the registry before what it depends on. A
//! failure stops the run where it is: the packages released before stay released, and a re-run
//! checks them and releases the rest (see [`super::plan_set`]: a package tagged at HEAD is resumed).

use crate::build::signing::SigningKey;
use crate::config::{Config, VersionFile};
use crate::error::{Error, Result};
use crate::pipeline::{Command, Progress};
use crate::plan::{PackageScope, PlanInput, ReleasePlan, VersionSource, make_plan};
use crate::prepare::FileEdit;
use crate::report::RunReport;
use crate::request::{ReleaseRequest, Stage};

use super::{Package, PackageRelease, RunSet, SetRequest, plan_set};

/// One package's release within the run: its config (the run's, narrowed to it) and report.
pub struct PackageRun {
    /// The config as this package's release sees it.
    pub config: Config,
    /// What its release did.
    pub report: RunReport,
}

/// The config a package's release runs with: its tag prefix, its npm artifact, its package.json
/// and (when the run keeps one) its own changelog file in its folder.
pub fn config_for(config: &Config, package: &Package) -> Config {
    let mut narrowed = config.clone();
    narrowed.release.tag_prefix = package.prefix.clone();
    narrowed.artifacts = vec![config.artifacts[package.artifact].clone()];
    narrowed.version.files = vec![VersionFile::Manifest(
        package.dir.join("package.json").to_string_lossy().into_owned(),
    )];
    narrowed.version.changelog = config
        .version
        .changelog
        .as_ref()
        .map(|file| package.dir.join(file).to_string_lossy().into_owned());
    narrowed
}

/// Plans every package the run releases.
pub fn plan_packages(
    request: &ReleaseRequest,
    config: &Config,
    signer: Option<&str>,
) -> Result<(RunSet, Vec<(Config, ReleasePlan)>)> {
    let set = plan_set(
        &request.workspace,
        config,
        &SetRequest {
            source: &request.version,
            only: request.package.as_deref(),
        },
    )?;
    let tags = set.tags();
    let mut plans = Vec::new();
    for release in &set.releases {
        let narrowed = config_for(config, &release.package);
        let tag = crate::plan::version::tag_for(&release.package.prefix, &release.version);
        // The pushed tag is this package's (its plan checks the tag push); the others follow it.
        let pushed = matches!(&request.version, VersionSource::PushedTag(t) if *t == tag);
        let mut ci = request.ci.clone();
        let source = if pushed {
            VersionSource::PushedTag(tag)
        } else {
            ci.git_ref = None;
            VersionSource::Explicit(release.version.clone())
        };
        let plan = make_plan(&PlanInput {
            workspace: &request.workspace,
            config: &narrowed,
            source,
            ci: &ci,
            signer,
            package: Some(&PackageScope {
                name: &release.package.name,
                dir: &release.package.tree_dir,
                versions: &set.versions,
                released_with: &tags,
                follows: &release.follows,
            }),
        })?;
        plans.push((narrowed, plan));
    }
    Ok((set, plans))
}

/// Runs the stages after planning for every package, and returns the run's report (one
/// [`RunReport::packages`] entry per package).
pub fn finish(
    command: Command,
    request: &ReleaseRequest,
    config: &Config,
    (set, plans): (RunSet, Vec<(Config, ReleasePlan)>),
    signing: Option<&SigningKey>,
    progress: &mut dyn Progress,
    started: std::time::Instant,
) -> Result<RunReport> {
    let stages = &request.stages;
    if stages.contains(&Stage::Publish) && !stages.contains(&Stage::Build) && command == Command::Release {
        return Err(Error::input(
            "stages",
            "in independent mode each package is built and published in one run (its dist/ is its release's); run build and publish together",
        ));
    }
    if !matches!(request.selection, crate::build::Selection::All) {
        return Err(Error::input(
            "--partial",
            "matrix builds (--partial, --merge) are for fixed releases; independent mode builds each npm package in one job",
        ));
    }
    let mut runs: Vec<PackageRun> = plans
        .into_iter()
        .map(|(config, plan)| PackageRun {
            report: RunReport::new(command, request.dry_run, plan, config.release.attestations),
            config,
        })
        .collect();
    if command == Command::Plan {
        return Ok(combined(command, request, runs, None));
    }
    let mut unwritten = Vec::new();
    if command == Command::Release && stages.contains(&Stage::Prepare) {
        progress.stage_started(Stage::Prepare);
        let prepared = prepare(request, &set, &mut runs);
        progress.stage_finished(Stage::Prepare);
        unwritten = prepared?;
    } else if command == Command::Validate && request.dry_run && stages.contains(&Stage::Prepare) {
        unwritten = edits(request, &set, &runs)?.into_iter().flat_map(|(_, e)| e).collect();
    }
    if command == Command::Validate || stages.contains(&Stage::Validate) {
        progress.stage_started(Stage::Validate);
        // The gates run once, over the whole repository as every package's release leaves it.
        let first = &mut runs[0];
        let validated = crate::pipeline::validate_stage(request, config, &mut first.report, &unwritten);
        progress.stage_finished(Stage::Validate);
        validated?;
    }
    let validation = runs[0].report.validation.clone();
    if command == Command::Validate {
        return Ok(combined(command, request, runs, validation));
    }
    let _dist = if !request.dry_run && stages.contains(&Stage::Build) {
        Some(crate::build::DistLock::take(&request.workspace)?)
    } else {
        None
    };
    let mut released: Vec<String> = Vec::new();
    for run in &mut runs {
        if let Err(error) = ship(request, run, signing, progress, started) {
            return Err(stopped(error, &released, &run.report.plan.tag));
        }
        if run.report.released() {
            released.push(run.report.plan.tag.clone());
        }
    }
    Ok(combined(command, request, runs, validation))
}

/// Builds and publishes one package.
fn ship(
    request: &ReleaseRequest,
    run: &mut PackageRun,
    signing: Option<&SigningKey>,
    progress: &mut dyn Progress,
    started: std::time::Instant,
) -> Result<()> {
    tracing::info!(
        "package {}: {}",
        run.report.plan.package.as_deref().unwrap_or_default(),
        run.report.plan.tag
    );
    if request.stages.contains(&Stage::Build) {
        progress.stage_started(Stage::Build);
        let built = crate::pipeline::build_stage(request, &run.config, signing, &mut run.report);
        progress.stage_finished(Stage::Build);
        built?;
    }
    if request.stages.contains(&Stage::Publish) {
        progress.stage_started(Stage::Publish);
        let published = crate::txn::publish::publish(request, &run.config, &mut run.report, started);
        progress.stage_finished(Stage::Publish);
        published?;
    }
    Ok(())
}

/// The error of a run that stopped at `tag`, saying what was released before it. Before anything
/// was released it is the error itself (a usage error stays exit 2: nothing was published).
fn stopped(error: Error, released: &[String], tag: &str) -> Error {
    if released.is_empty() {
        return error;
    }
    Error::Failed(format!(
        "released {}, then {tag} failed: {error}; run the release again: it checks what was released and releases the rest",
        released.join(", ")
    ))
}

/// The edits of each package's release: its package.json version, its changelog file, and the
/// ranges by which it depends on packages released with it that the new versions leave.
fn edits(request: &ReleaseRequest, set: &RunSet, runs: &[PackageRun]) -> Result<Vec<(usize, Vec<FileEdit>)>> {
    let mut out = Vec::new();
    for (index, (run, release)) in runs.iter().zip(&set.releases).enumerate() {
        let plan = &run.report.plan;
        let mut edits =
            crate::prepare::plan_edits(&request.workspace, &run.config.version, &plan.version, &plan.changelog)?;
        if let Some(ranges) = range_edit(request, set, release, edits.first())? {
            match edits.iter_mut().find(|e| e.path == ranges.path) {
                Some(existing) => *existing = ranges,
                None => edits.push(ranges),
            }
        }
        out.push((index, edits));
    }
    Ok(out)
}

/// The package.json of `release` with every range on a package released in the run that the new
/// version leaves moved to it (`^1.0.0` → `^2.0.0`, the operator kept), on top of `base` (the
/// version edit) when there is one. `workspace:` ranges are left: packing rewrites them.
fn range_edit(
    request: &ReleaseRequest,
    set: &RunSet,
    release: &PackageRelease,
    base: Option<&FileEdit>,
) -> Result<Option<FileEdit>> {
    let path = release.package.dir.join("package.json");
    let mut text = match base.filter(|e| e.path == path) {
        Some(edit) => edit.new_text.clone(),
        None => crate::prepare::read(&request.workspace.join(&path))?,
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input("package.json", format!("{} is not valid JSON: {e}", path.display())))?;
    let mut what = Vec::new();
    for table in crate::workspaces::DEPENDENCY_TABLES {
        let Some(deps) = value.get(table).and_then(|d| d.as_object()) else {
            continue;
        };
        for (name, range) in deps {
            let Some(range) = range.as_str() else { continue };
            let Some(new) = set
                .releases
                .iter()
                .find(|r| &r.package.name == name)
                .map(|r| &r.version)
            else {
                continue;
            };
            if range.starts_with("workspace:") || crate::workspaces::satisfies(range, new) != Some(false) {
                continue;
            }
            let moved = crate::prepare::retarget(range, &new.to_string()).unwrap_or_else(|| format!("^{new}"));
            if let Some(edited) = crate::prepare::json_edit::replace_string(&text, &[table, name], &moved) {
                text = edited;
                what.push(format!("{table}.{name} {range} → {moved}"));
            }
        }
    }
    if what.is_empty() {
        return Ok(None);
    }
    let mut description = base
        .filter(|e| e.path == path)
        .map(|e| e.what.clone())
        .unwrap_or_default();
    for item in what {
        if !description.is_empty() {
            description.push_str(", ");
        }
        description.push_str(&item);
    }
    Ok(Some(FileEdit {
        path,
        new_text: text,
        what: description,
    }))
}

/// Writes every package's edits (or, in a dry run, records them); returns those not written.
fn prepare(request: &ReleaseRequest, set: &RunSet, runs: &mut [PackageRun]) -> Result<Vec<FileEdit>> {
    let all = edits(request, set, runs)?;
    let mut unwritten = Vec::new();
    for (index, edits) in all {
        crate::pipeline::write_edits(request, &mut runs[index].report, &edits)?;
        if request.dry_run {
            unwritten.extend(edits);
        }
    }
    Ok(unwritten)
}

/// The report of the whole run: each package's report, and the first package's plan at the top
/// (what a fixed-release reader of `plan` finds).
fn combined(
    command: Command,
    request: &ReleaseRequest,
    runs: Vec<PackageRun>,
    validation: Option<crate::validate::Validation>,
) -> RunReport {
    let plan = runs[0].report.plan.clone();
    let attested = runs[0].config.release.attestations;
    let mut report = RunReport::new(command, request.dry_run, plan, attested);
    report.validation = validation;
    for run in &runs {
        report.npm_packages.extend(run.report.npm_packages.clone());
        report.prepared.extend(run.report.prepared.iter().cloned());
    }
    report.packages = runs.into_iter().map(|r| r.report).collect();
    report
}
