//! Why this exists: `tamma-release version` and `tamma-release changelog` answer one question
//! each from the same history and rules a release uses, so their answers always agree with what
//! `release` would do.

use std::collections::HashMap;
use std::path::PathBuf;

use semver::Version;

use crate::config::Config;
use crate::context::CiContext;
use crate::error::{Error, Result};
use crate::plan::bump::{Bump, check_preid};
use crate::plan::changelog::{Entry, Rules, Section};
use crate::plan::next::{NextRequest, next_version, next_without_history};
use crate::plan::version::parse_version;
use crate::plan::{open_repository, repository_url};

/// `tamma-release version`.
pub struct VersionQuery {
    /// The repository.
    pub workspace: PathBuf,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--current`.
    pub current: Option<String>,
    /// `--bump` (default: `[release] bump`, else `auto`).
    pub bump: Option<String>,
    /// `--preid`.
    pub preid: Option<String>,
    /// `--package`: in independent mode, the package whose version is asked for.
    pub package: Option<String>,
}

/// The next version.
pub fn next(query: &VersionQuery) -> Result<Version> {
    let (config, _) = Config::load(&query.workspace, query.config.as_deref())?;
    let bump = match &query.bump {
        Some(text) => Bump::parse("bump", text)?,
        None => Bump::parse("release.bump", config.release.bump.as_deref().unwrap_or("auto"))?,
    };
    let preid = query.preid.as_deref().filter(|p| !p.is_empty());
    if let Some(preid) = preid {
        check_preid("preid", preid)?;
    }
    let current = query
        .current
        .as_deref()
        .map(|c| parse_version("current", c))
        .transpose()?;
    let start = config.version.prerelease_start;
    if let (Some(current), true) = (&current, bump != Bump::Auto) {
        return next_without_history(current, bump, preid, start);
    }
    let line = package_line(&query.workspace, &config, query.package.as_deref())?;
    if let (Some(line), None) = (&line, &current) {
        // What a release would give the package: with auto, every package's commits count (it
        // may follow another); a bump kind applies to it alone.
        let source = crate::plan::VersionSource::Bump {
            bump,
            preid: preid.map(str::to_string),
        };
        let only = (bump != Bump::Auto).then_some(line.name.as_str());
        let set = crate::packages::plan_set(
            &query.workspace,
            &config,
            &crate::packages::SetRequest { source: &source, only },
        )?;
        return set
            .releases
            .into_iter()
            .find(|r| r.package.name == line.name)
            .map(|r| r.version)
            .ok_or_else(|| {
                Error::NothingToRelease(format!(
                    "nothing to release for {}: no feat, fix, perf or breaking commit in {} since its last release, and no package it depends on is released",
                    line.name,
                    line.dir.display()
                ))
            });
    }
    let repo = open_repository(&query.workspace)?;
    let head = repo.head_commit()?;
    let rules = Rules::from_config(&config.commits);
    let initial = Version::parse(&config.release.initial_version).expect("checked when the config was loaded");
    let request = NextRequest {
        bump,
        preid,
        current,
        initial: &initial,
        prefix: line.as_ref().map_or(&config.release.tag_prefix, |l| &l.prefix),
        rules: &rules,
        prerelease_start: start,
        path: line.as_ref().map(|l| l.tree_dir.as_path()),
    };
    next_version(&repo, head, &request)
}

/// In independent mode, the version line of the package asked for (`None` in fixed mode); an
/// error when it is missing, unknown, or given in fixed mode.
fn package_line(
    workspace: &std::path::Path,
    config: &Config,
    package: Option<&str>,
) -> Result<Option<crate::packages::Package>> {
    let independent = crate::packages::independent(config);
    match (package, independent) {
        (None, false) => Ok(None),
        (Some(_), false) => Err(Error::input(
            "package",
            "--package names one package of [release] mode = \"independent\"; this config releases everything on one version (mode \"fixed\")",
        )),
        (name, true) => {
            let packages = crate::packages::packages(workspace, config)?;
            let Some(name) = name else {
                return Err(Error::input(
                    "package",
                    format!(
                        "[release] mode is \"independent\", so every package has its own version and changelog: name one with --package ({})",
                        packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            crate::packages::find(&packages, name).cloned().map(Some)
        }
    }
}

/// Within each run of sections for one version core (`25.0.0-beta.11`, `25.0.0-alpha.7`,
/// `25.0.0-beta.10`), orders the sections by precedence, highest first; runs stay in time order.
fn order_channels(sections: &mut [Section]) {
    let core = |s: &Section| {
        s.version
            .as_deref()
            .and_then(|v| Version::parse(v).ok())
            .map(|v| (v.major, v.minor, v.patch))
    };
    let mut start = 0;
    while start < sections.len() {
        let key = core(&sections[start]);
        let mut end = start + 1;
        while end < sections.len() && key.is_some() && core(&sections[end]) == key {
            end += 1;
        }
        if end - start > 1 {
            // Each section keeps its own commits; only the order of the sections changes.
            sections[start..end].sort_by(|a, b| {
                let va = a.version.as_deref().and_then(|v| Version::parse(v).ok());
                let vb = b.version.as_deref().and_then(|v| Version::parse(v).ok());
                match (vb, va) {
                    (Some(b), Some(a)) => b.cmp_precedence(&a),
                    _ => std::cmp::Ordering::Equal,
                }
            });
        }
        start = end;
    }
}

/// `tamma-release changelog`.
pub struct ChangelogQuery {
    /// The repository.
    pub workspace: PathBuf,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--from`: exclusive start (default: the last release tag before `to`).
    pub from: Option<String>,
    /// `--to`: inclusive end (default `HEAD`).
    pub to: Option<String>,
    /// `--all`: every release in the history of `to`, one section each.
    pub all: bool,
    /// `--package`: in independent mode, the package whose changelog it is.
    pub package: Option<String>,
    /// Where we run (for links).
    pub ci: CiContext,
}

/// The answer: sections newest first, the rules to render them, and the link base.
pub struct ChangelogAnswer {
    /// Sections, newest first.
    pub sections: Vec<Section>,
    /// The rules from the config.
    pub rules: Rules,
    /// The repository's web URL, for links.
    pub repository_url: Option<String>,
}

/// Reads the changelog for a range or for the whole history.
pub fn changelog(query: &ChangelogQuery) -> Result<ChangelogAnswer> {
    let (config, _) = Config::load(&query.workspace, query.config.as_deref())?;
    let line = package_line(&query.workspace, &config, query.package.as_deref())?;
    let prefix = line
        .as_ref()
        .map_or(config.release.tag_prefix.as_str(), |l| l.prefix.as_str());
    let dir = line.as_ref().map(|l| l.tree_dir.as_path());
    let repo = open_repository(&query.workspace)?;
    let to = match &query.to {
        Some(spec) => repo.resolve("--to", spec)?,
        None => repo.head_commit()?,
    };
    let rules = Rules::from_config(&config.commits);
    let url = repository_url(&repo, &query.ci);
    let tags = repo.release_tags(prefix)?;
    // The highest release tag on each commit.
    let mut tag_at: HashMap<gix::ObjectId, &crate::plan::git::ReleaseTag> = HashMap::new();
    for tag in &tags {
        tag_at.entry(tag.commit).or_insert(tag);
    }
    if query.all {
        if query.from.is_some() {
            return Err(Error::input(
                "--from",
                "--all covers the whole history; drop --from or --all",
            ));
        }
        let mut sections: Vec<Section> = Vec::new();
        let mut current = Section {
            version: None,
            tag: None,
            previous_tag: None,
            time: None,
            commits: Vec::new(),
        };
        for commit in repo.history(to)? {
            let commit = commit?;
            let id = gix::ObjectId::from_hex(commit.id.as_bytes()).expect("git ids are hex");
            if let Some(tag) = tag_at.get(&id) {
                let next = Section {
                    version: Some(tag.version.to_string()),
                    tag: Some(tag.name.clone()),
                    previous_tag: None,
                    time: Some(commit.time),
                    commits: Vec::new(),
                };
                let done = std::mem::replace(&mut current, next);
                if done.version.is_some() || !done.commits.is_empty() {
                    sections.push(done);
                }
            }
            let touched = match dir {
                Some(dir) => repo.touches(id, dir)?,
                None => true,
            };
            if touched {
                current.commits.push(Entry::new(commit));
            }
        }
        sections.push(current);
        order_channels(&mut sections);
        // A stable release covers everything since the previous stable release: the commits of
        // the prereleases in between are listed again under it (as semantic-release's notes do).
        for i in 0..sections.len() {
            let Some(version) = sections[i].version.as_deref().and_then(|v| Version::parse(v).ok()) else {
                continue;
            };
            let mut j = i + 1;
            let mut older_previous = sections.get(j).and_then(|s| s.tag.clone());
            if version.pre.is_empty() {
                let mut carried = Vec::new();
                while let Some(older) = sections.get(j) {
                    let stable = older
                        .version
                        .as_deref()
                        .and_then(|v| Version::parse(v).ok())
                        .is_none_or(|v| v.pre.is_empty());
                    if stable {
                        break;
                    }
                    carried.extend(older.commits.iter().cloned());
                    j += 1;
                }
                older_previous = sections.get(j).and_then(|s| s.tag.clone());
                sections[i].commits.extend(carried);
            }
            sections[i].previous_tag = older_previous;
        }
        return Ok(ChangelogAnswer {
            sections,
            rules,
            repository_url: url,
        });
    }
    let at_tag = tag_at.get(&to).copied();
    let from = match &query.from {
        Some(spec) => Some((repo.resolve("--from", spec)?, Some(spec.clone()))),
        None => {
            // The same ranges as a release's notes: a stable release since the previous stable
            // one, a prerelease (or unreleased work) since the release made last before it.
            let below = match at_tag {
                Some(a) if a.version.pre.is_empty() => {
                    repo.highest_reachable(prefix, to, |t| t.version.pre.is_empty() && t.version < a.version)?
                }
                Some(a) => repo.nearest_release(prefix, to, |t| t.commit != a.commit)?,
                None => repo.nearest_release(prefix, to, |_| true)?,
            };
            below.map(|t| (t.commit, Some(t.name)))
        }
    };
    let commits = repo.commits_touching(from.as_ref().map(|f| f.0), to, dir)?;
    let section = Section {
        version: at_tag.map(|t| t.version.to_string()),
        tag: at_tag.map(|t| t.name.clone()),
        previous_tag: from.and_then(|f| f.1),
        time: match at_tag {
            Some(_) => Some(repo.commit(to)?.time),
            None => None,
        },
        commits: commits.into_iter().map(Entry::new).collect(),
    };
    Ok(ChangelogAnswer {
        sections: vec![section],
        rules,
        repository_url: url,
    })
}
