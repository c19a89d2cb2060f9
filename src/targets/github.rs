//! Why this exists: GitHub Releases is the one target every release has. The pipeline talks to it
//! through [`ReleaseHost`]: stage (find or create a draft) and flip (publish it), so that a dry run
//! and tests can stand in for GitHub.

use crate::error::Result;
use crate::plan::ReleasePlan;
use crate::targets::StepRecord;

/// The target's name in plans, journals and summaries.
pub const TARGET: &str = "github-release";

/// A release as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct HostedRelease {
    /// GitHub's numeric id; `None` in a dry run.
    pub id: Option<u64>,
    /// The release page; `None` in a dry run.
    pub url: Option<String>,
    /// Whether the release is (still) a draft.
    pub draft: bool,
}

/// What the pipeline needs from a release host.
pub trait ReleaseHost {
    /// Finds the release for the plan's tag (published or draft) or creates a draft carrying the notes.
    fn stage(&mut self, plan: &ReleasePlan) -> Result<HostedRelease>;
    /// Publishes the staged draft, unless `keep_draft`.
    fn flip(&mut self, plan: &ReleasePlan, staged: &HostedRelease, keep_draft: bool) -> Result<HostedRelease>;
    /// What was done so far.
    fn steps(&self) -> Vec<StepRecord>;
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
    fn stage(&mut self, plan: &ReleasePlan) -> Result<HostedRelease> {
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
        Ok(HostedRelease {
            id: None,
            url: None,
            draft: true,
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
