//! Why this exists: the config file is the user's contract with the tool, so it is parsed strictly
//! (a typo is an error that names the key, its line and what is allowed) and described by a JSON
//! Schema that editors and `tamma-release config schema` can use.
//!
//! Precedence is applied by [`crate::request`]: CLI flag > action input > this file > default.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FileLocation, Result};

mod artifact;
mod deploy;
mod independent;
mod validate;

pub use artifact::{ArtifactConfig, ArtifactKind, RESERVED_NAMES, asset_name_problem, github_keeps_name};
pub use deploy::{DeployConfig, DocsDeploy, EmailConfig, NotifyConfig, SmokeCheck, StagingDeploy};
pub use independent::{DEFAULT_PACKAGE_TAG, package_tag_prefix};
pub use validate::{AuditFormat, AuditGate, BenchGate, DocsGate, IgnoredAdvisory, MetricLimit, ValidateConfig};

/// Where the config is looked for when no path is given.
pub const DEFAULT_CONFIG_PATH: &str = ".github/tamma-release.toml";

/// The whole config file. No file at all is valid and means [`Config::default`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(
    title = "tamma-release configuration",
    description = "The file .github/tamma-release.toml"
)]
pub struct Config {
    /// The JSON Schema this file follows, for editors (taplo, Even Better TOML); ignored by
    /// tamma-release. Or write `#:schema <url>` as the first line.
    #[serde(default, rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// How releases are named and published.
    #[serde(default)]
    pub release: ReleaseConfig,
    /// How commit messages bump the version and group the changelog.
    #[serde(default)]
    pub commits: CommitsConfig,
    /// Files that carry the version, rewritten before anything is built.
    #[serde(default)]
    pub version: VersionConfig,
    /// Gates a release must pass before anything is staged.
    #[serde(default)]
    pub validate: ValidateConfig,
    /// Where a release is deployed after its pointers move.
    #[serde(default)]
    pub deploy: DeployConfig,
    /// Who hears about a release.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// How GitHub is talked to.
    #[serde(default)]
    pub github: GitHubConfig,
    /// The npm registry.
    #[serde(default)]
    pub npm: NpmConfig,
    /// Container registries.
    #[serde(default)]
    pub image: ImageConfig,
    /// One entry per thing a release ships.
    #[serde(default, rename = "artifact", skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactConfig>,
}

/// `[npm]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NpmConfig {
    /// The registry packages are published to [default: https://registry.npmjs.org]; a package's
    /// `publishConfig.registry` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

/// `[image]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageConfig {
    /// The tags a release gives each image: `{version}` (always: the release is staged under it)
    /// and version-line tags `{major}` and `{major}.{minor}` (with any fixed text around them, e.g.
    /// `v{major}`), which only a stable release that is the highest of its line moves — never a
    /// prerelease, and `{major}` not for 0.x — recorded in the journal and rolled back like
    /// `latest` [default: ["{version}"]].
    #[serde(default = "default_image_tags")]
    pub tags: Vec<String>,
    /// Registries (host or host:port) reached over plain HTTP although not on a loopback address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insecure_registries: Vec<String>,
    /// The registry (host or host:port, e.g. `ghcr.io` or `docker.io`) that registry-username and
    /// registry-password log in to [default: the registry of the image artifacts, when they are
    /// all on one]. Other registries never receive them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

fn default_image_tags() -> Vec<String> {
    vec!["{version}".to_string()]
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            tags: default_image_tags(),
            insecure_registries: Vec::new(),
            registry: None,
        }
    }
}

/// `[github]`: pacing and retries of API calls (the defaults follow GitHub's guidance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GitHubConfig {
    /// Minimum time between two write requests: `1s` (default), `500ms`... `0s` turns pacing off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_interval: Option<String>,
    /// Wait after a rate-limit answer without `retry-after` [default: 60s].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_wait: Option<String>,
    /// First wait before retrying a failed request; doubled each time [default: 1s].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_wait: Option<String>,
}

/// What a commit type does to the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BumpLevel {
    /// No release by itself.
    None,
    /// x.y.Z
    Patch,
    /// x.Y.0
    Minor,
    /// X.0.0
    Major,
}

/// `[commits.types.<type>]`: overrides or adds a Conventional Commits type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommitType {
    /// What a commit of this type bumps: none | patch | minor | major.
    pub bump: BumpLevel,
    /// The changelog heading for this type; empty leaves such commits out of the changelog.
    #[serde(default)]
    pub section: String,
}

/// `[commits]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommitsConfig {
    /// What a breaking change bumps while the major version is 0: minor (the default, as Cargo
    /// and the semver spec treat 0.x) or major.
    #[serde(default = "default_breaking_before_1")]
    pub breaking_before_1: BumpLevel,
    /// The changelog heading for commits that are not Conventional Commits; empty hides them.
    #[serde(default = "default_other_section")]
    pub other: String,
    /// Types added to or overriding the defaults (feat, fix, perf, revert, docs, refactor, and
    /// build/chore/ci/style/test which bump nothing and stay out of the changelog).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub types: std::collections::BTreeMap<String, CommitType>,
    /// Types read as another: misspellings and synonyms. Added to the defaults doc → docs,
    /// feature/features → feat, bugfix/hotfix/fixes → fix, tests → test, refactoring → refactor;
    /// map a default to itself to turn it off.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub aliases: std::collections::BTreeMap<String, String>,
}

impl Default for CommitsConfig {
    fn default() -> Self {
        CommitsConfig {
            breaking_before_1: default_breaking_before_1(),
            other: default_other_section(),
            types: Default::default(),
            aliases: Default::default(),
        }
    }
}

fn default_breaking_before_1() -> BumpLevel {
    BumpLevel::Minor
}

fn default_other_section() -> String {
    "Other".to_string()
}

/// `[version]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionConfig {
    /// Files whose version is rewritten: `package.json` (with its workspaces), `Cargo.toml`
    /// (with its workspace members and Cargo.lock), or `{ path, pattern }` for any text file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<VersionFile>,
    /// Prepend the release's changelog section to this file (e.g. `CHANGELOG.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog: Option<String>,
    /// Where a new prerelease counter starts: 0 (`1.2.4-beta.0`, node-semver's default) or 1
    /// (`1.2.4-beta.1`, semantic-release's). Used by the channel bumps, `auto` and the pre* kinds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prerelease_start: u64,
    /// Commit the prepare stage's edits (version files, changelog) to the release branch through
    /// the GitHub API — made by the token's identity, so GitHub shows `GITHUB_TOKEN` commits
    /// verified — and tag that commit. Without it the edits live only in the runner's checkout.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commit: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One entry of `[version] files`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum VersionFile {
    /// A manifest path: `package.json` or `Cargo.toml` (by file name).
    Manifest(String),
    /// Any text file: the first capture group of `pattern` (a regex) is replaced by the version.
    Pattern {
        /// The file, relative to the repository root.
        path: String,
        /// A regular expression with one capture group around the version (Rust `regex` syntax:
        /// `\d`, `\w`, `\s` and `(?i)` work; Unicode classes such as `\p{L}` are not built in).
        pattern: String,
    },
}

/// `[release]`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    /// Tags are `<tag-prefix><semver>`, e.g. `v1.2.3` or `cli-v1.2.3`. May be empty. (A prefix
    /// does not make a monorepo package's own version line: see `mode = "independent"`.)
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
    /// Leave the GitHub release as a draft instead of publishing it.
    #[serde(default)]
    pub draft: bool,
    /// The version of the first release, when no release tag exists yet.
    #[serde(default = "default_initial_version")]
    pub initial_version: String,
    /// A Markdown file whose `{{ changelog }}`, `{{ install }}`, `{{ version }}`, `{{ tag }}`,
    /// `{{ previous_tag }}` and `{{ repository_url }}` are filled in to make the release notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes_template: Option<String>,
    /// How long a run waits for another run's release lock (`refs/tamma-release/lock`) before it
    /// gives up, e.g. "10m" (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_wait: Option<String>,
    /// After how long a lock is taken to be left behind by a run that died and is taken over, e.g.
    /// "1h" (the default). A re-run of the same workflow run takes its earlier attempt's lock at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_stale: Option<String>,
    /// Tags that float to the newest release of their line, e.g. ["v{major}"] for GitHub Actions
    /// (`uses: owner/repo@v1`) or ["v{major}", "v{major}.{minor}"]. Moved like every pointer —
    /// recorded in the journal, put back by a rollback — and never by a prerelease, nor by a
    /// release below the highest of its line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub floating_tags: Vec<String>,
    /// For a container action: the image (without tag) this release pushes, e.g.
    /// "ghcr.io/acme/action". The floating tags then point at a commit on top of the release whose
    /// action.yml runs `docker://<image>@<digest>`, so users of the action pull the prebuilt image
    /// instead of building the Dockerfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_image: Option<String>,
    /// How `release`, `plan`, `validate` and `version` compute the version when neither a version
    /// nor a bump is given (and no tag was pushed): a bump kind [default: auto].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bump: Option<String>,
    /// Variables the build, test and deploy commands receive although the release withholds them:
    /// by default commands get the environment without the action's `INPUT_*` and without
    /// GITHUB_TOKEN, GH_TOKEN, NPM_TOKEN, REGISTRY_PASSWORD, DEPLOY_SECRET, SLACK_WEBHOOK, SMTP_USERNAME, SMTP_PASSWORD, SIGNING_KEY,
    /// SIGNING_PASSPHRASE and the
    /// runner's ACTIONS_ID_TOKEN_REQUEST_* / ACTIONS_RUNTIME_TOKEN. E.g. ["NPM_TOKEN"].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pass_env: Vec<String>,
    /// The workflow attests this release's downloads and images with GitHub artifact attestations
    /// (actions/attest-build-provenance; see the provenance recipe): the notes and the job summary
    /// then tell users how to check them with `gh attestation verify`.
    #[serde(default)]
    pub attestations: bool,
    /// `fixed` (the default): every artifact shares one version and one tag. `independent`: each
    /// workspace package an npm artifact publishes is released on its own version and tag, from
    /// the commits that touch its folder; its dependents follow (see `dependents-bump`).
    #[serde(default)]
    pub mode: ReleaseMode,
    /// In independent mode, each package's tag: `{name}` is the package name, `{version}` ends it
    /// [default: "{name}@{version}", as changesets tags].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_tag: Option<String>,
    /// In independent mode, a package's own tag template instead of `package-tag`, by package
    /// name, e.g. { "@acme/cli" = "cli-v{version}" }.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub package_tags: std::collections::BTreeMap<String, String>,
    /// In independent mode, the least a package is bumped when a package it depends on is
    /// released (by `workspace:`, or by a range the new version leaves): patch (the default, as
    /// changesets), minor or major.
    #[serde(default = "default_dependents_bump")]
    pub dependents_bump: BumpLevel,
}

/// `[release] mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseMode {
    /// One version and one tag for everything the release ships.
    #[default]
    Fixed,
    /// One version and one tag per workspace package.
    Independent,
}

fn default_dependents_bump() -> BumpLevel {
    BumpLevel::Patch
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            tag_prefix: default_tag_prefix(),
            draft: false,
            initial_version: default_initial_version(),
            notes_template: None,
            lock_wait: None,
            lock_stale: None,
            floating_tags: Vec::new(),
            action_image: None,
            bump: None,
            pass_env: Vec::new(),
            attestations: false,
            mode: ReleaseMode::Fixed,
            package_tag: None,
            package_tags: Default::default(),
            dependents_bump: default_dependents_bump(),
        }
    }
}

fn default_initial_version() -> String {
    "0.1.0".to_string()
}

fn default_tag_prefix() -> String {
    "v".to_string()
}

impl Config {
    /// Loads the config. `explicit` is the path the user named (flag or input); without one the
    /// default path is tried and a missing file means the defaults.
    pub fn load(workspace: &Path, explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>)> {
        let (path, must_exist) = match explicit {
            Some(p) => (workspace.join(p), true),
            None => (workspace.join(DEFAULT_CONFIG_PATH), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok((Config::default(), None));
            }
            Err(source) => return Err(Error::ReadFile { path, source }),
        };
        let shown = explicit
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
        let config = Config::parse(&text, &shown)?;
        Ok((config, Some(path)))
    }

    /// Parses config text; `shown_path` names the file in errors.
    pub fn parse(text: &str, shown_path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            Error::Config {
                location: FileLocation::at(text, offset, shown_path),
                message: e.message().trim_end().to_string(),
            }
        })?;
        config.check(text, shown_path)?;
        Ok(config)
    }

    /// Checks that serde cannot express: allowed characters, unique names.
    fn check(&self, text: &str, shown_path: &Path) -> Result<()> {
        let at_key = |key: &str, message: String| Error::Config {
            location: FileLocation::at(text, find_key(text, key), shown_path),
            message,
        };
        let prefix = &self.release.tag_prefix;
        if let Some(bad) = bad_tag_char(prefix, "") {
            return Err(at_key(
                "tag-prefix",
                format!("release.tag-prefix {prefix:?} contains {bad:?}; allowed are letters, digits and - _ . /"),
            ));
        }
        if let Some(bump) = &self.release.bump
            && let Err(e) = crate::plan::bump::Bump::parse("release.bump", bump)
        {
            return Err(at_key("bump", e.to_string()));
        }
        if self.version.prerelease_start > 1 {
            return Err(at_key(
                "prerelease-start",
                format!(
                    "version.prerelease-start is {}; it is 0 (1.2.4-beta.0, as node-semver) or 1 (1.2.4-beta.1, as semantic-release)",
                    self.version.prerelease_start
                ),
            ));
        }
        if let Err(e) = semver::Version::parse(&self.release.initial_version) {
            return Err(at_key(
                "initial-version",
                format!(
                    "release.initial-version {:?} is not a semantic version ({e}); e.g. 0.1.0 or 1.0.0",
                    self.release.initial_version
                ),
            ));
        }
        if !self.image.tags.iter().any(|t| t == "{version}") {
            return Err(at_key(
                "tags",
                "image.tags must list \"{version}\": the image is staged under its version before any other tag moves"
                    .into(),
            ));
        }
        for template in self.image.tags.iter().filter(|t| *t != "{version}") {
            let filled = template.replace("{major}", "1").replace("{minor}", "2");
            if !template.contains("{major}")
                || !crate::plan::version::valid_image_tag(&filled)
                || filled.contains(['{', '}'])
            {
                return Err(at_key(
                    "tags",
                    format!(
                        "image.tags {template:?} must name {{major}} (and may name {{minor}}) and otherwise use letters, digits and _ . -; e.g. \"{{major}}\", \"{{major}}.{{minor}}\""
                    ),
                ));
            }
        }
        for template in &self.release.floating_tags {
            let filled = template.replace("{major}", "1").replace("{minor}", "2");
            if !template.contains("{major}")
                || filled.contains(['{', '}'])
                || !filled.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(at_key(
                    "floating-tags",
                    format!(
                        "release.floating-tags {template:?} must name {{major}} (and may name {{minor}}) and otherwise use letters, digits and - _ .; e.g. \"v{{major}}\""
                    ),
                ));
            }
        }
        if let Some(image) = &self.release.action_image {
            if self.release.floating_tags.is_empty() {
                return Err(at_key(
                    "action-image",
                    "release.action-image rewrites action.yml on the commit the floating tags point at; set release.floating-tags too, e.g. [\"v{major}\"]".into(),
                ));
            }
            let pushed = self
                .artifacts
                .iter()
                .any(|a| a.image.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(image)));
            if !pushed {
                return Err(at_key(
                    "action-image",
                    format!("release.action-image {image:?} is not the image of any [[artifact]] kind = \"image\""),
                ));
            }
        }
        for file in &self.version.files {
            if let VersionFile::Pattern { pattern, .. } = file {
                match regex::Regex::new(pattern) {
                    Ok(re) if re.captures_len() == 2 => {}
                    Ok(_) => {
                        return Err(at_key(
                            "pattern",
                            format!(
                                "version.files pattern {pattern:?} must have exactly one capture group around the version"
                            ),
                        ));
                    }
                    Err(e) => {
                        return Err(at_key(
                            "pattern",
                            format!("version.files pattern {pattern:?} is not a regular expression: {e}"),
                        ));
                    }
                }
            }
        }
        let durations = [
            ("github.write-interval", "write-interval", &self.github.write_interval),
            (
                "github.rate-limit-wait",
                "rate-limit-wait",
                &self.github.rate_limit_wait,
            ),
            ("github.retry-wait", "retry-wait", &self.github.retry_wait),
            ("release.lock-wait", "lock-wait", &self.release.lock_wait),
            ("release.lock-stale", "lock-stale", &self.release.lock_stale),
        ];
        for (name, key, value) in durations {
            if let Some(text) = value
                && let Err(e) = crate::build::command::parse_duration(name, text)
            {
                return Err(at_key(key, e.to_string()));
            }
        }
        for (index, artifact) in self.artifacts.iter().enumerate() {
            if let Some(timeout) = &artifact.timeout
                && let Err(e) = crate::build::command::parse_duration(
                    &format!("artifact {:?} timeout", artifact.display_name()),
                    timeout,
                )
            {
                return Err(Error::Config {
                    location: FileLocation::at(text, artifact_key_offset(text, index, "timeout"), shown_path),
                    message: e.to_string(),
                });
            }
        }
        let mut urls: Vec<(&str, &str)> = self.notify.webhooks.iter().map(|u| ("webhooks", u.as_str())).collect();
        if let Some(staging) = &self.deploy.staging {
            urls.extend(staging.webhook.as_deref().map(|u| ("webhook", u)));
            urls.extend(staging.url.as_deref().map(|u| ("url", u)));
            urls.extend(staging.smoke.as_ref().map(|s| ("smoke", s.url.as_str())));
            if let Some(smoke) = &staging.smoke
                && let Err(e) = crate::build::command::parse_duration("deploy.staging.smoke.timeout", &smoke.timeout)
            {
                return Err(at_key("timeout", e.to_string()));
            }
        }
        urls.extend(self.npm.registry.as_deref().map(|u| ("registry", u)));
        if let Some((key, url, problem)) = urls
            .iter()
            .find_map(|(key, url)| crate::http::url_problem(url).map(|problem| (key, url, problem)))
        {
            // Only the origin: a webhook's path is often its secret (the error points at the line).
            return Err(at_key(key, format!("{:?} {problem}", crate::http::shown_origin(url))));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, artifact) in self.artifacts.iter().enumerate() {
            let at_artifact = |key: &str, message: String| Error::Config {
                location: FileLocation::at(text, artifact_key_offset(text, index, key), shown_path),
                message,
            };
            if let Some(label) = &artifact.name
                && label.chars().any(char::is_control)
            {
                return Err(at_artifact(
                    "name",
                    format!("artifact name {label:?} contains a control character"),
                ));
            }
            if let Some(asset) = artifact.asset_name()
                && let Some(problem) = asset_name_problem(&asset)
            {
                let key = if artifact.name.is_some() { "name" } else { "path" };
                let hint = if artifact.name.is_none() {
                    "; give the artifact a `name`"
                } else {
                    ""
                };
                return Err(at_artifact(
                    key,
                    format!("the {} artifact name {asset:?} {problem}{hint}", artifact.kind.as_str()),
                ));
            }
            let name = artifact.display_name();
            if !seen.insert(name.clone()) {
                return Err(at_artifact(
                    "name",
                    format!("two artifacts are named {name:?}; artifact names must be unique"),
                ));
            }
        }
        if let Some(email) = &self.notify.email
            && let Err((key, message)) = crate::targets::email::check(email)
        {
            return Err(at_key(key, message));
        }
        independent::check(self).map_err(|(key, message)| at_key(key, message))
    }

    /// The JSON Schema `config schema` prints: the committed file, which the `generated` test
    /// keeps equal to [`Config::json_schema`]. Printing the file instead of deriving the schema at
    /// run time keeps the schema generator out of the image.
    pub const JSON_SCHEMA: &str = include_str!("../../schema/tamma-release.schema.json");

    /// The JSON Schema of the config file, derived from these types; committed in
    /// `schema/tamma-release.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Config);
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
        text.push('\n');
        text
    }
}

/// The first character of `text` that a tag prefix may not hold: letters, digits and `- _ . /`
/// are allowed, and the characters in `also`.
fn bad_tag_char(text: &str, also: &str) -> Option<char> {
    text.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(*c) || also.contains(*c)))
}

/// The offset of `key`'s value in the `index`-th `[[artifact]]` (the table itself when the key is
/// absent; 0 when the text cannot be read that way), so errors point at the line.
fn artifact_key_offset(text: &str, index: usize, key: &str) -> usize {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return 0;
    };
    let span = match document.as_table().get("artifact") {
        Some(toml_edit::Item::ArrayOfTables(tables)) => tables
            .get(index)
            .and_then(|table| table.get(key).and_then(toml_edit::Item::span).or_else(|| table.span())),
        Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) => array.get(index).and_then(|value| {
            value
                .as_inline_table()
                .and_then(|table| table.get(key))
                .and_then(toml_edit::Value::span)
                .or_else(|| value.span())
        }),
        _ => None,
    };
    span.map_or(0, |s| s.start)
}

/// The offset of the first occurrence of `needle` (for checks after parsing; 0 when absent).
fn find_key(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("c.toml"))
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.release.tag_prefix, "v");
        assert!(!config.release.draft);
    }

    #[test]
    fn unknown_key_names_key_line_and_allowed() {
        let err = parse("[release]\ndraft = true\ntag-prefx = \"v\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("c.toml:3:1: "), "{text}");
        assert!(text.contains("unknown field `tag-prefx`"), "{text}");
        assert!(text.contains("`tag-prefix`") && text.contains("`draft`"), "{text}");
        assert_eq!(err.location().unwrap().line, 3);
    }

    #[test]
    fn bad_kind_lists_the_kinds() {
        let err = parse("[[artifact]]\nname = \"x\"\nkind = \"tarball\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.toml:3:"), "{err}");
        for kind in ["archive", "file", "npm", "image", "docs"] {
            assert!(err.contains(kind), "{err}");
        }
    }

    #[test]
    fn malformed_toml_is_located() {
        let err = parse("[release\n").unwrap_err();
        assert_eq!(err.location().unwrap().line, 1);
    }

    #[test]
    fn duplicate_artifact_names_are_refused() {
        let text = "[[artifact]]\nname = \"a.tar.gz\"\nkind = \"archive\"\n\n[[artifact]]\nname = \"a.tar.gz\"\nkind = \"file\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("unique"), "{err}");
    }

    #[test]
    fn artifact_names_are_one_legal_file_name() {
        for (name, why) in [
            ("../../x.tar.gz", "contains a /"),
            ("/tmp/x.tar.gz", "contains a /"),
            ("../.git/hooks/post-checkout", "contains a /"),
            ("a\\\\b.zip", "contains a /"),
            ("..", "starts with a dot"),
            (".hidden.tar.gz", "starts with a dot"),
            ("tab\there.zip", "control character"),
            ("my tool.zip", "renamed by GitHub"),
            ("SHA256SUMS", "reserved"),
            ("release-journal.json", "reserved"),
            ("release-plan.json", "reserved"),
            ("partial-linux.json", "reserved"),
        ] {
            let text = format!(
                "[release]\ndraft = false\n\n[[artifact]]\nkind = \"file\"\npath = \"README.md\"\nname = {}\n",
                toml::Value::String(name.into())
            );
            let err = parse(&text).unwrap_err();
            let shown = err.to_string();
            assert!(shown.starts_with("c.toml:7:8: "), "{name:?}: {shown}");
            assert!(shown.contains(why), "{name:?}: {shown}");
        }
        let err = parse("[[artifact]]\nkind = \"file\"\npath = \"conf/.env\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:3:8:") && err.contains("give the artifact a `name`"),
            "{err}"
        );
        let err = parse("artifact = [{ kind = \"archive\", name = \"../x.zip\", files = [\"a\"] }]\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:1:40:"), "{err}");
        assert!(parse("[[artifact]]\nkind = \"npm\"\npath = \"pkg\"\nname = \"@acme/cli\"\n").is_ok());
        let text = "[[artifact]]\nname = \"a.tar.gz\"\nkind = \"archive\"\n\n[[artifact]]\nname = \"a.tar.gz\"\nkind = \"file\"\n";
        assert!(parse(text).unwrap_err().to_string().starts_with("c.toml:6:8:"));
    }

    #[test]
    fn durations_are_checked_when_loaded() {
        let err = parse("[github]\nretry-wait = \"18446744073709551615s\"\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("c.toml:2:1: github.retry-wait:") && text.contains("168h"),
            "{text}"
        );
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        let err = parse("[release]\nlock-wait = \"soon\"\n").unwrap_err().to_string();
        assert!(
            err.starts_with("c.toml:2:1:") && err.contains("not a duration"),
            "{err}"
        );
        let err = parse("[[artifact]]\nkind = \"file\"\npath = \"a\"\ntimeout = \"9999999999h\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:4:11:"), "{err}");
        assert!(parse("[github]\nwrite-interval = \"0s\"\nretry-wait = \"500ms\"\n").is_ok());
    }

    #[test]
    fn tag_prefix_with_space_is_refused() {
        let err = parse("[release]\ntag-prefix = \"my v\"\n").unwrap_err().to_string();
        assert!(err.contains("c.toml:2:1") && err.contains("allowed"), "{err}");
    }

    #[test]
    fn commit_types_and_version_files() {
        let config = parse("[commits]\nbreaking-before-1 = \"major\"\nother = \"\"\n[commits.types.deps]\nbump = \"patch\"\nsection = \"Dependencies\"\n[version]\nfiles = [\"package.json\", { path = \"src/v.h\", pattern = 'VERSION \"(.*)\"' }]\nchangelog = \"CHANGELOG.md\"\n").unwrap();
        assert_eq!(config.commits.breaking_before_1, BumpLevel::Major);
        assert_eq!(config.commits.types["deps"].bump, BumpLevel::Patch);
        assert_eq!(config.version.files.len(), 2);
        let err = parse("[commits.types.deps]\nbump = \"huge\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("huge") && err.contains("minor"), "{err}");
        let err = parse("[version]\nfiles = [{ path = \"x\", pattern = \"no group\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one capture group"), "{err}");
        let err = parse("[release]\ninitial-version = \"1.0\"\n").unwrap_err().to_string();
        assert!(
            err.contains("c.toml:2:1") && err.contains("not a semantic version"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_located() {
        let err = parse("[release]\ndraft = \"yes\"\n").unwrap_err();
        assert_eq!(err.location().unwrap().line, 2);
    }
}
