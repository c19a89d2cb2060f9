//! Why this exists: the GitHub REST calls a release needs, typed, over the one HTTP policy. Only
//! what we use is modelled; errors keep GitHub's own message and say which permission is missing.
//! Uploads go to the host and path of the release's `upload_url` (so GitHub Enterprise Server
//! works), streamed from disk with a known length and a percent-encoded name.
//!
//! Answers are checked, not trusted: a 2xx whose body is not the JSON the endpoint answers is
//! GitHub's fault (retried when the request is idempotent, then exit 1 naming the endpoint), lists
//! follow every `Link: rel="next"` page, and the token goes only to the API's own origin and the
//! upload host GitHub names for it.

use std::path::Path;

use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::{Http, HttpError, MAX_JSON, read_body};
use crate::secret::Secret;

/// At most this many pages of one list are read (100 items each): GitHub itself stops listing
/// releases at 1,000.
const MAX_PAGES: usize = 100;

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
    /// When it was created, RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it was published (`None` for a draft), RFC 3339.
    #[serde(default)]
    pub published_at: Option<String>,
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

/// What a git ref, or an annotated tag, points at.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiObject {
    /// The object's sha (40 hex digits).
    #[serde(deserialize_with = "object_sha")]
    pub sha: String,
    /// `commit` or `tag`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A git ref (`GET /git/ref/...`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiRef {
    /// What it points at.
    pub object: ApiObject,
}

/// An annotated tag object (`GET /git/tags/{sha}`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiTagObject {
    /// What it tags.
    pub object: ApiObject,
    /// The tag message.
    #[serde(default)]
    pub message: Option<String>,
    /// Who tagged it, and when.
    #[serde(default)]
    pub tagger: Option<ApiTagger>,
}

/// A tag object's tagger.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiTagger {
    /// RFC 3339.
    #[serde(default)]
    pub date: Option<String>,
}

/// An object that is answered with its sha (blobs, trees, commits, tag objects).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiSha {
    /// The sha.
    #[serde(deserialize_with = "object_sha")]
    pub sha: String,
}

/// A git object id: 40 (SHA-1) or 64 (SHA-256) hex digits — never empty, never a path.
fn object_sha<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<String, D::Error> {
    let sha = String::deserialize(deserializer)?;
    if matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(serde::de::Error::custom(format!("{sha:?} is not a git object id")))
    }
}

/// `scheme://host[:port]` of a URL, lower-cased: what a credential is scoped to.
pub fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => parsed.origin().ascii_serialization().to_ascii_lowercase(),
        Err(_) => String::new(),
    }
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

/// A ref name (`gh-pages`, `docs/site`, `v1`) as a URL path: each `/`-separated part
/// percent-encoded. A name with an empty, `.` or `..` part is refused: it would address another
/// endpoint (`../../releases/latest`).
pub fn encode_ref(name: &str) -> Result<String> {
    if name.is_empty()
        || name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::input(
            "ref",
            format!("{name:?} is not a git ref name (empty, `.` or `..` parts are not allowed)"),
        ));
    }
    Ok(name.split('/').map(encode_query).collect::<Vec<_>>().join("/"))
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
        self.http
            .client()
            .request(method.clone(), url)
            .headers(self.api_headers())
    }

    /// What every request to the API carries: the media type, the API version and the token
    /// (marked sensitive, so that no debug output shows it).
    fn api_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", HeaderValue::from_static("2022-11-28"));
        if let Some(token) = &self.token
            && let Ok(mut auth) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            auth.set_sensitive(true);
            headers.insert("authorization", auth);
        }
        headers
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

    /// Sends a request whose answer we do not read (deletes, ref writes, statuses). `Ok(None)` on
    /// a 404 that is not a permission problem.
    pub(crate) fn json(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<Value>> {
        match self.send_json(method, idempotent, url, body) {
            Ok((value, _)) => Ok(Some(value)),
            Err(HttpError::Status { status: 404, body }) if !body.contains("Resource not accessible") => Ok(None),
            Err(e) => Err(self.explain(what, e)),
        }
    }

    /// Sends a request and reads its answer as `T`. An answer that is not that JSON (empty, cut
    /// off, another shape) is the server's fault: an idempotent request is sent again, as often as
    /// the policy retries, then it fails (exit 1) naming the endpoint. `Ok(None)` on a 404.
    pub(crate) fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<T>> {
        self.call_page(method, idempotent, url, body, what)
            .map(|answer| answer.map(|(value, _)| value))
    }

    fn call_page<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<(T, Option<String>)>> {
        let attempts = if idempotent {
            self.http.policy().attempts.max(1)
        } else {
            1
        };
        let mut wait = self.http.policy().backoff;
        let mut problem = String::new();
        for attempt in 1..=attempts {
            match self.send_json(method.clone(), idempotent, url, body) {
                Ok((value, next)) => match serde_json::from_value::<T>(value) {
                    Ok(parsed) => return Ok(Some((parsed, next))),
                    Err(e) => problem = e.to_string(),
                },
                Err(HttpError::Status { status: 404, body }) if !body.contains("Resource not accessible") => {
                    return Ok(None);
                }
                Err(HttpError::Unexpected(e)) => problem = e,
                Err(e) => return Err(self.explain(what, e)),
            }
            if attempt < attempts {
                tracing::warn!("{what}: GitHub's answer was not what the API answers ({problem}); asking again");
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
        }
        let endpoint = url.strip_prefix(&self.api).unwrap_or(url);
        Err(Error::Failed(format!(
            "{what}: GitHub answered {method} {endpoint} with something that is not the expected JSON ({problem}){}; this is a fault on GitHub's side — run again later",
            if attempts > 1 {
                format!(", {attempts} times")
            } else {
                String::new()
            }
        )))
    }

    /// Every item of a list endpoint (`path` under the repository, with its query), following
    /// the `Link` header page by page. A next page on another origin than the API is refused: the
    /// token would go there.
    pub(crate) fn list<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<Vec<T>> {
        let mut url = self.repo_url(path);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some((batch, next)) = self.call_page::<Vec<T>>(Method::GET, true, &url, None, what)? else {
                return Ok(all);
            };
            all.extend(batch);
            let Some(next) = next else {
                return Ok(all);
            };
            if origin(&next) != origin(&self.api) {
                return Err(Error::Failed(format!(
                    "{what}: GitHub's next page is on another host ({}); not following it with the token",
                    origin(&next)
                )));
            }
            url = next;
        }
        Err(Error::Failed(format!(
            "{what}: more than {MAX_PAGES} pages; stopping rather than reading without end"
        )))
    }

    /// Sends a JSON request and parses the answer (`null` when empty) with the next page's URL,
    /// leaving every HTTP status to the caller. A body that is not JSON, or larger than
    /// [`MAX_JSON`], is [`HttpError::Unexpected`].
    pub(crate) fn send_json(
        &self,
        method: Method,
        idempotent: bool,
        url: &str,
        body: Option<&Value>,
    ) -> std::result::Result<(Value, Option<String>), HttpError> {
        let build = || {
            let request = self.request(&method, url);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let response = self.http.send(method.clone(), idempotent, &build)?;
        let next = crate::http::next_link(response.headers());
        let bytes = read_body(response, MAX_JSON)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((Value::Null, next));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| HttpError::Unexpected(format!("not JSON: {e}")))?;
        Ok((value, next))
    }

    /// Explains a failed request to the user.
    pub(crate) fn explained(&self, what: &str, error: HttpError) -> Error {
        self.explain(what, error)
    }

    pub(crate) fn repo_url(&self, path: &str) -> String {
        format!("{}/repos/{}{path}", self.api, self.repository)
    }

    /// The published release for `tag` (drafts are invisible here).
    pub fn release_by_tag(&self, tag: &str) -> Result<Option<ApiRelease>> {
        let what = format!("reading the release {tag}");
        let url = self.repo_url(&format!("/releases/tags/{}", encode_query(tag)));
        self.call(Method::GET, true, &url, None, &what)
    }

    /// Every release, drafts included (a draft is found only this way).
    pub fn releases(&self) -> Result<Vec<ApiRelease>> {
        self.list("/releases?per_page=100", "listing releases")
    }

    /// Creates a draft release. Not retried here: the caller checks whether it exists first.
    pub fn create_draft(&self, tag: &str, commit: &str, body: &str, prerelease: bool) -> Result<ApiRelease> {
        let what = format!("creating the draft release {tag}");
        let payload = json!({"tag_name": tag, "target_commitish": commit, "name": tag, "body": body, "draft": true, "prerelease": prerelease});
        self.call(Method::POST, false, &self.repo_url("/releases"), Some(&payload), &what)?
            .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))
    }

    /// Updates a release.
    pub fn update(&self, id: u64, payload: &Value, what: &str) -> Result<ApiRelease> {
        let url = self.repo_url(&format!("/releases/{id}"));
        self.call(Method::PATCH, true, &url, Some(payload), what)?
            .ok_or_else(|| Error::Failed(format!("{what}: the release is gone")))
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

    /// The assets of a release, every page of them.
    pub fn assets(&self, id: u64) -> Result<Vec<ApiAsset>> {
        self.list(&format!("/releases/{id}/assets?per_page=100"), "listing assets")
    }

    /// An asset's bytes (for the small JSON assets we read back: at most [`MAX_JSON`]).
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
        read_body(response, MAX_JSON).map_err(|e| Error::Failed(format!("downloading an asset: {e}")))
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
        if !self.is_upload_host(base) {
            return Err(HttpError::Unexpected(format!(
                "the release's upload URL is on {}, not GitHub's; the token is not sent there",
                origin(base)
            )));
        }
        let url = format!("{base}?name={}", encode_query(name));
        let size = std::fs::metadata(path)
            .map_err(|e| HttpError::Transport(format!("{}: {e}", path.display())))?
            .len();
        let mut headers = self.api_headers();
        headers.insert(
            "content-type",
            HeaderValue::from_str(content_type).map_err(|e| HttpError::Unexpected(format!("{content_type:?}: {e}")))?,
        );
        let upload = crate::http::FileUpload { path, name, size };
        let bytes = self.http.send_file(Method::POST, &url, headers, &upload, MAX_JSON)?;
        serde_json::from_slice(&bytes).map_err(|e| HttpError::Unexpected(format!("the upload's answer: {e}")))
    }

    /// Whether `url` is where GitHub takes this API's uploads: the API's own origin (GitHub
    /// Enterprise Server: `/api/uploads` on the same host), or `uploads.github.com` for
    /// `api.github.com`.
    fn is_upload_host(&self, url: &str) -> bool {
        let (api, target) = (origin(&self.api), origin(url));
        target == api || api == "https://api.github.com" && target == "https://uploads.github.com"
    }

    /// The commit a tag points at (peeling annotated tags), if the tag exists.
    pub fn tag_commit(&self, tag: &str) -> Result<Option<String>> {
        let what = format!("reading the tag {tag}");
        let url = self.repo_url(&format!("/git/ref/tags/{}", encode_ref(tag)?));
        let Some(found) = self.call::<ApiRef>(Method::GET, true, &url, None, &what)? else {
            return Ok(None);
        };
        if found.object.kind == "tag" {
            let url = self.repo_url(&format!("/git/tags/{}", found.object.sha));
            let tag_object = self
                .call::<ApiTagObject>(Method::GET, true, &url, None, &what)?
                .ok_or_else(|| Error::Failed(format!("{what}: its tag object {} is missing", found.object.sha)))?;
            return Ok(Some(tag_object.object.sha));
        }
        Ok(Some(found.object.sha))
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
    fn ref_encoding() {
        assert_eq!(super::encode_ref("gh-pages").unwrap(), "gh-pages");
        assert_eq!(super::encode_ref("docs/site v2").unwrap(), "docs/site%20v2");
        for bad in ["../../releases/latest", "a//b", "", "./x", "a/.."] {
            assert!(super::encode_ref(bad).is_err(), "{bad}");
        }
        assert_eq!(
            super::origin("https://API.github.com/repos/a/b?x=1"),
            "https://api.github.com"
        );
        assert_eq!(super::origin("http://127.0.0.1:8080/x"), "http://127.0.0.1:8080");
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            super::encode_query("my tool v1.0 (x86).tar.gz"),
            "my%20tool%20v1.0%20%28x86%29.tar.gz"
        );
        assert_eq!(super::encode_query("a&b#c"), "a%26b%23c");
    }
}
