//! Wire format v2: the frames of acknowledged delivery (`spec/delivery.md`, `spec/wire-format.md`
//! section 8).
//!
//! A v1 sender sends one JSON record per message. Once a sender has heard a v2 collector's
//! [`Announcement`] (a subscription topic of the collector's `SUB`), it sends [`batch`]es of records
//! on a `DEALER` connected to the collector's ack `ROUTER` and keeps every record until an [`Ack`]
//! covers it. Each record inside a batch is byte for byte the v1 JSON frame it would have been, so
//! the collector decodes it with the v1 decoder.
//!
//! Every v2 frame starts with [`MAGIC`]: `0xFF` (never a byte of UTF-8, so a v1 decoder rejects a
//! stray v2 frame as `invalid_utf8` rather than misreading it), `LF`, and the version `2`; then one
//! byte naming the kind of frame. Integers are big-endian.
//!
//! ```
//! use logfunnel_core::wire_v2::{decode_batch, BatchBuilder, BatchLimits, BatchStart};
//! let mut frame = Vec::new();
//! let start = BatchStart { sid: "s1", acked_seq: 0, base_seq: 0, first_seq: 0 };
//! let mut b = BatchBuilder::begin(&mut frame, &start).unwrap();
//! b.push(br#"{"v":1,"name":"app","msg":"hi","args":null,"levelno":20,"created":1.0,"sid":"s1","seq":0}"#).unwrap();
//! b.finish().unwrap();
//! let batch = decode_batch(&frame, &BatchLimits::default()).unwrap();
//! assert_eq!(batch.records().map(|(seq, _)| seq).collect::<Vec<_>>(), [0]);
//! ```

pub mod ack;
pub mod announce;
pub mod batch;

pub use ack::{decode_ack, encode_ack, Ack};
pub use announce::{AckEndpoint, AnnounceError, Announcement};
pub use batch::{
    batch_overhead, decode_batch, Batch, BatchBuilder, BatchLimits, BatchRecords, BatchStart,
    EncodeError, DEFAULT_MAX_BATCH_BYTES,
};

/// The first four bytes of every v2 frame: `0xFF`, `L`, `F`, version 2.
pub const MAGIC: [u8; 4] = [0xFF, b'L', b'F', 2];
/// The version byte of [`MAGIC`].
pub const VERSION: u8 = 2;
/// Longest `sid` a v2 frame can carry (its length is one byte).
pub const MAX_SID_BYTES: usize = 255;

/// The byte after [`MAGIC`]: what the frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Records, sender to collector.
    Batch = b'B',
    /// A cumulative acknowledgement, collector to sender.
    Ack = b'A',
}

/// Why a v2 frame was refused. [`reason`](Self::reason) gives the stable code (the vectors use it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The message is larger than the limit; nothing else was looked at.
    #[error("oversized: batch of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// Message size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Does not start with `FF 4C 46`.
    #[error("bad_magic: not a logfunnel v2 frame")]
    BadMagic,
    /// The version byte is not 2.
    #[error("unsupported_version: frame version {found} (this decoder reads 2)")]
    UnsupportedVersion {
        /// The version byte.
        found: u8,
    },
    /// A frame of another kind than the one expected.
    #[error("wrong_kind: frame kind {found:#04x}, expected {expected:?}")]
    WrongKind {
        /// The kind byte.
        found: u8,
        /// What the caller decodes.
        expected: Kind,
    },
    /// Flag bits this version does not define are set.
    #[error("bad_flags: flags {found:#04x} (allowed {allowed:#04x})")]
    BadFlags {
        /// The flags byte.
        found: u8,
        /// Bits this kind defines.
        allowed: u8,
    },
    /// The frame ends inside its header or a record.
    #[error("truncated: frame ends at byte {len} while reading {what}")]
    Truncated {
        /// Frame length.
        len: usize,
        /// What was being read.
        what: &'static str,
    },
    /// The `sid` is empty or not UTF-8.
    #[error("bad_sid: sid is empty or not UTF-8")]
    BadSid,
    /// `acked_seq <= base_seq <= first_seq` does not hold, or the last `seq` overflows.
    #[error("bad_seq_range: acked {acked}, base {base}, first {first}, count {count}")]
    BadSeqRange {
        /// `acked_seq`.
        acked: u64,
        /// `base_seq`.
        base: u64,
        /// `first_seq`.
        first: u64,
        /// `count`.
        count: u32,
    },
    /// A batch of zero records.
    #[error("empty_batch: batch has no records")]
    EmptyBatch,
    /// A record of zero bytes.
    #[error("empty_record: record {index} has no bytes")]
    EmptyRecord {
        /// Position in the batch.
        index: u32,
    },
    /// A record larger than the per-record limit.
    #[error("oversized_record: record {index} of {size} bytes exceeds the limit of {limit} bytes")]
    OversizedRecord {
        /// Position in the batch.
        index: u32,
        /// Its size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Bytes after the last record (or after an ack).
    #[error("trailing_bytes: {extra} bytes after the frame's end")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl FrameError {
    /// Stable reason code, used in metrics and the shared vectors.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::Oversized { .. } => "oversized",
            FrameError::BadMagic => "bad_magic",
            FrameError::UnsupportedVersion { .. } => "unsupported_version",
            FrameError::WrongKind { .. } => "wrong_kind",
            FrameError::BadFlags { .. } => "bad_flags",
            FrameError::Truncated { .. } => "truncated",
            FrameError::BadSid => "bad_sid",
            FrameError::BadSeqRange { .. } => "bad_seq_range",
            FrameError::EmptyBatch => "empty_batch",
            FrameError::EmptyRecord { .. } => "empty_record",
            FrameError::OversizedRecord { .. } => "oversized_record",
            FrameError::TrailingBytes { .. } => "trailing_bytes",
        }
    }

    /// Every reason code, for metrics that want a zero for each.
    pub const REASONS: &'static [&'static str] = &[
        "oversized",
        "bad_magic",
        "unsupported_version",
        "wrong_kind",
        "bad_flags",
        "truncated",
        "bad_sid",
        "bad_seq_range",
        "empty_batch",
        "empty_record",
        "oversized_record",
        "trailing_bytes",
    ];
}

/// Reads a v2 frame front to back; every read names what it reads, for [`FrameError::Truncated`].
pub(crate) struct Reader<'a> {
    frame: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Checks magic, version, kind and flags, and stands after them. Returns the flags.
    pub(crate) fn open(
        frame: &'a [u8],
        kind: Kind,
        allowed_flags: u8,
    ) -> Result<(Reader<'a>, u8), FrameError> {
        let magic_len = frame.len().min(3);
        if frame[..magic_len] != MAGIC[..magic_len] {
            return Err(FrameError::BadMagic);
        }
        let mut r = Reader { frame, at: 0 };
        r.take(3, "magic")?;
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(FrameError::UnsupportedVersion { found: version });
        }
        let found = r.u8("kind")?;
        if found != kind as u8 {
            return Err(FrameError::WrongKind {
                found,
                expected: kind,
            });
        }
        let flags = r.u8("flags")?;
        if flags & !allowed_flags != 0 {
            return Err(FrameError::BadFlags {
                found: flags,
                allowed: allowed_flags,
            });
        }
        Ok((r, flags))
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.frame.len())
            .ok_or(FrameError::Truncated {
                len: self.frame.len(),
                what,
            })?;
        let bytes = &self.frame[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, FrameError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, FrameError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, FrameError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// The one-byte-length `sid`.
    pub(crate) fn sid(&mut self) -> Result<&'a str, FrameError> {
        let len = self.u8("sid length")? as usize;
        let bytes = self.take(len, "sid")?;
        if bytes.is_empty() {
            return Err(FrameError::BadSid);
        }
        std::str::from_utf8(bytes).map_err(|_| FrameError::BadSid)
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.frame[self.at..]
    }

    /// Fails if anything is left.
    pub(crate) fn end(&self) -> Result<(), FrameError> {
        match self.frame.len() - self.at {
            0 => Ok(()),
            extra => Err(FrameError::TrailingBytes { extra }),
        }
    }
}

/// Writes the common head (magic, kind, flags, sid).
pub(crate) fn write_head(out: &mut Vec<u8>, kind: Kind, flags: u8, sid: &str) {
    out.extend_from_slice(&MAGIC);
    out.push(kind as u8);
    out.push(flags);
    out.push(sid.len() as u8);
    out.extend_from_slice(sid.as_bytes());
}

/// Whether a `sid` fits a v2 frame.
pub(crate) fn valid_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= MAX_SID_BYTES
}

#[cfg(test)]
mod tests {
    //! Every case of `spec/vectors/batch.json`, the vectors the other languages read too.
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/batch.json");
        let text = std::fs::read_to_string(path).expect("spec/vectors/batch.json");
        serde_json::from_str(&text).expect("batch.json is JSON")
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
            .collect()
    }

    /// A piece (`text`, `hex`, `repeat` + `count`) or a `concat` of pieces, as in decode.json.
    fn build(spec: &Value) -> Vec<u8> {
        if let Some(parts) = spec.get("concat") {
            return parts.as_array().unwrap().iter().flat_map(build).collect();
        }
        if let Some(t) = spec.get("text") {
            return t.as_str().unwrap().as_bytes().to_vec();
        }
        if let Some(h) = spec.get("hex") {
            return hex(h.as_str().unwrap());
        }
        if let Some(r) = spec.get("repeat") {
            let n = spec["count"].as_u64().unwrap() as usize;
            return r.as_str().unwrap().repeat(n).into_bytes();
        }
        panic!("unknown piece {spec}");
    }

    #[test]
    fn batch_vectors() {
        let v = vectors();
        let limits = BatchLimits {
            max_batch_bytes: v["limits"]["max_batch_bytes"].as_u64().unwrap() as usize,
            max_record_bytes: v["limits"]["max_record_bytes"].as_u64().unwrap() as usize,
        };
        assert_eq!(
            limits,
            BatchLimits::default(),
            "the vectors assume the defaults"
        );
        let cases = v["batches"].as_array().unwrap();
        assert!(cases.len() >= 20);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let frame = build(&case["frame"]);
            let got = decode_batch(&frame, &limits);
            if let Some(reason) = case["expect"].get("error") {
                let err = got.expect_err(name);
                assert_eq!(err.reason(), reason.as_str().unwrap(), "{name}: {err}");
                continue;
            }
            let want = &case["expect"]["batch"];
            let b = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(b.sid, want["sid"].as_str().unwrap(), "{name}");
            assert_eq!(b.acked_seq, want["acked_seq"].as_u64().unwrap(), "{name}");
            assert_eq!(b.base_seq, want["base_seq"].as_u64().unwrap(), "{name}");
            assert_eq!(b.first_seq, want["first_seq"].as_u64().unwrap(), "{name}");
            let records: Vec<(u64, &[u8])> = b.records().collect();
            let expected: Vec<(u64, &[u8])> = want["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["seq"].as_u64().unwrap(),
                        r["text"].as_str().unwrap().as_bytes(),
                    )
                })
                .collect();
            assert_eq!(records, expected, "{name}");
            assert_eq!(b.count as usize, records.len());
            // Re-encoding the decoded batch gives the same bytes: one encoding per batch.
            let mut again = Vec::new();
            let start = BatchStart {
                sid: b.sid,
                acked_seq: b.acked_seq,
                base_seq: b.base_seq,
                first_seq: b.first_seq,
            };
            let mut builder = BatchBuilder::begin(&mut again, &start).unwrap();
            for (_, r) in b.records() {
                builder.push(r).unwrap();
            }
            builder.finish().unwrap();
            assert_eq!(again, frame, "{name}: re-encoded");
        }
    }

    #[test]
    fn ack_vectors() {
        for case in vectors()["acks"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let frame = build(&case["frame"]);
            match case["expect"].get("error") {
                Some(reason) => {
                    let err = decode_ack(&frame).expect_err(name);
                    assert_eq!(err.reason(), reason.as_str().unwrap(), "{name}: {err}");
                }
                None => {
                    let want = &case["expect"]["ack"];
                    let ack = decode_ack(&frame).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(ack.sid, want["sid"].as_str().unwrap(), "{name}");
                    assert_eq!(ack.watermark, want["watermark"].as_u64().unwrap(), "{name}");
                    assert_eq!(ack.resend, want["resend"].as_bool().unwrap(), "{name}");
                    let mut again = Vec::new();
                    encode_ack(&ack, &mut again).unwrap();
                    assert_eq!(again, frame, "{name}: re-encoded");
                }
            }
        }
    }

    #[test]
    fn announcement_vectors() {
        for case in vectors()["announcements"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let msg = build(&case["xpub_message"]);
            let expect = &case["expect"];
            let parsed = Announcement::from_xpub_message(&msg);
            if expect.get("none").is_some() {
                assert!(parsed.is_none(), "{name}");
                continue;
            }
            let resolved = parsed.expect(name).and_then(|a| {
                let connected = case["connected"].as_str().unwrap_or("tcp://127.0.0.1:1");
                a.ack_endpoint_for(connected).map(|e| (a, e))
            });
            match expect.get("error") {
                Some(reason) => {
                    let err = resolved.expect_err(name);
                    assert_eq!(err.reason(), reason.as_str().unwrap(), "{name}: {err}");
                }
                None => {
                    let (a, endpoint) = resolved.unwrap_or_else(|e| panic!("{name}: {e}"));
                    let inc = u64::from_str_radix(expect["incarnation"].as_str().unwrap(), 16);
                    assert_eq!(a.incarnation, inc.unwrap(), "{name}");
                    assert_eq!(endpoint, expect["ack_endpoint"].as_str().unwrap(), "{name}");
                    // What the collector subscribes to parses back to the same announcement.
                    let mut again = vec![0x01];
                    again.extend_from_slice(&a.topic());
                    assert_eq!(
                        Announcement::from_xpub_message(&again),
                        Some(Ok(a)),
                        "{name}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_reason_is_listed_once() {
        let mut seen: Vec<&str> = FrameError::REASONS.to_vec();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), FrameError::REASONS.len());
        for case in vectors()["batches"].as_array().unwrap() {
            if let Some(r) = case["expect"].get("error") {
                assert!(FrameError::REASONS.contains(&r.as_str().unwrap()));
            }
        }
    }
}
