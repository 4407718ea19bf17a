//! A real OpenTelemetry Collector (`tools/otelcol`: OTLP receiver, file exporter) in a child process.

use super::wait_for;
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The Collector binary, built by `tools/otelcol/build.sh` on first use (cached across runs).
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/otelcol/build.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("run tools/otelcol/build.sh (needs Go)");
        assert!(out.status.success(), "tools/otelcol/build.sh failed");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A loopback port nobody listens on just now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// TLS files for the receiver.
pub struct ServerTls<'a> {
    /// Certificate PEM.
    pub cert: &'a Path,
    /// Key PEM.
    pub key: &'a Path,
}

/// A running Collector; killed when dropped.
pub struct Otelcol {
    child: Option<Child>,
    /// Its OTLP/HTTP port on 127.0.0.1.
    pub port: u16,
    /// The file exporter's output (OTLP JSON, one request per line).
    pub output: PathBuf,
    log: PathBuf,
}

impl Otelcol {
    /// Starts a Collector on `port`, exporting to `output`, and waits until it accepts connections.
    pub fn start(dir: &Path, port: u16, output: &Path, tls: Option<ServerTls<'_>>) -> Otelcol {
        let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/otelcol");
        let template = if tls.is_some() {
            "config-tls.yaml.in"
        } else {
            "config.yaml.in"
        };
        let mut config = std::fs::read_to_string(tools.join(template))
            .unwrap()
            .replace("@PORT@", &port.to_string())
            .replace("@OUTPUT@", output.to_str().unwrap());
        if let Some(t) = &tls {
            config = config
                .replace("@CERT@", t.cert.to_str().unwrap())
                .replace("@KEY@", t.key.to_str().unwrap());
        }
        let config_path = dir.join(format!("otelcol-{port}.yaml"));
        std::fs::write(&config_path, config).unwrap();
        let log = dir.join(format!("otelcol-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary())
            .arg("--config")
            .arg(&config_path)
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("start otelcol");
        let mut col = Otelcol {
            child: Some(child),
            port,
            output: output.to_path_buf(),
            log,
        };
        wait_for("otelcol to listen", Duration::from_secs(60), || {
            if let Some(status) = col.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("otelcol exited ({status}): {}", col.log_text());
            }
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        col
    }

    /// [`Otelcol::start`] without TLS on a free port, its output in `dir/out.json`.
    pub fn start_plain(dir: &Path) -> Otelcol {
        Otelcol::start(dir, free_port(), &dir.join("out.json"), None)
    }

    /// What the Collector printed.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it (SIGTERM, so the file exporter flushes) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            child.wait().unwrap();
        }
    }

    /// Every log record written so far: (resource attributes, record), in OTLP JSON.
    pub fn records(&self) -> Vec<(Value, Value)> {
        read_records(&self.output)
    }

    /// Waits up to `timeout` for at least `n` records; returns every record written by then.
    pub fn wait_records(&self, n: usize, timeout: Duration) -> Vec<(Value, Value)> {
        wait_for(&format!("{n} records at the Collector"), timeout, || {
            let r = self.records();
            (r.len() >= n).then_some(r)
        })
    }
}

impl Drop for Otelcol {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The records in a file exporter's output; a last line still being written is left for later.
pub fn read_records(path: &Path) -> Vec<(Value, Value)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let request: Value = serde_json::from_str(line).unwrap();
        for rl in request["resourceLogs"].as_array().into_iter().flatten() {
            let attrs = rl["resource"]["attributes"].clone();
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                assert_eq!(sl["scope"]["name"], "logfunnel");
                for r in sl["logRecords"].as_array().into_iter().flatten() {
                    out.push((attrs.clone(), r.clone()));
                }
            }
        }
    }
    out
}
