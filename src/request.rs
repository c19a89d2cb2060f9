//! Why this exists: the CLI and the Action edge must build the very same request, with one
//! precedence chain (CLI flag > action input > config file > default), so neither edge can drift
//! from the other. Edges fill [`Options`] layers; [`ReleaseRequest::resolve`] merges and checks them.

use std::path::PathBuf;

use crate::context::CiContext;
use crate::error::{Error, Result};
use crate::plan::VersionSource;
use crate::plan::bump::{Bump, check_preid};
use crate::plan::version::parse_version;

/// A stage of the `release` command, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Compute version, tag, notes, artifacts and targets. Always runs.
    Plan,
    /// Write the version into the files that carry it, and the changelog file.
    Prepare,
    /// Check the gates: tests, audits, benchmarks, docs.
    Validate,
    /// Build the artifacts into dist/ with their manifest and SHA256SUMS.
    Build,
    /// Stage a draft GitHub release and publish it.
    Publish,
}

impl Stage {
    /// Every stage, in running order.
    pub const ALL: [Stage; 5] = [
        Stage::Plan,
        Stage::Prepare,
        Stage::Validate,
        Stage::Build,
        Stage::Publish,
    ];

    /// The name used in `--stages` and the `stages` input.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Plan => "plan",
            Stage::Prepare => "prepare",
            Stage::Validate => "validate",
            Stage::Build => "build",
            Stage::Publish => "publish",
        }
    }

    /// Parses a comma- or space-separated list; `plan` is always included.
    pub fn parse_list(input_name: &str, text: &str) -> Result<Vec<Stage>> {
        let mut stages = vec![Stage::Plan];
        for word in text.split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()) {
            let stage = Stage::ALL.into_iter().find(|s| s.as_str() == word).ok_or_else(|| {
                Error::input(
                    input_name,
                    format!("unknown stage {word:?}; allowed: {}", Stage::names()),
                )
            })?;
            if !stages.contains(&stage) {
                stages.push(stage);
            }
        }
        stages.sort();
        Ok(stages)
    }

    fn names() -> String {
        Stage::ALL.map(Stage::as_str).join(", ")
    }
}

/// Options as one source (CLI flags or action inputs) gave them; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--dry-run` / `dry-run`.
    pub dry_run: Option<bool>,
    /// `--version` / `version`.
    pub version: Option<String>,
    /// `--bump` / `bump`.
    pub bump: Option<String>,
    /// `--preid` / `preid`.
    pub preid: Option<String>,
    /// `--config` / `config`.
    pub config: Option<PathBuf>,
    /// `--stages` / `stages`.
    pub stages: Option<String>,
    /// `--partial NAME`: build this matrix job's artifacts only.
    pub partial: Option<String>,
    /// `--merge DIR...`: merge partial manifests from these directories.
    pub merge: Option<Vec<PathBuf>>,
    /// `--github-token` / `GITHUB_TOKEN` / input `github-token`.
    pub github_token: Option<crate::secret::Secret>,
    /// `--npm-token` / `NPM_TOKEN` / input `npm-token`.
    pub npm_token: Option<crate::secret::Secret>,
    /// `--registry-username` / input `registry-username`.
    pub registry_username: Option<String>,
    /// `--registry-password` / `REGISTRY_PASSWORD` / input `registry-password`.
    pub registry_password: Option<crate::secret::Secret>,
    /// `--deploy-secret` / `DEPLOY_SECRET` / input `deploy-secret`.
    pub deploy_secret: Option<crate::secret::Secret>,
    /// `--signing-key` / `SIGNING_KEY` / input `signing-key`: an armored OpenPGP secret key.
    pub signing_key: Option<crate::secret::Secret>,
    /// `--signing-passphrase` / `SIGNING_PASSPHRASE` / input `signing-passphrase`.
    pub signing_passphrase: Option<crate::secret::Secret>,
    /// `--slack-webhook` / `SLACK_WEBHOOK` / input `slack-webhook`.
    pub slack_webhook: Option<crate::secret::Secret>,
    /// `--smtp-username` / `SMTP_USERNAME` / input `smtp-username`.
    pub smtp_username: Option<crate::secret::Secret>,
    /// `--smtp-password` / `SMTP_PASSWORD` / input `smtp-password`.
    pub smtp_password: Option<crate::secret::Secret>,
    /// The command is `rollback`: no version means the latest release, and bumps make no sense.
    pub rollback: bool,
    /// `--package` / `package`: in independent mode, the one package (and its dependents).
    pub package: Option<String>,
}

impl Options {
    /// Each field from `self` where given, else from `lower`.
    pub fn or(self, lower: Options) -> Options {
        Options {
            dry_run: self.dry_run.or(lower.dry_run),
            version: self.version.or(lower.version),
            bump: self.bump.or(lower.bump),
            preid: self.preid.or(lower.preid),
            config: self.config.or(lower.config),
            stages: self.stages.or(lower.stages),
            partial: self.partial.or(lower.partial),
            merge: self.merge.or(lower.merge),
            github_token: self.github_token.or(lower.github_token),
            npm_token: self.npm_token.or(lower.npm_token),
            registry_username: self.registry_username.or(lower.registry_username),
            registry_password: self.registry_password.or(lower.registry_password),
            deploy_secret: self.deploy_secret.or(lower.deploy_secret),
            signing_key: self.signing_key.or(lower.signing_key),
            signing_passphrase: self.signing_passphrase.or(lower.signing_passphrase),
            slack_webhook: self.slack_webhook.or(lower.slack_webhook),
            smtp_username: self.smtp_username.or(lower.smtp_username),
            smtp_password: self.smtp_password.or(lower.smtp_password),
            rollback: self.rollback || lower.rollback,
            package: self.package.or(lower.package),
        }
    }
}

/// A fully resolved request for `release` or `plan`.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    /// The repository root (or a directory in it).
    pub workspace: PathBuf,
    /// The config path the user named, if any.
    pub config_path: Option<PathBuf>,
    /// Walk the pipeline without writing anything anywhere.
    pub dry_run: bool,
    /// Where the version comes from.
    pub version: VersionSource,
    /// Which stages run.
    pub stages: Vec<Stage>,
    /// Where we run.
    pub ci: CiContext,
    /// `--partial NAME` / `--merge DIR...`.
    pub selection: crate::build::Selection,
    /// What the edge knows of the machine: SOURCE_DATE_EPOCH, DOCKER_HOST.
    pub machine: Machine,
    /// The token for GitHub, when one was given.
    pub github_token: Option<crate::secret::Secret>,
    /// The npm token.
    pub npm_token: Option<crate::secret::Secret>,
    /// Container registry credentials.
    pub registry: crate::targets::oci::Credentials,
    /// The key that signs deploy webhooks.
    pub deploy_secret: Option<crate::secret::Secret>,
    /// The key that signs SHA256SUMS, and its passphrase.
    pub signing_key: Option<crate::secret::Secret>,
    /// The signing key's passphrase.
    pub signing_passphrase: Option<crate::secret::Secret>,
    /// The Slack incoming webhook (a secret: its URL is the credential).
    pub slack_webhook: Option<crate::secret::Secret>,
    /// The SMTP server's user and password, for `[notify] email`.
    pub smtp: Option<(crate::secret::Secret, crate::secret::Secret)>,
    /// Independent mode: release only this package (and what follows it).
    pub package: Option<String>,
}

/// Facts about the machine the edge reads from the environment for the library.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// `SOURCE_DATE_EPOCH`, the time reproducible builds use.
    pub source_date_epoch: Option<i64>,
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// The whole environment, from which the commands a release runs get theirs (see
    /// [`crate::build::command::CommandEnv`]). Empty: commands run with no variables at all.
    pub environment: Vec<(String, String)>,
    /// The runner's OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`, present when
    /// the job has `permissions: id-token: write`): npm trusted publishing.
    pub oidc: Option<crate::targets::npm_oidc::OidcSource>,
    /// Hides secrets the library obtains (short-lived tokens) in the edge's output.
    pub masker: crate::targets::npm_oidc::Masker,
    /// The run is the container action, whose image holds nothing but tamma-release.
    pub container_action: bool,
}

impl Machine {
    /// Reads the two variables from an environment snapshot.
    pub fn from_env(env: &std::collections::BTreeMap<String, String>) -> Result<Machine> {
        let source_date_epoch = match env.get("SOURCE_DATE_EPOCH").map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                Error::input(
                    "SOURCE_DATE_EPOCH",
                    format!("{text:?} is not a number of seconds since 1970-01-01"),
                )
            })?),
            None => None,
        };
        let docker_host = env
            .get("DOCKER_HOST")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let value = |key: &str| env.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let oidc = match (
            value("ACTIONS_ID_TOKEN_REQUEST_URL"),
            value("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            (Some(url), Some(token)) => {
                crate::secret::Secret::new(token).map(|token| crate::targets::npm_oidc::OidcSource { url, token })
            }
            _ => None,
        };
        Ok(Machine {
            source_date_epoch,
            docker_host,
            environment: env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            oidc,
            masker: Default::default(),
            container_action: false,
        })
    }
}

impl ReleaseRequest {
    /// Merges the layers (already ordered by precedence into `options`) and checks every value.
    pub fn resolve(workspace: PathBuf, options: Options, ci: CiContext, machine: Machine) -> Result<ReleaseRequest> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (version, bump, preid) = (given(&options.version), given(&options.bump), given(&options.preid));
        if let Some(preid) = &preid {
            check_preid("preid", preid)?;
        }
        if options.rollback && (bump.is_some() || preid.is_some()) {
            return Err(Error::input(
                "bump",
                "rollback takes the version to roll back (default: the latest release), not a bump",
            ));
        }
        let version = match (version, bump, ci.pushed_tag()) {
            (Some(_), Some(_), _) => {
                return Err(Error::input("bump", "give either version or bump, not both"));
            }
            // A rollback also takes a whole tag (`@acme/api@1.2.0`, `cli-v1.2.0`): the package's.
            (Some(text), None, _) if options.rollback && is_tag(&text) => VersionSource::PushedTag(text),
            (Some(text), None, _) => VersionSource::Explicit(parse_version("version", &text)?),
            (None, Some(_), Some(tag)) => {
                return Err(Error::input(
                    "bump",
                    format!(
                        "this run was triggered by a push of tag {tag}, which is the version; leave bump empty on tag pushes"
                    ),
                ));
            }
            (None, Some(text), None) => VersionSource::Bump {
                bump: Bump::parse("bump", &text)?,
                preid,
            },
            (None, None, Some(tag)) => VersionSource::PushedTag(tag.to_string()),
            (None, None, None) if options.rollback => VersionSource::LatestRelease,
            (None, None, None) => VersionSource::Configured { preid: preid.clone() },
        };
        if given(&options.preid).is_some()
            && !matches!(version, VersionSource::Bump { .. } | VersionSource::Configured { .. })
        {
            return Err(Error::input(
                "preid",
                "preid chooses the prerelease channel of a bump; give it with bump (e.g. bump: auto, preid: beta)",
            ));
        }
        let stages = match options.stages.as_deref() {
            Some(text) if !text.trim().is_empty() => Stage::parse_list("stages", text)?,
            _ => Stage::ALL.to_vec(),
        };
        let selection = match (
            options.partial.filter(|p| !p.trim().is_empty()),
            options.merge.filter(|m| !m.is_empty()),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::input(
                    "--merge",
                    "a job either builds a --partial or merges partials, not both",
                ));
            }
            (Some(name), None) => crate::build::Selection::Partial(name),
            (None, Some(dirs)) => crate::build::Selection::Merge(dirs),
            (None, None) => crate::build::Selection::All,
        };
        Ok(ReleaseRequest {
            workspace,
            config_path: options.config,
            dry_run: options.dry_run.unwrap_or(false),
            version,
            stages,
            ci,
            selection,
            machine,
            github_token: options.github_token,
            npm_token: options.npm_token,
            registry: crate::targets::oci::Credentials {
                username: options.registry_username,
                password: options.registry_password,
                registry: None,
            },
            deploy_secret: options.deploy_secret,
            signing_key: options.signing_key,
            signing_passphrase: options.signing_passphrase,
            slack_webhook: options.slack_webhook,
            smtp: match (options.smtp_username, options.smtp_password) {
                (Some(user), Some(password)) => Some((user, password)),
                (None, None) => None,
                _ => {
                    return Err(Error::input(
                        "smtp-password",
                        "smtp-username and smtp-password go together (the mail server's login needs both); give both or neither",
                    ));
                }
            },
            package: given(&options.package),
        })
    }
}

/// Whether `text` is a tag with a prefix rather than a version: something, then a semver.
fn is_tag(text: &str) -> bool {
    semver::Version::parse(text.trim_start_matches('v')).is_err()
        && text
            .char_indices()
            .any(|(i, _)| i > 0 && semver::Version::parse(&text[i..]).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_push(tag: &str) -> CiContext {
        CiContext {
            git_ref: Some(format!("refs/tags/{tag}")),
            ..CiContext::default()
        }
    }

    #[test]
    fn cli_layer_wins_over_action_layer() {
        let cli = Options {
            dry_run: Some(true),
            ..Options::default()
        };
        let action = Options {
            dry_run: Some(false),
            version: Some("1.0.0".into()),
            ..Options::default()
        };
        let merged = cli.or(action);
        assert_eq!(merged.dry_run, Some(true));
        assert_eq!(merged.version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn pushed_tag_is_the_version_source() {
        let req =
            ReleaseRequest::resolve(".".into(), Options::default(), tag_push("v1.2.3"), Machine::default()).unwrap();
        assert_eq!(req.version, VersionSource::PushedTag("v1.2.3".into()));
        assert_eq!(req.stages, Stage::ALL.to_vec());
    }

    #[test]
    fn version_sources_are_exclusive() {
        let both = Options {
            version: Some("1.0.0".into()),
            bump: Some("minor".into()),
            ..Options::default()
        };
        assert!(ReleaseRequest::resolve(".".into(), both, CiContext::default(), Machine::default()).is_err());
        let bump_on_tag = Options {
            bump: Some("minor".into()),
            ..Options::default()
        };
        let err = ReleaseRequest::resolve(".".into(), bump_on_tag, tag_push("v1.0.0"), Machine::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("leave bump empty"), "{err}");
        let lone_preid = Options {
            version: Some("1.0.0".into()),
            preid: Some("beta".into()),
            ..Options::default()
        };
        assert!(ReleaseRequest::resolve(".".into(), lone_preid, CiContext::default(), Machine::default()).is_err());
        let bad_preid = Options {
            bump: Some("auto".into()),
            preid: Some("be ta".into()),
            ..Options::default()
        };
        let err = ReleaseRequest::resolve(".".into(), bad_preid, CiContext::default(), Machine::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"be ta\""), "{err}");
        let ok = Options {
            bump: Some("auto".into()),
            preid: Some("beta".into()),
            ..Options::default()
        };
        let req = ReleaseRequest::resolve(".".into(), ok, CiContext::default(), Machine::default()).unwrap();
        assert_eq!(
            req.version,
            VersionSource::Bump {
                bump: Bump::Auto,
                preid: Some("beta".into())
            }
        );
    }

    #[test]
    fn a_mail_login_needs_both_halves() {
        let options = Options {
            smtp_username: crate::secret::Secret::new("bot".to_string()),
            ..Options::default()
        };
        let err = ReleaseRequest::resolve(PathBuf::from("."), options, CiContext::default(), Machine::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("smtp-password: smtp-username and smtp-password go together"),
            "{err}"
        );
    }

    #[test]
    fn no_version_at_all_means_the_configured_bump() {
        let request =
            ReleaseRequest::resolve(".".into(), Options::default(), CiContext::default(), Machine::default()).unwrap();
        assert_eq!(request.version, VersionSource::Configured { preid: None });
        let beta = Options {
            preid: Some("beta".into()),
            ..Options::default()
        };
        let request = ReleaseRequest::resolve(".".into(), beta, CiContext::default(), Machine::default()).unwrap();
        assert_eq!(
            request.version,
            VersionSource::Configured {
                preid: Some("beta".into())
            }
        );
    }

    #[test]
    fn stages_are_checked_and_always_plan() {
        assert_eq!(
            Stage::parse_list("stages", "publish").unwrap(),
            vec![Stage::Plan, Stage::Publish]
        );
        assert_eq!(Stage::parse_list("stages", "plan").unwrap(), vec![Stage::Plan]);
        let err = Stage::parse_list("stages", "plan, deploy-moon")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "stages: unknown stage \"deploy-moon\"; allowed: plan, prepare, validate, build, publish"
        );
    }
}
