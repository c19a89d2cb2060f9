//! Why this exists: the only place that touches the process — it reads the environment once,
//! prints logs, workflow commands and results, writes the runner's files, and turns the library's
//! result into an exit status. The CLI and the Actions step share everything after their inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use tamma_release::action::inputs::HistoryCommand;
use tamma_release::action::{self, Env, commands, event::EventPayload, inputs, outputs};
use tamma_release::build::{self, checksum};
use tamma_release::config::Config;
use tamma_release::error::{Error, ExitStatus};
use tamma_release::pipeline::{self, Command, Progress};
use tamma_release::plan::changelog;
use tamma_release::plan::query::{self, ChangelogQuery, VersionQuery};
use tamma_release::report::{RunReport, failure_summary};
use tamma_release::request::{Machine, Options, ReleaseRequest, Stage};

use crate::cli::{ChangelogArgs, ChangelogFormat, ChecksumArgs, PackageArgs, VersionArgs};

/// Where results and reports go besides the exit status.
pub struct Sinks {
    /// Print the result as JSON on stdout.
    pub json: bool,
    /// Write the Markdown summary here.
    pub summary_file: Option<PathBuf>,
    /// Write outputs here in `$GITHUB_OUTPUT` format.
    pub output_file: Option<PathBuf>,
    /// We run as an Actions step: annotations and log groups on stdout.
    pub actions: bool,
}

/// Log groups per stage in Actions; a plain log line locally.
struct StageLog {
    actions: bool,
}

impl Progress for StageLog {
    fn stage_started(&mut self, stage: Stage) {
        if self.actions {
            println!("{}", commands::group(&format!("Stage: {}", stage.as_str())));
        } else {
            tracing::info!("stage {} started", stage.as_str());
        }
    }

    fn stage_finished(&mut self, stage: Stage) {
        if self.actions {
            println!("{}", commands::end_group());
        } else {
            tracing::debug!("stage {} finished", stage.as_str());
        }
    }
}

/// Runs `command` with CLI flags layered over nothing else.
pub fn run_cli(command: Command, workspace: PathBuf, options: Options, env: &Env, sinks: &Sinks) -> ExitStatus {
    let ci = action::ci_context(env);
    let result = Machine::from_env(env)
        .and_then(|machine| ReleaseRequest::resolve(workspace.clone(), options, ci, machine))
        .and_then(|request| execute(command, &request, sinks));
    finish(result, &workspace, sinks)
}

/// `tamma-release history` and `status`.
pub fn run_history(
    kind: HistoryCommand,
    workspace: PathBuf,
    options: Options,
    env: &Env,
    sinks: &Sinks,
    limit: usize,
) -> ExitStatus {
    let ci = action::ci_context(env);
    match Machine::from_env(env).and_then(|machine| ReleaseRequest::resolve(workspace.clone(), options, ci, machine)) {
        Ok(request) => history(kind, &request, sinks, limit),
        Err(error) => {
            report_error(&error, &workspace, sinks);
            error.exit_status()
        }
    }
}

/// Runs as an Actions step. Secrets are masked before anything else is printed.
pub fn run_action(env: &Env, cli_workspace: Option<PathBuf>, init_logging: impl FnOnce()) -> ExitStatus {
    let mut stdout = std::io::stdout().lock();
    let runner_token = env
        .get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .filter(|t| !t.trim().is_empty())
        .cloned();
    for secret in inputs::secret_values(env).into_iter().chain(runner_token) {
        let _ = writeln!(stdout, "{}", commands::add_mask(&secret));
    }
    let _ = stdout.flush();
    drop(stdout);
    init_logging();
    let workspace = cli_workspace
        .or_else(|| env.get("GITHUB_WORKSPACE").filter(|w| !w.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let sinks = Sinks {
        json: false,
        summary_file: env
            .get("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        output_file: env.get("GITHUB_OUTPUT").filter(|p| !p.is_empty()).map(PathBuf::from),
        actions: true,
    };
    let result = (|| {
        let event = match env.get("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) {
            Some(path) => EventPayload::read(Path::new(path))?,
            None => EventPayload::default(),
        };
        let mut inputs = inputs::read(env, &event)?;
        if let Some(dirs) = &inputs.options.merge {
            inputs.options.merge = Some(tamma_release::build::manifest::expand_merge_dirs(&workspace, dirs)?);
        }
        let mut machine = Machine::from_env(env)?;
        machine.container_action = true;
        // Short-lived tokens the release obtains (npm trusted publishing) are masked at once.
        machine.masker = tamma_release::targets::npm_oidc::Masker::new(|secret| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", commands::add_mask(secret));
            let _ = out.flush();
        });
        let request = ReleaseRequest::resolve(workspace.clone(), inputs.options, action::ci_context(env), machine)?;
        Ok((inputs.command, inputs.history, request))
    })();
    match result {
        Ok((_, Some(kind), request)) => history(kind, &request, &sinks, HISTORY_LIMIT as usize),
        Ok((command, None, request)) => finish(execute(command, &request, &sinks), &workspace, &sinks),
        Err(error) => finish(Err(error), &workspace, &sinks),
    }
}

/// How many releases `history` lists by default.
pub const HISTORY_LIMIT: u64 = 30;

/// `history` and `status` (CLI and action): the releases and every channel now, as Markdown on
/// stdout (or JSON) and in the summary; `status` exits 1 when a channel drifted.
pub fn history(kind: HistoryCommand, request: &ReleaseRequest, sinks: &Sinks, limit: usize) -> ExitStatus {
    let result = Config::load(&request.workspace, request.config_path.as_deref())
        .and_then(|(config, _)| tamma_release::history::history(request, &config, limit));
    let found = match result {
        Ok(found) => found,
        Err(error) => {
            report_error(&error, &request.workspace, sinks);
            return error.exit_status();
        }
    };
    let markdown = found.markdown();
    if sinks.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).expect("a history serializes")
        );
    } else if !sinks.actions {
        print!("{markdown}");
    }
    if let Some(path) = &sinks.summary_file
        && let Err(error) = outputs::append(path, &markdown)
    {
        eprintln!("error: {error}");
    }
    let drifted = found.drifted();
    if kind == HistoryCommand::Status && !drifted.is_empty() {
        let names: Vec<String> = drifted
            .iter()
            .map(|p| {
                format!(
                    "{} is {} but the releases left it at {}",
                    p.name,
                    p.now.as_deref().unwrap_or("missing"),
                    p.expected.as_deref().unwrap_or("nothing")
                )
            })
            .collect();
        let error = Error::Failed(format!(
            "{} channel pointer(s) moved outside a release: {}; roll back or re-release to put them right, or move them back by hand",
            drifted.len(),
            names.join("; ")
        ));
        // Said as every error is, but the summary and --json already hold the whole answer.
        let said = Sinks {
            json: false,
            summary_file: None,
            output_file: None,
            actions: sinks.actions,
        };
        report_error(&error, &request.workspace, &said);
        return error.exit_status();
    }
    ExitStatus::Ok
}

/// `tamma-release checksum`: `sha256sum` lines on stdout or in `--output`.
pub fn run_checksum(args: &ChecksumArgs, json: bool) -> ExitStatus {
    let sinks = Sinks {
        json,
        summary_file: None,
        output_file: None,
        actions: false,
    };
    let result = checksum::sha256_files(&args.files).and_then(|digests| {
        let entries: Vec<(String, String)> = digests
            .iter()
            .map(|d| (d.path.display().to_string(), d.sha256.clone()))
            .collect();
        let text: String = entries.iter().map(|(name, sha)| format!("{sha}  {name}\n")).collect();
        match &args.output {
            Some(path) => std::fs::write(path, &text).map_err(|source| Error::WriteFile {
                path: path.clone(),
                source,
            }),
            None if json => {
                let list: Vec<_> = digests
                    .iter()
                    .map(|d| serde_json::json!({"path": d.path, "sha256": d.sha256, "size": d.size}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
                Ok(())
            }
            None => {
                print!("{text}");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitStatus::Ok,
        Err(error) => {
            report_error(&error, Path::new("."), &sinks);
            error.exit_status()
        }
    }
}

/// `tamma-release package`: a reproducible archive; its sha256 and size on stdout.
pub fn run_package(args: &PackageArgs, workspace: PathBuf, env: &Env, json: bool) -> ExitStatus {
    let sinks = Sinks {
        json,
        summary_file: None,
        output_file: None,
        actions: false,
    };
    let result = Machine::from_env(env).and_then(|machine| {
        let (root, epoch) = build::package_root(&workspace, machine.source_date_epoch)?;
        build::package(&root, &args.output, &args.paths, args.strip_prefix.as_deref(), epoch)
    });
    match result {
        Ok(digest) if json => {
            println!(
                "{}",
                serde_json::json!({"path": args.output, "sha256": digest.sha256, "size": digest.size})
            );
            ExitStatus::Ok
        }
        Ok(digest) => {
            println!("{}  {}", digest.sha256, args.output.display());
            ExitStatus::Ok
        }
        Err(error) => {
            report_error(&error, &workspace, &sinks);
            error.exit_status()
        }
    }
}

/// `tamma-release version`: the next version alone on stdout.
pub fn run_version(args: &VersionArgs, workspace: PathBuf, json: bool) -> ExitStatus {
    let query = VersionQuery {
        workspace: workspace.clone(),
        config: args.config.clone(),
        current: args.current.clone(),
        bump: Some(args.bump.clone()),
        preid: args.preid.clone(),
        package: args.package.clone(),
    };
    let sinks = Sinks {
        json,
        summary_file: None,
        output_file: None,
        actions: false,
    };
    match query::next(&query) {
        Ok(version) if json => {
            println!("{}", serde_json::json!({ "version": version.to_string() }));
            ExitStatus::Ok
        }
        Ok(version) => {
            println!("{version}");
            ExitStatus::Ok
        }
        Err(error) => {
            report_error(&error, &workspace, &sinks);
            error.exit_status()
        }
    }
}

/// `tamma-release init`: writes the config and workflows for what the repository holds; refuses to
/// overwrite without `--force`; `--dry-run` prints them.
pub fn run_init(args: &crate::cli::InitArgs, workspace: PathBuf) -> ExitStatus {
    let project = match tamma_release::init::detect(&workspace) {
        Ok(project) => project,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_status();
        }
    };
    let files = tamma_release::init::files(&project);
    if args.dry_run {
        for file in &files {
            println!("# --- {} ---\n{}", file.path.display(), file.text);
        }
        return ExitStatus::Ok;
    }
    let existing: Vec<String> = files
        .iter()
        .filter(|f| workspace.join(&f.path).exists())
        .map(|f| f.path.display().to_string())
        .collect();
    if !existing.is_empty() && !args.force {
        eprintln!(
            "error: {} already exist(s); nothing was written. Look at them with `tamma-release init --dry-run`, or overwrite with --force",
            existing.join(", ")
        );
        return ExitStatus::Usage;
    }
    for file in &files {
        let path = workspace.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &file.text));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitStatus::Failed;
        }
        println!("wrote {}", file.path.display());
    }
    let mut found = Vec::new();
    if !project.npm.is_empty() {
        found.push(format!("{} npm package(s)", project.npm.len()));
    }
    if let Some(binary) = &project.rust_binary {
        found.push(format!("the Rust binary {binary}"));
    }
    if project.dockerfile {
        found.push(format!("a Dockerfile ({})", project.image));
    }
    if project.book.is_some() || project.docs.is_some() {
        found.push("a docs site".to_string());
    }
    eprintln!(
        "found {}. Next: tamma-release check, then tamma-release release --dry-run --version 0.1.0",
        if found.is_empty() {
            "no artifacts (the release will be notes only)".to_string()
        } else {
            found.join(", ")
        }
    );
    ExitStatus::Ok
}

/// `tamma-release check`: one line per problem on stdout (or the report as JSON), exit 2 when
/// there is one.
pub fn run_check(args: &crate::cli::CheckArgs, workspace: PathBuf, env: &Env, json: bool) -> ExitStatus {
    let environment: Vec<(String, String)> = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let report = tamma_release::check::run(&workspace, args.config.as_deref(), &environment, false);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a check report serializes")
        );
    } else {
        for finding in &report.findings {
            println!("{}: {}", finding.place, tamma_release::redact::urls(&finding.message));
        }
        eprintln!(
            "checked the config, {} artifact(s) and {} workflow(s): {}",
            report.artifacts,
            report.workflows,
            match report.findings.len() {
                0 => "no problems".to_string(),
                n => format!("{n} problem(s)"),
            }
        );
    }
    if report.findings.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Usage
    }
}

/// `tamma-release changelog`.
/// `--json` is the same as `--format json`.
pub fn run_changelog(args: &ChangelogArgs, workspace: PathBuf, env: &Env, json: bool) -> ExitStatus {
    let query = ChangelogQuery {
        workspace: workspace.clone(),
        config: args.config.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        all: args.all,
        package: args.package.clone(),
        ci: action::ci_context(env),
    };
    let json = json || args.format == ChangelogFormat::Json;
    let sinks = Sinks {
        json,
        summary_file: None,
        output_file: None,
        actions: false,
    };
    match query::changelog(&query) {
        Ok(answer) => {
            let mut stdout = std::io::stdout().lock();
            let text = if json {
                let mut text = serde_json::to_string_pretty(&serde_json::json!({ "sections": answer.sections }))
                    .expect("a changelog serializes");
                text.push('\n');
                text
            } else {
                changelog::markdown(&answer.sections, &answer.rules, answer.repository_url.as_deref())
            };
            // A closed pipe (`| head`) is not an error.
            let _ = stdout.write_all(text.as_bytes());
            ExitStatus::Ok
        }
        Err(error) => {
            report_error(&error, &workspace, &sinks);
            error.exit_status()
        }
    }
}

fn execute(command: Command, request: &ReleaseRequest, sinks: &Sinks) -> Result<RunReport, Error> {
    let mut log = StageLog { actions: sinks.actions };
    let report = pipeline::run(command, request, &mut log)?;
    if let Some(path) = &sinks.output_file {
        outputs::append_outputs(path, &report.outputs())?;
    }
    if let Some(path) = &sinks.summary_file {
        outputs::append(path, &report.summary_markdown())?;
    }
    Ok(report)
}

fn finish(result: Result<RunReport, Error>, workspace: &Path, sinks: &Sinks) -> ExitStatus {
    match result {
        Ok(report) => {
            print_result(&report, sinks);
            ExitStatus::Ok
        }
        // In a workflow, nothing to release is a normal outcome, as semantic-release treats it:
        // the step succeeds with `released=false` and says why. The CLI keeps exit 3 for scripts.
        Err(Error::NothingToRelease(why)) if sinks.actions => {
            println!("{}", commands::notice(&format!("nothing to release: {why}")));
            tracing::info!("nothing to release: {why}");
            let written = sinks
                .output_file
                .as_ref()
                .map(|path| outputs::append_outputs(path, &RunReport::nothing_released_outputs()))
                .transpose()
                .and_then(|_| {
                    sinks
                        .summary_file
                        .as_ref()
                        .map(|path| {
                            outputs::append(
                                path,
                                &format!("## tamma-release: nothing to release\n\n{why}\n\nNothing was built or published; `released` is `false`.\n"),
                            )
                        })
                        .transpose()
                });
            match written {
                Ok(_) => ExitStatus::Ok,
                Err(error) => {
                    report_error(&error, workspace, sinks);
                    error.exit_status()
                }
            }
        }
        Err(error) => {
            report_error(&error, workspace, sinks);
            error.exit_status()
        }
    }
}

fn print_result(report: &RunReport, sinks: &Sinks) {
    if sinks.json {
        let shown = report.redacted();
        println!("{}", serde_json::to_string_pretty(&shown).expect("a report serializes"));
        return;
    }
    if !report.packages.is_empty() {
        // Independent mode: each package's release, in the order they were released.
        for (index, package) in report.packages.iter().enumerate() {
            if index > 0 {
                println!("\n---\n");
            }
            if let Some(name) = &package.plan.package {
                println!("package: {name}");
            }
            print_result(package, sinks);
        }
        return;
    }
    let plan = &report.plan;
    let mut out = String::new();
    if let Some(rollback) = &report.rollback {
        out.push_str(&format!(
            "rolled back: {} -> {}{}\n",
            rollback.from,
            rollback.to.as_deref().unwrap_or("nothing earlier"),
            if rollback.changed {
                ""
            } else {
                " (already; nothing changed)"
            }
        ));
        for step in &report.steps {
            let verb = if step.dry_run { "would " } else { "" };
            out.push_str(&format!("{verb}{}: {}\n", step.target, step.action));
        }
        print!("{out}");
        return;
    }
    out.push_str(&format!("version: {}\ntag: {}\n", plan.version, plan.tag));
    out.push_str(&format!(
        "previous: {}\n",
        plan.previous_tag.as_deref().unwrap_or("none (first release)")
    ));
    out.push_str(&format!("prerelease: {}\ncommit: {}\n", plan.prerelease, plan.commit));
    for artifact in &plan.artifacts {
        out.push_str(&format!("artifact: {} ({})\n", artifact.name, artifact.kind));
    }
    for target in &plan.targets {
        out.push_str(&format!("target: {}: {}\n", target.name, target.description));
    }
    for step in &report.steps {
        out.push_str(&format!(
            "{}{}: {}\n",
            if step.dry_run { "would " } else { "" },
            step.target,
            tamma_release::redact::urls(&step.action)
        ));
    }
    if let Some(url) = report.release.as_ref().and_then(|r| r.url.as_deref()) {
        out.push_str(&format!("release: {url}\n"));
    }
    out.push_str(&format!("\n{}", plan.notes));
    print!("{out}");
}

fn report_error(error: &Error, workspace: &Path, sinks: &Sinks) {
    let message = tamma_release::redact::urls(&error.to_string());
    if sinks.actions {
        let title = match error {
            Error::Config { .. } => "tamma-release configuration",
            Error::GateFailed { .. } => "tamma-release validation",
            _ => "tamma-release",
        };
        println!("{}", commands::error(title, &message, error.location(), workspace));
        if let Error::GateFailed { findings, .. } = error {
            // The runner keeps 10 error annotations per step; the first line already used one.
            for finding in findings.iter().take(9) {
                let message = tamma_release::redact::urls(&finding.message);
                println!(
                    "{}",
                    commands::error(&finding.title, &message, Some(&finding.location), workspace)
                );
            }
        }
    } else {
        eprintln!("error: {message}");
    }
    if sinks.json {
        let json = serde_json::json!({ "error": { "message": message, "exit-code": error.exit_status() as i32 } });
        println!("{json}");
    }
    if let Some(path) = &sinks.summary_file
        && let Err(e) = outputs::append(path, &failure_summary(&message))
    {
        eprintln!("error: {e}");
    }
}
