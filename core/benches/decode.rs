//! Decoder throughput on typical frames (no harness: `cargo bench -p logfunnel-core --bench decode`).
//! Prints records per second for each frame shape; the collector's target is about 1M records/s on
//! 2 cores, so one core should decode well over 500k/s.

use logfunnel_core::decode::{decode_frame, decode_frames, decode_view, DecodeLimits};
use logfunnel_core::Record;
use std::hint::black_box;
use std::time::Instant;

fn v1_frame() -> Vec<u8> {
    let mut r = Record::new(
        "app.worker.db",
        20,
        "query finished in 12.5 ms for user 4242 on shard 7",
    );
    r.pathname = Some("/srv/app/worker/db.py".into());
    r.filename = Some("db.py".into());
    r.module = Some("db".into());
    r.lineno = Some(177);
    r.func_name = Some("run_query".into());
    r.process = Some(31337);
    r.process_name = Some("ForkPoolWorker-3".into());
    r.thread = Some(140017928317824);
    r.thread_name = Some("MainThread".into());
    r.relative_created = Some(123456.789);
    r.host = Some("web-17".into());
    r.lang = Some("python".into());
    r.sid = Some("7f3a9c2e-5b1d-4e8f-a6c0-123456789abc".into());
    r.seq = Some(987654);
    r.push_extra("user_id", serde_json::json!(4242));
    r.push_extra(
        "request_id",
        serde_json::json!("b1946ac92492d2347c6235b4d2611184"),
    );
    r.to_json().into_bytes()
}

/// Owned records (`decode_frames`) or borrowed views (`decode_view`, what the collector uses).
fn run(label: &str, frames: &[&[u8]], n: usize) {
    time(&format!("{label}, owned"), frames, n, |f, l| {
        black_box(decode_frames(f, l).ok());
    });
    time(&format!("{label}, view"), frames, n, |f, l| {
        black_box(decode_view(f, l).ok());
    });
}

fn time(label: &str, frames: &[&[u8]], n: usize, decode: impl Fn(&[&[u8]], &DecodeLimits)) {
    let limits = DecodeLimits::default();
    for _ in 0..n / 10 {
        decode(black_box(frames), &limits);
    }
    let start = Instant::now();
    for _ in 0..n {
        decode(black_box(frames), &limits);
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes: usize = frames.iter().map(|f| f.len()).sum();
    println!(
        "{label:<36} {bytes:>5} B  {:>9.0} records/s  {:>6.0} MB/s",
        n as f64 / secs,
        (n * bytes) as f64 / secs / 1e6
    );
}

fn main() {
    let v1 = v1_frame();
    assert!(decode_frame(&v1, &DecodeLimits::default()).is_ok());
    let cookbook = br#"{"name": "app.worker", "msg": "job %s took %.1f s", "args": ["sync", 2.25], "levelname": "INFO", "levelno": 20, "pathname": "/srv/app/worker.py", "filename": "worker.py", "module": "worker", "exc_info": null, "exc_text": null, "stack_info": null, "lineno": 42, "funcName": "run", "created": 1795709346.0616567, "msecs": 61.0, "relativeCreated": 15.474796295166016, "thread": 140017928317824, "threadName": "MainThread", "processName": "MainProcess", "process": 20732, "user_id": 7}"#;
    let n = 300_000;
    {
        // Baseline: the same bytes parsed into a generic serde_json::Value.
        let start = Instant::now();
        for _ in 0..n {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&v1)).ok());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<36} {:>5} B  {:>9.0} records/s",
            "baseline: serde_json Value",
            v1.len(),
            n as f64 / secs
        );
    }
    run("v1 (typical Python record)", &[&v1], n);
    run("cookbook (unmerged args)", &[cookbook], n);
    run("pubhandler", &[b"app.INFO", b"user logged in\n"], n);
    run("invalid json", &[b"{\"v\":1,\"name\":"], n);
}
