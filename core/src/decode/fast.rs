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

use crate::json_text::find_special;
use crate::record::RESERVED_KEYS;
use crate::view::RecordView;
use serde_json::{Number, Value};
use std::borrow::Cow;

/// The known v1 keys in the order the encoder writes them (after `v`), then `message`, which the
/// general parser treats specially; the index is the field's slot.
const ORDER: &[&str] = {
    let (_, rest) = RESERVED_KEYS.split_at(1);
    rest.split_at(SPECIAL + 1).0
};

const NAME: usize = 0;
const MSG: usize = 1;
const ARGS: usize = 2;
const LEVELNO: usize = 3;
const CREATED: usize = 5;
const SPECIAL: usize = 24;

fn slot_of(key: &str) -> Option<usize> {
    ORDER.iter().position(|k| *k == key)
}

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
    let mut seen: u32 = 0;
    let mut guess = 0;
    loop {
        // Most frames have their keys in the encoder's order, with optional ones left out: check
        // for the expected key and those after it in place (a mismatch fails on its first bytes).
        let ahead = ORDER.get(guess..).unwrap_or_default();
        let (key, slot) = match ahead.iter().position(|expected| p.at_key(expected)) {
            Some(i) => (ORDER[guess + i], Some(guess + i)),
            None => {
                let key = p.key()?;
                (key, slot_of(key))
            }
        };
        match slot {
            Some(SPECIAL) => return None,
            Some(slot) => {
                if seen & (1 << slot) != 0 {
                    return None;
                }
                seen |= 1 << slot;
                guess = slot + 1;
                p.field(slot, out)?;
            }
            None => {
                if key == "v" || key == "exc_info" || key == "asctime" {
                    return None;
                }
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
    let required = (1 << NAME) | (1 << MSG) | (1 << LEVELNO) | (1 << CREATED);
    if seen & required != required {
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
    fn field(&mut self, slot: usize, out: &mut RecordView<'a>) -> Option<()> {
        match slot {
            NAME => out.name = self.string()?,
            MSG => out.msg = self.string()?,
            ARGS => self.literal(b"null")?,
            LEVELNO => out.levelno = self.int()?,
            4 => out.levelname = Some(self.string()?),
            CREATED => out.created = self.float()?,
            6 => out.msecs = Some(self.float()?),
            7 => out.relative_created = Some(self.float()?),
            8 => out.pathname = Some(self.string()?),
            9 => out.filename = Some(self.string()?),
            10 => out.module = Some(self.string()?),
            11 => out.lineno = Some(self.int()?),
            12 => out.func_name = Some(self.string()?),
            13 => out.process = Some(self.int()?),
            14 => out.process_name = Some(self.string()?),
            15 => out.thread = Some(self.int()?),
            16 => out.thread_name = Some(self.string()?),
            17 => out.task_name = Some(self.string()?),
            18 => out.exc_text = Some(self.string()?),
            19 => out.stack_info = Some(self.string()?),
            20 => out.host = Some(self.string()?),
            21 => out.lang = Some(self.string()?),
            22 => out.sid = Some(self.string()?),
            23 => {
                let (s, int) = self.number()?;
                if !int {
                    return None;
                }
                out.seq = Some(s.parse().ok()?);
            }
            _ => return None,
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
    fn slots_name_the_fields_they_fill() {
        let slots = [
            (NAME, "name"),
            (MSG, "msg"),
            (ARGS, "args"),
            (LEVELNO, "levelno"),
        ];
        for (slot, key) in slots
            .into_iter()
            .chain([(CREATED, "created"), (SPECIAL, "message")])
        {
            assert_eq!(ORDER[slot], key);
        }
        assert_eq!(ORDER.len(), 25);
        assert_eq!(ORDER[23], "seq");
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
