//! Real registries started by the tests on loopback ports: Verdaccio (npm, installed by
//! scripts/test into tests/node) and the CNCF distribution registry (Debian's docker-registry).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A plain HTTP client for the tests' own checks (rustls needs its provider installed first).
fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for(url: &str, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client().get(url).send().is_ok_and(|r| r.status().as_u16() < 500) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early ({status})");
        }
        assert!(Instant::now() < deadline, "{what} did not answer at {url} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A Verdaccio with one user, whose token `token` is.
pub struct Verdaccio {
    child: Child,
    pub url: String,
    pub token: String,
    pub dir: tempfile::TempDir,
}

impl Verdaccio {
    pub fn start() -> Verdaccio {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules/.bin/verdaccio");
        assert!(
            bin.exists(),
            "Verdaccio is missing: run `npm ci` in tests/node (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            "storage: ./storage\nauth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 100\nuplinks: {}\npackages:\n  '@locked/*':\n    access: $all\n    publish: nobody-here\n  '**':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\nmax_body_size: 2000mb\nlog: { type: stdout, format: pretty, level: error }\n",
        )
        .unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(&bin)
            .args(["--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("verdaccio starts");
        wait_for(&format!("{url}/-/ping"), "Verdaccio", &mut child);
        let answer: serde_json::Value = client()
            .put(format!("{url}/-/user/org.couchdb.user:tester"))
            .json(&serde_json::json!({"name": "tester", "password": "tester-password"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = answer["token"].as_str().expect("Verdaccio returns a token").to_string();
        Verdaccio { child, url, token, dir }
    }

    /// Runs the real npm client against this registry in `cwd`.
    pub fn npm(&self, cwd: &Path, args: &[&str]) -> std::process::Output {
        let npmrc = self.dir.path().join("npmrc");
        std::fs::write(
            &npmrc,
            format!(
                "registry={}/\n//127.0.0.1:{}/:_authToken={}\n",
                self.url,
                self.url.rsplit(':').next().unwrap(),
                self.token
            ),
        )
        .unwrap();
        Command::new("npm")
            .args(args)
            .current_dir(cwd)
            .env("npm_config_userconfig", &npmrc)
            .env("npm_config_cache", self.dir.path().join("cache"))
            .output()
            .unwrap()
    }
}

impl Verdaccio {
    /// Installs `spec` into an empty project with the real npm client from this registry, and
    /// returns the project (its `node_modules` holds what npm chose).
    pub fn install(&self, spec: &str) -> tempfile::TempDir {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("package.json"),
            "{\"name\": \"user\", \"version\": \"1.0.0\"}",
        )
        .unwrap();
        let out = self.npm(project.path(), &["install", "--no-audit", "--no-fund", spec]);
        assert!(
            out.status.success(),
            "npm install {spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        project
    }

    /// The `version` of `package` as npm installed it in `project`.
    pub fn installed(project: &Path, package: &str) -> Option<String> {
        let text = std::fs::read_to_string(project.join("node_modules").join(package).join("package.json")).ok()?;
        let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
        manifest["version"].as_str().map(str::to_string)
    }
}

impl Drop for Verdaccio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A distribution registry on a loopback port.
pub struct Registry {
    child: Child,
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        assert!(
            Path::new("/usr/bin/docker-registry").exists(),
            "docker-registry is missing: apt-get install docker-registry (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new("/usr/bin/docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let host = format!("127.0.0.1:{port}");
        wait_for(&format!("http://{host}/v2/"), "docker-registry", &mut child);
        Registry { child, host, _dir: dir }
    }

    /// The digest a tag points at, asked the way a client would.
    pub fn digest(&self, repository: &str, tag: &str) -> Option<String> {
        let response = client()
            .head(format!("http://{}/v2/{repository}/manifests/{tag}", self.host))
            .header("accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
            .send()
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
