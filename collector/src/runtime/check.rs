//! What `--check-config` does ([`check`]): everything [`start`](super::start) would do that can be
//! undone at once. The config is validated, every endpoint and the metrics address are bound and
//! closed again, and every sink path is checked to be writable without creating anything.

use super::receiver;
use super::secure::ServerSecurity;
use super::writer::bind_tail;
use super::{listen_metrics, CollectorError};
use crate::config::{Config, SinkSpec};
use crate::sink::open::check_paths;
use crate::warn::Warner;
use std::sync::Arc;
use std::time::Duration;

/// What `--check-config` does: validates, then checks that every sink path could be written and
/// every endpoint and the metrics address could be bound (binding and closing at once). Creates no
/// file or directory.
pub fn check(config: &Config) -> Result<Vec<SinkSpec>, CollectorError> {
    let resolved = config.resolve_sinks()?;
    let ctx = zmq::Context::new();
    // Bound together, as `start` binds them, so endpoints that clash with each other are found too.
    // The keys are read and the allowlist loaded as `start` does; the handler stops at once.
    let mut security = ServerSecurity::start(&ctx, config, Arc::new(Warner::new(Duration::ZERO)))?;
    drop(receiver::bind_all(&ctx, config, &security, 0)?);
    security.stop();
    if let Some(t) = &config.tail {
        drop(bind_tail(&ctx, t)?);
    }
    if let Some(m) = &config.metrics {
        drop(listen_metrics(m)?);
    }
    check_paths(&resolved)?;
    Ok(resolved)
}
