//! The `log` facade's logger: every `log::info!` (and friends) becomes one record at the collector.
//!
//! | `log` | record field |
//! |---|---|
//! | `target()` (the module path unless `target:` is given) | `name` (the logger name) |
//! | the formatted message | `msg` |
//! | level: TRACE, DEBUG, INFO, WARN, ERROR | `levelno` 5, 10, 20, 30, 40; `levelname` `TRACE`, `DEBUG`, `INFO`, `WARNING`, `ERROR` |
//! | `file()`, `line()` | `pathname` (and `filename`), `lineno` |
//! | `module_path()` | `module` |
//! | key-values (`info!(user = 42; "...")`) | user fields: `%(user)s` in a collector format |
//!
//! ```no_run
//! let _guard = logfunnel::log::init("tcp://127.0.0.1:5555").expect("logfunnel");
//! log::info!(user = 42, path = "/login"; "signed in");
//! ```

use crate::fields::{self, push_field, Extra};
use crate::funnel::now_seconds;
use crate::level::Severity;
use crate::{Builder, Error, FlushGuard, Funnel};
use ::log::kv::{self, VisitSource, VisitValue};
use ::log::{LevelFilter, Metadata};
use logfunnel_core::RecordView;
use serde_json::Value;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Installs a logger sending to the collector at `endpoint`, passing INFO and above, with the
/// defaults of [`Builder`]. Keep the returned guard alive while the program logs.
pub fn init(endpoint: impl Into<String>) -> Result<FlushGuard, Error> {
    let (funnel, guard) = Builder::new(endpoint).build()?;
    funnel.logger().install()?;
    Ok(guard)
}

/// A `log::Log` that sends through a [`Funnel`]; made by [`Funnel::logger`].
#[derive(Debug)]
#[must_use = "a Logger does nothing until installed"]
pub struct Logger {
    funnel: Funnel,
    max_level: LevelFilter,
}

impl Logger {
    pub(crate) fn new(funnel: Funnel) -> Logger {
        Logger {
            funnel,
            max_level: LevelFilter::Info,
        }
    }

    /// The most verbose level passed on (default INFO); [`Logger::install`] sets it as `log`'s
    /// global maximum too, so a disabled `debug!` costs one comparison.
    pub fn max_level(mut self, level: LevelFilter) -> Logger {
        self.max_level = level;
        self
    }

    /// Makes this the process's logger (`log` allows one).
    pub fn install(self) -> Result<(), Error> {
        let max_level = self.max_level;
        ::log::set_boxed_logger(Box::new(self))?;
        ::log::set_max_level(max_level);
        Ok(())
    }
}

impl ::log::Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max_level
    }

    fn log(&self, record: &::log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // A message or key-value whose `Display` panics loses its record, not the application.
        let _ = catch_unwind(AssertUnwindSafe(|| self.funnel.send(to_view(record))));
    }

    /// Waits (at most the exit timeout) until what was logged so far is handed to the socket.
    fn flush(&self) {
        self.funnel.flush(self.funnel.exit_timeout());
    }
}

/// The record for one `log` call, borrowing what `log` hands over.
fn to_view<'a>(record: &'a ::log::Record<'a>) -> RecordView<'a> {
    let severity = Severity::from(record.level());
    let msg = match record.args().as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(record.args().to_string()),
    };
    let mut extra = Extra::new();
    // Visiting only fails when a visitor says so, and ours never does.
    let _ = record.key_values().visit(&mut KeyValues(&mut extra));
    RecordView {
        name: Cow::Borrowed(record.target()),
        msg,
        levelno: severity.levelno(),
        levelname: severity.levelname().map(Cow::Borrowed),
        created: now_seconds(),
        pathname: record.file().map(Cow::Borrowed),
        module: record.module_path().map(Cow::Borrowed),
        lineno: record.line().map(i64::from),
        extra,
        ..RecordView::default()
    }
}

/// Collects a record's key-values as user fields.
struct KeyValues<'e, 'kvs>(&'e mut Extra<'kvs>);

impl<'kvs> VisitSource<'kvs> for KeyValues<'_, 'kvs> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let key = match key.to_borrowed_str() {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(key.as_str().to_owned()),
        };
        let mut json = Json(Value::Null);
        value.visit(&mut json)?;
        push_field(self.0, key, Cow::Owned(json.0));
        Ok(())
    }
}

/// One key-value's value as JSON: numbers, booleans and strings as themselves, anything else as its
/// `Display` text.
struct Json(Value);

/// Visitor methods that only store the value, converted by `$to`.
macro_rules! store_as {
    ($($name:ident($ty:ty) => $to:expr;)*) => {$(
        fn $name(&mut self, value: $ty) -> Result<(), kv::Error> {
            self.0 = $to(value);
            Ok(())
        }
    )*};
}

impl<'v> VisitValue<'v> for Json {
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.0 = Value::Null;
        Ok(())
    }

    store_as! {
        visit_any(kv::Value<'_>) => |v: kv::Value<'_>| Value::String(v.to_string());
        visit_u64(u64) => Value::from;
        visit_i64(i64) => Value::from;
        visit_u128(u128) => fields::wide_int;
        visit_i128(i128) => fields::wide_int;
        visit_f64(f64) => fields::float;
        visit_bool(bool) => Value::Bool;
        visit_str(&str) => |v: &str| Value::String(v.to_owned());
        visit_char(char) => |v: char| Value::String(v.to_string());
    }
}
