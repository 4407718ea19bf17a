//! With no collector running, logging stays bounded: log calls return (the queue fills, then drops
//! are counted), and the guard's drop gives up after its exit timeout, counting what it could not
//! deliver.

use logfunnel::{Builder, Funnel, OverflowPolicy};
use std::time::Duration;
use tracing_subscriber::prelude::*;

/// A loopback endpoint nobody listens on.
fn nowhere() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("tcp://127.0.0.1:{port}")
}

/// Logs `n` tracing warnings through `funnel`'s layer.
fn warn_n(funnel: &Funnel, n: usize) {
    let subscriber = tracing_subscriber::registry().with(funnel.layer());
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            tracing::warn!("record {i}");
        }
    });
}

/// Asserts `queued` records were taken and `dropped` refused for a full queue.
fn assert_queued_and_dropped(funnel: &Funnel, queued: u64, dropped: u64) {
    let stats = funnel.stats();
    assert_eq!(
        (stats.enqueued, stats.dropped_queue_full),
        (queued, dropped),
        "{stats:?}"
    );
}

#[test]
fn the_guard_gives_up_after_its_exit_timeout_and_counts_the_loss() {
    let (funnel, guard) = Builder::new(nowhere())
        .exit_timeout(Duration::from_millis(200))
        .exit_max_wait(Duration::from_secs(2))
        .build()
        .unwrap();
    let logger = funnel.logger().max_level(log::LevelFilter::Info);
    log::set_max_level(log::LevelFilter::Info);
    let subscriber = tracing_subscriber::registry().with(funnel.layer());
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..100 {
            log::info!(logger: logger, "log {i}");
            tracing::info!("tracing {i}");
        }
    });
    assert_eq!(funnel.stats().enqueued, 200);
    drop(guard);
    let stats = funnel.stats();
    assert_eq!((stats.sent, stats.dropped_at_close), (0, 200), "{stats:?}");
    assert!(!stats.connected);

    log::info!(logger: logger, "after the guard");
    assert_eq!(funnel.stats().dropped_closed, 1);
}

#[test]
fn a_full_queue_drops_new_records_and_counts_them() {
    let (funnel, guard) = Builder::new(nowhere())
        .queue_capacity(10)
        .overflow(OverflowPolicy::DropNewest)
        .exit_timeout(Duration::ZERO)
        .build()
        .unwrap();
    warn_n(&funnel, 100);
    assert_queued_and_dropped(&funnel, 10, 90);
    drop(guard);
    assert_eq!(funnel.stats().dropped(), 100);
}

#[test]
fn a_blocking_queue_waits_once_then_drops_at_once() {
    let (funnel, guard) = Builder::new(nowhere())
        .queue_capacity(5)
        .overflow(OverflowPolicy::Block)
        .block_timeout(Duration::from_millis(50))
        .exit_timeout(Duration::ZERO)
        .build()
        .unwrap();
    warn_n(&funnel, 1_000);
    // Were each full-queue call to wait its 50 ms, this loop alone would take 50 s; the sender
    // marks itself stalled after the first timeout and drops the rest without waiting.
    assert_queued_and_dropped(&funnel, 5, 995);
    drop(guard);
}
