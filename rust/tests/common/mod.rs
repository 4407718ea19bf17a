//! A real collector for the crate's tests, started in-process on an ephemeral loopback port, writing
//! every record it receives as JSON lines and as formatted text; and a funnel that never drops
//! within a test's lifetime.
#![allow(dead_code)]

use logfunnel::{Builder, FlushGuard, FlushStatus, Funnel};
use logfunnel_collector::config::{Config, FileSinkConfig, JsonlSinkConfig};
use logfunnel_collector::runtime::{self, RunningCollector};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

pub struct Collector {
    running: RunningCollector,
    _dir: tempfile::TempDir,
    jsonl: PathBuf,
    text: PathBuf,
    pub endpoint: String,
}

/// What a stopped collector wrote: one JSON object and one formatted line per record.
pub struct Received {
    pub records: Vec<Value>,
    pub lines: Vec<String>,
}

impl Collector {
    /// A collector whose text file is written with `format` (Python `%`-style).
    pub fn start(format: &str) -> Collector {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("all.jsonl");
        let text = dir.path().join("app.log");
        let mut config = Config {
            bind: vec!["tcp://127.0.0.1:0".into()],
            flush_interval_ms: 20,
            drain_timeout_ms: 10_000,
            ..Config::default()
        };
        let json_sink = JsonlSinkConfig::new(jsonl.clone());
        let mut text_sink = FileSinkConfig::new(text.clone());
        text_sink.line.format = Some(format.into());
        config.sinks.extend([json_sink.into(), text_sink.into()]);
        let running = runtime::start(config).unwrap();
        let endpoint = running.endpoints()[0].clone();
        Collector {
            running,
            _dir: dir,
            jsonl,
            text,
            endpoint,
        }
    }

    /// Stops (draining what arrived) and reads both files back.
    pub fn stop(self) -> Received {
        let summary = self.running.stop(Duration::from_secs(30)).unwrap();
        assert!(summary.drain_complete, "{summary:?}");
        let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let records = read(&self.jsonl)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect();
        let lines = read(&self.text).lines().map(str::to_owned).collect();
        Received { records, lines }
    }
}

impl Received {
    /// The records, checked to have arrived each once in `seq` order ([`in_seq_order`]).
    pub fn in_seq_order(&self) -> &[Value] {
        in_seq_order(&self.records)
    }
}

/// [`finish`]es the funnel, then [`Collector::stop`]s the collector.
pub fn finish_and_stop(funnel: &Funnel, guard: FlushGuard, collector: Collector) -> Received {
    finish(funnel, guard);
    collector.stop()
}

/// Runs `f` with `funnel`'s layer as this thread's subscriber; returns what `f` returns.
#[cfg(feature = "tracing")]
pub fn traced<T>(funnel: &Funnel, f: impl FnOnce() -> T) -> T {
    use tracing_subscriber::prelude::*;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(funnel.layer()), f)
}

/// A funnel to `endpoint` whose log calls wait long enough never to drop in a test.
pub fn funnel(endpoint: &str) -> (Funnel, FlushGuard) {
    Builder::new(endpoint)
        .block_timeout(Duration::from_secs(60))
        .exit_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Drops the guard and checks that everything reached the socket, nothing dropped.
pub fn finish(funnel: &Funnel, guard: FlushGuard) {
    drop(guard);
    let stats = funnel.stats();
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    assert!(funnel.sender().is_closed());
    assert_eq!(funnel.flush(Duration::ZERO), FlushStatus::Flushed);
}

/// Checks that one sender's records arrived each once, in `seq` order; returns them.
pub fn in_seq_order(records: &[Value]) -> &[Value] {
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64, "record {i}: {r}");
        assert_eq!(r["sid"], records[0]["sid"]);
    }
    records
}

/// The calling thread's `pthread_self()`, as the binding reports it.
pub fn this_thread_id() -> i64 {
    // SAFETY: no preconditions.
    (unsafe { libc::pthread_self() }) as i64
}

/// The fields the logger and the layer map alike, for the record both "every field" tests log
/// first: `info` with `user = 42, ratio = 0.5, ok = true, who = "bob", big = u128::MAX,
/// name = "shadow"` and the message "signed in {}" with "alice", at `file:line` in `module`, on this
/// thread.
pub fn assert_shared_fields(r: &Value, module: &str, file: &str, line: u32) {
    assert_eq!(r["name"], module);
    assert_eq!(r["msg"], "signed in alice");
    assert_eq!(
        (r["levelno"].clone(), r["levelname"].clone()),
        (serde_json::json!(20), serde_json::json!("INFO"))
    );
    assert_eq!(r["pathname"], file);
    let filename = std::path::Path::new(file).file_name().unwrap();
    assert_eq!(r["filename"], filename.to_str().unwrap());
    assert_eq!(r["module"], module);
    assert_eq!(r["lineno"], line);
    assert_eq!(r["user"], 42);
    assert_eq!(r["ratio"], 0.5);
    assert_eq!(r["ok"], true);
    assert_eq!(r["who"], "bob");
    assert_eq!(r["big"], u128::MAX.to_string());
    assert_eq!(r["extra.name"], "shadow", "a schema key is renamed");
    assert_eq!(r["lang"], "rust");
    assert_eq!(r["process"], std::process::id());
    assert_eq!(r["thread"], this_thread_id());
    assert_eq!(r["threadName"], std::thread::current().name().unwrap());
}

/// The first five records were logged at INFO, TRACE, DEBUG, WARNING and ERROR, in that order.
pub fn assert_five_levels(records: &[Value]) {
    let levels: Vec<(Value, Value)> = records[..5]
        .iter()
        .map(|r| (r["levelno"].clone(), r["levelname"].clone()))
        .collect();
    assert_eq!(
        levels,
        [
            (20, "INFO"),
            (5, "TRACE"),
            (10, "DEBUG"),
            (30, "WARNING"),
            (40, "ERROR")
        ]
        .map(|(n, s)| (serde_json::json!(n), serde_json::json!(s)))
    );
}
