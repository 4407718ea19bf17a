//! Python's text formatting, for values that came out of JSON: [`percent`] is the `%` operator
//! (`msg % args`, `%(levelname)-8s`), [`repr`] is `str()`/`repr()`. The decoder merges cookbook
//! records with it, the collector's formatter renders fields with it.

pub mod percent;
pub mod repr;

use serde_json::Value;

/// A value to format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// Python `None`.
    None,
    /// `True`/`False`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// A list or an object.
    Json(&'a Value),
}

impl<'a> From<&'a Value> for Arg<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Arg::None,
            Value::Bool(b) => Arg::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Arg::Int(i as i128)
                } else if let Some(u) = n.as_u64() {
                    Arg::Int(u as i128)
                } else {
                    Arg::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Arg::Str(s),
            Value::Array(_) | Value::Object(_) => Arg::Json(v),
        }
    }
}

impl Arg<'_> {
    /// Python's type name for the value, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Arg::None => "NoneType",
            Arg::Bool(_) => "bool",
            Arg::Int(_) => "int",
            Arg::Float(_) => "float",
            Arg::Str(_) => "str",
            Arg::Json(Value::Array(_)) => "list",
            Arg::Json(_) => "dict",
        }
    }
}
