//! The native half of `logfunnel.Handler`: reads a `logging.LogRecord`, builds the wire record and hands
//! it to the core sender, all in one call.
//!
//! The hot path avoids Python-level work and copies: the record's attributes are looked up in its
//! `__dict__` with interned keys, its text is borrowed from the `str` objects as a
//! [`logfunnel_core::RecordView`] (the core encodes the frame body from it directly), the message is
//! merged natively for plain `%s`/`%d` shapes and with `PyUnicode_Format` (what `LogRecord.getMessage`
//! does) otherwise, unless `getMessage` is overridden, and user fields are looked for only when the
//! record has more attributes than a plain `LogRecord`. The GIL is released only when the call has to
//! wait for room in the queue (overflow policy `block`, queue full) and in `flush`/`close`.

use crate::convert::{str_of, to_json, to_text};
use logfunnel_core::{
    FlushStatus, Lang, Outcome, OverflowPolicy, RecordView, Sender, SenderError, SenderOptions,
    SocketMode,
};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFrozenSet, PyInt, PyString, PyTuple, PyType};
use pyo3::{ffi, intern};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Python objects every sender needs, looked up once per interpreter.
struct LoggingRefs {
    /// `logging.LogRecord`: records of exactly this type get the native `getMessage`.
    log_record: Py<PyType>,
    /// `logging._defaultFormatter`, for tracebacks when the handler has no formatter.
    default_formatter: Py<PyAny>,
    /// Attribute names of a plain `LogRecord` (plus `message` and `asctime`, which formatters add):
    /// any other attribute is a user field from `extra=`.
    standard_keys: Py<PyFrozenSet>,
    /// [`FIELDS`] as interned strings: the very objects a `LogRecord`'s `__dict__` uses as keys.
    field_keys: Vec<Py<PyString>>,
}

static LOGGING_REFS: PyOnceLock<LoggingRefs> = PyOnceLock::new();

/// The `LogRecord` attributes read natively, in the order `LogRecord.__init__` sets them, so a plain
/// record's attributes are found at their own index without a search.
const FIELDS: [&str; 23] = [
    "name",
    "msg",
    "args",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "exc_info",
    "exc_text",
    "stack_info",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "taskName",
    "message",
    "asctime",
];

/// Index into [`FIELDS`].
#[derive(Clone, Copy)]
enum Field {
    Name,
    Msg,
    Args,
    Levelname,
    Levelno,
    Pathname,
    Filename,
    Module,
    ExcInfo,
    ExcText,
    StackInfo,
    Lineno,
    FuncName,
    Created,
    Msecs,
    RelativeCreated,
    Thread,
    ThreadName,
    ProcessName,
    Process,
    TaskName,
}

/// The slot of an attribute name that is not the interned string (a record rebuilt from JSON).
fn field_index(key: &Bound<'_, PyAny>) -> Option<usize> {
    let s = key.cast::<PyString>().ok()?;
    let s = str_of(s);
    FIELDS.iter().position(|f| *f == s)
}

fn logging_refs(py: Python<'_>) -> PyResult<&LoggingRefs> {
    LOGGING_REFS.get_or_try_init(py, || {
        let logging = py.import("logging")?;
        let log_record = logging.getattr("LogRecord")?.cast_into::<PyType>()?;
        let default_formatter = logging.getattr("_defaultFormatter")?;
        let sample = logging.call_method1("makeLogRecord", (PyDict::new(py),))?;
        let keys = sample.getattr("__dict__")?.cast_into::<PyDict>()?.keys();
        keys.append("message")?;
        keys.append("asctime")?;
        Ok::<_, PyErr>(LoggingRefs {
            log_record: log_record.unbind(),
            default_formatter: default_formatter.unbind(),
            standard_keys: PyFrozenSet::new(py, keys.iter())?.unbind(),
            field_keys: FIELDS
                .iter()
                .map(|f| PyString::intern(py, f).unbind())
                .collect(),
        })
    })
}

// The signatures below spell the defaults as literals (so Python sees them); keep them equal.
const _: () = assert!(logfunnel_core::record::DEFAULT_MAX_FRAME_BYTES == 1_048_576);

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
        mode = "xpub",
        queue_capacity = 65_536,
        queue_max_bytes = 67_108_864,
        overflow = "block",
        block_timeout = 1.0,
        max_frame_bytes = 1_048_576,
        min_level = 0,
        sndhwm = 1_000,
        heartbeat_ivl = 0.0,
        heartbeat_timeout = 5.0,
        reconnect_ivl = 0.1,
        reconnect_ivl_max = 2.0,
        close_timeout = 5.0,
        host = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        endpoint: &str,
        mode: &str,
        queue_capacity: usize,
        queue_max_bytes: usize,
        overflow: &str,
        block_timeout: f64,
        max_frame_bytes: usize,
        min_level: i64,
        sndhwm: i32,
        heartbeat_ivl: f64,
        heartbeat_timeout: f64,
        reconnect_ivl: f64,
        reconnect_ivl_max: f64,
        close_timeout: f64,
        host: Option<String>,
    ) -> PyResult<Self> {
        logging_refs(py)?;
        let mut o = SenderOptions::new(endpoint);
        o.mode = SocketMode::parse(mode).ok_or_else(|| {
            PyValueError::new_err(format!(
                "invalid option mode: {mode:?} (expected \"xpub\" or \"push\")"
            ))
        })?;
        o.overflow = OverflowPolicy::parse(overflow).ok_or_else(|| {
            PyValueError::new_err(format!(
                "invalid option overflow: {overflow:?} (expected \"block\", \"drop_newest\" or \"drop_oldest\")"
            ))
        })?;
        o.queue_capacity = queue_capacity;
        o.queue_max_bytes = queue_max_bytes;
        o.block_timeout = seconds("block_timeout", block_timeout)?;
        o.max_frame_bytes = max_frame_bytes;
        o.min_level = min_level;
        o.sndhwm = sndhwm;
        o.heartbeat_ivl = seconds("heartbeat_ivl", heartbeat_ivl)?;
        o.heartbeat_timeout = seconds("heartbeat_timeout", heartbeat_timeout)?;
        o.reconnect_ivl = seconds("reconnect_ivl", reconnect_ivl)?;
        o.reconnect_ivl_max = seconds("reconnect_ivl_max", reconnect_ivl_max)?;
        o.close_timeout = seconds("close_timeout", close_timeout)?;
        o.lang = Lang::Python;
        o.host = host;
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

/// `str(v)` of a present, non-`None` attribute, borrowed from `v` when it is a `str`.
fn opt_text<'a>(v: &'a Option<Bound<'_, PyAny>>) -> Option<Cow<'a, str>> {
    let v = v.as_ref().filter(|v| !v.is_none())?;
    Some(match v.cast::<PyString>() {
        Ok(s) => str_of(s),
        Err(_) => Cow::Owned(to_text(v)),
    })
}

fn opt_i64(v: Option<Bound<'_, PyAny>>) -> Option<i64> {
    v.and_then(|v| v.extract::<i64>().ok())
}

fn opt_f64(v: Option<Bound<'_, PyAny>>) -> Option<f64> {
    v.and_then(|v| v.extract::<f64>().ok())
}

/// `msg % args` without building Python objects, for the common shapes: a tuple of exact `str` and
/// `int` values for `%s`, `%d` and `%i` (and `%%`). `None` for anything else, which
/// `PyUnicode_Format` then handles (with its errors).
fn format_simple(msg: &str, args: &Bound<'_, PyAny>) -> Option<String> {
    let args = args.cast_exact::<PyTuple>().ok()?;
    let mut out = String::with_capacity(msg.len() + 16 * args.len());
    let mut args = args.iter();
    let mut rest = msg;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let spec = rest.as_bytes().get(at + 1).copied()?;
        rest = &rest[at + 2..];
        if spec == b'%' {
            out.push('%');
            continue;
        }
        let arg = args.next()?;
        match spec {
            b's' if arg.is_exact_instance_of::<PyString>() => {
                out.push_str(&str_of(arg.cast::<PyString>().ok()?))
            }
            b's' | b'd' | b'i' if arg.is_exact_instance_of::<PyInt>() => {
                use std::fmt::Write;
                write!(out, "{}", arg.extract::<i64>().ok()?).ok()?;
            }
            _ => return None,
        }
    }
    if args.next().is_some() {
        return None; // "not all arguments converted": let Python raise it
    }
    out.push_str(rest);
    Some(out)
}

/// `record.getMessage()`, natively for plain `LogRecord`s.
fn message<'a>(
    py: Python<'_>,
    refs: &LoggingRefs,
    record: &Bound<'_, PyAny>,
    msg: &'a Option<Bound<'_, PyAny>>,
    args: Option<Bound<'_, PyAny>>,
) -> PyResult<Cow<'a, str>> {
    if !record.get_type().is(refs.log_record.bind(py)) {
        return Ok(Cow::Owned(to_text(
            &record.call_method0(intern!(py, "getMessage"))?,
        )));
    }
    let msg = match msg {
        Some(m) => m,
        None => return Ok(Cow::Borrowed("")),
    };
    let args = match args {
        Some(args) if args.is_truthy()? => args,
        _ => {
            return Ok(match msg.cast::<PyString>() {
                Ok(s) => str_of(s),
                Err(_) => Cow::Owned(str_of(&msg.str()?).into_owned()),
            })
        }
    };
    let msg = match msg.cast::<PyString>() {
        Ok(s) => s.clone(),
        Err(_) => msg.str()?,
    };
    if let Some(text) = format_simple(&str_of(&msg), &args) {
        return Ok(Cow::Owned(text));
    }
    // SAFETY: both are live objects; the result is a new reference or NULL with an error set.
    let merged = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyUnicode_Format(msg.as_ptr(), args.as_ptr()))?
    };
    Ok(Cow::Owned(to_text(&merged)))
}

/// Reads a `LogRecord` (see the module docs) and hands the borrowed wire record to `f`.
fn with_record<'py, R>(
    py: Python<'py>,
    record: &Bound<'py, PyAny>,
    formatter: Option<&Bound<'py, PyAny>>,
    send_formatted: bool,
    f: impl FnOnce(RecordView<'_>) -> R,
) -> PyResult<R> {
    let refs = logging_refs(py)?;
    let dict = record
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    // One pass over the attributes: the known fields into their slots, the rest are user fields.
    let mut slots: [Option<Bound<'py, PyAny>>; FIELDS.len()] = Default::default();
    let mut others: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> = Vec::new();
    let keys = &refs.field_keys;
    let (mut pos, mut i): (ffi::Py_ssize_t, usize) = (0, 0);
    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
    // SAFETY: `dict` is a live dict and the GIL is held; the borrowed key and value are turned into
    // owned references at once, and nothing runs Python code (which could change the dict) until
    // the loop is over.
    while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
        // A plain LogRecord's keys are the interned names, in `FIELDS` order.
        let slot = if i < keys.len() && keys[i].as_ptr() == k {
            Some(i)
        } else {
            let key = unsafe { Borrowed::from_ptr(py, k) };
            keys.iter()
                .position(|x| x.as_ptr() == k)
                .or_else(|| field_index(&key))
        };
        i += 1;
        let value = unsafe { Bound::from_borrowed_ptr(py, v) };
        match slot {
            Some(slot) => slots[slot] = Some(value),
            None => others.push((unsafe { Bound::from_borrowed_ptr(py, k) }, value)),
        }
    }
    let mut take = |f: Field| slots[f as usize].take();
    let name = take(Field::Name);
    let msg = take(Field::Msg);
    let args = take(Field::Args);
    let levelno = take(Field::Levelno);
    let levelname = take(Field::Levelname);
    let created = take(Field::Created);
    let msecs = take(Field::Msecs);
    let relative_created = take(Field::RelativeCreated);
    let pathname = take(Field::Pathname);
    let filename = take(Field::Filename);
    let module = take(Field::Module);
    let lineno = take(Field::Lineno);
    let func_name = take(Field::FuncName);
    let process = take(Field::Process);
    let process_name = take(Field::ProcessName);
    let thread = take(Field::Thread);
    let thread_name = take(Field::ThreadName);
    let task_name = take(Field::TaskName);
    let exc_info = take(Field::ExcInfo);
    let mut exc_text = take(Field::ExcText);
    let stack_info = take(Field::StackInfo);
    // `message` and `asctime` (set by other handlers' formatters) are never sent: the receiver
    // recomputes them.

    let exc_formatter = match formatter {
        Some(f) => f.clone(),
        None => refs.default_formatter.bind(py).clone(),
    };
    let msg_text;
    let (exc_text, stack_info) = if send_formatted {
        // Preformatted text as the message, like `QueueHandler.prepare`; the traceback and stack
        // are part of that text.
        msg_text = Cow::Owned(to_text(
            &exc_formatter.call_method1(intern!(py, "format"), (record,))?,
        ));
        (None, None)
    } else {
        msg_text = message(py, refs, record, &msg, args)?;
        let has_text = opt_text(&exc_text).is_some_and(|t| !t.is_empty());
        if !has_text {
            if let Some(ei) = exc_info {
                if ei.is_truthy()? {
                    // As `Formatter.format` does: format once and cache it on the record.
                    let text = exc_formatter.call_method1(intern!(py, "formatException"), (ei,))?;
                    record.setattr(intern!(py, "exc_text"), &text)?;
                    exc_text = Some(text);
                }
            }
        }
        (exc_text, stack_info)
    };

    let name = opt_text(&name);
    let levelname = opt_text(&levelname);
    let pathname = opt_text(&pathname);
    let filename = opt_text(&filename);
    let module = opt_text(&module);
    let func_name = opt_text(&func_name);
    let process_name = opt_text(&process_name);
    let thread_name = opt_text(&thread_name);
    let task_name = opt_text(&task_name);
    let exc_text = opt_text(&exc_text);
    let stack_info = opt_text(&stack_info);
    fn text<'a>(s: &'a Option<Cow<'_, str>>) -> Option<Cow<'a, str>> {
        s.as_deref().map(Cow::Borrowed)
    }
    let mut rec = RecordView {
        name: Cow::Borrowed(name.as_deref().unwrap_or("")),
        msg: Cow::Borrowed(&msg_text),
        levelno: opt_i64(levelno).unwrap_or(0),
        levelname: text(&levelname),
        created: opt_f64(created).unwrap_or_else(logfunnel_core::record::now_seconds),
        msecs: opt_f64(msecs),
        relative_created: opt_f64(relative_created),
        pathname: text(&pathname),
        filename: text(&filename),
        module: text(&module),
        lineno: opt_i64(lineno),
        func_name: text(&func_name),
        process: opt_i64(process),
        process_name: text(&process_name),
        thread: opt_i64(thread),
        thread_name: text(&thread_name),
        task_name: text(&task_name),
        exc_text: text(&exc_text).filter(|t| !t.is_empty()),
        stack_info: text(&stack_info).filter(|t| !t.is_empty()),
        ..RecordView::default()
    };

    if !others.is_empty() {
        let standard = refs.standard_keys.bind(py);
        for (k, v) in others {
            if standard.contains(&k)? {
                continue;
            }
            let key = match k.cast::<PyString>() {
                Ok(s) => str_of(s).into_owned(),
                Err(_) => to_text(&k),
            };
            rec.push_extra(key, to_json(&v, 0));
        }
    }
    Ok(f(rec))
}
