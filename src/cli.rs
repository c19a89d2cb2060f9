//! Why this exists: the command line a newcomer meets. Flags fill the top layer of
//! [`tamma_release::request::Options`]; everything else is the library's.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Release a project end to end — version, notes, GitHub release — from a GitHub Action or your
/// terminal. Start with `tamma-release release --dry-run --version 0.1.0`: it needs no token and
/// no network.
#[derive(Debug, Parser)]
#[command(name = "tamma-release", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
    /// Run as if started in DIR (the repository to release).
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,
    /// Print the result as JSON on stdout (logs stay on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// More log detail on stderr (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the release pipeline: plan, then stage and publish the GitHub release.
    Release(ReleaseArgs),
    /// Print what a release would do (version, tag, previous version, notes, artifacts, targets);
    /// writes nothing.
    Plan(PlanArgs),
    /// Work with the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run as a GitHub Actions step: read inputs from INPUT_* variables and the event payload,
    /// write $GITHUB_OUTPUT and the job summary. This is what the container image runs.
    Action,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of .github/tamma-release.toml (for editors and validation).
    Schema,
}

/// Flags shared by `release` and `plan`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The version to release (semver without the tag prefix, e.g. 1.4.0 or 2.0.0-rc.1).
    /// On a tag push in Actions the pushed tag is the version.
    #[arg(long, value_name = "X.Y.Z")]
    pub version: Option<String>,
    /// Also write the Markdown summary to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_file: Option<PathBuf>,
    /// Also write the outputs to FILE in $GITHUB_OUTPUT format.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

/// `release` flags.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Walk the real pipeline and write nothing anywhere (no GitHub, registry or git writes).
    /// Needs no token and no network.
    #[arg(long)]
    pub dry_run: bool,
    /// Stages to run, comma-separated: plan, publish [default: all; plan always runs].
    #[arg(long, value_name = "LIST")]
    pub stages: Option<String>,
}

/// `plan` flags.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
