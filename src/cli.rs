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
    Release(Box<ReleaseArgs>),
    /// Print what a release would do (version, tag, previous version, notes, artifacts, targets);
    /// writes nothing.
    Plan(PlanArgs),
    /// Evaluate the validation gates ([validate]: tests, audits, benchmarks, docs) for a planned
    /// release; exit 3 when one fails. Writes nothing.
    Validate(PlanArgs),
    /// Roll a release back from its journal: npm dist-tags, image tags, GitHub's latest release
    /// and the docs branch go back to what they were before it; the release stays, marked a
    /// prerelease with a banner; its npm versions are deprecated. Running it again changes nothing.
    Rollback(Box<RollbackArgs>),
    /// The releases on GitHub, newest first — channel, state (published, draft, rolled back), date,
    /// the run that made each — and where every pointer they moved points now, flagging one moved
    /// outside a release (drift). Only reads.
    History(HistoryArgs),
    /// `history`, then exit 1 when a channel pointer drifted: for a scheduled monitoring workflow.
    Status(HistoryArgs),
    /// Look at the repository (package.json, pnpm-workspace.yaml, Cargo.toml, Dockerfile,
    /// book.toml, docs/) and write a commented .github/tamma-release.toml and the release and
    /// rollback workflows for what it found.
    Init(InitArgs),
    /// Check everything that can be known without building — the config, every artifact's files,
    /// the programs commands run, the history, the workflows' permissions and runners — and print
    /// one line per problem. Exit 2 when there is one. Writes nothing.
    Check(CheckArgs),
    /// Print the next version and nothing else (default bump: auto, from Conventional Commits).
    Version(VersionArgs),
    /// Print the changelog of a range (default: since the last release tag) or of every release.
    Changelog(ChangelogArgs),
    /// Write SHA-256 checksums of files in `sha256sum` format (verify with `sha256sum -c`).
    Checksum(ChecksumArgs),
    /// Pack files and directories into a byte-reproducible .tar.gz or .zip.
    Package(PackageArgs),
    /// Work with the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script: `tamma-release completions bash > ~/.local/share/bash-completion/completions/tamma-release`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
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
    #[arg(long, value_name = "X.Y.Z", conflicts_with = "bump")]
    pub version: Option<String>,
    /// Compute the version from the current release: major, minor, patch, premajor, preminor,
    /// prepatch, prerelease, release (as node-semver's inc()), alpha, beta, rc (that prerelease
    /// channel), or auto (from Conventional Commits since the current release).
    #[arg(long, value_name = "KIND")]
    pub bump: Option<String>,
    /// The prerelease channel for --bump, e.g. alpha, beta, rc.
    #[arg(long, value_name = "ID", requires = "bump")]
    pub preid: Option<String>,
    /// With `[release] mode = "independent"`: only this workspace package (by package name) and
    /// the packages that must follow it; --version is then its version.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
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
    /// Stages to run, comma-separated: plan, prepare, validate, build, publish [default: all;
    /// plan always runs].
    #[arg(long, value_name = "LIST")]
    pub stages: Option<String>,
    /// In a matrix job: build only the artifacts whose `platform` is NAME and write
    /// dist/partial-NAME.json (upload dist/ with actions/upload-artifact).
    #[arg(long, value_name = "NAME", conflicts_with = "merge")]
    pub partial: Option<String>,
    /// In the job after the matrix: merge the partial manifests found in these directories
    /// (downloaded with actions/download-artifact) and build the artifacts without a platform.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub merge: Vec<PathBuf>,
    /// Tokens and credentials.
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Key that signs the staging deploy webhook [env: DEPLOY_SECRET].
    #[arg(
        long,
        value_name = "SECRET",
        env = "DEPLOY_SECRET",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub deploy_secret: Option<String>,
    /// An ASCII-armored OpenPGP secret key: SHA256SUMS.asc is written with it [env: SIGNING_KEY].
    #[arg(
        long,
        value_name = "ARMORED KEY",
        env = "SIGNING_KEY",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub signing_key: Option<String>,
    /// The passphrase of the signing key [env: SIGNING_PASSPHRASE].
    #[arg(
        long,
        value_name = "PASSPHRASE",
        env = "SIGNING_PASSPHRASE",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub signing_passphrase: Option<String>,
}

/// The help heading of every flag that carries a secret: each is also read from its variable.
const SECRETS: &str = "Secrets (also read from the environment)";

/// The tokens `release` and `rollback` both take (from the environment by default).
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// Token for the GitHub API, with contents: write to publish or roll back [env: GITHUB_TOKEN].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GITHUB_TOKEN",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub github_token: Option<String>,
    /// Token for the npm registry: publish, move dist-tags, deprecate [env: NPM_TOKEN].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NPM_TOKEN",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub npm_token: Option<String>,
    /// User for the container registry [env: REGISTRY_USERNAME].
    #[arg(
        long,
        value_name = "USER",
        env = "REGISTRY_USERNAME",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub registry_username: Option<String>,
    /// Password or token for the container registry [env: REGISTRY_PASSWORD].
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "REGISTRY_PASSWORD",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub registry_password: Option<String>,
    /// A Slack incoming-webhook URL to notify [env: SLACK_WEBHOOK].
    #[arg(
        long,
        value_name = "URL",
        env = "SLACK_WEBHOOK",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub slack_webhook: Option<String>,
    /// User for the SMTP server of `[notify] email` [env: SMTP_USERNAME].
    #[arg(
        long,
        value_name = "USER",
        env = "SMTP_USERNAME",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub smtp_username: Option<String>,
    /// Password for the SMTP server of `[notify] email` [env: SMTP_PASSWORD].
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "SMTP_PASSWORD",
        hide_env = true,
        help_heading = SECRETS
    )]
    pub smtp_password: Option<String>,
}

/// `rollback` flags.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The version to roll back (without the tag prefix), or its whole tag [default: the highest
    /// stable release, so running it twice rolls back one release; prereleases need their
    /// version].
    #[arg(long, value_name = "X.Y.Z")]
    pub version: Option<String>,
    /// With `[release] mode = "independent"`: the package whose --version is rolled back; every
    /// package released in the same run is rolled back with it.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Only read, and print exactly what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Also write the Markdown summary to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_file: Option<PathBuf>,
    /// Also write the outputs to FILE in $GITHUB_OUTPUT format.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Tokens and credentials.
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// `history` and `status` flags.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many releases to list, newest first (their journals say which pointers to read).
    #[arg(long, value_name = "N", default_value_t = crate::edge::HISTORY_LIMIT, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Also write the Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_file: Option<PathBuf>,
    /// Tokens and credentials.
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// `checksum` flags.
#[derive(Debug, Args)]
pub struct ChecksumArgs {
    /// Files to hash (hashed in parallel, streamed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "SHA256SUMS")]
    pub output: Option<PathBuf>,
}

/// `package` flags.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The archive to write: NAME.tar.gz, NAME.tgz or NAME.zip.
    #[arg(long, short, value_name = "OUT")]
    pub output: PathBuf,
    /// Remove this prefix from names inside the archive.
    #[arg(long, value_name = "PREFIX")]
    pub strip_prefix: Option<String>,
    /// Files, directories or globs, relative to the repository root (or the working directory
    /// outside a repository).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// `init` flags.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// Print the files instead of writing them.
    #[arg(long)]
    pub dry_run: bool,
}

/// `check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// `version` flags.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Take X as the current version instead of the highest release tag reachable from HEAD.
    #[arg(long, value_name = "X.Y.Z")]
    pub current: Option<String>,
    /// major, minor, patch, premajor, preminor, prepatch, prerelease, release, alpha, beta, rc, auto.
    #[arg(long, value_name = "KIND", default_value = "auto")]
    pub bump: String,
    /// The prerelease channel, e.g. alpha, beta, rc.
    #[arg(long, value_name = "ID")]
    pub preid: Option<String>,
    /// With `[release] mode = "independent"`: the package whose next version is printed (what a
    /// release would give it, following the packages it depends on).
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Output formats of `changelog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChangelogFormat {
    /// Markdown, as in release notes.
    Markdown,
    /// Every commit with its parsed fields, sha, author and pull requests.
    Json,
}

/// `changelog` flags.
#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// Start after this revision (a tag, branch or sha) [default: the last release tag before --to].
    #[arg(long, value_name = "REF")]
    pub from: Option<String>,
    /// End at this revision [default: HEAD].
    #[arg(long, value_name = "REF")]
    pub to: Option<String>,
    /// Every release in the history, one section each, newest first.
    #[arg(long, conflicts_with = "from")]
    pub all: bool,
    /// With `[release] mode = "independent"`: the package whose changelog it is (its tags, and
    /// only the commits that touch its folder).
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ChangelogFormat::Markdown)]
    pub format: ChangelogFormat,
    /// Config file, relative to the repository [default: .github/tamma-release.toml, optional].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
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
