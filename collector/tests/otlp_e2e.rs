//! The `otlp` sink end to end: the real `logfunnel-collector` binary, configured with an otlp sink
//! (TOML or `--otlp`), forwards to a real OpenTelemetry Collector (`tools/otelcol`, file exporter)
//! what real senders send: the shared vectors as raw frames and records from the Rust sender arrive
//! with every mapped field; the Collector stopped for 5 s and restarted loses nothing; closing with
//! the peer away reports what was not accepted; `--check-config` reads the CA file and the header
//! values and names the key when one cannot be read.
//!
//! The Collector is built by `tools/otelcol/build.sh` on first use; without Go or the module proxy
//! these tests fail (they never skip).

mod otlp_support;
mod support;

use logfunnel_core::{FlushStatus, Record, SocketMode};
use otlp_support::otelcol::Otelcol;
use otlp_support::{attribute_map, bodies, body_counts, check_expect, vectors, wait_for};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::proc::{assert_config_refused, run, serial, Proc};
use support::{close, sender, tempdir, RawPush};

const LONG: Duration = Duration::from_secs(60);

fn ipc(dir: &Path, name: &str) -> String {
    format!("ipc://{}", dir.join(name).display())
}

/// SIGTERM; the collector exits 0 with no record left "not accepted by" the peer.
fn stop_with_nothing_lost(p: Proc) {
    let (code, stderr) = p.stop();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        !stderr.iter().any(|l| l.contains("not accepted by")),
        "{stderr:?}"
    );
}

fn otlp_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1/logs")
}

/// A config receiving on SUB and PULL ipc endpoints in `dir`, with one otlp sink to `endpoint`
/// that batches and retries quickly, plus `extra` keys for that sink.
fn write_config(dir: &Path, endpoint: &str, extra: &str) -> PathBuf {
    let text = format!(
        "bind = [\"{}\"]\npull = [\"{}\"]\nflush_interval_ms = 20\n\n[[sink]]\nkind = \"otlp\"\n\
         name = \"otel\"\nendpoint = \"{}\"\nbatch_timeout_ms = 20\nretry_initial_ms = 20\n\
         retry_max_ms = 300\n{extra}",
        ipc(dir, "sub"),
        ipc(dir, "pull"),
        endpoint
    );
    let path = dir.join("collector.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Logs records `from..to` (`"record 0042"`) and returns the sender, which holds each record until
/// the collector acknowledges it: only once the OTLP peer has accepted it (end to end).
fn log_numbered(endpoint: &str, from: usize, to: usize) -> logfunnel_core::Sender {
    let s = sender(endpoint, SocketMode::Xpub);
    for i in from..to {
        assert_eq!(
            s.log(Record::new("app", 20, format!("record {i:04}"))),
            logfunnel_core::Outcome::Queued
        );
    }
    s
}

#[test]
fn the_shared_vectors_arrive_through_the_binary_with_every_mapped_field() {
    let _serial = serial();
    let dir = tempdir();
    let col = Otelcol::start_plain(dir.path());
    let doc = vectors();
    let service = doc["service_name"].as_str().unwrap();
    let config = write_config(
        dir.path(),
        &otlp_url(col.port),
        &format!("service_name = \"{service}\"\n"),
    );
    let p = Proc::spawn(&["--config", config.to_str().unwrap()], dir.path());

    // Raw v1 frames, as a cookbook sender would send them, so each vector arrives as written.
    let cases = doc["cases"].as_array().unwrap();
    let push = RawPush::connect(&ipc(dir.path(), "pull"));
    for case in cases {
        push.send(&[&serde_json::to_vec(&case["record"]).unwrap()]);
    }
    let records = col.wait_records(cases.len(), LONG);
    assert_eq!(records.len(), cases.len());
    // One socket, one writer, one request at a time: they arrive in the order sent.
    for (case, (resource, record)) in cases.iter().zip(&records) {
        let name = case["name"].as_str().unwrap();
        check_expect(name, &case["expect"], record, resource);
        assert!(record["observedTimeUnixNano"].as_str().is_some(), "{name}");
    }
    stop_with_nothing_lost(p);
}

#[test]
fn records_from_the_rust_sender_arrive_with_every_mapped_field() {
    let _serial = serial();
    let dir = tempdir();
    let col = Otelcol::start_plain(dir.path());
    // The flag, not a config table, this time.
    let p = Proc::spawn(
        &[
            "--bind",
            &ipc(dir.path(), "sub"),
            "--otlp",
            &otlp_url(col.port),
            "--level",
            "INFO",
        ],
        dir.path(),
    );
    assert!(p.has_line(&format!("forwarding to {} (otlp)", otlp_url(col.port))));

    let s = sender(&ipc(dir.path(), "sub"), SocketMode::Xpub);
    let mut r = Record::new("app.db", 40, "query failed");
    r.created = 1_764_172_693.25;
    r.pathname = Some("/srv/app/db.py".into());
    r.lineno = Some(42);
    r.func_name = Some("query".into());
    r.process = Some(4242);
    r.process_name = Some("MainProcess".into());
    r.thread = Some(140_000_000_001);
    r.thread_name = Some("worker-1".into());
    r.exc_text = Some(
        "Traceback (most recent call last):\n  File \"db.py\", line 42\nValueError: bad id\n"
            .into(),
    );
    r.stack_info = Some("Stack (most recent call last):\n  File \"db.py\"".into());
    r.push_extra("user", json!("bob"));
    r.push_extra("tries", json!(3));
    r.push_extra("otelTraceID", json!("4bf92f3577b34da6a3ce929d0e0e4736"));
    r.push_extra("otelSpanID", json!("00f067aa0ba902b7"));
    r.push_extra("otelTraceSampled", json!(true));
    r.push_extra("otelServiceName", json!("shop"));
    s.log(r);
    s.log(Record::new("app.db", 10, "below --level: not forwarded"));
    s.log(Record::new("app", 20, "the last one"));
    close(&s);

    let records = col.wait_records(2, LONG);
    assert_eq!(records.len(), 2, "{records:?}");
    let (resource, record) = &records[0];
    let res = attribute_map(resource);
    assert_eq!(res["service.name"], json!({"stringValue": "shop"}));
    assert_eq!(res["process.pid"], json!({"intValue": "4242"}));
    assert!(res["host.name"]["stringValue"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));
    assert_eq!(record["timeUnixNano"], "1764172693250000000");
    assert_eq!(record["severityNumber"], 17);
    assert_eq!(record["severityText"], "ERROR");
    assert_eq!(record["body"], json!({"stringValue": "query failed"}));
    assert_eq!(record["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(record["spanId"], "00f067aa0ba902b7");
    assert_eq!(record["flags"], 1);
    let attrs = attribute_map(&record["attributes"]);
    let s = |v: &str| json!({ "stringValue": v });
    let i = |v: i64| json!({ "intValue": v.to_string() });
    let want = [
        ("logger.name", s("app.db")),
        ("code.file.path", s("/srv/app/db.py")),
        ("code.line.number", i(42)),
        ("code.function.name", s("query")),
        (
            "code.stacktrace",
            s("Stack (most recent call last):\n  File \"db.py\""),
        ),
        ("thread.id", i(140_000_000_001)),
        ("thread.name", s("worker-1")),
        ("exception.type", s("ValueError")),
        ("exception.message", s("bad id")),
        ("logfunnel.process.name", s("MainProcess")),
        ("logfunnel.lang", s("rust")),
        ("logfunnel.seq", i(0)),
        ("user", s("bob")),
        ("tries", i(3)),
    ];
    for (key, value) in want {
        assert_eq!(attrs.get(key), Some(&value), "attribute {key} in {attrs:?}");
    }
    assert!(attrs["exception.stacktrace"]["stringValue"]
        .as_str()
        .unwrap()
        .ends_with("ValueError: bad id\n"));
    assert!(attrs["logfunnel.sid"]["stringValue"].as_str().is_some());
    for key in [
        "otelTraceID",
        "otelSpanID",
        "otelTraceSampled",
        "otelServiceName",
    ] {
        assert!(!attrs.contains_key(key), "{key} became an attribute");
    }
    // The second record: the sink's default service name, the sender's seq 2 (seq 1 was filtered).
    let (resource, record) = &records[1];
    assert_eq!(
        attribute_map(resource)["service.name"],
        json!({"stringValue": "unknown_service"})
    );
    assert_eq!(record["body"], json!({"stringValue": "the last one"}));
    assert_eq!(attribute_map(&record["attributes"])["logfunnel.seq"], i(2));

    let (code, stderr) = p.stop();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped: received=3 accepted=3")
                && l.contains("written[http://127.0.0.1:")),
        "{stderr:?}"
    );
}

#[test]
fn a_collector_stopped_for_5s_and_restarted_loses_nothing() {
    let _serial = serial();
    let dir = tempdir();
    let port = otlp_support::otelcol::free_port();
    let mut first = Otelcol::start(dir.path(), port, &dir.path().join("first.json"), None);
    let config = write_config(dir.path(), &otlp_url(port), "batch_max_records = 50\n");
    let p = Proc::spawn(&["--config", config.to_str().unwrap()], dir.path());
    let sub = ipc(dir.path(), "sub");

    let before = log_numbered(&sub, 0, 100);
    first.wait_records(100, LONG);
    close(&before);
    assert_eq!(before.stats().acknowledged, 100);
    first.stop();

    let during = log_numbered(&sub, 100, 200);
    wait_for("a failed attempt", LONG, || {
        p.has_line("sink otel: sending").then_some(())
    });
    std::thread::sleep(Duration::from_secs(5)); // the outage itself
                                                // Nothing the peer has not accepted is acknowledged: the sender still holds the records.
    let held = during.flush(Duration::from_millis(200));
    assert!(matches!(held, FlushStatus::TimedOut { .. }), "{held:?}");
    assert_eq!(during.stats().acknowledged, 0);
    let second = Otelcol::start(dir.path(), port, &dir.path().join("second.json"), None);
    second.wait_records(100, LONG);
    close(&during);
    assert_eq!(during.stats().acknowledged, 100);

    stop_with_nothing_lost(p);
    let mut all = first.records();
    all.extend(second.records());
    let want: BTreeMap<String, usize> = (0..200).map(|i| (format!("record {i:04}"), 1)).collect();
    assert_eq!(body_counts(&all), want, "each record exactly once");
}

/// More records than the sink's buffer holds while the peer is away: the writer's sink keeps the
/// rest and hands them over as the buffer drains, the last ones while closing; every record
/// arrives once, in the order sent.
#[test]
fn records_beyond_a_full_buffer_are_kept_and_all_arrive_in_order() {
    let _serial = serial();
    let dir = tempdir();
    let port = otlp_support::otelcol::free_port(); // nobody listens yet
    let extra = "buffer_max_records = 16\nbatch_max_records = 8\n";
    let config = write_config(dir.path(), &otlp_url(port), extra);
    let p = Proc::spawn(&["--config", config.to_str().unwrap()], dir.path());
    let s = log_numbered(&ipc(dir.path(), "sub"), 0, 200);
    wait_for("the full buffer to be reported", LONG, || {
        p.has_line("the otlp buffer for").then_some(())
    });
    let col = Otelcol::start(dir.path(), port, &dir.path().join("out.json"), None);
    close(&s);
    assert_eq!(s.stats().acknowledged, 200);
    stop_with_nothing_lost(p);
    let records = col.wait_records(200, LONG);
    let want: Vec<String> = (0..200).map(|i| format!("record {i:04}")).collect();
    assert_eq!(bodies(&records), want);
}

#[test]
fn closing_with_the_peer_away_reports_what_was_not_accepted() {
    let _serial = serial();
    let dir = tempdir();
    let port = otlp_support::otelcol::free_port(); // nobody listens
    let config = write_config(dir.path(), &otlp_url(port), "timeout_ms = 300\n");
    let p = Proc::spawn(&["--config", config.to_str().unwrap()], dir.path());
    let s = log_numbered(&ipc(dir.path(), "sub"), 0, 3);
    wait_for("a failed attempt", LONG, || {
        p.has_line("sink otel: sending 3 record(s) failed")
            .then_some(())
    });
    // Never acknowledged: the peer never took them.
    let held = s.close(Duration::from_millis(100));
    assert!(matches!(held, FlushStatus::TimedOut { .. }), "{held:?}");
    assert_eq!(s.stats().unacknowledged, 3);
    let (code, stderr) = p.stop();
    assert_eq!(code, 0, "{stderr:?}");
    let want = format!(
        "sink otel: 3 record(s) not accepted by {} within 300 ms of closing",
        otlp_url(port)
    );
    assert!(stderr.iter().any(|l| l.contains(&want)), "{stderr:?}");
}

#[test]
fn check_config_reads_the_ca_file_and_headers_and_names_the_key() {
    let _serial = serial();
    let dir = tempdir();
    let token = dir.path().join("token");
    std::fs::write(&token, "Bearer t\n").unwrap();
    let headers = format!(
        "headers = [{{ name = \"authorization\", value_file = \"{}\" }}, {{ name = \"x-key\", value = \"k\" }}]\n",
        token.display()
    );
    let config = write_config(
        dir.path(),
        &otlp_url(4318),
        &format!("service_name = \"shop\"\n{headers}"),
    );
    let out = run(
        &["--config", config.to_str().unwrap(), "--check-config"],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!(
        "  sink[0] otlp: otel (level >= 0) endpoint {} service_name \"shop\"\n",
        otlp_url(4318)
    );
    assert!(text.contains(&want), "{text:?} lacks {want:?}");

    let https = "https://127.0.0.1:4318/v1/logs";
    let not_a_pem = dir.path().join("ca.pem");
    std::fs::write(&not_a_pem, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing");
    let cases = [
        (
            otlp_url(4318),
            format!(
                "headers = [{{ name = \"a\", value_file = \"{}\" }}]\n",
                missing.display()
            ),
            format!(
                "sink[0].headers[0].value_file: cannot read {}",
                missing.display()
            ),
        ),
        (
            otlp_url(4318),
            "headers = [{ name = \"a\", value_env = \"LOGFUNNEL_OTLP_E2E_UNSET\" }]\n".to_string(),
            "sink[0].headers[0].value_env: LOGFUNNEL_OTLP_E2E_UNSET".to_string(),
        ),
        (
            https.to_string(),
            format!("ca_file = \"{}\"\n", missing.display()),
            format!("sink[0].ca_file: cannot read {}", missing.display()),
        ),
        (
            https.to_string(),
            format!("ca_file = \"{}\"\n", not_a_pem.display()),
            format!(
                "sink[0].ca_file: {} holds no certificate",
                not_a_pem.display()
            ),
        ),
        (
            otlp_url(4318),
            "buffer_max_records = 10\n".to_string(),
            "sink[0].buffer_max_records: must be at least batch_max_records (512)".to_string(),
        ),
        (
            otlp_url(4318),
            "path = \"a.log\"\n".to_string(),
            "sink[0].path: not used by kind \"otlp\" (use endpoint)".to_string(),
        ),
    ];
    for (endpoint, extra, want) in &cases {
        let config = write_config(dir.path(), endpoint, extra);
        let want = format!("logfunnel-collector: error: {want}");
        assert_config_refused(&config, dir.path(), &[&want]);
    }
    let out = run(
        &["--bind", &ipc(dir.path(), "s"), "--otlp", "ftp://x"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: --otlp: \"ftp://x\" is not an http"),
        "{err}"
    );
    assert!(!dir.path().join("a.log").exists());
}
