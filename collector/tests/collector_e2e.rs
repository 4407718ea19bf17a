//! End-to-end tests of the collector library over real sockets and real files: records sent by the core
//! sender (threads and child processes) arrive exactly once and in order per sender, nothing is lost
//! when the sender starts first or closes right after logging, hostile frames are counted by reason
//! while every valid record still arrives, gaps are reported, routing works, and the metrics endpoint
//! and live view serve what the collector accepted.

mod support;

use logfunnel_collector::config::{
    ConsoleSinkConfig, FileSinkConfig, LevelSpec, MetricsConfig, SinkKind, TailConfig,
};
use logfunnel_collector::runtime;
use logfunnel_core::{decode_frames, DecodeLimits, Record, SocketMode};
use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::time::Duration;
use support::*;

const STOP: Duration = Duration::from_secs(60);

/// The test that spawns sender processes runs alone. libzmq as built here (no `SOCK_CLOEXEC`) marks
/// its sockets close-on-exec with a separate `fcntl`, so a process spawned at the same moment can
/// inherit a connection of another test's sender; with that overlap, the last records of several
/// in-process senders went missing (see the report on the core sender).
static SPAWNING: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SPAWNING.read().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn records_arrive_formatted_with_exact_counts() {
    let _shared = shared();
    let (_dir, path) = temp_path("app.log");
    let mut c = base_config();
    let mut s = FileSinkConfig::new(&path);
    s.line.format = Some("%(levelname)s %(name)s %(process)d %(message)s [%(user)s]".into());
    c.sinks.push(s.into());
    let collector = runtime::start(c).unwrap();
    let ep = collector.endpoints()[0].clone();
    assert!(
        ep.starts_with("tcp://127.0.0.1:") && !ep.ends_with(":0"),
        "{ep}"
    );

    let sender = sender(&ep, SocketMode::Xpub);
    for i in 0..1000 {
        let mut r = Record::new(
            "app.web",
            if i % 2 == 0 { 20 } else { 40 },
            format!("hello {i}"),
        );
        r.process = Some(77);
        r.push_extra("user", serde_json::json!("bob"));
        sender.log(r);
    }
    close(&sender);
    let summary = collector.stop(STOP).unwrap();
    assert!(summary.drain_complete);

    let got = lines(&path);
    assert_eq!(got.len(), 1000);
    for (i, line) in got.iter().enumerate() {
        let level = if i % 2 == 0 { "INFO" } else { "ERROR" };
        assert_eq!(line, &format!("{level} app.web 77 hello {i} [bob]"));
    }
    let st = &summary.stats;
    assert_eq!((st.received, st.accepted, st.malformed), (1000, 1000, 0));
    assert_eq!(st.written(&path.display().to_string()), Some(1000));
    assert_eq!((st.lost, st.duplicates, st.queue_depth), (0, 0, 0));
    assert_eq!(st.senders.len(), 1);
    assert_eq!(st.senders[0].received, 1000);
}

#[test]
fn many_sender_threads_every_record_once_in_order() {
    let _shared = shared();
    const THREADS: u64 = 8;
    const PER: u64 = 20_000;
    let (_dir, path) = temp_path("all.jsonl");
    let (collector, ep) = start_jsonl(&path);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let ep = ep.clone();
            std::thread::spawn(move || {
                let s = sender(&ep, SocketMode::Xpub);
                log_n(&s, &format!("thread.{t}"), "m", PER);
                let t0 = std::time::Instant::now();
                let status = s.close(Duration::from_secs(30));
                (
                    s.sid(),
                    format!("{status:?} in {:?}, {:?}", t0.elapsed(), s.stats()),
                )
            })
        })
        .collect();
    let (sids, closes): (Vec<String>, Vec<String>) =
        handles.into_iter().map(|h| h.join().unwrap()).unzip();
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&path);
    assert_eq!(
        records.len() as u64,
        THREADS * PER,
        "senders' close: {closes:#?}\ncollector: {:#?}",
        summary.stats
    );
    let per = check_per_sender_order(&records);
    assert_eq!(per.len() as u64, THREADS);
    for sid in &sids {
        assert_eq!(per.get(sid), Some(&PER), "sender {sid}");
    }
    assert_eq!(summary.stats.lost, 0);
    assert_eq!(summary.stats.duplicates, 0);
    assert_eq!(summary.stats.accepted, THREADS * PER);
}

/// Entry point of the sender child processes (re-exec of this test binary); a no-op otherwise.
#[test]
fn child_sender() {
    let Ok(ep) = std::env::var("LF_TEST_CHILD_ENDPOINT") else {
        return;
    };
    let n: u64 = std::env::var("LF_TEST_CHILD_COUNT")
        .unwrap()
        .parse()
        .unwrap();
    let mode = match std::env::var("LF_TEST_CHILD_MODE").as_deref() {
        Ok("push") => SocketMode::Push,
        _ => SocketMode::Xpub,
    };
    let s = sender(&ep, mode);
    log_n(&s, "child", &std::process::id().to_string(), n);
    close(&s);
    println!("LF_CHILD_SID={}", s.sid());
}

#[test]
fn sender_processes_every_record_once_in_order() {
    let _alone = SPAWNING.write().unwrap_or_else(|p| p.into_inner());
    const CHILDREN: usize = 3;
    const PER: u64 = 100_000;
    let (_dir, path) = temp_path("procs.jsonl");
    let mut c = jsonl_config(&path);
    c.pull = vec!["tcp://127.0.0.1:0".into()];
    let collector = runtime::start(c).unwrap();
    let sub = collector.bind_endpoints()[0].clone();
    let pull = collector.pull_endpoints()[0].clone();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..CHILDREN)
        .map(|i| {
            let (ep, mode) = if i == CHILDREN - 1 {
                (&pull, "push")
            } else {
                (&sub, "xpub")
            };
            Command::new(&exe)
                .args(["--exact", "child_sender", "--nocapture", "--test-threads=1"])
                .env("LF_TEST_CHILD_ENDPOINT", ep)
                .env("LF_TEST_CHILD_COUNT", PER.to_string())
                .env("LF_TEST_CHILD_MODE", mode)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut sids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "child failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let sid = text
            .lines()
            .find_map(|l| l.split_once("LF_CHILD_SID=").map(|(_, sid)| sid.trim()))
            .expect("child printed its sid")
            .to_string();
        sids.push(sid);
    }
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&path);
    assert_eq!(records.len() as u64, CHILDREN as u64 * PER);
    let per = check_per_sender_order(&records);
    for sid in &sids {
        assert_eq!(per.get(sid), Some(&PER), "sender {sid}");
    }
    assert_eq!(summary.stats.lost, 0);
}

#[test]
fn sender_started_before_the_collector_loses_nothing() {
    let _shared = shared();
    let (_dir, path) = temp_path("early.log");
    let port = free_port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let s = sender(&ep, SocketMode::Xpub);
    log_n(&s, "early", "before", 500);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = base_config();
    c.bind = vec![ep.clone()];
    let mut sink = FileSinkConfig::new(&path);
    sink.line.format = Some("%(message)s".into());
    c.sinks.push(sink.into());
    let collector = runtime::start(c).unwrap();
    log_n(&s, "early", "after", 500);
    close(&s);
    collector.stop(STOP).unwrap();
    let got = lines(&path);
    let want: Vec<String> = (0..500)
        .map(|i| format!("before {i}"))
        .chain((0..500).map(|i| format!("after {i}")))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn sender_closed_right_after_its_last_log_loses_nothing() {
    let _shared = shared();
    let (_dir, path) = temp_path("quick.jsonl");
    let (collector, ep) = start_jsonl(&path);
    for round in 0..5 {
        let s = sender(&ep, SocketMode::Xpub);
        log_n(&s, "quick", &format!("r{round}"), 2000);
        drop(s); // close happens in Drop, right after the last log
    }
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&path);
    assert_eq!(records.len(), 10_000);
    let per = check_per_sender_order(&records);
    assert_eq!(per.len(), 5);
    assert!(per.values().all(|n| *n == 2000));
    assert_eq!(summary.stats.lost, 0);
}

#[test]
fn hostile_input_is_counted_by_reason_and_valid_records_all_arrive() {
    let _shared = shared();
    let (_dir, path) = temp_path("valid.log");
    let mut c = base_config();
    c.pull = vec!["tcp://127.0.0.1:0".into()];
    c.max_frame_bytes = 64 * 1024;
    c.warn_interval_s = 60;
    let mut s = FileSinkConfig::new(&path);
    s.line.format = Some("%(name)s %(message)s".into());
    c.sinks.push(s.into());
    let collector = runtime::start(c).unwrap();
    let pull = collector.pull_endpoints()[0].clone();
    let raw = RawPush::connect(&pull);

    let deep = format!(
        "{{\"v\":1,\"name\":\"x\",\"msg\":{}1{},\"levelno\":20,\"created\":1.0}}",
        "[".repeat(300),
        "]".repeat(300)
    );
    let huge = {
        let pad = "a".repeat(64 * 1024);
        format!("{{\"v\":1,\"name\":\"x\",\"msg\":\"{pad}\",\"levelno\":20,\"created\":1.0}}")
    };
    let hostile: Vec<Vec<Vec<u8>>> = vec![
        vec![b"{not json".to_vec()],
        vec![b"[1,2,3]".to_vec()],
        vec![b"".to_vec()],
        vec![deep.into_bytes()],
        vec![huge.into_bytes()],
        vec![br#"{"v":1,"name":"x","msg":"m","levelno":"loud","created":1.0}"#.to_vec()],
        vec![br#"{"v":1,"name":7,"msg":"m","levelno":20,"created":1.0}"#.to_vec()],
        vec![
            b"{\"v\":1,\"name\":\"x\",\"msg\":\"a\x00b\",\"levelno\":20,\"created\":1.0}".to_vec(),
        ],
        vec![
            b"{\"v\":1,\"name\":\"x\",\"msg\":\"\xff\xfe\",\"levelno\":20,\"created\":1.0}"
                .to_vec(),
        ],
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
        vec![br#"{"v":99,"name":"x","msg":"m","levelno":20,"created":1.0}"#.to_vec()],
        vec![b"\x00\x00\x00\x00".to_vec()],
    ];
    // What the decoder itself says about each, so the test checks the collector's bookkeeping.
    let limits = DecodeLimits {
        max_frame_bytes: 64 * 1024,
        ..DecodeLimits::default()
    };
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for msg in &hostile {
        let frames: Vec<&[u8]> = msg.iter().map(|f| &f[..]).collect();
        let e = decode_frames(&frames, &limits).expect_err("hostile message must not decode");
        *expected.entry(e.reason().to_string()).or_insert(0) += 1;
    }
    assert!(
        expected.len() >= 6,
        "the list covers many reasons: {expected:?}"
    );

    const ROUNDS: u64 = 50;
    let mut valid = 0u64;
    for round in 0..ROUNDS {
        for (i, msg) in hostile.iter().enumerate() {
            let frames: Vec<&[u8]> = msg.iter().map(|f| &f[..]).collect();
            raw.send(&frames);
            let ok = v1_frame("ok", 20, &format!("{round}-{i}"), None);
            raw.send(&[&ok]);
            valid += 1;
        }
    }
    // A v1 sender on the SUB endpoint at the same time is not starved by the flood.
    let ep = collector.bind_endpoints()[0].clone();
    let s = sender(&ep, SocketMode::Xpub);
    log_n(&s, "good", "g", 1000);
    close(&s);
    drop(raw);
    let summary = collector.stop(STOP).unwrap();
    let got = lines(&path);
    assert_eq!(
        got.iter().filter(|l| l.starts_with("ok ")).count() as u64,
        valid
    );
    assert_eq!(got.iter().filter(|l| l.starts_with("good ")).count(), 1000);
    let st = &summary.stats;
    let nonzero: BTreeMap<String, u64> = st
        .malformed_by_reason
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    let want: BTreeMap<String, u64> = expected.into_iter().map(|(k, n)| (k, n * ROUNDS)).collect();
    assert_eq!(nonzero, want);
    assert_eq!(st.malformed, hostile.len() as u64 * ROUNDS);
    assert_eq!(st.accepted, valid + 1000);
}

#[test]
fn gaps_and_duplicates_are_reported_per_sender() {
    let _shared = shared();
    let mut c = base_config();
    c.pull = vec!["tcp://127.0.0.1:0".into()];
    c.sinks.push({
        let mut s = ConsoleSinkConfig::default();
        s.common.level = LevelSpec::Number(100);
        s.into()
    });
    let collector = runtime::start(c).unwrap();
    let raw = RawPush::connect(&collector.pull_endpoints()[0]);
    for seq in [0u64, 1, 5, 3, 6] {
        raw.send(&[&v1_frame("g", 20, "m", Some(("gap-sender", seq)))]);
    }
    // A foreign record (no sid/seq) is not tracked.
    raw.send(&[br#"{"name":"cookbook","msg":"m","levelno":20,"created":1.0}"#]);
    assert!(wait_until(Duration::from_secs(10), || collector
        .stats()
        .processed
        == 6));
    let st = collector.stats();
    assert_eq!((st.lost, st.gaps, st.duplicates), (3, 1, 1));
    assert_eq!(st.senders.len(), 1);
    let s = &st.senders[0];
    assert_eq!(s.id.sid, "gap-sender");
    assert_eq!(s.id.host.as_deref(), Some("testhost"));
    assert_eq!(s.id.process, Some(4242));
    assert_eq!((s.received, s.lost, s.duplicates, s.next_seq), (5, 3, 1, 7));
    assert_eq!(st.unrouted, 6);
    drop(raw);
    collector.stop(STOP).unwrap();
}

#[test]
fn routing_by_logger_prefix_and_level() {
    let _shared = shared();
    let (dir, db) = temp_path("db.log");
    let rest = path_in(&dir, "rest.log");
    let errors = path_in(&dir, "errors.log");
    let mut c = base_config();
    let fmt = Some("%(levelname)s %(name)s %(message)s".to_string());
    let mut s = FileSinkConfig::new(&db);
    s.common.include = vec!["app.db".into()];
    s.line.format = fmt.clone();
    c.sinks.push(s.into());
    let mut s = FileSinkConfig::new(&rest);
    s.common.exclude = vec!["app.db".into()];
    s.line.format = fmt.clone();
    c.sinks.push(s.into());
    let mut s = FileSinkConfig::new(&errors);
    s.common.level = LevelSpec::Name("ERROR".into());
    s.line.format = fmt;
    c.sinks.push(s.into());
    let collector = runtime::start(c).unwrap();
    let sender = sender(&collector.endpoints()[0], SocketMode::Xpub);
    for (name, level) in [
        ("app.db", 20),
        ("app.db.pool", 40),
        ("app.dbx", 20),
        ("app", 50),
        ("../../etc/passwd", 40),
    ] {
        sender.log(Record::new(name, level, "m"));
    }
    close(&sender);
    collector.stop(STOP).unwrap();
    assert_eq!(lines(&db), ["INFO app.db m", "ERROR app.db.pool m"]);
    assert_eq!(
        lines(&rest),
        [
            "INFO app.dbx m",
            "CRITICAL app m",
            "ERROR ../../etc/passwd m"
        ]
    );
    assert_eq!(
        lines(&errors),
        [
            "ERROR app.db.pool m",
            "CRITICAL app m",
            "ERROR ../../etc/passwd m"
        ]
    );
    // The logger name chose no file.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["db.log", "errors.log", "rest.log"]);
}

/// `style` works as Python's `Formatter(style=)`: `{` with `str.format` specs, `$` as
/// `string.Template`, and a style without a format gets the default line in that style.
#[test]
fn format_styles_brace_and_dollar_like_python() {
    let _shared = shared();
    let (dir, brace) = temp_path("brace.log");
    let dollar = path_in(&dir, "dollar.log");
    let default_brace = path_in(&dir, "default-brace.log");
    let mut c = base_config();
    let mut s = FileSinkConfig::new(&brace);
    s.line.style = Some("{".into());
    s.line.format = Some("{levelname:<8}|{name!r}|{message}|{user}|{lineno:05d}".into());
    c.sinks.push(s.into());
    let mut s = FileSinkConfig::new(&dollar);
    s.line.style = Some("$".into());
    s.line.format = Some("$levelname ${name}: $message ($user) $$".into());
    c.sinks.push(s.into());
    let mut s = FileSinkConfig::new(&default_brace);
    s.line.style = Some("{".into());
    c.sinks.push(s.into());
    let collector = runtime::start(c).unwrap();
    let sender = sender(&collector.endpoints()[0], SocketMode::Xpub);
    let mut r = Record::new("app", 20, "hi");
    r.lineno = Some(42);
    r.push_extra("user", serde_json::json!("bob"));
    sender.log(r);
    close(&sender);
    collector.stop(STOP).unwrap();
    assert_eq!(lines(&brace), ["INFO    |'app'|hi|bob|00042"]);
    assert_eq!(lines(&dollar), ["INFO app: hi (bob) $"]);
    let got = lines(&default_brace);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains(" INFO     app [") && got[0].ends_with("] hi"),
        "{got:?}"
    );
}

#[test]
fn metrics_endpoint_serves_counters_that_match() {
    let _shared = shared();
    let (_dir, path) = temp_path("m.log");
    let mut c = base_config();
    c.pull = vec!["tcp://127.0.0.1:0".into()];
    c.metrics = Some(MetricsConfig {
        listen: "127.0.0.1:0".into(),
    });
    c.sinks.push(file_sink(SinkKind::File, &path));
    let collector = runtime::start(c).unwrap();
    let addr = collector.metrics_addr().unwrap();
    let raw = RawPush::connect(&collector.pull_endpoints()[0]);
    for seq in 0..100u64 {
        let seq = if seq >= 50 { seq + 2 } else { seq };
        raw.send(&[&v1_frame("m", 20, "x", Some(("metrics\"sid", seq)))]);
    }
    raw.send(&[b"{oops"]);
    assert!(wait_until(Duration::from_secs(10), || {
        collector.stats().processed == 100
    }));
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let value = |name: &str| -> f64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} missing in\n{body}"))
            .parse()
            .unwrap()
    };
    assert_eq!(value("logfunnel_records_received_total"), 101.0);
    assert_eq!(value("logfunnel_records_accepted_total"), 100.0);
    assert_eq!(
        value("logfunnel_records_malformed_total{reason=\"invalid_json\"}"),
        1.0
    );
    assert_eq!(value("logfunnel_records_lost_total"), 2.0);
    let sink = path.display().to_string();
    assert_eq!(
        value(&format!(
            "logfunnel_records_written_total{{sink=\"{sink}\"}}"
        )),
        100.0
    );
    assert!(body.contains("# TYPE logfunnel_records_received_total counter"));
    assert!(
        body.contains("sid=\"metrics\\\"sid\""),
        "label escaped:\n{body}"
    );
    let stats = collector.stats();
    assert_eq!(stats.received, 101);
    let (status, _) = http_get(addr, "/nope");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    drop(raw);
    collector.stop(STOP).unwrap();
}

#[test]
fn live_view_republishes_accepted_records() {
    let _shared = shared();
    let mut c = base_config();
    c.pull = vec!["tcp://127.0.0.1:0".into()];
    c.tail = Some(TailConfig {
        publish: "tcp://127.0.0.1:0".into(),
        sndhwm: 10_000,
    });
    c.sinks.push({
        let mut s = ConsoleSinkConfig::default();
        s.common.level = LevelSpec::Number(100);
        s.into()
    });
    let collector = runtime::start(c).unwrap();
    let tail_ep = collector.tail_endpoint().unwrap().to_string();
    let ctx = zmq::Context::new();
    let sub = ctx.socket(zmq::SUB).unwrap();
    sub.set_subscribe(b"").unwrap();
    sub.connect(&tail_ep).unwrap();
    let raw = RawPush::connect(&collector.pull_endpoints()[0]);
    // PUB drops until the subscription has arrived: probe until one comes through.
    let mut seen = false;
    for _ in 0..500 {
        raw.send(&[&v1_frame("probe", 20, "p", None)]);
        if sub.poll(zmq::POLLIN, 10).unwrap() > 0 {
            seen = true;
            break;
        }
    }
    assert!(seen, "the live view never delivered");
    while sub.poll(zmq::POLLIN, 100).unwrap() > 0 {
        sub.recv_bytes(0).unwrap();
    }
    raw.send(&[b"not json"]);
    for i in 0..100 {
        raw.send(&[&v1_frame("live", 30, &format!("l{i}"), None)]);
    }
    let mut got = Vec::new();
    while got.len() < 100 && sub.poll(zmq::POLLIN, 5000).unwrap() > 0 {
        let frames = sub.recv_multipart(0).unwrap();
        assert_eq!(frames.len(), 1, "one frame, no topic");
        let v: serde_json::Value = serde_json::from_slice(&frames[0]).unwrap();
        if v["name"] == "probe" {
            continue;
        }
        got.push(v["msg"].as_str().unwrap().to_string());
    }
    let want: Vec<String> = (0..100).map(|i| format!("l{i}")).collect();
    assert_eq!(got, want);
    drop(raw);
    let summary = collector.stop(STOP).unwrap();
    assert!(summary.stats.tail_published >= 101);
}

#[test]
fn run_blocks_until_shutdown_and_drains() {
    let _shared = shared();
    let (_dir, path) = temp_path("run.log");
    let port = free_port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let mut c = jsonl_config(&path);
    c.bind = vec![ep.clone()];
    let shutdown = runtime::Shutdown::new();
    let runner = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || runtime::run(c, shutdown))
    };
    let s = sender(&ep, SocketMode::Xpub);
    log_n(&s, "run", "r", 3000);
    close(&s);
    shutdown.trigger();
    let summary = runner.join().unwrap().unwrap();
    assert_eq!(jsonl(&path).len(), 3000);
    assert_eq!(summary.stats.accepted, 3000);
    let per: HashMap<_, _> = check_per_sender_order(&jsonl(&path));
    assert_eq!(per.len(), 1);
}

#[test]
fn start_reports_busy_endpoints_and_bad_paths_naming_them() {
    let _shared = shared();
    let dir = tempdir();
    let first = runtime::start(base_config()).unwrap();
    let mut c = base_config();
    c.bind = vec![first.endpoints()[0].clone()];
    let e = runtime::start(c).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("bind[0]: cannot bind {}: ", first.endpoints()[0])),
        "{e}"
    );
    let file = path_in(&dir, "plain");
    std::fs::write(&file, "x").unwrap();
    let mut c = base_config();
    c.sinks
        .push(file_sink(SinkKind::File, &file.join("app.log")));
    let e = runtime::start(c).unwrap_err().to_string();
    assert!(e.starts_with("sink[0].path: "), "{e}");
    assert!(e.contains("plain"), "{e}");
    first.stop(STOP).unwrap();
}
