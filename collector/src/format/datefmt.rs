//! `datefmt`: C `strftime` as Python's `time.strftime` uses it in the C locale, parsed once
//! ([`DateFmt::parse`]) and rendered for each new second ([`render_date`]; the formatter caches
//! the text per second). Composite directives (`%c`, `%D`, `%F`, `%R`, `%T`, ...) are written as
//! the patterns they stand for.

use super::FormatError;
use chrono::{DateTime, Datelike, FixedOffset, Local, Offset, TimeZone, Timelike, Utc};
use std::fmt::Write as _;

/// Python's `formatTime` without the milliseconds: the whole second `secs` as `datefmt` says (or
/// `%Y-%m-%d %H:%M:%S`), in UTC or local time.
pub(super) fn render_date(datefmt: Option<&DateFmt>, utc: bool, secs: i64, out: &mut String) {
    let (t, zone) = if utc {
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
    match datefmt {
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

/// Which zone name `%Z` prints.
enum ZoneName {
    /// Python's `time.gmtime` gives `GMT`.
    Gmt,
    /// The local zone's abbreviation at this time.
    Local(i64),
}

/// A parsed `datefmt` (C `strftime`, as Python's `time.strftime` uses it in the C locale).
#[derive(Debug, Clone)]
pub(super) struct DateFmt {
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
    pub(super) fn parse(s: &str) -> Result<DateFmt, FormatError> {
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

/// What a composite directive stands for in the C locale.
fn composite(d: char) -> Option<&'static str> {
    match d {
        'c' => Some("%a %b %e %T %Y"),
        'D' | 'x' => Some("%m/%d/%y"),
        'F' => Some("%Y-%m-%d"),
        'R' => Some("%H:%M"),
        'T' | 'X' => Some("%H:%M:%S"),
        _ => None,
    }
}

/// Renders one directive `d` (`np`: the `-` flag, no padding).
fn directive(out: &mut String, d: char, np: bool, t: &DateTime<FixedOffset>, zone: &ZoneName) {
    if let Some(pattern) = composite(d) {
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => {
                    if let Some(d) = chars.next() {
                        directive(out, d, false, t, zone);
                    }
                }
                c => out.push(c),
            }
        }
        return;
    }
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    } as i64;
    match d {
        'a' => out.push_str(&DAYS[t.weekday().num_days_from_sunday() as usize][..3]),
        'A' => out.push_str(DAYS[t.weekday().num_days_from_sunday() as usize]),
        'b' | 'h' => out.push_str(&MONTHS[t.month0() as usize][..3]),
        'B' => out.push_str(MONTHS[t.month0() as usize]),
        'C' => num(out, t.year().div_euclid(100) as i64, 2, '0', np),
        'd' => num(out, t.day() as i64, 2, '0', np),
        'e' => num(out, t.day() as i64, 2, ' ', np),
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
        's' => {
            let _ = write!(out, "{}", t.timestamp());
        }
        'S' => num(out, t.second() as i64, 2, '0', np),
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
