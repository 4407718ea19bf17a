//! `logfunnel._native.Sender`, the native half of `logfunnel.Handler`: converts a `logging.LogRecord`
//! (see [`crate::log_record`]) and hands it to the core sender, all in one call. The GIL is released
//! only when the call has to wait for room in the queue (overflow policy `block`, queue full) and in
//! `flush`/`close`.
//!
//! Options the caller leaves out (`None`) keep the core's defaults (`SenderOptions::new`, exported as
//! `spec/defaults.json`): none are restated here.

use crate::log_record::{prepare, with_record};
use logfunnel_core::curve::KeySource;
use logfunnel_core::{
    FlushStatus, Lang, Outcome, OverflowPolicy, RecordView, Sender, SenderError, SenderOptions,
    SocketMode,
};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Outcome codes returned by `Sender.emit` (see `_native.pyi`).
fn outcome_code(o: Outcome) -> u8 {
    match o {
        Outcome::Queued => 0,
        Outcome::Filtered => 1,
        Outcome::QueueFull => 2,
        Outcome::Closed => 3,
    }
}

/// A thread-safe, fork-aware sender of `logging.LogRecord`s (`logfunnel._native.Sender`).
#[pyclass(frozen, module = "logfunnel._native", name = "Sender")]
pub struct PySender {
    sender: Sender,
    /// Records whose conversion raised (the Python handler reports them through `handleError`).
    errors: AtomicU64,
}

fn seconds(option: &'static str, value: f64) -> PyResult<Duration> {
    if (0.0..1e9).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(PyValueError::new_err(format!(
            "invalid option {option}: must be a non-negative number of seconds, got {value}"
        )))
    }
}

fn sender_error(e: SenderError) -> PyErr {
    match e {
        SenderError::InvalidOption { .. } => PyValueError::new_err(e.to_string()),
        SenderError::Zmq { .. } | SenderError::Thread(_) => PyOSError::new_err(e.to_string()),
    }
}

#[pymethods]
impl PySender {
    #[new]
    #[pyo3(signature = (
        endpoint,
        *,
        mode = None,
        queue_capacity = None,
        queue_max_bytes = None,
        overflow = None,
        block_timeout = None,
        max_frame_bytes = None,
        min_level = None,
        sndhwm = None,
        heartbeat_ivl = None,
        heartbeat_timeout = None,
        reconnect_ivl = None,
        reconnect_ivl_max = None,
        close_timeout = None,
        host = None,
        curve_server_key = None,
        curve_secret_key = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        endpoint: &str,
        mode: Option<&str>,
        queue_capacity: Option<usize>,
        queue_max_bytes: Option<usize>,
        overflow: Option<&str>,
        block_timeout: Option<f64>,
        max_frame_bytes: Option<usize>,
        min_level: Option<i64>,
        sndhwm: Option<i32>,
        heartbeat_ivl: Option<f64>,
        heartbeat_timeout: Option<f64>,
        reconnect_ivl: Option<f64>,
        reconnect_ivl_max: Option<f64>,
        close_timeout: Option<f64>,
        host: Option<String>,
        curve_server_key: Option<String>,
        curve_secret_key: Option<String>,
    ) -> PyResult<Self> {
        prepare(py)?;
        let mut o = SenderOptions::new(endpoint);
        if let Some(mode) = mode {
            o.mode = SocketMode::parse(mode).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "invalid option mode: {mode:?} (expected \"xpub\" or \"push\")"
                ))
            })?;
        }
        if let Some(overflow) = overflow {
            o.overflow = OverflowPolicy::parse(overflow).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "invalid option overflow: {overflow:?} (expected \"block\", \"drop_newest\" or \"drop_oldest\")"
                ))
            })?;
        }
        // What the caller set, over the core's defaults.
        macro_rules! set_over {
            ($($field:ident),*) => {$(
                if let Some(v) = $field {
                    o.$field = v;
                }
            )*};
        }
        macro_rules! set_seconds_over {
            ($($field:ident),*) => {$(
                if let Some(v) = $field {
                    o.$field = seconds(stringify!($field), v)?;
                }
            )*};
        }
        set_over!(
            queue_capacity,
            queue_max_bytes,
            max_frame_bytes,
            min_level,
            sndhwm
        );
        set_seconds_over!(
            block_timeout,
            heartbeat_ivl,
            heartbeat_timeout,
            reconnect_ivl,
            reconnect_ivl_max,
            close_timeout
        );
        o.lang = Lang::Python;
        o.host = host;
        // A path, or `env:NAME`; read (and checked, naming the option) by `Sender::new`.
        o.curve_server_key = curve_server_key.as_deref().map(KeySource::parse);
        o.curve_secret_key = curve_secret_key.as_deref().map(KeySource::parse);
        let sender = py.detach(|| Sender::new(o)).map_err(sender_error)?;
        Ok(PySender {
            sender,
            errors: AtomicU64::new(0),
        })
    }

    /// Converts `record` and offers it to the queue. `formatter`: the handler's formatter or `None`;
    /// it formats tracebacks (`formatException`), and with `send_formatted` its `format` output is
    /// sent as the message instead of the merged message. Returns an outcome code (0 queued,
    /// 1 filtered, 2 dropped: queue full, 3 dropped: closed).
    #[pyo3(signature = (record, formatter = None, send_formatted = false))]
    fn emit(
        &self,
        py: Python<'_>,
        record: &Bound<'_, PyAny>,
        formatter: Option<&Bound<'_, PyAny>>,
        send_formatted: bool,
    ) -> PyResult<u8> {
        match with_record(py, record, formatter, send_formatted, |rec| {
            self.offer(py, rec)
        }) {
            Ok(outcome) => Ok(outcome_code(outcome)),
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Waits (GIL released) until every queued record is handed to the socket, at most `timeout`
    /// seconds. True if everything was handed over.
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = seconds("timeout", timeout)?;
        Ok(py.detach(|| self.sender.flush(timeout)) == FlushStatus::Flushed)
    }

    /// Flushes (at most `timeout` seconds, GIL released) and closes the socket. Later records are
    /// counted as dropped. True if everything was handed over in time.
    fn close(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = seconds("timeout", timeout)?;
        Ok(py.detach(|| self.sender.close(timeout)) == FlushStatus::Flushed)
    }

    /// Waits while records keep moving, giving up after `idle` seconds without progress or after
    /// `cap` seconds in any case (GIL released). True if everything was handed over.
    fn flush_idle(&self, py: Python<'_>, idle: f64, cap: f64) -> PyResult<bool> {
        let (idle, cap) = (seconds("idle", idle)?, seconds("cap", cap)?);
        Ok(py.detach(|| self.sender.flush_idle(idle, cap)) == FlushStatus::Flushed)
    }

    /// `flush_idle`, then close with a fresh `idle` window for libzmq to write out what it holds.
    fn close_idle(&self, py: Python<'_>, idle: f64, cap: f64) -> PyResult<bool> {
        let (idle, cap) = (seconds("idle", idle)?, seconds("cap", cap)?);
        Ok(py.detach(|| self.sender.close_idle(idle, cap)) == FlushStatus::Flushed)
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// The endpoint this sender connects to.
    #[getter]
    fn endpoint(&self) -> &str {
        &self.sender.options().endpoint
    }

    /// This process's sender id (`sid` on the wire; a forked child gets a new one).
    #[getter]
    fn sid(&self) -> String {
        self.sender.sid()
    }

    /// Counters since the sender was built in this process.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.sender.stats();
        let d = PyDict::new(py);
        d.set_item("enqueued", s.enqueued)?;
        d.set_item("sent", s.sent)?;
        d.set_item("dropped", s.dropped())?;
        d.set_item("dropped_queue_full", s.dropped_queue_full)?;
        d.set_item("dropped_closed", s.dropped_closed)?;
        d.set_item("dropped_at_close", s.dropped_at_close)?;
        d.set_item("dropped_oversized", s.dropped_oversized)?;
        d.set_item("truncated", s.truncated)?;
        d.set_item("filtered", s.filtered)?;
        d.set_item("depth", s.depth)?;
        d.set_item("connected", s.connected)?;
        d.set_item("errors", self.errors.load(Ordering::Relaxed))?;
        // Acknowledged delivery (spec/delivery.md).
        d.set_item("acknowledging", s.acknowledging)?;
        d.set_item("acknowledged", s.acknowledged)?;
        d.set_item("unacknowledged", s.unacknowledged)?;
        d.set_item("resent", s.resent)?;
        Ok(d)
    }
}

impl PySender {
    /// Enqueues; releases the GIL only when the call has to wait for room.
    fn offer(&self, py: Python<'_>, rec: RecordView<'_>) -> Outcome {
        match self.sender.try_log_ref(rec) {
            Ok(outcome) => outcome,
            Err(wait) => py.detach(|| self.sender.log_waiting(wait)),
        }
    }
}
