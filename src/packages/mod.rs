//! Why this exists: in independent mode (`[release] mode = "independent"`) each workspace package
//! an npm artifact publishes has its own version line — its own tags (`{name}@{version}`), its own
//! next version from the commits that touch its folder — and a run releases every package with
//! releasable changes plus the dependents that must follow them. This module answers, from the
//! repository alone, which packages a run releases and at which versions; the pipeline then
//! releases each one as a release of its own.

pub mod assemble;
pub mod rollback;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::config::{ArtifactKind, BumpLevel, Config, ReleaseMode};
use crate::error::{Error, Result};
use crate::plan::VersionSource;
use crate::plan::bump::{Bump, BumpKind};
use crate::plan::changelog::Rules;
use crate::plan::git::{GitRepo, ReleaseTag};
use crate::plan::next::{NextRequest, next_version};
use assemble::{Ask, Edge, Node};

/// One package released on its own version line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Its package name.
    pub name: String,
    /// Its folder, relative to the workspace (where the config's paths start).
    pub dir: PathBuf,
    /// Its folder in the repository's tree (the same unless the workspace is a folder of the
    /// repository): which commits touch it.
    pub tree_dir: PathBuf,
    /// Its tags are `<prefix><version>`.
    pub prefix: String,
    /// `version` in its package.json.
    pub manifest_version: Option<Version>,
    /// The index of its npm artifact in the config.
    pub artifact: usize,
}

/// One package a run releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRelease {
    /// The package.
    pub package: Package,
    /// The version released.
    pub version: Version,
    /// Its current release (`None` for its first).
    pub previous: Option<ReleaseTag>,
    /// The packages released in the same run that it follows.
    pub follows: Vec<String>,
}

/// What a run releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSet {
    /// The releases, in dependency order.
    pub releases: Vec<PackageRelease>,
    /// Every package's version in this run: the one released, else its current one.
    pub versions: BTreeMap<String, String>,
}

impl RunSet {
    /// The tags released together.
    pub fn tags(&self) -> Vec<String> {
        self.releases
            .iter()
            .map(|r| crate::plan::version::tag_for(&r.package.prefix, &r.version))
            .collect()
    }
}

/// Whether the config releases packages independently.
pub fn independent(config: &Config) -> bool {
    config.release.mode == ReleaseMode::Independent
}

/// The packages of independent mode: one per npm artifact, with its tag prefix.
pub fn packages(workspace: &Path, config: &Config) -> Result<Vec<Package>> {
    // Tree paths start at the repository's root, which the workspace may be a folder of.
    let within = GitRepo::discover(workspace)?
        .workdir()
        .and_then(|root| {
            let root = root.canonicalize().ok()?;
            let here = workspace.canonicalize().ok()?;
            here.strip_prefix(root).ok().map(Path::to_path_buf)
        })
        .unwrap_or_default();
    let mut out: Vec<Package> = Vec::new();
    for (index, artifact) in config.artifacts.iter().enumerate() {
        if artifact.kind != ArtifactKind::Npm {
            continue;
        }
        let path = artifact.path.as_deref().unwrap_or(".");
        let dir = normal(&crate::prepare::inside(workspace, path, "[[artifact]] path")?);
        let (_, manifest) = crate::build::npm_pack::read_manifest(&workspace.join(&dir))?;
        let name = crate::build::npm_pack::name_in(&manifest, &dir)?;
        let manifest_version = match manifest["version"].as_str() {
            Some(text) => Some(Version::parse(text).map_err(|e| {
                Error::input(
                    "package.json",
                    format!(
                        "{}: version {text:?} is not a semantic version ({e}); it is the package's first release",
                        dir.join("package.json").display()
                    ),
                )
            })?),
            None => None,
        };
        out.push(Package {
            prefix: crate::config::package_tag_prefix(config, &name),
            manifest_version,
            name,
            tree_dir: normal(&within.join(&dir)),
            dir,
            artifact: index,
        });
    }
    if let Some(unknown) = config
        .release
        .package_tags
        .keys()
        .find(|k| !out.iter().any(|p| &p.name == *k))
    {
        return Err(Error::input(
            "[release] package-tags",
            format!(
                "{unknown:?} is not a package any npm artifact publishes; the packages are {}",
                names(&out)
            ),
        ));
    }
    for a in &out {
        if let Some(b) = out.iter().find(|b| b.name != a.name && b.prefix.starts_with(&a.prefix)) {
            return Err(Error::input(
                "[release] package-tag",
                format!(
                    "the tags of {} ({}<version>) and {} ({}<version>) cannot be told apart; give each package a tag template of its own in release.package-tags",
                    a.name, a.prefix, b.name, b.prefix
                ),
            ));
        }
    }
    Ok(out)
}

/// `path` without `.` parts (`./packages/a` is `packages/a`, `.` is the root: empty).
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn names(packages: &[Package]) -> String {
    packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The package named `name`, or an error naming those there are.
pub fn find<'p>(packages: &'p [Package], name: &str) -> Result<&'p Package> {
    packages.iter().find(|p| p.name == name).ok_or_else(|| {
        Error::input(
            "package",
            format!(
                "{name:?} is not a package this config releases; they are {}",
                names(packages)
            ),
        )
    })
}

/// The package a tag belongs to, with its version.
pub fn of_tag<'p>(packages: &'p [Package], tag: &str) -> Option<(&'p Package, Version)> {
    packages
        .iter()
        .find_map(|p| crate::plan::version::release_version_of(tag, &p.prefix).map(|v| (p, v)))
}

/// What the run was asked for, beyond the packages it resumes.
pub struct SetRequest<'a> {
    /// Where the version comes from.
    pub source: &'a VersionSource,
    /// `--package`: only this package (and its dependents).
    pub only: Option<&'a str>,
}

/// Which packages a run releases, at which versions.
pub fn plan_set(workspace: &Path, config: &Config, request: &SetRequest<'_>) -> Result<RunSet> {
    let repo = crate::plan::open_repository(workspace)?;
    let head = repo.head_commit()?;
    let packages = packages(workspace, config)?;
    if let Some(only) = request.only {
        find(&packages, only)?;
    }
    let named = named_release(&packages, request)?;
    let initial = Version::parse(&config.release.initial_version).expect("checked when the config was loaded");
    let (bump, preid) = match request.source {
        VersionSource::Bump { bump, preid } => (*bump, preid.clone()),
        VersionSource::Configured { preid } => (
            Bump::parse("release.bump", config.release.bump.as_deref().unwrap_or("auto"))?,
            preid.clone(),
        ),
        _ => (Bump::Auto, None),
    };
    // The channel of the run: what dependents follow on (a beta of shared makes betas of them).
    let channel: Option<String> = match (&named, bump) {
        (Some((_, version)), _) => crate::plan::next::channel_of(version).map(str::to_string),
        (None, Bump::Channel(channel)) => Some(channel.to_string()),
        (None, _) => preid.clone().filter(|p| !p.is_empty()),
    };
    let context = Context {
        repo: &repo,
        head,
        request,
        named: named.as_ref(),
        rules: Rules::from_config(&config.commits),
        start: config.version.prerelease_start,
        bump,
        preid: preid.as_deref(),
    };
    let mut nodes = Vec::new();
    let mut asked: BTreeMap<String, Ask> = BTreeMap::new();
    let mut previous: BTreeMap<String, Option<ReleaseTag>> = BTreeMap::new();
    for package in &packages {
        // The version before this run: a tag at HEAD is this run's (pushed, or made by an earlier
        // attempt), so what it follows from is the release below it.
        let current = repo.highest_reachable(&package.prefix, head, |t| t.commit != head)?;
        let at_head = repo
            .release_tags(&package.prefix)?
            .into_iter()
            .find(|t| t.commit == head);
        let before = match (&current, &package.manifest_version) {
            (Some(tag), _) => tag.version.clone(),
            (None, Some(version)) => version.clone(),
            (None, None) => initial.clone(),
        };
        let ask = context.ask(package, current.as_ref(), at_head.as_ref(), &before)?;
        // A package released at HEAD that this run leaves alone (another --package) has that
        // version in this run.
        let version = match (&ask, &at_head) {
            (None, Some(tag)) => tag.version.clone(),
            _ => before,
        };
        if let Some(ask) = ask {
            asked.insert(package.name.clone(), ask);
        }
        nodes.push(Node {
            name: package.name.clone(),
            version,
            deps: edges(workspace, package, &packages)?,
        });
        previous.insert(package.name.clone(), current);
    }
    let next = |node: &Node, level: BumpLevel| -> Result<Version> {
        let package = packages
            .iter()
            .find(|p| p.name == node.name)
            .expect("nodes are packages");
        follow_version(&context, package, &node.version, level, channel.as_deref(), &initial)
    };
    let released = assemble::assemble(&nodes, &asked, config.release.dependents_bump, &next)?;
    let mut versions: BTreeMap<String, String> =
        nodes.iter().map(|n| (n.name.clone(), n.version.to_string())).collect();
    let mut releases = Vec::new();
    for release in released {
        versions.insert(release.name.clone(), release.to.to_string());
        let package = find(&packages, &release.name)?.clone();
        let previous = previous.remove(&release.name).flatten();
        releases.push(PackageRelease {
            // A first release follows nothing: it is new.
            follows: if previous.is_some() {
                release.because
            } else {
                Vec::new()
            },
            previous,
            package,
            version: release.to,
        });
    }
    if releases.is_empty() {
        return Err(Error::NothingToRelease(format!(
            "nothing to release: no package has a feat, fix, perf or breaking commit in its folder since its last release ({})",
            names(&packages)
        )));
    }
    Ok(RunSet { releases, versions })
}

/// The package and version a pushed tag or `--version` names, checked against `--package`.
fn named_release(packages: &[Package], request: &SetRequest<'_>) -> Result<Option<(String, Version)>> {
    match (request.source, request.only) {
        (VersionSource::PushedTag(tag), only) => {
            let Some((package, version)) = of_tag(packages, tag) else {
                return Err(Error::input(
                    "version",
                    format!(
                        "the pushed tag {tag:?} is not the tag of a package this config releases ({}): push `<package tag><version>`, e.g. {}",
                        names(packages),
                        crate::plan::version::tag_for(&packages[0].prefix, &Version::new(1, 0, 0))
                    ),
                ));
            };
            if let Some(only) = only.filter(|o| *o != package.name) {
                return Err(Error::input(
                    "package",
                    format!(
                        "the pushed tag {tag} is {}'s, but package is {only}; leave package empty on tag pushes",
                        package.name
                    ),
                ));
            }
            Ok(Some((package.name.clone(), version)))
        }
        (VersionSource::Explicit(version), Some(only)) => Ok(Some((only.to_string(), version.clone()))),
        (VersionSource::Explicit(_), None) => Err(Error::input(
            "version",
            "in independent mode every package has its own version: name the package the version is for with --package (input package)",
        )),
        (VersionSource::LatestRelease, _) => Err(Error::input(
            "version",
            "a release needs a version: pass --version X.Y.Z or --bump KIND",
        )),
        _ => Ok(None),
    }
}

/// What every package's question shares.
struct Context<'a> {
    repo: &'a GitRepo,
    head: gix::ObjectId,
    request: &'a SetRequest<'a>,
    named: Option<&'a (String, Version)>,
    rules: Rules,
    start: u64,
    bump: Bump,
    preid: Option<&'a str>,
}

impl Context<'_> {
    fn next(
        &self,
        package: &Package,
        bump: Bump,
        preid: Option<&str>,
        current: Option<Version>,
        initial: &Version,
    ) -> Result<Version> {
        next_version(
            self.repo,
            self.head,
            &NextRequest {
                bump,
                preid,
                current,
                initial,
                prefix: &package.prefix,
                rules: &self.rules,
                prerelease_start: self.start,
                path: Some(&package.tree_dir),
            },
        )
    }

    /// What the run asks of `package` before its dependents are considered: `None` when nothing.
    fn ask(
        &self,
        package: &Package,
        current: Option<&ReleaseTag>,
        at_head: Option<&ReleaseTag>,
        before: &Version,
    ) -> Result<Option<Ask>> {
        let mine = self.request.only.is_none_or(|only| only == package.name);
        let already = |asked: &str| {
            Error::input(
                "version",
                format!(
                    "HEAD is already released as {} ({asked} was asked); release from a new commit, or re-run without a version to finish that release",
                    at_head.map_or("", |t| t.name.as_str())
                ),
            )
        };
        if let Some((name, version)) = self.named {
            if *name == package.name {
                return match at_head {
                    // A tag push of HEAD, or a re-run of the version given.
                    Some(tag)
                        if tag.version != *version && !matches!(self.request.source, VersionSource::PushedTag(_)) =>
                    {
                        Err(already(&version.to_string()))
                    }
                    _ => Ok(Some(Ask::Exactly(version.clone()))),
                };
            }
            // The other packages: only those an earlier attempt released here, to finish them.
            return Ok(at_head
                .filter(|_| self.request.only.is_none())
                .map(|t| Ask::Exactly(t.version.clone())));
        }
        if !mine {
            return Ok(None);
        }
        // Released from this very commit already (an earlier attempt of this run): released again,
        // which checks or finishes it, so that what follows it is released too.
        if let Some(tag) = at_head {
            if self.request.only.is_some() && self.bump != Bump::Auto {
                let asked = match self.bump {
                    Bump::Kind(kind) => format!("bump {kind:?}").to_lowercase(),
                    Bump::Channel(channel) => format!("bump {channel}"),
                    Bump::Auto => "bump auto".to_string(),
                };
                return Err(already(&asked));
            }
            return Ok(Some(Ask::Exactly(tag.version.clone())));
        }
        let Some(current) = current else {
            // Its first release: the version its package.json says.
            return Ok(Some(Ask::Exactly(before.clone())));
        };
        // Only a package with commits of its own is asked: a stable run must not graduate a
        // package's beta that nothing changed (auto would promote it).
        let changed = self.request.only.is_some()
            || !self
                .repo
                .commits_touching(Some(current.commit), self.head, Some(&package.tree_dir))?
                .is_empty();
        if !changed {
            return Ok(None);
        }
        match self.next(package, self.bump, self.preid, None, before) {
            Ok(v) => Ok(Some(Ask::AtLeast(v))),
            Err(Error::NothingToRelease(_)) if self.request.only.is_none() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The version of a package that follows a release by `level`: a prerelease continues its own
/// channel (never promoted to stable by a dependency), a stable package becomes a prerelease
/// on the run's channel when the run makes prereleases.
fn follow_version(
    context: &Context<'_>,
    package: &Package,
    current: &Version,
    level: BumpLevel,
    channel: Option<&str>,
    initial: &Version,
) -> Result<Version> {
    let (kind, preid) = match (current.pre.is_empty(), channel) {
        (false, _) => (BumpKind::Prerelease, channel.or(crate::plan::next::channel_of(current))),
        (true, Some(channel)) => (
            match level {
                BumpLevel::Major => BumpKind::Premajor,
                BumpLevel::Minor => BumpKind::Preminor,
                _ => BumpKind::Prepatch,
            },
            Some(channel),
        ),
        (true, None) => (
            match level {
                BumpLevel::Major => BumpKind::Major,
                BumpLevel::Minor => BumpKind::Minor,
                _ => BumpKind::Patch,
            },
            None,
        ),
    };
    context.next(package, Bump::Kind(kind), preid, Some(current.clone()), initial)
}

/// The dependencies of `package` on the other packages.
fn edges(workspace: &Path, package: &Package, packages: &[Package]) -> Result<Vec<Edge>> {
    let members = crate::workspaces::Workspace::containing(workspace, &package.dir)?;
    let deps =
        crate::workspaces::published_dependencies(workspace, &package.dir, members.as_ref(), &|m| m.version.clone())?;
    Ok(deps
        .into_iter()
        .filter_map(|d| {
            let on = d.sibling.filter(|s| packages.iter().any(|p| &p.name == s))?;
            // `npm:name@range` → `range`; `workspace:` ranges stay as written.
            let range = match d.written.strip_prefix("npm:") {
                Some(alias) => alias.rsplit_once('@').map_or(alias, |(_, r)| r).to_string(),
                None => d.written,
            };
            Some(Edge {
                on,
                table: d.table,
                range,
            })
        })
        .collect())
}
