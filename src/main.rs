//! The `tamma-release` binary: parse, run, exit with the documented status (see README "Exit codes").

mod cli;
mod edge;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tamma_release::action::Env;
use tamma_release::config::Config;
use tamma_release::error::ExitStatus;
use tamma_release::pipeline::Command;
use tamma_release::request::Options;
use tamma_release::secret::Secret;

use cli::{Cli, CliCommand, ConfigCommand};

/// A log sink that hides URL credentials and queries ([`tamma_release::redact::urls`]) in every
/// line, whatever logged it — our messages, a build command's output, an error from a crate.
struct Redacting<W: std::io::Write>(W);

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The formatter hands over each event whole, so a URL is never split between two calls.
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(tamma_release::redact::urls(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn init_logging(to_stdout: bool, verbose: u8, quiet: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let default = match (quiet, verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0) => LevelFilter::INFO,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    // `TAMMA_LOG` takes `RUST_LOG`'s `target=level,…` directives (no span or field filters: their
    // regex engine alone was 0.1 MB of the image). As EnvFilter read them, spaces around
    // directives and empty ones are ignored (Targets would read an empty one as "every target at
    // trace"). One that does not parse is named once logging is up, and the default applies.
    let asked = std::env::var("TAMMA_LOG").ok().map(|value| {
        value
            .split(',')
            .map(str::trim)
            .filter(|directive| !directive.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    });
    let asked = asked.filter(|value| !value.is_empty());
    let parsed = asked.as_deref().map(str::parse::<Targets>);
    let filter = match &parsed {
        Some(Ok(targets)) => targets.clone(),
        _ => Targets::new()
            .with_target("tamma_release", default)
            .with_default(LevelFilter::WARN),
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_target(false);
    if to_stdout {
        // In Actions the runner timestamps lines itself, and logs must sit inside the log groups
        // that are printed on stdout.
        builder
            .without_time()
            .with_ansi(false)
            .with_writer(|| Redacting(std::io::stdout()))
            .finish()
            .with(filter)
            .init();
    } else {
        use std::io::IsTerminal;
        // https://no-color.org: a set, non-empty NO_COLOR turns colour off.
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        builder
            .with_ansi(std::io::stderr().is_terminal() && !no_color)
            .with_writer(|| Redacting(std::io::stderr()))
            .finish()
            .with(filter)
            .init();
    }
    if let (Some(value), Some(Err(error))) = (&asked, &parsed) {
        tracing::warn!(
            "TAMMA_LOG={value:?} is not a log filter ({error}); it takes `level` or `target=level` \
             pairs separated by commas, e.g. `debug` or `tamma_release=trace,warn`"
        );
    }
}

fn common_options(common: &cli::CommonArgs) -> Options {
    Options {
        version: common.version.clone(),
        bump: common.bump.clone(),
        preid: common.preid.clone(),
        config: common.config.clone(),
        package: common.package.clone(),
        ..Options::default()
    }
}

fn credential_options(credentials: &cli::CredentialArgs) -> Options {
    Options {
        github_token: credentials.github_token.clone().and_then(Secret::new),
        npm_token: credentials.npm_token.clone().and_then(Secret::new),
        registry_username: credentials.registry_username.clone(),
        registry_password: credentials.registry_password.clone().and_then(Secret::new),
        slack_webhook: credentials.slack_webhook.clone().and_then(Secret::new),
        smtp_username: credentials.smtp_username.clone().and_then(Secret::new),
        smtp_password: credentials.smtp_password.clone().and_then(Secret::new),
        ..Options::default()
    }
}

fn run_cli(command: Command, options: Options, common: &cli::CommonArgs, cli: &Cli, env: &Env) -> ExitStatus {
    run_with_sinks(command, options, (&common.summary_file, &common.output_file), cli, env)
}

fn run_with_sinks(
    command: Command,
    options: Options,
    (summary_file, output_file): (&Option<PathBuf>, &Option<PathBuf>),
    cli: &Cli,
    env: &Env,
) -> ExitStatus {
    init_logging(false, cli.verbose, cli.quiet);
    let sinks = edge::Sinks {
        json: cli.json,
        summary_file: summary_file.clone(),
        output_file: output_file.clone(),
        actions: false,
    };
    edge::run_cli(command, workspace(cli), options, env, &sinks)
}

fn workspace(cli: &Cli) -> PathBuf {
    cli.directory.clone().unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: Env = std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
        .collect();
    let status = match &cli.command {
        CliCommand::Action => edge::run_action(&env, cli.directory.clone(), || {
            init_logging(true, cli.verbose, cli.quiet)
        }),
        CliCommand::Checksum(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_checksum(args, cli.json)
        }
        CliCommand::Package(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_package(args, workspace(&cli), &env, cli.json)
        }
        CliCommand::Init(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_init(args, workspace(&cli))
        }
        CliCommand::History(args) | CliCommand::Status(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            let kind = match &cli.command {
                CliCommand::Status(_) => tamma_release::action::inputs::HistoryCommand::Status,
                _ => tamma_release::action::inputs::HistoryCommand::History,
            };
            let options = Options {
                config: args.config.clone(),
                ..credential_options(&args.credentials)
            };
            let sinks = edge::Sinks {
                json: cli.json,
                summary_file: args.summary_file.clone(),
                output_file: None,
                actions: false,
            };
            edge::run_history(kind, workspace(&cli), options, &env, &sinks, args.limit as usize)
        }
        CliCommand::Check(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_check(args, workspace(&cli), &env, cli.json)
        }
        CliCommand::Version(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_version(args, workspace(&cli), cli.json)
        }
        CliCommand::Changelog(args) => {
            init_logging(false, cli.verbose, cli.quiet);
            edge::run_changelog(args, workspace(&cli), &env, cli.json)
        }
        CliCommand::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                *shell,
                &mut cli::Cli::command(),
                "tamma-release",
                &mut std::io::stdout(),
            );
            ExitStatus::Ok
        }
        CliCommand::Config(ConfigCommand::Schema) => {
            print!("{}", Config::JSON_SCHEMA);
            ExitStatus::Ok
        }
        CliCommand::Release(args) => {
            let options = Options {
                dry_run: args.dry_run.then_some(true),
                stages: args.stages.clone(),
                partial: args.partial.clone(),
                merge: (!args.merge.is_empty()).then(|| args.merge.clone()),
                deploy_secret: args.deploy_secret.clone().and_then(Secret::new),
                signing_key: args.signing_key.clone().and_then(Secret::new),
                signing_passphrase: args.signing_passphrase.clone().and_then(Secret::new),
                ..credential_options(&args.credentials).or(common_options(&args.common))
            };
            run_cli(Command::Release, options, &args.common, &cli, &env)
        }
        CliCommand::Rollback(args) => {
            let options = Options {
                dry_run: args.dry_run.then_some(true),
                version: args.version.clone(),
                config: args.config.clone(),
                package: args.package.clone(),
                rollback: true,
                ..credential_options(&args.credentials)
            };
            run_with_sinks(
                Command::Rollback,
                options,
                (&args.summary_file, &args.output_file),
                &cli,
                &env,
            )
        }
        CliCommand::Validate(args) => run_cli(
            Command::Validate,
            common_options(&args.common),
            &args.common,
            &cli,
            &env,
        ),
        CliCommand::Plan(args) => run_cli(Command::Plan, common_options(&args.common), &args.common, &cli, &env),
    };
    ExitCode::from(status as u8)
}
