//! [`RecordView`]: a record whose text borrows from the frame it was decoded from.
//!
//! The collector handles every record once (route, format, write) and then forgets it, so copying each
//! text field into its own `String` only to free it microseconds later is most of what decoding would
//! cost. A view keeps `&str`s into the received frame instead; only strings with JSON escapes (and the
//! values the decoder computes, such as a merged cookbook message) are owned. [`Record`] stays the owned
//! form that senders build; [`Record::view`] and [`RecordView::into_record`] convert between the two, and
//! both serialize to the same v1 JSON.

use crate::record::{level_name, Record, WIRE_VERSION};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::borrow::Cow;

/// A record whose text fields borrow from a received frame (or from a [`Record`]). Field meanings are
/// those of [`Record`]'s fields of the same name.
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

impl RecordView<'_> {
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
        let mut ser = serde_json::Serializer::new(out);
        // Writing into a Vec cannot fail, and every value here is serializable.
        self.serialize(&mut ser)
            .expect("a record always serializes into a Vec");
    }
}

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

impl Serialize for RecordView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn opt<M: SerializeMap, T: Serialize + ?Sized>(
            map: &mut M,
            key: &str,
            value: Option<&T>,
        ) -> Result<(), M::Error> {
            match value {
                Some(v) => map.serialize_entry(key, v),
                None => Ok(()),
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("v", &WIRE_VERSION)?;
        map.serialize_entry("name", &*self.name)?;
        map.serialize_entry("msg", &*self.msg)?;
        map.serialize_entry("args", &())?;
        map.serialize_entry("levelno", &self.levelno)?;
        map.serialize_entry("levelname", &*self.levelname_or_default())?;
        map.serialize_entry("created", &self.created)?;
        map.serialize_entry("msecs", &self.msecs_or_default())?;
        opt(&mut map, "relativeCreated", self.relative_created.as_ref())?;
        opt(&mut map, "pathname", self.pathname.as_deref())?;
        opt(&mut map, "filename", self.filename.as_deref())?;
        opt(&mut map, "module", self.module.as_deref())?;
        opt(&mut map, "lineno", self.lineno.as_ref())?;
        opt(&mut map, "funcName", self.func_name.as_deref())?;
        opt(&mut map, "process", self.process.as_ref())?;
        opt(&mut map, "processName", self.process_name.as_deref())?;
        opt(&mut map, "thread", self.thread.as_ref())?;
        opt(&mut map, "threadName", self.thread_name.as_deref())?;
        opt(&mut map, "taskName", self.task_name.as_deref())?;
        opt(&mut map, "exc_text", self.exc_text.as_deref())?;
        opt(&mut map, "stack_info", self.stack_info.as_deref())?;
        opt(&mut map, "host", self.host.as_deref())?;
        opt(&mut map, "lang", self.lang.as_deref())?;
        opt(&mut map, "sid", self.sid.as_deref())?;
        opt(&mut map, "seq", self.seq.as_ref())?;
        for (k, v) in &self.extra {
            map.serialize_entry(&**k, &**v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_serializes_exactly_like_its_record_and_converts_back() {
        let mut r = Record::new("app.db", 25, "caf\u{e9} \"quoted\"");
        r.pathname = Some("/srv/app/db.py".into());
        r.lineno = Some(12);
        r.sid = Some("abc".into());
        r.seq = Some(9);
        r.push_extra("user", serde_json::json!({"id": 7, "tags": ["a"]}));
        let view = r.view();
        let mut from_view = Vec::new();
        view.write_json(&mut from_view);
        assert_eq!(String::from_utf8(from_view).unwrap(), r.to_json());
        assert_eq!(view.levelname_or_default(), "Level 25");
        assert_eq!(view.extra_value("user").unwrap()["id"], 7);
        assert_eq!(view.into_record(), r);
    }
}
