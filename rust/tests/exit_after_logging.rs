//! A real child process that logs through `log` and `tracing` and exits right after dropping its
//! guard: everything it logged must be at the collector. On the way it forks, and its forked child
//! logs through the same global logger and layer (fork safety).
//!
//! `harness = false`: this binary is both the test (no argument) and the child (started again by
//! itself with [`CHILD_ENV`] naming the collector's endpoint), which installs the process-global
//! logger and subscriber exactly as an application would.

mod common;

use common::Collector;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tracing_subscriber::prelude::*;

const CHILD_ENV: &str = "LOGFUNNEL_TEST_CHILD_ENDPOINT";
/// Records of each kind (log, tracing) the child logs before and after the fork, and its fork logs.
const PER_KIND: u64 = 2_000;
const FORKED: u64 = 500;

const NAME: &str = "exit_after_logging";

fn main() {
    if let Ok(endpoint) = std::env::var(CHILD_ENV) {
        return child(&endpoint);
    }
    // Speak enough of libtest's command line and output for `cargo test FILTER`, `--list` and the
    // scripts that sum the `test result:` lines.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let mut filters = Vec::new();
    let mut args_left = args.iter();
    while let Some(arg) = args_left.next() {
        match arg.as_str() {
            "--test-threads" | "--skip" | "--format" | "--color" | "--logfile" | "-Z" => {
                args_left.next();
            }
            a if !a.starts_with('-') => filters.push(a),
            _ => {}
        }
    }
    let filtered_out = !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f));
    let started = Instant::now();
    if filtered_out {
        println!("\nrunning 0 tests");
    } else {
        println!("\nrunning 1 test");
        parent();
        println!("test {NAME} ... ok");
    }
    let (passed, skipped) = if filtered_out { (0, 1) } else { (1, 0) };
    println!(
        "\ntest result: ok. {passed} passed; 0 failed; 0 ignored; 0 measured; {skipped} filtered out; \
         finished in {:.2}s\n",
        started.elapsed().as_secs_f64()
    );
}

fn parent() {
    let collector = Collector::start("%(message)s");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, &collector.endpoint)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A bound so that a hung child fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the child did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(status.success(), "child: {status}; stderr:\n{stderr}");
    assert_eq!(stderr, "", "the guard reports any loss on stderr");

    let got = collector.stop();
    let by_process = group_by(&got.records, "process");
    assert_eq!(by_process.len(), 2, "the child and its forked child");
    let child_pid = child.id() as i64;
    let forked = by_process.keys().find(|p| **p != child_pid).unwrap();

    let mine = &by_process[&child_pid];
    assert_eq!(mine.len() as u64, 4 * PER_KIND);
    check_seq(mine);
    let kinds = group_by_str(mine, "name");
    assert_eq!(kinds["exit::log"].len() as u64, 2 * PER_KIND);
    assert_eq!(kinds["exit::tracing"].len() as u64, 2 * PER_KIND);
    for (i, r) in kinds["exit::log"].iter().enumerate() {
        assert_eq!(r["msg"], format!("log {i}"));
    }
    for (i, r) in kinds["exit::tracing"].iter().enumerate() {
        assert_eq!(r["msg"], format!("tracing {i}"));
        assert_eq!(r["spans"], "job");
    }

    let theirs = &by_process[forked];
    assert_eq!(theirs.len() as u64, 2 * FORKED);
    check_seq(theirs);
    assert_ne!(
        theirs[0]["sid"], mine[0]["sid"],
        "a forked child is a new sender"
    );
}

/// The application: global logger and subscriber, log, fork, log, drop the guard, exit at once.
fn child(endpoint: &str) {
    let (funnel, guard) = logfunnel::Builder::new(endpoint).build().unwrap();
    funnel
        .logger()
        .max_level(log::LevelFilter::Trace)
        .install()
        .unwrap();
    tracing_subscriber::registry().with(funnel.layer()).init();
    let job = tracing::info_span!("job");
    let mut log_n = 0;
    let mut tracing_n = 0;
    let mut both = |n: u64| {
        for _ in 0..n {
            log::info!(target: "exit::log", "log {log_n}");
            log_n += 1;
            job.in_scope(|| tracing::info!(target: "exit::tracing", "tracing {tracing_n}"));
            tracing_n += 1;
        }
    };
    both(PER_KIND);

    // SAFETY: the forked child logs (the sender rebuilds its socket there) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        for i in 0..FORKED {
            log::warn!(target: "exit::forked", "forked log {i}");
            tracing::warn!(target: "exit::forked", "forked tracing {i}");
        }
        drop(guard);
        // SAFETY: leaving the forked child without running the parent's exit handlers.
        unsafe { libc::_exit(0) };
    }
    both(PER_KIND);
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    drop(guard);
    std::process::exit(0);
}

fn group_by<'a>(records: &'a [Value], key: &str) -> BTreeMap<i64, Vec<&'a Value>> {
    let mut out: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for r in records {
        out.entry(r[key].as_i64().unwrap()).or_default().push(r);
    }
    out
}

fn group_by_str<'a>(records: &[&'a Value], key: &str) -> BTreeMap<String, Vec<&'a Value>> {
    let mut out: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in records {
        out.entry(r[key].as_str().unwrap().to_owned())
            .or_default()
            .push(r);
    }
    out
}

/// One sender's records: each once, in `seq` order, from 0.
fn check_seq(records: &[&Value]) {
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64, "{r}");
        assert_eq!(r["sid"], records[0]["sid"]);
    }
}
