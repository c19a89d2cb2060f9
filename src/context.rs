//! Why this exists: the library must not read the process environment, yet it needs to know which
//! repository and ref it releases and where GitHub is. The edges fill a [`CiContext`] and pass it in.

use serde::Serialize;

/// What the CI (or the local user) tells us about where we run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CiContext {
    /// `owner/name`, when known.
    pub repository: Option<String>,
    /// The web host, e.g. `https://github.com`.
    pub server_url: Option<String>,
    /// The REST API base, e.g. `https://api.github.com`.
    pub api_url: Option<String>,
    /// The pushed ref, e.g. `refs/tags/v1.2.3`.
    pub git_ref: Option<String>,
    /// The commit the workflow runs on.
    pub sha: Option<String>,
    /// `push`, `workflow_dispatch`, ...
    pub event_name: Option<String>,
    /// A link to this workflow run.
    pub run_url: Option<String>,
    /// `GITHUB_RUN_ID`: the same for every attempt of a run.
    pub run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`: 1, then 2 for the first re-run…
    pub run_attempt: Option<String>,
    /// `GITHUB_WORKFLOW_REF`: `owner/repo/.github/workflows/release.yml@refs/...`.
    pub workflow_ref: Option<String>,
}

impl CiContext {
    /// The tag name when the run was triggered by a tag push.
    pub fn pushed_tag(&self) -> Option<&str> {
        self.git_ref.as_deref().and_then(|r| r.strip_prefix("refs/tags/"))
    }

    /// `https://github.com/owner/name`, when the repository is known.
    pub fn repository_url(&self) -> Option<String> {
        let repo = self.repository.as_deref()?;
        let server = self.server_url.as_deref().unwrap_or("https://github.com");
        Some(format!("{}/{repo}", server.trim_end_matches('/')))
    }
}
