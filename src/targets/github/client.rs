//! Why this exists: the GitHub REST calls a release needs, typed, over the one HTTP policy. Only
//! what we use is modelled; errors keep GitHub's own message and say which permission is missing.
//! Uploads go to the host and path of the release's `upload_url` (so GitHub Enterprise Server
//! works), streamed from disk with a known length and a percent-encoded name.

use std::path::Path;

use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::{Http, HttpError};
use crate::secret::Secret;

/// A release as the API returns it (the fields we use).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiRelease {
    /// Numeric id.
    pub id: u64,
    /// The tag.
    pub tag_name: String,
    /// Still a draft.
    pub draft: bool,
    /// Marked as a prerelease.
    pub prerelease: bool,
    /// The page.
    pub html_url: String,
    /// RFC 6570 template for uploads.
    pub upload_url: String,
    /// The notes.
    pub body: Option<String>,
    /// Immutable once published.
    #[serde(default)]
    pub immutable: Option<bool>,
}

/// An asset as the API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiAsset {
    /// Numeric id.
    pub id: u64,
    /// The name (GitHub may have renamed it).
    pub name: String,
    /// `uploaded`, or `starter`/`open` for a half-finished upload.
    pub state: String,
    /// Bytes.
    pub size: u64,
    /// `sha256:<hex>`, when GitHub computed it.
    pub digest: Option<String>,
    /// Where users download it.
    pub browser_download_url: String,
}

/// A repository on a GitHub (or GHES) API.
#[derive(Clone)]
pub struct GitHubClient {
    http: Http,
    api: String,
    repository: String,
    token: Option<Secret>,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode_query(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl GitHubClient {
    /// A client for `owner/name` at `api` (e.g. `https://api.github.com`).
    pub fn new(http: Http, api: &str, repository: &str, token: Option<Secret>) -> GitHubClient {
        GitHubClient {
            http,
            api: api.trim_end_matches('/').to_string(),
            repository: repository.to_string(),
            token,
        }
    }

    fn request(&self, method: &Method, url: &str) -> RequestBuilder {
        let mut request = self
            .http
            .client()
            .request(method.clone(), url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        request
    }

    fn explain(&self, what: &str, error: HttpError) -> Error {
        match &error {
            HttpError::Status { status: 401, .. } => Error::input(
                "github-token",
                format!(
                    "{what}: GitHub rejected the token (401); give a valid token (input github-token, or GITHUB_TOKEN)"
                ),
            ),
            HttpError::Status { status: 403, body } | HttpError::Status { status: 404, body }
                if body.contains("Resource not accessible") || body.contains("Must have") =>
            {
                Error::input(
                    "github-token",
                    format!(
                        "{what}: the token may not do this ({error}); the job needs `permissions: contents: write`"
                    ),
                )
            }
            _ => Error::Failed(format!("{what} on {}: {error}", self.repository)),
        }
    }

    pub(crate) fn json(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<Value>> {
        match self.send_json(method, idempotent, url, body) {
            Ok(value) => Ok(Some(value)),
            Err(HttpError::Status { status: 404, body }) if !body.contains("Resource not accessible") => Ok(None),
            Err(HttpError::Transport(e)) if e.starts_with("unexpected answer") => {
                Err(Error::Failed(format!("{what}: {e}")))
            }
            Err(e) => Err(self.explain(what, e)),
        }
    }

    /// Sends a JSON request and parses the answer (`null` when empty), leaving every HTTP status
    /// to the caller.
    pub(crate) fn send_json(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
    ) -> std::result::Result<Value, HttpError> {
        let build = || {
            let request = self.request(&method, url);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let response = self.http.send(method.clone(), idempotent, &build)?;
        let text = response.text().map_err(|e| HttpError::Transport(e.to_string()))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| HttpError::Transport(format!("unexpected answer: {e}")))
    }

    /// Explains a failed request to the user.
    pub(crate) fn explained(&self, what: &str, error: HttpError) -> Error {
        self.explain(what, error)
    }

    fn parse<T: for<'de> Deserialize<'de>>(value: Value, what: &str) -> Result<T> {
        serde_json::from_value(value).map_err(|e| Error::Failed(format!("{what}: unexpected answer: {e}")))
    }

    pub(crate) fn repo_url(&self, path: &str) -> String {
        format!("{}/repos/{}{path}", self.api, self.repository)
    }

    /// The published release for `tag` (drafts are invisible here).
    pub fn release_by_tag(&self, tag: &str) -> Result<Option<ApiRelease>> {
        let what = format!("reading the release {tag}");
        match self.json(
            Method::GET,
            true,
            &self.repo_url(&format!("/releases/tags/{}", encode_query(tag))),
            None,
            &what,
        )? {
            Some(value) => Ok(Some(Self::parse(value, &what)?)),
            None => Ok(None),
        }
    }

    /// Every release, drafts included (a draft is found only this way).
    pub fn releases(&self) -> Result<Vec<ApiRelease>> {
        let mut all = Vec::new();
        for page in 1..=10 {
            let url = self.repo_url(&format!("/releases?per_page=100&page={page}"));
            let value = self
                .json(Method::GET, true, &url, None, "listing releases")?
                .unwrap_or(Value::Array(vec![]));
            let batch: Vec<ApiRelease> = Self::parse(value, "listing releases")?;
            let done = batch.len() < 100;
            all.extend(batch);
            if done {
                break;
            }
        }
        Ok(all)
    }

    /// Creates a draft release. Not retried here: the caller checks whether it exists first.
    pub fn create_draft(&self, tag: &str, commit: &str, body: &str, prerelease: bool) -> Result<ApiRelease> {
        let what = format!("creating the draft release {tag}");
        let payload = json!({"tag_name": tag, "target_commitish": commit, "name": tag, "body": body, "draft": true, "prerelease": prerelease});
        let value = self
            .json(Method::POST, false, &self.repo_url("/releases"), Some(&payload), &what)?
            .unwrap_or(Value::Null);
        Self::parse(value, &what)
    }

    /// Updates a release.
    pub fn update(&self, id: u64, payload: &Value, what: &str) -> Result<ApiRelease> {
        let value = self
            .json(
                Method::PATCH,
                true,
                &self.repo_url(&format!("/releases/{id}")),
                Some(payload),
                what,
            )?
            .ok_or_else(|| Error::Failed(format!("{what}: the release is gone")))?;
        Self::parse(value, what)
    }

    /// Deletes a release (its tag stays).
    pub fn delete_release(&self, id: u64) -> Result<()> {
        self.json(
            Method::DELETE,
            true,
            &self.repo_url(&format!("/releases/{id}")),
            None,
            "deleting a duplicate draft",
        )?;
        Ok(())
    }

    /// The assets of a release.
    pub fn assets(&self, id: u64) -> Result<Vec<ApiAsset>> {
        let value = self
            .json(
                Method::GET,
                true,
                &self.repo_url(&format!("/releases/{id}/assets?per_page=100")),
                None,
                "listing assets",
            )?
            .unwrap_or(Value::Array(vec![]));
        Self::parse(value, "listing assets")
    }

    /// An asset's bytes (for the small JSON assets we read back).
    pub fn download_asset(&self, id: u64) -> Result<Vec<u8>> {
        let url = self.repo_url(&format!("/releases/assets/{id}"));
        let build = || {
            let mut request = self
                .http
                .client()
                .get(&url)
                .header("accept", "application/octet-stream");
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.expose());
            }
            request
        };
        let response = self
            .http
            .send(Method::GET, true, &build)
            .map_err(|e| self.explain("downloading an asset", e))?;
        Ok(response
            .bytes()
            .map_err(|e| Error::Failed(format!("downloading an asset: {e}")))?
            .to_vec())
    }

    /// Deletes an asset.
    pub fn delete_asset(&self, id: u64, name: &str) -> Result<()> {
        self.json(
            Method::DELETE,
            true,
            &self.repo_url(&format!("/releases/assets/{id}")),
            None,
            &format!("deleting the asset {name}"),
        )?;
        Ok(())
    }

    /// Streams `path` as asset `name` to the release's `upload_url`. Not retried here.
    pub fn upload(
        &self,
        upload_url: &str,
        name: &str,
        path: &Path,
        content_type: &str,
    ) -> std::result::Result<ApiAsset, HttpError> {
        let base = upload_url.split('{').next().unwrap_or(upload_url);
        let url = format!("{base}?name={}", encode_query(name));
        let size = std::fs::metadata(path)
            .map_err(|e| HttpError::Transport(format!("{}: {e}", path.display())))?
            .len();
        let build = || {
            let file = std::fs::File::open(path);
            let body = match file {
                Ok(file) => reqwest::blocking::Body::sized(file, size),
                Err(_) => reqwest::blocking::Body::from(Vec::new()),
            };
            self.request(&Method::POST, &url)
                .header("content-type", content_type)
                .header("content-length", size)
                .body(body)
        };
        let response = self.http.send(Method::POST, false, &build)?;
        let text = response.text().map_err(|e| HttpError::Transport(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| HttpError::Transport(format!("unexpected upload answer: {e}")))
    }

    /// The commit a tag points at (peeling annotated tags), if the tag exists.
    pub fn tag_commit(&self, tag: &str) -> Result<Option<String>> {
        let what = format!("reading the tag {tag}");
        let Some(value) = self.json(
            Method::GET,
            true,
            &self.repo_url(&format!("/git/ref/tags/{}", encode_query(tag))),
            None,
            &what,
        )?
        else {
            return Ok(None);
        };
        let object = &value["object"];
        let sha = object["sha"].as_str().unwrap_or_default().to_string();
        if object["type"] == "tag" {
            let tag_object = self
                .json(
                    Method::GET,
                    true,
                    &self.repo_url(&format!("/git/tags/{sha}")),
                    None,
                    &what,
                )?
                .unwrap_or(Value::Null);
            return Ok(tag_object["object"]["sha"].as_str().map(str::to_string));
        }
        Ok(Some(sha))
    }

    /// Creates `refs/tags/<tag>` at `commit`.
    pub fn create_tag(&self, tag: &str, commit: &str) -> Result<()> {
        let payload = json!({"ref": format!("refs/tags/{tag}"), "sha": commit});
        self.json(
            Method::POST,
            false,
            &self.repo_url("/git/refs"),
            Some(&payload),
            &format!("creating the tag {tag}"),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_encoding() {
        assert_eq!(
            super::encode_query("my tool v1.0 (x86).tar.gz"),
            "my%20tool%20v1.0%20%28x86%29.tar.gz"
        );
        assert_eq!(super::encode_query("a&b#c"), "a%26b%23c");
    }
}
