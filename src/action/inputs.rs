//! Why this exists: the runner passes every declared input as `INPUT_<NAME>` (upper case, hyphens
//! kept: `INPUT_DRY-RUN`), present but empty when the workflow left it out. This turns them into the
//! same [`Options`] the CLI builds, with `workflow_dispatch` form values filling empty inputs.

use std::path::PathBuf;

use crate::action::Env;
use crate::action::event::EventPayload;
use crate::action::spec::INPUTS;
use crate::config::DEFAULT_CONFIG_PATH;
use crate::error::{Error, Result};
use crate::pipeline::Command;
use crate::request::Options;
use crate::secret::Secret;

/// Everything the action's inputs ask for.
#[derive(Debug, Clone)]
pub struct ActionInputs {
    /// `command`: a pipeline command.
    pub command: Command,
    /// `command: history` or `status`: read the releases instead of running the pipeline.
    pub history: Option<HistoryCommand>,
    /// The request options from inputs (the layer below CLI flags).
    pub options: Options,
}

/// The environment variable names that may carry `name` (the runner's, then an underscore
/// spelling that shells can set when testing by hand).
fn env_keys(name: &str) -> [String; 2] {
    let upper = name.to_uppercase().replace(' ', "_");
    [format!("INPUT_{upper}"), format!("INPUT_{}", upper.replace('-', "_"))]
}

fn action_input(env: &Env, name: &str) -> Option<String> {
    env_keys(name)
        .iter()
        .find_map(|k| env.get(k))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Every secret input's value, to be masked before anything else is printed. Reads raw values
/// without validating anything, so masking cannot be skipped by an error.
pub fn secret_values(env: &Env) -> Vec<String> {
    INPUTS
        .iter()
        .filter(|i| i.secret)
        .flat_map(|i| env_keys(i.name))
        .filter_map(|k| env.get(&k).cloned())
        .filter(|v| !v.trim().is_empty())
        .collect()
}

/// Parses a boolean the way actions/toolkit's `getBooleanInput` does (YAML 1.2 core schema).
pub fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        other => Err(Error::input(
            name,
            format!("{other:?} is not a boolean; allowed: true, false"),
        )),
    }
}

/// Parses the `command` input.
pub fn parse_command(value: &str) -> Result<Command> {
    match value.trim() {
        "release" => Ok(Command::Release),
        "plan" => Ok(Command::Plan),
        "validate" => Ok(Command::Validate),
        "rollback" => Ok(Command::Rollback),
        other => Err(Error::input(
            "command",
            format!("{other:?} is not a command; allowed: release, plan, validate, rollback, history, status"),
        )),
    }
}

/// `command: history` and `command: status`, which only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryCommand {
    /// The releases and where every channel points.
    History,
    /// The same, failing when a channel drifted.
    Status,
}

/// The `merge` input: paths separated by white space; `dir/*` stands for every directory in
/// `dir` (resolved by the build stage against the workspace).
pub fn merge_dirs(text: &str) -> Vec<PathBuf> {
    text.split_whitespace().map(PathBuf::from).collect()
}

/// Reads and checks every input.
pub fn read(env: &Env, event: &EventPayload) -> Result<ActionInputs> {
    let value = |name: &str| action_input(env, name).or_else(|| event.dispatch_input(name).map(str::to_string));
    let history = match value("command").as_deref().map(str::trim) {
        Some("history") => Some(HistoryCommand::History),
        Some("status") => Some(HistoryCommand::Status),
        _ => None,
    };
    let command = match value("command") {
        Some(_) if history.is_some() => Command::Plan,
        Some(text) => parse_command(&text)?,
        None => Command::Release,
    };
    let dry_run = value("dry-run").map(|v| parse_bool("dry-run", &v)).transpose()?;
    // The runner always fills in action.yml's default path; only another path must exist.
    let config = value("config").filter(|p| p != DEFAULT_CONFIG_PATH).map(PathBuf::from);
    Ok(ActionInputs {
        command,
        history,
        options: Options {
            dry_run,
            version: value("version"),
            bump: value("bump"),
            preid: value("preid"),
            package: value("package"),
            partial: None,
            merge: value("merge").map(|text| merge_dirs(&text)),
            github_token: action_input(env, "github-token").and_then(Secret::new),
            npm_token: action_input(env, "npm-token").and_then(Secret::new),
            registry_username: action_input(env, "registry-username"),
            registry_password: action_input(env, "registry-password").and_then(Secret::new),
            deploy_secret: action_input(env, "deploy-secret").and_then(Secret::new),
            signing_key: action_input(env, "signing-key").and_then(Secret::new),
            signing_passphrase: action_input(env, "signing-passphrase").and_then(Secret::new),
            slack_webhook: action_input(env, "slack-webhook").and_then(Secret::new),
            smtp_username: action_input(env, "smtp-username").and_then(Secret::new),
            smtp_password: action_input(env, "smtp-password").and_then(Secret::new),
            config,
            stages: value("stages"),
            rollback: command == Command::Rollback,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let mut env: Env = INPUTS
            .iter()
            .map(|i| (format!("INPUT_{}", i.name.to_uppercase()), String::new()))
            .collect();
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    #[test]
    fn empty_inputs_are_absent() {
        let inputs = read(&env(&[]), &EventPayload::default()).unwrap();
        assert_eq!(inputs.command, Command::Release);
        assert_eq!(inputs.options, Options::default());
        assert!(inputs.options.github_token.is_none());
    }

    #[test]
    fn hyphen_is_kept_in_the_name() {
        let inputs = read(
            &env(&[("INPUT_DRY-RUN", "true"), ("INPUT_VERSION", "1.0.0")]),
            &EventPayload::default(),
        )
        .unwrap();
        assert_eq!(inputs.options.dry_run, Some(true));
        assert_eq!(inputs.options.version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn dispatch_inputs_fill_empty_inputs_only() {
        let event = EventPayload::parse(r#"{"inputs":{"version":"2.0.0","dry-run":"true","command":"plan"}}"#).unwrap();
        let inputs = read(&env(&[("INPUT_VERSION", "1.0.0")]), &event).unwrap();
        assert_eq!(inputs.options.version.as_deref(), Some("1.0.0"));
        assert_eq!(inputs.options.dry_run, Some(true));
        assert_eq!(inputs.command, Command::Plan);
    }

    #[test]
    fn bad_values_name_the_input_and_the_allowed() {
        let err = read(&env(&[("INPUT_DRY-RUN", "yes")]), &EventPayload::default())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "dry-run: \"yes\" is not a boolean; allowed: true, false");
        let err = read(&env(&[("INPUT_COMMAND", "bogus")]), &EventPayload::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "command: \"bogus\" is not a command; allowed: release, plan, validate, rollback, history, status"
        );
    }

    #[test]
    fn default_config_path_is_not_explicit() {
        let inputs = read(&env(&[("INPUT_CONFIG", DEFAULT_CONFIG_PATH)]), &EventPayload::default()).unwrap();
        assert_eq!(inputs.options.config, None);
        let inputs = read(&env(&[("INPUT_CONFIG", "release.toml")]), &EventPayload::default()).unwrap();
        assert_eq!(inputs.options.config, Some(PathBuf::from("release.toml")));
    }

    #[test]
    fn secrets_are_found_without_validation() {
        let env = env(&[("INPUT_GITHUB-TOKEN", "ghs_secret"), ("INPUT_DRY-RUN", "bogus")]);
        assert_eq!(secret_values(&env), vec!["ghs_secret".to_string()]);
    }
}
