//! Untrusted input that is not a path: a journal edited on the release, credentials inside URLs,
//! durations and versions at the edge of their types (issue 14).

use std::process::Output;

use serde_json::json;

use crate::support::github::{FakeAsset, FakeGitHub, FakeRelease};
use crate::support::mock::MockHttp;
use crate::support::registries::Verdaccio;
use crate::support::{TestRepo, json_of, tamma, text};

/// A repository whose config ships one npm package to `registry` and the docs to gh-pages.
fn npm_project(registry: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write(
        "pkg/package.json",
        &format!("{{\"name\": \"@acme/widget\", \"version\": \"0.0.0\", \"publishConfig\": {{\"registry\": \"{registry}\"}}}}\n"),
    );
    repo.write("pkg/index.js", "module.exports = 1;\n");
    repo.write("site/index.html", "<h1>widget</h1>\n");
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\nretry-wait = \"10ms\"\n\n[deploy.docs]\npath = \"site\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n",
    );
    repo.commit("a", "feat: widget");
    repo
}

/// Puts a published v1.0.0 in the fake carrying `journal` (and a real plan of `repo`).
fn published_with_journal(fake: &FakeGitHub, repo: &TestRepo, journal: &serde_json::Value) {
    let report = json_of(repo.path(), &["plan", "--version", "1.0.0", "--json"]);
    let plan = serde_json::to_vec(&report["plan"]).unwrap();
    let journal = serde_json::to_vec(journal).unwrap();
    let asset = |id: u64, name: &str, bytes: Vec<u8>| FakeAsset {
        id,
        name: name.into(),
        state: "uploaded".into(),
        size: bytes.len() as u64,
        digest: None,
        content: Some(bytes),
    };
    fake.with(|s| {
        s.releases.push(FakeRelease {
            id: 900,
            tag: "v1.0.0".into(),
            draft: false,
            prerelease: false,
            body: "notes".into(),
            assets: vec![
                asset(901, "release-journal.json", journal),
                asset(902, "release-plan.json", plan),
            ],
        });
        s.latest = Some(900);
    });
}

fn journal_moving(commit: &str, pointer: serde_json::Value, before: &str, after: &str) -> serde_json::Value {
    json!({
        "format": 1, "version": "1.0.0", "tag": "v1.0.0", "commit": commit, "prerelease": false, "runs": 1,
        "steps": [{"phase": "flip", "target": "npm", "action": "move it", "pointer": pointer,
                   "before": before, "after": after, "at": "2026-11-25T09:00:00Z", "outcome": "done"}],
        "deployments": [],
    })
}

fn rollback(fake: &FakeGitHub, repo: &TestRepo, dry_run: bool) -> Output {
    let mut args = vec!["rollback", "--version", "1.0.0"];
    if dry_run {
        args.push("--dry-run");
    }
    tamma(&args)
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", crate::support::github::REPO)
        .env("GITHUB_TOKEN", crate::support::github::TOKEN)
        .env("NPM_TOKEN", "npm_SECRET_TOKEN_FOR_THE_REAL_REGISTRY")
        .output()
        .unwrap()
}

#[test]
fn rollback_refuses_a_journal_that_names_hosts_or_branches_the_config_does_not() {
    let evil = MockHttp::start();
    let good = MockHttp::start();
    let repo = npm_project(&good.uri());
    let commit = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let cases = [
        (
            journal_moving(
                &commit,
                json!({"kind": "npm-tag", "registry": evil.uri(), "package": "@acme/widget", "tag": "latest"}),
                "0.9.0",
                "1.0.0",
            ),
            format!("npm dist-tag @acme/widget@latest on {}", evil.uri()),
        ),
        (
            journal_moving(
                &commit,
                json!({"kind": "branch", "branch": "../../releases/latest"}),
                "0123456789012345678901234567890123456789",
                "1123456789012345678901234567890123456789",
            ),
            "branch \"../../releases/latest\"".to_string(),
        ),
        (
            journal_moving(
                &commit,
                json!({"kind": "npm-tag", "registry": good.uri(), "package": "@acme/widget", "tag": "latest"}),
                "../../-/user/x",
                "1.0.0",
            ),
            "records \"../../-/user/x\"".to_string(),
        ),
    ];
    for (journal, named) in cases {
        for dry_run in [true, false] {
            let fake = FakeGitHub::start();
            published_with_journal(&fake, &repo, &journal);
            let out = rollback(&fake, &repo, dry_run);
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(1), "{named} (dry run {dry_run}): {stderr}");
            assert!(
                stderr.contains(&named) && stderr.contains("nothing was moved"),
                "{named}: {stderr}"
            );
            assert!(!format!("{stdout}{stderr}").contains("npm_SECRET_TOKEN"));
            fake.with(|s| {
                assert_eq!(s.writes(), 0, "{:?}", s.log);
                assert!(
                    s.log.iter().all(|(_, p)| !p.ends_with("/releases/latest")),
                    "{:?}",
                    s.log
                );
            });
        }
    }
    assert!(evil.requests().is_empty(), "the other registry heard nothing, no token");
    assert!(good.requests().is_empty(), "nothing was read or moved anywhere");
}

#[test]
fn credentials_inside_urls_never_reach_logs_summaries_journals_or_deployments() {
    let verdaccio = Verdaccio::start();
    let with_password = verdaccio
        .url
        .replace("http://", "http://tester:HUNTER2-REGISTRY-PASSWORD@");
    let repo = npm_project(&format!("{with_password}/?auth=HUNTER2-QUERY"));
    let hook = MockHttp::start();
    hook.mount(wiremock::Mock::given(wiremock::matchers::any()).respond_with(wiremock::ResponseTemplate::new(500)));
    let notify = MockHttp::start();
    let hook_url = hook.uri().replace("http://", "http://deployer:HOOK-PASSWORD@") + "/hook?token=HOOK-TOKEN";
    let notify_url = notify.uri().replace("http://", "http://n:NOTIFY-PASSWORD@") + "/n?key=NOTIFY-KEY";
    let secrets = [
        "HUNTER2-REGISTRY-PASSWORD",
        "HUNTER2-QUERY",
        "HOOK-PASSWORD",
        "HOOK-TOKEN",
        "NOTIFY-PASSWORD",
        "NOTIFY-KEY",
    ];
    let config = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    repo.write(
        ".github/tamma-release.toml",
        &format!("{config}\n[deploy.staging]\nwebhook = \"{hook_url}\"\n\n[notify]\nwebhooks = [\"{notify_url}\"]\n"),
    );
    repo.commit("b", "feat: staging");
    let fake = FakeGitHub::start();
    let (out, outputs, summary) = fake.action(
        repo.path(),
        "push",
        "refs/heads/main",
        &json!({}),
        &[("version", "1.0.0"), ("npm-token", verdaccio.token.as_str())],
    );
    let (stdout, stderr) = text(&out);
    let journal = std::fs::read_to_string(repo.path().join("dist/release-journal.json")).unwrap_or_default();
    let on_github: String = fake.with(|s| {
        let assets: Vec<String> = s
            .releases
            .iter()
            .flat_map(|r| &r.assets)
            .filter_map(|a| a.content.as_ref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let descriptions: Vec<String> = s.deployments.iter().flat_map(|d| d.descriptions.clone()).collect();
        format!("{}\n{}", assets.join("\n"), descriptions.join("\n"))
    });
    for (place, shown) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("outputs", &outputs),
        ("summary", &summary),
        ("journal", &journal),
        ("GitHub", &on_github),
    ] {
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} in {place}:\n{shown}");
        }
    }
    // And the run got that far: npm published with the token, the webhook called, its failure
    // described on the deployment and annotated, the notification sent.
    assert_eq!(out.status.code(), Some(1), "the webhook failed: {stdout}{stderr}");
    assert!(
        stdout.contains("::error") && stdout.contains("the deploy webhook"),
        "{stdout}"
    );
    assert!(journal.contains("\"registry\""), "{journal}");
    assert!(!hook.requests().is_empty(), "the webhook was called with its URL");
    assert!(!notify.requests().is_empty(), "the notification went out");
    assert!(
        on_github.contains("the deploy webhook"),
        "the failed deployment was described: {on_github}"
    );
    assert!(stdout.contains("carries credentials; they are not used"), "{stdout}");
}

#[test]
fn durations_past_their_type_are_config_errors_not_panics() {
    let repo = TestRepo::with_history();
    for (section, key, value) in [
        ("github", "retry-wait", "18446744073709551615s"),
        ("github", "write-interval", "5124095576030432h"),
        ("release", "lock-wait", "307445734561825861m"),
        ("release", "lock-stale", "8d"),
    ] {
        repo.write(
            ".github/tamma-release.toml",
            &format!("[{section}]\n{key} = \"{value}\"\n"),
        );
        let out = tamma(&["release", "--dry-run", "--bump", "patch"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{key} = {value}: {stderr}");
        assert!(
            stderr.contains(".github/tamma-release.toml:2:1:") && stderr.contains(&format!("{section}.{key}")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn build_metadata_does_not_make_a_version_new() {
    let repo = TestRepo::with_history();
    let out = tamma(&["release", "--dry-run", "--version", "0.2.0+build.7"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("0.2.0+build.7 is already released as v0.2.0"),
        "{stderr}"
    );
    // Not greater than the highest release either, whatever its metadata.
    let out = tamma(&["release", "--dry-run", "--version", "0.1.5+zzz"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(text(&out).1.contains("not greater than 0.2.0"), "{}", text(&out).1);
    // Too long for npm, and not an image tag.
    let long = format!("1.0.0-{}", "a".repeat(251));
    let out = tamma(&["release", "--dry-run", "--version", &long])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("at most 256"), "{}", text(&out).1);
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"image\"\nimage = \"ghcr.io/acme/widget\"\noci-layout = \"image\"\n",
    );
    let out = tamma(&["release", "--dry-run", "--version", "1.0.0+build.1"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("cannot be an image tag"), "{}", text(&out).1);
}

#[test]
fn commands_get_the_environment_without_the_release_secrets() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nseen-*.txt\n");
    repo.write("README.md", "# widget\n");
    // Python, not sh: a shell drops variables whose names have a hyphen (INPUT_NPM-TOKEN).
    let dump = |file: &str| {
        format!(
            "[\"python3\", \"-c\", \"import os; open('{file}', 'w').write(''.join(k + '=' + v + chr(10) for k, v in os.environ.items()))\"]"
        )
    };
    let config = |pass: &str| {
        format!(
            "[release]\npass-env = [{pass}]\n\n[validate.docs]\nrequired = [\"README.md\"]\ncommand = {}\n\n[[artifact]]\nkind = \"file\"\npath = \"README.md\"\nbuild = {}\n",
            dump("seen-by-gate.txt"),
            dump("seen-by-build.txt")
        )
    };
    repo.write(".github/tamma-release.toml", &config(""));
    repo.commit("a", "feat: widget");
    let fake = FakeGitHub::start();
    let run = || {
        let (out, _, _) = fake.action(
            repo.path(),
            "push",
            "refs/heads/main",
            &json!({}),
            &[
                ("version", "1.0.0"),
                ("stages", "validate, build"),
                ("npm-token", "npm_NEVER_IN_A_BUILD"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
        ["seen-by-build.txt", "seen-by-gate.txt"].map(|f| std::fs::read_to_string(repo.path().join(f)).unwrap())
    };
    for seen in run() {
        assert!(seen.lines().any(|l| l.starts_with("PATH=")), "{seen}");
        assert!(seen.lines().any(|l| l.starts_with("GITHUB_REPOSITORY=")), "{seen}");
        for withheld in [
            "INPUT_",
            "GITHUB_TOKEN=",
            "npm_NEVER_IN_A_BUILD",
            crate::support::github::TOKEN,
        ] {
            assert!(!seen.contains(withheld), "{withheld} reached a command:\n{seen}");
        }
    }
    // Named in pass-env, a variable is passed on.
    repo.write(".github/tamma-release.toml", &config("\"INPUT_NPM-TOKEN\""));
    for seen in run() {
        assert!(seen.contains("INPUT_NPM-TOKEN=npm_NEVER_IN_A_BUILD"), "{seen}");
        assert!(!seen.contains("INPUT_GITHUB-TOKEN"), "{seen}");
    }
}
