//! The `{` style (`str.format`): `{name!r:>8}` fields, and the format-spec mini-language engine
//! ([`BraceSpec`]) that renders a value as `format(value, spec)` would. Only plain names are
//! accepted (no positions, attributes or indexes, no nested fields); a value the spec's type cannot
//! take is rendered with `str()`, keeping width and alignment.

use super::{target_of, FormatError, Piece, Render};
use logfunnel_core::pyfmt::percent::{self, Spec};
use logfunnel_core::pyfmt::{repr, Arg};

/// Parses a `{name}` format; `{{` and `}}` are literal braces.
pub(super) fn parse(fmt: &str) -> Result<Vec<Piece>, FormatError> {
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

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Python's format-spec mini-language: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BraceSpec {
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
    pub(super) fn render(&self, out: &mut String, value: Arg<'_>) {
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
