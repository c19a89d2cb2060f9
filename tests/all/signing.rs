//! Signed checksums (issue 17): `SHA256SUMS.asc` checked by the real `gpg --verify` a user runs,
//! with keys made by the real GnuPG, and bad keys stopped before anything is built or published.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, text};

/// A GnuPG home with one key, made and exported by the real gpg.
struct Gpg {
    home: tempfile::TempDir,
    /// The primary key's fingerprint.
    fingerprint: String,
    /// `gpg --armor --export-secret-keys`.
    armored: String,
}

impl Gpg {
    /// A key for `passphrase` (empty: unlocked). With `subkey`, GnuPG's usual layout: a primary
    /// key that certifies, and a separate subkey that signs.
    fn new(passphrase: &str, subkey: bool) -> Gpg {
        let home = tempfile::Builder::new().prefix("gpg").tempdir_in("/tmp").unwrap();
        let gpg = Gpg {
            home,
            fingerprint: String::new(),
            armored: String::new(),
        };
        let usage = if subkey { "cert" } else { "sign" };
        gpg.run(&[
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            "Tamma Test <release@example.com>",
            "ed25519",
            usage,
            "never",
        ]);
        let listing = gpg.run(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        if subkey {
            gpg.run(&[
                "--passphrase",
                passphrase,
                "--quick-add-key",
                &fingerprint,
                "ed25519",
                "sign",
                "never",
            ]);
        }
        let armored = gpg.run(&[
            "--passphrase",
            passphrase,
            "--armor",
            "--export-secret-keys",
            &fingerprint,
        ]);
        Gpg {
            fingerprint,
            armored,
            ..gpg
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--no-tty"])
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .expect("gpg is installed (scripts/test installs gnupg)");
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out).1);
        String::from_utf8(out.stdout).unwrap()
    }

    /// `gpg --verify signature data`: the status lines, or the failure.
    fn verify(&self, signature: &[u8], data: &[u8]) -> Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("SHA256SUMS.asc"), signature).unwrap();
        std::fs::write(dir.path().join("SHA256SUMS"), data).unwrap();
        let out = self
            .command(&["--status-fd", "1", "--verify", "SHA256SUMS.asc", "SHA256SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("{stdout}{stderr}"))
        }
    }
}

fn archive_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nseen-by-build.txt\n");
    repo.write("bin/widget", "#!/bin/sh\necho widget\n");
    // The build command writes down the environment it got: the key must not be in it.
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nname = \"widget.tar.gz\"\nkind = \"archive\"\nfiles = [\"bin/widget\"]\nbuild = [\"python3\", \"-c\", \"import os; open('seen-by-build.txt', 'w').write(repr(dict(os.environ)))\"]\n",
    );
    repo.commit("README.md", "feat: first");
    repo
}

fn asset(fake: &FakeGitHub, name: &str) -> Vec<u8> {
    fake.with(|s| {
        s.releases[0]
            .assets
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.content.clone())
            .unwrap_or_else(|| panic!("no asset {name}"))
    })
}

#[test]
fn the_released_sums_verify_with_gpg_and_a_changed_sum_does_not() {
    let gpg = Gpg::new("correct horse battery staple", true);
    let repo = archive_repo();
    let fake = FakeGitHub::start();
    let event = serde_json::json!({"ref": "refs/tags/v1.0.0"});
    repo.git(&["tag", "v1.0.0"]);
    let (out, _, summary) = fake.action_with_env(
        repo.path(),
        "push",
        "refs/tags/v1.0.0",
        &event,
        &[
            ("signing-key", &gpg.armored),
            ("signing-passphrase", "correct horse battery staple"),
        ],
        &[],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let sums = asset(&fake, "SHA256SUMS");
    let signature = asset(&fake, "SHA256SUMS.asc");
    assert!(String::from_utf8_lossy(&signature).starts_with("-----BEGIN PGP SIGNATURE-----"));
    let status = gpg
        .verify(&signature, &sums)
        .expect("gpg --verify accepts the release's signature");
    assert!(
        status.contains("VALIDSIG") && status.contains(&gpg.fingerprint),
        "signed by the subkey of {}: {status}",
        gpg.fingerprint
    );
    // Against a sums file someone changed, the same signature fails.
    let mut changed = sums.clone();
    changed[0] = if changed[0] == b'0' { b'1' } else { b'0' };
    let refused = gpg.verify(&signature, &changed).unwrap_err();
    assert!(refused.contains("BADSIG"), "{refused}");
    // The notes tell users how to check, naming the key.
    let body = fake.with(|s| s.releases[0].body.clone());
    assert!(
        body.contains(&gpg.fingerprint) && body.contains("gpg --verify SHA256SUMS.asc SHA256SUMS"),
        "{body}"
    );
    // Every line of the key and the passphrase are masked before anything else is printed, and
    // appear nowhere else.
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("::add-mask::"), "{stdout}");
    let key_lines: Vec<&str> = gpg
        .armored
        .lines()
        .filter(|l| l.len() >= 20 && !l.starts_with("-----"))
        .collect();
    for line in &key_lines {
        assert!(stdout.contains(&format!("::add-mask::{line}")), "{line} is masked");
    }
    let printed: String = stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .chain(stderr.lines())
        .chain(summary.lines())
        .collect::<Vec<_>>()
        .join("\n");
    for line in key_lines.iter().chain(&["correct horse battery staple"]) {
        assert!(!printed.contains(line), "a secret was printed: {line}");
    }
    let seen = std::fs::read_to_string(repo.path().join("seen-by-build.txt")).unwrap();
    assert!(!seen.contains("correct horse") && !seen.contains("SIGNING"), "{seen}");
    assert!(
        !key_lines.iter().any(|l| seen.contains(l)),
        "the build command got the key"
    );
    for (name, data) in [("SHA256SUMS", &sums), ("SHA256SUMS.asc", &signature)] {
        let text = String::from_utf8_lossy(data);
        assert!(
            !key_lines.iter().any(|l| text.contains(l)),
            "{name} holds no key material"
        );
    }
}

#[test]
fn an_unlocked_primary_key_signs_from_the_cli_and_a_dry_run_writes_nothing() {
    let gpg = Gpg::new("", false);
    let repo = archive_repo();
    let fake = FakeGitHub::start();
    let dry = fake
        .release(repo.path(), &["--version", "1.0.0", "--dry-run"])
        .env("SIGNING_KEY", &gpg.armored)
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry).1);
    assert!(
        text(&dry)
            .1
            .contains(&format!("would sign SHA256SUMS with OpenPGP key {}", gpg.fingerprint)),
        "{}",
        text(&dry).1
    );
    assert!(!repo.path().join("dist").exists());
    assert_eq!(fake.with(|s| s.writes()), 0);
    let out = fake
        .release(repo.path(), &["--version", "1.0.0"])
        .env("SIGNING_KEY", &gpg.armored)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let seen = std::fs::read_to_string(repo.path().join("seen-by-build.txt")).unwrap();
    assert!(seen.contains("'PATH'") && !seen.contains("SIGNING_KEY"), "{seen}");
    let on_disk = std::fs::read(repo.path().join("dist/SHA256SUMS.asc")).unwrap();
    assert_eq!(asset(&fake, "SHA256SUMS.asc"), on_disk);
    gpg.verify(&on_disk, &asset(&fake, "SHA256SUMS")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.path().join("dist/manifest.json")).unwrap()).unwrap();
    let entry = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "SHA256SUMS.asc")
        .unwrap();
    assert_eq!(
        (entry["kind"].as_str(), entry["media-type"].as_str()),
        (Some("signature"), Some("application/pgp-signature"))
    );
}

/// Runs a release with `env` and expects exit 2 naming `input`, with nothing built or written.
fn refused(repo: &Path, env: &[(&str, &str)], input: &str, says: &str) {
    let fake = FakeGitHub::start();
    let mut cmd = fake.release(repo, &["--version", "1.0.0"]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out: Output = cmd.output().unwrap();
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{input}: {says}")), "{stderr}");
    assert_eq!(fake.with(|s| s.writes()), 0, "{stderr}");
    assert!(!repo.join("dist").exists(), "nothing was built: {stderr}");
    for (_, value) in env {
        for line in value.lines().filter(|l| l.len() >= 20 && !l.starts_with("-----")) {
            assert!(!stderr.contains(line), "the key is not echoed: {stderr}");
        }
    }
}

#[test]
fn a_wrong_passphrase_or_a_broken_key_stops_the_release_before_anything_is_built() {
    let locked = Gpg::new("the right one", true);
    let repo = archive_repo();
    let key = locked.armored.as_str();
    refused(
        repo.path(),
        &[("SIGNING_KEY", key), ("SIGNING_PASSPHRASE", "the wrong one")],
        "signing-passphrase",
        "does not unlock the signing key",
    );
    refused(
        repo.path(),
        &[("SIGNING_KEY", key)],
        "signing-passphrase",
        "the signing key is locked with a passphrase",
    );
    // A public key, or a key cut short on its way into the secret store.
    let public = locked.run(&["--armor", "--export", &locked.fingerprint]);
    refused(
        repo.path(),
        &[("SIGNING_KEY", &public)],
        "signing-key",
        "is not an ASCII-armored OpenPGP secret key",
    );
    let cut: String = key.lines().take(8).collect::<Vec<_>>().join("\n");
    refused(
        repo.path(),
        &[("SIGNING_KEY", &cut), ("SIGNING_PASSPHRASE", "the right one")],
        "signing-key",
        "is not an ASCII-armored OpenPGP secret key",
    );
    refused(
        repo.path(),
        &[("SIGNING_PASSPHRASE", "the right one")],
        "signing-passphrase",
        "given without signing-key",
    );
}
