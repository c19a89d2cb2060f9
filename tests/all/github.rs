//! Publishing to GitHub Releases against the stateful fake: the happy path, re-runs that write
//! nothing, and each failure mode users of other tools report (pain-points §2.2, §2.3, §2.9).

use std::process::Output;

use crate::support::github::{FakeGitHub, Fault, REPO, TOKEN};
use crate::support::{TestRepo, tamma, text};

const CONFIG: &str = r#"[github]
write-interval = "0s"
retry-wait = "10ms"

[[artifact]]
name = "widget-linux-x64.tar.gz"
kind = "archive"
files = ["bin/*"]

[[artifact]]
kind = "file"
path = "README.md"
"#;

fn project() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("bin/widget", "#!/bin/sh\necho widget\n");
    repo.write("README.md", "# widget\n");
    repo.write(".github/tamma-release.toml", CONFIG);
    repo.commit("a", "feat: widget");
    repo
}

fn release(repo: &TestRepo, fake: &FakeGitHub, args: &[&str]) -> Output {
    fake.release(repo.path(), args).output().unwrap()
}

fn assert_ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked");
    (stdout, stderr)
}

fn assert_complete(fake: &FakeGitHub, tag: &str, head: &str) {
    fake.with(|s| {
        let releases: Vec<_> = s.releases.iter().filter(|r| r.tag == tag).collect();
        assert_eq!(releases.len(), 1, "exactly one release for {tag}: {releases:?}");
        let release = releases[0];
        assert!(!release.draft, "published");
        let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "README.md",
                "SHA256SUMS",
                "release-journal.json",
                "release-plan.json",
                "widget-linux-x64.tar.gz"
            ]
        );
        assert!(
            release
                .assets
                .iter()
                .all(|a| a.state == "uploaded" && a.digest.is_some())
        );
        assert_eq!(
            s.tags.get(tag).map(String::as_str),
            Some(head),
            "the tag is at the built commit"
        );
        assert!(s.unexpected.is_empty(), "unexpected requests: {:?}", s.unexpected);
    });
}

#[test]
fn release_publishes_once_and_a_rerun_writes_nothing() {
    let repo = project();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let fake = FakeGitHub::start();
    let (stdout, _) = assert_ok(&release(&repo, &fake, &["--version", "1.0.0", "--json"]));
    assert_complete(&fake, "v1.0.0", &head);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["release"]["url"],
        format!("https://github.com/{REPO}/releases/tag/v1.0.0")
    );
    assert_eq!(report["release"]["assets"].as_array().unwrap().len(), 4);
    fake.with(|s| {
        let sums = s.releases[0]
            .assets
            .iter()
            .find(|a| a.name == "SHA256SUMS")
            .unwrap()
            .digest
            .clone();
        assert!(sums.is_some());
        assert_eq!(s.latest, Some(s.releases[0].id), "the highest stable release is latest");
        // The release: draft create, 4 uploads (3 assets and release-plan.json), tag, publish.
        // The transaction: the journal upload, the lock (a tag object and its ref), the unlock.
        assert_eq!(s.writes(), 7 + 4, "{:?}", s.log);
        // Requests: the release within assets + 6; the transaction adds 9 (the latest release,
        // read before staging and again under the lock; the journal looked for and attached; the
        // lock taken, checked and released).
        assert!(
            s.log.len() <= 4 + 6 + 9,
            "API requests per release at most assets + 15: {:?}",
            s.log
        );
    });
    let writes_before = fake.with(|s| s.writes());
    assert_ok(&release(&repo, &fake, &["--version", "1.0.0"]));
    assert_eq!(
        fake.with(|s| s.writes()),
        writes_before,
        "a re-run after success sends no write request"
    );
    assert_complete(&fake, "v1.0.0", &head);
}

#[test]
fn a_502_that_leaves_a_starter_asset_is_cleaned_up() {
    let repo = project();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let fake = FakeGitHub::start();
    fake.with(|s| s.faults.push(Fault::StarterThen502 { path: "/assets" }));
    let (_, stderr) = assert_ok(&release(&repo, &fake, &["--version", "1.0.0"]));
    assert!(stderr.contains("removed the half-uploaded"), "{stderr}");
    assert_complete(&fake, "v1.0.0", &head);
}

#[test]
fn a_failure_at_each_write_then_a_rerun_completes_without_duplicates() {
    for (method, path) in [
        ("POST", "/releases"),
        ("POST", "/assets"),
        ("POST", "/git/refs"),
        ("PATCH", "/releases/"),
    ] {
        let repo = project();
        let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
        let fake = FakeGitHub::start();
        fake.with(|s| {
            // Fail the write more often than any retry allows.
            for _ in 0..6 {
                s.faults.push(Fault::Status {
                    method,
                    path,
                    status: 500,
                });
            }
        });
        let out = release(&repo, &fake, &["--version", "1.0.0"]);
        assert_eq!(out.status.code(), Some(1), "{method} {path}: {}", text(&out).1);
        fake.with(|s| {
            assert!(
                s.releases.iter().all(|r| r.draft),
                "{method} {path}: nothing was published"
            );
            s.faults.clear();
        });
        assert_ok(&release(&repo, &fake, &["--version", "1.0.0"]));
        assert_complete(&fake, "v1.0.0", &head);
    }
}

#[test]
fn secondary_rate_limits_are_waited_out() {
    let repo = project();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.faults.push(Fault::RetryAfter {
            method: "GET",
            path: "/releases",
            seconds: 1,
        });
        s.faults.push(Fault::RetryAfter {
            method: "POST",
            path: "/releases",
            seconds: 1,
        });
        // An asset upload (streamed from its file): waited out, then sent again from the start.
        s.faults.push(Fault::RetryAfter {
            method: "POST",
            path: "/assets",
            seconds: 1,
        });
    });
    let started = std::time::Instant::now();
    let (_, stderr) = assert_ok(&release(&repo, &fake, &["--version", "1.0.0"]));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "retry-after honoured"
    );
    fake.with(|s| {
        assert!(s.faults.is_empty(), "every fault was met: {:?}", s.faults);
        assert!(
            s.releases[0]
                .assets
                .iter()
                .all(|a| a.state == "uploaded" && a.digest.is_some()),
            "{:?}",
            s.releases[0].assets
        );
    });
    assert!(stderr.contains("rate limited"), "{stderr}");
    assert_complete(&fake, "v1.0.0", &head);
}

#[test]
fn two_runs_racing_for_one_tag_end_with_one_release() {
    let repo = project();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let fake = FakeGitHub::start();
    let spawn = || fake.release(repo.path(), &["--version", "1.0.0"]).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() || b.status.success(),
        "{}\n{}",
        text(&a).1,
        text(&b).1
    );
    // Whichever lost a step converges on a re-run, still with one release.
    assert_ok(&release(&repo, &fake, &["--version", "1.0.0"]));
    assert_complete(&fake, "v1.0.0", &head);
}

#[test]
fn an_older_version_never_becomes_latest_and_prereleases_are_marked() {
    let repo = project();
    let fake = FakeGitHub::start();
    assert_ok(&release(&repo, &fake, &["--version", "2.0.0"]));
    let latest = fake.with(|s| s.latest);
    repo.commit("b", "fix: backport");
    assert_ok(&release(&repo, &fake, &["--version", "1.4.9"]));
    assert_eq!(fake.with(|s| s.latest), latest, "1.4.9 after 2.0.0 is not latest");
    repo.git(&["checkout", "-q", "-b", "next"]);
    repo.commit("c", "feat: next");
    assert_ok(&release(&repo, &fake, &["--version", "2.1.0-rc.0"]));
    fake.with(|s| {
        let rc = s.releases.iter().find(|r| r.tag == "v2.1.0-rc.0").unwrap();
        assert!(rc.prerelease);
        assert_eq!(s.latest, latest, "a prerelease is never latest");
    });
}

#[test]
fn refusals_before_anything_is_written() {
    let repo = project();
    let fake = FakeGitHub::start();
    // A wrong token: exit 2, says which input, never shows the token.
    let out = tamma(&["release", "--version", "1.0.0"])
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", "ghs_wrong_token_value")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("github-token") && stderr.contains("401"), "{stderr}");
    assert!(!stderr.contains("ghs_wrong_token_value"));
    // No token at all.
    let out = tamma(&["release", "--version", "1.0.0"])
        .current_dir(repo.path())
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("needs a token"));
    // The tag exists on another commit.
    fake.with(|s| {
        s.tags
            .insert("v1.0.0".into(), "0000000000000000000000000000000000000001".into())
    });
    let out = release(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("the tag v1.0.0 on GitHub points at 0000000000000000000000000000000000000001"),
        "{}",
        text(&out).1
    );
    // An asset name GitHub would rename: refused when the config is read, pointing at the line.
    repo.write(
        ".github/tamma-release.toml",
        &CONFIG.replace(
            "kind = \"file\"\npath = \"README.md\"",
            "kind = \"file\"\npath = \"README.md\"\nname = \"read me.md\"",
        ),
    );
    let out = release(&repo, &fake, &["--version", "1.1.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains(":13:8: the file artifact name \"read me.md\" would be renamed by GitHub"),
        "{}",
        text(&out).1
    );
    fake.with(|s| {
        assert_eq!(s.writes(), 0, "nothing was written: {:?}", s.log);
        assert!(s.releases.is_empty());
    });
}

#[test]
fn a_gibibyte_asset_streams_in_bounded_memory() {
    let repo = TestRepo::new();
    let big = std::fs::File::create(repo.path().join("big.bin")).unwrap();
    big.set_len(1 << 30).unwrap();
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"file\"\npath = \"big.bin\"\n",
    );
    repo.commit("a", "feat: big");
    let fake = FakeGitHub::start();
    let rss_file = repo.path().join("rss.txt");
    let started = std::time::Instant::now();
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_tamma-release"))
        .args(["release", "--version", "1.0.0"])
        .current_dir(repo.path())
        .env_clear()
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .expect("GNU time runs (scripts/test installs it)");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let kib: u64 = std::fs::read_to_string(&rss_file).unwrap().trim().parse().unwrap();
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB while uploading 1 GiB");
    println!(
        "released a 1 GiB asset in {:?} with a peak RSS of {kib} KiB",
        started.elapsed()
    );
    fake.with(|s| {
        let asset = s.releases[0].assets.iter().find(|a| a.name == "big.bin").unwrap();
        assert_eq!(asset.size, 1 << 30);
    });
}
