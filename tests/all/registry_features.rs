//! Registries as they are in 2026 (issue 17): image version-line tags, Docker Hub names, Bearer
//! tokens per repository scope and npm trusted publishing (signed checksums: `signing.rs`).

use std::process::Output;

use crate::support::github::FakeGitHub;
use crate::support::registries::Registry;
use crate::support::{TestRepo, text};

fn release(repo: &TestRepo, fake: &FakeGitHub, args: &[&str]) -> Output {
    fake.release(repo.path(), args).output().unwrap()
}

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", text(out).1);
}

/// Releases `version` and fetches its tag, as the next run's `fetch-depth: 0` checkout would.
fn release_and_tag(repo: &TestRepo, fake: &FakeGitHub, version: &str) {
    ok(&release(repo, fake, &["--version", version]));
    repo.git(&["tag", &format!("v{version}")]);
}

/// A new image layout in `repo`, committed with `message`; returns its digest.
fn new_image(repo: &TestRepo, content: &str, message: &str) -> String {
    let _ = std::fs::remove_dir_all(repo.path().join("image"));
    let digest =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "app.txt", content.as_bytes())
            .unwrap();
    repo.commit("history.txt", message);
    digest
}

#[test]
fn version_line_tags_follow_the_highest_stable_release_of_their_line() {
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[image]\ntags = [\"{{version}}\", \"{{major}}\", \"{{major}}.{{minor}}\"]\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/app\"\noci-layout = \"image\"\n",
            registry.host
        ),
    );
    let digest = |tag: &str| registry.digest("acme/app", tag);
    let d130 = new_image(&repo, "1.3.0", "feat: 1.3");
    release_and_tag(&repo, &fake, "1.3.0");
    assert_eq!((digest("1"), digest("1.3")), (Some(d130.clone()), Some(d130.clone())));
    let maintenance = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let d140 = new_image(&repo, "1.4.0", "feat: 1.4");
    release_and_tag(&repo, &fake, "1.4.0");
    assert_eq!(
        (digest("1"), digest("1.4"), digest("1.3")),
        (Some(d140.clone()), Some(d140.clone()), Some(d130.clone()))
    );
    // A prerelease moves no version-line tag.
    let rc = new_image(&repo, "1.5.0-rc.0", "feat: 1.5 preview");
    release_and_tag(&repo, &fake, "1.5.0-rc.0");
    assert_eq!(
        (digest("1"), digest("1.5"), digest("rc")),
        (Some(d140.clone()), None, Some(rc))
    );
    // A maintenance release of 1.3 after 1.4.0 moves 1.3, not 1.
    repo.git(&["checkout", "-q", "-b", "maintenance-1.3", &maintenance]);
    let d139 = new_image(&repo, "1.3.9", "fix: a backport");
    release_and_tag(&repo, &fake, "1.3.9");
    assert_eq!((digest("1"), digest("1.3")), (Some(d140.clone()), Some(d139.clone())));
    // Rolling 1.4.0 back puts its tags back: `1` to 1.3.0's image, and `1.4` — which did not
    // exist before and cannot be deleted alone on this registry — to the release users get again.
    let rollback = crate::support::tamma(&["rollback", "--version", "1.4.0"])
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", crate::support::github::REPO)
        .env("GITHUB_TOKEN", crate::support::github::TOKEN)
        .output()
        .unwrap();
    ok(&rollback);
    assert_eq!(digest("1"), Some(d130.clone()), "{}", text(&rollback).1);
    assert_eq!(digest("1.4"), Some(d130), "{}", text(&rollback).1);
    assert_eq!(digest("1.4.0"), Some(d140), "versions stay");
}

#[test]
fn major_zero_moves_only_the_minor_line() {
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[image]\ntags = [\"{{version}}\", \"v{{major}}\", \"v{{major}}.{{minor}}\"]\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/app\"\noci-layout = \"image\"\n",
            registry.host
        ),
    );
    let d = new_image(&repo, "0.4.0", "feat: zero");
    ok(&release(&repo, &fake, &["--version", "0.4.0"]));
    assert_eq!(registry.digest("acme/app", "v0.4"), Some(d));
    assert_eq!(registry.digest("acme/app", "v0"), None, "0.x moves no {{major}} tag");
    // A template without {major}, or without {version} in the list, is refused when read.
    for bad in [
        "[\"{version}\", \"stable\"]",
        "[\"{major}\"]",
        "[\"{version}\", \"v{major}+x\"]",
    ] {
        repo.write(".github/tamma-release.toml", &format!("[image]\ntags = {bad}\n"));
        let out = crate::support::tamma(&["plan", "--version", "0.5.0"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out).1);
        assert!(
            text(&out).1.contains(".github/tamma-release.toml:2:1: image.tags"),
            "{}",
            text(&out).1
        );
    }
}

/// A registry whose token service issues one token per repository scope, and whose repositories
/// accept only their own token — as Docker Hub and ghcr.io do.
struct PerRepositoryRegistry {
    uri: String,
    tagged: std::sync::Mutex<std::collections::BTreeSet<String>>,
    manifest: Vec<u8>,
    seen: std::sync::Mutex<Vec<(String, String)>>,
}

/// The registry as wiremock serves it (shared with the test, which reads what it saw).
struct Serve(std::sync::Arc<PerRepositoryRegistry>);

impl wiremock::Respond for Serve {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        use wiremock::ResponseTemplate;
        let this = &self.0;
        let path = request.url.path().to_string();
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        this.seen.lock().unwrap().push((path.clone(), auth.clone()));
        if path == "/token" {
            let scope = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let repository = scope.split(':').nth(1).unwrap_or_default().to_string();
            return ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "token": format!("token-for-{repository}") }));
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return ResponseTemplate::new(404);
        };
        let repository = ["acme/a", "acme/b"]
            .into_iter()
            .find(|r| rest.starts_with(&format!("{r}/")))
            .unwrap_or("x");
        if auth != format!("Bearer token-for-{repository}") {
            let challenge = format!(
                r#"Bearer realm="{}/token",service="test",scope="repository:{repository}:pull,push""#,
                this.uri
            );
            return ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str());
        }
        if rest.contains("/blobs/") {
            return ResponseTemplate::new(200);
        }
        let name = format!("{repository}:{}", path.rsplit('/').next().unwrap_or_default());
        let mut tagged = this.tagged.lock().unwrap();
        match request.method.as_str() {
            "PUT" => {
                tagged.insert(name);
                ResponseTemplate::new(201)
            }
            _ if !tagged.contains(&name) && !name.contains("sha256:") => ResponseTemplate::new(404),
            _ => ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .set_body_bytes(this.manifest.clone()),
        }
    }
}

#[test]
fn each_repository_gets_the_token_issued_for_its_scope() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    let digest = tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "app.txt", b"app\n").unwrap();
    let manifest = std::fs::read(
        repo.path()
            .join("image/blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    let http = crate::support::mock::MockHttp::start();
    let registry = std::sync::Arc::new(PerRepositoryRegistry {
        uri: http.uri(),
        tagged: Default::default(),
        manifest,
        seen: Default::default(),
    });
    http.mount(wiremock::Mock::given(wiremock::matchers::any()).respond_with(Serve(registry.clone())));
    let host = http.uri().trim_start_matches("http://").to_string();
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"image\"\nname = \"a\"\nimage = \"{host}/acme/a\"\noci-layout = \"image\"\n\n[[artifact]]\nkind = \"image\"\nname = \"b\"\nimage = \"{host}/acme/b\"\noci-layout = \"image\"\n"
        ),
    );
    repo.commit("x", "feat: two images");
    let fake = FakeGitHub::start();
    ok(&release(&repo, &fake, &["--version", "1.0.0"]));
    let seen = registry.seen.lock().unwrap().clone();
    for (path, auth) in &seen {
        if let Some(rest) = path.strip_prefix("/v2/acme/") {
            let own = rest.split('/').next().unwrap_or_default();
            assert!(
                auth.is_empty() || *auth == format!("Bearer token-for-acme/{own}"),
                "{path} received {auth}"
            );
        }
    }
    assert!(
        seen.iter()
            .any(|(p, a)| p.starts_with("/v2/acme/a/") && a == "Bearer token-for-acme/a")
    );
    assert!(
        seen.iter()
            .any(|(p, a)| p.starts_with("/v2/acme/b/") && a == "Bearer token-for-acme/b")
    );
}

/// base64url without padding, as JWTs use it.
fn b64url(bytes: &[u8]) -> String {
    tamma_release::build::npm_pack::base64(bytes)
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_string()
}

/// The claims of a JWT (its middle part), unverified — as a test stand-in reads them.
fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let standard: String = payload.replace('-', "+").replace('_', "/");
    let padded = format!("{standard}{}", "=".repeat((4 - standard.len() % 4) % 4));
    let table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in padded.bytes().filter(|&b| b != b'=') {
        bits = (bits << 6) | table.find(c as char).unwrap_or(0) as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null)
}

/// The runner's OIDC endpoint: GET with `Authorization: Bearer <request token>` and an
/// `audience` query answers `{"value": <JWT>}` whose claims name the audience and the repository.
struct Issuer;

impl wiremock::Respond for Issuer {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if auth != "Bearer runner-request-token" {
            return wiremock::ResponseTemplate::new(401);
        }
        let audience = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "audience")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let claims = serde_json::json!({"aud": audience, "repository": "acme/widget", "iss": "https://token.actions.githubusercontent.com"});
        let jwt = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64url(br#"{"alg":"RS256"}"#),
            b64url(claims.to_string().as_bytes())
        );
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({ "value": jwt }))
    }
}

/// Verdaccio behind npm's token exchange: `POST /-/npm/v1/oidc/token/exchange/package/<name>`
/// checks the ID token's audience and repository and answers a Verdaccio token.
fn trusted_registry(
    verdaccio: &crate::support::registries::Verdaccio,
    audience: &'static str,
    repository: &'static str,
) -> crate::support::proxy::FaultProxy {
    let token = verdaccio.token.clone();
    crate::support::proxy::FaultProxy::start_with(
        &verdaccio.url,
        Some(Box::new(move |request: &wiremock::Request| {
            let path = request.url.path();
            if !path.starts_with("/-/npm/v1/oidc/token/exchange/package/") {
                return None;
            }
            let jwt = request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            let claims = jwt_claims(jwt);
            if request.method.as_str() != "POST" || claims["aud"] != audience || claims["repository"] != repository {
                return Some(
                    wiremock::ResponseTemplate::new(401)
                        .set_body_json(serde_json::json!({"message": "OIDC token exchange error - unauthorized"})),
                );
            }
            Some(wiremock::ResponseTemplate::new(201).set_body_json(
                serde_json::json!({"token_type": "oidc", "token": token, "expires": "2026-12-01T00:00:00Z"}),
            ))
        })),
    )
}

fn npm_package(repo: &TestRepo, registry: &str) {
    repo.write(".gitignore", "dist/\n");
    repo.write(
        "pkg/package.json",
        &format!("{{\"name\": \"@acme/trusted\", \"version\": \"0.0.0\", \"publishConfig\": {{\"registry\": \"{registry}\"}}}}\n"),
    );
    repo.write("pkg/index.js", "module.exports = 'trusted';\n");
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n",
    );
    repo.commit("a", "feat: trusted");
}

/// `release --version 1.0.0` as the release workflow of acme/widget runs it, with `env` added.
fn release_from_workflow(repo: &TestRepo, fake: &FakeGitHub, env: &[(&str, &str)]) -> Output {
    let mut cmd = fake.release(repo.path(), &["--version", "1.0.0"]);
    cmd.env(
        "GITHUB_WORKFLOW_REF",
        "acme/widget/.github/workflows/release.yml@refs/heads/main",
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn npm_trusted_publishing_exchanges_the_workflow_identity_per_package() {
    let verdaccio = crate::support::registries::Verdaccio::start();
    let issuer = crate::support::mock::MockHttp::start();
    issuer.mount(wiremock::Mock::given(wiremock::matchers::path("/id-token")).respond_with(Issuer));
    let fake = FakeGitHub::start();
    let id_token_url = format!("{}/id-token?api-version=2.0", issuer.uri());
    // The exchange expects the audience of this registry's host, and this repository.
    let proxy = trusted_registry(&verdaccio, "npm:127.0.0.1", "acme/widget");
    let repo = TestRepo::new();
    npm_package(&repo, &proxy.url());
    let action = |extra: &[(&str, &str)]| release_from_workflow(&repo, &fake, extra);
    let oidc: [(&str, &str); 2] = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", id_token_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token"),
    ];
    // No token and no OIDC identity: one clear message, nothing written.
    let out = action(&[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("grant the job `permissions: id-token: write`")
            && stderr.contains("repository acme/widget, workflow filename release.yml"),
        "{stderr}"
    );
    // With it, as the action runs: exchanged, masked at once, published under latest in one PUT,
    // installable.
    let mut env = oidc.to_vec();
    env.push((
        "GITHUB_WORKFLOW_REF",
        "acme/widget/.github/workflows/release.yml@refs/heads/main",
    ));
    let (out, _, _) = fake.action_with_env(
        repo.path(),
        "push",
        "refs/heads/main",
        &serde_json::json!({}),
        &[("version", "1.0.0"), ("npm-token", "")],
        &env,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("::add-mask::runner-request-token"), "{stdout}");
    let masked = format!("::add-mask::{}", verdaccio.token);
    assert!(stdout.contains(&masked), "the exchanged token is masked: {stdout}");
    let stdout = stdout.replace(&masked, "");
    let requests = issuer.requests();
    assert!(requests.iter().all(|r| {
        r.url
            .query_pairs()
            .any(|(k, v)| k == "audience" && v == "npm:127.0.0.1")
    }));
    let log = proxy.log();
    assert!(
        log.iter()
            .any(|(m, p)| m == "POST" && p == "/-/npm/v1/oidc/token/exchange/package/@acme%2ftrusted"),
        "{log:?}"
    );
    assert!(
        log.iter().all(|(m, p)| !(p.contains("/dist-tags") && m != "GET")),
        "a trusted-publishing token moves no dist-tag: {log:?}"
    );
    assert!(
        !stdout.contains(&verdaccio.token) && !stderr.contains(&verdaccio.token),
        "the token is never printed"
    );
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("package.json"),
        "{\"name\": \"user\", \"version\": \"1.0.0\"}",
    )
    .unwrap();
    let installed = verdaccio.npm(project.path(), &["install", "--no-audit", "--no-fund", "@acme/trusted"]);
    assert!(installed.status.success(), "{}", text(&installed).1);
    let tags = verdaccio.npm(project.path(), &["view", "@acme/trusted", "dist-tags", "--json"]);
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).unwrap();
    assert_eq!(tags["latest"], "1.0.0");
    assert!(tags.get("tamma-staging").is_none(), "{tags}");

    // A refused exchange (the trusted publisher names another repository), or the wrong
    // audience, is one message naming the package and what to configure; nothing is written.
    for (audience, repository) in [
        ("npm:127.0.0.1", "someone/else"),
        ("npm:registry.npmjs.org", "acme/widget"),
    ] {
        let proxy = trusted_registry(&verdaccio, audience, repository);
        let repo = TestRepo::new();
        npm_package(&repo, &proxy.url());
        let writes_before = fake.with(|s| s.writes());
        let out = release_from_workflow(&repo, &fake, &oidc);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{audience} {repository}: {stderr}");
        assert!(
            stderr.contains("refused to exchange this workflow's identity for a token to publish @acme/trusted (HTTP 401: OIDC token exchange error - unauthorized)")
                && stderr.contains("Trusted publishing → GitHub Actions: repository acme/widget, workflow filename release.yml"),
            "{stderr}"
        );
        assert_eq!(proxy.writes(), 0);
        assert_eq!(fake.with(|s| s.writes()), writes_before);
    }
}
