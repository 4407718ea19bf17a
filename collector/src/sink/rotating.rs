//! A file that rolls over by size, by time, or both, with Python's backup names.
//!
//! # Names of rotated files
//!
//! | rotation | rotated file | newest backup | as Python |
//! |---|---|---|---|
//! | size | `app.log.1` .. `app.log.N`, shifted up at each rotation | `app.log.1` | `RotatingFileHandler` |
//! | time, `S` | `app.log.2026-11-26_13-45-10` | latest date | `TimedRotatingFileHandler` |
//! | time, `M` | `app.log.2026-11-26_13-45` | | |
//! | time, `H` | `app.log.2026-11-26_13` | | |
//! | time, `D`, `MIDNIGHT`, `W0`-`W6` | `app.log.2026-11-26` | | |
//! | time and size | `app.log.<suffix>`, then `app.log.<suffix>.1`, `.2`, ... within one period | highest number of the latest suffix | (extension) |
//!
//! The date/time suffix is the start of the period that ended, computed exactly as Python's
//! `doRollover` does (`rolloverAt - interval`). When the period already has a backup (a size
//! rotation within the period, or a restart within the same period), a number is appended: `.1`,
//! `.2`, ... (one more than the highest of that period present, so names sort oldest first). Python would instead
//! skip the rotation (3.13) or overwrite the old backup (older versions); numbering loses nothing.
//! With `compress`, `.gz` is appended to any of these names once the compressed file is complete.
//!
//! # Rules
//!
//! - Size: before writing a line, if the file is not empty and the line plus its newline would
//!   make it larger than `max_bytes`, the file is rotated first. A file therefore never exceeds
//!   `max_bytes` unless it holds a single line longer than that, which goes whole into a fresh
//!   file. (Python rotates when the file would *reach* `maxBytes`, so its files stay one byte
//!   smaller; the meaning "maximum size" is kept here.)
//! - Time: before writing a line, if the rollover time has passed, the file is rotated (an empty
//!   file is not: the rollover time just moves on). The first rollover time is computed from the
//!   existing file's modification time, or from now for a new file; the next ones from the time
//!   of the rotation, as Python's `computeRollover`.
//! - A rotation is a rename (plus the shift renames for size rotation) between two lines: it never
//!   splits a line and never waits for compression. The buffered lines are flushed to the current
//!   file first; if that fails (disk full), there is no rotation: the lines stay buffered for the
//!   current file, the write returns the error, and rotation waits for a flush that succeeds (so a
//!   file can then exceed `max_bytes` by the lines taken meanwhile).
//! - `backup_count` (default 0 = keep all, as Python's `TimedRotatingFileHandler`): after a
//!   rotation only the newest `backup_count` backups stay. For size rotation with 0, every backup
//!   is kept and shifted (one rename per backup at each rotation). Unlike Python's
//!   `RotatingFileHandler`, `backup_count = 0` does not disable size rotation.
//! - `max_age`: backups whose modification time (the time of their last line) is older are deleted
//!   at open, at each rotation and at most once a minute during `flush`.
//! - If rotation fails (permissions changed, disk full), the line is still written to the current
//!   file, the error is kept for [`Sink::take_background_errors`] and rotation is retried 10 s
//!   later.
//! - The path must be a regular file (or not exist yet); anything else (`/dev/null`, a FIFO) is
//!   written to but never rotated, as Python does.
//!
//! # Crash recovery (with `compress`)
//!
//! At open: `*.gz.tmp` leftovers of an interrupted compression are deleted; where both `X` and
//! `X.gz` exist (a crash between installing the `.gz` and deleting `X`), `X` is complete by
//! construction, so the `.gz` is deleted; then every uncompressed backup is queued for
//! compression again.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::append::Appender;
use super::backups::{rename_error, Backups};
use super::clock::{unix_secs, Clock, SystemClock};
use super::compress::Compressor;
use super::rotation::Rotation;
use super::{io_context, Sink, SinkError};

/// How long after a failed rotation the next attempt is made.
const ROTATE_RETRY_SECS: i64 = 10;
/// How often `flush` looks for backups older than `max_age`.
const AGE_CHECK_SECS: i64 = 60;
/// At most this many errors are kept until the runtime takes them.
const MAX_ERRORS: usize = 64;

/// What to keep and how, for [`RotatingFileSink`].
///
/// | option | default | meaning |
/// |---|---|---|
/// | `backup_count` | `0` | newest rotated files to keep; 0 keeps all |
/// | `compress` | `false` | gzip rotated files in the background (`.gz` appended) |
/// | `max_age` | none | delete rotated files last written longer ago than this |
/// | `clock` | [`SystemClock`] | time source for time rotation and `max_age` |
#[derive(Clone)]
pub struct RotatingOptions {
    backup_count: usize,
    compress: bool,
    max_age: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl RotatingOptions {
    /// The defaults (see the table).
    pub fn new() -> RotatingOptions {
        RotatingOptions {
            backup_count: 0,
            compress: false,
            max_age: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// How many rotated files to keep (0 = all).
    pub fn backup_count(mut self, n: usize) -> RotatingOptions {
        self.backup_count = n;
        self
    }

    /// Whether to gzip rotated files.
    pub fn compress(mut self, on: bool) -> RotatingOptions {
        self.compress = on;
        self
    }

    /// Delete rotated files older than this (`None` = no age limit).
    pub fn max_age(mut self, age: Option<Duration>) -> RotatingOptions {
        self.max_age = age;
        self
    }

    /// The time source (tests pass a [`ManualClock`](super::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> RotatingOptions {
        self.clock = clock;
        self
    }
}

impl Default for RotatingOptions {
    fn default() -> RotatingOptions {
        RotatingOptions::new()
    }
}

impl fmt::Debug for RotatingOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingOptions")
            .field("backup_count", &self.backup_count)
            .field("compress", &self.compress)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// A file that rotates by size and/or time. See the [module docs](self) for names and rules.
pub struct RotatingFileSink {
    path: PathBuf,
    backups: Backups,
    rotation: Rotation,
    options: RotatingOptions,
    out: Appender,
    /// Bytes in the current file and buffered for it (its size at open plus what was taken since).
    size: u64,
    /// Python's `rolloverAt`, for time rotation.
    rollover_at: Option<i64>,
    /// False if the path is not a regular file.
    rotatable: bool,
    /// No rotation attempt before this time (after a failed one).
    retry_after: i64,
    next_age_check: i64,
    compressor: Option<Compressor>,
    errors: Vec<SinkError>,
}

impl RotatingFileSink {
    /// Opens (creating if needed) `path` for appending, cleans leftovers of an interrupted
    /// compression and applies `backup_count`/`max_age` to existing backups. The directory must
    /// exist.
    pub fn open(
        path: impl AsRef<Path>,
        rotation: Rotation,
        options: RotatingOptions,
    ) -> Result<RotatingFileSink, SinkError> {
        let path = path.as_ref().to_path_buf();
        rotation
            .validate()
            .map_err(|reason| SinkError::InvalidRotation {
                path: path.clone(),
                reason,
            })?;
        let Some(backups) = Backups::new(&path, rotation.timed_settings().copied()) else {
            return Err(SinkError::InvalidRotation {
                path,
                reason: "the path has no file name".into(),
            });
        };
        let now = unix_secs(options.clock.now());
        let existing = fs::metadata(&path).ok();
        // As Python: the first period starts at the existing file's last write.
        let started = existing
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map_or(now, unix_secs);
        let rollover_at = rotation
            .timed_settings()
            .map(|t| t.compute_rollover(started));
        let (out, size) =
            Appender::open(&path).map_err(|e| SinkError::io("open log file", &path, e))?;
        let compressor = if options.compress {
            Some(Compressor::start(&path)?)
        } else {
            None
        };
        let sink = RotatingFileSink {
            backups,
            rotation,
            rotatable: out.is_regular(),
            out,
            size,
            rollover_at,
            retry_after: i64::MIN,
            next_age_check: now + AGE_CHECK_SECS,
            compressor,
            errors: Vec::new(),
            options,
            path,
        };
        if sink.rotatable {
            // Not for `/dev/null` and the like: nothing of ours lives next to them.
            sink.backups.recover(sink.compressor.as_ref())?;
            sink.prune(now)
                .map_err(|e| SinkError::io("prune backups of", &sink.path, e))?;
        }
        Ok(sink)
    }

    /// The path given to [`RotatingFileSink::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rotation this sink was opened with.
    pub fn rotation(&self) -> &Rotation {
        &self.rotation
    }

    /// Waits until every rotated file queued for compression is compressed, at most `timeout`
    /// (for a drain at shutdown, and tests). Returns whether all are done. Without `compress`
    /// there is nothing to wait for. Files left uncompressed are compressed at the next open.
    pub fn wait_compressed(&self, timeout: Duration) -> bool {
        self.compressor
            .as_ref()
            .is_none_or(|c| c.wait_idle(timeout))
    }

    fn record_error(&mut self, err: SinkError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(err);
        }
    }

    /// Rotates if due, after handing the buffered records to the current file. If that flush
    /// fails, there is no rotation and its error is returned (the records stay buffered, for the
    /// current file); a failed rotation is recorded and retried later, it never fails the write.
    fn rotate_if_due(&mut self, line_len: u64) -> io::Result<()> {
        let by_size = self
            .rotation
            .max_bytes()
            .is_some_and(|max| self.size > 0 && self.size + line_len > max);
        if !by_size && self.rollover_at.is_none() {
            return Ok(());
        }
        let now = unix_secs(self.options.clock.now());
        let by_time = self.rollover_at.is_some_and(|at| now >= at);
        if !(by_size || by_time) || now < self.retry_after {
            return Ok(());
        }
        if by_time && self.size == 0 {
            // Nothing to keep from this period: just start the next one.
            self.rollover_at = self
                .rotation
                .timed_settings()
                .map(|t| t.compute_rollover(now));
            return Ok(());
        }
        // Rotation happens only between records, each whole in the file it started in.
        self.out.flush(&self.path)?;
        match self.rotate(now) {
            Ok(()) => {
                if by_time {
                    self.rollover_at = self
                        .rotation
                        .timed_settings()
                        .map(|t| t.compute_rollover(now));
                }
                if let Err(e) = self.prune(now) {
                    self.record_error(SinkError::io("prune backups of", &self.path, e));
                }
            }
            Err(e) => {
                self.retry_after = now + ROTATE_RETRY_SECS;
                self.record_error(e);
            }
        }
        Ok(())
    }

    /// Renames the current file, flushed, to its backup name and opens a new one. On error the
    /// sink keeps writing to a file at the path (the old one if nothing was renamed).
    fn rotate(&mut self, now: i64) -> Result<(), SinkError> {
        let compressor = self.compressor.as_ref();
        let mut jobs = compressor.map(|c| c.lock());
        let target = match self.rotation.timed_settings().copied() {
            Some(t) => {
                let suffix = t.suffix(self.rollover_at.unwrap_or(now), now);
                self.backups.timed_target(&suffix)?
            }
            None => self
                .backups
                .shift(self.options.backup_count, jobs.as_deref_mut())?,
        };
        fs::rename(&self.path, &target).map_err(|e| rename_error(&self.path, &target, e))?;
        match self.out.reopen(&self.path) {
            Ok(size) => self.size = size,
            Err(e) => {
                // Put the file back so writing goes on at the path; if even that fails the
                // lines keep going to the renamed file, still nothing is lost.
                let _ = fs::rename(&target, &self.path);
                return Err(SinkError::io("create new log file", &self.path, e));
            }
        }
        if let Some(jobs) = jobs.as_deref_mut() {
            jobs.enqueue(target);
        }
        drop(jobs);
        if let Some(c) = compressor {
            c.notify();
        }
        Ok(())
    }

    /// Applies `backup_count` (time rotation; size rotation applies it while shifting) and
    /// `max_age`.
    fn prune(&self, now: i64) -> io::Result<()> {
        let keep = match self.rotation.timed_settings() {
            Some(_) => self.options.backup_count,
            None => 0,
        };
        self.backups
            .prune(keep, self.options.max_age, now, self.compressor.as_ref())
    }
}

impl Sink for RotatingFileSink {
    fn write(&mut self, _levelno: i64, line: &str) -> io::Result<()> {
        let len = line.len() as u64 + 1;
        let rotated = if self.rotatable {
            self.rotate_if_due(len)
        } else {
            Ok(())
        };
        // Taken even if the flush before a rotation failed: kept for the current file.
        self.out.push(line);
        self.size += len;
        rotated?;
        if self.out.over_threshold() {
            self.out.flush(&self.path)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush(&self.path)?;
        if self.options.max_age.is_some() && self.rotatable {
            let now = unix_secs(self.options.clock.now());
            if now >= self.next_age_check {
                self.next_age_check = now + AGE_CHECK_SECS;
                if let Err(e) = self.prune(now) {
                    self.record_error(SinkError::io("prune backups of", &self.path, e));
                }
            }
        }
        Ok(())
    }

    /// Lines written before stay in the old file; later lines go to a file at the path. Rotation
    /// continues from the new file's size. If the old file cannot take its lines, or the path
    /// cannot be opened, the error is returned, no line is lost and writing goes on to the old file.
    fn reopen(&mut self) -> io::Result<()> {
        self.out.flush(&self.path)?;
        self.size = self
            .out
            .reopen(&self.path)
            .map_err(|e| io_context("reopen", &self.path, e))?;
        self.rotatable = self.out.is_regular();
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.out.flush(&self.path)?;
        self.out.sync_data(&self.path)
    }

    fn unsettled(&self) -> u64 {
        self.out.unsettled()
    }

    fn discard_unsettled(&mut self) -> u64 {
        let (records, bytes) = self.out.discard();
        self.size = self.size.saturating_sub(bytes);
        records
    }

    fn take_background_errors(&mut self) -> Vec<SinkError> {
        let mut errors = std::mem::take(&mut self.errors);
        if let Some(c) = &self.compressor {
            errors.extend(c.take_errors());
        }
        errors
    }
}

impl fmt::Debug for RotatingFileSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingFileSink")
            .field("path", &self.path)
            .field("rotation", &self.rotation)
            .field("options", &self.options)
            .field("size", &self.size)
            .field("rollover_at", &self.rollover_at)
            .finish_non_exhaustive()
    }
}
