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
    let threads = super::pargz::default_threads();
    write_zip_on(out, entries, epoch, output, threads, ZIP_PARALLEL_UP_TO)
}

/// Entries up to this size are deflated on every core, each into a one-entry archive in memory
/// that is then copied in raw; larger ones stream through the writer here (memory stays bounded:
/// at most a few of these in flight). The output is the same whatever the number of threads.
const ZIP_PARALLEL_UP_TO: u64 = 8 << 20;

fn write_zip_on(
    out: BufWriter<File>,
    entries: &[&ArchiveEntry],
    epoch: i64,
    output: &Path,
    threads: usize,
    parallel_up_to: u64,
) -> Result<()> {
    let (y, mo, d, h, mi, s) = crate::dates::civil(epoch.max(FALLBACK_EPOCH));
    let time = zip::DateTime::from_date_and_time(y.min(2107) as u16, mo, d, h, mi, s).unwrap_or_default();
    let zip_error = |e: zip::result::ZipError| Error::WriteFile {
        path: output.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let options = |entry: &ArchiveEntry, size: u64| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(time)
            .unix_permissions(if entry.executable { 0o755 } else { 0o644 })
            .large_file(size >= u32::MAX as u64)
    };
    // One entry written through a zip writer: into the archive, or into a one-entry archive.
    fn deflate<W: Write + std::io::Seek>(
        zip: &mut zip::ZipWriter<W>,
        entry: &ArchiveEntry,
        options: zip::write::SimpleFileOptions,
        output: &Path,
    ) -> Result<()> {
        let (mut reader, _) = open(&entry.source)?;
        zip.start_file(entry.name.as_str(), options)
            .map_err(|e| write_error(output)(std::io::Error::other(e)))?;
        std::io::copy(&mut reader, zip).map_err(write_error(output))?;
        Ok(())
    }
    let mut zip = zip::ZipWriter::new(out);
    let sizes = entries
        .iter()
        .map(|e| size_of(&e.source))
        .collect::<Result<Vec<u64>>>()?;
    let mut next = 0;
    while next < entries.len() {
        if sizes[next] > parallel_up_to {
            deflate(&mut zip, entries[next], options(entries[next], sizes[next]), output)?;
            next += 1;
            continue;
        }
        // A run of small entries, together at most 4 × ZIP_PARALLEL_UP_TO: that bounds what is
        // held in memory at once.
        let mut held = 0;
        let run_end = (next..entries.len())
            .take(threads.max(1) * 8)
            .take_while(|&i| {
                held += sizes[i];
                sizes[i] <= parallel_up_to && (i == next || held <= 4 * ZIP_PARALLEL_UP_TO)
            })
            .last()
            .map_or(next, |i| i + 1);
        let run = &entries[next..run_end];
        let taken = std::sync::atomic::AtomicUsize::new(0);
        let done: Vec<std::sync::Mutex<Option<Result<Vec<u8>>>>> = run.iter().map(|_| Default::default()).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads.clamp(1, run.len()) {
                scope.spawn(|| {
                    loop {
                        let i = taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(entry) = run.get(i) else { return };
                        let mut one = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                        let bytes = deflate(&mut one, entry, options(entry, sizes[next + i]), output)
                            .and_then(|()| one.finish().map_err(zip_error))
                            .map(std::io::Cursor::into_inner);
                        *done[i].lock().expect("no thread panics holding its slot") = Some(bytes);
                    }
                });
            }
        });
        for slot in done {
            let bytes = slot.into_inner().expect("no thread panics holding its slot");
            let bytes = bytes.expect("every entry of the run was taken")?;
            let mut one = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_error)?;
            zip.raw_copy_file(one.by_index_raw(0).map_err(zip_error)?)
                .map_err(zip_error)?;
        }
        next = run_end;
    }
    let mut out = zip.finish().map_err(zip_error)?;
    out.flush().map_err(write_error(output))
}

fn size_of(source: &EntrySource) -> Result<u64> {
    match source {
        EntrySource::File(path) => std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|source| Error::ReadFile {
                path: path.clone(),
                source,
            }),
        EntrySource::Bytes(bytes) => Ok(bytes.len() as u64),
    }
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
    fn zip_entries_deflated_on_any_number_of_threads_are_the_bytes_of_one_after_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut entries = fixture(dir.path());
        for i in 0..40 {
            let text: String = (0..2000 + i * 97).map(|n| format!("line {n} of file {i}\n")).collect();
            entries.push(ArchiveEntry {
                source: EntrySource::Bytes(text.into_bytes()),
                name: format!("src/file{i:02}.txt"),
                executable: false,
            });
        }
        let mut sorted: Vec<&ArchiveEntry> = entries.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let write = |name: &str, threads: usize, parallel_up_to: u64| {
            let path = dir.path().join(name);
            let out = BufWriter::new(File::create(&path).unwrap());
            write_zip_on(out, &sorted, 1_700_000_000, &path, threads, parallel_up_to).unwrap();
            std::fs::read(&path).unwrap()
        };
        // Every entry streamed through one writer: the archive as it was always written.
        let sequential = write("sequential.zip", 1, 0);
        for threads in [1, 2, 8] {
            assert!(
                write(&format!("{threads}.zip"), threads, ZIP_PARALLEL_UP_TO) == sequential,
                "{threads} threads"
            );
        }
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(sequential)).unwrap();
        assert_eq!(archive.len(), 42);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("src/file07.txt").unwrap(), &mut text).unwrap();
        assert!(text.starts_with("line 0 of file 7\n") && text.ends_with("of file 7\n"));
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
