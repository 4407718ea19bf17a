//! The wire record, schema version 1 (see `spec/wire-format.md`).
//!
//! One ZeroMQ frame holds one UTF-8 JSON object whose keys are Python `LogRecord` attribute names, so
//! `logging.makeLogRecord(json.loads(frame))` rebuilds a usable record in any Python process. User fields
//! (Python's `extra=`) travel as further top-level keys, so `%(user_id)s` works on the receiving side.
//!
//! ```
//! use logfunnel_core::record::{Record, Lang};
//! let mut r = Record::new("app.db", 20, "connected");
//! r.push_extra("user_id", serde_json::json!(42));
//! let json = r.to_json();
//! assert!(json.contains(r#""levelname":"INFO""#));
//! assert!(json.contains(r#""user_id":42"#));
//! # let _ = Lang::Rust;
//! ```

use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// The schema version this crate writes in the `v` key.
pub const WIRE_VERSION: u64 = 1;

/// Default largest frame either end accepts (1 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Keys that have a meaning in the v1 schema. A user field with one of these names is sent as
/// `extra.<name>` so that it can never overwrite a schema field.
pub const RESERVED_KEYS: &[&str] = &[
    // In the order the encoder writes them (the collector's fast decoding path relies on it).
    "v",
    "name",
    "msg",
    "args",
    "levelno",
    "levelname",
    "created",
    "msecs",
    "relativeCreated",
    "pathname",
    "filename",
    "module",
    "lineno",
    "funcName",
    "process",
    "processName",
    "thread",
    "threadName",
    "taskName",
    "exc_text",
    "stack_info",
    "host",
    "lang",
    "sid",
    "seq",
    // Never written by an encoder.
    "message",
    "exc_info",
    "asctime",
];

/// A user field's key as it goes on the wire: a reserved one becomes `extra.<key>`.
pub(crate) fn extra_key(key: String) -> String {
    if is_reserved_key(&key) {
        format!("extra.{key}")
    } else {
        key
    }
}

/// Whether `key` is a schema key (or one Python's `logging` computes itself).
pub fn is_reserved_key(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
}

/// The language of the program that made a record (`lang` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// CPython through the `logfunnel` package.
    Python,
    /// A C or C++ program through `include/logfunnel.h`.
    C,
    /// A JVM program through the Java binding.
    Java,
    /// A Rust program using `logfunnel-core` directly.
    Rust,
}

impl Lang {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::C => "c",
            Lang::Java => "java",
            Lang::Rust => "rust",
        }
    }
}

/// Python's level name for a level number (`logging.getLevelName`), `Level N` for the others.
pub fn level_name(levelno: i64) -> std::borrow::Cow<'static, str> {
    match levelno {
        50 => "CRITICAL".into(),
        40 => "ERROR".into(),
        30 => "WARNING".into(),
        20 => "INFO".into(),
        10 => "DEBUG".into(),
        0 => "NOTSET".into(),
        n => format!("Level {n}").into(),
    }
}

/// One log record as it travels. Optional fields are left out of the JSON when `None`
/// (the receiver fills Python's defaults).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Logger name, e.g. `app.db`.
    pub name: String,
    /// The final message, already merged with its arguments.
    pub msg: String,
    /// Numeric level, Python's scale (DEBUG 10 ... CRITICAL 50).
    pub levelno: i64,
    /// Level name; `None` means "derive from `levelno`" when encoding.
    pub levelname: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: f64,
    /// Milliseconds part of `created`; derived when `None`.
    pub msecs: Option<f64>,
    /// Milliseconds since the sending process loaded its logging (Python's `relativeCreated`).
    pub relative_created: Option<f64>,
    /// Full path of the source file.
    pub pathname: Option<String>,
    /// File name part of `pathname`; the sender derives it (and `module`) when `None`.
    pub filename: Option<String>,
    /// Module name (file name without extension in Python).
    pub module: Option<String>,
    /// Source line number.
    pub lineno: Option<i64>,
    /// Function name.
    pub func_name: Option<String>,
    /// Process id of the sender.
    pub process: Option<i64>,
    /// Process name (`MainProcess`, `ForkPoolWorker-1`, ...).
    pub process_name: Option<String>,
    /// Thread id.
    pub thread: Option<i64>,
    /// Thread name.
    pub thread_name: Option<String>,
    /// asyncio task name (Python 3.12+).
    pub task_name: Option<String>,
    /// Formatted traceback, if any.
    pub exc_text: Option<String>,
    /// Formatted stack, if any.
    pub stack_info: Option<String>,
    /// Host name of the sender.
    pub host: Option<String>,
    /// Sender language.
    pub lang: Option<String>,
    /// Sender id: unique per sender instance, stable for its life.
    pub sid: Option<String>,
    /// Per-sender sequence number, from 0, +1 per record offered to the sender (dropped ones too).
    pub seq: Option<u64>,
    /// User fields, in insertion order, sent as top-level keys.
    pub extra: Vec<(String, Value)>,
}

impl Record {
    /// A record stamped with the current time.
    pub fn new(name: impl Into<String>, levelno: i64, msg: impl Into<String>) -> Self {
        Record {
            name: name.into(),
            msg: msg.into(),
            levelno,
            created: now_seconds(),
            ..Record::default()
        }
    }

    /// Adds a user field. A reserved key is renamed to `extra.<key>` (see [`RESERVED_KEYS`]).
    pub fn push_extra(&mut self, key: impl Into<String>, value: Value) {
        self.extra.push((extra_key(key.into()), value));
    }

    /// The level name that goes on the wire.
    pub fn levelname_or_default(&self) -> std::borrow::Cow<'_, str> {
        match &self.levelname {
            Some(s) => s.as_str().into(),
            None => level_name(self.levelno),
        }
    }

    /// `msecs` as Python computes it: the millisecond part of `created`.
    pub fn msecs_or_default(&self) -> f64 {
        self.msecs
            .unwrap_or_else(|| ((self.created - self.created.trunc()) * 1000.0).trunc())
    }

    /// Encodes the record as one v1 JSON frame.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256 + self.msg.len());
        self.write_json(&mut out);
        // serde_json only writes valid UTF-8.
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Appends the v1 JSON frame to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.view().write_json(out);
    }
}

/// Seconds since the Unix epoch as a float, like Python's `time.time()`.
pub fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_extra_is_renamed_and_schema_keys_win() {
        let mut r = Record::new("a", 40, "boom");
        r.push_extra("seq", Value::from(7));
        r.seq = Some(3);
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["seq"], 3);
        assert_eq!(v["extra.seq"], 7);
        assert_eq!(v["levelname"], "ERROR");
        assert_eq!(v["v"], 1);
        assert!(v["args"].is_null());
    }

    #[test]
    fn msecs_is_derived_from_created() {
        let mut r = Record::new("a", 20, "x");
        r.created = 1_700_000_000.234_5;
        assert_eq!(r.msecs_or_default(), 234.0);
    }
}
