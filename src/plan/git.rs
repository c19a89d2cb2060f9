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
    /// Every tag peeled to its commit, read once: a checkout made by `git fetch` (as
    /// actions/checkout makes it) keeps each tag in a file of its own, and a monorepo's run asks
    /// for the tags of each package several times.
    tags: std::cell::OnceCell<Vec<(String, ObjectId)>>,
    /// [`GitRepo::touches`] answers: a run asks about the same commits for a package's next
    /// version, whether it changed, and its notes.
    touched: std::cell::RefCell<HashMap<(ObjectId, std::path::PathBuf), bool>>,
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
    /// The author's name.
    pub author: String,
    /// The committer time, seconds since the Unix epoch.
    pub time: i64,
    /// The whole message.
    pub message: String,
    /// How many parents it has: more than one is a merge.
    pub parents: usize,
}

impl CommitInfo {
    /// The first line of the message.
    pub fn summary(&self) -> &str {
        self.message.lines().next().unwrap_or_default().trim()
    }
}

/// Bytes as text, invalid UTF-8 replaced as bstr's Display does; valid text (nearly every commit)
/// is checked by the fast path and copied once.
fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn repo_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Repository(format!("{context}: {e}"))
}

impl GitRepo {
    /// Finds the repository containing `dir`.
    pub fn discover(dir: &Path) -> Result<GitRepo> {
        let mut repo = gix::discover(dir).map_err(|e| {
            Error::Repository(format!(
                "{} is not inside a git repository ({e}); run tamma-release in a git checkout (in Actions: add an actions/checkout step with fetch-depth: 0 before it)",
                dir.display()
            ))
        })?;
        // A walk decodes each commit to find its parents, then the caller reads it again for its
        // message: a small object cache makes the second read free (half the inflating on a
        // 100k-commit history).
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
        Ok(GitRepo {
            repo,
            tags: std::cell::OnceCell::new(),
            touched: Default::default(),
        })
    }

    /// The work tree's root, for a non-bare repository.
    pub fn workdir(&self) -> Option<std::path::PathBuf> {
        self.repo.workdir().map(std::path::Path::to_path_buf)
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
        let mut tags: Vec<ReleaseTag> = self
            .all_tags()?
            .iter()
            .filter_map(|(name, commit)| {
                Some(ReleaseTag {
                    version: release_version_of(name, prefix)?,
                    name: name.clone(),
                    commit: *commit,
                })
            })
            .collect();
        tags.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
        Ok(tags)
    }

    /// Every tag that peels to a commit, with that commit.
    fn all_tags(&self) -> Result<&[(String, ObjectId)]> {
        if let Some(tags) = self.tags.get() {
            return Ok(tags);
        }
        let refs = self
            .repo
            .references()
            .map_err(|e| repo_error("cannot read references", e))?;
        let mut tags = Vec::new();
        for reference in refs.tags().map_err(|e| repo_error("cannot list tags", e))? {
            let mut reference = reference.map_err(|e| repo_error("cannot read a tag", e))?;
            let name = reference.name().shorten().to_string();
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            tags.push((name, commit.id));
        }
        Ok(self.tags.get_or_init(|| tags))
    }

    /// The highest release tag reachable from `head` (the current version).
    pub fn current_release(&self, prefix: &str, head: ObjectId) -> Result<Option<ReleaseTag>> {
        self.highest_reachable(prefix, head, |_| true)
    }

    /// The highest release tag without a prerelease part reachable from `head`.
    pub fn last_stable_release(&self, prefix: &str, head: ObjectId) -> Result<Option<ReleaseTag>> {
        self.highest_reachable(prefix, head, |t| t.version.pre.is_empty())
    }

    /// The release tags accepted by `wanted`, highest first.
    fn release_tags_where(&self, prefix: &str, wanted: impl Fn(&ReleaseTag) -> bool) -> Result<Vec<ReleaseTag>> {
        Ok(self.release_tags(prefix)?.into_iter().filter(|t| wanted(t)).collect())
    }

    /// The highest release tag accepted by `wanted` that `head` reaches. Walks back from `head`
    /// only until the best remaining candidate is found.
    pub fn highest_reachable(
        &self,
        prefix: &str,
        head: ObjectId,
        wanted: impl Fn(&ReleaseTag) -> bool,
    ) -> Result<Option<ReleaseTag>> {
        let candidates = self.release_tags_where(prefix, wanted)?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut rank: HashMap<ObjectId, usize> = HashMap::new();
        for (i, tag) in candidates.iter().enumerate() {
            let best = rank.entry(tag.commit).or_insert(i);
            *best = (*best).min(i);
        }
        let mut best: Option<usize> = None;
        let mut remaining: HashSet<ObjectId> = rank.keys().copied().collect();
        for id in self.walk(head, None)? {
            let id = id?;
            if remaining.remove(&id) {
                let i = rank[&id];
                best = Some(best.map_or(i, |b| b.min(i)));
                // Every better candidate than `best` is still unseen; stop once none is left.
                let better_left = remaining.iter().any(|c| rank[c] < best.unwrap_or(usize::MAX));
                if !better_left {
                    break;
                }
            }
        }
        Ok(best.map(|i| candidates[i].clone()))
    }

    /// The release tag accepted by `wanted` on the commit nearest to `head` walking back (the
    /// highest one when a commit has several): the release made last before `head`.
    pub fn nearest_release(
        &self,
        prefix: &str,
        head: ObjectId,
        wanted: impl Fn(&ReleaseTag) -> bool,
    ) -> Result<Option<ReleaseTag>> {
        let candidates = self.release_tags_where(prefix, wanted)?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let tagged: HashSet<ObjectId> = candidates.iter().map(|t| t.commit).collect();
        for id in self.walk(head, None)? {
            let id = id?;
            if tagged.contains(&id) {
                // Candidates are highest first.
                return Ok(candidates.into_iter().find(|t| t.commit == id));
            }
        }
        Ok(None)
    }

    /// Commits reachable from `to` but not from `from`, newest first.
    pub fn commits_between(&self, from: Option<ObjectId>, to: ObjectId) -> Result<Vec<CommitInfo>> {
        self.commits_touching(from, to, None)
    }

    /// Commits reachable from `to` but not from `from` that change something under `dir` (see
    /// [`GitRepo::touches`]), newest first; every one when `dir` is `None`.
    pub fn commits_touching(
        &self,
        from: Option<ObjectId>,
        to: ObjectId,
        dir: Option<&Path>,
    ) -> Result<Vec<CommitInfo>> {
        let mut out = Vec::new();
        for id in self.walk(to, from)? {
            let id = id?;
            let keep = match dir {
                Some(dir) => self.touches(id, dir)?,
                None => true,
            };
            if keep {
                out.push(self.commit(id)?);
            }
        }
        Ok(out)
    }

    /// Whether `id` changed anything under `dir` (relative to the repository root; empty for the
    /// whole tree): what is there differs from every parent's, as `git log -- dir` decides. A merge
    /// that only brings in a branch's commits does not count; those commits do.
    pub fn touches(&self, id: ObjectId, dir: &Path) -> Result<bool> {
        let key = (id, dir.to_path_buf());
        if let Some(known) = self.touched.borrow().get(&key) {
            return Ok(*known);
        }
        let touched = self.compare_with_parents(id, dir)?;
        self.touched.borrow_mut().insert(key, touched);
        Ok(touched)
    }

    fn compare_with_parents(&self, id: ObjectId, dir: &Path) -> Result<bool> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| repo_error("cannot read a commit", e))?;
        let here = self.folder_at(&commit, dir)?;
        let mut parents = commit.parent_ids().peekable();
        if parents.peek().is_none() {
            return Ok(here.is_some());
        }
        for parent in parents {
            let parent = parent
                .object()
                .map_err(|e| repo_error("cannot read a commit", e))?
                .into_commit();
            if self.folder_at(&parent, dir)? == here {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The id of what `commit` has at `dir` (its root tree for an empty path), if anything.
    fn folder_at(&self, commit: &gix::Commit<'_>, dir: &Path) -> Result<Option<ObjectId>> {
        let tree = commit.tree().map_err(|e| repo_error("cannot read a tree", e))?;
        if dir.as_os_str().is_empty() {
            return Ok(Some(tree.id));
        }
        Ok(tree
            .lookup_entry_by_path(dir)
            .map_err(|e| repo_error(&format!("cannot look up {}", dir.display()), e))?
            .map(|e| e.object_id()))
    }

    /// Reads one commit.
    pub fn commit(&self, id: ObjectId) -> Result<CommitInfo> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| repo_error("cannot read a commit", e))?;
        let decoded = commit.decode().map_err(|e| repo_error("cannot decode a commit", e))?;
        // Lossy UTF-8 as bstr's Display gives it, without going through a formatter (every commit
        // of a whole-history changelog comes through here).
        let author = decoded
            .author()
            .map(|a| lossy(a.name).trim().to_string())
            .unwrap_or_default();
        let time = decoded.committer().map(|c| c.seconds()).unwrap_or_default();
        Ok(CommitInfo {
            id: id.to_hex().to_string(),
            author,
            time,
            message: lossy(decoded.message),
            parents: decoded.parents().count(),
        })
    }

    /// The tree id of `commit` and the content of the file at `path` in it, if there is one.
    pub fn file_at(&self, commit: &str, path: &str) -> Result<(String, Option<Vec<u8>>)> {
        let id = ObjectId::from_hex(commit.as_bytes()).map_err(|e| repo_error("not a commit id", e))?;
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| repo_error("cannot read a commit", e))?;
        let tree = commit.tree().map_err(|e| repo_error("cannot read a tree", e))?;
        let tree_id = tree.id.to_string();
        let entry = tree
            .lookup_entry_by_path(path)
            .map_err(|e| repo_error(&format!("cannot look up {path}"), e))?;
        let content = match entry {
            Some(entry) => Some(
                entry
                    .object()
                    .map_err(|e| repo_error(&format!("cannot read {path}"), e))?
                    .data
                    .to_vec(),
            ),
            None => None,
        };
        Ok((tree_id, content))
    }

    /// The tree id of `commit`.
    pub fn tree_of(&self, commit: &str) -> Result<String> {
        let id = ObjectId::from_hex(commit.as_bytes()).map_err(|e| repo_error("not a commit id", e))?;
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| repo_error("cannot read a commit", e))?;
        let tree = commit.tree_id().map_err(|e| repo_error("cannot read a tree", e))?;
        Ok(tree.to_string())
    }

    /// The branch HEAD is on (`main`), or `None` when HEAD is detached.
    pub fn current_branch(&self) -> Result<Option<String>> {
        let head = self.repo.head_name().map_err(|e| repo_error("cannot read HEAD", e))?;
        Ok(head.map(|name| name.shorten().to_string()).filter(|n| !n.is_empty()))
    }

    /// Resolves a revision (`v1.2.0`, `main`, a sha, `HEAD~3`) to a commit, for `--from`/`--to`.
    pub fn resolve(&self, flag: &str, spec: &str) -> Result<ObjectId> {
        let id = self
            .repo
            .rev_parse_single(spec)
            .map_err(|e| Error::input(flag, format!("{spec:?} names no commit in this repository ({e})")))?;
        let object = id.object().map_err(|e| repo_error("cannot read an object", e))?;
        let commit = object
            .peel_to_commit()
            .map_err(|_| Error::input(flag, format!("{spec:?} does not name a commit")))?;
        Ok(commit.id)
    }

    /// Every commit reachable from `head`, newest first (commit time), for a whole-history changelog.
    pub fn history(&self, head: ObjectId) -> Result<impl Iterator<Item = Result<CommitInfo>> + '_> {
        let walk = self
            .repo
            .rev_walk([head])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(|e| repo_error("cannot walk history", e))?;
        Ok(walk.map(move |info| {
            info.map_err(|e| repo_error("cannot walk history", e))
                .and_then(|i| self.commit(i.id))
        }))
    }

    /// The `origin` remote's web URL (`https://host/owner/name`), without any credentials.
    pub fn origin_web_url(&self) -> Option<String> {
        let remote = self.repo.find_remote("origin").ok()?;
        let url = remote.url(gix::remote::Direction::Fetch)?;
        web_url(&url.to_bstring().to_string())
    }

    fn walk(&self, tip: ObjectId, hidden: Option<ObjectId>) -> Result<impl Iterator<Item = Result<ObjectId>> + '_> {
        let mut platform = self.repo.rev_walk([tip]);
        if let Some(hidden) = hidden {
            platform = platform.with_hidden([hidden]);
        }
        let walk = platform.all().map_err(|e| repo_error("cannot walk history", e))?;
        Ok(walk.map(|info| info.map(|i| i.id).map_err(|e| repo_error("cannot walk history", e))))
    }
}

/// Turns a clone URL into the repository's web URL, dropping user, password and `.git`.
pub fn web_url(clone_url: &str) -> Option<String> {
    let (host, path) = if let Some(rest) = clone_url
        .strip_prefix("https://")
        .or_else(|| clone_url.strip_prefix("http://"))
    {
        rest.split_once('/')?
    } else if let Some(rest) = clone_url.strip_prefix("ssh://") {
        rest.split_once('/')?
    } else if let Some((user_host, path)) = clone_url.split_once(':') {
        if user_host.contains('/') {
            return None;
        }
        (user_host, path)
    } else {
        return None;
    };
    let host = host.rsplit('@').next()?;
    let host = host.split(':').next()?;
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    (!host.is_empty() && path.contains('/')).then(|| format!("https://{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::web_url;

    #[test]
    fn messages_that_are_not_utf8_read_as_bstr_displayed_them() {
        let samples: [&[u8]; 6] = [
            b"fix: plain",
            b"feat: caf\xe9 au lait",
            b"\xf0\x9f\x92",
            b"a\xed\xa0\x80b",
            b"x\xc3\x28\xff\xfe\xf4\x90\x80\x80y",
            b"\xe2\x82\xacok\xe2\x82",
        ];
        for bytes in samples {
            assert_eq!(
                super::lossy(bytes),
                gix::bstr::BStr::new(bytes).to_string(),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn web_urls_from_clone_urls() {
        let cases = [
            ("git@github.com:acme/widget.git", "https://github.com/acme/widget"),
            ("https://github.com/acme/widget", "https://github.com/acme/widget"),
            (
                "https://x-access-token:ghs_secret@github.com/acme/widget.git",
                "https://github.com/acme/widget",
            ),
            (
                "ssh://git@ghe.example.com:2222/acme/widget.git",
                "https://ghe.example.com/acme/widget",
            ),
        ];
        for (url, web) in cases {
            assert_eq!(web_url(url).as_deref(), Some(web), "{url}");
        }
        assert_eq!(web_url("/local/path"), None);
    }
}
