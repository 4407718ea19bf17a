//! Interop with an independent CURVE implementation: pyzmq clients (PyPI's wheels bundle their own
//! libzmq 4.3.5 and libsodium) against the collector's CURVE server and ZAP allowlist.
//!
//! The Python is `tests/interop/pyzmq_curve_client.py`, run by a venv with pyzmq that this test
//! makes once under Cargo's target dir (`pip install pyzmq` from PyPI), or by the interpreter in
//! `LOGFUNNEL_PYZMQ_PYTHON` if set. The client generates its key with pyzmq and writes it to the
//! `allow_dir` itself, so the test also checks that pyzmq's key files parse here.

mod support;

use logfunnel_collector::auth::{Allowlist, ZapHandler};
use logfunnel_core::curve::KeyPair;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use support::curve_server::CurveServer;

fn python_with_pyzmq() -> PathBuf {
    if let Some(python) = std::env::var_os("LOGFUNNEL_PYZMQ_PYTHON") {
        return python.into();
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyzmq-venv");
    let python = venv.join("bin/python");
    let has_pyzmq = |python: &Path| {
        Command::new(python)
            .args(["-c", "import zmq; assert zmq.has('curve')"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_pyzmq(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "pyzmq>=26"])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install pyzmq failed");
    }
    assert!(has_pyzmq(&python), "pyzmq with CURVE is not importable");
    python
}

/// Runs one pyzmq client to its handshake outcome; `listed` puts its key in `allow_dir` first.
fn pyzmq_client(
    python: &Path,
    endpoint: &str,
    server: &KeyPair,
    allow_dir: Option<&Path>,
    zap: &ZapHandler,
    message: &str,
) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyzmq_curve_client.py");
    let allow = allow_dir.map_or("-".to_string(), |d| d.display().to_string());
    let mut child = Command::new(python)
        .arg(script)
        .args([endpoint, &server.public.to_z85(), &allow, message])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the pyzmq client starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    // The client's key file (if any) is written: the SIGHUP path's reload picks it up.
    zap.reload().expect("pyzmq's key file parses");
    writeln!(child.stdin.take().unwrap(), "go").unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(child.wait().unwrap().success(), "the pyzmq client failed");
    line.trim().to_string()
}

#[test]
fn pyzmq_client_with_a_listed_key_gets_through_and_an_unlisted_one_does_not() {
    let python = python_with_pyzmq();
    let allow_dir = tempfile::tempdir().unwrap();
    let server = CurveServer::start(Allowlist {
        keys: vec![],
        dir: Some(allow_dir.path().into()),
    });
    let (zap, socket, endpoint) = (&server.zap, &server.socket, &server.endpoint);
    let counters = zap.counters();

    // Not listed: pyzmq sees its handshake refused by the allowlist, nothing arrives.
    let outcome = pyzmq_client(&python, endpoint, &server.keys, None, zap, "unlisted");
    assert_eq!(outcome, "failed-auth");
    // At least one: libzmq may retry before the client exits.
    assert!(counters.rejected_keys.load(Ordering::Relaxed) >= 1);
    assert_eq!(counters.accepted.load(Ordering::Relaxed), 0);
    assert_eq!(socket.recv_bytes(zmq::DONTWAIT), Err(zmq::Error::EAGAIN));

    // Listed (its key file written into allow_dir, then reloaded): its message arrives.
    let outcome = pyzmq_client(
        &python,
        endpoint,
        &server.keys,
        Some(allow_dir.path()),
        zap,
        "from pyzmq",
    );
    assert_eq!(outcome, "succeeded");
    socket.set_rcvtimeo(20_000).unwrap();
    assert_eq!(socket.recv_bytes(0).unwrap(), b"from pyzmq");
    assert_eq!(counters.accepted.load(Ordering::Relaxed), 1);
}
