//! A dry run that tells the truth (issue 18): it fails only where the real run would. Each case
//! runs the dry run, then the real run against the GitHub fake, and both must agree.

use std::process::Output;

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, text};

fn run(repo: &TestRepo, fake: &FakeGitHub, args: &[&str]) -> Output {
    let mut all = vec!["--version", "1.0.0"];
    all.extend_from_slice(args);
    fake.release(repo.path(), &all).output().unwrap()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn project(config: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\nout/\nreports/\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n{config}"),
    );
    repo.commit("README.md", "feat: widget");
    repo
}

/// A python3 one-liner as a TOML argv.
fn python(code: &str) -> String {
    format!("[\"python3\", \"-c\", {}]", toml_string(code))
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn an_artifact_its_own_build_command_makes_passes_the_dry_run_and_the_real_run() {
    let make = python("import os; os.makedirs('out', exist_ok=True); open('out/widget', 'w').write('built')");
    let repo = project(&format!(
        "[[artifact]]\nname = \"widget.tar.gz\"\nkind = \"archive\"\nfiles = [\"out/widget\"]\nbuild = {make}\n\n[[artifact]]\nkind = \"file\"\nname = \"widget.txt\"\npath = \"out/widget\"\nbuild = {make}\n"
    ));
    let fake = FakeGitHub::start();
    let dry = run(&repo, &fake, &["--dry-run"]);
    assert_eq!(code(&dry), Some(0), "{}", text(&dry).1);
    assert!(
        text(&dry)
            .0
            .contains("would build: build widget.tar.gz by its build command"),
        "{}",
        text(&dry).0
    );
    assert!(!repo.path().join("out").exists(), "the dry run ran no command");
    let real = run(&repo, &fake, &[]);
    assert_eq!(code(&real), Some(0), "{}", text(&real).1);
    // What can be known without the files is still checked: a path out of the repository.
    let bad = project(&format!(
        "[[artifact]]\nkind = \"file\"\nname = \"w.txt\"\npath = \"../outside\"\nbuild = {make}\n"
    ));
    let dry = run(&bad, &fake, &["--dry-run"]);
    assert_eq!(code(&dry), Some(2), "{}", text(&dry).1);
    assert!(text(&dry).1.contains("leaves the repository"), "{}", text(&dry).1);
}

#[test]
fn a_matrix_release_checked_on_one_machine_passes_its_dry_run_and_its_jobs_pass() {
    let archive = |platform: &str| {
        format!(
            "[[artifact]]\nname = \"widget-{platform}.tar.gz\"\nkind = \"archive\"\nfiles = [\"out/{platform}/widget\"]\nplatform = \"{platform}\"\n\n"
        )
    };
    let repo = project(&format!("{}{}", archive("linux"), archive("macos")));
    let fake = FakeGitHub::start();
    let dry = run(&repo, &fake, &["--dry-run"]);
    assert_eq!(code(&dry), Some(0), "{}", text(&dry).1);
    assert!(
        text(&dry)
            .0
            .contains("build widget-macos.tar.gz on the macos runner of a matrix release (`--partial macos`)"),
        "{}",
        text(&dry).0
    );
    // The real jobs: one partial build per platform (each with its own files), then the merge.
    let partials = tempfile::tempdir().unwrap();
    for platform in ["linux", "macos"] {
        repo.write(&format!("out/{platform}/widget"), platform);
        let built = run(&repo, &fake, &["--stages", "build", "--partial", platform]);
        assert_eq!(code(&built), Some(0), "{}", text(&built).1);
        let into = partials.path().join(platform);
        std::fs::create_dir_all(&into).unwrap();
        for entry in std::fs::read_dir(repo.path().join("dist")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() && !entry.file_name().to_string_lossy().starts_with('.') {
                std::fs::copy(entry.path(), into.join(entry.file_name())).unwrap();
            }
        }
        std::fs::remove_dir_all(repo.path().join("out")).unwrap();
        std::fs::remove_dir_all(repo.path().join("dist")).unwrap();
    }
    let merge = |dir: &str| partials.path().join(dir).to_string_lossy().into_owned();
    let (linux, macos) = (merge("linux"), merge("macos"));
    let published = run(&repo, &fake, &["--merge", &linux, &macos]);
    assert_eq!(code(&published), Some(0), "{}", text(&published).1);
    let assets: Vec<String> = fake.with(|s| s.releases[0].assets.iter().map(|a| a.name.clone()).collect());
    assert!(assets.contains(&"widget-macos.tar.gz".to_string()), "{assets:?}");
    // A dry run of one platform's job still needs that platform's files, as the job does.
    let dry = run(&repo, &fake, &["--dry-run", "--stages", "build", "--partial", "linux"]);
    assert_eq!(code(&dry), Some(2), "{}", text(&dry).1);
    assert!(text(&dry).1.contains("matches no file"), "{}", text(&dry).1);
}

#[test]
fn a_docs_gate_that_wants_the_changelog_entry_prepare_writes_passes_the_dry_run() {
    let repo = project(
        "[version]\nchangelog = \"CHANGELOG.md\"\n\n[validate.docs]\nrequired = [\"README.md\", \"CHANGELOG.md\"]\n",
    );
    let fake = FakeGitHub::start();
    let dry = run(&repo, &fake, &["--dry-run"]);
    assert_eq!(code(&dry), Some(0), "{}", text(&dry).1);
    assert!(!repo.path().join("CHANGELOG.md").exists(), "the dry run wrote nothing");
    let real = run(&repo, &fake, &[]);
    assert_eq!(code(&real), Some(0), "{}", text(&real).1);
    assert!(
        std::fs::read_to_string(repo.path().join("CHANGELOG.md"))
            .unwrap()
            .contains("1.0.0")
    );
    // Without the prepare stage nothing writes the entry: both runs stop at the gate.
    let repo = project("[validate.docs]\nrequired = [\"README.md\"]\nchangelog = \"CHANGELOG.md\"\n");
    for args in [&["--dry-run"][..], &[]] {
        let out = run(&repo, &fake, args);
        assert_eq!(code(&out), Some(3), "{args:?}: {}", text(&out).1);
    }
}

#[test]
fn a_test_gate_whose_command_writes_the_reports_is_not_judged_on_missing_reports_in_a_dry_run() {
    let junit = "<testsuite name='w' tests='1' failures='0'><testcase classname='w' name='ok'/></testsuite>";
    let write = python(&format!(
        "import os; os.makedirs('reports', exist_ok=True); open('reports/junit.xml', 'w').write(\"{junit}\")"
    ));
    let repo = project(&format!(
        "[validate]\ntests = [\"reports/*.xml\"]\ntests-command = {write}\n"
    ));
    let fake = FakeGitHub::start();
    let dry = run(&repo, &fake, &["--dry-run", "--json"]);
    assert_eq!(code(&dry), Some(0), "{}", text(&dry).1);
    let report: serde_json::Value = serde_json::from_str(&text(&dry).0).unwrap();
    let gate = &report["validation"]["gates"][0];
    assert!(
        gate["summary"].as_str().unwrap().starts_with("would run `python3 -c"),
        "{gate}"
    );
    let real = run(&repo, &fake, &[]);
    assert_eq!(code(&real), Some(0), "{}", text(&real).1);
}

#[test]
fn a_build_command_the_action_cannot_run_is_refused_by_plan_and_dry_run_alike() {
    let repo = project(
        "[[artifact]]\nname = \"w.tar.gz\"\nkind = \"archive\"\nfiles = [\"dist-app/*\"]\nbuild = [\"pnpm-is-not-installed\", \"build\"]\n",
    );
    let fake = FakeGitHub::start();
    for inputs in [&[("command", "plan")][..], &[("dry-run", "true")], &[]] {
        let (out, _, _) = fake.action(
            repo.path(),
            "push",
            "refs/tags/v1.0.0",
            &serde_json::json!({"ref": "refs/tags/v1.0.0"}),
            inputs,
        );
        let stdout = text(&out).0;
        assert_eq!(code(&out), Some(2), "{inputs:?}: {stdout}");
        assert!(
            stdout.contains("[[artifact]] \"w.tar.gz\" build: runs \"pnpm-is-not-installed\", which is not on PATH here; the tamma-release action runs in a container that holds only tamma-release: run this command in an earlier step"),
            "{stdout}"
        );
    }
    assert_eq!(fake.with(|s| s.writes()), 0);
    // A job that only publishes what an earlier job built needs no builder.
    let (out, _, _) = fake.action(
        repo.path(),
        "push",
        "refs/tags/v1.0.0",
        &serde_json::json!({"ref": "refs/tags/v1.0.0"}),
        &[("stages", "publish"), ("dry-run", "true")],
    );
    assert!(!text(&out).0.contains("not on PATH"), "{}", text(&out).0);
}
