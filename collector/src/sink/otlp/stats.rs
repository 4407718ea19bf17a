//! The sink's counters, updated by its worker and read by the metrics endpoint.

use serde::{Serialize, Serializer};
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

/// A snapshot of the sink's counters; [`METRICS`] names them for Prometheus.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OtlpStats {
    /// Records the peer accepted.
    pub records_forwarded: u64,
    /// Requests the peer accepted.
    pub batches_forwarded: u64,
    /// Attempts that failed and were tried again.
    pub retries: u64,
    /// Records the peer refused for good: any status but 2xx, 429, 502, 503 and 504, or a
    /// partial success.
    pub records_rejected: u64,
    /// Records held, waiting or in flight.
    pub buffer_records: usize,
    /// Time since the peer last accepted a request; `None` before the first. Serialized as seconds
    /// (`since_last_success_s`).
    #[serde(rename = "since_last_success_s", serialize_with = "seconds")]
    pub since_last_success: Option<Duration>,
    /// The status and message of the last refusal, for the operator.
    pub last_rejection: Option<String>,
}

fn seconds<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    d.map(|d| d.as_secs_f64()).serialize(s)
}

/// One Prometheus family of an otlp sink, labelled by sink: name, type, help, and its value.
pub struct Metric {
    /// Family name.
    pub name: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    /// Help text.
    pub help: &'static str,
    /// The sample's value; `None` leaves the sample out.
    pub value: fn(&OtlpStats) -> Option<f64>,
}

/// Every otlp sink family, defined once (the metrics endpoint writes one sample per sink each).
pub const METRICS: &[Metric] = &[
    Metric {
        name: "logfunnel_otlp_records_forwarded_total",
        kind: "counter",
        help: "Records the OTLP peer accepted, by sink.",
        value: |s| Some(s.records_forwarded as f64),
    },
    Metric {
        name: "logfunnel_otlp_batches_forwarded_total",
        kind: "counter",
        help: "Requests the OTLP peer accepted, by sink.",
        value: |s| Some(s.batches_forwarded as f64),
    },
    Metric {
        name: "logfunnel_otlp_retries_total",
        kind: "counter",
        help: "Failed OTLP requests that were tried again, by sink.",
        value: |s| Some(s.retries as f64),
    },
    Metric {
        name: "logfunnel_otlp_records_rejected_total",
        kind: "counter",
        help: "Records the OTLP peer refused for good (400 and other final statuses, partial success), by sink.",
        value: |s| Some(s.records_rejected as f64),
    },
    Metric {
        name: "logfunnel_otlp_buffer_records",
        kind: "gauge",
        help: "Records waiting or in flight to the OTLP peer, by sink.",
        value: |s| Some(s.buffer_records as f64),
    },
    Metric {
        name: "logfunnel_otlp_seconds_since_last_success",
        kind: "gauge",
        help: "Seconds since the OTLP peer last accepted a request (absent before the first), by sink.",
        value: |s| s.since_last_success.map(|d| d.as_secs_f64()),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_one_family_with_a_unique_name() {
        let stats = OtlpStats {
            records_forwarded: 1,
            batches_forwarded: 2,
            retries: 3,
            records_rejected: 4,
            buffer_records: 5,
            since_last_success: Some(Duration::from_millis(6500)),
            last_rejection: None,
        };
        let values: Vec<Option<f64>> = METRICS.iter().map(|m| (m.value)(&stats)).collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.5].map(Some).to_vec());
        let mut names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        assert!(METRICS
            .iter()
            .all(|m| m.name.starts_with("logfunnel_otlp_")));
        let before_first = OtlpStats::default();
        assert_eq!((METRICS[5].value)(&before_first), None);
    }
}
