//! Why this exists: this is the one idea of tamma-release — stage immutable artifacts, then flip
//! pointers, recording each pointer's old value in a journal before it moves — so a release
//! completes, resumes on a re-run, or puts every channel back, and a rollback is the same journal
//! read backwards. [`Transaction`] keeps the journal and does every flip and every undo.

pub mod installable;
pub mod journal;
pub mod lock;
pub mod pointer;
pub mod publish;
pub mod rollback;
pub mod scope;
pub mod shipment;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::targets::{PointerMove, StepRecord};
use journal::{Journal, Outcome, Step};
use pointer::{Pointer, PointerIo, short};

/// The journal of one release plus what this run did, kept in step.
pub struct Transaction {
    /// The journal (resumed or new).
    pub journal: Journal,
    path: PathBuf,
    dry_run: bool,
    /// What this run did, in order, for the report.
    pub steps: Vec<StepRecord>,
}

impl Transaction {
    /// A transaction for `plan` whose journal lives at `path`; a journal already there for the same
    /// release is resumed, once `scope` accepts every pointer it names.
    pub fn open(
        path: &Path,
        plan: &crate::plan::ReleasePlan,
        dry_run: bool,
        scope: &scope::Scope,
        prefix: &str,
    ) -> Result<Transaction> {
        let journal = match Journal::load(path)? {
            Some(found) if !dry_run && found.is_for(plan) => {
                scope.check(&found, &plan.tag, prefix, &path.display().to_string())?;
                Some(found)
            }
            _ => None,
        };
        let mut txn = Transaction {
            journal: Journal::new(plan),
            path: path.to_path_buf(),
            dry_run,
            steps: Vec::new(),
        };
        if let Some(found) = journal {
            txn.resume(found, &path.display().to_string());
        }
        Ok(txn)
    }

    /// A transaction that rolls back `journal`, writing its record to `path`.
    pub fn for_rollback(journal: Journal, path: &Path, dry_run: bool) -> Transaction {
        Transaction {
            journal,
            path: path.to_path_buf(),
            dry_run,
            steps: Vec::new(),
        }
    }

    /// Continues `found`, the journal of an earlier run of this release.
    pub fn resume(&mut self, found: Journal, origin: &str) {
        let runs = found.runs + 1;
        self.journal = Journal { runs, ..found };
        self.note(
            "resume",
            "journal",
            format!("resumed the journal from {origin} (run {runs} of this release)"),
        );
    }

    /// Whether this journal came from an earlier run.
    pub fn resumed(&self) -> bool {
        self.journal.runs > 1
    }

    /// Writes the journal file (not in a dry run).
    pub fn save(&self) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        self.journal.save(&self.path)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a step that moves no pointer.
    pub fn note(&mut self, phase: &str, target: &str, action: impl Into<String>) {
        let action = action.into();
        if !self.dry_run {
            tracing::info!("{action}");
            self.journal.note(phase, target, action.clone());
        }
        self.steps.push(StepRecord {
            target: target.into(),
            action,
            dry_run: self.dry_run,
        });
    }

    /// Takes the steps a target recorded since `seen` into the journal and the report.
    pub fn absorb(&mut self, phase: &str, records: &[StepRecord], seen: &mut usize) -> Result<()> {
        for record in records.iter().skip(*seen) {
            if !record.dry_run {
                self.journal.note(phase, &record.target, record.action.clone());
            }
            self.steps.push(record.clone());
        }
        *seen = records.len();
        self.save()
    }

    /// Records the intent to move `pointer` (which reads `now`) to `new`, with its old value: the
    /// value an earlier run recorded (the pointer may already show ours), else `now`. Returns false
    /// when the pointer is already at `new` and no run of this release moved it.
    pub fn intend(&mut self, pointer: &Pointer, now: Option<String>, new: &str) -> bool {
        let before = match self.journal.open_flip(pointer) {
            // An earlier run recorded it, and the pointer still shows that run's old or new
            // value: the recorded old value stands. Moved by something else since: now is old.
            Some(step) if now == step.before || now == step.after => step.before.clone(),
            Some(_) => now,
            None if now.as_deref() == Some(new) => return false,
            None => now,
        };
        self.journal.settle(pointer, Outcome::Superseded);
        self.journal.steps.push(Step {
            phase: "flip".into(),
            target: pointer.target().into(),
            action: format!(
                "move {} from {} to {}",
                pointer.name(),
                short(before.as_deref()),
                short(Some(new))
            ),
            pointer: Some(pointer.clone()),
            before,
            after: Some(new.to_string()),
            at: journal::now(),
            outcome: Outcome::Intended,
        });
        true
    }

    /// Moves `pointer` to the value recorded by [`Transaction::intend`], unless it is there already.
    pub fn flip(&mut self, io: &PointerIo, pointer: &Pointer) -> Result<()> {
        let Some(step) = self.journal.open_flip(pointer).cloned() else {
            return Ok(());
        };
        let new = step.after.clone().unwrap_or_default();
        let now = io.read(pointer)?;
        if now.as_deref() != Some(new.as_str())
            && let Err(error) = io.write(pointer, Some(&new), false)
        {
            self.journal.settle(pointer, Outcome::Failed);
            self.save()?;
            return Err(error);
        }
        self.journal.settle(pointer, Outcome::Done);
        let action = format!(
            "moved {} from {} to {}",
            pointer.name(),
            short(step.before.as_deref()),
            short(Some(&new))
        );
        tracing::info!("{action}");
        self.steps.push(StepRecord {
            target: pointer.target().into(),
            action,
            dry_run: false,
        });
        self.save()
    }

    /// Marks a flip done by someone else (the GitHub release's own publish).
    pub fn settled(&mut self, pointer: &Pointer) -> Result<()> {
        self.journal.settle(pointer, Outcome::Done);
        self.save()
    }

    /// Reads every moved pointer back; the first that does not show its new value is an error.
    pub fn verify(&mut self, io: &PointerIo, skip: &[Pointer]) -> Result<()> {
        for (pointer, _, new) in self.open_flips() {
            if skip.contains(&pointer) {
                continue;
            }
            let now = io.read(&pointer)?;
            if now.as_deref() != Some(new.as_str()) {
                return Err(Error::Failed(format!(
                    "{} reads {} after the flip, not {}; something else moved it",
                    pointer.name(),
                    short(now.as_deref()),
                    short(Some(&new))
                )));
            }
        }
        self.note("check", "journal", "every moved pointer reads back its new value");
        Ok(())
    }

    /// The flips not undone, first moved first: (pointer, old value, new value).
    pub fn open_flips(&self) -> Vec<(Pointer, Option<String>, String)> {
        self.journal
            .flips()
            .into_iter()
            .filter_map(|(pointer, ..)| {
                let step = self.journal.open_flip(&pointer)?;
                Some((pointer.clone(), step.before.clone(), step.after.clone()?))
            })
            .collect()
    }

    /// What the report shows as moved.
    pub fn moves(&self) -> Vec<PointerMove> {
        self.open_flips()
            .into_iter()
            .map(|(pointer, old, new)| PointerMove {
                target: pointer.target().into(),
                pointer: pointer.name(),
                old,
                new,
            })
            .collect()
    }

    /// Puts every pointer this release moved back to its old value, newest first — the journal
    /// read backwards. A pointer someone else moved since is left alone and said so. A pointer
    /// that did not exist before is removed; an image tag, where the registry cannot delete a tag
    /// alone, is pointed at `fallback` (the version users get again) instead. With `dry_run` it
    /// only reads and says what would change.
    pub fn undo(&mut self, io: &PointerIo, phase: &str, dry_run: bool, fallback: Option<&str>) -> Result<Undo> {
        let mut undo = Undo::default();
        for (pointer, before, after) in self.open_flips().into_iter().rev() {
            let name = pointer.name();
            let now = match io.read(&pointer) {
                Ok(now) => now,
                // One unreadable pointer must not leave the older ones moved.
                Err(error) => {
                    let problem = format!(
                        "{name} could not be read ({error}); it may still point at {}",
                        short(Some(&after))
                    );
                    tracing::error!("{problem}");
                    undo.problems.push(problem.clone());
                    self.steps.push(StepRecord {
                        target: pointer.target().into(),
                        action: problem,
                        dry_run,
                    });
                    continue;
                }
            };
            let attempted = self
                .journal
                .open_flip(&pointer)
                .is_some_and(|s| s.outcome != Outcome::Intended);
            let (from, to) = (short(Some(&after)), short(before.as_deref()));
            let action = if now.as_deref() == before.as_deref() {
                if !attempted && phase == "compensate" {
                    // Never tried by this run and untouched: nothing to put back, nothing to say.
                    self.journal.settle(&pointer, Outcome::Undone);
                    continue;
                }
                format!("{name} is already at {to}")
            } else if now.as_deref() != Some(after.as_str()) {
                format!(
                    "{name} was moved since to {} by something else; left alone",
                    short(now.as_deref())
                )
            } else if before.is_none() && pointer == Pointer::GithubLatest {
                format!(
                    "no release was latest before {}; it stops being latest once marked a prerelease",
                    from
                )
            } else if before.is_none() && !PointerIo::removable(&pointer) {
                match put_back_missing(io, &pointer, fallback, dry_run) {
                    Ok(action) => {
                        undo.changed += 1;
                        action
                    }
                    Err(why) => {
                        let problem = format!("{name} did not exist before and {why}; it still points at {from}");
                        undo.problems.push(problem.clone());
                        problem
                    }
                }
            } else if dry_run {
                undo.changed += 1;
                format!("put {name} back from {from} to {to}")
            } else {
                match io.write(&pointer, before.as_deref(), true) {
                    Ok(()) => {
                        undo.changed += 1;
                        format!("put {name} back from {from} to {to}")
                    }
                    Err(error) => {
                        let problem = format!("{name} could not be put back to {to}: {error}");
                        undo.problems.push(problem.clone());
                        problem
                    }
                }
            };
            if !dry_run {
                if undo.problems.last().is_none_or(|p| *p != action) {
                    self.journal.settle(&pointer, Outcome::Undone);
                }
                self.journal.steps.push(Step {
                    phase: phase.into(),
                    target: pointer.target().into(),
                    action: action.clone(),
                    pointer: Some(pointer.clone()),
                    before: Some(after.clone()),
                    after: before.clone(),
                    at: journal::now(),
                    outcome: Outcome::Done,
                });
                self.save()?;
            }
            tracing::info!("{action}");
            self.steps.push(StepRecord {
                target: pointer.target().into(),
                action,
                dry_run,
            });
        }
        Ok(undo)
    }
}

/// Takes back an image tag that did not exist before the release: deleted where the registry
/// deletes tags, else pointed at `fallback`'s image. `Err` says why neither can be done.
fn put_back_missing(
    io: &PointerIo,
    pointer: &Pointer,
    fallback: Option<&str>,
    dry_run: bool,
) -> std::result::Result<String, String> {
    let Pointer::ImageTag { repository, tag } = pointer else {
        return Err("cannot be removed on its own".into());
    };
    let name = pointer.name();
    if dry_run {
        return Ok(match fallback {
            Some(version) => format!(
                "remove {name}, which did not exist before (or, where the registry deletes no tags, point it at {repository}:{version})"
            ),
            None => format!("remove {name}, which did not exist before"),
        });
    }
    if io.oci.delete_tag(repository, tag).map_err(|e| e.to_string())? {
        return Ok(format!("removed {name}, which did not exist before"));
    }
    let Some(version) = fallback else {
        return Err(
            "the registry cannot delete a tag on its own, and there is no earlier release to point it at".into(),
        );
    };
    let digest = io
        .oci
        .read_tag(repository, version)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "the registry cannot delete a tag on its own, and {repository}:{version} is not there to point it at"
            )
        })?;
    io.write(pointer, Some(&digest), true).map_err(|e| e.to_string())?;
    Ok(format!(
        "pointed {name} at {repository}:{version} ({}): it did not exist before, and the registry cannot delete a tag on its own",
        short(Some(&digest))
    ))
}

/// What [`Transaction::undo`] did.
#[derive(Debug, Default)]
pub struct Undo {
    /// Pointers put back (or, in a dry run, that would be).
    pub changed: usize,
    /// Pointers that could not be put back, in words.
    pub problems: Vec<String>,
}
