//! The Prometheus text exposition format (version 0.0.4) of a [`Stats`] snapshot: each family with
//! its `# HELP` and `# TYPE` lines, in the order of one table, which is also the list in the
//! [module docs](super).

use super::{SinkStats, Stats};
use crate::gaps::SenderStats;
use crate::sink::otlp::METRICS;
use std::fmt::Write as _;

/// One sample: its labels (`{sink="app.log"}`, or empty) and its value as text.
type Sample = (String, String);

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

impl Stats {
    /// The Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let one = |v: u64| vec![(String::new(), v.to_string())];
        let by_sink = |value: fn(&SinkStats) -> u64| -> Vec<Sample> {
            self.sinks
                .iter()
                .map(|s| (labels(&[("sink", &s.name)]), value(s).to_string()))
                .collect()
        };
        let per_sender = |value: fn(&SenderStats) -> String| -> Vec<Sample> {
            self.senders
                .iter()
                .map(|s| {
                    let process = s.id.process.map(|p| p.to_string()).unwrap_or_default();
                    let id = [
                        ("sid", s.id.sid.as_str()),
                        ("host", s.id.host.as_deref().unwrap_or("")),
                        ("process", &process),
                        ("lang", s.id.lang.as_deref().unwrap_or("")),
                    ];
                    (labels(&id), value(s))
                })
                .collect()
        };
        let malformed = self
            .malformed_by_reason
            .iter()
            .map(|(r, n)| (labels(&[("reason", r)]), n.to_string()))
            .collect();
        let uptime = vec![(String::new(), format!("{:.3}", self.uptime_s))];
        #[rustfmt::skip]
        let families: [(&str, &str, &str, Vec<Sample>); 28] = [
            ("logfunnel_records_received_total", COUNTER, "Messages received, valid or not.", one(self.received)),
            ("logfunnel_records_accepted_total", COUNTER, "Messages decoded into records.", one(self.accepted)),
            ("logfunnel_records_malformed_total", COUNTER, "Messages refused by the decoder, by reason.", malformed),
            ("logfunnel_records_written_total", COUNTER, "Lines written, by sink.", by_sink(|s| s.written)),
            ("logfunnel_sink_errors_total", COUNTER, "Failed writes, flushes or reopens, by sink.", by_sink(|s| s.errors)),
            ("logfunnel_records_unrouted_total", COUNTER, "Records that no sink took.", one(self.unrouted)),
            ("logfunnel_records_lost_total", COUNTER, "Records missing according to the senders' sequence numbers.", one(self.lost)),
            ("logfunnel_gaps_total", COUNTER, "Jumps in a sender's sequence numbers.", one(self.gaps)),
            ("logfunnel_records_duplicate_total", COUNTER, "Records whose sequence number was lower than expected.", one(self.duplicates)),
            ("logfunnel_queue_depth", GAUGE, "Records waiting between receiving and writing.", one(self.queue_depth)),
            ("logfunnel_senders_tracked", GAUGE, "Senders in the gap-detection table.", one(self.senders_tracked)),
            ("logfunnel_senders_evicted_total", COUNTER, "Senders forgotten because the gap-detection table was full.", one(self.senders_evicted)),
            ("logfunnel_sender_records_total", COUNTER, "Records received, by sender.", per_sender(|s| s.received.to_string())),
            ("logfunnel_sender_lost_total", COUNTER, "Records lost according to sequence numbers, by sender.", per_sender(|s| s.lost.to_string())),
            ("logfunnel_sender_last_seen_timestamp_seconds", GAUGE, "When the sender's last record arrived (Unix time).", per_sender(|s| format!("{:.3}", s.last_seen_unix_s))),
            ("logfunnel_sender_rate_records_per_second", GAUGE, "Records per second over the last few seconds, by sender.", per_sender(|s| format!("{:.3}", s.rate_per_s))),
            ("logfunnel_tail_published_total", COUNTER, "Records re-published for live viewers.", one(self.tail_published)),
            ("logfunnel_tail_dropped_total", COUNTER, "Records not re-published because the live-view socket was full.", one(self.tail_dropped)),
            ("logfunnel_sink_dropped_total", COUNTER, "Records a sink could not write and dropped (on_error = \"drop\"), by sink.", by_sink(|s| s.dropped)),
            ("logfunnel_delivery_batches_total", COUNTER, "Acknowledged-delivery batches received.", one(self.delivery.batches)),
            ("logfunnel_delivery_duplicates_total", COUNTER, "Resent records dropped because they were already written.", one(self.delivery.duplicates)),
            ("logfunnel_delivery_refused_total", COUNTER, "Batches refused because an earlier one was lost in flight.", one(self.delivery.refused)),
            ("logfunnel_delivery_resend_requests_total", COUNTER, "Resends asked of senders.", one(self.delivery.resend_requests)),
            ("logfunnel_delivery_acks_total", COUNTER, "Acknowledgements sent.", one(self.delivery.acks)),
            ("logfunnel_delivery_state_errors_total", COUNTER, "Failed saves of the delivery state file (acks held back).", one(self.delivery.state_errors)),
            ("logfunnel_auth_rejected_total", COUNTER, "CURVE handshakes turned away: an unlisted key, the wrong server key, no CURVE.", one(self.auth.as_ref().map_or(0, |a| a.rejected))),
            ("logfunnel_auth_refused_connections_total", COUNTER, "Connections closed at once because the socket had curve.max_connections open.", one(self.auth.as_ref().map_or(0, |a| a.refused_connections))),
            ("logfunnel_uptime_seconds", GAUGE, "Seconds since the collector started.", uptime),
        ];
        // The otlp sinks' families, one table (`sink::otlp::METRICS`); only when there is one.
        let otlp = METRICS.iter().filter_map(|m| {
            let samples: Vec<Sample> = self
                .sinks
                .iter()
                .filter_map(|s| {
                    let value = (m.value)(s.otlp.as_ref()?)?;
                    Some((labels(&[("sink", &s.name)]), value.to_string()))
                })
                .collect();
            let any_otlp_sink = self.sinks.iter().any(|s| s.otlp.is_some());
            any_otlp_sink.then_some((m.name, m.kind, m.help, samples))
        });
        let mut out = String::with_capacity(4096);
        for (name, kind, help, samples) in families.into_iter().chain(otlp) {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        }
        out
    }
}

/// `{a="x",b="y"}` with Prometheus escaping (backslash, double quote, newline).
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            labels(&[("a", "x\"y\\z\nw"), ("b", "")]),
            r#"{a="x\"y\\z\nw",b=""}"#
        );
    }
}
