//! Monorepos as they are: pnpm, npm and yarn workspaces whose packages depend on each other with
//! the `workspace:` protocol. What is published must install with the real npm client from a real
//! registry (Verdaccio), pack like the real `pnpm pack` and `npm pack`, and a release of it must
//! roll back cleanly (issue 15).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::github::FakeGitHub;
use crate::support::mock::MockHttp;
use crate::support::registries::{Registry, Verdaccio};
use crate::support::{TestRepo, root, text};

/// The five packages of the seed project: name → internal dependencies (name, range).
const SEED: &[(&str, &[(&str, &str)])] = &[
    ("shared", &[]),
    ("api", &[("shared", "workspace:*")]),
    ("workers", &[("shared", "workspace:*")]),
    ("orchestrator", &[("shared", "workspace:*")]),
    ("cli", &[("shared", "workspace:^"), ("api", "workspace:*")]),
];

fn pnpm() -> std::path::PathBuf {
    root().join("tests/node/node_modules/.bin/pnpm")
}

fn write_packages(repo: &TestRepo, packages: &[(&str, &[(&str, &str)])]) {
    for (name, deps) in packages {
        let dependencies: serde_json::Map<String, Value> = deps
            .iter()
            .map(|(dep, range)| (format!("@tamma/{dep}"), json!(range)))
            .collect();
        repo.write(
            &format!("packages/{name}/package.json"),
            &format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({
                    "name": format!("@tamma/{name}"), "version": "0.0.0", "main": "index.js",
                    "dependencies": dependencies,
                }))
                .unwrap()
            ),
        );
        repo.write(
            &format!("packages/{name}/index.js"),
            &format!("module.exports = '{name}';\n"),
        );
    }
}

/// The `@tamma/shared` version npm installs with `spec` from `verdaccio`.
fn install(verdaccio: &Verdaccio, spec: &str) -> String {
    let project = verdaccio.install(spec);
    Verdaccio::installed(project.path(), "@tamma/shared").expect("installed")
}

pub(crate) fn dist_tags(verdaccio: &Verdaccio, name: &str) -> Value {
    let out = verdaccio.npm(Path::new("/tmp"), &["view", name, "dist-tags", "--json"]);
    assert!(out.status.success(), "{}", text(&out).1);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A fresh checkout at `tag`, as a tag-push workflow run has.
fn checkout(repo: &TestRepo, tag: &str) {
    repo.git(&["checkout", "-q", "-f", tag]);
    repo.git(&["clean", "-q", "-fdx", "-e", "node_modules"]);
}

fn tag_push(fake: &FakeGitHub, repo: &TestRepo, tag: &str, npm_token: &str) -> (Output, String, String) {
    checkout(repo, tag);
    fake.action(
        repo.path(),
        "push",
        &format!("refs/tags/{tag}"),
        &json!({"ref": format!("refs/tags/{tag}"), "created": true, "deleted": false}),
        &[("npm-token", npm_token)],
    )
}

#[test]
fn the_seed_monorepo_releases_an_alpha_then_stable_then_rolls_back() {
    let verdaccio = Verdaccio::start();
    let registry = Registry::start();
    let fake = FakeGitHub::start();
    let smoke = MockHttp::start();
    smoke.mount(
        wiremock::Mock::given(wiremock::matchers::path("/health"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("ok")),
    );
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nnode_modules/\n");
    repo.write("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n");
    repo.write(
        "package.json",
        "{\n  \"name\": \"tamma\",\n  \"private\": true,\n  \"version\": \"0.0.0\"\n}\n",
    );
    write_packages(&repo, SEED);
    repo.write("bin/tamma", "#!/bin/sh\necho tamma\n");
    repo.write("site/index.html", "<h1>tamma</h1>\n");
    let mut config = format!(
        "[github]\nwrite-interval = \"0s\"\n\n[npm]\nregistry = \"{}\"\n\n[version]\nfiles = [\"package.json\"]\n\n[deploy.docs]\npath = \"site\"\n\n[deploy.staging]\nenvironment = \"staging\"\nsmoke = {{ url = \"{}/health\", contains = \"ok\", timeout = \"10s\" }}\n",
        verdaccio.url,
        smoke.uri()
    );
    for (name, _) in SEED {
        config.push_str(&format!("\n[[artifact]]\nkind = \"npm\"\npath = \"packages/{name}\"\n"));
    }
    config.push_str(&format!(
        "\n[[artifact]]\nkind = \"image\"\nimage = \"{}/tamma/app\"\noci-layout = \"image\"\n",
        registry.host
    ));
    for (name, platform) in [
        ("tamma-linux-x64.tar.gz", "linux"),
        ("tamma-macos-arm64.tar.gz", "macos"),
        ("tamma-windows-x64.zip", "windows"),
    ] {
        config.push_str(&format!(
            "\n[[artifact]]\nkind = \"archive\"\nname = \"{name}\"\nfiles = [\"bin/*\"]\nplatform = \"{platform}\"\n"
        ));
    }
    repo.write(".github/tamma-release.toml", &config);
    let image = |content: &str| {
        let _ = std::fs::remove_dir_all(repo.path().join("image"));
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "app.txt", content.as_bytes()).unwrap()
    };
    let alpha_digest = image("alpha build\n");
    repo.commit("a", "feat: the first alpha");
    repo.git(&["tag", "v0.1.0-alpha"]);

    // The alpha: installable from the registry, on the alpha channel only.
    let (out, outputs, _) = tag_push(&fake, &repo, "v0.1.0-alpha", &verdaccio.token);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert!(outputs.contains("version<<"), "{outputs}");
    assert_eq!(install(&verdaccio, "@tamma/cli@0.1.0-alpha"), "0.1.0-alpha");
    for (name, _) in SEED {
        assert_eq!(
            dist_tags(&verdaccio, &format!("@tamma/{name}"))["alpha"],
            "0.1.0-alpha",
            "{name}"
        );
    }
    assert_eq!(
        registry.digest("tamma/app", "alpha").as_deref(),
        Some(alpha_digest.as_str())
    );
    assert_eq!(registry.digest("tamma/app", "latest"), None);
    fake.with(|s| {
        let alpha = s.releases.iter().find(|r| r.tag == "v0.1.0-alpha").unwrap();
        assert!(!alpha.draft && alpha.prerelease);
        assert!(
            !s.branches.contains_key("gh-pages"),
            "a prerelease leaves the site alone"
        );
    });
    let cli_alpha: Value = serde_json::from_slice(
        &verdaccio
            .npm(
                Path::new("/tmp"),
                &["view", "@tamma/cli@0.1.0-alpha", "dependencies", "--json"],
            )
            .stdout,
    )
    .unwrap();
    assert_eq!(
        cli_alpha,
        json!({"@tamma/shared": "^0.1.0-alpha", "@tamma/api": "0.1.0-alpha"})
    );

    // The stable release: latest everywhere.
    checkout(&repo, "main");
    let stable_digest = image("stable build\n");
    repo.commit("b", "fix: ready for 0.1.0");
    repo.git(&["tag", "v0.1.0"]);
    let (out, _, summary) = tag_push(&fake, &repo, "v0.1.0", &verdaccio.token);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert_eq!(install(&verdaccio, "@tamma/cli@0.1.0"), "0.1.0");
    assert_eq!(install(&verdaccio, "@tamma/cli"), "0.1.0");
    for (name, _) in SEED {
        let tags = dist_tags(&verdaccio, &format!("@tamma/{name}"));
        assert_eq!(
            (tags["latest"].as_str(), tags["alpha"].as_str()),
            (Some("0.1.0"), Some("0.1.0-alpha")),
            "{name}"
        );
    }
    assert_eq!(
        registry.digest("tamma/app", "latest").as_deref(),
        Some(stable_digest.as_str())
    );
    let latest_before_rollback = fake.with(|s| {
        assert!(s.branches.contains_key("gh-pages"));
        let staging = s
            .deployments
            .iter()
            .find(|d| d.environment == "staging" && d.reference == "v0.1.0")
            .unwrap();
        assert_eq!(staging.statuses.last().map(String::as_str), Some("success"));
        s.latest
    });
    assert!(latest_before_rollback.is_some());
    assert!(summary.contains("v0.1.0"), "{summary}");

    // Roll 0.1.0 back from a dispatch form: exit 0, every channel where a user expects it.
    checkout(&repo, "main");
    let (out, outputs, _) = fake.action(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        &json!({"inputs": {"version": "0.1.0", "dry-run": "false"}}),
        &[("command", "rollback"), ("npm-token", verdaccio.token.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert!(outputs.contains("rolled-back-to<<"), "{outputs}");
    let to = crate::support::runner::parse_file_command(&outputs).unwrap()["rolled-back-to"].clone();
    assert_eq!(to, "0.1.0-alpha");
    for (name, _) in SEED {
        let tags = dist_tags(&verdaccio, &format!("@tamma/{name}"));
        assert_eq!(
            tags["latest"], "0.1.0-alpha",
            "{name}: latest is back on what it was before 0.1.0"
        );
        assert_eq!(tags["alpha"], "0.1.0-alpha", "{name}");
    }
    assert_eq!(install(&verdaccio, "@tamma/cli"), "0.1.0-alpha");
    let deprecated = verdaccio.npm(Path::new("/tmp"), &["view", "@tamma/cli@0.1.0", "deprecated"]);
    assert!(text(&deprecated).0.contains("rolled back"), "{}", text(&deprecated).0);
    // docker-registry deletes no tag on its own: latest goes where npm's latest went.
    assert_eq!(
        registry.digest("tamma/app", "latest").as_deref(),
        Some(alpha_digest.as_str())
    );
    assert!(
        text(&out).0.contains("the registry cannot delete a tag on its own"),
        "{}",
        text(&out).0
    );
    assert_eq!(
        registry.digest("tamma/app", "0.1.0").as_deref(),
        Some(stable_digest.as_str()),
        "versions stay"
    );
    fake.with(|s| {
        let stable = s.releases.iter().find(|r| r.tag == "v0.1.0").unwrap();
        assert!(stable.prerelease && stable.body.contains("This release was rolled back"));
        assert!(
            !s.branches.contains_key("gh-pages"),
            "the site did not exist before 0.1.0"
        );
    });
    // A second press changes nothing.
    let writes = fake.with(|s| s.writes());
    let (out, _, _) = fake.action(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        &json!({"inputs": {"version": "0.1.0", "dry-run": "false"}}),
        &[("command", "rollback"), ("npm-token", verdaccio.token.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert_eq!(fake.with(|s| s.writes()), writes);
}

/// The dependency tables of a packed package.json.
fn packed_dependencies(tarball: &Path) -> Value {
    let out = Command::new("tar")
        .arg("-xzOf")
        .arg(tarball)
        .arg("package/package.json")
        .output()
        .unwrap();
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables: serde_json::Map<String, Value> = tamma_release::workspaces::DEPENDENCY_TABLES
        .iter()
        .filter_map(|t| Some((t.to_string(), manifest.get(*t)?.clone())))
        .collect();
    Value::Object(tables)
}

fn tarball_files(tarball: &Path) -> Vec<String> {
    let out = Command::new("tar").arg("-tzf").arg(tarball).output().unwrap();
    let mut files: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("package/").to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn workspace_ranges_are_packed_as_pnpm_publishes_them() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nnode_modules/\n*.tgz\n");
    repo.write(
        "pnpm-workspace.yaml",
        "packages:\n  - 'packages/*'\n  - '!**/fixtures/**'\n",
    );
    repo.write(
        "package.json",
        "{\"name\": \"root\", \"private\": true, \"version\": \"0.0.0\"}\n",
    );
    repo.write(
        "packages/shared/package.json",
        "{\"name\": \"@tamma/shared\", \"version\": \"0.0.0\"}\n",
    );
    repo.write("packages/shared/index.js", "module.exports = 1;\n");
    repo.write(
        "packages/api/package.json",
        "{\"name\": \"@tamma/api\", \"version\": \"0.0.0\"}\n",
    );
    repo.write("packages/api/index.js", "module.exports = 2;\n");
    repo.write(
        "packages/cli/package.json",
        r#"{
  "name": "@tamma/cli",
  "version": "0.0.0",
  "main": "index.js",
  "files": ["index.js", "lib"],
  "dependencies": {"@tamma/shared": "workspace:^", "@tamma/api": "workspace:*", "sh2": "workspace:@tamma/shared@~",
                   "apirange": "workspace:@tamma/api@^2.0.0", "rel": "workspace:../api"},
  "devDependencies": {"@tamma/api": "workspace:~"},
  "optionalDependencies": {"@tamma/shared": "workspace:^2.0.0"},
  "peerDependencies": {"@tamma/api": "workspace:>=", "@tamma/shared": "workspace:^1.0.0 || ^2.0.0"}
}
"#,
    );
    repo.write("packages/cli/index.js", "require('@tamma/shared');\n");
    repo.write("packages/cli/lib/util.js", "module.exports = 3;\n");
    repo.write("packages/cli/notes.md", "not packed\n");
    repo.write(
        "packages/fixtures/package.json",
        "{\"name\": \"@tamma/fixtures\", \"version\": \"0.0.0\"}\n",
    );
    repo.write(
        ".github/tamma-release.toml",
        "[version]\nfiles = [\"package.json\"]\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/shared\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/api\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/cli\"\n",
    );
    repo.commit("a", "feat: workspace");
    let out = crate::support::tamma(&["release", "--version", "2.0.0", "--stages", "prepare,build"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    // The checkout keeps its workspace ranges; only versions were written.
    let cli: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join("packages/cli/package.json")).unwrap()).unwrap();
    assert_eq!(cli["version"], "2.0.0");
    assert_eq!(cli["dependencies"]["@tamma/shared"], "workspace:^");
    let ours = repo.path().join("dist/tamma-cli-2.0.0.tgz");
    // The oracle: pnpm 9 packs the same checkout (its siblings linked by an offline install).
    let install = Command::new(pnpm())
        .args(["install", "--offline", "--ignore-scripts"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(install.status.success(), "{}{}", text(&install).0, text(&install).1);
    let pack = Command::new(pnpm())
        .args(["pack", "--pack-destination"])
        .arg(repo.path().join("pnpm-packed"))
        .current_dir(repo.path().join("packages/cli"))
        .output()
        .unwrap();
    assert!(pack.status.success(), "{}", text(&pack).1);
    let theirs = repo.path().join("pnpm-packed/tamma-cli-2.0.0.tgz");
    assert_eq!(packed_dependencies(&ours), packed_dependencies(&theirs));
    assert_eq!(
        packed_dependencies(&ours)["dependencies"],
        json!({"@tamma/shared": "^2.0.0", "@tamma/api": "2.0.0", "sh2": "npm:@tamma/shared@~2.0.0",
               "apirange": "npm:@tamma/api@^2.0.0", "rel": "npm:@tamma/api@2.0.0"})
    );
    assert_eq!(tarball_files(&ours), tarball_files(&theirs));
    assert_eq!(
        tarball_files(&ours),
        crate::build::real_npm_file_list(&repo.path().join("packages/cli"))
    );
}

#[test]
fn npm_and_yarn_workspaces_release_their_members_with_internal_ranges() {
    // npm (array), yarn classic ({packages}) with versions, yarn berry with `workspace:`.
    for (declaration, range, published) in [
        ("[\"packages/*\"]", "^0.0.0", "^1.2.0"),
        ("{\"packages\": [\"packages/*\"], \"nohoist\": []}", "0.0.0", "1.2.0"),
        ("[\"packages/*\"]", "workspace:^", "^1.2.0"),
    ] {
        let repo = TestRepo::new();
        repo.write(".gitignore", "dist/\n");
        repo.write(
            "package.json",
            &format!("{{\n  \"name\": \"acme\",\n  \"private\": true,\n  \"version\": \"0.0.0\",\n  \"workspaces\": {declaration}\n}}\n"),
        );
        repo.write(
            "packages/shared/package.json",
            "{\n  \"name\": \"@acme/shared\",\n  \"version\": \"0.0.0\"\n}\n",
        );
        repo.write("packages/shared/index.js", "module.exports = 1;\n");
        repo.write(
            "packages/cli/package.json",
            &format!("{{\n  \"name\": \"@acme/cli\",\n  \"version\": \"0.0.0\",\n  \"dependencies\": {{\"@acme/shared\": \"{range}\", \"left-pad\": \"^1.3.0\"}}\n}}\n"),
        );
        repo.write("packages/cli/index.js", "require('@acme/shared');\n");
        repo.write("packages/cli/README.md", "# cli\n");
        repo.write(
            ".github/tamma-release.toml",
            "[version]\nfiles = [\"package.json\"]\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/cli\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/shared\"\n",
        );
        repo.commit("a", "feat: workspace");
        let out = crate::support::tamma(&["release", "--version", "1.2.0", "--stages", "prepare,build"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{declaration}: {}", text(&out).1);
        let cli: Value =
            serde_json::from_str(&std::fs::read_to_string(repo.path().join("packages/cli/package.json")).unwrap())
                .unwrap();
        assert_eq!(cli["version"], "1.2.0", "{declaration}");
        let in_checkout = if range.starts_with("workspace:") {
            range
        } else {
            published
        };
        assert_eq!(
            cli["dependencies"]["@acme/shared"], in_checkout,
            "{declaration}: [version] files"
        );
        let packed = packed_dependencies(&repo.path().join("dist/acme-cli-1.2.0.tgz"));
        assert_eq!(
            packed["dependencies"],
            json!({"@acme/shared": published, "left-pad": "^1.3.0"}),
            "{declaration}: the packed manifest"
        );
        for (package, tarball) in [("cli", "acme-cli-1.2.0.tgz"), ("shared", "acme-shared-1.2.0.tgz")] {
            assert_eq!(
                tarball_files(&repo.path().join("dist").join(tarball)),
                crate::build::real_npm_file_list(&repo.path().join("packages").join(package)),
                "{declaration}: {package}"
            );
        }
    }
}

#[test]
fn a_sibling_that_is_neither_released_nor_published_stops_the_release_before_any_write() {
    let verdaccio = Verdaccio::start();
    let fake = FakeGitHub::start();
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write("pnpm-workspace.yaml", "packages: [\"packages/*\"]\n");
    repo.write(
        "packages/internal/package.json",
        "{\"name\": \"@tamma/internal\", \"version\": \"0.3.0\"}\n",
    );
    repo.write(
        "packages/cli/package.json",
        "{\"name\": \"@tamma/cli\", \"version\": \"0.0.0\", \"dependencies\": {\"@tamma/internal\": \"workspace:^\"}}\n",
    );
    repo.write("packages/cli/index.js", "1;\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[npm]\nregistry = \"{}\"\n\n[[artifact]]\nkind = \"npm\"\npath = \"packages/cli\"\n",
            verdaccio.url
        ),
    );
    repo.commit("a", "feat: cli");
    let out = fake
        .release(repo.path(), &["--version", "1.0.0"])
        .env("NPM_TOKEN", &verdaccio.token)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("@tamma/cli needs @tamma/internal ^0.3.0 (dependencies), but this release does not publish @tamma/internal and no version of @tamma/internal on")
            && stderr.contains("nothing was published"),
        "{stderr}"
    );
    fake.with(|s| assert_eq!(s.writes(), 0, "{:?}", s.log));
    let view = verdaccio.npm(Path::new("/tmp"), &["view", "@tamma/cli", "--json"]);
    assert!(!view.status.success(), "nothing reached the registry");
    // Released together, the same packages install.
    let config = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    repo.write(
        ".github/tamma-release.toml",
        &format!("{config}\n[[artifact]]\nkind = \"npm\"\npath = \"packages/internal\"\n"),
    );
    repo.write("packages/internal/index.js", "2;\n");
    repo.commit("b", "feat: release internal too");
    let out = fake
        .release(repo.path(), &["--version", "1.0.0"])
        .env("NPM_TOKEN", &verdaccio.token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("package.json"),
        "{\"name\": \"user\", \"version\": \"1.0.0\"}",
    )
    .unwrap();
    let installed = verdaccio.npm(
        project.path(),
        &["install", "--no-audit", "--no-fund", "@tamma/cli@1.0.0"],
    );
    assert!(installed.status.success(), "{}", text(&installed).1);
    assert!(
        project
            .path()
            .join("node_modules/@tamma/internal/package.json")
            .is_file()
    );
}

#[test]
fn an_image_tag_that_did_not_exist_before_is_deleted_where_the_registry_can() {
    use tamma_release::txn::journal::{Journal, Outcome, Step};
    use tamma_release::txn::pointer::{Pointer, PointerIo};
    use wiremock::matchers::{method, path};
    let registry = MockHttp::start();
    let digest = format!("sha256:{}", "a".repeat(64));
    // Deleting a tag alone (distribution spec 1.1): 202 for app, 405 (not supported) for other.
    registry.mount(
        wiremock::Mock::given(method("DELETE"))
            .and(path("/v2/acme/app/manifests/latest"))
            .respond_with(wiremock::ResponseTemplate::new(202)),
    );
    registry.mount(
        wiremock::Mock::given(method("DELETE"))
            .and(path("/v2/acme/other/manifests/latest"))
            .respond_with(wiremock::ResponseTemplate::new(405)),
    );
    registry.mount(
        wiremock::Mock::given(method("GET")).respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .insert_header("docker-content-digest", digest.as_str())
                .set_body_string("{}"),
        ),
    );
    let host = registry.uri().trim_start_matches("http://").to_string();
    let http = tamma_release::http::Http::new(tamma_release::http::HttpPolicy::default()).unwrap();
    let oci = tamma_release::targets::oci::OciTarget::new(Some(http), Default::default(), vec![], None);
    let npm = tamma_release::targets::npm::NpmTarget::new(None, None);
    let io = PointerIo {
        npm: &npm,
        oci: &oci,
        github: None,
    };
    let journal_dir = tempfile::tempdir().unwrap();
    for (repository, expected) in [("app", "removed"), ("other", "cannot delete a tag on its own")] {
        let pointer = Pointer::ImageTag {
            repository: format!("{host}/acme/{repository}"),
            tag: "latest".into(),
        };
        let journal = Journal {
            format: 1,
            version: "0.1.0".into(),
            tag: "v0.1.0".into(),
            commit: "c".repeat(40),
            prerelease: false,
            runs: 1,
            steps: vec![Step {
                phase: "flip".into(),
                target: "image".into(),
                action: "move".into(),
                pointer: Some(pointer.clone()),
                before: None,
                after: Some(digest.clone()),
                at: "2026-11-30T00:00:00Z".into(),
                outcome: Outcome::Done,
            }],
            deployments: vec![],
            run: None,
        };
        let mut txn = tamma_release::txn::Transaction::for_rollback(journal, &journal_dir.path().join("j.json"), false);
        let undo = txn.undo(&io, "rollback", false, None).unwrap();
        let said = txn
            .steps
            .iter()
            .map(|s| s.action.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(said.contains(expected), "{repository}: {said}");
        assert_eq!(
            undo.problems.is_empty(),
            repository == "app",
            "{repository}: {:?}",
            undo.problems
        );
    }
    assert_eq!(
        registry
            .received("/v2/acme/app/manifests/latest")
            .iter()
            .filter(|r| r.method.as_str() == "DELETE")
            .count(),
        1
    );
}
