//! Real C programs (tests/c/*.c), compiled against the committed include/logfunnel.h and linked
//! against the built shared and static libraries, log to a real ZeroMQ receiver; every message is
//! decoded with the collector's decoder and checked field by field.

mod common;

use common::{build, run_ok, run_to_receiver, values, Link, Received, Receiver};
use logfunnel_core::schema::Field;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const LINKS: [Link; 2] = [Link::Shared, Link::Static];
const WAIT: Duration = Duration::from_secs(60);

/// Checks `seq` strictly increases within each sender id.
fn assert_seq_increasing(records: &[Received]) {
    let mut last: HashMap<String, i64> = HashMap::new();
    for r in records {
        let sid = r.str("sid").to_string();
        let seq = r.int("seq");
        if let Some(prev) = last.insert(sid.clone(), seq) {
            assert!(seq > prev, "seq went from {prev} to {seq} for sender {sid}");
        }
    }
}

#[test]
fn single_thread_records_arrive_in_order_with_every_field() {
    let source = common::workspace_root().join("ffi/tests/c/single.c");
    for link in LINKS {
        let exe = build("single", link);
        let rx = Receiver::start();
        let n = 200;
        let out = run_ok(&exe, &[&rx.endpoint, &n.to_string()], None);
        let lines = values(&out, "");
        let got = rx.wait_for(n + 4, WAIT);
        assert_eq!(got.len(), n + 4, "{link:?}: all records arrive, no more");
        assert_seq_increasing(&got);
        let exe_name = exe.file_name().unwrap().to_string_lossy().to_string();
        let comm: String = exe_name.chars().take(15).collect();
        let pid = got[0].int("process");
        let levels = [
            (10, "DEBUG"),
            (20, "INFO"),
            (30, "WARNING"),
            (40, "ERROR"),
            (50, "CRITICAL"),
        ];
        for (i, r) in got[..n].iter().enumerate() {
            let j = &r.json;
            assert_eq!(r.str("msg"), format!("record {i}"), "{link:?}: order");
            assert_eq!(r.str("name"), "app.single");
            assert_eq!(r.int("levelno"), levels[i % 5].0);
            assert_eq!(r.str("levelname"), levels[i % 5].1);
            assert_eq!(r.str("pathname"), source.display().to_string());
            assert_eq!(r.str("filename"), "single.c");
            assert_eq!(r.str("module"), "single");
            assert_eq!(r.int("lineno"), lines["record_line"]);
            assert_eq!(r.str("funcName"), "main");
            assert_eq!(r.str("lang"), "c");
            assert_eq!(r.int("process"), pid);
            assert!(r.int("thread") > 0);
            assert_eq!(r.str("threadName"), comm);
            assert!(j["created"].as_f64().unwrap() > 1.6e9);
            assert!(j["relativeCreated"].as_f64().unwrap() >= 0.0);
            assert!(!r.str("host").is_empty());
            assert_eq!(j["i"], i as i64);
            assert_eq!(j["user"], "alice");
            assert_eq!(j["ratio"], i as f64 / 4.0);
            assert_eq!(j["even"], i % 2 == 0);
            assert_eq!(j["obj"], serde_json::json!({"a": [1, 2]}));
            assert!(j.get("nothing").is_some_and(|v| v.is_null()));
            assert_eq!(j["extra.msg"], "shadow", "a reserved key is renamed");
            // The decoder sees the same user fields, in the order they were given.
            let keys: Vec<&str> = r.record.extra.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                keys,
                ["i", "user", "ratio", "even", "obj", "nothing", "extra.msg"]
            );
        }
        let m = &got[n];
        assert_eq!(m.str("msg"), "macro message");
        assert_eq!(
            m.str("name"),
            "single-default",
            "NULL logger: default logger"
        );
        assert_eq!(m.str("levelname"), "WARNING");
        assert_eq!(m.int("lineno"), lines["macro_line"]);
        assert_eq!(m.str("funcName"), "main");
        assert_eq!(m.str("filename"), "single.c");

        let e = &got[n + 1];
        assert_eq!(e.str("name"), "app.exc");
        assert_eq!(
            e.str("exc_text"),
            "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: boom"
        );
        assert_eq!(
            e.str("stack_info"),
            "Stack (most recent call last):\n  here"
        );
        assert_eq!(e.str("threadName"), "custom-thread");
        assert_eq!(e.int("thread"), 4242);
        assert_eq!(e.json["created"], 1700000000.25);
        assert_eq!(e.json["msecs"], 250.0);

        let p = &got[n + 2];
        assert_eq!((p.str("name"), p.str("msg")), ("app.plain", "plain msg"));
        assert!(p.json.get("pathname").is_none() && p.json.get("lineno").is_none());

        let w = &got[n + 3];
        assert_eq!(
            (w.str("name"), w.str("msg"), w.str("filename")),
            ("app.worker", "elsewhere", "Worker.java")
        );
        assert!(
            w.json.get("lineno").is_none(),
            "line 0 means no line: {:?}",
            w.json
        );
        assert!(
            w.json.get("thread").is_none(),
            "thread_id < 0 leaves thread out"
        );

        let stats = values(&out, "stats");
        assert_eq!(stats["enqueued"], n as i64 + 4);
        assert_eq!(stats["sent"], n as i64 + 4);
        assert_eq!(stats["dropped"], 0);
        assert_eq!(stats["connected"], 1);
        // A plain SUB never announces itself: the sender stays on the unacknowledged path.
        assert_eq!(stats["acknowledging"], 0, "{out}");
        assert_eq!(stats["acknowledged"], 0, "{out}");
        assert_eq!(stats["resent"], 0, "{out}");
    }
}

#[test]
fn many_threads_share_one_sender_and_lose_nothing() {
    for (link, threads, per_thread) in [(Link::Shared, 8, 10_000), (Link::Static, 4, 2_000)] {
        let exe = build("threads", link);
        let rx = Receiver::start();
        let out = run_ok(
            &exe,
            &[&rx.endpoint, &threads.to_string(), &per_thread.to_string()],
            None,
        );
        assert_eq!(values(&out, "")["not_ok"], 0, "{link:?}: {out}");
        let total = threads * per_thread;
        let got = rx.wait_for(total, WAIT);
        assert_eq!(got.len(), total, "{link:?}: every record arrives once");
        assert_seq_increasing(&got);
        let sids: HashSet<&str> = got.iter().map(|r| r.str("sid")).collect();
        assert_eq!(sids.len(), 1);
        let mut next = vec![0i64; threads];
        let mut thread_ids: Vec<HashSet<i64>> = vec![HashSet::new(); threads];
        for r in &got {
            let t = r.int("t") as usize;
            let i = r.int("i");
            assert_eq!(
                i, next[t],
                "{link:?}: thread {t}'s records arrive in its order"
            );
            next[t] += 1;
            assert_eq!(r.str("msg"), format!("t{t}-{i}"));
            assert_eq!(r.str("threadName"), format!("worker-{t}"));
            thread_ids[t].insert(r.int("thread"));
        }
        assert!(thread_ids.iter().all(|ids| ids.len() == 1));
        let stats = values(&out, "stats");
        assert_eq!(stats["sent"], total as i64);
        assert_eq!(stats["dropped"], 0);
    }
}

#[test]
fn a_forked_child_logs_with_its_own_sender_id_while_the_parent_keeps_logging() {
    for link in LINKS {
        let exe = build("fork", link);
        let rx = Receiver::start();
        let (p, c) = (300usize, 400usize);
        let out = run_ok(&exe, &[&rx.endpoint, &p.to_string(), &c.to_string()], None);
        let got = rx.wait_for(2 * p + c, WAIT);
        assert_eq!(got.len(), 2 * p + c, "{link:?}: all records arrive\n{out}");
        assert_seq_increasing(&got);
        let child_pid = values(&out, "")["child_pid"];
        let (child, parent): (Vec<&Received>, Vec<&Received>) =
            got.iter().partition(|r| r.str("role") == "child");
        assert_eq!(child.len(), c);
        assert_eq!(parent.len(), 2 * p);
        let child_sids: HashSet<&str> = child.iter().map(|r| r.str("sid")).collect();
        let parent_sids: HashSet<&str> = parent.iter().map(|r| r.str("sid")).collect();
        assert_eq!(child_sids.len(), 1);
        assert_eq!(parent_sids.len(), 1);
        assert!(
            child_sids.is_disjoint(&parent_sids),
            "the child has its own sid"
        );
        assert!(child.iter().all(|r| r.int("process") == child_pid));
        assert!(parent.iter().all(|r| r.int("process") != child_pid));
        for (i, r) in child.iter().enumerate() {
            assert_eq!(r.str("msg"), format!("child {i}"));
            assert_eq!(r.int("seq"), i as i64, "the child's sequence starts at 0");
        }
        let parent_msgs: Vec<&str> = parent.iter().map(|r| r.str("msg")).collect();
        let want: Vec<String> = (0..p)
            .map(|i| format!("before {i}"))
            .chain((0..p).map(|i| format!("after {i}")))
            .collect();
        assert_eq!(
            parent_msgs, want,
            "{link:?}: the parent's records, in order"
        );
        assert_eq!(values(&out, "child_stats")["sent"], c as i64);
        assert_eq!(values(&out, "parent_stats")["sent"], 2 * p as i64);
    }
}

#[test]
fn exiting_right_after_close_or_free_loses_nothing() {
    for link in LINKS {
        for mode in ["close", "free"] {
            let exe = build("exit_fast", link);
            let rx = Receiver::start();
            let n = 3000;
            run_ok(&exe, &[&rx.endpoint, &n.to_string(), mode], None);
            let got = rx.wait_for(n, WAIT);
            assert_eq!(got.len(), n, "{link:?} {mode}: nothing lost at exit");
            for (i, r) in got.iter().enumerate() {
                assert_eq!(r.str("msg"), format!("exit {i}"));
                assert_eq!(r.str("filename"), "exit_fast.c");
            }
        }
    }
}

#[test]
fn exiting_without_close_does_not_hang() {
    // Without lf_close the queued records may be lost (the README says to close), but the process
    // must still exit promptly: run's hang guard fails the test otherwise.
    let exe = build("exit_fast", Link::Shared);
    let rx = Receiver::start();
    run_ok(&exe, &[&rx.endpoint, "3000", "none"], None);
    let got = rx.wait_for(3000, Duration::from_millis(500));
    assert!(got.len() <= 3000);
    for (i, r) in got.iter().enumerate() {
        assert_eq!(
            r.str("msg"),
            format!("exit {i}"),
            "what arrives is in order"
        );
    }
}

#[test]
fn without_a_collector_calls_and_close_are_bounded_and_drops_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    for link in LINKS {
        // An ipc path nobody listens on: the connect succeeds and waits for a peer forever.
        let endpoint = format!("ipc://{}/nobody-{}", dir.path().display(), link.name());
        let exe = build("no_collector", link);

        let out = run_ok(&exe, &[&endpoint, "xpub", "1000"], None);
        let v = values(&out, "");
        // XPUB sends nothing before a subscriber: 100 fill the queue, one waits the block timeout,
        // the rest drop at once (the sender is marked stalled).
        assert_eq!(v["ok"], 100, "{out}");
        assert_eq!(v["queue_full"], 900, "{out}");
        assert_eq!(v["flush_rc"], 4, "flush times out: LF_TIMED_OUT");
        assert_eq!(v["close_rc"], 4, "close times out: LF_TIMED_OUT");
        // lf_close(300 ms) returned: bounded (libzmq's default linger would wait forever).
        assert!(v["close_ms"] < 10_000, "{out}");
        let stats = values(&out, "stats");
        assert_eq!(stats["dropped_queue_full"], 900);
        assert_eq!(stats["dropped_at_close"], 100);
        assert_eq!(stats["dropped"], 1000);
        assert_eq!(stats["sent"], 0);
        assert_eq!(stats["connected"], 0);

        let out = run_ok(&exe, &[&endpoint, "push", "1000"], None);
        let v = values(&out, "");
        assert_eq!(v["ok"] + v["queue_full"], 1000, "{out}");
        assert!(v["close_ms"] < 10_000, "{out}");
    }
}

#[test]
fn invalid_arguments_get_their_codes_and_odd_input_is_logged_as_documented() {
    for link in LINKS {
        let (rx, out) = run_to_receiver("invalid_args", link, &[], None);
        assert!(out.lines().any(|l| l == "ok"), "{out}");
        let got = rx.wait_for(5, WAIT);
        assert_eq!(got.len(), 5, "{link:?}: only the valid calls are logged");
        let r = &got[0];
        assert_eq!(r.str("name"), "bad.\u{FFFD}(");
        assert_eq!(r.str("msg"), "caf\u{FFFD} \u{FFFD}\u{FFFD} ok");
        let r = &got[1];
        assert_eq!((r.str("name"), r.str("msg")), ("root", ""));
        assert_eq!(got[2].str("msg"), "a\u{0}b");
        let r = &got[3];
        assert_eq!(r.json["k\u{FFFD}"], "v\u{FFFD}");
        assert_eq!(r.json[""], "empty key");
        assert_eq!(r.str("msg"), "");
        let r = &got[4];
        assert_eq!((r.str("name"), r.str("msg")), ("empty", ""));
        assert!(r.json.get("pathname").is_none() && r.json.get("funcName").is_none());
        let stats = values(&out, "stats");
        assert_eq!(stats["enqueued"], 5);
        assert_eq!(stats["dropped_closed"], 1, "the call after close");
    }
}

#[test]
fn printf_macros_format_in_c_with_the_caller_location() {
    for link in LINKS {
        let (rx, out) = run_to_receiver("printf", link, &[], None);
        let got = rx.wait_for(6, WAIT);
        assert_eq!(got.len(), 6);
        let r = &got[0];
        assert_eq!(r.str("msg"), "int=42 str=x float=3.14");
        assert_eq!(r.str("name"), "fmt");
        assert_eq!(r.str("levelname"), "INFO");
        assert_eq!(r.int("lineno"), values(&out, "")["line"]);
        assert_eq!(r.str("funcName"), "main");
        assert_eq!(r.str("filename"), "printf.c");
        assert_eq!(got[1].str("msg"), format!("len=5000 {}", "x".repeat(5000)));
        assert_eq!(got[2].str("msg"), "x".repeat(511));
        assert_eq!(got[3].str("msg"), "x".repeat(512));
        assert_eq!(got[3].str("levelname"), "CRITICAL");
        let r = &got[4];
        assert_eq!((r.str("name"), r.str("msg")), ("root", "plain %"));
        assert_eq!(r.str("levelname"), "DEBUG");
        let r = &got[5];
        assert_eq!((r.str("name"), r.str("msg")), ("app.wrapped", "wrapped 7"));
        assert_eq!((r.str("filename"), r.int("lineno")), ("wrapper.c", 7));
        assert_eq!(r.str("funcName"), "app_log");
    }
}

/// Hex of `bytes`, or "=" for none (the vectors program's encoding).
fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "=".into();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A string given either as `key` (text) or `key_hex` (raw bytes, possibly invalid UTF-8).
fn vector_bytes(case: &serde_json::Value, key: &str) -> Option<Vec<u8>> {
    if let Some(h) = case[format!("{key}_hex")].as_str() {
        let h: String = h.split_whitespace().collect();
        return Some(
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect(),
        );
    }
    case[key].as_str().map(|s| s.as_bytes().to_vec())
}

/// One input line for tests/c/vectors.c from a case in `spec/vectors/send.json`'s shape.
fn vector_line(case: &serde_json::Value) -> String {
    use serde_json::Value;
    let opt = |k: &str| vector_bytes(case, k).map_or("-".to_string(), |b| hex(&b));
    let mut line = format!(
        "{} {:?} {} {} {}",
        case["level"].as_i64().expect("level"),
        case["created"].as_f64().unwrap_or(0.0),
        opt("logger"),
        opt("msg"),
        opt("exc_text")
    );
    let fields = case["fields"].as_array().cloned().unwrap_or_default();
    line += &format!(" {}", fields.len());
    for f in fields {
        let key = f[0].as_str().expect("field key");
        // The lf_field kind a C caller would pick for this value.
        let (kind, text) = match &f[1] {
            Value::String(s) => (0, s.clone()),
            Value::Number(n) if n.is_i64() => (1, n.to_string()),
            Value::Number(n) if n.is_u64() => (4, n.to_string()),
            Value::Number(n) => (2, format!("{:?}", n.as_f64().unwrap())),
            Value::Bool(b) => (3, (*b as i32).to_string()),
            Value::Null => (5, String::new()),
            other => (4, other.to_string()),
        };
        line += &format!(" {} {kind} {}", hex(key.as_bytes()), hex(text.as_bytes()));
    }
    line
}

/// The `unicode_*` and `extra_*` cases of `spec/vectors/decode.json` as log calls: their decoded
/// record's name, message, level, time and user fields go in, and the same record must come out.
fn decode_json_cases() -> Vec<serde_json::Value> {
    let path = common::workspace_root().join("spec/vectors/decode.json");
    let text = std::fs::read_to_string(&path).expect("spec/vectors/decode.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("decode.json is JSON");
    let mut out = Vec::new();
    for case in doc["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("");
        let Some(record) = case["expect"]["record"].as_object() else {
            continue;
        };
        if !(name.starts_with("unicode_") || name.starts_with("extra_")) {
            continue;
        }
        let fields: Vec<serde_json::Value> = record
            .iter()
            .filter(|(k, _)| Field::from_key(k).is_none())
            .map(|(k, v)| serde_json::json!([k, v]))
            .collect();
        out.push(serde_json::json!({
            "name": format!("decode.json:{name}"),
            "level": record["levelno"],
            "created": record["created"],
            "logger": record["name"],
            "msg": record["msg"],
            "fields": fields,
            "expect": record,
        }));
    }
    out
}

#[test]
fn shared_send_vectors_arrive_as_expected() {
    let path = common::workspace_root().join("spec/vectors/send.json");
    let text = std::fs::read_to_string(&path).expect("spec/vectors/send.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("send.json is JSON");
    let mut cases = doc["cases"].as_array().expect("cases").clone();
    assert!(cases.len() >= 5);
    let from_decode = decode_json_cases();
    assert!(
        from_decode.len() >= 4,
        "decode.json has unicode_/extra_ cases"
    );
    cases.extend(from_decode);
    let input: String = cases.iter().map(|c| vector_line(c) + "\n").collect();
    for link in LINKS {
        let (rx, out) = run_to_receiver("vectors", link, &[], Some(input.as_bytes()));
        assert_eq!(values(&out, "")["replayed"], cases.len() as i64);
        let got = rx.wait_for(cases.len(), WAIT);
        assert_eq!(got.len(), cases.len());
        for (case, r) in cases.iter().zip(&got) {
            assert_eq!(r.str("lang"), "c");
            let name = case["name"].as_str().unwrap_or("?");
            for (key, want) in case["expect"].as_object().expect("expect") {
                assert_eq!(&r.json[key], want, "{link:?} case {name:?}: key {key}");
            }
            for key in case["absent"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap();
                assert!(r.json.get(key).is_none(), "case {name:?}: {key} present");
            }
        }
    }
}
