//! What validation hands to the runtime: one [`SinkSpec`] per sink, with every default applied and
//! every value parsed, so nothing downstream reads the config's raw strings again. Opening it is
//! the sink factory's job (`sink/open.rs`).

use super::sink::{OnError, SinkKind, StreamName};
use crate::format::{Formatter, Style};
use crate::route::Route;
use crate::sink::otlp::OtlpConfig;
use crate::sink::{Colour, RotatingOptions, Rotation};
use std::path::PathBuf;

/// A sink after validation.
#[derive(Debug, Clone)]
pub struct SinkSpec {
    /// Position in `sink`, for messages (`sink[2]`).
    pub index: usize,
    /// Label for metrics and messages.
    pub label: String,
    /// The `kind` it came from (a metrics label).
    pub kind: SinkKind,
    /// Minimum level.
    pub level: i64,
    /// Logger-name filter.
    pub route: Route,
    /// How records become lines; `None` for `jsonl`, which writes the normalized JSON record, and
    /// for `otlp`, which maps the record's fields.
    pub line: Option<LineSpec>,
    /// Where the lines go.
    pub target: Target,
    /// What the writer does when this sink cannot write.
    pub on_error: OnError,
}

/// A checked line format. Sinks whose specs are equal share one formatted line per record.
#[derive(Debug, Clone)]
pub struct LineSpec {
    /// Format string, defaults applied.
    pub format: String,
    /// Placeholder syntax of `format`.
    pub style: Style,
    /// `strftime` format for `%(asctime)s`.
    pub datefmt: Option<String>,
    /// Times in UTC.
    pub utc: bool,
    /// The formatter built from the four above while validating.
    pub formatter: Formatter,
}

impl PartialEq for LineSpec {
    /// The formatter is a function of the other fields.
    fn eq(&self, other: &LineSpec) -> bool {
        (&self.format, self.style, &self.datefmt, self.utc)
            == (&other.format, other.style, &other.datefmt, other.utc)
    }
}

/// Where a sink writes.
#[derive(Debug, Clone)]
pub enum Target {
    /// stderr or stdout.
    Console {
        /// Which stream.
        stream: StreamName,
        /// Colour by level.
        colour: Colour,
    },
    /// Plain append to a file.
    File(PathBuf),
    /// A file rotated by size and/or time.
    Rotating {
        /// The file.
        path: PathBuf,
        /// When it rotates.
        rotation: Rotation,
        /// What is kept.
        options: RotatingOptions,
    },
    /// An OpenTelemetry peer over OTLP/HTTP (validated; header values and the CA file are read
    /// when the sink opens).
    Otlp(OtlpConfig),
}

impl Target {
    /// The file written, if any.
    pub fn path(&self) -> Option<&PathBuf> {
        match self {
            Target::File(path) | Target::Rotating { path, .. } => Some(path),
            Target::Console { .. } | Target::Otlp(_) => None,
        }
    }
}
