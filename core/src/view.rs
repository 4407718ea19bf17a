//! [`RecordView`]: a record whose text is borrowed, and the one encoder of the v1 frame.
//!
//! Both ends of the wire handle a record once and forget it, so copying each text field into its own
//! `String` is most of what they would spend:
//! - the collector decodes into a view whose `&str`s point into the received frame (only strings with
//!   JSON escapes, and values the decoder computes, such as a merged cookbook message, are owned);
//! - a binding whose log records already hold their text (Python's `LogRecord`) builds a view of it and
//!   the sender encodes the frame body from it in the log call ([`crate::Sender::log_ref`]), leaving only
//!   `host`, `lang`, `sid` and `seq` to its I/O thread.
//!
//! [`Record`] stays the owned form; [`Record::view`] and [`RecordView::into_record`] convert. Every
//! frame, from either form, is written by the functions here, so the bytes cannot drift between paths.

use crate::json_text::write_str;
use crate::record::{extra_key, level_name, Record, WIRE_VERSION};
use serde_json::Value;
use std::borrow::Cow;

/// A record whose text fields are borrowed (from a received frame, a [`Record`] or a binding's own
/// record). Field meanings are those of [`Record`]'s fields of the same name.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)]
pub struct RecordView<'a> {
    pub name: Cow<'a, str>,
    pub msg: Cow<'a, str>,
    pub levelno: i64,
    pub levelname: Option<Cow<'a, str>>,
    pub created: f64,
    pub msecs: Option<f64>,
    pub relative_created: Option<f64>,
    pub pathname: Option<Cow<'a, str>>,
    pub filename: Option<Cow<'a, str>>,
    pub module: Option<Cow<'a, str>>,
    pub lineno: Option<i64>,
    pub func_name: Option<Cow<'a, str>>,
    pub process: Option<i64>,
    pub process_name: Option<Cow<'a, str>>,
    pub thread: Option<i64>,
    pub thread_name: Option<Cow<'a, str>>,
    pub task_name: Option<Cow<'a, str>>,
    pub exc_text: Option<Cow<'a, str>>,
    pub stack_info: Option<Cow<'a, str>>,
    pub host: Option<Cow<'a, str>>,
    pub lang: Option<Cow<'a, str>>,
    pub sid: Option<Cow<'a, str>>,
    pub seq: Option<u64>,
    /// User fields, in the frame's order, keys unique.
    pub extra: Vec<(Cow<'a, str>, Cow<'a, Value>)>,
}

fn owned(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(Cow::into_owned)
}

fn borrowed(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

impl<'a> RecordView<'a> {
    /// A record with the required fields, borrowing its text.
    pub fn new(name: &'a str, levelno: i64, msg: &'a str, created: f64) -> Self {
        RecordView {
            name: Cow::Borrowed(name),
            msg: Cow::Borrowed(msg),
            levelno,
            created,
            ..RecordView::default()
        }
    }

    /// Adds a user field; a reserved key is renamed to `extra.<key>` (as [`Record::push_extra`]).
    pub fn push_extra(&mut self, key: impl Into<String>, value: Value) {
        self.extra
            .push((Cow::Owned(extra_key(key.into())), Cow::Owned(value)));
    }

    /// The owned record, copying whatever is still borrowed.
    pub fn into_record(self) -> Record {
        Record {
            name: self.name.into_owned(),
            msg: self.msg.into_owned(),
            levelno: self.levelno,
            levelname: owned(self.levelname),
            created: self.created,
            msecs: self.msecs,
            relative_created: self.relative_created,
            pathname: owned(self.pathname),
            filename: owned(self.filename),
            module: owned(self.module),
            lineno: self.lineno,
            func_name: owned(self.func_name),
            process: self.process,
            process_name: owned(self.process_name),
            thread: self.thread,
            thread_name: owned(self.thread_name),
            task_name: owned(self.task_name),
            exc_text: owned(self.exc_text),
            stack_info: owned(self.stack_info),
            host: owned(self.host),
            lang: owned(self.lang),
            sid: owned(self.sid),
            seq: self.seq,
            extra: self
                .extra
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The level name that goes on the wire (`levelname`, or Python's name for `levelno`).
    pub fn levelname_or_default(&self) -> Cow<'_, str> {
        match &self.levelname {
            Some(s) => Cow::Borrowed(s),
            None => level_name(self.levelno),
        }
    }

    /// `msecs` as Python computes it: the millisecond part of `created`.
    pub fn msecs_or_default(&self) -> f64 {
        self.msecs
            .unwrap_or_else(|| ((self.created - self.created.trunc()) * 1000.0).trunc())
    }

    /// A user field's value.
    pub fn extra_value(&self, key: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// Appends the v1 JSON frame to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.write_head(out);
        opt_str(out, b",\"host\":", &self.host);
        opt_str(out, b",\"lang\":", &self.lang);
        opt_str(out, b",\"sid\":", &self.sid);
        if let Some(seq) = self.seq {
            out.extend_from_slice(b",\"seq\":");
            write_int(out, seq);
        }
        self.write_extras(out);
        out.push(b'}');
    }

    /// The frame without the sender's fields (`host`, `lang`, `sid`, `seq`) and without the closing
    /// brace; returns the offset where those fields go in (see [`Encoded`]).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> usize {
        self.write_head(out);
        let split = out.len();
        self.write_extras(out);
        split
    }

    /// The keys up to `stack_info`, in the order every logfunnel encoder writes them (the collector's
    /// fast decoding path counts on that order).
    fn write_head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"v\":");
        write_int(out, WIRE_VERSION);
        out.extend_from_slice(b",\"name\":");
        write_str(out, &self.name);
        out.extend_from_slice(b",\"msg\":");
        write_str(out, &self.msg);
        out.extend_from_slice(b",\"args\":null,\"levelno\":");
        write_int(out, self.levelno);
        out.extend_from_slice(b",\"levelname\":");
        write_str(out, &self.levelname_or_default());
        out.extend_from_slice(b",\"created\":");
        write_float(out, self.created);
        out.extend_from_slice(b",\"msecs\":");
        write_float(out, self.msecs_or_default());
        if let Some(v) = self.relative_created {
            out.extend_from_slice(b",\"relativeCreated\":");
            write_float(out, v);
        }
        opt_str(out, b",\"pathname\":", &self.pathname);
        opt_str(out, b",\"filename\":", &self.filename);
        opt_str(out, b",\"module\":", &self.module);
        opt_int(out, b",\"lineno\":", self.lineno);
        opt_str(out, b",\"funcName\":", &self.func_name);
        opt_int(out, b",\"process\":", self.process);
        opt_str(out, b",\"processName\":", &self.process_name);
        opt_int(out, b",\"thread\":", self.thread);
        opt_str(out, b",\"threadName\":", &self.thread_name);
        opt_str(out, b",\"taskName\":", &self.task_name);
        opt_str(out, b",\"exc_text\":", &self.exc_text);
        opt_str(out, b",\"stack_info\":", &self.stack_info);
    }

    fn write_extras(&self, out: &mut Vec<u8>) {
        for (k, v) in &self.extra {
            out.push(b',');
            write_str(out, k);
            out.push(b':');
            match &**v {
                Value::String(s) => write_str(out, s),
                v => json(out, v),
            }
        }
    }

    /// What the record counts against the sender's `queue_max_bytes`.
    pub(crate) fn cost(&self) -> usize {
        let len = |s: &Option<Cow<'_, str>>| s.as_deref().map_or(0, str::len);
        crate::sender::queue_cost(
            self.msg.len() + self.name.len() + len(&self.exc_text) + len(&self.stack_info),
            self.extra.len(),
        )
    }

    /// A capacity for [`RecordView::encode_body`]'s buffer that is rarely exceeded.
    pub(crate) fn encoded_len_hint(&self) -> usize {
        let len = |s: &Option<Cow<'_, str>>| s.as_deref().map_or(0, str::len);
        320 + self.name.len()
            + self.msg.len() * 11 / 10
            + len(&self.levelname)
            + len(&self.pathname)
            + len(&self.filename)
            + len(&self.module)
            + len(&self.func_name)
            + len(&self.process_name)
            + len(&self.thread_name)
            + len(&self.task_name)
            + len(&self.exc_text)
            + len(&self.stack_info)
            + self.extra.len() * 32
    }

    /// Fills in what the sender would otherwise add on its I/O thread: `process`, and `filename`
    /// and `module` derived from `pathname` (borrowing from it where it is borrowed), so the record
    /// can be encoded in the log call without copying its text.
    pub(crate) fn fill_sender_fields(&mut self, pid: i64) {
        self.process.get_or_insert(pid);
        if self.filename.is_some() {
            return;
        }
        let (filename, module) = match &self.pathname {
            None => return,
            Some(Cow::Borrowed(path)) => {
                let (filename, module) = file_and_module(path);
                (Cow::Borrowed(filename), Cow::Borrowed(module))
            }
            Some(Cow::Owned(path)) => {
                let (filename, module) = file_and_module(path);
                (
                    Cow::Owned(filename.to_owned()),
                    Cow::Owned(module.to_owned()),
                )
            }
        };
        self.module.get_or_insert(module);
        self.filename = Some(filename);
    }
}

/// A path's file name and that name without its extension, the way Python's `logging` derives
/// `filename` and `module` from `pathname` (either separator, so Windows paths work too).
pub(crate) fn file_and_module(path: &str) -> (&str, &str) {
    let filename = path.rsplit(['/', '\\']).next().unwrap_or("");
    let module = match filename.rfind('.') {
        Some(dot) if dot > 0 => &filename[..dot],
        _ => filename,
    };
    (filename, module)
}

/// One value the way `serde_json` writes it.
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and these values always serialize.
    serde_json::to_writer(&mut *out, value).expect("serializes into a Vec");
}

#[inline]
fn opt_str(out: &mut Vec<u8>, key: &[u8], value: &Option<Cow<'_, str>>) {
    if let Some(v) = value {
        out.extend_from_slice(key);
        write_str(out, v);
    }
}

#[inline]
fn opt_int(out: &mut Vec<u8>, key: &[u8], value: Option<i64>) {
    if let Some(v) = value {
        out.extend_from_slice(key);
        write_int(out, v);
    }
}

#[inline]
fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A float as `serde_json` writes it. Whole numbers (`msecs` as the sender computes it, whole
/// seconds) take a shortcut: the same digits followed by `.0`, without the shortest-digits search.
fn write_float(out: &mut Vec<u8>, v: f64) {
    // Below 2^53 every whole number is exact, and serde_json writes it in plain notation.
    if v.fract() == 0.0 && (1.0..9_007_199_254_740_992.0).contains(&v) {
        write_int(out, v as i64);
        out.extend_from_slice(b".0");
    } else {
        json(out, &v);
    }
}

/// A record encoded in the log call, waiting in the sender's queue for the sender's fields.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// [`RecordView::encode_body`]'s output.
    pub(crate) body: Vec<u8>,
    /// Where the user fields start.
    pub(crate) split: usize,
}

impl Encoded {
    /// The full frame: the body with `sender_fields` (`,"host":…,"sid":…,"seq":`), `seq` and `}`.
    pub(crate) fn write_frame(&self, sender_fields: &[u8], seq: u64, frame: &mut Vec<u8>) {
        frame.reserve(self.body.len() + sender_fields.len() + SEQ_AND_END_MAX);
        frame.extend_from_slice(&self.body[..self.split]);
        frame.extend_from_slice(sender_fields);
        write_int(frame, seq);
        frame.extend_from_slice(&self.body[self.split..]);
        frame.push(b'}');
    }
}

/// The sender's fields as they follow `stack_info` in every frame, up to the `seq` value.
pub(crate) fn sender_fields(host: &str, lang: &str, sid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + host.len() + sid.len());
    for (key, value) in [
        (&b",\"host\":"[..], host),
        (b",\"lang\":", lang),
        (b",\"sid\":", sid),
    ] {
        out.extend_from_slice(key);
        write_str(&mut out, value);
    }
    out.extend_from_slice(b",\"seq\":");
    out
}

/// Longest `seq` value plus the closing brace: what [`Encoded::write_frame`] adds besides the fields.
pub(crate) const SEQ_AND_END_MAX: usize = 20 + 1;

impl Record {
    /// This record as a [`RecordView`] borrowing its text (nothing is copied).
    pub fn view(&self) -> RecordView<'_> {
        RecordView {
            name: Cow::Borrowed(&self.name),
            msg: Cow::Borrowed(&self.msg),
            levelno: self.levelno,
            levelname: borrowed(&self.levelname),
            created: self.created,
            msecs: self.msecs,
            relative_created: self.relative_created,
            pathname: borrowed(&self.pathname),
            filename: borrowed(&self.filename),
            module: borrowed(&self.module),
            lineno: self.lineno,
            func_name: borrowed(&self.func_name),
            process: self.process,
            process_name: borrowed(&self.process_name),
            thread: self.thread,
            thread_name: borrowed(&self.thread_name),
            task_name: borrowed(&self.task_name),
            exc_text: borrowed(&self.exc_text),
            stack_info: borrowed(&self.stack_info),
            host: borrowed(&self.host),
            lang: borrowed(&self.lang),
            sid: borrowed(&self.sid),
            seq: self.seq,
            extra: self
                .extra
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full() -> Record {
        let mut r = Record::new("app.\u{fc}", 20, "q \" \\ \n \u{1} \u{1f600}");
        r.created = 1_700_000_000.123_456;
        r.levelname = Some("INFO".into());
        r.msecs = Some(123.0);
        r.relative_created = Some(5.5);
        r.pathname = Some("/a/b.py".into());
        r.filename = Some("b.py".into());
        r.module = Some("b".into());
        r.lineno = Some(7);
        r.func_name = Some("f".into());
        r.process = Some(1);
        r.process_name = Some("MainProcess".into());
        r.thread = Some(-3);
        r.thread_name = Some("T".into());
        r.task_name = Some("task".into());
        r.exc_text = Some("Traceback\n".into());
        r.stack_info = Some("Stack".into());
        r.host = Some("h\"ost".into());
        r.lang = Some("python".into());
        r.sid = Some("1-2".into());
        r.seq = Some(u64::MAX);
        r.push_extra("user", json!({"a": [1, 2.5, null, true], "b": "x"}));
        r.push_extra("seq", json!(9));
        r.push_extra("k\"ey", json!(f64::MAX));
        r.push_extra("note", json!("tab\there \u{7f} \u{1b}"));
        r
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.0,
            -1.0,
            123.0,
            999.0,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1_795_709_346.061_656_7,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
        ];
        // Whole numbers of every magnitude, the shortcut's domain and its edges.
        values.extend((0..64).map(|e| (2f64).powi(e)));
        values.extend((0..64).map(|e| (2f64).powi(e) - 1.0));
        for v in values {
            let mut ours = Vec::new();
            write_float(&mut ours, v);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&v).unwrap(),
                "{v:e}"
            );
        }
    }

    /// The hand-written encoder against serde_json serializing the same keys and values in the same
    /// order (with `preserve_order`, a `Map` keeps insertion order): escaping, numbers and order.
    #[test]
    fn the_encoder_writes_what_serde_json_writes() {
        let r = full();
        let mut want = serde_json::Map::new();
        for (k, v) in [
            ("v", json!(1)),
            ("name", json!(r.name)),
            ("msg", json!(r.msg)),
            ("args", Value::Null),
            ("levelno", json!(20)),
            ("levelname", json!("INFO")),
            ("created", json!(r.created)),
            ("msecs", json!(123.0)),
            ("relativeCreated", json!(5.5)),
            ("pathname", json!("/a/b.py")),
            ("filename", json!("b.py")),
            ("module", json!("b")),
            ("lineno", json!(7)),
            ("funcName", json!("f")),
            ("process", json!(1)),
            ("processName", json!("MainProcess")),
            ("thread", json!(-3)),
            ("threadName", json!("T")),
            ("taskName", json!("task")),
            ("exc_text", json!("Traceback\n")),
            ("stack_info", json!("Stack")),
            ("host", json!("h\"ost")),
            ("lang", json!("python")),
            ("sid", json!("1-2")),
            ("seq", json!(u64::MAX)),
            ("user", json!({"a": [1, 2.5, null, true], "b": "x"})),
            ("extra.seq", json!(9)),
            ("k\"ey", json!(f64::MAX)),
            ("note", json!("tab\there \u{7f} \u{1b}")),
        ] {
            want.insert(k.to_string(), v);
        }
        assert_eq!(r.to_json(), serde_json::to_string(&want).unwrap());
        // Derived fields and a non-finite time (serde_json writes null for it).
        let mut bare = Record::new("n", 55, "m");
        bare.created = f64::NAN;
        let got: Value = serde_json::from_str(&bare.to_json()).unwrap();
        assert_eq!(got["levelname"], "Level 55");
        assert!(got["created"].is_null() && got["msecs"].is_null());
    }

    /// A frame encoded in the log call (body, then the sender's fields spliced in by the I/O
    /// thread) is byte for byte the frame of the equal owned record.
    #[test]
    fn a_body_plus_sender_fields_is_the_records_frame() {
        let r = full();
        for seq in [0, 12, u64::MAX] {
            let mut owned = r.clone();
            owned.seq = Some(seq);
            let mut view = r.view();
            (view.host, view.lang, view.sid, view.seq) = (None, None, None, None);
            let mut body = Vec::new();
            let split = view.encode_body(&mut body);
            let mut frame = Vec::new();
            Encoded { body, split }.write_frame(
                &sender_fields("h\"ost", "python", "1-2"),
                seq,
                &mut frame,
            );
            assert_eq!(String::from_utf8(frame).unwrap(), owned.to_json());
        }
    }

    #[test]
    fn a_view_converts_back_and_costs_what_its_record_costs() {
        let r = full();
        let view = r.view();
        assert_eq!(view.levelname_or_default(), "INFO");
        assert_eq!(view.extra_value("user").unwrap()["b"], "x");
        assert_eq!(view.cost(), crate::sender::record_cost(&r));
        assert_eq!(view.into_record(), r);
        let mut v = RecordView::new("a", 25, "m", 1.5);
        v.push_extra("msg", json!(1));
        assert_eq!(v.extra[0].0, "extra.msg");
        assert_eq!(v.levelname_or_default(), "Level 25");
    }
}
