//! The Rust collector inside a Python process: `logfunnel.serve(...)` (on the collector's own threads)
//! and the `logfunnel-collector` console script (the same CLI as the standalone binary).

use logfunnel_collector::config::{Config, ConfigError};
use logfunnel_collector::runtime::{self, CollectorError, RunningCollector};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

fn config_error(e: ConfigError) -> PyErr {
    match &e {
        ConfigError::Read { source, .. } => {
            // Keep errno so Python raises the matching subclass (FileNotFoundError, ...).
            let errno = source.raw_os_error().unwrap_or(0);
            PyOSError::new_err((errno, e.to_string()))
        }
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn collector_error(e: CollectorError) -> PyErr {
    match e {
        CollectorError::Config(c) => config_error(c),
        e @ (CollectorError::Panicked(_) | CollectorError::StopTimedOut(_)) => {
            PyRuntimeError::new_err(e.to_string())
        }
        e => PyOSError::new_err(e.to_string()),
    }
}

/// A collector running on its own threads in this process (`logfunnel._native.Collector`).
#[pyclass(frozen, module = "logfunnel._native", name = "Collector")]
pub struct PyCollector {
    /// The process that started it: a forked child must never stop, join or drop it (its threads
    /// are not in the child, and touching the parent's libzmq context aborts the parent).
    pid: u32,
    running: Mutex<Option<RunningCollector>>,
    bind_endpoints: Vec<String>,
    pull_endpoints: Vec<String>,
    /// The counters at `stop`, served by `stats_json` afterwards.
    final_stats: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[pymethods]
impl PyCollector {
    /// Validates the JSON configuration (the keys of the TOML file), binds, opens the sinks and starts
    /// the collector's threads (GIL released meanwhile).
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
        let config = Config::from_json_str(config_json).map_err(config_error)?;
        let running = py
            .detach(|| runtime::start(config))
            .map_err(collector_error)?;
        Ok(PyCollector {
            pid: std::process::id(),
            bind_endpoints: running.bind_endpoints().to_vec(),
            pull_endpoints: running.pull_endpoints().to_vec(),
            running: Mutex::new(Some(running)),
            final_stats: Mutex::new(None),
        })
    }

    /// The `SUB` endpoints as bound.
    #[getter]
    fn endpoints(&self) -> Vec<String> {
        self.bind_endpoints.clone()
    }

    /// The `PULL` endpoints as bound.
    #[getter]
    fn pull_endpoints(&self) -> Vec<String> {
        self.pull_endpoints.clone()
    }

    /// False once stopped (or once its threads ended on their own after a fatal error).
    #[getter]
    fn running(&self) -> bool {
        if !self.in_owner() {
            return false;
        }
        lock(&self.running)
            .as_ref()
            .is_some_and(|r| !r.is_finished())
    }

    /// The collector's counters as a JSON object.
    fn stats_json(&self) -> PyResult<String> {
        if let Some(r) = lock(&self.running).as_ref().filter(|_| self.in_owner()) {
            return serde_json::to_string(&r.stats())
                .map_err(|e| PyRuntimeError::new_err(e.to_string()));
        }
        Ok(lock(&self.final_stats)
            .clone()
            .unwrap_or_else(|| "{}".to_string()))
    }

    /// Stops receiving, writes out what was received, flushes (GIL released; at most about
    /// `timeout` seconds). Calling it again is harmless.
    fn stop(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let Some(running) = lock(&self.running).take() else {
            return Ok(());
        };
        if !self.in_owner() {
            // A forked child: the collector belongs to the parent; leave it alone.
            std::mem::forget(running);
            return Ok(());
        }
        let timeout = Duration::from_secs_f64(if timeout.is_finite() {
            timeout.clamp(0.0, 1e9)
        } else {
            1e9
        });
        let summary = py
            .detach(|| running.stop(timeout))
            .map_err(collector_error)?;
        *lock(&self.final_stats) = serde_json::to_string(&summary.stats).ok();
        Ok(())
    }
}

impl PyCollector {
    fn in_owner(&self) -> bool {
        std::process::id() == self.pid
    }
}

impl Drop for PyCollector {
    fn drop(&mut self) {
        if !self.in_owner() {
            let running = self.running.get_mut().unwrap_or_else(|e| e.into_inner());
            std::mem::forget(running.take());
        }
    }
}

/// Reads a TOML configuration file and returns it, with every default filled in, as JSON.
#[pyfunction]
pub fn load_config_json(path: std::path::PathBuf) -> PyResult<String> {
    let config = Config::load(&path).map_err(config_error)?;
    serde_json::to_string(&config).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Runs the `logfunnel-collector` command line (`args[0]` is the program name) with the GIL released,
/// and returns its exit code.
#[pyfunction]
pub fn cli_main(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| logfunnel_collector::cli::main_with_args(args))
}
