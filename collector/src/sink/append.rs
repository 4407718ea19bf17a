//! Appending whole records to a file, retry-safe: the buffer under
//! [`FileSink`](super::FileSink) and [`RotatingFileSink`](super::RotatingFileSink).
//!
//! A `BufWriter` forgets where its records begin and end, and after a failed write it cannot say
//! which bytes reached the file, so a retry either loses records or writes a torn line and then
//! the record again. [`Appender`] keeps each record whole in its own buffer until the OS has taken
//! all of it:
//!
//! - [`Appender::push`] adds a record (line and `\n`) to the buffer; nothing is written.
//! - [`Appender::flush`] writes the buffer. If a write fails or stops short (disk full, I/O
//!   error), the file is cut back (`ftruncate`) to its length after the last record written whole,
//!   the records written whole leave the buffer and the rest stay, so the next flush, once the
//!   cause is gone, writes each record exactly once and a reader never sees a torn line.
//! - The records still in the buffer are the sink's unsettled ones ([`Appender::unsettled`]);
//!   [`Appender::discard`] drops them.
//!
//! The file is opened with `O_APPEND`, and its length is read at the start of each flush, so a file
//! truncated behind the sink's back (logrotate's `copytruncate`) is cut back to the right place.
//! A path that is not a regular file (`/dev/null`, a FIFO) cannot be cut back: what a failed write
//! left there stays, and the unwritten records are kept as for a file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::io_context;

/// Buffered bytes past which [`Appender::over_threshold`] asks for a flush: large enough that a
/// burst of records costs one `write(2)`.
pub(crate) const FLUSH_THRESHOLD: usize = 64 * 1024;

/// Opens `path` for appending (and reading: a torn last line is looked for), creating it (mode 0666
/// minus umask) but not its directory: a missing directory is a configuration error to report at
/// start.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
}

/// One open file and the records not yet handed to the OS. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Appender {
    file: File,
    /// A regular file, which can be cut back.
    regular: bool,
    /// Whole records (each with its `\n`), oldest first.
    buf: Vec<u8>,
    /// Where each record in `buf` ends, ascending.
    ends: Vec<usize>,
    /// A cut-back that failed: the length the file must be cut to before anything more is written.
    cut_to: Option<u64>,
}

impl Appender {
    /// Opens `path` for appending ([`open_append`]); returns the appender and the file's length.
    pub(crate) fn open(path: &Path) -> io::Result<(Appender, u64)> {
        let (file, regular, len) = open_whole(path)?;
        let out = Appender {
            file,
            regular,
            buf: Vec::with_capacity(FLUSH_THRESHOLD),
            ends: Vec::new(),
            cut_to: None,
        };
        Ok((out, len))
    }

    /// Whether the file is a regular file (not `/dev/null`, a FIFO, a terminal).
    pub(crate) fn is_regular(&self) -> bool {
        self.regular
    }

    /// Adds one record, `line` and its newline, to the buffer.
    pub(crate) fn push(&mut self, line: &str) {
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        self.ends.push(self.buf.len());
    }

    /// Whether the buffer holds enough to be worth a flush now.
    pub(crate) fn over_threshold(&self) -> bool {
        self.buf.len() >= FLUSH_THRESHOLD
    }

    /// Records in the buffer: taken, not yet handed to the OS.
    pub(crate) fn unsettled(&self) -> u64 {
        self.ends.len() as u64
    }

    /// Drops every buffered record; returns how many records and bytes that was. A pending
    /// cut-back stays pending: the torn bytes must still go.
    pub(crate) fn discard(&mut self) -> (u64, u64) {
        let dropped = (self.ends.len() as u64, self.buf.len() as u64);
        self.buf.clear();
        self.ends.clear();
        dropped
    }

    /// Hands every buffered record to the OS. On error the file ends after its last whole record
    /// and the records not written whole stay buffered (see the [module docs](self)); the error
    /// names `path`.
    pub(crate) fn flush(&mut self, path: &Path) -> io::Result<()> {
        if let Some(len) = self.cut_to {
            self.file
                .set_len(len)
                .map_err(|e| io_context("cut back a torn record in", path, e))?;
            self.cut_to = None;
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let start = if self.regular {
            let meta = self
                .file
                .metadata()
                .map_err(|e| io_context("write to", path, e))?;
            Some(meta.len())
        } else {
            None
        };
        let mut written = 0;
        let failure = loop {
            if written == self.buf.len() {
                break None;
            }
            match self.file.write(&self.buf[written..]) {
                Ok(0) => break Some(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e),
            }
        };
        let Some(err) = failure else {
            self.buf.clear();
            self.ends.clear();
            return Ok(());
        };
        let whole = self.ends.partition_point(|&end| end <= written);
        let boundary = whole.checked_sub(1).map_or(0, |i| self.ends[i]);
        if let Some(start) = start {
            // Also when `written` ends on a boundary: a failed write may still have left bytes.
            let len = start + boundary as u64;
            if self.file.set_len(len).is_err() {
                self.cut_to = Some(len);
            }
        }
        self.buf.drain(..boundary);
        self.ends.drain(..whole);
        for end in &mut self.ends {
            *end -= boundary;
        }
        Err(io_context("write to", path, err))
    }

    /// Makes what was handed to the OS durable (`fdatasync`); the error names `path`.
    pub(crate) fn sync_data(&self, path: &Path) -> io::Result<()> {
        self.file
            .sync_data()
            .map_err(|e| io_context("sync", path, e))
    }

    /// Goes on with a file opened at `path` (reopen, rotation) and returns its length; on error
    /// the old file stays. Only right after a successful flush, so no record moves from one file
    /// to the other.
    pub(crate) fn reopen(&mut self, path: &Path) -> io::Result<u64> {
        debug_assert!(self.buf.is_empty() && self.cut_to.is_none());
        let (file, regular, len) = open_whole(path)?;
        self.file = file;
        self.regular = regular;
        Ok(len)
    }
}

/// Opens `path` for appending; returns the file, whether it is a regular file, and its length
/// after a torn last record (regular files only) is cut off.
fn open_whole(path: &Path) -> io::Result<(File, bool, u64)> {
    let file = open_append(path)?;
    let meta = file.metadata()?;
    let len = if meta.is_file() {
        cut_torn_tail(&file, meta.len(), path)?
    } else {
        meta.len()
    };
    Ok((file, meta.is_file(), len))
}

/// A file that does not end with a newline was left by a collector killed in the middle of a
/// write (SIGKILL can stop a `write(2)` part way): its last record is torn. It is cut off, so the
/// next record starts on a line of its own; that record was never acknowledged (acks follow a
/// complete flush), so an acknowledging sender sends it again. Returns the file's new length.
fn cut_torn_tail(file: &File, len: u64, path: &Path) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    const CHUNK: u64 = 64 * 1024;
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    // Find the last newline, reading backwards.
    let mut end = len;
    let mut keep = 0;
    let mut chunk = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let part = &mut chunk[..(end - start) as usize];
        file.read_exact_at(part, start)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    file.set_len(keep)?;
    eprintln!(
        "{}: {}: cut a partial last line of {} bytes (left by a collector that was killed while writing)",
        crate::warn::PREFIX,
        path.display(),
        len - keep
    );
    Ok(keep)
}

/// Dropping a sink writes what it still holds, as a `BufWriter` would; there is nobody left to
/// report an error to, and the file is still cut back after a failed write.
impl Drop for Appender {
    fn drop(&mut self) {
        let _ = self.flush(Path::new(""));
    }
}

/// The full-disk fixture the integration tests use: a real tmpfs and 100-byte records.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/support/tmpfs.rs"]
mod tmpfs;

#[cfg(test)]
mod tests {
    use super::tmpfs::{free, record, records, Tmpfs};
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    /// 16 KiB of tmpfs with 8 KiB taken: the log file has two pages, 81 whole records and a part.
    fn nearly_full() -> Option<(Tmpfs, PathBuf, PathBuf)> {
        let fs = Tmpfs::mount("16k")?;
        let filler = fs.path("filler");
        fs::write(&filler, vec![0u8; 8192]).unwrap();
        let log = fs.path("app.log");
        Some((fs, filler, log))
    }

    /// [`nearly_full`] with an appender on the log file holding records 0..100, not yet flushed.
    fn nearly_full_with_100_pushed() -> Option<(Tmpfs, PathBuf, PathBuf, Appender)> {
        let (fs, filler, path) = nearly_full()?;
        let (mut out, _) = Appender::open(&path).unwrap();
        for i in 0..100 {
            out.push(&record(i));
        }
        Some((fs, filler, path, out))
    }

    #[test]
    fn a_torn_last_line_left_by_a_crash_is_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        for (before, after) in [
            (&b"one\ntwo\nthr"[..], &b"one\ntwo\nnext\n"[..]),
            (b"no newline at all", b"next\n"),
            (b"whole\n", b"whole\nnext\n"),
            (b"", b"next\n"),
        ] {
            let path = dir.path().join("torn.log");
            fs::write(&path, before).unwrap();
            let (mut out, len) = Appender::open(&path).unwrap();
            assert_eq!(len as usize, after.len() - b"next\n".len());
            out.push("next");
            out.flush(&path).unwrap();
            drop(out);
            assert_eq!(fs::read(&path).unwrap(), after);
        }
        // Longer than one read-back chunk.
        let path = dir.path().join("long.log");
        let mut long = b"first\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', 200_000));
        fs::write(&path, &long).unwrap();
        let (_, len) = Appender::open(&path).unwrap();
        assert_eq!((len, fs::read(&path).unwrap()), (6, b"first\n".to_vec()));
    }

    #[test]
    fn records_stay_buffered_until_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (mut out, len) = Appender::open(&path).unwrap();
        assert_eq!(len, 0);
        out.push("one");
        out.push("two\nTraceback");
        assert_eq!(out.unsettled(), 2);
        assert!(!out.over_threshold());
        assert_eq!(fs::read(&path).unwrap(), b"");
        out.flush(&path).unwrap();
        assert_eq!(out.unsettled(), 0);
        assert_eq!(fs::read(&path).unwrap(), b"one\ntwo\nTraceback\n");
        while !out.over_threshold() {
            out.push("filling");
        }
        assert!(out.unsettled() as usize * 8 >= FLUSH_THRESHOLD);
    }

    #[test]
    fn a_failed_write_cuts_the_file_back_to_its_last_whole_record() {
        let Some((_fs, filler, path, mut out)) = nearly_full_with_100_pushed() else {
            return;
        };
        let err = out.flush(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
        assert!(msg.contains("No space left"), "{msg}");
        // The OS took two pages (8192 bytes, 81.92 records); the torn 92 bytes are gone.
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, records(0..81));
        assert_eq!(out.unsettled(), 19);

        // Still full: nothing more is written and nothing is torn.
        out.push(&record(100));
        assert!(out.flush(&path).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), records(0..81));
        assert_eq!(out.unsettled(), 20);

        free(&filler);
        out.flush(&path).unwrap();
        assert_eq!(out.unsettled(), 0);
        assert_eq!(fs::read_to_string(&path).unwrap(), records(0..101));
    }

    #[test]
    fn discard_drops_only_the_records_not_written() {
        let Some((_fs, filler, path, mut out)) = nearly_full_with_100_pushed() else {
            return;
        };
        assert!(out.flush(&path).is_err());
        assert_eq!(out.discard(), (19, 19 * 100));
        assert_eq!(out.unsettled(), 0);
        free(&filler);
        out.push(&record(100));
        out.flush(&path).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            records(0..81) + &record(100) + "\n"
        );
    }

    #[test]
    fn a_file_truncated_behind_the_sink_is_cut_back_from_its_new_length() {
        let Some((_fs, filler, path)) = nearly_full() else {
            return;
        };
        fs::write(&path, "old\n").unwrap();
        let (mut out, len) = Appender::open(&path).unwrap();
        assert_eq!(len, 4);
        // logrotate copytruncate: the file is emptied while the sink holds it open.
        fs::File::create(&path).unwrap();
        for i in 0..100 {
            out.push(&record(i));
        }
        assert!(out.flush(&path).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), records(0..81));
        free(&filler);
        out.flush(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), records(0..100));
    }
}
