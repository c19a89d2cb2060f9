//! Why this exists: every downloadable asset is listed in `SHA256SUMS` so users can run
//! `sha256sum -c`. Hashing streams each file through a fixed buffer (constant memory whatever the
//! size) and hashes several files at once on all cores; `sha2` uses the CPU's SHA extensions.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const BUFFER: usize = 1 << 20;

/// A file's digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The file.
    pub path: PathBuf,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// SHA-256 of one file, streamed.
pub fn sha256_file(path: &Path) -> Result<FileDigest> {
    let read_error = |source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; BUFFER];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok(FileDigest {
        path: path.to_path_buf(),
        sha256: hex(&hasher.finalize()),
        size,
    })
}

/// SHA-256 of many files, on as many threads as there are cores (and files). Order is kept.
pub fn sha256_files(paths: &[PathBuf]) -> Result<Vec<FileDigest>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len())
        .max(1);
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<FileDigest>>>> = Mutex::new((0..paths.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("no worker panics holding the lock");
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(path) = paths.get(index) else { break };
                    let digest = sha256_file(path);
                    results.lock().expect("no worker panics holding the lock")[index] = Some(digest);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("workers are done")
        .into_iter()
        .map(|r| r.expect("every file was hashed"))
        .collect()
}

/// `sha256sum` output: `<hex>  <name>` lines, sorted by name, verifiable with `sha256sum -c`.
pub fn sums_file(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.iter().map(|(name, sha)| format!("{sha}  {name}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "abc").unwrap();
        std::fs::write(&b, "").unwrap();
        let digests = sha256_files(&[a, b]).unwrap();
        assert_eq!(
            digests[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digests[0].size, 3);
        assert_eq!(
            digests[1].sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = sha256_files(&[PathBuf::from("/nonexistent/x")]).unwrap_err();
        assert!(err.to_string().starts_with("cannot read /nonexistent/x"));
    }

    #[test]
    fn sums_are_sorted() {
        let text = sums_file(&[("b.zip".into(), "22".into()), ("a.tar.gz".into(), "11".into())]);
        assert_eq!(text, "11  a.tar.gz\n22  b.zip\n");
    }
}
