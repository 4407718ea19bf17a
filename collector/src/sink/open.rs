//! The sink factory: from validated [`SinkSpec`]s to open sinks and what the writer needs to feed
//! them ([`open_sinks`]), or, for `--check-config`, to the answer "could these paths be written?"
//! without creating anything ([`check_paths`]).
//!
//! Sinks with the same line format share one formatter, so the writer formats each record once per
//! distinct format, not once per sink.

use super::{ConsoleSink, FileSink, RotatingFileSink, Sink, SinkError};
use crate::config::{OnError, SinkSpec, StreamName, Target};
use crate::format::Formatter;
use crate::route::Route;
use crate::CollectorError;
use std::path::{Path, PathBuf};

/// A sink with what the writer needs to feed it.
pub(crate) struct RunSink {
    /// Label for metrics and messages.
    pub(crate) label: String,
    /// Position in the config (and in the metrics' sink counters).
    pub(crate) index: usize,
    /// Minimum level.
    pub(crate) level: i64,
    /// Logger-name filter.
    pub(crate) route: Route,
    /// Index of the formatter in [`OpenedSinks::formatters`]; `None` writes the JSON record.
    pub(crate) format_slot: Option<usize>,
    /// The sink itself.
    pub(crate) sink: Box<dyn Sink>,
    /// What the writer does when it cannot write.
    pub(crate) on_error: OnError,
}

/// Every sink of a collector, open, in config order, and the formatters they share.
pub(crate) struct OpenedSinks {
    /// The sinks.
    pub(crate) sinks: Vec<RunSink>,
    /// One per distinct line format.
    pub(crate) formatters: Vec<Formatter>,
}

/// Opens every sink (creating missing directories); the error names the sink and the path.
pub(crate) fn open_sinks(specs: &[SinkSpec]) -> Result<OpenedSinks, CollectorError> {
    let mut formatters: Vec<Formatter> = Vec::new();
    let mut shared = Vec::new();
    let mut sinks = Vec::with_capacity(specs.len());
    for spec in specs {
        let format_slot = spec.line.as_ref().map(|line| {
            shared.iter().position(|s| s == line).unwrap_or_else(|| {
                formatters.push(line.formatter.clone());
                shared.push(line.clone());
                shared.len() - 1
            })
        });
        let sink = open(&spec.target).map_err(|source| CollectorError::Sink {
            index: spec.index,
            source,
        })?;
        sinks.push(RunSink {
            label: spec.label.clone(),
            index: spec.index,
            level: spec.level,
            route: spec.route.clone(),
            format_slot,
            sink,
            on_error: spec.on_error,
        });
    }
    Ok(OpenedSinks { sinks, formatters })
}

fn open(target: &Target) -> Result<Box<dyn Sink>, SinkError> {
    Ok(match target {
        Target::Console { stream, colour } => {
            let console = match stream {
                StreamName::Stderr => ConsoleSink::stderr(),
                StreamName::Stdout => ConsoleSink::stdout(),
            };
            Box::new(console.colour(*colour))
        }
        Target::File(path) => {
            create_parent(path)?;
            Box::new(FileSink::open(path)?)
        }
        Target::Rotating {
            path,
            rotation,
            options,
        } => {
            create_parent(path)?;
            Box::new(RotatingFileSink::open(
                path,
                rotation.clone(),
                options.clone(),
            )?)
        }
    })
}

/// Creates a sink's missing directories, so a config like `path = "logs/app.log"` runs as written.
fn create_parent(path: &Path) -> Result<(), SinkError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|source| SinkError::Io {
                op: "create the directory of",
                path: path.to_path_buf(),
                source,
            }),
        _ => Ok(()),
    }
}

/// What `--check-config` asks of the sinks: that every path could be opened for appending. Creates
/// nothing.
pub(crate) fn check_paths(specs: &[SinkSpec]) -> Result<(), CollectorError> {
    for spec in specs {
        if let Some(path) = spec.target.path() {
            check_writable(path).map_err(|reason| CollectorError::NotWritable {
                index: spec.index,
                path: path.clone(),
                reason,
            })?;
        }
    }
    Ok(())
}

/// Whether `path` could be opened for appending, without creating anything: an existing file is
/// opened (not created), otherwise the nearest existing ancestor directory must be writable.
fn check_writable(path: &Path) -> Result<(), String> {
    if path.exists() {
        if path.is_dir() {
            return Err("it is a directory".into());
        }
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    while !dir.exists() {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
            _ => {
                dir = PathBuf::from(".");
                break;
            }
        }
    }
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()))
        .map_err(|_| "the path contains a NUL byte".to_string())?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let ok = unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "directory {} is not writable: {}",
            dir.display(),
            std::io::Error::last_os_error()
        ))
    }
}
