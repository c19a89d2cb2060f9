//! Why this exists: with `[version] commit = true` the prepare stage's edits (version files,
//! CHANGELOG.md) must reach the repository, and the release tag must point at them. They are
//! committed through the Git Data API — blobs, one tree on top of the checkout's, one commit whose
//! only parent is the checkout's HEAD, one fast-forward of the branch — so the commit is made by the
//! token's identity and GitHub shows a `GITHUB_TOKEN` commit as verified, and no git binary or push
//! credential is needed. A branch that moved since the checkout is refused before anything is
//! written; a re-run finds its own earlier commit and keeps it.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::json;

use crate::error::{Error, Result};
use crate::plan::ReleasePlan;
use crate::targets::github::client::{ApiRef, ApiSha, GitHubClient, encode_ref};

/// What the release commit is, before or after it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCommit {
    /// The branch it goes on.
    pub branch: String,
    /// Its message.
    pub message: String,
    /// The files it changes, relative to the repository root.
    pub files: Vec<PathBuf>,
}

impl ReleaseCommit {
    /// The commit for `plan` of `files` on `branch`.
    pub fn new(plan: &ReleasePlan, branch: &str, files: Vec<PathBuf>) -> ReleaseCommit {
        ReleaseCommit {
            branch: branch.to_string(),
            message: format!("chore(release): {} [skip ci]", plan.version),
            files,
        }
    }

    /// In words, for the plan and a dry run.
    pub fn describe(&self, parent: &str) -> String {
        format!(
            "commit {} to {} as \"{}\" on top of {} (the branch must still be there)",
            self.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            self.branch,
            self.message,
            &parent[..parent.len().min(12)]
        )
    }
}

/// A commit as GitHub answers it (the part we compare).
#[derive(Debug, serde::Deserialize)]
struct ApiCommit {
    message: String,
    parents: Vec<ApiSha>,
    tree: ApiSha,
}

/// Makes `commit` on GitHub on top of `parent` (the checkout's HEAD, whose tree is `base_tree`)
/// from the files in `workspace`, moves the branch to it and returns it with its tree. Refuses
/// (exit 2, nothing written) when the branch is no longer at `parent` — unless it is at this very
/// release commit, made by an earlier run.
pub fn make(
    client: &GitHubClient,
    workspace: &Path,
    commit: &ReleaseCommit,
    parent: &str,
    base_tree: &str,
) -> Result<(String, String)> {
    let branch_path = encode_ref(&commit.branch)?;
    let what = format!("reading the branch {}", commit.branch);
    let at = client
        .call::<ApiRef>(
            Method::GET,
            true,
            &client.repo_url(&format!("/git/ref/heads/{branch_path}")),
            None,
            &what,
        )?
        .map(|r| r.object.sha)
        .ok_or_else(|| {
            Error::input(
                "[version] commit",
                format!(
                    "the branch {} does not exist on GitHub; the release commit goes on the branch the run checked out",
                    commit.branch
                ),
            )
        })?;
    if at != parent {
        let theirs = client.call::<ApiCommit>(
            Method::GET,
            true,
            &client.repo_url(&format!("/git/commits/{at}")),
            None,
            &what,
        )?;
        if let Some(ours) = theirs
            .filter(|c| c.message.trim_end() == commit.message && c.parents.len() == 1 && c.parents[0].sha == parent)
        {
            return Ok((at, ours.tree.sha));
        }
        return Err(Error::input(
            "[version] commit",
            format!(
                "the branch {} moved since this checkout (it is at {}, the checkout at {}); nothing was written — release again from the new head",
                commit.branch,
                &at[..at.len().min(12)],
                &parent[..parent.len().min(12)]
            ),
        ));
    }
    let mut entries = Vec::new();
    for file in &commit.files {
        let path = workspace.join(file);
        let bytes = std::fs::read(&path).map_err(|source| Error::ReadFile {
            path: path.clone(),
            source,
        })?;
        use std::os::unix::fs::PermissionsExt;
        let executable = std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
        let sha = client.create_blob(&bytes)?;
        entries.push(json!({
            "path": file.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"),
            "mode": if executable { "100755" } else { "100644" },
            "type": "blob",
            "sha": sha,
        }));
    }
    let what = "writing the release commit";
    let tree = client
        .call::<ApiSha>(
            Method::POST,
            true,
            &client.repo_url("/git/trees"),
            Some(&json!({"base_tree": base_tree, "tree": entries})),
            what,
        )?
        .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))?
        .sha;
    let made = client
        .call::<ApiSha>(
            Method::POST,
            false,
            &client.repo_url("/git/commits"),
            Some(&json!({"message": commit.message, "tree": tree, "parents": [parent]})),
            what,
        )?
        .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))?
        .sha;
    // A fast-forward only: if someone pushed in between, GitHub refuses and nothing moves.
    client
        .set_branch(&commit.branch, &made, false, false)
        .map_err(|e| Error::Failed(format!("moving {} to the release commit failed ({e}); the branch moved meanwhile — release again from the new head", commit.branch)))?;
    Ok((made, tree))
}
