//! The release transaction end to end, against Verdaccio, docker-registry (each behind a proxy
//! that can fail one request) and the GitHub fake: rollback and its idempotence, a failure at
//! each flip step, a process killed during stage and during flip, and prerelease channels.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::github::{FakeGitHub, Fault, REPO, TOKEN};
use crate::support::proxy::{FaultProxy, ProxyFault};
use crate::support::registries::{Registry, Verdaccio};
use crate::support::{TestRepo, tamma, text};

const PACKAGE: &str = "widget-js";

/// Arranges for one step of the next release to fail.
type Inject<'a> = Box<dyn Fn(&World) + 'a>;

struct World {
    verdaccio: Verdaccio,
    registry: Registry,
    npm_proxy: FaultProxy,
    oci_proxy: FaultProxy,
    fake: FakeGitHub,
    repo: TestRepo,
    scratch: tempfile::TempDir,
}

/// Where every channel stands.
#[derive(Debug, Clone, PartialEq)]
struct Channels {
    npm: Value,
    image_latest: Option<String>,
    image_alpha: Option<String>,
    docs: Option<String>,
    github_latest: Option<String>,
}

fn world() -> World {
    let verdaccio = Verdaccio::start();
    let registry = Registry::start();
    let npm_proxy = FaultProxy::start(&verdaccio.url);
    let oci_proxy = FaultProxy::start(&format!("http://{}", registry.host));
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write(
        "js/package.json",
        &format!("{{\n  \"name\": \"{PACKAGE}\",\n  \"version\": \"0.0.0\",\n  \"main\": \"index.js\"\n}}\n"),
    );
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            r#"[release]
lock-wait = "3s"

[github]
write-interval = "0s"
retry-wait = "10ms"

[npm]
registry = "{}"

[deploy.docs]
path = "site"

[[artifact]]
kind = "file"
path = "README.md"

[[artifact]]
kind = "npm"
path = "js"

[[artifact]]
kind = "image"
image = "{}/acme/widget"
oci-layout = "image"
"#,
            npm_proxy.url(),
            oci_proxy.host()
        ),
    );
    let world = World {
        verdaccio,
        registry,
        npm_proxy,
        oci_proxy,
        fake,
        repo,
        scratch: tempfile::tempdir().unwrap(),
    };
    new_content(&world, "one");
    world
}

/// New content for every artifact, committed.
fn new_content(world: &World, word: &str) {
    let repo = &world.repo;
    let _ = std::fs::remove_dir_all(repo.path().join("image"));
    tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", word.as_bytes()).unwrap();
    repo.write("js/index.js", &format!("module.exports = '{word}';\n"));
    repo.write("site/index.html", &format!("<h1>{word}</h1>\n"));
    repo.write("README.md", &format!("# widget {word}\n"));
    repo.commit("CHANGES", &format!("feat: {word}"));
}

fn release_command(world: &World, args: &[&str]) -> std::process::Command {
    let mut cmd = world.fake.release(world.repo.path(), args);
    cmd.env("NPM_TOKEN", &world.verdaccio.token);
    cmd
}

fn release(world: &World, args: &[&str]) -> Output {
    release_command(world, args).output().unwrap()
}

fn rollback(world: &World, args: &[&str]) -> Output {
    let mut all = vec!["rollback"];
    all.extend_from_slice(args);
    tamma(&all)
        .current_dir(world.repo.path())
        .env("GITHUB_API_URL", &world.fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .env("NPM_TOKEN", &world.verdaccio.token)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked");
    stderr
}

fn channels(world: &World) -> Channels {
    let out = world
        .verdaccio
        .npm(world.scratch.path(), &["view", PACKAGE, "dist-tags", "--json"]);
    assert!(out.status.success(), "{}", text(&out).1);
    Channels {
        npm: serde_json::from_slice(&out.stdout).unwrap(),
        image_latest: world.registry.digest("acme/widget", "latest"),
        image_alpha: world.registry.digest("acme/widget", "alpha"),
        docs: world.fake.with(|s| s.branches.get("gh-pages").cloned()),
        github_latest: world.fake.with(|s| {
            s.latest
                .and_then(|id| s.releases.iter().find(|r| r.id == id))
                .map(|r| r.tag.clone())
        }),
    }
}

/// Every write that reached GitHub or a registry.
fn writes(world: &World) -> usize {
    world.fake.with(|s| s.writes()) + world.npm_proxy.writes() + world.oci_proxy.writes()
}

fn release_of(world: &World, tag: &str) -> crate::support::github::FakeRelease {
    world.fake.with(|s| {
        let found: Vec<_> = s.releases.iter().filter(|r| r.tag == tag).cloned().collect();
        assert_eq!(found.len(), 1, "exactly one release {tag}");
        found[0].clone()
    })
}

fn outputs(file: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    crate::support::runner::parse_file_command(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[test]
fn a_failure_at_each_flip_puts_every_channel_back_and_rollback_restores_the_previous_release() {
    let world = world();
    ok(&release(&world, &["--version", "1.0.0"]));
    let before = channels(&world);
    assert_eq!(before.npm["latest"], "1.0.0");
    assert_eq!(before.github_latest.as_deref(), Some("v1.0.0"));
    assert!(before.image_latest.is_some() && before.docs.is_some());

    new_content(&world, "two");
    let npm_tag = format!("/-/package/{PACKAGE}/dist-tags/latest");
    let steps: [(&str, Inject<'_>); 4] = [
        (
            "npm dist-tag",
            Box::new(|w: &World| {
                w.npm_proxy.fail_once(ProxyFault {
                    method: "PUT",
                    path: npm_tag.clone(),
                    status: 400,
                })
            }),
        ),
        (
            "image tag",
            Box::new(|w: &World| {
                w.oci_proxy.fail_once(ProxyFault {
                    method: "PUT",
                    path: "/manifests/latest".into(),
                    status: 400,
                })
            }),
        ),
        (
            "docs branch",
            Box::new(|w: &World| {
                w.fake.with(|s| {
                    s.faults.push(Fault::Status {
                        method: "PATCH",
                        path: "/git/refs/heads/gh-pages",
                        status: 422,
                    })
                })
            }),
        ),
        (
            "GitHub publish",
            Box::new(|w: &World| {
                w.fake.with(|s| {
                    s.faults.push(Fault::Status {
                        method: "PATCH",
                        path: "/releases/",
                        status: 422,
                    })
                })
            }),
        ),
    ];
    for (step, inject) in &steps {
        inject(&world);
        let out = release(&world, &["--version", "1.1.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{step}: {stderr}");
        assert!(stderr.contains("every moved pointer was put back"), "{step}: {stderr}");
        assert_eq!(
            channels(&world),
            before,
            "{step}: every channel is as before the release"
        );
        assert!(release_of(&world, "v1.1.0").draft, "{step}: the release stays a draft");
        assert_eq!(
            world.npm_proxy.faults_left() + world.oci_proxy.faults_left(),
            0,
            "{step}: the fault was hit"
        );
        assert!(world.fake.with(|s| s.faults.is_empty()), "{step}: the fault was hit");
    }

    // Without faults the same release completes from where the failures left it.
    ok(&release(&world, &["--version", "1.1.0"]));
    let after = channels(&world);
    assert_eq!(after.npm["latest"], "1.1.0");
    assert_eq!(after.github_latest.as_deref(), Some("v1.1.0"));
    assert_ne!(after.image_latest, before.image_latest);
    assert_ne!(after.docs, before.docs);
    let assets: Vec<String> = release_of(&world, "v1.1.0")
        .assets
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let mut unique = assets.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), assets.len(), "no duplicate asset: {assets:?}");

    // A re-run on a new machine (the journal only on the release) finds it all done.
    std::fs::remove_dir_all(world.repo.path().join("dist")).unwrap();
    let writes_before = writes(&world);
    ok(&release(&world, &["--version", "1.1.0"]));
    assert_eq!(
        writes(&world),
        writes_before,
        "a re-run of a finished release writes nothing"
    );

    // A dry run of the rollback says what it would do and changes nothing.
    let writes_before = writes(&world);
    let out = rollback(&world, &["--dry-run"]);
    let (stdout, _) = text(&out);
    ok(&out);
    assert!(
        stdout.contains(&format!("would npm: put {PACKAGE}@latest back from 1.1.0 to 1.0.0")),
        "{stdout}"
    );
    assert!(
        stdout.contains("would github-release: marked v1.1.0 a prerelease"),
        "{stdout}"
    );
    assert_eq!(writes(&world), writes_before, "a dry run writes nothing");
    assert_eq!(channels(&world), after);

    // The rollback: every channel back on 1.0.0; the bad release kept, marked; npm deprecated.
    let output_file = world.scratch.path().join("outputs");
    ok(&rollback(&world, &["--output-file", output_file.to_str().unwrap()]));
    let rolled = channels(&world);
    assert_eq!(rolled.npm["latest"], "1.0.0", "npm view {PACKAGE} dist-tags.latest");
    assert_eq!(
        rolled.image_latest, before.image_latest,
        "the registry's latest is 1.0.0's digest"
    );
    assert_eq!(rolled.docs, before.docs, "the docs branch is at its pre-1.1.0 commit");
    assert_eq!(rolled.github_latest.as_deref(), Some("v1.0.0"));
    let bad = release_of(&world, "v1.1.0");
    assert!(
        bad.prerelease && bad.body.contains("This release was rolled back"),
        "{}",
        bad.body
    );
    let outputs = outputs(&output_file);
    assert_eq!(outputs["rolled-back-from"], "1.1.0");
    assert_eq!(outputs["rolled-back-to"], "1.0.0");
    let out = world.verdaccio.npm(
        world.scratch.path(),
        &["view", &format!("{PACKAGE}@1.1.0"), "deprecated"],
    );
    assert!(
        text(&out).0.contains("1.1.0 was rolled back; use 1.0.0"),
        "{}",
        text(&out).0
    );
    world.fake.with(|s| {
        let docs: Vec<_> = s.deployments.iter().filter(|d| d.environment == "docs").collect();
        let last = |d: &crate::support::github::FakeDeployment| d.statuses.last().cloned().unwrap_or_default();
        assert!(
            docs.iter()
                .filter(|d| d.reference == "v1.1.0")
                .all(|d| last(d) == "inactive"),
            "1.1.0's docs are gone: {docs:?}"
        );
        let first = docs.iter().find(|d| d.reference == "v1.0.0").unwrap();
        assert_eq!(
            first.statuses,
            ["success", "inactive", "success"],
            "1.0.0's docs are live again"
        );
    });

    // Again: nothing changes, nothing is written.
    let writes_before = writes(&world);
    let out = rollback(&world, &["--json"]);
    ok(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rollback"]["changed"], false);
    assert_eq!(writes(&world), writes_before, "a second rollback writes nothing");
    assert_eq!(channels(&world), rolled);

    // Re-running the rolled-back release's workflow does not bring it back.
    let out = release(&world, &["--version", "1.1.0"]);
    let stderr = ok(&out);
    assert!(stderr.contains("is published already and"), "{stderr}");
    assert!(stderr.contains("left alone"), "{stderr}");
    assert_eq!(writes(&world), writes_before, "nothing moves forward again");
    assert_eq!(channels(&world), rolled);
}

/// Starts a release that the fake holds at `method path` (the write is done, the answer held
/// back), kills it there with SIGKILL, and returns once it is dead.
fn kill_at(world: &World, version: &str, method: &'static str, path: &'static str) {
    world.fake.with(|s| {
        s.faults.push(Fault::Delay {
            method,
            path,
            millis: 20_000,
        })
    });
    let seen = world.fake.with(|s| s.log.len());
    let mut child = release_command(world, &["--version", version])
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reached = world
            .fake
            .with(|s| s.log[seen..].iter().any(|(m, p)| m == method && p.contains(path)));
        if reached {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the release ended before {method} {path}"
        );
        assert!(Instant::now() < deadline, "the release never reached {method} {path}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // A re-run in a new job starts without the dead job's dist/.
    let _ = std::fs::remove_dir_all(world.repo.path().join("dist"));
}

fn rerun(world: &World, version: &str) -> String {
    let out = release_command(world, &["--version", version])
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .output()
        .unwrap();
    ok(&out)
}

fn assert_released(world: &World, version: &str, names: &[String], word: &str) {
    let tag = format!("v{version}");
    let release = release_of(world, &tag);
    assert!(!release.draft, "{tag} is published");
    let mut got: Vec<String> = release.assets.iter().map(|a| a.name.clone()).collect();
    got.sort();
    assert_eq!(
        got, names,
        "{tag}: every asset once, as an uninterrupted run attaches them"
    );
    let now = channels(world);
    assert_eq!(now.npm["latest"], version);
    assert_eq!(now.github_latest.as_deref(), Some(tag.as_str()));
    assert_eq!(
        world.registry.digest("acme/widget", "latest"),
        world.registry.digest("acme/widget", version)
    );
    let site = world.fake.with(|s| s.branch_files("gh-pages"));
    assert_eq!(
        site["index.html"],
        format!("<h1>{word}</h1>\n"),
        "the docs branch holds {tag}'s site"
    );
    assert!(world.fake.with(|s| s.refs.is_empty()), "the lock is released");
}

#[test]
fn a_release_killed_during_stage_or_flip_converges_on_a_re_run() {
    let world = world();
    ok(&release(&world, &["--version", "1.0.0"]));
    let names: Vec<String> = {
        let mut n: Vec<String> = release_of(&world, "v1.0.0")
            .assets
            .iter()
            .map(|a| a.name.replace("1.0.0", "VERSION"))
            .collect();
        n.sort();
        n
    };
    let expect = |version: &str| -> Vec<String> {
        let mut n: Vec<String> = names.iter().map(|n| n.replace("VERSION", version)).collect();
        n.sort();
        n
    };

    // Killed while uploading an asset (the upload completed, the answer never came).
    new_content(&world, "two");
    kill_at(&world, "1.1.0", "POST", "/uploads/");
    let stderr = rerun(&world, "1.1.0");
    assert!(stderr.contains("found the draft release v1.1.0"), "{stderr}");
    assert_released(&world, "1.1.0", &expect("1.1.0"), "two");
    let after_110 = channels(&world);

    // Killed while moving the docs branch, after npm and the image had moved: the re-run, on a
    // new machine, reads the journal from the draft, takes over its earlier attempt's lock and
    // keeps the old values recorded before the kill.
    new_content(&world, "three");
    kill_at(&world, "1.2.0", "PATCH", "/git/refs/heads/gh-pages");
    assert_eq!(world.fake.with(|s| s.refs.len()), 1, "the killed run left its lock");
    let stderr = rerun(&world, "1.2.0");
    assert!(
        stderr.contains("resumed the journal from the draft release v1.2.0"),
        "{stderr}"
    );
    assert!(stderr.contains("taking over the release lock"), "{stderr}");
    assert_released(&world, "1.2.0", &expect("1.2.0"), "three");
    let versions = world
        .verdaccio
        .npm(world.scratch.path(), &["view", PACKAGE, "versions", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&versions.stdout).unwrap(),
        serde_json::json!(["1.0.0", "1.1.0", "1.2.0"]),
        "each version published once"
    );
    // The journal kept 1.1.0 as every pointer's old value: a rollback lands exactly there.
    ok(&rollback(&world, &["--version", "1.2.0"]));
    let rolled = channels(&world);
    assert_eq!(rolled.npm["latest"], "1.1.0");
    assert_eq!(rolled.image_latest, after_110.image_latest);
    assert_eq!(rolled.docs, after_110.docs);
    assert_eq!(rolled.github_latest.as_deref(), Some("v1.1.0"));
}

#[test]
fn prereleases_move_only_their_channel_and_roll_back_only_it() {
    let world = world();
    ok(&release(&world, &["--version", "1.0.0"]));
    let stable = channels(&world);
    new_content(&world, "alpha zero");
    ok(&release(&world, &["--version", "1.1.0-alpha.0"]));
    let alpha0 = channels(&world);
    assert_eq!(alpha0.npm["alpha"], "1.1.0-alpha.0");
    assert_eq!(alpha0.npm["latest"], "1.0.0", "latest is untouched");
    assert_eq!(
        alpha0.image_latest, stable.image_latest,
        "the image's latest is untouched"
    );
    assert!(alpha0.image_alpha.is_some());
    assert_eq!(alpha0.github_latest, stable.github_latest);
    assert_eq!(
        alpha0.docs, stable.docs,
        "an unversioned site is not replaced by a prerelease"
    );

    new_content(&world, "alpha one");
    ok(&release(&world, &["--version", "1.1.0-alpha.1"]));
    let alpha1 = channels(&world);
    assert_eq!(alpha1.npm["alpha"], "1.1.0-alpha.1");
    assert_ne!(alpha1.image_alpha, alpha0.image_alpha);

    let output_file = world.scratch.path().join("outputs");
    ok(&rollback(
        &world,
        &[
            "--version",
            "1.1.0-alpha.1",
            "--output-file",
            output_file.to_str().unwrap(),
        ],
    ));
    let rolled = channels(&world);
    assert_eq!(rolled, alpha0, "only the alpha pointers moved, back to alpha.0");
    let outputs = outputs(&output_file);
    assert_eq!(outputs["rolled-back-from"], "1.1.0-alpha.1");
    assert_eq!(outputs["rolled-back-to"], "1.1.0-alpha.0");

    // The first alpha created its channel: the npm tag goes; docker-registry deletes no tag on
    // its own, so the image's alpha points at the release users get again (1.0.0). A second
    // press finds everything in place.
    for press in 0..2 {
        let out = rollback(&world, &["--version", "1.1.0-alpha.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        if press == 0 {
            assert!(
                stderr.contains("acme/widget:alpha at")
                    && stderr.contains("the registry cannot delete a tag on its own"),
                "{stderr}"
            );
        }
        let now = channels(&world);
        assert!(now.npm.get("alpha").is_none(), "{:?}", now.npm);
        assert_eq!(now.npm["latest"], "1.0.0");
        assert_eq!(now.image_latest, stable.image_latest);
        assert_eq!(now.image_alpha, stable.image_latest, "alpha now serves 1.0.0");
    }
}
