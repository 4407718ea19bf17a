//! `log` records through the logger into a real collector, checked field by field.
//!
//! `log` has one global logger per process, and tests run in parallel, so these tests hand each
//! record to their own logger with `log`'s `logger:` argument: the record is the one `log`'s macros
//! build for the global logger, file, line, module and key-values included. `log`'s macros check
//! the global maximum level first, so each test raises it (what `Logger::install` does).

mod common;

use common::{
    assert_five_levels, assert_shared_fields, finish, finish_and_stop, funnel, Collector,
};
use log::LevelFilter;

const FORMAT: &str = "%(levelname)s %(levelno)d %(name)s %(module)s:%(lineno)d %(message)s \
                      user=%(user)s";

#[test]
fn every_mapped_field_arrives() {
    log::set_max_level(LevelFilter::Trace);
    let collector = Collector::start(FORMAT);
    let (funnel, guard) = funnel(&collector.endpoint);
    let logger = funnel.logger().max_level(LevelFilter::Trace);
    let line = line!() + 1;
    log::info!(logger: logger, user = 42, ratio = 0.5, ok = true, who = "bob", big = u128::MAX, dbg:? = (1, "a"), name = "shadow"; "signed in {}", "alice");
    log::trace!(logger: logger, target: "app::db", user = "t"; "trace");
    log::debug!(logger: logger, user = "d"; "debug");
    log::warn!(logger: logger, user = "w"; "warn");
    log::error!(logger: logger, user = "e"; "error");
    let got = finish_and_stop(&funnel, guard, collector);
    let records = got.in_seq_order();
    assert_eq!(records.len(), 5);
    let r = &records[0];
    assert_shared_fields(r, module_path!(), file!(), line);
    assert_eq!(r["dbg"], r#"(1, "a")"#);
    assert!(r["processName"]
        .as_str()
        .unwrap()
        .starts_with("log_records"));
    assert!(r["relativeCreated"].as_f64().unwrap() >= 0.0);
    let created = r["created"].as_f64().unwrap();
    let now = logfunnel_core::record::now_seconds();
    assert!(
        created <= now && created > now - 600.0,
        "{created} vs {now}"
    );

    assert_five_levels(records);
    assert_eq!(
        records[1]["name"], "app::db",
        "an explicit target is the logger name"
    );

    let module = module_path!();
    let at = |offset: u32| format!("{module}:{}", line + offset);
    assert_eq!(
        got.lines,
        [
            format!("INFO 20 {module} {} signed in alice user=42", at(0)),
            format!("TRACE 5 app::db {} trace user=t", at(1)),
            format!("DEBUG 10 {module} {} debug user=d", at(2)),
            format!("WARNING 30 {module} {} warn user=w", at(3)),
            format!("ERROR 40 {module} {} error user=e", at(4)),
        ]
    );
}

#[test]
fn levels_below_the_maximum_are_not_sent() {
    log::set_max_level(LevelFilter::Trace);
    let collector = Collector::start("%(levelname)s %(message)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    let logger = funnel.logger().max_level(LevelFilter::Warn);
    assert!(!log::Log::enabled(
        &logger,
        &log::Metadata::builder().level(log::Level::Info).build()
    ));
    log::info!(logger: logger, "hidden");
    log::debug!(logger: logger, "hidden");
    log::warn!(logger: logger, "shown");
    finish(&funnel, guard);
    assert_eq!(collector.stop().lines, ["WARNING shown"]);
    assert_eq!(funnel.stats().enqueued, 1);
}

#[test]
fn many_threads_every_record_once_in_order_per_thread() {
    const THREADS: usize = 4;
    const PER: usize = 2_000;
    log::set_max_level(LevelFilter::Trace);
    let collector = Collector::start("%(message)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let logger = funnel.logger();
            std::thread::Builder::new()
                .name(format!("worker-{t}"))
                .spawn_scoped(s, move || {
                    for i in 0..PER {
                        log::info!(logger: logger, worker = t, i = i; "record {i}");
                    }
                })
                .unwrap();
        }
    });
    let got = finish_and_stop(&funnel, guard, collector);
    let records = got.in_seq_order();
    assert_eq!(records.len(), THREADS * PER);
    let mut next = [0_u64; THREADS];
    for r in records {
        let t = r["worker"].as_u64().unwrap() as usize;
        assert_eq!(r["i"], next[t], "worker {t} out of order");
        assert_eq!(r["msg"], format!("record {}", next[t]));
        assert_eq!(r["threadName"], format!("worker-{t}"));
        next[t] += 1;
    }
    assert_eq!(next, [PER as u64; THREADS]);
}
