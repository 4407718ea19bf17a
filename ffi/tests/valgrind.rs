//! The C programs once more under valgrind (memcheck): no invalid reads or writes, no use of
//! uninitialized memory, no definite leaks. Skipped, with a message, where valgrind is not installed.

mod common;

use common::{build, run, Link, Receiver};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `program` (linked against the shared library) under memcheck; fails on any error it reports.
fn memcheck(program: &str, args: &[&str]) {
    let exe = build(program, Link::Shared);
    let mut vg_args = vec![
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        "--show-leak-kinds=definite",
        "--track-origins=yes",
        "--quiet",
    ];
    let exe = exe.display().to_string();
    vg_args.push(&exe);
    vg_args.extend_from_slice(args);
    let out = run(
        Path::new("valgrind"),
        &vg_args,
        None,
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "valgrind {program} {args:?}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn c_programs_are_clean_under_valgrind() {
    if !valgrind_available() {
        eprintln!("SKIPPED c_programs_are_clean_under_valgrind: valgrind is not installed (apt-get install valgrind)");
        return;
    }
    let rx = Receiver::start();
    memcheck("single", &[&rx.endpoint, "100"]);
    memcheck("invalid_args", &[&rx.endpoint]);
    memcheck("printf", &[&rx.endpoint]);
    memcheck("threads", &[&rx.endpoint, "4", "200"]);
    // 100 (+4) + 5 + 6 + 800 records, all of which arrive.
    assert_eq!(
        rx.wait_for(104 + 5 + 6 + 800, Duration::from_secs(60))
            .len(),
        104 + 5 + 6 + 800
    );
    let dir = tempfile::tempdir().unwrap();
    let nobody = format!("ipc://{}/nobody", dir.path().display());
    memcheck("no_collector", &[&nobody, "xpub", "300"]);
}
