//! A real Docker daemon of the tests' own, on a private socket (Debian's docker.io; nothing can
//! be pulled here, so images start `FROM scratch`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's docker client: it drives BuildKit in a 20.10 daemon without the buildx plugin.
const DOCKER: &str = "/usr/bin/docker";

/// A dockerd of our own, stopped when dropped.
pub struct Daemon {
    child: Child,
    /// `unix://…` of the private socket.
    pub socket: String,
    _dir: tempfile::TempDir,
}

impl Daemon {
    pub fn start() -> Daemon {
        assert!(
            Path::new(DOCKER).exists() && which("dockerd"),
            "Docker is missing: apt-get install docker.io (.ci/run does)"
        );
        let dir = tempfile::Builder::new()
            .prefix("tamma-dockerd")
            .tempdir_in("/tmp")
            .unwrap();
        let socket = format!("unix://{}", dir.path().join("docker.sock").display());
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .args([
                "-H",
                &socket,
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let daemon = Daemon {
            child,
            socket,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !daemon.docker(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "dockerd did not come up within 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        daemon
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(DOCKER);
        cmd.args(["-H", &self.socket]).args(args).env("DOCKER_BUILDKIT", "1");
        cmd
    }

    pub fn docker(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

pub fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}
