//! The real `logfunnel-collector` binary as a child process: run to completion for its exit code
//! and output, or spawned with its stderr collected line by line and awaited until it says ready.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_logfunnel-collector");

/// How long a collector may take to say it is ready (debug builds on a busy machine are slow).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Tests that spawn processes while senders connect run one at a time: libzmq as built here marks
/// sockets close-on-exec only after creating them, so a process spawned by one test could inherit
/// another test's sender connection (see collector_e2e.rs).
pub fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the binary with `args` in `cwd` to completion.
pub fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A collector process whose stderr is collected line by line; killed on drop.
pub struct Proc {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Proc {
    /// Spawns the binary and waits until it prints its ready line.
    pub fn spawn(args: &[&str], cwd: &Path) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let p = Proc {
            child,
            stderr,
            reader: Some(reader),
        };
        assert!(
            super::wait_until(READY_TIMEOUT, || p.has_line("logfunnel-collector: ready")),
            "collector did not start: {:?}",
            p.lines()
        );
        p
    }

    /// Everything printed to stderr so far.
    pub fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn has_line(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: plain kill(2) on our own child's pid.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, sig) },
            0
        );
    }

    /// Waits for the exit; returns the exit code and everything printed, to the end of stderr.
    pub fn wait(mut self) -> (i32, Vec<String>) {
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status.code().unwrap_or(-1), self.lines())
    }

    /// SIGTERM, then [`Proc::wait`].
    pub fn stop(self) -> (i32, Vec<String>) {
        self.signal(libc::SIGTERM);
        self.wait()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts that the config at `config` is refused the same way by `--check-config` and by a real
/// start: exit code 2, before anything runs, with every one of `wants` on stderr.
pub fn assert_config_refused(config: &Path, cwd: &Path, wants: &[&str]) {
    let config = config.to_str().unwrap();
    let text = std::fs::read_to_string(config).unwrap_or_default();
    for args in [
        vec!["--config", config, "--check-config"],
        vec!["--config", config],
    ] {
        let out = run(&args, cwd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} with {text:?}: {err}");
        for want in wants {
            assert!(
                err.contains(want),
                "{args:?} with {text:?}: {err:?} lacks {want:?}"
            );
        }
    }
}
