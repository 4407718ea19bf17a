//! What a log call carries: the C structs `lf_field` and `lf_record`, and their conversion into the
//! core's `Record`.

use crate::guard::{bytes, lossy};
use crate::result::{lf_result, set_last_error};
use logfunnel_core::record::now_seconds;
use logfunnel_core::Record;
use serde_json::Value;
use std::cell::RefCell;
use std::ffi::c_char;

/// Kind of an `lf_field` value, for `lf_field.kind`.
pub type lf_field_kind = u32;
/// A string: `str_value`/`str_len` (the default: a zeroed `lf_field` is an empty string).
pub const LF_FIELD_STRING: lf_field_kind = 0;
/// A signed integer: `int_value`.
pub const LF_FIELD_INT: lf_field_kind = 1;
/// A floating-point number: `float_value` (NaN and infinities are sent as null).
pub const LF_FIELD_FLOAT: lf_field_kind = 2;
/// A boolean: `int_value` (0 is false, anything else true).
pub const LF_FIELD_BOOL: lf_field_kind = 3;
/// JSON text in `str_value`/`str_len`, sent as the parsed value (an object, array, ...); text that is not
/// valid JSON is sent as a string.
pub const LF_FIELD_JSON: lf_field_kind = 4;
/// A JSON null; no value member is read.
pub const LF_FIELD_NULL: lf_field_kind = 5;

/// One user field, sent as a top-level key of the record (Python's `extra=`), so formats can use
/// `%(key)s`. A key that names a schema field (`msg`, `levelno`, `seq`, ...) is sent as `extra.<key>`.
/// All strings are (pointer, length) pairs; they need no NUL terminator and are copied during the call.
#[repr(C)]
pub struct lf_field {
    /// Key bytes (UTF-8). NULL only with `key_len` 0 (an empty key).
    pub key: *const c_char,
    /// Length of `key` in bytes.
    pub key_len: usize,
    /// String value bytes for `LF_FIELD_STRING` and `LF_FIELD_JSON`. NULL only with `str_len` 0.
    pub str_value: *const c_char,
    /// Length of `str_value` in bytes.
    pub str_len: usize,
    /// Value for `LF_FIELD_INT` and `LF_FIELD_BOOL`.
    pub int_value: i64,
    /// Value for `LF_FIELD_FLOAT`.
    pub float_value: f64,
    /// Which value member is used (`LF_FIELD_STRING` ...); another value gives `LF_INVALID_ARGUMENT`.
    pub kind: lf_field_kind,
}

/// Everything one log call can carry, for `lf_log_record`. Zero-initialize it (`lf_record r = {0};`,
/// or `memset`) and set what you have: every zero/NULL member means "absent" or "the default".
/// Strings are (pointer, length) pairs (NULL only with length 0), need no NUL terminator, and are
/// copied before the call returns.
#[repr(C)]
pub struct lf_record {
    /// Level on Python's scale (`LF_LEVEL_DEBUG` 10 ... `LF_LEVEL_CRITICAL` 50; any number is allowed).
    pub level: i32,
    /// Source line number (0 or negative: none, `lineno` is left out).
    pub line: i32,
    /// Logger name, e.g. "app.db". Absent or empty: the sender's default logger.
    pub logger: *const c_char,
    /// Length of `logger` in bytes.
    pub logger_len: usize,
    /// The message (may be empty).
    pub msg: *const c_char,
    /// Length of `msg` in bytes.
    pub msg_len: usize,
    /// Source file path (`pathname`; `filename` and `module` are derived from it).
    pub file: *const c_char,
    /// Length of `file` in bytes.
    pub file_len: usize,
    /// Function name (`funcName`).
    pub func: *const c_char,
    /// Length of `func` in bytes.
    pub func_len: usize,
    /// User fields (NULL only with `field_count` 0).
    pub fields: *const lf_field,
    /// Number of `fields`.
    pub field_count: usize,
    /// Formatted exception / traceback text (`exc_text`), e.g. a Java stack trace with causes.
    pub exc_text: *const c_char,
    /// Length of `exc_text` in bytes.
    pub exc_text_len: usize,
    /// Formatted stack (`stack_info`).
    pub stack_info: *const c_char,
    /// Length of `stack_info` in bytes.
    pub stack_info_len: usize,
    /// Thread name (`threadName`). Absent: the OS name of the calling thread.
    pub thread_name: *const c_char,
    /// Length of `thread_name` in bytes.
    pub thread_name_len: usize,
    /// Thread id (`thread`). 0: the calling thread's `pthread_self()`; negative: left out (for a
    /// record made on another thread than the one calling, e.g. behind an async appender).
    pub thread_id: i64,
    /// Creation time in seconds since the Unix epoch (`created`). 0: now.
    pub created: f64,
}

/// One log call's inputs as byte slices, whichever exported function they came through.
#[derive(Default)]
pub(crate) struct Input<'a> {
    pub(crate) level: i32,
    pub(crate) line: i32,
    pub(crate) logger: Option<&'a [u8]>,
    pub(crate) msg: &'a [u8],
    pub(crate) file: Option<&'a [u8]>,
    pub(crate) func: Option<&'a [u8]>,
    pub(crate) fields: &'a [lf_field],
    pub(crate) exc_text: Option<&'a [u8]>,
    pub(crate) stack_info: Option<&'a [u8]>,
    pub(crate) thread_name: Option<&'a [u8]>,
    pub(crate) thread_id: i64,
    pub(crate) created: f64,
}

impl<'a> Input<'a> {
    /// The inputs of an `lf_record`; `LF_NULL_ARGUMENT` if one of its strings (or its fields) is NULL
    /// with a length.
    ///
    /// # Safety
    /// `r`'s (pointer, length) pairs and fields follow `lf_record`'s documented rules.
    pub(crate) unsafe fn from_c(r: &'a lf_record) -> Result<Input<'a>, lf_result> {
        let text = |ptr, len, what: &str| {
            // SAFETY: the record's (pointer, length) pairs follow the documented rules.
            unsafe { bytes(ptr, len) }.map_err(|()| {
                set_last_error(format_args!("record {what} is NULL with a non-zero length"));
                lf_result::LF_NULL_ARGUMENT
            })
        };
        let fields = if r.fields.is_null() {
            if r.field_count != 0 {
                set_last_error("record fields is NULL with a non-zero field_count");
                return Err(lf_result::LF_NULL_ARGUMENT);
            }
            &[][..]
        } else {
            // SAFETY: `field_count` readable `lf_field`s at `fields`.
            unsafe { std::slice::from_raw_parts(r.fields, r.field_count) }
        };
        Ok(Input {
            level: r.level,
            line: r.line,
            logger: text(r.logger, r.logger_len, "logger")?,
            msg: text(r.msg, r.msg_len, "msg")?.unwrap_or_default(),
            file: text(r.file, r.file_len, "file")?,
            func: text(r.func, r.func_len, "func")?,
            fields,
            exc_text: text(r.exc_text, r.exc_text_len, "exc_text")?,
            stack_info: text(r.stack_info, r.stack_info_len, "stack_info")?,
            thread_name: text(r.thread_name, r.thread_name_len, "thread_name")?,
            thread_id: r.thread_id,
            created: r.created,
        })
    }

    /// The core record. `default_logger` names records without a logger; `start` (the sender's
    /// creation time) gives `relativeCreated`. `LF_INVALID_ARGUMENT` or `LF_NULL_ARGUMENT` for a bad
    /// user field (nothing is logged then).
    pub(crate) fn into_record(self, default_logger: &str, start: f64) -> Result<Record, lf_result> {
        let created = if self.created > 0.0 {
            self.created
        } else {
            now_seconds()
        };
        let name = match self.logger {
            Some(b) if !b.is_empty() => lossy(b),
            _ => default_logger.to_string(),
        };
        let mut record = Record {
            name,
            msg: lossy(self.msg),
            levelno: self.level.into(),
            created,
            relative_created: Some(((created - start) * 1000.0).max(0.0)),
            thread: match self.thread_id {
                id if id > 0 => Some(id),
                0 => {
                    // pthread_t is an address on Linux: positive and below 2^63.
                    // SAFETY: always safe to call.
                    Some((unsafe { libc::pthread_self() }) as i64)
                }
                _ => None,
            },
            thread_name: match self.thread_name {
                Some(b) => Some(lossy(b)),
                None => current_thread_name(),
            },
            exc_text: self.exc_text.map(lossy),
            stack_info: self.stack_info.map(lossy),
            func_name: self.func.map(lossy),
            ..Record::default()
        };
        if let Some(file) = self.file {
            // `filename` and `module` are derived from it by the sender thread.
            record.pathname = Some(lossy(file));
        }
        if self.line > 0 {
            record.lineno = Some(self.line.into());
        }
        record.extra.reserve_exact(self.fields.len());
        for field in self.fields {
            let (key, value) = field_value(field)?;
            record.push_extra(key, value);
        }
        Ok(record)
    }
}

/// A user field's key and JSON value.
fn field_value(f: &lf_field) -> Result<(String, Value), lf_result> {
    let null_arg = |what: &str| {
        set_last_error(format_args!("field {what} is NULL with a non-zero length"));
        lf_result::LF_NULL_ARGUMENT
    };
    // SAFETY: the caller guarantees (pointer, length) pairs that are valid or NULL with length 0.
    let key = unsafe { bytes(f.key, f.key_len) }.map_err(|()| null_arg("key"))?;
    let key = lossy(key.unwrap_or_default());
    let text = || -> Result<String, lf_result> {
        // SAFETY: as above.
        let b = unsafe { bytes(f.str_value, f.str_len) }.map_err(|()| null_arg("str_value"))?;
        Ok(lossy(b.unwrap_or_default()))
    };
    let value = match f.kind {
        LF_FIELD_STRING => Value::String(text()?),
        LF_FIELD_INT => Value::from(f.int_value),
        LF_FIELD_FLOAT => Value::from(f.float_value),
        LF_FIELD_BOOL => Value::Bool(f.int_value != 0),
        LF_FIELD_JSON => {
            let t = text()?;
            serde_json::from_str(&t).unwrap_or(Value::String(t))
        }
        LF_FIELD_NULL => Value::Null,
        other => {
            set_last_error(format_args!("field {key:?}: unknown kind {other}"));
            return Err(lf_result::LF_INVALID_ARGUMENT);
        }
    };
    Ok((key, value))
}

thread_local! {
    /// The OS name of this thread, read once at its first log call.
    static THREAD_NAME: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

fn os_thread_name() -> Option<String> {
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is valid for its length; on success it is NUL-terminated.
    let rc = unsafe {
        libc::pthread_getname_np(libc::pthread_self(), buf.as_mut_ptr().cast(), buf.len())
    };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(lossy(&buf[..end]))
}

fn current_thread_name() -> Option<String> {
    THREAD_NAME
        .try_with(|cell| cell.borrow_mut().get_or_insert_with(os_thread_name).clone())
        .unwrap_or_else(|_| os_thread_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The offsets of `$field`s in `$t`, in the order given.
    macro_rules! offsets {
        ($t:ty: $($field:ident),*) => { [$(offset_of!($t, $field)),*] };
    }

    /// The Java binding (FFM) declares these layouts by hand; they must not move.
    #[test]
    fn struct_layouts_are_stable() {
        assert_eq!(size_of::<lf_field>(), 56);
        assert_eq!(
            offsets!(lf_field: key, key_len, str_value, str_len, int_value, float_value, kind),
            [0, 8, 16, 24, 32, 40, 48]
        );
        assert_eq!(size_of::<lf_record>(), 152);
        assert_eq!(
            offsets!(lf_record: level, line, logger, msg, file, func, fields, exc_text, stack_info,
                thread_name, thread_id, created),
            [0, 4, 8, 24, 40, 56, 72, 88, 104, 120, 136, 144]
        );
    }
}
