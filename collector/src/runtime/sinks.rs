//! Opening the configured sinks: each [`ResolvedSink`] becomes a [`RunSink`] (the sink, its route and
//! level, and which formatter makes its line); sinks with the same format share one formatter, so a
//! record is formatted once however many sinks take it.

use super::CollectorError;
use crate::config::ColourChoice;
use crate::config::{ConfigError, ResolvedSink, SinkKind, StreamName};
use crate::format::{Formatter, Style};
use crate::sink::{
    Colour, ConsoleSink, FileSink, RotatingFileSink, RotatingOptions, Rotation, Sink, SinkError,
};
use std::path::Path;
use std::time::Duration;

/// A sink with what the writer needs to feed it.
pub(super) struct RunSink {
    pub(super) label: String,
    pub(super) index: usize,
    pub(super) level: i64,
    pub(super) route: crate::route::Route,
    /// Index of the formatter (sinks with the same format share one line per record).
    pub(super) format_slot: Option<usize>,
    pub(super) sink: Box<dyn Sink>,
}

/// Every sink of the config, in config order, and the formatters they share.
pub(super) struct OpenedSinks {
    pub(super) sinks: Vec<RunSink>,
    pub(super) formatters: Vec<Formatter>,
}

pub(super) fn open_sinks(resolved: &[ResolvedSink]) -> Result<OpenedSinks, CollectorError> {
    let mut formatters: Vec<Formatter> = Vec::new();
    let mut keys: Vec<(String, Style, Option<String>, bool)> = Vec::new();
    let mut sinks = Vec::with_capacity(resolved.len());
    for r in resolved {
        let c = &r.config;
        let format_slot = if c.kind == SinkKind::Jsonl {
            None
        } else {
            let key = (r.format.clone(), r.style, c.datefmt.clone(), c.utc);
            Some(match keys.iter().position(|k| *k == key) {
                Some(i) => i,
                None => {
                    let f = Formatter::new_with_style(&r.format, r.style)
                        .and_then(|f| f.with_datefmt(c.datefmt.as_deref()))
                        .map_err(|e| ConfigError::Invalid {
                            key: format!("sink[{}].format", r.index),
                            message: e.to_string(),
                        })?
                        .with_utc(c.utc);
                    formatters.push(f);
                    keys.push(key);
                    formatters.len() - 1
                }
            })
        };
        let sink_err = |source| CollectorError::Sink {
            index: r.index,
            source,
        };
        let sink: Box<dyn Sink> = match c.kind {
            SinkKind::Console => {
                let colour = match c.colour.unwrap_or_default() {
                    ColourChoice::Auto => Colour::Auto,
                    ColourChoice::Always => Colour::Always,
                    ColourChoice::Never => Colour::Never,
                };
                let s = match c.stream.unwrap_or_default() {
                    StreamName::Stderr => ConsoleSink::stderr(),
                    StreamName::Stdout => ConsoleSink::stdout(),
                };
                Box::new(s.colour(colour))
            }
            SinkKind::File | SinkKind::RotatingFile | SinkKind::Jsonl => {
                let path = c.path.as_ref().expect("validated: file sinks have a path");
                create_parent(path).map_err(sink_err)?;
                if c.has_rotation() {
                    let mut rotation = match r.when {
                        Some(when) => {
                            let t = Rotation::timed(
                                when,
                                c.interval.unwrap_or_else(crate::config::default_interval),
                                c.utc,
                            );
                            match r.at_time {
                                Some((h, m, s)) => t.at_time(h, m, s),
                                None => t,
                            }
                        }
                        None => Rotation::never(),
                    };
                    if let Some(n) = c.max_bytes {
                        rotation = rotation.and_size(n);
                    }
                    let options = RotatingOptions::new()
                        .backup_count(
                            c.backup_count
                                .unwrap_or_else(crate::config::default_backup_count)
                                as usize,
                        )
                        .compress(c.compress.unwrap_or(false))
                        .max_age(
                            c.max_age_days
                                .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
                        );
                    Box::new(RotatingFileSink::open(path, rotation, options).map_err(sink_err)?)
                } else {
                    Box::new(FileSink::open(path).map_err(sink_err)?)
                }
            }
        };
        sinks.push(RunSink {
            label: r.label.clone(),
            index: r.index,
            level: r.level,
            route: r.route.clone(),
            format_slot,
            sink,
        });
    }
    Ok(OpenedSinks { sinks, formatters })
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
