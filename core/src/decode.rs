//! Decoding received ZeroMQ messages into [`Record`]s (see `spec/wire-format.md`).
//!
//! Three forms are accepted:
//! - **v1**: one frame, one JSON object with `"v": 1` (what every logfunnel sender writes).
//! - **cookbook**: one frame holding a Python `LogRecord.__dict__` sent with pyzmq's `send_json` (no
//!   `v`). Its `msg` may still need merging with `args`; that is done as `LogRecord.getMessage()` does
//!   (see [`percent`]), and a failed merge keeps the raw `msg` and adds the extra `lf_format_error`.
//! - **PUBHandler**: two frames from pyzmq's `zmq.log.handlers.PUBHandler`, a topic
//!   `[<root_topic>.]<LEVEL>[.<subtopic>]` and the formatted text.
//!
//! Every failure is a [`DecodeError`] whose [`reason`](DecodeError::reason) is a stable code used in
//! metrics and in the shared test vectors. The JSON is deserialized straight into the record's fields
//! (only user fields become `serde_json::Value`), and nesting depth is tracked while parsing, so a
//! hostile frame costs one pass and bounded stack.
//!
//! ```
//! use logfunnel_core::decode::{decode_frame, DecodeLimits};
//! let frame = br#"{"v":1,"name":"app","msg":"hi","levelno":20,"created":1.5,"user_id":7}"#;
//! let record = decode_frame(frame, &DecodeLimits::default()).unwrap();
//! assert_eq!(record.levelname_or_default(), "INFO");
//! assert_eq!(record.extra, vec![("user_id".to_string(), serde_json::json!(7))]);
//! ```

mod fast;
pub mod percent;

use crate::record::{now_seconds, Record, DEFAULT_MAX_FRAME_BYTES, WIRE_VERSION};
use crate::view::RecordView;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// Default deepest JSON nesting accepted (the record object itself is depth 1).
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// The largest usable [`DecodeLimits::max_depth`]: the JSON parser stops at 128 levels by itself,
/// so larger settings are treated as this one.
pub const MAX_SUPPORTED_DEPTH: usize = 100;

/// Extra added to a cookbook record whose `msg % args` failed; holds Python-like error text.
pub const FORMAT_ERROR_KEY: &str = "lf_format_error";

/// Logger name given to PUBHandler records whose topic has no root part.
pub const PUBHANDLER_DEFAULT_NAME: &str = "pubhandler";

/// Limits the decoder enforces before and while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted message (all frames together), in bytes; checked before parsing.
    pub max_frame_bytes: usize,
    /// Deepest accepted JSON nesting, counting the record object as 1 (at most
    /// [`MAX_SUPPORTED_DEPTH`]).
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// Why a message could not be decoded. [`reason`](Self::reason) gives the stable code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The message is larger than [`DecodeLimits::max_frame_bytes`].
    #[error("oversized: frame of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// Message size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// A frame of zero bytes.
    #[error("empty: frame has no bytes")]
    Empty,
    /// A frame that is not valid UTF-8.
    #[error("invalid_utf8: frame {frame} is not UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 {
        /// Index of the frame in the message.
        frame: usize,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Not JSON (including trailing bytes after the value).
    #[error("invalid_json: {detail} (line {line}, column {column})")]
    InvalidJson {
        /// The parser's message.
        detail: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// Valid JSON, but not an object.
    #[error("not_an_object: frame holds a JSON {found}, not an object")]
    NotAnObject {
        /// `array`, `string`, `number`, `boolean` or `null`.
        found: &'static str,
    },
    /// Nesting deeper than [`DecodeLimits::max_depth`].
    #[error("too_deep: JSON nesting exceeds {limit} levels")]
    TooDeep {
        /// Configured limit.
        limit: usize,
    },
    /// A required field is absent (or null).
    #[error("missing_field: required field `{field}` is missing")]
    MissingField {
        /// Field name.
        field: &'static str,
    },
    /// A known field has a value of the wrong JSON type.
    #[error("wrong_type: field `{field}` must be {expected}, found {found}")]
    WrongType {
        /// Field name.
        field: &'static str,
        /// What the schema wants.
        expected: &'static str,
        /// What the frame had.
        found: &'static str,
    },
    /// `v` is an integer other than 1.
    #[error("unsupported_version: schema version {found} is not supported (this decoder reads 1)")]
    UnsupportedVersion {
        /// The `v` value as written.
        found: String,
    },
    /// A message with a frame count no form uses (0, or more than 2).
    #[error("bad_multipart: message has {count} frames (expected 1, or 2 for PUBHandler)")]
    FrameCount {
        /// Number of frames.
        count: usize,
    },
    /// A two-frame message whose topic names no log level.
    #[error("bad_multipart: topic {topic:?} has no level name (DEBUG, INFO, WARN, WARNING, ERROR, CRITICAL)")]
    BadTopic {
        /// The topic (cut to 200 bytes).
        topic: String,
    },
}

impl DecodeError {
    /// Stable reason code, used in metrics and test vectors.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Oversized { .. } => "oversized",
            DecodeError::Empty => "empty",
            DecodeError::InvalidUtf8 { .. } => "invalid_utf8",
            DecodeError::InvalidJson { .. } => "invalid_json",
            DecodeError::NotAnObject { .. } => "not_an_object",
            DecodeError::TooDeep { .. } => "too_deep",
            DecodeError::MissingField { .. } => "missing_field",
            DecodeError::WrongType { .. } => "wrong_type",
            DecodeError::UnsupportedVersion { .. } => "unsupported_version",
            DecodeError::FrameCount { .. } | DecodeError::BadTopic { .. } => "bad_multipart",
        }
    }

    /// Every reason code, for metrics that want a zero for each.
    pub const REASONS: &'static [&'static str] = &[
        "oversized",
        "empty",
        "invalid_utf8",
        "invalid_json",
        "not_an_object",
        "too_deep",
        "missing_field",
        "wrong_type",
        "unsupported_version",
        "bad_multipart",
    ];
}

/// Decodes one ZeroMQ message (its frames) into a record: one frame is a JSON record (v1 or the
/// cookbook form), two frames are a PUBHandler topic and text.
pub fn decode_frames(frames: &[&[u8]], limits: &DecodeLimits) -> Result<Record, DecodeError> {
    decode_view(frames, limits).map(RecordView::into_record)
}

/// Decodes a single-frame message (v1 or cookbook JSON).
pub fn decode_frame(frame: &[u8], limits: &DecodeLimits) -> Result<Record, DecodeError> {
    decode_frame_view(frame, limits).map(RecordView::into_record)
}

/// [`decode_frames`] without copying: the view's text borrows from `frames` wherever the JSON string
/// had no escapes.
pub fn decode_view<'a>(
    frames: &[&'a [u8]],
    limits: &DecodeLimits,
) -> Result<RecordView<'a>, DecodeError> {
    match *frames {
        [frame] => decode_frame_view(frame, limits),
        [topic, text] => decode_pubhandler(topic, text, limits),
        _ => Err(DecodeError::FrameCount {
            count: frames.len(),
        }),
    }
}

/// [`decode_frame`] without copying (see [`decode_view`]).
pub fn decode_frame_view<'a>(
    frame: &'a [u8],
    limits: &DecodeLimits,
) -> Result<RecordView<'a>, DecodeError> {
    let mut view = RecordView::default();
    decode_view_into(&[frame], limits, &mut view)?;
    Ok(view)
}

/// [`decode_view`] into the caller's `out` (overwritten; left unspecified on error). A view is some
/// 600 bytes: decoding in place, e.g. into a slot of a `Vec`, saves copying it on the way out, which
/// showed in the collector's profile.
pub fn decode_view_into<'a>(
    frames: &[&'a [u8]],
    limits: &DecodeLimits,
    out: &mut RecordView<'a>,
) -> Result<(), DecodeError> {
    let [frame] = *frames else {
        *out = decode_view(frames, limits)?;
        return Ok(());
    };
    check_size(frame.len(), limits)?;
    if frame.is_empty() {
        return Err(DecodeError::Empty);
    }
    let text = utf8(frame, 0)?;
    *out = RecordView::default();
    if fast::decode_v1(text, out) {
        return Ok(());
    }
    *out = parse_record(text, limits)?;
    Ok(())
}

fn check_size(size: usize, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if size > limits.max_frame_bytes {
        return Err(DecodeError::Oversized {
            size,
            limit: limits.max_frame_bytes,
        });
    }
    Ok(())
}

fn utf8(bytes: &[u8], frame: usize) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
        frame,
        offset: e.valid_up_to(),
    })
}

/// The PUBHandler form: level from the topic, text as the message, receive time as `created`.
fn decode_pubhandler<'a>(
    topic: &'a [u8],
    text: &'a [u8],
    limits: &DecodeLimits,
) -> Result<RecordView<'a>, DecodeError> {
    check_size(topic.len() + text.len(), limits)?;
    let topic = utf8(topic, 0)?;
    let text = utf8(text, 1)?;
    let mut level = None;
    let mut offset = 0;
    for token in topic.split('.') {
        if let Some(n) = level_from_token(token) {
            level = Some((n, offset));
            break;
        }
        offset += token.len() + 1;
    }
    let Some((levelno, at)) = level else {
        let mut cut = topic.len().min(200);
        while !topic.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(DecodeError::BadTopic {
            topic: topic[..cut].to_string(),
        });
    };
    let name = if at == 0 {
        PUBHANDLER_DEFAULT_NAME
    } else {
        &topic[..at - 1]
    };
    let msg = text.strip_suffix('\n').unwrap_or(text);
    let mut record = RecordView {
        name: Cow::Borrowed(name),
        msg: Cow::Borrowed(msg),
        levelno,
        created: now_seconds(),
        ..RecordView::default()
    };
    record.extra.push((
        Cow::Borrowed("topic"),
        Cow::Owned(Value::String(topic.to_string())),
    ));
    Ok(record)
}

/// Level number for a PUBHandler topic token or a cookbook `levelname`.
fn level_from_token(token: &str) -> Option<i64> {
    Some(match token {
        "CRITICAL" | "FATAL" => 50,
        "ERROR" => 40,
        "WARNING" | "WARN" => 30,
        "INFO" => 20,
        "DEBUG" => 10,
        "NOTSET" => 0,
        other => other.strip_prefix("Level ")?.parse().ok()?,
    })
}

/// State shared by the seeds of one parse.
struct Ctx {
    max_depth: usize,
    /// Set when parsing had to stop early (too deep): it wins over the parser error it causes.
    fatal: RefCell<Option<DecodeError>>,
    /// The first schema problem; reported only if the whole frame is valid JSON.
    deferred: RefCell<Option<DecodeError>>,
}

impl Ctx {
    fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            self.fatal.replace(Some(DecodeError::TooDeep {
                limit: self.max_depth,
            }));
            return Err(E::custom("nesting limit"));
        }
        Ok(())
    }

    fn defer(&self, err: DecodeError) {
        let mut slot = self.deferred.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
    }
}

fn parse_record<'a>(text: &'a str, limits: &DecodeLimits) -> Result<RecordView<'a>, DecodeError> {
    let ctx = Ctx {
        max_depth: limits.max_depth.clamp(1, MAX_SUPPORTED_DEPTH),
        fatal: RefCell::new(None),
        deferred: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = TopSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw));
    if let Some(err) = ctx.fatal.take() {
        return Err(err);
    }
    let raw = parsed.map_err(|e| DecodeError::InvalidJson {
        detail: json_detail(&e),
        line: e.line(),
        column: e.column(),
    })?;
    let raw = raw.map_err(|found| DecodeError::NotAnObject { found })?;
    finish(raw, ctx.deferred.take())
}

/// serde_json's message without its " at line L column C" suffix (kept in separate fields).
fn json_detail(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// What the object held, before the form-specific checks.
#[derive(Default)]
struct Raw<'de> {
    record: RecordView<'de>,
    /// `v` as written, if it was an integer.
    version: Option<VersionSeen>,
    has_name: bool,
    has_levelno: bool,
    has_created: bool,
    msg: Option<Msg<'de>>,
    args: Option<Value>,
    /// Python's own `getMessage()` result, present when a formatter ran in the sender.
    message: Option<Cow<'de, str>>,
}

/// `msg` as found: a string (v1 requires one), or any other JSON value (the cookbook form allows it).
enum Msg<'de> {
    Str(Cow<'de, str>),
    Other(Value),
}

enum VersionSeen {
    One,
    Other(String),
}

/// Known keys; everything else is a user field.
enum Key<'de> {
    V,
    Name,
    Msg,
    Args,
    Levelno,
    Levelname,
    Created,
    Msecs,
    RelativeCreated,
    Pathname,
    Filename,
    Module,
    Lineno,
    FuncName,
    Process,
    ProcessName,
    Thread,
    ThreadName,
    TaskName,
    ExcText,
    StackInfo,
    Host,
    Lang,
    Sid,
    Seq,
    Message,
    /// Keys that mean nothing in another process (`exc_info`, `asctime`): dropped.
    Dropped,
    Other(Cow<'de, str>),
}

/// The known key `s` names; `Other` holds an empty placeholder the caller fills.
fn key_of(s: &str) -> Key<'static> {
    match s {
        "v" => Key::V,
        "name" => Key::Name,
        "msg" => Key::Msg,
        "args" => Key::Args,
        "levelno" => Key::Levelno,
        "levelname" => Key::Levelname,
        "created" => Key::Created,
        "msecs" => Key::Msecs,
        "relativeCreated" => Key::RelativeCreated,
        "pathname" => Key::Pathname,
        "filename" => Key::Filename,
        "module" => Key::Module,
        "lineno" => Key::Lineno,
        "funcName" => Key::FuncName,
        "process" => Key::Process,
        "processName" => Key::ProcessName,
        "thread" => Key::Thread,
        "threadName" => Key::ThreadName,
        "taskName" => Key::TaskName,
        "exc_text" => Key::ExcText,
        "stack_info" => Key::StackInfo,
        "host" => Key::Host,
        "lang" => Key::Lang,
        "sid" => Key::Sid,
        "seq" => Key::Seq,
        "message" => Key::Message,
        "exc_info" | "asctime" => Key::Dropped,
        _ => Key::Other(Cow::Borrowed("")),
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(match key_of(s) {
            Key::Other(_) => Key::Other(Cow::Borrowed(s)),
            k => k,
        })
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(match key_of(s) {
            Key::Other(_) => Key::Other(Cow::Owned(s.to_string())),
            k => k,
        })
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
        Ok(match key_of(&s) {
            Key::Other(_) => Key::Other(Cow::Owned(s)),
            k => k,
        })
    }
}

/// The top-level value: `Ok(raw)` for an object, `Err(kind)` for any other JSON value.
struct TopSeed<'c> {
    ctx: &'c Ctx,
}

type Top<'de> = Result<Raw<'de>, &'static str>;

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Top<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Err("boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Err("string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top<'de>, E> {
        Ok(Err("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top<'de>, A::Error> {
        skip_seq(self.ctx, seq, 2)?;
        Ok(Err("array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let ctx = self.ctx;
        ctx.enter(1)?;
        let mut raw = Raw::default();
        let r = &mut raw.record;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let fs = FieldSeed { ctx };
            let value = ValueSeed { ctx, depth: 2 };
            match key {
                Key::V => match map.next_value_seed(fs)? {
                    Scalar::U64(n) if n == WIRE_VERSION => raw.version = Some(VersionSeen::One),
                    Scalar::U64(n) => raw.version = Some(VersionSeen::Other(n.to_string())),
                    Scalar::I64(n) => raw.version = Some(VersionSeen::Other(n.to_string())),
                    Scalar::Null => raw.version = None,
                    other => wrong(ctx, "v", "an integer", &other),
                },
                Key::Name => {
                    let name = string(ctx, "name", map.next_value_seed(fs)?);
                    raw.has_name = name.is_some();
                    r.name = name.unwrap_or_default();
                }
                Key::Msg => raw.msg = map.next_value_seed(MsgSeed { ctx })?,
                Key::Args => raw.args = non_null(map.next_value_seed(value)?),
                Key::Message => {
                    // Derived by the sender's formatter; only a string is of any use.
                    if let Scalar::Str(m) = map.next_value_seed(fs)? {
                        raw.message = Some(m);
                    }
                }
                Key::Levelno => {
                    let n = int(ctx, "levelno", map.next_value_seed(fs)?);
                    raw.has_levelno = n.is_some();
                    r.levelno = n.unwrap_or_default();
                }
                Key::Levelname => r.levelname = string(ctx, "levelname", map.next_value_seed(fs)?),
                Key::Created => {
                    let x = float(ctx, "created", map.next_value_seed(fs)?);
                    raw.has_created = x.is_some();
                    r.created = x.unwrap_or_default();
                }
                Key::Msecs => r.msecs = float(ctx, "msecs", map.next_value_seed(fs)?),
                Key::RelativeCreated => {
                    r.relative_created = float(ctx, "relativeCreated", map.next_value_seed(fs)?)
                }
                Key::Pathname => r.pathname = string(ctx, "pathname", map.next_value_seed(fs)?),
                Key::Filename => r.filename = string(ctx, "filename", map.next_value_seed(fs)?),
                Key::Module => r.module = string(ctx, "module", map.next_value_seed(fs)?),
                Key::Lineno => r.lineno = int(ctx, "lineno", map.next_value_seed(fs)?),
                Key::FuncName => r.func_name = string(ctx, "funcName", map.next_value_seed(fs)?),
                Key::Process => r.process = int(ctx, "process", map.next_value_seed(fs)?),
                Key::ProcessName => {
                    r.process_name = string(ctx, "processName", map.next_value_seed(fs)?)
                }
                Key::Thread => r.thread = int(ctx, "thread", map.next_value_seed(fs)?),
                Key::ThreadName => {
                    r.thread_name = string(ctx, "threadName", map.next_value_seed(fs)?)
                }
                Key::TaskName => r.task_name = string(ctx, "taskName", map.next_value_seed(fs)?),
                Key::ExcText => r.exc_text = string(ctx, "exc_text", map.next_value_seed(fs)?),
                Key::StackInfo => {
                    r.stack_info = string(ctx, "stack_info", map.next_value_seed(fs)?)
                }
                Key::Host => r.host = string(ctx, "host", map.next_value_seed(fs)?),
                Key::Lang => r.lang = string(ctx, "lang", map.next_value_seed(fs)?),
                Key::Sid => r.sid = string(ctx, "sid", map.next_value_seed(fs)?),
                Key::Seq => {
                    r.seq = match map.next_value_seed(fs)? {
                        Scalar::U64(n) => Some(n),
                        Scalar::Null => None,
                        other => {
                            wrong(ctx, "seq", "a non-negative integer", &other);
                            None
                        }
                    }
                }
                Key::Dropped => {
                    map.next_value_seed(fs)?;
                }
                Key::Other(name) => {
                    let v = map.next_value_seed(value)?;
                    r.extra.push((name, Cow::Owned(v)));
                }
            }
        }
        Ok(Ok(raw))
    }
}

/// A known field's value: scalars kept, containers skipped (with depth checks) and only named.
enum Scalar<'de> {
    Null,
    Bool,
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool => "a boolean",
            Scalar::I64(_) | Scalar::U64(_) => "an integer",
            Scalar::F64(_) => "a float",
            Scalar::Str(_) => "a string",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }
}

fn wrong(ctx: &Ctx, field: &'static str, expected: &'static str, found: &Scalar) {
    ctx.defer(DecodeError::WrongType {
        field,
        expected,
        found: found.kind(),
    });
}

fn non_null(v: Value) -> Option<Value> {
    (!v.is_null()).then_some(v)
}

fn string<'de>(ctx: &Ctx, field: &'static str, v: Scalar<'de>) -> Option<Cow<'de, str>> {
    match v {
        Scalar::Str(s) => Some(s),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "a string", &other);
            None
        }
    }
}

/// An integer field; like Python, a float with an integral value is accepted.
fn int(ctx: &Ctx, field: &'static str, v: Scalar) -> Option<i64> {
    match v {
        Scalar::I64(n) => Some(n),
        Scalar::U64(n) if n <= i64::MAX as u64 => Some(n as i64),
        Scalar::F64(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Some(x as i64),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "an integer (64-bit)", &other);
            None
        }
    }
}

fn float(ctx: &Ctx, field: &'static str, v: Scalar) -> Option<f64> {
    match v {
        Scalar::F64(x) => Some(x),
        Scalar::I64(n) => Some(n as f64),
        Scalar::U64(n) => Some(n as f64),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "a number", &other);
            None
        }
    }
}

/// Reads a known field's value as a [`Scalar`].
#[derive(Clone, Copy)]
struct FieldSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Scalar<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(n))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(x))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        skip_seq(self.ctx, seq, 3)?;
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        skip_map(self.ctx, map, 3)?;
        Ok(Scalar::Object)
    }
}

/// Reads `msg`: a string borrowed where possible, anything else as a `Value` (null as absent).
#[derive(Clone, Copy)]
struct MsgSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for MsgSeed<'_> {
    type Value = Option<Msg<'de>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MsgSeed<'_> {
    type Value = Option<Msg<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::Bool(b))))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::from(n))))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::from(n))))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(x).map(|n| Msg::Other(Value::Number(n))))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Owned(s.to_string()))))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Owned(s))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = ValueSeed {
            ctx: self.ctx,
            depth: 2,
        }
        .visit_seq(seq)?;
        Ok(Some(Msg::Other(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = ValueSeed {
            ctx: self.ctx,
            depth: 2,
        }
        .visit_map(map)?;
        Ok(Some(Msg::Other(v)))
    }
}

/// Consumes an array at depth `depth - 1` whose elements sit at `depth`.
fn skip_seq<'de, A: SeqAccess<'de>>(ctx: &Ctx, mut seq: A, depth: usize) -> Result<(), A::Error> {
    ctx.enter(depth - 1)?;
    while seq.next_element_seed(ValueSeed { ctx, depth })?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(ctx: &Ctx, mut map: A, depth: usize) -> Result<(), A::Error> {
    ctx.enter(depth - 1)?;
    while map.next_key::<IgnoredAny>()?.is_some() {
        map.next_value_seed(ValueSeed { ctx, depth })?;
    }
    Ok(())
}

/// Builds a `serde_json::Value` for a value at nesting `depth`, refusing to go deeper than the limit.
#[derive(Clone, Copy)]
struct ValueSeed<'c> {
    ctx: &'c Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Number::from_f64(x).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = ValueSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = ValueSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// Form detection and the checks that need the whole object.
fn finish(raw: Raw<'_>, deferred: Option<DecodeError>) -> Result<RecordView<'_>, DecodeError> {
    let Raw {
        mut record,
        version,
        has_name,
        has_levelno,
        has_created,
        msg,
        args,
        message,
    } = raw;
    if let Some(VersionSeen::Other(found)) = version {
        return Err(DecodeError::UnsupportedVersion { found });
    }
    if let Some(err) = deferred {
        return Err(err);
    }
    let v1 = matches!(version, Some(VersionSeen::One));
    if v1 {
        let msg = match msg {
            Some(Msg::Str(s)) => s,
            Some(Msg::Other(other)) => {
                return Err(DecodeError::WrongType {
                    field: "msg",
                    expected: "a string",
                    found: value_kind(&other),
                })
            }
            None => return Err(DecodeError::MissingField { field: "msg" }),
        };
        for (present, field) in [
            (has_name, "name"),
            (has_levelno, "levelno"),
            (has_created, "created"),
        ] {
            if !present {
                return Err(DecodeError::MissingField { field });
            }
        }
        record.msg = msg;
    } else {
        // The cookbook form: a LogRecord.__dict__, recognised by `msg` plus a level or a name.
        let Some(msg) = msg else {
            return Err(DecodeError::MissingField { field: "v" });
        };
        if !has_levelno && record.levelname.is_none() && !has_name {
            return Err(DecodeError::MissingField { field: "v" });
        }
        if !has_levelno {
            match record.levelname.as_deref().and_then(level_from_token) {
                Some(n) => record.levelno = n,
                None => return Err(DecodeError::MissingField { field: "levelno" }),
            }
        }
        if !has_name {
            record.name = Cow::Borrowed("root");
        }
        if !has_created {
            record.created = now_seconds();
        }
        record.msg = match msg {
            Msg::Str(s) => s,
            Msg::Other(other) => {
                let mut s = String::new();
                percent::py_str(&mut s, &other);
                Cow::Owned(s)
            }
        };
    }
    dedupe_extras(&mut record.extra);
    // LogRecord.getMessage(): `msg % args` when args is non-empty.
    let needs_merge = match &args {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Bool(false)) | Some(Value::Null) | None => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(true)) => true,
    };
    if let (true, Some(args)) = (needs_merge, args) {
        match message {
            // A formatter already ran in the sender: `message` is Python's own merge.
            Some(m) => record.msg = m,
            None => match percent::merge(&record.msg, &args) {
                Ok(merged) => record.msg = Cow::Owned(merged),
                Err(e) => set_extra(
                    &mut record.extra,
                    FORMAT_ERROR_KEY,
                    Value::String(e.to_string()),
                ),
            },
        }
    }
    Ok(record)
}

type Extras<'a> = Vec<(Cow<'a, str>, Cow<'a, Value>)>;

/// Sets a user field, replacing one the frame already had (keys stay unique).
fn set_extra(extra: &mut Extras<'_>, key: &'static str, value: Value) {
    match extra.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = Cow::Owned(value),
        None => extra.push((Cow::Borrowed(key), Cow::Owned(value))),
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Duplicate user keys: the last value wins at the first position, as in a Python dict.
fn dedupe_extras(extra: &mut Extras<'_>) {
    let n = extra.len();
    let has_dup = if n < 2 {
        false
    } else if n <= 16 {
        (1..n).any(|i| extra[..i].iter().any(|(k, _)| *k == extra[i].0))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        !extra.iter().all(|(k, _)| seen.insert(&**k))
    };
    if !has_dup {
        return;
    }
    let mut index: std::collections::HashMap<Cow<'_, str>, usize> =
        std::collections::HashMap::new();
    let mut out: Extras<'_> = Vec::with_capacity(n);
    for (k, v) in extra.drain(..) {
        match index.get(&k) {
            Some(&at) => out[at].1 = v,
            None => {
                index.insert(k.clone(), out.len());
                out.push((k, v));
            }
        }
    }
    *extra = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(s: &str) -> Result<Record, DecodeError> {
        decode_frame(s.as_bytes(), &DecodeLimits::default())
    }

    fn reason(s: &str) -> &'static str {
        dec(s).unwrap_err().reason()
    }

    #[test]
    fn v1_round_trips_through_the_encoder() {
        let mut r = Record::new("app.db", 40, "boom \u{0} 日本 😀");
        r.lineno = Some(12);
        r.sid = Some("abc".into());
        r.seq = Some(u64::MAX);
        r.exc_text = Some("Traceback".into());
        r.push_extra("user", json!({"id": [1, 2.5, null, true]}));
        r.push_extra("seq", json!("shadow"));
        let back = decode_frame(r.to_json().as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(back.to_json(), r.to_json());
        assert_eq!(back.extra[1].0, "extra.seq");
    }

    #[test]
    fn schema_problems_are_reported_only_for_valid_json() {
        assert_eq!(
            reason(r#"{"v":1,"name":5,"msg":"x","levelno":20,"created":1}"#),
            "wrong_type"
        );
        assert_eq!(
            reason(r#"{"v":1,"name":5,"msg":"x","levelno":20,"created":1"#),
            "invalid_json"
        );
        assert_eq!(reason(r#"[1,2"#), "invalid_json");
        assert_eq!(reason(r#"[1,2]"#), "not_an_object");
        assert_eq!(reason(r#"{"v":2,"name":5}"#), "unsupported_version");
        assert_eq!(
            reason(r#"{"v":1,"msg":"x","levelno":20,"created":1}"#),
            "missing_field"
        );
        assert_eq!(
            reason(r#"{"v":1,"name":null,"msg":"x","levelno":20,"created":1}"#),
            "missing_field"
        );
        assert_eq!(
            reason(r#"{"v":1,"name":"a","msg":"x","levelno":20,"created":1} x"#),
            "invalid_json"
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = dec(r#"{"v":1,"name":"a","msg":"x","levelno":20,"created":1,"lineno":"7"}"#)
            .unwrap_err();
        assert_eq!(
            e,
            DecodeError::WrongType {
                field: "lineno",
                expected: "an integer (64-bit)",
                found: "a string"
            }
        );
        assert!(e.to_string().contains("`lineno`"));
        let ok =
            dec(r#"{"v":1,"name":"a","msg":"x","levelno":20.0,"created":1,"lineno":7.0}"#).unwrap();
        assert_eq!((ok.levelno, ok.lineno), (20, Some(7)));
        assert_eq!(
            reason(r#"{"v":1,"name":"a","msg":"x","levelno":20.5,"created":1}"#),
            "wrong_type"
        );
        assert_eq!(
            reason(r#"{"v":1,"name":"a","msg":"x","levelno":20,"created":1,"seq":-1}"#),
            "wrong_type"
        );
    }

    #[test]
    fn depth_is_limited_without_recursing_far() {
        let deep = format!(
            r#"{{"v":1,"x":{}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(reason(&deep), "too_deep");
        let limits = DecodeLimits {
            max_depth: 3,
            ..DecodeLimits::default()
        };
        let ok = r#"{"v":1,"name":"a","msg":"x","levelno":20,"created":1,"x":[[1]]}"#;
        assert!(decode_frame(ok.as_bytes(), &limits).is_ok());
        let bad = r#"{"v":1,"name":"a","msg":"x","levelno":20,"created":1,"x":[[[1]]]}"#;
        assert_eq!(
            decode_frame(bad.as_bytes(), &limits).unwrap_err().reason(),
            "too_deep"
        );
        // Containers in known fields are skipped with the same limit.
        let bad = r#"{"v":1,"name":[[[1]]],"msg":"x","levelno":20,"created":1}"#;
        assert_eq!(
            decode_frame(bad.as_bytes(), &limits).unwrap_err().reason(),
            "too_deep"
        );
    }

    #[test]
    fn cookbook_form_is_merged_like_get_message() {
        let r = dec(r#"{"name":"w","msg":"%s took %5.2f ms (%r)","args":["job",1.23456,"x"],"levelname":"INFO","levelno":20,"created":10.5,"exc_info":null,"message":null}"#).unwrap();
        assert_eq!(r.msg, "job took  1.23 ms ('x')");
        assert!(r.extra.is_empty());
        let r =
            dec(r#"{"name":"w","msg":"%(user)s in","args":{"user":"bob"},"levelno":20}"#).unwrap();
        assert_eq!(r.msg, "bob in");
        let r = dec(r#"{"name":"w","msg":"%d%%","args":["x"],"levelname":"WARN"}"#).unwrap();
        assert_eq!((r.msg.as_str(), r.levelno), ("%d%%", 30));
        assert_eq!(r.extra[0].0, FORMAT_ERROR_KEY);
        // A formatter already merged it: trust Python's result.
        let r = dec(r#"{"name":"w","msg":"%s","args":[1],"message":"1","levelno":20}"#).unwrap();
        assert_eq!(r.msg, "1");
        // A frame that already has the field: replaced, never duplicated (found by the fuzzer).
        let r =
            dec(r#"{"name":"w","msg":"%q","args":[1],"lf_format_error":5,"levelno":20}"#).unwrap();
        assert_eq!(r.extra.len(), 1);
        assert!(r.extra[0].1.is_string());
        let r = dec(r#"{"msg":{"a":1},"levelno":10}"#).unwrap();
        assert_eq!((r.msg.as_str(), r.name.as_str()), ("{'a': 1}", "root"));
        assert_eq!(reason(r#"{"msg":"x"}"#), "missing_field");
        assert_eq!(
            reason(r#"{"msg":"x","levelname":"CHATTY"}"#),
            "missing_field"
        );
        assert_eq!(reason(r#"{}"#), "missing_field");
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let r = dec(
            r#"{"v":1,"name":"a","name":"b","msg":"x","levelno":20,"created":1,"k":1,"j":0,"k":2}"#,
        )
        .unwrap();
        assert_eq!(r.name, "b");
        assert_eq!(
            r.extra,
            vec![("k".into(), json!(2)), ("j".into(), json!(0))]
        );
    }

    #[test]
    fn pubhandler_topics() {
        let l = DecodeLimits::default();
        let r = decode_frames(&[b"app.web.ERROR.db", b"failed\n"], &l).unwrap();
        assert_eq!(
            (r.name.as_str(), r.levelno, r.msg.as_str()),
            ("app.web", 40, "failed")
        );
        assert_eq!(r.extra, vec![("topic".into(), json!("app.web.ERROR.db"))]);
        let r = decode_frames(&[b"WARN", b"two\n\n"], &l).unwrap();
        assert_eq!(
            (r.name.as_str(), r.levelno, r.msg.as_str()),
            ("pubhandler", 30, "two\n")
        );
        assert_eq!(
            decode_frames(&[b"app.LOUD", b"x"], &l)
                .unwrap_err()
                .reason(),
            "bad_multipart"
        );
        assert_eq!(
            decode_frames(&[b"a", b"b", b"c"], &l).unwrap_err().reason(),
            "bad_multipart"
        );
        assert_eq!(
            decode_frames(&[], &l).unwrap_err().reason(),
            "bad_multipart"
        );
        assert_eq!(
            decode_frames(&[b"INFO", b"\xff"], &l).unwrap_err(),
            DecodeError::InvalidUtf8 {
                frame: 1,
                offset: 0
            }
        );
    }

    #[test]
    fn size_is_checked_before_anything_else() {
        let limits = DecodeLimits {
            max_frame_bytes: 4,
            ..DecodeLimits::default()
        };
        assert_eq!(
            decode_frame(b"\xff\xff\xff\xff\xff", &limits).unwrap_err(),
            DecodeError::Oversized { size: 5, limit: 4 }
        );
        assert_eq!(decode_frame(b"", &limits).unwrap_err().reason(), "empty");
        assert_eq!(
            decode_frame(b"\xff", &limits).unwrap_err().reason(),
            "invalid_utf8"
        );
    }

    /// The fast path must never disagree with the general parser: wherever it accepts a frame, the
    /// general parser accepts it too and yields the same record. Checked on the shared vectors, the
    /// fuzz corpus, canonical frames from the encoder and thousands of mutations of them.
    #[test]
    fn the_fast_path_agrees_with_the_general_parser() {
        let limits = DecodeLimits::default();
        let mut accepted = 0usize;
        let mut checked = 0usize;
        let mut check = |text: &str| {
            checked += 1;
            let mut fast_view = crate::view::RecordView::default();
            if !fast::decode_v1(text, &mut fast_view) {
                return;
            }
            accepted += 1;
            match parse_record(text, &limits) {
                Ok(general) => assert_eq!(fast_view, general, "frame: {text}"),
                Err(e) => {
                    panic!("fast path accepted what the general parser refuses ({e}): {text}")
                }
            }
        };

        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
        let vectors: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("decode.json")).unwrap())
                .unwrap();
        for case in vectors["cases"].as_array().unwrap() {
            for frame in case["frames"].as_array().unwrap() {
                if let Some(t) = frame.get("text").and_then(Value::as_str) {
                    check(t);
                }
            }
        }
        for entry in std::fs::read_dir(dir.join("fuzz-corpus")).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            if let Ok(t) = std::str::from_utf8(&bytes) {
                check(t);
            }
        }

        // Canonical frames with awkward content, then random mutations of them.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let texts = [
            "plain",
            "",
            "quote \" and backslash \\ and tab \t",
            "line\nbreak\r\n",
            "\u{1}\u{1f}\u{7f}",
            "日本語 😀 café",
            "a/b\\u0041",
        ];
        let mut canonical = Vec::new();
        for i in 0..60 {
            let mut r = Record::new(
                texts[i % texts.len()],
                [0, 10, 20, 25, 50][i % 5],
                texts[(i / 3) % texts.len()],
            );
            r.created = [0.0, 1.5, 1_764_172_693.125, -3.25e-7, 1e300][i % 5];
            if i % 2 == 0 {
                r.pathname = Some(texts[(i / 2) % texts.len()].into());
                r.lineno = Some([0, -1, i64::MAX, i64::MIN][i % 4]);
                r.thread = Some(140_017_928_317_824);
                r.thread_name = Some("MainThread".into());
                r.relative_created = Some(12.25);
            }
            if i % 3 == 0 {
                r.sid = Some("7f3a9c2e-5b1d".into());
                r.seq = Some([0, 1, u64::MAX][i % 3]);
                r.exc_text = Some("Traceback:\n  x".into());
            }
            if i % 4 == 0 {
                r.push_extra("user_id", json!(4242));
                r.push_extra("ratio", json!(0.1));
                r.push_extra("big", json!(u64::MAX));
                r.push_extra("flag", json!(true));
                r.push_extra("none", Value::Null);
                r.push_extra("who", json!(texts[i % texts.len()]));
            }
            if i % 7 == 0 {
                r.push_extra("nested", json!({"a": [1, 2]}));
            }
            canonical.push(r.to_json());
        }
        for frame in &canonical {
            check(frame);
        }
        let alphabet = b"\"\\{}[],:0123456789.eE+-ntfu \x01a";
        for _ in 0..20_000 {
            let mut bytes = canonical[rand(canonical.len())].clone().into_bytes();
            for _ in 0..1 + rand(3) {
                let at = rand(bytes.len());
                match rand(3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, alphabet[rand(alphabet.len())]),
                    _ => bytes[at] = alphabet[rand(alphabet.len())],
                }
            }
            if let Ok(t) = std::str::from_utf8(&bytes) {
                check(t);
            }
        }
        assert!(checked > 15_000, "only {checked} frames checked");
        // Every canonical frame without a nested user value takes the fast path.
        assert!(accepted >= 51, "fast path took only {accepted} frames");
    }
}
