//! Python's printf-style `%` formatting, for values that came out of JSON.
//!
//! Two users: the decoder merges a cookbook record's `msg % args` exactly as `LogRecord.getMessage()`
//! would, and the collector's formatter renders `%(levelname)-8s`-style fields. Both parse directives
//! with [`parse_directive`] and render one value with [`render`], so the rules live in one place:
//! flags `-+ #0`, width, precision, the length modifiers `hlL` (ignored, as Python does) and the
//! conversions `s r a d i u o x X e E f F g G c %`.
//!
//! `%s`, `%r` and `%a` take their text from [`super::repr`].
//!
//! ```
//! use logfunnel_core::pyfmt::percent::merge;
//! let args = serde_json::json!([3, "db", 0.5]);
//! assert_eq!(merge("%03d %r %5.2f", &args).unwrap(), "003 'db'  0.50");
//! ```

use super::repr::{push_exp, repr_arg, split_exp, str_arg};
use super::Arg;
use serde_json::Value;

/// Why a `%` format could not be applied (Python raises `TypeError`/`ValueError`/`KeyError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    /// The string ends inside a directive (`"50%"`).
    #[error("incomplete format at index {index}")]
    Incomplete {
        /// Byte index of the `%`.
        index: usize,
    },
    /// A conversion character Python does not know.
    #[error("unsupported format character {ch:?} (0x{code:x}) at index {index}")]
    Unsupported {
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
        /// Byte index of the character.
        index: usize,
    },
    /// `%(key` without its closing parenthesis.
    #[error("incomplete format key at index {index}")]
    IncompleteKey {
        /// Byte index of the `%`.
        index: usize,
    },
    /// More directives than arguments.
    #[error("not enough arguments for format string")]
    NotEnoughArgs,
    /// Arguments left over after the last directive.
    #[error("not all arguments converted during string formatting")]
    TooManyArgs,
    /// `%(key)s` used with positional arguments.
    #[error("format requires a mapping")]
    NeedMapping,
    /// `%(key)s` with a key the mapping lacks.
    #[error("key {0:?} not found in the arguments")]
    MissingKey(String),
    /// A `*` width or precision whose argument is not an integer.
    #[error("* wants int")]
    StarNotInt,
    /// A value of the wrong type for its conversion (`%d` of a string).
    #[error("{0}")]
    Type(String),
}

/// Conversion flags of one directive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `-`: left-align in the field.
    pub left: bool,
    /// `0`: pad numbers with zeros.
    pub zero: bool,
    /// `+`: always write a sign.
    pub plus: bool,
    /// ` `: a space where a `+` would go.
    pub space: bool,
    /// `#`: alternate form (`0x` prefix, keep the decimal point).
    pub alt: bool,
}

/// How to render one value: flags, width, precision and the conversion character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Flags.
    pub flags: Flags,
    /// Minimum field width in characters.
    pub width: Option<usize>,
    /// Precision: digits after the point, or the maximum length for `s`/`r`/`a`.
    pub precision: Option<usize>,
    /// One of `s r a d i u o x X e E f F g G c %`.
    pub conv: char,
}

impl Spec {
    /// A plain directive (`%s`, `%d`, ...) without flags, width or precision.
    pub fn plain(conv: char) -> Spec {
        Spec {
            flags: Flags::default(),
            width: None,
            precision: None,
            conv,
        }
    }
}

/// A width or precision as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// A number in the format string.
    Is(usize),
    /// `*`: taken from the next positional argument.
    Star,
}

/// One parsed `%...` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive<'a> {
    /// The mapping key of `%(key)s`.
    pub key: Option<&'a str>,
    /// Flags and conversion; `width`/`precision` are `None` here when written as `*`.
    pub spec: Spec,
    /// Width as written.
    pub width: Option<Count>,
    /// Precision as written.
    pub precision: Option<Count>,
    /// Byte index just past the directive.
    pub end: usize,
}

/// Parses the directive whose `%` is at byte `start` of `fmt`.
pub fn parse_directive(fmt: &str, start: usize) -> Result<Directive<'_>, PercentError> {
    let b = fmt.as_bytes();
    debug_assert_eq!(b.get(start), Some(&b'%'));
    let mut i = start + 1;
    let mut key = None;
    if b.get(i) == Some(&b'(') {
        // Python allows balanced parentheses inside the key.
        let mut depth = 1usize;
        let key_start = i + 1;
        i += 1;
        loop {
            match b.get(i) {
                None => return Err(PercentError::IncompleteKey { index: start }),
                Some(b'(') => depth += 1,
                Some(b')') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        key = Some(&fmt[key_start..i]);
        i += 1;
    }
    let mut flags = Flags::default();
    loop {
        match b.get(i) {
            Some(b'-') => flags.left = true,
            Some(b'+') => flags.plus = true,
            Some(b' ') => flags.space = true,
            Some(b'#') => flags.alt = true,
            Some(b'0') => flags.zero = true,
            _ => break,
        }
        i += 1;
    }
    let mut width = None;
    if let Some((w, next)) = count(b, i) {
        width = Some(w);
        i = next;
    }
    let mut precision = None;
    if b.get(i) == Some(&b'.') {
        // A lone `.` means precision 0, as in Python.
        let (p, next) = count(b, i + 1).unwrap_or((Count::Is(0), i + 1));
        precision = Some(p);
        i = next;
    }
    while matches!(b.get(i), Some(b'h' | b'l' | b'L')) {
        i += 1;
    }
    let Some(ch) = fmt[i.min(fmt.len())..].chars().next() else {
        return Err(PercentError::Incomplete { index: start });
    };
    // Only a bare `%%` is a literal: `%5%` and `%(a)%` are errors in Python 3 too.
    if !"sradiuoxXeEfFgGc%".contains(ch) || (ch == '%' && i != start + 1) {
        return Err(PercentError::Unsupported {
            ch,
            code: ch as u32,
            index: i,
        });
    }
    let fixed = |c: Option<Count>| match c {
        Some(Count::Is(n)) => Some(n),
        _ => None,
    };
    Ok(Directive {
        key,
        spec: Spec {
            flags,
            width: fixed(width),
            precision: fixed(precision),
            conv: ch,
        },
        width,
        precision,
        end: i + ch.len_utf8(),
    })
}

/// Digits at `i` (saturating, so a hostile width cannot overflow), and the index after them.
/// A width or precision at `b[i]` (`*` or digits) and the index after it.
fn count(b: &[u8], i: usize) -> Option<(Count, usize)> {
    if b.get(i) == Some(&b'*') {
        Some((Count::Star, i + 1))
    } else {
        digits(b, i).map(|(n, next)| (Count::Is(n), next))
    }
}

fn digits(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let start = i;
    let mut n: usize = 0;
    while let Some(d @ b'0'..=b'9') = b.get(i) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
        i += 1;
    }
    (i > start).then_some((n, i))
}

/// Widths and precisions larger than this are clamped, so a hostile `%999999999s` cannot make a
/// gigabyte of padding.
pub const MAX_WIDTH: usize = 4096;

/// Appends `arg` rendered by `spec` (Python's `"%<spec>" % (arg,)`).
pub fn render(out: &mut String, spec: &Spec, arg: Arg<'_>) -> Result<(), PercentError> {
    let width = spec.width.map(|w| w.min(MAX_WIDTH));
    let precision = spec.precision.map(|p| p.min(MAX_WIDTH));
    let f = spec.flags;
    match spec.conv {
        '%' => out.push('%'),
        's' | 'r' | 'a' => {
            let mut text = String::new();
            match spec.conv {
                's' => str_arg(&mut text, arg),
                'r' => repr_arg(&mut text, arg, false),
                _ => repr_arg(&mut text, arg, true),
            }
            let text = match precision {
                Some(p) => match text.char_indices().nth(p) {
                    Some((cut, _)) => &text[..cut],
                    None => &text[..],
                },
                None => &text[..],
            };
            pad_text(out, text, width, f.left);
        }
        'c' => {
            let c = match arg {
                Arg::Int(i) => u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| PercentError::Type("%c arg not in range(0x110000)".into()))?,
                Arg::Bool(b) => char::from(b as u8),
                Arg::Str(s) if s.chars().count() == 1 => s.chars().next().unwrap_or(' '),
                _ => {
                    return Err(PercentError::Type(
                        "%c requires an int or a unicode character".into(),
                    ))
                }
            };
            let mut buf = [0u8; 4];
            pad_text(out, c.encode_utf8(&mut buf), width, f.left);
        }
        'd' | 'i' | 'u' => {
            let (neg, mut body) = match arg {
                Arg::Int(i) => (i < 0, i.unsigned_abs().to_string()),
                Arg::Bool(b) => (false, (b as u8).to_string()),
                Arg::Float(x) if x.is_finite() => {
                    let t = x.trunc();
                    (t < 0.0, format!("{:.0}", t.abs()))
                }
                Arg::Float(x) => {
                    let what = if x.is_nan() { "NaN" } else { "infinity" };
                    return Err(PercentError::Type(format!(
                        "cannot convert float {what} to integer"
                    )));
                }
                other => {
                    return Err(PercentError::Type(format!(
                        "%{} format: a real number is required, not {}",
                        spec.conv,
                        other.type_name()
                    )))
                }
            };
            zero_extend(&mut body, precision);
            pad_number(out, f, width, neg, "", &body);
        }
        'o' | 'x' | 'X' => {
            let (neg, mag) = match arg {
                Arg::Int(i) => (i < 0, i.unsigned_abs()),
                Arg::Bool(b) => (false, b as u128),
                other => {
                    return Err(PercentError::Type(format!(
                        "%{} format: an integer is required, not {}",
                        spec.conv,
                        other.type_name()
                    )))
                }
            };
            let (mut body, prefix) = match spec.conv {
                'o' => (format!("{mag:o}"), "0o"),
                'x' => (format!("{mag:x}"), "0x"),
                _ => (format!("{mag:X}"), "0X"),
            };
            zero_extend(&mut body, precision);
            pad_number(out, f, width, neg, if f.alt { prefix } else { "" }, &body);
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let x = match arg {
                Arg::Int(i) => i as f64,
                Arg::Bool(b) => b as u8 as f64,
                Arg::Float(x) => x,
                other => {
                    return Err(PercentError::Type(format!(
                        "must be real number, not {}",
                        other.type_name()
                    )))
                }
            };
            let upper = spec.conv.is_ascii_uppercase();
            let neg = x.is_sign_negative() && !x.is_nan();
            if !x.is_finite() {
                let body = if x.is_nan() { "nan" } else { "inf" };
                let body = if upper {
                    body.to_ascii_uppercase()
                } else {
                    body.to_string()
                };
                let flags = Flags { zero: false, ..f };
                pad_number(out, flags, width, neg, "", &body);
                return Ok(());
            }
            let p = precision.unwrap_or(6);
            let mut body = match spec.conv.to_ascii_lowercase() {
                'f' => fixed(x.abs(), p, f.alt),
                'e' => sci(x.abs(), p, f.alt),
                _ => general(x.abs(), p, f.alt),
            };
            if upper {
                body.make_ascii_uppercase();
            }
            pad_number(out, f, width, neg, "", &body);
        }
        other => {
            return Err(PercentError::Unsupported {
                ch: other,
                code: other as u32,
                index: 0,
            })
        }
    }
    Ok(())
}

fn zero_extend(body: &mut String, precision: Option<usize>) {
    if let Some(p) = precision {
        if body.len() < p {
            body.insert_str(0, &"0".repeat(p - body.len()));
        }
    }
}

fn pad_text(out: &mut String, text: &str, width: Option<usize>, left: bool) {
    let fill = width
        .map(|w| w.saturating_sub(text.chars().count()))
        .unwrap_or(0);
    if !left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(text);
    if left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

fn pad_number(
    out: &mut String,
    f: Flags,
    width: Option<usize>,
    neg: bool,
    prefix: &str,
    body: &str,
) {
    let sign = if neg {
        "-"
    } else if f.plus {
        "+"
    } else if f.space {
        " "
    } else {
        ""
    };
    let len = sign.len() + prefix.len() + body.len();
    let fill = width.map(|w| w.saturating_sub(len)).unwrap_or(0);
    if f.left {
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if f.zero {
        out.push_str(sign);
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(body);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(body);
    }
}

/// `%.<p>f` of a non-negative finite value.
fn fixed(x: f64, p: usize, alt: bool) -> String {
    let mut s = format!("{x:.p$}");
    if alt && p == 0 {
        s.push('.');
    }
    s
}

/// `%.<p>e` of a non-negative finite value: exponent with a sign and at least two digits.
fn sci(x: f64, p: usize, alt: bool) -> String {
    let raw = format!("{x:.p$e}");
    let (m, exp) = split_exp(&raw);
    let mut s = String::with_capacity(raw.len() + 2);
    s.push_str(m);
    if alt && p == 0 {
        s.push('.');
    }
    push_exp(&mut s, exp);
    s
}

/// `%.<p>g` of a non-negative finite value (C99 rules, as Python uses them).
fn general(x: f64, p: usize, alt: bool) -> String {
    let p = p.max(1);
    let exp = if x == 0.0 {
        0
    } else {
        split_exp(&format!("{:.*e}", p - 1, x)).1
    };
    let mut s = if exp >= -4 && (exp as i64) < p as i64 {
        fixed(x, (p as i64 - 1 - exp as i64) as usize, alt)
    } else {
        let raw = format!("{:.*e}", p - 1, x);
        let (m, e) = split_exp(&raw);
        let mut s = m.to_string();
        if alt && !s.contains('.') {
            s.push('.');
        }
        if !alt {
            strip_zeros(&mut s);
        }
        push_exp(&mut s, e);
        return s;
    };
    if !alt {
        strip_zeros(&mut s);
    }
    s
}

fn strip_zeros(s: &mut String) {
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
}

/// Python's `msg % args` for the `args` of a log record that travelled as JSON: a list is the
/// tuple of positional arguments, an object the mapping for `%(key)s`, anything else one argument.
pub fn merge(msg: &str, args: &Value) -> Result<String, PercentError> {
    let (positional, mapping): (&[Value], bool) = match args {
        Value::Array(items) => (items, false),
        Value::Object(_) => (std::slice::from_ref(args), true),
        other => (std::slice::from_ref(other), false),
    };
    let mut out = String::with_capacity(msg.len() + 16);
    let mut next = 0usize;
    let take = |next: &mut usize| -> Result<&Value, PercentError> {
        let v = positional.get(*next).ok_or(PercentError::NotEnoughArgs)?;
        *next += 1;
        Ok(v)
    };
    let mut rest = 0usize;
    while let Some(off) = msg[rest..].find('%') {
        let at = rest + off;
        out.push_str(&msg[rest..at]);
        let d = parse_directive(msg, at)?;
        rest = d.end;
        let mut spec = d.spec;
        if d.width == Some(Count::Star) {
            let w = take(&mut next)?.as_i64().ok_or(PercentError::StarNotInt)?;
            if w < 0 {
                spec.flags.left = true;
            }
            spec.width = Some(w.unsigned_abs() as usize);
        }
        if d.precision == Some(Count::Star) {
            let p = take(&mut next)?.as_i64().ok_or(PercentError::StarNotInt)?;
            spec.precision = Some(p.max(0) as usize);
        }
        if spec.conv == '%' {
            out.push('%');
            continue;
        }
        let value = match d.key {
            Some(key) => match args {
                Value::Object(map) if mapping => {
                    // As in CPython: after a keyed directive no positional argument is left.
                    next = positional.len();
                    map.get(key)
                        .ok_or_else(|| PercentError::MissingKey(key.to_string()))?
                }
                _ => return Err(PercentError::NeedMapping),
            },
            None => take(&mut next)?,
        };
        render(&mut out, &spec, Arg::from(value))?;
    }
    out.push_str(&msg[rest..]);
    if !mapping && next < positional.len() {
        return Err(PercentError::TooManyArgs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(spec: &str, v: Value) -> String {
        merge(spec, &json!([v])).unwrap()
    }

    #[test]
    fn integers_follow_python() {
        assert_eq!(one("%05.3d", json!(5)), "00005");
        assert_eq!(one("%#06x", json!(255)), "0x00ff");
        assert_eq!(one("%.3d", json!(-5)), "-005");
        assert_eq!(one("%+05d", json!(3)), "+0003");
        assert_eq!(one("%-05d|", json!(3)), "3    |");
        assert_eq!(one("%d", json!(3.9)), "3");
        assert_eq!(one("%d", json!(-0.5)), "0");
        assert_eq!(one("%d", json!(true)), "1");
        assert_eq!(one("%#o", json!(8)), "0o10");
        assert_eq!(one("%X", json!(u64::MAX)), "FFFFFFFFFFFFFFFF");
    }

    #[test]
    fn floats_follow_python() {
        assert_eq!(one("%5.2f", json!(1.23456)), " 1.23");
        assert_eq!(one("%e", json!(12345.678)), "1.234568e+04");
        assert_eq!(one("%g", json!(100000.0)), "100000");
        assert_eq!(one("%g", json!(1e6)), "1e+06");
        assert_eq!(one("%g", json!(0.0001)), "0.0001");
        assert_eq!(one("%g", json!(0.00001)), "1e-05");
        assert_eq!(one("%#.3g", json!(1.0)), "1.00");
        assert_eq!(one("%.0f", json!(2.5)), "2");
        // A `.` without a number is precision 0, as in Python.
        assert_eq!(one("%.f", json!(2.5)), "2");
        assert_eq!(one("%5.s|", json!("abc")), "     |");
        assert_eq!(one("%f", json!(-0.0)), "-0.000000");
        assert_eq!(one("%s", json!(1e16)), "1e+16");
        assert_eq!(one("%s", json!(1e15)), "1000000000000000.0");
        assert_eq!(one("%r", json!(1.5e-7)), "1.5e-07");
        assert_eq!(one("%s", json!(0.1)), "0.1");
    }

    #[test]
    fn strings_and_containers_follow_python() {
        assert_eq!(one("%r", json!("it's")), "\"it's\"");
        assert_eq!(one("%r", json!("a\nb\u{1}\u{a0}é")), "'a\\nb\\x01\\xa0é'");
        assert_eq!(one("%a", json!("é😀")), "'\\xe9\\U0001f600'");
        assert_eq!(
            one("%s", json!([1, "a", null, true])),
            "[1, 'a', None, True]"
        );
        assert_eq!(
            merge("%.2s|%-4s|", &json!(["abc", "x"])).unwrap(),
            "ab|x   |"
        );
        assert_eq!(one("%s", json!({"k": 1.5})), "{'k': 1.5}");
        assert_eq!(one("%c", json!(65)), "A");
    }

    #[test]
    fn mapping_and_argument_count_rules() {
        let m = json!({"user": "bob", "n": 3});
        assert_eq!(merge("%(user)s has %(n)03d", &m).unwrap(), "bob has 003");
        assert_eq!(merge("no directives", &m).unwrap(), "no directives");
        assert_eq!(
            merge("%(nope)s", &m),
            Err(PercentError::MissingKey("nope".into()))
        );
        assert_eq!(
            merge("%s %s", &json!([1])),
            Err(PercentError::NotEnoughArgs)
        );
        assert_eq!(merge("%s", &json!([1, 2])), Err(PercentError::TooManyArgs));
        assert_eq!(merge("%(a)s", &json!([1])), Err(PercentError::NeedMapping));
        assert_eq!(
            merge("100%", &json!([1])),
            Err(PercentError::Incomplete { index: 3 })
        );
        assert!(matches!(
            merge("%q", &json!([1])),
            Err(PercentError::Unsupported { ch: 'q', .. })
        ));
        assert!(matches!(
            merge("%d", &json!(["x"])),
            Err(PercentError::Type(_))
        ));
        assert_eq!(
            merge("%*d|%-*s|", &json!([4, 7, 3, "a"])).unwrap(),
            "   7|a  |"
        );
        assert_eq!(merge("100%% %s", &json!(["sure"])).unwrap(), "100% sure");
        assert_eq!(merge("%((a))s", &json!({"(a)": 1})).unwrap(), "1");
    }

    #[test]
    fn hostile_widths_are_clamped() {
        let s = one("%999999999999999999999999s", json!("x"));
        assert_eq!(s.len(), MAX_WIDTH);
    }
}
