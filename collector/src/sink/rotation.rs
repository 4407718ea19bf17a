//! When a rotating file rolls over: the [`Rotation`] value type and the time arithmetic of Python's
//! `logging.handlers.TimedRotatingFileHandler` (3.13 rules, including `atTime` and `interval` for
//! `MIDNIGHT`/`W0`-`W6`).

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use chrono::{Datelike, Timelike, Weekday};

use super::clock::{from_unix_secs, unix_secs};

const DAY: i64 = 24 * 60 * 60;

/// The unit of time-based rotation, as Python's `when` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum When {
    /// `S`: every `interval` seconds.
    Seconds,
    /// `M`: every `interval` minutes.
    Minutes,
    /// `H`: every `interval` hours.
    Hours,
    /// `D`: every `interval` days, counted from when the file was started (not at midnight).
    Days,
    /// `MIDNIGHT`: at midnight (or the `at_time`), every `interval` days.
    Midnight,
    /// `W0`-`W6`: at midnight (or the `at_time`) on this weekday (`W0` = Monday), every `interval`
    /// weeks.
    Weekday(Weekday),
}

impl When {
    /// Seconds in one unit.
    fn unit_secs(self) -> i64 {
        match self {
            When::Seconds => 1,
            When::Minutes => 60,
            When::Hours => 60 * 60,
            When::Days | When::Midnight => DAY,
            When::Weekday(_) => 7 * DAY,
        }
    }

    /// Python's `suffix`, written as a template: `#` stands for one digit.
    pub(crate) fn suffix_template(self) -> &'static str {
        match self {
            When::Seconds => "####-##-##_##-##-##",
            When::Minutes => "####-##-##_##-##",
            When::Hours => "####-##-##_##",
            When::Days | When::Midnight | When::Weekday(_) => "####-##-##",
        }
    }

    /// Whether `s` has exactly the shape of this unit's suffix (Python's `extMatch`).
    pub(crate) fn matches_suffix(self, s: &str) -> bool {
        let template = self.suffix_template();
        s.len() == template.len()
            && s.bytes().zip(template.bytes()).all(|(c, t)| match t {
                b'#' => c.is_ascii_digit(),
                _ => c == t,
            })
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Seconds => f.write_str("S"),
            When::Minutes => f.write_str("M"),
            When::Hours => f.write_str("H"),
            When::Days => f.write_str("D"),
            When::Midnight => f.write_str("MIDNIGHT"),
            When::Weekday(d) => write!(f, "W{}", d.num_days_from_monday()),
        }
    }
}

/// A `when` string that is none of Python's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rotation `when` {0:?}: expected S, M, H, D, MIDNIGHT or W0-W6 (W0 = Monday)")]
pub struct ParseWhenError(pub String);

impl FromStr for When {
    type Err = ParseWhenError;

    /// Parses Python's spelling, case-insensitively: `S`, `M`, `H`, `D`, `midnight`, `W0`-`W6`.
    fn from_str(s: &str) -> Result<When, ParseWhenError> {
        let upper = s.to_ascii_uppercase();
        let when = match upper.as_str() {
            "S" => When::Seconds,
            "M" => When::Minutes,
            "H" => When::Hours,
            "D" => When::Days,
            "MIDNIGHT" => When::Midnight,
            "W0" => When::Weekday(Weekday::Mon),
            "W1" => When::Weekday(Weekday::Tue),
            "W2" => When::Weekday(Weekday::Wed),
            "W3" => When::Weekday(Weekday::Thu),
            "W4" => When::Weekday(Weekday::Fri),
            "W5" => When::Weekday(Weekday::Sat),
            "W6" => When::Weekday(Weekday::Sun),
            _ => return Err(ParseWhenError(s.to_string())),
        };
        Ok(when)
    }
}

/// Time-based rotation settings (Python's `when`, `interval`, `utc`, `atTime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timed {
    pub(crate) when: When,
    pub(crate) interval: u32,
    pub(crate) utc: bool,
    /// Seconds after midnight.
    pub(crate) at_time: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Never,
    Size(u64),
    Timed(Timed),
    Both(u64, Timed),
}

/// When a [`RotatingFileSink`](super::RotatingFileSink) rolls its file over: never, by size, by
/// time, or by both (whichever comes first).
///
/// ```
/// use logfunnel_collector::sink::{Rotation, When};
///
/// let daily_or_100_mib = Rotation::timed(When::Midnight, 1, true).and_size(100 << 20);
/// assert_eq!(daily_or_100_mib.max_bytes(), Some(100 << 20));
/// assert!(daily_or_100_mib.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    kind: Kind,
}

impl Rotation {
    /// Never rotate: the file only grows (still useful for `max_age` of old backups).
    pub fn never() -> Rotation {
        Rotation { kind: Kind::Never }
    }

    /// Rotate before a line would make the file exceed `max_bytes`. `0` means never, as Python's
    /// `maxBytes=0`.
    pub fn size(max_bytes: u64) -> Rotation {
        Rotation::never().and_size(max_bytes)
    }

    /// Rotate every `interval` units of `when`, in UTC or local time, with Python's rollover rules.
    pub fn timed(when: When, interval: u32, utc: bool) -> Rotation {
        Rotation {
            kind: Kind::Timed(Timed {
                when,
                interval,
                utc,
                at_time: None,
            }),
        }
    }

    /// Also rotate by size: whichever of time and size comes first. `0` removes the size limit.
    pub fn and_size(self, max_bytes: u64) -> Rotation {
        let timed = self.timed_settings().copied();
        let kind = match (timed, max_bytes) {
            (None, 0) => Kind::Never,
            (None, n) => Kind::Size(n),
            (Some(t), 0) => Kind::Timed(t),
            (Some(t), n) => Kind::Both(n, t),
        };
        Rotation { kind }
    }

    /// Python's `atTime`: for `MIDNIGHT` and `W0`-`W6`, roll over at this time of day instead of
    /// midnight. Ignored for other units, as in Python. Checked by [`Rotation::validate`].
    pub fn at_time(mut self, hour: u32, minute: u32, second: u32) -> Rotation {
        let secs = hour
            .saturating_mul(3600)
            .saturating_add(minute.saturating_mul(60))
            .saturating_add(second);
        let valid = hour < 24 && minute < 60 && second < 60;
        if let Kind::Timed(t) | Kind::Both(_, t) = &mut self.kind {
            // An invalid time is kept as an out-of-range value so validate() reports it.
            t.at_time = Some(if valid { secs } else { u32::MAX });
        }
        self
    }

    /// The size limit, if any.
    pub fn max_bytes(&self) -> Option<u64> {
        match self.kind {
            Kind::Size(n) | Kind::Both(n, _) => Some(n),
            Kind::Never | Kind::Timed(_) => None,
        }
    }

    /// The time unit, if the rotation is time-based.
    pub fn when(&self) -> Option<When> {
        self.timed_settings().map(|t| t.when)
    }

    /// Whether the rotation ever happens.
    pub fn is_never(&self) -> bool {
        self.kind == Kind::Never
    }

    /// Checks the settings; the message says which one is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let Some(t) = self.timed_settings() else {
            return Ok(());
        };
        if t.interval == 0 {
            return Err("interval must be at least 1".to_string());
        }
        if t.at_time.is_some_and(|s| s >= DAY as u32) {
            return Err("at_time must be a time of day (hour 0-23, minute and second 0-59)".into());
        }
        Ok(())
    }

    /// The first rollover time for a file started at `start` (Python's `computeRollover`), or
    /// `None` if the rotation is not time-based.
    pub fn next_rollover(&self, start: SystemTime) -> Option<SystemTime> {
        let t = self.timed_settings()?;
        Some(from_unix_secs(t.compute_rollover(unix_secs(start))))
    }

    pub(crate) fn timed_settings(&self) -> Option<&Timed> {
        match &self.kind {
            Kind::Timed(t) | Kind::Both(_, t) => Some(t),
            Kind::Never | Kind::Size(_) => None,
        }
    }
}

/// A broken-down time, as Python's `time.gmtime`/`time.localtime`.
struct Tm {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// 0 = Monday, as Python's `tm_wday`.
    weekday: u32,
    /// Seconds east of UTC; stands in for Python's `tm_isdst` (an offset change is a DST change).
    offset: i32,
}

fn broken_down(t: i64, utc: bool) -> Tm {
    // Outside chrono's range (hundreds of thousands of years) clamp to the epoch: no real clock
    // or file time is there.
    let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    if utc {
        tm_of(&dt)
    } else {
        tm_of(&dt.with_timezone(&chrono::Local))
    }
}

fn tm_of<Tz: chrono::TimeZone>(dt: &chrono::DateTime<Tz>) -> Tm {
    use chrono::Offset;
    Tm {
        year: dt.year(),
        month: dt.month(),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
        second: dt.second(),
        weekday: dt.weekday().num_days_from_monday(),
        offset: dt.offset().fix().local_minus_utc(),
    }
}

impl Timed {
    /// Seconds between rollovers (Python's `self.interval` after multiplying by the unit).
    pub(crate) fn interval_secs(&self) -> i64 {
        self.when.unit_secs() * i64::from(self.interval)
    }

    /// Python's `computeRollover(currentTime)`.
    pub(crate) fn compute_rollover(&self, now: i64) -> i64 {
        let weekday = match self.when {
            When::Midnight => None,
            When::Weekday(d) => Some(d.num_days_from_monday() as i64),
            _ => return now + self.interval_secs(),
        };
        let t = broken_down(now, self.utc);
        let rotate_ts = self.at_time.map_or(DAY, i64::from);
        let mut r = rotate_ts - i64::from(t.hour * 3600 + t.minute * 60 + t.second);
        let mut day = i64::from(t.weekday);
        if r <= 0 {
            // The rotation time of day has passed: the next one is tomorrow.
            r += DAY;
            day = (day + 1) % 7;
        }
        let mut result = now + r;
        match weekday {
            Some(target) => {
                if day != target {
                    let days_to_wait = if day < target {
                        target - day
                    } else {
                        6 - day + target + 1
                    };
                    result += days_to_wait * DAY;
                }
                result += self.interval_secs() - 7 * DAY;
            }
            None => result += self.interval_secs() - DAY,
        }
        if !self.utc {
            let at_result = broken_down(result, false).offset;
            if t.offset != at_result {
                // The UTC offset changes (DST) before the rollover: keep it at the wall-clock
                // time, except when the corrected instant falls before the change.
                let mut addend = i64::from(t.offset - at_result);
                if addend < 0 && broken_down(result + addend, false).offset == t.offset {
                    addend = 0;
                }
                result += addend;
            }
        }
        result
    }

    /// The date/time suffix of the file rolled over at `now` when the rollover time was
    /// `rollover_at` (Python's `doRollover`: the start of the interval, not the current time).
    pub(crate) fn suffix(&self, rollover_at: i64, now: i64) -> String {
        let start = rollover_at - self.interval_secs();
        let mut tm = broken_down(start, self.utc);
        if !self.utc {
            let now_offset = broken_down(now, false).offset;
            if now_offset != tm.offset {
                tm = broken_down(start + i64::from(now_offset - tm.offset), false);
            }
        }
        let date = format!("{:04}-{:02}-{:02}", tm.year, tm.month, tm.day);
        match self.when {
            When::Seconds => format!("{date}_{:02}-{:02}-{:02}", tm.hour, tm.minute, tm.second),
            When::Minutes => format!("{date}_{:02}-{:02}", tm.hour, tm.minute),
            When::Hours => format!("{date}_{:02}", tm.hour),
            When::Days | When::Midnight | When::Weekday(_) => date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_shapes_match_templates() {
        assert!(When::Seconds.matches_suffix("2024-03-10_12-00-01"));
        assert!(!When::Seconds.matches_suffix("2024-03-10_12-00"));
        assert!(When::Hours.matches_suffix("2024-03-10_12"));
        assert!(!When::Days.matches_suffix("2024-03-1x"));
        assert!(When::Weekday(Weekday::Sun).matches_suffix("2024-03-10"));
    }

    #[test]
    fn when_parses_python_spellings() {
        assert_eq!("midnight".parse::<When>(), Ok(When::Midnight));
        assert_eq!("w6".parse::<When>(), Ok(When::Weekday(Weekday::Sun)));
        assert!("W7".parse::<When>().is_err());
        assert_eq!(When::Weekday(Weekday::Wed).to_string(), "W2");
    }
}
