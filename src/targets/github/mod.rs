//! Why this exists: GitHub Releases is the one target every release has. The pipeline talks to it
//! through [`ReleaseHost`]: stage (find or create a draft, upload and verify every asset) and flip
//! (publish it), so that a dry run and tests can stand in for GitHub.

pub mod action_image;
pub mod client;
pub mod gitdata;
pub mod host;
pub mod refs;
pub mod release_commit;

use crate::error::Result;
use crate::plan::ReleasePlan;
use crate::targets::StepRecord;

/// The asset that records a release's plan (and its metrics) on the release itself.
pub const PLAN_ASSET: &str = "release-plan.json";

/// The target's name in plans, journals and summaries.
pub const TARGET: &str = "github-release";

/// A file to attach to the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseAsset {
    /// The asset name.
    pub name: String,
    /// The file.
    pub path: std::path::PathBuf,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// Content-Type for the upload.
    pub media_type: String,
}

/// An asset as the host holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostedAsset {
    /// The name.
    pub name: String,
    /// The download URL.
    pub url: String,
    /// Bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// A release as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostedRelease {
    /// GitHub's numeric id; `None` in a dry run.
    pub id: Option<u64>,
    /// The release page; `None` in a dry run.
    pub url: Option<String>,
    /// Where assets are uploaded; `None` in a dry run.
    pub upload_url: Option<String>,
    /// Whether the release is (still) a draft.
    pub draft: bool,
    /// The assets, verified.
    pub assets: Vec<HostedAsset>,
}

/// What the pipeline needs from a release host.
pub trait ReleaseHost {
    /// Finds the release for the plan's tag (published or draft) or creates a draft carrying the
    /// notes, and makes its assets exactly `assets`, each verified by digest, plus those named in
    /// `keep` where the release has them (the journal, which the caller attaches itself).
    fn stage(&mut self, plan: &ReleasePlan, assets: &[ReleaseAsset], keep: &[&str]) -> Result<HostedRelease>;
    /// Publishes the staged draft, unless `keep_draft`.
    fn flip(&mut self, plan: &ReleasePlan, staged: &HostedRelease, keep_draft: bool) -> Result<HostedRelease>;
    /// What was done so far.
    fn steps(&self) -> Vec<StepRecord>;
    /// Attaches (or replaces) one more file on the staged release — the journal — unless it is
    /// there with this content already or the release is published and immutable.
    fn attach(&mut self, staged: &HostedRelease, asset: &ReleaseAsset) -> Result<()>;
    /// The content of the asset `name` on the staged release, if it has one.
    fn attached(&mut self, staged: &HostedRelease, name: &str) -> Result<Option<Vec<u8>>>;
}

/// Records what would be done and does nothing: how `--dry-run` walks the real pipeline.
#[derive(Debug, Default)]
pub struct DryRunHost {
    steps: Vec<StepRecord>,
}

impl DryRunHost {
    fn record(&mut self, action: String) {
        self.steps.push(StepRecord {
            target: TARGET.to_string(),
            action,
            dry_run: true,
        });
    }
}

impl ReleaseHost for DryRunHost {
    fn attach(&mut self, _: &HostedRelease, _: &ReleaseAsset) -> Result<()> {
        Ok(())
    }

    fn attached(&mut self, _: &HostedRelease, _: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    fn stage(&mut self, plan: &ReleasePlan, assets: &[ReleaseAsset], _keep: &[&str]) -> Result<HostedRelease> {
        let on = plan
            .repository
            .as_deref()
            .map(|r| format!(" on {r}"))
            .unwrap_or_default();
        self.record(format!(
            "find the release for {}{on}, or create it as a draft with {} bytes of notes",
            plan.tag,
            plan.notes.len()
        ));
        if let Some(bad) = assets.iter().find(|a| !host::name_survives(&a.name)) {
            return Err(crate::error::Error::input(
                "artifact",
                format!(
                    "GitHub would rename the asset {:?}; use letters, digits and . _ - + (not at the start or end: .)",
                    bad.name
                ),
            ));
        }
        for asset in assets {
            // A dry run builds nothing, so most sizes are not known yet.
            let size = match asset.size {
                0 => String::new(),
                n => format!(" ({n} bytes)"),
            };
            self.record(format!(
                "upload {}{size} and verify its sha256 against GitHub's digest",
                asset.name
            ));
        }
        Ok(HostedRelease {
            draft: true,
            ..HostedRelease::default()
        })
    }

    fn flip(&mut self, plan: &ReleasePlan, staged: &HostedRelease, keep_draft: bool) -> Result<HostedRelease> {
        if keep_draft {
            self.record(format!("leave {} as a draft (release.draft = true)", plan.tag));
        } else {
            let kind = if plan.prerelease {
                "as a prerelease"
            } else {
                "as the latest release if it is the highest"
            };
            self.record(format!("publish {} {kind}", plan.tag));
        }
        Ok(HostedRelease {
            draft: keep_draft,
            ..staged.clone()
        })
    }

    fn steps(&self) -> Vec<StepRecord> {
        self.steps.clone()
    }
}

/// The HTTP policy with `[github]`'s pacing and retry settings applied, naming this workflow run
/// as the one to re-run when a server asks for a longer wait than the policy allows.
pub fn http_policy(config: &crate::config::Config, ci: &crate::context::CiContext) -> Result<crate::http::HttpPolicy> {
    use crate::build::command::parse_duration;
    let github = &config.github;
    let mut policy = crate::http::HttpPolicy {
        rerun: ci
            .run_url
            .clone()
            .or_else(|| ci.run_id.as_ref().map(|id| format!("workflow run {id}"))),
        ..crate::http::HttpPolicy::default()
    };
    if let Some(text) = &github.write_interval {
        policy.write_interval = parse_duration("github.write-interval", text)?;
    }
    if let Some(text) = &github.rate_limit_wait {
        policy.rate_limit_wait = parse_duration("github.rate-limit-wait", text)?;
    }
    if let Some(text) = &github.retry_wait {
        policy.backoff = parse_duration("github.retry-wait", text)?;
    }
    Ok(policy)
}

/// A client for the repository the request names, when it names one and has a token.
pub(crate) fn client_for(
    config: &crate::config::Config,
    request: &crate::request::ReleaseRequest,
) -> Result<Option<(client::GitHubClient, std::time::Duration)>> {
    let (Some(repository), Some(token)) = (request.ci.repository.clone(), request.github_token.clone()) else {
        return Ok(None);
    };
    let policy = http_policy(config, &request.ci)?;
    let retry_wait = policy.backoff;
    let api = request
        .ci
        .api_url
        .clone()
        .unwrap_or_else(|| "https://api.github.com".to_string());
    if let Some(problem) = crate::http::url_problem(&api) {
        return Err(crate::error::Error::input(
            "GITHUB_API_URL",
            format!("{api:?} {problem}"),
        ));
    }
    Ok(Some((
        client::GitHubClient::new(crate::http::Http::new(policy)?, &api, &repository, Some(token)),
        retry_wait,
    )))
}

/// The GitHub target for a release: the dry-run recorder, or the real API with the policy from
/// `[github]`. Publishing needs a repository and a token; both are checked here, before anything.
pub fn release_host(
    config: &crate::config::Config,
    request: &crate::request::ReleaseRequest,
) -> Result<Box<dyn ReleaseHost>> {
    use crate::error::Error;
    if request.dry_run {
        return Ok(Box::new(DryRunHost::default()));
    }
    if request.ci.repository.is_none() {
        return Err(Error::input(
            "GITHUB_REPOSITORY",
            "publishing needs to know the repository: set GITHUB_REPOSITORY=owner/name (Actions sets it)",
        ));
    }
    let Some((client, retry_wait)) = client_for(config, request)? else {
        return Err(Error::input(
            "github-token",
            "publishing to GitHub needs a token: input github-token (default ${{ github.token }}), or GITHUB_TOKEN / --github-token locally",
        ));
    };
    Ok(Box::new(host::GitHubHost::new(
        client,
        &config.release.tag_prefix,
        retry_wait,
    )))
}

/// The plan recorded on the release `tag`, if it has one. Reads only; needs a token and the
/// repository (without them, e.g. an offline dry run, there is nothing to compare against).
pub fn previous_plan(
    config: &crate::config::Config,
    request: &crate::request::ReleaseRequest,
    tag: &str,
) -> Result<Option<ReleasePlan>> {
    let Some((client, _)) = client_for(config, request)? else {
        return Ok(None);
    };
    let Some(release) = client.release_by_tag(tag)? else {
        return Ok(None);
    };
    let Some(asset) = client.assets(release.id)?.into_iter().find(|a| a.name == PLAN_ASSET) else {
        return Ok(None);
    };
    let bytes = client.download_asset(asset.id)?;
    Ok(serde_json::from_slice(&bytes).ok())
}
