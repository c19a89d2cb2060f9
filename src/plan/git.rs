//! Why this exists: a release needs to know which commit it ships, which release came before it
//! and what changed in between. We read the repository through gitoxide rather than the git CLI so
//! the container image needs no git binary, and because gitoxide opens a repository owned by
//! another user (the Actions workspace inside a container) with reduced trust instead of failing
//! with git's "dubious ownership".

use std::collections::{HashMap, HashSet};
use std::path::Path;

use gix::ObjectId;
use semver::Version;

use crate::error::{Error, Result};
use crate::plan::version::release_version_of;

/// A repository opened for reading history.
pub struct GitRepo {
    repo: gix::Repository,
}

/// A release tag: `<prefix><semver>` pointing (possibly through a tag object) at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    /// The tag name without `refs/tags/`.
    pub name: String,
    /// The version it names.
    pub version: Version,
    /// The commit it points at.
    pub commit: ObjectId,
}

/// One commit of the history being released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// The first line of the message.
    pub summary: String,
}

fn repo_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Repository(format!("{context}: {e}"))
}

impl GitRepo {
    /// Finds the repository containing `dir`.
    pub fn discover(dir: &Path) -> Result<GitRepo> {
        let repo = gix::discover(dir).map_err(|e| {
            Error::Repository(format!(
                "{} is not inside a git repository ({e}); run tamma-release in a git checkout (in Actions: add an actions/checkout step with fetch-depth: 0 before it)",
                dir.display()
            ))
        })?;
        Ok(GitRepo { repo })
    }

    /// The commit HEAD points at.
    pub fn head_commit(&self) -> Result<ObjectId> {
        let id = self.repo.head_id().map_err(|e| {
            Error::Repository(format!(
                "the repository has no commit at HEAD yet ({e}); commit something to release"
            ))
        })?;
        Ok(id.detach())
    }

    /// Whether the clone is shallow (history and older tags may be missing).
    pub fn is_shallow(&self) -> Result<bool> {
        self.repo
            .is_shallow()
            .map_err(|e| repo_error("cannot tell whether the clone is shallow", e))
    }

    /// Every tag named `<prefix><semver>`, peeled to its commit, highest version first.
    pub fn release_tags(&self, prefix: &str) -> Result<Vec<ReleaseTag>> {
        let refs = self
            .repo
            .references()
            .map_err(|e| repo_error("cannot read references", e))?;
        let mut tags = Vec::new();
        for reference in refs.tags().map_err(|e| repo_error("cannot list tags", e))? {
            let mut reference = reference.map_err(|e| repo_error("cannot read a tag", e))?;
            let name = reference.name().shorten().to_string();
            let Some(version) = release_version_of(&name, prefix) else {
                continue;
            };
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            tags.push(ReleaseTag {
                name,
                version,
                commit: commit.id,
            });
        }
        tags.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
        Ok(tags)
    }

    /// The highest release tag below `version` whose commit is an ancestor of (or is) `head`.
    pub fn previous_release(
        &self,
        prefix: &str,
        version: &Version,
        head: ObjectId,
    ) -> Result<Option<ReleaseTag>> {
        let candidates: Vec<ReleaseTag> = self
            .release_tags(prefix)?
            .into_iter()
            .filter(|t| t.version < *version)
            .collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut wanted: HashMap<ObjectId, usize> = HashMap::new();
        for (i, tag) in candidates.iter().enumerate() {
            let best = wanted.entry(tag.commit).or_insert(i);
            *best = (*best).min(i);
        }
        let mut best: Option<usize> = None;
        let mut remaining: HashSet<ObjectId> = wanted.keys().copied().collect();
        for info in self.walk(head, None)? {
            let id = info?;
            if remaining.remove(&id) {
                let i = wanted[&id];
                best = Some(best.map_or(i, |b| b.min(i)));
                // The highest candidate overall is found: nothing better can come.
                if best == Some(0) || remaining.is_empty() {
                    break;
                }
            }
        }
        Ok(best.map(|i| candidates[i].clone()))
    }

    /// Commits reachable from `to` but not from `from`, newest first.
    pub fn commits_between(&self, from: Option<ObjectId>, to: ObjectId) -> Result<Vec<CommitInfo>> {
        let mut out = Vec::new();
        for id in self.walk(to, from)? {
            let id = id?;
            let commit = self
                .repo
                .find_commit(id)
                .map_err(|e| repo_error("cannot read a commit", e))?;
            let message = commit.message_raw_sloppy().to_string();
            let summary = message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            out.push(CommitInfo {
                id: id.to_string(),
                summary,
            });
        }
        Ok(out)
    }

    fn walk(
        &self,
        tip: ObjectId,
        hidden: Option<ObjectId>,
    ) -> Result<impl Iterator<Item = Result<ObjectId>> + '_> {
        let mut platform = self.repo.rev_walk([tip]);
        if let Some(hidden) = hidden {
            platform = platform.with_hidden([hidden]);
        }
        let walk = platform
            .all()
            .map_err(|e| repo_error("cannot walk history", e))?;
        Ok(walk.map(|info| {
            info.map(|i| i.id)
                .map_err(|e| repo_error("cannot walk history", e))
        }))
    }
}
