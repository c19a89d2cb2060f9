//! npm packages and container images, staged then flipped, against real registries started on
//! loopback ports; checked afterwards with the real npm client and the registry API.

use std::process::Output;

use crate::support::docker::Daemon;
use crate::support::github::FakeGitHub;
use crate::support::mock::MockHttp;
use crate::support::registries::{Registry, Verdaccio};
use crate::support::{TestRepo, text};

fn release(repo: &TestRepo, fake: &FakeGitHub, npm_token: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let mut cmd = fake.release(repo.path(), &all);
    cmd.env("NPM_TOKEN", npm_token);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) -> serde_json::Value {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn monorepo(registry: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "packages/shared/package.json",
        "{\n  \"name\": \"@acme/shared\",\n  \"version\": \"0.0.0\",\n  \"main\": \"index.js\"\n}\n",
    );
    repo.write("packages/shared/index.js", "module.exports = 'shared';\n");
    repo.write(
        "packages/cli/package.json",
        "{\n  \"name\": \"@acme/cli\",\n  \"version\": \"0.0.0\",\n  \"main\": \"index.js\",\n  \"dependencies\": { \"@acme/shared\": \"^0.0.0\" }\n}\n",
    );
    repo.write("packages/cli/index.js", "require('@acme/shared');\n");
    repo.write("package.json", "{\n  \"name\": \"acme\",\n  \"private\": true,\n  \"version\": \"0.0.0\",\n  \"workspaces\": [\"packages/*\"]\n}\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[npm]\nregistry = \"{registry}\"\n\n[version]\nfiles = [\"package.json\"]\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/shared\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/cli\"\n"
        ),
    );
    repo.commit("README.md", "feat: first");
    repo
}

fn dist_tags(verdaccio: &Verdaccio, dir: &std::path::Path, name: &str) -> serde_json::Value {
    let out = verdaccio.npm(dir, &["view", name, "dist-tags", "--json"]);
    assert!(out.status.success(), "{}", text(&out).1);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn npm_packages_are_staged_then_their_channel_tags_move() {
    let verdaccio = Verdaccio::start();
    let fake = FakeGitHub::start();
    let repo = monorepo(&verdaccio.url);
    let scratch = tempfile::tempdir().unwrap();

    let report = ok(&release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.0"]));
    assert_eq!(
        report["npm-packages"]["@acme/cli"],
        serde_json::json!(["1.0.0", "latest"])
    );
    let view = verdaccio.npm(scratch.path(), &["view", "@acme/cli@1.0.0", "dependencies", "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&view.stdout).unwrap(),
        serde_json::json!({"@acme/shared": "^1.0.0"}),
        "internal ranges point at the release"
    );
    for name in ["@acme/shared", "@acme/cli"] {
        assert_eq!(
            dist_tags(&verdaccio, scratch.path(), name),
            serde_json::json!({"latest": "1.0.0"}),
            "{name}: staging tag removed"
        );
    }
    let moved: Vec<&serde_json::Value> = report["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["target"] == "npm")
        .collect();
    assert_eq!(moved.len(), 2);
    assert!(moved.iter().all(|p| p["new"] == "1.0.0"));

    // A prerelease moves its channel and never `latest`.
    repo.commit("README.md", "feat: second");
    let report = ok(&release(
        &repo,
        &fake,
        &verdaccio.token,
        &[],
        &["--version", "1.1.0-alpha.0"],
    ));
    assert_eq!(
        report["npm-packages"]["@acme/shared"],
        serde_json::json!(["1.1.0-alpha.0", "alpha"])
    );
    assert_eq!(
        dist_tags(&verdaccio, scratch.path(), "@acme/shared"),
        serde_json::json!({"latest": "1.0.0", "alpha": "1.1.0-alpha.0"})
    );
    let cli_moves: Vec<&serde_json::Value> = report["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pointer"] == "@acme/cli@alpha")
        .collect();
    assert_eq!(cli_moves[0]["old"], serde_json::Value::Null);
    let install = verdaccio.npm(
        scratch.path(),
        &["install", "@acme/cli@alpha", "--no-audit", "--no-fund"],
    );
    assert!(install.status.success(), "{}", text(&install).1);
    let installed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.path().join("node_modules/@acme/cli/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(installed["version"], "1.1.0-alpha.0");

    // The same version again: skipped, nothing moves.
    let report = ok(&release(
        &repo,
        &fake,
        &verdaccio.token,
        &[],
        &["--version", "1.1.0-alpha.0"],
    ));
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["action"].as_str().unwrap().contains("already on"))
    );
}

#[test]
fn npm_refusals_move_no_pointer() {
    let verdaccio = Verdaccio::start();
    let fake = FakeGitHub::start();
    let repo = monorepo(&verdaccio.url);
    let scratch = tempfile::tempdir().unwrap();
    ok(&release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.0"]));
    // Other content under a published version.
    repo.write("packages/shared/index.js", "module.exports = 'changed';\n");
    let out = release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("@acme/shared@1.0.0 is already on") && stderr.contains("with other content"),
        "{stderr}"
    );
    // A wrong token: exit 2, names the input.
    repo.git(&["checkout", "--", "."]);
    repo.commit("README.md", "fix: third");
    let out = release(&repo, &fake, "not-a-token", &[], &["--version", "1.0.1"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("npm-token"), "{stderr}");
    assert_eq!(
        dist_tags(&verdaccio, scratch.path(), "@acme/shared"),
        serde_json::json!({"latest": "1.0.0"})
    );
    // An unreachable registry names itself.
    repo.write(
        ".github/tamma-release.toml",
        &std::fs::read_to_string(repo.path().join(".github/tamma-release.toml"))
            .unwrap()
            .replace(&verdaccio.url, "http://127.0.0.1:9"),
    );
    let out = release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.1"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("http://127.0.0.1:9") && stderr.contains("connection failed"),
        "{stderr}"
    );
}

fn image_repo(registry: &Registry) -> (TestRepo, String) {
    let repo = TestRepo::new();
    let digest =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello\n").unwrap();
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/widget\"\noci-layout = \"image\"\n", registry.host),
    );
    repo.commit("a", "feat: image");
    (repo, digest)
}

#[test]
fn images_from_layouts_are_pushed_then_channel_tags_move() {
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let (repo, digest) = image_repo(&registry);
    let report = ok(&release(&repo, &fake, "", &[], &["--version", "1.0.0"]));
    assert_eq!(
        registry.digest("acme/widget", "1.0.0").as_deref(),
        Some(digest.as_str())
    );
    assert_eq!(
        registry.digest("acme/widget", "latest").as_deref(),
        Some(digest.as_str())
    );
    assert_eq!(report["pointers"][0]["old"], serde_json::Value::Null);
    // A new image: latest moves and its old digest is recorded.
    std::fs::remove_dir_all(repo.path().join("image")).unwrap();
    let second =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello again\n")
            .unwrap();
    repo.commit("a", "feat: new image");
    let report = ok(&release(&repo, &fake, "", &[], &["--version", "1.1.0"]));
    assert_eq!(
        registry.digest("acme/widget", "latest").as_deref(),
        Some(second.as_str())
    );
    assert_eq!(report["pointers"][0]["old"], digest.as_str());
    assert_eq!(
        report["pointers"][0]["pointer"],
        format!("{}/acme/widget:latest", registry.host)
    );
    // Another image under a released version is refused before any pointer moves.
    std::fs::remove_dir_all(repo.path().join("image")).unwrap();
    tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"tampered\n").unwrap();
    let out = release(&repo, &fake, "", &[], &["--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("a released version's image does not change"),
        "{stderr}"
    );
    assert_eq!(
        registry.digest("acme/widget", "1.1.0").as_deref(),
        Some(second.as_str())
    );
    std::fs::remove_dir_all(repo.path().join("image")).unwrap();
    tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello again\n").unwrap();
    // A prerelease leaves latest alone.
    repo.commit("b", "feat: rc");
    ok(&release(&repo, &fake, "", &[], &["--version", "1.2.0-rc.0"]));
    assert_eq!(
        registry.digest("acme/widget", "latest").as_deref(),
        Some(second.as_str())
    );
    assert_eq!(registry.digest("acme/widget", "rc").as_deref(), Some(second.as_str()));
}

#[test]
fn images_built_by_the_daemon_are_pushed_by_it() {
    let registry = Registry::start();
    let daemon = Daemon::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write("app/Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n");
    repo.write("app/hello.txt", "hello\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/app\"\ncontext = \"app\"\n", registry.host),
    );
    repo.commit("a", "feat: app");
    let report = ok(&release(
        &repo,
        &fake,
        "",
        &[("DOCKER_HOST", &daemon.socket)],
        &["--version", "2.0.0"],
    ));
    let pushed = registry.digest("acme/app", "2.0.0").expect("pushed by the daemon");
    assert_eq!(registry.digest("acme/app", "latest"), Some(pushed.clone()));
    assert_eq!(report["pointers"][0]["new"], pushed.as_str());
}

/// A registry behind Bearer token auth (as ghcr.io and Docker Hub are): every call answers 401
/// with a challenge until it carries the token the token service hands out for the credentials.
struct TokenRegistry {
    http: MockHttp,
    /// The manifest served, and the names (tags, and `digest` once any was PUT) it is under.
    manifest: Manifest,
}

type Manifest = std::sync::Arc<std::sync::Mutex<(Vec<u8>, std::collections::BTreeSet<String>)>>;

/// Answers the registry's manifest routes from [`TokenRegistry::manifest`]: a name reads 404
/// until a manifest was PUT under it, as a registry does.
struct Manifests(Manifest);

impl wiremock::Respond for Manifests {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        let name = request.url.path().rsplit('/').next().unwrap_or_default().to_string();
        let name = if name.starts_with("sha256:") {
            "digest".to_string()
        } else {
            name
        };
        match request.method.as_str() {
            "PUT" => {
                state.1.insert(name);
                state.1.insert("digest".into());
                wiremock::ResponseTemplate::new(201)
            }
            _ if !state.1.contains(&name) => wiremock::ResponseTemplate::new(404),
            _ => wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .set_body_bytes(state.0.clone()),
        }
    }
}

impl TokenRegistry {
    fn start() -> TokenRegistry {
        use wiremock::matchers::{header, method, path, path_regex};
        use wiremock::{Mock, ResponseTemplate};
        let http = MockHttp::start();
        let uri = http.uri();
        let challenge =
            format!(r#"Bearer realm="{uri}/token",service="test-registry",scope="repository:acme/widget:pull,push""#);
        let mount = |mock: Mock| http.mount(mock);
        // user "ci" with password "s3cret" → token "t0ken".
        mount(
            Mock::given(method("GET"))
                .and(path("/token"))
                .and(header("authorization", "Basic Y2k6czNjcmV0"))
                .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t0ken"}))),
        );
        mount(
            Mock::given(method("GET"))
                .and(path("/token"))
                .respond_with(ResponseTemplate::new(401)),
        );
        mount(
            Mock::given(method("HEAD"))
                .and(path_regex("/v2/acme/widget/blobs/.*"))
                .and(header("authorization", "Bearer t0ken"))
                .respond_with(ResponseTemplate::new(200)),
        );
        let manifest: Manifest = Default::default();
        mount(
            Mock::given(path_regex("^/v2/acme/widget/manifests/"))
                .and(header("authorization", "Bearer t0ken"))
                .respond_with(Manifests(manifest.clone())),
        );
        mount(
            Mock::given(path_regex("/v2/.*"))
                .respond_with(ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str())),
        );
        TokenRegistry { http, manifest }
    }

    /// Serves these manifest bytes (with the token) under every name.
    fn serve_manifest(&self, bytes: Vec<u8>) {
        self.manifest.lock().unwrap().0 = bytes;
    }

    fn host(&self) -> String {
        self.http.uri().trim_start_matches("http://").to_string()
    }

    fn authorised_puts(&self) -> usize {
        self.http
            .requests()
            .iter()
            .filter(|r| {
                r.method.as_str() == "PUT" && r.headers.get("authorization").is_some_and(|v| v == "Bearer t0ken")
            })
            .count()
    }
}

#[test]
fn registry_token_auth_from_the_challenge() {
    let registry = TokenRegistry::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    let digest =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello\n").unwrap();
    registry.serve_manifest(
        std::fs::read(
            repo.path()
                .join("image/blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap(),
    );
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/widget\"\noci-layout = \"image\"\n", registry.host()),
    );
    repo.commit("a", "feat: image");
    // Wrong password: exit 2 naming the inputs, and no tag was written.
    let out = release(
        &repo,
        &fake,
        "",
        &[("REGISTRY_USERNAME", "ci"), ("REGISTRY_PASSWORD", "wrong")],
        &["--version", "1.0.0"],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("registry-password") && !stderr.contains("wrong\n"),
        "{stderr}"
    );
    assert_eq!(registry.authorised_puts(), 0);
    // The right one: the version manifest goes up, then the channel tag.
    let out = release(
        &repo,
        &fake,
        "",
        &[("REGISTRY_USERNAME", "ci"), ("REGISTRY_PASSWORD", "s3cret")],
        &["--version", "1.0.0"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        registry.authorised_puts(),
        2,
        "the version manifest, then the channel tag"
    );
    assert!(!stderr.contains("s3cret") && !stdout.contains("s3cret"));
}

#[test]
fn npm_forbidden_and_rejected_manifests_are_named() {
    // npm: a scope the user may not publish to answers 403.
    let verdaccio = Verdaccio::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(
        "pkg/package.json",
        "{\"name\": \"@locked/x\", \"version\": \"0.0.0\"}\n",
    );
    repo.write(".github/tamma-release.toml", &format!("[github]\nwrite-interval = \"0s\"\n[npm]\nregistry = \"{}\"\n[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n", verdaccio.url));
    repo.commit("a", "feat: locked");
    let out = release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("@locked/x@1.0.0") && stderr.contains("(403)") && stderr.contains(&verdaccio.url),
        "{stderr}"
    );

    // A registry that rejects the manifest: the image and the registry are named, no tag moves.
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = MockHttp::start();
    server.mount(Mock::given(method("HEAD")).respond_with(ResponseTemplate::new(200)));
    server.mount(
        Mock::given(method("PUT"))
            .and(path("/v2/acme/widget/manifests/1.0.0"))
            .respond_with(ResponseTemplate::new(400).set_body_json(
                serde_json::json!({"errors": [{"code": "MANIFEST_INVALID", "message": "manifest invalid"}]}),
            )),
    );
    let host = server.uri().trim_start_matches("http://").to_string();
    let repo = TestRepo::new();
    tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "a", b"a").unwrap();
    repo.write(".github/tamma-release.toml", &format!("[github]\nwrite-interval = \"0s\"\n[[artifact]]\nkind = \"image\"\nimage = \"{host}/acme/widget\"\noci-layout = \"image\"\n"));
    repo.commit("a", "feat: image");
    let out = release(&repo, &fake, "", &[], &["--version", "1.0.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("image {host}/acme/widget:1.0.0")) && stderr.contains("MANIFEST_INVALID"),
        "{stderr}"
    );
    let requests = server.requests();
    assert!(
        !requests
            .iter()
            .any(|r| r.url.path().ends_with("/manifests/latest") && r.method.as_str() == "PUT"),
        "no pointer moved"
    );
}

#[test]
fn a_failed_deploy_puts_npm_and_image_pointers_back() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let verdaccio = Verdaccio::start();
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let health = MockHttp::start();
    health.mount(
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(503)),
    );
    let repo = monorepo(&verdaccio.url);
    let first =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"one\n").unwrap();
    let base = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    let with_image = format!(
        "{base}\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/widget\"\noci-layout = \"image\"\n",
        registry.host
    );
    repo.write(".github/tamma-release.toml", &with_image);
    repo.commit("a", "feat: image");
    ok(&release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.0.0"]));

    std::fs::remove_dir_all(repo.path().join("image")).unwrap();
    let second =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"two\n").unwrap();
    repo.write(
        ".github/tamma-release.toml",
        &with_image.replacen(
            "[github]",
            &format!(
                "[deploy.staging]\nsmoke = {{ url = \"{}/health\", timeout = \"1s\" }}\n\n[github]",
                health.uri()
            ),
            1,
        ),
    );
    repo.commit("b", "feat: two");
    let out = release(&repo, &fake, &verdaccio.token, &[], &["--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("every moved pointer was put back"), "{stderr}");
    let scratch = tempfile::tempdir().unwrap();
    for name in ["@acme/shared", "@acme/cli"] {
        assert_eq!(
            dist_tags(&verdaccio, scratch.path(), name)["latest"],
            "1.0.0",
            "{name}: latest is back"
        );
    }
    assert_eq!(
        registry.digest("acme/widget", "latest").as_deref(),
        Some(first.as_str()),
        "latest is back on the first image"
    );
    assert_eq!(
        registry.digest("acme/widget", "1.1.0").as_deref(),
        Some(second.as_str()),
        "the version tag stays, unused"
    );
    fake.with(|s| assert!(s.releases.iter().find(|r| r.tag == "v1.1.0").is_some_and(|r| r.draft)));
}
