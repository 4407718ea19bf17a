//! Frame encoder cost on a typical record (no harness: `cargo bench -p logfunnel-core --bench encode`).
//! Every log call from Python (and the sender thread for C and Rust records) pays it once per record.

use logfunnel_core::RecordView;
use std::borrow::Cow;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let mut r = RecordView::new(
        "app.worker.db",
        20,
        "query finished in 12.5 ms for user 4242 on shard 7",
        1_795_709_346.061_656_7,
    );
    r.relative_created = Some(15.474_796_295_166_016);
    r.pathname = Some(Cow::Borrowed("/srv/app/worker/db.py"));
    r.filename = Some(Cow::Borrowed("db.py"));
    r.module = Some(Cow::Borrowed("db"));
    r.lineno = Some(177);
    r.func_name = Some(Cow::Borrowed("run_query"));
    r.process = Some(31337);
    r.process_name = Some(Cow::Borrowed("ForkPoolWorker-3"));
    r.thread = Some(140_017_928_317_824);
    r.thread_name = Some(Cow::Borrowed("MainThread"));
    r.push_extra("user_id", serde_json::json!(4242));
    let mut out = Vec::with_capacity(1024);
    let n = 1_000_000;
    for round in 0..3 {
        let start = Instant::now();
        for _ in 0..n {
            out.clear();
            black_box(&r).write_json(&mut out);
            black_box(&out);
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        // Compared with serde_json writing the same frame as a generic Value (the naive encoder).
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let start = Instant::now();
        for _ in 0..n {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&value)).expect("writes to a Vec");
        }
        let base = start.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "round {round}: {} B frame, RecordView::write_json {ns:.0} ns, serde_json Value {base:.0} ns",
            out.len()
        );
    }
}
