//! Why this exists: the docs site is committed to its branch through the Git Data API (no git
//! binary, no clone), and environments are recorded as GitHub Deployments; these are the calls.

use reqwest::Method;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::targets::github::client::GitHubClient;

/// One entry of a tree listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path from the root.
    pub path: String,
    /// Blob sha.
    pub sha: String,
}

fn field(value: &Value, key: &str, what: &str) -> Result<String> {
    value[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Failed(format!("{what}: the answer has no {key}")))
}

impl GitHubClient {
    /// The commit a branch points at.
    pub fn branch_commit(&self, branch: &str) -> Result<Option<String>> {
        let what = format!("reading the branch {branch}");
        let value = self.json(
            Method::GET,
            true,
            &self.repo_url(&format!("/git/ref/heads/{branch}")),
            None,
            &what,
        )?;
        value.map(|v| field(&v["object"], "sha", &what)).transpose()
    }

    /// The files (blobs) of a commit's tree.
    pub fn commit_files(&self, commit: &str) -> Result<Vec<TreeEntry>> {
        let what = "reading the docs branch";
        let commit_value = self
            .json(
                Method::GET,
                true,
                &self.repo_url(&format!("/git/commits/{commit}")),
                None,
                what,
            )?
            .unwrap_or(Value::Null);
        let tree = field(&commit_value["tree"], "sha", what)?;
        let listing = self
            .json(
                Method::GET,
                true,
                &self.repo_url(&format!("/git/trees/{tree}?recursive=1")),
                None,
                what,
            )?
            .unwrap_or(Value::Null);
        Ok(listing["tree"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "blob")
            .filter_map(|e| {
                Some(TreeEntry {
                    path: e["path"].as_str()?.to_string(),
                    sha: e["sha"].as_str()?.to_string(),
                })
            })
            .collect())
    }

    /// Uploads a blob; returns its sha.
    pub fn create_blob(&self, bytes: &[u8]) -> Result<String> {
        let payload = json!({"content": crate::build::npm_pack::base64(bytes), "encoding": "base64"});
        let value = self
            .json(
                Method::POST,
                true,
                &self.repo_url("/git/blobs"),
                Some(&payload),
                "uploading a docs file",
            )?
            .unwrap_or(Value::Null);
        field(&value, "sha", "uploading a docs file")
    }

    /// Creates a tree of `(path, blob sha)` entries (a whole tree: no base).
    pub fn create_tree(&self, entries: &[TreeEntry]) -> Result<String> {
        let tree: Vec<Value> = entries
            .iter()
            .map(|e| json!({"path": e.path, "mode": "100644", "type": "blob", "sha": e.sha}))
            .collect();
        let value = self
            .json(
                Method::POST,
                true,
                &self.repo_url("/git/trees"),
                Some(&json!({"tree": tree})),
                "writing the docs tree",
            )?
            .unwrap_or(Value::Null);
        field(&value, "sha", "writing the docs tree")
    }

    /// Creates a commit.
    pub fn create_commit(&self, message: &str, tree: &str, parents: &[String]) -> Result<String> {
        let payload = json!({"message": message, "tree": tree, "parents": parents});
        let value = self
            .json(
                Method::POST,
                true,
                &self.repo_url("/git/commits"),
                Some(&payload),
                "committing the docs",
            )?
            .unwrap_or(Value::Null);
        field(&value, "sha", "committing the docs")
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
                &self.repo_url(&format!("/git/refs/heads/{branch}")),
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
            &self.repo_url(&format!("/git/refs/heads/{branch}")),
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
        let value = self
            .json(
                Method::POST,
                false,
                &self.repo_url("/deployments"),
                Some(&payload),
                &what,
            )?
            .unwrap_or(Value::Null);
        value["id"]
            .as_u64()
            .ok_or_else(|| Error::Failed(format!("{what}: the answer has no id")))
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
