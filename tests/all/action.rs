//! The binary as the Actions runner starts it: `INPUT_*` (hyphens kept, every declared input
//! present), `GITHUB_*`, an event payload file, and the runner's file commands.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tamma_release::action::spec::INPUTS;

use crate::support::runner::parse_file_command;
use crate::support::{TestRepo, tamma, text};

const TOKEN: &str = "ghs_TopSecretTokenValue123";

/// A stand-in for api.github.com that counts every connection, so a test can prove no request
/// was sent at all.
struct CountingApi {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl CountingApi {
    fn start() -> CountingApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = stream.read(&mut [0u8; 1024]);
            }
        });
        CountingApi { url, requests }
    }
}

/// One simulated step run.
struct Step {
    files: tempfile::TempDir,
    env: Vec<(String, String)>,
}

struct StepResult {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: String,
    summary: String,
}

impl Step {
    /// A step on `git_ref` with action inputs at their action.yml defaults, then `inputs`.
    fn new(
        workspace: &Path,
        event_name: &str,
        git_ref: &str,
        event: &str,
        inputs: &[(&str, &str)],
        api: &CountingApi,
    ) -> Step {
        let files = tempfile::tempdir().unwrap();
        std::fs::write(files.path().join("event.json"), event).unwrap();
        std::fs::write(files.path().join("output"), "").unwrap();
        std::fs::write(files.path().join("summary"), "").unwrap();
        let path = |name: &str| files.path().join(name).to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = vec![
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("CI".into(), "true".into()),
            ("HOME".into(), path("home")),
            ("GITHUB_WORKSPACE".into(), workspace.to_string_lossy().into_owned()),
            ("GITHUB_REF".into(), git_ref.into()),
            ("GITHUB_EVENT_NAME".into(), event_name.into()),
            ("GITHUB_EVENT_PATH".into(), path("event.json")),
            ("GITHUB_OUTPUT".into(), path("output")),
            ("GITHUB_STEP_SUMMARY".into(), path("summary")),
            ("GITHUB_REPOSITORY".into(), "acme/widget".into()),
            ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
            ("GITHUB_API_URL".into(), api.url.clone()),
            ("GITHUB_RUN_ID".into(), "4242".into()),
        ];
        for input in INPUTS {
            let default = if input.name == "github-token" {
                TOKEN
            } else {
                input.default
            };
            env.push((format!("INPUT_{}", input.name.to_uppercase()), default.to_string()));
        }
        for (name, value) in inputs {
            env.push((format!("INPUT_{}", name.to_uppercase()), value.to_string()));
        }
        Step { files, env }
    }

    fn run(&self) -> StepResult {
        let mut cmd = tamma(&["action"]);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.current_dir(self.files.path()).output().unwrap();
        let (stdout, stderr) = text(&out);
        StepResult {
            code: out.status.code(),
            stdout,
            stderr,
            outputs: std::fs::read_to_string(self.files.path().join("output")).unwrap(),
            summary: std::fs::read_to_string(self.files.path().join("summary")).unwrap(),
        }
    }
}

fn tag_push_event(tag: &str) -> String {
    serde_json::json!({
        "ref": format!("refs/tags/{tag}"), "created": true, "deleted": false, "forced": false,
        "before": "0000000000000000000000000000000000000000", "base_ref": null,
        "repository": {"full_name": "acme/widget"}
    })
    .to_string()
}

fn assert_masked_first(result: &StepResult) {
    assert_eq!(
        result.stdout.lines().next(),
        Some(format!("::add-mask::{TOKEN}").as_str()),
        "{}",
        result.stdout
    );
    let later: String = result.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        !later.contains(TOKEN) && !result.stderr.contains(TOKEN),
        "the token leaked"
    );
    assert!(
        !result.summary.contains(TOKEN) && !result.outputs.contains(TOKEN),
        "the token leaked"
    );
}

#[test]
fn tag_push_dry_run_writes_outputs_summary_and_nothing_else() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "-a", "v1.2.3", "-m", "release 1.2.3"]);
    let refs_before = repo.git(&["show-ref"]);
    let api = CountingApi::start();
    let step = Step::new(
        repo.path(),
        "push",
        "refs/tags/v1.2.3",
        &tag_push_event("v1.2.3"),
        &[("dry-run", "true")],
        &api,
    );
    let result = step.run();
    assert_eq!(result.code, Some(0), "{}\n{}", result.stdout, result.stderr);
    assert_masked_first(&result);

    let outputs = parse_file_command(&result.outputs).expect("the runner accepts $GITHUB_OUTPUT");
    assert_eq!(outputs["version"], "1.2.3");
    assert_eq!(outputs["tag"], "v1.2.3");
    assert_eq!(outputs["previous-version"], "0.2.0");
    assert_eq!(outputs["prerelease"], "false");
    assert_eq!(outputs["release-url"], "");
    assert_eq!(outputs["release-id"], "");
    assert!(
        outputs["changelog"].contains("### Documentation\n\n- fourth ([")
            && outputs["changelog"].starts_with("## [1.2.3](https://github.com/acme/widget/compare/v0.2.0...v1.2.3)"),
        "{}",
        outputs["changelog"]
    );
    assert!(outputs["changelog"].contains("https://github.com/acme/widget/compare/v0.2.0...v1.2.3"));

    assert!(
        result
            .summary
            .contains("## tamma-release v1.2.3 (dry run — nothing was published)"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains("| Previous release | `v0.2.0` |"));
    assert!(result.stdout.contains("::group::Stage: plan\n") && result.stdout.contains("::group::Stage: publish\n"));
    assert_eq!(
        result.stdout.matches("::group::").count(),
        result.stdout.matches("::endgroup::").count()
    );
    assert!(!result.stdout.contains("\u{1b}["), "no colour codes in Actions logs");

    assert_eq!(
        api.requests.load(Ordering::SeqCst),
        0,
        "a dry run sends no request to the GitHub API"
    );
    assert_eq!(repo.git(&["show-ref"]), refs_before, "no git change");
    assert!(
        repo.git(&["status", "--porcelain"]).is_empty(),
        "no file written in the workspace"
    );
}

#[test]
fn config_error_is_an_annotation_on_the_line() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "v1.0.0"]);
    repo.write(
        ".github/tamma-release.toml",
        "[release]\ndraft = false\ntag-prefx = \"v\"\n",
    );
    let api = CountingApi::start();
    let step = Step::new(
        repo.path(),
        "push",
        "refs/tags/v1.0.0",
        &tag_push_event("v1.0.0"),
        &[("dry-run", "true")],
        &api,
    );
    let result = step.run();
    assert_eq!(result.code, Some(2));
    assert_masked_first(&result);
    // Relative to the repository root: the only form GitHub attaches to a file.
    let expected = "::error file=.github/tamma-release.toml,line=3,col=1,title=tamma-release configuration::";
    assert!(result.stdout.contains(expected), "{}", result.stdout);
    assert!(result.stdout.contains(
        "unknown field `tag-prefx`, expected one of `tag-prefix`, `draft`, `initial-version`, `notes-template`"
    ));
    assert!(
        result.summary.starts_with("## tamma-release failed"),
        "{}",
        result.summary
    );
    assert_eq!(result.outputs, "", "no outputs on failure");
}

#[test]
fn bad_inputs_are_annotated_and_exit_2() {
    let cases = [
        (
            ("dry-run", "yes"),
            "dry-run: \\\"yes\\\" is not a boolean; allowed: true, false",
        ),
        (
            ("command", "bogus"),
            "command: \\\"bogus\\\" is not a command; allowed: release, plan, validate, rollback",
        ),
        (
            ("stages", "plan,nope"),
            "stages: unknown stage \\\"nope\\\"; allowed: plan, prepare, validate, build, publish",
        ),
        (("version", "1.0"), "version: \\\"1.0\\\" is not a semantic version"),
    ];
    let repo = TestRepo::with_history();
    let api = CountingApi::start();
    for ((name, value), expected) in cases {
        let step = Step::new(
            repo.path(),
            "workflow_dispatch",
            "refs/heads/main",
            "{}",
            &[("dry-run", "true"), ("version", "1.0.0"), (name, value)],
            &api,
        );
        let result = step.run();
        assert_eq!(result.code, Some(2), "{name}={value}: {}", result.stdout);
        assert_masked_first(&result);
        let expected = expected.replace("\\\"", "\"");
        assert!(
            result
                .stdout
                .contains(&format!("::error title=tamma-release::{expected}")),
            "{}",
            result.stdout
        );
    }
    assert_eq!(api.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn tag_that_does_not_match_the_prefix_is_refused() {
    let repo = TestRepo::with_history();
    repo.git(&["tag", "release-1.0.0"]);
    let api = CountingApi::start();
    let step = Step::new(
        repo.path(),
        "push",
        "refs/tags/release-1.0.0",
        &tag_push_event("release-1.0.0"),
        &[("dry-run", "true")],
        &api,
    );
    let result = step.run();
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("does not start with the tag prefix \"v\""),
        "{}",
        result.stdout
    );
}

#[test]
fn workflow_dispatch_inputs_fill_empty_action_inputs() {
    let repo = TestRepo::with_history();
    let api = CountingApi::start();
    let event =
        r#"{"inputs": {"version": "0.3.0-beta.1", "dry_run": true, "command": "plan"}, "ref": "refs/heads/main"}"#;
    let step = Step::new(
        repo.path(),
        "workflow_dispatch",
        "refs/heads/main",
        event,
        &[("dry-run", "")],
        &api,
    );
    let result = step.run();
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    let outputs = parse_file_command(&result.outputs).unwrap();
    assert_eq!(outputs["version"], "0.3.0-beta.1");
    assert_eq!(outputs["prerelease"], "true");
    assert!(result.summary.contains("(plan)"));
    assert!(!result.stdout.contains("Stage: publish"), "plan does not publish");
}

#[test]
fn dispatch_form_with_bump_and_preid_computes_the_version() {
    let repo = TestRepo::with_history();
    let api = CountingApi::start();
    let event = r#"{"inputs": {"bump": "auto", "preid": "beta", "dry-run": "true"}, "ref": "refs/heads/main"}"#;
    let step = Step::new(repo.path(), "workflow_dispatch", "refs/heads/main", event, &[], &api);
    let result = step.run();
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    let outputs = parse_file_command(&result.outputs).unwrap();
    assert_eq!(
        outputs["version"], "0.3.0-beta.0",
        "feat since v0.2.0 on the beta channel"
    );
    assert_eq!(outputs["prerelease"], "true");
    assert!(
        outputs["changelog"]
            .starts_with("## [0.3.0-beta.0](https://github.com/acme/widget/compare/v0.2.0...v0.3.0-beta.0)")
    );
}

#[test]
fn tag_push_publishes_and_reports_the_release() {
    use crate::support::github::{FakeGitHub, TOKEN as GITHUB_TOKEN};
    let repo = TestRepo::with_history();
    repo.write("bin/widget", "#!/bin/sh\n");
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nname = \"widget.tar.gz\"\nkind = \"archive\"\nfiles = [\"bin/*\"]\n",
    );
    let head = repo.commit("c", "feat: ship it");
    repo.git(&["tag", "v1.2.3"]);
    let fake = FakeGitHub::start();
    fake.with(|s| s.tags.insert("v1.2.3".into(), head.clone()));
    let api = CountingApi::start();
    let mut step = Step::new(
        repo.path(),
        "push",
        "refs/tags/v1.2.3",
        &tag_push_event("v1.2.3"),
        &[],
        &api,
    );
    step.env
        .retain(|(k, _)| k != "GITHUB_API_URL" && k != "INPUT_GITHUB-TOKEN");
    step.env.push(("GITHUB_API_URL".into(), fake.uri.clone()));
    step.env.push(("INPUT_GITHUB-TOKEN".into(), GITHUB_TOKEN.into()));
    let result = step.run();
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(
        result.stdout.lines().next(),
        Some(format!("::add-mask::{GITHUB_TOKEN}").as_str())
    );
    let outputs = parse_file_command(&result.outputs).unwrap();
    let id = fake.with(|s| s.releases[0].id);
    assert_eq!(outputs["release-id"], id.to_string());
    assert_eq!(
        outputs["release-url"],
        "https://github.com/acme/widget/releases/tag/v1.2.3"
    );
    assert!(outputs["upload-url"].contains(&format!("/releases/{id}/assets")));
    let assets: serde_json::Value = serde_json::from_str(&outputs["assets"]).unwrap();
    assert_eq!(
        assets.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["SHA256SUMS", "release-plan.json", "widget.tar.gz"]
    );
    assert_eq!(assets["widget.tar.gz"]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        result.summary.contains("## tamma-release v1.2.3 (released)"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("### Assets\n\n| Asset | Size | SHA-256 |"),
        "{}",
        result.summary
    );
    assert!(result.stdout.contains("::group::Stage: build") && result.stdout.contains("::group::Stage: publish"));
    fake.with(|s| assert!(!s.releases[0].draft && s.unexpected.is_empty()));
}

#[test]
fn workspace_owned_by_another_user_is_read() {
    // In the container the workspace belongs to the runner's user while we run as root; git would
    // say "dubious ownership". Reproduce that by giving the repository to another user.
    let repo = TestRepo::with_history();
    repo.git(&["tag", "v1.0.0"]);
    let status = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(repo.path())
        .status()
        .unwrap();
    assert!(status.success(), "chown needs root, as the container action has");
    let api = CountingApi::start();
    let step = Step::new(
        repo.path(),
        "push",
        "refs/tags/v1.0.0",
        &tag_push_event("v1.0.0"),
        &[("dry-run", "true")],
        &api,
    );
    let result = step.run();
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(
        parse_file_command(&result.outputs).unwrap()["previous-version"],
        "0.2.0"
    );
}
