//! A `[[sink]]` table as written, on its way to a typed [`SinkConfig`].
//!
//! serde's internally tagged enums buffer the table before choosing the variant, which loses the
//! key in error paths (`sink[0]` instead of `sink[0].colr`) and turns a key of another kind into a
//! bare "unknown field". So a table is read key by key into a [`SinkTable`] (a wrong type or an
//! unknown key is reported by serde with its full path), then [`SinkTable::into_config`] applies
//! the one rule that depends on the kind, which keys it takes ([`SinkKey::refusal`]), and names the
//! key and the kinds that use it.

use super::sink::{
    ConsoleSinkConfig, FileSinkConfig, JsonlSinkConfig, LineConfig, OtlpSinkConfig,
    RotatingFileSinkConfig, RotationConfig, SinkCommon, SinkConfig, SinkKind, StreamName,
};
use super::{invalid, ConfigError};
use crate::sink::otlp::OtlpConfig;
use crate::sink::Colour;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;

/// Every key a `[[sink]]` table may hold, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
pub(crate) enum SinkKey {
    Kind,
    Name,
    Path,
    Level,
    Format,
    Style,
    Datefmt,
    Utc,
    Include,
    Exclude,
    OnError,
    MaxBytes,
    When,
    Interval,
    AtTime,
    BackupCount,
    Compress,
    MaxAgeDays,
    Stream,
    #[serde(alias = "color")]
    Colour,
    Endpoint,
    ServiceName,
    Headers,
    CaFile,
    Gzip,
    BatchMaxRecords,
    BatchMaxBytes,
    BatchTimeoutMs,
    BufferMaxRecords,
    RetryInitialMs,
    RetryMaxMs,
    TimeoutMs,
}

impl SinkKey {
    /// The key as written in the config (`colour` also for its alias `color`).
    pub(crate) fn name(self) -> &'static str {
        use SinkKey::*;
        match self {
            Kind => "kind",
            Name => "name",
            Path => "path",
            Level => "level",
            Format => "format",
            Style => "style",
            Datefmt => "datefmt",
            Utc => "utc",
            Include => "include",
            Exclude => "exclude",
            OnError => "on_error",
            MaxBytes => "max_bytes",
            When => "when",
            Interval => "interval",
            AtTime => "at_time",
            BackupCount => "backup_count",
            Compress => "compress",
            MaxAgeDays => "max_age_days",
            Stream => "stream",
            Colour => "colour",
            Endpoint => "endpoint",
            ServiceName => "service_name",
            Headers => "headers",
            CaFile => "ca_file",
            Gzip => "gzip",
            BatchMaxRecords => "batch_max_records",
            BatchMaxBytes => "batch_max_bytes",
            BatchTimeoutMs => "batch_timeout_ms",
            BufferMaxRecords => "buffer_max_records",
            RetryInitialMs => "retry_initial_ms",
            RetryMaxMs => "retry_max_ms",
            TimeoutMs => "timeout_ms",
        }
    }

    /// Why a sink of `kind` does not take this key, or `None` if it does.
    fn refusal(self, kind: SinkKind) -> Option<String> {
        use SinkKey::*;
        match (self, kind) {
            (Path, SinkKind::Console) => Some("not used by kind \"console\" (use stream)".into()),
            (Path, SinkKind::Otlp) => Some("not used by kind \"otlp\" (use endpoint)".into()),
            (Format | Style | Datefmt | Utc, SinkKind::Otlp) => {
                Some("not used by kind \"otlp\" (it maps the record's fields, spec/otlp.md)".into())
            }
            (k, kind) if k.is_otlp() && kind != SinkKind::Otlp => {
                Some("only used by kind \"otlp\"".into())
            }
            (Format | Style | Datefmt, SinkKind::Jsonl) => {
                Some("not used by kind \"jsonl\" (it writes the normalized JSON record)".into())
            }
            (Stream | Colour, k) if k != SinkKind::Console => {
                Some("only used by kind \"console\"".into())
            }
            (
                MaxBytes | When | Interval | AtTime | BackupCount | Compress | MaxAgeDays,
                SinkKind::File | SinkKind::Console | SinkKind::Otlp,
            ) => Some(format!(
                "only used by kinds \"rotating_file\" and \"jsonl\", not {:?}",
                kind.as_str()
            )),
            _ => None,
        }
    }

    fn is_otlp(self) -> bool {
        use SinkKey::*;
        matches!(
            self,
            Endpoint
                | ServiceName
                | Headers
                | CaFile
                | Gzip
                | BatchMaxRecords
                | BatchMaxBytes
                | BatchTimeoutMs
                | BufferMaxRecords
                | RetryInitialMs
                | RetryMaxMs
                | TimeoutMs
        )
    }

    fn is_rotation(self) -> bool {
        use SinkKey::*;
        matches!(
            self,
            MaxBytes | When | Interval | AtTime | BackupCount | Compress | MaxAgeDays
        )
    }
}

/// A `[[sink]]` table as written: its kind, the keys in the order given, and their values sorted
/// into the parts the typed configs are made of.
#[derive(Debug, Default)]
pub(crate) struct SinkTable {
    kind: Option<SinkKind>,
    given: Vec<SinkKey>,
    common: SinkCommon,
    path: Option<PathBuf>,
    line: LineConfig,
    rotation: RotationConfig,
    stream: StreamName,
    colour: Colour,
    otlp: OtlpConfig,
}

/// For a sink deserialized on its own (not through [`Config::from_toml_str`](super::Config), which
/// names the sink too): a key of another kind is an error naming the key.
impl<'de> Deserialize<'de> for SinkConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SinkConfig, D::Error> {
        SinkTable::deserialize(d)?
            .into_config("")
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for SinkTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SinkTable, D::Error> {
        d.deserialize_map(TableVisitor)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = SinkTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sink table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SinkTable, A::Error> {
        let mut t = SinkTable::default();
        while let Some(key) = map.next_key::<SinkKey>()? {
            if t.given.contains(&key) {
                return Err(de::Error::duplicate_field(key.name()));
            }
            t.given.push(key);
            let (c, l, r, o) = (&mut t.common, &mut t.line, &mut t.rotation, &mut t.otlp);
            use SinkKey::*;
            match key {
                Kind => t.kind = Some(map.next_value()?),
                Name => c.name = map.next_value()?,
                Path => t.path = map.next_value()?,
                Level => c.level = map.next_value()?,
                Format => l.format = map.next_value()?,
                Style => l.style = map.next_value()?,
                Datefmt => l.datefmt = map.next_value()?,
                Utc => l.utc = map.next_value()?,
                Include => c.include = map.next_value()?,
                Exclude => c.exclude = map.next_value()?,
                OnError => c.on_error = map.next_value()?,
                MaxBytes => r.max_bytes = map.next_value()?,
                When => r.when = map.next_value()?,
                Interval => r.interval = map.next_value()?,
                AtTime => r.at_time = map.next_value()?,
                BackupCount => r.backup_count = map.next_value()?,
                Compress => r.compress = map.next_value()?,
                MaxAgeDays => r.max_age_days = map.next_value()?,
                Stream => t.stream = map.next_value()?,
                Colour => t.colour = map.next_value()?,
                Endpoint => o.endpoint = map.next_value()?,
                ServiceName => o.service_name = map.next_value()?,
                Headers => o.headers = map.next_value()?,
                CaFile => o.ca_file = map.next_value()?,
                Gzip => o.gzip = map.next_value()?,
                BatchMaxRecords => o.batch_max_records = map.next_value()?,
                BatchMaxBytes => o.batch_max_bytes = map.next_value()?,
                BatchTimeoutMs => o.batch_timeout_ms = map.next_value()?,
                BufferMaxRecords => o.buffer_max_records = map.next_value()?,
                RetryInitialMs => o.retry_initial_ms = map.next_value()?,
                RetryMaxMs => o.retry_max_ms = map.next_value()?,
                TimeoutMs => o.timeout_ms = map.next_value()?,
            }
        }
        if t.kind.is_none() {
            return Err(de::Error::missing_field("kind"));
        }
        Ok(t)
    }
}

impl SinkTable {
    /// The typed config, or the first key its kind does not take, named `{prefix}{key}`.
    pub(crate) fn into_config(self, prefix: &str) -> Result<SinkConfig, ConfigError> {
        let kind = self.kind.expect("the visitor requires kind");
        let key = |k: &str| format!("{prefix}{k}");
        if let Some((k, why)) = self
            .given
            .iter()
            .find_map(|k| k.refusal(kind).map(|why| (k, why)))
        {
            return Err(invalid(key(k.name()), why));
        }
        let SinkTable {
            given,
            common,
            path,
            line,
            rotation,
            stream,
            colour,
            otlp,
            ..
        } = self;
        let path = || {
            path.ok_or_else(|| {
                invalid(
                    key("path"),
                    format!("required for kind {:?}", kind.as_str()),
                )
            })
        };
        Ok(match kind {
            SinkKind::Console => ConsoleSinkConfig {
                common,
                line,
                stream,
                colour,
            }
            .into(),
            SinkKind::File => FileSinkConfig {
                common,
                path: path()?,
                line,
            }
            .into(),
            SinkKind::RotatingFile => RotatingFileSinkConfig {
                file: FileSinkConfig {
                    common,
                    path: path()?,
                    line,
                },
                rotation,
            }
            .into(),
            SinkKind::Otlp => OtlpSinkConfig { common, otlp }.into(),
            SinkKind::Jsonl => JsonlSinkConfig {
                common,
                path: path()?,
                utc: line.utc,
                rotation: given.iter().any(|k| k.is_rotation()).then_some(rotation),
            }
            .into(),
        })
    }
}
