//! One `[[sink]]` table, typed by its `kind`: [`SinkConfig`] is a tagged enum of one struct per kind,
//! each holding only the keys that kind uses, built from the parts several kinds share
//! ([`SinkCommon`], [`LineConfig`], [`RotationConfig`]) and, for `otlp`, the forwarder's own typed
//! config ([`OtlpConfig`]).
//!
//! Parsing goes through the table as written (`table.rs`), so that a key of another kind is refused
//! with a message that says which kinds use it; values are checked by [`Config::validate`]
//! (`check.rs`). Serializing gives back the TOML/JSON keys, `kind` first.
//!
//! ```
//! use logfunnel_collector::config::{FileSinkConfig, SinkConfig};
//! let mut sink = FileSinkConfig::new("logs/app.log");
//! sink.line.format = Some("%(levelname)s %(message)s".into());
//! let sink = SinkConfig::from(sink);
//! assert_eq!(sink.label(), "logs/app.log");
//! ```
//!
//! [`Config::validate`]: super::Config::validate

use super::level::LevelSpec;
use crate::sink::otlp::OtlpConfig;
use crate::sink::Colour;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a sink writes to: the `kind` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// A plain file, appended to; reopened on SIGHUP (for logrotate with `create`).
    File,
    /// A file rotated by size and/or time, like Python's rotating handlers.
    RotatingFile,
    /// One normalized v1 JSON record per line; rotates when rotation keys are given.
    Jsonl,
    /// stderr or stdout.
    Console,
    /// Forwarded to an OpenTelemetry peer over OTLP/HTTP.
    Otlp,
}

impl SinkKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::File => "file",
            SinkKind::RotatingFile => "rotating_file",
            SinkKind::Jsonl => "jsonl",
            SinkKind::Console => "console",
            SinkKind::Otlp => "otlp",
        }
    }
}

/// Which stream a console sink writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamName {
    /// Standard error (the default, like Python's `StreamHandler`).
    #[default]
    Stderr,
    /// Standard output.
    Stdout,
}

impl StreamName {
    /// The config spelling, also the console sink's default label.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamName::Stderr => "stderr",
            StreamName::Stdout => "stdout",
        }
    }
}

/// One `[[sink]]` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SinkConfig {
    /// `kind = "file"`.
    File(FileSinkConfig),
    /// `kind = "rotating_file"`.
    RotatingFile(RotatingFileSinkConfig),
    /// `kind = "jsonl"`.
    Jsonl(JsonlSinkConfig),
    /// `kind = "console"`.
    Console(ConsoleSinkConfig),
    /// `kind = "otlp"`.
    Otlp(OtlpSinkConfig),
}

/// Keys every kind takes.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SinkCommon {
    /// Label in metrics and messages; defaults to the path (`stderr`/`stdout` for a console, the
    /// endpoint for an otlp sink).
    pub name: Option<String>,
    /// Minimum level, a name (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`) or a number; default
    /// `NOTSET` (everything).
    pub level: LevelSpec,
    /// Logger-name prefixes to accept (`app.db` matches `app.db` and `app.db.pool`, not `app.dbx`);
    /// empty accepts every logger.
    pub include: Vec<String>,
    /// Logger-name prefixes to refuse; wins over `include`.
    pub exclude: Vec<String>,
    /// What the writer does when this sink cannot write (`spec/delivery.md` section 5.5).
    pub on_error: OnError,
}

/// What happens to records a sink cannot write (disk full, I/O error, permission, removed
/// directory): the `on_error` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Keep the records and retry with backoff; nothing taken by this sink is acknowledged until it
    /// is written, so the senders are held back instead of losing records (the default).
    #[default]
    Block,
    /// Drop the records this sink cannot write, count them per reason, and let the other sinks go on.
    Drop,
}

impl OnError {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Block => "block",
            OnError::Drop => "drop",
        }
    }
}

/// How a sink that writes text lines formats each record (every kind but `jsonl`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LineConfig {
    /// Python `logging` format string; default [`DEFAULT_FORMAT`](crate::format::DEFAULT_FORMAT) (or
    /// its equivalent in `style`).
    pub format: Option<String>,
    /// Placeholder syntax of `format`, as Python's `Formatter(style=)`: `%` (default), `{` or `$`.
    pub style: Option<String>,
    /// `strftime` format for `%(asctime)s`; Python's default (`2024-01-02 03:04:05,678`) when absent.
    pub datefmt: Option<String>,
    /// Use UTC instead of local time, for `%(asctime)s` and for time rotation (like Python's `utc=`).
    pub utc: bool,
}

/// When and how a file rotates (`rotating_file`, and `jsonl` with `max_bytes` or `when`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RotationConfig {
    /// Rotate when a write would make the file larger than this.
    pub max_bytes: Option<u64>,
    /// Time rotation unit like Python's `TimedRotatingFileHandler`: `S`, `M`, `H`, `D`, `midnight`,
    /// `W0`-`W6` (Monday-Sunday).
    pub when: Option<String>,
    /// Number of `when` units between time rotations; default [`DEFAULT_INTERVAL`].
    pub interval: Option<u32>,
    /// With `when = "MIDNIGHT"` or `"W0"`-`"W6"`: roll over at this time of day (`"HH:MM"` or
    /// `"HH:MM:SS"`) instead of midnight, like Python's `atTime`.
    pub at_time: Option<String>,
    /// Rotated files to keep; older ones are deleted; default [`DEFAULT_BACKUP_COUNT`] (keep all).
    pub backup_count: Option<u32>,
    /// Gzip rotated files (in the background); default off.
    pub compress: Option<bool>,
    /// Delete rotated files older than this many days; default no limit.
    pub max_age_days: Option<u32>,
}

/// Default of `interval`: every `when` unit.
pub const DEFAULT_INTERVAL: u32 = 1;
/// Default of `backup_count`: keep every rotated file.
pub const DEFAULT_BACKUP_COUNT: u32 = 0;

impl RotationConfig {
    /// Whether the file rotates at all: by size or by time.
    pub fn rotates(&self) -> bool {
        self.max_bytes.is_some() || self.when.is_some()
    }

    /// The keys given that only matter once the file rotates, in config-table order.
    pub(crate) fn refinements(&self) -> impl Iterator<Item = &'static str> {
        [
            ("interval", self.interval.is_some()),
            ("at_time", self.at_time.is_some()),
            ("backup_count", self.backup_count.is_some()),
            ("compress", self.compress.is_some()),
            ("max_age_days", self.max_age_days.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
    }
}

/// `kind = "file"`: plain append to one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSinkConfig {
    /// Keys every kind takes.
    #[serde(flatten)]
    pub common: SinkCommon,
    /// File to write. Only ever taken from the config, never from a record.
    pub path: PathBuf,
    /// Line format.
    #[serde(flatten)]
    pub line: LineConfig,
}

impl FileSinkConfig {
    /// A file sink on `path` with every other key at its default.
    pub fn new(path: impl Into<PathBuf>) -> FileSinkConfig {
        FileSinkConfig {
            common: SinkCommon::default(),
            path: path.into(),
            line: LineConfig::default(),
        }
    }
}

/// `kind = "rotating_file"`: a file sink that rotates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RotatingFileSinkConfig {
    /// The file and its line format.
    #[serde(flatten)]
    pub file: FileSinkConfig,
    /// When to rotate (`max_bytes` or `when` is required) and what to keep.
    #[serde(flatten)]
    pub rotation: RotationConfig,
}

/// `kind = "jsonl"`: one normalized JSON record per line, rotating when `rotation` is given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonlSinkConfig {
    /// Keys every kind takes.
    #[serde(flatten)]
    pub common: SinkCommon,
    /// File to write. Only ever taken from the config, never from a record.
    pub path: PathBuf,
    /// Time rotation in UTC instead of local time.
    pub utc: bool,
    /// Rotation, if any (`max_bytes` or `when` is then required).
    #[serde(flatten)]
    pub rotation: Option<RotationConfig>,
}

impl JsonlSinkConfig {
    /// A JSON-lines sink on `path`, not rotating.
    pub fn new(path: impl Into<PathBuf>) -> JsonlSinkConfig {
        JsonlSinkConfig {
            common: SinkCommon::default(),
            path: path.into(),
            utc: false,
            rotation: None,
        }
    }
}

/// `kind = "console"`: stderr or stdout.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ConsoleSinkConfig {
    /// Keys every kind takes.
    #[serde(flatten)]
    pub common: SinkCommon,
    /// Line format.
    #[serde(flatten)]
    pub line: LineConfig,
    /// `stderr` (default) or `stdout`.
    pub stream: StreamName,
    /// Colour by level: `auto` (default: when the stream is a terminal), `always` or `never`.
    pub colour: Colour,
}

/// `kind = "otlp"`: forwards each record, mapped field by field (`spec/otlp.md`), to an
/// OpenTelemetry peer; a record counts as settled once the peer has accepted it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OtlpSinkConfig {
    /// Keys every kind takes.
    #[serde(flatten)]
    pub common: SinkCommon,
    /// The sink's own keys (endpoint, service_name, headers, batches, buffer, retries, TLS), typed
    /// and defaulted beside the sink (`sink/otlp/config.rs`).
    #[serde(flatten)]
    pub otlp: OtlpConfig,
}

impl OtlpSinkConfig {
    /// An otlp sink posting to `endpoint` with every other key at its default.
    pub fn new(endpoint: impl Into<String>) -> OtlpSinkConfig {
        OtlpSinkConfig {
            common: SinkCommon::default(),
            otlp: OtlpConfig::new(endpoint),
        }
    }
}

macro_rules! from_kind_config {
    ($($variant:ident($config:ty)),*) => {$(
        impl From<$config> for SinkConfig {
            fn from(c: $config) -> SinkConfig {
                SinkConfig::$variant(c)
            }
        }
    )*};
}
from_kind_config!(
    File(FileSinkConfig),
    RotatingFile(RotatingFileSinkConfig),
    Jsonl(JsonlSinkConfig),
    Console(ConsoleSinkConfig),
    Otlp(OtlpSinkConfig)
);

impl SinkConfig {
    /// The sink used when none is configured: the console on stderr.
    pub fn console() -> SinkConfig {
        SinkConfig::Console(ConsoleSinkConfig::default())
    }

    /// The `kind` key.
    pub fn kind(&self) -> SinkKind {
        match self {
            SinkConfig::File(_) => SinkKind::File,
            SinkConfig::RotatingFile(_) => SinkKind::RotatingFile,
            SinkConfig::Jsonl(_) => SinkKind::Jsonl,
            SinkConfig::Console(_) => SinkKind::Console,
            SinkConfig::Otlp(_) => SinkKind::Otlp,
        }
    }

    /// The keys every kind takes.
    pub fn common(&self) -> &SinkCommon {
        self.parts().0
    }

    /// The file written, for the file kinds.
    pub fn path(&self) -> Option<&Path> {
        self.parts().1
    }

    /// The line format, for every kind but `jsonl`.
    pub fn line(&self) -> Option<&LineConfig> {
        self.parts().2
    }

    /// The parts the accessors above read, found in one place.
    fn parts(&self) -> (&SinkCommon, Option<&Path>, Option<&LineConfig>) {
        match self {
            SinkConfig::File(c) => (&c.common, Some(&c.path), Some(&c.line)),
            SinkConfig::RotatingFile(c) => (&c.file.common, Some(&c.file.path), Some(&c.file.line)),
            SinkConfig::Jsonl(c) => (&c.common, Some(&c.path), None),
            SinkConfig::Console(c) => (&c.common, None, Some(&c.line)),
            SinkConfig::Otlp(c) => (&c.common, None, None),
        }
    }

    /// The rotation, for the kinds that rotate.
    pub fn rotation(&self) -> Option<&RotationConfig> {
        match self {
            SinkConfig::RotatingFile(c) => Some(&c.rotation),
            SinkConfig::Jsonl(c) => c.rotation.as_ref(),
            SinkConfig::File(_) | SinkConfig::Console(_) | SinkConfig::Otlp(_) => None,
        }
    }

    /// The label used in metrics: `name`, else the path, else the stream, else the endpoint.
    pub fn label(&self) -> String {
        if let Some(name) = &self.common().name {
            return name.clone();
        }
        match self {
            SinkConfig::Console(c) => c.stream.as_str().into(),
            SinkConfig::Otlp(c) => c.otlp.endpoint.clone(),
            file => file
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }
    }
}
