//! Why this exists: the release transaction needs a few more of GitHub's pointers than releases
//! and branches — the "latest" release, tags that move, deployment statuses — and one thing GitHub
//! makes atomic for us: creating a ref fails when it exists, which is the lock.

use reqwest::Method;
use serde_json::json;

use crate::error::{Error, Result};
use crate::http::HttpError;
use crate::targets::github::client::{
    ApiRef, ApiRelease, ApiSha, ApiTagObject, GitHubClient, encode_query, encode_ref,
};

/// A deployment as listed.
#[derive(Debug, Clone, serde::Deserialize)]
struct ApiDeployment {
    id: u64,
    environment: String,
}

/// A deployment status as listed.
#[derive(Debug, Clone, serde::Deserialize)]
struct ApiStatus {
    state: String,
}

/// A lock as GitHub holds it: the ref points at an annotated tag object whose message says who
/// holds it and whose tagger date says since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// The tag object's sha (what the ref points at).
    pub object: String,
    /// Who holds it, in words.
    pub holder: String,
    /// Since when (UTC, RFC 3339).
    pub since: String,
}

impl GitHubClient {
    /// The release GitHub marks as latest, if any.
    pub fn latest_release(&self) -> Result<Option<ApiRelease>> {
        let url = self.repo_url("/releases/latest");
        self.call(Method::GET, true, &url, None, "reading the latest release")
    }

    /// Points the tag `tag` at `commit`, creating it or moving it (tags that float, like `v1`).
    pub fn move_tag(&self, tag: &str, commit: &str) -> Result<()> {
        let what = format!("moving the tag {tag}");
        let url = self.repo_url(&format!("/git/refs/tags/{}", encode_ref(tag)?));
        match self.send_json(Method::PATCH, true, &url, Some(&json!({"sha": commit, "force": true}))) {
            Ok(_) => Ok(()),
            Err(HttpError::Status { status: 404 | 422, .. }) => self.create_tag(tag, commit),
            Err(e) => Err(self.explained(&what, e)),
        }
    }

    /// Deletes the tag `tag`.
    pub fn delete_tag(&self, tag: &str) -> Result<()> {
        self.json(
            Method::DELETE,
            true,
            &self.repo_url(&format!("/git/refs/tags/{}", encode_ref(tag)?)),
            None,
            &format!("deleting the tag {tag}"),
        )?;
        Ok(())
    }

    /// The deployments of `reference` (a tag): (id, environment), newest first.
    pub fn deployments_of(&self, reference: &str) -> Result<Vec<(u64, String)>> {
        let path = format!("/deployments?ref={}&per_page=100", encode_query(reference));
        Ok(self
            .list::<ApiDeployment>(&path, "listing deployments")?
            .into_iter()
            .map(|d| (d.id, d.environment))
            .collect())
    }

    /// The states of a deployment, newest first.
    pub fn deployment_states(&self, id: u64) -> Result<Vec<String>> {
        let path = format!("/deployments/{id}/statuses?per_page=100");
        Ok(self
            .list::<ApiStatus>(&path, "reading a deployment's statuses")?
            .into_iter()
            .map(|s| s.state)
            .collect())
    }

    /// Tries to take the lock `reference` (e.g. `refs/tamma-release/lock`) for `holder` at
    /// `commit`: `Ok(Ok(object))` when taken (the tag object it points at), `Ok(Err(holder))` when
    /// someone else holds it.
    pub fn try_lock(
        &self,
        reference: &str,
        holder: &str,
        commit: &str,
        now: &str,
    ) -> Result<std::result::Result<String, LockHolder>> {
        let what = format!("taking the lock {reference}");
        let payload = json!({
            "tag": reference.rsplit('/').next().unwrap_or("lock"), "message": holder, "object": commit,
            "type": "commit", "tagger": {"name": "tamma-release", "email": "tamma-release@users.noreply.github.com", "date": now},
        });
        let object = self
            .call::<ApiSha>(Method::POST, false, &self.repo_url("/git/tags"), Some(&payload), &what)?
            .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))?
            .sha;
        match self.send_json(
            Method::POST,
            false,
            &self.repo_url("/git/refs"),
            Some(&json!({"ref": reference, "sha": object})),
        ) {
            Ok(_) => Ok(Ok(object)),
            Err(HttpError::Status { status: 422, body }) if body.to_ascii_lowercase().contains("exist") => {
                match self.read_lock(reference)? {
                    Some(current) => Ok(Err(current)),
                    // Released between our try and our look: the caller tries again.
                    None => Ok(Err(LockHolder {
                        object: String::new(),
                        holder: "nobody (released just now)".into(),
                        since: now.to_string(),
                    })),
                }
            }
            Err(e) => Err(self.explained(&what, e)),
        }
    }

    /// Who holds the lock `reference`, if anyone.
    pub fn read_lock(&self, reference: &str) -> Result<Option<LockHolder>> {
        let what = format!("reading the lock {reference}");
        let path = reference.trim_start_matches("refs/");
        let url = self.repo_url(&format!("/git/ref/{path}"));
        let Some(found) = self.call::<ApiRef>(Method::GET, true, &url, None, &what)? else {
            return Ok(None);
        };
        let object = found.object.sha;
        let url = self.repo_url(&format!("/git/tags/{object}"));
        let tag = self.call::<ApiTagObject>(Method::GET, true, &url, None, &what)?;
        Ok(Some(LockHolder {
            holder: tag
                .as_ref()
                .and_then(|t| t.message.as_deref())
                .unwrap_or("unknown")
                .trim()
                .to_string(),
            since: tag.and_then(|t| t.tagger).and_then(|t| t.date).unwrap_or_default(),
            object,
        }))
    }

    /// Deletes the lock `reference` if it still points at `object` (never someone else's).
    pub fn unlock(&self, reference: &str, object: &str) -> Result<()> {
        let path = reference.trim_start_matches("refs/");
        let url = self.repo_url(&format!("/git/ref/{path}"));
        let current = self.call::<ApiRef>(Method::GET, true, &url, None, &format!("reading the lock {reference}"))?;
        if current.is_some_and(|r| r.object.sha == object) {
            self.json(
                Method::DELETE,
                true,
                &self.repo_url(&format!("/git/refs/{path}")),
                None,
                &format!("releasing the lock {reference}"),
            )?;
        }
        Ok(())
    }
}
