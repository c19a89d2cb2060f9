//! Runs that must not interleave: a lock held by another run is waited for and named, a stale one
//! or one left by an earlier attempt of the same workflow run is taken over; and the rollback as
//! the action runs it from a `workflow_dispatch` form, with its outputs and notification.

use std::process::Output;

use serde_json::json;

use crate::support::github::{FakeGitHub, REPO, TOKEN};
use crate::support::mock::MockHttp;
use crate::support::runner::parse_file_command;
use crate::support::{TestRepo, tamma, text};

fn project(extra: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write("README.md", "# widget\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[release]\nlock-wait = \"2s\"\nlock-stale = \"1h\"\n\n[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"file\"\npath = \"README.md\"\n{extra}"
        ),
    );
    repo.commit("a", "feat: widget");
    repo
}

/// Puts a lock in the fake as another run would, taken `age_seconds` ago.
fn hold_lock(fake: &FakeGitHub, holder: &str, age_seconds: i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let since = tamma_release::dates::rfc3339(now - age_seconds);
    fake.with(|s| {
        s.tag_objects.insert(
            "0123456789abcdef0123456789abcdef01234567".into(),
            json!({"sha": "0123456789abcdef0123456789abcdef01234567", "tag": "lock", "message": holder,
                   "tagger": {"name": "tamma-release", "date": since},
                   "object": {"sha": "89abcdef0123456789abcdef0123456789abcdef", "type": "commit"}}),
        );
        s.refs.insert(
            "tamma-release/lock".into(),
            "0123456789abcdef0123456789abcdef01234567".into(),
        );
    });
}

fn release(repo: &TestRepo, fake: &FakeGitHub, version: &str) -> Output {
    fake.release(repo.path(), &["--version", version]).output().unwrap()
}

#[test]
fn a_held_lock_is_waited_for_then_named_and_nothing_moves() {
    let repo = project("");
    let fake = FakeGitHub::start();
    hold_lock(
        &fake,
        "tamma-release lock\nfor: release v9.9.9\nrun: https://github.com/acme/widget/actions/runs/1\n",
        10,
    );
    let started = std::time::Instant::now();
    let out = release(&repo, &fake, "1.0.0");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited lock-wait"
    );
    assert!(
        stderr.contains("the release lock refs/tamma-release/lock is held by release v9.9.9 (https://github.com/acme/widget/actions/runs/1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gh api -X DELETE repos/acme/widget/git/refs/tamma-release/lock"),
        "says how to remove it: {stderr}"
    );
    fake.with(|s| {
        assert!(s.releases.iter().all(|r| r.draft), "nothing published");
        assert!(s.tags.is_empty(), "no tag created");
        assert_eq!(s.refs.len(), 1, "the other run's lock is left alone");
    });

    // Once the other run is done, the same release completes.
    fake.with(|s| s.refs.clear());
    let out = release(&repo, &fake, "1.0.0");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| assert!(s.refs.is_empty(), "our lock is released"));
}

#[test]
fn a_stale_lock_is_taken_over() {
    let repo = project("");
    let fake = FakeGitHub::start();
    hold_lock(&fake, "tamma-release lock\nfor: release v0.9.0\n", 2 * 3600);
    let out = release(&repo, &fake, "1.0.0");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("taking over the release lock left by release v0.9.0"),
        "{stderr}"
    );
    fake.with(|s| assert!(s.refs.is_empty()));
}

#[test]
fn two_runs_of_one_release_at_once_publish_it_once() {
    let repo = project("");
    // Two jobs: two machines, two checkouts of the same commit.
    let other = tempfile::tempdir().unwrap();
    let clone = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(repo.path())
        .arg(other.path())
        .status()
        .unwrap();
    assert!(clone.success());
    let fake = FakeGitHub::start();
    let spawn = |dir: &std::path::Path| {
        fake.release(dir, &["--version", "1.0.0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(repo.path()), spawn(other.path()));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    fake.with(|s| {
        let releases: Vec<_> = s.releases.iter().filter(|r| r.tag == "v1.0.0").collect();
        assert_eq!(releases.len(), 1);
        assert!(!releases[0].draft);
        let mut names: Vec<&str> = releases[0].assets.iter().map(|a| a.name.as_str()).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "no duplicate asset");
        assert!(s.refs.is_empty(), "both locks released");
        assert_eq!(s.tags.len(), 1);
    });
}

/// Runs the action as the runner would for a `workflow_dispatch` with these form inputs.
fn dispatch(repo: &TestRepo, fake: &FakeGitHub, form: serde_json::Value) -> (Output, String, String) {
    fake.action(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        &json!({ "inputs": form }),
        &[("command", "rollback")],
    )
}

#[test]
fn rollback_from_a_dispatch_form_sets_outputs_and_notifies() {
    let hook = MockHttp::start();
    hook.mount(
        wiremock::Mock::given(wiremock::matchers::method("POST")).respond_with(wiremock::ResponseTemplate::new(204)),
    );
    let repo = project(&format!("\n[notify]\nwebhooks = [\"{}/hook\"]\n", hook.uri()));
    let fake = FakeGitHub::start();
    assert_eq!(release(&repo, &fake, "1.0.0").status.code(), Some(0));
    repo.commit("b", "fix: a bug");
    assert_eq!(release(&repo, &fake, "1.0.1").status.code(), Some(0));
    let sent_before = hook.received("/hook").len();

    // The form's dry run changes nothing and says what it would do.
    let writes = fake.with(|s| s.writes());
    let (out, outputs, summary) = dispatch(&repo, &fake, json!({"version": "", "dry-run": "true"}));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert_eq!(fake.with(|s| s.writes()), writes);
    assert!(summary.contains("rollback dry run — nothing was changed"), "{summary}");
    assert!(
        summary.contains("would put the latest GitHub release back from v1.0.1 to v1.0.0"),
        "{summary}"
    );
    assert_eq!(parse_file_command(&outputs).unwrap()["rolled-back-from"], "1.0.1");

    let (out, outputs, summary) = dispatch(&repo, &fake, json!({"version": "", "dry-run": "false"}));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    let outputs = parse_file_command(&outputs).unwrap();
    assert_eq!(outputs["rolled-back-from"], "1.0.1");
    assert_eq!(outputs["rolled-back-to"], "1.0.0");
    assert!(summary.contains("| Rolled back | `1.0.1` → `1.0.0` |"), "{summary}");
    fake.with(|s| {
        let latest = s.latest.and_then(|id| s.releases.iter().find(|r| r.id == id)).unwrap();
        assert_eq!(latest.tag, "v1.0.0");
    });
    let sent = hook.received("/hook");
    assert_eq!(sent.len(), sent_before + 1, "one notification");
    let message: serde_json::Value = serde_json::from_slice(&sent.last().unwrap().body).unwrap();
    assert_eq!(message["event"], "rolled-back");
    assert_eq!(message["rolled-back-to"], "1.0.0");
    // Links to the run that rolled back and to the journal it read.
    assert_eq!(message["run-url"], "https://github.com/acme/widget/actions/runs/7");
    assert!(
        message["journal-url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/release-journal.json")),
        "{message}"
    );

    // Pressed again: nothing to do, nothing written, no notification.
    let writes = fake.with(|s| s.writes());
    let (out, outputs, summary) = dispatch(&repo, &fake, json!({"version": "1.0.1", "dry-run": "false"}));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert_eq!(fake.with(|s| s.writes()), writes);
    assert!(summary.contains("Everything was rolled back already"), "{summary}");
    assert_eq!(parse_file_command(&outputs).unwrap()["rolled-back-from"], "1.0.1");
    assert_eq!(hook.received("/hook").len(), sent_before + 1);

    // A release that tamma-release did not make is refused by name, with exit 2.
    fake.with(|s| {
        let release = s.releases.iter_mut().find(|r| r.tag == "v1.0.0").unwrap();
        release.assets.retain(|a| a.name != "release-journal.json");
    });
    let (out, _, _) = dispatch(&repo, &fake, json!({"version": "1.0.0", "dry-run": "false"}));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).0.contains("v1.0.0 has no release-journal.json"),
        "{}",
        text(&out).0
    );
}

#[test]
fn rollback_mistakes_are_named_with_exit_2_and_write_nothing() {
    let repo = project("");
    let fake = FakeGitHub::start();
    assert_eq!(release(&repo, &fake, "1.0.0").status.code(), Some(0));
    let writes = fake.with(|s| s.writes());
    let run = |args: &[&str], token: Option<&str>| {
        let mut all = vec!["rollback"];
        all.extend_from_slice(args);
        let mut cmd = tamma(&all);
        cmd.current_dir(repo.path())
            .env("GITHUB_API_URL", &fake.uri)
            .env("GITHUB_REPOSITORY", REPO)
            .env_remove("GITHUB_TOKEN");
        if let Some(token) = token {
            cmd.env("GITHUB_TOKEN", token);
        }
        cmd.output().unwrap()
    };
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (
            &[],
            None,
            "rollback reads the release's journal from GitHub: give a token",
        ),
        (
            &["--version", "9.9.9"],
            Some(TOKEN),
            "there is no published release v9.9.9 to roll back",
        ),
        (&["--version", "v1.0.0"], Some(TOKEN), "did you mean 1.0.0?"),
        (&[], Some("ghs_wrong"), "GitHub rejected the token (401)"),
    ];
    for (args, token, expected) in cases {
        let out = run(args, token);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(fake.with(|s| s.writes()), writes, "nothing written");
}

#[test]
fn a_floating_tag_follows_stable_releases_only_and_rolls_back() {
    let repo = project("");
    let config = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    repo.write(
        ".github/tamma-release.toml",
        &config.replacen(
            "[release]\n",
            "[release]\nfloating-tags = [\"v{major}\", \"v{major}.{minor}\"]\n",
            1,
        ),
    );
    let first = repo.commit("a", "feat: floating");
    let fake = FakeGitHub::start();
    assert_eq!(release(&repo, &fake, "1.0.0").status.code(), Some(0));
    fake.with(|s| {
        assert_eq!(s.tags["v1"], first);
        assert_eq!(s.tags["v1.0"], first);
    });
    let second = repo.commit("b", "feat: more");
    assert_eq!(release(&repo, &fake, "1.1.0-rc.0").status.code(), Some(0));
    fake.with(|s| assert_eq!(s.tags["v1"], first, "a prerelease never moves a floating tag"));
    assert_eq!(release(&repo, &fake, "1.1.0").status.code(), Some(0));
    fake.with(|s| {
        assert_eq!(s.tags["v1"], second);
        assert_eq!(s.tags["v1.1"], second);
        assert_eq!(s.tags["v1.0"], first, "another line");
    });
    let out = tamma(&["rollback", "--version", "1.1.0"])
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| {
        assert_eq!(s.tags["v1"], first, "v1 is back on 1.0.0");
        assert!(!s.tags.contains_key("v1.1"), "v1.1 did not exist before 1.1.0");
    });
}
