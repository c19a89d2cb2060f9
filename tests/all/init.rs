//! The first hour (issue 18): `init` on four kinds of project writes a config and workflows that
//! pass `check`, a dry run, a current actionlint and action-validator; `check` finds each mistake
//! a newcomer makes; `init` never overwrites without `--force`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{TestRepo, root, tamma, text};

fn run(dir: &Path, args: &[&str]) -> Output {
    // pnpm, for a pnpm workspace's checks, is the one the test tools installed.
    let path = format!(
        "{}:{}",
        root().join("tests/node/node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    tamma(args).current_dir(dir).env("PATH", path).output().unwrap()
}

fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    format!("{stdout}{stderr}")
}

/// init, then everything a newcomer runs next must pass.
fn init_and_check(repo: &TestRepo, before_dry_run: &[&[&str]]) -> String {
    let said = ok(&run(repo.path(), &["init"]));
    let config = std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: tamma-release init"]);
    ok(&run(repo.path(), &["check"]));
    // The workflow's own build steps, where a step (not tamma-release) builds something.
    for step in before_dry_run {
        let out = Command::new(step[0])
            .args(&step[1..])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{step:?}: {}", text(&out).1);
    }
    ok(&run(repo.path(), &["release", "--dry-run", "--version", "0.1.0"]));
    let workflows: Vec<_> = ["release.yml", "rollback.yml"]
        .iter()
        .map(|w| repo.path().join(".github/workflows").join(w))
        .collect();
    let lint = Command::new("actionlint")
        .args(["-format", "{{json .}}"])
        .args(&workflows)
        .output()
        .expect("actionlint (scripts/test installs it)");
    assert_eq!(text(&lint).0.trim(), "[]", "{}", text(&lint).1);
    for workflow in &workflows {
        let out = Command::new("action-validator").arg(workflow).output().unwrap();
        assert!(out.status.success(), "{}: {}", workflow.display(), text(&out).0);
    }
    format!("{said}\n{config}")
}

fn write_json(repo: &TestRepo, path: &str, value: serde_json::Value) {
    repo.write(path, &serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn a_pnpm_monorepo_gets_its_public_packages_and_trusted_publishing() {
    let repo = TestRepo::new();
    repo.write("pnpm-workspace.yaml", "packages:\n  - \"packages/*\"\n");
    write_json(
        &repo,
        "package.json",
        serde_json::json!({"name": "root", "private": true}),
    );
    write_json(
        &repo,
        "packages/shared/package.json",
        serde_json::json!({"name": "@acme/shared", "version": "0.0.0"}),
    );
    write_json(
        &repo,
        "packages/cli/package.json",
        serde_json::json!({"name": "@acme/cli", "version": "0.0.0", "dependencies": {"@acme/shared": "workspace:^"}}),
    );
    write_json(
        &repo,
        "packages/internal/package.json",
        serde_json::json!({"name": "@acme/internal", "private": true}),
    );
    repo.commit("README.md", "feat: first");
    let said = init_and_check(&repo, &[]);
    assert!(said.contains("found 2 npm package(s)"), "{said}");
    assert!(
        said.contains("path = \"packages/cli\"") && !said.contains("packages/internal"),
        "{said}"
    );
    let workflow = std::fs::read_to_string(repo.path().join(".github/workflows/release.yml")).unwrap();
    assert!(
        workflow.contains("id-token: write") && workflow.contains("pnpm install --frozen-lockfile"),
        "{workflow}"
    );
    assert!(workflow.contains("uses: meywd/tamma-release@v1"), "{workflow}");
}

#[test]
fn a_single_npm_package_is_published_with_the_action() {
    let repo = TestRepo::new();
    write_json(
        &repo,
        "package.json",
        serde_json::json!({"name": "widget", "version": "0.0.0"}),
    );
    repo.write("index.js", "module.exports = 1;\n");
    repo.commit("README.md", "feat: first");
    let said = init_and_check(&repo, &[]);
    assert!(
        said.contains("files = [\"package.json\"]") && said.contains("path = \".\""),
        "{said}"
    );
}

#[test]
fn a_rust_cli_with_a_dockerfile_runs_the_cli_on_the_runner() {
    let repo = TestRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"widget\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    repo.write("src/main.rs", "fn main() { println!(\"widget\"); }\n");
    repo.write("Dockerfile", "FROM scratch\nCOPY target/release/widget /widget\n");
    repo.git(&["remote", "add", "origin", "https://github.com/Acme/Widget.git"]);
    repo.commit("README.md", "feat: first");
    let said = init_and_check(&repo, &[]);
    assert!(said.contains("image = \"ghcr.io/acme/widget\""), "{said}");
    assert!(said.contains("build = [\"cargo\", \"build\", \"--release\"]"), "{said}");
    let workflow = std::fs::read_to_string(repo.path().join(".github/workflows/release.yml")).unwrap();
    assert!(
        workflow.contains("packages: write") && workflow.contains("run: tamma-release release"),
        "{workflow}"
    );
    assert!(
        !workflow.contains("uses: meywd/tamma-release"),
        "cargo is not in the action's container"
    );
}

#[test]
fn an_mdbook_is_built_by_the_workflow_and_published_to_pages() {
    let repo = TestRepo::new();
    repo.write("docs/book.toml", "[book]\ntitle = \"Widget\"\n");
    repo.write("docs/src/SUMMARY.md", "# Summary\n\n- [Intro](intro.md)\n");
    repo.write("docs/src/intro.md", "# Widget\n");
    repo.write(".gitignore", "docs/book/\n");
    repo.commit("README.md", "feat: first");
    let said = init_and_check(&repo, &[&["mdbook", "build", "docs"]]);
    assert!(said.contains("[deploy.docs]\npath = \"docs/book\""), "{said}");
    let workflow = std::fs::read_to_string(repo.path().join(".github/workflows/release.yml")).unwrap();
    assert!(
        workflow.contains("deployments: write") && workflow.contains("mdbook build docs"),
        "{workflow}"
    );
}

#[test]
fn init_never_overwrites_without_force_and_a_dry_run_writes_nothing() {
    let repo = TestRepo::new();
    repo.commit("README.md", "feat: first");
    let printed = ok(&run(repo.path(), &["init", "--dry-run"]));
    assert!(
        printed.contains("# --- .github/workflows/rollback.yml ---"),
        "{printed}"
    );
    assert!(!repo.path().join(".github").exists());
    repo.write(".github/tamma-release.toml", "# mine\n");
    let refused = run(repo.path(), &["init"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused).1);
    assert!(
        text(&refused)
            .1
            .contains(".github/tamma-release.toml already exist(s); nothing was written")
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap(),
        "# mine\n"
    );
    assert!(!repo.path().join(".github/workflows").exists());
    ok(&run(repo.path(), &["init", "--force"]));
    assert_ne!(
        std::fs::read_to_string(repo.path().join(".github/tamma-release.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn check_finds_each_mistake_a_newcomer_makes() {
    let repo = TestRepo::new();
    write_json(
        &repo,
        "package.json",
        serde_json::json!({"name": "widget", "version": "0.0.0"}),
    );
    repo.commit("README.md", "feat: first");
    ok(&run(repo.path(), &["init"]));
    let config = repo.path().join(".github/tamma-release.toml");
    let workflow = repo.path().join(".github/workflows/release.yml");
    let edit = |path: &Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{from:?} in {text}");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    };
    // A glob that matches nothing, a missing permission, a retired runner, a shallow checkout.
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[[artifact]]\nname = \"widget.tar.gz\"\nkind = \"archive\"\nfiles = [\"dist/*.js\"]\n");
    std::fs::write(&config, toml).unwrap();
    edit(&workflow, "      id-token: write       # npm trusted publishing\n", "");
    edit(&workflow, "runs-on: ubuntu-24.04", "runs-on: macos-13");
    edit(&workflow, "fetch-depth: 0 ", "fetch-depth: 1 ");
    let out = run(repo.path(), &["check"]);
    let stdout = text(&out).0;
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    for expected in [
        "artifact \"widget.tar.gz\": the glob \"dist/*.js\" matches no file (and no build command or `platform` makes it)",
        ".github/workflows/release.yml: job release: runs-on macos-13, a runner GitHub has retired; use macos-15-intel (Intel) or macos-15",
        ".github/workflows/release.yml: job release: runs the tamma-release action on a macOS or Windows runner",
        ".github/workflows/release.yml: job release: checks out a shallow clone",
        ".github/workflows/release.yml: job release: publishes npm packages with neither an `npm-token` input nor `permissions: id-token: write`",
    ] {
        assert!(stdout.contains(expected), "{expected}\n---\n{stdout}");
    }
    assert_eq!(stdout.lines().count(), 5, "one line per problem: {stdout}");
    // An illegal asset name is a config error, named with its line.
    std::fs::write(
        &config,
        "[[artifact]]\nname = \"../x.tar.gz\"\nkind = \"archive\"\nfiles = [\"README.md\"]\n",
    )
    .unwrap();
    let out = run(repo.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).0.starts_with(".github/tamma-release.toml:2:8: "),
        "{}",
        text(&out).0
    );
    // And a missing contents permission.
    ok(&run(repo.path(), &["init", "--force"]));
    edit(
        &workflow,
        "      contents: write       # the release, its tag and its assets\n",
        "",
    );
    let out = run(repo.path(), &["check"]);
    assert!(
        text(&out)
            .0
            .contains("needs `permissions: contents: write` to create the release"),
        "{}",
        text(&out).0
    );
}
