//! Validation gates with reports in the real shapes of the real tools (kept small), thresholds on
//! both sides, expired ignores, and a benchmark regression against the metrics the previous
//! release recorded on GitHub (served by the fake).

use std::process::Output;

use crate::support::github::FakeGitHub;
use crate::support::{TestRepo, tamma, text};

const JUNIT_PASS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0"><testsuite name="unit" tests="2"><testcase classname="core" name="adds"/><testcase classname="core" name="skips"><skipped/></testcase></testsuite></testsuites>"#;
const JUNIT_FAIL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="api" tests="2" failures="1"><testcase classname="api" name="ok"/><testcase classname="api" name="rejects_bad_input" file="src/api.rs" line="42"><failure message="expected 400, got 500">trace</failure></testcase></testsuite>"#;

const NPM_AUDIT: &str = r#"{"auditReportVersion":2,"vulnerabilities":{"lodash":{"name":"lodash","severity":"high","isDirect":true,"via":[{"source":1094499,"name":"lodash","dependency":"lodash","title":"Prototype Pollution","url":"https://github.com/advisories/GHSA-p6mc-m468-83gw","severity":"high","range":"<4.17.19"}],"effects":[],"range":"<4.17.19","nodes":["node_modules/lodash"],"fixAvailable":true},"minimist":{"name":"minimist","severity":"low","isDirect":false,"via":[{"source":1096465,"name":"minimist","title":"Prototype Pollution","url":"https://github.com/advisories/GHSA-vh95-rmgr-6w4m","severity":"low","range":"<0.2.1"}],"effects":[],"range":"<0.2.1","nodes":[],"fixAvailable":true}},"metadata":{"vulnerabilities":{"info":0,"low":1,"moderate":0,"high":1,"critical":0,"total":2}}}"#;
const PNPM_AUDIT: &str = r#"{"actions":[],"advisories":{"1094499":{"id":1094499,"github_advisory_id":"GHSA-p6mc-m468-83gw","module_name":"lodash","severity":"moderate","cves":["CVE-2020-8203"],"title":"Prototype Pollution"}},"metadata":{"vulnerabilities":{"info":0,"low":0,"moderate":1,"high":0,"critical":0}}}"#;
const CARGO_AUDIT: &str = r#"{"database":{"advisory-count":900},"lockfile":{"dependency-count":120},"settings":{},"vulnerabilities":{"found":true,"count":1,"list":[{"advisory":{"id":"RUSTSEC-2021-0078","package":"hyper","title":"Lenient hyper header parsing","aliases":["CVE-2021-32715","GHSA-f3pg-qwvg-p99c"],"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},"versions":{"patched":[">=0.14.10"]},"package":{"name":"hyper","version":"0.14.9"}}]},"warnings":{}}"#;

fn project(config: &str, files: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "README.md",
        "# widget\n\nSee [the guide](docs/guide.md) and [changes](CHANGELOG.md#latest).\n",
    );
    repo.write("docs/guide.md", "# Guide\n");
    repo.write("CHANGELOG.md", "# Changelog\n\n## 1.0.0\n");
    for (path, body) in files {
        repo.write(path, body);
    }
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n{config}"),
    );
    repo.commit("a", "feat: widget");
    repo
}

fn run(repo: &TestRepo, fake: Option<&FakeGitHub>, args: &[&str]) -> Output {
    let mut cmd = match fake {
        Some(fake) => fake.release(repo.path(), args),
        None => {
            let mut all = vec!["release"];
            all.extend_from_slice(args);
            let mut cmd = tamma(&all);
            cmd.current_dir(repo.path());
            cmd
        }
    };
    cmd.output().unwrap()
}

#[test]
fn failing_tests_stop_the_release_before_anything_is_staged() {
    let fake = FakeGitHub::start();
    let repo = project(
        "[validate]\ntests = [\"reports/*.xml\"]\n",
        &[("reports/unit.xml", JUNIT_PASS), ("reports/api.xml", JUNIT_FAIL)],
    );
    for dry in [true, false] {
        let mut args = vec!["--version", "1.0.0"];
        if dry {
            args.push("--dry-run");
        }
        let out = run(&repo, Some(&fake), &args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(
            stderr.contains("tests: test api::rejects_bad_input failed: expected 400, got 500"),
            "{stderr}"
        );
    }
    assert_eq!(fake.with(|s| s.writes()), 0, "nothing staged");
    assert!(!repo.path().join("dist").exists());
    std::fs::remove_file(repo.path().join("reports/api.xml")).unwrap();
    let out = run(&repo, None, &["--dry-run", "--version", "1.0.0", "--json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["validation"]["gates"][0]["summary"],
        "2 tests in 1 report(s): 0 failed, 1 skipped"
    );
}

#[test]
fn test_failures_become_annotations_in_actions() {
    let repo = project(
        "[validate]\ntests = [\"reports/*.xml\"]\n",
        &[("reports/api.xml", JUNIT_FAIL)],
    );
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("summary"), "").unwrap();
    let out = tamma(&["action"])
        .current_dir(repo.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", repo.path())
        .env("INPUT_DRY-RUN", "true")
        .env("INPUT_VERSION", "1.0.0")
        .env("GITHUB_STEP_SUMMARY", files.path().join("summary"))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout.lines().any(|l| l
            == "::error file=src/api.rs,line=42,col=1,title=test failure::test api::rejects_bad_input failed: expected 400, got 500"),
        "{stdout}"
    );
    assert!(
        std::fs::read_to_string(files.path().join("summary"))
            .unwrap()
            .contains("validation failed")
    );
}

#[test]
fn audit_thresholds_ignores_and_formats() {
    let gate = |extra: &str| format!("[[validate.audit]]\nreport = \"audit.json\"\nformat = \"npm\"\n{extra}");
    let cases: &[(String, &str, Option<&str>)] = &[
        (
            gate(""),
            NPM_AUDIT,
            Some("1 high advisory in audit.json (at most 0 allowed): GHSA-p6mc-m468-83gw in lodash"),
        ),
        (gate("max = { high = 1 }\n"), NPM_AUDIT, None),
        (
            gate("ignore = [{ id = \"GHSA-p6mc-m468-83gw\", reason = \"not reachable\", until = \"2999-12-31\" }]\n"),
            NPM_AUDIT,
            None,
        ),
        (
            gate("ignore = [{ id = \"GHSA-p6mc-m468-83gw\", reason = \"not reachable\", until = \"2001-01-31\" }]\n"),
            NPM_AUDIT,
            Some("the ignore of GHSA-p6mc-m468-83gw expired on 2001-01-31"),
        ),
        (gate("").replace("\"npm\"", "\"pnpm\""), PNPM_AUDIT, None),
        (
            gate("max = { moderate = 0 }\n").replace("\"npm\"", "\"pnpm\""),
            PNPM_AUDIT,
            Some("1 moderate advisory"),
        ),
        (
            gate("").replace("\"npm\"", "\"cargo\""),
            CARGO_AUDIT,
            Some("1 critical advisory in audit.json (at most 0 allowed): RUSTSEC-2021-0078 in hyper"),
        ),
    ];
    for (config, report, expected) in cases {
        let repo = project(config, &[("audit.json", report)]);
        let out = run(&repo, None, &["--dry-run", "--version", "1.0.0"]);
        let (_, stderr) = text(&out);
        match expected {
            Some(expected) => {
                assert_eq!(out.status.code(), Some(3), "{config}: {stderr}");
                assert!(stderr.contains(expected), "{config}: expected {expected:?} in {stderr}");
            }
            None => assert_eq!(out.status.code(), Some(0), "{config}: {stderr}"),
        }
    }
}

#[test]
fn docs_required_changelog_and_links() {
    let config = "[validate.docs]\nrequired = [\"README.md\", \"CHANGELOG.md\", \"LICENSE\"]\n";
    let repo = project(config, &[]);
    let out = run(&repo, None, &["--dry-run", "--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("LICENSE is required but missing"), "{stderr}");
    assert!(stderr.contains("CHANGELOG.md does not mention 1.1.0"), "{stderr}");
    repo.write("LICENSE", "MIT\n");
    repo.write("CHANGELOG.md", "# Changelog\n\n## 1.1.0\n");
    repo.write(
        "README.md",
        "# widget\n\nA [dead link](docs/missing.md), a [site](https://example.com), `[not](a-link)`.\n",
    );
    let out = run(&repo, None, &["--dry-run", "--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr.contains("README.md: the link \"docs/missing.md\" leads nowhere"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("example.com") && !stderr.contains("a-link"),
        "{stderr}"
    );
    repo.write("README.md", "# widget\n\nSee [the guide](docs/guide.md#top).\n");
    assert_eq!(
        run(&repo, None, &["--dry-run", "--version", "1.1.0"]).status.code(),
        Some(0)
    );
}

#[test]
fn bench_limits_and_regression_against_the_previous_release() {
    let fake = FakeGitHub::start();
    let config = "[validate.bench]\nreport = \"bench.json\"\nmax-regression = \"10%\"\nlimits = { startup_ms = { max = 50 } }\nhigher-is-better = [\"requests_per_s\"]\n";
    let repo = project(
        config,
        &[("bench.json", r#"{"startup_ms": 40, "requests_per_s": 1000}"#)],
    );
    let out = run(&repo, Some(&fake), &["--version", "1.0.0", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| {
        assert!(
            s.releases[0].assets.iter().any(|a| a.name == "release-plan.json"),
            "metrics recorded on the release"
        )
    });
    repo.git(&["tag", "v1.0.0"]);
    // 15 % slower start-up and 20 % fewer requests: both regress beyond 10 %.
    repo.write(
        "bench.json",
        r#"[{"name": "startup_ms", "value": 46, "unit": "ms"}, {"name": "requests_per_s", "value": 800}]"#,
    );
    repo.commit("b", "perf: oops");
    let out = run(&repo, Some(&fake), &["--dry-run", "--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("startup_ms regressed by 15.0% (40 → 46)")
            && stderr.contains("requests_per_s regressed by 20.0%"),
        "{stderr}"
    );
    // Within 10 %, but above the absolute limit.
    repo.write("bench.json", r#"{"startup_ms": 52, "requests_per_s": 1000}"#);
    let out = run(&repo, Some(&fake), &["--dry-run", "--version", "1.1.0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains("startup_ms = 52 is above its max 50"), "{stderr}");
    repo.write("bench.json", r#"{"startup_ms": 42, "requests_per_s": 990}"#);
    assert_eq!(
        run(&repo, Some(&fake), &["--dry-run", "--version", "1.1.0"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn bad_gate_configuration_is_a_usage_error() {
    let cases = [
        (
            "[validate]\ntests = [\"reports/*.xml\"]\n",
            vec![],
            "the glob \"reports/*.xml\" matches no file",
        ),
        (
            "[[validate.audit]]\nreport = \"audit.json\"\nformat = \"yarn\"\n",
            vec![],
            "yarn",
        ),
        (
            "[[validate.audit]]\nreport = \"missing.json\"\nformat = \"npm\"\n",
            vec![],
            "cannot read",
        ),
        (
            "[[validate.audit]]\nreport = \"audit.json\"\nformat = \"cargo\"\n",
            vec![("audit.json", NPM_AUDIT)],
            "is not a cargo audit report",
        ),
        (
            "[[validate.audit]]\nreport = \"audit.json\"\nformat = \"npm\"\nmax = { severe = 0 }\n",
            vec![("audit.json", NPM_AUDIT)],
            "\"severe\" is not a severity",
        ),
        (
            "[validate.bench]\nreport = \"bench.json\"\nmax-regression = \"ten percent\"\n",
            vec![("bench.json", "{\"a\": 1}")],
            "\"ten percent\" is not a percentage",
        ),
        (
            "[validate]\ntests = [\"r.xml\"]\n",
            vec![("r.xml", "{not xml}")],
            "is not a JUnit XML report",
        ),
    ];
    for (config, files, expected) in cases {
        let repo = project(config, &files);
        let out = run(&repo, None, &["--dry-run", "--version", "1.0.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{config}: {stderr}");
        assert!(stderr.contains(expected), "{config}: expected {expected:?} in {stderr}");
    }
}

#[test]
fn the_validate_command_runs_only_the_gates() {
    let repo = project(
        "[validate]\ntests = [\"reports/*.xml\"]\n",
        &[("reports/api.xml", JUNIT_FAIL)],
    );
    let out = tamma(&["validate", "--version", "1.0.0"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("rejects_bad_input"), "{stderr}");
    std::fs::write(repo.path().join("reports/api.xml"), JUNIT_PASS).unwrap();
    let out = tamma(&["validate", "--version", "1.0.0", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["command"], "validate");
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["target"] == "validate"),
        "nothing but the gates ran"
    );
}
