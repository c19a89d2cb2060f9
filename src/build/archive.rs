//! Why this exists: release archives must be byte-reproducible — the same inputs give the same
//! bytes on every run and machine — so a re-run yields the same digest and users can verify a
//! build. Entries are sorted; times come from one fixed instant; owners are 0 with empty names;
//! modes are 0644 or 0755 (the executable bit is kept). tar.gz uses flate2 on zlib-rs (a plain,
//! single-member gzip stream); zip uses the zip crate with the same normalisation.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The time used when there is no SOURCE_DATE_EPOCH and no commit: 1980-01-01T00:00:00Z, the
/// earliest instant a zip file can hold.
pub const FALLBACK_EPOCH: i64 = 315_532_800;

/// Where an entry's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySource {
    /// A file on disk, streamed.
    File(PathBuf),
    /// Bytes in memory (a rewritten package.json).
    Bytes(Vec<u8>),
}

impl From<PathBuf> for EntrySource {
    fn from(path: PathBuf) -> Self {
        EntrySource::File(path)
    }
}

/// One file to put in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Where the bytes come from.
    pub source: EntrySource,
    /// The path inside the archive, `/`-separated.
    pub name: String,
    /// Whether it is executable (mode 0755, else 0644).
    pub executable: bool,
}

/// The archive formats, chosen by the output name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `.tar.gz` / `.tgz`
    TarGz,
    /// `.zip`
    Zip,
}

impl ArchiveFormat {
    /// The format for a file name, or an error naming what is allowed.
    pub fn for_name(key: &str, name: &str) -> Result<ArchiveFormat> {
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Ok(ArchiveFormat::TarGz)
        } else if name.ends_with(".zip") {
            Ok(ArchiveFormat::Zip)
        } else {
            Err(Error::input(key, format!("{name:?} must end in .tar.gz, .tgz or .zip")))
        }
    }
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `entries` (sorted here by name) to `output` with every time set to `epoch`.
pub fn write_archive(output: &Path, format: ArchiveFormat, entries: &[ArchiveEntry], epoch: i64) -> Result<()> {
    let mut sorted: Vec<&ArchiveEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted.dedup_by(|a, b| a.name == b.name);
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(write_error(parent))?;
    }
    let file = File::create(output).map_err(write_error(output))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    match format {
        ArchiveFormat::TarGz => write_tar_gz(out, &sorted, epoch, output),
        ArchiveFormat::Zip => write_zip(out, &sorted, epoch, output),
    }
}

fn write_tar_gz(out: BufWriter<File>, entries: &[&ArchiveEntry], epoch: i64, output: &Path) -> Result<()> {
    // Compressed on every core, the same bytes whatever their number (see pargz).
    let gz = super::pargz::ParGz::new(out, 6, super::pargz::default_threads()).map_err(write_error(output))?;
    let mut tar = tar::Builder::new(gz);
    append_tar_entries(&mut tar, entries, epoch, output)?;
    let gz = tar.into_inner().map_err(write_error(output))?;
    let mut out = gz.finish().map_err(write_error(output))?;
    out.flush().map_err(write_error(output))
}

/// Appends normalised tar entries; shared with the npm packer.
pub fn append_tar_entries<W: Write>(
    tar: &mut tar::Builder<W>,
    entries: &[&ArchiveEntry],
    epoch: i64,
    output: &Path,
) -> Result<()> {
    for entry in entries {
        let (reader, size): (Box<dyn std::io::Read>, u64) = open(&entry.source)?;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(if entry.executable { 0o755 } else { 0o644 });
        header.set_mtime(epoch.max(0) as u64);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("").map_err(write_error(output))?;
        header.set_groupname("").map_err(write_error(output))?;
        tar.append_data(&mut header, &entry.name, reader)
            .map_err(write_error(output))?;
    }
    tar.finish().map_err(write_error(output))
}

fn open(source: &EntrySource) -> Result<(Box<dyn std::io::Read>, u64)> {
    match source {
        EntrySource::File(path) => {
            let file = File::open(path).map_err(|source| Error::ReadFile {
                path: path.clone(),
                source,
            })?;
            let size = file
                .metadata()
                .map_err(|source| Error::ReadFile {
                    path: path.clone(),
                    source,
                })?
                .len();
            Ok((Box::new(file), size))
        }
        EntrySource::Bytes(bytes) => Ok((Box::new(std::io::Cursor::new(bytes.clone())), bytes.len() as u64)),
    }
}

fn write_zip(out: BufWriter<File>, entries: &[&ArchiveEntry], epoch: i64, output: &Path) -> Result<()> {
    let (y, mo, d, h, mi, s) = crate::dates::civil(epoch.max(FALLBACK_EPOCH));
    let time = zip::DateTime::from_date_and_time(y.min(2107) as u16, mo, d, h, mi, s).unwrap_or_default();
    let mut zip = zip::ZipWriter::new(out);
    let zip_error = |e: zip::result::ZipError| Error::WriteFile {
        path: output.to_path_buf(),
        source: std::io::Error::other(e),
    };
    for entry in entries {
        let (mut reader, size) = open(&entry.source)?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(time)
            .unix_permissions(if entry.executable { 0o755 } else { 0o644 })
            .large_file(size >= u32::MAX as u64);
        zip.start_file(entry.name.as_str(), options).map_err(zip_error)?;
        std::io::copy(&mut reader, &mut zip).map_err(write_error(output))?;
    }
    let mut out = zip.finish().map_err(zip_error)?;
    out.flush().map_err(write_error(output))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(dir: &Path) -> Vec<ArchiveEntry> {
        std::fs::write(dir.join("b.txt"), "bee\n").unwrap();
        std::fs::write(dir.join("tool"), "#!/bin/sh\n").unwrap();
        vec![
            ArchiveEntry {
                source: dir.join("tool").into(),
                name: "bin/tool".into(),
                executable: true,
            },
            ArchiveEntry {
                source: dir.join("b.txt").into(),
                name: "b.txt".into(),
                executable: false,
            },
        ]
    }

    #[test]
    fn same_inputs_same_bytes() {
        for name in ["x.tar.gz", "x.zip"] {
            let dir = tempfile::tempdir().unwrap();
            let entries = fixture(dir.path());
            let format = ArchiveFormat::for_name("name", name).unwrap();
            write_archive(&dir.path().join("1").join(name), format, &entries, 1_700_000_000).unwrap();
            let mut reversed = entries.clone();
            reversed.reverse();
            write_archive(&dir.path().join("2").join(name), format, &reversed, 1_700_000_000).unwrap();
            let one = std::fs::read(dir.path().join("1").join(name)).unwrap();
            let two = std::fs::read(dir.path().join("2").join(name)).unwrap();
            assert_eq!(one, two, "{name}");
        }
    }

    #[test]
    fn tar_entries_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.tar.gz");
        write_archive(&out, ArchiveFormat::TarGz, &fixture(dir.path()), 1_700_000_000).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&out).unwrap()));
        let seen: Vec<(String, u32, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("b.txt".into(), 0o644, 1_700_000_000, 0),
                ("bin/tool".into(), 0o755, 1_700_000_000, 0)
            ]
        );
    }

    #[test]
    fn names_pick_formats() {
        assert_eq!(ArchiveFormat::for_name("n", "a.tgz").unwrap(), ArchiveFormat::TarGz);
        assert!(
            ArchiveFormat::for_name("n", "a.rar")
                .unwrap_err()
                .to_string()
                .contains(".tar.gz, .tgz or .zip")
        );
        assert_eq!(crate::dates::iso_date(FALLBACK_EPOCH), "1980-01-01");
    }
}
