//! `log` records that `tracing-log`'s `LogTracer` turns into `tracing` events arrive through the
//! layer with their own target, file, line and module path, inside the current span. Its own binary:
//! `LogTracer` is the process's one `log` logger.

mod common;

use common::{finish_and_stop, funnel, traced, Collector};

#[test]
fn bridged_log_records_keep_their_origin() {
    tracing_log::LogTracer::init().unwrap();
    let collector = Collector::start("%(name)s %(module)s:%(lineno)d [%(spans)s] %(message)s");
    let (funnel, guard) = funnel(&collector.endpoint);
    let line = traced(&funnel, || {
        let _job = tracing::info_span!("job", job_id = 3).entered();
        let line = line!() + 1;
        log::warn!(target: "legacy::db", "slow query {}", 42);
        line
    });
    let got = finish_and_stop(&funnel, guard, collector);
    let records = got.in_seq_order();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["name"], "legacy::db");
    assert_eq!(r["msg"], "slow query 42");
    assert_eq!(
        (r["levelno"].as_i64(), r["levelname"].as_str()),
        (Some(30), Some("WARNING"))
    );
    assert_eq!(r["pathname"], file!());
    assert_eq!(r["filename"], "log_bridge.rs");
    assert_eq!(r["module"], module_path!());
    assert_eq!(r["lineno"], line);
    assert_eq!(r["job_id"], 3);
    for key in ["log.target", "log.file", "log.line", "log.module_path"] {
        assert!(
            r.get(key).is_none(),
            "{key} is the origin, not a field: {r}"
        );
    }
    assert_eq!(
        got.lines,
        [format!(
            "legacy::db {}:{line} [job] slow query 42",
            module_path!()
        )]
    );
}
