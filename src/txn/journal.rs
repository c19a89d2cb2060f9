//! Why this exists: a release that dies half-way must be finishable or undoable by a later run on
//! another machine. The journal is that memory: every step in order, and for every pointer the
//! value it had before we touched it — written to `dist/release-journal.json` after each step and
//! attached to the GitHub release (the draft too) before any pointer moves.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::txn::pointer::Pointer;

/// The asset and file name of the journal.
pub const JOURNAL_ASSET: &str = "release-journal.json";

/// The journal format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Recorded before the write: the pointer may or may not have moved.
    Intended,
    /// Done and read back.
    Done,
    /// Tried and failed.
    Failed,
    /// Put back to its old value (by compensation or rollback).
    Undone,
    /// Replaced by the same step of a later run of this release, which carries its old value on.
    Superseded,
}

impl Outcome {
    /// Whether a flip with this outcome may have moved its pointer and is not yet put back.
    pub fn open(self) -> bool {
        matches!(self, Outcome::Intended | Outcome::Done | Outcome::Failed)
    }
}

/// One step of the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `stage`, `flip`, `check`, `compensate`, `rollback`, `lock`, `resume`.
    pub phase: String,
    /// The target, e.g. `npm`, `image`, `docs`, `github-release`.
    pub target: String,
    /// What was done, in words.
    pub action: String,
    /// The pointer this step moves, for flips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<Pointer>,
    /// The pointer's value before (`None`: it did not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The pointer's value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// UTC, RFC 3339.
    pub at: String,
    /// Where it stands.
    pub outcome: Outcome,
}

/// A deployment the release recorded on GitHub, so a rollback can mark it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// The environment.
    pub environment: String,
    /// GitHub's id.
    pub id: u64,
}

/// The whole record of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Journal {
    /// [`FORMAT`].
    pub format: u32,
    /// The version released.
    pub version: String,
    /// Its tag.
    pub tag: String,
    /// The commit.
    pub commit: String,
    /// Whether it is a prerelease.
    pub prerelease: bool,
    /// How many runs wrote to this journal (1 unless a run resumed it).
    pub runs: u32,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// Deployments recorded.
    #[serde(default)]
    pub deployments: Vec<DeploymentRecord>,
    /// The workflow run that made the release (the first run, when a later one resumed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// Now, as RFC 3339 UTC.
pub fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::dates::rfc3339(seconds)
}

impl Journal {
    /// A new journal for a release.
    pub fn new(plan: &crate::plan::ReleasePlan) -> Journal {
        Journal {
            format: FORMAT,
            version: plan.version.clone(),
            tag: plan.tag.clone(),
            commit: plan.commit.clone(),
            prerelease: plan.prerelease,
            runs: 1,
            steps: Vec::new(),
            deployments: Vec::new(),
            run: None,
        }
    }

    /// Parses a journal, refusing one written by a newer format.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Journal> {
        let journal: Journal = serde_json::from_slice(bytes)
            .map_err(|e| Error::Failed(format!("{origin} is not a release journal: {e}")))?;
        if journal.format > FORMAT {
            return Err(Error::Failed(format!(
                "{origin} has journal format {}, newer than this tamma-release reads ({FORMAT}); use a newer tamma-release",
                journal.format
            )));
        }
        Ok(journal)
    }

    /// Whether this journal is the record of `plan`'s release.
    pub fn is_for(&self, plan: &crate::plan::ReleasePlan) -> bool {
        self.tag == plan.tag && self.commit == plan.commit
    }

    /// Appends a step that is not a pointer move. URLs in it lose credentials and queries: the
    /// journal is attached to the release, which becomes public.
    pub fn note(&mut self, phase: &str, target: &str, action: impl Into<String>) {
        self.steps.push(Step {
            phase: phase.into(),
            target: target.into(),
            action: crate::redact::urls(&action.into()),
            pointer: None,
            before: None,
            after: None,
            at: now(),
            outcome: Outcome::Done,
        });
    }

    /// The latest flip step for `pointer` that was not undone: what a resumed run must keep as the
    /// pointer's old value, since the pointer itself may already show our value.
    pub fn open_flip(&self, pointer: &Pointer) -> Option<&Step> {
        self.steps
            .iter()
            .rev()
            .filter(|s| s.phase == "flip" && s.pointer.as_ref() == Some(pointer))
            .find(|s| s.outcome.open())
    }

    /// Every pointer this release moved (or meant to), each once, in the order first moved, with
    /// the old value recorded first and the new value.
    pub fn flips(&self) -> Vec<(Pointer, Option<String>, String)> {
        let mut out: Vec<(Pointer, Option<String>, String)> = Vec::new();
        for step in self.steps.iter().filter(|s| s.phase == "flip") {
            let (Some(pointer), Some(after)) = (&step.pointer, &step.after) else {
                continue;
            };
            if !out.iter().any(|(p, ..)| p == pointer) {
                out.push((pointer.clone(), step.before.clone(), after.clone()));
            }
        }
        out
    }

    /// Marks every open flip step of `pointer` with `outcome`.
    pub fn settle(&mut self, pointer: &Pointer, outcome: Outcome) {
        for step in self
            .steps
            .iter_mut()
            .filter(|s| s.phase == "flip" && s.pointer.as_ref() == Some(pointer) && s.outcome.open())
        {
            step.outcome = outcome;
            step.at = now();
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).expect("a journal serializes");
        text.push('\n');
        text.into_bytes()
    }

    /// Writes the journal atomically (a temporary file in the same directory, named for this
    /// process so no other writer shares it, then a rename), so a kill never leaves half a journal.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let partial: PathBuf = dir.join(format!(".{name}.{}.partial", std::process::id()));
        std::fs::write(&partial, self.to_bytes()).map_err(|source| Error::WriteFile {
            path: partial.clone(),
            source,
        })?;
        std::fs::rename(&partial, path).map_err(|source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a journal file, if there is one.
    pub fn load(path: &Path) -> Result<Option<Journal>> {
        match std::fs::read(path) {
            Ok(bytes) => Journal::parse(&bytes, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::ReadFile {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flip(pointer: &Pointer, before: Option<&str>, after: &str, outcome: Outcome) -> Step {
        Step {
            phase: "flip".into(),
            target: pointer.target().into(),
            action: "move".into(),
            pointer: Some(pointer.clone()),
            before: before.map(str::to_string),
            after: Some(after.into()),
            at: now(),
            outcome,
        }
    }

    fn journal() -> Journal {
        Journal {
            format: FORMAT,
            version: "1.1.0".into(),
            tag: "v1.1.0".into(),
            commit: "abc".into(),
            prerelease: false,
            runs: 1,
            steps: Vec::new(),
            deployments: Vec::new(),
            run: None,
        }
    }

    #[test]
    fn a_resumed_run_keeps_the_first_old_value() {
        let latest = Pointer::Branch {
            branch: "gh-pages".into(),
        };
        let mut j = journal();
        j.steps.push(flip(&latest, Some("old"), "new", Outcome::Intended));
        assert_eq!(j.open_flip(&latest).unwrap().before.as_deref(), Some("old"));
        j.settle(&latest, Outcome::Undone);
        assert!(j.open_flip(&latest).is_none(), "an undone flip is read afresh");
        j.steps.push(flip(&latest, Some("old"), "new", Outcome::Done));
        assert_eq!(j.flips(), vec![(latest, Some("old".to_string()), "new".to_string())]);
    }

    #[test]
    fn round_trips_and_refuses_newer_formats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dist").join(JOURNAL_ASSET);
        let mut j = journal();
        j.note("stage", "npm", "published x@1.1.0");
        j.save(&path).unwrap();
        assert_eq!(Journal::load(&path).unwrap(), Some(j.clone()));
        j.format = FORMAT + 1;
        let error = Journal::parse(&j.to_bytes(), "the asset").unwrap_err();
        assert!(error.to_string().contains("newer"), "{error}");
        assert_eq!(Journal::load(&dir.path().join("nothing")).unwrap(), None);
    }
}
