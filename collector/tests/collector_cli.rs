//! The `logfunnel-collector` binary for real: config errors name the key and exit 2 before anything
//! runs, `--check-config` on the shipped example, SIGTERM drains records in flight and exits 0, SIGHUP
//! reopens a file renamed under it, the `tail` subcommand shows what the collector accepts.

mod support;

use logfunnel_core::{Record, SocketMode};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use support::proc::{assert_config_refused, run, serial, Proc, BIN};
use support::*;

fn ipc(dir: &tempfile::TempDir, name: &str) -> String {
    format!("ipc://{}", dir.path().join(name).display())
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let p = dir.path().join("c.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn help_is_there_for_a_new_user() {
    let _serial = serial();
    let dir = tempdir();
    let out = run(&["--help"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Examples:",
        "--file",
        "--config",
        "--check-config",
        "tail",
        "SIGHUP",
    ] {
        assert!(text.contains(want), "--help lacks {want}:\n{text}");
    }
    let out = run(&["--bogus"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_config_error_names_the_key_and_exits_2() {
    let _serial = serial();
    let dir = tempdir();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, "x").unwrap();
    let sock = ipc(&dir, "s");
    let cases: Vec<(String, String)> = vec![
        (
            format!("bind = [\"{sock}\"]\n[[sink]]\nkind = \"console\"\ncolr = \"always\"\n"),
            "sink[0].colr".into(),
        ),
        (
            format!("bind = [\"{sock}\"]\n[[sink]]\nkind = \"file\"\npath = \"a.log\"\nlevel = \"LOUD\"\n"),
            "sink[0].level: \"LOUD\" is not a level".into(),
        ),
        (
            format!("bind = [\"{sock}\"]\n[[sink]]\nkind = \"rotating_file\"\npath = \"a.log\"\nwhen = \"X\"\n"),
            "sink[0].when: \"X\" is not one of S, M, H, D, MIDNIGHT, W0-W6".into(),
        ),
        (
            format!("bind = [\"{sock}\"]\n[[sink]]\nkind = \"file\"\npath = \"a.log\"\nformat = \"%(message\"\n"),
            "sink[0].format".into(),
        ),
        (
            format!(
                "bind = [\"{sock}\"]\n[[sink]]\nkind = \"file\"\npath = \"{}\"\n",
                plain.join("app.log").display()
            ),
            "sink[0].path".into(),
        ),
        (
            format!("bind = [\"tcp://127.0.0.1:{busy_port}\"]\n"),
            format!("bind[0]: cannot bind tcp://127.0.0.1:{busy_port}: Address already in use"),
        ),
        (
            format!("bind = [\"{sock}\"]\n[metrics]\nlisten = \"127.0.0.1:{busy_port}\"\n"),
            format!("metrics.listen: cannot listen on 127.0.0.1:{busy_port}"),
        ),
        (
            format!("bind = [\"{sock}\"]\nflush_interval_ms = \"soon\"\n"),
            "flush_interval_ms".into(),
        ),
    ];
    for (text, want) in &cases {
        let config = write_config(&dir, text);
        assert_config_refused(&config, dir.path(), &["logfunnel-collector: error: ", want]);
    }
    // Nothing ran: no log file was created by any of them.
    assert!(!dir.path().join("a.log").exists());
    // Flags are checked the same way and name the flag.
    let out = run(
        &["--bind", &sock, "--file", "x.log", "--when", "fortnight"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--when: \"fortnight\""));
    drop(busy);
}

#[test]
fn the_example_config_checks_and_runs_as_written() {
    let _serial = serial();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/collector.toml");
    let dir = tempdir();
    let example_s = example.to_str().unwrap();
    let out = run(&["--config", example_s, "--check-config"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains("logs/app.log"), "{stdout}");
    // --check-config creates nothing.
    assert!(!dir.path().join("logs").exists());

    // Run it with every key as written, only the fixed ports swapped for free ones so parallel runs
    // cannot clash.
    let text = std::fs::read_to_string(&example).unwrap();
    let sub = ipc(&dir, "sub");
    let text = text
        .replace("tcp://127.0.0.1:5555", &sub)
        .replace("127.0.0.1:9102", "127.0.0.1:0")
        .replace("tcp://127.0.0.1:5556", "tcp://127.0.0.1:0");
    let config = write_config(&dir, &text);
    let p = Proc::spawn(&["--config", config.to_str().unwrap()], dir.path());
    let s = sender(&sub, SocketMode::Xpub);
    s.log(Record::new("app.web", 20, "to app.log"));
    s.log(Record::new("app.db.pool", 20, "to db.log"));
    s.log(Record::new("app.web", 40, "to app.log and errors.log"));
    close(&s);
    p.signal(libc::SIGTERM);
    let (code, stderr) = p.wait();
    assert_eq!(code, 0, "{stderr:?}");
    let logs = dir.path().join("logs");
    assert_eq!(lines(&logs.join("app.log")).len(), 2);
    assert_eq!(lines(&logs.join("db.log")).len(), 1);
    assert_eq!(lines(&logs.join("errors.log")).len(), 1);
    assert_eq!(jsonl(&logs.join("records.jsonl")).len(), 3);
    // The console sink (WARNING and above) printed the error.
    assert!(stderr
        .iter()
        .any(|l| l == "ERROR app.web: to app.log and errors.log"));
}

#[test]
fn sigterm_drains_records_in_flight_and_exits_0() {
    let _serial = serial();
    const N: u64 = 50_000;
    let dir = tempdir();
    let sub = ipc(&dir, "sub");
    let out = dir.path().join("out.jsonl");
    let p = Proc::spawn(
        &[
            "--bind",
            &sub,
            "--jsonl",
            out.to_str().unwrap(),
            "--no-console",
        ],
        dir.path(),
    );
    let s = sender(&sub, SocketMode::Xpub);
    log_n(&s, "drain", "d", N);
    close(&s);
    p.signal(libc::SIGTERM);
    let (code, stderr) = p.wait();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(stderr.iter().any(|l| l.contains("SIGTERM: stopping")));
    let records = jsonl(&out);
    assert_eq!(records.len() as u64, N);
    let per = check_per_sender_order(&records);
    assert_eq!(per.values().copied().collect::<Vec<_>>(), [N]);
}

#[test]
fn sighup_reopens_a_file_renamed_under_the_collector() {
    let _serial = serial();
    let dir = tempdir();
    let sub = ipc(&dir, "sub");
    let log = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let p = Proc::spawn(
        &[
            "--bind",
            &sub,
            "--file",
            log.to_str().unwrap(),
            "--format",
            "%(message)s",
        ],
        dir.path(),
    );
    let s = sender(&sub, SocketMode::Xpub);
    log_n(&s, "hup", "before", 100);
    s.flush(Duration::from_secs(10));
    assert!(wait_until(Duration::from_secs(10), || lines(&log).len() == 100));
    std::fs::rename(&log, &rotated).unwrap();
    p.signal(libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(10), || log.exists()),
        "no new file after SIGHUP: {:?}",
        p.lines()
    );
    log_n(&s, "hup", "after", 100);
    close(&s);
    p.signal(libc::SIGTERM);
    let (code, stderr) = p.wait();
    assert_eq!(code, 0, "{stderr:?}");
    let want = |tag: &str| -> Vec<String> { (0..100).map(|i| format!("{tag} {i}")).collect() };
    assert_eq!(lines(&rotated), want("before"));
    assert_eq!(lines(&log), want("after"));
}

#[test]
fn second_signal_exits_at_once() {
    let _serial = serial();
    let dir = tempdir();
    let sub = ipc(&dir, "sub");
    let p = Proc::spawn(
        &["--bind", &sub, "--no-console", "--jsonl", "x.jsonl"],
        dir.path(),
    );
    // A sender that keeps sending keeps the drain busy, so only the second signal can end it.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        let sub = sub.clone();
        std::thread::spawn(move || {
            let s = sender(&sub, SocketMode::Xpub);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.log(Record::new("flood", 20, "x"));
            }
            s.close(Duration::from_secs(1));
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    p.signal(libc::SIGINT);
    assert!(wait_until(Duration::from_secs(10), || p.has_line("SIGINT: stopping")));
    p.signal(libc::SIGINT);
    let (code, stderr) = p.wait();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flood.join().unwrap();
    assert_eq!(code, 130, "{stderr:?}");
}

#[test]
fn tail_shows_what_the_collector_accepts() {
    let _serial = serial();
    let dir = tempdir();
    let sub = ipc(&dir, "sub");
    let publish = ipc(&dir, "tail");
    let p = Proc::spawn(
        &[
            "--bind",
            &sub,
            "--publish",
            &publish,
            "--no-console",
            "--jsonl",
            "x.jsonl",
        ],
        dir.path(),
    );
    let tail = Command::new(BIN)
        .args([
            "tail",
            "--connect",
            &publish,
            "--level",
            "ERROR",
            "--logger",
            "app.db",
            "--format",
            "%(levelname)s %(name)s %(message)s",
            "--count",
            "5",
            "--colour",
            "never",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tail_pid = tail.id();
    // The live view is lossy and the viewer joins late: send rounds until it has its 5 lines.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let feeder = {
        let done = done.clone();
        let sub = sub.clone();
        std::thread::spawn(move || {
            let s = sender(&sub, SocketMode::Xpub);
            let mut round = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && round < 2000 {
                s.log(Record::new("app.db.pool", 40, format!("wanted {round}")));
                s.log(Record::new("app.db", 20, "too low"));
                s.log(Record::new("app.web", 50, "other logger"));
                round += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            close(&s);
        })
    };
    let out = tail.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    feeder.join().unwrap();
    assert!(out.status.success(), "tail {tail_pid}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), 5, "{text}");
    for l in got {
        assert!(l.starts_with("ERROR app.db.pool wanted "), "{l}");
    }
    p.signal(libc::SIGTERM);
    let (code, _) = p.wait();
    assert_eq!(code, 0);
}

#[test]
fn metrics_and_stats_through_the_binary() {
    let _serial = serial();
    let dir = tempdir();
    let sub = ipc(&dir, "sub");
    let p = Proc::spawn(
        &[
            "--bind",
            &sub,
            "--metrics",
            "127.0.0.1:0",
            "--no-console",
            "--jsonl",
            "x.jsonl",
        ],
        dir.path(),
    );
    let addr: std::net::SocketAddr = p
        .lines()
        .iter()
        .find_map(|l| {
            l.strip_prefix("logfunnel-collector: metrics on http://")
                .and_then(|r| r.strip_suffix("/metrics"))
                .map(|a| a.parse().unwrap())
        })
        .expect("metrics address on stderr");
    let s = sender(&sub, SocketMode::Xpub);
    log_n(&s, "m", "x", 250);
    close(&s);
    assert!(wait_until(Duration::from_secs(10), || {
        http_get(addr, "/metrics")
            .1
            .contains("logfunnel_records_written_total{sink=\"x.jsonl\"} 250\n")
    }));
    p.signal(libc::SIGTERM);
    let (code, stderr) = p.wait();
    assert_eq!(code, 0);
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped: received=250 accepted=250 malformed=0 lost=0")),
        "{stderr:?}"
    );
}
