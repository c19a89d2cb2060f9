//! Next versions and changelogs from real histories built by these tests.

use crate::support::{TestRepo, json_of, tamma, text};

fn version(repo: &TestRepo, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["version"];
    all.extend_from_slice(args);
    let out = tamma(&all).current_dir(repo.path()).output().unwrap();
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

fn next(repo: &TestRepo, args: &[&str]) -> String {
    let (code, stdout, stderr) = version(repo, args);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    stdout
}

#[test]
fn auto_walks_a_prerelease_channel_as_the_issue_describes() {
    let repo = TestRepo::new();
    repo.commit("a", "feat: base");
    repo.git(&["tag", "v1.4.2"]);
    repo.commit("a", "feat: new thing");
    assert_eq!(next(&repo, &["--preid", "alpha"]), "1.5.0-alpha.0\n");
    repo.git(&["tag", "v1.5.0-alpha.0"]);
    repo.commit("a", "fix: small");
    assert_eq!(next(&repo, &["--bump", "auto", "--preid", "alpha"]), "1.5.0-alpha.1\n");
    assert_eq!(
        next(&repo, &["--preid", "beta"]),
        "1.5.0-beta.0\n",
        "switching channel restarts the counter"
    );
    assert_eq!(
        next(&repo, &[]),
        "1.5.0\n",
        "without a channel the prerelease is promoted"
    );
    repo.git(&["tag", "v1.5.0-alpha.1"]);
    repo.commit("a", "refactor(core)!: new API");
    assert_eq!(next(&repo, &["--preid", "alpha"]), "2.0.0-alpha.0\n");
    assert_eq!(next(&repo, &[]), "2.0.0\n");
}

#[test]
fn auto_stable_bumps_and_nothing_to_release() {
    let repo = TestRepo::new();
    repo.commit("a", "feat: base");
    repo.git(&["tag", "v1.0.0"]);
    repo.commit("a", "docs: words");
    repo.commit("a", "chore: tidy");
    let (code, stdout, stderr) = version(&repo, &[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("nothing to release: no feat, fix, perf or breaking commit since 1.0.0"),
        "{stderr}"
    );
    repo.commit("a", "perf: faster");
    assert_eq!(next(&repo, &[]), "1.0.1\n");
    repo.commit("a", "fix: x\n\nBREAKING-CHANGE: y");
    assert_eq!(next(&repo, &[]), "2.0.0\n");
}

#[test]
fn breaking_before_1_bumps_minor_unless_configured() {
    let repo = TestRepo::new();
    repo.commit("a", "feat: base");
    repo.git(&["tag", "v0.3.1"]);
    repo.commit("a", "feat!: break");
    assert_eq!(next(&repo, &[]), "0.4.0\n");
    repo.write(
        ".github/tamma-release.toml",
        "[commits]\nbreaking-before-1 = \"major\"\n",
    );
    assert_eq!(next(&repo, &[]), "1.0.0\n");
}

#[test]
fn configured_types_bump() {
    let repo = TestRepo::new();
    repo.commit("a", "feat: base");
    repo.git(&["tag", "v1.0.0"]);
    repo.commit("a", "deps: bump serde");
    assert_eq!(version(&repo, &[]).0, Some(3));
    repo.write(
        ".github/tamma-release.toml",
        "[commits.types.deps]\nbump = \"patch\"\nsection = \"Dependencies\"\n",
    );
    assert_eq!(next(&repo, &[]), "1.0.1\n");
}

#[test]
fn first_release_is_the_initial_version() {
    let repo = TestRepo::new();
    repo.commit("a", "initial import");
    assert_eq!(next(&repo, &[]), "0.1.0\n");
    assert_eq!(next(&repo, &["--bump", "rc"]), "0.1.0-rc.0\n");
    repo.write(".github/tamma-release.toml", "[release]\ninitial-version = \"1.0.0\"\n");
    assert_eq!(next(&repo, &["--preid", "beta"]), "1.0.0-beta.0\n");
}

#[test]
fn explicit_kinds_and_current() {
    let repo = TestRepo::new();
    repo.commit("a", "x");
    repo.git(&["tag", "v1.2.3"]);
    assert_eq!(next(&repo, &["--bump", "minor"]), "1.3.0\n");
    assert_eq!(next(&repo, &["--bump", "alpha"]), "1.2.4-alpha.0\n");
    assert_eq!(
        next(&repo, &["--current", "1.2.4-alpha.1", "--bump", "beta"]),
        "1.2.4-beta.0\n"
    );
    let (code, _, stderr) = version(&repo, &["--bump", "release"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("version 1.2.3 is not a prerelease"), "{stderr}");
    let outside = tempfile::tempdir().unwrap();
    let out = tamma(&["version", "--current", "1.2.3", "--bump", "premajor", "--preid", "rc"])
        .current_dir(outside.path())
        .output()
        .unwrap();
    assert_eq!(text(&out).0, "2.0.0-rc.0\n", "no repository needed with --current");
}

#[test]
fn bad_version_input_names_the_value() {
    let repo = TestRepo::with_history();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--bump", "huge"],
            "bump: \"huge\" is not a bump kind; allowed: major, minor, patch",
        ),
        (
            &["--preid", "al_pha"],
            "preid: \"al_pha\" is not a valid prerelease identifier",
        ),
        (
            &["--current", "1.2", "--bump", "minor"],
            "current: \"1.2\" is not a semantic version",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = version(&repo, args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn release_with_bump_auto_plans_the_computed_version() {
    let repo = TestRepo::with_history();
    let report = json_of(repo.path(), &["release", "--dry-run", "--bump", "auto", "--json"]);
    assert_eq!(report["plan"]["version"], "0.3.0", "feat since v0.2.0 bumps minor");
    let changelog = report["plan"]["changelog"].as_str().unwrap();
    assert!(
        changelog.starts_with("## 0.3.0 (2026-01-01)\n\n### Features\n\n- third ("),
        "{changelog}"
    );
    assert!(changelog.contains("### Documentation\n\n- fourth ("), "{changelog}");
}

#[test]
fn tag_push_must_be_above_the_previous_release() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "v0.1.5"]);
    let out = tamma(&["plan"])
        .current_dir(repo.path())
        .env("GITHUB_REF", "refs/tags/v0.1.5")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("0.1.5 is not greater than 0.2.0 (v0.2.0)"), "{stderr}");
}

#[test]
fn detached_head_is_fine() {
    let repo = TestRepo::with_history();
    repo.git(&["checkout", "-q", "--detach", "v0.2.0"]);
    let out = tamma(&["plan", "--json"])
        .current_dir(repo.path())
        .env("GITHUB_REF", "refs/tags/v0.2.0")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["plan"]["previous-tag"], "v0.1.0");
}

/// A history with every kind of message, rendered against a fixed expectation.
fn changelog_fixture() -> TestRepo {
    let repo = TestRepo::new();
    repo.commit("a", "feat: first feature");
    repo.git(&["tag", "v1.0.0"]);
    repo.commit("a", "feat(api): add /health (#12)");
    repo.commit("a", "fix(core): handle <empty> input\n\nLong explanation.\n\nRefs #99");
    repo.commit("a", "perf: cache lookups");
    let reverted = repo.commit("a", "feat: experiment");
    repo.commit(
        "a",
        &format!("Revert \"feat: experiment\"\n\nThis reverts commit {reverted}."),
    );
    repo.commit(
        "a",
        "feat(cli)!: rename --out to --output\n\nBREAKING CHANGE: --out is gone; use --output",
    );
    repo.commit("a", "chore: bump deps");
    repo.commit("a", "Update the README");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit("b", "fix: on a branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge pull request #20 from acme/topic",
    ]);
    repo
}

fn short(repo: &TestRepo, rev: &str) -> String {
    repo.git(&["rev-parse", "--short=7", rev]).trim().to_string()
}

#[test]
fn changelog_markdown_of_the_unreleased_range() {
    let repo = changelog_fixture();
    let out = tamma(&["changelog"])
        .current_dir(repo.path())
        .env("GITHUB_REPOSITORY", "acme/widget")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let u = "https://github.com/acme/widget";
    let link = |rev: &str| {
        let full = repo.git(&["rev-parse", rev]).trim().to_string();
        format!("[{}]({u}/commit/{full})", short(&repo, rev))
    };
    let expected = format!(
        "## Unreleased

### ⚠ BREAKING CHANGES

- **cli:** --out is gone; use --output ({breaking})

### Features

- **cli:** rename --out to --output ({breaking})
- **api:** add /health ([#12]({u}/pull/12), {health})

### Bug Fixes

- on a branch ({branch})
- **core:** handle &lt;empty&gt; input ({core})

### Performance

- cache lookups ({perf})

### Other

- Update the README ({readme})
",
        breaking = link("HEAD~3"),
        health = link("HEAD~8"),
        branch = link("topic"),
        core = link("HEAD~7"),
        perf = link("HEAD~6"),
        readme = link("HEAD~1"),
    );
    assert_eq!(stdout, expected);
}

#[test]
fn changelog_json_has_every_commit_with_its_fields() {
    let repo = changelog_fixture();
    let out = tamma(&["changelog", "--format", "json", "--from", "v1.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let commits = json["sections"][0]["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 10);
    let health = commits.iter().find(|c| c["description"] == "add /health").unwrap();
    assert_eq!(health["type"], "feat");
    assert_eq!(health["scope"], "api");
    assert_eq!(health["pull_requests"], serde_json::json!([12]));
    assert_eq!(health["author"], "Test");
    assert_eq!(health["sha"].as_str().unwrap().len(), 40);
    let core = commits.iter().find(|c| c["scope"] == "core").unwrap();
    assert_eq!(core["footers"], serde_json::json!([["Refs", "#99"]]));
    assert!(commits.iter().any(|c| c["merge"] == true));
}

#[test]
fn changelog_of_every_release() {
    let repo = changelog_fixture();
    repo.git(&["tag", "v2.0.0"]);
    repo.commit("a", "fix: after");
    let out = tamma(&["changelog", "--all"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    let headings: Vec<&str> = stdout.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        vec!["## Unreleased", "## 2.0.0 (2026-01-01)", "## 1.0.0 (2026-01-01)"]
    );
    let out = tamma(&["changelog", "--to", "v2.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        text(&out).0.starts_with("## 2.0.0 (2026-01-01)\n"),
        "a tag's own section"
    );
}

#[test]
fn changelog_from_a_missing_ref_is_a_usage_error() {
    let repo = changelog_fixture();
    let out = tamma(&["changelog", "--from", "v9.9.9"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("--from: \"v9.9.9\" names no commit"), "{stderr}");
}

#[test]
fn links_come_from_origin_without_credentials() {
    let repo = changelog_fixture();
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://x-access-token:ghs_secret@github.com/acme/from-remote.git",
    ]);
    let out = tamma(&["changelog"]).current_dir(repo.path()).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("(https://github.com/acme/from-remote/commit/"),
        "{stdout}"
    );
    assert!(!stdout.contains("ghs_secret") && !stderr.contains("ghs_secret"));
}

#[test]
fn notes_template_arranges_the_notes() {
    let repo = TestRepo::with_history();
    repo.write(
        ".github/notes.md",
        "# {{ tag }}\n\nSince {{ previous_tag }}:\n\n{{ changelog }}\n\n{{ install }}\n",
    );
    repo.write(
        ".github/tamma-release.toml",
        "[release]\nnotes-template = \".github/notes.md\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"ghcr.io/acme/widget\"\n",
    );
    let report = json_of(repo.path(), &["plan", "--version", "0.3.0", "--json"]);
    let notes = report["plan"]["notes"].as_str().unwrap();
    assert!(
        notes.starts_with("# v0.3.0\n\nSince v0.2.0:\n\n## 0.3.0 (2026-01-01)\n"),
        "{notes}"
    );
    assert!(
        notes.ends_with("### Install\n\n```sh\ndocker pull ghcr.io/acme/widget:0.3.0\n```\n"),
        "{notes}"
    );
    repo.write(".github/notes.md", "{{ version }} {{ nope }}\n");
    let out = tamma(&["plan", "--version", "0.3.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains(".github/notes.md:1:15: unknown placeholder {{ nope }}"),
        "{stderr}"
    );
}
