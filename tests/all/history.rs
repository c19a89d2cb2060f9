//! `history` and `status` (issue 21): the releases on the fake GitHub in every state, the npm
//! dist-tags on a real registry (Verdaccio) — one moved by hand — read back from the journals:
//! the table, the JSON and the drift flag, and `status` failing on the drift until a rollback
//! makes the channel right again.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::github::{FakeGitHub, FakeRelease};
use crate::support::registries::{Registry, Verdaccio};
use crate::support::{TestRepo, text};

fn tag_push(fake: &FakeGitHub, repo: &TestRepo, tag: &str, token: &str, image: &dyn Fn(&TestRepo) -> String) {
    image(repo);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("chore: the image of {tag}")]);
    repo.git(&["tag", tag]);
    repo.git(&["checkout", "-q", "-f", tag]);
    let (out, _, _) = fake.action(
        repo.path(),
        "push",
        &format!("refs/tags/{tag}"),
        &json!({"ref": format!("refs/tags/{tag}")}),
        &[("npm-token", token)],
    );
    assert_eq!(out.status.code(), Some(0), "{tag}: {}", text(&out).0);
    repo.git(&["checkout", "-q", "-f", "main"]);
    repo.git(&["clean", "-q", "-fdx"]);
}

/// `history --json` (or `status`) against the fake: exit code, stdout, stderr.
fn run(fake: &FakeGitHub, repo: &TestRepo, args: &[&str], token: &str) -> (Option<i32>, String, String) {
    let out = fake
        .command(repo.path(), args)
        .env("NPM_TOKEN", token)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn history_shows_every_release_and_channel_and_status_fails_on_drift_until_a_rollback() {
    let verdaccio = Verdaccio::start();
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let token = verdaccio.token.clone();
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    // The image each release pushes: its content is the commit's (a new digest each time).
    let image = |repo: &TestRepo| {
        let content = repo.git(&["rev-parse", "HEAD"]);
        let _ = std::fs::remove_dir_all(repo.path().join("image"));
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "app.txt", content.as_bytes()).unwrap()
    };
    repo.write(
        "package.json",
        "{\"name\": \"@h/widget\", \"version\": \"0.0.0\", \"main\": \"index.js\"}\n",
    );
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[npm]\nregistry = \"{}\"\n\n[[artifact]]\nkind = \"npm\"\npath = \".\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/h/widget\"\noci-layout = \"image\"\n",
            verdaccio.url, registry.host
        ),
    );
    repo.commit("index.js", "feat: the widget");
    tag_push(&fake, &repo, "v1.0.0", &token, &image);
    repo.commit("index.js", "feat: a knob");
    tag_push(&fake, &repo, "v1.1.0", &token, &image);
    repo.commit("index.js", "feat: a beta dial");
    tag_push(&fake, &repo, "v1.2.0-beta.0", &token, &image);
    // A release a run left as a draft, and one another tool made (no journal).
    fake.with(|s| {
        let id = s.id();
        s.releases.push(FakeRelease {
            id,
            tag: "v1.3.0".into(),
            draft: true,
            prerelease: false,
            body: "unfinished".into(),
            assets: vec![],
        });
    });
    // Someone moves latest back by hand.
    let moved = verdaccio.npm(Path::new("/tmp"), &["dist-tag", "add", "@h/widget@1.0.0", "latest"]);
    assert!(moved.status.success(), "{}", text(&moved).1);

    let (code, stdout, stderr) = run(&fake, &repo, &["history", "--json"], &token);
    assert_eq!(code, Some(0), "{stderr}");
    let history: Value = serde_json::from_str(&stdout).unwrap();
    let rows: Vec<(&str, &str, &str)> = history["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["tag"].as_str().unwrap(),
                r["channel"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("v1.3.0", "stable", "draft"),
            ("v1.2.0-beta.0", "beta", "published"),
            ("v1.1.0", "stable", "published"),
            ("v1.0.0", "stable", "published"),
        ]
    );
    assert_eq!(
        history["releases"][1]["run"],
        "https://github.com/acme/widget/actions/runs/7"
    );
    let pointer = |name: &str| {
        history["pointers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {history:#}"))
            .clone()
    };
    let latest = pointer("@h/widget@latest");
    assert_eq!(
        (latest["now"].as_str(), latest["expected"].as_str()),
        (Some("1.0.0"), Some("1.1.0"))
    );
    assert_eq!(
        (latest["drift"].as_bool(), latest["set-by"].as_str()),
        (Some(true), Some("v1.1.0"))
    );
    let beta = pointer("@h/widget@beta");
    assert_eq!(
        (beta["now"].as_str(), beta["drift"].as_bool()),
        (Some("1.2.0-beta.0"), Some(false))
    );
    let image_latest = pointer(&format!("{}/h/widget:latest", registry.host));
    assert_eq!(image_latest["drift"], false, "{image_latest}");
    assert_eq!(
        image_latest["now"].as_str(),
        registry.digest("h/widget", "1.1.0").as_deref(),
        "latest is 1.1.0's image"
    );
    let github = pointer("the latest GitHub release");
    assert_eq!(
        (github["now"].as_str(), github["drift"].as_bool()),
        (Some("v1.1.0"), Some(false))
    );

    // The Markdown a maintainer reads, and status failing on the drift.
    let (code, markdown, _) = run(&fake, &repo, &["history"], &token);
    assert_eq!(code, Some(0));
    for line in [
        "**1 pointer moved outside a release** (drift): `@h/widget@latest`.",
        "| `@h/widget@latest` | `1.0.0` | `1.1.0` | v1.1.0 | **drift** |",
        "| [v1.3.0](https://github.com/acme/widget/releases/tag/v1.3.0) | stable | draft |",
    ] {
        assert!(markdown.contains(line), "{line}\n{markdown}");
    }
    let (code, _, stderr) = run(&fake, &repo, &["status"], &token);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("@h/widget@latest is 1.0.0 but the releases left it at 1.1.0"),
        "{stderr}"
    );

    // Rolling 1.1.0 back makes latest's place 1.0.0 again: no drift, status passes.
    let (out, _, _) = fake.action(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        &json!({"inputs": {"version": "1.1.0", "dry-run": "false"}}),
        &[("command", "rollback"), ("npm-token", token.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    let (code, _, stderr) = run(&fake, &repo, &["status"], &token);
    assert_eq!(code, Some(0), "{stderr}");
    // The same from the action: the summary holds the table, and nothing is written.
    let writes = fake.with(|s| s.writes());
    let (out, _, summary) = fake.action(
        repo.path(),
        "schedule",
        "refs/heads/main",
        &json!({}),
        &[("command", "status"), ("npm-token", token.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert!(
        summary.contains("Every channel points where the last release or rollback left it."),
        "{summary}"
    );
    assert!(summary.contains("| stable | **rolled back** |"), "{summary}");
    assert_eq!(fake.with(|s| s.writes()), writes, "history only reads");

    // A journal edited to claim its release moved beta somewhere else is not used, and says so.
    fake.with(|s| {
        let release = s.releases.iter_mut().find(|r| r.tag == "v1.2.0-beta.0").unwrap();
        let asset = release
            .assets
            .iter_mut()
            .find(|a| a.name == "release-journal.json")
            .unwrap();
        let text = String::from_utf8(asset.content.clone().unwrap()).unwrap();
        asset.content = Some(
            text.replace("\"after\": \"1.2.0-beta.0\"", "\"after\": \"1.0.0\"")
                .into_bytes(),
        );
    });
    let (code, stdout, stderr) = run(&fake, &repo, &["history", "--json"], &token);
    assert_eq!(code, Some(0), "{stderr}");
    let history: Value = serde_json::from_str(&stdout).unwrap();
    let beta = &history["releases"][1];
    assert_eq!(beta["tag"], "v1.2.0-beta.0");
    assert!(
        beta["journal-problem"]
            .as_str()
            .is_some_and(|p| p.contains("which is not this release")),
        "{beta}"
    );
    assert!(
        !history["pointers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "@h/widget@beta"),
        "{history:#}"
    );
}
