//! A record borrowed from the caller, encoded in the log call.
//!
//! Bindings whose log records already hold their text (Python's `LogRecord` keeps UTF-8 copies of its
//! strings) can hand the sender a [`RecordRef`] instead of an owned [`Record`]: the sender writes the
//! JSON body straight from the borrowed text into one buffer, and its I/O thread only adds the fields
//! the sender owns (`host`, `lang`, `sid`, `seq`). That saves a `String` per field in the caller and the
//! freeing of each on the I/O thread. The bytes on the wire are the same as for the equal [`Record`].
//!
//! ```no_run
//! use logfunnel_core::{RecordRef, Sender, SenderOptions};
//! let sender = Sender::new(SenderOptions::new("tcp://127.0.0.1:5555")).unwrap();
//! let mut r = RecordRef::new("app", 20, "hello", 1_700_000_000.5);
//! r.process = Some(42);
//! sender.log_ref(r);
//! ```

use crate::record::{is_reserved_key, level_name, Record, WIRE_VERSION};
use serde_json::Value;

/// A log record whose text is borrowed; the fields mean what [`Record`]'s do.
#[derive(Debug, Clone, Default)]
pub struct RecordRef<'a> {
    /// Logger name.
    pub name: &'a str,
    /// The final message.
    pub msg: &'a str,
    /// Numeric level.
    pub levelno: i64,
    /// Level name; `None` derives it from `levelno`.
    pub levelname: Option<&'a str>,
    /// Creation time, seconds since the Unix epoch.
    pub created: f64,
    /// Milliseconds part of `created`; derived when `None`.
    pub msecs: Option<f64>,
    /// Python's `relativeCreated`.
    pub relative_created: Option<f64>,
    /// Full path of the source file.
    pub pathname: Option<&'a str>,
    /// File name part of `pathname`.
    pub filename: Option<&'a str>,
    /// Module name.
    pub module: Option<&'a str>,
    /// Source line number.
    pub lineno: Option<i64>,
    /// Function name.
    pub func_name: Option<&'a str>,
    /// Process id.
    pub process: Option<i64>,
    /// Process name.
    pub process_name: Option<&'a str>,
    /// Thread id.
    pub thread: Option<i64>,
    /// Thread name.
    pub thread_name: Option<&'a str>,
    /// asyncio task name.
    pub task_name: Option<&'a str>,
    /// Formatted traceback.
    pub exc_text: Option<&'a str>,
    /// Formatted stack.
    pub stack_info: Option<&'a str>,
    /// User fields, keys already renamed as [`Record::push_extra`] does (use [`RecordRef::push_extra`]).
    pub extra: Vec<(String, Value)>,
}

impl<'a> RecordRef<'a> {
    /// A record with the required fields.
    pub fn new(name: &'a str, levelno: i64, msg: &'a str, created: f64) -> Self {
        RecordRef {
            name,
            msg,
            levelno,
            created,
            ..RecordRef::default()
        }
    }

    /// Adds a user field; a reserved key is renamed to `extra.<key>` (as [`Record::push_extra`]).
    pub fn push_extra(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        if is_reserved_key(&key) {
            self.extra.push((format!("extra.{key}"), value));
        } else {
            self.extra.push((key, value));
        }
    }

    /// The owned record with the same content.
    pub fn into_record(self) -> Record {
        let own = |s: Option<&str>| s.map(str::to_string);
        Record {
            name: self.name.to_string(),
            msg: self.msg.to_string(),
            levelno: self.levelno,
            levelname: own(self.levelname),
            created: self.created,
            msecs: self.msecs,
            relative_created: self.relative_created,
            pathname: own(self.pathname),
            filename: own(self.filename),
            module: own(self.module),
            lineno: self.lineno,
            func_name: own(self.func_name),
            process: self.process,
            process_name: own(self.process_name),
            thread: self.thread,
            thread_name: own(self.thread_name),
            task_name: own(self.task_name),
            exc_text: own(self.exc_text),
            stack_info: own(self.stack_info),
            extra: self.extra,
            ..Record::default()
        }
    }

    /// Queue cost, the same as for the equal [`Record`] (see `queue_max_bytes`).
    pub(crate) fn cost(&self) -> usize {
        256 + self.msg.len()
            + self.name.len()
            + self.exc_text.map_or(0, str::len)
            + self.stack_info.map_or(0, str::len)
            + self.extra.len() * 32
    }

    /// A capacity for [`RecordRef::encode_body`]'s buffer that is rarely exceeded.
    pub(crate) fn encoded_len_hint(&self) -> usize {
        let len = |s: Option<&str>| s.map_or(0, str::len);
        320 + self.name.len()
            + self.msg.len() * 11 / 10
            + len(self.levelname)
            + len(self.pathname)
            + len(self.filename)
            + len(self.module)
            + len(self.func_name)
            + len(self.process_name)
            + len(self.thread_name)
            + len(self.task_name)
            + len(self.exc_text)
            + len(self.stack_info)
            + self.extra.len() * 32
    }

    /// Whether the sender would fill in fields of this record (`process`, or `filename`/`module`
    /// from `pathname`): then it has to go the [`Record`] way.
    pub(crate) fn needs_sender_fields(&self) -> bool {
        self.process.is_none() || (self.filename.is_none() && self.pathname.is_some())
    }

    /// Writes the frame without the sender's fields: `out` gets the JSON object up to `stack_info`
    /// (unclosed), then the user fields (each with its leading comma). Returns where the user fields
    /// start, which is where the sender's fields go in.
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> usize {
        out.extend_from_slice(b"{\"v\":");
        json(out, &WIRE_VERSION);
        out.extend_from_slice(b",\"name\":");
        json(out, self.name);
        out.extend_from_slice(b",\"msg\":");
        json(out, self.msg);
        out.extend_from_slice(b",\"args\":null,\"levelno\":");
        json(out, &self.levelno);
        out.extend_from_slice(b",\"levelname\":");
        match self.levelname {
            Some(s) => json(out, s),
            None => json(out, &*level_name(self.levelno)),
        }
        out.extend_from_slice(b",\"created\":");
        json(out, &self.created);
        out.extend_from_slice(b",\"msecs\":");
        // As `Record::msecs_or_default`.
        let msecs = self
            .msecs
            .unwrap_or_else(|| ((self.created - self.created.trunc()) * 1000.0).trunc());
        json(out, &msecs);
        opt(out, b",\"relativeCreated\":", &self.relative_created);
        opt(out, b",\"pathname\":", &self.pathname);
        opt(out, b",\"filename\":", &self.filename);
        opt(out, b",\"module\":", &self.module);
        opt(out, b",\"lineno\":", &self.lineno);
        opt(out, b",\"funcName\":", &self.func_name);
        opt(out, b",\"process\":", &self.process);
        opt(out, b",\"processName\":", &self.process_name);
        opt(out, b",\"thread\":", &self.thread);
        opt(out, b",\"threadName\":", &self.thread_name);
        opt(out, b",\"taskName\":", &self.task_name);
        opt(out, b",\"exc_text\":", &self.exc_text);
        opt(out, b",\"stack_info\":", &self.stack_info);
        let split = out.len();
        for (k, v) in &self.extra {
            out.push(b',');
            json(out, k.as_str());
            out.push(b':');
            json(out, v);
        }
        split
    }
}

/// One value the way `serde_json` writes it inside a [`Record`]'s frame.
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and these values always serialize.
    serde_json::to_writer(&mut *out, value).expect("serializes into a Vec");
}

fn opt<T: serde::Serialize>(out: &mut Vec<u8>, key: &[u8], value: &Option<T>) {
    if let Some(v) = value {
        out.extend_from_slice(key);
        json(out, v);
    }
}

/// A record encoded in the log call, waiting in the queue for the sender's fields.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// [`RecordRef::encode_body`]'s output.
    pub(crate) body: Vec<u8>,
    /// Where the user fields start.
    pub(crate) split: usize,
}

impl Encoded {
    /// The full frame: the body with `sender_fields` (`,"host":…,"sid":…,"seq":`), `seq` and `}`.
    pub(crate) fn write_frame(&self, sender_fields: &[u8], seq: u64, frame: &mut Vec<u8>) {
        frame.reserve(self.body.len() + sender_fields.len() + 21);
        frame.extend_from_slice(&self.body[..self.split]);
        frame.extend_from_slice(sender_fields);
        json(frame, &seq);
        frame.extend_from_slice(&self.body[self.split..]);
        frame.push(b'}');
    }
}

/// The sender's fields as they follow `stack_info` in every frame, up to the `seq` value.
pub(crate) fn sender_fields(host: &str, lang: &str, sid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + host.len() + sid.len());
    out.extend_from_slice(b",\"host\":");
    json(&mut out, host);
    out.extend_from_slice(b",\"lang\":");
    json(&mut out, lang);
    out.extend_from_slice(b",\"sid\":");
    json(&mut out, sid);
    out.extend_from_slice(b",\"seq\":");
    out
}

/// Longest `seq` value plus the closing brace: what [`Encoded::write_frame`] adds besides the fields.
pub(crate) const SEQ_AND_END_MAX: usize = 20 + 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(r: &RecordRef<'_>, seq: u64) -> Vec<u8> {
        let mut body = Vec::new();
        let split = r.encode_body(&mut body);
        let mut frame = Vec::new();
        Encoded { body, split }.write_frame(
            &sender_fields("h\"ost", "python", "1-2"),
            seq,
            &mut frame,
        );
        frame
    }

    fn record_frame(r: RecordRef<'_>, seq: u64) -> Vec<u8> {
        let mut rec = r.into_record();
        rec.host = Some("h\"ost".into());
        rec.lang = Some("python".into());
        rec.sid = Some("1-2".into());
        rec.seq = Some(seq);
        let mut out = Vec::new();
        rec.write_json(&mut out);
        out
    }

    #[test]
    fn same_bytes_as_the_record_way() {
        let mut full = RecordRef::new("app.ü", 20, "q \" \\ \n \u{1} 😀", 1_700_000_000.123_456);
        full.levelname = Some("INFO");
        full.msecs = Some(123.0);
        full.relative_created = Some(5.5);
        full.pathname = Some("/a/b.py");
        full.filename = Some("b.py");
        full.module = Some("b");
        full.lineno = Some(7);
        full.func_name = Some("f");
        full.process = Some(1);
        full.process_name = Some("MainProcess");
        full.thread = Some(-3);
        full.thread_name = Some("T");
        full.task_name = Some("task");
        full.exc_text = Some("Traceback\n");
        full.stack_info = Some("Stack");
        full.push_extra(
            "user",
            serde_json::json!({"a": [1, 2.5, null, true], "b": "x"}),
        );
        full.push_extra("seq", serde_json::json!(9));
        full.push_extra("k\"ey", serde_json::json!(f64::MAX));
        assert_eq!(
            frame_of(&full, u64::MAX),
            record_frame(full.clone(), u64::MAX)
        );

        let mut minimal = RecordRef::new("", 55, "", 1.999);
        minimal.process = Some(0);
        minimal.created = f64::NAN;
        assert_eq!(frame_of(&minimal, 0), record_frame(minimal.clone(), 0));
        let minimal = RecordRef::new("n", 10, "m", 3.25);
        assert_eq!(frame_of(&minimal, 12), record_frame(minimal.clone(), 12));
    }

    #[test]
    fn cost_matches_the_record_way() {
        let mut r = RecordRef::new("app", 20, "hello", 1.0);
        r.exc_text = Some("tb");
        r.stack_info = Some("st");
        r.push_extra("a", Value::Null);
        let owned = r.clone().into_record();
        assert_eq!(r.cost(), crate::sender::record_cost(&owned));
    }
}
