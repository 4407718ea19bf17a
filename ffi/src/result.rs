//! The one result enum every exported function returns, its messages, and the per-thread detail of the
//! last failure.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// What a call did. The numbers are permanent: new codes are only ever added.
///
/// Codes below 100 are not failures of the call itself: `LF_OK` is success, and `LF_FILTERED`,
/// `LF_QUEUE_FULL`, `LF_CLOSED` and `LF_TIMED_OUT` say why a record was not sent or a wait ended early.
/// Codes from 100 on are errors; `lf_last_error()` then has more detail on the calling thread.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum lf_result {
    /// Success. From a log call: the record is queued and the sender will send it.
    LF_OK = 0,
    /// The record's level is below the sender's minimum level; it is not sent (counted in `filtered`).
    LF_FILTERED = 1,
    /// The queue was full (after the block timeout with `LF_OVERFLOW_BLOCK`); the record was dropped and
    /// counted in `dropped_queue_full`.
    LF_QUEUE_FULL = 2,
    /// The sender is closed; the record was dropped and counted in `dropped_closed`.
    LF_CLOSED = 3,
    /// `lf_flush` or `lf_close`: the timeout passed with records still unsent (see `lf_get_stats`).
    LF_TIMED_OUT = 4,
    /// A required pointer was NULL, or a string pointer was NULL with a non-zero length.
    LF_NULL_ARGUMENT = 100,
    /// An argument or option value cannot work (unknown enum value, bad endpoint, zero capacity, ...).
    LF_INVALID_ARGUMENT = 101,
    /// libzmq refused to create, configure or connect the socket.
    LF_ZMQ_ERROR = 102,
    /// The operating system refused a resource (for example, the sender thread could not start).
    LF_SYSTEM_ERROR = 103,
    /// A bug inside the library was caught at the API boundary; the call had no effect.
    LF_PANIC = 199,
}

/// Every code, for `lf_result_message` and tests.
pub(crate) const ALL_RESULTS: [lf_result; 10] = [
    lf_result::LF_OK,
    lf_result::LF_FILTERED,
    lf_result::LF_QUEUE_FULL,
    lf_result::LF_CLOSED,
    lf_result::LF_TIMED_OUT,
    lf_result::LF_NULL_ARGUMENT,
    lf_result::LF_INVALID_ARGUMENT,
    lf_result::LF_ZMQ_ERROR,
    lf_result::LF_SYSTEM_ERROR,
    lf_result::LF_PANIC,
];

impl lf_result {
    /// The static, NUL-terminated message for this code.
    pub fn message(self) -> &'static std::ffi::CStr {
        match self {
            lf_result::LF_OK => c"ok",
            lf_result::LF_FILTERED => c"filtered: level below the sender's minimum level",
            lf_result::LF_QUEUE_FULL => c"queue full: record dropped",
            lf_result::LF_CLOSED => c"sender closed: record dropped",
            lf_result::LF_TIMED_OUT => c"timed out with records still unsent",
            lf_result::LF_NULL_ARGUMENT => c"a required pointer argument was NULL",
            lf_result::LF_INVALID_ARGUMENT => c"invalid argument or option value",
            lf_result::LF_ZMQ_ERROR => c"ZeroMQ error (socket, option or endpoint)",
            lf_result::LF_SYSTEM_ERROR => c"system error (thread or resource)",
            lf_result::LF_PANIC => c"internal error (panic caught at the API boundary)",
        }
    }
}

/// A static, NUL-terminated English message for a result code (never NULL; an unknown code gives
/// "unknown result code"). The string must not be freed.
#[no_mangle]
pub extern "C" fn lf_result_message(code: u32) -> *const c_char {
    // Cannot panic: a table look-up over static strings.
    ALL_RESULTS
        .iter()
        .find(|r| **r as u32 == code)
        .map_or(c"unknown result code", |r| r.message())
        .as_ptr()
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the detail of a failure for `lf_last_error` on this thread.
pub(crate) fn set_last_error(detail: impl std::fmt::Display) {
    let text = detail.to_string().replace('\0', " ");
    let text = CString::new(text).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = text);
}

/// A NUL-terminated description of the last error (code 100 or more) returned to the calling thread, or
/// "" if there was none. The pointer stays valid until the next failing call on the same thread; copy the
/// text if you need it longer. Never NULL; must not be freed.
#[no_mangle]
pub extern "C" fn lf_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}
