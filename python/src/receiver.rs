//! The native half of `logfunnel.Listener`: a `SUB` (or `PULL`) socket and the core decoder.
//!
//! `recv` waits with the GIL released, takes every message that is ready (up to a limit), then decodes
//! them into attribute dicts for `logging.makeLogRecord`. Frames that cannot be decoded are counted by
//! reason, never raised.

use crate::convert::{json_to_py, record_to_dict};
use logfunnel_core::transport::{self, ReceiveMode, SocketError};
use logfunnel_core::{decode_frames, DecodeLimits};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The socket; declared before the context so it is closed first.
struct Socket {
    socket: zmq::Socket,
    _ctx: zmq::Context,
}

#[derive(Default)]
struct Counters {
    received: u64,
    decoded: u64,
    malformed: BTreeMap<&'static str, u64>,
}

/// A receiving socket plus decoder (`logfunnel._native.Receiver`).
#[pyclass(frozen, module = "logfunnel._native", name = "Receiver")]
pub struct PyReceiver {
    /// The process that made the socket: a forked child must never use or close it (that aborts the
    /// parent in libzmq), only leak it.
    pid: u32,
    socket: Mutex<Option<Socket>>,
    endpoints: Vec<String>,
    limits: DecodeLimits,
    counters: Mutex<Counters>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn os_error(e: SocketError) -> PyErr {
    PyOSError::new_err(e.to_string())
}

#[pymethods]
impl PyReceiver {
    #[new]
    #[pyo3(signature = (endpoints, *, mode = "sub", bind = true, max_frame_bytes = 1_048_576, rcvhwm = 100_000))]
    fn new(
        py: Python<'_>,
        endpoints: Vec<String>,
        mode: &str,
        bind: bool,
        max_frame_bytes: usize,
        rcvhwm: i32,
    ) -> PyResult<Self> {
        let Some(mode) = ReceiveMode::parse(mode) else {
            return Err(PyValueError::new_err(format!(
                "invalid option mode: {mode:?} (expected \"sub\" or \"pull\")"
            )));
        };
        if endpoints.is_empty() {
            return Err(PyValueError::new_err("at least one endpoint is needed"));
        }
        let (socket, bound) = py.detach(|| -> PyResult<(Socket, Vec<String>)> {
            let ctx = zmq::Context::new();
            let socket =
                transport::receiver(&ctx, mode, rcvhwm, max_frame_bytes).map_err(os_error)?;
            let mut bound = Vec::new();
            for ep in &endpoints {
                if bind {
                    bound.push(transport::bind(&socket, ep).map_err(os_error)?);
                } else {
                    transport::connect(&socket, ep).map_err(os_error)?;
                    bound.push(ep.clone());
                }
            }
            Ok((Socket { socket, _ctx: ctx }, bound))
        })?;
        Ok(PyReceiver {
            pid: std::process::id(),
            socket: Mutex::new(Some(socket)),
            endpoints: bound,
            limits: DecodeLimits {
                max_frame_bytes,
                ..DecodeLimits::default()
            },
            counters: Mutex::new(Counters::default()),
        })
    }

    /// The endpoints as bound (a `:0` port replaced by the real one).
    #[getter]
    fn endpoints(&self) -> Vec<String> {
        self.endpoints.clone()
    }

    /// Waits up to `timeout` seconds for messages and returns the decoded records (attribute dicts for
    /// `logging.makeLogRecord`), at most `max_records`; an empty list when none arrived.
    #[pyo3(signature = (timeout, max_records = 1000))]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        timeout: f64,
        max_records: usize,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let timeout_ms = if timeout.is_finite() && timeout > 0.0 {
            (timeout * 1000.0).ceil().min(i32::MAX as f64) as i64
        } else {
            0
        };
        if std::process::id() != self.pid {
            return Err(PyValueError::new_err(
                "this Listener was made in the parent process; make a new one after fork",
            ));
        }
        let messages = py.detach(|| -> PyResult<Vec<Vec<Vec<u8>>>> {
            let guard = lock(&self.socket);
            let Some(s) = guard.as_ref() else {
                return Err(PyValueError::new_err("the receiver is closed"));
            };
            let mut out = Vec::new();
            match s.socket.poll(zmq::POLLIN, timeout_ms) {
                Ok(0) => return Ok(out),
                Ok(_) => {}
                Err(zmq::Error::EINTR) => return Ok(out),
                Err(e) => return Err(PyOSError::new_err(format!("poll failed: {e}"))),
            }
            while out.len() < max_records.max(1) {
                match s.socket.recv_multipart(zmq::DONTWAIT) {
                    Ok(frames) => out.push(frames),
                    Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => break,
                    Err(e) => return Err(PyOSError::new_err(format!("receive failed: {e}"))),
                }
            }
            Ok(out)
        })?;
        let mut records = Vec::with_capacity(messages.len());
        let mut counters = lock(&self.counters);
        for frames in &messages {
            counters.received += 1;
            let parts: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
            match decode_frames(&parts, &self.limits) {
                Ok(rec) => {
                    counters.decoded += 1;
                    records.push(record_to_dict(py, &rec)?);
                }
                Err(e) => *counters.malformed.entry(e.reason()).or_insert(0) += 1,
            }
        }
        Ok(records)
    }

    /// Counters: `received`, `decoded`, `malformed` (total) and `malformed_by_reason`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = lock(&self.counters);
        let d = PyDict::new(py);
        d.set_item("received", c.received)?;
        d.set_item("decoded", c.decoded)?;
        d.set_item("malformed", c.malformed.values().sum::<u64>())?;
        let by = PyDict::new(py);
        for (k, v) in &c.malformed {
            by.set_item(*k, *v)?;
        }
        d.set_item("malformed_by_reason", by)?;
        Ok(d)
    }

    /// Closes the socket at once (linger 0). Calling it again is harmless.
    fn close(&self, py: Python<'_>) {
        let taken = lock(&self.socket).take();
        if std::process::id() != self.pid {
            std::mem::forget(taken);
            return;
        }
        py.detach(move || drop(taken));
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            let socket = self.socket.get_mut().unwrap_or_else(|e| e.into_inner());
            std::mem::forget(socket.take());
        }
    }
}

/// Decodes one message (its frames) as the collector does and returns the normalized v1 record as a
/// dict. Raises `ValueError(reason, message)` for a frame the collector would reject.
#[pyfunction]
#[pyo3(signature = (frames, max_frame_bytes = 1_048_576))]
pub fn decode<'py>(
    py: Python<'py>,
    frames: Vec<Bound<'py, PyBytes>>,
    max_frame_bytes: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let parts: Vec<&[u8]> = frames.iter().map(|f| f.as_bytes()).collect();
    match decode_frames(
        &parts,
        &DecodeLimits {
            max_frame_bytes,
            ..DecodeLimits::default()
        },
    ) {
        Ok(rec) => {
            let value: serde_json::Value = serde_json::from_str(&rec.to_json())
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            json_to_py(py, &value)
        }
        Err(e) => Err(PyValueError::new_err((e.reason(), e.to_string()))),
    }
}
