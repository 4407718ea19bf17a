//! The seeds of the general parser that read one value each: a known field's value as a
//! [`Scalar`] (type-checked by the caller against the schema), `msg` in either form, and user values
//! built (or skipped) with the nesting depth checked at every level.

use super::{Ctx, Msg};
use crate::decode::DecodeError;
use crate::schema::Field;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// A known field's value: scalars kept, containers skipped (with depth checks) and only named.
pub(super) enum Scalar<'de> {
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

pub(super) fn wrong(ctx: &Ctx, field: Field, expected: &'static str, found: &Scalar) {
    ctx.defer(DecodeError::WrongType {
        field: field.key(),
        expected,
        found: found.kind(),
    });
}

pub(super) fn non_null(v: Value) -> Option<Value> {
    (!v.is_null()).then_some(v)
}

pub(super) fn string<'de>(ctx: &Ctx, field: Field, v: Scalar<'de>) -> Option<Cow<'de, str>> {
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
pub(super) fn int(ctx: &Ctx, field: Field, v: Scalar) -> Option<i64> {
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

pub(super) fn float(ctx: &Ctx, field: Field, v: Scalar) -> Option<f64> {
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
pub(super) struct FieldSeed<'c> {
    pub(super) ctx: &'c Ctx,
}

any_value_seed! {
    FieldSeed => Scalar<'de>, expecting "a JSON value";
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
pub(super) struct MsgSeed<'c> {
    pub(super) ctx: &'c Ctx,
}

any_value_seed! {
    MsgSeed => Option<Msg<'de>>, expecting "a JSON value";
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
    // A container `msg` sits at depth 2 (inside the record object).
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let seed = ValueSeed { ctx: self.ctx, depth: 2 };
        Ok(Some(Msg::Other(seed.visit_seq(seq)?)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let seed = ValueSeed { ctx: self.ctx, depth: 2 };
        Ok(Some(Msg::Other(seed.visit_map(map)?)))
    }
}

/// Consumes an array at depth `depth - 1` whose elements sit at `depth`.
pub(super) fn skip_seq<'de, A: SeqAccess<'de>>(
    ctx: &Ctx,
    mut seq: A,
    depth: usize,
) -> Result<(), A::Error> {
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
pub(super) struct ValueSeed<'c> {
    pub(super) ctx: &'c Ctx,
    pub(super) depth: usize,
}

impl<'c> ValueSeed<'c> {
    /// Enters the container this seed reads (checking its depth); the seed for its elements.
    fn inside<E: de::Error>(self) -> Result<ValueSeed<'c>, E> {
        self.ctx.enter(self.depth)?;
        Ok(ValueSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        })
    }
}

any_value_seed! {
    ValueSeed => Value, expecting "a JSON value";
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
        let inner = self.inside()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inside()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}
