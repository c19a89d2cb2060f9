//! Why this exists: `tamma-release check` says everything that can be known without building —
//! the config, every artifact's files (or the command or matrix job that makes them), the
//! programs the commands run, the repository's history, and what the workflows grant and ask
//! for — as one line per problem, all at once, instead of one failure per attempt. It reads and
//! writes nothing outside the repository.

pub mod workflows;

use std::path::Path;

use serde::Serialize;

use crate::build::command::CommandEnv;
use crate::build::files;
use crate::config::{ArtifactConfig, ArtifactKind, Config};
use crate::error::Error;
use crate::request::Stage;

/// One problem, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A file, a file and job, or a config key.
    pub place: String,
    /// What is wrong, and what to do.
    pub message: String,
}

impl Finding {
    fn new(place: &str, message: String) -> Finding {
        Finding {
            place: place.to_string(),
            message,
        }
    }

    fn from_error(error: &Error) -> Finding {
        let (place, message) = match error {
            Error::InvalidInput { name, message } => (name.clone(), message.clone()),
            Error::Config { location, message } => (
                format!("{}:{}:{}", location.path.display(), location.line, location.column),
                message.clone(),
            ),
            other => ("tamma-release".to_string(), other.to_string()),
        };
        Finding { place, message }
    }
}

/// What `check` looked at, and what it found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CheckReport {
    /// Every problem; none means the release can start.
    pub findings: Vec<Finding>,
    /// How many artifacts, commands and workflows were looked at.
    pub artifacts: usize,
    /// Workflow files read.
    pub workflows: usize,
}

/// Checks the repository at `workspace` with the config at `config_path` (default path when
/// `None`); `env` is what commands would run with.
pub fn run(
    workspace: &Path,
    config_path: Option<&Path>,
    environment: &[(String, String)],
    in_action: bool,
) -> CheckReport {
    let mut report = CheckReport::default();
    let config = match Config::load(workspace, config_path) {
        Ok((config, _)) => config,
        Err(error) => {
            report.findings.push(Finding::from_error(&error));
            return report;
        }
    };
    if let Err(error) = crate::plan::open_repository(workspace) {
        report.findings.push(Finding::from_error(&error));
    }
    // Commands run with the environment less the release's secrets, as a release runs them.
    let env = CommandEnv::new(environment, &config.release.pass_env);
    report.artifacts = config.artifacts.len();
    for artifact in &config.artifacts {
        if let Some(finding) = missing_inputs(workspace, artifact) {
            report.findings.push(finding);
        }
    }
    for error in crate::build::programs::missing(&config, &Stage::ALL, &env, in_action) {
        report.findings.push(Finding::from_error(&error));
    }
    let (found, read) = workflows::check(workspace, &config);
    report.findings.extend(found);
    report.workflows = read;
    report
}

/// Why an artifact's files are not here, unless its own build command or a matrix job makes them.
fn missing_inputs(workspace: &Path, artifact: &ArtifactConfig) -> Option<Finding> {
    let made_later = !artifact.build.is_empty() || artifact.shell.is_some() || artifact.platform.is_some();
    if made_later || crate::build::dry::inputs_here(workspace, artifact) {
        return None;
    }
    let key = format!("artifact {:?}", artifact.display_name());
    let missing = |field: &str, path: &Option<String>| match path {
        Some(path) => match files::inside(workspace, &key, path) {
            Err(error) => Finding::from_error(&error),
            Ok(_) => Finding::new(
                &key,
                format!("{field} {path:?} does not exist (and no build command makes it)"),
            ),
        },
        None => Finding::new(&key, format!("needs `{field}`")),
    };
    Some(match artifact.kind {
        ArtifactKind::Archive => match files::resolve(workspace, &key, &artifact.files) {
            Err(error) => {
                let mut finding = Finding::from_error(&error);
                finding
                    .message
                    .push_str(" (and no build command or `platform` makes it)");
                finding
            }
            Ok(_) => return None,
        },
        ArtifactKind::Image if artifact.oci_layout.is_some() => missing("oci-layout", &artifact.oci_layout),
        ArtifactKind::Image => missing("context", &artifact.context),
        _ => missing("path", &artifact.path),
    })
}
