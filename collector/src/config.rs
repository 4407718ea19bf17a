//! Collector configuration: one set of serde structs read from TOML (`--config collector.toml`) or from
//! JSON ([`Config::from_json_str`], used by the Python package's `logfunnel.serve(...)`).
//!
//! Parsing only checks shapes and rejects unknown keys (naming them, e.g. `sink[1].colr`);
//! [`Config::validate`] checks values (levels, `when`, format strings, endpoints, how keys combine) and
//! names the key in every error, without touching the file system or the network. Opening files and
//! binding sockets happen in [`crate::runtime::start`] (or [`crate::runtime::check`] for
//! `--check-config`), whose errors name the path or the endpoint.
//!
//! Relative sink paths are relative to the working directory of the collector, like Python's handlers.
//!
//! ```
//! use logfunnel_collector::config::Config;
//! let config = Config::from_toml_str(r#"
//!     bind = ["tcp://127.0.0.1:5555"]
//!     [[sink]]
//!     kind = "rotating_file"
//!     path = "logs/app.log"
//!     level = "INFO"
//!     max_bytes = 10_485_760
//!     backup_count = 5
//! "#).unwrap();
//! config.validate().unwrap();
//! assert_eq!(config.flush_interval_ms, 200);
//! ```

use crate::format::{Formatter, Style, DEFAULT_FORMAT};
use crate::route::Route;
use crate::sink::When;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The whole collector configuration. Every key has a default, so an empty file is a valid config
/// (it listens on `tcp://127.0.0.1:5555` and prints to stderr).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Endpoints for `SUB` sockets (subscribed to everything); senders connect their `XPUB`/`PUB` here.
    #[serde(default = "default_bind")]
    pub bind: Vec<String>,
    /// Endpoints for `PULL` sockets, for senders in `PUSH` mode.
    #[serde(default)]
    pub pull: Vec<String>,
    /// Largest frame accepted; larger ones are counted as `oversized` and dropped.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
    /// `ZMQ_RCVHWM` of every receiving socket (messages buffered per connection by libzmq).
    #[serde(default = "default_rcvhwm")]
    pub rcvhwm: i32,
    /// Most records waiting between the receiving thread and the writing thread. Generous on purpose:
    /// while the writer is behind, the receiver must keep reading its connections, because a sender
    /// that exits leaves its last records in the kernel's socket buffers, and those are discarded if
    /// the collector stops reading them for long (its libzmq connection stops reading at `rcvhwm`).
    #[serde(default = "default_queue_max_records")]
    pub queue_max_records: usize,
    /// Most bytes (of received frames) waiting between the receiving thread and the writing thread.
    #[serde(default = "default_queue_max_bytes")]
    pub queue_max_bytes: usize,
    /// Buffered sink output is flushed at least this often, and on shutdown.
    #[serde(default = "default_flush_interval_ms")]
    pub flush_interval_ms: u64,
    /// When file sinks call `fsync`: `never` (leave it to the OS) or `on_flush` (after every flush).
    #[serde(default)]
    pub fsync: FsyncPolicy,
    /// Seconds between stats lines on stderr; 0 turns them off.
    #[serde(default = "default_stats_interval_s")]
    pub stats_interval_s: u64,
    /// At most one warning line per reason (bad frames, lost records, sink errors) in this many seconds;
    /// the suppressed ones are counted in the next line.
    #[serde(default = "default_warn_interval_s")]
    pub warn_interval_s: u64,
    /// Longest time the shutdown spends reading what is still arriving before it writes out and exits.
    #[serde(default = "default_drain_timeout_ms")]
    pub drain_timeout_ms: u64,
    /// Most senders (`sid`s) whose sequence numbers are tracked for gap detection; the least recently
    /// seen is forgotten first, so a peer inventing ids cannot grow memory without bound.
    #[serde(default = "default_max_senders")]
    pub max_senders: usize,
    /// Optional Prometheus endpoint.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Optional live re-publishing of accepted records (for `logfunnel-collector tail`).
    #[serde(default)]
    pub tail: Option<TailConfig>,
    /// Where records go. With no sink at all, records are printed on stderr.
    #[serde(default, rename = "sink")]
    pub sinks: Vec<SinkConfig>,
}

/// `[metrics]`: the Prometheus text endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port` for an HTTP listener serving `GET /metrics`; keep it on loopback.
    #[serde(default = "default_metrics_listen")]
    pub listen: String,
}

/// `[tail]`: re-publishing of accepted records on a `PUB` socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailConfig {
    /// Endpoint the `PUB` socket binds. Each message is one frame holding the normalized v1 JSON record,
    /// with no topic, so any `SUB` (including a Python cookbook listener) can read it.
    #[serde(default = "default_tail_publish")]
    pub publish: String,
    /// `ZMQ_SNDHWM` of that socket: a slow viewer loses records beyond it, the collector never waits.
    #[serde(default = "default_tail_sndhwm")]
    pub sndhwm: i32,
}

/// When file sinks are synced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Never call `fsync`; the OS writes the page cache out on its own schedule.
    #[default]
    Never,
    /// Call `fsync` after every periodic flush (at most once per `flush_interval_ms`) and on shutdown.
    OnFlush,
}

/// What a sink writes to.
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
}

impl SinkKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::File => "file",
            SinkKind::RotatingFile => "rotating_file",
            SinkKind::Jsonl => "jsonl",
            SinkKind::Console => "console",
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

/// Colouring of console lines by level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourChoice {
    /// Colour when the stream is a terminal.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// One `[[sink]]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// `file`, `rotating_file`, `jsonl` or `console`.
    pub kind: SinkKind,
    /// Label in metrics and messages; defaults to the path (or `stderr`/`stdout` for a console).
    #[serde(default)]
    pub name: Option<String>,
    /// File to write (not for `console`). Only ever taken from the config, never from a record.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Minimum level, a name (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`) or a number.
    #[serde(default = "default_level")]
    pub level: LevelSpec,
    /// Python `logging` format string; not for `jsonl`.
    #[serde(default)]
    pub format: Option<String>,
    /// Placeholder syntax of `format`, as Python's `Formatter(style=)`: `%` (default), `{` or `$`.
    #[serde(default)]
    pub style: Option<String>,
    /// `strftime` format for `%(asctime)s`; Python's default (`2024-01-02 03:04:05,678`) when absent.
    #[serde(default)]
    pub datefmt: Option<String>,
    /// Use UTC instead of local time, for `%(asctime)s` and for time rotation (like Python's `utc=`).
    #[serde(default)]
    pub utc: bool,
    /// Logger-name prefixes to accept (`app.db` matches `app.db` and `app.db.pool`, not `app.dbx`);
    /// empty accepts every logger.
    #[serde(default)]
    pub include: Vec<String>,
    /// Logger-name prefixes to refuse; wins over `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Rotate when a write would make the file larger than this (`rotating_file`, `jsonl`).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Time rotation unit like Python's `TimedRotatingFileHandler`: `S`, `M`, `H`, `D`, `midnight`,
    /// `W0`-`W6` (Monday-Sunday).
    #[serde(default)]
    pub when: Option<String>,
    /// Number of `when` units between time rotations (default 1).
    #[serde(default)]
    pub interval: Option<u32>,
    /// With `when = "MIDNIGHT"` or `"W0"`-`"W6"`: roll over at this time of day (`"HH:MM"` or
    /// `"HH:MM:SS"`) instead of midnight, like Python's `atTime`.
    #[serde(default)]
    pub at_time: Option<String>,
    /// Rotated files to keep; older ones are deleted (0 keeps all).
    #[serde(default)]
    pub backup_count: Option<u32>,
    /// Gzip rotated files (in the background).
    #[serde(default)]
    pub compress: Option<bool>,
    /// Delete rotated files older than this many days.
    #[serde(default)]
    pub max_age_days: Option<u32>,
    /// `stderr` or `stdout` (`console` only).
    #[serde(default)]
    pub stream: Option<StreamName>,
    /// `auto`, `always` or `never` (`console` only).
    #[serde(default, alias = "color")]
    pub colour: Option<ColourChoice>,
}

impl SinkConfig {
    /// A sink of `kind` with every other key at its default.
    pub fn new(kind: SinkKind) -> SinkConfig {
        SinkConfig {
            kind,
            name: None,
            path: None,
            level: default_level(),
            format: None,
            style: None,
            datefmt: None,
            utc: false,
            include: Vec::new(),
            exclude: Vec::new(),
            max_bytes: None,
            when: None,
            interval: None,
            at_time: None,
            backup_count: None,
            compress: None,
            max_age_days: None,
            stream: None,
            colour: None,
        }
    }

    /// The label used in metrics: `name`, else the path, else the stream.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match (&self.path, self.kind) {
            (Some(p), _) => p.display().to_string(),
            (None, SinkKind::Console) => match self.stream.unwrap_or_default() {
                StreamName::Stderr => "stderr".into(),
                StreamName::Stdout => "stdout".into(),
            },
            (None, kind) => kind.as_str().into(),
        }
    }

    /// Whether any rotation key is set.
    pub fn has_rotation(&self) -> bool {
        self.max_bytes.is_some() || self.when.is_some()
    }
}

/// A level as written in the config: a name or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelSpec {
    /// `DEBUG`, `info`, ...
    Name(String),
    /// `20`, ...
    Number(i64),
}

impl LevelSpec {
    /// The numeric level, or `None` for an unknown name.
    pub fn resolve(&self) -> Option<i64> {
        match self {
            LevelSpec::Number(n) => Some(*n),
            LevelSpec::Name(s) => parse_level(s),
        }
    }
}

impl fmt::Display for LevelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LevelSpec::Name(s) => write!(f, "{s:?}"),
            LevelSpec::Number(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for LevelSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LevelSpec::Name(n) => s.serialize_str(n),
            LevelSpec::Number(n) => s.serialize_i64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for LevelSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LevelSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LevelSpec, E> {
                Ok(LevelSpec::Name(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LevelSpec, E> {
                Ok(LevelSpec::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LevelSpec, E> {
                i64::try_from(v)
                    .map(LevelSpec::Number)
                    .map_err(|_| E::custom("level number too large"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Python's level names (case-insensitive, `WARN` and `FATAL` included) or a decimal number.
pub fn parse_level(s: &str) -> Option<i64> {
    let t = s.trim();
    match t.to_ascii_uppercase().as_str() {
        "CRITICAL" | "FATAL" => Some(50),
        "ERROR" => Some(40),
        "WARNING" | "WARN" => Some(30),
        "INFO" => Some(20),
        "DEBUG" => Some(10),
        "NOTSET" => Some(0),
        _ => t.parse::<i64>().ok(),
    }
}

/// Why a configuration cannot be used. Every variant names the file, key, path or endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML/JSON, has an unknown key or a value of the wrong type.
    #[error("{origin}: {}{message}", key_prefix(key))]
    Parse {
        /// File name, or `TOML`/`JSON` for a string.
        origin: String,
        /// Dotted path of the key (`sink[1].when`), empty when the text itself is broken.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range or does not combine with another key.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted path of the key (`sink[1].when`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!("{key}: ")
    }
}

impl ConfigError {
    /// The key this error is about, if it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Parse { key, .. } | ConfigError::Invalid { key, .. }
                if !key.is_empty() =>
            {
                Some(key)
            }
            _ => None,
        }
    }
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// Default for `bind`: the cookbook recipe's port, on loopback so nothing is exposed by accident.
pub fn default_bind() -> Vec<String> {
    vec![DEFAULT_BIND.to_string()]
}
/// The default `bind` endpoint.
pub const DEFAULT_BIND: &str = "tcp://127.0.0.1:5555";
/// Default for `max_frame_bytes`: 1 MiB, the senders' default too.
pub fn default_max_frame_bytes() -> usize {
    logfunnel_core::record::DEFAULT_MAX_FRAME_BYTES
}
/// Default for `rcvhwm`: small, because memory grows with it per connection (bench item 4b: 561 MiB
/// with 64 sender sockets at 10 000) while senders hold records losslessly in their own bounded
/// queues and wait at exit as long as records keep moving.
pub fn default_rcvhwm() -> i32 {
    1_000
}
/// Default for `queue_max_records`: with the writer at several hundred thousand records/s this is
/// tens of milliseconds of smoothing; each queued message also pins part of libzmq's receive
/// buffer, so a longer queue mostly costs memory (bench item 3's peak RSS).
pub fn default_queue_max_records() -> usize {
    16_384
}
/// Default for `queue_max_bytes`: 16 MiB.
pub fn default_queue_max_bytes() -> usize {
    16 * 1024 * 1024
}
/// Default for `flush_interval_ms`.
pub fn default_flush_interval_ms() -> u64 {
    200
}
/// Default for `stats_interval_s`: off.
pub fn default_stats_interval_s() -> u64 {
    0
}
/// Default for `warn_interval_s`.
pub fn default_warn_interval_s() -> u64 {
    5
}
/// Default for `drain_timeout_ms`.
pub fn default_drain_timeout_ms() -> u64 {
    5_000
}
/// Default for `max_senders`.
pub fn default_max_senders() -> usize {
    10_000
}
/// Default for `metrics.listen`.
pub fn default_metrics_listen() -> String {
    "127.0.0.1:9102".to_string()
}
/// Default for `tail.publish`.
pub fn default_tail_publish() -> String {
    "tcp://127.0.0.1:5556".to_string()
}
/// Default for `tail.sndhwm`.
pub fn default_tail_sndhwm() -> i32 {
    10_000
}
/// Default for a sink's `level`: everything.
pub fn default_level() -> LevelSpec {
    LevelSpec::Name("NOTSET".to_string())
}
/// Default for a sink's `interval`.
pub fn default_interval() -> u32 {
    1
}
/// Default for a sink's `backup_count`: keep every rotated file.
pub fn default_backup_count() -> u32 {
    0
}
/// Default for a sink's `format`.
pub fn default_format() -> &'static str {
    DEFAULT_FORMAT
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: default_bind(),
            pull: Vec::new(),
            max_frame_bytes: default_max_frame_bytes(),
            rcvhwm: default_rcvhwm(),
            queue_max_records: default_queue_max_records(),
            queue_max_bytes: default_queue_max_bytes(),
            flush_interval_ms: default_flush_interval_ms(),
            fsync: FsyncPolicy::default(),
            stats_interval_s: default_stats_interval_s(),
            warn_interval_s: default_warn_interval_s(),
            drain_timeout_ms: default_drain_timeout_ms(),
            max_senders: default_max_senders(),
            metrics: None,
            tail: None,
            sinks: Vec::new(),
        }
    }
}

/// A sink after validation: every default applied, level resolved, route built.
#[derive(Debug, Clone)]
pub struct ResolvedSink {
    /// Position in `sink`, for messages (`sink[2]`).
    pub index: usize,
    /// Label for metrics.
    pub label: String,
    /// The config it came from.
    pub config: SinkConfig,
    /// Minimum level.
    pub level: i64,
    /// Logger-name filter.
    pub route: Route,
    /// Format string (unused for `jsonl`).
    pub format: String,
    /// Placeholder syntax of `format`.
    pub style: Style,
    /// Time rotation, if any.
    pub when: Option<When>,
    /// Time of day for `MIDNIGHT`/`W0`-`W6` rotation (hour, minute, second).
    pub at_time: Option<(u32, u32, u32)>,
}

impl Config {
    /// Parses TOML text (unknown keys are errors naming the key).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Self::parse_toml(text, "TOML")
    }

    /// Parses JSON text with the same keys as the TOML file (`"sink": [{...}]`).
    pub fn from_json_str(text: &str) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Parse {
                origin: "JSON".into(),
                key,
                message: e.into_inner().to_string(),
            }
        })?;
        de.end().map_err(|e| ConfigError::Parse {
            origin: "JSON".into(),
            key: String::new(),
            message: e.to_string(),
        })?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_toml(&text, &path.display().to_string())
    }

    fn parse_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Parse {
                origin: origin.to_string(),
                key,
                message: e.into_inner().to_string().trim_end().to_string(),
            }
        })
    }

    /// The sinks that will run: the configured ones, or one console sink on stderr when there are none.
    pub fn effective_sinks(&self) -> Vec<SinkConfig> {
        if self.sinks.is_empty() {
            vec![SinkConfig::new(SinkKind::Console)]
        } else {
            self.sinks.clone()
        }
    }

    /// Checks every value without touching files or sockets; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.resolve_sinks().map(|_| ())
    }

    /// Validates and returns the sinks with their defaults applied.
    pub fn resolve_sinks(&self) -> Result<Vec<ResolvedSink>, ConfigError> {
        if self.bind.is_empty() && self.pull.is_empty() {
            return Err(invalid(
                "bind",
                "no endpoint to receive on (set bind or pull)",
            ));
        }
        let mut seen_endpoints: HashMap<&str, String> = HashMap::new();
        for (list, name) in [(&self.bind, "bind"), (&self.pull, "pull")] {
            for (i, ep) in list.iter().enumerate() {
                let key = format!("{name}[{i}]");
                check_endpoint(ep).map_err(|m| invalid(&key, m))?;
                if is_ephemeral(ep) {
                    continue;
                }
                if let Some(first) = seen_endpoints.insert(ep, key.clone()) {
                    return Err(invalid(key, format!("{ep:?} is already used by {first}")));
                }
            }
        }
        if self.max_frame_bytes < 1024 {
            return Err(invalid("max_frame_bytes", "must be at least 1024"));
        }
        if self.max_frame_bytes > 256 * 1024 * 1024 {
            return Err(invalid(
                "max_frame_bytes",
                "must be at most 268435456 (256 MiB)",
            ));
        }
        if self.rcvhwm < 0 {
            return Err(invalid("rcvhwm", "must not be negative (0 means no limit)"));
        }
        if self.queue_max_records == 0 {
            return Err(invalid("queue_max_records", "must be at least 1"));
        }
        if self.queue_max_bytes < self.max_frame_bytes {
            return Err(invalid(
                "queue_max_bytes",
                format!(
                    "must be at least max_frame_bytes ({}) so one record always fits",
                    self.max_frame_bytes
                ),
            ));
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 3_600_000 {
            return Err(invalid(
                "flush_interval_ms",
                "must be between 1 and 3600000",
            ));
        }
        if self.max_senders == 0 {
            return Err(invalid("max_senders", "must be at least 1"));
        }
        if let Some(m) = &self.metrics {
            if m.listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid(
                    "metrics.listen",
                    format!("{:?} is not an address like 127.0.0.1:9102", m.listen),
                ));
            }
        }
        if let Some(t) = &self.tail {
            check_endpoint(&t.publish).map_err(|m| invalid("tail.publish", m))?;
            if let Some(first) = seen_endpoints
                .get(t.publish.as_str())
                .filter(|_| !is_ephemeral(&t.publish))
            {
                return Err(invalid(
                    "tail.publish",
                    format!("{:?} is already used by {first}", t.publish),
                ));
            }
            if t.sndhwm < 0 {
                return Err(invalid("tail.sndhwm", "must not be negative"));
            }
        }
        let sinks = self.effective_sinks();
        let mut out = Vec::with_capacity(sinks.len());
        let mut paths: HashMap<PathBuf, usize> = HashMap::new();
        let mut labels: HashMap<String, usize> = HashMap::new();
        for (i, s) in sinks.iter().enumerate() {
            let r = resolve_sink(i, s)?;
            if let Some(p) = &s.path {
                let norm = normalize_path(p);
                if let Some(first) = paths.insert(norm, i) {
                    return Err(invalid(
                        format!("sink[{i}].path"),
                        format!("{} is already written by sink[{first}]", p.display()),
                    ));
                }
            }
            if let Some(first) = labels.insert(r.label.clone(), i) {
                return Err(invalid(
                    format!("sink[{i}].name"),
                    format!("{:?} is already the name of sink[{first}]", r.label),
                ));
            }
            out.push(r);
        }
        Ok(out)
    }
}

/// An absolute, lexically cleaned path, so `logs/a.log` and `./logs/a.log` are seen as one file.
fn normalize_path(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A TCP endpoint on port 0 or `*`: each bind gets its own port, so two of them do not clash.
fn is_ephemeral(ep: &str) -> bool {
    ep.starts_with("tcp://") && (ep.ends_with(":0") || ep.ends_with(":*"))
}

/// `tcp://host:port` (port a number or `*`) or `ipc://path`.
pub fn check_endpoint(ep: &str) -> Result<(), String> {
    if let Some(rest) = ep.strip_prefix("tcp://") {
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(format!("{ep:?} has no port (expected tcp://HOST:PORT)"));
        };
        if host.is_empty() {
            return Err(format!("{ep:?} has no host (expected tcp://HOST:PORT)"));
        }
        if port != "*" && port.parse::<u16>().is_err() {
            return Err(format!(
                "{ep:?}: port {port:?} is not a number from 0 to 65535"
            ));
        }
        Ok(())
    } else if let Some(path) = ep.strip_prefix("ipc://") {
        if path.is_empty() {
            Err(format!(
                "{ep:?} has no path (expected ipc:///path/to/socket)"
            ))
        } else {
            Ok(())
        }
    } else {
        Err(format!(
            "{ep:?} is not a tcp://HOST:PORT or ipc://PATH endpoint"
        ))
    }
}

fn resolve_sink(i: usize, s: &SinkConfig) -> Result<ResolvedSink, ConfigError> {
    let key = |k: &str| format!("sink[{i}].{k}");
    let is_file = s.kind != SinkKind::Console;
    match (&s.path, is_file) {
        (None, true) => {
            return Err(invalid(
                key("path"),
                format!("required for kind {:?}", s.kind.as_str()),
            ))
        }
        (Some(_), false) => {
            return Err(invalid(
                key("path"),
                "not used by kind \"console\" (use stream)",
            ))
        }
        (Some(p), true) if p.as_os_str().is_empty() => {
            return Err(invalid(key("path"), "must not be empty"))
        }
        _ => {}
    }
    if is_file && (s.stream.is_some() || s.colour.is_some()) {
        let k = if s.stream.is_some() {
            "stream"
        } else {
            "colour"
        };
        return Err(invalid(key(k), "only used by kind \"console\""));
    }
    let rotation_keys = [
        ("max_bytes", s.max_bytes.is_some()),
        ("when", s.when.is_some()),
        ("interval", s.interval.is_some()),
        ("at_time", s.at_time.is_some()),
        ("backup_count", s.backup_count.is_some()),
        ("compress", s.compress.is_some()),
        ("max_age_days", s.max_age_days.is_some()),
    ];
    let rotates = matches!(s.kind, SinkKind::RotatingFile | SinkKind::Jsonl);
    if !rotates {
        if let Some((k, _)) = rotation_keys.iter().find(|(_, set)| *set) {
            return Err(invalid(
                key(k),
                format!(
                    "only used by kinds \"rotating_file\" and \"jsonl\", not {:?}",
                    s.kind.as_str()
                ),
            ));
        }
    }
    if s.kind == SinkKind::RotatingFile && !s.has_rotation() {
        return Err(invalid(
            key("max_bytes"),
            "kind \"rotating_file\" needs max_bytes or when (or use kind \"file\")",
        ));
    }
    if s.kind == SinkKind::Jsonl && !s.has_rotation() {
        if let Some((k, _)) = rotation_keys[2..].iter().find(|(_, set)| *set) {
            return Err(invalid(
                key(k),
                "only used when the sink rotates (set max_bytes or when)",
            ));
        }
    }
    if s.max_bytes == Some(0) {
        return Err(invalid(key("max_bytes"), "must be at least 1"));
    }
    let when = match &s.when {
        Some(w) => Some(w.parse::<When>().map_err(|_| {
            invalid(
                key("when"),
                format!("{w:?} is not one of S, M, H, D, MIDNIGHT, W0-W6"),
            )
        })?),
        None => None,
    };
    if s.interval.is_some() && when.is_none() {
        return Err(invalid(key("interval"), "only used with when"));
    }
    let at_time = match &s.at_time {
        Some(t) => {
            if !matches!(when, Some(When::Midnight | When::Weekday(_))) {
                return Err(invalid(
                    key("at_time"),
                    "only used with when = \"MIDNIGHT\" or \"W0\"-\"W6\"",
                ));
            }
            Some(parse_time_of_day(t).ok_or_else(|| {
                invalid(
                    key("at_time"),
                    format!("{t:?} is not a time of day like \"02:30\" or \"02:30:00\""),
                )
            })?)
        }
        None => None,
    };
    if s.interval == Some(0) {
        return Err(invalid(key("interval"), "must be at least 1"));
    }
    if s.max_age_days == Some(0) {
        return Err(invalid(key("max_age_days"), "must be at least 1"));
    }
    let level = s.level.resolve().ok_or_else(|| {
        invalid(
            key("level"),
            format!(
                "{} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET or a number)",
                s.level
            ),
        )
    })?;
    if level < 0 {
        return Err(invalid(key("level"), "must not be negative"));
    }
    for (list, name) in [(&s.include, "include"), (&s.exclude, "exclude")] {
        for (j, p) in list.iter().enumerate() {
            if p.is_empty() {
                return Err(invalid(
                    format!("sink[{i}].{name}[{j}]"),
                    "an empty prefix would match every logger; leave the list empty instead",
                ));
            }
        }
    }
    if s.kind == SinkKind::Jsonl && (s.format.is_some() || s.style.is_some() || s.datefmt.is_some())
    {
        let k = if s.format.is_some() {
            "format"
        } else if s.style.is_some() {
            "style"
        } else {
            "datefmt"
        };
        return Err(invalid(
            key(k),
            "not used by kind \"jsonl\" (it writes the normalized JSON record)",
        ));
    }
    let style = match s.style.as_deref() {
        None => Style::Percent,
        Some(v) => Style::parse(v).ok_or_else(|| {
            invalid(
                key("style"),
                format!("{v:?} is not one of \"%\", \"{{\" or \"$\""),
            )
        })?,
    };
    let format = match &s.format {
        Some(f) => f.clone(),
        None if style == Style::Percent => default_format().to_string(),
        None => style.default_format().to_string(),
    };
    if s.kind != SinkKind::Jsonl {
        let f = Formatter::new_with_style(&format, style)
            .map_err(|e| invalid(key("format"), e.to_string()))?;
        f.with_datefmt(s.datefmt.as_deref())
            .map_err(|e| invalid(key("datefmt"), e.to_string()))?;
    }
    if let Some(name) = &s.name {
        if name.trim().is_empty() {
            return Err(invalid(key("name"), "must not be empty"));
        }
    }
    Ok(ResolvedSink {
        index: i,
        label: s.label(),
        config: s.clone(),
        level,
        route: Route::new(s.include.clone(), s.exclude.clone()),
        format,
        style,
        when,
        at_time,
    })
}

/// `HH:MM` or `HH:MM:SS` as (hour, minute, second).
fn parse_time_of_day(s: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str| (p.len() == 2).then(|| p.parse::<u32>().ok()).flatten();
    let h = num(parts[0])?;
    let m = num(parts[1])?;
    let sec = match parts.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    (h < 24 && m < 60 && sec < 60).then_some((h, m, sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(toml: &str) -> String {
        match Config::from_toml_str(toml) {
            Err(e) => e.to_string(),
            Ok(c) => c.validate().unwrap_err().to_string(),
        }
    }

    #[test]
    fn empty_config_has_defaults_and_a_console_sink() {
        let c = Config::from_toml_str("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.bind, vec!["tcp://127.0.0.1:5555"]);
        let sinks = c.resolve_sinks().unwrap();
        assert_eq!(sinks.len(), 1);
        assert_eq!(sinks[0].config.kind, SinkKind::Console);
        assert_eq!(sinks[0].label, "stderr");
    }

    #[test]
    fn json_and_toml_give_the_same_config() {
        let t = Config::from_toml_str(
            "bind = [\"ipc:///tmp/x\"]\nstats_interval_s = 3\n[[sink]]\nkind = \"file\"\npath = \"a.log\"\nlevel = 30\n",
        )
        .unwrap();
        let j = Config::from_json_str(
            r#"{"bind": ["ipc:///tmp/x"], "stats_interval_s": 3, "sink": [{"kind": "file", "path": "a.log", "level": 30}]}"#,
        )
        .unwrap();
        assert_eq!(t, j);
        j.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err_of("[[sink]]\nkind = \"console\"\ncolr = \"always\"\n");
        assert!(e.contains("sink[0].colr") || e.contains("colr"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
        let e = err_of("binds = []\n");
        assert!(e.contains("binds"), "{e}");
        let e = Config::from_json_str(r#"{"sink": [{"kind": "file", "path": "x", "bogus": 1}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("sink[0].bogus") || e.contains("bogus"), "{e}");
        assert!(e.starts_with("JSON: sink[0]"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let e = err_of("flush_interval_ms = \"fast\"\n");
        assert!(e.contains("flush_interval_ms"), "{e}");
        let e = err_of("[[sink]]\nkind = \"folder\"\n");
        assert!(e.contains("sink[0].kind"), "{e}");
    }

    #[test]
    fn values_are_validated_with_the_key() {
        let cases = [
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\nwhen = \"X\"\n", "sink[0].when: \"X\" is not one of S, M, H, D, MIDNIGHT, W0-W6"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nlevel = \"LOUD\"\n", "sink[0].level"),
            ("[[sink]]\nkind = \"file\"\n", "sink[0].path: required"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nmax_bytes = 10\n", "sink[0].max_bytes"),
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\n", "sink[0].max_bytes"),
            ("[[sink]]\nkind = \"console\"\npath = \"a\"\n", "sink[0].path"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstream = \"stdout\"\n", "sink[0].stream"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\n[[sink]]\nkind = \"jsonl\"\npath = \"./a\"\n", "sink[1].path"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\ninclude = [\"\"]\n", "sink[0].include[0]"),
            ("[[sink]]\nkind = \"jsonl\"\npath = \"a\"\nformat = \"%(message)s\"\n", "sink[0].format"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstyle = \"#\"\n", "sink[0].style: \"#\" is not one of"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstyle = \"{\"\nformat = \"{nope!x}\"\n", "sink[0].format"),
            ("[[sink]]\nkind = \"jsonl\"\npath = \"a\"\nstyle = \"{\"\n", "sink[0].style"),
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\nwhen = \"H\"\ninterval = 0\n", "sink[0].interval"),
            ("bind = [\"udp://x:1\"]\n", "bind[0]"),
            ("bind = [\"tcp://127.0.0.1\"]\n", "bind[0]"),
            ("bind = []\npull = [\"tcp://127.0.0.1:1\", \"tcp://127.0.0.1:1\"]\n", "pull[1]"),
            ("max_frame_bytes = 10\n", "max_frame_bytes"),
            ("[metrics]\nlisten = \"localhost\"\n", "metrics.listen"),
            ("[tail]\npublish = \"tcp://127.0.0.1:5555\"\n", "tail.publish"),
        ];
        for (toml, want) in cases {
            let e = err_of(toml);
            assert!(
                e.contains(want),
                "config {toml:?}: error {e:?} lacks {want:?}"
            );
        }
    }

    #[test]
    fn levels_parse_by_name_and_number() {
        assert_eq!(parse_level("warn"), Some(30));
        assert_eq!(parse_level("CRITICAL"), Some(50));
        assert_eq!(parse_level("15"), Some(15));
        assert_eq!(parse_level("loud"), None);
        let c = Config::from_toml_str("[[sink]]\nkind = \"console\"\nlevel = 35\n").unwrap();
        assert_eq!(c.resolve_sinks().unwrap()[0].level, 35);
    }
}
