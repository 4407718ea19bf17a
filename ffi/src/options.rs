//! `lf_options`: the builder a sender is made from.
//!
//! Setters only store what the C program set; `lf_sender_new` lays those over the core's defaults
//! (`SenderOptions::new`, exported as `spec/defaults.json`), so the defaults exist once, in the core,
//! and each setter's comment names its default (checked against that file by `tests/header.rs`).
//! Values are checked all at once by `lf_sender_new`, which names the bad option in
//! `lf_last_error()`, so a C program needs one error check, not one per setter.

use crate::guard::{guard, text_cstr};
use crate::result::{lf_result, set_last_error};
use logfunnel_core::curve::KeySource;
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
/// with `lf_options_free` if never used. The endpoint must be set; every other option keeps its default
/// (named on its `lf_options_set_*` function) unless set.
#[derive(Default)]
pub struct lf_options {
    endpoint: Option<String>,
    mode: Option<SocketMode>,
    queue_capacity: Option<usize>,
    queue_max_bytes: Option<usize>,
    overflow: Option<OverflowPolicy>,
    block_timeout: Option<Duration>,
    max_frame_bytes: Option<usize>,
    min_level: Option<i64>,
    sndhwm: Option<i32>,
    close_timeout: Option<Duration>,
    lang: Option<Lang>,
    host: Option<String>,
    default_logger: Option<String>,
    curve_server_key: Option<KeySource>,
    curve_secret_key: Option<KeySource>,
}

/// What `lf_sender_new` builds from an `lf_options`.
pub(crate) struct Built {
    pub(crate) core: SenderOptions,
    pub(crate) default_logger: String,
}

impl lf_options {
    /// The core options: its defaults with what the C program set laid over them. `None` without an
    /// endpoint.
    pub(crate) fn build(self) -> Option<Built> {
        let mut core = SenderOptions::new(self.endpoint?);
        macro_rules! set_over {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    core.$field = v;
                }
            )*};
        }
        set_over!(
            mode,
            queue_capacity,
            queue_max_bytes,
            overflow,
            block_timeout,
            max_frame_bytes,
            min_level,
            sndhwm,
            close_timeout
        );
        // The C library's own: records say which kind of program sent them.
        core.lang = self.lang.unwrap_or(Lang::C);
        core.host = self.host;
        core.curve_server_key = self.curve_server_key;
        core.curve_secret_key = self.curve_secret_key;
        Some(Built {
            core,
            default_logger: self.default_logger.unwrap_or_else(|| "root".to_string()),
        })
    }
}

/// Makes an empty options builder (every option at its default). Returns NULL only if the library
/// failed internally. Free it with `lf_options_free` unless it is passed to `lf_sender_new`, which
/// takes it over.
#[no_mangle]
pub extern "C" fn lf_options_new() -> *mut lf_options {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::<lf_options>::default())
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

/// Stores one value that needs no check here (`lf_sender_new` checks it).
fn store(options: *mut lf_options, f: impl FnOnce(&mut lf_options)) -> lf_result {
    with_options(options, |o| {
        f(o);
        lf_result::LF_OK
    })
}

/// Stores a value parsed by `parse`, or reports `LF_INVALID_ARGUMENT` with `parse`'s message.
fn store_parsed<T>(
    options: *mut lf_options,
    parse: impl FnOnce() -> Result<T, String>,
    f: impl FnOnce(&mut lf_options, T),
) -> lf_result {
    with_options(options, |o| match parse() {
        Ok(v) => {
            f(o, v);
            lf_result::LF_OK
        }
        Err(message) => {
            set_last_error(message);
            lf_result::LF_INVALID_ARGUMENT
        }
    })
}

/// Stores a NUL-terminated string argument, or reports `LF_NULL_ARGUMENT` naming `what`.
fn store_text(
    options: *mut lf_options,
    ptr: *const c_char,
    what: &str,
    f: impl FnOnce(&mut lf_options, String) -> lf_result,
) -> lf_result {
    with_options(options, |o| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        match unsafe { text_cstr(ptr) } {
            Some(s) => f(o, s),
            None => {
                set_last_error(format_args!("{what} is NULL"));
                lf_result::LF_NULL_ARGUMENT
            }
        }
    })
}

fn millis(ms: u32) -> Duration {
    Duration::from_millis(ms.into())
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
    store_text(options, endpoint, "endpoint", |o, s| {
        o.endpoint = Some(s);
        lf_result::LF_OK
    })
}

/// Sets the socket type: `LF_MODE_XPUB` or `LF_MODE_PUSH`; another value gives `LF_INVALID_ARGUMENT`.
/// Default: `LF_MODE_XPUB`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_mode(options: *mut lf_options, mode: lf_mode) -> lf_result {
    let parse = || match mode {
        LF_MODE_XPUB => Ok(SocketMode::Xpub),
        LF_MODE_PUSH => Ok(SocketMode::Push),
        other => Err(format!("unknown mode {other}")),
    };
    store_parsed(options, parse, |o, v| o.mode = Some(v))
}

/// Sets the most records queued (at least 1). Default: `65536`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_queue_capacity(
    options: *mut lf_options,
    records: usize,
) -> lf_result {
    store(options, |o| o.queue_capacity = Some(records))
}

/// Sets the most bytes queued (approximate; at least 1). Default: `67108864` (64 MiB).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_queue_max_bytes(
    options: *mut lf_options,
    bytes: usize,
) -> lf_result {
    store(options, |o| o.queue_max_bytes = Some(bytes))
}

/// Sets what a log call does when the queue is full: `LF_OVERFLOW_BLOCK`, `LF_OVERFLOW_DROP_NEWEST` or
/// `LF_OVERFLOW_DROP_OLDEST`; another value gives `LF_INVALID_ARGUMENT`. Default: `LF_OVERFLOW_BLOCK`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_overflow(
    options: *mut lf_options,
    overflow: lf_overflow,
) -> lf_result {
    let parse = || match overflow {
        LF_OVERFLOW_BLOCK => Ok(OverflowPolicy::Block),
        LF_OVERFLOW_DROP_NEWEST => Ok(OverflowPolicy::DropNewest),
        LF_OVERFLOW_DROP_OLDEST => Ok(OverflowPolicy::DropOldest),
        other => Err(format!("unknown overflow policy {other}")),
    };
    store_parsed(options, parse, |o, v| o.overflow = Some(v))
}

/// Sets the longest a log call waits for room with `LF_OVERFLOW_BLOCK`, in milliseconds. After one call
/// timed out, later calls drop at once until the sender makes progress again. Default: `1000`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_block_timeout_ms(
    options: *mut lf_options,
    timeout_ms: u32,
) -> lf_result {
    store(options, |o| o.block_timeout = Some(millis(timeout_ms)))
}

/// Sets the largest frame sent, in bytes (at least 1024); a larger record is truncated to fit.
/// Default: `1048576` (1 MiB).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_max_frame_bytes(
    options: *mut lf_options,
    bytes: usize,
) -> lf_result {
    store(options, |o| o.max_frame_bytes = Some(bytes))
}

/// Sets the lowest level sent; records below it return `LF_FILTERED` and cost almost nothing.
/// Default: `0` (everything is sent).
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_min_level(
    options: *mut lf_options,
    level: i32,
) -> lf_result {
    store(options, |o| o.min_level = Some(level.into()))
}

/// Sets libzmq's send high-water mark (`ZMQ_SNDHWM`, frames; not negative). Default: `1000`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_sndhwm(options: *mut lf_options, frames: i32) -> lf_result {
    store(options, |o| o.sndhwm = Some(frames))
}

/// Sets the wait `lf_sender_free` uses when `lf_close` was not called, in milliseconds.
/// Default: `5000`.
///
/// # Safety
/// `options` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_close_timeout_ms(
    options: *mut lf_options,
    timeout_ms: u32,
) -> lf_result {
    store(options, |o| o.close_timeout = Some(millis(timeout_ms)))
}

/// Sets the `lang` stamped on records: "c", "java", "python" or "rust" (NUL-terminated, any case);
/// another value gives `LF_INVALID_ARGUMENT`. Bindings built on this library set their own.
/// Default (this library's own, not the core's): "c".
///
/// # Safety
/// `options` is NULL or live; `lang` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_lang(
    options: *mut lf_options,
    lang: *const c_char,
) -> lf_result {
    store_text(options, lang, "lang", |o, lang| {
        match Lang::parse(&lang) {
            Some(parsed) => o.lang = Some(parsed),
            None => {
                set_last_error(format_args!(
                    "unknown lang {lang:?} (expected c, java, python or rust)"
                ));
                return lf_result::LF_INVALID_ARGUMENT;
            }
        }
        lf_result::LF_OK
    })
}

/// Sets the `host` stamped on records (NUL-terminated). Default: the machine's host name.
///
/// # Safety
/// `options` is NULL or live; `host` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_host(
    options: *mut lf_options,
    host: *const c_char,
) -> lf_result {
    store_text(options, host, "host", |o, s| {
        o.host = Some(s);
        lf_result::LF_OK
    })
}

/// Sets the logger name used when a log call passes no logger (NULL or empty). A natural choice is the
/// application's name. Default (this library's own): "root".
///
/// # Safety
/// `options` is NULL or live; `name` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_default_logger(
    options: *mut lf_options,
    name: *const c_char,
) -> lf_result {
    store_text(options, name, "default logger", |o, s| {
        o.default_logger = Some(s);
        lf_result::LF_OK
    })
}

/// Sets the collector's CURVE public key, for a collector with `[curve]` (on another machine): a
/// file path (the collector's `.key` file from `logfunnel-collector keygen`) or `env:NAME` for an
/// environment variable holding the 40-character key. Set `lf_options_set_curve_secret_key` too.
/// The key is read by `lf_sender_new`, which fails naming `curve_server_key` if it cannot be read or
/// parsed. Default: none (plaintext).
///
/// # Safety
/// `options` is NULL or live; `key` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_curve_server_key(
    options: *mut lf_options,
    key: *const c_char,
) -> lf_result {
    store_text(options, key, "curve_server_key", |o, s| {
        o.curve_server_key = Some(KeySource::parse(&s));
        lf_result::LF_OK
    })
}

/// Sets this sender's CURVE secret key: a file path (a `.key_secret` file from
/// `logfunnel-collector keygen`, readable only by its owner) or `env:NAME`. Its public half, which
/// the collector's allowlist must hold, is derived from it. Read by `lf_sender_new`, which fails
/// naming `curve_secret_key` if it cannot be read or parsed. Default: none (plaintext).
///
/// # Safety
/// `options` is NULL or live; `key` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lf_options_set_curve_secret_key(
    options: *mut lf_options,
    key: *const c_char,
) -> lf_result {
    store_text(options, key, "curve_secret_key", |o, s| {
        o.curve_secret_key = Some(KeySource::parse(&s));
        lf_result::LF_OK
    })
}
