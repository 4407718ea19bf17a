//! The fast path for v1 frames shaped the way logfunnel's own encoder writes them: `{"v":1,` first,
//! no whitespace, every known field with its natural JSON type, user fields holding scalars.
//!
//! It either decodes the whole frame or gives up, and giving up is always safe: the caller then runs
//! the general parser, which is the one authority on what a frame means and on every error. So this
//! path accepts only what it can decode exactly as the general parser would (a test compares the two
//! on every shared vector and on generated frames) and declines everything else: escapes in keys,
//! `null` values, duplicate keys, nested user values, numbers outside 64 bits, unknown shapes.
//!
//! Why it exists: the collector spends most of its CPU decoding, and the general parser pays for
//! generality (a visitor call per key and value, a key lookup by string match, a byte-wise string
//! scan). Here keys are compared with the next one in the encoder's order first, and strings are
//! scanned eight bytes at a time.

use super::{FieldSet, Slot};
use crate::json_text::find_special;
use crate::record::RecordView;
use crate::schema::Field;
use serde_json::{Number, Value};
use std::borrow::Cow;

/// The fields encoders write after `v`, in their order: where the next key is looked for first.
const ORDER: &[Field] = Field::ALL.split_at(Field::Seq.index() + 1).0.split_at(1).1;

/// Decodes `text` into `out` if it has the encoder's shape; false means "use the general parser"
/// (`out` may then hold part of the frame and must be overwritten).
pub(super) fn decode_v1<'a>(text: &'a str, out: &mut RecordView<'a>) -> bool {
    decode(text, out).is_some()
}

fn decode<'a>(text: &'a str, out: &mut RecordView<'a>) -> Option<()> {
    const HEAD: &[u8] = br#"{"v":1,"#;
    let b = text.as_bytes();
    if !b.starts_with(HEAD) {
        return None;
    }
    let mut p = Parser {
        text,
        at: HEAD.len(),
    };
    let mut seen = FieldSet::default();
    let mut guess = 0;
    loop {
        // Most frames have their keys in the encoder's order, with optional ones left out: check
        // for the expected key and those after it in place (a mismatch fails on its first bytes).
        let ahead = ORDER.get(guess..).unwrap_or_default();
        let (key, field) = match ahead.iter().position(|expected| p.at_key(expected.key())) {
            Some(i) => (ahead[i].key(), Some(ahead[i])),
            None => {
                let key = p.key()?;
                (key, Field::from_key(key))
            }
        };
        match field {
            // A second `v`, or a key encoders never write (`message` needs the general parser's
            // merge rules): not this path's shape.
            Some(field) if field == Field::V || !field.is_written() => return None,
            Some(field) => {
                if !seen.insert(field) {
                    return None;
                }
                // ORDER starts after `v`, so the field after this one sits at its own index.
                guess = field.index();
                p.field(field, out)?;
            }
            None => {
                let value = p.scalar_value()?;
                out.extra.push((Cow::Borrowed(key), Cow::Owned(value)));
            }
        }
        match p.next_byte()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    if p.at != b.len() {
        return None;
    }
    if !seen.contains_all(FieldSet::REQUIRED) {
        return None;
    }
    let extra = &out.extra;
    if (1..extra.len()).any(|i| extra[..i].iter().any(|(k, _)| *k == extra[i].0)) {
        return None;
    }
    Some(())
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let c = *self.bytes().get(self.at)?;
        self.at += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next_byte()? == c).then_some(())
    }

    /// Consumes `"expected":` if that is what comes next (compared inline: the keys are short, and
    /// a call to memcmp per key showed in the profile).
    fn at_key(&mut self, expected: &str) -> bool {
        let (b, e) = (self.bytes(), expected.as_bytes());
        let start = self.at + 1;
        let end = start + e.len();
        let matches = b.len() > end + 1
            && b[self.at] == b'"'
            && b[start..end].iter().zip(e).all(|(x, y)| x == y)
            && b[end] == b'"'
            && b[end + 1] == b':';
        if matches {
            self.at = end + 2;
        }
        matches
    }

    /// `"key":` with no escapes in the key.
    fn key(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + find_special(&self.bytes()[start..])?;
        if self.bytes()[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        self.expect(b':')?;
        Some(&self.text[start..end])
    }

    /// A JSON string: borrowed when it has no escapes, unescaped by serde_json when it has.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.bytes();
        if b.get(self.at) != Some(&b'"') {
            return None;
        }
        let open = self.at;
        let start = open + 1;
        let mut end = start + find_special(&b[start..])?;
        if b[end] == b'"' {
            self.at = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        // Escapes: find the closing quote, then let serde_json decode exactly this string.
        loop {
            match b[end] {
                b'"' => break,
                b'\\' => end += 2,
                _ => return None, // a raw control character: invalid JSON
            }
            end += find_special(b.get(end..)?)?;
        }
        self.at = end + 1;
        serde_json::from_str::<String>(&self.text[open..=end])
            .ok()
            .map(Cow::Owned)
    }

    /// A JSON number; returns its text and whether it is an integer literal.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let b = self.bytes();
        let start = self.at;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i += digits(&b[i..]),
            _ => return None,
        }
        let mut int = true;
        if b.get(i) == Some(&b'.') {
            let n = digits(b.get(i + 1..)?);
            if n == 0 {
                return None;
            }
            i += 1 + n;
            int = false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let n = digits(b.get(i..)?);
            if n == 0 {
                return None;
            }
            i += n;
            int = false;
        }
        self.at = i;
        Some((&self.text[start..i], int))
    }

    fn int(&mut self) -> Option<i64> {
        match self.number()? {
            (s, true) => s.parse().ok(),
            // An integral float is accepted by the general parser; leave that rare case to it.
            (_, false) => None,
        }
    }

    fn float(&mut self) -> Option<f64> {
        // Correctly rounded, as serde_json's `float_roundtrip` parsing is.
        let x: f64 = self.number()?.0.parse().ok()?;
        x.is_finite().then_some(x)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes().get(self.at..self.at + word.len())? == word {
            self.at += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A user field's value: a string, number, boolean or null (containers go to the general parser).
    fn scalar_value(&mut self) -> Option<Value> {
        Some(match *self.bytes().get(self.at)? {
            b'"' => Value::String(self.string()?.into_owned()),
            b't' => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Value::Null
            }
            _ => match self.number()? {
                (s, true) => match s.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::from(s.parse::<u64>().ok()?),
                },
                (s, false) => {
                    let x: f64 = s.parse().ok()?;
                    Value::Number(Number::from_f64(x)?)
                }
            },
        })
    }

    /// One known field into its place in `out`.
    fn field(&mut self, field: Field, out: &mut RecordView<'a>) -> Option<()> {
        match out.slot(field) {
            Slot::Text(t) => *t = self.string()?,
            Slot::OptText(t) => *t = Some(self.string()?),
            Slot::Int(n) => *n = self.int()?,
            Slot::OptInt(n) => *n = Some(self.int()?),
            Slot::Float(x) => *x = self.float()?,
            Slot::OptFloat(x) => *x = Some(self.float()?),
            Slot::Seq(n) => {
                let (s, int) = self.number()?;
                if !int {
                    return None;
                }
                *n = Some(s.parse().ok()?);
            }
            // Encoders always write `args` as null (anything else needs the general parser).
            Slot::Other if field == Field::Args => self.literal(b"null")?,
            Slot::Other => return None,
        }
        Some(())
    }
}

/// Length of the run of ASCII digits at the start of `b`.
fn digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_the_written_fields_after_v() {
        assert_eq!(ORDER.first(), Some(&Field::Name));
        assert_eq!(ORDER.last(), Some(&Field::Seq));
        for (i, field) in ORDER.iter().enumerate() {
            assert_eq!(field.index(), i + 1);
            assert!(field.is_written());
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for (s, ok) in [
            ("0", true),
            ("-12", true),
            ("1.5e-3", true),
            ("1E+9", true),
            ("01", false),
            ("1.", false),
            (".5", false),
            ("-", false),
            ("1e", false),
            ("+1", false),
        ] {
            let mut p = Parser { text: s, at: 0 };
            let whole = p.number().is_some() && p.at == s.len();
            assert_eq!(whole, ok, "{s}");
        }
    }
}
