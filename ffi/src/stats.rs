//! `lf_stats`: a sender's counters as C reads them.
//!
//! The C layout is a contract of its own (the Java binding declares it by hand), so it is declared
//! here rather than exported from the core's `Stats`, which it is filled from field by field.

use crate::result::{lf_result, set_last_error};
use crate::sender::{lf_sender, with_sender};
use logfunnel_core::Stats;

/// Counters of a sender, filled by `lf_get_stats`; each means what the core's `Stats` field of the same
/// name does. Counts are since the sender was built in this process.
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

impl From<Stats> for lf_stats {
    fn from(st: Stats) -> lf_stats {
        lf_stats {
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
        }
    }
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
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(s.stats().into()) };
        lf_result::LF_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The Java binding (FFM) declares this layout by hand; it must not move.
    #[test]
    fn layout_is_stable() {
        assert_eq!(size_of::<lf_stats>(), 88);
        assert_eq!(offset_of!(lf_stats, connected), 80);
    }
}
