//! The wire record, schema version 1 (see `spec/wire-format.md`), in its two forms: [`Record`] owns
//! its text, [`RecordView`] borrows it (from a received frame, a [`Record`] or a binding's own record).
//!
//! One ZeroMQ frame holds one UTF-8 JSON object whose keys are Python `LogRecord` attribute names, so
//! `logging.makeLogRecord(json.loads(frame))` rebuilds a usable record in any Python process. User fields
//! (Python's `extra=`) travel as further top-level keys, so `%(user_id)s` works on the receiving side.
//! Both forms are declared by one field list (the `records!` invocation below), which also writes the
//! conversions between them; the keys and their order on the wire are [`crate::schema`]'s.
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

use crate::schema::Level;
use serde_json::Value;
use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::schema::is_reserved_key;
pub use crate::schema::{Lang, RESERVED_KEYS};
pub use crate::sender::options::DEFAULT_MAX_FRAME_BYTES;

/// A user field's key as it goes on the wire: a reserved one becomes `extra.<key>`.
pub(crate) fn extra_key(key: String) -> String {
    if is_reserved_key(&key) {
        format!("extra.{key}")
    } else {
        key
    }
}

/// Declares [`Record`] and [`RecordView`] from one list of fields, and the conversions between them.
/// `text` fields are strings, `opt_text` optional strings, `copy` plain values copied as they are.
macro_rules! records {
    (
        text { $($(#[$tdoc:meta])* $t:ident,)* }
        opt_text { $($(#[$odoc:meta])* $o:ident,)* }
        copy { $($(#[$cdoc:meta])* $c:ident: $cty:ty,)* }
    ) => {
        /// One log record as it travels. Optional fields are left out of the JSON when `None`
        /// (the receiver fills Python's defaults).
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct Record {
            $($(#[$tdoc])* pub $t: String,)*
            $($(#[$odoc])* pub $o: Option<String>,)*
            $($(#[$cdoc])* pub $c: $cty,)*
            /// User fields, in insertion order, sent as top-level keys.
            pub extra: Vec<(String, Value)>,
        }

        /// A record whose text fields are borrowed (from a received frame, a [`Record`] or a
        /// binding's own record). Field meanings are those of [`Record`]'s fields of the same name.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct RecordView<'a> {
            $($(#[$tdoc])* pub $t: Cow<'a, str>,)*
            $($(#[$odoc])* pub $o: Option<Cow<'a, str>>,)*
            $($(#[$cdoc])* pub $c: $cty,)*
            /// User fields, in the frame's order, keys unique.
            pub extra: Vec<(Cow<'a, str>, Cow<'a, Value>)>,
        }

        impl Record {
            /// This record as a [`RecordView`] borrowing its text (nothing is copied).
            pub fn view(&self) -> RecordView<'_> {
                RecordView {
                    $($t: Cow::Borrowed(&self.$t),)*
                    $($o: self.$o.as_deref().map(Cow::Borrowed),)*
                    $($c: self.$c,)*
                    extra: self
                        .extra
                        .iter()
                        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v)))
                        .collect(),
                }
            }

            /// This record as a view that owns its text (nothing is copied).
            pub fn into_view(self) -> RecordView<'static> {
                RecordView {
                    $($t: Cow::Owned(self.$t),)*
                    $($o: self.$o.map(Cow::Owned),)*
                    $($c: self.$c,)*
                    extra: self
                        .extra
                        .into_iter()
                        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
                        .collect(),
                }
            }
        }

        impl<'a> RecordView<'a> {
            /// The owned record, copying whatever is still borrowed.
            pub fn into_record(self) -> Record {
                Record {
                    $($t: self.$t.into_owned(),)*
                    $($o: self.$o.map(Cow::into_owned),)*
                    $($c: self.$c,)*
                    extra: self
                        .extra
                        .into_iter()
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect(),
                }
            }

            /// The same record owning all its text, copying whatever is still borrowed.
            pub fn into_owned(self) -> RecordView<'static> {
                RecordView {
                    $($t: Cow::Owned(self.$t.into_owned()),)*
                    $($o: self.$o.map(|s| Cow::Owned(s.into_owned())),)*
                    $($c: self.$c,)*
                    extra: self
                        .extra
                        .into_iter()
                        .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                        .collect(),
                }
            }

            /// Bytes of text the record holds, for a capacity guess.
            pub(crate) fn text_len(&self) -> usize {
                0 $(+ self.$t.len())* $(+ self.$o.as_deref().map_or(0, str::len))*
            }
        }
    };
}

records! {
    text {
        /// Logger name, e.g. `app.db`.
        name,
        /// The final message, already merged with its arguments.
        msg,
    }
    opt_text {
        /// Level name; `None` means "derive from `levelno`" when encoding.
        levelname,
        /// Full path of the source file.
        pathname,
        /// File name part of `pathname`; the sender derives it (and `module`) when `None`.
        filename,
        /// Module name (file name without extension in Python).
        module,
        /// Function name.
        func_name,
        /// Process name (`MainProcess`, `ForkPoolWorker-1`, ...).
        process_name,
        /// Thread name.
        thread_name,
        /// asyncio task name (Python 3.12+).
        task_name,
        /// Formatted traceback, if any.
        exc_text,
        /// Formatted stack, if any.
        stack_info,
        /// Host name of the sender.
        host,
        /// Sender language.
        lang,
        /// Sender id: unique per sender instance, stable for its life.
        sid,
    }
    copy {
        /// Numeric level, Python's scale (DEBUG 10 ... CRITICAL 50).
        levelno: i64,
        /// Creation time, seconds since the Unix epoch.
        created: f64,
        /// Milliseconds part of `created`; derived when `None`.
        msecs: Option<f64>,
        /// Milliseconds since the sending process loaded its logging (Python's `relativeCreated`).
        relative_created: Option<f64>,
        /// Source line number.
        lineno: Option<i64>,
        /// Process id of the sender.
        process: Option<i64>,
        /// Thread id.
        thread: Option<i64>,
        /// Per-sender sequence number, from 0, +1 per record offered to the sender (dropped ones too).
        seq: Option<u64>,
    }
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
    pub fn levelname_or_default(&self) -> Cow<'_, str> {
        levelname_or(self.levelname.as_deref(), self.levelno)
    }

    /// `msecs` as Python computes it: the millisecond part of `created`.
    pub fn msecs_or_default(&self) -> f64 {
        self.msecs.unwrap_or_else(|| msecs_of(self.created))
    }
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

    /// The level name that goes on the wire (`levelname`, or Python's name for `levelno`).
    pub fn levelname_or_default(&self) -> Cow<'_, str> {
        levelname_or(self.levelname.as_deref(), self.levelno)
    }

    /// `msecs` as Python computes it: the millisecond part of `created`.
    pub fn msecs_or_default(&self) -> f64 {
        self.msecs.unwrap_or_else(|| msecs_of(self.created))
    }

    /// A user field's value.
    pub fn extra_value(&self, key: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// Fills in what a sender adds to every record: `process`, and `filename` and `module` derived
    /// from `pathname` (borrowing from it where it is borrowed).
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

/// `levelname` if the record has one, else Python's name for `levelno`.
fn levelname_or(levelname: Option<&str>, levelno: i64) -> Cow<'_, str> {
    match levelname {
        Some(s) => Cow::Borrowed(s),
        None => Level::name_of(levelno),
    }
}

/// Python's `msecs`: the whole milliseconds of `created`'s fraction.
fn msecs_of(created: f64) -> f64 {
    ((created - created.trunc()) * 1000.0).trunc()
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

    #[test]
    fn conversions_keep_every_field() {
        let mut r = Record::new("a", 25, "m");
        r.pathname = Some("/x/y.py".into());
        r.seq = Some(4);
        r.push_extra("k", Value::from(1));
        assert_eq!(r.view().into_record(), r);
        assert_eq!(r.clone().into_view().into_record(), r);
        assert_eq!(r.view().into_owned().into_record(), r);
    }
}
