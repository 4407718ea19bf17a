//! `lf_stats`: a sender's counters as C reads them.
//!
//! The C layout is a contract of its own (the Java binding declares it by hand), so it is declared
//! here rather than exported from the core's `Stats`. One list below names each member once, with its doc, its C type and how it is read
//! from a `Stats`: [`c_stats!`] turns it into the `#[repr(C)]` struct and the conversion, and cbindgen
//! reads the expanded struct (`[parse.expand]` in `cbindgen.toml`). New members go at the end.

use crate::result::{lf_result, set_last_error};
use crate::sender::{lf_sender, with_sender};
use logfunnel_core::Stats;

/// Declares `lf_stats` and `From<Stats> for lf_stats` from one member list: `name: c_type = value,`,
/// where `value` reads the `Stats` bound to the identifier given before `=>`.
macro_rules! c_stats {
    (
        $(#[$meta:meta])*
        $st:ident => {
            $( $(#[doc = $doc:literal])* $name:ident: $cty:ty = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct lf_stats {
            $( $(#[doc = $doc])* pub $name: $cty, )*
        }

        impl From<Stats> for lf_stats {
            fn from($st: Stats) -> lf_stats {
                lf_stats { $( $name: $value, )* }
            }
        }
    };
}

c_stats! {
    /// Counters of a sender, filled by `lf_get_stats`; each means what the core's `Stats` field of the
    /// same name does. Counts are since the sender was built in this process. Members are only ever
    /// added at the end, so existing offsets never change; the struct grows, though, and
    /// `lf_get_stats` writes all of it: build against the header of the library you load.
    st => {
        /// Records accepted into the queue.
        enqueued: u64 = st.enqueued,
        /// Records handed to libzmq.
        sent: u64 = st.sent,
        /// Records dropped because the queue was full.
        dropped_queue_full: u64 = st.dropped_queue_full,
        /// Records dropped because the sender was closed.
        dropped_closed: u64 = st.dropped_closed,
        /// Records still unsent when `lf_close` timed out.
        dropped_at_close: u64 = st.dropped_at_close,
        /// Records too large even after truncation.
        dropped_oversized: u64 = st.dropped_oversized,
        /// Records shortened to fit the maximum frame size.
        truncated: u64 = st.truncated,
        /// Records below the minimum level.
        filtered: u64 = st.filtered,
        /// Records waiting to be sent now.
        depth: u64 = st.depth,
        /// All dropped records: the four `dropped_*` counters added up.
        dropped: u64 = st.dropped(),
        /// XPUB mode: 1 once the collector has subscribed, else 0. Always 0 in PUSH mode.
        connected: u32 = st.connected.into(),
        /// 1 while the sender speaks the acknowledged protocol (it heard a collector announce itself),
        /// else 0: against an older collector or a plain `SUB` listener, and always in PUSH mode.
        acknowledging: u32 = st.acknowledging.into(),
        /// Records the collector acknowledged (every sink taking them wrote them).
        acknowledged: u64 = st.acknowledged,
        /// Records sent and kept until an acknowledgement covers them, now.
        unacknowledged: u64 = st.unacknowledged,
        /// Records sent again (after a resend request, a collector restart or the ack timeout).
        resent: u64 = st.resent,
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

    /// The Java binding (FFM) declares this layout by hand: no member may move.
    #[test]
    fn layout_is_stable() {
        assert_eq!(offset_of!(lf_stats, enqueued), 0);
        assert_eq!(offset_of!(lf_stats, depth), 64);
        assert_eq!(offset_of!(lf_stats, dropped), 72);
        assert_eq!(offset_of!(lf_stats, connected), 80);
        assert_eq!(offset_of!(lf_stats, acknowledging), 84);
        assert_eq!(offset_of!(lf_stats, acknowledged), 88);
        assert_eq!(offset_of!(lf_stats, unacknowledged), 96);
        assert_eq!(offset_of!(lf_stats, resent), 104);
        assert_eq!(size_of::<lf_stats>(), 112);
    }

    /// Every member is filled from its own `Stats` field (distinct values, so a swapped pair shows).
    #[test]
    fn each_member_comes_from_its_stats_field() {
        let st = Stats {
            enqueued: 1,
            sent: 2,
            dropped_queue_full: 3,
            dropped_closed: 4,
            dropped_at_close: 5,
            dropped_oversized: 6,
            truncated: 7,
            filtered: 8,
            depth: 9,
            linger_expired: true,
            connected: true,
            acknowledging: true,
            acknowledged: 10,
            unacknowledged: 11,
            resent: 12,
        };
        let c = lf_stats::from(st);
        let members = [
            c.enqueued,
            c.sent,
            c.dropped_queue_full,
            c.dropped_closed,
            c.dropped_at_close,
            c.dropped_oversized,
            c.truncated,
            c.filtered,
            c.depth,
            c.dropped,
            c.connected.into(),
            c.acknowledging.into(),
            c.acknowledged,
            c.unacknowledged,
            c.resent,
        ];
        assert_eq!(members, [1, 2, 3, 4, 5, 6, 7, 8, 9, 18, 1, 1, 10, 11, 12]);
        let off = lf_stats::from(Stats {
            connected: false,
            acknowledging: false,
            ..st
        });
        assert_eq!((off.connected, off.acknowledging), (0, 0));
    }
}
