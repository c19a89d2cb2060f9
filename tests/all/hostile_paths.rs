//! A repository is not trusted as a source of paths: committed symbolic links, `..` in names,
//! link loops and doctored partial manifests must not carry a file in or out of the repository,
//! `dist/` or the docs site. Each test here reproduces one way a hostile contributor tried it
//! (issue 14) and runs the real binary.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, tamma, text};

/// A secret outside every repository: what a link tries to smuggle out.
const SECRET: &str = "TOP-SECRET-OUTSIDE-THE-REPOSITORY";

fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.txt"), format!("{SECRET}\n")).unwrap();
    dir
}

/// Runs `cmd` and fails the test if it takes longer than a minute (a link loop walked forever).
fn within_a_minute(mut cmd: Command) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("still running after a minute: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn build(repo: &TestRepo, extra: &[&str]) -> Output {
    let mut args = vec!["release", "--version", "1.0.0", "--stages", "build"];
    args.extend_from_slice(extra);
    within_a_minute({
        let mut cmd = tamma(&args);
        cmd.current_dir(repo.path());
        cmd
    })
}

fn config(repo: &TestRepo, text: &str) {
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n{text}"),
    );
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn npm_tarballs_leave_symlinks_out_as_npm_pack_does() {
    let secret = outside();
    let repo = TestRepo::new();
    let pkg = repo.path().join("pkg");
    repo.write(
        "pkg/package.json",
        "{\"name\":\"@acme/widget\",\"version\":\"0.0.0\",\"main\":\"inlink.js\",\"files\":[\"lib\",\"notes.txt\",\"linkdir\",\"inlink.js\"]}\n",
    );
    repo.write("pkg/lib/index.js", "module.exports = 1;\n");
    symlink(secret.path().join("secret.txt"), pkg.join("notes.txt")).unwrap();
    symlink(secret.path(), pkg.join("linkdir")).unwrap();
    symlink("lib/index.js", pkg.join("inlink.js")).unwrap();
    symlink(".", pkg.join("lib/self")).unwrap();
    config(&repo, "[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n");
    repo.commit("x", "feat: pkg");
    let expected = crate::build::real_npm_file_list(&pkg);
    assert_eq!(expected, ["lib/index.js", "package.json"], "what the real npm packs");
    let out = build(&repo, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let tarball = repo.path().join("dist/acme-widget-1.0.0.tgz");
    let listing = Command::new("tar").arg("-tzf").arg(&tarball).output().unwrap();
    let ours: Vec<String> = String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("package/").to_string())
        .collect();
    assert_eq!(ours, expected);
    assert!(!contains(&gunzip(&tarball), SECRET), "nothing from outside is packed");
}

#[test]
fn docs_deploy_refuses_links_out_of_the_site_and_follows_links_inside_it() {
    let secret = outside();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write("README.md", "# widget\n");
    repo.write("site/index.html", "<h1>widget</h1>\n");
    symlink(secret.path().join("secret.txt"), repo.path().join("site/leak.txt")).unwrap();
    config(&repo, "[deploy.docs]\npath = \"site\"\n");
    repo.commit("a", "feat: site");
    for args in [&["--version", "1.0.0", "--dry-run"][..], &["--version", "1.0.0"]] {
        let out = fake.release(repo.path(), args).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("[deploy.docs] path: leak.txt is a symbolic link to")
                && stderr.contains("outside the docs folder site"),
            "{stderr}"
        );
    }
    // A link to elsewhere in the repository leaves the site too.
    std::fs::remove_file(repo.path().join("site/leak.txt")).unwrap();
    symlink("../README.md", repo.path().join("site/readme.md")).unwrap();
    let out = fake.release(repo.path(), &["--version", "1.0.0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("readme.md is a symbolic link"),
        "{}",
        text(&out).1
    );
    fake.with(|s| {
        assert_eq!(s.writes(), 0, "nothing was written: {:?}", s.log);
        assert!(s.blobs.values().all(|b| !contains(b, SECRET)));
    });
    // A link inside the site is published under its own name, with the file's content.
    std::fs::remove_file(repo.path().join("site/readme.md")).unwrap();
    symlink("index.html", repo.path().join("site/home.html")).unwrap();
    repo.commit("b", "feat: home");
    let out = fake.release(repo.path(), &["--version", "1.0.0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let files = fake.with(|s| s.branch_files("gh-pages"));
    assert_eq!(files["home.html"], "<h1>widget</h1>\n");
}

#[test]
fn artifact_names_cannot_leave_dist() {
    let repo = TestRepo::new();
    repo.write("README.md", "# widget\n");
    repo.commit("a", "feat: widget");
    let hook = repo.path().join(".git/hooks/post-checkout");
    for (name, why) in [
        ("../../x.tar.gz", "contains a /"),
        ("/tmp/tamma-absolute.tar.gz", "contains a /"),
        ("../.git/hooks/post-checkout", "contains a /"),
        (".git", "starts with a dot"),
        ("..", "starts with a dot"),
        ("new\nline.tar.gz", "control character"),
        ("read me.tar.gz", "would be renamed by GitHub"),
        ("SHA256SUMS", "reserved"),
        ("release-journal.json", "reserved"),
        ("release-plan.json", "reserved"),
    ] {
        let kind = if name.ends_with(".tar.gz") {
            "kind = \"archive\"\nfiles = [\"README.md\"]"
        } else {
            "kind = \"file\"\npath = \"README.md\""
        };
        let name_toml = serde_json::to_string(name).unwrap();
        repo.write(
            ".github/tamma-release.toml",
            &format!("[[artifact]]\n{kind}\nname = {name_toml}\n"),
        );
        for extra in [&[][..], &["--dry-run"]] {
            let out = build(&repo, extra);
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{name:?}: {stderr}");
            assert!(
                stderr.contains(".github/tamma-release.toml:4:8: ") && stderr.contains(why),
                "{name:?}: {stderr}"
            );
        }
        assert!(!repo.path().join("dist").exists(), "{name:?}: nothing was built");
    }
    assert!(!hook.exists(), "no git hook was written");
    assert!(!Path::new("/tmp/tamma-absolute.tar.gz").exists());
    // Two artifacts under one name, and a second one taking the sums' name, are refused the same way.
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"file\"\npath = \"README.md\"\n\n[[artifact]]\nkind = \"archive\"\nname = \"README.md\"\nfiles = [\"README.md\"]\n",
    );
    let out = build(&repo, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains(":7:8: two artifacts are named \"README.md\""),
        "{}",
        text(&out).1
    );
}

#[test]
fn symlink_loops_are_refused_at_once_not_walked_for_hours() {
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write("site/index.md", "# widget\n");
    symlink(".", repo.path().join("site/self")).unwrap();
    repo.commit("a", "feat: site");
    let cases = [
        (
            "archive",
            "[[artifact]]\nkind = \"archive\"\nname = \"site.tar.gz\"\nfiles = [\"site/**\"]\n",
        ),
        ("docs artifact", "[[artifact]]\nkind = \"docs\"\npath = \"site\"\n"),
        ("docs deploy", "[deploy.docs]\npath = \"site\"\n"),
        (
            "docs gate",
            "[validate.docs]\nrequired = [\"site/index.md\"]\nlinks = [\"site/**/*.md\"]\n",
        ),
    ];
    for (what, text_config) in cases {
        config(&repo, text_config);
        for dry in [true, false] {
            let mut args = vec!["--version", "1.0.0"];
            if dry {
                args.push("--dry-run");
            }
            let out = within_a_minute(fake.release(repo.path(), &args));
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{what} (dry run {dry}): {stderr}");
            assert!(
                stderr.contains("self is a symbolic link loop"),
                "{what} (dry run {dry}): {stderr}"
            );
        }
    }
    fake.with(|s| assert_eq!(s.writes(), 0, "{:?}", s.log));
}

#[test]
fn prepare_never_writes_through_links_out_of_the_repository() {
    let elsewhere = outside();
    let repo = TestRepo::new();
    repo.write("VERSION", "0.0.0\n");
    symlink(elsewhere.path().join("CHANGELOG.md"), repo.path().join("CHANGELOG.md")).unwrap();
    symlink(elsewhere.path(), repo.path().join("notes")).unwrap();
    repo.commit("a", "feat: widget");
    for (changelog, named) in [
        ("CHANGELOG.md", "broken symbolic link"),
        ("notes/CHANGES.md", "leads outside the repository"),
    ] {
        repo.write(
            ".github/tamma-release.toml",
            &format!(
                "[version]\nchangelog = \"{changelog}\"\nfiles = [{{ path = \"VERSION\", pattern = '^([0-9.]+)' }}]\n"
            ),
        );
        for dry in [true, false] {
            let mut args = vec!["release", "--version", "1.0.0", "--stages", "prepare"];
            if dry {
                args.push("--dry-run");
            }
            let out = tamma(&args).current_dir(repo.path()).output().unwrap();
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{changelog} (dry run {dry}): {stderr}");
            assert!(stderr.contains(named), "{changelog}: {stderr}");
        }
    }
    let created: Vec<_> = std::fs::read_dir(elsewhere.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(created, ["secret.txt"], "nothing was written outside");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("VERSION")).unwrap(),
        "0.0.0\n",
        "nor inside"
    );
}

#[test]
fn merge_refuses_partial_paths_outside_their_folder() {
    let secret = outside();
    let runner = TestRepo::new();
    runner.write("bin/widget", "widget\n");
    let toml =
        "[[artifact]]\nname = \"widget-linux.tar.gz\"\nkind = \"archive\"\nfiles = [\"bin/*\"]\nplatform = \"linux\"\n";
    runner.write(".github/tamma-release.toml", toml);
    runner.commit("a", "feat: widget");
    let out = build(&runner, &["--partial", "linux"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let publisher = TestRepo::new();
    publisher.write("bin/widget", "widget\n");
    publisher.write(".github/tamma-release.toml", toml);
    publisher.commit("a", "feat: widget");
    let partials = publisher.path().join("partials/linux");
    std::fs::create_dir_all(&partials).unwrap();
    for entry in std::fs::read_dir(runner.path().join("dist")).unwrap().flatten() {
        std::fs::copy(entry.path(), partials.join(entry.file_name())).unwrap();
    }
    let manifest = partials.join("partial-linux.json");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let doctor = |field: &str, value: &str| {
        let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();
        json["artifacts"][0][field] = value.into();
        std::fs::write(&manifest, json.to_string()).unwrap();
    };
    let merge = || build(&publisher, &["--merge", "partials/linux"]);
    for (field, value, named) in [
        ("path", "../../.git/config", "the path \"../../.git/config\""),
        ("path", "/etc/passwd", "the path \"/etc/passwd\""),
        ("name", "../../escaped.tar.gz", "contains a /"),
        ("name", "release-journal.json", "reserved"),
    ] {
        doctor(field, value);
        let out = merge();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains(named) && stderr.contains("a partial manifest may only name files in its own folder"),
            "{value}: {stderr}"
        );
    }
    // A file in the partial's folder that is a link out of it.
    std::fs::remove_file(partials.join("widget-linux.tar.gz")).unwrap();
    symlink(secret.path().join("secret.txt"), partials.join("widget-linux.tar.gz")).unwrap();
    std::fs::write(&manifest, &original).unwrap();
    let out = merge();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(text(&out).1.contains("a link to"), "{}", text(&out).1);
    let dist = publisher.path().join("dist");
    let copied: Vec<_> = std::fs::read_dir(&dist)
        .map(|d| d.flatten().map(|e| e.file_name()).filter(|n| n != ".lock").collect())
        .unwrap_or_default();
    assert!(copied.is_empty(), "nothing was copied into dist/: {copied:?}");
    assert!(!publisher.path().join("escaped.tar.gz").exists());
}

#[test]
fn two_runs_in_one_checkout_do_not_share_dist() {
    let repo = TestRepo::new();
    repo.write("README.md", "# widget\n");
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"file\"\npath = \"README.md\"\nshell = \"sleep 3\"\n",
    );
    repo.commit("a", "feat: widget");
    let first = tamma(&["release", "--version", "1.0.0", "--stages", "build"])
        .current_dir(repo.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let second = build(&repo, &[]);
    let (_, stderr) = text(&second);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another tamma-release run is building or publishing in"),
        "{stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first).1);
    assert!(repo.path().join("dist/README.md").is_file());
    // Once the first is done, the next run goes ahead; a dry run never waits for the lock.
    assert_eq!(build(&repo, &["--dry-run"]).status.code(), Some(0));
    assert_eq!(build(&repo, &[]).status.code(), Some(0));
}
