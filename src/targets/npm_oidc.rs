//! Why this exists: since December 2025 npm revokes classic tokens and recommends trusted
//! publishing: the workflow's OIDC identity is exchanged, per package, for a short-lived token
//! that may publish that package. This is the npm CLI's protocol (`lib/utils/oidc.js`): an ID
//! token from the runner (`ACTIONS_ID_TOKEN_REQUEST_URL` with `audience=npm:<registry host>`,
//! `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value"}`), then
//! `POST <registry>/-/npm/v1/oidc/token/exchange/package/<name>` with the ID token as bearer
//! (answer `{"token"}`). npm allows such a token only to publish — not to move dist-tags or
//! deprecate — so with it a version is published straight under its channel tag (see
//! [`crate::targets::npm`]). Every token is handed to the edge's masker before it is used.

use std::sync::Arc;

use reqwest::Method;

use crate::error::{Error, Result};
use crate::http::{Http, HttpError, MAX_JSON, read_body};
use crate::secret::Secret;

/// Hides a secret the library obtained (in Actions: `::add-mask::`) before anything could print
/// it. The library prints nothing itself: the edge supplies this.
#[derive(Clone, Default)]
pub struct Masker(Option<MaskFn>);

/// What the edge does with a secret to hide it.
type MaskFn = Arc<dyn Fn(&str) + Send + Sync>;

impl Masker {
    /// A masker calling `f`.
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Masker {
        Masker(Some(Arc::new(f)))
    }

    /// Masks `secret`.
    pub fn mask(&self, secret: &Secret) {
        if let Some(f) = &self.0 {
            f(secret.expose());
        }
    }
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Masker(edge)"
        } else {
            "Masker(none)"
        })
    }
}

impl PartialEq for Masker {
    fn eq(&self, other: &Masker) -> bool {
        self.0.is_some() == other.0.is_some()
    }
}

impl Eq for Masker {}

/// Where the runner hands out the job's OIDC token (present when the job has
/// `permissions: id-token: write`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSource {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub token: Secret,
}

/// The audience npm expects for `registry`: `npm:` and the registry's host name, without port.
pub fn audience(registry: &str) -> String {
    let host = reqwest::Url::parse(registry)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    format!("npm:{host}")
}

/// What to configure on npmjs.com for `package`, from the workflow that runs (`workflow_ref` is
/// `GITHUB_WORKFLOW_REF`: `owner/repo/.github/workflows/release.yml@refs/...`).
pub fn publisher_hint(package: &str, repository: Option<&str>, workflow_ref: Option<&str>) -> String {
    let workflow = workflow_ref
        .and_then(|w| w.split('@').next())
        .and_then(|path| path.rsplit('/').next())
        .unwrap_or("<your workflow file>.yml");
    let repository = repository.unwrap_or("<owner>/<repository>");
    format!(
        "on npmjs.com, {package} → Settings → Trusted publishing → GitHub Actions: repository {repository}, workflow filename {workflow} (the job needs `permissions: id-token: write`)"
    )
}

/// The job's ID token for `audience`, from the runner.
pub fn id_token(http: &Http, source: &OidcSource, audience: &str, masker: &Masker) -> Result<Secret> {
    let mut url = reqwest::Url::parse(&source.url).map_err(|e| {
        Error::input(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("the runner's OIDC token URL is not a URL ({e})"),
        )
    })?;
    url.query_pairs_mut().append_pair("audience", audience);
    let build = || {
        http.client()
            .get(url.clone())
            .header("accept", "application/json")
            .bearer_auth(source.token.expose())
    };
    let refused = |e: HttpError| {
        Error::input(
            "id-token",
            format!(
                "the runner gave no OIDC token for {audience} ({e}); give the job `permissions: id-token: write`, or give input npm-token"
            ),
        )
    };
    let response = http.send(Method::GET, true, &build).map_err(refused)?;
    let bytes = read_body(response, MAX_JSON).map_err(refused)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| refused(HttpError::Unexpected(format!("not JSON: {e}"))))?;
    let token = value["value"]
        .as_str()
        .and_then(Secret::new)
        .ok_or_else(|| refused(HttpError::Unexpected("the answer has no value".into())))?;
    masker.mask(&token);
    Ok(token)
}

/// Exchanges `id_token` at `registry` for a token that may publish `package`.
pub fn exchange(
    http: &Http,
    registry: &str,
    package: &str,
    id_token: &Secret,
    masker: &Masker,
    hint: &str,
) -> Result<Secret> {
    let base = reqwest::Url::parse(registry)
        .map_err(|e| Error::input("npm registry", format!("{registry:?} is not a URL ({e})")))?;
    let url = base
        .join(&format!(
            "/-/npm/v1/oidc/token/exchange/package/{}",
            crate::targets::npm::escape_name(package)
        ))
        .map_err(|e| Error::input("npm registry", e.to_string()))?;
    let build = || {
        http.client()
            .post(url.clone())
            .header("accept", "application/json")
            .bearer_auth(id_token.expose())
    };
    let refused = |why: String| {
        Error::input(
            "npm trusted publishing",
            format!(
                "{registry} refused to exchange this workflow's identity for a token to publish {package} ({why}); {hint}"
            ),
        )
    };
    let response = match http.send(Method::POST, false, &build) {
        Ok(response) => response,
        Err(HttpError::Status { status, body }) => {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| body.chars().take(200).collect());
            return Err(refused(format!("HTTP {status}: {message}")));
        }
        Err(e) => {
            return Err(Error::Failed(format!(
                "exchanging the OIDC token for {package} at {registry}: {e}"
            )));
        }
    };
    let bytes = read_body(response, MAX_JSON).map_err(|e| refused(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| refused(format!("not JSON: {e}")))?;
    let token = value["token"]
        .as_str()
        .and_then(Secret::new)
        .ok_or_else(|| refused("the answer has no token".into()))?;
    masker.mask(&token);
    Ok(token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn audiences_and_hints() {
        assert_eq!(super::audience("https://registry.npmjs.org/"), "npm:registry.npmjs.org");
        assert_eq!(super::audience("http://127.0.0.1:4873/npm/"), "npm:127.0.0.1");
        let hint = super::publisher_hint(
            "@acme/cli",
            Some("acme/widget"),
            Some("acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0"),
        );
        assert!(
            hint.contains("repository acme/widget, workflow filename release.yml"),
            "{hint}"
        );
    }
}
