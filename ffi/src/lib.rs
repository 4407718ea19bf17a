//! The logfunnel C ABI: C and C++ programs (and the Java binding, through FFM) log into the collector
//! through the same core sender the Rust and Python sides use.
//!
//! The header `include/logfunnel.h` is generated from this crate by cbindgen (pinned 0.29.4,
//! `ffi/cbindgen.toml`) and committed; `tools/check-header.sh` fails when it drifts. Design (after
//! rustls-ffi): opaque handles with `_new`/`_free`, an options builder the constructor consumes, one
//! `lf_result` enum with permanent numbers, out-parameters written only on success, every exported
//! function behind a panic boundary with NULL checks, strings as (pointer, length) pairs, invalid UTF-8
//! replaced (never rejected), no varargs in exported functions (the printf-style macros format in C).
//!
//! Modules: `options` (the builder; it holds only what the program set, over the core's defaults),
//! `sender` (new/free, log calls, flush, close), `record` (`lf_field`, `lf_record` and their
//! conversion), `stats` (`lf_stats`), `result` (`lf_result`, last error), `guard` (panic boundary,
//! C strings).
//!
//! ```c
//! lf_options *o = lf_options_new();
//! lf_options_set_endpoint(o, "tcp://127.0.0.1:5555");
//! lf_sender *s = NULL;
//! if (lf_sender_new(o, &s) != LF_OK) { fprintf(stderr, "%s\n", lf_last_error()); return 1; }
//! LF_INFO(s, "app", "started");
//! LF_INFOF(s, "app.db", "connected to %s in %d ms", host, ms);
//! lf_close(s, 2000);
//! lf_sender_free(s);
//! ```
#![warn(missing_docs)]
// The exported types carry their C names.
#![allow(non_camel_case_types)]

mod guard;
mod options;
mod record;
mod result;
mod sender;
mod stats;

pub use options::*;
pub use record::*;
pub use result::{lf_last_error, lf_result, lf_result_message};
pub use sender::*;
pub use stats::*;

use std::ffi::c_char;

/// Major version of this library (from `Cargo.toml`).
pub const LF_VERSION_MAJOR: u32 = 0;
/// Minor version of this library (from `Cargo.toml`).
pub const LF_VERSION_MINOR: u32 = 1;
/// Patch version of this library (from `Cargo.toml`).
pub const LF_VERSION_PATCH: u32 = 0;

/// Parses a version component at compile time, so the constants above cannot drift from `Cargo.toml`.
const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}
/// cbindgen:ignore
const _: () = assert!(LF_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
/// cbindgen:ignore
const _: () = assert!(LF_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
/// cbindgen:ignore
const _: () = assert!(LF_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));

/// Level numbers on Python's scale; any other number is allowed too.
pub const LF_LEVEL_NOTSET: i32 = 0;
/// Finer than DEBUG (the Java binding maps TRACE here).
pub const LF_LEVEL_TRACE: i32 = 5;
/// Python's `logging.DEBUG`.
pub const LF_LEVEL_DEBUG: i32 = 10;
/// Python's `logging.INFO`.
pub const LF_LEVEL_INFO: i32 = 20;
/// Python's `logging.WARNING`.
pub const LF_LEVEL_WARNING: i32 = 30;
/// Python's `logging.ERROR`.
pub const LF_LEVEL_ERROR: i32 = 40;
/// Python's `logging.CRITICAL`.
pub const LF_LEVEL_CRITICAL: i32 = 50;

/// The library's version, "MAJOR.MINOR.PATCH" (static, NUL-terminated; must not be freed). Compare with
/// `LF_VERSION` from the header to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn lf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_string_matches_the_constants() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(lf_version()) }.to_str().unwrap();
        assert_eq!(
            v,
            format!("{LF_VERSION_MAJOR}.{LF_VERSION_MINOR}.{LF_VERSION_PATCH}")
        );
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_result_has_its_own_message_and_unknown_codes_have_one_too() {
        let mut seen = std::collections::HashSet::new();
        for r in result::ALL_RESULTS {
            // SAFETY: static NUL-terminated strings.
            let m = unsafe { CStr::from_ptr(lf_result_message(r as u32)) };
            assert!(!m.to_bytes().is_empty());
            assert!(seen.insert(m.to_owned()), "duplicate message for {r:?}");
        }
        let m = unsafe { CStr::from_ptr(lf_result_message(12345)) };
        assert_eq!(m.to_str().unwrap(), "unknown result code");
    }
}
