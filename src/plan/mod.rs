//! Why this exists: the plan is the one pure description of a release (version, tag, notes,
//! artifacts, targets) that every later stage reads. It is versioned JSON so a plan written by one
//! job can be read by another, and so `tamma-release plan` shows exactly what `release` would do.

pub mod bump;
pub mod changelog;
pub mod commits;
pub mod git;
pub mod next;
pub mod notes;
pub mod query;
pub mod targets;
pub mod version;

use std::path::Path;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::context::CiContext;
use crate::error::{Error, Result};
use bump::Bump;
use changelog::Rules;
use git::GitRepo;
use next::{NextRequest, next_version};

/// The version of the plan's JSON shape. Bump it when a field changes meaning or is removed.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// What a release will do. Serialized as `release-plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReleasePlan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The version being released.
    pub version: String,
    /// The tag: `<tag-prefix><version>`.
    pub tag: String,
    /// The previous release's version, if any.
    pub previous_version: Option<String>,
    /// The previous release's tag, if any.
    pub previous_tag: Option<String>,
    /// Whether the version has a prerelease part.
    pub prerelease: bool,
    /// The commit being released (full hex).
    pub commit: String,
    /// Its committer time, seconds since the epoch (the default time inside archives).
    pub commit_time: i64,
    /// `owner/name`, when known.
    pub repository: Option<String>,
    /// This release's changelog section (Markdown).
    pub changelog: String,
    /// Release notes (Markdown): the changelog section and install instructions, or the template.
    pub notes: String,
    /// Everything the release ships.
    pub artifacts: Vec<PlannedArtifact>,
    /// Every place the release lands.
    pub targets: Vec<PlannedTarget>,
    /// Benchmark metrics measured for this release (the next release compares against them).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Independent mode: the workspace package this release is of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Independent mode: every workspace package's version in this run (the one it releases, else
    /// its current one), which `workspace:` ranges become when packed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub workspace_versions: std::collections::BTreeMap<String, String>,
    /// Independent mode: the tags released in the same run (this one included), in dependency
    /// order — what a rollback of any of them puts back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released_with: Vec<String>,
    /// Independent mode: the packages released in the same run that this one follows (it
    /// depends on them), empty when it is released for its own commits only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follows: Vec<String>,
}

/// Independent mode: the package a plan is of, and the run it is part of.
pub struct PackageScope<'a> {
    /// The package name.
    pub name: &'a str,
    /// Its folder, relative to the repository root: only commits that touch it are its notes.
    pub dir: &'a Path,
    /// Every package's version in the run.
    pub versions: &'a std::collections::BTreeMap<String, String>,
    /// The tags released in the run.
    pub released_with: &'a [String],
    /// The packages released in the run that it follows.
    pub follows: &'a [String],
}

/// One artifact in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedArtifact {
    /// The artifact's name.
    pub name: String,
    /// archive | file | npm | image | docs
    pub kind: String,
}

/// One place a release lands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTarget {
    /// A stable identifier, e.g. `github-release`.
    pub name: String,
    /// What happens there, in words.
    pub description: String,
}

/// Where the version comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// Given by `--version` or the `version` input.
    Explicit(Version),
    /// The tag that was pushed (tag-push mode); it must be `<prefix><semver>`.
    PushedTag(String),
    /// Computed from the current release by a bump.
    Bump {
        /// The bump.
        bump: Bump,
        /// The prerelease channel.
        preid: Option<String>,
    },
    /// The release GitHub marks as latest — what `rollback` without a version rolls back.
    LatestRelease,
    /// Nothing given: `[release] bump` of the config (default `auto`), on the channel `preid`.
    Configured {
        /// The prerelease channel.
        preid: Option<String>,
    },
}

/// Everything [`make_plan`] needs.
pub struct PlanInput<'a> {
    /// The repository root (or a directory inside it).
    pub workspace: &'a Path,
    /// The loaded config.
    pub config: &'a Config,
    /// Where the version comes from.
    pub source: VersionSource,
    /// Where we run.
    pub ci: &'a CiContext,
    /// The fingerprint of the key that signs `SHA256SUMS`, when the release signs it.
    pub signer: Option<&'a str>,
    /// Independent mode: the package released.
    pub package: Option<&'a PackageScope<'a>>,
}

/// Opens the repository for planning: refuses shallow clones, whose missing history would give
/// wrong versions and notes.
pub fn open_repository(workspace: &Path) -> Result<GitRepo> {
    let repo = GitRepo::discover(workspace)?;
    if repo.is_shallow()? {
        return Err(Error::Repository(
            "the repository is a shallow clone, so earlier release tags and commits are missing; \
             give actions/checkout `fetch-depth: 0` (locally: git fetch --unshallow --tags)"
                .to_string(),
        ));
    }
    Ok(repo)
}

/// The repository's web URL: from the CI context, else from the `origin` remote.
pub fn repository_url(repo: &GitRepo, ci: &CiContext) -> Option<String> {
    ci.repository_url().or_else(|| repo.origin_web_url())
}

/// Computes the plan. Reads the repository; writes nothing.
pub fn make_plan(input: &PlanInput<'_>) -> Result<ReleasePlan> {
    let config = input.config;
    let prefix = config.release.tag_prefix.as_str();
    let repo = open_repository(input.workspace)?;
    let head = repo.head_commit()?;
    let rules = Rules::from_config(&config.commits);
    let (version, tag) = match &input.source {
        VersionSource::Explicit(v) => {
            let tag = version::tag_for(prefix, v);
            if let Some(pushed) = input.ci.pushed_tag()
                && pushed != tag
            {
                return Err(Error::input(
                    "version",
                    format!(
                        "{v} was given, but this run was triggered by a push of tag {pushed}; leave version empty on tag pushes"
                    ),
                ));
            }
            (v.clone(), tag)
        }
        VersionSource::PushedTag(tag) => (version::version_from_tag(tag, prefix)?, tag.clone()),
        VersionSource::LatestRelease => {
            return Err(Error::input(
                "version",
                "a release needs a version: pass --version X.Y.Z or --bump KIND",
            ));
        }
        VersionSource::Bump { .. } | VersionSource::Configured { .. } => {
            let (bump, preid) = match &input.source {
                VersionSource::Bump { bump, preid } => (*bump, preid),
                VersionSource::Configured { preid } => (
                    crate::plan::bump::Bump::parse("release.bump", config.release.bump.as_deref().unwrap_or("auto"))?,
                    preid,
                ),
                _ => unreachable!("matched above"),
            };
            let initial = Version::parse(&config.release.initial_version).expect("checked when the config was loaded");
            let request = NextRequest {
                bump,
                preid: preid.as_deref(),
                current: None,
                initial: &initial,
                prefix,
                rules: &rules,
                prerelease_start: config.version.prerelease_start,
                path: None,
            };
            let v = next_version(&repo, head, &request)?;
            let tag = version::tag_for(prefix, &v);
            (v, tag)
        }
    };
    if config
        .artifacts
        .iter()
        .any(|a| a.kind == crate::config::ArtifactKind::Image)
        && !version::valid_image_tag(&version.to_string())
    {
        return Err(Error::input(
            "version",
            format!(
                "{version} cannot be an image tag (letters, digits and _ . - only, at most 128 characters: no +build metadata), and this release pushes images; release a version without it"
            ),
        ));
    }
    let existing = repo.release_tags(prefix)?;
    // Build metadata does not count for precedence (semver 2.0.0 §10): 1.0.0+build is 1.0.0.
    if let Some(same) = existing
        .iter()
        .find(|t| t.name != tag && t.version.cmp_precedence(&version).is_eq())
    {
        return Err(Error::input(
            "version",
            format!(
                "{version} is already released as {}: versions that differ only in build metadata (after +) are the same version; release a higher one",
                same.name
            ),
        ));
    }
    if let Some(found) = existing.iter().find(|t| t.name == tag)
        && found.commit != head
    {
        return Err(Error::input(
            "version",
            format!(
                "tag {tag} already exists at commit {} but HEAD is {head}; a release tag cannot move — release another version or check out {tag}",
                found.commit
            ),
        ));
    }
    // A version must be above the highest stable release and the highest release of its own
    // channel; another channel sorting higher (beta above alpha) does not block a prerelease.
    let channel = next::channel_of(&version).map(str::to_string);
    let prerelease = !version.pre.is_empty();
    let rival = repo.highest_reachable(prefix, head, |t| {
        t.name != tag && (!prerelease || t.version.pre.is_empty() || next::channel_of(&t.version) == channel.as_deref())
    })?;
    if let Some(rival) = &rival
        && rival.version.cmp_precedence(&version).is_ge()
    {
        return Err(Error::input(
            "version",
            format!(
                "{version} is not greater than {} ({}), the highest {} reachable from HEAD; release a higher version",
                rival.version,
                rival.name,
                if prerelease {
                    "stable or same-channel release"
                } else {
                    "release"
                }
            ),
        ));
    }
    // The notes of a stable release cover everything since the previous stable release (its
    // prereleases included); a prerelease's, everything since the previous release of any kind.
    let previous = if prerelease {
        repo.nearest_release(prefix, head, |t| t.name != tag)?
    } else {
        repo.highest_reachable(prefix, head, |t| t.name != tag && t.version.pre.is_empty())?
    };
    let commits = repo.commits_touching(previous.as_ref().map(|p| p.commit), head, input.package.map(|p| p.dir))?;
    let commit_time = repo.commit(head)?.time;
    let url = repository_url(&repo, input.ci);
    let section = changelog::Section {
        version: Some(version.to_string()),
        tag: Some(tag.clone()),
        previous_tag: previous.as_ref().map(|p| p.name.clone()),
        time: Some(commit_time),
        commits: commits.into_iter().map(changelog::Entry::new).collect(),
    };
    let mut changelog_md = changelog::markdown_section(&section, &rules, url.as_deref());
    if let Some(package) = input.package.filter(|p| !p.follows.is_empty()) {
        // A package released only because it follows others: its change is its dependencies.
        if let Some(stripped) = changelog_md.strip_suffix("\nNo user-facing changes.\n") {
            changelog_md = stripped.to_string();
        }
        changelog_md.push_str(&dependencies_section(package));
    }
    let version_text = version.to_string();
    let install = notes::install_section(
        input.workspace,
        &config.artifacts,
        &version_text,
        &tag,
        notes::Checks {
            signer: input.signer,
            attested_in: input.ci.repository.as_deref().filter(|_| config.release.attestations),
        },
    );
    let template = match &config.release.notes_template {
        Some(path) => {
            let full = input.workspace.join(path);
            let text = std::fs::read_to_string(&full).map_err(|source| Error::ReadFile {
                path: full.clone(),
                source,
            })?;
            Some((text, std::path::PathBuf::from(path)))
        }
        None => None,
    };
    let notes = notes::render(
        template.as_ref().map(|(t, p)| (t.as_str(), p.as_path())),
        &notes::NotesValues {
            changelog: &changelog_md,
            install: &install,
            version: &version_text,
            tag: &tag,
            previous_tag: previous.as_ref().map_or("", |p| p.name.as_str()),
            repository_url: url.as_deref().unwrap_or_default(),
        },
    )?;
    let artifacts = config
        .artifacts
        .iter()
        .map(|a| PlannedArtifact {
            // An npm package by its package name, as users know it.
            name: match (a.kind, a.path.as_deref()) {
                (crate::config::ArtifactKind::Npm, Some(path)) => {
                    crate::build::npm_pack::package_name(&input.workspace.join(path))
                        .unwrap_or_else(|_| a.display_name())
                }
                _ => a.display_name(),
            },
            kind: a.kind.as_str().to_string(),
        })
        .collect();
    let prerelease = !version.pre.is_empty();
    let targets = targets::planned(input.workspace, config, &version, &tag, input.ci.repository.as_deref());
    Ok(ReleasePlan {
        schema_version: PLAN_SCHEMA_VERSION,
        version: version_text,
        tag,
        previous_version: previous.as_ref().map(|p| p.version.to_string()),
        previous_tag: previous.map(|p| p.name),
        prerelease,
        commit: head.to_string(),
        commit_time,
        repository: input.ci.repository.clone(),
        changelog: changelog_md,
        notes,
        artifacts,
        targets,
        metrics: Default::default(),
        package: input.package.map(|p| p.name.to_string()),
        workspace_versions: input.package.map(|p| p.versions.clone()).unwrap_or_default(),
        released_with: input.package.map(|p| p.released_with.to_vec()).unwrap_or_default(),
        follows: input.package.map(|p| p.follows.to_vec()).unwrap_or_default(),
    })
}

/// The changelog lines of a package that follows packages released with it.
fn dependencies_section(package: &PackageScope<'_>) -> String {
    let mut out = String::from("\n### Dependencies\n\n");
    for name in package.follows {
        let version = package.versions.get(name).map_or("", String::as_str);
        out.push_str(&format!("- `{name}` is now {version}\n"));
    }
    out
}
