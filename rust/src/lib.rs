//! Send a Rust program's logs to a [logfunnel] collector, through the `log` facade or `tracing`.
//!
//! Many processes, in any language, log into one collector, which alone formats, routes, rotates and
//! writes. This crate is the Rust side: a `log::Log` ([`log`]) and a `tracing_subscriber::Layer`
//! ([`tracing`]), both over logfunnel's core [`Sender`]: a bounded queue drained by a background
//! thread, so a log call never waits on the network (at most the block timeout when the queue is
//! full, or not at all with another [`OverflowPolicy`]), never panics, and every record it cannot
//! deliver is counted ([`Funnel::stats`]). Fork-safe: a forked child builds its own socket.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # let mut config = logfunnel_collector::config::Config::default();
//! # config.bind = vec!["tcp://127.0.0.1:0".into()];
//! # let mut sink = logfunnel_collector::config::FileSinkConfig::new(dir.path().join("app.log"));
//! # sink.line.format = Some("%(levelname)s %(name)s [%(spans)s] %(message)s user=%(user)s".into());
//! # config.sinks.push(sink.into());
//! # let collector = logfunnel_collector::runtime::start(config).unwrap();
//! # let endpoint = collector.endpoints()[0].clone();
//! use tracing_subscriber::prelude::*;
//!
//! // `endpoint` is the collector's, e.g. "tcp://127.0.0.1:5555".
//! let (layer, guard) = logfunnel::tracing::layer(endpoint).expect("logfunnel");
//! tracing_subscriber::registry().with(layer).init();
//!
//! let _request = tracing::info_span!("request", path = "/login").entered();
//! tracing::info!(user = 42, "signed in");
//!
//! drop(guard); // at the end of main: delivers what is still queued
//! # collector.stop(std::time::Duration::from_secs(10)).unwrap();
//! # let written = std::fs::read_to_string(dir.path().join("app.log")).unwrap();
//! # assert_eq!(written, "INFO rust_out [request] signed in user=42\n");
//! ```
//!
//! For a format of `%(levelname)s %(name)s [%(spans)s] %(message)s user=%(user)s`, the collector's
//! file then holds `INFO my_app [request] signed in user=42` (the logger name is the event's
//! target: its module path, here the crate `my_app`'s root). With `log` it is one line too:
//! `let _guard = logfunnel::log::init(endpoint)?;`.
//!
//! Both integrations can share one sender: build a [`Funnel`] with [`Builder`] (queue size, overflow
//! policy, exit timeouts; defaults in [`funnel`]'s table), then take [`Funnel::logger`] and
//! [`Funnel::layer`] from it. Keep the [`FlushGuard`] alive in `main`: its drop waits, with a bound,
//! until the queue has reached the collector.
//!
//! Features: `log` and `tracing` (both on by default).
//!
//! [logfunnel]: https://example.invalid/logfunnel
#![warn(missing_docs)]
// Without either integration only the funnel is left, and the record building has no caller.
#![cfg_attr(not(any(feature = "log", feature = "tracing")), allow(dead_code))]

mod error;
mod fields;
pub mod funnel;
mod level;
#[cfg(feature = "log")]
pub mod log;
mod thread;
#[cfg(feature = "tracing")]
pub mod tracing;

pub use error::Error;
pub use funnel::{Builder, FlushGuard, Funnel};
pub use logfunnel_core::{FlushStatus, OverflowPolicy, Sender, SenderOptions, SocketMode, Stats};
