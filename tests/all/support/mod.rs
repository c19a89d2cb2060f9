//! Test helpers: the real binary, real git repositories in temporary directories, and a faithful
//! port of the Actions runner's `$GITHUB_OUTPUT` parser.

pub mod docker;
pub mod github;
pub mod mock;
pub mod proxy;
pub mod registries;
pub mod runner;

use std::path::{Path, PathBuf};
use std::process::Command;

/// This project's checkout.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test, with a clean environment (no inherited GITHUB_* or INPUT_*).
pub fn tamma(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tamma-release"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

/// A git repository in a temporary directory, driven by the real git CLI.
pub struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    /// An empty repository with a committer identity.
    pub fn new() -> TestRepo {
        let repo = TestRepo {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "tag.gpgsign", "false"]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository and returns its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Commits a change to `file` with `message`.
    pub fn commit(&self, file: &str, message: &str) -> String {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(message);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Writes a file without committing it.
    pub fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A repository with releases v0.1.0 (lightweight) and v0.2.0 (annotated) and two commits after.
    pub fn with_history() -> TestRepo {
        let repo = TestRepo::new();
        repo.commit("a.txt", "feat: first");
        repo.git(&["tag", "v0.1.0"]);
        repo.commit("a.txt", "fix: second");
        repo.git(&["tag", "-a", "v0.2.0", "-m", "v0.2.0"]);
        repo.commit("b.txt", "feat: third");
        repo.commit("b.txt", "docs: fourth");
        repo
    }
}

/// stdout and stderr as text.
pub fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary in `dir` with `args` (which include `--json`), requires exit 0 and returns the
/// parsed stdout.
pub fn json_of(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = tamma(args).current_dir(dir).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// Parses workflow YAML to JSON with js-yaml from the test tools (no YAML crate for one test).
pub fn parse_yaml(text: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new("node")
        .arg("-e")
        .arg("let s='';process.stdin.on('data',d=>s+=d).on('end',()=>process.stdout.write(JSON.stringify(require('js-yaml').load(s))))")
        .current_dir(root().join("tests/node"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).expect("js-yaml parses the workflow")
}

/// Runs node in tests/node (where scripts/test installs the reference tools) with `args`,
/// `input` on stdin; returns stdout, or fails the test with stderr.
pub fn node(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("node")
        .args(args)
        .current_dir(root().join("tests/node"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
