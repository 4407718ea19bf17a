//! The README path for a C developer, end to end: install the library with `ffi/install.sh`, build
//! `examples/c/hello.c` with its Makefile through pkg-config (and with CMake, where installed), run it
//! against a real logfunnel collector, and read the collector's files.

mod common;

use common::{lib_dir, run_command_ok, workspace_root};
use logfunnel_collector::config::Config;
use logfunnel_collector::runtime;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs a shell-level step (install, make, cmake), failing with its output.
fn step(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `hello` against a fresh collector and checks what it wrote.
fn hello_reaches_the_collector(exe: &Path, lib_path: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let text_log = dir.path().join("app.log");
    let json_log = dir.path().join("app.jsonl");
    let config = Config::from_toml_str(&format!(
        r#"
        bind = ["tcp://127.0.0.1:*"]
        stats_interval_s = 0
        [[sink]]
        kind = "file"
        path = "{}"
        format = "%(levelname)s %(name)s %(filename)s %(funcName)s [%(lang)s] %(message)s"
        [[sink]]
        kind = "jsonl"
        path = "{}"
        "#,
        text_log.display(),
        json_log.display()
    ))
    .expect("config");
    let collector = runtime::start(config).expect("start the collector");
    let endpoint = collector.endpoints()[0].clone();

    let out = run_with_env(exe, &endpoint, lib_path);
    assert!(out.contains("sent 5 records, dropped 0"), "{out}");
    let summary = collector.stop(Duration::from_secs(30)).expect("stop");
    assert_eq!(summary.stats.accepted, 5);
    assert_eq!(summary.stats.lost, 0);

    let text = std::fs::read_to_string(&text_log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], "INFO hello hello.c main [c] hello from C");
    for (i, line) in lines[1..4].iter().enumerate() {
        assert_eq!(
            *line,
            format!(
                "WARNING hello.db hello.c main [c] connection attempt {} of 3 failed",
                i + 1
            )
        );
    }
    assert!(lines[4].starts_with("INFO hello.orders "), "{}", lines[4]);
    assert!(lines[4].ends_with(" [c] order placed"), "{}", lines[4]);

    let json = std::fs::read_to_string(&json_log).unwrap();
    let last: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(last["user"], "alice");
    assert_eq!(last["items"], 3);
}

fn run_with_env(exe: &Path, endpoint: &str, lib_path: &Path) -> String {
    // LD_LIBRARY_PATH as for an install under a prefix the dynamic loader does not search.
    let mut cmd = Command::new(exe);
    cmd.arg(endpoint).env("LD_LIBRARY_PATH", lib_path);
    run_command_ok(cmd, None, Duration::from_secs(60))
}

#[test]
fn the_c_example_built_as_the_readme_says_logs_into_a_real_collector() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("prefix");
    step(
        Command::new(root.join("ffi/install.sh"))
            .arg(&prefix)
            .env("LOGFUNNEL_LIB_DIR", lib_dir()),
    );

    // A copy of examples/c, as a C developer would take it, built through pkg-config.
    let example = work.path().join("example");
    std::fs::create_dir_all(&example).unwrap();
    for f in ["hello.c", "Makefile", "CMakeLists.txt"] {
        std::fs::copy(root.join("examples/c").join(f), example.join(f)).unwrap();
    }
    std::fs::copy(
        root.join("ffi/logfunnel.cmake"),
        example.join("logfunnel.cmake"),
    )
    .unwrap();
    step(
        Command::new("make")
            .arg("-C")
            .arg(&example)
            .arg("use-pkg-config")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")),
    );
    hello_reaches_the_collector(&example.join("hello"), &prefix.join("lib"));

    // The Makefile's direct shared and static lines, against the install prefix.
    step(
        Command::new("make")
            .arg("-C")
            .arg(&example)
            .arg("clean")
            .arg("all")
            .arg(format!(
                "LOGFUNNEL_INCLUDE={}",
                prefix.join("include").display()
            ))
            .arg(format!("LOGFUNNEL_LIB={}", prefix.join("lib").display())),
    );
    hello_reaches_the_collector(&example.join("hello"), Path::new("/nonexistent"));
    hello_reaches_the_collector(&example.join("hello-static"), Path::new("/nonexistent"));

    if Command::new("cmake").arg("--version").output().is_err() {
        eprintln!("SKIPPED the CMake build: cmake is not installed");
        return;
    }
    let build = work.path().join("cmake-build");
    step(
        Command::new("cmake")
            .arg("-S")
            .arg(&example)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DLOGFUNNEL_ROOT={}", prefix.display())),
    );
    step(Command::new("cmake").arg("--build").arg(&build));
    hello_reaches_the_collector(&build.join("hello"), Path::new("/nonexistent"));
    hello_reaches_the_collector(&build.join("hello-static"), Path::new("/nonexistent"));
}
