//! Our own release, rehearsed end to end: the release workflow's matrix jobs (prepare and a
//! partial build per target, each in its own checkout) and its publish job (this repository's
//! action merging the partials), with this repository's release config, against the GitHub fake
//! and a loopback registry. Then the rollback workflow's job.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::github::{FakeGitHub, REPO, TOKEN};
use crate::support::registries::Registry;
use crate::support::runner::parse_file_command;
use crate::support::{TestRepo, root, tamma, text};

const CONFIG: &str = ".github/release/tamma-release.toml";
const TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-apple-darwin"];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out).1);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// This repository's action.yml, release config (pointed at the loopback registry) and a
/// Cargo.toml, in a fresh repository.
fn project(registry: &Registry) -> TestRepo {
    let repo = TestRepo::new();
    let config = std::fs::read_to_string(root().join(CONFIG)).unwrap().replace(
        "ghcr.io/meywd/tamma-release",
        &format!("{}/meywd/tamma-release", registry.host),
    );
    repo.write(CONFIG, &config);
    repo.write(
        "action.yml",
        &std::fs::read_to_string(root().join("action.yml")).unwrap(),
    );
    repo.write(
        ".gitignore",
        "/target\n/dist\n/partials\n/docs/book\n/image\n/image.tar\n",
    );
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"tamma-release\"\nversion = \"0.0.0\"\nedition = \"2024\"\n",
    );
    repo.write("README.md", "# tamma-release\n");
    repo.commit("CHANGES", "feat: first");
    repo
}

fn clone(repo: &TestRepo) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["clone", "-q"])
        .arg(repo.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    git(dir.path(), &["fetch", "-q", "--tags"]);
    dir
}

fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let shown: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
    assert!(
        !shown.join("\n").contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
    stdout
}

/// One matrix job: write the version, "compile" the binary, build the partial.
fn matrix_job(repo: &TestRepo, version: &str, target: &str) -> tempfile::TempDir {
    let runner = clone(repo);
    let cli = |args: &[&str]| {
        let mut all = vec!["release", "--config", CONFIG, "--version", version];
        all.extend_from_slice(args);
        tamma(&all).current_dir(runner.path()).output().unwrap()
    };
    ok(&cli(&["--stages", "prepare"]));
    let cargo = std::fs::read_to_string(runner.path().join("Cargo.toml")).unwrap();
    assert!(cargo.contains(&format!("version = \"{version}\"")), "{cargo}");
    let binary = runner.path().join(format!("target/{target}/release/tamma-release"));
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::write(
        &binary,
        format!("#!/bin/sh\necho tamma-release {version} for {target}\n"),
    )
    .unwrap();
    ok(&cli(&["--stages", "build", "--partial", target]));
    runner
}

/// The publish job: the partials downloaded, the image built to an OCI tar, the docs built, then
/// this repository's action on the tag push. Returns (outputs, summary).
fn publish_job(
    repo: &TestRepo,
    fake: &FakeGitHub,
    version: &str,
    partials: &[(&str, tempfile::TempDir)],
    dry_run: bool,
) -> (std::collections::BTreeMap<String, String>, String) {
    // The tag was pushed: it is in the repository, on GitHub and in the checkout.
    let tag = format!("v{version}");
    if !repo.git(&["tag", "--list", &tag]).contains(&tag) {
        repo.git(&["tag", &tag]);
    }
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    fake.with(|s| s.tags.insert(tag.clone(), head.clone()));
    let runner = clone(repo);
    let dir = runner.path();
    for (target, job) in partials {
        let into = dir.join(format!("partials/partial-{target}"));
        std::fs::create_dir_all(&into).unwrap();
        for entry in std::fs::read_dir(job.path().join("dist")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() {
                std::fs::copy(entry.path(), into.join(entry.file_name())).unwrap();
            }
        }
    }
    tamma_release::build::oci::write_test_layout(&dir.join("image"), "tamma-release", version.as_bytes()).unwrap();
    let tar = Command::new("tar")
        .args(["-cf", "image.tar", "-C", "image", "."])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(tar.success());
    std::fs::create_dir_all(dir.join("docs/book")).unwrap();
    std::fs::write(
        dir.join("docs/book/index.html"),
        format!("<h1>tamma-release {version}</h1>\n"),
    )
    .unwrap();

    let (out, outputs, summary) = fake.action(
        dir,
        "push",
        &format!("refs/tags/{tag}"),
        &serde_json::json!({ "ref": format!("refs/tags/{tag}") }),
        &[
            ("config", CONFIG),
            ("merge", "partials/*"),
            ("dry-run", if dry_run { "true" } else { "" }),
        ],
    );
    ok(&out);
    (parse_file_command(&outputs).unwrap(), summary)
}

fn ship(repo: &TestRepo, fake: &FakeGitHub, version: &str) -> (std::collections::BTreeMap<String, String>, String) {
    let partials: Vec<(&str, tempfile::TempDir)> = TARGETS.iter().map(|t| (*t, matrix_job(repo, version, t))).collect();
    // First the publish job as a dry run: it reads the partials, writes nothing, says everything.
    let writes = fake.with(|s| s.writes());
    let (_, summary) = publish_job(repo, fake, version, &partials, true);
    assert_eq!(fake.with(|s| s.writes()), writes, "a dry run writes nothing");
    for expected in [
        "(dry run — nothing was published)",
        "| build | would merge tamma-release-x86_64-unknown-linux-musl.tar.gz",
        "| build | would merge tamma-release-aarch64-apple-darwin.tar.gz",
        "| git-tag | would record where v{major} points",
    ] {
        assert!(
            summary.contains(expected),
            "the dry run's summary lacks {expected:?}:\n{summary}"
        );
    }
    publish_job(repo, fake, version, &partials, false)
}

/// The action.yml on the commit the floating tag points at.
fn action_yml_at_tag(fake: &FakeGitHub, tag: &str) -> (String, String) {
    fake.with(|s| {
        let commit = s.tags[tag].clone();
        let (tree, _) = &s.commits[&commit];
        let (_, blob) = s.trees[tree].iter().find(|(p, _)| p == "action.yml").unwrap();
        (commit, String::from_utf8(s.blobs[blob].clone()).unwrap())
    })
}

#[test]
fn the_release_workflow_publishes_every_archive_the_image_and_moves_v0() {
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let repo = project(&registry);
    ship(&repo, &fake, "0.2.0");
    let (v020_commit, _) = action_yml_at_tag(&fake, "v0");
    let v020_image = registry.digest("meywd/tamma-release", "latest");

    repo.commit("CHANGES", "feat: second");
    let (outputs, summary) = ship(&repo, &fake, "0.3.0");
    let image = format!("{}/meywd/tamma-release", registry.host);
    let digest = registry
        .digest("meywd/tamma-release", "0.3.0")
        .expect("the image was pushed");

    // One release with every archive, SHA256SUMS, the plan and the journal.
    fake.with(|s| {
        let releases: Vec<_> = s.releases.iter().filter(|r| r.tag == "v0.3.0").collect();
        assert_eq!(releases.len(), 1);
        assert!(!releases[0].draft);
        let mut names: Vec<&str> = releases[0].assets.iter().map(|a| a.name.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "SHA256SUMS",
                "release-journal.json",
                "release-plan.json",
                "tamma-release-aarch64-apple-darwin.tar.gz",
                "tamma-release-x86_64-unknown-linux-musl.tar.gz"
            ]
        );
        let sums = releases[0].assets.iter().find(|a| a.name == "SHA256SUMS").unwrap();
        let sums = String::from_utf8(sums.content.clone().unwrap()).unwrap();
        assert_eq!(sums.lines().count(), 2, "{sums}");
    });
    // The image, by digest, and latest on it.
    assert_eq!(
        registry.digest("meywd/tamma-release", "latest").as_deref(),
        Some(digest.as_str())
    );
    let images: Value = serde_json::from_str(&outputs["images"]).unwrap();
    assert_eq!(images[format!("{image}:0.3.0")], digest.as_str());
    // v0 moved to a commit on top of v0.3.0 whose action.yml runs that image.
    let (commit, action) = action_yml_at_tag(&fake, "v0");
    let release_commit = fake.with(|s| s.tags["v0.3.0"].clone());
    assert_eq!(fake.with(|s| s.commits[&commit].1.clone()), [release_commit]);
    assert!(
        action.contains(&format!("  image: 'docker://{image}@{digest}'")),
        "{action}"
    );
    assert!(
        !action
            .lines()
            .any(|l| l.trim_start().starts_with("image:") && l.contains("Dockerfile")),
        "{action}"
    );
    // A summary a maintainer is glad to read: what, where, and what moved.
    for expected in [
        "## tamma-release v0.3.0 (released)",
        "tamma-release-x86_64-unknown-linux-musl.tar.gz",
        "tamma-release-aarch64-apple-darwin.tar.gz",
        "`tag v0`",
        &format!("`{image}:latest`"),
        &format!("| `{image}:0.3.0` | `{digest}` |"),
        &format!("| `sha256:{}` |", &digest[7..19]),
        "| `the latest GitHub release` | `v0.2.0` | `v0.3.0` |",
    ] {
        assert!(summary.contains(expected), "summary lacks {expected:?}:\n{summary}");
    }

    // The rollback workflow's job: v0, latest and GitHub's latest go back to 0.2.0.
    let out = tamma(&["rollback", "--config", CONFIG])
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(
        action_yml_at_tag(&fake, "v0").0,
        v020_commit,
        "v0 is back on 0.2.0's action commit"
    );
    assert_eq!(registry.digest("meywd/tamma-release", "latest"), v020_image);
    fake.with(|s| {
        let latest = s.latest.and_then(|id| s.releases.iter().find(|r| r.id == id)).unwrap();
        assert_eq!(latest.tag, "v0.2.0");
    });
}

/// The matrix job for the host target, on a checkout of this very repository with the real
/// static binary: the prepare stage writes the version, the partial build packs the binary, and
/// the binary in the archive runs.
#[test]
fn the_host_targets_matrix_job_builds_its_archive_from_this_repository() {
    let binary = crate::image::static_binary();
    let checkout = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["clone", "-q", "--no-local"])
        .arg(root())
        .arg(checkout.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let dir = checkout.path();
    let placed = dir.join("target/x86_64-unknown-linux-musl/release/tamma-release");
    std::fs::create_dir_all(placed.parent().unwrap()).unwrap();
    std::fs::copy(&binary, &placed).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["release", "--config", CONFIG, "--version", "9.8.7"];
        all.extend_from_slice(args);
        tamma(&all).current_dir(dir).output().unwrap()
    };
    ok(&run(&["--stages", "prepare"]));
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("version = \"9.8.7\""),
        "the prepare stage wrote the version"
    );
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"tamma-release\"\nversion = \"9.8.7\""),
        "and Cargo.lock's"
    );
    ok(&run(&["--stages", "build", "--partial", "x86_64-unknown-linux-musl"]));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/partial-x86_64-unknown-linux-musl.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tamma-release-x86_64-unknown-linux-musl.tar.gz"]);
    let unpacked = tempfile::tempdir().unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(dir.join("dist/tamma-release-x86_64-unknown-linux-musl.tar.gz"))
        .arg("-C")
        .arg(unpacked.path())
        .status()
        .unwrap();
    assert!(tar.success());
    assert!(unpacked.path().join("README.md").is_file());
    let version = Command::new(unpacked.path().join("tamma-release"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(text(&version).0.starts_with("tamma-release "), "{}", text(&version).0);
}
