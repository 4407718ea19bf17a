//! One export attempt over HTTP: `POST` the encoded request and class the answer the way the OTLP
//! specification says a client must (retryable, accepted, or rejected for good).
//!
//! `ureq` is a blocking HTTP/1.1 client with rustls: the sink runs on its own thread and sends one
//! request at a time (in order, so acknowledgements are a watermark), which is exactly a blocking
//! client's shape, without an async runtime in a collector that has none.

use super::config::{OtlpConfig, OtlpConfigError};
use flate2::write::GzEncoder;
use flate2::Compression;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use std::io::Write;
use std::time::{Duration, SystemTime};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// The most of a peer's answer read, for its message.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
/// The most of a peer's message shown in a warning.
const MAX_MESSAGE_CHARS: usize = 300;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// 2xx: the peer took the batch; `rejected` of its records it refused (OTLP partial success),
    /// for the reason in `message`.
    Accepted {
        /// Records the peer refused although it answered 2xx.
        rejected: u64,
        /// The peer's reason for them.
        message: String,
    },
    /// No answer (connection refused, timeout, TLS failure) or 429/502/503/504: send it again.
    Retry {
        /// What went wrong, for the warning.
        reason: String,
        /// How long the peer asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Any other status: the peer will never take this batch, so it is not sent again.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The peer's message.
        message: String,
    },
}

/// The HTTP side of the sink: one agent (keeping its connection), the endpoint and the headers.
pub struct Client {
    agent: ureq::Agent,
    endpoint: String,
    headers: Vec<(String, String)>,
    gzip: bool,
}

impl Client {
    /// Reads `ca_file` and the header values; no connection is made yet.
    pub fn new(config: &OtlpConfig) -> Result<Client, OtlpConfigError> {
        let mut tls = TlsConfig::builder();
        if let Some(path) = &config.ca_file {
            let fail = |message: String| OtlpConfigError {
                key: "ca_file".into(),
                message,
            };
            let pem = std::fs::read(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(fail(format!("{} holds no certificate", path.display())));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is the peer's config problem; following one could turn the POST into a GET.
            .max_redirects(0)
            .timeout_global(Some(config.timeout()))
            .user_agent(concat!("logfunnel-collector/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client {
            agent,
            endpoint: config.endpoint.clone(),
            headers: config.resolve_headers()?,
            gzip: config.gzip,
        })
    }

    /// Sends one encoded `ExportLogsServiceRequest`.
    pub fn export(&self, request: &[u8]) -> Attempt {
        let mut post = self
            .agent
            .post(&self.endpoint)
            .header("content-type", "application/x-protobuf");
        for (name, value) in &self.headers {
            post = post.header(name, value);
        }
        let sent = if self.gzip {
            post.header("content-encoding", "gzip")
                .send(&gzip(request)[..])
        } else {
            post.send(request)
        };
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    reason: e.to_string(),
                    retry_after: None,
                }
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .unwrap_or_default();
        match status {
            200..=299 => {
                let partial = ExportLogsServiceResponse::decode(&answer[..])
                    .ok()
                    .and_then(|r| r.partial_success);
                Attempt::Accepted {
                    rejected: partial
                        .as_ref()
                        .map_or(0, |p| u64::try_from(p.rejected_log_records).unwrap_or(0)),
                    message: partial.map(|p| p.error_message).unwrap_or_default(),
                }
            }
            429 | 502 | 503 | 504 => Attempt::Retry {
                reason: format!("HTTP {status}: {}", peer_message(&answer, &content_type)),
                retry_after,
            },
            _ => Attempt::Rejected {
                status,
                message: peer_message(&answer, &content_type),
            },
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    encoder.write_all(bytes).expect("gzip into a Vec");
    encoder.finish().expect("gzip into a Vec")
}

/// `Retry-After` as a delay: delta-seconds, or an HTTP date (a date in the past is no delay).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The peer's reason, readable: a JSON or text answer as it is; a protobuf `google.rpc.Status`
/// (what a Collector sends) by its printable runs, which hold the message.
fn peer_message(answer: &[u8], content_type: &str) -> String {
    let text = if content_type.contains("protobuf") {
        String::from_utf8_lossy(answer)
            .split(|c: char| c.is_control() || c == '\u{fffd}')
            .filter(|run| run.chars().count() >= 4)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        String::from_utf8_lossy(answer).trim().to_string()
    };
    let mut text: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    if text.is_empty() {
        text.push_str("(no message)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_protobuf_status_shows_its_message() {
        // google.rpc.Status { code: 3, message: "bad field" } as a Collector encodes it.
        let mut status = vec![0x08, 0x03, 0x12, 9];
        status.extend_from_slice(b"bad field");
        assert_eq!(peer_message(&status, "application/x-protobuf"), "bad field");
        assert_eq!(peer_message(b" nope \n", "text/plain"), "nope");
        assert_eq!(peer_message(b"", "text/plain"), "(no message)");
    }
}
