//! Independent versions in a monorepo (issue 20): a pnpm workspace whose packages `shared`, `api`
//! (depends on shared) and `cli` (depends on both) are each released on their own version and
//! tag, from the commits that touch their folder, with dependents following — published to a real
//! registry (Verdaccio) and installed with the real npm client, released on the fake GitHub,
//! resumed after a failure, and rolled back as one run.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::github::{FakeGitHub, Fault};
use crate::support::registries::Verdaccio;
use crate::support::{TestRepo, tamma, text};

/// name → (internal dependencies (name, range)).
const PACKAGES: &[(&str, &[(&str, &str)])] = &[
    ("shared", &[]),
    ("api", &[("shared", "workspace:*")]),
    ("cli", &[("api", "workspace:*"), ("shared", "workspace:^")]),
];

/// The workspace, committed, with a config for `registry` (none: a dry-run config).
fn workspace(registry: Option<&str>) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nnode_modules/\n");
    repo.write("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n");
    repo.write("package.json", "{\n  \"name\": \"acme\",\n  \"private\": true\n}\n");
    for (name, deps) in PACKAGES {
        let dependencies: serde_json::Map<String, Value> =
            deps.iter().map(|(d, r)| (format!("@acme/{d}"), json!(r))).collect();
        let manifest = json!({"name": format!("@acme/{name}"), "version": "1.0.0", "main": "index.js", "dependencies": dependencies});
        repo.write(
            &format!("packages/{name}/package.json"),
            &format!("{}\n", serde_json::to_string_pretty(&manifest).unwrap()),
        );
        repo.write(
            &format!("packages/{name}/index.js"),
            &format!("module.exports = '{name}';\n"),
        );
    }
    let mut config = String::from(
        "[github]\nwrite-interval = \"0s\"\n\n[release]\nmode = \"independent\"\n\n[version]\nchangelog = \"CHANGELOG.md\"\n",
    );
    if let Some(url) = registry {
        config.push_str(&format!("\n[npm]\nregistry = \"{url}\"\n"));
    }
    for (name, _) in PACKAGES {
        config.push_str(&format!("\n[[artifact]]\nkind = \"npm\"\npath = \"packages/{name}\"\n"));
    }
    repo.write(".github/tamma-release.toml", &config);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the workspace"]);
    repo
}

/// A push to main, as the workflow runs it: a fresh checkout with every tag GitHub has.
fn release(fake: &FakeGitHub, repo: &TestRepo, token: &str) -> (std::process::Output, Value, String) {
    repo.git(&["checkout", "-q", "-f", "main"]);
    repo.git(&["clean", "-q", "-fdx"]);
    let tags = fake.with(|s| s.tags.clone());
    for (tag, sha) in tags {
        if repo.git(&["tag", "-l", &tag]).trim().is_empty() {
            repo.git(&["tag", &tag, &sha]);
        }
    }
    let (out, outputs, summary) = fake.action(
        repo.path(),
        "push",
        "refs/heads/main",
        &json!({"ref": "refs/heads/main"}),
        &[("npm-token", token)],
    );
    // The runner's checkout is gone with the job: what prepare wrote there is not committed.
    repo.git(&["checkout", "-q", "-f", "main"]);
    repo.git(&["clean", "-q", "-fdx"]);
    let outputs = crate::support::runner::parse_file_command(&outputs).unwrap_or_default();
    let releases = outputs
        .get("releases")
        .map_or(Value::Null, |r| serde_json::from_str(r).unwrap());
    (out, releases, summary)
}

/// (package, version) of each entry of the `releases` output.
fn released(releases: &Value) -> Vec<(String, String)> {
    releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["package"].as_str().unwrap().into(),
                r["version"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn latest(verdaccio: &Verdaccio) -> Vec<String> {
    PACKAGES
        .iter()
        .map(|(name, _)| {
            let tags = crate::monorepo::dist_tags(verdaccio, &format!("@acme/{name}"));
            tags["latest"].as_str().unwrap().to_string()
        })
        .collect()
}

fn registry_dependencies(verdaccio: &Verdaccio, spec: &str) -> Value {
    let out = verdaccio.npm(Path::new("/tmp"), &["view", spec, "dependencies", "--json"]);
    assert!(out.status.success(), "{}", text(&out).1);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The versions the real npm client installs for `spec`: name → version.
fn install(verdaccio: &Verdaccio, spec: &str) -> Vec<(String, String)> {
    let project = verdaccio.install(spec);
    PACKAGES
        .iter()
        .filter_map(|(name, _)| {
            Some((
                name.to_string(),
                Verdaccio::installed(project.path(), &format!("@acme/{name}"))?,
            ))
        })
        .collect()
}

/// `command: rollback` of `version` from a dispatch form.
fn rollback(fake: &FakeGitHub, repo: &TestRepo, token: &str, version: &str) -> (std::process::Output, String, String) {
    fake.action(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        &json!({"inputs": {"version": version, "dry-run": "false"}}),
        &[("command", "rollback"), ("npm-token", token)],
    )
}

/// Replaces the release-plan.json of the release `tag` on the fake GitHub; returns what it was.
fn swap_plan(fake: &FakeGitHub, tag: &str, plan: impl FnOnce(&Value) -> Value) -> Value {
    fake.with(|s| {
        let release = s.releases.iter_mut().find(|r| r.tag == tag).unwrap();
        let asset = release
            .assets
            .iter_mut()
            .find(|a| a.name == "release-plan.json")
            .unwrap();
        let before: Value = serde_json::from_slice(asset.content.as_ref().unwrap()).unwrap();
        asset.content = Some(serde_json::to_vec(&plan(&before)).unwrap());
        before
    })
}

fn release_body(fake: &FakeGitHub, tag: &str) -> String {
    fake.with(|s| s.releases.iter().find(|r| r.tag == tag).map(|r| r.body.clone()))
        .unwrap_or_else(|| panic!("no release {tag}"))
}

#[test]
fn packages_release_on_their_own_versions_resume_and_roll_back_as_one_run() {
    let verdaccio = Verdaccio::start();
    let fake = FakeGitHub::start();
    let repo = workspace(Some(&verdaccio.url));
    let token = verdaccio.token.clone();

    // The first release: every package at the version its package.json says.
    let (out, releases, _) = release(&fake, &repo, &token);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(
        released(&releases),
        pairs(&[
            ("@acme/shared", "1.0.0"),
            ("@acme/api", "1.0.0"),
            ("@acme/cli", "1.0.0")
        ])
    );
    assert_eq!(latest(&verdaccio), ["1.0.0", "1.0.0", "1.0.0"]);

    // A fix in cli alone releases cli alone.
    repo.commit("packages/cli/index.js", "fix(cli): exit with the right code");
    let (out, releases, _) = release(&fake, &repo, &token);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(released(&releases), pairs(&[("@acme/cli", "1.0.1")]));
    assert_eq!(latest(&verdaccio), ["1.0.0", "1.0.0", "1.0.1"]);

    // A feature in shared releases shared (minor) and its dependents (patch) — and a commit that
    // touches no package releases nothing. GitHub fails once while cli is staged: shared and api
    // are out, cli is not, and the run says so.
    repo.commit("packages/shared/index.js", "feat(shared): greet in French");
    repo.commit("README.md", "docs: a readme for the repository");
    fake.with(|s| {
        s.faults.push(Fault::Status {
            method: "GET",
            path: "/git/ref/tags/%40acme/cli%40",
            status: 401,
        })
    });
    let (out, _, _) = release(&fake, &repo, &token);
    // In Actions the error is an annotation on stdout.
    let stdout = text(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("released @acme/shared@1.1.0, @acme/api@1.0.1, then @acme/cli@1.0.2 failed"),
        "{stdout}"
    );
    assert_eq!(latest(&verdaccio), ["1.1.0", "1.0.1", "1.0.1"]);

    // The re-run checks what was released (nothing written for it) and releases the rest.
    let (done, logged) = fake.with(|s| {
        let ids: Vec<u64> = s
            .releases
            .iter()
            .filter(|r| r.tag != "@acme/cli@1.0.2")
            .map(|r| r.id)
            .collect();
        (ids, s.log.len())
    });
    let (out, releases, summary) = release(&fake, &repo, &token);
    fake.with(|s| {
        for (method, path) in &s.log[logged..] {
            let release = done.iter().any(|id| path.contains(&format!("/releases/{id}")));
            assert!(
                !(release && method != "GET"),
                "{method} {path}: a finished release was written again"
            );
        }
    });
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(
        released(&releases),
        pairs(&[
            ("@acme/shared", "1.1.0"),
            ("@acme/api", "1.0.1"),
            ("@acme/cli", "1.0.2")
        ])
    );
    assert_eq!(latest(&verdaccio), ["1.1.0", "1.0.1", "1.0.2"]);
    for row in [
        "| `@acme/shared` | `1.1.0` | 1.0.0 | its own commits |",
        "| `@acme/api` | `1.0.1` | 1.0.0 | follows `@acme/shared` |",
        "| `@acme/cli` | `1.0.2` | 1.0.1 | follows `@acme/api` |",
    ] {
        assert!(summary.contains(row), "{row}\n{summary}");
    }
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    fake.with(|s| {
        for tag in ["@acme/shared@1.1.0", "@acme/api@1.0.1", "@acme/cli@1.0.2"] {
            assert_eq!(
                s.releases.iter().filter(|r| r.tag == tag).count(),
                1,
                "{tag}: one release"
            );
            assert_eq!(s.tags.get(tag), Some(&head), "{tag} is at the released commit");
        }
        assert_eq!(
            s.tags.len(),
            7,
            "3 first releases, cli's fix, this run's 3: {:?}",
            s.tags.keys()
        );
    });
    // Each package's notes hold its own commits only.
    let shared = release_body(&fake, "@acme/shared@1.1.0");
    assert!(
        shared.contains("greet in French") && !shared.contains("a readme"),
        "{shared}"
    );
    let api = release_body(&fake, "@acme/api@1.0.1");
    assert!(
        !api.contains("greet in French") && api.contains("`@acme/shared` is now 1.1.0"),
        "{api}"
    );
    let cli = release_body(&fake, "@acme/cli@1.0.2");
    assert!(!cli.contains("right code") && !cli.contains("greet in French"), "{cli}");
    // The published ranges name the new versions, and npm installs them.
    assert_eq!(
        registry_dependencies(&verdaccio, "@acme/api@1.0.1"),
        json!({"@acme/shared": "1.1.0"})
    );
    assert_eq!(
        registry_dependencies(&verdaccio, "@acme/cli@1.0.2"),
        json!({"@acme/api": "1.0.1", "@acme/shared": "^1.1.0"})
    );
    assert_eq!(
        install(&verdaccio, "@acme/cli"),
        pairs(&[("shared", "1.1.0"), ("api", "1.0.1"), ("cli", "1.0.2")])
    );
    assert_eq!(install(&verdaccio, "@acme/shared"), pairs(&[("shared", "1.1.0")]));
    assert_eq!(
        install(&verdaccio, "@acme/api"),
        pairs(&[("shared", "1.1.0"), ("api", "1.0.1")])
    );

    // A release-plan.json edited to add an older release of another commit to the run is refused
    // before anything is written.
    let writes = fake.with(|s| s.writes());
    let honest = swap_plan(&fake, "@acme/api@1.0.1", |plan| {
        let mut edited = plan.clone();
        edited["released-with"] = json!(["@acme/shared@1.0.0", "@acme/api@1.0.1"]);
        edited
    });
    let (out, _, _) = rollback(&fake, &repo, &token, "@acme/api@1.0.1");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);
    assert!(
        text(&out).0.contains("was released from another commit"),
        "{}",
        text(&out).0
    );
    assert_eq!(fake.with(|s| s.writes()), writes, "nothing written");
    assert_eq!(latest(&verdaccio), ["1.1.0", "1.0.1", "1.0.2"]);
    swap_plan(&fake, "@acme/api@1.0.1", |_| honest);

    // Rolling back api's release puts back every pointer its run moved, in all three packages.
    let (out, outputs, summary) = rollback(&fake, &repo, &token, "@acme/api@1.0.1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(latest(&verdaccio), ["1.0.0", "1.0.0", "1.0.1"]);
    let outputs = crate::support::runner::parse_file_command(&outputs).unwrap();
    assert_eq!(
        outputs["rolled-back-from"],
        "@acme/shared@1.1.0, @acme/api@1.0.1, @acme/cli@1.0.2"
    );
    assert!(summary.contains("| `@acme/cli` | `1.0.2` | 1.0.1 |"), "{summary}");
    for spec in ["@acme/shared@1.1.0", "@acme/api@1.0.1", "@acme/cli@1.0.2"] {
        let deprecated = verdaccio.npm(Path::new("/tmp"), &["view", spec, "deprecated"]);
        assert!(
            text(&deprecated).0.contains("rolled back"),
            "{spec}: {}",
            text(&deprecated).0
        );
    }
    assert_eq!(
        install(&verdaccio, "@acme/cli"),
        pairs(&[("shared", "1.0.0"), ("api", "1.0.0"), ("cli", "1.0.1")])
    );
    fake.with(|s| {
        for tag in ["@acme/shared@1.1.0", "@acme/api@1.0.1", "@acme/cli@1.0.2"] {
            let release = s.releases.iter().find(|r| r.tag == tag).unwrap();
            assert!(release.body.contains("This release was rolled back"), "{tag}");
        }
        let cli = s.releases.iter().find(|r| r.tag == "@acme/cli@1.0.1").unwrap();
        assert!(!cli.body.contains("rolled back"), "another run's release is left alone");
    });
    // A second press changes nothing.
    let writes = fake.with(|s| s.writes());
    let (out, _, _) = rollback(&fake, &repo, &token, "@acme/shared@1.1.0");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(fake.with(|s| s.writes()), writes);

    // history reads every package's releases and dist-tags: the run's three rolled back, each
    // latest where the rollback left it, nothing drifted.
    let out = fake
        .command(repo.path(), &["status", "--json"])
        .env("NPM_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let history: Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = |tag: &str| {
        history["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tag"] == tag)
            .map(|r| r["state"].clone())
    };
    assert_eq!(state("@acme/api@1.0.1"), Some(json!("rolled-back")));
    assert_eq!(state("@acme/cli@1.0.1"), Some(json!("published")));
    let latest_now: Vec<(String, String)> = history["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().ends_with("@latest"))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["now"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(latest_now.len(), 3, "{history:#}");
    assert!(
        latest_now.contains(&("@acme/cli@latest".into(), "1.0.1".into())),
        "{latest_now:?}"
    );
    assert!(
        history["pointers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["drift"] == false),
        "{history:#}"
    );
}

/// `plan --json` in `repo` (a dry run): (package, version) planned.
fn planned(repo: &TestRepo, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let out = tamma(&all).current_dir(repo.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["plan"]["package"].as_str().unwrap().into(),
                p["plan"]["version"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_tag_push_releases_its_package_and_what_follows_it() {
    let fake = FakeGitHub::start();
    let repo = workspace(None);
    for (name, _) in PACKAGES {
        repo.git(&["tag", &format!("@acme/{name}@1.0.0")]);
    }
    repo.commit("packages/api/index.js", "feat(api): a route");
    repo.commit("packages/shared/index.js", "fix(shared): a typo");
    // Without a tag, every package with changes: shared and api for their own commits, cli after.
    assert_eq!(
        planned(&repo, &[]),
        pairs(&[
            ("@acme/shared", "1.0.1"),
            ("@acme/api", "1.1.0"),
            ("@acme/cli", "1.0.1")
        ])
    );
    // --package: api and what follows it; shared's own fix waits.
    assert_eq!(
        planned(&repo, &["--package", "@acme/api", "--bump", "major"]),
        pairs(&[("@acme/api", "2.0.0"), ("@acme/cli", "1.0.1")])
    );
    // A push of api's tag releases api at that version, and cli.
    repo.git(&["tag", "@acme/api@1.2.0"]);
    let (out, outputs, _) = fake.action(
        repo.path(),
        "push",
        "refs/tags/@acme/api@1.2.0",
        &json!({"ref": "refs/tags/@acme/api@1.2.0"}),
        &[("dry-run", "true")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let outputs = crate::support::runner::parse_file_command(&outputs).unwrap();
    let releases: Value = serde_json::from_str(&outputs["releases"]).unwrap();
    assert_eq!(
        released(&releases),
        pairs(&[("@acme/api", "1.2.0"), ("@acme/cli", "1.0.1")])
    );
    assert_eq!(outputs["version"], "", "several releases: read `releases`");
    // version and changelog answer per package, as the release would.
    let version = |args: &[&str]| {
        let out = tamma(args).current_dir(repo.path()).output().unwrap();
        (out.status.code(), text(&out).0.trim().to_string(), text(&out).1)
    };
    assert_eq!(version(&["version", "--package", "@acme/cli"]).1, "1.0.1");
    assert_eq!(version(&["version", "--package", "@acme/shared"]).1, "1.0.1");
    let (code, _, stderr) = version(&["version"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--package (@acme/shared, @acme/api, @acme/cli)"),
        "{stderr}"
    );
    let (code, changelog, _) = version(&["changelog", "--package", "@acme/shared"]);
    assert_eq!(code, Some(0));
    assert!(
        changelog.contains("a typo") && !changelog.contains("a route"),
        "{changelog}"
    );
    let (code, _, stderr) = version(&["changelog", "--package", "@acme/web"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("\"@acme/web\" is not a package this config releases"),
        "{stderr}"
    );
}

#[test]
fn settings_that_cannot_follow_one_version_per_package_are_refused() {
    let repo = workspace(None);
    let config = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    for (extra, says) in [
        (
            "floating-tags = [\"v{major}\"]\n",
            "floating-tags cannot be used with release.mode = \"independent\"",
        ),
        ("package-tag = \"{version}-{name}\"\n", "must end with {version}"),
        ("dependents-bump = \"none\"\n", "dependents-bump is \"none\""),
        (
            "package-tags = { \"@acme/web\" = \"web-v{version}\" }\n",
            "\"@acme/web\" is not a package",
        ),
        ("package-tag = \"v{version}\"\n", "cannot be told apart"),
    ] {
        let text_now = config.replace("mode = \"independent\"\n", &format!("mode = \"independent\"\n{extra}"));
        repo.write(".github/tamma-release.toml", &text_now);
        let out = tamma(&["release", "--dry-run"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}: {}", text(&out).1);
        assert!(text(&out).1.contains(says), "{extra}: {}", text(&out).1);
    }
    repo.write(
        ".github/tamma-release.toml",
        &config.replace("mode = \"independent\"\n", ""),
    );
    let out = tamma(&["plan", "--package", "@acme/api"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("mode \"fixed\""), "{}", text(&out).1);
}

#[test]
fn prereleases_make_prereleases_of_what_follows_and_named_versions_are_checked() {
    let fake = FakeGitHub::start();
    let repo = workspace(None);
    for (name, _) in PACKAGES {
        repo.git(&["tag", &format!("@acme/{name}@1.0.0")]);
    }
    repo.commit("packages/shared/index.js", "feat(shared): a beta feature");
    // A beta of shared: its dependents follow as betas, never as stable releases on latest.
    assert_eq!(
        planned(&repo, &["--bump", "auto", "--preid", "beta"]),
        pairs(&[
            ("@acme/shared", "1.1.0-beta.0"),
            ("@acme/api", "1.0.1-beta.0"),
            ("@acme/cli", "1.0.1-beta.0")
        ])
    );
    repo.git(&["tag", "@acme/shared@1.1.0-beta.0"]);
    let push = |tag: &str, inputs: &[(&str, &str)]| {
        let mut all = vec![("dry-run", "true")];
        all.extend_from_slice(inputs);
        let (out, outputs, _) = fake.action(
            repo.path(),
            "push",
            &format!("refs/tags/{tag}"),
            &json!({"ref": format!("refs/tags/{tag}")}),
            &all,
        );
        (
            out,
            crate::support::runner::parse_file_command(&outputs).unwrap_or_default(),
        )
    };
    let (out, outputs) = push("@acme/shared@1.1.0-beta.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    let releases: Value = serde_json::from_str(&outputs["releases"]).unwrap();
    assert_eq!(
        released(&releases),
        pairs(&[
            ("@acme/shared", "1.1.0-beta.0"),
            ("@acme/api", "1.0.1-beta.0"),
            ("@acme/cli", "1.0.1-beta.0")
        ])
    );
    // A package on a beta continues its beta when it follows a stable release.
    repo.git(&["tag", "@acme/api@1.0.1-beta.0"]);
    repo.commit("packages/shared/index.js", "fix(shared): a stable fix");
    assert_eq!(
        planned(&repo, &[]),
        pairs(&[
            ("@acme/shared", "1.1.0"),
            ("@acme/api", "1.0.1-beta.1"),
            ("@acme/cli", "1.0.1")
        ])
    );
    // A pushed tag must be a package's, and --package must agree with it: exit 2.
    repo.git(&["tag", "v9.0.0"]);
    let (out, _) = push("v9.0.0", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).0);
    assert!(
        text(&out)
            .0
            .contains("is not the tag of a package this config releases"),
        "{}",
        text(&out).0
    );
    repo.git(&["tag", "@acme/shared@1.1.0"]);
    let (out, _) = push("@acme/shared@1.1.0", &[("package", "@acme/cli")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).0);
    assert!(
        text(&out).0.contains("is @acme/shared's, but package is @acme/cli"),
        "{}",
        text(&out).0
    );
    // A version asked of a package HEAD already releases is refused, not silently replaced.
    let out = tamma(&["plan", "--package", "@acme/shared", "--version", "2.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("HEAD is already released as @acme/shared@1.1.0"),
        "{}",
        text(&out).1
    );
}

#[test]
fn a_package_path_may_start_with_dot_and_the_workspace_may_be_a_folder_of_the_repository() {
    let repo = TestRepo::new();
    let root = "js/";
    repo.write(&format!("{root}pnpm-workspace.yaml"), "packages:\n  - 'packages/*'\n");
    repo.write(
        &format!("{root}packages/a/package.json"),
        "{\"name\": \"a\", \"version\": \"1.0.0\"}\n",
    );
    repo.write(
        &format!("{root}packages/b/package.json"),
        "{\"name\": \"b\", \"version\": \"1.0.0\"}\n",
    );
    repo.write(
        &format!("{root}.github/tamma-release.toml"),
        "[release]\nmode = \"independent\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"./packages/a\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/b\"\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: start"]);
    repo.git(&["tag", "a@1.0.0"]);
    repo.git(&["tag", "b@1.0.0"]);
    repo.commit("js/packages/a/index.js", "feat(a): something");
    let out = tamma(&["-C", "js", "plan", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = &report["packages"][0]["plan"];
    assert_eq!(
        (plan["package"].as_str(), plan["version"].as_str()),
        (Some("a"), Some("1.1.0"))
    );
    assert!(plan["changelog"].as_str().unwrap().contains("something"), "{plan}");
    assert_eq!(report["packages"].as_array().unwrap().len(), 1);
}
