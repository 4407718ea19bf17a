//! The `otlp` sink: forwards records to an OpenTelemetry peer over OTLP/HTTP (`POST /v1/logs`,
//! protobuf, gzip), acknowledging each record only once the peer has accepted it.
//!
//! The data path, one file per step: [`config`] (the `[[sink]] kind = "otlp"` table) →
//! [`mapping`] (a record as an OTLP `LogRecord` and its resource, `spec/otlp.md`) → [`forwarder`]
//! (the handle: bounded buffer, positions, settlements) → `worker` (batching by records, bytes and
//! age; retries with [`backoff`]) → [`client`] (one HTTP attempt, classed retry / accepted /
//! rejected) with [`batch`] building the request. [`stats`] holds the counters. `sink` is
//! [`OtlpSink`], the forwarder as one of the collector writer's sinks (what `kind = "otlp"` opens).
//!
//! Acknowledgements: [`OtlpForwarder::try_push`] returns the record's [`Position`]; the worker sends
//! batches one at a time, in order, and after each reports a [`Settlement`] (`through`: every
//! position below it is settled). A full buffer refuses with [`PushError::Full`], which is the
//! back-pressure signal: the caller keeps the record and stops taking more from its senders.
//! Retryable failures (no connection, 429/502/503/504) are retried until the peer answers, so a
//! peer that is down holds records, never loses them; a refusal (400 and other statuses) settles
//! the batch as rejected, counted and warned with the peer's message, and is not sent again.
//!
//! ```no_run
//! use logfunnel_collector::sink::otlp::{OtlpConfig, OtlpForwarder};
//! use logfunnel_collector::warn::Warner;
//! use std::{sync::Arc, time::Duration};
//! let config: OtlpConfig = toml::from_str(r#"endpoint = "http://127.0.0.1:4318/v1/logs""#)?;
//! let otlp = OtlpForwarder::start(&config, "otel", Arc::new(Warner::new(Duration::from_secs(10))), None)?;
//! let position = otlp.try_push(&logfunnel_core::RecordView::new("app", 20, "hi", 1.7e9))?;
//! assert!(otlp.wait_settled(position, Duration::from_secs(10)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backoff;
pub mod batch;
pub mod client;
pub mod config;
pub mod forwarder;
pub mod mapping;
mod sink;
pub mod stats;
mod worker;

pub use config::{HeaderConfig, OtlpConfig, OtlpConfigError};
pub use forwarder::{
    CloseReport, OtlpForwarder, OtlpStartError, Position, PushError, Settlement, StatsHandle,
};
pub use sink::OtlpSink;
pub use stats::{Metric, OtlpStats, METRICS};
