//! Why this exists: a build, gate or deploy command whose program is not installed fails only
//! when the real run reaches it — in the container action (an image with nothing but
//! tamma-release in it) that is every `build = ["pnpm", "build"]`. Every configured command is
//! looked up on the PATH the commands get before anything is planned, so `plan`, a dry run and a
//! real run all stop at once (exit 2) naming the command, its config key and what to do instead.

use std::path::Path;

use crate::build::command::CommandEnv;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::request::Stage;

/// Every configured command as (the stage that runs it, config key, argv); `shell = "…"` runs `sh`.
fn commands(config: &Config) -> Vec<(Stage, String, Vec<String>)> {
    let mut out = Vec::new();
    for artifact in &config.artifacts {
        let key = format!("[[artifact]] {:?}", artifact.display_name());
        match &artifact.shell {
            Some(_) => out.push((Stage::Build, format!("{key} shell"), vec!["sh".to_string()])),
            None => out.push((Stage::Build, format!("{key} build"), artifact.build.clone())),
        }
    }
    let gates = &config.validate;
    out.push((
        Stage::Validate,
        "[validate] tests-command".into(),
        gates.tests_command.clone(),
    ));
    for audit in &gates.audit {
        let key = format!("[[validate.audit]] {:?} command", audit.report);
        out.push((Stage::Validate, key, audit.command.clone()));
    }
    if let Some(bench) = &gates.bench {
        out.push((
            Stage::Validate,
            "[validate.bench] command".into(),
            bench.command.clone(),
        ));
    }
    if let Some(docs) = &gates.docs {
        out.push((Stage::Validate, "[validate.docs] command".into(), docs.command.clone()));
    }
    if let Some(staging) = &config.deploy.staging {
        out.push((
            Stage::Publish,
            "[deploy.staging] command".into(),
            staging.command.clone(),
        ));
    }
    out.retain(|(_, _, argv)| !argv.is_empty());
    out
}

/// Refuses a command of one of `stages` whose program is not on the commands' PATH. A program
/// named with a path (`./gradlew`, `node_modules/.bin/x`) is not looked up: an earlier command may
/// make it. `in_action` says the run is the container action, whose image has no other programs.
pub fn check(config: &Config, stages: &[Stage], env: &CommandEnv, in_action: bool) -> Result<()> {
    match missing(config, stages, env, in_action).into_iter().next() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Every command of `stages` whose program is missing, as the error [`check`] would give.
pub fn missing(config: &Config, stages: &[Stage], env: &CommandEnv, in_action: bool) -> Vec<Error> {
    let mut out = Vec::new();
    let path = env
        .0
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    for (_, key, argv) in commands(config)
        .into_iter()
        .filter(|(stage, _, _)| stages.contains(stage))
    {
        let program = &argv[0];
        if program.contains('/') || on_path(program, path) {
            continue;
        }
        let what = if in_action {
            "the tamma-release action runs in a container that holds only tamma-release: run this \
             command in an earlier step of the job (or install and run tamma-release as a CLI), and \
             leave the action to package, check and publish what it made"
                .to_string()
        } else {
            format!("install {program}, or put its folder on PATH")
        };
        out.push(Error::input(
            key,
            format!("runs {program:?}, which is not on PATH here; {what}"),
        ));
    }
    out
}

/// Whether an executable file `program` is in one of the `:`-separated folders of `path`. (A few
/// lines, not the `which` crate: the PATH looked in is the commands', not this process's.)
fn on_path(program: &str, path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.split(':').filter(|dir| !dir.is_empty()).any(|dir| {
        std::fs::metadata(Path::new(dir).join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(path: &str) -> CommandEnv {
        CommandEnv(vec![("PATH".into(), path.into())])
    }

    #[test]
    fn a_missing_program_is_named_with_its_key_and_what_to_do() {
        let config = Config::parse(
            "[[artifact]]\nname = \"w.tar.gz\"\nkind = \"archive\"\nfiles = [\"x\"]\nbuild = [\"pnpm-not-here\", \"build\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let err = check(&config, &Stage::ALL, &env("/usr/bin:/bin"), true).unwrap_err();
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        let text = err.to_string();
        assert!(
            text.starts_with("[[artifact]] \"w.tar.gz\" build: runs \"pnpm-not-here\", which is not on PATH here; the tamma-release action runs in a container"),
            "{text}"
        );
        assert!(
            check(&config, &Stage::ALL, &env("/usr/bin"), false)
                .unwrap_err()
                .to_string()
                .contains("install pnpm-not-here")
        );
        // A job that only publishes runs no build command: it needs no builder.
        check(&config, &[Stage::Plan, Stage::Publish], &env("/usr/bin"), true).unwrap();
    }

    #[test]
    fn programs_on_path_and_programs_named_by_path_pass() {
        let config = Config::parse(
            "[validate]\ntests = [\"r.xml\"]\ntests-command = [\"sh\", \"-c\", \"true\"]\n\n[[artifact]]\nkind = \"file\"\npath = \"x\"\nbuild = [\"./gradlew\", \"assemble\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        check(&config, &Stage::ALL, &env("/nonexistent:/usr/bin:/bin"), true).unwrap();
        assert!(
            check(&config, &Stage::ALL, &env(""), false).is_err(),
            "sh is nowhere on an empty PATH"
        );
    }
}
