//! Deploys after the pointers move: the docs branch through the Git Data API, a staging
//! deployment with a signed webhook and a smoke check, notifications — and the pointers put back
//! when the smoke check fails.

use std::process::Output;

use crate::support::github::FakeGitHub;
use crate::support::mock::MockHttp as Http;
use crate::support::{TestRepo, text};

fn run(repo: &TestRepo, fake: &FakeGitHub, args: &[&str]) -> Output {
    fake.release(repo.path(), args)
        .env("DEPLOY_SECRET", "s3cret-key")
        .output()
        .unwrap()
}

fn site_repo(config: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("site/index.html", "<h1>widget</h1>\n");
    repo.write("site/guide/intro.html", "intro\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n{config}"),
    );
    repo.commit("a", "feat: site");
    repo
}

#[test]
fn versioned_docs_are_committed_and_the_branch_moves() {
    let fake = FakeGitHub::start();
    let repo = site_repo("[deploy.docs]\npath = \"site\"\nversioned = true\n");
    let out = run(&repo, &fake, &["--version", "1.0.0", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let files = fake.with(|s| s.branch_files("gh-pages"));
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            ".nojekyll",
            "latest/guide/intro.html",
            "latest/index.html",
            "v1.0.0/guide/intro.html",
            "v1.0.0/index.html"
        ]
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let moved = report["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["target"] == "docs")
        .unwrap()
        .clone();
    assert_eq!(moved["old"], serde_json::Value::Null);

    repo.write("site/index.html", "<h1>widget 1.1</h1>\n");
    repo.commit("b", "feat: more");
    let blobs_before = fake.with(|s| {
        s.log
            .iter()
            .filter(|(m, p)| m == "POST" && p.ends_with("/git/blobs"))
            .count()
    });
    let out = run(&repo, &fake, &["--version", "1.1.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let files = fake.with(|s| s.branch_files("gh-pages"));
    assert_eq!(files["v1.0.0/index.html"], "<h1>widget</h1>\n", "older versions stay");
    assert_eq!(files["latest/index.html"], "<h1>widget 1.1</h1>\n");
    assert!(files.contains_key("v1.1.0/guide/intro.html"));
    let blobs_after = fake.with(|s| {
        s.log
            .iter()
            .filter(|(m, p)| m == "POST" && p.ends_with("/git/blobs"))
            .count()
    });
    assert_eq!(blobs_after - blobs_before, 1, "only the changed file is uploaded");
}

#[test]
fn staging_is_deployed_signed_and_smoke_checked() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fake = FakeGitHub::start();
    let web = Http::start();
    web.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(204)),
    );
    web.mount(
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2),
    );
    web.mount(
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok: widget")),
    );
    web.mount(
        Mock::given(method("POST"))
            .and(path("/notify"))
            .respond_with(ResponseTemplate::new(200)),
    );
    let uri = web.uri();
    let repo = site_repo(&format!(
        "[deploy.staging]\nenvironment = \"staging\"\nurl = \"{uri}\"\nwebhook = \"{uri}/hook\"\nsmoke = {{ url = \"{uri}/health\", expect-status = 200, contains = \"widget\", timeout = \"30s\" }}\n\n[notify]\nwebhooks = [\"{uri}/notify\"]\n"
    ));
    let out = run(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| {
        let deployment = &s.deployments[0];
        assert_eq!(
            (deployment.reference.as_str(), deployment.environment.as_str()),
            ("v1.0.0", "staging")
        );
        assert_eq!(deployment.statuses, ["in_progress", "success"]);
        assert!(!s.releases[0].draft, "published after the smoke check passed");
    });
    let hook = &web.received("/hook")[0];
    let signature = hook
        .headers
        .get("x-tamma-signature-256")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let expected = tamma_release::targets::deploy::signature(
        &tamma_release::secret::Secret::new("s3cret-key").unwrap(),
        &hook.body,
    );
    assert_eq!(signature, expected, "the receiver can verify the body");
    let payload: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["tag"], "v1.0.0");
    assert_eq!(web.received("/health").len(), 3, "polled until it passed");
    let note: serde_json::Value = serde_json::from_slice(&web.received("/notify")[0].body).unwrap();
    assert_eq!(note["event"], "released");
    assert!(
        note["duration-seconds"].is_u64() && note["url"].as_str().unwrap().contains("/releases/tag/v1.0.0"),
        "{note}"
    );
    // Where to look when something is off: the journal of what moved.
    assert!(
        note["journal-url"] == "https://github.com/acme/widget/releases/download/v1.0.0/release-journal.json",
        "{note}"
    );
}

#[test]
fn a_failing_smoke_check_puts_the_docs_back_and_publishes_nothing() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fake = FakeGitHub::start();
    let web = Http::start();
    web.mount(
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(500)),
    );
    web.mount(
        Mock::given(method("POST"))
            .and(path("/notify"))
            .respond_with(ResponseTemplate::new(500)),
    );
    let uri = web.uri();
    let repo = site_repo(&format!(
        "[deploy.docs]\npath = \"site\"\n\n[deploy.staging]\nsmoke = {{ url = \"{uri}/health\", timeout = \"2s\" }}\n\n[notify]\nwebhooks = [\"{uri}/notify\"]\n"
    ));
    assert_eq!(
        run(&repo, &fake, &["--stages", "publish", "--version", "0.9.0"])
            .status
            .code(),
        Some(1),
        "the first deploy fails too"
    );
    let before = fake.with(|s| s.branches.get("gh-pages").cloned());
    assert_eq!(before, None, "a branch that did not exist is removed again");
    let out = run(&repo, &fake, &["--version", "1.0.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not pass within 2s") && stderr.contains("put back"),
        "{stderr}"
    );
    fake.with(|s| {
        assert!(s.releases.iter().all(|r| r.draft), "nothing published");
        assert!(
            s.deployments
                .iter()
                .all(|d| d.statuses.last().map(String::as_str) == Some("failure"))
        );
        assert_eq!(s.branches.get("gh-pages"), None);
    });
    assert!(
        stderr.contains("the release is not affected"),
        "a failed notification is a warning: {stderr}"
    );
}

#[test]
fn bad_deploy_configuration_is_a_usage_error() {
    let fake = FakeGitHub::start();
    let cases = [
        (
            "[deploy.staging]\nwebhook = \"ftp://deploy.example.com/hook\"\n",
            "\"ftp://deploy.example.com\" is not an http(s) URL",
        ),
        (
            "[notify]\nwebhooks = [\"hooks.example.com/x\"]\n",
            "is not an http(s) URL",
        ),
        // Hosts are ASCII (the image has no IDNA tables): a Unicode one is named with its fix.
        (
            "[npm]\nregistry = \"https://bücher.example/npm/\"\n",
            "\"https://bücher.example\" is not a valid URL (invalid international domain name); write a host outside ASCII in its Punycode form (xn--…)",
        ),
        // Only the origin is shown: a webhook's path is often its secret.
        (
            "[notify]\nwebhooks = [\"https://hooks.example.com:99999/T0/secret-path\"]\n",
            "\"https://hooks.example.com:99999\" is not a valid URL (invalid port number)",
        ),
        (
            "[deploy.staging]\nsmoke = { url = \"https://x.example\", timeout = \"soon\" }\n",
            "is not a duration",
        ),
        (
            "[deploy.docs]\npath = \"missing-site\"\n",
            "\"missing-site\" does not exist",
        ),
    ];
    for (config, expected) in cases {
        let repo = site_repo(config);
        let out = run(&repo, &fake, &["--version", "1.0.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{config}: {stderr}");
        assert!(stderr.contains(expected), "{config}: expected {expected:?} in {stderr}");
        assert!(!stderr.contains("secret-path"), "{stderr}");
    }
    fake.with(|s| assert!(s.writes() == 0 && s.branches.is_empty(), "{:?}", s.log));
}
