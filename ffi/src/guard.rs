//! The panic boundary and the conversions from C strings every exported function shares.

use crate::result::set_last_error;
use std::borrow::Cow;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; if it panics, records the panic for `lf_last_error` and returns `on_panic`, so a panic never
/// unwinds into C.
pub(crate) fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(format_args!("internal error: {what}"));
            on_panic
        }
    }
}

/// A (pointer, length) string from C. `Ok(None)` for NULL with length 0; `Err` for NULL with a length.
///
/// # Safety
/// A non-NULL `ptr` points to `len` readable bytes.
pub(crate) unsafe fn bytes<'a>(ptr: *const c_char, len: usize) -> Result<Option<&'a [u8]>, ()> {
    if ptr.is_null() {
        return if len == 0 { Ok(None) } else { Err(()) };
    }
    if len == 0 {
        return Ok(Some(&[]));
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    Ok(Some(unsafe {
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    }))
}

/// The bytes of a NUL-terminated C string, or `None` for NULL.
///
/// # Safety
/// A non-NULL `ptr` is NUL-terminated.
pub(crate) unsafe fn bytes_cstr<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: the caller guarantees a NUL-terminated string.
        Some(unsafe { CStr::from_ptr(ptr) }.to_bytes())
    }
}

/// A NUL-terminated C string as an owned `String`, invalid UTF-8 replaced by U+FFFD; `None` for NULL.
///
/// # Safety
/// A non-NULL `ptr` is NUL-terminated.
pub(crate) unsafe fn text_cstr(ptr: *const c_char) -> Option<String> {
    // SAFETY: forwarded from the caller.
    unsafe { bytes_cstr(ptr) }.map(lossy)
}

/// Bytes as an owned `String`, each invalid UTF-8 sequence replaced by U+FFFD (never rejected).
pub(crate) fn lossy(b: &[u8]) -> String {
    // Most log text is ASCII: check that word by word first; the lossy scan only runs on invalid input.
    if b.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return unsafe { String::from_utf8_unchecked(b.to_vec()) };
    }
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => match String::from_utf8_lossy(b) {
            Cow::Borrowed(s) => s.to_owned(),
            Cow::Owned(s) => s,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{lf_last_error, lf_result};

    #[test]
    fn a_panic_becomes_a_result_and_a_message() {
        let r = guard(lf_result::LF_PANIC, || -> lf_result {
            panic!("boom at the boundary")
        });
        assert_eq!(r, lf_result::LF_PANIC);
        // SAFETY: lf_last_error returns a valid NUL-terminated string.
        let msg = unsafe { CStr::from_ptr(lf_last_error()) }.to_str().unwrap();
        assert!(msg.contains("boom at the boundary"), "{msg}");
    }

    #[test]
    fn strings_are_checked_and_invalid_utf8_is_replaced() {
        // SAFETY: NULL, or pointers to the given number of bytes.
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0), Ok(None));
            assert_eq!(bytes(std::ptr::null(), 3), Err(()));
            assert_eq!(bytes(c"x".as_ptr(), 0), Ok(Some(&b""[..])));
        }
        assert_eq!(lossy(b"caf\xe9 ok"), "caf\u{FFFD} ok");
    }
}
