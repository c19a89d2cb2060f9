//! Why this exists: every failure a user can cause must reach the edge as one clear message and a
//! documented exit code, so the library returns typed errors and the edge renders them once.

use std::path::PathBuf;

/// The exit-code contract, documented in the README. `main` is the only place that turns it into a
/// process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: released, or nothing changed on a re-run.
    Ok = 0,
    /// 1: the release failed (a remote refused, a write failed).
    Failed = 1,
    /// 2: a usage or configuration error the user can fix; nothing was written.
    Usage = 2,
    /// 3: nothing to release, or a gate failed.
    NothingToRelease = 3,
}

/// Where in a file a configuration problem is, so the Actions edge can annotate the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLocation {
    /// The file, as the user named it.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A gate's finding that points at a file: annotated where it is, titled by what kind it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedFinding {
    /// What kind of finding, e.g. "test failure" (the annotation's title).
    pub title: String,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub location: FileLocation,
}

impl FileLocation {
    /// The line and column of byte `offset` in `text`, a file shown to the user as `path`.
    pub fn at(text: &str, offset: usize, path: &std::path::Path) -> FileLocation {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        FileLocation {
            path: path.to_path_buf(),
            line,
            column,
        }
    }
}

/// Everything that can stop a command. Variants say what the user did or what the world did.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input or flag has a value we do not accept.
    #[error("{name}: {message}")]
    InvalidInput {
        /// The input or flag name as the user wrote it (`bump`, `--version`).
        name: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The configuration file is malformed or has a key or value we do not accept.
    #[error("{}:{}:{}: {message}", location.path.display(), location.line, location.column)]
    Config {
        /// Where the problem is.
        location: FileLocation,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A file the user pointed us at cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The repository is missing, shallow or otherwise unusable for what was asked.
    #[error("{0}")]
    Repository(String),
    /// There is nothing to release.
    #[error("{0}")]
    NothingToRelease(String),
    /// A validation gate failed.
    #[error("{message}")]
    GateFailed {
        /// What failed, one line per finding.
        message: String,
        /// Findings that point at a file and line (for annotations).
        findings: Vec<LocatedFinding>,
    },
    /// A step of the release failed after it started.
    #[error("{0}")]
    Failed(String),
    /// Writing a local file (outputs, summary, plan) failed.
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn input(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            name: name.into(),
            message: message.into(),
        }
    }

    /// The exit status this error maps to.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::InvalidInput { .. } | Error::Config { .. } | Error::ReadFile { .. } | Error::Repository(_) => {
                ExitStatus::Usage
            }
            Error::NothingToRelease(_) | Error::GateFailed { .. } => ExitStatus::NothingToRelease,
            Error::Failed(_) | Error::WriteFile { .. } => ExitStatus::Failed,
        }
    }

    /// The file location, for errors that have one (annotations point at it).
    pub fn location(&self) -> Option<&FileLocation> {
        match self {
            Error::Config { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
