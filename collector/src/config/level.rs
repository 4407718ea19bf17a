//! Level names and numbers, parsed by one rule for the config (`level = "warn"`), the run flags
//! (`--level`) and `tail --level`: core's `Level::parse`, the one rule (Python's names,
//! case-insensitive, `WARN` and `FATAL` included, or a decimal number).
//!
//! ```
//! use logfunnel_collector::config::{parse_level, LevelSpec};
//! assert_eq!(parse_level("Warning"), Some(30));
//! assert_eq!(LevelSpec::Name("fatal".into()).resolve(), Some(50));
//! ```

use logfunnel_core::schema::Level;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Python's level names (case-insensitive, `WARN` and `FATAL` included) or a decimal number.
pub fn parse_level(s: &str) -> Option<i64> {
    Level::parse(s)
}

/// A level as written in the config: a name or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelSpec {
    /// `DEBUG`, `info`, ...
    Name(String),
    /// `20`, ...
    Number(i64),
}

impl Default for LevelSpec {
    /// Everything: `NOTSET`.
    fn default() -> LevelSpec {
        LevelSpec::Name("NOTSET".to_string())
    }
}

impl LevelSpec {
    /// The numeric level, or `None` for an unknown name.
    pub fn resolve(&self) -> Option<i64> {
        match self {
            LevelSpec::Number(n) => Some(*n),
            LevelSpec::Name(s) => parse_level(s),
        }
    }
}

impl fmt::Display for LevelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LevelSpec::Name(s) => write!(f, "{s:?}"),
            LevelSpec::Number(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for LevelSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LevelSpec::Name(n) => s.serialize_str(n),
            LevelSpec::Number(n) => s.serialize_i64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for LevelSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LevelSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LevelSpec, E> {
                Ok(LevelSpec::Name(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LevelSpec, E> {
                Ok(LevelSpec::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LevelSpec, E> {
                i64::try_from(v)
                    .map(LevelSpec::Number)
                    .map_err(|_| E::custom("level number too large"))
            }
        }
        d.deserialize_any(V)
    }
}

/// `--level` of the run flags and of `tail`: [`parse_level`], with the error clap prints.
pub fn level_arg(s: &str) -> Result<i64, String> {
    parse_level(s).ok_or_else(|| {
        format!("{s:?} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL or a number)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_name_and_number() {
        assert_eq!(parse_level("warn"), Some(30));
        assert_eq!(parse_level("CRITICAL"), Some(50));
        assert_eq!(parse_level("15"), Some(15));
        assert_eq!(parse_level("loud"), None);
        assert!(level_arg("loud")
            .unwrap_err()
            .contains("\"loud\" is not a level"));
    }
}
