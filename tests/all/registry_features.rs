//! Registries as they are in 2026 (issue 17): image version-line tags, Docker Hub names, Bearer
//! tokens per repository scope, npm trusted publishing and signed checksums.

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
