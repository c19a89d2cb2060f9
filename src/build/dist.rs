//! Why this exists: `dist/` is where a run keeps what it built, the build manifest and the
//! journal, and what the publish stage uploads from. Two runs in one checkout would overwrite each
//! other's files and publish a mix, so a run that writes there holds an exclusive lock on
//! `dist/.lock` (an OS file lock: released when the process ends, also when it is killed) and a
//! second run is refused at once. `dist/` itself must be a folder of the repository, not a link
//! out of it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `dist/` under the repository.
pub fn dist_dir(workspace: &Path) -> PathBuf {
    workspace.join("dist")
}

/// The lock one run holds on `dist/` while it builds and publishes.
#[derive(Debug)]
pub struct DistLock {
    _file: std::fs::File,
}

impl DistLock {
    /// Creates `dist/` if needed and locks it for this run; another run holding it is an error
    /// (exit 2: nothing was written).
    pub fn take(workspace: &Path) -> Result<DistLock> {
        let dist = dist_dir(workspace);
        if dist.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::input(
                "dist",
                format!(
                    "{} is a symbolic link; the release writes its files into a dist/ folder of the repository — remove the link",
                    dist.display()
                ),
            ));
        }
        std::fs::create_dir_all(&dist).map_err(|source| Error::WriteFile {
            path: dist.clone(),
            source,
        })?;
        let path = dist.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::WriteFile {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DistLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::input(
                "dist",
                format!(
                    "another tamma-release run is building or publishing in {} right now; runs of one checkout share dist/, so wait for it to finish (or use another checkout)",
                    workspace.display()
                ),
            )),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::WriteFile { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_no_link_out() {
        let dir = tempfile::tempdir().unwrap();
        let first = DistLock::take(dir.path()).unwrap();
        let err = DistLock::take(dir.path()).unwrap_err().to_string();
        assert!(err.contains("another tamma-release run"), "{err}");
        drop(first);
        assert!(DistLock::take(dir.path()).is_ok(), "released with the run");
        let other = tempfile::tempdir().unwrap();
        std::fs::remove_dir_all(dir.path().join("dist")).unwrap();
        std::os::unix::fs::symlink(other.path(), dir.path().join("dist")).unwrap();
        let err = DistLock::take(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
    }
}
