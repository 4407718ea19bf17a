//! What a sender is built from: [`SenderOptions`] and its one defaults table, the socket mode and
//! overflow policy, and why building can fail.
//!
//! | option | default | why |
//! |---|---|---|
//! | `mode` | [`SocketMode::Xpub`] (`XPUB` + `ZMQ_XPUB_NODROP`) | any `SUB` can listen; never drops at the HWM |
//! | `queue_capacity` | 65 536 records | bounded memory when the collector is gone |
//! | `queue_max_bytes` | 64 MiB | bounds memory for large records too |
//! | `overflow` | [`OverflowPolicy::Block`] | lossless while the collector keeps up |
//! | `block_timeout` | 1 s | the longest a log call waits for room |
//! | `max_frame_bytes` | 1 MiB | the collector's default limit; larger records are truncated |
//! | `min_level` | 0 | records below are [`Outcome::Filtered`](super::Outcome::Filtered) |
//! | `sndhwm` | 1 000 frames | libzmq's own buffer; kept small so `flush` means little is left in libzmq |
//! | `tcp_keepalive_idle` / `_intvl` / `_cnt` | 10 s / 5 s / 3 | a dead TCP peer is noticed (about 25 s) |
//! | `heartbeat_ivl` / `heartbeat_timeout` | off / 5 s | ZMTP heartbeats, opt-in (see [`crate::sender`]) |
//! | `reconnect_ivl` / `reconnect_ivl_max` | 100 ms / 2 s | reconnect with backoff |
//! | `close_timeout` | 5 s | the wait when a `Sender` is dropped |
//! | `ack_timeout` | 5 s | with records unacknowledged and no ack for this long, resend them (`spec/delivery.md`) |
//! | `discovery_wait` | 100 ms | after the first subscription, how long to wait for a collector's announcement before sending v1 |
//! | `max_batch_records` / `max_batch_bytes` | 1 024 / 256 KiB | one acknowledged batch at most; a lone record still goes at once |
//! | `curve_server_key` / `curve_secret_key` | none (plaintext) | CURVE is for collectors on other machines; set both, as a file path or `env:NAME` ([`KeySource::parse`]) |

use crate::curve::{read_public_key, read_secret_key, KeyError, KeyPair, KeySource, PublicKey};
use crate::schema::Lang;
use std::time::Duration;

/// Default largest frame either end accepts (1 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Which ZeroMQ socket the sender uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketMode {
    /// `XPUB` with `ZMQ_XPUB_NODROP`, connecting to a collector's (or any listener's) `SUB`. Waits for
    /// the subscription before sending, so nothing is lost to the slow-joiner problem.
    Xpub,
    /// `PUSH`, connecting to a collector's `PULL`.
    Push,
}

impl SocketMode {
    /// Parses `xpub`/`pub` or `push`.
    pub fn parse(s: &str) -> Option<SocketMode> {
        match s.to_ascii_lowercase().as_str() {
            "xpub" | "pub" => Some(SocketMode::Xpub),
            "push" => Some(SocketMode::Push),
            _ => None,
        }
    }

    /// The config spelling (`xpub`, `push`).
    pub fn as_str(self) -> &'static str {
        match self {
            SocketMode::Xpub => "xpub",
            SocketMode::Push => "push",
        }
    }
}

/// What a log call does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Wait up to `block_timeout` for room, then drop the new record.
    Block,
    /// Drop the new record at once.
    DropNewest,
    /// Drop the oldest queued record to make room.
    DropOldest,
}

impl OverflowPolicy {
    /// Parses `block`, `drop_newest` or `drop_oldest`.
    pub fn parse(s: &str) -> Option<OverflowPolicy> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "block" => Some(OverflowPolicy::Block),
            "drop_newest" => Some(OverflowPolicy::DropNewest),
            "drop_oldest" => Some(OverflowPolicy::DropOldest),
            _ => None,
        }
    }

    /// The config spelling (`block`, `drop_newest`, `drop_oldest`).
    pub fn as_str(self) -> &'static str {
        match self {
            OverflowPolicy::Block => "block",
            OverflowPolicy::DropNewest => "drop_newest",
            OverflowPolicy::DropOldest => "drop_oldest",
        }
    }
}

/// Options for [`Sender::new`](super::Sender::new); defaults in [`SenderOptions::DEFAULTS`].
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// `tcp://host:port` or `ipc://path`.
    pub endpoint: String,
    /// Socket type.
    pub mode: SocketMode,
    /// Most records queued.
    pub queue_capacity: usize,
    /// Most bytes queued (approximate: message, traceback and stack sizes plus a fixed overhead).
    pub queue_max_bytes: usize,
    /// What happens when the queue is full.
    pub overflow: OverflowPolicy,
    /// Longest wait for room with [`OverflowPolicy::Block`].
    pub block_timeout: Duration,
    /// Largest frame sent; a larger record is truncated to fit (counted in `truncated`).
    pub max_frame_bytes: usize,
    /// Records with a lower `levelno` are not sent.
    pub min_level: i64,
    /// `ZMQ_SNDHWM`.
    pub sndhwm: i32,
    /// `ZMQ_HEARTBEAT_IVL`; zero (the default) turns ZMTP heartbeats off.
    pub heartbeat_ivl: Duration,
    /// `ZMQ_HEARTBEAT_TIMEOUT`.
    pub heartbeat_timeout: Duration,
    /// `ZMQ_TCP_KEEPALIVE_IDLE`; zero turns TCP keepalive off.
    pub tcp_keepalive_idle: Duration,
    /// `ZMQ_TCP_KEEPALIVE_INTVL`.
    pub tcp_keepalive_intvl: Duration,
    /// `ZMQ_TCP_KEEPALIVE_CNT`.
    pub tcp_keepalive_cnt: i32,
    /// `ZMQ_RECONNECT_IVL`.
    pub reconnect_ivl: Duration,
    /// `ZMQ_RECONNECT_IVL_MAX`.
    pub reconnect_ivl_max: Duration,
    /// Wait used when a sender is dropped without [`Sender::close`](super::Sender::close).
    pub close_timeout: Duration,
    /// Acknowledged delivery: resend the unacknowledged records when no ack came for this long.
    pub ack_timeout: Duration,
    /// After the first subscription, how long to wait for a collector's announcement (acknowledged
    /// delivery) before sending unacknowledged v1 frames to whatever listens.
    pub discovery_wait: Duration,
    /// Most records in one acknowledged batch.
    pub max_batch_records: usize,
    /// Most bytes in one acknowledged batch (a single larger record still goes, alone).
    pub max_batch_bytes: usize,
    /// `lang` stamped on records that have none.
    pub lang: Lang,
    /// `host` stamped on records that have none; the machine's host name when `None`.
    pub host: Option<String>,
    /// The collector's CURVE public key (the `.key` file of its `[curve] secret_key_file`). With
    /// `curve_secret_key`, records are encrypted and the collector checks who sends.
    pub curve_server_key: Option<KeySource>,
    /// This sender's CURVE secret key; its public half, derived from it, must be in the collector's
    /// allowlist. Set with `curve_server_key`.
    pub curve_secret_key: Option<KeySource>,
}

impl SenderOptions {
    /// The defaults table: every option's default, defined here and nowhere else (the module
    /// table says why each is what it is; `spec/defaults.json` is this table for other languages,
    /// and a test holds the two equal). `endpoint` has no default.
    pub const DEFAULTS: SenderOptions = SenderOptions {
        endpoint: String::new(),
        mode: SocketMode::Xpub,
        queue_capacity: 65_536,
        queue_max_bytes: 64 * 1024 * 1024,
        overflow: OverflowPolicy::Block,
        block_timeout: Duration::from_secs(1),
        max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        min_level: 0,
        sndhwm: 1_000,
        heartbeat_ivl: Duration::ZERO,
        heartbeat_timeout: Duration::from_secs(5),
        tcp_keepalive_idle: Duration::from_secs(10),
        tcp_keepalive_intvl: Duration::from_secs(5),
        tcp_keepalive_cnt: 3,
        reconnect_ivl: Duration::from_millis(100),
        reconnect_ivl_max: Duration::from_secs(2),
        close_timeout: Duration::from_secs(5),
        ack_timeout: Duration::from_secs(5),
        discovery_wait: Duration::from_millis(100),
        max_batch_records: 1_024,
        max_batch_bytes: 256 * 1024,
        lang: Lang::Rust,
        host: None,
        curve_server_key: None,
        curve_secret_key: None,
    };

    /// Defaults for `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        SenderOptions {
            endpoint: endpoint.into(),
            ..SenderOptions::DEFAULTS
        }
    }

    /// [`SenderOptions::DEFAULTS`] in the shape of `spec/defaults.json`'s `sender` object: option
    /// names (`_ms` added for durations, in whole milliseconds), enums as their config strings,
    /// `null` for "unset". `endpoint` (no default) and `lang` (each binding sets its own) are left out.
    pub fn defaults_json() -> serde_json::Map<String, serde_json::Value> {
        use serde_json::{json, Value};
        // Destructured without `..`, so a new option cannot be forgotten here.
        let SenderOptions {
            endpoint: _,
            mode,
            queue_capacity,
            queue_max_bytes,
            overflow,
            block_timeout,
            max_frame_bytes,
            min_level,
            sndhwm,
            heartbeat_ivl,
            heartbeat_timeout,
            tcp_keepalive_idle,
            tcp_keepalive_intvl,
            tcp_keepalive_cnt,
            reconnect_ivl,
            reconnect_ivl_max,
            close_timeout,
            ack_timeout,
            discovery_wait,
            max_batch_records,
            max_batch_bytes,
            lang: _,
            host,
            curve_server_key,
            curve_secret_key,
        } = SenderOptions::DEFAULTS;
        let key = |k: Option<KeySource>| match k {
            None => Value::Null,
            Some(KeySource::File(p)) => json!(p.display().to_string()),
            Some(KeySource::Env(var)) => json!(format!("env:{var}")),
        };
        let ms = |d: Duration| json!(d.as_millis() as u64);
        [
            ("mode", json!(mode.as_str())),
            ("queue_capacity", json!(queue_capacity)),
            ("queue_max_bytes", json!(queue_max_bytes)),
            ("overflow", json!(overflow.as_str())),
            ("block_timeout_ms", ms(block_timeout)),
            ("max_frame_bytes", json!(max_frame_bytes)),
            ("min_level", json!(min_level)),
            ("sndhwm", json!(sndhwm)),
            ("heartbeat_ivl_ms", ms(heartbeat_ivl)),
            ("heartbeat_timeout_ms", ms(heartbeat_timeout)),
            ("tcp_keepalive_idle_ms", ms(tcp_keepalive_idle)),
            ("tcp_keepalive_intvl_ms", ms(tcp_keepalive_intvl)),
            ("tcp_keepalive_cnt", json!(tcp_keepalive_cnt)),
            ("reconnect_ivl_ms", ms(reconnect_ivl)),
            ("reconnect_ivl_max_ms", ms(reconnect_ivl_max)),
            ("close_timeout_ms", ms(close_timeout)),
            ("ack_timeout_ms", ms(ack_timeout)),
            ("discovery_wait_ms", ms(discovery_wait)),
            ("max_batch_records", json!(max_batch_records)),
            ("max_batch_bytes", json!(max_batch_bytes)),
            ("host", host.map_or(Value::Null, Value::String)),
            ("curve_server_key", key(curve_server_key)),
            ("curve_secret_key", key(curve_secret_key)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl SenderOptions {
    /// The CURVE keys, read now: `None` for plaintext, else the server's public key and this
    /// sender's pair. Errors name the option (`curve_server_key`, `curve_secret_key`).
    pub fn curve_keys(&self) -> Result<Option<(PublicKey, KeyPair)>, SenderError> {
        let invalid = |option: &'static str, error: KeyError| {
            let message = error.to_string();
            SenderError::InvalidOption {
                option,
                reason: message
                    .strip_prefix(&format!("{option}: "))
                    .unwrap_or(&message)
                    .to_string(),
            }
        };
        let (server, secret) = match (&self.curve_server_key, &self.curve_secret_key) {
            (None, None) => return Ok(None),
            (Some(server), Some(secret)) => (server, secret),
            (Some(_), None) => {
                return Err(SenderError::InvalidOption {
                    option: "curve_secret_key",
                    reason: "required with curve_server_key (CURVE needs both keys)".into(),
                })
            }
            (None, Some(_)) => {
                return Err(SenderError::InvalidOption {
                    option: "curve_server_key",
                    reason: "required with curve_secret_key (CURVE needs both keys)".into(),
                })
            }
        };
        let server = read_public_key("curve_server_key", server)
            .map_err(|e| invalid("curve_server_key", e))?;
        let secret = read_secret_key("curve_secret_key", secret)
            .map_err(|e| invalid("curve_secret_key", e))?;
        let public = secret
            .public_key()
            .map_err(|e| invalid("curve_secret_key", e))?;
        Ok(Some((server, KeyPair { public, secret })))
    }
}

/// Why a sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// An option has a value that cannot work.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// libzmq refused the socket, an option or the endpoint.
    #[error("cannot {action} ({endpoint}): {source}")]
    Zmq {
        /// What was being done.
        action: &'static str,
        /// The endpoint.
        endpoint: String,
        /// libzmq's error.
        #[source]
        source: zmq::Error,
    },
    /// The I/O thread could not be started.
    #[error("cannot start the sender thread: {0}")]
    Thread(#[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `spec/defaults.json` is what other languages read; it must say what this table says, key for
    /// key and value for value (either side having a key the other lacks fails too).
    #[test]
    fn spec_defaults_json_is_this_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/defaults.json");
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let spec = spec["sender"].as_object().expect("a \"sender\" object");
        let ours = SenderOptions::defaults_json();
        for (key, value) in &ours {
            assert_eq!(
                spec.get(key),
                Some(value),
                "spec/defaults.json sender.{key}"
            );
        }
        for key in spec.keys() {
            assert!(
                ours.contains_key(key),
                "spec/defaults.json has unknown sender.{key}"
            );
        }
        assert_eq!(SenderOptions::new("tcp://x:1").queue_capacity, 65_536);
    }

    #[test]
    fn enums_parse_their_own_spelling() {
        for mode in [SocketMode::Xpub, SocketMode::Push] {
            assert_eq!(SocketMode::parse(mode.as_str()), Some(mode));
        }
        for policy in [
            OverflowPolicy::Block,
            OverflowPolicy::DropNewest,
            OverflowPolicy::DropOldest,
        ] {
            assert_eq!(OverflowPolicy::parse(policy.as_str()), Some(policy));
        }
    }
}

#[cfg(test)]
mod curve_tests {
    use super::*;
    use crate::curve::KeyPair;

    #[test]
    fn curve_keys_are_read_at_construction_and_errors_name_the_option() {
        let dir = tempfile::tempdir().unwrap();
        let server = KeyPair::generate().unwrap();
        let client = KeyPair::generate().unwrap();
        let (server_pub, client_secret) =
            (dir.path().join("s.key"), dir.path().join("c.key_secret"));
        server
            .write_files(&server_pub, &dir.path().join("s.key_secret"))
            .unwrap();
        client
            .write_files(&dir.path().join("c.key"), &client_secret)
            .unwrap();

        let mut o = SenderOptions::new("tcp://127.0.0.1:1");
        assert!(o.curve_keys().unwrap().is_none());
        o.curve_server_key = Some(KeySource::File(server_pub.clone()));
        o.curve_secret_key = Some(KeySource::parse(client_secret.to_str().unwrap()));
        let (read_server, read_client) = o.curve_keys().unwrap().unwrap();
        assert_eq!(read_server, server.public);
        assert_eq!(
            read_client.public, client.public,
            "derived from the secret key"
        );

        let error = |o: &SenderOptions| crate::Sender::new(o.clone()).err().unwrap().to_string();
        let mut missing = o.clone();
        missing.curve_secret_key = Some(KeySource::parse("env:LOGFUNNEL_TEST_NO_SUCH_VAR"));
        assert_eq!(
            error(&missing),
            "invalid option curve_secret_key: environment variable LOGFUNNEL_TEST_NO_SUCH_VAR is not set"
        );
        let mut bad = o.clone();
        bad.curve_server_key = Some(KeySource::File(client_secret.with_file_name("absent.key")));
        let e = error(&bad);
        assert!(
            e.starts_with("invalid option curve_server_key: key file "),
            "{e}"
        );
        assert!(e.ends_with("absent.key does not exist"), "{e}");
        let mut garbage = o.clone();
        std::fs::write(dir.path().join("g.key"), "not a key\n").unwrap();
        garbage.curve_server_key = Some(KeySource::File(dir.path().join("g.key")));
        let e = error(&garbage);
        assert!(
            e.starts_with("invalid option curve_server_key: key file "),
            "{e}"
        );
        assert!(e.contains("is not a CURVE key: 9 bytes long"), "{e}");
        let mut half = o.clone();
        half.curve_secret_key = None;
        assert_eq!(
            error(&half),
            "invalid option curve_secret_key: required with curve_server_key (CURVE needs both keys)"
        );
        half.curve_secret_key = o.curve_secret_key.clone();
        half.curve_server_key = None;
        assert!(error(&half).starts_with("invalid option curve_server_key: required"));
    }
}
