//! Why this exists: the commonest first-release failures are in the workflow, not the config — a
//! job without `contents: write`, npm without a token or `id-token: write`, a shallow checkout,
//! the container action on a macOS runner, a runner label GitHub retired. These are read from
//! `.github/workflows/*.yml` as GitHub would, for every job that runs the action.

use std::path::Path;

use yaml_rust2::Yaml;

use crate::check::Finding;
use crate::config::{ArtifactKind, Config};

/// Runner labels GitHub has retired: a job asking for one waits for a runner that never comes.
const RETIRED: &[(&str, &str)] = &[
    ("ubuntu-18.04", "ubuntu-24.04"),
    ("ubuntu-20.04", "ubuntu-24.04"),
    ("macos-10.15", "macos-15"),
    ("macos-11", "macos-15"),
    ("macos-12", "macos-15"),
    ("macos-13", "macos-15-intel (Intel) or macos-15"),
    ("windows-2016", "windows-2025"),
    ("windows-2019", "windows-2025"),
];

/// What every workflow in `workspace` that runs this action lacks for `config`.
pub fn check(workspace: &Path, config: &Config) -> (Vec<Finding>, usize) {
    let dir = workspace.join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    let mut findings = Vec::new();
    for file in &files {
        let shown = file.strip_prefix(workspace).unwrap_or(file).display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                findings.push(Finding::new(&shown, format!("cannot be read: {e}")));
                continue;
            }
        };
        match yaml_rust2::YamlLoader::load_from_str(&text) {
            Ok(documents) => {
                if let Some(workflow) = documents.first() {
                    check_workflow(&shown, workflow, config, &mut findings);
                }
            }
            Err(e) => findings.push(Finding::new(&shown, format!("is not YAML: {e}"))),
        }
    }
    (findings, files.len())
}

fn check_workflow(file: &str, workflow: &Yaml, config: &Config, findings: &mut Vec<Finding>) {
    let Some(jobs) = workflow["jobs"].as_hash() else { return };
    for (name, job) in jobs {
        let name = name.as_str().unwrap_or("?");
        let place = format!("{file}: job {name}");
        let labels = runs_on(&job["runs-on"]);
        for label in &labels {
            if let Some((_, instead)) = RETIRED.iter().find(|(old, _)| old == label) {
                findings.push(Finding::new(
                    &place,
                    format!("runs-on {label}, a runner GitHub has retired; use {instead}"),
                ));
            }
        }
        let steps = job["steps"].as_vec().map(Vec::as_slice).unwrap_or_default();
        let Some((action, run)) = steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| invocation(s).map(|r| (i, r)))
        else {
            continue;
        };
        if run.container
            && labels
                .iter()
                .any(|l| l.starts_with("macos") || l.starts_with("windows"))
        {
            findings.push(Finding::new(
                &place,
                "runs the tamma-release action on a macOS or Windows runner; it is a container action and runs only on Linux (ubuntu-*) runners".into(),
            ));
        }
        let command = run.command.as_str();
        let publishes = match &run.stages {
            Some(stages) => stages.split(',').any(|s| s.trim() == "publish"),
            None => true,
        };
        let checkout = steps[..action]
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")));
        match checkout {
            None => findings.push(Finding::new(
                &place,
                "runs tamma-release without an actions/checkout step before it; the release reads the repository"
                    .into(),
            )),
            Some(step) if command != "rollback" && !full_history(&step["with"]["fetch-depth"]) => {
                findings.push(Finding::new(
                    &place,
                    "checks out a shallow clone; give actions/checkout `fetch-depth: 0` so earlier tags and commits are there".into(),
                ));
            }
            Some(_) => {}
        }
        if !(publishes || command == "rollback") || command == "plan" || command == "validate" {
            continue;
        }
        let permissions = effective_permissions(&job["permissions"], &workflow["permissions"]);
        let mut need = |scope: &str, why: &str| {
            if !permissions.grants(scope) {
                findings.push(Finding::new(
                    &place,
                    format!("needs `permissions: {scope}: write` {why}{}", permissions.describe()),
                ));
            }
        };
        need("contents", "to create the release, its tag and its assets");
        let images_on_ghcr = config
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Image)
            .any(|a| a.image.as_deref().is_some_and(|i| i.starts_with("ghcr.io/")));
        if images_on_ghcr && !run.registry_password {
            need("packages", "to push the image to ghcr.io with the workflow token");
        }
        if config.deploy.docs.is_some() || config.deploy.staging.is_some() {
            need("deployments", "to record the docs and staging deployments");
        }
        let npm = config.artifacts.iter().any(|a| a.kind == ArtifactKind::Npm);
        if npm && command != "rollback" && !run.npm_token && !permissions.grants("id-token") {
            findings.push(Finding::new(
                &place,
                "publishes npm packages with neither an `npm-token` input nor `permissions: id-token: write` (npm trusted publishing)".into(),
            ));
        }
    }
}

/// How a step runs tamma-release: the action (`uses: meywd/tamma-release@…`, inputs in `with:`)
/// or the CLI (`run: tamma-release release …`, secrets in `env:`).
struct Invocation {
    container: bool,
    command: String,
    stages: Option<String>,
    npm_token: bool,
    registry_password: bool,
}

fn invocation(step: &Yaml) -> Option<Invocation> {
    let given = |value: &Yaml| value.as_str().is_some_and(|v| !v.trim().is_empty());
    if step["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("meywd/tamma-release@"))
    {
        let with = &step["with"];
        return Some(Invocation {
            container: true,
            command: with["command"]
                .as_str()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or("release")
                .to_string(),
            stages: with["stages"].as_str().map(str::to_string),
            npm_token: given(&with["npm-token"]),
            registry_password: given(&with["registry-password"]),
        });
    }
    let run = step["run"].as_str()?;
    let words: Vec<&str> = run.split_whitespace().collect();
    let at = words
        .windows(2)
        .position(|w| w[0].ends_with("tamma-release") && ["release", "rollback"].contains(&w[1]))?;
    let stages = words[at..]
        .windows(2)
        .find(|w| w[0] == "--stages")
        .map(|w| w[1].trim_matches(['"', '\'']).to_string());
    let env = &step["env"];
    Some(Invocation {
        container: false,
        command: words[at + 1].to_string(),
        stages,
        npm_token: given(&env["NPM_TOKEN"]),
        registry_password: given(&env["REGISTRY_PASSWORD"]),
    })
}

/// The labels of `runs-on`: a string, a list, or `{ labels: … }`; expressions are skipped.
fn runs_on(value: &Yaml) -> Vec<String> {
    let items: Vec<&Yaml> = match value {
        Yaml::String(_) => vec![value],
        Yaml::Array(list) => list.iter().collect(),
        Yaml::Hash(_) => match &value["labels"] {
            Yaml::Array(list) => list.iter().collect(),
            other => vec![other],
        },
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(Yaml::as_str)
        .filter(|label| !label.contains("${{"))
        .map(str::to_string)
        .collect()
}

fn full_history(depth: &Yaml) -> bool {
    match depth {
        Yaml::Integer(0) => true,
        Yaml::String(s) => s.trim() == "0",
        _ => false,
    }
}

/// The permissions a job's token has, as far as the workflow says.
enum Permissions {
    /// `permissions:` is not given anywhere: the repository's default applies.
    Unset,
    /// `write-all`.
    All,
    /// `read-all`, `{}` or a map: the scopes granted `write`.
    Scopes(Vec<String>),
}

impl Permissions {
    fn grants(&self, scope: &str) -> bool {
        match self {
            Permissions::All => true,
            Permissions::Unset => false,
            Permissions::Scopes(scopes) => scopes.iter().any(|s| s == scope),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Permissions::Unset => {
                " (no `permissions:` is set, so the repository's default applies: read-only for repositories created since 2023)"
            }
            _ => "",
        }
    }
}

fn effective_permissions(job: &Yaml, workflow: &Yaml) -> Permissions {
    let value = if job.is_badvalue() { workflow } else { job };
    match value {
        Yaml::BadValue | Yaml::Null => Permissions::Unset,
        Yaml::String(s) if s == "write-all" => Permissions::All,
        Yaml::String(_) => Permissions::Scopes(Vec::new()),
        Yaml::Hash(map) => Permissions::Scopes(
            map.iter()
                .filter(|(_, level)| level.as_str() == Some("write"))
                .filter_map(|(scope, _)| scope.as_str().map(str::to_string))
                .collect(),
        ),
        _ => Permissions::Scopes(Vec::new()),
    }
}
