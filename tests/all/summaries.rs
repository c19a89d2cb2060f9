//! The job summary a maintainer reads, as a whole (issue 18): snapshots of a release, a build-only
//! run, a dry run and a failed gate, each from the real binary running as the action against the
//! GitHub fake. A change to any of them shows up as a diff to review (`INSTA_UPDATE=always` to
//! accept one on purpose, then read the `.snap` diff before committing).

use serde_json::json;

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, text};

/// A project with an archive, a plain file and an npm package, one feature and one fix.
fn project(extra_config: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write("bin/widget", "#!/bin/sh\necho widget\n");
    repo.write(
        "pkg/package.json",
        "{\n  \"name\": \"@acme/widget\",\n  \"version\": \"0.0.0\"\n}\n",
    );
    repo.write("pkg/index.js", "module.exports = 1;\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nname = \"widget-linux-x64.tar.gz\"\nkind = \"archive\"\nfiles = [\"bin/widget\"]\n\n[[artifact]]\nkind = \"file\"\npath = \"README.md\"\n{extra_config}"
        ),
    );
    repo.commit("README.md", "feat(cli): a first widget");
    repo.commit("CHANGES", "fix: the widget starts faster");
    repo
}

/// The summary of the action run with `inputs` on a push of tag v1.2.0.
fn summary(repo: &TestRepo, fake: &FakeGitHub, inputs: &[(&str, &str)], code: i32) -> String {
    repo.git(&["tag", "-f", "v1.2.0"]);
    let (out, _, summary) = fake.action(
        repo.path(),
        "push",
        "refs/tags/v1.2.0",
        &json!({"ref": "refs/tags/v1.2.0"}),
        inputs,
    );
    assert_eq!(out.status.code(), Some(code), "{}", text(&out).0);
    summary
}

macro_rules! snapshot {
    ($name:literal, $summary:expr, $fake:expr) => {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (regex_literal(&$fake.uri), "[github-api]"),
            ],
        }, {
            insta::assert_snapshot!($name, $summary);
        });
    };
}

fn regex_literal(text: &str) -> &'static str {
    Box::leak(
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            })
            .collect::<String>()
            .into_boxed_str(),
    )
}

#[test]
fn the_summary_of_a_release() {
    let fake = FakeGitHub::start();
    let repo = project("");
    let summary = summary(&repo, &fake, &[], 0);
    snapshot!("release", summary, fake);
}

#[test]
fn the_summary_of_a_build_only_run() {
    let fake = FakeGitHub::start();
    let repo = project("");
    let summary = summary(&repo, &fake, &[("stages", "build")], 0);
    assert!(
        !summary.contains("published") || summary.contains("nothing was published"),
        "{summary}"
    );
    snapshot!("build_only", summary, fake);
}

#[test]
fn the_summary_of_a_dry_run() {
    let fake = FakeGitHub::start();
    let repo = project("\n[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\n\n[deploy.docs]\npath = \"pkg\"\n");
    let summary = summary(&repo, &fake, &[("dry-run", "true")], 0);
    assert!(!summary.contains("would would"), "{summary}");
    snapshot!("dry_run", summary, fake);
}

#[test]
fn the_summary_of_a_failed_gate() {
    let fake = FakeGitHub::start();
    let repo = project("\n[validate.docs]\nrequired = [\"README.md\", \"CHANGELOG.md\"]\n");
    let summary = summary(&repo, &fake, &[], 3);
    snapshot!("failed_gate", summary, fake);
}
