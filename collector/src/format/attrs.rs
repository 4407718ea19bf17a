//! The record attributes a format string can name, in one table: each row gives the attribute, the
//! name(s) a format uses for it and its value, with Python's `makeLogRecord` defaults where a missing
//! value means something (`pathname`, `filename`, `module` empty, `lineno` 0) and `None` for the rest.
//!
//! The table is a `macro_rules!` invocation so the name lookup ([`Attr::from_name`], at parse time)
//! and the value ([`Attr::value`], per record, a plain `match`) cannot drift apart. A name not in it
//! is a user field, looked up in the record's extras when formatting.

use logfunnel_core::pyfmt::Arg;
use logfunnel_core::RecordView;
use std::borrow::Cow;

/// Builds [`Attr`], [`Attr::from_name`] and [`Attr::value`] from one list of rows
/// `Variant "name" | "alias" => value,`, where `value` may use the record `$r`, the formatted
/// `asctime` text and the record's `levelname`.
macro_rules! attributes {
    ($r:ident, $asctime:ident, $levelname:ident;
     $($variant:ident $($name:literal)|+ => $value:expr,)*) => {
        /// A record attribute a format can name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Attr {
            $(#[doc = concat!($("`", $name, "` ",)+)] $variant,)*
        }

        impl Attr {
            /// The attribute a format names `name`, if it is one.
            pub(super) fn from_name(name: &str) -> Option<Attr> {
                match name {
                    $($($name)|+ => Some(Attr::$variant),)*
                    _ => None,
                }
            }

            /// The attribute's value in record `r` (`asctime` and `levelname` are computed once
            /// per record by the formatter).
            pub(super) fn value<'a>(
                self,
                $r: &'a RecordView<'_>,
                $asctime: &'a str,
                $levelname: &'a str,
            ) -> Arg<'a> {
                match self {
                    $(Attr::$variant => $value,)*
                }
            }
        }
    };
}

attributes! { r, asctime, levelname;
    Name "name" => Arg::Str(&r.name),
    Msg "msg" | "message" => Arg::Str(&r.msg),
    Args "args" => Arg::None,
    Levelno "levelno" => Arg::Int(r.levelno as i128),
    Levelname "levelname" => Arg::Str(levelname),
    Created "created" => Arg::Float(r.created),
    Msecs "msecs" => Arg::Float(r.msecs_or_default()),
    RelativeCreated "relativeCreated" => r.relative_created.map_or(Arg::None, Arg::Float),
    Asctime "asctime" => Arg::Str(asctime),
    Pathname "pathname" => Arg::Str(r.pathname.as_deref().unwrap_or("")),
    Filename "filename" => Arg::Str(r.filename.as_deref().unwrap_or("")),
    Module "module" => Arg::Str(r.module.as_deref().unwrap_or("")),
    Lineno "lineno" => Arg::Int(r.lineno.unwrap_or(0) as i128),
    FuncName "funcName" => text(&r.func_name),
    Process "process" => int(r.process),
    ProcessName "processName" => text(&r.process_name),
    Thread "thread" => int(r.thread),
    ThreadName "threadName" => text(&r.thread_name),
    TaskName "taskName" => text(&r.task_name),
    ExcInfo "exc_info" => Arg::None,
    ExcText "exc_text" => text(&r.exc_text),
    StackInfo "stack_info" => text(&r.stack_info),
    Host "host" => text(&r.host),
    Lang "lang" => text(&r.lang),
    Sid "sid" => text(&r.sid),
    Seq "seq" => r.seq.map_or(Arg::None, |n| Arg::Int(n as i128)),
    V "v" => Arg::Int(1),
}

/// An optional text attribute: `None` when missing.
fn text<'a>(v: &'a Option<Cow<'_, str>>) -> Arg<'a> {
    v.as_deref().map_or(Arg::None, Arg::Str)
}

/// An optional integer attribute: `None` when missing.
fn int(v: Option<i64>) -> Arg<'static> {
    v.map_or(Arg::None, |n| Arg::Int(n as i128))
}
