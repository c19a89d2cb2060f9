//! Why this exists: container images are staged as `image:X.Y.Z` and the channel tag (`latest`,
//! `alpha`…) is flipped afterwards by PUTting the exact manifest bytes under it — no daemon needed,
//! and the old digest of the channel tag is recorded first. Layouts are pushed through the OCI
//! distribution API (blobs checked with HEAD first, then the manifest); images the daemon built
//! are pushed by the daemon. Loopback registries are reached over plain HTTP, as Docker does.
//!
//! Credentials stay with the registry they are for ([`Credentials::registry`]): nothing is sent
//! before a registry asks (a 401 challenge); Basic credentials go only to that registry and to the
//! token service its Bearer challenge names; each token is kept for the host and repository it
//! was issued for, and never sent anywhere else (not to another registry, not to a blob upload
//! `Location` on another host).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use reqwest::Method;
use reqwest::blocking::RequestBuilder;

use crate::error::{Error, Result};
use crate::http::{Http, HttpError};
use crate::secret::Secret;
use crate::targets::StepRecord;

/// The largest manifest read (registries accept manifests up to 4 MiB).
const MAX_MANIFEST: u64 = 4 << 20;

/// Media types a manifest GET accepts (a registry answers 404 when its type is not listed).
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Where an image to publish comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An OCI layout directory.
    Layout(PathBuf),
    /// The Docker daemon holds `repository:version`.
    Daemon,
}

/// One image to publish.
#[derive(Debug, Clone)]
pub struct ImageRelease {
    /// `host[:port]/path`, lower-cased.
    pub repository: String,
    /// The version tag.
    pub version: String,
    /// The channel tag the flip moves.
    pub channel: String,
    /// The version-line tags (`1`, `1.4`) the flip moves too, from `[image] tags`.
    pub line_tags: Vec<String>,
    /// Where it comes from.
    pub source: ImageSource,
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host and port.
    pub host: String,
    /// Repository path in that registry.
    pub path: String,
}

/// Docker Hub's API host, where `docker.io/…`, `index.docker.io/…` and names without a registry go.
pub const DOCKER_HUB: &str = "registry-1.docker.io";

/// Splits `ghcr.io/Acme/Widget` into host and lower-cased path as Docker does: a first part with
/// a `.` or `:` (or `localhost`) is a registry, anything else is on Docker Hub
/// (`registry-1.docker.io`, whose official images are under `library/`).
pub fn parse_reference(image: &str) -> Reference {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let (host, path) = if !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost") {
        (registry_host(first), rest)
    } else {
        (DOCKER_HUB.to_string(), image)
    };
    let path = path.to_ascii_lowercase();
    let path = if host == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    Reference { host, path }
}

/// A registry name as the API is reached: Docker Hub's names become [`DOCKER_HUB`].
pub fn registry_host(name: &str) -> String {
    let name = name.trim().trim_end_matches('/').to_ascii_lowercase();
    match name.as_str() {
        "docker.io" | "index.docker.io" | "registry.hub.docker.com" => DOCKER_HUB.to_string(),
        _ => name,
    }
}

/// Whether a registry host is reached over plain HTTP: loopback, or listed as insecure.
pub fn plain_http(host: &str, insecure: &[String]) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    name == "localhost"
        || name.starts_with("127.")
        || name == "[::1]"
        || insecure.iter().any(|i| i == host || i == name)
}

/// Registry credentials: `registry-username` / `registry-password`, and the one registry they
/// are for (`[image] registry`, else the registry of the image artifacts).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The user.
    pub username: Option<String>,
    /// The password or token.
    pub password: Option<Secret>,
    /// The registry host they log in to; `None`: they go nowhere.
    pub registry: Option<String>,
}

impl Credentials {
    /// The user and password, if they are for `host`.
    pub fn for_host(&self, host: &str) -> Option<(&str, &Secret)> {
        match (&self.username, &self.password, &self.registry) {
            (Some(user), Some(password), Some(registry)) if registry_host(registry) == registry_host(host) => {
                Some((user.as_str(), password))
            }
            _ => None,
        }
    }

    /// These credentials scoped to the registry they log in to: `[image] registry` when set, else
    /// the one registry every image of `images` is on. Images on several registries need the
    /// setting when credentials are given (they cannot be right for all of them).
    pub fn scoped(self, configured: Option<&str>, images: &[&str]) -> Result<Credentials> {
        let hosts: BTreeSet<String> = images.iter().map(|i| parse_reference(i).host).collect();
        let registry = match configured {
            Some(name) => Some(registry_host(name)),
            None if hosts.len() <= 1 => hosts.into_iter().next(),
            None if self.password.is_none() => None,
            None => {
                return Err(Error::input(
                    "registry-password",
                    format!(
                        "the images are on several registries ({}); registry-username and registry-password log in to one: name it with [image] registry = \"HOST\"",
                        hosts.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        };
        Ok(Credentials { registry, ..self })
    }
}

/// The `host[:port]` of a URL, lower-cased (`[::1]:5000` for IPv6).
fn url_host(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}").to_ascii_lowercase(),
            (Some(host), None) => host.to_ascii_lowercase(),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// The image target.
pub struct OciTarget {
    http: Option<Http>,
    credentials: Credentials,
    insecure: Vec<String>,
    /// Bearer tokens by (registry host, repository path) they were issued for.
    tokens: Mutex<BTreeMap<(String, String), Secret>>,
    /// Registries that asked for Basic credentials (and are the credentials' registry).
    basic: Mutex<BTreeSet<String>>,
    docker_host: Option<String>,
    steps: Vec<StepRecord>,
}

/// A `WWW-Authenticate` challenge.
enum Challenge {
    /// Get a token from `realm` for `service` and `scope`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// Send the user and password.
    Basic,
}

fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    if header.len() >= 6 && header[..6].eq_ignore_ascii_case("basic ") || header.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    let rest = header.strip_prefix("Bearer ")?;
    let mut fields = Vec::new();
    let (mut key, mut value, mut in_value, mut quoted) = (String::new(), String::new(), false, false);
    for c in rest.chars().chain(std::iter::once(',')) {
        match c {
            '"' => quoted = !quoted,
            '=' if !in_value && !quoted => in_value = true,
            ',' if !quoted => {
                fields.push((std::mem::take(&mut key).trim().to_string(), std::mem::take(&mut value)));
                in_value = false;
            }
            c if in_value => value.push(c),
            c => key.push(c),
        }
    }
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Some(Challenge::Bearer {
        realm: get("realm")?,
        service: get("service"),
        scope: get("scope"),
    })
}

impl OciTarget {
    /// A target; `http` is `None` in a dry run.
    pub fn new(
        http: Option<Http>,
        credentials: Credentials,
        insecure: Vec<String>,
        docker_host: Option<String>,
    ) -> OciTarget {
        OciTarget {
            http,
            credentials,
            insecure,
            tokens: Mutex::new(BTreeMap::new()),
            basic: Mutex::new(BTreeSet::new()),
            docker_host,
            steps: Vec::new(),
        }
    }

    fn record(&mut self, action: String) {
        tracing::info!("{action}");
        self.steps.push(StepRecord {
            target: "image".into(),
            action,
            dry_run: self.http.is_none(),
        });
    }

    fn base(&self, reference: &Reference) -> String {
        // Always the host parsed from the configured image, never one a server named.
        let scheme = if plain_http(&reference.host, &self.insecure) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", reference.host)
    }

    /// Adds what `url` may receive for `reference`: the token issued for this registry and
    /// repository, or Basic credentials when this registry asked for them. Nothing for a URL on
    /// another host (a blob upload `Location` may point elsewhere).
    fn authorize(&self, request: RequestBuilder, url: &str, reference: &Reference) -> RequestBuilder {
        let host = url_host(url);
        if host != registry_host(&reference.host) {
            return request;
        }
        let key = (host.clone(), reference.path.clone());
        if let Some(token) = self.tokens.lock().expect("no panic holds the token lock").get(&key) {
            return request.bearer_auth(token.expose());
        }
        if self
            .basic
            .lock()
            .expect("no panic holds the basic lock")
            .contains(&host)
            && let Some((user, password)) = self.credentials.for_host(&host)
        {
            return request.basic_auth(user, Some(password.expose()));
        }
        request
    }

    /// Whether a token service at `realm` may be asked over its scheme: https, or plain http
    /// where the registry itself would be (loopback, `insecure-registries`).
    fn realm_allowed(&self, realm: &str) -> bool {
        realm.starts_with("https://") || realm.starts_with("http://") && plain_http(&url_host(realm), &self.insecure)
    }

    /// Answers a 401 from `url`: reads the challenge, and gets a token (Bearer) or marks the
    /// registry for Basic credentials. Credentials go to the realm only when the challenge came
    /// from the registry they are for.
    fn answer_challenge(
        &self,
        http: &Http,
        method: &Method,
        url: &str,
        reference: &Reference,
    ) -> std::result::Result<(), HttpError> {
        let refused = |body: String| HttpError::Status { status: 401, body };
        let host = url_host(url);
        let header = http.client().request(method.clone(), url).send().ok().and_then(|r| {
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        let credentials = self.credentials.for_host(&host);
        match header.as_deref().and_then(parse_challenge) {
            None => Err(refused(
                "the registry refused the request and named no way to log in".into(),
            )),
            Some(Challenge::Basic) => {
                if credentials.is_none() {
                    return Err(refused(format!(
                        "{host} asks for a user and password; registry-username and registry-password are not for it (see [image] registry)"
                    )));
                }
                if !self.basic.lock().expect("no panic holds the basic lock").insert(host) {
                    return Err(refused("the registry refused the credentials".into()));
                }
                Ok(())
            }
            Some(Challenge::Bearer { realm, service, scope }) => {
                if !self.realm_allowed(&realm) {
                    return Err(refused(format!(
                        "the token service {realm} is not reached over https; no credentials are sent there"
                    )));
                }
                let mut token_url = format!("{realm}{}", if realm.contains('?') { '&' } else { '?' });
                if let Some(service) = &service {
                    token_url.push_str(&format!(
                        "service={}&",
                        crate::targets::github::client::encode_query(service)
                    ));
                }
                if let Some(scope) = &scope {
                    token_url.push_str(&format!(
                        "scope={}",
                        crate::targets::github::client::encode_query(scope)
                    ));
                }
                let mut request = http.client().get(&token_url);
                if let Some((user, password)) = credentials {
                    request = request.basic_auth(user, Some(password.expose()));
                }
                let response = request
                    .send()
                    .map_err(|e| HttpError::Transport(e.without_url().to_string()))?;
                if !response.status().is_success() {
                    return Err(refused(format!(
                        "the token service {realm} refused the credentials ({})",
                        response.status()
                    )));
                }
                let bytes = crate::http::read_body(response, 1 << 20)?;
                let answer: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| HttpError::Unexpected(format!("the token service's answer: {e}")))?;
                let token = answer["token"]
                    .as_str()
                    .or_else(|| answer["access_token"].as_str())
                    .and_then(Secret::new)
                    .ok_or_else(|| refused("the token service gave no token".into()))?;
                let key = (host, reference.path.clone());
                let mut tokens = self.tokens.lock().expect("no panic holds the token lock");
                if tokens.get(&key) == Some(&token) {
                    return Err(refused(
                        "the registry refused the token its token service issued".into(),
                    ));
                }
                tokens.insert(key, token);
                Ok(())
            }
        }
    }

    /// Sends with the registry's auth dance: on 401, answer the challenge and send again.
    fn send(
        &self,
        method: Method,
        url: &str,
        reference: &Reference,
        idempotent: bool,
        decorate: &dyn Fn(RequestBuilder) -> RequestBuilder,
    ) -> std::result::Result<reqwest::blocking::Response, HttpError> {
        self.with_challenge(&method, url, reference, |http| {
            let build = || decorate(self.authorize(http.client().request(method.clone(), url), url, reference));
            http.send(method.clone(), idempotent, &build)
        })
    }

    /// Runs `attempt` (a request to `url`), answering a 401 with the registry's challenge and
    /// trying again, three times at most.
    fn with_challenge<T>(
        &self,
        method: &Method,
        url: &str,
        reference: &Reference,
        mut attempt: impl FnMut(&Http) -> std::result::Result<T, HttpError>,
    ) -> std::result::Result<T, HttpError> {
        let http = self.http.as_ref().expect("only called outside dry runs");
        for _ in 0..3 {
            match attempt(http) {
                Err(HttpError::Status { status: 401, .. }) => self.answer_challenge(http, method, url, reference)?,
                other => return other,
            }
        }
        Err(HttpError::Status {
            status: 401,
            body: "the registry refused the credentials".into(),
        })
    }

    fn failed(subject: &str, what: &str, error: HttpError) -> Error {
        let message = format!("image {subject} — {what}: {error}");
        match error {
            HttpError::Status { status: 401 | 403, .. } => Error::input(
                "registry-password",
                format!(
                    "{message}; give registry-username and registry-password (ghcr.io takes the GitHub token, with permissions: packages: write)"
                ),
            ),
            _ => Error::Failed(message),
        }
    }

    fn push_blob(&self, subject: &str, reference: &Reference, layout: &Path, digest: &str) -> Result<()> {
        let base = self.base(reference);
        let head = format!("{base}/v2/{}/blobs/{digest}", reference.path);
        match self.send(Method::HEAD, &head, reference, true, &|r| r) {
            Ok(_) => return Ok(()),
            Err(HttpError::Status { status: 404, .. }) => {}
            Err(e) => return Err(Self::failed(subject, "checking a blob", e)),
        }
        let start = format!("{base}/v2/{}/blobs/uploads/", reference.path);
        let response = self
            .send(Method::POST, &start, reference, false, &|r| {
                r.header("content-length", 0)
            })
            .map_err(|e| Self::failed(subject, "starting an upload", e))?;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{base}{location}")
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!(
            "{location}{separator}digest={}",
            crate::targets::github::client::encode_query(digest)
        );
        let path = layout.join("blobs").join(digest.replacen(':', "/", 1));
        let size = std::fs::metadata(&path)
            .map_err(|source| Error::ReadFile {
                path: path.clone(),
                source,
            })?
            .len();
        let upload = crate::http::FileUpload {
            path: &path,
            name: digest,
            size,
        };
        self.send_file(&url, reference, &upload)
            .map_err(|e| Self::failed(subject, &format!("uploading {digest}"), e))
    }

    /// PUTs a blob's file as [`Self::send`] sends a request (credentials for the registry's own
    /// host only, a 401 answered by its challenge), streamed as GitHub assets are
    /// ([`Http::send_file`]).
    fn send_file(
        &self,
        url: &str,
        reference: &Reference,
        upload: &crate::http::FileUpload<'_>,
    ) -> std::result::Result<(), HttpError> {
        self.with_challenge(&Method::PUT, url, reference, |http| {
            // The headers `authorize` would put on a request to `url` (marked sensitive).
            let request = self
                .authorize(http.client().request(Method::PUT, url), url, reference)
                .build()
                .map_err(|e| HttpError::Transport(e.without_url().to_string()))?;
            let mut headers = request.headers().clone();
            headers.insert(
                "content-type",
                reqwest::header::HeaderValue::from_static("application/octet-stream"),
            );
            http.send_file(Method::PUT, url, headers, upload, crate::http::MAX_JSON)
                .map(|_| ())
        })
    }

    fn put_manifest(
        &self,
        subject: &str,
        reference: &Reference,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.base(reference), reference.path);
        let body = bytes.to_vec();
        let media = media_type.to_string();
        self.send(Method::PUT, &url, reference, true, &move |r| {
            r.header("content-type", media.clone()).body(body.clone())
        })
        .map_err(|e| Self::failed(subject, &format!("putting the manifest {tag}"), e))?;
        Ok(())
    }

    fn push_tree(
        &self,
        subject: &str,
        reference: &Reference,
        layout: &Path,
        media_type: &str,
        digest: &str,
        tag: Option<&str>,
    ) -> Result<()> {
        let path = layout.join("blobs").join(digest.replacen(':', "/", 1));
        let bytes = std::fs::read(&path).map_err(|source| Error::ReadFile {
            path: path.clone(),
            source,
        })?;
        let document: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Failed(format!("{}: {e}", path.display())))?;
        if let Some(children) = document["manifests"].as_array() {
            for child in children {
                let (Some(child_type), Some(child_digest)) = (child["mediaType"].as_str(), child["digest"].as_str())
                else {
                    continue;
                };
                self.push_tree(subject, reference, layout, child_type, child_digest, None)?;
            }
        } else {
            for blob in std::iter::once(&document["config"]).chain(document["layers"].as_array().into_iter().flatten())
            {
                if let Some(blob_digest) = blob["digest"].as_str() {
                    self.push_blob(subject, reference, layout, blob_digest)?;
                }
            }
        }
        self.put_manifest(subject, reference, tag.unwrap_or(digest), media_type, &bytes)
    }

    /// Pushes `repository:version`.
    pub fn stage(&mut self, image: &ImageRelease) -> Result<()> {
        let target = format!("{}:{}", image.repository, image.version);
        if self.http.is_none() {
            self.record(format!("push {target}"));
            return Ok(());
        }
        let reference = parse_reference(&image.repository);
        match &image.source {
            ImageSource::Layout(layout) => {
                let index_path = layout.join("index.json");
                let index: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&index_path).map_err(|source| Error::ReadFile {
                        path: index_path.clone(),
                        source,
                    })?)
                    .map_err(|e| Error::Failed(format!("{}: {e}", index_path.display())))?;
                let top = &index["manifests"][0];
                let (Some(media_type), Some(digest)) = (top["mediaType"].as_str(), top["digest"].as_str()) else {
                    return Err(Error::Failed(format!("{} lists no manifest", index_path.display())));
                };
                // A re-run finds the version there already: nothing to send. Another image under
                // the same version is refused, as npm refuses a version with other content.
                match self.read_tag(&image.repository, &image.version)? {
                    Some(theirs) if theirs == digest => {
                        self.record(format!("{target} is already on the registry ({digest})"));
                        return Ok(());
                    }
                    Some(theirs) => {
                        return Err(Error::Failed(format!(
                            "{target} is already on the registry as {theirs}, not {digest}; a released version's image does not change — release another version"
                        )));
                    }
                    None => {}
                }
                self.push_tree(
                    &format!("{}:{}", image.repository, image.version),
                    &reference,
                    layout,
                    media_type,
                    digest,
                    Some(&image.version),
                )?;
                self.record(format!("pushed {target} ({digest})"));
            }
            ImageSource::Daemon => {
                crate::build::docker::push(
                    self.docker_host.as_deref(),
                    &image.repository,
                    &image.version,
                    self.credentials.for_host(&reference.host),
                    &reference.host,
                )?;
                self.record(format!("pushed {target} from the Docker daemon"));
            }
        }
        Ok(())
    }

    /// The manifest bytes, media type and digest a tag points at, if it exists.
    fn manifest(&self, subject: &str, reference: &Reference, tag: &str) -> Result<Option<(Vec<u8>, String, String)>> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.base(reference), reference.path);
        match self.send(Method::GET, &url, reference, true, &|r| {
            r.header("accept", MANIFEST_TYPES)
        }) {
            Ok(response) => {
                let media = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let digest = response
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let bytes = crate::http::read_body(response, MAX_MANIFEST)
                    .map_err(|e| Self::failed(subject, &format!("reading the tag {tag}"), e))?;
                let digest = digest.unwrap_or_else(|| {
                    format!(
                        "sha256:{}",
                        crate::build::checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes))
                    )
                });
                Ok(Some((bytes, media, digest)))
            }
            Err(HttpError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(Self::failed(subject, &format!("reading the tag {tag}"), e)),
        }
    }

    /// The digest a tag points at, if it exists.
    pub fn read_tag(&self, repository: &str, tag: &str) -> Result<Option<String>> {
        let reference = parse_reference(repository);
        Ok(self
            .manifest(&format!("{repository}:{tag}"), &reference, tag)?
            .map(|(_, _, digest)| digest))
    }

    /// Points `tag` at the manifest `digest` (which must be in the repository) by PUTting its
    /// exact bytes under the tag.
    pub fn write_tag(&self, repository: &str, tag: &str, digest: &str) -> Result<()> {
        let reference = parse_reference(repository);
        let subject = format!("{repository}:{tag}");
        let (bytes, media, _) = self.manifest(&subject, &reference, digest)?.ok_or_else(|| {
            Error::Failed(format!(
                "{repository}@{digest} is not in the registry; {subject} cannot point at it"
            ))
        })?;
        self.put_manifest(&subject, &reference, tag, &media, &bytes)
    }

    /// Deletes the tag alone (`DELETE /v2/<name>/manifests/<tag>`, distribution spec 1.1); the
    /// manifest and its other tags stay. `Ok(false)` when the registry does not delete tags (it
    /// answers 400, 405 or "unsupported", as the spec allows).
    pub fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool> {
        let reference = parse_reference(repository);
        let url = format!("{}/v2/{}/manifests/{tag}", self.base(&reference), reference.path);
        match self.send(Method::DELETE, &url, &reference, true, &|r| r) {
            Ok(_) => Ok(true),
            Err(HttpError::Status {
                status: 400 | 405 | 501,
                ..
            }) => Ok(false),
            Err(HttpError::Status { status: 404, .. }) => Ok(true),
            Err(e) => Err(Self::failed(&format!("{repository}:{tag}"), "deleting the tag", e)),
        }
    }

    /// What was done.
    pub fn steps(&self) -> &[StepRecord] {
        &self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_schemes() {
        assert_eq!(
            parse_reference("ghcr.io/Acme/Widget"),
            Reference {
                host: "ghcr.io".into(),
                path: "acme/widget".into()
            }
        );
        assert_eq!(
            parse_reference("127.0.0.1:5000/w"),
            Reference {
                host: "127.0.0.1:5000".into(),
                path: "w".into()
            }
        );
        assert_eq!(parse_reference("nginx").path, "library/nginx");
        for (image, host, path) in [
            ("nginx", DOCKER_HUB, "library/nginx"),
            ("acme/x", DOCKER_HUB, "acme/x"),
            ("docker.io/acme/x", DOCKER_HUB, "acme/x"),
            ("docker.io/nginx", DOCKER_HUB, "library/nginx"),
            ("index.docker.io/acme/x", DOCKER_HUB, "acme/x"),
            ("localhost/x", "localhost", "x"),
            ("localhost:5000/a/b", "localhost:5000", "a/b"),
            ("GHCR.io/Acme/X", "ghcr.io", "acme/x"),
        ] {
            assert_eq!(
                parse_reference(image),
                Reference {
                    host: host.into(),
                    path: path.into()
                },
                "{image}"
            );
        }
        assert!(plain_http("127.0.0.1:5000", &[]) && plain_http("localhost:5000", &[]));
        assert!(!plain_http("ghcr.io", &[]) && plain_http("registry.lan:5000", &["registry.lan:5000".into()]));
    }

    #[test]
    fn credentials_belong_to_one_registry() {
        let given = Credentials {
            username: Some("ci".into()),
            password: Secret::new("pw"),
            registry: None,
        };
        let scoped = given
            .clone()
            .scoped(None, &["ghcr.io/acme/a", "ghcr.io/acme/b"])
            .unwrap();
        assert!(scoped.for_host("ghcr.io").is_some() && scoped.for_host("registry-1.docker.io").is_none());
        let err = given.clone().scoped(None, &["ghcr.io/acme/a", "acme/b"]).unwrap_err();
        assert!(err.to_string().contains("[image] registry"), "{err}");
        let hub = given
            .clone()
            .scoped(Some("docker.io"), &["ghcr.io/acme/a", "acme/b"])
            .unwrap();
        assert!(hub.for_host("registry-1.docker.io").is_some() && hub.for_host("ghcr.io").is_none());
        assert!(Credentials::default().scoped(None, &["ghcr.io/a", "b"]).is_ok());
        assert_eq!(url_host("http://127.0.0.1:5000/v2/x"), "127.0.0.1:5000");
    }

    #[test]
    fn bearer_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        let Some(Challenge::Bearer { realm, service, scope }) = c else {
            panic!("a Bearer challenge");
        };
        assert_eq!(realm, "https://auth.docker.io/token");
        assert_eq!(service.as_deref(), Some("registry.docker.io"));
        assert_eq!(scope.as_deref(), Some("repository:samalba/my-app:pull,push"));
        assert!(matches!(parse_challenge("Basic realm=\"x\""), Some(Challenge::Basic)));
        assert!(parse_challenge("Negotiate").is_none());
    }
}
