//! Plain append to one path, reopened by path on SIGHUP (external `logrotate` with `create`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{io_context, Sink, SinkError};

/// Buffer size of file sinks: large enough that a burst of lines costs one `write(2)`.
pub(crate) const BUF_CAPACITY: usize = 64 * 1024;

/// Opens `path` for appending, creating it (mode 0666 minus umask) but not its directory: a
/// missing directory is a configuration error to report at start.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Appends lines to one file. Lines are buffered; [`Sink::flush`] hands them to the OS.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    out: BufWriter<File>,
}

impl FileSink {
    /// Opens (creating if needed) `path` for appending. The error names the path and the reason.
    pub fn open(path: impl AsRef<Path>) -> Result<FileSink, SinkError> {
        let path = path.as_ref().to_path_buf();
        let file = open_append(&path).map_err(|e| SinkError::io("open log file", &path, e))?;
        Ok(FileSink {
            out: BufWriter::with_capacity(BUF_CAPACITY, file),
            path,
        })
    }

    /// The path given to [`FileSink::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for FileSink {
    fn write(&mut self, _levelno: i64, line: &str) -> io::Result<()> {
        write_line(&mut self.out, line).map_err(|e| io_context("write to", &self.path, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out
            .flush()
            .map_err(|e| io_context("write to", &self.path, e))
    }

    /// Lines written before the call stay in the old file (even if it was renamed); later lines
    /// go to a file at the path, created if the old one was moved away. If the path cannot be
    /// opened, the error is returned and writing continues to the old file.
    fn reopen(&mut self) -> io::Result<()> {
        self.flush()?;
        let file = open_append(&self.path).map_err(|e| io_context("reopen", &self.path, e))?;
        self.out = BufWriter::with_capacity(BUF_CAPACITY, file);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| io_context("sync", &self.path, e))
    }
}

/// Writes `line` and its newline.
pub(crate) fn write_line(out: &mut impl Write, line: &str) -> io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}
