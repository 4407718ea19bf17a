//! Acknowledged delivery from C: a C program logs into a real collector (the collector library, in
//! this process, with a JSON-lines sink), `lf_flush` returns `LF_OK` only once every record is
//! acknowledged, and `lf_stats` says so; against a listener that never announces itself (a plain
//! `SUB`), the sender stays unacknowledged and says that too.

mod common;

use common::{build, run_ok, values, Link, Receiver};
use logfunnel_collector::config::Config;
use logfunnel_collector::runtime;
use std::time::Duration;

#[test]
fn c_records_are_acknowledged_by_a_collector() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let config = Config::from_toml_str(&format!(
        r#"
        bind = ["tcp://127.0.0.1:*"]
        state_dir = "{}"
        stats_interval_s = 0
        [[sink]]
        kind = "jsonl"
        path = "{}"
        "#,
        dir.path().join("state").display(),
        out.display()
    ))
    .expect("config");
    let collector = runtime::start(config).expect("start the collector");
    let endpoint = collector.endpoints()[0].clone();
    let n = 3000;
    for link in [Link::Shared, Link::Static] {
        let exe = build("acked", link);
        let got = values(&run_ok(&exe, &[&endpoint, &n.to_string()], None), "");
        assert_eq!(
            got["flush"], 0,
            "{link:?}: lf_flush returned LF_OK: {got:?}"
        );
        assert_eq!(got["acknowledging"], 1, "{got:?}");
        assert_eq!(got["acknowledged"], n, "{got:?}");
        assert_eq!(got["unacknowledged"], 0, "{got:?}");
        assert_eq!(got["sent"], n, "{got:?}");
        assert_eq!(got["dropped"], 0, "{got:?}");
    }
    let summary = collector.stop(Duration::from_secs(30)).expect("stop");
    assert_eq!(summary.stats.lost, 0);
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 2 * n as usize);
}

#[test]
fn against_a_listener_that_never_announces_the_sender_stays_unacknowledged() {
    let rx = Receiver::start();
    let exe = build("acked", Link::Shared);
    let got = values(&run_ok(&exe, &[&rx.endpoint, "50"], None), "");
    assert_eq!(rx.wait_for(50, Duration::from_secs(30)).len(), 50);
    assert_eq!(
        got["flush"], 0,
        "v1: flushed means handed to the socket: {got:?}"
    );
    assert_eq!(got["acknowledging"], 0, "{got:?}");
    assert_eq!(got["acknowledged"], 0, "{got:?}");
    assert_eq!(got["sent"], 50, "{got:?}");
}
