//! The value a format placeholder naming a record attribute stands for. The attributes are the
//! schema's keys ([`Field`], so a format names exactly what a frame can hold, plus the ones Python's
//! `logging` computes: `message`, `asctime`, `exc_info`), with Python's `makeLogRecord` defaults
//! where a missing value means something (`pathname`, `filename`, `module` empty, `lineno` 0) and
//! `None` for the rest. A name that is no [`Field`] is a user field, looked up in the record's
//! extras when formatting.
//!
//! The name is resolved once, when the format is parsed ([`Field::from_key`]); per record the value
//! is a plain `match` on the field, which is exhaustive, so a new schema field cannot be forgotten.

use logfunnel_core::pyfmt::Arg;
use logfunnel_core::schema::{Field, WIRE_VERSION};
use logfunnel_core::RecordView;
use std::borrow::Cow;

/// The value of `field` in record `r` (`asctime` and `levelname` are computed once per record by
/// the formatter).
pub(super) fn value<'a>(
    field: Field,
    r: &'a RecordView<'_>,
    asctime: &'a str,
    levelname: &'a str,
) -> Arg<'a> {
    match field {
        Field::V => Arg::Int(WIRE_VERSION as i128),
        Field::Name => Arg::Str(&r.name),
        Field::Msg | Field::Message => Arg::Str(&r.msg),
        Field::Args | Field::ExcInfo => Arg::None,
        Field::Levelno => Arg::Int(r.levelno as i128),
        Field::Levelname => Arg::Str(levelname),
        Field::Created => Arg::Float(r.created),
        Field::Msecs => Arg::Float(r.msecs_or_default()),
        Field::RelativeCreated => r.relative_created.map_or(Arg::None, Arg::Float),
        Field::Asctime => Arg::Str(asctime),
        Field::Pathname => Arg::Str(r.pathname.as_deref().unwrap_or("")),
        Field::Filename => Arg::Str(r.filename.as_deref().unwrap_or("")),
        Field::Module => Arg::Str(r.module.as_deref().unwrap_or("")),
        Field::Lineno => Arg::Int(r.lineno.unwrap_or(0) as i128),
        Field::FuncName => text(&r.func_name),
        Field::Process => int(r.process),
        Field::ProcessName => text(&r.process_name),
        Field::Thread => int(r.thread),
        Field::ThreadName => text(&r.thread_name),
        Field::TaskName => text(&r.task_name),
        Field::ExcText => text(&r.exc_text),
        Field::StackInfo => text(&r.stack_info),
        Field::Host => text(&r.host),
        Field::Lang => text(&r.lang),
        Field::Sid => text(&r.sid),
        Field::Seq => r.seq.map_or(Arg::None, |n| Arg::Int(n as i128)),
    }
}

/// An optional text attribute: `None` when missing.
fn text<'a>(v: &'a Option<Cow<'_, str>>) -> Arg<'a> {
    v.as_deref().map_or(Arg::None, Arg::Str)
}

/// An optional integer attribute: `None` when missing.
fn int(v: Option<i64>) -> Arg<'static> {
    v.map_or(Arg::None, |n| Arg::Int(n as i128))
}
