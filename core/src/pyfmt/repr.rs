//! Python's `str()` and `repr()` of the values `json.loads` gives (`True`, `None`, `[1, 'a']`,
//! `{'k': 1.5}`, float `repr`), for `%s`/`%r` and for a cookbook `msg` that is not a string.
//! Python decides which characters `repr` escapes from its Unicode database; [`str_repr`] uses a
//! fixed table of the non-printable ranges (controls, separators, format characters, private use),
//! which covers what log text holds.

use super::Arg;
use serde_json::Value;
use std::fmt::Write as _;

/// Python's `repr(float)` (also its `str`): shortest round-trip digits, scientific notation
/// outside `1e-4 <= |x| < 1e16`.
pub fn float_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let raw = format!("{:e}", x.abs());
    let (m, exp) = split_exp(&raw);
    let digits: String = m.chars().filter(|c| *c != '.').collect();
    if x < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exp(out, exp);
    }
}

pub(super) fn str_arg(out: &mut String, arg: Arg<'_>) {
    match arg {
        Arg::Str(s) => out.push_str(s),
        other => repr_arg(out, other, false),
    }
}

pub(super) fn repr_arg(out: &mut String, arg: Arg<'_>, ascii: bool) {
    match arg {
        Arg::None => out.push_str("None"),
        Arg::Bool(true) => out.push_str("True"),
        Arg::Bool(false) => out.push_str("False"),
        Arg::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Arg::Float(x) => float_repr(out, x),
        Arg::Str(s) => str_repr(out, s, ascii),
        Arg::Json(v) => value_repr(out, v, ascii),
    }
}

/// Python's `str()` of the value `json.loads` gives for `v`.
pub fn py_str(out: &mut String, v: &Value) {
    str_arg(out, Arg::from(v))
}

/// Python's `repr()` of the value `json.loads` gives for `v`.
pub fn py_repr(out: &mut String, v: &Value) {
    value_repr(out, v, false)
}

fn value_repr(out: &mut String, v: &Value, ascii: bool) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value_repr(out, item, ascii);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                str_repr(out, k, ascii);
                out.push_str(": ");
                value_repr(out, item, ascii);
            }
            out.push('}');
        }
        scalar => repr_arg(out, Arg::from(scalar), ascii),
    }
}

/// Python's `repr(str)` (or `ascii(str)` when `ascii`).
pub fn str_repr(out: &mut String, s: &str, ascii: bool) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x7f && c >= ' ' => out.push(c),
            c if !ascii && (c as u32) > 0x7f && is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                let _ = if n < 0x100 {
                    write!(out, "\\x{n:02x}")
                } else if n < 0x10000 {
                    write!(out, "\\u{n:04x}")
                } else {
                    write!(out, "\\U{n:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one non-ASCII character, from a table of the non-printable
/// ranges (categories Cc, Cf, Zs, Zl, Zp, Co and the non-characters).
fn is_printable(c: char) -> bool {
    let n = c as u32;
    !matches!(n,
        0x7f..=0xa0
        | 0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x890..=0x891
        | 0x8e2
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x2064
        | 0x2066..=0x206f
        | 0x3000
        | 0xd800..=0xf8ff
        | 0xfdd0..=0xfdef
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0x110bd
        | 0x110cd
        | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a
        | 0xe0001
        | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff
    ) && (n & 0xfffe) != 0xfffe
}

/// Splits Rust's `{:e}` output into mantissa and exponent.
pub(super) fn split_exp(s: &str) -> (&str, i32) {
    match s.split_once('e') {
        Some((m, e)) => (m, e.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

pub(super) fn push_exp(s: &mut String, exp: i32) {
    let _ = write!(
        s,
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
}
