//! Why this exists: "what is live on each channel, which releases were rolled back, and when" is
//! spread over GitHub's release pages and every registry. The journals attached to the releases
//! already say which pointer each release moved and to what, so reading them back — and reading
//! each pointer now — answers it in one place, and shows a pointer someone moved by hand (drift).
//! It only reads.

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::request::ReleaseRequest;
use crate::targets::github::client::{ApiRelease, GitHubClient};
use crate::txn::journal::{JOURNAL_ASSET, Journal};
use crate::txn::pointer::{Pointer, PointerIo};

/// Where a release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseState {
    /// Visible, and not rolled back.
    Published,
    /// Never published (a run that stopped, or `draft = true`).
    Draft,
    /// Published, then rolled back (its release carries the rollback banner).
    RolledBack,
}

/// One release as the history shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReleaseRecord {
    /// Its tag.
    pub tag: String,
    /// Its version.
    pub version: String,
    /// `stable`, or the prerelease channel (`alpha`, `beta`, `rc`…).
    pub channel: String,
    /// Where it stands.
    pub state: ReleaseState,
    /// When it was published (a draft: created), RFC 3339.
    pub date: Option<String>,
    /// Its page.
    pub url: String,
    /// The workflow run that made it, when its journal says.
    pub run: Option<String>,
    /// The pointers its journal says it moved, as users name them.
    pub moved: Vec<String>,
    /// Why its journal was not used (missing, unreadable, or naming what this config does not
    /// release).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_problem: Option<String>,
}

/// One pointer a listed release moved: where it points now, and where the releases left it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PointerRecord {
    /// The pointer.
    pub pointer: Pointer,
    /// As users name it (`@acme/cli@latest`).
    pub name: String,
    /// Its value now (`None`: it does not exist).
    pub now: Option<String>,
    /// Its value as the last release that moved it and was not rolled back left it (or, when
    /// every one was rolled back, as it was before the first of them).
    pub expected: Option<String>,
    /// The release whose move `expected` comes from.
    pub set_by: String,
    /// `now` differs from `expected`: someone or something else moved it.
    pub drift: bool,
}

/// The answer of `history` and `status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct History {
    /// `owner/name`.
    pub repository: String,
    /// The releases, newest first.
    pub releases: Vec<ReleaseRecord>,
    /// Every pointer the listed releases moved.
    pub pointers: Vec<PointerRecord>,
}

impl History {
    /// The pointers that drifted.
    pub fn drifted(&self) -> Vec<&PointerRecord> {
        self.pointers.iter().filter(|p| p.drift).collect()
    }
}

/// One move of a pointer by a release, for working out where the releases left it.
struct Move {
    at: String,
    /// The release's place, oldest first: moves made in the same second keep release order.
    order: usize,
    tag: String,
    rolled_back: bool,
    before: Option<String>,
    after: String,
}

/// Reads the `limit` newest releases of this config's tags and where their pointers stand.
pub fn history(request: &ReleaseRequest, config: &Config, limit: usize) -> Result<History> {
    let Some((client, _)) = crate::targets::github::client_for(config, request)? else {
        return Err(Error::input(
            "github-token",
            "history reads the releases from GitHub: give a token (input github-token, or GITHUB_TOKEN) and GITHUB_REPOSITORY",
        ));
    };
    let lines = version_lines(request, config)?;
    let mut found: Vec<(ApiRelease, semver::Version, usize)> = client
        .releases()?
        .into_iter()
        .filter_map(|r| {
            lines.iter().enumerate().find_map(|(i, (prefix, _))| {
                crate::plan::version::release_version_of(&r.tag_name, prefix).map(|v| (r.clone(), v, i))
            })
        })
        .collect();
    // Newest first: by date, then by version.
    found.sort_by(|a, b| date_of(&b.0).cmp(&date_of(&a.0)).then_with(|| b.1.cmp(&a.1)));
    found.truncate(limit);
    let mut releases = Vec::new();
    let mut moves: Vec<(Pointer, Move)> = Vec::new();
    let count = found.len();
    for (index, (release, version, line)) in found.iter().enumerate() {
        let (prefix, scope) = &lines[*line];
        let state = match (release.draft, crate::txn::rollback::is_rolled_back(release)) {
            (true, _) => ReleaseState::Draft,
            (false, true) => ReleaseState::RolledBack,
            (false, false) => ReleaseState::Published,
        };
        let mut record = ReleaseRecord {
            tag: release.tag_name.clone(),
            version: version.to_string(),
            channel: match crate::targets::channel_for(version).as_str() {
                "latest" => "stable".to_string(),
                channel => channel.to_string(),
            },
            state,
            date: date_of(release),
            url: release.html_url.clone(),
            run: None,
            moved: Vec::new(),
            journal_problem: None,
        };
        match journal_of(&client, release, prefix, scope)? {
            Ok(journal) => {
                record.run = journal.run.clone().filter(|run| is_run_url(run));
                for step in journal.steps.iter().filter(|s| s.phase == "flip" && s.outcome.open()) {
                    let (Some(pointer), Some(after)) = (&step.pointer, &step.after) else {
                        continue;
                    };
                    if !record.moved.contains(&pointer.name()) {
                        record.moved.push(pointer.name());
                    }
                    moves.push((
                        pointer.clone(),
                        Move {
                            at: step.at.clone(),
                            order: count - index,
                            tag: release.tag_name.clone(),
                            rolled_back: state == ReleaseState::RolledBack,
                            before: step.before.clone(),
                            after: after.clone(),
                        },
                    ));
                }
            }
            Err(problem) if state != ReleaseState::Draft => record.journal_problem = Some(problem),
            Err(_) => {}
        }
        releases.push(record);
    }
    let pointers = pointer_states(request, config, &client, moves)?;
    Ok(History {
        repository: request.ci.repository.clone().unwrap_or_default(),
        releases,
        pointers,
    })
}

/// The tag prefixes this config releases under, each with the scope its journals must keep to:
/// one in fixed mode, one per package in independent mode.
fn version_lines(request: &ReleaseRequest, config: &Config) -> Result<Vec<(String, crate::txn::scope::Scope)>> {
    if !crate::packages::independent(config) {
        let scope = crate::txn::scope::Scope::from_config(&request.workspace, config)?;
        return Ok(vec![(config.release.tag_prefix.clone(), scope)]);
    }
    crate::packages::packages(&request.workspace, config)?
        .iter()
        .map(|package| {
            let narrowed = crate::packages::run::config_for(config, package);
            Ok((
                package.prefix.clone(),
                crate::txn::scope::Scope::from_config(&request.workspace, &narrowed)?,
            ))
        })
        .collect()
}

fn date_of(release: &ApiRelease) -> Option<String> {
    release.published_at.clone().or_else(|| release.created_at.clone())
}

/// The release's journal, once its scope is checked, or why it cannot be used, in words. A
/// failure to reach GitHub is an error: an answer without that journal could be wrong.
fn journal_of(
    client: &GitHubClient,
    release: &ApiRelease,
    prefix: &str,
    scope: &crate::txn::scope::Scope,
) -> Result<std::result::Result<Journal, String>> {
    let tag = &release.tag_name;
    let assets = client.assets(release.id)?;
    // A journal that cannot be read, or names what this config does not release, is not used.
    let journal = match crate::txn::rollback::checked_journal(client, release, &assets, prefix, scope)? {
        Some(Ok(journal)) => journal,
        Some(Err(refused)) => return Ok(Err(refused.to_string())),
        None => return Ok(Err(format!("no {JOURNAL_ASSET}: not released by tamma-release"))),
    };
    // A move must be to this release (its version, its tag), or the journal was edited.
    let foreign = journal.steps.iter().find(|step| match (&step.pointer, &step.after) {
        (Some(Pointer::NpmTag { .. }), Some(after)) => *after != journal.version,
        (Some(Pointer::GithubLatest), Some(after)) => after != tag,
        _ => false,
    });
    if let Some(step) = foreign {
        return Ok(Err(format!(
            "it says {} moved to {:?}, which is not this release; it may have been edited",
            step.pointer.as_ref().map(Pointer::name).unwrap_or_default(),
            step.after.as_deref().unwrap_or_default()
        )));
    }
    Ok(Ok(journal))
}

/// Whether a journal's `run` looks like the address of a workflow run (it is shown as a link).
fn is_run_url(run: &str) -> bool {
    run.starts_with("https://")
        && run.contains("/actions/runs/")
        && !run
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()[]<>|`\"'".contains(c))
}

/// Where `moves` (of one pointer, at least one) left it, and by which release: the last move
/// that stands; when every one was rolled back, the value before the first.
fn left_by(moves: &mut [Move]) -> (Option<String>, String) {
    moves.sort_by(|a, b| a.at.cmp(&b.at).then(a.order.cmp(&b.order)));
    match moves.iter().rev().find(|m| !m.rolled_back) {
        Some(last) => (Some(last.after.clone()), last.tag.clone()),
        None => (moves[0].before.clone(), moves[0].tag.clone()),
    }
}

/// Each pointer's value now and where the releases left it.
fn pointer_states(
    request: &ReleaseRequest,
    config: &Config,
    client: &GitHubClient,
    moves: Vec<(Pointer, Move)>,
) -> Result<Vec<PointerRecord>> {
    let (npm, oci) = crate::txn::shipment::pointer_targets(request, config)?;
    let io = PointerIo {
        npm: &npm,
        oci: &oci,
        github: Some(client),
    };
    let mut by_pointer: Vec<(Pointer, Vec<Move>)> = Vec::new();
    for (pointer, one) in moves {
        match by_pointer.iter_mut().find(|(p, _)| *p == pointer) {
            Some((_, list)) => list.push(one),
            None => by_pointer.push((pointer, vec![one])),
        }
    }
    let mut out = Vec::new();
    for (pointer, mut list) in by_pointer {
        let (expected, set_by) = left_by(&mut list);
        // Every move rolled back, the pointer new with the first, and the registry (or GitHub)
        // unable to take it away: where it points is the rollback's fallback, not drift.
        let unknowable = expected.is_none() && list.iter().all(|m| m.rolled_back) && !PointerIo::removable(&pointer);
        let now = io.read(&pointer)?;
        out.push(PointerRecord {
            name: pointer.name(),
            drift: now != expected && !unknowable,
            pointer,
            now,
            expected,
            set_by,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(at: &str, order: usize, tag: &str, rolled_back: bool, before: Option<&str>, after: &str) -> Move {
        Move {
            at: at.into(),
            order,
            tag: tag.into(),
            rolled_back,
            before: before.map(str::to_string),
            after: after.into(),
        }
    }

    #[test]
    fn a_pointer_is_where_the_last_standing_move_left_it() {
        let second = "2026-11-30T00:00:00Z";
        // Two releases in the same second, listed newest first: release order decides.
        let mut list = vec![
            moved(second, 2, "v1.1.0", false, Some("1.0.0"), "1.1.0"),
            moved(second, 1, "v1.0.0", false, None, "1.0.0"),
        ];
        assert_eq!(left_by(&mut list), (Some("1.1.0".into()), "v1.1.0".into()));
        // 1.1.0 rolled back: 1.0.0's move stands.
        list.iter_mut().find(|m| m.tag == "v1.1.0").unwrap().rolled_back = true;
        assert_eq!(left_by(&mut list), (Some("1.0.0".into()), "v1.0.0".into()));
        // Every move rolled back: the value before the first.
        let mut list = vec![moved(second, 1, "v2.0.0", true, Some("1.9.0"), "2.0.0")];
        assert_eq!(left_by(&mut list), (Some("1.9.0".into()), "v2.0.0".into()));
        // A later move wins over an earlier, whatever the release order.
        let mut list = vec![
            moved("2026-11-30T00:00:09Z", 1, "v1.0.1", false, Some("1.1.0"), "1.0.1"),
            moved("2026-11-30T00:00:05Z", 2, "v1.1.0", false, Some("1.0.0"), "1.1.0"),
        ];
        assert_eq!(left_by(&mut list).0.as_deref(), Some("1.0.1"));
    }
}
