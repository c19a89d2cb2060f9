//! Versions and notes on histories shaped like the real ones of semantic-release, release-please
//! and git-cliff (issue 16): a stable release after nine betas, a channel that sorts lower than
//! another, prerelease counters from 1, real merge commits, misspelled types, mixed channels in
//! `--all` — and a release that needs no flags, that is no failure when there is nothing to
//! release, and that can commit its own version bump.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, json_of, root, tamma, text};

/// Commits `message` (touching `file`) at `seconds` after 2026-01-01, so time order is known.
fn commit_at(repo: &TestRepo, file: &str, message: &str, seconds: u64) -> String {
    let path = repo.path().join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(message);
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    repo.git(&["add", "-A"]);
    let date = format!("{}", 1_767_225_600 + seconds);
    let out = Command::new("git")
        .args(["commit", "-q", "-m", message])
        .current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_COMMITTER_DATE", format!("@{date} +0000"))
        .env("GIT_AUTHOR_DATE", format!("@{date} +0000"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

fn version(repo: &TestRepo, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["version"];
    all.extend_from_slice(args);
    let out = tamma(&all).current_dir(repo.path()).output().unwrap();
    (out.status.code(), text(&out).0.trim().to_string() + &text(&out).1)
}

#[test]
fn a_stable_release_after_nine_betas_lists_everything_since_the_last_stable() {
    let repo = TestRepo::new();
    let mut t = 0;
    let mut next = |repo: &TestRepo, message: &str| {
        t += 60;
        commit_at(repo, "src.txt", message, t)
    };
    next(&repo, "feat: the 21 line");
    repo.git(&["tag", "v21.0.0"]);
    let breaking = [
        "feat!: drop Node 18",
        "fix(api)!: the config file is required",
        "refactor!: remove the legacy plugin API",
        "feat: new preset\n\nBREAKING CHANGE: presets are ESM only",
        "perf!: cache by default",
    ];
    for beta in 1..=9 {
        if let Some(message) = breaking.get(beta - 1) {
            next(&repo, message);
        } else {
            next(&repo, &format!("fix: beta fix {beta}"));
        }
        repo.git(&["tag", &format!("v22.0.0-beta.{beta}")]);
    }
    next(&repo, "chore: prepare 22");
    let (code, out) = version(&repo, &[]);
    assert_eq!(
        (code, out.lines().next().unwrap_or_default()),
        (Some(0), "22.0.0"),
        "{out}"
    );
    let plan = json_of(repo.path(), &["plan", "--version", "22.0.0", "--json"]);
    let notes = plan["plan"]["changelog"].as_str().unwrap();
    for text in [
        "drop Node 18",
        "the config file is required",
        "remove the legacy plugin API",
        "presets are ESM only",
        "cache by default",
    ] {
        assert!(notes.contains(text), "{text} missing from:\n{notes}");
    }
    assert!(!notes.contains("No user-facing changes"), "{notes}");
    assert_eq!(plan["plan"]["previous-version"], "21.0.0");
    assert_eq!(plan["plan"]["previous-tag"], "v21.0.0");
    // The same range for the tag later, in `changelog` and in `--all`.
    repo.git(&["tag", "v22.0.0"]);
    let out = tamma(&["changelog", "--to", "v22.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(text(&out).0.contains("drop Node 18"), "{}", text(&out).0);
    let all = json_of(repo.path(), &["changelog", "--all", "--format", "json"]);
    let stable = all["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["version"] == "22.0.0")
        .unwrap();
    assert_eq!(stable["previous_tag"], "v21.0.0");
    assert!(stable["commits"].as_array().unwrap().len() >= 10, "{stable}");
    // A prerelease's notes cover only what came since the release before it.
    let beta5 = tamma(&["changelog", "--to", "v22.0.0-beta.5"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let beta5 = text(&beta5).0;
    assert!(
        beta5.contains("cache by default") && !beta5.contains("drop Node 18"),
        "{beta5}"
    );
}

#[test]
fn a_channel_that_sorts_lower_continues_from_its_own_tags() {
    let repo = TestRepo::new();
    commit_at(&repo, "a", "feat: one", 60);
    repo.git(&["tag", "v24.0.0"]);
    commit_at(&repo, "a", "feat!: two", 120);
    repo.git(&["tag", "v25.0.0-alpha.1"]);
    commit_at(&repo, "a", "fix: three", 180);
    repo.git(&["tag", "v25.0.0-alpha.2"]);
    commit_at(&repo, "a", "fix: four", 240);
    repo.git(&["tag", "v25.0.0-beta.3"]);
    commit_at(&repo, "a", "fix: five", 300);
    for args in [&["--bump", "alpha"][..], &["--bump", "auto", "--preid", "alpha"]] {
        let (code, out) = version(&repo, args);
        assert_eq!(
            (code, out.lines().next().unwrap_or_default()),
            (Some(0), "25.0.0-alpha.3"),
            "{args:?}: {out}"
        );
    }
    let (_, beta) = version(&repo, &["--bump", "beta"]);
    assert!(beta.starts_with("25.0.0-beta.4"), "{beta}");
    let plan = json_of(repo.path(), &["plan", "--bump", "alpha", "--json"]);
    assert_eq!(plan["plan"]["version"], "25.0.0-alpha.3");
    // A version is never one that exists, and a lower channel still may not go below its own.
    let out = tamma(&["plan", "--version", "25.0.0-alpha.1"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
}

#[test]
fn prerelease_counters_can_start_at_one() {
    let repo = TestRepo::new();
    repo.write(".github/tamma-release.toml", "[version]\nprerelease-start = 1\n");
    commit_at(&repo, "a", "feat: one", 60);
    repo.git(&["tag", "v1.2.3"]);
    commit_at(&repo, "a", "feat: two", 120);
    for (args, want) in [
        (&["--bump", "beta"][..], "1.2.4-beta.1"),
        (&["--bump", "auto", "--preid", "beta"], "1.3.0-beta.1"),
        (&["--bump", "premajor", "--preid", "rc"], "2.0.0-rc.1"),
        (&["--current", "1.2.3", "--bump", "alpha"], "1.2.4-alpha.1"),
    ] {
        let (code, out) = version(&repo, args);
        assert_eq!(
            (code, out.lines().next().unwrap_or_default()),
            (Some(0), want),
            "{args:?}: {out}"
        );
    }
    repo.write(".github/tamma-release.toml", "[version]\nprerelease-start = 2\n");
    let (code, out) = version(&repo, &["--bump", "beta"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("prerelease-start is 2; it is 0"), "{out}");
}

#[test]
fn merge_commits_are_found_by_their_parents() {
    let repo = TestRepo::new();
    commit_at(&repo, "a", "feat: base", 60);
    repo.git(&["tag", "v1.0.0"]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    commit_at(&repo, "b", "docs: explain the topic", 120);
    repo.git(&["checkout", "-q", "main"]);
    commit_at(&repo, "c", "chore: tidy", 180);
    let out = Command::new("git")
        .args(["merge", "-q", "--no-ff", "topic", "-m", "fix: squash-style title (#12)"])
        .current_dir(repo.path())
        .env("GIT_COMMITTER_DATE", "@1767225840 +0000")
        .env("GIT_AUTHOR_DATE", "@1767225840 +0000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    // The merge's title is no fix: only docs and chores since 1.0.0.
    let (code, out) = version(&repo, &[]);
    assert_eq!(code, Some(3), "{out}");
    repo.git(&["checkout", "-q", "-b", "next"]);
    commit_at(&repo, "d", "feat: the next major work", 300);
    repo.git(&["checkout", "-q", "main"]);
    let out = Command::new("git")
        .args(["merge", "-q", "--no-ff", "next", "-m", "next major (#3111)"])
        .current_dir(repo.path())
        .env("GIT_COMMITTER_DATE", "@1767225960 +0000")
        .env("GIT_AUTHOR_DATE", "@1767225960 +0000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let plan = json_of(repo.path(), &["plan", "--json"]);
    assert_eq!(plan["plan"]["version"], "1.1.0");
    let notes = plan["plan"]["changelog"].as_str().unwrap();
    assert!(
        notes.contains("the next major work") && notes.contains("explain the topic"),
        "{notes}"
    );
    assert!(
        !notes.contains("next major (#3111)") && !notes.contains("squash-style title"),
        "{notes}"
    );
}

#[test]
fn misspelled_types_land_where_they_were_meant() {
    let repo = TestRepo::new();
    commit_at(&repo, "a", "feat: base", 60);
    repo.git(&["tag", "v1.0.0"]);
    commit_at(&repo, "a", "doc: spelling in the guide", 120);
    commit_at(&repo, "a", "docs(README) fix the install line", 180);
    commit_at(&repo, "a", "feature(cli): a flag", 240);
    commit_at(&repo, "a", "Update(parser) tabs", 300);
    let plan = json_of(repo.path(), &["plan", "--json"]);
    assert_eq!(plan["plan"]["version"], "1.1.0", "feature: is a feat");
    let notes = plan["plan"]["changelog"].as_str().unwrap();
    let docs = notes.split("### Documentation").nth(1).unwrap_or_default();
    assert!(
        docs.contains("spelling in the guide") && docs.contains("**README:** fix the install line"),
        "{notes}"
    );
    assert!(
        notes.contains("### Other") && notes.contains("- Update(parser) tabs"),
        "{notes}"
    );
    // Non-conventional commits can be hidden.
    repo.write(
        ".github/tamma-release.toml",
        "[commits]\nother = \"\"\naliases = { doc = \"chore\" }\n",
    );
    let plan = json_of(repo.path(), &["plan", "--json"]);
    let notes = plan["plan"]["changelog"].as_str().unwrap();
    assert!(
        !notes.contains("Update(parser)") && !notes.contains("spelling"),
        "{notes}"
    );
}

#[test]
fn all_orders_mixed_channels_by_precedence() {
    let repo = TestRepo::new();
    commit_at(&repo, "a", "feat: base", 60);
    repo.git(&["tag", "v24.0.0"]);
    for (i, tag) in ["v25.0.0-beta.10", "v25.0.0-alpha.7", "v25.0.0-beta.11"]
        .iter()
        .enumerate()
    {
        commit_at(&repo, "a", &format!("fix: change {i}"), 120 + 60 * i as u64);
        repo.git(&["tag", tag]);
    }
    let all = json_of(repo.path(), &["changelog", "--all", "--format", "json"]);
    let order: Vec<&str> = all["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["version"].as_str())
        .collect();
    assert_eq!(order, ["25.0.0-beta.11", "25.0.0-beta.10", "25.0.0-alpha.7", "24.0.0"]);
}

#[test]
fn a_release_needs_no_flags_and_nothing_to_release_is_no_failure_in_a_workflow() {
    let repo = TestRepo::with_history();
    // `release`, `plan` and `validate` use [release] bump, `auto` by default.
    let plan = json_of(repo.path(), &["plan", "--json"]);
    assert_eq!(plan["plan"]["version"], "0.3.0");
    let out = tamma(&["release", "--dry-run"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    repo.write(".github/tamma-release.toml", "[release]\nbump = \"patch\"\n");
    assert_eq!(json_of(repo.path(), &["plan", "--json"])["plan"]["version"], "0.2.1");
    repo.write(".github/tamma-release.toml", "[release]\nbump = \"sideways\"\n");
    let out = tamma(&["plan"]).current_dir(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains(".github/tamma-release.toml:2:1:"),
        "{}",
        text(&out).1
    );
    std::fs::remove_file(repo.path().join(".github/tamma-release.toml")).unwrap();
    // Only docs and chores since 0.3.0: the CLI says exit 3; a workflow step succeeds.
    repo.git(&["tag", "v0.3.0"]);
    repo.commit("c.txt", "docs: more words");
    repo.commit("c.txt", "chore: tidy");
    let out = tamma(&["release"]).current_dir(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out).1);
    let fake = FakeGitHub::start();
    let (out, outputs, summary) = fake.action(repo.path(), "push", "refs/heads/main", &json!({}), &[]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let outputs = crate::support::runner::parse_file_command(&outputs).unwrap();
    assert_eq!(outputs["released"], "false");
    assert_eq!(outputs["version"], "");
    assert!(stdout.contains("::notice::nothing to release"), "{stdout}");
    assert!(
        summary.contains("nothing to release") && summary.contains("no feat, fix, perf or breaking commit"),
        "{summary}"
    );
    fake.with(|s| assert_eq!(s.writes(), 0, "{:?}", s.log));
    // With a fix it releases, and says so.
    repo.commit("c.txt", "fix: a real bug");
    let (out, outputs, _) = fake.action(repo.path(), "push", "refs/heads/main", &json!({}), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    let outputs = crate::support::runner::parse_file_command(&outputs).unwrap();
    assert_eq!(
        (outputs["released"].as_str(), outputs["version"].as_str()),
        ("true", "0.3.1")
    );
}

#[test]
fn the_release_commit_goes_through_the_api_and_is_what_the_tag_names() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write(
        "package.json",
        "{\n  \"name\": \"widget\",\n  \"version\": \"0.1.0\"\n}\n",
    );
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[version]\nfiles = [\"package.json\"]\nchangelog = \"CHANGELOG.md\"\ncommit = true\n",
    );
    commit_at(&repo, "a", "feat: first", 60);
    repo.git(&["tag", "v0.1.0"]);
    let head = commit_at(&repo, "a", "fix: second", 120);
    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.branches.insert("main".into(), head.clone());
    });
    // The dry run says what it would commit, and writes nothing.
    let out = fake.release(repo.path(), &["--dry-run", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(
        text(&out)
            .0
            .contains("commit package.json, CHANGELOG.md to main as \\\"chore(release): 0.1.1 [skip ci]\\\""),
        "{}",
        text(&out).0
    );
    fake.with(|s| assert_eq!(s.writes(), 0));
    // A branch that moved is refused before anything is written.
    fake.with(|s| {
        s.branches
            .insert("main".into(), "1111111111111111111111111111111111111111".into());
    });
    let out = fake.release(repo.path(), &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("the branch main moved since this checkout"),
        "{}",
        text(&out).1
    );
    fake.with(|s| assert_eq!(s.writes(), 0, "{:?}", s.log));
    // That run wrote the version files in its checkout; the next run starts from a clean one.
    repo.git(&["checkout", "-q", "--", "package.json"]);
    let _ = std::fs::remove_file(repo.path().join("CHANGELOG.md"));
    fake.with(|s| {
        s.branches.insert("main".into(), head.clone());
    });
    let out = fake.release(repo.path(), &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| {
        let posts = |suffix: &str| s.log.iter().filter(|(m, p)| m == "POST" && p.ends_with(suffix)).count();
        assert_eq!(posts("/git/blobs"), 2, "package.json and CHANGELOG.md: {:?}", s.log);
        assert_eq!(posts("/git/trees"), 1);
        assert_eq!(posts("/git/commits"), 1);
        let branch_moves = s
            .log
            .iter()
            .filter(|(m, p)| m == "PATCH" && p.ends_with("/git/refs/heads/main"))
            .count();
        assert_eq!(branch_moves, 1);
        let release_commit = s.branches["main"].clone();
        assert_ne!(release_commit, head);
        assert_eq!(
            s.commits[&release_commit].1,
            vec![head.clone()],
            "its only parent is the checkout's HEAD"
        );
        assert_eq!(s.commit_messages[&release_commit], "chore(release): 0.1.1 [skip ci]");
        assert_eq!(s.tags["v0.1.1"], release_commit, "the tag names the release commit");
        let files: Vec<String> = s.trees[&s.commits[&release_commit].0]
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        assert_eq!(files, ["package.json", "CHANGELOG.md"]);
    });
}

/// Generated commit lists, the same next version as semantic-release's commit-analyzer
/// (conventionalcommits preset) with node-semver's inc(). Outside the comparison, documented in
/// the README: 0.x (`breaking-before-1`), `revert:` (commit-analyzer releases a revert only when
/// its body names the commit), tamma's aliases and colon-less headers, and merge commits.
#[test]
fn auto_bumps_agree_with_semantic_releases_commit_analyzer() {
    let types = [
        "feat", "fix", "perf", "docs", "chore", "refactor", "test", "build", "ci", "style",
    ];
    let mut seed: u64 = 0x5eed_cafe;
    let mut random = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    let mut cases = Vec::new();
    for _ in 0..400 {
        let count = 1 + random(5);
        let mut messages = Vec::new();
        for _ in 0..count {
            let kind = types[random(types.len())];
            let scope = if random(3) == 0 { "(core)" } else { "" };
            let bang = if random(12) == 0 { "!" } else { "" };
            let footer = if random(15) == 0 {
                "\n\nBREAKING CHANGE: it changed"
            } else {
                ""
            };
            let message = match random(10) {
                0 => "Update the readme".to_string(),
                _ => format!("{kind}{scope}{bang}: change number {}{footer}", random(1000)),
            };
            messages.push(message);
        }
        let current = format!("{}.{}.{}", 1 + random(3), random(5), random(5));
        cases.push(json!({"current": current, "messages": messages}));
    }
    let mut node = Command::new("node")
        .arg(root().join("tests/node/analyze-commits.mjs"))
        .current_dir(root().join("tests/node"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test installs it)");
    use std::io::Write;
    node.stdin
        .take()
        .unwrap()
        .write_all(Value::Array(cases.clone()).to_string().as_bytes())
        .unwrap();
    let out = node.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let rules = tamma_release::plan::changelog::Rules::from_config(&Default::default());
    let mut agreed = 0;
    for (case, theirs) in cases.iter().zip(&theirs) {
        let entries: Vec<tamma_release::plan::changelog::Entry> = case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                tamma_release::plan::changelog::Entry::new(tamma_release::plan::git::CommitInfo {
                    id: format!("{i:040x}"),
                    author: "A".into(),
                    time: 0,
                    message: m.as_str().unwrap().to_string(),
                    parents: 1,
                })
            })
            .collect();
        let current = semver::Version::parse(case["current"].as_str().unwrap()).unwrap();
        let ours = tamma_release::plan::changelog::level_of(&entries, &rules, false).map(|level| {
            let kind = match level {
                tamma_release::config::BumpLevel::Major => tamma_release::plan::bump::BumpKind::Major,
                tamma_release::config::BumpLevel::Minor => tamma_release::plan::bump::BumpKind::Minor,
                _ => tamma_release::plan::bump::BumpKind::Patch,
            };
            tamma_release::plan::bump::inc(&current, kind, None)
                .unwrap()
                .to_string()
        });
        assert_eq!(
            ours.as_deref(),
            theirs["next"].as_str(),
            "{case}: commit-analyzer says {theirs}"
        );
        agreed += 1;
    }
    assert_eq!(agreed, 400);
}
