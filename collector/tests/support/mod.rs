//! Shared helpers for the collector tests: configs on ephemeral loopback ports, real core senders,
//! raw ZeroMQ sockets for hand-made frames, and readers for what landed in the files.
#![allow(dead_code)]

pub mod curve_server;
pub mod proc;
pub mod tmpfs;

use logfunnel_collector::config::{Config, FileSinkConfig, JsonlSinkConfig, SinkConfig, SinkKind};
use logfunnel_collector::runtime::RunningCollector;
use logfunnel_core::{Outcome, Record, Sender, SenderOptions, SocketMode};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A config receiving on an ephemeral loopback SUB port, flushing often, with no sink yet, and no
/// delivery state on disk (tests of the state directory set their own).
pub fn base_config() -> Config {
    Config {
        bind: vec!["tcp://127.0.0.1:0".into()],
        flush_interval_ms: 20,
        drain_timeout_ms: 10_000,
        state_dir: Some(PathBuf::new()),
        ..Config::default()
    }
}

/// [`base_config`] with one `jsonl` sink on `path`.
pub fn jsonl_config(path: &Path) -> Config {
    let mut c = base_config();
    c.sinks.push(JsonlSinkConfig::new(path).into());
    c
}

/// A collector started on [`jsonl_config`] and its first SUB endpoint.
pub fn start_jsonl(path: &Path) -> (RunningCollector, String) {
    let collector = logfunnel_collector::runtime::start(jsonl_config(path)).unwrap();
    let ep = collector.endpoints()[0].clone();
    (collector, ep)
}

/// A `file` or `jsonl` sink on `path` with every other key at its default.
pub fn file_sink(kind: SinkKind, path: &Path) -> SinkConfig {
    match kind {
        SinkKind::File => FileSinkConfig::new(path).into(),
        SinkKind::Jsonl => JsonlSinkConfig::new(path).into(),
        other => panic!("no plain file sink of kind {other:?}"),
    }
}

/// A sender that never drops on a full queue within a test's lifetime.
pub fn sender(endpoint: &str, mode: SocketMode) -> Sender {
    let mut o = SenderOptions::new(endpoint);
    o.mode = mode;
    o.block_timeout = Duration::from_secs(60);
    o.close_timeout = Duration::from_secs(30);
    // The sender's default, stated here because these tests depend on it: with ZMTP heartbeats on,
    // a collector seconds behind (debug builds) never answered the pings and libzmq dropped the
    // connection with thousands of records in flight (see core/src/sender/mod.rs).
    o.heartbeat_ivl = Duration::ZERO;
    Sender::new(o).expect("sender")
}

/// Logs `n` records named `name`, messages `"<tag> <i>"`, asserting each was queued.
pub fn log_n(s: &Sender, name: &str, tag: &str, n: u64) {
    for i in 0..n {
        let r = Record::new(name, 20, format!("{tag} {i}"));
        assert_eq!(s.log(r), Outcome::Queued, "record {i} of {tag}");
    }
}

pub fn close(s: &Sender) {
    let status = s.close(Duration::from_secs(30));
    assert_eq!(status, logfunnel_core::FlushStatus::Flushed);
}

/// The lines of a file (empty if it does not exist).
pub fn lines(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => s.lines().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

pub fn jsonl(path: &Path) -> Vec<Value> {
    lines(path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// Groups JSON records by `sid` and checks that each sender's `seq` runs 0, 1, 2, ... with no gap,
/// no duplicate and in order. Returns records per sid.
pub fn check_per_sender_order(records: &[Value]) -> HashMap<String, u64> {
    let mut next: HashMap<String, u64> = HashMap::new();
    for r in records {
        let sid = r["sid"].as_str().expect("sid").to_string();
        let seq = r["seq"].as_u64().expect("seq");
        let expected = next.entry(sid.clone()).or_insert(0);
        assert_eq!(seq, *expected, "sender {sid}: seq out of order");
        *expected += 1;
    }
    next
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A raw PUSH socket for hand-made frames (to a collector's `pull` endpoint).
pub struct RawPush {
    _ctx: zmq::Context,
    pub socket: zmq::Socket,
}

impl RawPush {
    pub fn connect(endpoint: &str) -> RawPush {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(zmq::PUSH).unwrap();
        socket.set_linger(10_000).unwrap();
        socket.set_sndhwm(0).unwrap();
        socket.connect(endpoint).unwrap();
        RawPush { _ctx: ctx, socket }
    }

    pub fn send(&self, frames: &[&[u8]]) {
        self.socket.send_multipart(frames, 0).unwrap();
    }
}

/// A v1 frame by hand.
pub fn v1_frame(name: &str, levelno: i64, msg: &str, sid: Option<(&str, u64)>) -> Vec<u8> {
    let mut v = serde_json::json!({
        "v": 1, "name": name, "msg": msg, "levelno": levelno, "created": 1_764_172_693.5,
        "host": "testhost", "process": 4242, "lang": "rust",
    });
    if let Some((sid, seq)) = sid {
        v["sid"] = sid.into();
        v["seq"] = seq.into();
    }
    serde_json::to_vec(&v).unwrap()
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A fresh temporary directory and the path `name` in it.
pub fn temp_path(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let path = path_in(&dir, name);
    (dir, path)
}

pub fn path_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on a loopback HTTP server; returns (status line, body).
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}
