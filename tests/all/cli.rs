//! The command line, run as a user would, in real git repositories.

use crate::support::{TestRepo, json_of, tamma, text};

#[test]
fn dry_run_release_finds_the_previous_release_and_notes() {
    let repo = TestRepo::with_history();
    let report = json_of(repo.path(), &["release", "--dry-run", "--version", "0.3.0", "--json"]);
    let plan = &report["plan"];
    assert_eq!(plan["version"], "0.3.0");
    assert_eq!(plan["tag"], "v0.3.0");
    assert_eq!(plan["previous-version"], "0.2.0");
    assert_eq!(plan["previous-tag"], "v0.2.0");
    assert_eq!(plan["prerelease"], false);
    assert_eq!(plan["schema-version"], 1);
    let notes = plan["notes"].as_str().unwrap();
    assert!(notes.contains("- third (") && notes.contains("- fourth ("), "{notes}");
    assert!(
        !notes.contains("second"),
        "commits of v0.2.0 are not in v0.3.0's notes: {notes}"
    );
    assert_eq!(report["dry-run"], true);
    let steps = report["steps"].as_array().unwrap();
    let targets: Vec<&str> = steps.iter().map(|s| s["target"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        ["github-release", "journal", "github-release"],
        "stage, lock and journal, publish"
    );
    assert!(steps.iter().all(|s| s["dry-run"] == true));
}

#[test]
fn previous_release_ignores_higher_tags_and_other_prefixes() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "cli-v9.0.0"]);
    // A higher release on another branch is not this branch's previous release.
    repo.git(&["checkout", "-q", "-b", "next"]);
    repo.commit("n", "feat: next");
    repo.git(&["tag", "v2.0.0"]);
    repo.git(&["checkout", "-q", "main"]);
    let out = tamma(&["plan", "--version", "1.5.0", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["plan"]["previous-tag"], "v0.2.0");
}

#[test]
fn tag_prefix_from_config() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "cli-v1.0.0", "HEAD~1"]);
    repo.write(".github/tamma-release.toml", "[release]\ntag-prefix = \"cli-v\"\n");
    let out = tamma(&["plan", "--version", "1.1.0", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["plan"]["tag"], "cli-v1.1.0");
    assert_eq!(plan["plan"]["previous-tag"], "cli-v1.0.0");
}

#[test]
fn plan_prints_readable_text() {
    let repo = TestRepo::with_history();
    let out = tamma(&["plan", "--version", "0.3.0-rc.1", "-C", repo.path().to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.starts_with("version: 0.3.0-rc.1\ntag: v0.3.0-rc.1\nprevious: v0.2.0\nprerelease: true\n"),
        "{stdout}"
    );
    assert!(stdout.contains("target: github-release"));
}

#[test]
fn summary_and_output_files_locally() {
    let repo = TestRepo::with_history();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs");
    let out = tamma(&[
        "release",
        "--dry-run",
        "--version",
        "0.3.0",
        "--summary-file",
        summary.to_str().unwrap(),
        "--output-file",
        outputs.to_str().unwrap(),
    ])
    .current_dir(repo.path())
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let parsed = crate::support::runner::parse_file_command(&std::fs::read_to_string(outputs).unwrap()).unwrap();
    assert_eq!(parsed["version"], "0.3.0");
    assert!(
        std::fs::read_to_string(summary)
            .unwrap()
            .contains("## tamma-release v0.3.0")
    );
}

/// Args, files to write, and what stderr must contain.
type BadInputCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

/// Each case must exit 2 with one message and change nothing.
#[test]
fn bad_input_exits_2_with_one_clear_message() {
    let cases: &[BadInputCase] = &[
        (
            &["release", "--dry-run", "--version", "1.2"],
            &[],
            "version: \"1.2\" is not a semantic version",
        ),
        (
            &["release", "--dry-run", "--version", "v1.2.3"],
            &[],
            "did you mean 1.2.3?",
        ),
        (
            &["release", "--dry-run", "--version", "1.0.0", "--stages", "plan,bogus"],
            &[],
            "stages: unknown stage \"bogus\"; allowed: plan, prepare, validate, build, publish",
        ),
        (
            &["release", "--dry-run", "--version", "1.0.0"],
            &[(
                ".github/tamma-release.toml",
                "[release]\ntag-prefix = \"v\"\nlatest = true\n",
            )],
            ".github/tamma-release.toml:3:1: unknown field `latest`, expected one of `tag-prefix`, `draft`, `initial-version`, `notes-template`",
        ),
        (
            &["release", "--dry-run", "--version", "1.0.0"],
            &[(".github/tamma-release.toml", "[release\n")],
            ".github/tamma-release.toml:1:",
        ),
        (
            &["release", "--dry-run", "--version", "1.0.0", "--config", "missing.toml"],
            &[],
            "cannot read",
        ),
        (
            &["release", "--version", "1.0.0"],
            &[],
            "publishing needs to know the repository",
        ),
        (
            &["release", "--dry-run", "--version", "0.1.0"],
            &[],
            "tag v0.1.0 already exists at commit",
        ),
    ];
    for (args, files, expected) in cases {
        let repo = TestRepo::with_history();
        for (file, body) in *files {
            repo.write(file, body);
        }
        let before = repo.git(&["show-ref"]);
        let out = tamma(args).current_dir(repo.path()).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
        assert_eq!(stderr.matches("error:").count(), 1, "{args:?}: one message: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stdout.is_empty(), "{args:?}: nothing on stdout: {stdout}");
        assert_eq!(repo.git(&["show-ref"]), before, "no git change");
    }
}

#[test]
fn json_errors_on_stdout() {
    let repo = TestRepo::with_history();
    let out = tamma(&["release", "--dry-run", "--version", "x", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["exit-code"], 2);
    assert!(error["error"]["message"].as_str().unwrap().starts_with("version:"));
}

#[test]
fn outside_a_repository_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = tamma(&["plan", "--version", "1.0.0"])
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("is not inside a git repository"), "{stderr}");
}

#[test]
fn shallow_clone_asks_for_fetch_depth_0() {
    let origin = TestRepo::with_history();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, "clone"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = tamma(&["plan", "--version", "1.0.0"])
        .current_dir(dir.path().join("clone"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = tamma(&["release", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tamma(&["bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tamma(&["release", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("--dry-run") && stdout.contains("Needs no token"),
        "{stdout}"
    );
}

#[test]
fn the_command_line_is_polished_where_users_touch_it() {
    let repo = TestRepo::with_history();
    // `changelog --json` is `changelog --format json`.
    let run = |args: &[&str]| {
        let out = tamma(args).current_dir(repo.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out).1);
        text(&out).0
    };
    assert_eq!(run(&["changelog", "--json"]), run(&["changelog", "--format", "json"]));
    // Every JSON key is kebab-case.
    let report = run(&["release", "--dry-run", "--version", "0.3.0", "--json"]);
    let keys: Vec<&str> = report
        .split('"')
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[1].starts_with(':'))
        .map(|w| w[0])
        .collect();
    assert!(keys.contains(&"dry-run"), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains('_')), "{keys:?}");
    // Completions for the shells people use.
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        assert!(
            script.contains("rollback") && script.contains("dry-run"),
            "{shell}: {script}"
        );
    }
    // Secrets are grouped apart, named with their variable, without clap's `[env: X=]`.
    let help = run(&["release", "--help"]);
    let secrets = help
        .split("Secrets (also read from the environment):")
        .nth(1)
        .expect(&help);
    for flag in ["--github-token", "--npm-token", "--signing-key", "--deploy-secret"] {
        assert!(secrets.contains(flag), "{flag} under Secrets: {help}");
    }
    assert!(!help.contains("=]") && help.contains("[env: GITHUB_TOKEN]"), "{help}");
    // An editor's `$schema` key is accepted.
    repo.write(
        ".github/tamma-release.toml",
        "\"$schema\" = \"https://raw.githubusercontent.com/meywd/tamma-release/main/schema/tamma-release.schema.json\"\n",
    );
    repo.commit("c", "chore: schema");
    run(&["plan", "--version", "0.3.0"]);
}

#[test]
fn errors_name_the_config_key_not_an_artifact() {
    let repo = TestRepo::with_history();
    let fail = |config: &str| {
        repo.write(".github/tamma-release.toml", config);
        let out = tamma(&["release", "--dry-run", "--version", "0.3.0"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
        text(&out).1
    };
    let err = fail("[validate]\ntests = [\"reports/*.xml\"]\n");
    assert!(
        err.contains("error: [validate] tests: the glob \"reports/*.xml\" matches no file"),
        "{err}"
    );
    let err = fail("[version]\nfiles = [\"../outside.json\"]\n");
    assert!(
        err.contains("error: [version] files: \"../outside.json\" leaves the repository"),
        "{err}"
    );
    let err = fail("[validate.docs]\nrequired = [\"../x.md\"]\n");
    assert!(
        err.contains("error: [validate.docs] required: \"../x.md\" leaves the repository"),
        "{err}"
    );
    assert!(!err.contains("artifact"), "{err}");
}

#[test]
fn log_levels_follow_the_flags_and_tamma_log_and_a_bad_filter_is_named() {
    let repo = TestRepo::with_history();
    let stderr = |flags: &[&str], log: Option<&str>| {
        let mut args = flags.to_vec();
        args.extend(["release", "--dry-run", "--bump", "patch"]);
        let mut cmd = tamma(&args);
        cmd.current_dir(repo.path());
        if let Some(value) = log {
            cmd.env("TAMMA_LOG", value);
        }
        let (_, stderr) = text(&cmd.output().unwrap());
        stderr
    };
    let lines = |log: &str, level: &str| log.lines().filter(|l| l.contains(level)).count();

    let default = stderr(&[], None);
    assert!(
        lines(&default, " INFO ") > 0 && lines(&default, " DEBUG ") == 0,
        "{default}"
    );
    let verbose = stderr(&["-v"], None);
    assert!(lines(&verbose, " DEBUG ") > 0, "{verbose}");
    let quiet = stderr(&["-q"], None);
    assert_eq!(lines(&quiet, " INFO "), 0, "{quiet}");
    // TAMMA_LOG takes RUST_LOG's directives and wins over the flags.
    assert_eq!(lines(&stderr(&["-v"], Some("warn")), " INFO "), 0);
    let targeted = stderr(&[], Some("tamma_release=debug,warn"));
    assert!(lines(&targeted, " DEBUG ") > 0, "{targeted}");
    // As RUST_LOG reads it: spaces and empty directives are ignored.
    assert!(lines(&stderr(&[], Some(" debug ")), " DEBUG ") > 0);
    let trailing = stderr(&[], Some("tamma_release=warn,"));
    assert_eq!(
        lines(&trailing, " INFO ") + lines(&trailing, " TRACE "),
        0,
        "{trailing}"
    );
    // One that does not parse is named with what it takes; the default applies.
    let bad = stderr(&[], Some("tamma_release=loud"));
    assert!(
        bad.contains("TAMMA_LOG=\"tamma_release=loud\" is not a log filter")
            && bad.contains("`debug` or `tamma_release=trace,warn`"),
        "{bad}"
    );
    assert!(lines(&bad, " INFO ") > 0, "{bad}");
}

#[test]
fn an_api_url_that_cannot_be_requested_is_a_usage_error_naming_its_fix() {
    let repo = TestRepo::with_history();
    for (api, expected) in [
        (
            "https://gïthub.example/api/v3",
            "GITHUB_API_URL: \"https://gïthub.example/api/v3\" is not a valid URL (invalid international domain name); write a host outside ASCII in its Punycode form (xn--…)",
        ),
        ("github.example/api/v3", "is not an http(s) URL"),
    ] {
        let out = tamma(&["history"])
            .current_dir(repo.path())
            .env("GITHUB_API_URL", api)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_TOKEN", "t")
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}
