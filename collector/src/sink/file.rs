//! Plain append to one path, reopened by path on SIGHUP (external `logrotate` with `create`).

use std::io;
use std::path::{Path, PathBuf};

use super::append::Appender;
use super::{io_context, Sink, SinkError};

/// Appends lines to one file. Records are kept whole in the sink's buffer until [`Sink::flush`]
/// (or a full buffer) hands them to the OS; a write that fails leaves no torn line and loses no
/// record (see [`Sink::flush`]).
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    out: Appender,
}

impl FileSink {
    /// Opens (creating if needed) `path` for appending. The error names the path and the reason.
    pub fn open(path: impl AsRef<Path>) -> Result<FileSink, SinkError> {
        let path = path.as_ref().to_path_buf();
        let (out, _) =
            Appender::open(&path).map_err(|e| SinkError::io("open log file", &path, e))?;
        Ok(FileSink { out, path })
    }

    /// The path given to [`FileSink::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for FileSink {
    fn write(&mut self, _levelno: i64, line: &str) -> io::Result<()> {
        self.out.push(line);
        if self.out.over_threshold() {
            self.out.flush(&self.path)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush(&self.path)
    }

    /// Lines written before the call stay in the old file (even if it was renamed); later lines
    /// go to a file at the path, created if the old one was moved away. If the old file cannot take
    /// its lines, or the path cannot be opened, the error is returned, no line is lost and writing
    /// continues to the old file.
    fn reopen(&mut self) -> io::Result<()> {
        self.flush()?;
        self.out
            .reopen(&self.path)
            .map_err(|e| io_context("reopen", &self.path, e))?;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.out.sync_data(&self.path)
    }

    fn unsettled(&self) -> u64 {
        self.out.unsettled()
    }

    fn discard_unsettled(&mut self) -> u64 {
        self.out.discard().0
    }
}
