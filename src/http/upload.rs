//! Why this exists: a release asset can be gigabytes, and how it is sent decides how long a
//! release takes and how much memory it needs. A file goes out as a request body read from disk
//! as the connection asks for it, in blocks the allocator reuses, with its progress and rate in
//! the log; nothing holds more than a block of it.

use std::io::Read;
use std::time::Duration;

/// A file to send as a request body: where it is, the name its progress is logged under, and
/// its size (sent as `content-length`; the body is cut or fails at exactly that many bytes).
pub struct FileUpload<'a> {
    /// The file.
    pub path: &'a std::path::Path,
    /// The name in progress logs (the asset's).
    pub name: &'a str,
    /// Its size in bytes.
    pub size: u64,
}

/// A request body read from its file as the connection asks for it, [`FileBody::BLOCK`] at a
/// time, on the connection's own thread, as curl does: the runtime that sends it serves this one
/// request, so a read from the page cache holds up nothing else. (A reader thread handing blocks
/// over cost a wake-up per block and halved the throughput on two cores.)
pub(super) struct FileBody {
    file: std::io::Take<Progress<std::fs::File>>,
    size: u64,
}

impl FileBody {
    /// As curl's upload buffer. Blocks this small come from the allocator's reused memory (glibc
    /// and musl map larger ones fresh, and the kernel then zeroes every page again); 8 KiB blocks
    /// (the blocking client's) cost a round trip each.
    const BLOCK: u64 = 64 * 1024;

    pub(super) fn open(upload: &FileUpload<'_>) -> std::io::Result<FileBody> {
        let file = std::fs::File::open(upload.path)?;
        Ok(FileBody {
            file: Progress::new(file, upload.name, upload.size).take(upload.size),
            size: upload.size,
        })
    }
}

impl http_body::Body for FileBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        // Read straight into spare capacity: nothing is zeroed first.
        let mut block = Vec::with_capacity(Self::BLOCK as usize);
        std::task::Poll::Ready(match (&mut self.file).take(Self::BLOCK).read_to_end(&mut block) {
            Ok(0) => None,
            Ok(_) => Some(Ok(http_body::Frame::data(bytes::Bytes::from(block)))),
            Err(e) => Some(Err(e)),
        })
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.size)
    }
}

/// The smallest upload whose progress and rate are logged.
pub const PROGRESS_FROM: u64 = 4 * 1024 * 1024;

/// "1024.0 MiB in 2.41 s (424.9 MiB/s)": how long `bytes` took to send.
pub fn rate(bytes: u64, took: Duration) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let seconds = took.as_secs_f64().max(0.001);
    format!(
        "{:.1} MiB in {seconds:.2} s ({:.1} MiB/s)",
        bytes as f64 / MIB,
        bytes as f64 / MIB / seconds
    )
}

/// A request body that logs how far an upload has got — bytes, share and rate — every few
/// seconds, for files of a few MiB or more (smaller ones finish before anyone waits).
pub struct Progress<R> {
    inner: R,
    name: String,
    total: u64,
    sent: u64,
    started: std::time::Instant,
    last: std::time::Instant,
    ended: bool,
}

impl<R> Progress<R> {
    const EVERY: Duration = Duration::from_secs(3);

    /// Wraps `inner`, the `total` bytes of `name`.
    pub fn new(inner: R, name: &str, total: u64) -> Progress<R> {
        let now = std::time::Instant::now();
        Progress {
            inner,
            name: name.to_string(),
            total,
            sent: 0,
            started: now,
            last: now,
            ended: false,
        }
    }

    /// "12.0 of 48.0 MiB (25%, 3.2 MiB/s)".
    fn describe(&self) -> String {
        const MIB: f64 = 1024.0 * 1024.0;
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "{:.1} of {:.1} MiB ({}%, {:.1} MiB/s)",
            self.sent as f64 / MIB,
            self.total as f64 / MIB,
            self.sent * 100 / self.total.max(1),
            self.sent as f64 / MIB / seconds
        )
    }
}

impl<R: std::io::Read> std::io::Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        let end = self.sent >= self.total && !self.ended;
        if self.total >= PROGRESS_FROM && (end || self.last.elapsed() >= Self::EVERY) {
            tracing::info!("uploading {}: {}", self.name, self.describe());
            self.last = std::time::Instant::now();
            self.ended |= end;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_progress_passes_the_bytes_through_and_says_how_far_it_got() {
        use std::io::Read;
        let data = vec![7u8; 5 * 1024 * 1024];
        let mut progress = Progress::new(&data[..], "big.tar.gz", data.len() as u64);
        let mut copy = Vec::new();
        progress.read_to_end(&mut copy).unwrap();
        assert_eq!(copy, data);
        assert!(progress.ended, "the end is reported once");
        let said = progress.describe();
        assert!(
            said.starts_with("5.0 of 5.0 MiB (100%, ") && said.ends_with(" MiB/s)"),
            "{said}"
        );
    }

    #[test]
    fn a_file_body_is_the_file_in_blocks_of_at_most_64_kib_and_says_its_size() {
        use http_body::Body;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset.bin");
        let data: Vec<u8> = (0..200_001u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let upload = FileUpload {
            path: &path,
            name: "asset.bin",
            size: data.len() as u64,
        };
        let mut body = FileBody::open(&upload).unwrap();
        assert_eq!(body.size_hint().exact(), Some(data.len() as u64));
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let (mut sent, mut blocks) = (Vec::new(), 0);
        while let std::task::Poll::Ready(Some(frame)) = std::pin::Pin::new(&mut body).poll_frame(&mut context) {
            let block = frame.unwrap().into_data().unwrap();
            assert!(block.len() as u64 <= FileBody::BLOCK);
            sent.extend_from_slice(&block);
            blocks += 1;
        }
        assert_eq!(sent, data);
        assert_eq!(blocks, 4, "three full blocks and the rest");
    }
}
