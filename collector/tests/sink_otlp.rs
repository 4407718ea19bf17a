//! The otlp sink against real peers: an OpenTelemetry Collector built from `tools/otelcol` (records
//! arrive with every mapped field; a peer stopped for 5 s loses nothing; TLS with a self-signed
//! CA), and a scripted HTTP server for the answers a Collector cannot be made to give (503, 400).

mod otlp_support;

use logfunnel_collector::sink::otlp::batch::encoded_len;
use logfunnel_collector::sink::otlp::mapping::map_record;
use logfunnel_collector::sink::otlp::{
    HeaderConfig, OtlpConfig, OtlpForwarder, PushError, Settlement,
};
use logfunnel_collector::warn::Warner;
use logfunnel_core::RecordView;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use otlp_support::otelcol::{free_port, Otelcol, ServerTls};
use otlp_support::peer::{Answer, Peer};
use otlp_support::{
    bodies, body_counts, check_expect, decode, tls::make_certificates, vectors, wait_for,
};
use prost::Message;
use std::collections::BTreeMap;
use std::sync::{mpsc, Arc};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn warner() -> Arc<Warner> {
    Arc::new(Warner::new(Duration::ZERO))
}

/// A config that batches and retries quickly, so the tests run fast (delays are not asserted).
fn fast(endpoint: String) -> OtlpConfig {
    OtlpConfig {
        batch_timeout_ms: 10,
        retry_initial_ms: 20,
        retry_max_ms: 300,
        timeout_ms: 5_000,
        ..OtlpConfig::new(endpoint)
    }
}

fn http(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1/logs")
}

/// Pushes [`numbered`] records `range`, each taken.
fn push_numbered(otlp: &OtlpForwarder, range: std::ops::Range<usize>) {
    for i in range {
        otlp.try_push(&numbered(i)).unwrap();
    }
}

fn numbered(i: usize) -> RecordView<'static> {
    let mut v = RecordView::new("app", 20, "", 1_764_172_693.0 + i as f64);
    v.msg = format!("record {i:04}").into();
    v.seq = Some(i as u64);
    v
}

#[test]
fn records_arrive_at_a_real_collector_with_every_mapped_field() {
    let dir = tempfile::tempdir().unwrap();
    let col = Otelcol::start_plain(dir.path());
    let doc = vectors();
    let config = OtlpConfig {
        service_name: doc["service_name"].as_str().unwrap().to_string(),
        ..fast(http(col.port))
    };
    let otlp = OtlpForwarder::start(&config, "otel", warner(), None).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    // One at a time, so each arrival is known to be that case's record.
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let position = otlp.try_push(&decode(&case["record"])).unwrap();
        assert_eq!(position, i as u64);
        assert!(otlp.wait_settled(position, LONG), "{name} not accepted");
        let records = col.wait_records(i + 1, LONG);
        assert_eq!(records.len(), i + 1, "{name}");
        let (resource, record) = &records[i];
        check_expect(name, &case["expect"], record, resource);
        assert!(
            record["observedTimeUnixNano"].as_str().is_some(),
            "{name}: observed time"
        );
    }
    let report = otlp.close(LONG);
    assert_eq!(report.unsettled, 0);
    assert_eq!(report.stats.records_forwarded, cases.len() as u64);
    assert_eq!(report.stats.batches_forwarded, cases.len() as u64);
    assert_eq!(
        (report.stats.records_rejected, report.stats.buffer_records),
        (0, 0)
    );
    assert!(report.stats.since_last_success.is_some());
}

#[test]
fn a_collector_stopped_for_5s_and_restarted_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut first = Otelcol::start(dir.path(), port, &dir.path().join("first.json"), None);
    let (acks, settled) = mpsc::channel();
    let config = OtlpConfig {
        batch_max_records: 50,
        ..fast(http(port))
    };
    let otlp = OtlpForwarder::start(&config, "otel", warner(), Some(acks)).unwrap();
    push_numbered(&otlp, 0..100);
    assert!(otlp.wait_settled(99, LONG));
    first.wait_records(100, LONG);
    first.stop();

    push_numbered(&otlp, 100..200);
    wait_for("a failed attempt", LONG, || {
        (otlp.stats().retries > 0).then_some(())
    });
    // Nothing is acknowledged while the peer is away.
    assert_eq!(otlp.settled_through(), 100);
    assert_eq!(otlp.stats().buffer_records, 100);
    std::thread::sleep(Duration::from_secs(5)); // the outage itself
    assert_eq!(otlp.settled_through(), 100);

    let second = Otelcol::start(dir.path(), port, &dir.path().join("second.json"), None);
    assert!(
        otlp.wait_settled(199, LONG),
        "not settled after the restart"
    );
    second.wait_records(100, LONG);
    let mut all = first.records();
    all.extend(second.records());
    let counts = body_counts(&all);
    let want: BTreeMap<String, usize> = (0..200).map(|i| (format!("record {i:04}"), 1)).collect();
    assert_eq!(counts, want, "each record exactly once");

    // Settlements: in order, cumulative, covering every record, none rejected.
    let report = otlp.close(LONG);
    let settlements: Vec<Settlement> = settled.try_iter().collect();
    assert!(settlements.windows(2).all(|w| w[0].through < w[1].through));
    assert_eq!(settlements.last().unwrap().through, 200);
    assert_eq!(settlements.iter().map(|s| s.accepted).sum::<u64>(), 200);
    assert_eq!(settlements.iter().map(|s| s.rejected).sum::<u64>(), 0);
    assert_eq!((report.unsettled, report.stats.records_forwarded), (0, 200));
    assert!(report.stats.retries > 0);
}

#[test]
fn a_503_is_retried_until_the_peer_takes_the_batch() {
    let peer = Peer::start(|n| match n {
        0 | 2 => Answer::status(503),
        1 => Answer {
            headers: vec![("retry-after", "0".into())],
            ..Answer::status(503)
        },
        _ => Answer::ok(),
    });
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "Bearer from-file\n").unwrap();
    std::env::set_var("LOGFUNNEL_SINK_OTLP_TEST_KEY", "from-env");
    let config = OtlpConfig {
        batch_max_records: 10,
        batch_timeout_ms: 60_000, // the batch goes when it has 10 records
        headers: vec![
            HeaderConfig {
                name: "authorization".into(),
                value: None,
                value_file: Some(token_file),
                value_env: None,
            },
            HeaderConfig {
                name: "x-api-key".into(),
                value: None,
                value_file: None,
                value_env: Some("LOGFUNNEL_SINK_OTLP_TEST_KEY".into()),
            },
        ],
        ..fast(peer.endpoint())
    };
    let (acks, settled) = mpsc::channel();
    let otlp = OtlpForwarder::start(&config, "scripted", warner(), Some(acks)).unwrap();
    push_numbered(&otlp, 0..10);
    assert_eq!(
        settled.recv_timeout(LONG).unwrap(),
        Settlement {
            through: 10,
            accepted: 10,
            rejected: 0
        }
    );
    let received = peer.received();
    assert_eq!(received.len(), 4, "three 503s, then the 200");
    let want: Vec<String> = (0..10).map(|i| format!("record {i:04}")).collect();
    for r in &received {
        assert_eq!(r.bodies(), want, "the same batch each time");
        assert_eq!(r.request_line, "POST /v1/logs HTTP/1.1");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("authorization"), Some("Bearer from-file"));
        assert_eq!(r.header("x-api-key"), Some("from-env"));
    }
    let stats = otlp.close(LONG).stats;
    assert_eq!(
        (
            stats.retries,
            stats.records_forwarded,
            stats.batches_forwarded
        ),
        (3, 10, 1)
    );
    assert_eq!(stats.records_rejected, 0);
}

#[test]
fn a_400_is_counted_reported_and_not_retried() {
    let peer = Peer::start(|n| match n {
        0 => Answer {
            // google.rpc.Status { code: 3, message: "invalid log record" }, as a Collector sends it.
            body: [&[0x08, 0x03, 0x12, 18][..], b"invalid log record"].concat(),
            ..Answer::status(400)
        },
        1 => Answer {
            body: ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: 1,
                    error_message: "one bad".into(),
                }),
            }
            .encode_to_vec(),
            ..Answer::ok()
        },
        _ => Answer::ok(),
    });
    let config = OtlpConfig {
        batch_max_records: 5,
        batch_timeout_ms: 60_000,
        ..fast(peer.endpoint())
    };
    let (acks, settled) = mpsc::channel();
    let otlp = OtlpForwarder::start(&config, "scripted", warner(), Some(acks)).unwrap();
    push_numbered(&otlp, 0..5);
    let first = settled.recv_timeout(LONG).unwrap();
    assert_eq!(
        first,
        Settlement {
            through: 5,
            accepted: 0,
            rejected: 5
        }
    );
    let stats = otlp.stats();
    assert_eq!(
        (
            stats.records_rejected,
            stats.retries,
            stats.records_forwarded
        ),
        (5, 0, 0)
    );
    let why = stats.last_rejection.unwrap();
    assert!(
        why.contains("HTTP 400") && why.contains("invalid log record"),
        "{why}"
    );

    // The refused batch is not sent again: the next request holds only the next records.
    push_numbered(&otlp, 5..10);
    let second = settled.recv_timeout(LONG).unwrap();
    assert_eq!(
        second,
        Settlement {
            through: 10,
            accepted: 4,
            rejected: 1
        }
    );
    let received = peer.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[1].bodies(),
        (5..10)
            .map(|i| format!("record {i:04}"))
            .collect::<Vec<_>>()
    );
    let stats = otlp.close(LONG).stats;
    assert_eq!(
        (
            stats.records_rejected,
            stats.records_forwarded,
            stats.retries
        ),
        (6, 4, 0)
    );
    assert!(stats.last_rejection.unwrap().contains("one bad"));
}

#[test]
fn tls_with_a_self_signed_ca() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certificates(dir.path());
    let tls = ServerTls {
        cert: &certs.cert,
        key: &certs.key,
    };
    let col = Otelcol::start(
        dir.path(),
        free_port(),
        &dir.path().join("out.json"),
        Some(tls),
    );
    let endpoint = format!("https://127.0.0.1:{}/v1/logs", col.port);

    let trusting = OtlpConfig {
        ca_file: Some(certs.ca.clone()),
        ..fast(endpoint.clone())
    };
    let otlp = OtlpForwarder::start(&trusting, "tls", warner(), None).unwrap();
    push_numbered(&otlp, 0..3);
    assert!(otlp.wait_settled(2, LONG));
    let records = col.wait_records(3, LONG);
    assert_eq!(body_counts(&records).len(), 3);
    assert_eq!(otlp.close(LONG).unsettled, 0);

    // Without the CA the peer is not trusted: nothing is delivered, nothing is acknowledged.
    let untrusting =
        OtlpForwarder::start(&fast(endpoint), "tls-untrusted", warner(), None).unwrap();
    untrusting.try_push(&numbered(3)).unwrap();
    wait_for("a failed handshake", LONG, || {
        (untrusting.stats().retries >= 2).then_some(())
    });
    assert_eq!(untrusting.settled_through(), 0);
    let report = untrusting.close(Duration::ZERO);
    assert_eq!((report.unsettled, report.stats.records_forwarded), (1, 0));
    assert_eq!(col.records().len(), 3);
}

#[test]
fn a_full_buffer_refuses_until_the_peer_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nobody listens yet
    let config = OtlpConfig {
        buffer_max_records: 8,
        batch_max_records: 4,
        ..fast(http(port))
    };
    let otlp = OtlpForwarder::start(&config, "otel", warner(), None).unwrap();
    for i in 0..8 {
        assert_eq!(otlp.try_push(&numbered(i)), Ok(i as u64));
    }
    assert_eq!(otlp.try_push(&numbered(8)), Err(PushError::Full));
    assert_eq!(
        otlp.push_timeout(&numbered(8), Duration::from_millis(50)),
        Err(PushError::Full)
    );
    assert_eq!(otlp.stats().buffer_records, 8);

    let col = Otelcol::start(dir.path(), port, &dir.path().join("out.json"), None);
    // The buffer drains once the peer is there, and takes records again.
    assert_eq!(otlp.push_timeout(&numbered(8), LONG), Ok(8));
    assert!(otlp.wait_settled(8, LONG));
    col.wait_records(9, LONG);
    assert_eq!(body_counts(&col.records()).len(), 9);
    let report = otlp.close(LONG);
    assert_eq!((report.unsettled, report.stats.records_forwarded), (0, 9));
}

#[test]
fn closing_gives_up_after_its_timeout_and_reports_the_unsettled() {
    let otlp = OtlpForwarder::start(&fast(http(free_port())), "otel", warner(), None).unwrap();
    push_numbered(&otlp, 0..3);
    wait_for("a failed attempt", LONG, || {
        (otlp.stats().retries > 0).then_some(())
    });
    let report = otlp.close(Duration::from_millis(100));
    assert_eq!(report.unsettled, 3);
    assert_eq!(report.stats.records_forwarded, 0);
    assert!(report.stats.since_last_success.is_none());
}

#[test]
fn batches_are_bounded_by_bytes_and_closing_sends_the_rest() {
    let text = |i: usize, len: usize| format!("record {i:04} {}", "x".repeat(len));
    let records: Vec<RecordView<'static>> = [300, 300, 300, 2000, 300, 300, 10]
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let mut v = numbered(i);
            v.msg = text(i, len).into();
            v
        })
        .collect();
    // Room for two short records and the tiny one, not for three short ones.
    let size = |v: &RecordView<'_>| encoded_len(&map_record(v, "svc", 1));
    let max = 2 * size(&records[0]) + size(&records[6]);
    assert!(3 * size(&records[0]) > max && size(&records[3]) > max);

    let peer = Peer::start(|_| Answer::ok());
    let config = OtlpConfig {
        batch_max_records: 100,
        batch_max_bytes: max,
        batch_timeout_ms: 600_000, // only size or closing sends a batch here
        ..fast(peer.endpoint())
    };
    let otlp = OtlpForwarder::start(&config, "scripted", warner(), None).unwrap();
    for v in &records {
        otlp.try_push(v).unwrap();
    }
    let report = otlp.close(LONG);
    assert_eq!((report.unsettled, report.stats.records_forwarded), (0, 7));
    let batches: Vec<Vec<String>> = peer.received().iter().map(|r| r.bodies()).collect();
    // [0, 1] is full; [2] cannot take 3; 3 is larger than a batch and goes alone; [4, 5, 6] is
    // below the bound and goes at close.
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 1, 1, 3]);
    let sent: Vec<String> = records.iter().map(|v| v.msg.to_string()).collect();
    assert_eq!(batches.concat(), sent, "in push order");
}

/// The forwarder as a collector sink: a full buffer keeps the record and says WouldBlock, flush
/// hands the kept ones over once there is room, `unsettled` counts everything the peer has not
/// accepted, and the peer receives every record once, in the order the writer gave them.
#[test]
fn the_sink_keeps_what_the_full_buffer_refuses_and_settles_in_order() {
    use logfunnel_collector::sink::otlp::OtlpSink;
    use logfunnel_collector::sink::Sink;
    use std::io::ErrorKind;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nobody listens yet
    let config = OtlpConfig {
        buffer_max_records: 4,
        batch_max_records: 4,
        ..fast(http(port))
    };
    let mut sink = OtlpSink::open(&config, "otel", warner()).unwrap();
    for i in 0..4 {
        sink.write_record(&numbered(i), "ignored").unwrap();
    }
    for i in 4..7 {
        let e = sink.write_record(&numbered(i), "ignored").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        assert!(e.to_string().contains(&http(port)), "{e}");
    }
    assert_eq!((sink.kept(), sink.unsettled()), (3, 7));
    assert_eq!(sink.flush().unwrap_err().kind(), ErrorKind::WouldBlock);
    let stats = sink.stats_handle().unwrap();
    wait_for("a failed attempt", LONG, || {
        (stats.snapshot().retries > 0).then_some(())
    });
    assert_eq!(
        sink.unsettled(),
        7,
        "nothing settles while the peer is away"
    );

    let col = Otelcol::start(dir.path(), port, &dir.path().join("out.json"), None);
    wait_for("the kept records to go in", LONG, || sink.flush().ok());
    sink.write_record(&numbered(7), "ignored")
        .unwrap_or_else(|e| {
            assert_eq!(e.kind(), ErrorKind::WouldBlock); // kept behind the others, sent by a flush
        });
    wait_for("every record settled", LONG, || {
        let _ = sink.flush();
        (sink.unsettled() == 0).then_some(())
    });
    assert_eq!(sink.kept(), 0);
    let records = col.wait_records(8, LONG);
    let want: Vec<String> = (0..8).map(|i| format!("record {i:04}")).collect();
    assert_eq!(bodies(&records), want, "each once, in the writer's order");
    assert_eq!(stats.snapshot().records_forwarded, 8);
}

/// `on_error = "drop"`: the writer discards what the sink kept; what is already in the buffer still
/// goes, and closing (dropping the sink) sends what is buffered.
#[test]
fn discarding_drops_the_kept_records_and_closing_sends_the_buffer() {
    use logfunnel_collector::sink::otlp::OtlpSink;
    use logfunnel_collector::sink::Sink;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = OtlpConfig {
        buffer_max_records: 2,
        batch_max_records: 2,
        batch_timeout_ms: 600_000, // only a full batch or closing sends
        ..fast(http(port))
    };
    let mut sink = OtlpSink::open(&config, "otel", warner()).unwrap();
    sink.write_record(&numbered(0), "").unwrap();
    assert!(sink.write_record(&numbered(1), "").is_ok());
    assert!(sink.write_record(&numbered(2), "").is_err());
    assert!(sink.write_record(&numbered(3), "").is_err());
    assert_eq!(sink.discard_unsettled(), 2);
    assert_eq!((sink.kept(), sink.unsettled()), (0, 2));
    let col = Otelcol::start(dir.path(), port, &dir.path().join("out.json"), None);
    drop(sink);
    let records = col.wait_records(2, LONG);
    assert_eq!(
        body_counts(&records).into_keys().collect::<Vec<_>>(),
        ["record 0000", "record 0001"]
    );
}
