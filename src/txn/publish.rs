//! Why this exists: the publish stage as a transaction. Stage every target (users see nothing),
//! take the lock, record every pointer's old value in the journal and attach it to the draft,
//! flip the pointers, check them (read back, deploy, smoke), publish the GitHub release last —
//! and on any failure after the first flip, put every pointer back from the journal.

use crate::build;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::{Notification, RunReport};
use crate::request::ReleaseRequest;
use crate::targets::github::{self, HostedRelease, ReleaseAsset, ReleaseHost};
use crate::targets::{deploy, notify, npm, oci};
use crate::txn::Transaction;
use crate::txn::journal::{DeploymentRecord, JOURNAL_ASSET, Journal};
use crate::txn::lock::{Lock, LockSettings};
use crate::txn::pointer::{Pointer, PointerIo};
use crate::txn::shipment::{image_credentials, image_releases, npm_packages, release_assets, write_plan_asset};

/// Runs the publish stage of `request`, filling `report`.
pub fn publish(
    request: &ReleaseRequest,
    config: &Config,
    report: &mut RunReport,
    started: std::time::Instant,
) -> Result<()> {
    let mut host = github::release_host(config, request)?;
    let packages = npm_packages(request, config, report)?;
    let images = image_releases(request, config, report)?;
    let http = if request.dry_run {
        None
    } else {
        Some(crate::http::Http::new(github::http_policy(config, &request.ci)?)?)
    };
    let trusted = npm_credentials(request, &packages, http.as_ref())?;
    if let Some(docs) = &config.deploy.docs {
        // A missing or empty site, or a link out of it, is found before anything is staged, in a
        // dry run too.
        deploy::site_files(&request.workspace, docs)?;
    }
    // Nothing uninstallable is published: checked (reading the registry) before anything is written.
    let installable =
        crate::txn::installable::check(&packages, &npm::NpmTarget::new(http.clone(), request.npm_token.clone()))?;
    // The release commit, when configured, is the first write: every later step tags, builds the
    // action commit on, and records this commit.
    let checkout = report.plan.commit.clone();
    let (release_commit, release_tree) = match commit_the_edits(request, config, report)? {
        Some((step, tree)) => (Some(step), tree),
        None => (None, None),
    };
    // An action.yml that cannot point at the image is found before anything is staged; the
    // file read here (from the checkout) is the one the action commit is made from, on top of the
    // release commit's tree.
    let action_yml =
        if config.release.action_image.is_some() && !config.release.floating_tags.is_empty() && !report.plan.prerelease
        {
            let (tree, text) = github::action_image::action_yml_at(&request.workspace, &checkout)?;
            Some((release_tree.unwrap_or(tree), text))
        } else {
            None
        };
    let lock_settings = LockSettings::from_config(config)?;
    let scope = crate::txn::scope::Scope::from_config(&request.workspace, config)?;
    let github_client = if request.dry_run {
        None
    } else {
        github::client_for(config, request)?.map(|(c, _)| c)
    };
    let mut run = Run {
        request,
        config,
        packages,
        images,
        npm: match trusted {
            Some(tokens) => npm::NpmTarget::new(http.clone(), None).with_trusted_publishing(tokens),
            None => npm::NpmTarget::new(http.clone(), request.npm_token.clone()),
        },
        oci: oci::OciTarget::new(
            http.clone(),
            image_credentials(request, config)?,
            config.image.insecure_registries.clone(),
            request.machine.docker_host.clone(),
        ),
        github: github_client,
        http,
        txn: Transaction::open(
            &build::dist_dir(&request.workspace).join(JOURNAL_ASSET),
            &report.plan,
            request.dry_run,
            &scope,
            &config.release.tag_prefix,
        )?,
        lock: None,
        floating_commit: None,
        action_yml,
    };
    if run.txn.journal.run.is_none() {
        run.txn.journal.run = request.ci.run_url.clone();
    }
    for checked in installable {
        run.txn.note("stage", "npm", checked);
    }
    if let Some(step) = release_commit {
        run.txn.note("stage", "git", step);
    }
    let mut assets = release_assets(request, report);
    if !request.dry_run {
        assets.push(write_plan_asset(request, report)?);
    }
    let result = run.transact(report, host.as_mut(), &assets, lock_settings);
    if let Some(lock) = run.lock.take()
        && let Err(error) = lock.release()
    {
        tracing::warn!("the release lock could not be released ({error}); it is taken over once stale");
    }
    report.steps.extend(run.txn.steps.iter().cloned());
    report.pointers = run.txn.moves();
    report.npm_packages = run
        .packages
        .iter()
        .map(|p| (p.name.clone(), (p.version.clone(), p.channel.clone())))
        .collect();
    let outcome = result.map(|release| report.release = Some(release));
    let note = Notification::release(
        report,
        request.ci.run_url.as_deref(),
        outcome.as_ref().err(),
        started.elapsed(),
    );
    report.steps.extend(notify::deliver(config, request, &note));
    outcome
}

/// How the npm packages are published: with the npm token (`None`), or — with no token, and the
/// job's OIDC identity — with a trusted-publishing token per package, exchanged before anything is
/// written (`Some`). Neither: exit 2 saying what to configure.
fn npm_credentials(
    request: &ReleaseRequest,
    packages: &[npm::NpmPackage],
    http: Option<&crate::http::Http>,
) -> Result<Option<std::collections::BTreeMap<String, crate::secret::Secret>>> {
    use crate::targets::npm_oidc;
    if packages.is_empty() || request.npm_token.is_some() {
        return Ok(None);
    }
    let hint = |package: &str| {
        npm_oidc::publisher_hint(
            package,
            request.ci.repository.as_deref(),
            request.ci.workflow_ref.as_deref(),
        )
    };
    let Some(source) = &request.machine.oidc else {
        if request.dry_run {
            return Ok(None);
        }
        return Err(Error::input(
            "npm-token",
            format!(
                "publishing npm packages needs an npm token (input npm-token, or NPM_TOKEN / --npm-token locally) or trusted publishing: grant the job `permissions: id-token: write` and, {}",
                hint(&packages[0].name).trim_start_matches("on ")
            ),
        ));
    };
    let Some(http) = http else {
        // A dry run exchanges nothing: it only says how it would publish.
        return Ok(Some(Default::default()));
    };
    let mut id_tokens: std::collections::BTreeMap<String, crate::secret::Secret> = Default::default();
    let mut tokens = std::collections::BTreeMap::new();
    for package in packages {
        let audience = npm_oidc::audience(&package.registry);
        if !id_tokens.contains_key(&audience) {
            let id_token = npm_oidc::id_token(http, source, &audience, &request.machine.masker)?;
            id_tokens.insert(audience.clone(), id_token);
        }
        let token = npm_oidc::exchange(
            http,
            &package.registry,
            &package.name,
            &id_tokens[&audience],
            &request.machine.masker,
            &hint(&package.name),
        )?;
        tokens.insert(package.name.clone(), token);
    }
    Ok(Some(tokens))
}

/// With `[version] commit = true`: commits the prepare stage's edits to the release branch and
/// makes that commit the release's (`report.plan.commit`), before anything else is written.
/// Returns what was done (or would be), in words, and the release commit's tree once it is made.
fn commit_the_edits(
    request: &ReleaseRequest,
    config: &Config,
    report: &mut RunReport,
) -> Result<Option<(String, Option<String>)>> {
    use crate::targets::github::release_commit::{self, ReleaseCommit};
    if !config.version.commit || report.prepared.is_empty() {
        return Ok(None);
    }
    if let crate::plan::VersionSource::PushedTag(tag) = &request.version {
        return Ok(Some((
            format!(
                "left the edits uncommitted: the pushed tag {tag} is the release commit (version.commit applies when the run computes the version)"
            ),
            None,
        )));
    }
    let repo = crate::plan::git::GitRepo::discover(&request.workspace)?;
    let branch = match request.ci.git_ref.as_deref().and_then(|r| r.strip_prefix("refs/heads/")) {
        Some(branch) => branch.to_string(),
        None => repo.current_branch()?.ok_or_else(|| {
            Error::input(
                "[version] commit",
                "the checkout is on no branch (detached HEAD), so there is no branch to commit the release to; check out the release branch",
            )
        })?,
    };
    let commit = ReleaseCommit::new(&report.plan, &branch, report.prepared.clone());
    let parent = report.plan.commit.clone();
    if request.dry_run {
        return Ok(Some((commit.describe(&parent), None)));
    }
    let Some((client, _)) = github::client_for(config, request)? else {
        return Err(Error::input(
            "github-token",
            "[version] commit commits through the GitHub API: give a token and GITHUB_REPOSITORY",
        ));
    };
    let base_tree = repo.tree_of(&parent)?;
    let (made, tree) = release_commit::make(&client, &request.workspace, &commit, &parent, &base_tree)?;
    report.plan.commit = made.clone();
    let step = format!(
        "committed {} to {} as {} (\"{}\"); the release is tagged there",
        commit
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        branch,
        &made[..made.len().min(12)],
        commit.message
    );
    Ok(Some((step, Some(tree))))
}

/// What staging leaves: the draft, the docs commit, and each pointer's value before staging.
type Staged = (
    HostedRelease,
    Option<deploy::StagedDocs>,
    Vec<(Pointer, Option<String>)>,
);

/// Everything one publish run holds.
struct Run<'r> {
    request: &'r ReleaseRequest,
    config: &'r Config,
    packages: Vec<npm::NpmPackage>,
    images: Vec<oci::ImageRelease>,
    npm: npm::NpmTarget,
    oci: oci::OciTarget,
    github: Option<github::client::GitHubClient>,
    http: Option<crate::http::Http>,
    txn: Transaction,
    lock: Option<Lock>,
    /// The commit the floating tags move to (the release commit, or the action commit on it).
    floating_commit: Option<String>,
    /// The release commit's tree and action.yml, with `[release] action-image`.
    action_yml: Option<(String, String)>,
}

impl Run<'_> {
    fn io(&self) -> PointerIo<'_> {
        PointerIo {
            npm: &self.npm,
            oci: &self.oci,
            github: self.github.as_ref(),
        }
    }

    /// Attaches the journal file to the staged release.
    fn attach_journal(&mut self, host: &mut dyn ReleaseHost, staged: &HostedRelease) -> Result<()> {
        if self.request.dry_run {
            return Ok(());
        }
        self.txn.save()?;
        let path = self.txn.path().to_path_buf();
        let digest = build::checksum::sha256_file(&path)?;
        host.attach(
            staged,
            &ReleaseAsset {
                name: JOURNAL_ASSET.into(),
                path,
                sha256: digest.sha256,
                size: digest.size,
                media_type: "application/json".into(),
            },
        )
    }

    /// Stages every target; nothing is visible to users yet.
    fn stage(&mut self, report: &RunReport, host: &mut dyn ReleaseHost, assets: &[ReleaseAsset]) -> Result<Staged> {
        let plan = &report.plan;
        let staged = host.stage(plan, assets, &[JOURNAL_ASSET])?;
        let before = if self.request.dry_run {
            Vec::new()
        } else {
            self.read_before_stage(plan)?
        };
        let (mut from_host, mut from_npm, mut from_oci) = (0, 0, 0);
        if !self.txn.resumed()
            && let Some(bytes) = host.attached(&staged, JOURNAL_ASSET)?
        {
            let origin = format!("the {JOURNAL_ASSET} of the draft {}", plan.tag);
            let found = Journal::parse(&bytes, &origin)?;
            if found.is_for(plan) {
                crate::txn::scope::Scope::from_config(&self.request.workspace, self.config)?.check(
                    &found,
                    &plan.tag,
                    &self.config.release.tag_prefix,
                    &origin,
                )?;
                self.txn.resume(found, &format!("the draft release {}", plan.tag));
            }
        }
        self.txn.absorb("stage", &host.steps(), &mut from_host)?;
        for package in &self.packages {
            self.npm.stage(package)?;
            self.txn.absorb("stage", self.npm.steps(), &mut from_npm)?;
        }
        for image in &self.images {
            self.oci.stage(image)?;
            self.txn.absorb("stage", self.oci.steps(), &mut from_oci)?;
        }
        if !staged.draft {
            // Published already (a re-run, or a rolled-back release run again): npm and images
            // were checked above (same content, or refused); nothing will be flipped, so no new
            // docs or action commit is made.
            return Ok((staged, None, before));
        }
        self.stage_floating_commit(plan)?;
        let docs = match (&self.config.deploy.docs, &self.github) {
            (Some(docs), _) if plan.prerelease && !docs.versioned => {
                self.txn.note(
                    "stage",
                    "docs",
                    format!(
                        "left the {} branch alone: a prerelease does not replace the site (versioned = false)",
                        docs.branch
                    ),
                );
                None
            }
            (Some(docs), Some(client)) => {
                let mut steps = Vec::new();
                let staged_docs = deploy::stage_docs(client, &self.request.workspace, docs, plan, &mut steps)?;
                self.txn.absorb("stage", &steps, &mut 0)?;
                Some(staged_docs)
            }
            (Some(docs), None) => {
                self.txn
                    .note("stage", "docs", format!("commit {} to {}", docs.path, docs.branch));
                None
            }
            (None, _) => None,
        };
        Ok((staged, docs, before))
    }

    /// The pointers this release may move, read before anything is staged (a registry may set
    /// `latest` by itself on a first publish, so afterwards is too late to learn the old value).
    fn read_before_stage(&self, plan: &crate::plan::ReleasePlan) -> Result<Vec<(Pointer, Option<String>)>> {
        let mut watched = Vec::new();
        let npm_tags: Vec<Pointer> = self
            .packages
            .iter()
            .map(|package| Pointer::NpmTag {
                registry: package.registry.clone(),
                package: package.name.clone(),
                tag: package.channel.clone(),
            })
            .collect();
        // With trusted publishing the npm flips are the publishes, which no token of ours can take
        // back: they go last, after every pointer that can be put back.
        if !self.npm.trusted() {
            watched.extend(npm_tags.iter().cloned());
        }
        for image in &self.images {
            for tag in std::iter::once(&image.channel).chain(&image.line_tags) {
                watched.push(Pointer::ImageTag {
                    repository: image.repository.clone(),
                    tag: tag.clone(),
                });
            }
        }
        if let Some(docs) = &self.config.deploy.docs
            && (!plan.prerelease || docs.versioned)
            && self.github.is_some()
        {
            watched.push(Pointer::Branch {
                branch: docs.branch.clone(),
            });
        }
        if !plan.prerelease && !self.config.release.draft && self.github.is_some() {
            watched.push(Pointer::GithubLatest);
        }
        if self.github.is_some() {
            watched.extend(self.floating_tags(plan)?.into_iter().map(|tag| Pointer::GitTag { tag }));
        }
        if self.npm.trusted() {
            watched.extend(npm_tags);
        }
        watched
            .into_iter()
            .map(|pointer| {
                let now = self.io().read(&pointer)?;
                Ok((pointer, now))
            })
            .collect()
    }

    /// The floating tags this release moves: none for a prerelease or a draft, and none of a line
    /// (`v1`, `v1.4`) that already has a higher release (releasing 1.4.9 after 1.5.0 leaves `v1`).
    fn floating_tags(&self, plan: &crate::plan::ReleasePlan) -> Result<Vec<String>> {
        let templates = &self.config.release.floating_tags;
        if templates.is_empty() || plan.prerelease || self.config.release.draft {
            return Ok(Vec::new());
        }
        let ours = semver::Version::parse(&plan.version).map_err(|e| Error::Failed(e.to_string()))?;
        let released: Vec<semver::Version> = crate::plan::git::GitRepo::discover(&self.request.workspace)?
            .release_tags(&self.config.release.tag_prefix)?
            .into_iter()
            .map(|t| t.version)
            .collect();
        Ok(crate::txn::shipment::line_tags(templates, &ours, &released, true))
    }

    /// Makes the commit the floating tags will point at: with `[release] action-image`, the
    /// release commit with action.yml running the image just pushed, by digest.
    fn stage_floating_commit(&mut self, plan: &crate::plan::ReleasePlan) -> Result<()> {
        if self.config.release.floating_tags.is_empty() || plan.prerelease || self.config.release.draft {
            return Ok(());
        }
        let (Some(image), Some((tree, action_yml))) = (
            self.config
                .release
                .action_image
                .as_ref()
                .map(|i| i.to_ascii_lowercase()),
            self.action_yml.clone(),
        ) else {
            self.floating_commit = Some(plan.commit.clone());
            return Ok(());
        };
        let Some(client) = &self.github else {
            self.txn.note(
                "stage",
                "git-tag",
                format!(
                    "commit action.yml running {image}@<this release's digest> on top of {}",
                    plan.tag
                ),
            );
            return Ok(());
        };
        let digest = self
            .oci
            .read_tag(&image, &plan.version)?
            .ok_or_else(|| Error::Failed(format!("{image}:{} is not on the registry after staging", plan.version)))?;
        let reference = format!("{image}@{digest}");
        let commit = github::action_image::stage_action_commit(client, plan, &tree, &action_yml, &reference)?;
        self.txn.note(
            "stage",
            "git-tag",
            format!(
                "committed {} running {reference} on top of {} ({})",
                github::action_image::ACTION_FILE,
                plan.tag,
                commit.get(..12).unwrap_or(&commit)
            ),
        );
        self.floating_commit = Some(commit);
        Ok(())
    }

    /// The new value of each pointer, known once everything is staged; `None` for a pointer this
    /// release leaves alone (GitHub's latest when a higher release exists).
    fn new_value(
        &self,
        plan: &crate::plan::ReleasePlan,
        pointer: &Pointer,
        before: Option<&str>,
        docs: Option<&deploy::StagedDocs>,
    ) -> Result<Option<String>> {
        Ok(match pointer {
            Pointer::NpmTag { .. } => Some(plan.version.clone()),
            Pointer::ImageTag { repository, .. } => {
                Some(self.oci.read_tag(repository, &plan.version)?.ok_or_else(|| {
                    Error::Failed(format!(
                        "{repository}:{} is not on the registry after staging",
                        plan.version
                    ))
                })?)
            }
            Pointer::Branch { .. } => docs.map(|d| d.commit.clone()),
            Pointer::GithubLatest => {
                let ours = semver::Version::parse(&plan.version).map_err(|e| Error::Failed(e.to_string()))?;
                let higher = before
                    .and_then(|t| crate::plan::version::release_version_of(t, &self.config.release.tag_prefix))
                    .is_some_and(|theirs| theirs > ours);
                (!higher).then(|| plan.tag.clone())
            }
            Pointer::GitTag { .. } => self.floating_commit.clone(),
        })
    }

    /// What a dry run says about the flips.
    fn dry_flips(&mut self, report: &RunReport) {
        self.txn.note(
            "lock",
            "journal",
            format!(
                "take the release lock {}, record every pointer's old value in {JOURNAL_ASSET} and attach it to the draft",
                crate::txn::lock::LOCK_REF
            ),
        );
        for package in &self.packages {
            self.txn.note(
                "flip",
                "npm",
                format!(
                    "record where {}@{} points, then move it to {}",
                    package.name, package.channel, package.version
                ),
            );
        }
        for image in &self.images {
            for tag in std::iter::once(&image.channel).chain(&image.line_tags) {
                self.txn.note(
                    "flip",
                    "image",
                    format!(
                        "record the digest of {}:{tag}, then point it at {}:{}",
                        image.repository, image.repository, image.version
                    ),
                );
            }
        }
        if let Some(docs) = &self.config.deploy.docs
            && (!report.plan.prerelease || docs.versioned)
        {
            self.txn.note(
                "flip",
                "docs",
                format!("record where {} points, then move it to the new site", docs.branch),
            );
        }
        if !report.plan.prerelease && !self.config.release.draft {
            for template in &self.config.release.floating_tags {
                self.txn.note(
                    "flip",
                    "git-tag",
                    format!("record where {template} points, then move it to this release (unless a higher release of its line exists)"),
                );
            }
        }
        if let Some(staging) = &self.config.deploy.staging {
            let smoke = staging
                .smoke
                .as_ref()
                .map(|s| format!(" and poll {}", s.url))
                .unwrap_or_default();
            self.txn
                .note("check", "deploy", format!("deploy to {}{smoke}", staging.environment));
        }
    }

    /// The whole transaction; returns the release as published.
    fn transact(
        &mut self,
        report: &RunReport,
        host: &mut dyn ReleaseHost,
        assets: &[ReleaseAsset],
        lock_settings: LockSettings,
    ) -> Result<HostedRelease> {
        let plan = report.plan.clone();
        let (staged, docs, before) = self.stage(report, host, assets)?;
        if self.request.dry_run {
            self.dry_flips(report);
            let mut seen = host.steps().len();
            let release = host.flip(&plan, &staged, self.config.release.draft)?;
            self.txn.absorb("flip", &host.steps(), &mut seen)?;
            return Ok(release);
        }
        let mut pointers = Vec::new();
        let mut now = Vec::new();
        for (pointer, value) in before {
            if let Some(new) = self.new_value(&plan, &pointer, value.as_deref(), docs.as_ref())? {
                pointers.push((pointer, new));
                now.push(value);
            }
        }
        if !staged.draft {
            // Published already: by an earlier run of this release (a re-run finds every pointer
            // in place), or its pointers were moved since — by a rollback or a later release.
            // Either way nothing moves and nothing is compensated: that is what `rollback` is for.
            let elsewhere: Vec<String> = pointers
                .iter()
                .zip(&now)
                .filter(|((_, new), now)| now.as_deref() != Some(new.as_str()))
                .map(|((pointer, _), _)| pointer.name())
                .collect();
            let note = if elsewhere.is_empty() {
                format!(
                    "{} is released and every pointer is in place; nothing to move",
                    plan.tag
                )
            } else {
                format!(
                    "{} is published already and {} point elsewhere now (rolled back, or moved by a later release); left alone — release a new version to move them",
                    plan.tag,
                    elsewhere.join(", ")
                )
            };
            self.txn.note("flip", "journal", note);
            return host.flip(&plan, &staged, self.config.release.draft);
        }
        if let Some(client) = &self.github {
            let lock = Lock::acquire(
                client,
                &self.request.ci,
                &format!("release {}", plan.tag),
                &plan.commit,
                lock_settings,
            )?;
            self.txn.note(
                "lock",
                "journal",
                format!("took the release lock {}", crate::txn::lock::LOCK_REF),
            );
            self.lock = Some(lock);
            // Staging took a while and another run may have flipped pointers meanwhile: their
            // values now are the old values, unless a pointer already shows ours (a registry
            // sets `latest` by itself on a first publish; an earlier run of this release).
            for ((pointer, new), before_stage) in pointers.iter().zip(now.iter_mut()) {
                let fresh = self.io().read(pointer)?;
                if fresh.as_deref() != Some(new.as_str()) {
                    *before_stage = fresh;
                }
            }
        }
        // Write ahead: every old value is in the journal on the draft before anything moves.
        for ((pointer, new), now) in pointers.iter().zip(now) {
            self.txn.intend(pointer, now, new);
        }
        self.attach_journal(host, &staged)?;
        let flips: Vec<Pointer> = pointers
            .iter()
            .map(|(p, _)| p.clone())
            .filter(|p| *p != Pointer::GithubLatest)
            .collect();
        let mut moved = Ok(());
        for pointer in &flips {
            moved = self.with_io(|txn, io| txn.flip(io, pointer));
            if moved.is_err() {
                break;
            }
        }
        let moved = moved
            .and_then(|()| self.with_io(|txn, io| txn.verify(io, &[Pointer::GithubLatest])))
            .and_then(|()| self.deploy(report));
        if let Err(error) = moved {
            return Err(self.compensate(host, &staged, error));
        }
        for package in self.packages.clone() {
            // Cosmetic: a leftover staging tag hides nothing and must not undo a good release.
            if let Err(error) = self.npm.drop_staging_tag(&package) {
                tracing::warn!("{error}");
            }
        }
        // The journal on the draft already holds every old value: a rollback or a resumed run
        // needs nothing more, so it is not sent again (the file in dist/ has the rest).
        let before = host.steps().len();
        match host.flip(&plan, &staged, self.config.release.draft) {
            Ok(release) => {
                let mut seen = before;
                self.txn.absorb("flip", &host.steps(), &mut seen)?;
                self.txn.settled(&Pointer::GithubLatest)?;
                Ok(release)
            }
            Err(error) => Err(self.compensate(host, &staged, error)),
        }
    }

    /// Runs `f` with the transaction and the pointer I/O borrowed side by side.
    fn with_io<T>(&mut self, f: impl FnOnce(&mut Transaction, &PointerIo) -> Result<T>) -> Result<T> {
        let io = PointerIo {
            npm: &self.npm,
            oci: &self.oci,
            github: self.github.as_ref(),
        };
        f(&mut self.txn, &io)
    }

    /// Records the docs deployment, deploys staging and polls its smoke check.
    fn deploy(&mut self, report: &RunReport) -> Result<()> {
        let plan = &report.plan;
        let Some(client) = self.github.clone() else {
            return Ok(());
        };
        let run_url = self.request.ci.run_url.clone();
        if let Some(docs) = &self.config.deploy.docs
            && self
                .txn
                .open_flips()
                .iter()
                .any(|(p, ..)| matches!(p, Pointer::Branch { .. }))
        {
            let mut steps = Vec::new();
            let id = deploy::record_docs(&client, docs, &plan.tag, run_url.as_deref(), &mut steps)?;
            self.txn.journal.deployments.push(DeploymentRecord {
                environment: "docs".into(),
                id,
            });
            self.txn.absorb("check", &steps, &mut 0)?;
        }
        let (Some(staging), Some(http)) = (&self.config.deploy.staging, self.http.clone()) else {
            return Ok(());
        };
        let payload = serde_json::json!({
            "version": plan.version, "tag": plan.tag, "commit": plan.commit,
            "artifacts": report.build.as_ref().map(|b| b.artifacts.iter().map(|a| serde_json::json!({"name": a.name, "sha256": a.sha256})).collect::<Vec<_>>()),
            "images": self.txn.moves().iter().filter(|m| m.target == "image").map(|m| serde_json::json!({"pointer": m.pointer, "digest": m.new})).collect::<Vec<_>>(),
        });
        let mut steps = Vec::new();
        let deployed = deploy::deploy_staging(
            &client,
            &http,
            staging,
            self.request.deploy_secret.as_ref(),
            &payload,
            &plan.tag,
            run_url.as_deref(),
            &self.request.workspace,
            &crate::pipeline::command_env(self.request, self.config),
            &mut steps,
        );
        self.txn.absorb("check", &steps, &mut 0)?;
        let id = deployed?;
        self.txn.journal.deployments.push(DeploymentRecord {
            environment: staging.environment.clone(),
            id,
        });
        self.txn.save()
    }

    /// Puts every moved pointer back after `error`, marks the deployments, and says what happened.
    fn compensate(&mut self, host: &mut dyn ReleaseHost, staged: &HostedRelease, error: Error) -> Error {
        tracing::error!("{error}; putting every moved pointer back");
        if let Some(client) = &self.github {
            for deployment in &self.txn.journal.deployments {
                let _ = client.deployment_status(
                    deployment.id,
                    "failure",
                    None,
                    self.request.ci.run_url.as_deref(),
                    "rolled back: the release failed after this deployment",
                );
            }
        }
        let undone = self.with_io(|txn, io| txn.undo(io, "compensate", false, None));
        // The staged versions stay on the registry (a version is immutable), but untagged.
        for package in self.packages.clone() {
            if let Err(e) = self.npm.drop_staging_tag(&package) {
                tracing::warn!("{e}");
            }
        }
        let _ = self.attach_journal(host, staged);
        match undone.map(|u| u.problems) {
            Ok(problems) if problems.is_empty() => Error::Failed(format!(
                "{error}; every moved pointer was put back and the GitHub release stays a draft"
            )),
            Ok(problems) => Error::Failed(format!(
                "{error}; the pointers were put back except: {}; the GitHub release stays a draft — see {} and README \"When a release goes wrong\"",
                problems.join("; "),
                self.txn.path().display()
            )),
            Err(undo_error) => Error::Failed(format!(
                "{error}; putting the pointers back failed too ({undo_error}); re-run the release to finish it (it resumes from the journal), or put them back by hand from {} (README \"When a release goes wrong\")",
                self.txn.path().display()
            )),
        }
    }
}
