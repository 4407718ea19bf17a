//! Sinks: where formatted lines go.
//!
//! The runtime formats each record into one line (a traceback may make it several lines joined by
//! `\n`) and hands it to a [`Sink`], which appends the newline, buffers, and writes:
//!
//! - [`FileSink`]: plain append to one path; [`Sink::reopen`] reopens by path after an external
//!   `logrotate` renamed the file (SIGHUP).
//! - [`RotatingFileSink`]: rotation by size, by time (Python's `TimedRotatingFileHandler` rules and
//!   file names), or both; `backup_count` pruning, retention by age and gzip of rotated files on a
//!   background worker. See [`rotating`] for the naming rules.
//! - [`ConsoleSink`]: stderr or stdout, optional colour by level; control characters are made
//!   visible ([`neutralise_controls`]) so a record cannot rewrite the terminal.
//!
//! Files keep the formatter's bytes exactly (including `\r` and ESC, as Python's handlers do): a file
//! is data for tools, and escaping there would change what `grep` finds. Only the console, which a
//! terminal interprets, is escaped.
//!
//! ```no_run
//! use logfunnel_collector::sink::{RotatingFileSink, RotatingOptions, Rotation, Sink, When};
//!
//! let rotation = Rotation::timed(When::Midnight, 1, false).and_size(100 * 1024 * 1024);
//! let options = RotatingOptions::new().backup_count(14).compress(true);
//! let mut sink = RotatingFileSink::open("/var/log/app/app.log", rotation, options)?;
//! sink.write(20, "2026-11-26 12:00:00,000 INFO app started")?;
//! sink.flush()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use logfunnel_core::RecordView;
use std::io;
use std::path::{Path, PathBuf};

mod append;
mod backups;
mod clock;
mod compress;
mod console;
mod file;
pub(crate) mod open;
pub mod otlp;
pub mod rotating;
mod rotation;

pub use clock::{Clock, ManualClock, SystemClock};
pub use console::{neutralise_controls, Colour, ConsoleSink};
pub use file::FileSink;
pub use rotating::{RotatingFileSink, RotatingOptions};
pub use rotation::{ParseWhenError, Rotation, When};

/// A destination for formatted lines. The runtime owns each sink on its writer thread.
pub trait Sink: Send {
    /// Writes one record's line (without trailing newline; the sink adds "\n"). `levelno` is for
    /// colour. From here on the record is the sink's: an error means it could not be handed to the
    /// OS yet, and the sink keeps it, whole, with every record since its last successful
    /// [`flush`](Sink::flush), for a later flush to write (or [`discard_unsettled`](Sink::discard_unsettled)
    /// to drop).
    fn write(&mut self, levelno: i64, line: &str) -> io::Result<()>;
    /// Writes one record: what the runtime calls. `line` is the record formatted for this sink (its
    /// format, or the JSON record). Line sinks keep the default, which writes `line`; a sink that
    /// maps the record itself (OTLP) overrides it and reads the fields from `record`.
    fn write_record(&mut self, record: &RecordView<'_>, line: &str) -> io::Result<()> {
        self.write(record.levelno, line)
    }
    /// Hands every kept record to the OS (called every flush_interval_ms, before each
    /// acknowledgement, and on shutdown). On error nothing is torn or lost: a file is cut back to the
    /// end of its last whole record and the records stay kept, so calling it again once the cause is
    /// gone (space freed, directory back) writes each record exactly once.
    fn flush(&mut self) -> io::Result<()>;
    /// Reopens the file by path (SIGHUP after an external logrotate); no-op for the console.
    fn reopen(&mut self) -> io::Result<()>;
    /// fsync policy hook: flushes, then makes the written data durable (`fdatasync`). A sink with
    /// nothing to make durable (the console) just flushes, so the runtime calls this on every sink.
    fn sync(&mut self) -> io::Result<()>;
    /// Records this sink took and has not settled yet: kept after a failed or pending write, or, for
    /// a forwarding sink, sent and not yet accepted by its peer. Settling is in order (the oldest
    /// record first), so the writer, which counts what it gave each sink, knows how many of them are
    /// settled; a record is acknowledged to its sender only when every sink that took it settled it.
    /// A sink that hands records to the OS in `write`/`flush` has none after a successful flush.
    fn unsettled(&self) -> u64 {
        0
    }
    /// Throws every unsettled record away (`on_error = "drop"`), returning how many; they count as
    /// settled from then on.
    fn discard_unsettled(&mut self) -> u64 {
        0
    }
    /// Errors from background work (compression of rotated files) since the last call, for the
    /// runtime to report. Such errors never lose data: the uncompressed backup stays.
    fn take_background_errors(&mut self) -> Vec<SinkError> {
        Vec::new()
    }
}

/// Why a sink could not be opened or could not do its work. The message names the path, the
/// operation and the OS reason, so it can be shown to the user as it is.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A file-system operation failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done (`open log file`, `rename`, `compress`, ...).
        op: &'static str,
        /// The path the operation was on.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A rename (rotation, shifting backups, installing a compressed file) failed.
    #[error("cannot rename {} to {}: {source}", from.display(), to.display())]
    Rename {
        /// The file being renamed.
        from: PathBuf,
        /// Its new name.
        to: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The rotation settings cannot work (for example `interval = 0`).
    #[error("invalid rotation for {}: {reason}", path.display())]
    InvalidRotation {
        /// The log file the rotation was for.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl SinkError {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> SinkError {
        SinkError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Turns this error into an `io::Error` of the same kind whose message still names the path,
    /// for the [`Sink`] methods, which return `io::Result`.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            SinkError::Io { source, .. } | SinkError::Rename { source, .. } => source.kind(),
            SinkError::InvalidRotation { .. } => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, self)
    }
}

/// Adds the path and operation to an `io::Error` while keeping its kind.
pub(crate) fn io_context(op: &'static str, path: &Path, err: io::Error) -> io::Error {
    SinkError::io(op, path, err).into_io()
}
