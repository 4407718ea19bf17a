//! Conversions between Python objects and the wire record's Rust types.
//!
//! Nothing here raises into the application: a value that cannot be represented is sent as its `repr`
//! (or a placeholder when even `repr` fails).

use logfunnel_core::schema::Field;
use logfunnel_core::Record;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

extern "C" {
    // In the stable ABI only from 3.10, but exported by every CPython 3 (and PyPy) on the platforms this
    // package supports (Linux, macOS). It returns the string's cached UTF-8 form without copying it,
    // which `PyString::to_cow` cannot do under `abi3-py39`.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const u8;
}

/// Deepest nesting of lists/dicts converted as JSON; deeper values are sent as their `repr`.
const MAX_DEPTH: usize = 16;

/// The UTF-8 text of a Python `str`, borrowed when possible. Lone surrogates become U+FFFD.
pub fn str_of<'a>(s: &'a Bound<'_, PyString>) -> Cow<'a, str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str; the returned buffer lives as long as the str object.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        // Not encodable (lone surrogates): clear the error and replace them.
        let _ = PyErr::take(s.py());
        return Cow::Owned(s.to_string_lossy().into_owned());
    }
    // SAFETY: CPython guarantees valid UTF-8 of `size` bytes.
    Cow::Borrowed(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(data, size as usize))
    })
}

/// `str(obj)` as a Rust string; a placeholder if `__str__` raises.
pub fn to_text(obj: &Bound<'_, PyAny>) -> String {
    if let Ok(s) = obj.cast::<PyString>() {
        return str_of(s).into_owned();
    }
    match obj.str() {
        Ok(s) => str_of(&s).into_owned(),
        Err(_) => placeholder(obj),
    }
}

/// `repr(obj)` as a Rust string; a placeholder if `__repr__` raises.
pub fn repr_of(obj: &Bound<'_, PyAny>) -> String {
    match obj.repr() {
        Ok(s) => str_of(&s).into_owned(),
        Err(_) => placeholder(obj),
    }
}

fn placeholder(obj: &Bound<'_, PyAny>) -> String {
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    format!("<unrepresentable {type_name} object>")
}

/// A user field as JSON: JSON-able values as themselves, anything else as its `repr`.
pub fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> Value {
    if obj.is_none() {
        return Value::Null;
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Value::String(str_of(s).into_owned());
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Value::Bool(b.is_true());
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Value::from(u);
        }
        // Beyond 64 bits: the digits, as Python's json would print them.
        return Value::String(repr_of(obj));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return match Number::from_f64(f.value()) {
            Some(n) => Value::Number(n),
            None => Value::String(repr_of(obj)), // nan, inf: not JSON
        };
    }
    if depth >= MAX_DEPTH {
        return Value::String(repr_of(obj));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return Value::Array(list.iter().map(|v| to_json(&v, depth + 1)).collect());
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return Value::Array(tuple.iter().map(|v| to_json(&v, depth + 1)).collect());
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            map.insert(to_text(&k), to_json(&v, depth + 1));
        }
        return Value::Object(map);
    }
    Value::String(repr_of(obj))
}

/// A JSON value as a Python object (for records handed to Python handlers).
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// The attribute dict of a `LogRecord` rebuilt from a wire record, ready for `logging.makeLogRecord`:
/// the schema's keys in wire order (`v` and the keys encoders never write left out), then the user
/// fields. Missing optional fields are left out, so `makeLogRecord` keeps its own defaults for them.
pub fn record_to_dict<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    fn opt<'py, T: IntoPyObject<'py> + Clone>(
        d: &Bound<'py, PyDict>,
        key: &str,
        v: &Option<T>,
    ) -> PyResult<()> {
        match v {
            Some(v) => d.set_item(key, v.clone()),
            None => Ok(()),
        }
    }
    for &field in Field::ALL {
        let key = field.key();
        match field {
            Field::V | Field::Message | Field::ExcInfo | Field::Asctime => {}
            Field::Name => d.set_item(key, &r.name)?,
            Field::Msg => d.set_item(key, &r.msg)?,
            Field::Args => d.set_item(key, py.None())?,
            Field::Levelno => d.set_item(key, r.levelno)?,
            Field::Levelname => d.set_item(key, &*r.levelname_or_default())?,
            Field::Created => d.set_item(key, r.created)?,
            Field::Msecs => d.set_item(key, r.msecs_or_default())?,
            Field::RelativeCreated => opt(&d, key, &r.relative_created)?,
            Field::Pathname => opt(&d, key, &r.pathname)?,
            Field::Filename => opt(&d, key, &r.filename)?,
            Field::Module => opt(&d, key, &r.module)?,
            Field::Lineno => opt(&d, key, &r.lineno)?,
            Field::FuncName => opt(&d, key, &r.func_name)?,
            Field::Process => opt(&d, key, &r.process)?,
            Field::ProcessName => opt(&d, key, &r.process_name)?,
            Field::Thread => opt(&d, key, &r.thread)?,
            Field::ThreadName => opt(&d, key, &r.thread_name)?,
            Field::TaskName => opt(&d, key, &r.task_name)?,
            Field::ExcText => opt(&d, key, &r.exc_text)?,
            Field::StackInfo => opt(&d, key, &r.stack_info)?,
            Field::Host => opt(&d, key, &r.host)?,
            Field::Lang => opt(&d, key, &r.lang)?,
            Field::Sid => opt(&d, key, &r.sid)?,
            Field::Seq => opt(&d, key, &r.seq)?,
        }
    }
    for (k, v) in &r.extra {
        d.set_item(k, json_to_py(py, v)?)?;
    }
    Ok(d)
}
