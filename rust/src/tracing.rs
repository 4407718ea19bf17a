//! A `tracing_subscriber::Layer`: every `tracing` event becomes one record at the collector, carrying
//! the fields of the spans it happened in.
//!
//! | `tracing` | record field |
//! |---|---|
//! | the event's `message` (`info!("text {x}")`) | `msg` |
//! | the event's other fields (`info!(user = 42, "...")`) | user fields: `%(user)s` in a collector format |
//! | the fields of the spans the event is in | user fields too; the event's own field of the same name wins, then the innermost span's |
//! | the span names, outermost first (`request:db:query`) | the user field `spans` |
//! | `target` (the module path unless `target:` is given) | `name` (the logger name) |
//! | level: TRACE, DEBUG, INFO, WARN, ERROR | `levelno` 5, 10, 20, 30, 40; `levelname` `TRACE`, `DEBUG`, `INFO`, `WARNING`, `ERROR` |
//! | `file`, `line`, `module_path` | `pathname` (and `filename`), `lineno`, `module` |
//!
//! Records of the `log` crate that `tracing-log`'s `LogTracer` turns into events keep their own
//! target, file, line and module path (its `log.target`, `log.file`, ... fields), as if logged through
//! [`crate::log`].
//!
//! A field whose name is a record field (`name`, `msg`, `process`, ...) arrives as `extra.<name>`.
//! Field values: integers, floats and booleans stay numbers and booleans; strings stay strings;
//! anything recorded with `?x` or `%x` arrives as its `Debug` or `Display` text.
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! let (layer, _guard) = logfunnel::tracing::layer("tcp://127.0.0.1:5555").expect("logfunnel");
//! tracing_subscriber::registry().with(layer).init();
//! let _request = tracing::info_span!("request", id = 7).entered();
//! tracing::info!(user = 42, "signed in"); // msg "signed in", user 42, id 7, spans "request"
//! ```

use crate::fields::{self, push_field, Extra};
use crate::funnel::now_seconds;
use crate::level::Severity;
use crate::{Builder, Error, FlushGuard, Funnel};
use ::tracing::field::{Field, Visit};
use ::tracing::span::{Attributes, Id, Record};
use ::tracing::{Event, Subscriber};
use logfunnel_core::RecordView;
use serde_json::Value;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer as _;

/// The user field that holds the span path.
pub const SPANS_FIELD: &str = "spans";

/// A layer sending to the collector at `endpoint`, with the defaults of [`Builder`], and the guard
/// that delivers what is queued when dropped (like `tracing_appender::non_blocking`).
pub fn layer(endpoint: impl Into<String>) -> Result<(Layer, FlushGuard), Error> {
    let (funnel, guard) = Builder::new(endpoint).build()?;
    Ok((funnel.layer(), guard))
}

/// Sets a global subscriber that sends INFO and above to the collector at `endpoint`. For other
/// levels or more layers, compose [`layer`] with a `tracing_subscriber::registry()` yourself.
pub fn init(endpoint: impl Into<String>) -> Result<FlushGuard, Error> {
    let (layer, guard) = layer(endpoint)?;
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    ::tracing::subscriber::set_global_default(subscriber)?;
    Ok(guard)
}

/// The layer; made by [`layer`] or [`Funnel::layer`].
#[derive(Debug, Clone)]
pub struct Layer {
    funnel: Funnel,
}

impl Layer {
    pub(crate) fn new(funnel: Funnel) -> Layer {
        Layer { funnel }
    }
}

/// What the layer keeps in each span: its path from the root (a JSON string, so that events borrow
/// it) and its fields so far.
struct SpanData {
    path: Value,
    fields: Vec<(&'static str, Value)>,
}

impl<S> tracing_subscriber::Layer<S> for Layer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let Some(span) = ctx.span(id) else { return };
            let name = span.name();
            let path = match span.parent() {
                Some(parent) => match parent.extensions().get::<SpanData>() {
                    Some(SpanData {
                        path: Value::String(outer),
                        ..
                    }) => format!("{outer}:{name}"),
                    _ => name.to_owned(),
                },
                None => name.to_owned(),
            };
            let mut fields = FieldValues::default();
            attrs.record(&mut fields);
            let data = SpanData {
                path: Value::String(path),
                fields: fields.values,
            };
            span.extensions_mut().insert(data);
        }));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let Some(span) = ctx.span(id) else { return };
            let mut fields = FieldValues::default();
            values.record(&mut fields);
            let mut extensions = span.extensions_mut();
            let Some(data) = extensions.get_mut::<SpanData>() else {
                return;
            };
            for (key, value) in fields.values {
                match data.fields.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => data.fields.push((key, value)),
                }
            }
        }));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // A field whose `Debug` panics loses its record, not the application.
        let _ = catch_unwind(AssertUnwindSafe(|| self.send(event, &ctx)));
    }
}

impl Layer {
    fn send<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let mut fields = FieldValues::for_event(meta);
        event.record(&mut fields);
        // Innermost span first, so that inner fields win; the guards are held only while encoding.
        let spans: Vec<_> = ctx
            .event_scope(event)
            .map_or_else(Vec::new, |scope| scope.collect());
        let extensions: Vec<_> = spans.iter().map(|span| span.extensions()).collect();
        let span_data = || extensions.iter().filter_map(|e| e.get::<SpanData>());

        let severity = Severity::from(*meta.level());
        let mut extra = Extra::with_capacity(fields.values.len() + 1);
        for (key, value) in fields.values {
            push_field(&mut extra, Cow::Borrowed(key), Cow::Owned(value));
        }
        if let Some(innermost) = span_data().next() {
            push_field(
                &mut extra,
                Cow::Borrowed(SPANS_FIELD),
                Cow::Borrowed(&innermost.path),
            );
        }
        for data in span_data() {
            for (key, value) in &data.fields {
                push_field(&mut extra, Cow::Borrowed(key), Cow::Borrowed(value));
            }
        }
        let origin = fields.log_origin.unwrap_or_default();
        let record = RecordView {
            name: origin
                .target
                .map_or(Cow::Borrowed(meta.target()), Cow::Owned),
            msg: fields.message.map_or(Cow::Borrowed(""), Cow::Owned),
            levelno: severity.levelno(),
            levelname: severity.levelname().map(Cow::Borrowed),
            created: now_seconds(),
            pathname: origin
                .file
                .map(Cow::Owned)
                .or(meta.file().map(Cow::Borrowed)),
            module: origin
                .module_path
                .map(Cow::Owned)
                .or(meta.module_path().map(Cow::Borrowed)),
            lineno: origin.line.or(meta.line().map(i64::from)),
            extra,
            ..RecordView::default()
        };
        self.funnel.send(record);
    }
}

/// Field values as JSON, with `message` kept apart (it becomes the record's `msg`).
#[derive(Default)]
struct FieldValues {
    message: Option<String>,
    values: Vec<(&'static str, Value)>,
    /// `Some` for an event `tracing-log` made from a `log` record: where that record came from.
    log_origin: Option<LogOrigin>,
}

/// The `log` record's own metadata, which `tracing-log` passes as fields of its events.
#[derive(Default)]
struct LogOrigin {
    target: Option<String>,
    module_path: Option<String>,
    file: Option<String>,
    line: Option<i64>,
}

impl FieldValues {
    /// The visitor for one event; it watches for `tracing-log`'s fields when the event is one of its.
    fn for_event(meta: &::tracing::Metadata<'_>) -> FieldValues {
        let bridged = meta.target() == "log" && meta.fields().field("log.target").is_some();
        FieldValues {
            log_origin: bridged.then(LogOrigin::default),
            ..FieldValues::default()
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        self.values.push((field.name(), value));
    }

    /// Takes a `tracing-log` field into the origin; false for every other field.
    fn log_origin_str(&mut self, field: &Field, value: &str) -> bool {
        let Some(origin) = &mut self.log_origin else {
            return false;
        };
        let slot = match field.name() {
            "log.target" => &mut origin.target,
            "log.module_path" => &mut origin.module_path,
            "log.file" => &mut origin.file,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    }
}

impl Visit for FieldValues {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" && self.message.is_none() {
            self.message = Some(text);
        } else {
            self.put(field, Value::String(text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.log_origin_str(field, value) {
            return;
        }
        if field.name() == "message" && self.message.is_none() {
            self.message = Some(value.to_owned());
        } else {
            self.put(field, Value::String(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let (Some(origin), "log.line") = (&mut self.log_origin, field.name()) {
            origin.line = i64::try_from(value).ok();
            return;
        }
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, fields::wide_int(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, fields::wide_int(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, fields::float(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}
