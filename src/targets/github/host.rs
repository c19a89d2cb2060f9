//! Why this exists: the real GitHub Releases target. It never duplicates and always converges:
//! find the release (published by tag, drafts by listing), or create one draft and settle a race
//! by the lowest id; upload every asset streamed, keep one whose digest already matches, replace a
//! `starter` or different one, verify each against GitHub's digest; publish only at flip, with
//! `make_latest` only for the highest stable version. A re-run after success writes nothing.

use std::time::Duration;

use serde_json::json;

use crate::error::{Error, Result};
use crate::http::HttpError;
use crate::plan::ReleasePlan;
use crate::plan::version::release_version_of;
use crate::targets::StepRecord;
use crate::targets::github::client::{ApiAsset, ApiRelease, GitHubClient};
use crate::targets::github::{HostedAsset, HostedRelease, ReleaseAsset, ReleaseHost, TARGET};

/// The GitHub Releases target.
pub struct GitHubHost {
    client: GitHubClient,
    tag_prefix: String,
    steps: Vec<StepRecord>,
    upload_attempts: u32,
    retry_wait: Duration,
    /// Whether the tag existed on GitHub when staging began.
    tag_exists: bool,
    /// The highest stable published version other than this one.
    latest_other: Option<semver::Version>,
}

/// Whether GitHub would keep `name` as it is (it renames special characters and leading or
/// trailing dots).
pub fn name_survives(name: &str) -> bool {
    crate::config::github_keeps_name(name)
}

impl GitHubHost {
    /// A host for one repository.
    pub fn new(client: GitHubClient, tag_prefix: &str, retry_wait: Duration) -> GitHubHost {
        GitHubHost {
            client,
            tag_prefix: tag_prefix.to_string(),
            steps: Vec::new(),
            upload_attempts: 4,
            retry_wait,
            tag_exists: false,
            latest_other: None,
        }
    }

    fn record(&mut self, action: String) {
        tracing::info!("{action}");
        self.steps.push(StepRecord {
            target: TARGET.to_string(),
            action,
            dry_run: false,
        });
    }

    /// The releases for `tag` (drafts and published), lowest id first, and whether the listing
    /// reached the end (GitHub lists at most 1,000).
    fn listed(&self, tag: &str) -> Result<(Vec<ApiRelease>, Vec<ApiRelease>)> {
        let all = self.client.releases()?;
        let mut mine: Vec<ApiRelease> = all.iter().filter(|r| r.tag_name == tag).cloned().collect();
        mine.sort_by_key(|r| r.id);
        Ok((mine, all))
    }

    /// Finds the release for the plan's tag or creates one draft. Returns it, whether we created
    /// it (so it has no assets yet), and every release seen (for `make_latest`).
    fn find_or_create(&mut self, plan: &ReleasePlan) -> Result<(ApiRelease, bool, Vec<ApiRelease>)> {
        let (mine, all) = self.listed(&plan.tag)?;
        if let Some(published) = mine.iter().find(|r| !r.draft) {
            return Ok((published.clone(), false, all));
        }
        if all.len() >= 1000
            && let Some(published) = self.client.release_by_tag(&plan.tag)?
        {
            return Ok((published, false, all));
        }
        if let Some(first) = mine.into_iter().next() {
            self.record(format!("found the draft release {} (id {})", plan.tag, first.id));
            return Ok((first, false, all));
        }
        let ours = match self
            .client
            .create_draft(&plan.tag, &plan.commit, &plan.notes, plan.prerelease)
        {
            Ok(created) => created,
            Err(error) => {
                // The create may have happened even though the answer was lost: look before failing.
                match self.listed(&plan.tag)?.0.into_iter().find(|r| r.draft) {
                    Some(found) => found,
                    None => return Err(error),
                }
            }
        };
        // Another run may have created a draft for the same tag at the same time: the lowest id wins,
        // and only the loser removes its own.
        let (mine, all) = self.listed(&plan.tag)?;
        if let Some(winner) = mine.iter().find(|r| r.draft)
            && winner.id != ours.id
        {
            self.client.delete_release(ours.id)?;
            self.record(format!(
                "another run created the draft for {} first; using it (id {})",
                plan.tag, winner.id
            ));
            return Ok((winner.clone(), false, all));
        }
        self.record(format!("created the draft release {} (id {})", plan.tag, ours.id));
        Ok((ours, true, all))
    }

    fn matches(asset: &ApiAsset, wanted: &ReleaseAsset) -> bool {
        asset.state == "uploaded"
            && match &asset.digest {
                Some(digest) => digest.eq_ignore_ascii_case(&format!("sha256:{}", wanted.sha256)),
                None => asset.size == wanted.size,
            }
    }

    fn upload(&mut self, release: &ApiRelease, wanted: &ReleaseAsset) -> Result<ApiAsset> {
        let mut last_error = String::new();
        for attempt in 1..=self.upload_attempts {
            let started = std::time::Instant::now();
            match self
                .client
                .upload(&release.upload_url, &wanted.name, &wanted.path, &wanted.media_type)
            {
                Ok(asset) => {
                    if wanted.size >= crate::http::PROGRESS_FROM {
                        tracing::info!(
                            "uploaded {}: {}",
                            wanted.name,
                            crate::http::rate(wanted.size, started.elapsed())
                        );
                    }
                    if let Some(digest) = &asset.digest
                        && !digest.eq_ignore_ascii_case(&format!("sha256:{}", wanted.sha256))
                    {
                        self.client.delete_asset(asset.id, &asset.name)?;
                        return Err(Error::Failed(format!(
                            "GitHub stored {} with digest {digest}, not sha256:{}; the upload was removed — re-run to try again",
                            wanted.name, wanted.sha256
                        )));
                    }
                    return Ok(asset);
                }
                Err(HttpError::Status { status, body })
                    if status == 422 && body.contains("already_exists") || status >= 500 =>
                {
                    last_error = format!("HTTP {status}");
                }
                Err(HttpError::Transport(e) | HttpError::Unexpected(e)) => last_error = e,
                Err(e @ (HttpError::RateLimited { .. } | HttpError::TooLongWait { .. } | HttpError::Invalid(_))) => {
                    return Err(Error::Failed(format!("uploading {}: {e}", wanted.name)));
                }
                Err(e @ HttpError::Status { .. }) => {
                    return Err(Error::Failed(format!("uploading {}: {e}", wanted.name)));
                }
            }
            // A failed upload can leave a `starter` asset that makes the next try fail with 422:
            // remove whatever is there under this name, wait, try again.
            tracing::warn!(
                "uploading {} failed ({last_error}); cleaning up and retrying ({attempt}/{})",
                wanted.name,
                self.upload_attempts
            );
            for stale in self
                .client
                .assets(release.id)?
                .into_iter()
                .filter(|a| a.name == wanted.name)
            {
                self.client.delete_asset(stale.id, &stale.name)?;
                self.record(format!("removed the half-uploaded {} ({})", stale.name, stale.state));
            }
            std::thread::sleep(self.retry_wait * attempt);
        }
        Err(Error::Failed(format!(
            "uploading {} failed {} times ({last_error}); nothing was published — re-run to resume",
            wanted.name, self.upload_attempts
        )))
    }
}

impl ReleaseHost for GitHubHost {
    fn stage(&mut self, plan: &ReleasePlan, assets: &[ReleaseAsset], keep: &[&str]) -> Result<HostedRelease> {
        if let Some(bad) = assets.iter().find(|a| !name_survives(&a.name)) {
            return Err(Error::input(
                "artifact",
                format!(
                    "GitHub would rename the asset {:?}; use letters, digits and . _ - + (not at the start or end: .)",
                    bad.name
                ),
            ));
        }
        let tag_commit = self.client.tag_commit(&plan.tag)?;
        if let Some(commit) = &tag_commit
            && *commit != plan.commit
        {
            return Err(Error::input(
                "version",
                format!(
                    "the tag {} on GitHub points at {commit}, but this release was built from {}; release another version",
                    plan.tag, plan.commit
                ),
            ));
        }
        self.tag_exists = tag_commit.is_some();
        let (mut release, created, all) = self.find_or_create(plan)?;
        self.latest_other = all
            .iter()
            .filter(|r| !r.draft && !r.prerelease && r.tag_name != plan.tag)
            .filter_map(|r| release_version_of(&r.tag_name, &self.tag_prefix))
            .filter(|v| v.pre.is_empty())
            .max();
        let locked = !release.draft && release.immutable == Some(true);
        if release.draft && release.body.as_deref() != Some(plan.notes.as_str()) {
            release = self.client.update(
                release.id,
                &json!({"body": plan.notes, "prerelease": plan.prerelease}),
                "updating the notes",
            )?;
            self.record(format!("updated the notes of {}", plan.tag));
        }
        let existing = if created {
            Vec::new()
        } else {
            self.client.assets(release.id)?
        };
        let mut hosted = Vec::new();
        for wanted in assets {
            let found = existing.iter().find(|a| a.name == wanted.name);
            let asset = match found {
                Some(asset) if Self::matches(asset, wanted) => asset.clone(),
                Some(_) | None if locked => {
                    return Err(Error::Failed(format!(
                        "{} is published and immutable but lacks {} with this content; immutable releases cannot change — release another version",
                        plan.tag, wanted.name
                    )));
                }
                Some(stale) => {
                    self.client.delete_asset(stale.id, &stale.name)?;
                    self.record(format!("removed {} ({}, another content)", stale.name, stale.state));
                    let uploaded = self.upload(&release, wanted)?;
                    self.record(format!("uploaded {} ({} bytes, verified)", wanted.name, wanted.size));
                    uploaded
                }
                None => {
                    let uploaded = self.upload(&release, wanted)?;
                    self.record(format!("uploaded {} ({} bytes, verified)", wanted.name, wanted.size));
                    uploaded
                }
            };
            hosted.push(HostedAsset {
                name: asset.name,
                url: asset.browser_download_url,
                size: asset.size,
                sha256: wanted.sha256.clone(),
            });
        }
        if release.draft {
            for stale in existing
                .iter()
                .filter(|a| !keep.contains(&a.name.as_str()) && !assets.iter().any(|w| w.name == a.name))
            {
                self.client.delete_asset(stale.id, &stale.name)?;
                self.record(format!("removed {}, which this release does not ship", stale.name));
            }
        }
        Ok(HostedRelease {
            id: Some(release.id),
            url: Some(release.html_url),
            upload_url: Some(release.upload_url),
            draft: release.draft,
            assets: hosted,
        })
    }

    fn flip(&mut self, plan: &ReleasePlan, staged: &HostedRelease, keep_draft: bool) -> Result<HostedRelease> {
        let Some(id) = staged.id else { return Ok(staged.clone()) };
        if !staged.draft {
            return Ok(staged.clone());
        }
        if keep_draft {
            self.record(format!("left {} as a draft (release.draft = true)", plan.tag));
            return Ok(staged.clone());
        }
        if !self.tag_exists {
            match self.client.create_tag(&plan.tag, &plan.commit) {
                Ok(()) => self.record(format!(
                    "created the tag {} at {}",
                    plan.tag,
                    &plan.commit[..plan.commit.len().min(12)]
                )),
                // Another run of this release may have created it since staging (it held the lock).
                Err(error) => {
                    if self.client.tag_commit(&plan.tag)?.as_deref() != Some(plan.commit.as_str()) {
                        return Err(error);
                    }
                }
            }
        }
        let make_latest = if plan.prerelease {
            false
        } else {
            let ours = semver::Version::parse(&plan.version).map_err(|e| Error::Failed(e.to_string()))?;
            self.latest_other.as_ref().is_none_or(|theirs| ours > *theirs)
        };
        let payload = json!({"draft": false, "prerelease": plan.prerelease, "make_latest": if make_latest { "true" } else { "false" }});
        let published = self.client.update(id, &payload, &format!("publishing {}", plan.tag))?;
        self.record(format!(
            "published {}{}",
            plan.tag,
            if plan.prerelease {
                " as a prerelease"
            } else if make_latest {
                " as the latest release"
            } else {
                " (not latest: a higher release exists)"
            }
        ));
        Ok(HostedRelease {
            id: Some(published.id),
            url: Some(published.html_url),
            upload_url: staged.upload_url.clone(),
            draft: false,
            assets: staged.assets.clone(),
        })
    }

    fn steps(&self) -> Vec<StepRecord> {
        self.steps.clone()
    }

    fn attach(&mut self, staged: &HostedRelease, asset: &ReleaseAsset) -> Result<()> {
        // A published release may be immutable; its journal stays in dist/ and the job's artifacts.
        let (Some(id), Some(upload_url), true) = (staged.id, &staged.upload_url, staged.draft) else {
            return Ok(());
        };
        let existing = self.client.assets(id)?;
        let found = existing.iter().find(|a| a.name == asset.name);
        if found.is_some_and(|a| Self::matches(a, asset)) {
            return Ok(());
        }
        let release = ApiRelease {
            id,
            tag_name: String::new(),
            draft: staged.draft,
            prerelease: false,
            html_url: staged.url.clone().unwrap_or_default(),
            upload_url: upload_url.clone(),
            body: None,
            immutable: None,
            created_at: None,
            published_at: None,
        };
        if let Some(stale) = found {
            self.client.delete_asset(stale.id, &stale.name)?;
        }
        self.upload(&release, asset)?;
        tracing::debug!("attached {} ({} bytes)", asset.name, asset.size);
        Ok(())
    }

    fn attached(&mut self, staged: &HostedRelease, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(id) = staged.id else { return Ok(None) };
        match self.client.assets(id)?.into_iter().find(|a| a.name == name) {
            Some(asset) => Ok(Some(self.client.download_asset(asset.id)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_github_keeps() {
        assert!(super::name_survives("widget-1.2.3-linux-x64.tar.gz"));
        assert!(super::name_survives("SHA256SUMS"));
        for bad in ["my tool.zip", ".hidden", "trailing.", "ümlaut.zip", "a#b"] {
            assert!(!super::name_survives(bad), "{bad}");
        }
    }
}
