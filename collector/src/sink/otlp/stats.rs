//! The sink's counters, updated by its worker and read by the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Live counters (atomics; the worker writes, anyone reads).
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) records_forwarded: AtomicU64,
    pub(crate) batches_forwarded: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) records_rejected: AtomicU64,
    pub(crate) last_success: Mutex<Option<Instant>>,
    pub(crate) last_rejection: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters {
            records_forwarded: AtomicU64::new(0),
            batches_forwarded: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            records_rejected: AtomicU64::new(0),
            last_success: Mutex::new(None),
            last_rejection: Mutex::new(None),
        }
    }

    pub(crate) fn snapshot(&self, buffer_records: usize) -> OtlpStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        OtlpStats {
            records_forwarded: load(&self.records_forwarded),
            batches_forwarded: load(&self.batches_forwarded),
            retries: load(&self.retries),
            records_rejected: load(&self.records_rejected),
            buffer_records,
            since_last_success: lock(&self.last_success).map(|t| t.elapsed()),
            last_rejection: lock(&self.last_rejection).clone(),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A snapshot of the sink's counters. Suggested Prometheus names in brackets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OtlpStats {
    /// Records the peer accepted (`logfunnel_otlp_records_forwarded_total`).
    pub records_forwarded: u64,
    /// Requests the peer accepted (`logfunnel_otlp_batches_forwarded_total`).
    pub batches_forwarded: u64,
    /// Attempts that failed and were tried again (`logfunnel_otlp_retries_total`).
    pub retries: u64,
    /// Records the peer refused for good: a 4xx other than 429, or a partial success
    /// (`logfunnel_otlp_records_rejected_total`).
    pub records_rejected: u64,
    /// Records held, waiting or in flight (`logfunnel_otlp_buffer_records`).
    pub buffer_records: usize,
    /// Time since the peer last accepted a request; `None` before the first
    /// (`logfunnel_otlp_seconds_since_last_success`).
    pub since_last_success: Option<Duration>,
    /// The status and message of the last refusal, for the operator.
    pub last_rejection: Option<String>,
}
