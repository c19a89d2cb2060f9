//! Why this exists: the docs site is committed to its branch through the Git Data API (no git
//! binary, no clone), and environments are recorded as GitHub Deployments; these are the calls.

use reqwest::Method;
use serde_json::json;

use crate::error::{Error, Result};
use crate::targets::github::client::{ApiRef, ApiSha, GitHubClient, encode_ref};

/// A commit as `GET /git/commits/{sha}` answers (the part we use).
#[derive(Debug, serde::Deserialize)]
struct ApiCommit {
    tree: ApiSha,
}

/// A recursive tree listing.
#[derive(Debug, serde::Deserialize)]
struct ApiTree {
    tree: Vec<ApiTreeItem>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Debug, serde::Deserialize)]
struct ApiTreeItem {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
}

/// A created deployment.
#[derive(Debug, serde::Deserialize)]
struct ApiId {
    id: u64,
}

/// One entry of a tree listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path from the root.
    pub path: String,
    /// Blob sha.
    pub sha: String,
}

/// `call` for a request that must answer (a 404 here is an error, not "absent").
fn required<T>(answer: Option<T>, what: &str) -> Result<T> {
    answer.ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))
}

impl GitHubClient {
    /// The commit a branch points at.
    pub fn branch_commit(&self, branch: &str) -> Result<Option<String>> {
        let what = format!("reading the branch {branch}");
        let url = self.repo_url(&format!("/git/ref/heads/{}", encode_ref(branch)?));
        Ok(self
            .call::<ApiRef>(Method::GET, true, &url, None, &what)?
            .map(|r| r.object.sha))
    }

    /// The files (blobs) of a commit's tree.
    pub fn commit_files(&self, commit: &str) -> Result<Vec<TreeEntry>> {
        let what = "reading the docs branch";
        let url = self.repo_url(&format!("/git/commits/{commit}"));
        let tree = required(self.call::<ApiCommit>(Method::GET, true, &url, None, what)?, what)?
            .tree
            .sha;
        let url = self.repo_url(&format!("/git/trees/{tree}?recursive=1"));
        let listing = required(self.call::<ApiTree>(Method::GET, true, &url, None, what)?, what)?;
        if listing.truncated {
            return Err(Error::Failed(format!(
                "{what}: its tree is too large for GitHub to list at once; the docs branch cannot be updated file by file"
            )));
        }
        Ok(listing
            .tree
            .into_iter()
            .filter(|e| e.kind == "blob")
            .map(|e| TreeEntry {
                path: e.path,
                sha: e.sha,
            })
            .collect())
    }

    /// Uploads a blob; returns its sha.
    pub fn create_blob(&self, bytes: &[u8]) -> Result<String> {
        let what = "uploading a docs file";
        let payload = json!({"content": crate::build::npm_pack::base64(bytes), "encoding": "base64"});
        let url = self.repo_url("/git/blobs");
        Ok(required(
            self.call::<ApiSha>(Method::POST, true, &url, Some(&payload), what)?,
            what,
        )?
        .sha)
    }

    /// Creates a tree of `(path, blob sha)` entries (a whole tree: no base).
    pub fn create_tree(&self, entries: &[TreeEntry]) -> Result<String> {
        let tree: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| json!({"path": e.path, "mode": "100644", "type": "blob", "sha": e.sha}))
            .collect();
        let what = "writing the docs tree";
        let url = self.repo_url("/git/trees");
        Ok(required(
            self.call::<ApiSha>(Method::POST, true, &url, Some(&json!({"tree": tree})), what)?,
            what,
        )?
        .sha)
    }

    /// Creates a commit.
    pub fn create_commit(&self, message: &str, tree: &str, parents: &[String]) -> Result<String> {
        let what = "committing the docs";
        let payload = json!({"message": message, "tree": tree, "parents": parents});
        let url = self.repo_url("/git/commits");
        Ok(required(
            self.call::<ApiSha>(Method::POST, true, &url, Some(&payload), what)?,
            what,
        )?
        .sha)
    }

    /// Points a branch at `commit` (creating it when `create`); `force` allows any move.
    pub fn set_branch(&self, branch: &str, commit: &str, create: bool, force: bool) -> Result<()> {
        let what = format!("moving the branch {branch}");
        if create {
            let payload = json!({"ref": format!("refs/heads/{branch}"), "sha": commit});
            self.json(Method::POST, false, &self.repo_url("/git/refs"), Some(&payload), &what)?;
        } else {
            let payload = json!({"sha": commit, "force": force});
            self.json(
                Method::PATCH,
                true,
                &self.repo_url(&format!("/git/refs/heads/{}", encode_ref(branch)?)),
                Some(&payload),
                &what,
            )?;
        }
        Ok(())
    }

    /// Deletes a branch.
    pub fn delete_branch(&self, branch: &str) -> Result<()> {
        self.json(
            Method::DELETE,
            true,
            &self.repo_url(&format!("/git/refs/heads/{}", encode_ref(branch)?)),
            None,
            &format!("deleting the branch {branch}"),
        )?;
        Ok(())
    }

    /// Creates a deployment of `reference` to `environment`, never merging and needing no statuses.
    pub fn create_deployment(&self, reference: &str, environment: &str, description: &str) -> Result<u64> {
        let payload = json!({
            "ref": reference, "task": "deploy", "auto_merge": false, "required_contexts": [],
            "environment": environment, "description": description, "transient_environment": false,
            "production_environment": environment == "production",
        });
        let what = format!("creating a deployment to {environment}");
        let url = self.repo_url("/deployments");
        Ok(required(
            self.call::<ApiId>(Method::POST, false, &url, Some(&payload), &what)?,
            &what,
        )?
        .id)
    }

    /// Sets a deployment's status.
    pub fn deployment_status(
        &self,
        id: u64,
        state: &str,
        environment_url: Option<&str>,
        log_url: Option<&str>,
        description: &str,
    ) -> Result<()> {
        // The description is shown to anyone who can read the repository: no URL credentials.
        let description = crate::redact::urls(description);
        let mut payload = json!({"state": state, "description": description.chars().take(140).collect::<String>()});
        if let Some(url) = environment_url {
            payload["environment_url"] = json!(url);
        }
        if let Some(url) = log_url {
            payload["log_url"] = json!(url);
        }
        self.json(
            Method::POST,
            false,
            &self.repo_url(&format!("/deployments/{id}/statuses")),
            Some(&payload),
            "setting a deployment status",
        )?;
        Ok(())
    }
}

/// The blob sha git gives `bytes` ("blob <len>\0" + bytes, SHA-1), so unchanged files are not uploaded.
pub fn git_blob_sha(bytes: &[u8]) -> String {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    crate::build::checksum::hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_shas_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            super::git_blob_sha(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}
