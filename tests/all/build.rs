//! The build stage and the `checksum`/`package` commands, checked with the tools users would
//! check them with: sha256sum, GNU tar, python's zipfile, the real npm, a real Docker daemon.

use std::path::Path;
use std::process::Command;

use crate::support::docker::Daemon;
use crate::support::{TestRepo, json_of, tamma, text};

fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn project() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("bin/widget", "#!/bin/sh\necho widget\n");
    sh(repo.path(), "chmod", &["755", "bin/widget"]);
    repo.write("README.md", "# widget\n");
    repo.write("docs/guide.md", "guide\n");
    repo.write(
        ".github/tamma-release.toml",
        r#"[[artifact]]
name = "widget-linux-x64.tar.gz"
kind = "archive"
files = ["bin/*", "README.md"]
platform = "linux"
arch = "x64"

[[artifact]]
name = "widget-windows-x64.zip"
kind = "archive"
files = ["bin/widget", "docs/**"]
platform = "windows"

[[artifact]]
kind = "file"
path = "README.md"
name = "README.txt"
"#,
    );
    repo.commit("a", "feat: widget");
    repo
}

#[test]
fn build_stage_writes_reproducible_archives_sums_and_manifest() {
    let repo = project();
    let report = json_of(
        repo.path(),
        &["release", "--version", "1.0.0", "--stages", "build", "--json"],
    );
    let dist = repo.path().join("dist");
    let check = sh(&dist, "sha256sum", &["-c", "SHA256SUMS"]);
    assert_eq!(
        check,
        "README.txt: OK\nwidget-linux-x64.tar.gz: OK\nwidget-windows-x64.zip: OK\n"
    );
    let listing = sh(&dist, "tar", &["-tzvf", "widget-linux-x64.tar.gz", "--numeric-owner"]);
    let commit_date = "2026-01-01 00:00";
    assert_eq!(
        listing,
        format!(
            "-rw-r--r-- 0/0               9 {commit_date} README.md\n-rwxr-xr-x 0/0              22 {commit_date} bin/widget\n"
        ),
        "sorted, owner 0, modes normalised, time = the commit's"
    );
    let zip = sh(
        &dist,
        "python3",
        &[
            "-c",
            "import zipfile;z=zipfile.ZipFile('widget-windows-x64.zip');print([(i.filename,oct(i.external_attr>>16),i.date_time) for i in z.infolist()])",
        ],
    );
    assert_eq!(
        zip.trim(),
        "[('bin/widget', '0o100755', (2026, 1, 1, 0, 0, 0)), ('docs/guide.md', '0o100644', (2026, 1, 1, 0, 0, 0))]"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema-version"], 1);
    assert_eq!(manifest["version"], "1.0.0");
    let linux = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "widget-linux-x64.tar.gz")
        .unwrap();
    assert_eq!(linux["platform"], "linux");
    assert_eq!(linux["arch"], "x64");
    assert_eq!(linux["media-type"], "application/gzip");
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(sums.contains(&format!(
        "{}  widget-linux-x64.tar.gz",
        linux["sha256"].as_str().unwrap()
    )));
    assert_eq!(
        report["build"]["artifacts"].as_array().unwrap().len(),
        4,
        "three assets and SHA256SUMS"
    );

    // Same inputs, same bytes: a second build (and one in a fresh clone) matches.
    let first = std::fs::read(dist.join("widget-linux-x64.tar.gz")).unwrap();
    std::fs::remove_dir_all(&dist).unwrap();
    json_of(
        repo.path(),
        &["release", "--version", "1.0.0", "--stages", "build", "--json"],
    );
    assert_eq!(std::fs::read(dist.join("widget-linux-x64.tar.gz")).unwrap(), first);
    // SOURCE_DATE_EPOCH wins over the commit time.
    let out = tamma(&["release", "--version", "1.0.0", "--stages", "build"])
        .current_dir(repo.path())
        .env("SOURCE_DATE_EPOCH", "315532800")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(sh(&dist, "tar", &["-tzvf", "widget-linux-x64.tar.gz"]).contains("1980-01-01 00:00"));
}

#[test]
fn dry_run_checks_inputs_and_writes_nothing() {
    let repo = project();
    let report = json_of(repo.path(), &["release", "--dry-run", "--version", "1.0.0", "--json"]);
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["target"] == "build")
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "build widget-linux-x64.tar.gz from 2 file(s)",
            "build widget-windows-x64.zip from 2 file(s)",
            "build README.txt from README.md",
            "write SHA256SUMS over 3 asset(s)"
        ]
    );
    assert!(!repo.path().join("dist").exists());
}

#[test]
fn build_inputs_that_cannot_work_are_usage_errors() {
    let cases = [
        (
            "[[artifact]]\nname = \"w.tar.gz\"\nkind = \"archive\"\nfiles = [\"target/*.exe\"]\n",
            "artifact \"w.tar.gz\": the glob \"target/*.exe\" matches no file",
        ),
        (
            "[[artifact]]\nname = \"w.tar.gz\"\nkind = \"archive\"\nfiles = [\"../outside\"]\n",
            "leaves the repository",
        ),
        (
            "[[artifact]]\nname = \"w.rar\"\nkind = \"archive\"\nfiles = [\"README.md\"]\n",
            "must end in .tar.gz, .tgz or .zip",
        ),
        (
            "[[artifact]]\nkind = \"file\"\npath = \"/etc/hostname\"\n",
            "leaves the repository",
        ),
        (
            "[[artifact]]\nname = \"a\"\nkind = \"file\"\npath = \"README.md\"\n[[artifact]]\nname = \"a\"\nkind = \"file\"\npath = \"README.md\"\n",
            "artifact names must be unique",
        ),
        (
            "[[artifact]]\nkind = \"image\"\nimage = \"ghcr.io/acme/w\"\noci-layout = \"layout\"\n",
            "\"layout\" does not exist",
        ),
        ("[[artifact]]\nkind = \"docs\"\npath = \"empty\"\n", "is empty"),
    ];
    for (config, expected) in cases {
        let repo = project();
        std::fs::create_dir_all(repo.path().join("empty")).unwrap();
        std::os::unix::fs::symlink("/etc", repo.path().join("etc-link")).unwrap();
        repo.write(".github/tamma-release.toml", config);
        for dry_run in [true, false] {
            let mut args = vec!["release", "--version", "1.0.0", "--stages", "build"];
            if dry_run {
                args.push("--dry-run");
            }
            let out = tamma(&args).current_dir(repo.path()).output().unwrap();
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{config}: {stderr}");
            assert!(stderr.contains(expected), "{config}: expected {expected:?} in {stderr}");
            assert!(
                !repo.path().join("dist/manifest.json").exists(),
                "nothing built: {config}"
            );
        }
    }
}

#[test]
fn checksum_command_matches_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    for (name, size) in [("a.bin", 3_000_000usize), ("b.bin", 0), ("c.txt", 17)] {
        std::fs::write(
            dir.path().join(name),
            (0..size).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>(),
        )
        .unwrap();
    }
    let ours = text(
        &tamma(&["checksum", "a.bin", "b.bin", "c.txt"])
            .current_dir(dir.path())
            .output()
            .unwrap(),
    )
    .0;
    assert_eq!(ours, sh(dir.path(), "sha256sum", &["a.bin", "b.bin", "c.txt"]));
    let out = tamma(&["checksum", "a.bin", "c.txt", "--output", "SUMS"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(sh(dir.path(), "sha256sum", &["-c", "SUMS"]), "a.bin: OK\nc.txt: OK\n");
    let out = tamma(&["checksum", "missing.bin"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("cannot read missing.bin"));
}

#[test]
fn package_command_is_reproducible_and_stays_inside() {
    let repo = project();
    let out = tamma(&[
        "package",
        "--output",
        "/tmp/tamma-pkg-test-1.tar.gz",
        "bin",
        "README.md",
    ])
    .current_dir(repo.path())
    .output()
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.ends_with("  /tmp/tamma-pkg-test-1.tar.gz\n"));
    let listing = sh(repo.path(), "tar", &["-tzf", "/tmp/tamma-pkg-test-1.tar.gz"]);
    assert_eq!(listing, "README.md\nbin/widget\n");
    let again = text(
        &tamma(&[
            "package",
            "--output",
            "/tmp/tamma-pkg-test-2.tar.gz",
            "README.md",
            "bin/",
        ])
        .current_dir(repo.path())
        .output()
        .unwrap(),
    )
    .0;
    assert_eq!(
        stdout.split_whitespace().next(),
        again.split_whitespace().next(),
        "same bytes"
    );
    for bad in ["../x", "/etc/hostname"] {
        let out = tamma(&["package", "--output", "/tmp/tamma-pkg-bad.zip", bad])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn a_large_tar_gz_is_compressed_in_parallel_into_one_member_gzip_and_tar_accept_the_same_on_any_core_count() {
    let dir = tempfile::tempdir().unwrap();
    // 6 MiB in many blocks: text-like and random files, as a real release has.
    std::fs::create_dir_all(dir.path().join("tree")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..12 {
        let data: Vec<u8> = if i % 2 == 0 {
            (0..512 * 1024)
                .map(|j| {
                    let line = b"fn release(version: &str) -> Result<()> {\n";
                    line[(j + j / 4099) % line.len()]
                })
                .collect()
        } else {
            (0..512 * 1024)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect()
        };
        std::fs::write(dir.path().join(format!("tree/f{i:02}")), data).unwrap();
    }
    let package = |out: &str, cores: Option<&str>| {
        let binary = env!("CARGO_BIN_EXE_tamma-release");
        let mut cmd = match cores {
            // available_parallelism follows the CPU affinity: one core, one compressing thread.
            Some(cpus) => {
                let mut c = std::process::Command::new("taskset");
                c.args(["-c", cpus, binary]);
                c
            }
            None => std::process::Command::new(binary),
        };
        let status = cmd
            .args(["package", "--output", out, "tree"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", text(&status).1);
        std::fs::read(dir.path().join(out)).unwrap()
    };
    let all = package("all.tar.gz", None);
    let one = package("one.tar.gz", Some("0"));
    assert_eq!(all, one, "the same bytes on one core as on all");
    sh(dir.path(), "gzip", &["-t", "all.tar.gz"]);
    let listing = sh(dir.path(), "tar", &["-tzf", "all.tar.gz"]);
    assert_eq!(listing.lines().count(), 12, "{listing}");
    // Exactly one gzip member: the trailer is at the end, nothing follows it.
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&all[..]), &mut decoded).unwrap();
    let mut every = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&all[..]), &mut every).unwrap();
    assert_eq!(decoded, every);
}

fn npm_fixture(dir: &Path) {
    let files: &[(&str, &str)] = &[
        (
            "package.json",
            "{\n  \"name\": \"@acme/widget\",\n  \"version\": \"0.0.0\",\n  \"main\": \"lib/index.js\",\n  \"bin\": {\"widget\": \"bin/cli.js\"}\n}\n",
        ),
        ("lib/index.js", "module.exports = 1;\n"),
        ("lib/index.test.js", "test\n"),
        ("lib/util.orig", "x\n"),
        ("bin/cli.js", "#!/usr/bin/env node\n"),
        ("README.md", "# widget\n"),
        ("LICENSE", "MIT\n"),
        ("CHANGELOG.md", "changes\n"),
        (".npmignore", "*.test.js\nfixtures/\n"),
        (".gitignore", "lib/\n"),
        ("fixtures/data.json", "{}\n"),
        ("package-lock.json", "{}\n"),
        (".npmrc", "x=y\n"),
        ("node_modules/dep/index.js", "dep\n"),
        ("src/.DS_Store", "x\n"),
        ("src/main.ts", "export {}\n"),
    ];
    for (path, body) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

pub fn real_npm_file_list(dir: &Path) -> Vec<String> {
    let out = Command::new("npm")
        .args(["pack", "--dry-run", "--json", "--ignore-scripts"])
        .current_dir(dir)
        .output()
        .expect("npm runs (scripts/test installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut files: Vec<String> = json[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn npm_tarball_holds_what_npm_pack_would() {
    let repo = TestRepo::new();
    npm_fixture(&repo.path().join("pkg"));
    let expected = real_npm_file_list(&repo.path().join("pkg"));
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n",
    );
    repo.commit("x", "feat: pkg");
    let report = json_of(
        repo.path(),
        &["release", "--version", "1.2.0", "--stages", "build", "--json"],
    );
    let artifact = &report["build"]["artifacts"][0];
    assert_eq!(artifact["name"], "acme-widget-1.2.0.tgz");
    let tarball = repo.path().join("dist/acme-widget-1.2.0.tgz");
    let listing = sh(repo.path(), "tar", &["-tzf", tarball.to_str().unwrap()]);
    let ours: Vec<String> = listing
        .lines()
        .map(|l| l.trim_start_matches("package/").to_string())
        .collect();
    assert_eq!(ours, expected, "the file list of the real `npm pack --dry-run`");
    let packed = sh(
        repo.path(),
        "tar",
        &["-xzOf", tarball.to_str().unwrap(), "package/package.json"],
    );
    assert!(packed.contains("\"version\": \"1.2.0\""), "{packed}");
    // The files field takes over from ignore files.
    std::fs::write(
        repo.path().join("pkg/package.json"),
        "{\"name\":\"w\",\"version\":\"0.0.0\",\"files\":[\"lib\",\"src/*.ts\"]}",
    )
    .unwrap();
    let expected = real_npm_file_list(&repo.path().join("pkg"));
    let report = json_of(
        repo.path(),
        &["release", "--version", "1.2.0", "--stages", "build", "--json"],
    );
    let name = report["build"]["artifacts"][0]["name"].as_str().unwrap().to_string();
    let listing = sh(
        repo.path(),
        "tar",
        &["-tzf", repo.path().join("dist").join(name).to_str().unwrap()],
    );
    let ours: Vec<String> = listing
        .lines()
        .map(|l| l.trim_start_matches("package/").to_string())
        .collect();
    assert_eq!(ours, expected);
}

#[test]
fn oci_layouts_are_checked_and_kept() {
    let repo = TestRepo::new();
    let digest =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello\n").unwrap();
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"image\"\nimage = \"ghcr.io/acme/widget\"\noci-layout = \"image\"\n",
    );
    repo.commit("x", "feat: image");
    let report = json_of(
        repo.path(),
        &["release", "--version", "1.0.0", "--stages", "build", "--json"],
    );
    let artifact = &report["build"]["artifacts"][0];
    assert_eq!(artifact["name"], "ghcr.io/acme/widget:1.0.0");
    assert_eq!(format!("sha256:{}", artifact["sha256"].as_str().unwrap()), digest);
    assert!(
        repo.path()
            .join("dist")
            .join(artifact["path"].as_str().unwrap())
            .join("index.json")
            .is_file()
    );
    // A blob that does not match its digest stops the release.
    let blobs = repo.path().join("image/blobs/sha256");
    let victim = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read(p).unwrap().starts_with(b"hello.txt"))
        .unwrap();
    std::fs::write(&victim, b"evil").unwrap();
    let out = tamma(&["release", "--dry-run", "--version", "1.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("does not match its digest"), "{stderr}");
}

#[test]
fn images_build_through_a_real_docker_daemon() {
    let daemon = Daemon::start();
    let repo = TestRepo::new();
    repo.write("app/Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n");
    repo.write("app/hello.txt", "hello\n");
    repo.write("app/secret.txt", "not in the context\n");
    repo.write("app/.dockerignore", "secret.txt\n");
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nkind = \"image\"\nimage = \"acme/widget\"\ncontext = \"app\"\n",
    );
    repo.commit("x", "feat: image");
    let out = tamma(&["release", "--version", "2.1.0", "--stages", "build", "--json"])
        .current_dir(repo.path())
        .env("DOCKER_HOST", &daemon.socket)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["build"]["artifacts"][0]["name"], "acme/widget:2.1.0");
    let inspect = daemon.docker(&["image", "inspect", "-f", "{{.Id}}", "acme/widget:2.1.0"]);
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        format!("sha256:{}", report["build"]["artifacts"][0]["sha256"].as_str().unwrap())
    );
    // A broken Dockerfile: the daemon's error reaches the user.
    repo.write("app/Dockerfile", "FROM scratch\nCOPY missing.txt /x\n");
    let out = tamma(&["release", "--version", "2.1.0", "--stages", "build"])
        .current_dir(repo.path())
        .env("DOCKER_HOST", &daemon.socket)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("docker build of acme/widget:2.1.0 failed") && stderr.contains("missing.txt"),
        "{stderr}"
    );
    // No daemon at all: a message that says so.
    let out = tamma(&["release", "--version", "2.1.0", "--stages", "build"])
        .current_dir(repo.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("cannot reach a Docker daemon at unix:///nonexistent/docker.sock"),
        "{stderr}"
    );
}

#[test]
fn matrix_partials_merge_into_one_release() {
    let runners: Vec<TestRepo> = (0..2).map(|_| project()).collect();
    for (runner, platform) in runners.iter().zip(["linux", "windows"]) {
        json_of(
            runner.path(),
            &[
                "release",
                "--version",
                "1.0.0",
                "--stages",
                "build",
                "--partial",
                platform,
                "--json",
            ],
        );
        assert!(runner.path().join(format!("dist/partial-{platform}.json")).is_file());
        assert!(
            !runner.path().join("dist/SHA256SUMS").exists(),
            "partials leave the sums to the merge"
        );
    }
    let publisher = project();
    for (runner, platform) in runners.iter().zip(["linux", "windows"]) {
        let target = publisher.path().join("partials").join(platform);
        std::fs::create_dir_all(&target).unwrap();
        for entry in std::fs::read_dir(runner.path().join("dist")).unwrap().flatten() {
            std::fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
        }
    }
    let report = json_of(
        publisher.path(),
        &[
            "release",
            "--version",
            "1.0.0",
            "--stages",
            "build",
            "--merge",
            "partials/linux",
            "partials/windows",
            "--json",
        ],
    );
    let names: Vec<&str> = report["build"]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "widget-linux-x64.tar.gz",
            "widget-windows-x64.zip",
            "README.txt",
            "SHA256SUMS"
        ]
    );
    assert_eq!(
        sh(&publisher.path().join("dist"), "sha256sum", &["-c", "SHA256SUMS"]),
        "README.txt: OK\nwidget-linux-x64.tar.gz: OK\nwidget-windows-x64.zip: OK\n"
    );
    // The same name with two digests is refused.
    let partial = publisher.path().join("partials/windows/partial-windows.json");
    let text_json = std::fs::read_to_string(&partial).unwrap();
    let linux: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(publisher.path().join("partials/linux/partial-linux.json")).unwrap(),
    )
    .unwrap();
    let renamed = text_json.replace("widget-windows-x64.zip", "widget-linux-x64.tar.gz");
    assert_ne!(renamed, text_json);
    std::fs::write(&partial, renamed).unwrap();
    let out = tamma(&[
        "release",
        "--version",
        "1.0.0",
        "--stages",
        "build",
        "--merge",
        "partials/linux",
        "partials/windows",
    ])
    .current_dir(publisher.path())
    .output()
    .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("was built twice with different contents")
            && stderr.contains(linux["artifacts"][0]["sha256"].as_str().unwrap()),
        "{stderr}"
    );
}
