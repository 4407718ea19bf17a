//! `tracing` events through the layer into a real collector, checked field by field. Each test sets
//! its subscriber as the thread's default, so tests running in parallel do not mix.

mod common;

use common::{
    assert_five_levels, assert_shared_fields, finish_and_stop, funnel, traced, Collector,
};
use tracing_subscriber::prelude::*;

#[derive(Debug)]
#[allow(dead_code)] // Read by its `Debug`.
struct Point {
    x: i32,
}

#[test]
fn every_mapped_event_field_arrives() {
    let collector =
        Collector::start("%(levelname)s %(levelno)d %(name)s %(message)s user=%(user)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    let error = std::io::Error::other("disk full");
    let line = traced(&funnel, || {
        let line = line!() + 1;
        tracing::info!(user = 42, ratio = 0.5, ok = true, who = "bob", neg = -7_i64, big = u128::MAX, point = ?Point { x: 3 }, shown = %"text", err = &error as &dyn std::error::Error, name = "shadow", "signed in {}", "alice");
        tracing::trace!(target: "app::db", user = "t", "trace");
        tracing::debug!(user = "d", "debug");
        tracing::warn!(user = "w", "warn");
        tracing::error!(user = "e", "error");
        tracing::info!(user = "none");
        line
    });
    let got = finish_and_stop(&funnel, guard, collector);
    let records = got.in_seq_order();
    assert_eq!(records.len(), 6);
    let r = &records[0];
    assert_shared_fields(r, module_path!(), file!(), line);
    assert_eq!(r["neg"], -7);
    assert_eq!(r["point"], "Point { x: 3 }");
    assert_eq!(r["shown"], "text");
    assert_eq!(r["err"], "disk full");
    assert!(
        r.get("message").is_none() && r.get("spans").is_none(),
        "{r}"
    );

    assert_five_levels(records);
    let module = module_path!();
    assert_eq!(
        got.lines,
        [
            format!("INFO 20 {module} signed in alice user=42"),
            "TRACE 5 app::db trace user=t".to_owned(),
            format!("DEBUG 10 {module} debug user=d"),
            format!("WARNING 30 {module} warn user=w"),
            format!("ERROR 40 {module} error user=e"),
            format!("INFO 20 {module}  user=none"),
        ]
    );
}

#[test]
fn spans_nested_three_deep_give_their_path_and_fields() {
    let collector =
        Collector::start("[%(spans)s] request=%(request_id)s step=%(step)s %(message)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    traced(&funnel, || {
        let outer = tracing::info_span!("request", request_id = 7, step = "outer", depth = 1);
        let _outer = outer.enter();
        let middle = tracing::info_span!("db", step = "middle", table = tracing::field::Empty);
        let _middle = middle.enter();
        tracing::info!("in middle");
        middle.record("table", "users");
        {
            let _inner = tracing::debug_span!("query", step = "inner", rows = 3_u64).entered();
            tracing::info!("in inner");
            tracing::info!(step = "event", request_id = "mine", "own fields win");
        }
        tracing::info!("back in middle");
        drop(_middle);
        tracing::info!(parent: None, "explicitly outside");
        // Made inside `request`, so that is its parent.
        let elsewhere = tracing::info_span!("elsewhere", request_id = 9);
        tracing::info!(parent: &elsewhere, "explicit parent");
    });
    let got = finish_and_stop(&funnel, guard, collector);
    // The event outside every span lacks the format's fields (the collector then writes the format
    // itself, as Python's `logging` would fail on it): it is checked by its JSON below.
    let mut lines = got.lines.clone();
    lines.remove(4);
    assert_eq!(
        lines,
        [
            "[request:db] request=7 step=middle in middle",
            "[request:db:query] request=7 step=inner in inner",
            "[request:db:query] request=mine step=event own fields win",
            "[request:db] request=7 step=middle back in middle",
            "[request:elsewhere] request=9 step=outer explicit parent",
        ]
    );
    let inner = &got.records[1];
    assert_eq!(inner["rows"], 3);
    assert_eq!(inner["table"], "users", "recorded after the span was made");
    assert_eq!(
        inner["depth"], 1,
        "the outermost span's fields reach the innermost events"
    );
    assert!(got.records[0].get("rows").is_none());
    assert!(got.records[0].get("table").is_none(), "not recorded yet");
    let outside = &got.records[4];
    assert_eq!(outside["msg"], "explicitly outside");
    for key in ["spans", "request_id", "step", "depth"] {
        assert!(outside.get(key).is_none(), "{key}: {outside}");
    }
}

#[test]
fn many_threads_with_spans_every_record_once_in_order_per_thread() {
    const THREADS: u64 = 4;
    const PER: u64 = 2_000;
    let collector = Collector::start("%(message)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(funnel.layer()));
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _worker = tracing::info_span!("worker", worker = t).entered();
                    for i in 0..PER {
                        let _item = tracing::info_span!("item", i).entered();
                        tracing::info!("record {i}");
                    }
                })
            });
        }
    });
    let got = finish_and_stop(&funnel, guard, collector);
    let records = got.in_seq_order();
    assert_eq!(records.len() as u64, THREADS * PER);
    let mut next = [0_u64; THREADS as usize];
    for r in records {
        let t = r["worker"].as_u64().unwrap() as usize;
        assert_eq!(r["i"], next[t], "worker {t} out of order");
        assert_eq!(r["msg"], format!("record {}", next[t]));
        assert_eq!(r["spans"], "worker:item");
        next[t] += 1;
    }
    assert_eq!(next, [PER; THREADS as usize]);
}
