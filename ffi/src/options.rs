//! `lf_options`: the builder a sender is made from.
//!
//! Setters only store values; `lf_sender_new` checks them all at once and names the bad option in
//! `lf_last_error()`, so a C program needs one error check, not one per setter.

use crate::guard::{guard, text_cstr};
use crate::result::{lf_result, set_last_error};
use logfunnel_core::{Lang, OverflowPolicy, SenderOptions, SocketMode};
use std::ffi::c_char;
use std::time::Duration;

/// Socket type for `lf_options_set_mode`.
pub type lf_mode = u32;
/// `XPUB` with `ZMQ_XPUB_NODROP` connecting to the collector's `SUB` (default): nothing is sent before
/// the collector has subscribed and nothing is dropped at the ZeroMQ high-water mark.
pub const LF_MODE_XPUB: lf_mode = 0;
/// `PUSH` connecting to the collector's `PULL`.
pub const LF_MODE_PUSH: lf_mode = 1;

/// What a log call does when the queue is full, for `lf_options_set_overflow`.
pub type lf_overflow = u32;
/// Wait up to the block timeout for room, then drop the new record (default).
pub const LF_OVERFLOW_BLOCK: lf_overflow = 0;
/// Drop the new record at once.
pub const LF_OVERFLOW_DROP_NEWEST: lf_overflow = 1;
/// Drop the oldest queued record to make room.
pub const LF_OVERFLOW_DROP_OLDEST: lf_overflow = 2;

/// Options for `lf_sender_new` (opaque). Made by `lf_options_new`, consumed by `lf_sender_new`, or freed
/// with `lf_options_free` if never used.
///
/// | option | default |
/// |---|---|
/// | endpoint | none: must be set (`tcp://host:port` or `ipc://path`) |
/// | mode | `LF_MODE_XPUB` |
/// | queue capacity | 65536 records |
/// | queue max bytes | 64 MiB |
/// | overflow | `LF_OVERFLOW_BLOCK` |
/// | block timeout | 1000 ms (then calls drop at once until the sender makes progress) |
/// | max frame bytes | 1 MiB (larger records are truncated) |
/// | min level | 0 (everything is sent) |
/// | sndhwm | 1000 frames |
/// | close timeout (used by `lf_sender_free` without `lf_close`) | 5000 ms |
/// | lang | "c" |
/// | host | the machine's host name |
/// | default logger | "root" |
pub struct lf_options {
    pub(crate) core: SenderOptions,
    pub(crate) default_logger: String,
    pub(crate) endpoint_set: bool,
}

impl lf_options {
    fn new() -> lf_options {
        let mut core = SenderOptions::new(String::new());
        core.lang = Lang::C;
        lf_options {
            core,
            default_logger: "root".to_string(),
            endpoint_set: false,
        }
    }
}

/// Makes an options builder with the defaults above. Returns NULL only if the library failed internally.
/// Free it with `lf_options_free` unless it is passed to `lf_sender_new`, which takes it over.
#[no_mangle]
pub extern "C" fn lf_options_new() -> *mut lf_options {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(lf_options::new()))
    })
}

/// Frees options that were not passed to `lf_sender_new`. NULL is a no-op.
///
/// # Safety
/// `options` is NULL or a pointer from `lf_options_new` not yet freed or consumed.
#[no_mangle]
pub unsafe extern "C" fn lf_options_free(options: *mut lf_options) {
    guard((), || {
        if !options.is_null() {
            // SAFETY: the caller passes a pointer from `lf_options_new`, once.
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

/// Runs `f` on the options behind `options`, with the panic boundary and NULL check.
fn with_options(
    options: *mut lf_options,
    f: impl FnOnce(&mut lf_options) -> lf_result,
) -> lf_result {
    guard(lf_result::LF_PANIC, || {
        // SAFETY: the caller passes NULL or a live pointer from `lf_options_new`, not used concurrently.
        match unsafe { options.as_mut() } {
            Some(o) => f(o),
            None => lf_result::LF_NULL_ARGUMENT,
        }
    })
}

/// A NUL-terminated string argument of a setter, or the NULL-argument error.
fn required_text(ptr: *const c_char, what: &str) -> Result<String, lf_result> {
    // SAFETY: the caller passes NULL or a NUL-terminated string.
    match unsafe { text_cstr(ptr) } {
        Some(s) => Ok(s),
        None => {
            set_last_error(format_args!("{what} is NULL"));
            Err(lf_result::LF_NULL_ARGUMENT)
        }
    }
}

/// Sets where the collector listens: `tcp://host:port` or `ipc://path` (NUL-terminated). Required.
///
/// # Safety
/// `options` is NULL or live; `endpoint` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_endpoint(
    options: *mut lf_options,
    endpoint: *const c_char,
) -> lf_result {
    with_options(options, |o| match required_text(endpoint, "endpoint") {
        Ok(s) => {
            o.core.endpoint = s;
            o.endpoint_set = true;
            lf_result::LF_OK
        }
        Err(e) => e,
    })
}

/// Sets the socket type: `LF_MODE_XPUB` (default) or `LF_MODE_PUSH`; another value gives
/// `LF_INVALID_ARGUMENT`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_mode(options: *mut lf_options, mode: lf_mode) -> lf_result {
    with_options(options, |o| {
        o.core.mode = match mode {
            LF_MODE_XPUB => SocketMode::Xpub,
            LF_MODE_PUSH => SocketMode::Push,
            other => {
                set_last_error(format_args!("unknown mode {other}"));
                return lf_result::LF_INVALID_ARGUMENT;
            }
        };
        lf_result::LF_OK
    })
}

/// Sets the most records queued (at least 1).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_queue_capacity(
    options: *mut lf_options,
    records: usize,
) -> lf_result {
    with_options(options, |o| {
        o.core.queue_capacity = records;
        lf_result::LF_OK
    })
}

/// Sets the most bytes queued (approximate; at least 1).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_queue_max_bytes(
    options: *mut lf_options,
    bytes: usize,
) -> lf_result {
    with_options(options, |o| {
        o.core.queue_max_bytes = bytes;
        lf_result::LF_OK
    })
}

/// Sets what a log call does when the queue is full: `LF_OVERFLOW_BLOCK` (default),
/// `LF_OVERFLOW_DROP_NEWEST` or `LF_OVERFLOW_DROP_OLDEST`; another value gives `LF_INVALID_ARGUMENT`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_overflow(
    options: *mut lf_options,
    overflow: lf_overflow,
) -> lf_result {
    with_options(options, |o| {
        o.core.overflow = match overflow {
            LF_OVERFLOW_BLOCK => OverflowPolicy::Block,
            LF_OVERFLOW_DROP_NEWEST => OverflowPolicy::DropNewest,
            LF_OVERFLOW_DROP_OLDEST => OverflowPolicy::DropOldest,
            other => {
                set_last_error(format_args!("unknown overflow policy {other}"));
                return lf_result::LF_INVALID_ARGUMENT;
            }
        };
        lf_result::LF_OK
    })
}

/// Sets the longest a log call waits for room with `LF_OVERFLOW_BLOCK`, in milliseconds. After one call
/// timed out, later calls drop at once until the sender makes progress again.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_block_timeout_ms(
    options: *mut lf_options,
    timeout_ms: u32,
) -> lf_result {
    with_options(options, |o| {
        o.core.block_timeout = Duration::from_millis(timeout_ms.into());
        lf_result::LF_OK
    })
}

/// Sets the largest frame sent, in bytes (at least 1024); a larger record is truncated to fit.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_max_frame_bytes(
    options: *mut lf_options,
    bytes: usize,
) -> lf_result {
    with_options(options, |o| {
        o.core.max_frame_bytes = bytes;
        lf_result::LF_OK
    })
}

/// Sets the lowest level sent; records below it return `LF_FILTERED` and cost almost nothing.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_min_level(
    options: *mut lf_options,
    level: i32,
) -> lf_result {
    with_options(options, |o| {
        o.core.min_level = level.into();
        lf_result::LF_OK
    })
}

/// Sets libzmq's send high-water mark (`ZMQ_SNDHWM`, frames; not negative).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_sndhwm(options: *mut lf_options, frames: i32) -> lf_result {
    with_options(options, |o| {
        o.core.sndhwm = frames;
        lf_result::LF_OK
    })
}

/// Sets the wait `lf_sender_free` uses when `lf_close` was not called, in milliseconds.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_close_timeout_ms(
    options: *mut lf_options,
    timeout_ms: u32,
) -> lf_result {
    with_options(options, |o| {
        o.core.close_timeout = Duration::from_millis(timeout_ms.into());
        lf_result::LF_OK
    })
}

/// Sets the `lang` stamped on records: "c" (default), "java", "python" or "rust" (NUL-terminated,
/// any case); another value gives `LF_INVALID_ARGUMENT`. Bindings built on this library set their own.
///
/// # Safety
/// `options` is NULL or live; `lang` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_lang(
    options: *mut lf_options,
    lang: *const c_char,
) -> lf_result {
    with_options(options, |o| {
        let lang = match required_text(lang, "lang") {
            Ok(s) => s,
            Err(e) => return e,
        };
        o.core.lang = match lang.to_ascii_lowercase().as_str() {
            "c" => Lang::C,
            "java" => Lang::Java,
            "python" => Lang::Python,
            "rust" => Lang::Rust,
            _ => {
                set_last_error(format_args!(
                    "unknown lang {lang:?} (expected c, java, python or rust)"
                ));
                return lf_result::LF_INVALID_ARGUMENT;
            }
        };
        lf_result::LF_OK
    })
}

/// Sets the `host` stamped on records (NUL-terminated); the machine's host name by default.
///
/// # Safety
/// `options` is NULL or live; `host` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_host(
    options: *mut lf_options,
    host: *const c_char,
) -> lf_result {
    with_options(options, |o| match required_text(host, "host") {
        Ok(s) => {
            o.core.host = Some(s);
            lf_result::LF_OK
        }
        Err(e) => e,
    })
}

/// Sets the logger name used when a log call passes no logger (NULL or empty); "root" by default.
/// A natural choice is the application's name.
///
/// # Safety
/// `options` is NULL or live; `name` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_default_logger(
    options: *mut lf_options,
    name: *const c_char,
) -> lf_result {
    with_options(options, |o| match required_text(name, "default logger") {
        Ok(s) => {
            o.default_logger = s;
            lf_result::LF_OK
        }
        Err(e) => e,
    })
}
