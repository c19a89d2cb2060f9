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
use crate::targets::{deploy, notify, npm, oci};

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
}

/// Runs `command` for `request`. The `host` is the GitHub release target (the dry-run recorder in
/// a dry run).
pub fn run(command: Command, request: &ReleaseRequest, progress: &mut dyn Progress) -> Result<RunReport> {
    let started = std::time::Instant::now();
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
        pointers: Vec::new(),
        validation: None,
        npm_packages: Default::default(),
    };
    if command == Command::Plan {
        return Ok(report);
    }
    if command == Command::Validate {
        progress.stage_started(Stage::Validate);
        let validated = validate_stage(request, &config, &mut report);
        progress.stage_finished(Stage::Validate);
        validated?;
        return Ok(report);
    }
    if request.stages.contains(&Stage::Prepare) {
        progress.stage_started(Stage::Prepare);
        let prepared = prepare(request, &config, &mut report);
        progress.stage_finished(Stage::Prepare);
        prepared?;
    }
    if request.stages.contains(&Stage::Validate) {
        progress.stage_started(Stage::Validate);
        let validated = validate_stage(request, &config, &mut report);
        progress.stage_finished(Stage::Validate);
        validated?;
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
    let published = publish_stage(request, &config, &mut report, started);
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

/// Stages every target (the GitHub draft with its assets, npm versions under a staging tag,
/// images under their version tag), then flips every pointer — npm channel tags, image channel
/// tags, and last the GitHub release — so nothing is visible before everything is in place.
fn publish_stage(
    request: &ReleaseRequest,
    config: &Config,
    report: &mut RunReport,
    started: std::time::Instant,
) -> Result<()> {
    let mut host = github::release_host(config, request)?;
    let packages = npm_packages(request, config, report)?;
    let images = image_releases(request, config, report);
    let http = if request.dry_run {
        None
    } else {
        Some(crate::http::Http::new(crate::http::HttpPolicy::default())?)
    };
    if !request.dry_run && !packages.is_empty() && request.npm_token.is_none() {
        return Err(crate::error::Error::input(
            "npm-token",
            "publishing npm packages needs a token: input npm-token, or NPM_TOKEN / --npm-token locally",
        ));
    }
    let http_for_deploy = http.clone();
    let mut npm_target = npm::NpmTarget::new(http.clone(), request.npm_token.clone());
    let mut image_target = oci::OciTarget::new(
        http,
        request.registry.clone(),
        config.image.insecure_registries.clone(),
        request.machine.docker_host.clone(),
    );
    let mut assets = release_assets(request, report);
    if !request.dry_run {
        assets.push(write_plan_asset(request, report)?);
    }
    if let Some(docs) = &config.deploy.docs {
        // A missing site is found before anything is staged, in a dry run too.
        crate::build::files::inside(&request.workspace, "deploy.docs", &docs.path)?;
    }
    let mut deploy_steps = Vec::new();
    let mut docs_move = None;
    let mut docs_deployment: Option<u64> = None;
    let github_client = if request.dry_run {
        None
    } else {
        github::client_for(config, request)?.map(|(c, _)| c)
    };
    let result = (|| {
        let staged = host.stage(&report.plan, &assets)?;
        for package in &packages {
            npm_target.stage(package)?;
        }
        for image in &images {
            image_target.stage(image)?;
        }
        let staged_docs = match (&config.deploy.docs, &github_client) {
            (Some(docs), Some(client)) => Some(deploy::stage_docs(
                client,
                &request.workspace,
                docs,
                &report.plan.version,
                &report.plan.tag,
                &mut deploy_steps,
            )?),
            (Some(docs), None) => {
                deploy_steps.push(StepRecord {
                    target: "docs".into(),
                    action: format!("commit {} to {} and move the branch", docs.path, docs.branch),
                    dry_run: true,
                });
                None
            }
            _ => None,
        };
        for package in &packages {
            npm_target.flip(package)?;
        }
        for image in &images {
            image_target.flip(image)?;
        }
        if let (Some(staged_docs), Some(client)) = (&staged_docs, &github_client) {
            docs_move = deploy::flip_docs(client, staged_docs, &mut deploy_steps)?;
            if let Some(docs) = &config.deploy.docs {
                docs_deployment = Some(deploy::record_docs(
                    client,
                    docs,
                    &report.plan.tag,
                    request.ci.run_url.as_deref(),
                    &mut deploy_steps,
                )?);
            }
        }
        if let Some(staging) = &config.deploy.staging {
            match (&github_client, &http_for_deploy) {
                (Some(client), Some(http)) => {
                    let payload = serde_json::json!({
                        "version": report.plan.version, "tag": report.plan.tag, "commit": report.plan.commit,
                        "artifacts": report.build.as_ref().map(|b| b.artifacts.iter().map(|a| serde_json::json!({"name": a.name, "sha256": a.sha256})).collect::<Vec<_>>()),
                        "images": image_target.moves().iter().map(|m| serde_json::json!({"pointer": m.pointer, "digest": m.new})).collect::<Vec<_>>(),
                    });
                    let deployed = deploy::deploy_staging(
                        client,
                        http,
                        staging,
                        request.deploy_secret.as_ref(),
                        &payload,
                        &report.plan.tag,
                        request.ci.run_url.as_deref(),
                        &request.workspace,
                        &mut deploy_steps,
                    );
                    if let Err(error) = deployed {
                        if let Some(id) = docs_deployment {
                            let _ = client.deployment_status(
                                id,
                                "failure",
                                None,
                                request.ci.run_url.as_deref(),
                                "rolled back: the staging smoke check failed",
                            );
                        }
                        // Put every moved pointer back, newest first; the GitHub release stays a draft.
                        if let Some(moved) = &docs_move {
                            deploy::restore_docs(client, moved)?;
                            deploy_steps.push(StepRecord {
                                target: "docs".into(),
                                action: format!("put {} back", moved.pointer),
                                dry_run: false,
                            });
                        }
                        image_target.restore(&images)?;
                        npm_target.restore(&packages)?;
                        return Err(crate::error::Error::Failed(format!(
                            "{error}; every moved pointer was put back and the GitHub release stays a draft"
                        )));
                    }
                }
                _ => deploy_steps.push(StepRecord {
                    target: "deploy".into(),
                    action: format!(
                        "deploy to {}{}",
                        staging.environment,
                        staging
                            .smoke
                            .as_ref()
                            .map(|s| format!(" and poll {}", s.url))
                            .unwrap_or_default()
                    ),
                    dry_run: true,
                }),
            }
        }
        host.flip(&report.plan, &staged, config.release.draft)
    })();
    report.steps.extend(host.steps());
    report.steps.extend(npm_target.steps().iter().cloned());
    report.steps.extend(image_target.steps().iter().cloned());
    report.steps.extend(deploy_steps);
    report.pointers.extend(npm_target.moves().iter().cloned());
    report.pointers.extend(image_target.moves().iter().cloned());
    if result.is_ok() {
        report.pointers.extend(docs_move);
    }
    report.npm_packages = packages
        .iter()
        .map(|p| (p.name.clone(), (p.version.clone(), p.channel.clone())))
        .collect();
    let outcome = result.map(|release| report.release = Some(release));
    notify::send(config, request, report, outcome.as_ref().err(), started.elapsed());
    outcome
}

/// The npm packages this release publishes, from the `kind = "npm"` artifacts.
fn npm_packages(request: &ReleaseRequest, config: &Config, report: &RunReport) -> Result<Vec<npm::NpmPackage>> {
    let version =
        semver::Version::parse(&report.plan.version).map_err(|e| crate::error::Error::Failed(e.to_string()))?;
    let dist = build::dist_dir(&request.workspace);
    let mut out = Vec::new();
    for artifact in config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Npm)
    {
        let Some(path) = &artifact.path else { continue };
        let manifest_path = request.workspace.join(path).join("package.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| crate::error::Error::ReadFile {
            path: manifest_path.clone(),
            source,
        })?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            crate::error::Error::input(
                "artifact",
                format!("{} is not valid JSON: {e}", manifest_path.display()),
            )
        })?;
        let name = manifest["name"].as_str().unwrap_or_default().to_string();
        let registry = manifest["publishConfig"]["registry"]
            .as_str()
            .map(str::to_string)
            .or_else(|| config.npm.registry.clone())
            .unwrap_or_else(|| npm::DEFAULT_REGISTRY.to_string());
        out.push(npm::NpmPackage {
            tarball: dist.join(build::npm_pack::tarball_name(&name, &report.plan.version)),
            version: report.plan.version.clone(),
            access: manifest["publishConfig"]["access"].as_str().map(str::to_string),
            channel: crate::targets::channel_for(&version),
            registry,
            name,
        });
    }
    Ok(out)
}

/// The images this release publishes, from the `kind = "image"` artifacts.
fn image_releases(request: &ReleaseRequest, config: &Config, report: &RunReport) -> Vec<oci::ImageRelease> {
    let version = semver::Version::parse(&report.plan.version).ok();
    let dist = build::dist_dir(&request.workspace);
    config
        .artifacts
        .iter()
        .filter(|a| a.kind == crate::config::ArtifactKind::Image)
        .filter_map(|a| {
            let image = a.image.as_ref()?;
            let source = match &a.oci_layout {
                Some(_) => oci::ImageSource::Layout(build::stored_layout(&dist, image)),
                None => oci::ImageSource::Daemon,
            };
            Some(oci::ImageRelease {
                repository: image.to_ascii_lowercase(),
                version: report.plan.version.clone(),
                channel: version
                    .as_ref()
                    .map(crate::targets::channel_for)
                    .unwrap_or_else(|| "latest".into()),
                source,
            })
        })
        .collect()
}

/// Evaluates the gates (also in a dry run) and records the metrics in the plan.
fn validate_stage(request: &ReleaseRequest, config: &Config, report: &mut RunReport) -> Result<()> {
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
    let validation = crate::validate::run(
        &request.workspace,
        config,
        &report.plan.version,
        previous.as_ref(),
        &crate::dates::iso_date(now),
        request.dry_run,
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

/// Writes dist/release-plan.json (the plan with its metrics) to attach to the release, so the
/// next release can read what this one measured.
fn write_plan_asset(request: &ReleaseRequest, report: &RunReport) -> Result<ReleaseAsset> {
    let dist = build::dist_dir(&request.workspace);
    std::fs::create_dir_all(&dist).map_err(|source| crate::error::Error::WriteFile {
        path: dist.clone(),
        source,
    })?;
    let path = dist.join(github::PLAN_ASSET);
    let mut text = serde_json::to_string_pretty(&report.plan).expect("a plan serializes");
    text.push('\n');
    std::fs::write(&path, &text).map_err(|source| crate::error::Error::WriteFile {
        path: path.clone(),
        source,
    })?;
    let digest = build::checksum::sha256_file(&path)?;
    Ok(ReleaseAsset {
        name: github::PLAN_ASSET.into(),
        path,
        sha256: digest.sha256,
        size: digest.size,
        media_type: "application/json".into(),
    })
}
