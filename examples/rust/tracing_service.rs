//! A small service instrumented with `tracing`: worker threads handle requests, each request is a
//! span with its id, and the database calls inside it are spans of their own. The collector writes
//! every event with the span path and the request id its format asks for.
//!
//! ```sh
//! cargo run -p logfunnel-collector -- --file app.log \
//!     --format '%(asctime)s %(levelname)-7s %(name)s [%(spans)s request=%(request_id)s] %(message)s'
//! cargo run -p logfunnel --example tracing_service [ENDPOINT]   # default tcp://127.0.0.1:5555
//! ```

use std::time::Duration;
use tracing::{debug, info, info_span, warn};
use tracing_subscriber::prelude::*;

fn main() {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:5555".into());
    // Wait at most 2 s at exit when the collector is not there, and drop rather than block when the
    // queue is full: this service must never slow down for its logs.
    let (funnel, guard) = logfunnel::Builder::new(endpoint)
        .overflow(logfunnel::OverflowPolicy::DropNewest)
        .exit_timeout(Duration::from_secs(2))
        .build()
        .expect("logfunnel");
    tracing_subscriber::registry()
        .with(
            funnel
                .layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::DEBUG),
        )
        .init();

    info!(workers = 3, "service starting");
    std::thread::scope(|s| {
        for worker in 0..3_u64 {
            s.spawn(move || {
                let _worker = info_span!("worker", worker).entered();
                for n in 0..4 {
                    handle(worker * 100 + n);
                }
            });
        }
    });
    info!("service stopping");

    let stats = funnel.stats();
    drop(guard); // delivers what is still queued
    eprintln!(
        "queued {} records, dropped {}",
        stats.enqueued,
        stats.dropped()
    );
}

fn handle(request_id: u64) {
    let span = info_span!("request", request_id, user = tracing::field::Empty);
    let _request = span.enter();
    span.record("user", format!("user{}", request_id % 7).as_str());
    info!(path = "/orders", "request received");
    let rows = query("SELECT * FROM orders WHERE user = ?");
    if rows == 0 {
        warn!("no orders");
    }
    info!(rows, status = 200, "request done");
}

fn query(sql: &str) -> u64 {
    let _db = info_span!("db", sql).entered();
    let rows = sql.len() as u64 % 5;
    debug!(rows, elapsed_ms = 1.5, "query finished");
    rows
}
