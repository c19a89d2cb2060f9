//! Why this exists: `tamma-release package` packs paths into the same reproducible archives the
//! build stage makes, outside a release: relative to the repository (or the working directory),
//! timed by SOURCE_DATE_EPOCH or HEAD's commit.

use std::path::{Path, PathBuf};

use crate::build::archive::{self, ArchiveEntry, ArchiveFormat, write_archive};
use crate::build::{checksum, files};
use crate::error::{Error, Result};

/// The root paths are relative to, and the archive time, for a package made outside a release:
/// inside a git repository its root and HEAD's commit time; elsewhere the directory itself and
/// 1980-01-01. `SOURCE_DATE_EPOCH` wins over both times.
pub fn package_root(dir: &Path, source_date_epoch: Option<i64>) -> Result<(PathBuf, i64)> {
    match crate::plan::git::GitRepo::discover(dir) {
        Ok(repo) => {
            let root = repo.workdir().unwrap_or_else(|| dir.to_path_buf());
            let time = repo
                .head_commit()
                .and_then(|head| repo.commit(head))
                .map(|c| c.time)
                .unwrap_or(archive::FALLBACK_EPOCH);
            Ok((root, source_date_epoch.unwrap_or(time)))
        }
        Err(_) => Ok((dir.to_path_buf(), source_date_epoch.unwrap_or(archive::FALLBACK_EPOCH))),
    }
}

/// `tamma-release package`: packs `paths` (files, directories or globs under `root`) into `output`.
pub fn package(
    root: &Path,
    output: &Path,
    paths: &[String],
    strip_prefix: Option<&str>,
    epoch: i64,
) -> Result<checksum::FileDigest> {
    let shown = output.display().to_string();
    let format = ArchiveFormat::for_name("--output", &shown)?;
    let canonical_root = root.canonicalize().map_err(|source| Error::ReadFile {
        path: root.to_path_buf(),
        source,
    })?;
    let mut globs = Vec::new();
    for path in paths {
        let relative = match Path::new(path).canonicalize() {
            Ok(absolute) if Path::new(path).is_absolute() => absolute
                .strip_prefix(&canonical_root)
                .map(|r| r.to_string_lossy().into_owned())
                .map_err(|_| Error::input("package", format!("{path:?} is outside {}", root.display())))?,
            _ => path.trim_start_matches("./").trim_end_matches('/').to_string(),
        };
        files::check_relative("package", &relative)?;
        globs.push(if root.join(&relative).is_dir() {
            format!("{relative}/**")
        } else {
            relative
        });
    }
    let matched = files::resolve(root, "package", &globs)?;
    let entries: Vec<ArchiveEntry> = matched
        .iter()
        .map(|m| ArchiveEntry {
            source: m.path.clone().into(),
            name: files::archive_name(&m.relative, strip_prefix),
            executable: m.executable,
        })
        .collect();
    write_archive(output, format, &entries, epoch)?;
    checksum::sha256_file(output)
}
