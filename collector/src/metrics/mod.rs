//! Counters of a running collector, the [`Stats`] snapshot built from them, the periodic stats line and
//! the Prometheus text endpoint (`GET /metrics`, HTTP/1.1 on a plain `TcpListener`): the counters and
//! the snapshot here, the text format in `prometheus.rs`, the endpoint in `http.rs`.
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `logfunnel_records_received_total` | counter | | messages received, valid or not |
//! | `logfunnel_records_accepted_total` | counter | | messages decoded into records |
//! | `logfunnel_records_malformed_total` | counter | `reason` | messages refused by the decoder |
//! | `logfunnel_records_written_total` | counter | `sink` | lines written by each sink |
//! | `logfunnel_sink_errors_total` | counter | `sink` | failed writes, flushes, reopens |
//! | `logfunnel_records_unrouted_total` | counter | | records no sink took (level/route) |
//! | `logfunnel_records_lost_total` | counter | | records missing according to `seq` |
//! | `logfunnel_gaps_total` | counter | | jumps in `seq` |
//! | `logfunnel_records_duplicate_total` | counter | | records with a `seq` lower than expected |
//! | `logfunnel_queue_depth` | gauge | | records between receiving and writing |
//! | `logfunnel_senders_tracked` | gauge | | senders in the gap table |
//! | `logfunnel_senders_evicted_total` | counter | | senders forgotten (table full) |
//! | `logfunnel_sender_records_total` | counter | `sid`, `host`, `process`, `lang` | per sender |
//! | `logfunnel_sender_lost_total` | counter | same | per sender |
//! | `logfunnel_sender_last_seen_timestamp_seconds` | gauge | same | per sender |
//! | `logfunnel_sender_rate_records_per_second` | gauge | same | per sender |
//! | `logfunnel_tail_published_total` / `logfunnel_tail_dropped_total` | counter | | live view |
//! | `logfunnel_otlp_records_forwarded_total` / `logfunnel_otlp_batches_forwarded_total` | counter | `sink` | accepted by the OTLP peer |
//! | `logfunnel_otlp_retries_total` | counter | `sink` | failed OTLP requests tried again |
//! | `logfunnel_otlp_records_rejected_total` | counter | `sink` | records the OTLP peer refused for good |
//! | `logfunnel_otlp_buffer_records` | gauge | `sink` | records waiting or in flight to the peer |
//! | `logfunnel_otlp_seconds_since_last_success` | gauge | `sink` | since the peer last accepted a request |
//! | `logfunnel_auth_rejected_total` | counter | | CURVE handshakes turned away (unlisted key, wrong server key, plaintext) |
//! | `logfunnel_auth_refused_connections_total` | counter | | connections closed at `curve.max_connections` |
//! | `logfunnel_uptime_seconds` | gauge | | since start |

mod http;
mod prometheus;

pub use http::serve;

use crate::auth::AuthCounters;
use crate::gaps::{GapTracker, SenderStats};
use crate::sink::otlp::{OtlpStats, StatsHandle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Live counters, shared by the collector's threads.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Messages received.
    pub received: AtomicU64,
    /// Messages decoded.
    pub accepted: AtomicU64,
    /// Records that went through the writer.
    pub processed: AtomicU64,
    /// Records no sink took.
    pub unrouted: AtomicU64,
    /// Records waiting between the threads.
    pub queue_depth: AtomicU64,
    /// Records sent on the tail socket.
    pub tail_published: AtomicU64,
    /// Records the tail socket refused (no room).
    pub tail_dropped: AtomicU64,
    malformed: Mutex<BTreeMap<&'static str, u64>>,
    /// One per sink, in config order.
    pub sinks: Vec<SinkCounters>,
    /// Per-sender sequence tracking.
    pub gaps: Mutex<GapTracker>,
    /// Acknowledged delivery.
    pub delivery: DeliveryCounters,
    auth: OnceLock<Arc<AuthCounters>>,
}

/// Counters of acknowledged delivery (wire v2).
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    /// v2 batches received and decoded.
    pub batches: AtomicU64,
    /// Records dropped because an earlier copy was already written (resends).
    pub duplicates: AtomicU64,
    /// Batches refused because an earlier one was lost in flight.
    pub refused: AtomicU64,
    /// Resends asked of senders.
    pub resend_requests: AtomicU64,
    /// Acks sent.
    pub acks: AtomicU64,
    /// Saves of the state file.
    pub state_saves: AtomicU64,
    /// Saves of the state file that failed (acks are held back until one works).
    pub state_errors: AtomicU64,
    /// Records given to sinks and waiting for every sink to settle them before their ack.
    pub unsettled_batches: AtomicU64,
}

/// Counters of one sink.
#[derive(Debug)]
pub struct SinkCounters {
    /// Sink label.
    pub label: String,
    /// Sink kind (`file`, ...).
    pub kind: &'static str,
    /// Lines written.
    pub written: AtomicU64,
    /// Failed operations.
    pub errors: AtomicU64,
    /// Records dropped because the sink could not write them (`on_error = "drop"`, or given up at
    /// shutdown).
    pub dropped: AtomicU64,
    /// An otlp sink's own counters, once attached ([`Metrics::attach_otlp`]).
    otlp: OnceLock<StatsHandle>,
}

impl Metrics {
    /// Counters for sinks labelled `sinks` (label, kind).
    pub fn new(sinks: Vec<(String, &'static str)>, max_senders: usize) -> Metrics {
        Metrics {
            started: Instant::now(),
            received: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            unrouted: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            tail_published: AtomicU64::new(0),
            tail_dropped: AtomicU64::new(0),
            // Every reason starts at zero, so dashboards see the series before the first bad frame.
            malformed: Mutex::new(
                logfunnel_core::DecodeError::REASONS
                    .iter()
                    .map(|r| (*r, 0))
                    .collect(),
            ),
            sinks: sinks
                .into_iter()
                .map(|(label, kind)| SinkCounters {
                    label,
                    kind,
                    written: AtomicU64::new(0),
                    errors: AtomicU64::new(0),
                    dropped: AtomicU64::new(0),
                    otlp: OnceLock::new(),
                })
                .collect(),
            gaps: Mutex::new(GapTracker::new(max_senders)),
            delivery: DeliveryCounters::default(),
            auth: OnceLock::new(),
        }
    }

    /// Reports the counters of the otlp sink at `index` (config order) from now on; a second call for
    /// the same sink is ignored.
    pub fn attach_otlp(&self, index: usize, stats: StatsHandle) {
        if let Some(s) = self.sinks.get(index) {
            let _ = s.otlp.set(stats);
        }
    }

    /// Reports the ZAP handler's counters in the snapshot (with `[curve]`; set once).
    pub fn set_auth(&self, counters: Arc<AuthCounters>) {
        let _ = self.auth.set(counters);
    }

    /// Counts `n` bad messages with `reason` (a fixed decoder reason code).
    pub fn add_malformed(&self, reason: &'static str, n: u64) {
        let mut m = self.malformed.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(reason).or_insert(0) += n;
    }

    /// A consistent-enough snapshot (each counter is read once).
    pub fn snapshot(&self) -> Stats {
        let now = Instant::now();
        let malformed_by_reason: BTreeMap<String, u64> = self
            .malformed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let (senders, lost, gaps, duplicates, tracked, evicted) = {
            let g = self.gaps.lock().unwrap_or_else(|p| p.into_inner());
            (
                g.senders(now),
                g.lost_total,
                g.gaps_total,
                g.duplicates_total,
                g.len() as u64,
                g.evicted_total,
            )
        };
        Stats {
            uptime_s: now.duration_since(self.started).as_secs_f64(),
            received: self.received.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            malformed: malformed_by_reason.values().sum(),
            malformed_by_reason,
            processed: self.processed.load(Ordering::Relaxed),
            unrouted: self.unrouted.load(Ordering::Relaxed),
            sinks: self
                .sinks
                .iter()
                .map(|s| SinkStats {
                    name: s.label.clone(),
                    kind: s.kind.to_string(),
                    written: s.written.load(Ordering::Relaxed),
                    errors: s.errors.load(Ordering::Relaxed),
                    dropped: s.dropped.load(Ordering::Relaxed),
                    otlp: s.otlp.get().map(StatsHandle::snapshot),
                })
                .collect(),
            lost,
            gaps,
            duplicates: duplicates + self.delivery.duplicates.load(Ordering::Relaxed),
            delivery: DeliveryStats {
                batches: self.delivery.batches.load(Ordering::Relaxed),
                duplicates: self.delivery.duplicates.load(Ordering::Relaxed),
                refused: self.delivery.refused.load(Ordering::Relaxed),
                resend_requests: self.delivery.resend_requests.load(Ordering::Relaxed),
                acks: self.delivery.acks.load(Ordering::Relaxed),
                state_saves: self.delivery.state_saves.load(Ordering::Relaxed),
                state_errors: self.delivery.state_errors.load(Ordering::Relaxed),
                unsettled_batches: self.delivery.unsettled_batches.load(Ordering::Relaxed),
            },
            queue_depth: self.queue_depth.load(Ordering::Relaxed),
            senders_tracked: tracked,
            senders_evicted: evicted,
            senders,
            tail_published: self.tail_published.load(Ordering::Relaxed),
            tail_dropped: self.tail_dropped.load(Ordering::Relaxed),
            auth: self.auth.get().map(|a| AuthStats {
                rejected: a.rejected(),
                refused_connections: a.refused_connections.load(Ordering::Relaxed),
            }),
        }
    }
}

/// A snapshot of a collector's counters (Python sees it as a dict).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Seconds since the collector started.
    pub uptime_s: f64,
    /// Messages received, valid or not.
    pub received: u64,
    /// Messages decoded into records.
    pub accepted: u64,
    /// Messages refused by the decoder.
    pub malformed: u64,
    /// Refused messages by reason code (`invalid_json`, `oversized`, ...).
    pub malformed_by_reason: BTreeMap<String, u64>,
    /// Records that went through the writer (routed to zero or more sinks).
    pub processed: u64,
    /// Records that no sink took (below every level, or outside every route).
    pub unrouted: u64,
    /// Per sink, in config order.
    pub sinks: Vec<SinkStats>,
    /// Records lost according to `seq`, all senders.
    pub lost: u64,
    /// Jumps in `seq`, all senders.
    pub gaps: u64,
    /// Records with a `seq` lower than expected (v1), or resent after they were written (v2).
    pub duplicates: u64,
    /// Acknowledged delivery.
    pub delivery: DeliveryStats,
    /// Records waiting between receiving and writing.
    pub queue_depth: u64,
    /// Senders in the gap table.
    pub senders_tracked: u64,
    /// Senders forgotten because the table was full.
    pub senders_evicted: u64,
    /// Per sender, most recently seen first.
    pub senders: Vec<SenderStats>,
    /// Records re-published on the tail socket.
    pub tail_published: u64,
    /// Records the tail socket had no room for.
    pub tail_dropped: u64,
    /// CURVE handshake counters, with `[curve]`.
    pub auth: Option<AuthStats>,
}

/// What the ZAP handler turned away.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthStats {
    /// Handshakes rejected: a key not in the allowlist, the wrong server key, no CURVE.
    pub rejected: u64,
    /// Connections closed at once because the socket had `curve.max_connections` open.
    pub refused_connections: u64,
}

/// Counters of one sink.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinkStats {
    /// Sink label (`name`, or the path, or the stream).
    pub name: String,
    /// Sink kind.
    pub kind: String,
    /// Lines written.
    pub written: u64,
    /// Failed writes, flushes or reopens.
    pub errors: u64,
    /// Records dropped because the sink could not write them.
    pub dropped: u64,
    /// For an otlp sink: records and batches forwarded, retries, rejections, buffer depth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp: Option<OtlpStats>,
}

/// Acknowledged delivery's counters (see [`DeliveryCounters`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryStats {
    /// v2 batches received.
    pub batches: u64,
    /// Resent records dropped as already written.
    pub duplicates: u64,
    /// Batches refused (an earlier one was lost in flight).
    pub refused: u64,
    /// Resends asked of senders.
    pub resend_requests: u64,
    /// Acks sent.
    pub acks: u64,
    /// State file saves.
    pub state_saves: u64,
    /// State file saves that failed.
    pub state_errors: u64,
    /// Batches waiting for every sink to settle them.
    pub unsettled_batches: u64,
}

impl Stats {
    /// Lines written by the sink labelled `name`.
    pub fn written(&self, name: &str) -> Option<u64> {
        self.sinks
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.written)
    }

    /// The one-line summary printed every `stats_interval_s` and at exit.
    pub fn line(&self) -> String {
        let mut s = format!(
            "received={} accepted={} malformed={} lost={} duplicates={} queue={} senders={}",
            self.received,
            self.accepted,
            self.malformed,
            self.lost,
            self.duplicates,
            self.queue_depth,
            self.senders_tracked
        );
        for sink in &self.sinks {
            let _ = write!(s, " written[{}]={}", sink.name, sink.written);
            if sink.errors > 0 {
                let _ = write!(s, " errors[{}]={}", sink.name, sink.errors);
            }
            if sink.dropped > 0 {
                let _ = write!(s, " dropped[{}]={}", sink.name, sink.dropped);
            }
            if let Some(o) = &sink.otlp {
                let n = &sink.name;
                let _ = write!(
                    s,
                    " forwarded[{n}]={} batches[{n}]={} retries[{n}]={} rejected[{n}]={} buffer[{n}]={}",
                    o.records_forwarded,
                    o.batches_forwarded,
                    o.retries,
                    o.records_rejected,
                    o.buffer_records
                );
                if let Some(d) = o.since_last_success {
                    let _ = write!(s, " last_success[{n}]={:.1}s", d.as_secs_f64());
                }
            }
        }
        let d = &self.delivery;
        if d.batches > 0 {
            let _ = write!(
                s,
                " acked_batches={} acks={} refused={}",
                d.batches, d.acks, d.refused
            );
        }
        if let Some(auth) = &self.auth {
            let _ = write!(s, " auth_rejected={}", auth.rejected);
            if auth.refused_connections > 0 {
                let _ = write!(s, " refused_connections={}", auth.refused_connections);
            }
        }
        let rate: f64 = self.senders.iter().map(|x| x.rate_per_s).sum();
        let _ = write!(s, " rate={rate:.0}/s");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_help_type_and_values() {
        let m = Metrics::new(vec![("app.log".into(), "file")], 10);
        m.received.fetch_add(5, Ordering::Relaxed);
        m.add_malformed("invalid_json", 2);
        m.sinks[0].written.fetch_add(3, Ordering::Relaxed);
        let text = m.snapshot().to_prometheus();
        assert!(text.contains("# TYPE logfunnel_records_received_total counter\n"));
        assert!(text.contains("logfunnel_records_received_total 5\n"));
        assert!(text.contains("logfunnel_records_malformed_total{reason=\"invalid_json\"} 2\n"));
        assert!(text.contains("logfunnel_records_written_total{sink=\"app.log\"} 3\n"));
        let s = m.snapshot();
        assert_eq!(s.malformed, 2);
        assert_eq!(s.written("app.log"), Some(3));
        assert!(s.line().contains("written[app.log]=3"));
        assert!(
            !text.contains("logfunnel_otlp_"),
            "no otlp sink, no otlp family"
        );
    }

    #[test]
    fn an_attached_otlp_sink_shows_in_the_line_and_in_prometheus() {
        use crate::sink::otlp::{OtlpConfig, OtlpForwarder, METRICS};
        use crate::warn::Warner;
        use std::sync::Arc;
        use std::time::Duration;
        let m = Metrics::new(vec![("a.log".into(), "file"), ("otel".into(), "otlp")], 10);
        // Nobody listens on port 9: the record stays buffered, nothing is forwarded.
        let config = OtlpConfig::new("http://127.0.0.1:9/v1/logs");
        let warner = Arc::new(Warner::new(Duration::from_secs(3600)));
        let otlp = OtlpForwarder::start(&config, "otel", warner, None).unwrap();
        otlp.try_push(&logfunnel_core::RecordView::new("app", 20, "hi", 1.7e9))
            .unwrap();
        m.attach_otlp(1, otlp.stats_handle());
        let s = m.snapshot();
        assert_eq!(s.sinks[0].otlp, None);
        let o = s.sinks[1].otlp.as_ref().unwrap();
        assert_eq!((o.records_forwarded, o.buffer_records), (0, 1));
        let line = s.line();
        assert!(
            line.contains("forwarded[otel]=0 batches[otel]=0") && line.contains("buffer[otel]=1"),
            "{line}"
        );
        assert!(!line.contains("last_success[otel]"), "{line}");
        let text = s.to_prometheus();
        for family in METRICS {
            assert!(text.contains(&format!("# TYPE {} {}\n", family.name, family.kind)));
        }
        assert!(
            text.contains("logfunnel_otlp_buffer_records{sink=\"otel\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("logfunnel_otlp_records_forwarded_total{sink=\"otel\"} 0\n"));
        assert!(
            !text.contains("logfunnel_otlp_seconds_since_last_success{"),
            "{text}"
        );
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("logfunnel_otlp") && l.contains("a.log")),
            "{text}"
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["sinks"][1]["otlp"]["buffer_records"], 1);
        assert!(json["sinks"][0].get("otlp").is_none());
        assert_eq!(otlp.close(Duration::ZERO).unsettled, 1);
    }
}
