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

use chrono::{DateTime, Datelike, FixedOffset, Local, Offset, TimeZone, Timelike, Utc};
use logfunnel_core::pyfmt::percent::{self, Count, PercentError, Spec};
use logfunnel_core::pyfmt::{repr, Arg};
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

/// A record attribute a format can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Name,
    Msg,
    Args,
    Levelno,
    Levelname,
    Created,
    Msecs,
    RelativeCreated,
    Asctime,
    Pathname,
    Filename,
    Module,
    Lineno,
    FuncName,
    Process,
    ProcessName,
    Thread,
    ThreadName,
    TaskName,
    ExcInfo,
    ExcText,
    StackInfo,
    Host,
    Lang,
    Sid,
    Seq,
    V,
}

fn attr_of(name: &str) -> Option<Attr> {
    Some(match name {
        "name" => Attr::Name,
        "msg" | "message" => Attr::Msg,
        "args" => Attr::Args,
        "levelno" => Attr::Levelno,
        "levelname" => Attr::Levelname,
        "created" => Attr::Created,
        "msecs" => Attr::Msecs,
        "relativeCreated" => Attr::RelativeCreated,
        "asctime" => Attr::Asctime,
        "pathname" => Attr::Pathname,
        "filename" => Attr::Filename,
        "module" => Attr::Module,
        "lineno" => Attr::Lineno,
        "funcName" => Attr::FuncName,
        "process" => Attr::Process,
        "processName" => Attr::ProcessName,
        "thread" => Attr::Thread,
        "threadName" => Attr::ThreadName,
        "taskName" => Attr::TaskName,
        "exc_info" => Attr::ExcInfo,
        "exc_text" => Attr::ExcText,
        "stack_info" => Attr::StackInfo,
        "host" => Attr::Host,
        "lang" => Attr::Lang,
        "sid" => Attr::Sid,
        "seq" => Attr::Seq,
        "v" => Attr::V,
        _ => return None,
    })
}

#[derive(Debug, Clone)]
enum Target {
    Attr(Attr),
    /// A user field, looked up in `Record::extra` at format time.
    User(String),
}

#[derive(Debug, Clone)]
enum Render {
    Percent(Spec),
    Brace(BraceSpec),
    /// `$name`: Python's `str()`.
    Str,
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Field {
        target: Target,
        render: Render,
        /// The placeholder as written, printed when the name is unknown.
        raw: String,
    },
}

/// A parsed Python `logging` format; see the [module docs](self).
#[derive(Debug)]
pub struct Formatter {
    fmt: String,
    style: Style,
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
            fmt: self.fmt.clone(),
            style: self.style,
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
            Style::Percent => parse_percent(fmt)?,
            Style::Brace => parse_brace(fmt)?,
            Style::Dollar => parse_dollar(fmt)?,
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
                    target: Target::Attr(Attr::Asctime),
                    ..
                }
            )
        });
        Ok(Formatter {
            fmt: fmt.to_string(),
            style,
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

    /// The format string as given.
    pub fn fmt(&self) -> &str {
        &self.fmt
    }

    /// The placeholder style.
    pub fn style(&self) -> Style {
        self.style
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
                        Target::Attr(a) => attr_value(record, *a, asctime, &levelname),
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
                    self.render_date(secs, &mut text);
                    *slot = Some((secs, text));
                }
                if let Some((_, text)) = &*slot {
                    out.push_str(text);
                }
            }
            None => self.render_date(secs, out),
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

    fn render_date(&self, secs: i64, out: &mut String) {
        let (t, zone) = if self.utc {
            let t = Utc
                .timestamp_opt(secs, 0)
                .single()
                .unwrap_or_default()
                .fixed_offset();
            (t, ZoneName::Gmt)
        } else {
            match Local.timestamp_opt(secs, 0).earliest() {
                Some(t) => (t.fixed_offset(), ZoneName::Local(secs)),
                None => (
                    Utc.timestamp_opt(secs, 0)
                        .single()
                        .unwrap_or_default()
                        .fixed_offset(),
                    ZoneName::Gmt,
                ),
            }
        };
        match &self.datefmt {
            Some(d) => d.render(&t, &zone, out),
            None => {
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                );
            }
        }
    }
}

/// The value of a record attribute, with Python's defaults for missing ones (see the module docs).
fn attr_value<'a>(r: &'a RecordView<'_>, a: Attr, asctime: &'a str, levelname: &'a str) -> Arg<'a> {
    fn s<'a>(v: &'a Option<std::borrow::Cow<'_, str>>) -> Arg<'a> {
        v.as_deref().map_or(Arg::None, Arg::Str)
    }
    fn i(v: Option<i64>) -> Arg<'static> {
        v.map_or(Arg::None, |n| Arg::Int(n as i128))
    }
    match a {
        Attr::Name => Arg::Str(&r.name),
        Attr::Msg => Arg::Str(&r.msg),
        Attr::Args | Attr::ExcInfo => Arg::None,
        Attr::Levelno => Arg::Int(r.levelno as i128),
        Attr::Levelname => Arg::Str(levelname),
        Attr::Created => Arg::Float(r.created),
        Attr::Msecs => Arg::Float(r.msecs_or_default()),
        Attr::RelativeCreated => r.relative_created.map_or(Arg::None, Arg::Float),
        Attr::Asctime => Arg::Str(asctime),
        Attr::Pathname => Arg::Str(r.pathname.as_deref().unwrap_or("")),
        Attr::Filename => Arg::Str(r.filename.as_deref().unwrap_or("")),
        Attr::Module => Arg::Str(r.module.as_deref().unwrap_or("")),
        Attr::Lineno => Arg::Int(r.lineno.unwrap_or(0) as i128),
        Attr::FuncName => s(&r.func_name),
        Attr::Process => i(r.process),
        Attr::ProcessName => s(&r.process_name),
        Attr::Thread => i(r.thread),
        Attr::ThreadName => s(&r.thread_name),
        Attr::TaskName => s(&r.task_name),
        Attr::ExcText => s(&r.exc_text),
        Attr::StackInfo => s(&r.stack_info),
        Attr::Host => s(&r.host),
        Attr::Lang => s(&r.lang),
        Attr::Sid => s(&r.sid),
        Attr::Seq => r.seq.map_or(Arg::None, |n| Arg::Int(n as i128)),
        Attr::V => Arg::Int(1),
    }
}

fn render_value(out: &mut String, render: &Render, value: Arg<'_>) {
    match render {
        Render::Percent(spec) => {
            let mark = out.len();
            if percent::render(out, spec, value).is_err() {
                out.truncate(mark);
                let fallback = Spec {
                    conv: 's',
                    precision: None,
                    ..*spec
                };
                let _ = percent::render(out, &fallback, value);
            }
        }
        Render::Brace(spec) => spec.render(out, value),
        Render::Str => {
            let _ = percent::render(out, &Spec::plain('s'), value);
        }
    }
}

fn parse_percent(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = 0;
    while let Some(off) = fmt[rest..].find('%') {
        let at = rest + off;
        lit.push_str(&fmt[rest..at]);
        let d = percent::parse_directive(fmt, at)
            .map_err(|source| FormatError::Directive { pos: at, source })?;
        rest = d.end;
        if d.spec.conv == '%' {
            lit.push('%');
            continue;
        }
        if d.width == Some(Count::Star) || d.precision == Some(Count::Star) {
            return Err(FormatError::Invalid {
                pos: at,
                problem: "`*` width or precision needs positional arguments".into(),
            });
        }
        let Some(key) = d.key else {
            return Err(FormatError::Invalid {
                pos: at,
                problem: format!("directive {:?} has no (name)", &fmt[at..d.end]),
            });
        };
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Field {
            target: target_of(key),
            render: Render::Percent(d.spec),
            raw: fmt[at..d.end].to_string(),
        });
    }
    lit.push_str(&fmt[rest..]);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

fn target_of(key: &str) -> Target {
    match attr_of(key) {
        Some(a) => Target::Attr(a),
        None => Target::User(key.to_string()),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn parse_dollar(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = 0;
    let b = fmt.as_bytes();
    while let Some(off) = fmt[rest..].find('$') {
        let at = rest + off;
        lit.push_str(&fmt[rest..at]);
        let after = at + 1;
        let (name, end) = if b.get(after) == Some(&b'$') {
            lit.push('$');
            rest = after + 1;
            continue;
        } else if b.get(after) == Some(&b'{') {
            let close = fmt[after..].find('}').map(|c| after + c);
            match close {
                Some(c) if is_ascii_ident(&fmt[after + 1..c]) => (&fmt[after + 1..c], c + 1),
                _ => {
                    return Err(FormatError::Invalid {
                        pos: at,
                        problem: "`${` must be followed by an identifier and `}`".into(),
                    })
                }
            }
        } else {
            let len = fmt[after..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            let name = &fmt[after..after + len];
            if !is_ascii_ident(name) {
                return Err(FormatError::Invalid {
                    pos: at,
                    problem: "bare `$` (write `$$` for a dollar sign)".into(),
                });
            }
            (name, after + len)
        };
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Field {
            target: target_of(name),
            render: Render::Str,
            raw: fmt[at..end].to_string(),
        });
        rest = end;
    }
    lit.push_str(&fmt[rest..]);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// `string.Template`'s identifier: `[_a-zA-Z][_a-zA-Z0-9]*`.
fn is_ascii_ident(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if *c == b'_' || c.is_ascii_alphabetic())
        && b.iter().all(|c| *c == b'_' || c.is_ascii_alphanumeric())
}

fn parse_brace(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let b = fmt.as_bytes();
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'}' => {
                return Err(FormatError::Invalid {
                    pos: i,
                    problem: "single `}` (write `}}`)".into(),
                })
            }
            b'{' => {
                let Some(close) = fmt[i..].find('}').map(|c| i + c) else {
                    return Err(FormatError::Invalid {
                        pos: i,
                        problem: "`{` without its `}`".into(),
                    });
                };
                let inner = &fmt[i + 1..close];
                let (head, spec) = match inner.find(':') {
                    Some(c) => (&inner[..c], &inner[c + 1..]),
                    None => (inner, ""),
                };
                let (name, conv) = match head.find('!') {
                    Some(c) => (&head[..c], Some(&head[c + 1..])),
                    None => (head, None),
                };
                if !is_identifier(name) {
                    return Err(FormatError::Invalid {
                        pos: i,
                        problem: format!("field {name:?} is not a plain name (no positions, attributes or indexes)"),
                    });
                }
                if spec.contains('{') {
                    return Err(FormatError::Invalid {
                        pos: i,
                        problem: "nested fields in a format spec are not supported".into(),
                    });
                }
                let conv = match conv {
                    None => None,
                    Some(c @ ("r" | "s" | "a")) => c.chars().next(),
                    Some(c) => {
                        return Err(FormatError::Invalid {
                            pos: i,
                            problem: format!("unknown conversion !{c} (use !r, !s or !a)"),
                        })
                    }
                };
                let spec = BraceSpec::parse(spec, conv)
                    .map_err(|problem| FormatError::Invalid { pos: i, problem })?;
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Field {
                    target: target_of(name),
                    render: Render::Brace(spec),
                    raw: fmt[i..=close].to_string(),
                });
                i = close + 1;
            }
            _ => {
                let next = fmt[i..].find(['{', '}']).map_or(fmt.len(), |n| i + n);
                lit.push_str(&fmt[i..next]);
                i = next;
            }
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// Python's format-spec mini-language: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BraceSpec {
    conv: Option<char>,
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

impl BraceSpec {
    fn parse(spec: &str, conv: Option<char>) -> Result<BraceSpec, String> {
        let chars: Vec<char> = spec.chars().collect();
        let mut i = 0;
        let mut out = BraceSpec {
            conv,
            fill: ' ',
            align: None,
            sign: '-',
            alt: false,
            zero: false,
            width: 0,
            grouping: None,
            precision: None,
            ty: None,
        };
        let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
        if chars.len() >= 2 && is_align(chars[1]) {
            out.fill = chars[0];
            out.align = Some(chars[1]);
            i = 2;
        } else if chars.first().copied().is_some_and(is_align) {
            out.align = Some(chars[0]);
            i = 1;
        }
        if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
            out.sign = c;
            i += 1;
        }
        if chars.get(i) == Some(&'#') {
            out.alt = true;
            i += 1;
        }
        if chars.get(i) == Some(&'0') {
            out.zero = true;
            i += 1;
        }
        let number = |i: &mut usize| {
            let start = *i;
            let mut n: usize = 0;
            while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(d as usize);
                *i += 1;
            }
            (*i > start).then_some(n.min(percent::MAX_WIDTH))
        };
        out.width = number(&mut i).unwrap_or(0);
        if let Some(&c @ (',' | '_')) = chars.get(i) {
            out.grouping = Some(c);
            i += 1;
        }
        if chars.get(i) == Some(&'.') {
            i += 1;
            out.precision = Some(number(&mut i).ok_or("format spec: `.` without a precision")?);
        }
        if let Some(&c) = chars.get(i) {
            if !"sdfFeEgGxXobn%c".contains(c) {
                return Err(format!("unknown format type {c:?}"));
            }
            out.ty = Some(c);
            i += 1;
        }
        if i != chars.len() {
            return Err(format!("invalid format spec {spec:?}"));
        }
        Ok(out)
    }

    /// Renders like `format(value, spec)`; a value the type cannot take is rendered with `str()`.
    fn render(&self, out: &mut String, value: Arg<'_>) {
        let mut text = String::new();
        let value = match self.conv {
            Some(c) => {
                let _ = percent::render(&mut text, &Spec::plain(c), value);
                let s = std::mem::take(&mut text);
                return self.render_str(out, &s);
            }
            None => value,
        };
        let numeric = matches!(
            (value, self.ty),
            (
                Arg::Int(_) | Arg::Bool(_),
                Some('d' | 'n' | 'x' | 'X' | 'o' | 'b' | 'c')
            ) | (Arg::Int(_) | Arg::Float(_), None)
                | (
                    Arg::Int(_) | Arg::Bool(_) | Arg::Float(_),
                    Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')
                )
        );
        if !numeric {
            let _ = percent::render(&mut text, &Spec::plain('s'), value);
            let text = match self.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            return self.render_str(out, &text);
        }
        // The sign-less digits with any prefix, then sign-aware padding.
        let mut spec = Spec::plain('d');
        spec.flags.alt = self.alt;
        let mut suffix = "";
        let (neg, body) = match (value, self.ty) {
            (_, Some('b')) => {
                let n = match value {
                    Arg::Int(n) => n,
                    Arg::Bool(b) => b as i128,
                    _ => 0,
                };
                let p = if self.alt { "0b" } else { "" };
                (n < 0, format!("{p}{:b}", n.unsigned_abs()))
            }
            (_, Some('%')) => {
                let x = match value {
                    Arg::Int(n) => n as f64,
                    Arg::Bool(b) => b as u8 as f64,
                    Arg::Float(x) => x,
                    _ => 0.0,
                };
                spec.conv = 'f';
                spec.precision = Some(self.precision.unwrap_or(6));
                let mut s = String::new();
                let _ = percent::render(&mut s, &spec, Arg::Float(x * 100.0));
                suffix = "%";
                split_sign(s)
            }
            (Arg::Float(x), None) => {
                let mut s = String::new();
                match self.precision {
                    None => repr::float_repr(&mut s, x),
                    Some(p) => {
                        spec.conv = 'g';
                        spec.precision = Some(p.max(1));
                        let _ = percent::render(&mut s, &spec, value);
                        if !s.contains(['.', 'e', 'n', 'i']) {
                            s.push_str(".0");
                        }
                    }
                }
                split_sign(s)
            }
            (_, ty) => {
                spec.conv = match ty {
                    None | Some('n') => 'd',
                    Some(c) => c,
                };
                if matches!(spec.conv, 'e' | 'E' | 'f' | 'F' | 'g' | 'G') {
                    spec.precision = self.precision;
                }
                let mut s = String::new();
                let _ = percent::render(&mut s, &spec, value);
                split_sign(s)
            }
        };
        let sign = match (neg, self.sign) {
            (true, _) => "-",
            (false, '+') => "+",
            (false, ' ') => " ",
            _ => "",
        };
        let body = match self.grouping {
            Some(sep) => group_digits(&body, sep),
            None => body,
        };
        let len = sign.len() + body.chars().count() + suffix.len();
        let fill_n = self.width.saturating_sub(len);
        let (fill, align) = match (self.align, self.zero) {
            (Some(a), _) => (self.fill, a),
            (None, true) => ('0', '='),
            (None, false) => (self.fill, '>'),
        };
        match align {
            '<' => {
                out.push_str(sign);
                out.push_str(&body);
                out.push_str(suffix);
                out.extend(std::iter::repeat_n(fill, fill_n));
            }
            '^' => {
                out.extend(std::iter::repeat_n(fill, fill_n / 2));
                out.push_str(sign);
                out.push_str(&body);
                out.push_str(suffix);
                out.extend(std::iter::repeat_n(fill, fill_n - fill_n / 2));
            }
            '=' => {
                out.push_str(sign);
                let prefix_len = if body.starts_with("0x")
                    || body.starts_with("0X")
                    || body.starts_with("0o")
                    || body.starts_with("0b")
                {
                    2
                } else {
                    0
                };
                out.push_str(&body[..prefix_len]);
                out.extend(std::iter::repeat_n(fill, fill_n));
                out.push_str(&body[prefix_len..]);
                out.push_str(suffix);
            }
            _ => {
                out.extend(std::iter::repeat_n(fill, fill_n));
                out.push_str(sign);
                out.push_str(&body);
                out.push_str(suffix);
            }
        }
    }

    fn render_str(&self, out: &mut String, text: &str) {
        let fill_n = self.width.saturating_sub(text.chars().count());
        let (fill, align) = match (self.align, self.zero) {
            (Some(a), _) => (self.fill, a),
            (None, true) => ('0', '<'),
            (None, false) => (self.fill, '<'),
        };
        let (before, after) = match align {
            '>' | '=' => (fill_n, 0),
            '^' => (fill_n / 2, fill_n - fill_n / 2),
            _ => (0, fill_n),
        };
        out.extend(std::iter::repeat_n(fill, before));
        out.push_str(text);
        out.extend(std::iter::repeat_n(fill, after));
    }
}

fn split_sign(s: String) -> (bool, String) {
    match s.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, s),
    }
}

/// Inserts `sep` every three digits of the integer part (after any `0x`-style prefix).
fn group_digits(body: &str, sep: char) -> String {
    let int_end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (int, rest) = body.split_at(int_end);
    let mut out = String::with_capacity(body.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out.push_str(rest);
    out
}

/// Which zone name `%Z` prints.
enum ZoneName {
    /// Python's `time.gmtime` gives `GMT`.
    Gmt,
    /// The local zone's abbreviation at this time.
    Local(i64),
}

/// A parsed `datefmt` (C `strftime`, as Python's `time.strftime` uses it in the C locale).
#[derive(Debug, Clone)]
struct DateFmt {
    items: Vec<DateItem>,
}

#[derive(Debug, Clone)]
enum DateItem {
    Lit(String),
    /// A directive character, with `-` (no padding) if given.
    Dir(char, bool),
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl DateFmt {
    fn parse(s: &str) -> Result<DateFmt, FormatError> {
        let mut items = Vec::new();
        let mut lit = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((pos, c)) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            let mut no_pad = false;
            if matches!(chars.peek(), Some((_, '-'))) {
                no_pad = true;
                chars.next();
            }
            let Some((_, d)) = chars.next() else {
                return Err(FormatError::Datefmt {
                    pos,
                    directive: "%".into(),
                });
            };
            match d {
                '%' if !no_pad => lit.push('%'),
                'n' if !no_pad => lit.push('\n'),
                't' if !no_pad => lit.push('\t'),
                'a' | 'A' | 'b' | 'B' | 'h' | 'c' | 'C' | 'd' | 'D' | 'e' | 'F' | 'g' | 'G'
                | 'H' | 'I' | 'j' | 'k' | 'l' | 'm' | 'M' | 'p' | 'R' | 's' | 'S' | 'T' | 'u'
                | 'U' | 'V' | 'w' | 'W' | 'x' | 'X' | 'y' | 'Y' | 'z' | 'Z' => {
                    if !lit.is_empty() {
                        items.push(DateItem::Lit(std::mem::take(&mut lit)));
                    }
                    items.push(DateItem::Dir(d, no_pad));
                }
                other => {
                    return Err(FormatError::Datefmt {
                        pos,
                        directive: format!("%{}{other}", if no_pad { "-" } else { "" }),
                    })
                }
            }
        }
        if !lit.is_empty() {
            items.push(DateItem::Lit(lit));
        }
        Ok(DateFmt { items })
    }

    fn render(&self, t: &DateTime<FixedOffset>, zone: &ZoneName, out: &mut String) {
        for item in &self.items {
            match item {
                DateItem::Lit(s) => out.push_str(s),
                DateItem::Dir(d, no_pad) => directive(out, *d, *no_pad, t, zone),
            }
        }
    }
}

fn num(out: &mut String, n: i64, width: usize, pad: char, no_pad: bool) {
    if no_pad {
        let _ = write!(out, "{n}");
    } else if pad == '0' {
        let _ = write!(out, "{n:0width$}");
    } else {
        let _ = write!(out, "{n:>width$}");
    }
}

fn directive(out: &mut String, d: char, np: bool, t: &DateTime<FixedOffset>, zone: &ZoneName) {
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    } as i64;
    match d {
        'a' => out.push_str(&DAYS[t.weekday().num_days_from_sunday() as usize][..3]),
        'A' => out.push_str(DAYS[t.weekday().num_days_from_sunday() as usize]),
        'b' | 'h' => out.push_str(&MONTHS[t.month0() as usize][..3]),
        'B' => out.push_str(MONTHS[t.month0() as usize]),
        'c' => {
            for (d, np) in [
                ('a', false),
                (' ', false),
                ('b', false),
                (' ', false),
                ('e', false),
                (' ', false),
            ] {
                lit_or_dir(out, d, np, t, zone);
            }
            directive(out, 'T', false, t, zone);
            out.push(' ');
            directive(out, 'Y', false, t, zone);
        }
        'C' => num(out, t.year().div_euclid(100) as i64, 2, '0', np),
        'd' => num(out, t.day() as i64, 2, '0', np),
        'D' | 'x' => {
            directive(out, 'm', false, t, zone);
            out.push('/');
            directive(out, 'd', false, t, zone);
            out.push('/');
            directive(out, 'y', false, t, zone);
        }
        'e' => num(out, t.day() as i64, 2, ' ', np),
        'F' => {
            directive(out, 'Y', false, t, zone);
            out.push('-');
            directive(out, 'm', false, t, zone);
            out.push('-');
            directive(out, 'd', false, t, zone);
        }
        'g' => num(out, t.iso_week().year().rem_euclid(100) as i64, 2, '0', np),
        'G' => {
            let _ = write!(out, "{}", t.iso_week().year());
        }
        'H' => num(out, t.hour() as i64, 2, '0', np),
        'I' => num(out, hour12, 2, '0', np),
        'j' => num(out, t.ordinal() as i64, 3, '0', np),
        'k' => num(out, t.hour() as i64, 2, ' ', np),
        'l' => num(out, hour12, 2, ' ', np),
        'm' => num(out, t.month() as i64, 2, '0', np),
        'M' => num(out, t.minute() as i64, 2, '0', np),
        'p' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
        'R' => {
            directive(out, 'H', false, t, zone);
            out.push(':');
            directive(out, 'M', false, t, zone);
        }
        's' => {
            let _ = write!(out, "{}", t.timestamp());
        }
        'S' => num(out, t.second() as i64, 2, '0', np),
        'T' | 'X' => {
            directive(out, 'H', false, t, zone);
            out.push(':');
            directive(out, 'M', false, t, zone);
            out.push(':');
            directive(out, 'S', false, t, zone);
        }
        'u' => num(out, t.weekday().number_from_monday() as i64, 1, '0', np),
        'U' => {
            let w = (t.ordinal0() as i64 + 7 - t.weekday().num_days_from_sunday() as i64) / 7;
            num(out, w, 2, '0', np)
        }
        'V' => num(out, t.iso_week().week() as i64, 2, '0', np),
        'w' => num(out, t.weekday().num_days_from_sunday() as i64, 1, '0', np),
        'W' => {
            let w = (t.ordinal0() as i64 + 7 - t.weekday().num_days_from_monday() as i64) / 7;
            num(out, w, 2, '0', np)
        }
        'y' => num(out, t.year().rem_euclid(100) as i64, 2, '0', np),
        'Y' => {
            let _ = write!(out, "{}", t.year());
        }
        'z' => {
            let off = t.offset().fix().local_minus_utc();
            let sign = if off < 0 { '-' } else { '+' };
            let off = off.unsigned_abs();
            let _ = write!(out, "{sign}{:02}{:02}", off / 3600, off % 3600 / 60);
        }
        'Z' => match zone {
            ZoneName::Gmt => out.push_str("GMT"),
            ZoneName::Local(secs) => local_zone_name(out, *secs),
        },
        _ => {}
    }
}

/// `%c` is built from pieces; a space is a literal.
fn lit_or_dir(out: &mut String, d: char, np: bool, t: &DateTime<FixedOffset>, zone: &ZoneName) {
    if d == ' ' {
        out.push(' ');
    } else {
        directive(out, d, np, t, zone);
    }
}

/// The C library's abbreviation of the local zone at `secs` (`CET`, `EDT`), as Python's `%Z`.
fn local_zone_name(out: &mut String, secs: i64) {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: localtime_r writes into the `tm` we own; `tm_zone` then points to a NUL-terminated
    // string with static storage in the C library (or is NULL), which we only read.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() || tm.tm_zone.is_null() {
            return;
        }
        out.push_str(&std::ffi::CStr::from_ptr(tm.tm_zone).to_string_lossy());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
