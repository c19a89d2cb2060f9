//! Why this exists: npm packages are published with the registry protocol itself (one PUT with the
//! base64 tarball), so the container image needs no npm CLI. Staging publishes each version under
//! a staging dist-tag that `npm install name` does not follow; the flip moves the channel tag
//! (`latest`, or the prerelease channel — a prerelease never moves `latest`) after recording its
//! old value. A version already on the registry with the same integrity is skipped; with other
//! content it stops the release before any pointer moves.

use std::io::Read;
use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};
use sha1::Digest as _;

use crate::build::npm_pack::base64;
use crate::error::{Error, Result};
use crate::http::{Http, HttpError};
use crate::secret::Secret;
use crate::targets::StepRecord;

/// The dist-tag a staged version carries until the flip.
pub const STAGING_TAG: &str = "tamma-staging";
/// The registry used when neither `[npm] registry` nor `publishConfig.registry` says otherwise.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";

/// One package to publish.
#[derive(Debug, Clone)]
pub struct NpmPackage {
    /// The package name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The tarball in dist/.
    pub tarball: PathBuf,
    /// The registry base URL.
    pub registry: String,
    /// `publishConfig.access`.
    pub access: Option<String>,
    /// The channel dist-tag the flip moves.
    pub channel: String,
    /// Its dependencies as published (workspace ranges rewritten), for the install check.
    pub dependencies: Vec<crate::workspaces::PublishedDependency>,
}

/// The most of a registry answer that is read: a long-lived package's full document (every
/// version's manifest) can be tens of MiB on npmjs.com.
const MAX_PACKUMENT: u64 = 64 << 20;

/// `@scope/name` → `@scope%2fname`.
pub fn escape_name(name: &str) -> String {
    name.replacen('/', "%2f", 1)
}

/// The npm target.
pub struct NpmTarget {
    http: Option<Http>,
    token: Option<Secret>,
    /// Trusted publishing: a short-lived token per package, good only to publish it.
    trusted: Option<std::collections::BTreeMap<String, Secret>>,
    /// With trusted publishing, the packages staged to be published at flip: name → package.
    pending: std::collections::BTreeMap<String, NpmPackage>,
    steps: Vec<StepRecord>,
}

fn registry_error(package: &NpmPackage, what: &str, error: HttpError) -> Error {
    tag_error(&package.registry, &package.name, &package.version, what, error)
}

fn tag_error(registry: &str, name: &str, version_or_tag: &str, what: &str, error: HttpError) -> Error {
    let at = format!("npm {what} {name}@{version_or_tag} on {registry}");
    match &error {
        HttpError::Status { status: 401, .. } => Error::input(
            "npm-token",
            format!("{at}: the registry rejected the token (401); give input npm-token (NPM_TOKEN locally)"),
        ),
        HttpError::Status { status: 403, body } => Error::input(
            "npm-token",
            format!(
                "{at}: the token may not publish this package (403): {}",
                body.chars().take(200).collect::<String>()
            ),
        ),
        HttpError::Status { status: 409, .. } => {
            Error::Failed(format!("{at}: the registry has a conflicting version (409)"))
        }
        other => Error::Failed(format!("{at}: {other}")),
    }
}

impl NpmTarget {
    /// A target; `http` is `None` in a dry run (nothing is sent at all).
    pub fn new(http: Option<Http>, token: Option<Secret>) -> NpmTarget {
        NpmTarget {
            http,
            token,
            trusted: None,
            pending: Default::default(),
            steps: Vec::new(),
        }
    }

    /// Publishes with trusted-publishing tokens (package name → token) instead of an npm token.
    /// npm lets such a token publish and nothing else, so each version is published at flip time,
    /// straight under its channel tag (the publish is the pointer move), and no dist-tag is moved
    /// or removed by itself.
    pub fn with_trusted_publishing(mut self, tokens: std::collections::BTreeMap<String, Secret>) -> NpmTarget {
        self.trusted = Some(tokens);
        self
    }

    /// The token a request for `package` carries: the npm token; with trusted publishing, the
    /// package's token for a publish and none for a read (public packages read anonymously).
    fn token_for(&self, package: &str, publish: bool) -> Option<&Secret> {
        match &self.trusted {
            Some(tokens) if publish => tokens.get(package),
            Some(_) => None,
            None => self.token.as_ref(),
        }
    }

    /// Whether packages are published with trusted-publishing tokens.
    pub fn trusted(&self) -> bool {
        self.trusted.is_some()
    }

    /// Refuses what a trusted-publishing token cannot do.
    fn needs_npm_token(&self, what: &str) -> Result<()> {
        if self.trusted.is_some() {
            return Err(Error::input(
                "npm-token",
                format!(
                    "{what} needs an npm token: npm lets a trusted-publishing token publish and nothing else; give input npm-token"
                ),
            ));
        }
        Ok(())
    }

    fn record(&mut self, action: String) {
        tracing::info!("{action}");
        self.steps.push(StepRecord {
            target: "npm".into(),
            action,
            dry_run: self.http.is_none(),
        });
    }

    fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
        token: Option<&Secret>,
    ) -> std::result::Result<Option<Value>, HttpError> {
        let http = self.http.as_ref().expect("only called outside dry runs");
        let build = || {
            let mut request = http
                .client()
                .request(method.clone(), url)
                .header("accept", "application/json");
            if let Some(token) = token {
                request = request.bearer_auth(token.expose());
            }
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        match http.send(method.clone(), idempotent, &build) {
            Ok(response) => {
                let bytes = crate::http::read_body(response, MAX_PACKUMENT)?;
                Ok(Some(serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
            }
            Err(HttpError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The packed package.json, the integrity and the sha1 of a tarball.
    fn read_tarball(package: &NpmPackage) -> Result<(Value, Vec<u8>, String, String)> {
        let bytes = std::fs::read(&package.tarball).map_err(|source| Error::ReadFile {
            path: package.tarball.clone(),
            source,
        })?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut manifest = None;
        for entry in archive.entries().map_err(|source| Error::ReadFile {
            path: package.tarball.clone(),
            source,
        })? {
            let mut entry = entry.map_err(|source| Error::ReadFile {
                path: package.tarball.clone(),
                source,
            })?;
            if entry
                .path()
                .is_ok_and(|p| p.to_string_lossy() == "package/package.json")
            {
                let mut text = String::new();
                entry.read_to_string(&mut text).map_err(|source| Error::ReadFile {
                    path: package.tarball.clone(),
                    source,
                })?;
                manifest = serde_json::from_str::<Value>(&text).ok();
            }
        }
        let manifest = manifest
            .ok_or_else(|| Error::Failed(format!("{} holds no package/package.json", package.tarball.display())))?;
        let integrity = format!("sha512-{}", base64(&<sha2::Sha512 as sha2::Digest>::digest(&bytes)));
        let shasum = crate::build::checksum::hex(&sha1::Sha1::digest(&bytes));
        Ok((manifest, bytes, integrity, shasum))
    }

    /// Publishes the version under the staging tag, unless the registry has it already.
    pub fn stage(&mut self, package: &NpmPackage) -> Result<()> {
        if self.http.is_none() {
            let action = match self.trusted {
                Some(_) => format!(
                    "publish {}@{} to {} with trusted publishing (OIDC), under {} when the pointers move",
                    package.name, package.version, package.registry, package.channel
                ),
                None => format!(
                    "publish {}@{} to {} under the dist-tag {STAGING_TAG}",
                    package.name, package.version, package.registry
                ),
            };
            self.record(action);
            return Ok(());
        }
        let (_, _, integrity, _) = Self::read_tarball(package)?;
        let url = format!(
            "{}/{}",
            package.registry.trim_end_matches('/'),
            escape_name(&package.name)
        );
        let packument = self
            .send(Method::GET, &url, None, true, self.token_for(&package.name, false))
            .map_err(|e| registry_error(package, "reading", e))?;
        if let Some(existing) = packument
            .as_ref()
            .and_then(|p| p.get("versions"))
            .and_then(|v| v.get(&package.version))
        {
            let theirs = existing["dist"]["integrity"].as_str().unwrap_or_default();
            if theirs == integrity {
                self.record(format!(
                    "{}@{} is already on {} with the same content",
                    package.name, package.version, package.registry
                ));
                return Ok(());
            }
            return Err(Error::Failed(format!(
                "{}@{} is already on {} with other content ({theirs}, ours {integrity}); a published version cannot change — release another version",
                package.name, package.version, package.registry
            )));
        }
        if self.trusted.is_some() {
            self.pending.insert(package.name.clone(), package.clone());
            self.record(format!(
                "checked {}@{} for {}; with trusted publishing it is published under {} when the pointers move (npm lets the token publish, not move tags)",
                package.name, package.version, package.registry, package.channel
            ));
            return Ok(());
        }
        self.publish(package, STAGING_TAG)?;
        self.record(format!(
            "published {}@{} to {} under the dist-tag {STAGING_TAG}",
            package.name, package.version, package.registry
        ));
        Ok(())
    }

    /// One PUT of the version with the tarball, under `dist_tag` (npm's publish protocol).
    fn publish(&self, package: &NpmPackage, dist_tag: &str) -> Result<()> {
        let (mut manifest, bytes, integrity, shasum) = Self::read_tarball(package)?;
        let url = format!(
            "{}/{}",
            package.registry.trim_end_matches('/'),
            escape_name(&package.name)
        );
        let file = format!(
            "{}-{}.tgz",
            package.name.rsplit('/').next().unwrap_or(&package.name),
            package.version
        );
        let tarball_url = format!("{}/{}/-/{file}", package.registry.trim_end_matches('/'), package.name);
        manifest["_id"] = json!(format!("{}@{}", package.name, package.version));
        manifest["version"] = json!(package.version);
        manifest["dist"] = json!({"integrity": integrity, "shasum": shasum, "tarball": tarball_url});
        let document = json!({
            "_id": package.name,
            "name": package.name,
            "description": manifest.get("description").cloned().unwrap_or(Value::Null),
            "dist-tags": {dist_tag: package.version},
            "versions": {package.version.clone(): manifest},
            "access": package.access,
            "_attachments": {file: {"content_type": "application/octet-stream", "data": base64(&bytes), "length": bytes.len()}},
        });
        self.send(
            Method::PUT,
            &url,
            Some(&document),
            false,
            self.token_for(&package.name, true),
        )
        .map_err(|e| registry_error(package, "publishing", e))?;
        Ok(())
    }

    fn tags_url(registry: &str, package: &str) -> String {
        format!(
            "{}/-/package/{}/dist-tags",
            registry.trim_end_matches('/'),
            escape_name(package)
        )
    }

    /// Every version of `package` on `registry` (none when it is not there).
    pub fn versions(&self, registry: &str, package: &str) -> Result<Vec<String>> {
        let url = format!("{}/{}", registry.trim_end_matches('/'), escape_name(package));
        let packument = self
            .send(Method::GET, &url, None, true, self.token_for(package, false))
            .map_err(|e| tag_error(registry, package, "*", "reading", e))?;
        Ok(packument
            .as_ref()
            .and_then(|p| p["versions"].as_object())
            .map(|versions| versions.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Whether this target sends requests (false in a dry run).
    pub fn online(&self) -> bool {
        self.http.is_some()
    }

    /// The version a dist-tag points at, if the tag exists.
    pub fn read_tag(&self, registry: &str, package: &str, tag: &str) -> Result<Option<String>> {
        let tags = self
            .send(
                Method::GET,
                &Self::tags_url(registry, package),
                None,
                true,
                self.token_for(package, false),
            )
            .map_err(|e| tag_error(registry, package, tag, "reading", e))?;
        Ok(tags
            .as_ref()
            .and_then(|t| t.get(tag))
            .and_then(|v| v.as_str())
            .map(str::to_string))
    }

    /// Removes the staging dist-tag once the channel tag points at the version (a registry may
    /// have set `latest` by itself on a first publish, so this does not depend on a flip).
    pub fn drop_staging_tag(&mut self, package: &NpmPackage) -> Result<()> {
        if self.trusted.is_some() {
            return Ok(());
        }
        if self.read_tag(&package.registry, &package.name, STAGING_TAG)?.is_some() {
            let url = format!("{}/{STAGING_TAG}", Self::tags_url(&package.registry, &package.name));
            self.send(Method::DELETE, &url, None, true, self.token.as_ref())
                .map_err(|e| registry_error(package, "untagging", e))?;
            self.record(format!("removed the dist-tag {STAGING_TAG} of {}", package.name));
        }
        Ok(())
    }

    /// Points a dist-tag at `version`, or removes it (`None`). With trusted publishing the one way
    /// to point a tag is to publish the pending version under it.
    pub fn write_tag(&self, registry: &str, package: &str, tag: &str, version: Option<&str>) -> Result<()> {
        if self.trusted.is_some() {
            let pending = self
                .pending
                .get(package)
                .filter(|p| Some(p.version.as_str()) == version && p.channel == tag && p.registry == registry);
            let published = match (pending, version) {
                (Some(_), Some(version)) => self.versions(registry, package)?.iter().any(|v| v == version),
                _ => true,
            };
            return match pending {
                Some(pending) if !published => self.publish(pending, tag),
                _ => self.needs_npm_token(&format!("moving {package}@{tag} to {}", version.unwrap_or("nothing"))),
            };
        }
        let url = format!(
            "{}/{}",
            Self::tags_url(registry, package),
            crate::targets::github::client::encode_query(tag)
        );
        match version {
            Some(version) => {
                self.send(Method::PUT, &url, Some(&json!(version)), true, self.token.as_ref())
                    .map_err(|e| tag_error(registry, package, tag, "moving", e))?;
            }
            None => {
                self.send(Method::DELETE, &url, None, true, self.token.as_ref())
                    .map_err(|e| tag_error(registry, package, tag, "removing", e))?;
            }
        }
        Ok(())
    }

    /// The deprecation message of `package@version`, if it has one.
    pub fn deprecation(&self, registry: &str, package: &str, version: &str) -> Result<Option<String>> {
        let url = format!("{}/{}", registry.trim_end_matches('/'), escape_name(package));
        let packument = self
            .send(Method::GET, &url, None, true, self.token_for(package, false))
            .map_err(|e| tag_error(registry, package, version, "reading", e))?;
        Ok(packument
            .as_ref()
            .and_then(|p| p["versions"][version]["deprecated"].as_str())
            .map(str::to_string))
    }

    /// Marks `package@version` deprecated with `message` (what `npm deprecate` sends: the whole
    /// packument back with the field set). Returns false when it already carries that message.
    pub fn deprecate(&self, registry: &str, package: &str, version: &str, message: &str) -> Result<bool> {
        let url = format!("{}/{}", registry.trim_end_matches('/'), escape_name(package));
        self.needs_npm_token(&format!("deprecating {package}@{version}"))?;
        let fail = |e| tag_error(registry, package, version, "deprecating", e);
        let Some(mut packument) = self
            .send(Method::GET, &url, None, true, self.token.as_ref())
            .map_err(fail)?
        else {
            return Err(Error::Failed(format!(
                "{package} is not on {registry}; nothing to deprecate"
            )));
        };
        let Some(entry) = packument
            .get_mut("versions")
            .and_then(|v| v.get_mut(version))
            .filter(|e| e.is_object())
        else {
            return Err(Error::Failed(format!(
                "{package}@{version} is not on {registry}; nothing to deprecate"
            )));
        };
        if entry["deprecated"].as_str() == Some(message) {
            return Ok(false);
        }
        entry["deprecated"] = json!(message);
        let rev = packument["_rev"].as_str().map(str::to_string);
        let url = match rev {
            Some(rev) => format!("{url}/-rev/{rev}"),
            None => url,
        };
        self.send(Method::PUT, &url, Some(&packument), false, self.token.as_ref())
            .map_err(|e| tag_error(registry, package, version, "deprecating", e))?;
        Ok(true)
    }

    /// What was done.
    pub fn steps(&self) -> &[StepRecord] {
        &self.steps
    }
}
