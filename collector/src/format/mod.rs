//! Python `logging`-style format strings, so a format copied from a Python config prints the same line.
//!
//! A [`Formatter`] parses its format string once into literal pieces and fields; formatting a record
//! walks that list. The three styles of `logging.Formatter(style=...)` are supported
//! ([`Formatter::new_with_style`]):
//! `%(levelname)-8s` ([`Style::Percent`], the default), `{levelname:<8}` ([`Style::Brace`]) and
//! `$levelname` / `${levelname}` ([`Style::Dollar`]). `asctime` is Python's (`2026-11-26 15:58:13,123`
//! by default, or `datefmt` as strftime), in local time or, [`with_utc`](Formatter::with_utc), UTC.
//! A traceback (`exc_text`) and a stack (`stack_info`) follow on their own lines, as in
//! `Formatter.format`.
//!
//! One file per job: `percent`, `brace` and `dollar` parse the three styles into the same list of
//! pieces (`brace` also holds the `str.format` spec engine), `datefmt` is strftime, and `attrs` is
//! the one table of record attributes a format can name. This file holds the [`Formatter`] that
//! walks the pieces.
//!
//! Where Python would raise, the formatter prints something instead, because a log line must never be
//! lost to a formatting mistake:
//! - a name that is neither a record attribute nor a user field is printed unchanged (`%(nope)s`);
//! - a value a directive cannot take (`%(name)d`, `None` for `%(process)d`) is printed with `str()`,
//!   keeping width and alignment.
//!
//! Missing optional attributes print Python's `makeLogRecord` defaults where those mean something
//! (`pathname`, `filename`, `module` empty, `lineno` 0, `funcName` None) and `None` for the rest
//! (Python would print the collector's own pid, thread and start time there).
//!
//! ```
//! use logfunnel_collector::format::Formatter;
//! use logfunnel_core::Record;
//! let f = Formatter::new("%(asctime)s %(levelname)-8s %(name)s: %(message)s [%(user)s]")
//!     .unwrap()
//!     .with_utc(true);
//! let mut r = Record::new("app", 30, "disk full");
//! r.created = 1_764_172_693.125;
//! r.push_extra("user", serde_json::json!("bob"));
//! let mut line = String::new();
//! f.format(&r.view(), &mut line);
//! assert_eq!(line, "2025-11-26 15:58:13,125 WARNING  app: disk full [bob]");
//! ```

mod attrs;
mod brace;
mod datefmt;
mod dollar;
mod percent;

use brace::BraceSpec;
use datefmt::DateFmt;
use logfunnel_core::pyfmt::percent::{self as printf, PercentError, Spec};
use logfunnel_core::pyfmt::Arg;
use logfunnel_core::schema::Field;
use logfunnel_core::RecordView;
use std::fmt::Write as _;
use std::sync::Mutex;

/// The collector's default line format.
pub const DEFAULT_FORMAT: &str = "%(asctime)s %(levelname)-8s %(name)s [%(process)d] %(message)s";

/// The placeholder syntax of a format string (Python's `style=` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// `%(name)s`, Python's default.
    #[default]
    Percent,
    /// `{name}` with `str.format` specs.
    Brace,
    /// `$name` / `${name}` (`string.Template`).
    Dollar,
}

impl Style {
    /// Python's spelling: `%`, `{` or `$`.
    pub fn parse(s: &str) -> Option<Style> {
        match s {
            "%" => Some(Style::Percent),
            "{" => Some(Style::Brace),
            "$" => Some(Style::Dollar),
            _ => None,
        }
    }

    /// The collector's default line format written in this style (`$` has no field widths).
    pub fn default_format(self) -> &'static str {
        match self {
            Style::Percent => DEFAULT_FORMAT,
            Style::Brace => "{asctime} {levelname:<8} {name} [{process}] {message}",
            Style::Dollar => "${asctime} ${levelname} ${name} [${process}] ${message}",
        }
    }
}

/// A format string or `datefmt` that cannot be used; says where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// A `%` directive Python would reject.
    #[error("format string: bad directive at position {pos}: {source}")]
    Directive {
        /// Byte position of the `%`.
        pos: usize,
        /// What is wrong with it.
        #[source]
        source: PercentError,
    },
    /// Any other problem in the format string.
    #[error("format string: {problem} at position {pos}")]
    Invalid {
        /// Byte position.
        pos: usize,
        /// What is wrong.
        problem: String,
    },
    /// The format names no field at all (Python raises `ValueError` for this too).
    #[error("format string {fmt:?} has no field for the {style:?} style (e.g. %(message)s)")]
    NoFields {
        /// The format string.
        fmt: String,
        /// The style it was read with.
        style: Style,
    },
    /// A `datefmt` directive that is not supported.
    #[error("datefmt: unsupported directive {directive:?} at position {pos}")]
    Datefmt {
        /// Byte position of the `%`.
        pos: usize,
        /// The directive as written.
        directive: String,
    },
}

/// What a placeholder refers to.
#[derive(Debug, Clone)]
enum Target {
    /// A record attribute (a schema key, or one Python computes).
    Attr(Field),
    /// A user field, looked up in `Record::extra` at format time.
    User(String),
}

/// How a placeholder's value is rendered, by style.
#[derive(Debug, Clone)]
enum Render {
    /// `%(name)-8s`: a printf-style spec.
    Percent(Spec),
    /// `{name:<8}`: a `str.format` spec.
    Brace(BraceSpec),
    /// `$name`: Python's `str()`.
    Str,
}

/// A parsed format is a list of these.
#[derive(Debug, Clone)]
enum Piece {
    /// Literal text.
    Lit(String),
    /// A placeholder.
    Field {
        target: Target,
        render: Render,
        /// The placeholder as written, printed when the name is unknown.
        raw: String,
    },
}

/// What a placeholder named `key` refers to: a record attribute, or else a user field.
fn target_of(key: &str) -> Target {
    match Field::from_key(key) {
        Some(a) => Target::Attr(a),
        None => Target::User(key.to_string()),
    }
}

/// A parsed Python `logging` format; see the [module docs](self).
#[derive(Debug)]
pub struct Formatter {
    pieces: Vec<Piece>,
    datefmt: Option<DateFmt>,
    utc: bool,
    uses_time: bool,
    /// The date part of `asctime` for the last whole second formatted (records come in bursts).
    cache: Mutex<Option<(i64, String)>>,
}

impl Clone for Formatter {
    fn clone(&self) -> Self {
        Formatter {
            pieces: self.pieces.clone(),
            datefmt: self.datefmt.clone(),
            utc: self.utc,
            uses_time: self.uses_time,
            cache: Mutex::new(None),
        }
    }
}

impl Formatter {
    /// Parses a `%`-style format (Python's default style).
    pub fn new(fmt: &str) -> Result<Formatter, FormatError> {
        Formatter::new_with_style(fmt, Style::Percent)
    }

    /// Parses a format in the given style (Python's `logging.Formatter(fmt, style=...)`).
    pub fn new_with_style(fmt: &str, style: Style) -> Result<Formatter, FormatError> {
        let pieces = match style {
            Style::Percent => percent::parse(fmt)?,
            Style::Brace => brace::parse(fmt)?,
            Style::Dollar => dollar::parse(fmt)?,
        };
        if !pieces.iter().any(|p| matches!(p, Piece::Field { .. })) {
            return Err(FormatError::NoFields {
                fmt: fmt.to_string(),
                style,
            });
        }
        let uses_time = pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Field {
                    target: Target::Attr(Field::Asctime),
                    ..
                }
            )
        });
        Ok(Formatter {
            pieces,
            datefmt: None,
            utc: false,
            uses_time,
            cache: Mutex::new(None),
        })
    }

    /// Sets the strftime format of `asctime` (`None`: Python's default, `%Y-%m-%d %H:%M:%S,mmm`).
    pub fn with_datefmt(mut self, datefmt: Option<&str>) -> Result<Formatter, FormatError> {
        self.datefmt = datefmt.map(DateFmt::parse).transpose()?;
        self.cache = Mutex::new(None);
        Ok(self)
    }

    /// Renders `asctime` in UTC (`true`) or local time (`false`, the default).
    pub fn with_utc(mut self, utc: bool) -> Formatter {
        self.utc = utc;
        self.cache = Mutex::new(None);
        self
    }

    /// Appends the formatted record to `out`: the line (no newline at the end), then `exc_text` and
    /// `stack_info` on following lines, as Python's `Formatter.format` does.
    pub fn format(&self, record: &RecordView<'_>, out: &mut String) {
        self.format_with(record, out, &mut String::new());
    }

    /// [`format`](Self::format) with a caller-kept scratch buffer for `asctime`, so a loop over
    /// many records allocates nothing.
    pub fn format_with(&self, record: &RecordView<'_>, out: &mut String, scratch: &mut String) {
        let start = out.len();
        let asctime = scratch;
        asctime.clear();
        if self.uses_time {
            self.asctime(record, asctime);
        }
        let levelname = record.levelname_or_default();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field {
                    target,
                    render,
                    raw,
                } => {
                    let value = match target {
                        Target::Attr(field) => attrs::value(*field, record, asctime, &levelname),
                        Target::User(name) => match record.extra_value(name) {
                            Some(v) => Arg::from(v),
                            None => {
                                out.push_str(raw);
                                continue;
                            }
                        },
                    };
                    render_value(out, render, value);
                }
            }
        }
        for tail in [&record.exc_text, &record.stack_info].into_iter().flatten() {
            let tail: &str = tail;
            if tail.is_empty() {
                continue;
            }
            if !out[start..].ends_with('\n') {
                out.push('\n');
            }
            out.push_str(tail);
        }
    }

    /// Convenience: the formatted record as a new string.
    pub fn format_to_string(&self, record: &RecordView<'_>) -> String {
        let mut s = String::with_capacity(128 + record.msg.len());
        self.format(record, &mut s);
        s
    }

    /// Python's `formatTime`: strftime of the whole second, plus `,mmm` for the default format.
    fn asctime(&self, record: &RecordView<'_>, out: &mut String) {
        let created = record.created;
        let secs = if created.is_finite() {
            created.floor().clamp(-1e15, 1e15) as i64
        } else {
            0
        };
        let cached = self.cache.try_lock().ok();
        match cached {
            Some(mut slot) => {
                if !matches!(&*slot, Some((s, _)) if *s == secs) {
                    let mut text = String::new();
                    datefmt::render_date(self.datefmt.as_ref(), self.utc, secs, &mut text);
                    *slot = Some((secs, text));
                }
                if let Some((_, text)) = &*slot {
                    out.push_str(text);
                }
            }
            None => datefmt::render_date(self.datefmt.as_ref(), self.utc, secs, out),
        }
        if self.datefmt.is_none() {
            let msecs = record.msecs_or_default();
            let ms = if msecs.is_finite() {
                msecs.trunc() as i64
            } else {
                0
            };
            let _ = write!(out, ",{ms:03}");
        }
    }
}

fn render_value(out: &mut String, render: &Render, value: Arg<'_>) {
    match render {
        Render::Percent(spec) => {
            let mark = out.len();
            if printf::render(out, spec, value).is_err() {
                out.truncate(mark);
                let fallback = Spec {
                    conv: 's',
                    precision: None,
                    ..*spec
                };
                let _ = printf::render(out, &fallback, value);
            }
        }
        Render::Brace(spec) => spec.render(out, value),
        Render::Str => {
            let _ = printf::render(out, &Spec::plain('s'), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Local, TimeZone};
    use logfunnel_core::Record;
    use serde_json::json;

    fn rec() -> Record {
        let mut r = Record::new("app", 25, "hi");
        r.created = 1_764_172_693.125;
        r
    }

    fn fmt(f: &str) -> String {
        Formatter::new(f)
            .unwrap()
            .with_utc(true)
            .format_to_string(&rec().view())
    }

    #[test]
    fn never_raises_where_python_would() {
        assert_eq!(
            fmt("%(nope)s|%(nope)-5d|%(message)s"),
            "%(nope)s|%(nope)-5d|hi"
        );
        assert_eq!(fmt("[%(process)5d] [%(thread)s]"), "[ None] [None]");
        assert_eq!(fmt("%(name)d %(message)05.1f"), "app    hi");
        assert_eq!(fmt("%(levelname)s"), "Level 25");
        let f = Formatter::new_with_style("{nope:>5} {name:d}", Style::Brace).unwrap();
        assert_eq!(f.format_to_string(&rec().view()), "{nope:>5} app");
        let f = Formatter::new_with_style("$nope $name", Style::Dollar).unwrap();
        assert_eq!(f.format_to_string(&rec().view()), "$nope app");
    }

    #[test]
    fn user_fields_are_found_by_name() {
        let mut r = rec();
        r.push_extra("user_id", json!(42));
        r.push_extra("message", json!("shadow"));
        let f = Formatter::new("%(user_id)05d %(message)s %(extra.message)s").unwrap();
        assert_eq!(f.format_to_string(&r.view()), "00042 hi shadow");
    }

    #[test]
    fn bad_formats_are_refused_with_a_position() {
        let e = Formatter::new("plain text").unwrap_err();
        assert!(matches!(e, FormatError::NoFields { .. }), "{e}");
        let e = Formatter::new("%(message)s %s").unwrap_err();
        assert!(matches!(e, FormatError::Invalid { pos: 12, .. }), "{e}");
        let e = Formatter::new("%(message)s %(x)q").unwrap_err();
        assert!(matches!(e, FormatError::Directive { pos: 12, .. }), "{e}");
        assert!(Formatter::new("%(message)s 100%").is_err());
        assert!(Formatter::new("%(message)*s").is_err());
        assert!(Formatter::new_with_style("{message} }", Style::Brace).is_err());
        assert!(Formatter::new_with_style("{message.attr}", Style::Brace).is_err());
        assert!(Formatter::new_with_style("{message:q}", Style::Brace).is_err());
        assert!(Formatter::new_with_style("$message $ x", Style::Dollar).is_err());
        let e = Formatter::new("%(message)s")
            .unwrap()
            .with_datefmt(Some("%H %f"))
            .unwrap_err();
        assert_eq!(
            e,
            FormatError::Datefmt {
                pos: 3,
                directive: "%f".into()
            }
        );
        assert!(e.to_string().contains("%f"));
    }

    #[test]
    fn local_time_matches_chrono_local() {
        let f = Formatter::new("%(asctime)s").unwrap();
        let r = rec();
        let want = Local
            .timestamp_opt(1_764_172_693, 0)
            .earliest()
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S,125")
            .to_string();
        assert_eq!(f.format_to_string(&r.view()), want);
        let z = Formatter::new("%(asctime)s")
            .unwrap()
            .with_datefmt(Some("%Z"))
            .unwrap();
        assert!(!z.format_to_string(&r.view()).is_empty());
    }

    #[test]
    fn appends_and_caches_per_second() {
        let f = Formatter::new("%(asctime)s %(message)s")
            .unwrap()
            .with_utc(true);
        let mut r = rec();
        let mut out = String::from("> ");
        f.format(&r.view(), &mut out);
        r.created += 0.5;
        r.msecs = None;
        out.push('|');
        f.format(&r.view(), &mut out);
        r.created += 1.0;
        out.push('|');
        f.format(&r.view(), &mut out);
        assert_eq!(
            out,
            "> 2025-11-26 15:58:13,125 hi|2025-11-26 15:58:13,625 hi|2025-11-26 15:58:14,625 hi"
        );
        let g = f.clone();
        assert_eq!(g.format_to_string(&r.view()), "2025-11-26 15:58:14,625 hi");
    }

    #[test]
    fn composite_date_directives_expand_as_in_the_c_locale() {
        let f = Formatter::new("%(asctime)s")
            .unwrap()
            .with_datefmt(Some("%c|%D|%x|%F|%R|%T|%X|%-d"))
            .unwrap()
            .with_utc(true);
        assert_eq!(
            f.format_to_string(&rec().view()),
            "Wed Nov 26 15:58:13 2025|11/26/25|11/26/25|2025-11-26|15:58|15:58:13|15:58:13|26"
        );
    }

    #[test]
    fn default_format_parses() {
        let f = Formatter::new(DEFAULT_FORMAT).unwrap().with_utc(true);
        let mut r = rec();
        r.levelno = 20;
        r.process = Some(7);
        assert_eq!(
            f.format_to_string(&r.view()),
            "2025-11-26 15:58:13,125 INFO     app [7] hi"
        );
    }
}
