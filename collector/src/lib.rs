//! The logfunnel collector: receives records over ZeroMQ, decodes, formats, routes, rotates and writes.
//!
//! The data path, one module per step: [`config`] (what to do) → [`runtime`] (sockets, receiving and
//! writing threads, drain) → [`route`] (which sink takes a record) → [`format`](mod@format) (Python `logging`
//! format strings) → [`sink`] (files, rotation, console). Beside it: [`gaps`] (records lost according
//! to the senders' sequence numbers), [`metrics`] (counters, stats line, Prometheus endpoint),
//! [`tail`] (the live view) and [`cli`] (the `logfunnel-collector` program, also run by the Python
//! package's console script).
//!
//! ```no_run
//! use logfunnel_collector::{config::Config, runtime::{self, Shutdown}};
//! let config = Config::from_toml_str(r#"
//!     [[sink]]
//!     kind = "file"
//!     path = "logs/app.log"
//! "#).unwrap();
//! let shutdown = Shutdown::new();
//! // Another thread (or a signal handler) calls shutdown.trigger() to stop and drain.
//! let summary = runtime::run(config, shutdown).unwrap();
//! println!("{}", summary.stats.line());
//! ```
#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod format;
pub mod gaps;
pub mod metrics;
pub mod route;
pub mod runtime;
pub mod signals;
pub mod sink;
pub mod tail;
pub mod warn;

pub use config::Config;
pub use metrics::Stats;
pub use runtime::{run, start, CollectorError, RunningCollector, Shutdown, Summary};
