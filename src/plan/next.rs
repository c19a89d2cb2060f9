//! Why this exists: "what is the next version?" has one answer whichever way it is asked — a bump
//! kind, a prerelease channel, or `auto` from Conventional Commits — and `auto` must continue a
//! prerelease channel (`1.5.0-alpha.0` + fix → `1.5.0-alpha.1`) and restart it when a bigger change
//! lands (+ breaking → `2.0.0-alpha.0`), which no single `inc()` call can do. A channel continues
//! from its own highest tag even when another channel sorts higher (`alpha` after `beta.3`
//! continues `alpha.2` as `alpha.3`), and the answer is never a tag that exists.

use gix::ObjectId;
use semver::{Prerelease, Version};

use crate::config::BumpLevel;
use crate::error::{Error, Result};
use crate::plan::bump::{Bump, BumpKind, apply_from, inc_from};
use crate::plan::changelog::{Entry, Rules, level_of};
use crate::plan::git::{GitRepo, ReleaseTag};

/// What to compute the next version from.
pub struct NextRequest<'a> {
    /// The bump.
    pub bump: Bump,
    /// The prerelease channel (`--preid`), if any.
    pub preid: Option<&'a str>,
    /// Use this as the current version instead of the highest release tag.
    pub current: Option<Version>,
    /// The first release's version when there is no current one.
    pub initial: &'a Version,
    /// The tag prefix.
    pub prefix: &'a str,
    /// How commits bump.
    pub rules: &'a Rules,
    /// Where a new prerelease counter starts (`[version] prerelease-start`: 0 or 1).
    pub prerelease_start: u64,
    /// Only commits that change something in this folder count (a package of a monorepo).
    pub path: Option<&'a std::path::Path>,
}

/// The next version after the current release reachable from `head`.
pub fn next_version(repo: &GitRepo, head: ObjectId, request: &NextRequest<'_>) -> Result<Version> {
    let current_tag = repo.current_release(request.prefix, head)?;
    let current = match (&request.current, &current_tag) {
        (Some(v), _) => v.clone(),
        (None, Some(tag)) => tag.version.clone(),
        (None, None) => return first_release(request),
    };
    let candidate = match request.bump {
        Bump::Auto => {
            let since = entries(repo, current_tag.as_ref().map(|t| t.commit), head, request.path)?;
            auto(repo, head, request, &current, &since)?
        }
        bump => apply_from(&current, bump, request.preid, request.prerelease_start)?,
    };
    let existing: Vec<Version> = repo
        .release_tags(request.prefix)?
        .into_iter()
        .map(|t| t.version)
        .collect();
    continue_channel(candidate, &existing, request.prerelease_start)
}

/// The prerelease channel of a version: its first identifier (`alpha` of `1.0.0-alpha.3`); `None`
/// for a stable version or a numeric first identifier.
pub fn channel_of(version: &Version) -> Option<&str> {
    version
        .pre
        .as_str()
        .split('.')
        .next()
        .filter(|id| !id.is_empty() && !id.bytes().all(|b| b.is_ascii_digit()))
}

/// Moves a prerelease `candidate` past every existing release of its own channel and version
/// core (one more than the highest), and past any existing tag: a channel that sorts lower than
/// another (alpha below beta) continues from its own tags, and no answer is ever taken.
pub fn continue_channel(candidate: Version, existing: &[Version], start: u64) -> Result<Version> {
    if candidate.pre.is_empty() {
        return Ok(candidate);
    }
    let channel = channel_of(&candidate).map(str::to_string);
    let same_core = |v: &Version| (v.major, v.minor, v.patch) == (candidate.major, candidate.minor, candidate.patch);
    let highest = existing
        .iter()
        .filter(|v| same_core(v) && !v.pre.is_empty() && channel_of(v) == channel.as_deref())
        .max_by(|a, b| a.cmp_precedence(b));
    let mut next = match highest {
        Some(highest) if highest.cmp_precedence(&candidate).is_ge() => {
            inc_from(highest, BumpKind::Prerelease, channel.as_deref(), start)?
        }
        _ => candidate,
    };
    while existing.iter().any(|v| v.cmp_precedence(&next).is_eq()) {
        next = inc_from(&next, BumpKind::Prerelease, channel.as_deref(), start)?;
    }
    Ok(next)
}

/// The same computation without a repository, for `version --current X --bump KIND`.
pub fn next_without_history(current: &Version, bump: Bump, preid: Option<&str>, start: u64) -> Result<Version> {
    if bump == Bump::Auto {
        return Err(Error::input(
            "bump",
            "auto reads commits, so it needs a git repository; give another bump kind with --current",
        ));
    }
    apply_from(current, bump, preid, start)
}

fn channel(request: &NextRequest<'_>) -> Option<String> {
    match request.bump {
        Bump::Channel(c) => Some(c.to_string()),
        _ => request.preid.filter(|p| !p.is_empty()).map(str::to_string),
    }
}

fn first_release(request: &NextRequest<'_>) -> Result<Version> {
    let mut version = request.initial.clone();
    if let Some(preid) = channel(request) {
        version.pre = Prerelease::new(&format!("{preid}.{}", request.prerelease_start))
            .map_err(|e| Error::input("preid", format!("{preid:?}: {e}")))?;
    }
    Ok(version)
}

fn entries(
    repo: &GitRepo,
    from: Option<ObjectId>,
    head: ObjectId,
    path: Option<&std::path::Path>,
) -> Result<Vec<Entry>> {
    Ok(repo
        .commits_touching(from, head, path)?
        .into_iter()
        .map(Entry::new)
        .collect())
}

fn kind_for(level: BumpLevel, pre: bool) -> BumpKind {
    match (level, pre) {
        (BumpLevel::Major, false) => BumpKind::Major,
        (BumpLevel::Minor, false) => BumpKind::Minor,
        (_, false) => BumpKind::Patch,
        (BumpLevel::Major, true) => BumpKind::Premajor,
        (BumpLevel::Minor, true) => BumpKind::Preminor,
        (_, true) => BumpKind::Prepatch,
    }
}

fn nothing(current: &Version) -> Error {
    Error::NothingToRelease(format!(
        "nothing to release: no feat, fix, perf or breaking commit since {current} (Conventional Commits; see [commits] in the config)"
    ))
}

/// The bump a prerelease already implies over the stable release it follows.
fn implied(stable: &Version, pre: &Version) -> BumpLevel {
    if pre.major > stable.major {
        BumpLevel::Major
    } else if pre.minor > stable.minor {
        BumpLevel::Minor
    } else {
        BumpLevel::Patch
    }
}

fn auto(
    repo: &GitRepo,
    head: ObjectId,
    request: &NextRequest<'_>,
    current: &Version,
    since: &[Entry],
) -> Result<Version> {
    let preid = channel(request);
    let preid = preid.as_deref();
    let start = request.prerelease_start;
    let level_now = level_of(since, request.rules, current.major == 0);
    if current.pre.is_empty() {
        let level = level_now.ok_or_else(|| nothing(current))?;
        return inc_from(current, kind_for(level, preid.is_some()), preid, start);
    }
    let base = Version::new(current.major, current.minor, current.patch);
    let stable: Option<ReleaseTag> = repo.last_stable_release(request.prefix, head)?;
    let Some(stable) = stable else {
        // Only prereleases so far: continue the channel, or promote without one.
        return match preid {
            Some(id) => {
                level_now.ok_or_else(|| nothing(current))?;
                inc_from(current, BumpKind::Prerelease, Some(id), start)
            }
            None => Ok(base),
        };
    };
    let since_stable = entries(repo, Some(stable.commit), head, request.path)?;
    let level = level_of(&since_stable, request.rules, stable.version.major == 0)
        .unwrap_or(BumpLevel::Patch)
        .max(implied(&stable.version, current));
    let target = inc_from(&stable.version, kind_for(level, false), None, start)?;
    match preid {
        None => Ok(target),
        Some(id) if target == base => {
            let same_channel = current.pre.as_str().split('.').next() == Some(id);
            if same_channel && level_now.is_none() {
                return Err(nothing(current));
            }
            inc_from(current, BumpKind::Prerelease, Some(id), start)
        }
        Some(id) => inc_from(&stable.version, kind_for(level, true), Some(id), start),
    }
}
