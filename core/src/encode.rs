//! The one encoder of the v1 frame. Every frame, from a [`Record`] or a [`RecordView`], in the log
//! call or on the sender's I/O thread, is written by the functions here, so the bytes cannot drift
//! between paths. Keys and their order come from [`Field`]; strings are escaped byte for byte as
//! `serde_json` escapes them (a test holds the two equal).

use crate::json_text::write_str;
use crate::record::{Record, RecordView};
use crate::schema::{Field, WIRE_VERSION};
use serde_json::Value;
use std::borrow::Cow;

impl Record {
    /// Encodes the record as one v1 JSON frame.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256 + self.msg.len());
        self.write_json(&mut out);
        // The encoder only writes valid UTF-8.
        String::from_utf8(out).expect("the encoder writes UTF-8")
    }

    /// Appends the v1 JSON frame to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.view().write_json(out);
    }
}

impl RecordView<'_> {
    /// Appends the v1 JSON frame to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.write_head(out);
        opt_str(out, Field::Host, &self.host);
        opt_str(out, Field::Lang, &self.lang);
        opt_str(out, Field::Sid, &self.sid);
        if let Some(seq) = self.seq {
            out.extend_from_slice(Field::Seq.prefix());
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
        out.push(b'{');
        out.extend_from_slice(&Field::V.prefix()[1..]);
        write_int(out, WIRE_VERSION);
        out.extend_from_slice(Field::Name.prefix());
        write_str(out, &self.name);
        out.extend_from_slice(Field::Msg.prefix());
        write_str(out, &self.msg);
        out.extend_from_slice(Field::Args.prefix());
        out.extend_from_slice(b"null");
        out.extend_from_slice(Field::Levelno.prefix());
        write_int(out, self.levelno);
        out.extend_from_slice(Field::Levelname.prefix());
        write_str(out, &self.levelname_or_default());
        out.extend_from_slice(Field::Created.prefix());
        write_float(out, self.created);
        out.extend_from_slice(Field::Msecs.prefix());
        write_float(out, self.msecs_or_default());
        if let Some(v) = self.relative_created {
            out.extend_from_slice(Field::RelativeCreated.prefix());
            write_float(out, v);
        }
        opt_str(out, Field::Pathname, &self.pathname);
        opt_str(out, Field::Filename, &self.filename);
        opt_str(out, Field::Module, &self.module);
        opt_int(out, Field::Lineno, self.lineno);
        opt_str(out, Field::FuncName, &self.func_name);
        opt_int(out, Field::Process, self.process);
        opt_str(out, Field::ProcessName, &self.process_name);
        opt_int(out, Field::Thread, self.thread);
        opt_str(out, Field::ThreadName, &self.thread_name);
        opt_str(out, Field::TaskName, &self.task_name);
        opt_str(out, Field::ExcText, &self.exc_text);
        opt_str(out, Field::StackInfo, &self.stack_info);
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

    /// A capacity for [`RecordView::encode_body`]'s buffer that is rarely exceeded.
    pub(crate) fn encoded_len_hint(&self) -> usize {
        320 + self.text_len() + self.msg.len() / 10 + self.extra.len() * 32
    }
}

/// One value the way `serde_json` writes it.
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and these values always serialize.
    serde_json::to_writer(&mut *out, value).expect("serializes into a Vec");
}

#[inline]
fn opt_str(out: &mut Vec<u8>, field: Field, value: &Option<Cow<'_, str>>) {
    if let Some(v) = value {
        out.extend_from_slice(field.prefix());
        write_str(out, v);
    }
}

#[inline]
fn opt_int(out: &mut Vec<u8>, field: Field, value: Option<i64>) {
    if let Some(v) = value {
        out.extend_from_slice(field.prefix());
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
    for (field, value) in [(Field::Host, host), (Field::Lang, lang), (Field::Sid, sid)] {
        out.extend_from_slice(field.prefix());
        write_str(&mut out, value);
    }
    out.extend_from_slice(Field::Seq.prefix());
    out
}

/// Longest `seq` value plus the closing brace: what [`Encoded::write_frame`] adds besides the fields.
pub(crate) const SEQ_AND_END_MAX: usize = 20 + 1;

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
        let values = [
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
        ];
        for (k, v) in values.clone() {
            want.insert(k.to_string(), v);
        }
        // The schema's wire order is the encoder's.
        let written: Vec<&str> = Field::ALL
            .iter()
            .filter(|f| f.is_written())
            .map(|f| f.key())
            .collect();
        assert_eq!(
            values[..written.len()]
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>(),
            written
        );
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
        assert_eq!(view.cost(), r.clone().into_view().cost());
        assert_eq!(view.into_record(), r);
        let mut v = RecordView::new("a", 25, "m", 1.5);
        v.push_extra("msg", json!(1));
        assert_eq!(v.extra[0].0, "extra.msg");
        assert_eq!(v.levelname_or_default(), "Level 25");
    }
}
