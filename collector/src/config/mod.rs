//! Collector configuration: one set of serde structs read from TOML (`--config collector.toml`) or from
//! JSON ([`Config::from_json_str`], used by the Python package's `logfunnel.serve(...)`).
//!
//! - [`Config`] (this file): the top-level keys, their named defaults, parsing, [`ConfigError`].
//! - `sink.rs`: each `[[sink]]` as [`SinkConfig`], a tagged enum of one struct per kind.
//! - `table.rs`: reading a `[[sink]]` key by key, so errors name the key and the kinds that use it.
//! - `check.rs`: [`Config::validate`] and [`Config::resolve_sinks`], which check values (levels,
//!   `when`, format strings, endpoints, how keys combine) and build the [`SinkSpec`]s the runtime
//!   opens (`sink/open.rs`).
//! - `level.rs`: the one rule for level names.
//!
//! Parsing rejects unknown keys and keys of another kind (naming them, e.g. `sink[1].colr`);
//! validation names the key in every error, without touching the file system or the network.
//! Opening files and binding sockets happen in [`crate::runtime::start`] (or
//! [`crate::runtime::check`] for `--check-config`), whose errors name the path or the endpoint.
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

mod check;
mod level;
mod sink;
mod spec;
mod table;

pub use check::check_endpoint;
pub use level::{level_arg, parse_level, LevelSpec};
pub use sink::{
    ConsoleSinkConfig, FileSinkConfig, JsonlSinkConfig, LineConfig, OnError, OtlpSinkConfig,
    RotatingFileSinkConfig, RotationConfig, SinkCommon, SinkConfig, SinkKind, StreamName,
    DEFAULT_BACKUP_COUNT, DEFAULT_INTERVAL,
};
pub use spec::{LineSpec, SinkSpec, Target};

use crate::format::DEFAULT_FORMAT;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use table::SinkTable;

/// The whole collector configuration. Every key has a default, so an empty file is a valid config
/// (it listens on `tcp://127.0.0.1:5555` and prints to stderr).
///
/// `S` is how the `[[sink]]` tables are held: [`SinkConfig`] (the default, what every user of the
/// crate sees); the parser first reads them as written, so that their errors can name the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config<S = SinkConfig> {
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
    /// Acknowledged delivery (`spec/delivery.md`): announce an ack `ROUTER` beside each `bind`
    /// socket, so logfunnel senders keep every record until it is written. `false` makes this a v1
    /// collector (every sender unacknowledged).
    #[serde(default = "default_acknowledge")]
    pub acknowledge: bool,
    /// Where each sender's acknowledged watermark is kept across restarts (`delivery-state.json`).
    /// Unset: `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/logfunnel`, else `~/.local/state/logfunnel`,
    /// else `/var/lib/logfunnel` (and if another collector holds that one, run without it, warned).
    /// `""`: no persistence (a restart then costs duplicates, never loss).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// While busy, written records are acknowledged (and the state saved) at least this often.
    #[serde(default = "default_ack_interval_ms")]
    pub ack_interval_ms: u64,
    /// Optional Prometheus endpoint.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Optional live re-publishing of accepted records (for `logfunnel-collector tail`).
    #[serde(default)]
    pub tail: Option<TailConfig>,
    /// Where records go. With no sink at all, records are printed on stderr.
    #[serde(default = "Vec::new", rename = "sink")]
    pub sinks: Vec<S>,
    /// CURVE encryption and the client allowlist, for endpoints other machines can reach.
    #[serde(default)]
    pub curve: Option<CurveConfig>,
    /// Accept plaintext on endpoints other machines can reach (a `bind`/`pull` address that is not
    /// loopback while `[curve]` is not set, or a non-loopback `tail.publish`). Without it the
    /// collector refuses to start: anyone who reaches the port could write or flood the log, and
    /// records would cross the network in clear text.
    #[serde(default)]
    pub insecure: bool,
}

/// `[curve]`: the collector's CURVE keys (ZeroMQ RFC 26) and who may send (a ZAP allowlist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveConfig {
    /// The collector's secret key file (from `logfunnel-collector keygen`, mode 0600). Its public
    /// half (the `.key` file beside it) is what senders set as their server key.
    pub secret_key_file: PathBuf,
    /// Public keys (40-character Z85) of the senders let in.
    #[serde(default)]
    pub allow: Vec<String>,
    /// A folder with one sender public key file per sender, re-read on SIGHUP; names starting with
    /// `.` are skipped.
    #[serde(default)]
    pub allow_dir: Option<PathBuf>,
    /// Most connections open at once on each receiving socket, authenticated or not; one more is
    /// closed as soon as it is accepted (the sender's libzmq retries with its reconnect backoff).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
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

pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
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
/// Default for `acknowledge`.
pub fn default_acknowledge() -> bool {
    true
}
/// Default for `ack_interval_ms`.
pub fn default_ack_interval_ms() -> u64 {
    10
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
/// Default for `curve.max_connections`: more senders than one collector usually serves, while two
/// full sockets still fit the common limit of 1024 open files (`ulimit -n`).
pub fn default_max_connections() -> usize {
    512
}
/// Default for a line format's `format`.
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
            acknowledge: default_acknowledge(),
            state_dir: None,
            ack_interval_ms: default_ack_interval_ms(),
            metrics: None,
            tail: None,
            sinks: Vec::new(),
            curve: None,
            insecure: false,
        }
    }
}

impl Config {
    /// Parses TOML text (unknown keys are errors naming the key).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Self::parse_toml(text, "TOML")
    }

    /// Parses JSON text with the same keys as the TOML file (`"sink": [{...}]`).
    pub fn from_json_str(text: &str) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed: Config<SinkTable> =
            serde_path_to_error::deserialize(&mut de).map_err(|e| parse_error("JSON", e))?;
        de.end().map_err(|e| ConfigError::Parse {
            origin: "JSON".into(),
            key: String::new(),
            message: e.to_string(),
        })?;
        parsed.into_typed()
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
        let parsed: Config<SinkTable> =
            serde_path_to_error::deserialize(toml::Deserializer::new(text))
                .map_err(|e| parse_error(origin, e))?;
        parsed.into_typed()
    }

    /// The sinks that will run: the configured ones, or one console sink on stderr when there are none.
    pub fn effective_sinks(&self) -> Vec<SinkConfig> {
        if self.sinks.is_empty() {
            vec![SinkConfig::console()]
        } else {
            self.sinks.clone()
        }
    }
}

/// A serde error with the dotted path of the key it is about.
fn parse_error<E: std::fmt::Display>(
    origin: &str,
    e: serde_path_to_error::Error<E>,
) -> ConfigError {
    ConfigError::Parse {
        origin: origin.to_string(),
        key: e.path().to_string(),
        message: e.into_inner().to_string().trim_end().to_string(),
    }
}

impl Config<SinkTable> {
    /// Types each `[[sink]]` by its kind; the error names the first key its kind does not take.
    fn into_typed(self) -> Result<Config, ConfigError> {
        let sinks = self
            .sinks
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.into_config(&format!("sink[{i}].")))
            .collect::<Result<_, _>>()?;
        Ok(Config {
            bind: self.bind,
            pull: self.pull,
            max_frame_bytes: self.max_frame_bytes,
            rcvhwm: self.rcvhwm,
            queue_max_records: self.queue_max_records,
            queue_max_bytes: self.queue_max_bytes,
            flush_interval_ms: self.flush_interval_ms,
            fsync: self.fsync,
            stats_interval_s: self.stats_interval_s,
            warn_interval_s: self.warn_interval_s,
            drain_timeout_ms: self.drain_timeout_ms,
            max_senders: self.max_senders,
            acknowledge: self.acknowledge,
            state_dir: self.state_dir,
            ack_interval_ms: self.ack_interval_ms,
            metrics: self.metrics,
            tail: self.tail,
            sinks,
            curve: self.curve,
            insecure: self.insecure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn err_of(toml: &str) -> String {
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
        assert_eq!(sinks[0].kind, SinkKind::Console);
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
    fn serialized_config_parses_back_to_itself() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/collector.toml");
        let c = Config::load(&example).unwrap();
        assert_eq!(c.sinks.len(), 5);
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.contains(r#"{"kind":"rotating_file","name":"app""#),
            "{json}"
        );
        assert_eq!(Config::from_json_str(&json).unwrap(), c);
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
        let e = err_of("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\nmax_bytes = \"big\"\n");
        assert!(e.starts_with("TOML: sink[0].max_bytes: "), "{e}");
        assert!(
            e.contains("invalid type: string \"big\", expected u64"),
            "{e}"
        );
    }

    #[test]
    fn a_sink_deserializes_on_its_own_too() {
        let s: SinkConfig = serde_json::from_str(r#"{"path": "a.log", "kind": "file"}"#).unwrap();
        assert_eq!(s, SinkConfig::from(FileSinkConfig::new("a.log")));
        let e = serde_json::from_str::<SinkConfig>(
            r#"{"kind": "file", "path": "a", "stream": "stdout"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("stream: only used by kind \"console\""),
            "{e}"
        );
    }

    #[test]
    fn an_otlp_sink_takes_its_keys_and_names_the_bad_ones() {
        let c = Config::from_toml_str(
            r#"
            [[sink]]
            kind = "otlp"
            name = "otel"
            endpoint = "https://otel.example:4318/v1/logs"
            service_name = "shop"
            ca_file = "/etc/ca.pem"
            gzip = false
            batch_max_records = 100
            batch_max_bytes = 65536
            batch_timeout_ms = 50
            buffer_max_records = 1000
            retry_initial_ms = 10
            retry_max_ms = 1000
            timeout_ms = 2000
            level = "INFO"
            include = ["app"]
            on_error = "drop"
            headers = [{ name = "authorization", value_env = "TOKEN" },
                       { name = "x-key", value_file = "/run/key" }, { name = "x-a", value = "b" }]
            "#,
        )
        .unwrap();
        let SinkConfig::Otlp(o) = &c.sinks[0] else {
            panic!("{:?}", c.sinks[0]);
        };
        assert_eq!(o.otlp.service_name, "shop");
        assert_eq!(o.otlp.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(
            (
                o.otlp.batch_max_records,
                o.otlp.batch_max_bytes,
                o.otlp.timeout_ms
            ),
            (100, 65536, 2000)
        );
        assert!(!o.otlp.gzip);
        assert_eq!(
            o.otlp.headers[1].value_file.as_deref(),
            Some(Path::new("/run/key"))
        );
        assert_eq!(o.common.on_error, OnError::Drop);
        let specs = c.resolve_sinks().unwrap();
        assert_eq!(
            (specs[0].kind, specs[0].label.as_str()),
            (SinkKind::Otlp, "otel")
        );
        assert!(specs[0].line.is_none() && specs[0].target.path().is_none());
        assert!(matches!(&specs[0].target, spec::Target::Otlp(t) if *t == o.otlp));
        // JSON (logfunnel.serve) gives the same, and a serialized sink parses back to itself.
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#"{"kind":"otlp","name":"otel""#), "{json}");
        assert_eq!(Config::from_json_str(&json).unwrap(), c);
        // The defaults: the endpoint is the label.
        let c = Config::from_toml_str("[[sink]]\nkind = \"otlp\"\n").unwrap();
        let specs = c.resolve_sinks().unwrap();
        assert_eq!(specs[0].label, crate::sink::otlp::config::DEFAULT_ENDPOINT);

        let cases = [
            ("endpoint = \"ftp://x\"", "sink[0].endpoint: \"ftp://x\" is not an http"),
            ("batch_max_records = 0", "sink[0].batch_max_records: must be at least 1"),
            ("ca_file = \"/ca.pem\"", "sink[0].ca_file: is only used with an https://"),
            ("headers = [{ name = \"a b\", value = \"v\" }]", "sink[0].headers[0].name"),
            ("headers = [{ name = \"a\" }]", "sink[0].headers[0]: needs exactly one of"),
            ("headers = [{ name = \"a\", val = \"v\" }]", "TOML: sink[0].headers[0].val"),
            ("timeout_ms = \"long\"", "TOML: sink[0].timeout_ms: "),
            ("path = \"a.log\"", "sink[0].path: not used by kind \"otlp\" (use endpoint)"),
            ("format = \"%(message)s\"", "sink[0].format: not used by kind \"otlp\""),
            ("utc = true", "sink[0].utc: not used by kind \"otlp\""),
            ("max_bytes = 10", "sink[0].max_bytes: only used by kinds \"rotating_file\" and \"jsonl\", not \"otlp\""),
            ("colour = \"never\"", "sink[0].colour: only used by kind \"console\""),
        ];
        for (key, want) in cases {
            let e = err_of(&format!("[[sink]]\nkind = \"otlp\"\n{key}\n"));
            assert!(e.starts_with(want), "{key:?}: error {e:?} lacks {want:?}");
        }
        for key in [
            "endpoint = \"http://x/v1/logs\"",
            "gzip = true",
            "headers = []",
        ] {
            let e = err_of(&format!("[[sink]]\nkind = \"file\"\npath = \"a\"\n{key}\n"));
            let name = key.split(' ').next().unwrap();
            let want = format!("sink[0].{name}: only used by kind \"otlp\"");
            assert!(e.starts_with(&want), "{key:?}: error {e:?} lacks {want:?}");
        }
    }

    #[test]
    fn keys_of_another_kind_name_the_kinds_that_use_them() {
        let cases = [
            (
                "[[sink]]\nkind = \"file\"\npath = \"a\"\ncolor = \"never\"\n",
                "sink[0].colour: only used by kind \"console\"",
            ),
            (
                "[[sink]]\nstream = \"stdout\"\nkind = \"jsonl\"\npath = \"a\"\n",
                "sink[0].stream: only used by kind \"console\"",
            ),
            (
                "[[sink]]\nkind = \"console\"\nwhen = \"H\"\n",
                "sink[0].when: only used by kinds \"rotating_file\" and \"jsonl\", not \"console\"",
            ),
            (
                "[[sink]]\nkind = \"jsonl\"\npath = \"a\"\nbackup_count = 3\n",
                "sink[0].backup_count: only used when the sink rotates",
            ),
            (
                "[[sink]]\nkind = \"jsonl\"\npath = \"a\"\ndatefmt = \"%H\"\n",
                "sink[0].datefmt: not used by kind \"jsonl\"",
            ),
        ];
        for (toml, want) in cases {
            let e = err_of(toml);
            assert!(
                e.starts_with(want),
                "config {toml:?}: error {e:?} lacks {want:?}"
            );
        }
    }
}
