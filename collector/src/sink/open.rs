//! The sink factory: from validated [`SinkSpec`]s to open sinks and what the writer needs to feed
//! them ([`open_sinks`]), or, for `--check-config`, to the answer "could these paths be written?"
//! without creating anything ([`check_paths`]).
//!
//! Sinks with the same line format share one formatter, so the writer formats each record once per
//! distinct format, not once per sink.

use super::otlp::client::Client;
use super::otlp::{OtlpConfig, OtlpConfigError, OtlpSink, OtlpStartError, StatsHandle};
use super::{ConsoleSink, FileSink, RotatingFileSink, Sink, SinkError};
use crate::config::{default_warn_interval_s, invalid, OnError, SinkSpec, StreamName, Target};
use crate::format::Formatter;
use crate::metrics::Metrics;
use crate::route::Route;
use crate::warn::Warner;
use crate::CollectorError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
    /// What the writer hands the sink beside the record.
    pub(crate) line: SinkLine,
    /// The sink itself.
    pub(crate) sink: Box<dyn Sink>,
    /// What the writer does when it cannot write.
    pub(crate) on_error: OnError,
    /// For an otlp sink, its counters, for the metrics ([`OpenedSinks::attach_metrics`]).
    pub(crate) otlp_stats: Option<StatsHandle>,
}

/// The text the writer makes for a sink: its formatted line, the JSON record, or nothing (a sink
/// that maps the record's fields itself, `otlp`), so no record is encoded for a sink that ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SinkLine {
    /// The line of formatter [`OpenedSinks::formatters`]`[i]`.
    Formatted(usize),
    /// The normalized JSON record (`jsonl`).
    Json,
    /// Nothing: the sink reads the record.
    None,
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
        let line = match &spec.line {
            Some(line) => {
                SinkLine::Formatted(shared.iter().position(|s| s == line).unwrap_or_else(|| {
                    formatters.push(line.formatter.clone());
                    shared.push(line.clone());
                    shared.len() - 1
                }))
            }
            None if matches!(spec.target, Target::Otlp(..)) => SinkLine::None,
            None => SinkLine::Json,
        };
        let (sink, otlp_stats) = open(spec)?;
        sinks.push(RunSink {
            label: spec.label.clone(),
            index: spec.index,
            level: spec.level,
            route: spec.route.clone(),
            line,
            sink,
            on_error: spec.on_error,
            otlp_stats,
        });
    }
    Ok(OpenedSinks { sinks, formatters })
}

impl OpenedSinks {
    /// Gives the metrics the counters of every otlp sink, so the stats line and `/metrics` show
    /// them (`logfunnel_otlp_*`). Called by the runtime right after it made the metrics.
    pub(crate) fn attach_metrics(&self, metrics: &Metrics) {
        for s in &self.sinks {
            if let Some(stats) = &s.otlp_stats {
                metrics.attach_otlp(s.index, stats.clone());
            }
        }
    }
}

/// Starts an otlp sink's forwarder; a header value or CA file that cannot be read is a config
/// error naming the key (`sink[2].headers[0].value_file`).
fn open_otlp(index: usize, config: &OtlpConfig, label: &str) -> Result<OtlpSink, CollectorError> {
    let warner = Arc::new(Warner::new(Duration::from_secs(default_warn_interval_s())));
    OtlpSink::open(config, label, warner).map_err(|e| match e {
        OtlpStartError::Config(e) => otlp_key_error(index, e),
        OtlpStartError::Thread(source) => CollectorError::Thread {
            name: "otlp",
            source,
        },
    })
}

fn otlp_key_error(index: usize, e: OtlpConfigError) -> CollectorError {
    CollectorError::Config(invalid(format!("sink[{index}].{}", e.key), e.message))
}

/// Opens one sink; an otlp sink comes with its counters.
fn open(spec: &SinkSpec) -> Result<(Box<dyn Sink>, Option<StatsHandle>), CollectorError> {
    let in_sink = |source| CollectorError::Sink {
        index: spec.index,
        source,
    };
    let sink: Box<dyn Sink> = match &spec.target {
        Target::Console { stream, colour } => {
            let console = match stream {
                StreamName::Stderr => ConsoleSink::stderr(),
                StreamName::Stdout => ConsoleSink::stdout(),
            };
            Box::new(console.colour(*colour))
        }
        Target::File(path) => {
            create_parent(path).map_err(in_sink)?;
            Box::new(FileSink::open(path).map_err(in_sink)?)
        }
        Target::Rotating {
            path,
            rotation,
            options,
        } => {
            create_parent(path).map_err(in_sink)?;
            Box::new(
                RotatingFileSink::open(path, rotation.clone(), options.clone()).map_err(in_sink)?,
            )
        }
        Target::Otlp(config) => {
            let sink = open_otlp(spec.index, config, &spec.label)?;
            let stats = sink.stats_handle();
            return Ok((Box::new(sink), stats));
        }
    };
    Ok((sink, None))
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

/// What `--check-config` asks of the sinks: that every path could be opened for appending, and
/// that every otlp sink's CA file and header values can be read. Creates nothing, connects nowhere.
pub(crate) fn check_paths(specs: &[SinkSpec]) -> Result<(), CollectorError> {
    for spec in specs {
        if let Target::Otlp(config) = &spec.target {
            // Reads the CA file and the header values as opening would, without connecting.
            Client::new(config).map_err(|e| otlp_key_error(spec.index, e))?;
        }
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
