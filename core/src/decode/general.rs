//! The general parser: any JSON text, deserialized straight into the record's fields (only user
//! fields become `serde_json::Value`), with nesting depth tracked while parsing, so a hostile frame
//! costs one pass and bounded stack. It is the one authority on what a frame means and on every
//! error; the fast path must agree with it.

use super::{foreign, DecodeError, DecodeLimits, FieldSet, Slot, MAX_SUPPORTED_DEPTH};
use crate::record::RecordView;
use crate::schema::{Field, WIRE_VERSION};
use seeds::{float, int, non_null, skip_seq, string, wrong, FieldSeed, MsgSeed, Scalar, ValueSeed};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// A seed that is its own `Visitor` of any JSON value: writes `DeserializeSeed` (through
/// `deserialize_any`) and the `Visitor`'s `Value` and `expecting` around the `visit_*` methods given.
macro_rules! any_value_seed {
    ($seed:ident => $value:ty, expecting $what:literal; $($visit:tt)*) => {
        impl<'de> DeserializeSeed<'de> for $seed<'_> {
            type Value = $value;
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<$value, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for $seed<'_> {
            type Value = $value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str($what)
            }
            $($visit)*
        }
    };
}

mod seeds;

/// State shared by the seeds of one parse.
struct Ctx {
    max_depth: usize,
    /// Set when parsing had to stop early (too deep): it wins over the parser error it causes.
    fatal: RefCell<Option<DecodeError>>,
    /// The first schema problem; reported only if the whole frame is valid JSON.
    deferred: RefCell<Option<DecodeError>>,
}

impl Ctx {
    fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            self.fatal.replace(Some(DecodeError::TooDeep {
                limit: self.max_depth,
            }));
            return Err(E::custom("nesting limit"));
        }
        Ok(())
    }

    fn defer(&self, err: DecodeError) {
        let mut slot = self.deferred.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
    }
}

pub(super) fn parse_record<'a>(
    text: &'a str,
    limits: &DecodeLimits,
) -> Result<RecordView<'a>, DecodeError> {
    let ctx = Ctx {
        max_depth: limits.max_depth.clamp(1, MAX_SUPPORTED_DEPTH),
        fatal: RefCell::new(None),
        deferred: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = TopSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw));
    if let Some(err) = ctx.fatal.take() {
        return Err(err);
    }
    let raw = parsed.map_err(|e| DecodeError::InvalidJson {
        detail: json_detail(&e),
        line: e.line(),
        column: e.column(),
    })?;
    let raw = raw.map_err(|found| DecodeError::NotAnObject { found })?;
    finish(raw, ctx.deferred.take())
}

/// serde_json's message without its " at line L column C" suffix (kept in separate fields).
fn json_detail(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// What the object held, before the form-specific checks.
#[derive(Default)]
struct Raw<'de> {
    record: RecordView<'de>,
    /// `v` as written, if it was an integer.
    version: Option<VersionSeen>,
    /// Which required fields held a value (the last time they appeared).
    seen: FieldSet,
    msg: Option<Msg<'de>>,
    args: Option<Value>,
    /// Python's own `getMessage()` result, present when a formatter ran in the sender.
    message: Option<Cow<'de, str>>,
}

/// `msg` as found: a string (v1 requires one), or any other JSON value (the cookbook form allows it).
pub(super) enum Msg<'de> {
    Str(Cow<'de, str>),
    Other(Value),
}

enum VersionSeen {
    One,
    Other(String),
}

/// A key: a schema [`Field`], or the name of a user field.
enum Key<'de> {
    Known(Field),
    Other(Cow<'de, str>),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Field::from_key(s).map_or(Key::Other(Cow::Borrowed(s)), Key::Known))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Field::from_key(s).map_or_else(|| Key::Other(Cow::Owned(s.to_string())), Key::Known))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
        Ok(match Field::from_key(&s) {
            Some(field) => Key::Known(field),
            None => Key::Other(Cow::Owned(s)),
        })
    }
}

/// The top-level value: `Ok(raw)` for an object, `Err(kind)` for any other JSON value.
struct TopSeed<'c> {
    ctx: &'c Ctx,
}

type Top<'de> = Result<Raw<'de>, &'static str>;

any_value_seed! {
    TopSeed => Top<'de>, expecting "a JSON object";
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Err("boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Err("number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Err("string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top<'de>, E> {
        Ok(Err("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top<'de>, A::Error> {
        skip_seq(self.ctx, seq, 2)?;
        Ok(Err("array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let ctx = self.ctx;
        ctx.enter(1)?;
        let mut raw = Raw::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let fs = FieldSeed { ctx };
            let value = ValueSeed { ctx, depth: 2 };
            match key {
                Key::Known(Field::V) => match map.next_value_seed(fs)? {
                    Scalar::U64(n) if n == WIRE_VERSION => raw.version = Some(VersionSeen::One),
                    Scalar::U64(n) => raw.version = Some(VersionSeen::Other(n.to_string())),
                    Scalar::I64(n) => raw.version = Some(VersionSeen::Other(n.to_string())),
                    Scalar::Null => raw.version = None,
                    other => wrong(ctx, Field::V, "an integer", &other),
                },
                Key::Known(Field::Msg) => raw.msg = map.next_value_seed(MsgSeed { ctx })?,
                Key::Known(Field::Args) => raw.args = non_null(map.next_value_seed(value)?),
                Key::Known(Field::Message) => {
                    // Derived by the sender's formatter; only a string is of any use.
                    if let Scalar::Str(m) = map.next_value_seed(fs)? {
                        raw.message = Some(m);
                    }
                }
                Key::Known(field) => {
                    let v = map.next_value_seed(fs)?;
                    store(ctx, &mut raw, field, v);
                }
                Key::Other(name) => {
                    let v = map.next_value_seed(value)?;
                    raw.record.extra.push((name, Cow::Owned(v)));
                }
            }
        }
        Ok(Ok(raw))
    }
}

/// A known field's value into its [`Slot`], type-checked against the schema. A required field
/// counts as present if its last occurrence held a value; `exc_info` and `asctime` are dropped.
fn store<'de>(ctx: &Ctx, raw: &mut Raw<'de>, field: Field, v: Scalar<'de>) {
    let seen = &mut raw.seen;
    match raw.record.slot(field) {
        Slot::Text(t) => {
            let s = string(ctx, field, v);
            seen.set(field, s.is_some());
            *t = s.unwrap_or_default();
        }
        Slot::OptText(t) => *t = string(ctx, field, v),
        Slot::Int(n) => {
            let x = int(ctx, field, v);
            seen.set(field, x.is_some());
            *n = x.unwrap_or_default();
        }
        Slot::OptInt(n) => *n = int(ctx, field, v),
        Slot::Float(x) => {
            let f = float(ctx, field, v);
            seen.set(field, f.is_some());
            *x = f.unwrap_or_default();
        }
        Slot::OptFloat(x) => *x = float(ctx, field, v),
        Slot::Seq(n) => {
            *n = match v {
                Scalar::U64(n) => Some(n),
                Scalar::Null => None,
                other => {
                    wrong(ctx, field, "a non-negative integer", &other);
                    None
                }
            }
        }
        Slot::Other => {}
    }
}

/// Form detection and the checks that need the whole object.
fn finish(raw: Raw<'_>, deferred: Option<DecodeError>) -> Result<RecordView<'_>, DecodeError> {
    let Raw {
        mut record,
        version,
        seen,
        msg,
        args,
        message,
    } = raw;
    if let Some(VersionSeen::Other(found)) = version {
        return Err(DecodeError::UnsupportedVersion { found });
    }
    if let Some(err) = deferred {
        return Err(err);
    }
    if matches!(version, Some(VersionSeen::One)) {
        record.msg = match msg {
            Some(Msg::Str(s)) => s,
            Some(Msg::Other(other)) => {
                return Err(DecodeError::WrongType {
                    field: Field::Msg.key(),
                    expected: "a string",
                    found: value_kind(&other),
                })
            }
            None => {
                return Err(DecodeError::MissingField {
                    field: Field::Msg.key(),
                })
            }
        };
        // `msg` is held in `msg` above, the other required fields in `seen`, checked in wire order.
        let mut seen = seen;
        seen.insert(Field::Msg);
        if !seen.contains_all(FieldSet::REQUIRED) {
            let missing = Field::ALL
                .iter()
                .find(|&&f| FieldSet::REQUIRED.contains(f) && !seen.contains(f))
                .map_or("", |f| f.key());
            return Err(DecodeError::MissingField { field: missing });
        }
    } else {
        foreign::cookbook(&mut record, msg, seen)?;
    }
    dedupe_extras(&mut record.extra);
    foreign::merge_args(&mut record, args, message);
    Ok(record)
}

pub(super) type Extras<'a> = Vec<(Cow<'a, str>, Cow<'a, Value>)>;

pub(super) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Duplicate user keys: the last value wins at the first position, as in a Python dict.
fn dedupe_extras(extra: &mut Extras<'_>) {
    let n = extra.len();
    let has_dup = if n < 2 {
        false
    } else if n <= 16 {
        (1..n).any(|i| extra[..i].iter().any(|(k, _)| *k == extra[i].0))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        !extra.iter().all(|(k, _)| seen.insert(&**k))
    };
    if !has_dup {
        return;
    }
    let mut index: std::collections::HashMap<Cow<'_, str>, usize> =
        std::collections::HashMap::new();
    let mut out: Extras<'_> = Vec::with_capacity(n);
    for (k, v) in extra.drain(..) {
        match index.get(&k) {
            Some(&at) => out[at].1 = v,
            None => {
                index.insert(k.clone(), out.len());
                out.push((k, v));
            }
        }
    }
    *extra = out;
}
