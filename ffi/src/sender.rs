//! `lf_sender` and the log calls.

use crate::guard::{bytes, bytes_cstr, guard, lossy};
use crate::options::lf_options;
use crate::result::{lf_result, set_last_error};
use logfunnel_core::record::now_seconds;
use logfunnel_core::{FlushStatus, Outcome, Record, Sender, SenderError};
use serde_json::Value;
use std::cell::RefCell;
use std::ffi::c_char;
use std::time::Duration;

/// A sender (opaque): a bounded queue and a background thread that writes records to the collector.
/// Thread-safe: share one between all threads. Fork-aware: in a child process it builds its own
/// connection on first use and never touches the parent's.
pub struct lf_sender {
    sender: Sender,
    default_logger: String,
    /// `created` of the sender, for records' `relativeCreated`.
    start: f64,
}

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

/// Counters of a sender, filled by `lf_get_stats`. Counts are since the sender was built in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct lf_stats {
    /// Records accepted into the queue.
    pub enqueued: u64,
    /// Records handed to libzmq.
    pub sent: u64,
    /// Records dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Records dropped because the sender was closed.
    pub dropped_closed: u64,
    /// Records still unsent when `lf_close` timed out.
    pub dropped_at_close: u64,
    /// Records too large even after truncation.
    pub dropped_oversized: u64,
    /// Records shortened to fit the maximum frame size.
    pub truncated: u64,
    /// Records below the minimum level.
    pub filtered: u64,
    /// Records waiting to be sent now.
    pub depth: u64,
    /// All dropped records: the four `dropped_*` counters added up.
    pub dropped: u64,
    /// XPUB mode: 1 once the collector has subscribed, else 0. Always 0 in PUSH mode.
    pub connected: u32,
}

/// Builds a sender from `options` and stores it in `*out`. Always takes over `options`, whatever the
/// result: do not use or free it afterwards. On failure `*out` is left untouched and `lf_last_error()`
/// names the problem (`LF_INVALID_ARGUMENT` for a bad option, `LF_ZMQ_ERROR` for an endpoint libzmq
/// rejects). A collector that is not running yet is not an error: records wait in the queue.
///
/// # Safety
/// `options` is NULL or a live pointer from `lf_options_new`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lf_sender_new(
    options: *mut lf_options,
    out: *mut *mut lf_sender,
) -> lf_result {
    guard(lf_result::LF_PANIC, || {
        if options.is_null() {
            set_last_error("options is NULL");
            return lf_result::LF_NULL_ARGUMENT;
        }
        // SAFETY: a live pointer from `lf_options_new`; we take it over as documented.
        let options = unsafe { Box::from_raw(options) };
        if out.is_null() {
            set_last_error("out is NULL");
            return lf_result::LF_NULL_ARGUMENT;
        }
        if !options.endpoint_set {
            set_last_error("invalid option endpoint: not set (lf_options_set_endpoint)");
            return lf_result::LF_INVALID_ARGUMENT;
        }
        let lf_options {
            core,
            default_logger,
            ..
        } = *options;
        match Sender::new(core) {
            Ok(sender) => {
                let boxed = Box::new(lf_sender {
                    sender,
                    default_logger,
                    start: now_seconds(),
                });
                // SAFETY: `out` is non-NULL and writable.
                unsafe { out.write(Box::into_raw(boxed)) };
                lf_result::LF_OK
            }
            Err(e) => {
                set_last_error(&e);
                match e {
                    SenderError::InvalidOption { .. } => lf_result::LF_INVALID_ARGUMENT,
                    SenderError::Zmq { .. } => lf_result::LF_ZMQ_ERROR,
                    SenderError::Thread(_) => lf_result::LF_SYSTEM_ERROR,
                }
            }
        }
    })
}

/// Frees a sender. If `lf_close` was not called, first closes it with the options' close timeout
/// (5000 ms by default), so call `lf_close` yourself to choose the wait. NULL is a no-op. In a forked
/// child, freeing a sender inherited from the parent leaves the parent's connection alone.
///
/// # Safety
/// `sender` is NULL or a live pointer from `lf_sender_new`, not used by any thread afterwards.
#[no_mangle]
pub unsafe extern "C" fn lf_sender_free(sender: *mut lf_sender) {
    guard((), || {
        if !sender.is_null() {
            // SAFETY: a live pointer from `lf_sender_new`, freed once.
            drop(unsafe { Box::from_raw(sender) });
        }
    })
}

/// Maps the core outcome to its result code.
fn outcome(o: Outcome) -> lf_result {
    match o {
        Outcome::Queued => lf_result::LF_OK,
        Outcome::Filtered => lf_result::LF_FILTERED,
        Outcome::QueueFull => lf_result::LF_QUEUE_FULL,
        Outcome::Closed => lf_result::LF_CLOSED,
    }
}

/// One log call's inputs as byte slices, whichever exported function they came through.
#[derive(Default)]
struct Input<'a> {
    level: i32,
    line: i32,
    logger: Option<&'a [u8]>,
    msg: &'a [u8],
    file: Option<&'a [u8]>,
    func: Option<&'a [u8]>,
    fields: &'a [lf_field],
    exc_text: Option<&'a [u8]>,
    stack_info: Option<&'a [u8]>,
    thread_name: Option<&'a [u8]>,
    thread_id: i64,
    created: f64,
}

impl lf_sender {
    fn submit(&self, input: Input<'_>) -> lf_result {
        if i64::from(input.level) < self.sender.options().min_level {
            // The cheap path: an empty record, only counted.
            return outcome(self.sender.log(Record {
                levelno: input.level.into(),
                ..Record::default()
            }));
        }
        let created = if input.created > 0.0 {
            input.created
        } else {
            now_seconds()
        };
        let name = match input.logger {
            Some(b) if !b.is_empty() => lossy(b),
            _ => self.default_logger.clone(),
        };
        let mut record = Record {
            name,
            msg: lossy(input.msg),
            levelno: input.level.into(),
            created,
            relative_created: Some(((created - self.start) * 1000.0).max(0.0)),
            thread: match input.thread_id {
                id if id > 0 => Some(id),
                0 => {
                    // pthread_t is an address on Linux: positive and below 2^63.
                    // SAFETY: always safe to call.
                    Some((unsafe { libc::pthread_self() }) as i64)
                }
                _ => None,
            },
            thread_name: match input.thread_name {
                Some(b) => Some(lossy(b)),
                None => current_thread_name(),
            },
            exc_text: input.exc_text.map(lossy),
            stack_info: input.stack_info.map(lossy),
            func_name: input.func.map(lossy),
            ..Record::default()
        };
        if let Some(file) = input.file {
            // `filename` and `module` are derived from it by the sender thread.
            record.pathname = Some(lossy(file));
        }
        if input.line > 0 {
            record.lineno = Some(input.line.into());
        }
        record.extra.reserve_exact(input.fields.len());
        for field in input.fields {
            match field_value(field) {
                Ok((key, value)) => record.push_extra(key, value),
                Err(e) => return e,
            }
        }
        outcome(self.sender.log(record))
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
        crate::LF_FIELD_STRING => Value::String(text()?),
        crate::LF_FIELD_INT => Value::from(f.int_value),
        crate::LF_FIELD_FLOAT => Value::from(f.float_value),
        crate::LF_FIELD_BOOL => Value::Bool(f.int_value != 0),
        crate::LF_FIELD_JSON => {
            let t = text()?;
            serde_json::from_str(&t).unwrap_or(Value::String(t))
        }
        crate::LF_FIELD_NULL => Value::Null,
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

/// Runs `f` on the sender behind `sender`, with the panic boundary and NULL check.
fn with_sender(sender: *const lf_sender, f: impl FnOnce(&lf_sender) -> lf_result) -> lf_result {
    guard(lf_result::LF_PANIC, || {
        // SAFETY: the caller passes NULL or a live pointer from `lf_sender_new`.
        match unsafe { sender.as_ref() } {
            Some(s) => f(s),
            None => {
                set_last_error("sender is NULL");
                lf_result::LF_NULL_ARGUMENT
            }
        }
    })
}

/// Logs a message with explicit lengths (no source location). `logger` may be NULL (with length 0) for
/// the default logger; `msg` may be empty. Invalid UTF-8 in any string is replaced by U+FFFD, never
/// rejected. Returns `LF_OK` (queued), `LF_FILTERED`, `LF_QUEUE_FULL`, `LF_CLOSED`, or an error code.
/// Blocks only with `LF_OVERFLOW_BLOCK` and a full queue, at most the block timeout.
///
/// # Safety
/// `sender` is NULL or live; each string is NULL with length 0, or points to that many readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lf_log(
    sender: *const lf_sender,
    level: i32,
    logger: *const c_char,
    logger_len: usize,
    msg: *const c_char,
    msg_len: usize,
) -> lf_result {
    with_sender(sender, |s| {
        // SAFETY: forwarded from the caller.
        let (Ok(logger), Ok(msg)) = (unsafe { bytes(logger, logger_len) }, unsafe {
            bytes(msg, msg_len)
        }) else {
            set_last_error("logger or msg is NULL with a non-zero length");
            return lf_result::LF_NULL_ARGUMENT;
        };
        s.submit(Input {
            level,
            logger,
            msg: msg.unwrap_or_default(),
            ..Input::default()
        })
    })
}

/// Logs a NUL-terminated message with its source location; the `LF_INFO(...)`-style macros call this.
/// `logger`, `file` and `func` may be NULL; `msg` must not be. Invalid UTF-8 is replaced by U+FFFD.
/// Returns as `lf_log`.
///
/// # Safety
/// `sender` is NULL or live; each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_log_at(
    sender: *const lf_sender,
    level: i32,
    logger: *const c_char,
    msg: *const c_char,
    file: *const c_char,
    line: i32,
    func: *const c_char,
) -> lf_result {
    with_sender(sender, |s| {
        // SAFETY: forwarded from the caller.
        let Some(msg) = (unsafe { bytes_cstr(msg) }) else {
            set_last_error("msg is NULL");
            return lf_result::LF_NULL_ARGUMENT;
        };
        // SAFETY: forwarded from the caller.
        let (logger, file, func) =
            unsafe { (bytes_cstr(logger), bytes_cstr(file), bytes_cstr(func)) };
        s.submit(Input {
            level,
            line,
            logger,
            msg,
            file,
            func,
            ..Input::default()
        })
    })
}

/// Logs a full record: location, user fields, exception text, thread, time (see `lf_record`). Returns
/// as `lf_log`; `LF_NULL_ARGUMENT` if `record` is NULL or one of its strings is NULL with a length,
/// `LF_INVALID_ARGUMENT` for an unknown field kind (nothing is logged then).
///
/// # Safety
/// `sender` is NULL or live; `record` is NULL or points to an `lf_record` whose strings and fields
/// follow its documented rules.
#[no_mangle]
pub unsafe extern "C" fn lf_log_record(
    sender: *const lf_sender,
    record: *const lf_record,
) -> lf_result {
    with_sender(sender, |s| {
        // SAFETY: NULL or a valid `lf_record`, per the contract.
        let Some(r) = (unsafe { record.as_ref() }) else {
            set_last_error("record is NULL");
            return lf_result::LF_NULL_ARGUMENT;
        };
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
                return lf_result::LF_NULL_ARGUMENT;
            }
            &[][..]
        } else {
            // SAFETY: `field_count` readable `lf_field`s at `fields`.
            unsafe { std::slice::from_raw_parts(r.fields, r.field_count) }
        };
        let input = (|| {
            Ok::<_, lf_result>(Input {
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
        })();
        match input {
            Ok(input) => s.submit(input),
            Err(e) => e,
        }
    })
}

fn flush_result(status: FlushStatus) -> lf_result {
    match status {
        FlushStatus::Flushed => lf_result::LF_OK,
        FlushStatus::TimedOut { .. } => lf_result::LF_TIMED_OUT,
    }
}

/// Waits until every record queued so far has been handed to libzmq, at most `timeout_ms`
/// milliseconds. Returns `LF_OK`, or `LF_TIMED_OUT` (for example while no collector is there).
///
/// # Safety
/// `sender` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_flush(sender: *const lf_sender, timeout_ms: u32) -> lf_result {
    with_sender(sender, |s| {
        flush_result(s.sender.flush(Duration::from_millis(timeout_ms.into())))
    })
}

/// Flushes, then closes the connection, waiting at most `timeout_ms` milliseconds in all; records still
/// unsent then are dropped and counted in `dropped_at_close`. Later log calls return `LF_CLOSED`.
/// Returns `LF_OK` or `LF_TIMED_OUT`. Calling it again is harmless. Call it before the program exits so
/// the last records are not lost; then free the sender with `lf_sender_free`.
///
/// # Safety
/// `sender` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_close(sender: *const lf_sender, timeout_ms: u32) -> lf_result {
    with_sender(sender, |s| {
        flush_result(s.sender.close(Duration::from_millis(timeout_ms.into())))
    })
}

/// Copies the sender's counters into `*out`. `*out` is written only when the result is `LF_OK`.
///
/// # Safety
/// `sender` is NULL or live; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lf_get_stats(sender: *const lf_sender, out: *mut lf_stats) -> lf_result {
    with_sender(sender, |s| {
        if out.is_null() {
            set_last_error("out is NULL");
            return lf_result::LF_NULL_ARGUMENT;
        }
        let st = s.sender.stats();
        let stats = lf_stats {
            enqueued: st.enqueued,
            sent: st.sent,
            dropped_queue_full: st.dropped_queue_full,
            dropped_closed: st.dropped_closed,
            dropped_at_close: st.dropped_at_close,
            dropped_oversized: st.dropped_oversized,
            truncated: st.truncated,
            filtered: st.filtered,
            depth: st.depth,
            dropped: st.dropped(),
            connected: st.connected.into(),
        };
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(stats) };
        lf_result::LF_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The Java binding (FFM) declares these layouts by hand; they must not move.
    #[test]
    fn struct_layouts_are_stable() {
        assert_eq!(size_of::<lf_field>(), 56);
        assert_eq!(
            [
                offset_of!(lf_field, key),
                offset_of!(lf_field, key_len),
                offset_of!(lf_field, str_value),
                offset_of!(lf_field, str_len),
                offset_of!(lf_field, int_value),
                offset_of!(lf_field, float_value),
                offset_of!(lf_field, kind),
            ],
            [0, 8, 16, 24, 32, 40, 48]
        );
        assert_eq!(size_of::<lf_record>(), 152);
        assert_eq!(
            [
                offset_of!(lf_record, level),
                offset_of!(lf_record, line),
                offset_of!(lf_record, logger),
                offset_of!(lf_record, msg),
                offset_of!(lf_record, file),
                offset_of!(lf_record, func),
                offset_of!(lf_record, fields),
                offset_of!(lf_record, exc_text),
                offset_of!(lf_record, stack_info),
                offset_of!(lf_record, thread_name),
                offset_of!(lf_record, thread_id),
                offset_of!(lf_record, created),
            ],
            [0, 4, 8, 24, 40, 56, 72, 88, 104, 120, 136, 144]
        );
        assert_eq!(size_of::<lf_stats>(), 88);
        assert_eq!(offset_of!(lf_stats, connected), 80);
    }
}
