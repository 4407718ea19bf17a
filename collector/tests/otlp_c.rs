//! Records from C reach a real OpenTelemetry Collector through the real `logfunnel-collector`
//! binary with an otlp sink: `ffi/tests/c/otlp.c`, compiled against the committed header and linked
//! against the built `liblogfunnel.so`, logs three records while the peer is down (`lf_flush` times
//! out: nothing is acknowledged before the peer accepted it), the test starts the peer, and the
//! program's next `lf_flush` returns `LF_OK`; every mapped field is checked in the Collector's
//! file-exporter output.
//!
//! The C library is built by `cargo build -p logfunnel-ffi` (or any `cargo test` that includes
//! that crate); this test fails, naming the command, when it is missing or older than its sources.
//! The Collector is built by `tools/otelcol/build.sh` on first use; without Go this test fails.

mod otlp_support;
mod support;

use otlp_support::otelcol::{free_port, Otelcol};
use otlp_support::{attribute_map, wait_for};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_logfunnel-collector");
const LONG: Duration = Duration::from_secs(60);
const LF_OK: i64 = 0;
const LF_TIMED_OUT: i64 = 4;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The newest modification time of the `.rs` files under `dir`.
fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let time = if path.is_dir() {
            newest_source(&path)
        } else if path.extension().is_some_and(|e| e == "rs") {
            path.metadata().unwrap().modified().unwrap()
        } else {
            continue;
        };
        newest = newest.max(time);
    }
    newest
}

/// `target/<profile>/deps/liblogfunnel.so`, where cargo writes the ffi crate's library (beside
/// this test's executable), checked to be newer than the ffi and core sources.
fn c_library_dir() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let lib = dir.join("liblogfunnel.so");
    let built = lib
        .metadata()
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build -p logfunnel-ffi` first",
                lib.display()
            )
        });
    let newest =
        newest_source(&root().join("ffi/src")).max(newest_source(&root().join("core/src")));
    assert!(
        built >= newest,
        "{} is older than the ffi/core sources: run `cargo build -p logfunnel-ffi` first",
        lib.display()
    );
    dir
}

/// Compiles `ffi/tests/c/otlp.c` with the flags the ffi crate's C tests use.
fn build_c_program(out_dir: &Path) -> PathBuf {
    let lib = c_library_dir();
    let exe = out_dir.join("otlp-c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-std=c99",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
        ])
        .args(["-g", "-O1", "-pthread"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(root().join("ffi/tests/c/otlp.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg("-llogfunnel")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        out.status.success(),
        "compiling otlp.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// The C program, talked to over its stdin and stdout.
struct CProgram {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl CProgram {
    /// The `key=value` pairs of its next output line (a hang guard: the test's own timeout).
    fn next_values(&mut self) -> HashMap<String, i64> {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the C program exited early: {:?}",
            self.child.try_wait()
        );
        line.split_whitespace()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
            .collect()
    }
}

impl Drop for CProgram {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn records_from_c_arrive_with_every_mapped_field_and_flush_waits_for_the_peer() {
    let dir = support::tempdir();
    let exe = build_c_program(dir.path());
    let port = free_port(); // the peer starts later
    let sub = format!("ipc://{}", dir.path().join("sub").display());
    let config = dir.path().join("collector.toml");
    std::fs::write(
        &config,
        format!(
            "bind = [\"{sub}\"]\nflush_interval_ms = 20\n\n[[sink]]\nkind = \"otlp\"\n\
             name = \"otel\"\nendpoint = \"http://127.0.0.1:{port}/v1/logs\"\n\
             service_name = \"c-service\"\nbatch_timeout_ms = 20\nretry_initial_ms = 20\n\
             retry_max_ms = 300\n"
        ),
    )
    .unwrap();
    let stderr_path = dir.path().join("collector.stderr");
    let mut collector = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    wait_for("the collector to be ready", LONG, || {
        stderr()
            .contains("logfunnel-collector: ready")
            .then_some(())
    });

    let mut child = Command::new(&exe)
        .arg(&sub)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut program = CProgram { child, stdout };
    let lines = program.next_values();
    let held = program.next_values();
    assert_eq!(held["held"], LF_TIMED_OUT, "peer down: {held:?}");
    assert_eq!(held["acknowledged"], 0, "{held:?}");

    let col = Otelcol::start(dir.path(), port, &dir.path().join("out.json"), None);
    program
        .child
        .stdin
        .take()
        .unwrap()
        .write_all(b"go\n")
        .unwrap();
    let flushed = program.next_values();
    assert_eq!(flushed["flushed"], LF_OK, "peer up: {flushed:?}");
    assert_eq!(flushed["acknowledging"], 1, "{flushed:?}");
    assert_eq!(flushed["acknowledged"], 3, "{flushed:?}");
    assert_eq!(flushed["unacknowledged"], 0, "{flushed:?}");
    assert!(program.child.wait().unwrap().success());

    // Acknowledged means accepted by the peer; its file exporter writes every 50 ms.
    let records = wait_for("3 records at the Collector", LONG, || {
        let r = col.records();
        (r.len() >= 3).then_some(r)
    });
    assert_eq!(records.len(), 3, "{records:?}");
    check_records(&records, &lines, &exe);

    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(collector.id() as libc::pid_t, libc::SIGTERM) };
    assert!(collector.wait().unwrap().success(), "{}", stderr());
    assert!(!stderr().contains("not accepted by"), "{}", stderr());
}

fn check_records(records: &[(Value, Value)], lines: &HashMap<String, i64>, exe: &Path) {
    let s = |v: &str| json!({ "stringValue": v });
    let i = |v: i64| json!({ "intValue": v.to_string() });
    let source = root().join("ffi/tests/c/otlp.c");
    // Linux names a process's threads after the first 15 bytes of its executable's name.
    let comm: String = exe
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .chars()
        .take(15)
        .collect();
    for (resource, _) in records {
        let res = attribute_map(resource);
        assert_eq!(res["service.name"], s("c-service"));
        assert_eq!(res["host.name"], s("c-host"));
        assert_eq!(res["process.pid"], i(lines["pid"]));
    }
    let attrs: Vec<_> = records
        .iter()
        .map(|(_, r)| attribute_map(&r["attributes"]))
        .collect();
    // One sender: sid is the same for all three, seq counts them.
    for (n, a) in attrs.iter().enumerate() {
        assert_eq!(a["logfunnel.lang"], s("c"));
        assert_eq!(a["logfunnel.seq"], i(n as i64));
        assert_eq!(a["logfunnel.sid"], attrs[0]["logfunnel.sid"]);
        assert!(records[n].1["observedTimeUnixNano"].as_str().is_some());
    }

    let (_, full) = &records[0];
    assert_eq!(full["timeUnixNano"], "1764172693250000000");
    assert_eq!(full["severityNumber"], 17);
    assert_eq!(full["severityText"], "ERROR");
    assert_eq!(full["body"], s("write failed"));
    let want = [
        ("logger.name", s("app.c.db")),
        ("code.file.path", s(source.to_str().unwrap())),
        ("code.line.number", i(lines["record_line"])),
        ("code.function.name", s("main")),
        ("thread.id", i(4242)),
        ("thread.name", s("c-worker")),
        (
            "exception.stacktrace",
            s("Traceback (most recent call last):\n  File \"otlp.c\", line 1, in main\nOSError: disk gone\n"),
        ),
        ("exception.type", s("OSError")),
        ("exception.message", s("disk gone")),
        ("user", s("carol")),
        ("tries", i(3)),
        ("ratio", json!({"doubleValue": 0.5})),
        ("ok", json!({"boolValue": false})),
    ];
    for (key, value) in &want {
        assert_eq!(
            attrs[0].get(*key),
            Some(value),
            "attribute {key} in {:?}",
            attrs[0]
        );
    }
    // The C ABI sends no stack, process name or task name: nothing else is there.
    assert_eq!(attrs[0].len(), want.len() + 3, "{:?}", attrs[0]);

    let (_, warning) = &records[1];
    assert_eq!(warning["severityNumber"], 13);
    assert_eq!(warning["severityText"], "WARNING");
    assert_eq!(warning["body"], s("disk at 93%"));
    let a = &attrs[1];
    assert_eq!(a["logger.name"], s("app.c"));
    assert_eq!(a["code.file.path"], s(source.to_str().unwrap()));
    assert_eq!(a["code.line.number"], i(lines["macro_line"]));
    assert_eq!(a["code.function.name"], s("main"));
    assert_eq!(a["thread.name"], s(&comm));
    let thread = a["thread.id"]["intValue"].as_str().unwrap();
    assert!(thread.parse::<i64>().unwrap() != 0, "{a:?}");
    let created: u64 = warning["timeUnixNano"].as_str().unwrap().parse().unwrap();
    let observed: u64 = warning["observedTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        created > 1_600_000_000_000_000_000 && created <= observed,
        "{warning}"
    );
    assert!(!a.contains_key("exception.stacktrace"), "{a:?}");

    let (_, plain) = &records[2];
    assert_eq!(plain["severityNumber"], 9);
    assert_eq!(plain["severityText"], "INFO");
    assert_eq!(plain["body"], s("plain"));
    let a = &attrs[2];
    assert_eq!(a["logger.name"], s("root"), "the C sender's default logger");
    for key in ["code.file.path", "code.line.number", "code.function.name"] {
        assert!(!a.contains_key(key), "lf_log sends no location: {a:?}");
    }
    assert_eq!(
        a["thread.id"], attrs[1]["thread.id"],
        "the same calling thread"
    );
}
