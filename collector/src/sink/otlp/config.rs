//! `kind = "otlp"`: the typed config of the OTLP/HTTP sink, its defaults and its validation.
//!
//! ```toml
//! [[sink]]
//! kind = "otlp"
//! endpoint = "https://otel.example:4318/v1/logs"
//! service_name = "shop"
//! ca_file = "/etc/ssl/otel-ca.pem"
//! headers = [{ name = "authorization", value_env = "OTEL_TOKEN" }]
//! ```
//!
//! Validation is separate from parsing ([`OtlpConfig::validate`]) and names the key it is about,
//! relative to the sink table (the caller prefixes `sink[N].`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Default `endpoint`: a Collector on this host, OTLP/HTTP's standard port and path.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4318/v1/logs";
/// Default `service_name` (the OpenTelemetry SDKs' own default when none is set).
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";
/// Default `batch_max_records`.
pub const DEFAULT_BATCH_MAX_RECORDS: usize = 512;
/// Default `batch_max_bytes`: well below the 4 MiB a Collector's receiver accepts by default.
pub const DEFAULT_BATCH_MAX_BYTES: usize = 1024 * 1024;
/// Default `batch_timeout_ms`.
pub const DEFAULT_BATCH_TIMEOUT_MS: u64 = 200;
/// Default `buffer_max_records`.
pub const DEFAULT_BUFFER_MAX_RECORDS: usize = 8192;
/// Default `retry_initial_ms`.
pub const DEFAULT_RETRY_INITIAL_MS: u64 = 100;
/// Default `retry_max_ms`.
pub const DEFAULT_RETRY_MAX_MS: u64 = 30_000;
/// Default `timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default `gzip`.
pub const DEFAULT_GZIP: bool = true;

/// One `[[sink]]` of kind `otlp`: forwards records to an OpenTelemetry peer (`POST /v1/logs`,
/// protobuf), acknowledging each one only once the peer has accepted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The full URL records are posted to, path included (`http://` or `https://`).
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Resource attribute `service.name` of every record whose sender did not set `otelServiceName`.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Most records in one request.
    #[serde(default = "default_batch_max_records")]
    pub batch_max_records: usize,
    /// Most bytes of encoded (uncompressed) log records in one request; a record larger than this
    /// goes alone.
    #[serde(default = "default_batch_max_bytes")]
    pub batch_max_bytes: usize,
    /// Longest a record waits for its batch to fill before the batch is sent anyway.
    #[serde(default = "default_batch_timeout_ms")]
    pub batch_timeout_ms: u64,
    /// Most records held (waiting or in flight) before `push` refuses: the bound that turns a slow
    /// or absent peer into back-pressure instead of memory growth.
    #[serde(default = "default_buffer_max_records")]
    pub buffer_max_records: usize,
    /// First delay before retrying a failed request; doubled on each further failure.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    /// Longest delay between retries, including one the peer asks for with `Retry-After`.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Longest one request may take (connect, send, answer).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// PEM file of the certificate authorities trusted for an `https://` endpoint, instead of the
    /// built-in public roots (for a private CA or a self-signed peer).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Compress request bodies with gzip (`Content-Encoding: gzip`).
    #[serde(default = "default_gzip")]
    pub gzip: bool,
    /// Extra request headers, e.g. an API token.
    #[serde(default)]
    pub headers: Vec<HeaderConfig>,
}

/// One extra header. Exactly one of `value`, `value_file` and `value_env` gives its value, so a
/// secret need not be written in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderConfig {
    /// Header name, e.g. `authorization`.
    pub name: String,
    /// The value itself.
    #[serde(default)]
    pub value: Option<String>,
    /// A file holding the value (read at start; one trailing newline is removed).
    #[serde(default)]
    pub value_file: Option<PathBuf>,
    /// An environment variable holding the value (read at start).
    #[serde(default)]
    pub value_env: Option<String>,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_string()
}
fn default_service_name() -> String {
    DEFAULT_SERVICE_NAME.to_string()
}
fn default_batch_max_records() -> usize {
    DEFAULT_BATCH_MAX_RECORDS
}
fn default_batch_max_bytes() -> usize {
    DEFAULT_BATCH_MAX_BYTES
}
fn default_batch_timeout_ms() -> u64 {
    DEFAULT_BATCH_TIMEOUT_MS
}
fn default_buffer_max_records() -> usize {
    DEFAULT_BUFFER_MAX_RECORDS
}
fn default_retry_initial_ms() -> u64 {
    DEFAULT_RETRY_INITIAL_MS
}
fn default_retry_max_ms() -> u64 {
    DEFAULT_RETRY_MAX_MS
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_gzip() -> bool {
    DEFAULT_GZIP
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: default_endpoint(),
            service_name: default_service_name(),
            batch_max_records: DEFAULT_BATCH_MAX_RECORDS,
            batch_max_bytes: DEFAULT_BATCH_MAX_BYTES,
            batch_timeout_ms: DEFAULT_BATCH_TIMEOUT_MS,
            buffer_max_records: DEFAULT_BUFFER_MAX_RECORDS,
            retry_initial_ms: DEFAULT_RETRY_INITIAL_MS,
            retry_max_ms: DEFAULT_RETRY_MAX_MS,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            ca_file: None,
            gzip: DEFAULT_GZIP,
            headers: Vec::new(),
        }
    }
}

/// A config value that cannot work, with the key it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct OtlpConfigError {
    /// The key, relative to the sink table (`endpoint`, `headers[0].value_env`).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> OtlpConfigError {
    OtlpConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl OtlpConfig {
    /// A config for `endpoint` with every other key at its default.
    pub fn new(endpoint: impl Into<String>) -> Self {
        OtlpConfig {
            endpoint: endpoint.into(),
            ..OtlpConfig::default()
        }
    }

    /// Checks the values without touching the network or reading files.
    pub fn validate(&self) -> Result<(), OtlpConfigError> {
        let scheme_ok =
            self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://");
        if !scheme_ok || self.endpoint.split("://").nth(1).is_none_or(str::is_empty) {
            return Err(invalid(
                "endpoint",
                format!("{:?} is not an http:// or https:// URL", self.endpoint),
            ));
        }
        if self.ca_file.is_some() && !self.endpoint.starts_with("https://") {
            return Err(invalid("ca_file", "is only used with an https:// endpoint"));
        }
        if self.service_name.is_empty() {
            return Err(invalid("service_name", "must not be empty"));
        }
        for (key, value) in [
            ("batch_max_records", self.batch_max_records as u64),
            ("batch_max_bytes", self.batch_max_bytes as u64),
            ("batch_timeout_ms", self.batch_timeout_ms),
            ("buffer_max_records", self.buffer_max_records as u64),
            ("retry_initial_ms", self.retry_initial_ms),
            ("timeout_ms", self.timeout_ms),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if self.buffer_max_records < self.batch_max_records {
            return Err(invalid(
                "buffer_max_records",
                format!(
                    "must be at least batch_max_records ({})",
                    self.batch_max_records
                ),
            ));
        }
        if self.retry_max_ms < self.retry_initial_ms {
            return Err(invalid(
                "retry_max_ms",
                format!(
                    "must be at least retry_initial_ms ({})",
                    self.retry_initial_ms
                ),
            ));
        }
        for (i, h) in self.headers.iter().enumerate() {
            let valid_name = !h.name.is_empty()
                && h.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                return Err(invalid(
                    format!("headers[{i}].name"),
                    format!("{:?} is not an HTTP header name", h.name),
                ));
            }
            let sources = [
                h.value.is_some(),
                h.value_file.is_some(),
                h.value_env.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() != 1 {
                return Err(invalid(
                    format!("headers[{i}]"),
                    "needs exactly one of value, value_file, value_env",
                ));
            }
        }
        Ok(())
    }

    /// `batch_timeout_ms` as a duration.
    pub fn batch_timeout(&self) -> Duration {
        Duration::from_millis(self.batch_timeout_ms)
    }

    /// `timeout_ms` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Reads each header's value from where its config says (file, environment, or the config).
    pub fn resolve_headers(&self) -> Result<Vec<(String, String)>, OtlpConfigError> {
        let mut out = Vec::with_capacity(self.headers.len());
        for (i, h) in self.headers.iter().enumerate() {
            let value = if let Some(v) = &h.value {
                v.clone()
            } else if let Some(path) = &h.value_file {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    invalid(
                        format!("headers[{i}].value_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                text.strip_suffix('\r').unwrap_or(text).to_string()
            } else if let Some(var) = &h.value_env {
                std::env::var(var).map_err(|e| {
                    invalid(format!("headers[{i}].value_env"), format!("{var}: {e}"))
                })?
            } else {
                return Err(invalid(
                    format!("headers[{i}]"),
                    "needs exactly one of value, value_file, value_env",
                ));
            };
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(invalid(
                    format!("headers[{i}]"),
                    "the value holds a line break or NUL",
                ));
            }
            out.push((h.name.clone(), value));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OtlpConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_are_the_named_constants() {
        let c = parse("");
        assert_eq!(c, OtlpConfig::default());
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(c.batch_max_records, DEFAULT_BATCH_MAX_RECORDS);
        assert!(c.gzip);
        c.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<OtlpConfig>("batch_max = 3").is_err());
        assert!(toml::from_str::<OtlpConfig>("headers = [{ name = \"a\", val = \"b\" }]").is_err());
    }

    #[test]
    fn validation_names_the_key() {
        let cases: &[(&str, &str)] = &[
            ("endpoint = \"ftp://x\"", "endpoint"),
            ("endpoint = \"http://\"", "endpoint"),
            ("ca_file = \"/ca.pem\"", "ca_file"),
            ("batch_max_records = 0", "batch_max_records"),
            ("batch_timeout_ms = 0", "batch_timeout_ms"),
            ("buffer_max_records = 10", "buffer_max_records"),
            ("retry_max_ms = 5", "retry_max_ms"),
            ("service_name = \"\"", "service_name"),
            (
                "headers = [{ name = \"a b\", value = \"v\" }]",
                "headers[0].name",
            ),
            (
                "headers = [{ name = \"a\", value = \"v\", value_env = \"E\" }]",
                "headers[0]",
            ),
            ("headers = [{ name = \"a\" }]", "headers[0]"),
        ];
        for (text, key) in cases {
            let err = parse(text).validate().unwrap_err();
            assert_eq!(err.key, *key, "{text}: {err}");
        }
    }

    #[test]
    fn header_values_come_from_a_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let var = "LOGFUNNEL_OTLP_CONFIG_TEST_TOKEN";
        std::env::set_var(var, "from-env");
        let mut c = OtlpConfig {
            headers: vec![
                HeaderConfig {
                    name: "a".into(),
                    value: Some("plain".into()),
                    value_file: None,
                    value_env: None,
                },
                HeaderConfig {
                    name: "b".into(),
                    value: None,
                    value_file: Some(file),
                    value_env: None,
                },
                HeaderConfig {
                    name: "c".into(),
                    value: None,
                    value_file: None,
                    value_env: Some(var.into()),
                },
            ],
            ..OtlpConfig::default()
        };
        c.validate().unwrap();
        assert_eq!(
            c.resolve_headers().unwrap(),
            [("a", "plain"), ("b", "from-file"), ("c", "from-env")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        c.headers[2].value_env = Some("LOGFUNNEL_OTLP_CONFIG_TEST_UNSET".into());
        assert_eq!(c.resolve_headers().unwrap_err().key, "headers[2].value_env");
        c.headers[2].value_env = None;
        c.headers[2].value_file = Some(dir.path().join("missing"));
        assert_eq!(
            c.resolve_headers().unwrap_err().key,
            "headers[2].value_file"
        );
    }
}
