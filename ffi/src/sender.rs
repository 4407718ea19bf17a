//! `lf_sender`: building and freeing a sender, the log calls, flush and close.

use crate::guard::{bytes, bytes_cstr, guard};
use crate::options::lf_options;
use crate::record::{lf_record, Input};
use crate::result::{lf_result, set_last_error};
use logfunnel_core::record::now_seconds;
use logfunnel_core::{FlushStatus, Outcome, Record, Sender, SenderError, Stats};
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
        let Some(built) = options.build() else {
            set_last_error("invalid option endpoint: not set (lf_options_set_endpoint)");
            return lf_result::LF_INVALID_ARGUMENT;
        };
        match Sender::new(built.core) {
            Ok(sender) => {
                let boxed = Box::new(lf_sender {
                    sender,
                    default_logger: built.default_logger,
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

impl lf_sender {
    fn submit(&self, input: Input<'_>) -> lf_result {
        if i64::from(input.level) < self.sender.options().min_level {
            // The cheap path: an empty record, only counted.
            return outcome(self.sender.log(Record {
                levelno: input.level.into(),
                ..Record::default()
            }));
        }
        match input.into_record(&self.default_logger, self.start) {
            Ok(record) => outcome(self.sender.log(record)),
            Err(e) => e,
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        self.sender.stats()
    }
}

/// Runs `f` on the sender behind `sender`, with the panic boundary and NULL check.
pub(crate) fn with_sender(
    sender: *const lf_sender,
    f: impl FnOnce(&lf_sender) -> lf_result,
) -> lf_result {
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
        // SAFETY: the record follows its documented rules, per the contract.
        match unsafe { Input::from_c(r) } {
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
