//! Why this exists: every place a release lands sits behind a small trait sized to our needs, so
//! the pipeline can run against the real system, a fake in tests, or the dry-run recorder.

pub mod github;

use serde::Serialize;

/// One thing the pipeline did (or, in a dry run, would have done) to a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// The target, e.g. `github-release`.
    pub target: String,
    /// What was done, in words.
    pub action: String,
    /// True when nothing was written because this is a dry run.
    pub dry_run: bool,
}
