//! The per-sender watermark table: which records of a batch to write, which are duplicates, when to
//! ask for a resend, and what to acknowledge.
//!
//! For each `sid`: `accepted`, the `seq` after the last record taken into the writer's queue, and
//! `written`, the `seq` below which every record was written by every sink (what an ack says and the
//! state file keeps). A batch covers `[base_seq, first_seq + count)` (`wire_v2::batch`):
//!
//! | batch | decision |
//! |---|---|
//! | `base_seq > accepted` | an earlier batch was lost in flight: refuse it, ask once for a resend from `accepted` |
//! | ends at or below `accepted` | every record is a duplicate: drop them, acknowledge again |
//! | otherwise | write records from `accepted` on (those below are duplicates); seqs in `[accepted, first_seq)` were dropped by the sender: a gap |
//!
//! A sender's `acked_seq` raises both numbers (it was acknowledged by an earlier incarnation whose
//! state this one may not have), so a sender the table does not know, or forgot, starts where it
//! says it was acknowledged instead of being refused forever.
//!
//! The table is bounded by `max_senders`: when full, the least recently seen eighth is forgotten
//! (amortized constant time), preferring senders with nothing in the writer's queue.

use crate::delivery::state_file::SavedSender;
use logfunnel_core::wire_v2::Batch;
use std::borrow::Cow;
use std::collections::HashMap;

/// What to do with one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Write the batch's records from index `skip` on; the first `skip` are duplicates.
    Write {
        /// Leading records already written.
        skip: u32,
        /// Seqs the sender dropped just before this batch (`lost_from .. lost_from + lost`).
        lost: u64,
        /// First of them.
        lost_from: u64,
    },
    /// Every record was written before: drop them all.
    Duplicate,
    /// An earlier batch is missing. Drop this one; the sender is asked (once) to resend from `from`.
    Refused {
        /// Where the sender must resend from.
        from: u64,
    },
}

/// An acknowledgement to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAck {
    /// The sender.
    pub sid: String,
    /// Every `seq` below this is written.
    pub watermark: u64,
    /// Ask the sender to resend from `watermark`.
    pub resend: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    accepted: u64,
    written: u64,
    /// A resend was asked for and no batch from below `accepted` has come since.
    awaiting_resend: bool,
    ack_due: bool,
    resend_due: bool,
    last_seen_unix_s: u64,
    touched: u64,
}

/// The bounded table; see the module docs.
#[derive(Debug)]
pub struct Watermarks {
    max_senders: usize,
    entries: HashMap<String, Entry>,
    /// Senders whose ack is due, each once.
    due: Vec<String>,
    clock: u64,
    /// Records dropped as duplicates, all senders.
    pub duplicates_total: u64,
    /// Records the senders dropped (gaps in the seqs), all senders.
    pub lost_total: u64,
    /// Gap events, all senders.
    pub gaps_total: u64,
    /// Batches refused because an earlier one was missing.
    pub refused_total: u64,
    /// Resend requests sent.
    pub resend_requests_total: u64,
    /// Senders forgotten to keep the table bounded.
    pub evicted_total: u64,
}

impl Watermarks {
    /// An empty table for at most `max_senders` senders (at least 1).
    pub fn new(max_senders: usize) -> Watermarks {
        Watermarks {
            max_senders: max_senders.max(1),
            entries: HashMap::new(),
            due: Vec::new(),
            clock: 0,
            duplicates_total: 0,
            lost_total: 0,
            gaps_total: 0,
            refused_total: 0,
            resend_requests_total: 0,
            evicted_total: 0,
        }
    }

    /// A table holding what a state file saved (the most recently seen first if there are more
    /// than `max_senders`).
    pub fn from_saved(max_senders: usize, saved: Vec<SavedSender<'_>>) -> Watermarks {
        let mut table = Watermarks::new(max_senders);
        let mut saved = saved;
        saved.sort_by_key(|s| std::cmp::Reverse(s.last_seen_unix_s));
        saved.truncate(table.max_senders);
        // Oldest first, so the clock orders them as they were seen.
        for s in saved.into_iter().rev() {
            table.clock += 1;
            table.entries.insert(
                s.sid.into_owned(),
                Entry {
                    accepted: s.watermark,
                    written: s.watermark,
                    awaiting_resend: false,
                    ack_due: false,
                    resend_due: false,
                    last_seen_unix_s: s.last_seen_unix_s,
                    touched: table.clock,
                },
            );
        }
        table
    }

    /// Senders in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The written watermark of `sid`, if known.
    pub fn written_watermark(&self, sid: &str) -> Option<u64> {
        self.entries.get(sid).map(|e| e.written)
    }

    /// Decides what to do with `batch` and moves `accepted` past what is to be written.
    pub fn admit(&mut self, batch: &Batch<'_>, now_unix_s: u64) -> Admission {
        self.clock += 1;
        let touched = self.clock;
        if !self.entries.contains_key(batch.sid) && self.entries.len() >= self.max_senders {
            self.evict();
        }
        let entry = self
            .entries
            .entry(batch.sid.to_string())
            .or_insert_with(|| Entry {
                accepted: batch.acked_seq,
                written: batch.acked_seq,
                awaiting_resend: false,
                ack_due: false,
                resend_due: false,
                last_seen_unix_s: now_unix_s,
                touched,
            });
        entry.touched = touched;
        entry.last_seen_unix_s = now_unix_s;
        // Acknowledged by an earlier incarnation: nothing below it will come again.
        entry.accepted = entry.accepted.max(batch.acked_seq);
        entry.written = entry.written.max(batch.acked_seq);
        let accepted = entry.accepted;
        let end = batch.end_seq();
        let decision = if batch.base_seq > accepted {
            self.refused_total += 1;
            if entry.awaiting_resend {
                // Asked already; the batches still in flight behind the lost one are dropped quietly.
                return Admission::Refused { from: accepted };
            }
            entry.awaiting_resend = true;
            entry.resend_due = true;
            self.resend_requests_total += 1;
            Admission::Refused { from: accepted }
        } else if end <= accepted {
            entry.awaiting_resend = false;
            self.duplicates_total += u64::from(batch.count);
            Admission::Duplicate
        } else {
            entry.awaiting_resend = false;
            let skip = accepted.saturating_sub(batch.first_seq) as u32;
            let lost = batch.first_seq.saturating_sub(accepted);
            self.duplicates_total += u64::from(skip);
            if lost > 0 {
                self.lost_total += lost;
                self.gaps_total += 1;
            }
            entry.accepted = end;
            // Acknowledged once the writer has written it (`written`).
            return Admission::Write {
                skip,
                lost,
                lost_from: accepted,
            };
        };
        if !entry.ack_due {
            entry.ack_due = true;
            self.due.push(batch.sid.to_string());
        }
        decision
    }

    /// Every sink has written the records of `sid` below `end_seq` (the `end_seq` of a batch that
    /// [`admit`](Self::admit) said to write). Makes an ack due.
    pub fn written(&mut self, sid: &str, end_seq: u64) {
        let Some(entry) = self.entries.get_mut(sid) else {
            // Forgotten meanwhile (a table full of other senders): the sender's ack timeout resends.
            return;
        };
        entry.written = entry.written.max(end_seq.min(entry.accepted));
        if !entry.ack_due {
            entry.ack_due = true;
            self.due.push(sid.to_string());
        }
    }

    /// What the state file keeps: each sender's written watermark.
    pub fn saved(&self) -> impl Iterator<Item = SavedSender<'_>> {
        self.entries.iter().map(|(sid, e)| SavedSender {
            sid: Cow::Borrowed(sid),
            watermark: e.written,
            last_seen_unix_s: e.last_seen_unix_s,
        })
    }

    /// Whether any ack is due (a commit is worth doing).
    pub fn has_due_acks(&self) -> bool {
        !self.due.is_empty()
    }

    /// The acks to send now, one per sender, and clears them. Call only after the state file holds
    /// [`saved`](Self::saved): an ack must never claim more than a restarted collector would know.
    pub fn take_acks(&mut self) -> Vec<DueAck> {
        let due = std::mem::take(&mut self.due);
        let mut acks = Vec::with_capacity(due.len());
        for sid in due {
            if let Some(e) = self.entries.get_mut(&sid) {
                e.ack_due = false;
                let resend = std::mem::take(&mut e.resend_due);
                acks.push(DueAck {
                    watermark: e.written,
                    sid,
                    resend,
                });
            }
        }
        acks
    }

    /// Forgets the least recently seen eighth, senders with records in the writer's queue last.
    fn evict(&mut self) {
        let n = (self.entries.len() / 8).max(1);
        let mut keys: Vec<(bool, u64)> = self
            .entries
            .values()
            .map(|e| (e.accepted > e.written, e.touched))
            .collect();
        let (_, cutoff, _) = keys.select_nth_unstable(n - 1);
        let cutoff = *cutoff;
        let before = self.entries.len();
        self.entries
            .retain(|_, e| (e.accepted > e.written, e.touched) > cutoff);
        self.evicted_total += (before - self.entries.len()) as u64;
        let entries = &self.entries;
        self.due.retain(|sid| entries.contains_key(sid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfunnel_core::wire_v2::{decode_batch, BatchBuilder, BatchLimits, BatchStart};

    /// A real encoded batch of `count` records starting at `first`, decoded as the collector would.
    fn frame(sid: &str, acked: u64, base: u64, first: u64, count: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let start = BatchStart {
            sid,
            acked_seq: acked,
            base_seq: base,
            first_seq: first,
        };
        let mut b = BatchBuilder::begin(&mut out, &start).unwrap();
        for i in 0..count {
            let seq = first + u64::from(i);
            b.push(format!("{{\"sid\":\"{sid}\",\"seq\":{seq}}}").as_bytes())
                .unwrap();
        }
        b.finish().unwrap();
        out
    }

    fn admit(t: &mut Watermarks, f: &[u8]) -> Admission {
        let batch = decode_batch(f, &BatchLimits::default()).unwrap();
        t.admit(&batch, 100)
    }

    fn write(t: &mut Watermarks, f: &[u8]) -> Admission {
        let batch = decode_batch(f, &BatchLimits::default()).unwrap();
        let a = t.admit(&batch, 100);
        if let Admission::Write { .. } = a {
            t.written(batch.sid, batch.end_seq());
        }
        a
    }

    #[test]
    fn in_order_batches_are_written_and_acked_once_per_commit() {
        let mut t = Watermarks::new(10);
        let a = frame("s", 0, 0, 0, 100);
        let b = frame("s", 0, 100, 100, 50);
        assert_eq!(
            admit(&mut t, &a),
            Admission::Write {
                skip: 0,
                lost: 0,
                lost_from: 0
            }
        );
        assert_eq!(
            admit(&mut t, &b),
            Admission::Write {
                skip: 0,
                lost: 0,
                lost_from: 100
            }
        );
        assert!(
            !t.has_due_acks(),
            "nothing is acknowledged before it is written"
        );
        t.written("s", 100);
        t.written("s", 150);
        let acks = t.take_acks();
        assert_eq!(
            acks,
            vec![DueAck {
                sid: "s".into(),
                watermark: 150,
                resend: false
            }]
        );
        assert!(t.take_acks().is_empty());
    }

    #[test]
    fn resent_records_are_dropped_and_acknowledged_again() {
        let mut t = Watermarks::new(10);
        write(&mut t, &frame("s", 0, 0, 0, 100));
        t.take_acks();
        // The ack was lost; the sender resends 0..100 and then sends on.
        assert_eq!(
            write(&mut t, &frame("s", 0, 0, 0, 100)),
            Admission::Duplicate
        );
        assert_eq!(t.take_acks()[0].watermark, 100);
        // A resend overlapping new records: the first 60 are duplicates.
        let overlap = frame("s", 0, 40, 40, 100);
        assert_eq!(
            write(&mut t, &overlap),
            Admission::Write {
                skip: 60,
                lost: 0,
                lost_from: 100
            }
        );
        assert_eq!(t.duplicates_total, 160);
        assert_eq!(t.written_watermark("s"), Some(140));
    }

    #[test]
    fn a_batch_after_a_lost_one_is_refused_and_a_resend_asked_for_once() {
        let mut t = Watermarks::new(10);
        write(&mut t, &frame("s", 0, 0, 0, 10));
        t.take_acks();
        // 10..20 was lost when the connection dropped; 20..30 and 30..40 arrive.
        assert_eq!(
            admit(&mut t, &frame("s", 0, 20, 20, 10)),
            Admission::Refused { from: 10 }
        );
        assert_eq!(
            admit(&mut t, &frame("s", 0, 30, 30, 10)),
            Admission::Refused { from: 10 }
        );
        let acks = t.take_acks();
        assert_eq!(
            acks,
            vec![DueAck {
                sid: "s".into(),
                watermark: 10,
                resend: true
            }]
        );
        assert_eq!((t.refused_total, t.resend_requests_total), (2, 1));
        // The resend arrives: written in full, and a later loss is asked about again.
        assert_eq!(
            write(&mut t, &frame("s", 10, 10, 10, 30)),
            Admission::Write {
                skip: 0,
                lost: 0,
                lost_from: 10
            }
        );
        assert_eq!(
            t.take_acks()[0],
            DueAck {
                sid: "s".into(),
                watermark: 40,
                resend: false
            }
        );
        assert_eq!(
            admit(&mut t, &frame("s", 40, 50, 50, 1)),
            Admission::Refused { from: 40 }
        );
        assert!(t.take_acks()[0].resend);
    }

    #[test]
    fn seqs_the_sender_dropped_are_a_gap_not_a_refusal() {
        let mut t = Watermarks::new(10);
        write(&mut t, &frame("s", 0, 0, 0, 10));
        // The sender dropped 10..15 (queue full): the batch says so with base 10, first 15.
        assert_eq!(
            write(&mut t, &frame("s", 0, 10, 15, 5)),
            Admission::Write {
                skip: 0,
                lost: 5,
                lost_from: 10
            }
        );
        assert_eq!((t.lost_total, t.gaps_total), (5, 1));
        assert_eq!(t.written_watermark("s"), Some(20));
    }

    #[test]
    fn a_sender_unknown_to_this_incarnation_starts_at_its_acked_seq() {
        // A collector restarted without state: the sender says 0..500 were acknowledged before.
        let mut t = Watermarks::new(10);
        assert_eq!(
            write(&mut t, &frame("s", 500, 500, 500, 10)),
            Admission::Write {
                skip: 0,
                lost: 0,
                lost_from: 500
            }
        );
        assert_eq!(t.lost_total, 0, "acknowledged records are not a gap");
        // It had 500..600 in flight and lost them: the batch from 600 is refused, resend from 510.
        let mut t = Watermarks::new(10);
        assert_eq!(
            admit(&mut t, &frame("s", 500, 600, 600, 10)),
            Admission::Refused { from: 500 }
        );
    }

    #[test]
    fn a_reloaded_table_drops_duplicates_across_a_restart() {
        let mut t = Watermarks::new(10);
        write(&mut t, &frame("a", 0, 0, 0, 1000));
        write(&mut t, &frame("b", 0, 0, 0, 7));
        let saved: Vec<SavedSender<'static>> = t
            .saved()
            .map(|s| SavedSender {
                sid: Cow::Owned(s.sid.into_owned()),
                ..s
            })
            .collect();
        let mut restarted = Watermarks::from_saved(10, saved);
        assert_eq!(restarted.written_watermark("a"), Some(1000));
        // The sender had seen only 0..900 acknowledged and resends 900..1100.
        assert_eq!(
            write(&mut restarted, &frame("a", 900, 900, 900, 200)),
            Admission::Write {
                skip: 100,
                lost: 0,
                lost_from: 1000
            }
        );
        assert_eq!(restarted.duplicates_total, 100);
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_senders_with_queued_records() {
        let mut t = Watermarks::new(100);
        // "busy" has a batch in the writer's queue, not yet written.
        admit(&mut t, &frame("busy", 0, 0, 0, 10));
        for i in 0..10_000 {
            write(&mut t, &frame(&format!("s{i}"), 0, 0, 0, 1));
            assert!(t.len() <= 100);
        }
        assert!(t.written_watermark("busy").is_some());
        assert!(t.evicted_total >= 9_000);
        let acks = t.take_acks();
        assert!(acks.len() <= 100, "acks of forgotten senders are not sent");
        t.written("busy", 10);
        assert_eq!(t.take_acks()[0].watermark, 10);
    }

    #[test]
    fn written_never_passes_accepted() {
        let mut t = Watermarks::new(10);
        admit(&mut t, &frame("s", 0, 0, 0, 10));
        t.written("s", 1_000);
        assert_eq!(t.written_watermark("s"), Some(10));
        t.written("nobody", 5);
        assert_eq!(t.written_watermark("nobody"), None);
    }
}
