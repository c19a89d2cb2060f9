//! Email notifications (issue 21) through a real SMTP server (Python's aiosmtpd, installed by
//! scripts/test) on a loopback port: with STARTTLS (a certificate from a test CA the config
//! names) and a login, without TLS, and a dead server — which warns and leaves the release
//! green. Each message is parsed by Python's email parser and checked.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, root, text};

struct SmtpSink {
    child: Child,
    port: u16,
    out: tempfile::TempDir,
}

impl SmtpSink {
    fn start(tls: Option<(&Path, &Path)>, login: Option<(&str, &str)>) -> SmtpSink {
        let python = root().join("tests/python/.venv/bin/python");
        assert!(
            python.exists(),
            "aiosmtpd's venv is missing: run scripts/test (it makes tests/python/.venv)"
        );
        let port = free_port();
        let out = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(root().join("tests/python/smtp_sink.py"))
            .arg(port.to_string())
            .arg(out.path());
        if let Some((cert, key)) = tls {
            cmd.arg("--tls").arg(cert).arg(key);
        }
        if let Some((user, password)) = login {
            cmd.args(["--login", user, password]);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("python runs");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        SmtpSink { child, port, out }
    }

    /// The messages received, in order.
    fn messages(&self) -> Vec<Value> {
        let mut found: Vec<(u32, Value)> = std::fs::read_dir(self.out.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let n = p.file_stem().unwrap().to_str().unwrap().parse().unwrap();
                (n, serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
            })
            .collect();
        found.sort_by_key(|(n, _)| *n);
        found.into_iter().map(|(_, v)| v).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test CA and a certificate it signs for localhost and 127.0.0.1, made with openssl:
/// (ca.pem, server.pem, server.key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", text(&out).1);
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tamma test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

/// A repository whose config mails `smtp` (and trusts `ca`, copied in, when given).
fn project(smtp: &str, ca: Option<&Path>) -> TestRepo {
    let repo = TestRepo::new();
    let mut config = format!(
        "[github]\nwrite-interval = \"0s\"\n\n[notify.email]\nto = [\"Team <team@example.com>\", \"ops@example.com\"]\nfrom = \"Releases <releases@example.com>\"\nsmtp = \"{smtp}\"\n"
    );
    if let Some(ca) = ca {
        std::fs::copy(ca, repo.path().join("ca.pem")).unwrap();
        config.push_str("ca = \"ca.pem\"\n");
    }
    repo.write(".github/tamma-release.toml", &config);
    repo.commit("a.txt", "feat: the first feature");
    repo
}

/// `release --version 1.0.0` with the mail server's login in the environment.
fn release_with_login(fake: &FakeGitHub, repo: &TestRepo) -> std::process::Output {
    fake.release(repo.path(), &["--version", "1.0.0"])
        .env("SMTP_USERNAME", "release-bot")
        .env("SMTP_PASSWORD", "s3cret-pw")
        .output()
        .unwrap()
}

#[test]
fn a_release_is_mailed_over_starttls_with_a_login() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(certs.path());
    let sink = SmtpSink::start(Some((&cert, &key)), Some(("release-bot", "s3cret-pw")));
    let repo = project(&format!("smtp://127.0.0.1:{}", sink.port), Some(&ca));
    let fake = FakeGitHub::start();
    let out = release_with_login(&fake, &repo);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stdout.contains("s3cret-pw") && !stderr.contains("s3cret-pw"),
        "the password is never printed"
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{stdout}");
    let mail = &messages[0];
    assert_eq!(
        (mail["tls"].as_bool(), mail["login"].as_str()),
        (Some(true), Some("release-bot"))
    );
    assert_eq!(
        mail["subject"],
        "tamma-release: acme/widget v1.0.0 released https://github.com/acme/widget/releases/tag/v1.0.0"
    );
    assert_eq!(mail["from"], "Releases <releases@example.com>");
    assert_eq!(mail["to"], "Team <team@example.com>, ops@example.com");
    assert_eq!(
        mail["rcpt-tos"],
        serde_json::json!(["team@example.com", "ops@example.com"])
    );
    let body = mail["body"].as_str().unwrap();
    for line in [
        "version: 1.0.0",
        "channel: latest",
        "journal-url: https://github.com/acme/widget/releases/download/v1.0.0/release-journal.json",
        "the latest GitHub release : nothing -> v1.0.0",
    ] {
        assert!(body.contains(line), "{line}\n{body}");
    }
    assert!(
        stdout.contains("emailed Team <team@example.com>, ops@example.com through 127.0.0.1:"),
        "{stdout}"
    );

    // Without the CA the server's certificate is not trusted: no mail, not even in plain text.
    let repo = project(&format!("smtp://127.0.0.1:{}", sink.port), None);
    let fake = FakeGitHub::start();
    let out = release_with_login(&fake, &repo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("a warning only)"), "{}", text(&out).0);
    assert!(text(&out).1.contains("UnknownIssuer"), "{}", text(&out).1);
    assert_eq!(sink.messages().len(), 1, "nothing more was delivered");
}

#[test]
fn a_local_relay_without_tls_gets_the_mail_and_a_dead_server_is_only_a_warning() {
    let sink = SmtpSink::start(None, None);
    let repo = project(&format!("smtp://127.0.0.1:{}", sink.port), None);
    let fake = FakeGitHub::start();
    let out = fake.release(repo.path(), &["--version", "1.0.0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0]["tls"].as_bool(), messages[0]["login"].as_str()),
        (Some(false), None)
    );

    // Nothing listens there: the release is still released, and says what failed.
    let repo = project(&format!("smtp://127.0.0.1:{}", free_port()), None);
    let fake = FakeGitHub::start();
    let summary = repo.path().join("summary.md");
    let out = fake
        .release(
            repo.path(),
            &["--version", "1.0.0", "--summary-file", summary.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("(failed: ") && stdout.contains("a warning only)"),
        "{stdout}"
    );
    assert!(stderr.contains("the release is not affected"), "{stderr}");
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(
        summary.contains("a warning only)"),
        "the summary says so too:\n{summary}"
    );
    fake.with(|s| assert!(!s.releases[0].draft, "published"));
}

#[test]
fn a_mail_config_that_cannot_work_is_refused_when_read() {
    for (email, says) in [
        (
            "to = []\nfrom = \"a@example.com\"\nsmtp = \"smtp://mail.example.com\"",
            "lists nobody",
        ),
        (
            "to = [\"b@example.com\"]\nfrom = \"not an address\"\nsmtp = \"smtp://mail.example.com\"",
            "is not a mail address",
        ),
        (
            "to = [\"b@example.com\"]\nfrom = \"a@example.com\"\nsmtp = \"smtp://user:pw@mail.example.com\"",
            "smtp-username and smtp-password",
        ),
        (
            "to = [\"b@example.com\"]\nfrom = \"a@example.com\"\nsmtp = \"mail.example.com:25\"",
            "is not smtps://",
        ),
    ] {
        let repo = TestRepo::new();
        repo.write(".github/tamma-release.toml", &format!("[notify.email]\n{email}\n"));
        repo.commit("a.txt", "feat: x");
        let out = crate::support::tamma(&["release", "--dry-run", "--version", "1.0.0"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{email}");
        assert!(text(&out).1.contains(says), "{email}: {}", text(&out).1);
    }
}
