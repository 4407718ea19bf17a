//! The v1 wire schema as data: every key a frame can hold ([`Field`]) and Python's level names
//! ([`Level`]), each declared once in a table below. The encoder, both decoders, the bindings and
//! the collector's formatter take keys, order, kinds and names from here (see `spec/wire-format.md`).
//!
//! ```
//! use logfunnel_core::schema::{Field, Kind, Level};
//! assert_eq!(Field::from_key("funcName"), Some(Field::FuncName));
//! assert_eq!(Field::FuncName.kind(), Kind::Str);
//! assert!(Field::Created.is_required());
//! assert_eq!(Level::parse("warn"), Some(30));
//! assert_eq!(Level::name_of(25), "Level 25");
//! ```

use std::borrow::Cow;

/// The schema version this crate writes in the `v` key.
pub const WIRE_VERSION: u64 = 1;

/// The JSON type a field's value has on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `v`: the schema version, an integer.
    Version,
    /// A string.
    Str,
    /// A signed 64-bit integer (an integral float is accepted on decoding, as Python would).
    Int,
    /// A number (seconds or milliseconds).
    Float,
    /// `seq`: an unsigned 64-bit integer.
    Seq,
    /// `args`: encoders write `null` (the message is merged); cookbook senders may send any value.
    Args,
    /// Meaningless in another process (`exc_info`, `asctime`): decoders drop it.
    Ignored,
}

/// Who writes a field and whether a v1 decoder insists on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Presence {
    /// Written by every encoder; a v1 frame without it is refused (`missing_field`).
    Required,
    /// Written by encoders when the record has it (`levelname` and `msecs` always, derived).
    Optional,
    /// Never written by an encoder, but reserved: Python's `logging` computes it, and a user field
    /// of that name would clash (`message`, `exc_info`, `asctime`).
    NotWritten,
}

macro_rules! fields {
    ($($(#[$doc:meta])* $variant:ident = $key:literal, $kind:ident, $presence:ident;)*) => {
        /// One key of the v1 schema, in the order every logfunnel encoder writes them (the decoders'
        /// fast path counts on that order), followed by the keys encoders never write.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// Every field, in wire order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The key as it appears in a frame (a Python `LogRecord` attribute name).
            pub const fn key(self) -> &'static str {
                match self {
                    $(Field::$variant => $key,)*
                }
            }

            /// The field a frame's key names; `None` for a user field.
            pub fn from_key(key: &str) -> Option<Field> {
                match key {
                    $($key => Some(Field::$variant),)*
                    _ => None,
                }
            }

            /// The JSON type of the value.
            pub const fn kind(self) -> Kind {
                match self {
                    $(Field::$variant => Kind::$kind,)*
                }
            }

            /// Who writes it and whether decoders require it.
            pub const fn presence(self) -> Presence {
                match self {
                    $(Field::$variant => Presence::$presence,)*
                }
            }

            /// `,"key":`: what the encoder writes before the value.
            pub(crate) const fn prefix(self) -> &'static [u8] {
                match self {
                    $(Field::$variant => concat!(",\"", $key, "\":").as_bytes(),)*
                }
            }
        }

        /// Every schema key, in the order of [`Field::ALL`]. A user field with one of these names is
        /// sent as `extra.<name>` so that it can never overwrite a schema field.
        pub const RESERVED_KEYS: &[&str] = &[$($key,)*];
    };
}

fields! {
    /// Schema version, always 1.
    V = "v", Version, Required;
    /// Logger name.
    Name = "name", Str, Required;
    /// The final message, already merged with its arguments.
    Msg = "msg", Str, Required;
    /// Always `null` from encoders.
    Args = "args", Args, Optional;
    /// Numeric level, Python's scale.
    Levelno = "levelno", Int, Required;
    /// Level name.
    Levelname = "levelname", Str, Optional;
    /// Creation time, seconds since the Unix epoch.
    Created = "created", Float, Required;
    /// Milliseconds part of `created`.
    Msecs = "msecs", Float, Optional;
    /// Milliseconds since the sender loaded its logging.
    RelativeCreated = "relativeCreated", Float, Optional;
    /// Full path of the source file.
    Pathname = "pathname", Str, Optional;
    /// File name part of `pathname`.
    Filename = "filename", Str, Optional;
    /// `filename` without its extension.
    Module = "module", Str, Optional;
    /// Source line number.
    Lineno = "lineno", Int, Optional;
    /// Function name.
    FuncName = "funcName", Str, Optional;
    /// Process id.
    Process = "process", Int, Optional;
    /// Process name.
    ProcessName = "processName", Str, Optional;
    /// Thread id.
    Thread = "thread", Int, Optional;
    /// Thread name.
    ThreadName = "threadName", Str, Optional;
    /// asyncio task name.
    TaskName = "taskName", Str, Optional;
    /// Formatted traceback.
    ExcText = "exc_text", Str, Optional;
    /// Formatted stack.
    StackInfo = "stack_info", Str, Optional;
    /// Host name of the sender.
    Host = "host", Str, Optional;
    /// Sender language.
    Lang = "lang", Str, Optional;
    /// Sender id.
    Sid = "sid", Str, Optional;
    /// Per-sender sequence number.
    Seq = "seq", Seq, Optional;
    /// Python's `getMessage()` result, present when a formatter ran in the sender.
    Message = "message", Str, NotWritten;
    /// Python's exception tuple: meaningless elsewhere.
    ExcInfo = "exc_info", Ignored, NotWritten;
    /// Python's formatted time: recomputed by the receiver.
    Asctime = "asctime", Ignored, NotWritten;
}

impl Field {
    /// Whether a v1 frame must hold it.
    pub const fn is_required(self) -> bool {
        matches!(self.presence(), Presence::Required)
    }

    /// Whether encoders write it.
    pub const fn is_written(self) -> bool {
        !matches!(self.presence(), Presence::NotWritten)
    }

    /// The position in [`Field::ALL`] (the wire order).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Whether `key` is a schema key (or one Python's `logging` computes itself).
pub fn is_reserved_key(key: &str) -> bool {
    Field::from_key(key).is_some()
}

macro_rules! levels {
    ($($(#[$doc:meta])* $variant:ident = $number:literal, $name:literal $(| $alias:literal)*;)*) => {
        /// Python's standard logging levels.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Level {
            $($(#[$doc])* $variant,)*
        }

        impl Level {
            /// Every level, most severe first.
            pub const ALL: &'static [Level] = &[$(Level::$variant,)*];

            /// The level number (`logging.INFO == 20`).
            pub const fn number(self) -> i64 {
                match self {
                    $(Level::$variant => $number,)*
                }
            }

            /// Python's name for it (`logging.getLevelName`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Level::$variant => $name,)*
                }
            }

            /// The level a number is, if it is a standard one.
            pub const fn from_number(levelno: i64) -> Option<Level> {
                match levelno {
                    $($number => Some(Level::$variant),)*
                    _ => None,
                }
            }

            /// The level an upper-case name (or alias: `WARN`, `FATAL`) names, exactly as written.
            pub fn from_name(name: &str) -> Option<Level> {
                match name {
                    $($name $(| $alias)* => Some(Level::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

levels! {
    /// 50.
    Critical = 50, "CRITICAL" | "FATAL";
    /// 40.
    Error = 40, "ERROR";
    /// 30.
    Warning = 30, "WARNING" | "WARN";
    /// 20.
    Info = 20, "INFO";
    /// 10.
    Debug = 10, "DEBUG";
    /// 0.
    Notset = 0, "NOTSET";
}

impl Level {
    /// Python's level name for any number: the standard name, `Level N` for the others.
    pub fn name_of(levelno: i64) -> Cow<'static, str> {
        match Level::from_number(levelno) {
            Some(level) => Cow::Borrowed(level.name()),
            None => Cow::Owned(format!("Level {levelno}")),
        }
    }

    /// A level as a user writes it (config files, command lines, bindings): a name in any case
    /// (aliases included), or a decimal number; surrounding spaces are ignored.
    pub fn parse(s: &str) -> Option<i64> {
        let t = s.trim();
        match Level::from_name(&t.to_ascii_uppercase()) {
            Some(level) => Some(level.number()),
            None => t.parse().ok(),
        }
    }

    /// A level as a record carries it (`levelname`, a PUBHandler topic): the exact upper-case name
    /// or alias, or Python's `Level N` for a number without a name.
    pub fn from_record_name(name: &str) -> Option<i64> {
        match Level::from_name(name) {
            Some(level) => Some(level.number()),
            None => name.strip_prefix("Level ")?.parse().ok(),
        }
    }
}

/// The language of the program that made a record (`lang` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// CPython through the `logfunnel` package.
    Python,
    /// A C or C++ program through `include/logfunnel.h`.
    C,
    /// A JVM program through the Java binding.
    Java,
    /// A Rust program using `logfunnel-core` directly.
    Rust,
}

impl Lang {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::C => "c",
            Lang::Java => "java",
            Lang::Rust => "rust",
        }
    }

    /// Every language, for parsing and tests.
    pub const ALL: &'static [Lang] = &[Lang::Python, Lang::C, Lang::Java, Lang::Rust];

    /// Parses a wire spelling, in any case (`c`, `java`, `python`, `rust`).
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL
            .iter()
            .copied()
            .find(|lang| lang.as_str().eq_ignore_ascii_case(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_through_its_key() {
        for (i, &field) in Field::ALL.iter().enumerate() {
            assert_eq!(field.index(), i);
            assert_eq!(Field::from_key(field.key()), Some(field));
            assert_eq!(RESERVED_KEYS[i], field.key());
            let prefix = std::str::from_utf8(field.prefix()).unwrap();
            assert_eq!(prefix, format!(",\"{}\":", field.key()));
        }
        assert_eq!(Field::from_key("user_id"), None);
        // Written fields come first: the wire order is a prefix of the table.
        let written = Field::ALL.iter().take_while(|f| f.is_written()).count();
        assert!(Field::ALL[written..].iter().all(|f| !f.is_written()));
        assert_eq!(Field::ALL[written - 1], Field::Seq);
    }

    #[test]
    fn level_names_follow_python() {
        for &level in Level::ALL {
            assert_eq!(Level::from_number(level.number()), Some(level));
            assert_eq!(Level::name_of(level.number()), level.name());
            assert_eq!(
                Level::parse(&level.name().to_lowercase()),
                Some(level.number())
            );
            assert_eq!(Level::from_record_name(level.name()), Some(level.number()));
        }
        assert_eq!(Level::parse(" Fatal "), Some(50));
        assert_eq!(Level::parse("15"), Some(15));
        assert_eq!(Level::parse("LOUD"), None);
        assert_eq!(Level::from_record_name("warn"), None);
        assert_eq!(Level::from_record_name("WARN"), Some(30));
        assert_eq!(Level::from_record_name("Level 25"), Some(25));
        assert_eq!(Level::name_of(55), "Level 55");
        for &lang in Lang::ALL {
            assert_eq!(Lang::parse(&lang.as_str().to_uppercase()), Some(lang));
        }
        assert_eq!(Lang::parse("go"), None);
    }
}
