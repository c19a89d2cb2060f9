//! Why this exists: a .tar.gz of a few hundred megabytes compressed on one core is slower than
//! `tar | pigz` on the same machine. This writer compresses as pigz does — the input cut into
//! fixed 128 KiB blocks, each raw-deflated on a worker thread with the previous block's last
//! 32 KiB as its dictionary, ended by a sync flush (the last by a final block), concatenated in
//! order into one gzip member — so the output is one ordinary gzip stream (`gzip -t`, `tar -tzf`)
//! and, because a block's bytes depend only on its data, its dictionary and the level, it is the
//! same bytes whatever the number of threads. At most two blocks per thread are in flight, so
//! memory stays a few MiB whatever the size.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, FlushCompress, Status};

/// The uncompressed size of one block (pigz's default).
pub const BLOCK: usize = 128 * 1024;
/// How much of the previous block primes the next one (deflate's window).
const DICTIONARY: usize = 32 * 1024;

type Job = (Vec<u8>, Vec<u8>, bool, SyncSender<io::Result<Vec<u8>>>);

/// A parallel gzip writer: write the uncompressed stream, then [`ParGz::finish`].
pub struct ParGz<W: Write> {
    out: W,
    level: u32,
    block: Vec<u8>,
    dictionary: Vec<u8>,
    /// The CRC-32 and the length (mod 2^32) of everything written: the gzip trailer.
    crc: flate2::Crc,
    /// Results, in block order.
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    jobs: Option<SyncSender<Job>>,
    workers: Vec<std::thread::JoinHandle<()>>,
    threads: usize,
}

impl<W: Write> ParGz<W> {
    /// A writer compressing at `level` on `threads` threads (1: on the calling thread).
    pub fn new(mut out: W, level: u32, threads: usize) -> io::Result<ParGz<W>> {
        // The gzip header as flate2 writes it: no name, mtime 0, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
        let threads = threads.max(1);
        let (jobs, workers) = if threads > 1 {
            let (sender, receiver) = sync_channel::<Job>(threads);
            let receiver = Arc::new(Mutex::new(receiver));
            let workers = (0..threads)
                .map(|_| {
                    let receiver = Arc::clone(&receiver);
                    std::thread::spawn(move || {
                        loop {
                            let job = receiver.lock().map(|r| r.recv());
                            let Ok(Ok((data, dictionary, last, result))) = job else {
                                return;
                            };
                            let _ = result.send(deflate_block(&data, &dictionary, last, level));
                        }
                    })
                })
                .collect();
            (Some(sender), workers)
        } else {
            (None, Vec::new())
        };
        Ok(ParGz {
            out,
            level,
            block: Vec::with_capacity(BLOCK),
            dictionary: Vec::new(),
            crc: flate2::Crc::new(),
            pending: VecDeque::new(),
            jobs,
            workers,
            threads,
        })
    }

    /// Hands the full block to a worker (or compresses it here), keeping at most two blocks per
    /// thread in flight.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(if last { 0 } else { BLOCK }));
        let next_dictionary = data[data.len().saturating_sub(DICTIONARY)..].to_vec();
        let dictionary = std::mem::replace(&mut self.dictionary, next_dictionary);
        let (sender, receiver) = sync_channel(1);
        match &self.jobs {
            Some(jobs) => jobs
                .send((data, dictionary, last, sender))
                .map_err(|_| io::Error::other("a compression thread stopped"))?,
            None => sender
                .send(deflate_block(&data, &dictionary, last, self.level))
                .map_err(|_| io::Error::other("compression result lost"))?,
        }
        self.pending.push_back(receiver);
        while self.pending.len() > 2 * self.threads {
            self.write_next()?;
        }
        Ok(())
    }

    fn write_next(&mut self) -> io::Result<()> {
        if let Some(receiver) = self.pending.pop_front() {
            let compressed = receiver
                .recv()
                .map_err(|_| io::Error::other("a compression thread stopped"))??;
            self.out.write_all(&compressed)?;
        }
        Ok(())
    }

    /// Compresses what is left, writes the gzip trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while !self.pending.is_empty() {
            self.write_next()?;
        }
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        self.out.flush()?;
        // `self` implements Drop-free fields only; move the writer out.
        let ParGz { out, .. } = self;
        Ok(out)
    }
}

impl<W: Write> Write for ParGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK - self.block.len();
        let take = room.min(buf.len());
        self.block.extend_from_slice(&buf[..take]);
        self.crc.update(&buf[..take]);
        if self.block.len() == BLOCK {
            self.dispatch(false)?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Raw-deflates `data` primed with `dictionary`; a block that is not the last ends in a sync
/// flush (byte-aligned, not final), the last one in the final block.
fn deflate_block(data: &[u8], dictionary: &[u8], last: bool, level: u32) -> io::Result<Vec<u8>> {
    let mut compress = Compress::new(Compression::new(level), false);
    if !dictionary.is_empty() {
        compress.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = compress.total_in() as usize == data.len();
        let done = match (last, status) {
            (true, Status::StreamEnd) => true,
            (true, _) => false,
            // A sync flush is complete once deflate stops short of filling the output.
            (false, _) => all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
    }
}

/// How many threads compress by default: one per available core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Compressible but not trivial data: text-like lines with a counter.
    fn sample(size: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(size);
        let mut i = 0u64;
        while out.len() < size {
            out.extend_from_slice(format!("line {i}: the quick brown fox {} jumps\n", i * 7919 % 1013).as_bytes());
            i += 1;
        }
        out.truncate(size);
        out
    }

    fn compress(data: &[u8], threads: usize) -> Vec<u8> {
        let mut gz = ParGz::new(Vec::new(), 6, threads).unwrap();
        // Odd write sizes, as tar writes them.
        for chunk in data.chunks(7777) {
            gz.write_all(chunk).unwrap();
        }
        gz.finish().unwrap()
    }

    #[test]
    fn round_trips_and_gives_the_same_bytes_on_any_number_of_threads() {
        for size in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 12345] {
            let data = sample(size);
            let one = compress(&data, 1);
            for threads in [2, 8] {
                assert_eq!(compress(&data, threads), one, "{size} bytes on {threads} threads");
            }
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&one[..]).read_to_end(&mut back).unwrap();
            assert_eq!(back, data, "{size} bytes");
            // One member: a multi-member reader finds nothing after it.
            let mut all = Vec::new();
            flate2::read::MultiGzDecoder::new(&one[..])
                .read_to_end(&mut all)
                .unwrap();
            assert_eq!(all.len(), data.len());
        }
    }

    #[test]
    fn the_size_stays_within_one_percent_of_single_stream_gzip() {
        let data = sample(4 << 20);
        let parallel = compress(&data, 2).len();
        let mut single = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        single.write_all(&data).unwrap();
        let single = single.finish().unwrap().len();
        assert!(
            (parallel as f64) <= single as f64 * 1.01,
            "parallel {parallel} vs single {single}"
        );
    }
}
