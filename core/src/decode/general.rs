//! The general parser: any JSON text, deserialized straight into the record's fields (only user
//! fields become `serde_json::Value`), with nesting depth tracked while parsing, so a hostile frame
//! costs one pass and bounded stack. It is the one authority on what a frame means and on every
//! error; the fast path must agree with it.

use super::{foreign, DecodeError, DecodeLimits, FieldSet, Slot, MAX_SUPPORTED_DEPTH};
use crate::record::RecordView;
use crate::schema::{Field, WIRE_VERSION};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

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

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Top<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
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

/// A known field's value: scalars kept, containers skipped (with depth checks) and only named.
enum Scalar<'de> {
    Null,
    Bool,
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool => "a boolean",
            Scalar::I64(_) | Scalar::U64(_) => "an integer",
            Scalar::F64(_) => "a float",
            Scalar::Str(_) => "a string",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }
}

fn wrong(ctx: &Ctx, field: Field, expected: &'static str, found: &Scalar) {
    ctx.defer(DecodeError::WrongType {
        field: field.key(),
        expected,
        found: found.kind(),
    });
}

fn non_null(v: Value) -> Option<Value> {
    (!v.is_null()).then_some(v)
}

fn string<'de>(ctx: &Ctx, field: Field, v: Scalar<'de>) -> Option<Cow<'de, str>> {
    match v {
        Scalar::Str(s) => Some(s),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "a string", &other);
            None
        }
    }
}

/// An integer field; like Python, a float with an integral value is accepted.
fn int(ctx: &Ctx, field: Field, v: Scalar) -> Option<i64> {
    match v {
        Scalar::I64(n) => Some(n),
        Scalar::U64(n) if n <= i64::MAX as u64 => Some(n as i64),
        Scalar::F64(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Some(x as i64),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "an integer (64-bit)", &other);
            None
        }
    }
}

fn float(ctx: &Ctx, field: Field, v: Scalar) -> Option<f64> {
    match v {
        Scalar::F64(x) => Some(x),
        Scalar::I64(n) => Some(n as f64),
        Scalar::U64(n) => Some(n as f64),
        Scalar::Null => None,
        other => {
            wrong(ctx, field, "a number", &other);
            None
        }
    }
}

/// Reads a known field's value as a [`Scalar`].
#[derive(Clone, Copy)]
struct FieldSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Scalar<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(n))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(x))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        skip_seq(self.ctx, seq, 3)?;
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        skip_map(self.ctx, map, 3)?;
        Ok(Scalar::Object)
    }
}

/// Reads `msg`: a string borrowed where possible, anything else as a `Value` (null as absent).
#[derive(Clone, Copy)]
struct MsgSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for MsgSeed<'_> {
    type Value = Option<Msg<'de>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MsgSeed<'_> {
    type Value = Option<Msg<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::Bool(b))))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::from(n))))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(Msg::Other(Value::from(n))))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(x).map(|n| Msg::Other(Value::Number(n))))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Owned(s.to_string()))))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(Msg::Str(Cow::Owned(s))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = ValueSeed {
            ctx: self.ctx,
            depth: 2,
        }
        .visit_seq(seq)?;
        Ok(Some(Msg::Other(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = ValueSeed {
            ctx: self.ctx,
            depth: 2,
        }
        .visit_map(map)?;
        Ok(Some(Msg::Other(v)))
    }
}

/// Consumes an array at depth `depth - 1` whose elements sit at `depth`.
fn skip_seq<'de, A: SeqAccess<'de>>(ctx: &Ctx, mut seq: A, depth: usize) -> Result<(), A::Error> {
    ctx.enter(depth - 1)?;
    while seq.next_element_seed(ValueSeed { ctx, depth })?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(ctx: &Ctx, mut map: A, depth: usize) -> Result<(), A::Error> {
    ctx.enter(depth - 1)?;
    while map.next_key::<IgnoredAny>()?.is_some() {
        map.next_value_seed(ValueSeed { ctx, depth })?;
    }
    Ok(())
}

/// Builds a `serde_json::Value` for a value at nesting `depth`, refusing to go deeper than the limit.
#[derive(Clone, Copy)]
struct ValueSeed<'c> {
    ctx: &'c Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Number::from_f64(x).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = ValueSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let inner = ValueSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
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
