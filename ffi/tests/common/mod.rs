//! Shared by the integration tests: find the built library, compile the C programs in `tests/c/`
//! against the committed header, run them with a hang guard, and receive what they send on a real
//! ZeroMQ `SUB` socket, decoding every message with the collector's decoder.
#![allow(dead_code)]

use logfunnel_core::decode::{decode_frames, DecodeLimits};
use logfunnel_core::Record;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/ has a parent")
        .to_path_buf()
}

/// `target/<profile>/deps`: where cargo put this test executable, and where it wrote the
/// `liblogfunnel.so` / `liblogfunnel.a` of this crate's lib target before linking the tests. (The
/// copies in `target/<profile>/` are refreshed by `cargo build` only, so under `cargo test` they can
/// be stale; the ones in `deps/` never are.)
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .expect("the test executable lives in target/<profile>/deps")
        .to_path_buf();
    for lib in ["liblogfunnel.so", "liblogfunnel.a"] {
        assert!(
            dir.join(lib).exists(),
            "{} not found in {}: build it with `cargo build -p logfunnel-ffi` (integration tests do not build a C-only library)",
            lib,
            dir.display()
        );
    }
    dir
}

/// How a C program is linked against the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// `-llogfunnel` against `liblogfunnel.so`, found at run time through an rpath.
    Shared,
    /// `liblogfunnel.a` plus the C++ runtime, libm, pthread and libdl.
    Static,
}

impl Link {
    pub fn name(self) -> &'static str {
        match self {
            Link::Shared => "shared",
            Link::Static => "static",
        }
    }
}

/// The C compiler: `$CC` or `cc`.
pub fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Strict flags every test program compiles with: the header must stay warning-free.
pub const CFLAGS: &[&str] = &[
    "-std=c99",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-g",
    "-O1",
    "-pthread",
];

/// The link arguments for `link`.
pub fn link_args(link: Link) -> Vec<String> {
    let dir = lib_dir();
    match link {
        Link::Shared => vec![
            format!("-L{}", dir.display()),
            "-llogfunnel".into(),
            format!("-Wl,-rpath,{}", dir.display()),
        ],
        Link::Static => vec![
            dir.join("liblogfunnel.a").display().to_string(),
            "-lstdc++".into(),
            "-lm".into(),
            "-lpthread".into(),
            "-ldl".into(),
        ],
    }
}

/// Compiles `tests/c/<program>.c` (once per test executable and link kind) and returns the binary.
pub fn build(program: &str, link: Link) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, Link), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(&(program.to_string(), link)) {
        return path.clone();
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{program}.c"));
    let exe_name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tests".into());
    let out_dir = lib_dir().join("..").join("ffi-c-tests").join(exe_name);
    std::fs::create_dir_all(&out_dir).expect("create the C build folder");
    let out = out_dir.join(format!("{program}-{}", link.name()));
    // Built under a private name and renamed, so a concurrent run of the same tests never sees a
    // half-written binary.
    let tmp = out_dir.join(format!(
        "{program}-{}.tmp{}",
        link.name(),
        std::process::id()
    ));
    let result = Command::new(cc())
        .args(CFLAGS)
        .arg(format!("-I{}", workspace_root().join("include").display()))
        .arg(&src)
        .arg("-o")
        .arg(&tmp)
        .args(link_args(link))
        .output()
        .expect("run the C compiler");
    assert!(
        result.status.success(),
        "compiling {} ({link:?}) failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::rename(&tmp, &out).expect("move the built program into place");
    built.insert((program.to_string(), link), out.clone());
    out
}

/// Runs a built program; kills it and fails the test if it has not finished after `limit` (a hang
/// guard, not a timing assertion). `stdin` is written to the program's standard input.
pub fn run(exe: &Path, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Output {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    run_command(cmd, stdin, limit)
}

/// [`run`] for a prepared command (environment, working directory).
pub fn run_command(mut cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("piped stdin");
        pipe.write_all(input).expect("write the program's input");
    }
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for the program"),
        Err(_) => {
            // SAFETY: `pid` is our own child, still running (it has not been reaped).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what} did not finish within {limit:?}");
        }
    }
}

/// Runs a program and fails the test unless it exits with status 0; returns its standard output.
/// Builds `program` with `link`, starts a [`Receiver`] and runs the program to a clean exit with the
/// receiver's endpoint as its first argument, then `args`; returns the receiver and the output.
pub fn run_to_receiver(
    program: &str,
    link: Link,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> (Receiver, String) {
    let exe = build(program, link);
    let rx = Receiver::start();
    let mut all = vec![rx.endpoint.as_str()];
    all.extend_from_slice(args);
    let out = run_ok(&exe, &all, stdin);
    (rx, out)
}

pub fn run_ok(exe: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    run_command_ok(cmd, stdin, Duration::from_secs(120))
}

/// [`run_ok`] for a prepared command (environment, working directory).
pub fn run_command_ok(cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> String {
    let what = format!("{cmd:?}");
    let out = run_command(cmd, stdin, limit);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed with {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `key=value` pairs of the first output line that starts with `tag` (or of every line when `tag`
/// is empty).
pub fn values(stdout: &str, tag: &str) -> HashMap<String, i64> {
    let mut map = HashMap::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace().peekable();
        if !tag.is_empty() {
            if words.peek() != Some(&tag) {
                continue;
            }
            words.next();
        }
        for w in words {
            if let Some((k, v)) = w.split_once('=') {
                if let Ok(v) = v.parse() {
                    map.insert(k.to_string(), v);
                }
            }
        }
        if !tag.is_empty() {
            break;
        }
    }
    map
}

/// A received message: the raw JSON (what was on the wire) and the record the decoder made of it.
#[derive(Debug, Clone)]
pub struct Received {
    pub json: serde_json::Value,
    pub record: Record,
}

impl Received {
    /// A wire key as a string (panics if absent or not a string).
    pub fn str(&self, key: &str) -> &str {
        self.json[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is not a string in {}", self.json))
    }

    /// A wire key as an integer (panics if absent or not an integer).
    pub fn int(&self, key: &str) -> i64 {
        self.json[key]
            .as_i64()
            .unwrap_or_else(|| panic!("{key} is not an integer in {}", self.json))
    }
}

/// A real ZeroMQ `SUB` socket bound on an ephemeral loopback port, receiving on its own thread like
/// the collector does (a `SUB` learns of new connections only while its owner calls into it).
pub struct Receiver {
    pub endpoint: String,
    messages: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(zmq::SUB).expect("SUB socket");
        socket.set_subscribe(b"").expect("subscribe");
        socket.set_linger(0).expect("linger");
        socket.bind("tcp://127.0.0.1:*").expect("bind");
        let endpoint = socket
            .get_last_endpoint()
            .expect("last endpoint")
            .expect("endpoint is UTF-8");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let messages = Arc::clone(&messages);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let _ctx = ctx;
                while !stop.load(Ordering::Relaxed) {
                    if socket.poll(zmq::POLLIN, 50).unwrap_or(0) == 0 {
                        continue;
                    }
                    while let Ok(parts) = socket.recv_multipart(zmq::DONTWAIT) {
                        messages.lock().unwrap().push(parts);
                    }
                }
            })
        };
        Receiver {
            endpoint,
            messages,
            stop,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// Waits until `n` messages have arrived (at most `limit`, a hang guard), then a little longer to
    /// catch any extra, and returns everything decoded, in arrival order.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        while self.count() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        self.decoded()
    }

    /// Everything received so far, decoded.
    pub fn decoded(&self) -> Vec<Received> {
        let messages = self.messages.lock().unwrap().clone();
        messages
            .iter()
            .map(|parts| {
                let frames: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
                let record = decode_frames(&frames, &DecodeLimits::default())
                    .unwrap_or_else(|e| panic!("the decoder rejected a message: {e}"));
                assert_eq!(parts.len(), 1, "a logfunnel sender writes one frame");
                let json = serde_json::from_slice(&parts[0]).expect("the frame is JSON");
                Received { json, record }
            })
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
