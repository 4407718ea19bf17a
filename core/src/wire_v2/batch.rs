//! The v2 batch frame: many v1 records in one message, with the sequence facts the collector needs
//! to write each record once and to tell records the sender dropped from records lost in flight.
//!
//! ```text
//! FF 4C 46 02 | 'B' | flags=0 | sid_len u8 | sid | acked_seq u64 | base_seq u64 | first_seq u64
//!             | count u32 | count x (len u32 | len bytes: one v1 JSON record)
//! ```
//!
//! Record `i` has `seq = first_seq + i` (a sender starts a new batch at every `seq` it dropped).
//! The batch *covers* `[base_seq, first_seq + count)`: the seqs in `[base_seq, first_seq)` were
//! dropped by the sender (its queue overflowed, a record was oversized) and will never come.
//! `acked_seq` is the sender's acknowledged watermark when it sent the batch: everything below it
//! was acknowledged by some collector, so a collector that does not know the sender starts there.

use super::{valid_sid, write_head, FrameError, Kind, Reader};
use crate::record::DEFAULT_MAX_FRAME_BYTES;

/// Bytes of the header after the `sid`: acked, base, first (u64 each) and count (u32).
const SEQ_FIELDS_BYTES: usize = 8 + 8 + 8 + 4;
/// Bytes before each record: its length.
const RECORD_PREFIX_BYTES: usize = 4;

/// Default for [`BatchLimits::max_batch_bytes`]: room for one record of the v1 size limit
/// (`DEFAULT_MAX_FRAME_BYTES`) with any header, and for a sender's usual 256 KiB batches.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// What the decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Largest batch message, checked before anything else (the receiver must not rely on
    /// `ZMQ_MAXMSGSIZE`, which drops the whole connection).
    pub max_batch_bytes: usize,
    /// Largest record inside a batch: the v1 frame limit.
    pub max_record_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_record_bytes: DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

/// The header fields a sender chooses for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchStart<'a> {
    /// The sender's id (1 to 255 bytes of UTF-8), as in each record's `sid`.
    pub sid: &'a str,
    /// Every `seq` below this is acknowledged (as far as the sender knows).
    pub acked_seq: u64,
    /// Where this batch's coverage starts: `[base_seq, first_seq)` were dropped by the sender.
    pub base_seq: u64,
    /// `seq` of the first record.
    pub first_seq: u64,
}

/// A decoded batch, borrowing its records from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch<'a> {
    /// The sender's id.
    pub sid: &'a str,
    /// The sender's acknowledged watermark when it sent the batch.
    pub acked_seq: u64,
    /// Start of the coverage (see the module docs).
    pub base_seq: u64,
    /// `seq` of the first record.
    pub first_seq: u64,
    /// Number of records (at least 1).
    pub count: u32,
    /// The record section, already validated.
    records: &'a [u8],
}

impl<'a> Batch<'a> {
    /// One past the last record's `seq`: where the next batch's coverage starts.
    pub fn end_seq(&self) -> u64 {
        // Cannot overflow past u64::MAX + 1 by validation; saturating keeps `u64::MAX` as "after the end".
        self.first_seq.saturating_add(u64::from(self.count))
    }

    /// Each record's `seq` and bytes (its v1 JSON frame), in order, without copying.
    pub fn records(&self) -> BatchRecords<'a> {
        BatchRecords {
            rest: self.records,
            next_seq: self.first_seq,
            left: self.count,
        }
    }
}

/// Iterator over a [`Batch`]'s records.
#[derive(Debug, Clone)]
pub struct BatchRecords<'a> {
    rest: &'a [u8],
    next_seq: u64,
    left: u32,
}

impl<'a> Iterator for BatchRecords<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        // The decoder checked every length, so these slices are in bounds.
        let (len, rest) = self.rest.split_at(RECORD_PREFIX_BYTES);
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let (record, rest) = rest.split_at(len);
        self.rest = rest;
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.left -= 1;
        Some((seq, record))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for BatchRecords<'_> {}

/// Checks a batch message completely and returns a view of it. Errors follow the order of the
/// spec (`wire-format.md` section 8.4): size, magic, version, kind, flags, header, records, end.
pub fn decode_batch<'a>(frame: &'a [u8], limits: &BatchLimits) -> Result<Batch<'a>, FrameError> {
    if frame.len() > limits.max_batch_bytes {
        return Err(FrameError::Oversized {
            size: frame.len(),
            limit: limits.max_batch_bytes,
        });
    }
    let (mut r, _) = Reader::open(frame, Kind::Batch, 0)?;
    let sid = r.sid()?;
    let acked_seq = r.u64("acked_seq")?;
    let base_seq = r.u64("base_seq")?;
    let first_seq = r.u64("first_seq")?;
    let count = r.u32("count")?;
    if count == 0 {
        return Err(FrameError::EmptyBatch);
    }
    if acked_seq > base_seq
        || base_seq > first_seq
        || first_seq.checked_add(u64::from(count) - 1).is_none()
    {
        return Err(FrameError::BadSeqRange {
            acked: acked_seq,
            base: base_seq,
            first: first_seq,
            count,
        });
    }
    let records = r.rest();
    for index in 0..count {
        let len = r.u32("record length")? as usize;
        if len == 0 {
            return Err(FrameError::EmptyRecord { index });
        }
        if len > limits.max_record_bytes {
            return Err(FrameError::OversizedRecord {
                index,
                size: len,
                limit: limits.max_record_bytes,
            });
        }
        r.take(len, "record")?;
    }
    r.end()?;
    Ok(Batch {
        sid,
        acked_seq,
        base_seq,
        first_seq,
        count,
        records,
    })
}

/// Why a batch could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The `sid` is empty or longer than 255 bytes.
    #[error("sid must be 1 to 255 bytes, got {len}")]
    Sid {
        /// Its length.
        len: usize,
    },
    /// `acked_seq <= base_seq <= first_seq` does not hold.
    #[error("acked_seq {acked} <= base_seq {base} <= first_seq {first} does not hold")]
    SeqOrder {
        /// `acked_seq`.
        acked: u64,
        /// `base_seq`.
        base: u64,
        /// `first_seq`.
        first: u64,
    },
    /// A record of zero bytes (no v1 record is empty).
    #[error("a record must not be empty")]
    EmptyRecord,
    /// A record longer than a u32 length can say.
    #[error("a record of {len} bytes is too large for a batch")]
    RecordTooLarge {
        /// Its length.
        len: usize,
    },
    /// No record was pushed, or the last `seq` would pass `u64::MAX`.
    #[error("a batch needs 1 to u32::MAX records whose seqs fit in u64, got {count}")]
    Count {
        /// Records pushed.
        count: u64,
    },
}

/// Appends one batch to a buffer, record by record, so the sender can encode each record straight
/// into the message ([`push_with`](Self::push_with)). Dropping a builder before
/// [`finish`](Self::finish) removes what it wrote.
#[derive(Debug)]
pub struct BatchBuilder<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    count_at: usize,
    first_seq: u64,
    count: u32,
    finished: bool,
}

impl<'o> BatchBuilder<'o> {
    /// Writes the header (with a count to be filled in) at the end of `out`.
    pub fn begin(
        out: &'o mut Vec<u8>,
        header: &BatchStart<'_>,
    ) -> Result<BatchBuilder<'o>, EncodeError> {
        if !valid_sid(header.sid) {
            return Err(EncodeError::Sid {
                len: header.sid.len(),
            });
        }
        if header.acked_seq > header.base_seq || header.base_seq > header.first_seq {
            return Err(EncodeError::SeqOrder {
                acked: header.acked_seq,
                base: header.base_seq,
                first: header.first_seq,
            });
        }
        let start = out.len();
        write_head(out, Kind::Batch, 0, header.sid);
        out.extend_from_slice(&header.acked_seq.to_be_bytes());
        out.extend_from_slice(&header.base_seq.to_be_bytes());
        out.extend_from_slice(&header.first_seq.to_be_bytes());
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_be_bytes());
        Ok(BatchBuilder {
            out,
            start,
            count_at,
            first_seq: header.first_seq,
            count: 0,
            finished: false,
        })
    }

    /// Adds one record (a complete v1 JSON frame whose `seq` is [`next_seq`](Self::next_seq)).
    pub fn push(&mut self, record: &[u8]) -> Result<(), EncodeError> {
        self.push_with(|out| out.extend_from_slice(record))
    }

    /// Adds one record written by `write` straight into the message.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), EncodeError> {
        if self.count == u32::MAX || self.first_seq.checked_add(u64::from(self.count)).is_none() {
            return Err(EncodeError::Count {
                count: u64::from(self.count) + 1,
            });
        }
        let len_at = self.out.len();
        self.out.extend_from_slice(&[0; RECORD_PREFIX_BYTES]);
        write(self.out);
        let len = self.out.len() - len_at - RECORD_PREFIX_BYTES;
        let error = match u32::try_from(len) {
            Ok(0) => EncodeError::EmptyRecord,
            Ok(n) => {
                self.out[len_at..len_at + RECORD_PREFIX_BYTES].copy_from_slice(&n.to_be_bytes());
                self.count += 1;
                return Ok(());
            }
            Err(_) => EncodeError::RecordTooLarge { len },
        };
        self.out.truncate(len_at);
        Err(error)
    }

    /// Records pushed so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The `seq` the next pushed record must carry.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + u64::from(self.count)
    }

    /// Bytes of the batch so far (what the sender compares with its batch size target).
    pub fn encoded_len(&self) -> usize {
        self.out.len() - self.start
    }

    /// Fills in the count; returns it. A batch without records is removed and refused.
    pub fn finish(mut self) -> Result<u32, EncodeError> {
        if self.count == 0 {
            return Err(EncodeError::Count { count: 0 });
        }
        self.out[self.count_at..self.count_at + 4].copy_from_slice(&self.count.to_be_bytes());
        self.finished = true;
        Ok(self.count)
    }
}

impl Drop for BatchBuilder<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.out.truncate(self.start);
        }
    }
}

/// Smallest possible batch header for a `sid` of `sid_len` bytes, plus per-record overhead: what
/// a sender adds to its records' sizes when it checks a batch against the collector's limit.
pub fn batch_overhead(sid_len: usize, records: usize) -> usize {
    super::MAGIC.len() + 3 + sid_len + SEQ_FIELDS_BYTES + records * RECORD_PREFIX_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(sid: &str) -> BatchStart<'_> {
        BatchStart {
            sid,
            acked_seq: 10,
            base_seq: 12,
            first_seq: 15,
        }
    }

    #[test]
    fn records_written_in_place_decode_as_slices_of_the_message() {
        let mut frame = b"left alone".to_vec();
        let mut b = BatchBuilder::begin(&mut frame, &start("s")).unwrap();
        for i in 0..100 {
            assert_eq!(b.next_seq(), 15 + i);
            b.push_with(|out| out.extend_from_slice(format!("{{\"seq\":{i}}}").as_bytes()))
                .unwrap();
        }
        assert_eq!(b.count(), 100);
        let len = b.encoded_len();
        assert_eq!(b.finish(), Ok(100));
        assert_eq!(&frame[..10], b"left alone");
        let message = &frame[10..];
        assert_eq!(message.len(), len);
        assert!(len >= batch_overhead(1, 100));
        let batch = decode_batch(message, &BatchLimits::default()).unwrap();
        assert_eq!(
            (batch.acked_seq, batch.base_seq, batch.end_seq()),
            (10, 12, 115)
        );
        let range = message.as_ptr_range();
        for (i, (seq, record)) in batch.records().enumerate() {
            assert_eq!(seq, 15 + i as u64);
            assert_eq!(record, format!("{{\"seq\":{i}}}").as_bytes());
            assert!(range.contains(&record.as_ptr()), "borrowed, not copied");
        }
    }

    #[test]
    fn an_unfinished_or_empty_batch_leaves_nothing_behind() {
        let mut frame = b"keep".to_vec();
        {
            let mut b = BatchBuilder::begin(&mut frame, &start("s")).unwrap();
            b.push(b"{}").unwrap();
        }
        assert_eq!(frame, b"keep");
        let b = BatchBuilder::begin(&mut frame, &start("s")).unwrap();
        assert_eq!(b.finish(), Err(EncodeError::Count { count: 0 }));
        assert_eq!(frame, b"keep");
        let mut b = BatchBuilder::begin(&mut frame, &start("s")).unwrap();
        assert_eq!(b.push(b""), Err(EncodeError::EmptyRecord));
        assert_eq!(b.push_with(|_| {}), Err(EncodeError::EmptyRecord));
        b.push(b"{}").unwrap();
        b.finish().unwrap();
        let batch = decode_batch(&frame[4..], &BatchLimits::default()).unwrap();
        assert_eq!(batch.count, 1);
    }

    #[test]
    fn headers_no_decoder_would_accept_are_refused() {
        let mut out = Vec::new();
        let long = "x".repeat(256);
        let bad = [
            (
                BatchStart {
                    sid: "",
                    ..start("")
                },
                EncodeError::Sid { len: 0 },
            ),
            (
                BatchStart {
                    sid: &long,
                    ..start("")
                },
                EncodeError::Sid { len: 256 },
            ),
            (
                BatchStart {
                    acked_seq: 13,
                    ..start("s")
                },
                EncodeError::SeqOrder {
                    acked: 13,
                    base: 12,
                    first: 15,
                },
            ),
            (
                BatchStart {
                    base_seq: 16,
                    ..start("s")
                },
                EncodeError::SeqOrder {
                    acked: 10,
                    base: 16,
                    first: 15,
                },
            ),
        ];
        for (header, error) in bad {
            assert_eq!(BatchBuilder::begin(&mut out, &header).unwrap_err(), error);
            assert!(out.is_empty());
        }
        let top = BatchStart {
            sid: "s",
            acked_seq: 0,
            base_seq: 0,
            first_seq: u64::MAX,
        };
        let mut b = BatchBuilder::begin(&mut out, &top).unwrap();
        b.push(b"{}").unwrap();
        assert_eq!(b.push(b"{}"), Err(EncodeError::Count { count: 2 }));
        b.finish().unwrap();
        let batch = decode_batch(&out, &BatchLimits::default()).unwrap();
        assert_eq!(batch.records().next().map(|r| r.0), Some(u64::MAX));
    }

    #[test]
    fn limits_apply_to_the_message_and_each_record() {
        let mut frame = Vec::new();
        let mut b = BatchBuilder::begin(&mut frame, &start("s")).unwrap();
        b.push(&[b'a'; 100]).unwrap();
        b.finish().unwrap();
        let tight = BatchLimits {
            max_batch_bytes: frame.len() - 1,
            max_record_bytes: 100,
        };
        assert_eq!(
            decode_batch(&frame, &tight).unwrap_err().reason(),
            "oversized"
        );
        let small_records = BatchLimits {
            max_batch_bytes: frame.len(),
            max_record_bytes: 99,
        };
        assert_eq!(
            decode_batch(&frame, &small_records).unwrap_err().reason(),
            "oversized_record"
        );
        let exact = BatchLimits {
            max_batch_bytes: frame.len(),
            max_record_bytes: 100,
        };
        assert!(decode_batch(&frame, &exact).is_ok());
    }
}
