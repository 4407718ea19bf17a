//! A logfunnel record as an OTLP `LogRecord` and the resource it belongs to (`spec/otlp.md`).
//!
//! The mapping follows what the OpenTelemetry Python SDK's `LoggingHandler` sends for the same
//! `logging.LogRecord`, so records forwarded by the collector look like records from an instrumented
//! process: the same severity numbers, `code.*` attribute names and `exception.*` attributes. Fields
//! OpenTelemetry has no name for go under `logfunnel.*`.

use logfunnel_core::RecordView;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::Value;

/// The user fields opentelemetry-instrumentation-logging adds to every record; they become the
/// record's trace context (and resource) instead of attributes.
pub const OTEL_TRACE_ID: &str = "otelTraceID";
/// See [`OTEL_TRACE_ID`].
pub const OTEL_SPAN_ID: &str = "otelSpanID";
/// See [`OTEL_TRACE_ID`].
pub const OTEL_TRACE_SAMPLED: &str = "otelTraceSampled";
/// See [`OTEL_TRACE_ID`].
pub const OTEL_SERVICE_NAME: &str = "otelServiceName";

/// Attribute keys, one definition each (the spec's table lists the same).
pub mod attr {
    /// Logger name (`name`).
    pub const LOGGER_NAME: &str = "logger.name";
    /// `pathname`.
    pub const CODE_FILE_PATH: &str = "code.file.path";
    /// `lineno`.
    pub const CODE_LINE_NUMBER: &str = "code.line.number";
    /// `funcName`.
    pub const CODE_FUNCTION_NAME: &str = "code.function.name";
    /// `stack_info`.
    pub const CODE_STACKTRACE: &str = "code.stacktrace";
    /// `thread`.
    pub const THREAD_ID: &str = "thread.id";
    /// `threadName`.
    pub const THREAD_NAME: &str = "thread.name";
    /// `exc_text`, whole.
    pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
    /// The exception's class, from the traceback's last line.
    pub const EXCEPTION_TYPE: &str = "exception.type";
    /// The exception's message, from the traceback's last line.
    pub const EXCEPTION_MESSAGE: &str = "exception.message";
    /// `processName`.
    pub const PROCESS_NAME: &str = "logfunnel.process.name";
    /// `taskName`.
    pub const TASK_NAME: &str = "logfunnel.task.name";
    /// `lang`.
    pub const LANG: &str = "logfunnel.lang";
    /// `sid`.
    pub const SENDER_ID: &str = "logfunnel.sid";
    /// `seq`.
    pub const SENDER_SEQ: &str = "logfunnel.seq";
    /// Resource: the service.
    pub const SERVICE_NAME: &str = "service.name";
    /// Resource: `host`.
    pub const HOST_NAME: &str = "host.name";
    /// Resource: `process`.
    pub const PROCESS_PID: &str = "process.pid";
}

/// What tells one record's resource from another's: records are grouped by it into `ResourceLogs`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    /// `service.name`: the sender's `otelServiceName`, else the sink's `service_name`.
    pub service_name: String,
    /// `host.name`, from `host`.
    pub host_name: Option<String>,
    /// `process.pid`, from `process`.
    pub process_pid: Option<i64>,
}

impl ResourceKey {
    /// The resource's attributes, in a fixed order.
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut out = vec![kv(attr::SERVICE_NAME, string(&self.service_name))];
        if let Some(h) = &self.host_name {
            out.push(kv(attr::HOST_NAME, string(h)));
        }
        if let Some(pid) = self.process_pid {
            out.push(kv(attr::PROCESS_PID, int(pid)));
        }
        out
    }
}

/// One record, mapped: its resource and its `LogRecord`.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedRecord {
    /// The resource it is sent under.
    pub resource: ResourceKey,
    /// The OTLP record.
    pub record: LogRecord,
}

/// Maps `view` received at `observed_unix_nano`; `service_name` is the sink's default.
pub fn map_record(
    view: &RecordView<'_>,
    service_name: &str,
    observed_unix_nano: u64,
) -> MappedRecord {
    let mut attributes = Vec::with_capacity(12 + view.extra.len());
    attributes.push(kv(attr::LOGGER_NAME, string(&view.name)));
    let mut push_str = |key: &str, value: &Option<std::borrow::Cow<'_, str>>| {
        if let Some(v) = value {
            attributes.push(kv(key, string(v)));
        }
    };
    push_str(attr::CODE_FILE_PATH, &view.pathname);
    push_str(attr::CODE_FUNCTION_NAME, &view.func_name);
    push_str(attr::THREAD_NAME, &view.thread_name);
    push_str(attr::PROCESS_NAME, &view.process_name);
    push_str(attr::TASK_NAME, &view.task_name);
    push_str(attr::CODE_STACKTRACE, &view.stack_info);
    push_str(attr::LANG, &view.lang);
    push_str(attr::SENDER_ID, &view.sid);
    if let Some(line) = view.lineno {
        attributes.push(kv(attr::CODE_LINE_NUMBER, int(line)));
    }
    if let Some(thread) = view.thread {
        attributes.push(kv(attr::THREAD_ID, int(thread)));
    }
    if let Some(seq) = view.seq {
        attributes.push(kv(attr::SENDER_SEQ, json_value(&Value::from(seq))));
    }
    if let Some(exc) = &view.exc_text {
        attributes.push(kv(attr::EXCEPTION_STACKTRACE, string(exc)));
        if let Some((kind, message)) = exception_type_and_message(exc) {
            attributes.push(kv(attr::EXCEPTION_TYPE, string(kind)));
            if let Some(m) = message {
                attributes.push(kv(attr::EXCEPTION_MESSAGE, string(m)));
            }
        }
    }

    let mut trace_id = Vec::new();
    let mut span_id = Vec::new();
    let mut flags = 0;
    let mut service = None;
    for (key, value) in &view.extra {
        match (&**key, &**value) {
            (OTEL_TRACE_ID, v) => trace_id = hex_id(v, 16),
            (OTEL_SPAN_ID, v) => span_id = hex_id(v, 8),
            (OTEL_TRACE_SAMPLED, v) => flags = u32::from(is_true(v)),
            (OTEL_SERVICE_NAME, Value::String(s)) if !s.is_empty() => service = Some(s.clone()),
            (OTEL_SERVICE_NAME, _) => {}
            (k, v) => attributes.push(kv(k, json_value(v))),
        }
    }
    // Trace flags mean nothing without a span to belong to.
    if trace_id.is_empty() || span_id.is_empty() {
        flags = 0;
    }

    MappedRecord {
        resource: ResourceKey {
            service_name: service.unwrap_or_else(|| service_name.to_string()),
            host_name: view.host.as_deref().map(str::to_string),
            process_pid: view.process,
        },
        record: LogRecord {
            time_unix_nano: unix_nano(view.created),
            observed_time_unix_nano: observed_unix_nano,
            severity_number: severity_number(view.levelno),
            severity_text: view.levelname_or_default().into_owned(),
            body: Some(string(&view.msg)),
            attributes,
            flags,
            trace_id,
            span_id,
            ..LogRecord::default()
        },
    }
}

/// OpenTelemetry's severity number for a Python level number. The five standard levels take the
/// first number of their range (DEBUG 5, INFO 9, WARNING 13, ERROR 17, CRITICAL 21); a level up to
/// three above one takes the range's next numbers (21 is INFO2), and further ones stay on the
/// range's last (29 is INFO4). 1-9 are TRACE, 0 (NOTSET) and below unspecified, 53 and up FATAL4.
pub fn severity_number(levelno: i64) -> i32 {
    if levelno <= 0 {
        return 0;
    }
    if levelno >= 53 {
        return 24;
    }
    let range = levelno / 10; // 0 TRACE, 1 DEBUG, 2 INFO, 3 WARN, 4 ERROR, 5 FATAL
    let first = 1 + 4 * range as i32;
    let step = if range == 0 {
        // 1-9: TRACE .. TRACE4, in the same thirds a decade above would use.
        (levelno as i32 - 1) / 3
    } else {
        (levelno % 10).min(3) as i32
    };
    first + step.min(3)
}

/// `created` (seconds, a float) in nanoseconds, rounded to the microsecond: a float of today's
/// epoch seconds carries about 0.2 µs, so finer digits would be noise. Unknown (0) when not finite
/// or before 1970.
pub fn unix_nano(created: f64) -> u64 {
    if !created.is_finite() || created < 0.0 {
        return 0;
    }
    let micros = (created * 1e6).round();
    if micros >= (u64::MAX / 1000) as f64 {
        return 0;
    }
    micros as u64 * 1000
}

/// `exception.type` and `exception.message` from a Python traceback's last line
/// (`ValueError: bad input`, `KeyError`); `None` when that line is not of that shape.
pub fn exception_type_and_message(exc_text: &str) -> Option<(&str, Option<&str>)> {
    let last = exc_text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())?
        .trim_end();
    let (kind, message) = match last.split_once(": ") {
        Some((k, m)) => (k, Some(m)),
        None => (last.strip_suffix(':').unwrap_or(last), None),
    };
    let looks_like_a_class = !kind.is_empty()
        && !kind.starts_with(' ')
        && kind
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    looks_like_a_class.then_some((kind, message))
}

/// A trace or span id from its hex form (as the instrumentation writes it); empty (no id) when it
/// is not `bytes` bytes of hex or is all zeros (the instrumentation's "no span": `"0"`).
fn hex_id(value: &Value, bytes: usize) -> Vec<u8> {
    let Value::String(s) = value else {
        return Vec::new();
    };
    if s.len() != bytes * 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Vec::new();
    }
    let id: Vec<u8> = (0..bytes)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("checked hex"))
        .collect();
    if id.iter().all(|b| *b == 0) {
        return Vec::new();
    }
    id
}

fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(value),
        ..KeyValue::default()
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

/// A user field's JSON value as an `AnyValue`: integers that fit `int64` as ints, other numbers as
/// doubles, lists as arrays, objects as key-value lists, `null` as an empty value.
pub fn json_value(v: &Value) -> AnyValue {
    let value = match v {
        Value::Null => None,
        Value::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Some(any_value::Value::StringValue(s.clone())),
        Value::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(json_value).collect(),
        })),
        Value::Object(map) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: map.iter().map(|(k, v)| kv(k, json_value(v))).collect(),
        })),
    };
    AnyValue { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_opentelemetrys_table_and_its_ranges() {
        let table = [
            (-5, 0),
            (0, 0),
            (1, 1),
            (5, 2),
            (9, 3),
            (10, 5),
            (11, 6),
            (13, 8),
            (15, 8),
            (20, 9),
            (25, 12),
            (30, 13),
            (40, 17),
            (45, 20),
            (50, 21),
            (52, 23),
            (53, 24),
            (99, 24),
        ];
        for (levelno, want) in table {
            assert_eq!(severity_number(levelno), want, "levelno {levelno}");
        }
    }

    #[test]
    fn times_round_to_the_microsecond_and_unknown_is_zero() {
        assert_eq!(unix_nano(1_764_172_693.125), 1_764_172_693_125_000_000);
        assert_eq!(unix_nano(1_764_172_693.123_456), 1_764_172_693_123_456_000);
        assert_eq!(unix_nano(f64::NAN), 0);
        assert_eq!(unix_nano(-1.0), 0);
        assert_eq!(unix_nano(1e300), 0);
    }

    #[test]
    fn exception_type_comes_from_the_last_traceback_line() {
        let tb = "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: bad: x\n";
        assert_eq!(
            exception_type_and_message(tb),
            Some(("ValueError", Some("bad: x")))
        );
        assert_eq!(
            exception_type_and_message("KeyError"),
            Some(("KeyError", None))
        );
        assert_eq!(
            exception_type_and_message("x\nmod.Err: m"),
            Some(("mod.Err", Some("m")))
        );
        assert_eq!(exception_type_and_message("a sentence: not a type"), None);
        assert_eq!(exception_type_and_message("\n\n"), None);
    }

    #[test]
    fn ids_must_be_full_length_hex_and_not_zero() {
        let id = |s: &str, n| hex_id(&Value::from(s), n);
        assert_eq!(
            id("00f067aa0ba902b7", 8),
            vec![0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        assert!(id("0", 16).is_empty());
        assert!(id("0000000000000000", 8).is_empty());
        assert!(id("zz00000000000001", 8).is_empty());
        assert!(hex_id(&Value::from(7), 8).is_empty());
    }
}
