//! The v2 ack frame: the collector tells one sender how far its records are safe.
//!
//! ```text
//! FF 4C 46 02 | 'A' | flags | sid_len u8 | sid | watermark u64
//! ```
//!
//! `watermark`: every record of `sid` with `seq < watermark` was written by every sink that takes it
//! (handed to the OS, and fsynced where the sink's policy asks), or was a duplicate, or was dropped
//! by the sender (a gap). Acks are cumulative, so a lost or superseded ack costs nothing.
//! Flag bit 0, [`Ack::resend`]: the collector refused a batch whose coverage started above the
//! watermark (an earlier batch was lost in flight); the sender resends from `watermark`.

use super::{valid_sid, write_head, FrameError, Kind, Reader};

/// Flag bit: resend from the watermark.
const RESEND: u8 = 0x01;

/// One acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack<'a> {
    /// The sender it is for.
    pub sid: &'a str,
    /// Every `seq` below this is done.
    pub watermark: u64,
    /// Resend everything unacknowledged from `watermark` on.
    pub resend: bool,
}

/// Appends an ack frame to `out`. A `sid` that no batch could carry (empty or over 255 bytes) is
/// refused with [`FrameError::BadSid`].
pub fn encode_ack(ack: &Ack<'_>, out: &mut Vec<u8>) -> Result<(), FrameError> {
    if !valid_sid(ack.sid) {
        return Err(FrameError::BadSid);
    }
    write_head(out, Kind::Ack, if ack.resend { RESEND } else { 0 }, ack.sid);
    out.extend_from_slice(&ack.watermark.to_be_bytes());
    Ok(())
}

/// Reads one ack frame.
pub fn decode_ack(frame: &[u8]) -> Result<Ack<'_>, FrameError> {
    let (mut r, flags) = Reader::open(frame, Kind::Ack, RESEND)?;
    let sid = r.sid()?;
    let watermark = r.u64("watermark")?;
    r.end()?;
    Ok(Ack {
        sid,
        watermark,
        resend: flags & RESEND != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_round_trip_and_bad_sids_are_refused() {
        for ack in [
            Ack {
                sid: "a",
                watermark: 0,
                resend: false,
            },
            Ack {
                sid: &"z".repeat(255),
                watermark: u64::MAX,
                resend: true,
            },
        ] {
            let mut out = Vec::new();
            encode_ack(&ack, &mut out).unwrap();
            assert_eq!(decode_ack(&out), Ok(ack));
        }
        let mut out = Vec::new();
        for sid in [String::new(), "z".repeat(256)] {
            let ack = Ack {
                sid: &sid,
                watermark: 1,
                resend: false,
            };
            assert_eq!(encode_ack(&ack, &mut out), Err(FrameError::BadSid));
        }
        assert!(out.is_empty());
    }
}
