//! Reading a `logging.LogRecord` into the core's borrowed wire record ([`RecordView`]), in one pass.
//!
//! The hot path avoids Python-level work and copies: the record's attributes are looked up in its
//! `__dict__` with interned keys, its text is borrowed from the `str` objects as a
//! [`logfunnel_core::RecordView`] (the core encodes the frame body from it directly), the message is
//! merged natively for plain `%s`/`%d` shapes and with `PyUnicode_Format` (what `LogRecord.getMessage`
//! does) otherwise, unless `getMessage` is overridden, and user fields are looked for only when the
//! record has more attributes than a plain `LogRecord`.

use crate::convert::{str_of, to_json, to_text};
use logfunnel_core::schema::Field;
use logfunnel_core::RecordView;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFrozenSet, PyInt, PyString, PyTuple, PyType};
use pyo3::{ffi, intern};
use std::borrow::Cow;

/// Python objects every sender needs, looked up once per interpreter.
struct LoggingRefs {
    /// `logging.LogRecord`: records of exactly this type get the native `getMessage`.
    log_record: Py<PyType>,
    /// `logging._defaultFormatter`, for tracebacks when the handler has no formatter.
    default_formatter: Py<PyAny>,
    /// Attribute names of a plain `LogRecord` (plus `message` and `asctime`, which formatters add):
    /// any other attribute is a user field from `extra=`.
    standard_keys: Py<PyFrozenSet>,
    /// [`LOG_RECORD_ORDER`]'s keys as interned strings: the very objects a `LogRecord`'s `__dict__` uses as keys.
    field_keys: Vec<Py<PyString>>,
}

static LOGGING_REFS: PyOnceLock<LoggingRefs> = PyOnceLock::new();

/// The `LogRecord` attributes read natively, in the order `LogRecord.__init__` sets them, so a plain
/// record's attributes are found at their own index without a search. Any other attribute (the
/// wire-only keys such as `host` or `seq` included) is a user field.
const LOG_RECORD_ORDER: [Field; 23] = [
    Field::Name,
    Field::Msg,
    Field::Args,
    Field::Levelname,
    Field::Levelno,
    Field::Pathname,
    Field::Filename,
    Field::Module,
    Field::ExcInfo,
    Field::ExcText,
    Field::StackInfo,
    Field::Lineno,
    Field::FuncName,
    Field::Created,
    Field::Msecs,
    Field::RelativeCreated,
    Field::Thread,
    Field::ThreadName,
    Field::ProcessName,
    Field::Process,
    Field::TaskName,
    Field::Message,
    Field::Asctime,
];

/// The field of an attribute name that is not the interned string (a record rebuilt from JSON).
fn field_named(key: &Bound<'_, PyAny>) -> Option<Field> {
    let s = key.cast::<PyString>().ok()?;
    let s = str_of(s);
    LOG_RECORD_ORDER.iter().copied().find(|f| f.key() == s)
}

/// Looks up `logging`'s objects now, so a sender is never built where records cannot be read.
pub(crate) fn prepare(py: Python<'_>) -> PyResult<()> {
    logging_refs(py).map(|_| ())
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
            field_keys: LOG_RECORD_ORDER
                .iter()
                .map(|f| PyString::intern(py, f.key()).unbind())
                .collect(),
        })
    })
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
pub(crate) fn with_record<'py, R>(
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
    let mut slots: [Option<Bound<'py, PyAny>>; Field::ALL.len()] = std::array::from_fn(|_| None);
    let mut others: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> = Vec::new();
    let keys = &refs.field_keys;
    let (mut pos, mut i): (ffi::Py_ssize_t, usize) = (0, 0);
    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
    // SAFETY: `dict` is a live dict and the GIL is held; the borrowed key and value are turned into
    // owned references at once, and nothing runs Python code (which could change the dict) until
    // the loop is over.
    while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
        // A plain LogRecord's keys are the interned names, in `LOG_RECORD_ORDER`.
        let field = if i < keys.len() && keys[i].as_ptr() == k {
            Some(LOG_RECORD_ORDER[i])
        } else {
            let key = unsafe { Borrowed::from_ptr(py, k) };
            keys.iter()
                .position(|x| x.as_ptr() == k)
                .map(|at| LOG_RECORD_ORDER[at])
                .or_else(|| field_named(&key))
        };
        i += 1;
        let value = unsafe { Bound::from_borrowed_ptr(py, v) };
        match field {
            Some(field) => slots[field.index()] = Some(value),
            None => others.push((unsafe { Bound::from_borrowed_ptr(py, k) }, value)),
        }
    }
    let mut take = |f: Field| slots[f.index()].take();
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
