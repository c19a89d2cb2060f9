//! Why this exists: when a release turns out bad, users need the previous one back everywhere at
//! once, from a `workflow_dispatch` button, without deleting anything. A rollback reads the
//! release's journal and puts every pointer back to the value recorded before the release moved
//! it (newest first), keeps the bad release but marks it a prerelease with a banner, deprecates
//! its npm versions, and marks its deployments. It is planned as a dry run first: when nothing
//! would change it writes nothing — not even the lock.

use crate::build;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::plan::ReleasePlan;
use crate::plan::VersionSource;
use crate::plan::version::release_version_of;
use crate::report::{Notification, RollbackSummary, RunReport};
use crate::request::ReleaseRequest;
use crate::targets::StepRecord;
use crate::targets::github::client::{ApiRelease, GitHubClient};
use crate::targets::github::{HostedRelease, PLAN_ASSET};
use crate::txn::Transaction;
use crate::txn::journal::{JOURNAL_ASSET, Journal};
use crate::txn::lock::{Lock, LockSettings};
use crate::txn::pointer::{Pointer, PointerIo};

/// The first line of the banner a rolled-back release carries (also how a second run sees it).
pub const BANNER: &str = "> [!CAUTION]\n> **This release was rolled back**";

/// Rolls back the release `request.version` names (default: the latest) from its journal.
pub fn rollback(request: &ReleaseRequest, config: &Config, started: std::time::Instant) -> Result<RunReport> {
    let Some((client, _)) = crate::targets::github::client_for(config, request)? else {
        return Err(Error::input(
            "github-token",
            "rollback reads the release's journal from GitHub: give a token (input github-token, or GITHUB_TOKEN) and GITHUB_REPOSITORY",
        ));
    };
    let prefix = &config.release.tag_prefix;
    let release = find_release(&client, request, prefix)?;
    let tag = release.tag_name.clone();
    let assets = client.assets(release.id)?;
    let scope = crate::txn::scope::Scope::from_config(&request.workspace, config)?;
    let journal = checked_journal(&client, &release, &assets, prefix, &scope)?.ok_or_else(|| {
        Error::input(
            "version",
            format!(
                "{tag} has no {JOURNAL_ASSET}: it was not released by tamma-release, so what its release moved is unknown; roll it back by hand (README \"When a release goes wrong\")"
            ),
        )
    })??;
    let moves_npm = journal
        .flips()
        .iter()
        .any(|(p, ..)| matches!(p, Pointer::NpmTag { .. }));
    if moves_npm && request.npm_token.is_none() && !request.dry_run {
        return Err(Error::input(
            "npm-token",
            format!(
                "rolling back {tag} moves npm dist-tags and deprecates its npm versions: give input npm-token (NPM_TOKEN locally)"
            ),
        ));
    }
    let plan = release_plan(&client, &release, &assets)?
        .ok_or_else(|| Error::Failed(format!("{tag} has a journal but no {PLAN_ASSET}")))?;
    let (npm_target, oci_target) = crate::txn::shipment::pointer_targets(request, config)?;
    let io = PointerIo {
        npm: &npm_target,
        oci: &oci_target,
        github: Some(&client),
    };
    let to = rolled_back_to(&client, &journal, &release, prefix)?;
    let context = Context {
        client: &client,
        io: &io,
        release: &release,
        journal: &journal,
        to: to.clone(),
        path: build::dist_dir(&request.workspace).join(format!("rollback-journal-{tag}.json")),
    };
    // Plan first, by reading only: exactly what a dry run prints, and nothing to lock for when
    // everything is back already.
    let (planned, changed, planned_problems) = context.run(true)?;
    let (steps, problems) = if request.dry_run || !changed {
        (planned, planned_problems)
    } else {
        let lock = Lock::acquire(
            &client,
            &request.ci,
            &format!("rollback {tag}"),
            &journal.commit,
            LockSettings::from_config(config)?,
        )?;
        let done = context.run(false);
        if let Err(error) = lock.release() {
            tracing::warn!("the release lock could not be released ({error}); it is taken over once stale");
        }
        // Past this point something may have been written: a user error is no longer "nothing
        // happened" (exit 2) but a rollback to finish (exit 1).
        let (steps, _, problems) = done.map_err(|e| match e.exit_status() {
            crate::error::ExitStatus::Usage => Error::Failed(format!(
                "the rollback of {tag} stopped after it began: {e}; fix that and run it again — it skips what is done"
            )),
            _ => e,
        })?;
        (steps, problems)
    };
    let from = journal.version.clone();
    let mut report = RunReport {
        command: crate::pipeline::Command::Rollback,
        dry_run: request.dry_run,
        plan,
        release: Some(HostedRelease {
            id: Some(release.id),
            url: Some(release.html_url.clone()),
            upload_url: None,
            draft: false,
            assets: Vec::new(),
        }),
        build: None,
        steps,
        validation: None,
        pointers: Vec::new(),
        npm_packages: Default::default(),
        attested: false,
        rollback: Some(RollbackSummary {
            from: from.clone(),
            to: to.clone(),
            changed,
        }),
        prepared: Vec::new(),
        packages: Vec::new(),
    };
    if changed {
        tracing::info!(
            "rolled back {from}{}",
            to.as_deref().map(|t| format!(" to {t}")).unwrap_or_default()
        );
        let journal_url = assets
            .iter()
            .find(|a| a.name == JOURNAL_ASSET)
            .map(|a| a.browser_download_url.clone());
        let note = Notification::rollback(
            request.ci.repository.as_deref(),
            &tag,
            &from,
            to.as_deref(),
            &release.html_url,
            request.ci.run_url.as_deref(),
            journal_url.as_deref(),
            request.dry_run,
            started.elapsed(),
        );
        report
            .steps
            .extend(crate::targets::notify::deliver(config, request, &note));
    }
    if !problems.is_empty() && !request.dry_run {
        return Err(Error::Failed(format!(
            "rolled back {tag} except: {}; see README \"When a release goes wrong\" to finish by hand",
            problems.join("; ")
        )));
    }
    Ok(report)
}

/// The journal attached to `release` (whose assets are `assets`), once `scope` accepts it: every
/// pointer it names must be one this configuration releases to. `None` when it has none; the
/// inner error when it is unreadable or refused, the outer when GitHub could not be reached.
pub fn checked_journal(
    client: &GitHubClient,
    release: &ApiRelease,
    assets: &[crate::targets::github::client::ApiAsset],
    prefix: &str,
    scope: &crate::txn::scope::Scope,
) -> Result<Option<Result<Journal>>> {
    let Some(asset) = assets.iter().find(|a| a.name == JOURNAL_ASSET) else {
        return Ok(None);
    };
    let bytes = client.download_asset(asset.id)?;
    let tag = &release.tag_name;
    let origin = format!("the {JOURNAL_ASSET} of {tag}");
    // Untrusted until checked.
    Ok(Some(Journal::parse(&bytes, &origin).and_then(|journal| {
        scope.check(&journal, tag, prefix, &origin).map(|()| journal)
    })))
}

/// Whether `release` carries the banner a rollback puts on it.
pub fn is_rolled_back(release: &ApiRelease) -> bool {
    release.body.as_deref().unwrap_or_default().starts_with(BANNER)
}

/// The plan a release was made from (its `release-plan.json` asset), when it has one. What it says
/// is the word of anyone who can edit the release: callers check what they act on.
pub fn release_plan(
    client: &GitHubClient,
    release: &ApiRelease,
    assets: &[crate::targets::github::client::ApiAsset],
) -> Result<Option<ReleasePlan>> {
    let tag = &release.tag_name;
    let Some(asset) = assets.iter().find(|a| a.name == PLAN_ASSET) else {
        return Ok(None);
    };
    let bytes = client.download_asset(asset.id)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Failed(format!("the {PLAN_ASSET} of {tag} is unreadable: {e}")))
}

/// The release to roll back: the version asked for, or GitHub's latest.
fn find_release(client: &GitHubClient, request: &ReleaseRequest, prefix: &str) -> Result<ApiRelease> {
    let tag = match &request.version {
        VersionSource::Explicit(version) => crate::plan::version::tag_for(prefix, version),
        VersionSource::PushedTag(tag) if release_version_of(tag, prefix).is_some() => tag.clone(),
        VersionSource::PushedTag(tag) => {
            return Err(Error::input(
                "version",
                format!(
                    "{tag:?} is not a release tag of this config (its tags are {prefix}<version>); give the version or that tag"
                ),
            ));
        }
        VersionSource::LatestRelease => {
            // The highest stable release ever published, rolled back or not: running the same
            // rollback twice must not roll back a second release. Others need their version.
            let newest = client
                .releases()?
                .into_iter()
                .filter(|r| !r.draft)
                .filter_map(|r| release_version_of(&r.tag_name, prefix).map(|v| (v, r)))
                .filter(|(v, _)| v.pre.is_empty())
                .max_by(|a, b| a.0.cmp(&b.0));
            return newest.map(|(_, r)| r).ok_or_else(|| {
                Error::input(
                    "version",
                    "this repository has no published stable release to roll back; give the version (input version, --version)",
                )
            });
        }
        VersionSource::Bump { .. } | VersionSource::Configured { .. } => {
            return Err(Error::input("bump", "rollback takes a version, not a bump"));
        }
    };
    client.release_by_tag(&tag)?.ok_or_else(|| {
        Error::input(
            "version",
            format!(
                "there is no published release {tag} to roll back (a draft was never visible: re-run or delete it)"
            ),
        )
    })
}

/// The version users get again: what GitHub's latest pointed at before (a stable release), else
/// the version the first npm channel pointed at, else the highest earlier release of the channel,
/// else the highest earlier release of any channel (the first stable release after an alpha gives
/// the alpha back).
fn rolled_back_to(
    client: &GitHubClient,
    journal: &Journal,
    release: &ApiRelease,
    prefix: &str,
) -> Result<Option<String>> {
    let flips = journal.flips();
    let from_latest = flips
        .iter()
        .find(|(p, ..)| *p == Pointer::GithubLatest)
        .and_then(|(_, before, _)| before.as_deref())
        .and_then(|t| release_version_of(t, prefix));
    if let Some(version) = from_latest {
        return Ok(Some(version.to_string()));
    }
    let from_npm = flips
        .iter()
        .find(|(p, ..)| matches!(p, Pointer::NpmTag { .. }))
        .and_then(|(_, before, _)| before.clone());
    if from_npm.is_some() {
        return Ok(from_npm);
    }
    let ours = semver::Version::parse(&journal.version).map_err(|e| Error::Failed(e.to_string()))?;
    let channel = crate::targets::channel_for(&ours);
    let earlier: Vec<semver::Version> = client
        .releases()?
        .iter()
        .filter(|r| !r.draft && r.id != release.id && !is_rolled_back(r))
        .filter_map(|r| release_version_of(&r.tag_name, prefix))
        .filter(|v| v.cmp_precedence(&ours).is_lt())
        .collect();
    let same_channel = earlier
        .iter()
        .filter(|v| crate::targets::channel_for(v) == channel)
        .max();
    Ok(same_channel.or_else(|| earlier.iter().max()).map(|v| v.to_string()))
}

/// What one rollback pass needs.
struct Context<'a> {
    client: &'a GitHubClient,
    io: &'a PointerIo<'a>,
    release: &'a ApiRelease,
    journal: &'a Journal,
    to: Option<String>,
    path: std::path::PathBuf,
}

impl Context<'_> {
    /// One pass: with `dry_run`, only reads and says what would change. Returns the steps,
    /// whether anything changed (or would), and what cannot be put back.
    fn run(&self, dry_run: bool) -> Result<(Vec<StepRecord>, bool, Vec<String>)> {
        let mut txn = Transaction::for_rollback(self.journal.clone(), &self.path, dry_run);
        let undo = txn.undo(self.io, "rollback", dry_run, self.to.as_deref())?;
        let problems = undo.problems;
        let mut steps = std::mem::take(&mut txn.steps);
        let notes = steps.len() - undo.changed;
        let tag = &self.release.tag_name;
        let instead = self.to.as_deref().map(|v| format!("; use {v}")).unwrap_or_default();
        // npm: deprecate the version (never unpublish: installs pinned to it keep working).
        let deprecation = format!("{} was rolled back{instead}", self.journal.version);
        let mut seen = Vec::new();
        for (pointer, ..) in self.journal.flips() {
            let Pointer::NpmTag { registry, package, .. } = &pointer else {
                continue;
            };
            if seen.contains(package) {
                continue;
            }
            seen.push(package.clone());
            let version = &self.journal.version;
            // `deprecate` reads the packument itself and writes only when the message differs.
            let changes = if dry_run {
                self.io.npm.deprecation(registry, package, version)?.as_deref() != Some(deprecation.as_str())
            } else {
                self.io.npm.deprecate(registry, package, version, &deprecation)?
            };
            if !changes {
                continue;
            }
            steps.push(step(
                "npm",
                format!("deprecated {package}@{version}: \"{deprecation}\""),
                dry_run,
            ));
        }
        // Deployments of the bad release become inactive; the docs environment points at the
        // restored branch again, so its previous deployment is marked live.
        for (id, environment) in self.client.deployments_of(tag)? {
            let states = self.client.deployment_states(id)?;
            if states.first().is_some_and(|s| s == "inactive") {
                continue;
            }
            if !dry_run {
                self.client
                    .deployment_status(id, "inactive", None, None, &format!("rolled back{instead}"))?;
            }
            steps.push(step(
                "deploy",
                format!("marked deployment {id} ({environment}) of {tag} inactive"),
                dry_run,
            ));
            if environment == "docs"
                && let Some(previous) = &self.to
            {
                self.redeploy_docs(previous, dry_run, &mut steps)?;
            } else if environment != "docs" {
                steps.push(step(
                    "deploy",
                    format!(
                        "{environment} still runs what {tag} deployed: redeploy {} there (a staging deploy is the project's own webhook or command)",
                        self.to.as_deref().unwrap_or("the previous version")
                    ),
                    dry_run,
                ));
            }
        }
        // GitHub: keep the release, but as a prerelease with a banner (after latest moved back).
        let body = self.release.body.clone().unwrap_or_default();
        if !self.release.prerelease || !body.starts_with(BANNER) {
            let banner = format!(
                "{BANNER} on {}{}. It is kept for the record and is no longer the latest release.\n\n",
                &crate::txn::journal::now()[..10],
                self.to
                    .as_deref()
                    .map(|v| format!(": use {v} instead"))
                    .unwrap_or_default()
            );
            let new_body = if body.starts_with(BANNER) {
                body
            } else {
                format!("{banner}{body}")
            };
            if !dry_run {
                self.client.update(
                    self.release.id,
                    &serde_json::json!({"prerelease": true, "make_latest": "false", "body": new_body}),
                    &format!("marking {tag} rolled back"),
                )?;
            }
            steps.push(step(
                crate::targets::github::TARGET,
                format!("marked {tag} a prerelease with a rolled-back banner in its notes"),
                dry_run,
            ));
        }
        let changed = steps.len() > notes;
        Ok((steps, changed, problems))
    }

    /// Marks the docs deployment of the version rolled back to as live again.
    fn redeploy_docs(&self, previous: &str, dry_run: bool, steps: &mut Vec<StepRecord>) -> Result<()> {
        let previous_tag = self
            .release
            .tag_name
            .strip_suffix(&self.journal.version)
            .map(|prefix| format!("{prefix}{previous}"))
            .unwrap_or_else(|| previous.to_string());
        for (id, environment) in self.client.deployments_of(&previous_tag)? {
            if environment != "docs" {
                continue;
            }
            if self
                .client
                .deployment_states(id)?
                .first()
                .is_some_and(|s| s == "success")
            {
                return Ok(());
            }
            if !dry_run {
                self.client
                    .deployment_status(id, "success", None, None, "live again: the docs branch was put back")?;
            }
            steps.push(step(
                "deploy",
                format!("marked deployment {id} (docs) of {previous_tag} live again"),
                dry_run,
            ));
            return Ok(());
        }
        Ok(())
    }
}

fn step(target: &str, action: String, dry_run: bool) -> StepRecord {
    StepRecord {
        target: target.into(),
        action,
        dry_run,
    }
}
