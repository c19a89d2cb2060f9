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
    /// Its folder, relative to the repository root.
    pub dir: PathBuf,
    /// Its tags are `<prefix><version>`.
    pub prefix: String,
    /// `version` in its package.json.
    pub manifest_version: Option<String>,
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
    let mut out: Vec<Package> = Vec::new();
    for (index, artifact) in config.artifacts.iter().enumerate() {
        if artifact.kind != ArtifactKind::Npm {
            continue;
        }
        let path = artifact.path.as_deref().unwrap_or(".");
        let dir = crate::prepare::inside(workspace, path, "[[artifact]] path")?;
        let manifest = workspace.join(&dir).join("package.json");
        let name = crate::build::npm_pack::package_name(&workspace.join(&dir))?;
        let text = std::fs::read_to_string(&manifest).map_err(|source| Error::ReadFile {
            path: manifest.clone(),
            source,
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input("package.json", format!("{} is not valid JSON: {e}", manifest.display())))?;
        out.push(Package {
            prefix: crate::config::package_tag_prefix(config, &name),
            manifest_version: value["version"].as_str().map(str::to_string),
            name,
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
    let rules = Rules::from_config(&config.commits);
    let initial = Version::parse(&config.release.initial_version).expect("checked when the config was loaded");
    let (bump, preid) = match request.source {
        VersionSource::Bump { bump, preid } => (*bump, preid.as_deref()),
        VersionSource::Configured { preid } => (
            Bump::parse("release.bump", config.release.bump.as_deref().unwrap_or("auto"))?,
            preid.as_deref(),
        ),
        _ => (Bump::Auto, None),
    };
    let start = config.version.prerelease_start;
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
        let version = match (&current, &package.manifest_version) {
            (Some(tag), _) => tag.version.clone(),
            (None, Some(text)) => Version::parse(text).unwrap_or_else(|_| initial.clone()),
            (None, None) => initial.clone(),
        };
        let ask = ask_for(
            &repo,
            head,
            package,
            (current.as_ref(), at_head.as_ref()),
            &version,
            request,
            &rules,
            start,
            (bump, preid),
        )?;
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
        let kind = match (level, preid.is_some()) {
            (BumpLevel::Major, false) => BumpKind::Major,
            (BumpLevel::Minor, false) => BumpKind::Minor,
            (_, false) => BumpKind::Patch,
            (BumpLevel::Major, true) => BumpKind::Premajor,
            (BumpLevel::Minor, true) => BumpKind::Preminor,
            (_, true) => BumpKind::Prepatch,
        };
        // A prerelease dependent continues its channel rather than starting a new core.
        let kind = match (kind, node.version.pre.is_empty()) {
            (BumpKind::Prepatch, false) => BumpKind::Prerelease,
            (kind, _) => kind,
        };
        next_version(
            &repo,
            head,
            &NextRequest {
                bump: Bump::Kind(kind),
                preid,
                current: Some(node.version.clone()),
                initial: &initial,
                prefix: &package.prefix,
                rules: &rules,
                prerelease_start: start,
                path: Some(&package.dir),
            },
        )
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

/// What the run asks of one package before its dependents are considered: `None` when nothing.
#[allow(clippy::too_many_arguments)]
fn ask_for(
    repo: &GitRepo,
    head: gix::ObjectId,
    package: &Package,
    (current, at_head): (Option<&ReleaseTag>, Option<&ReleaseTag>),
    version: &Version,
    request: &SetRequest<'_>,
    rules: &Rules,
    start: u64,
    (bump, preid): (Bump, Option<&str>),
) -> Result<Option<Ask>> {
    // Released from this very commit already (an earlier attempt of this run): released again,
    // which checks or finishes it, so that what follows it is released too.
    if let Some(tag) = at_head
        && request.only.is_none_or(|only| only == package.name)
    {
        return Ok(Some(Ask::Exactly(tag.version.clone())));
    }
    let mine = request.only.is_none_or(|only| only == package.name);
    match request.source {
        VersionSource::PushedTag(tag) => {
            Ok(crate::plan::version::release_version_of(tag, &package.prefix).map(Ask::Exactly))
        }
        VersionSource::Explicit(v) => match request.only {
            Some(only) if only == package.name => Ok(Some(Ask::Exactly(v.clone()))),
            Some(_) => Ok(None),
            None => Err(Error::input(
                "version",
                "in independent mode every package has its own version: name the package the version is for with --package (input package)",
            )),
        },
        VersionSource::LatestRelease => Err(Error::input(
            "version",
            "a release needs a version: pass --version X.Y.Z or --bump KIND",
        )),
        _ if !mine => Ok(None),
        _ if current.is_none() => {
            // Its first release: the version its package.json says.
            Ok(Some(Ask::Exactly(version.clone())))
        }
        _ => {
            let changed = bump == Bump::Auto
                || request.only.is_some()
                || !repo
                    .commits_touching(current.map(|t| t.commit), head, Some(&package.dir))?
                    .is_empty();
            if !changed {
                return Ok(None);
            }
            let initial = version.clone();
            let computed = next_version(
                repo,
                head,
                &NextRequest {
                    bump,
                    preid,
                    current: None,
                    initial: &initial,
                    prefix: &package.prefix,
                    rules,
                    prerelease_start: start,
                    path: Some(&package.dir),
                },
            );
            match computed {
                Ok(v) => Ok(Some(Ask::AtLeast(v))),
                Err(Error::NothingToRelease(_)) if request.only.is_none() => Ok(None),
                Err(e) => Err(e),
            }
        }
    }
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
