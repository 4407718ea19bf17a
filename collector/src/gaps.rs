//! Gap detection: every v1 sender numbers its records (`seq`, from 0, +1 per record) under an id (`sid`)
//! that is unique for its life. Per `sid` the collector remembers the next `seq` it expects; a jump
//! forward means records from that sender were lost on the way, a step back is a duplicate (or a
//! reordering). Records without `sid`/`seq` (the foreign forms) are not tracked.
//!
//! The table is bounded (`max_senders`): when it is full the least recently seen eighth is forgotten,
//! so a peer inventing ids costs bounded memory and amortized constant time. A forgotten sender that
//! comes back is treated as new, which means no gap is reported for its first record: the collector
//! cannot tell records another collector instance wrote (after a restart) from lost ones.

use logfunnel_core::RecordView;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Length of the window over which a sender's rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// What one record's `seq` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// No `sid` or no `seq`: not tracked.
    Untracked,
    /// First record seen from this sender.
    First,
    /// The expected next record.
    InOrder,
    /// `lost` records are missing before this one (`expected` .. `got - 1`).
    Gap {
        /// Records missing.
        lost: u64,
        /// First missing `seq`.
        expected: u64,
        /// The `seq` that arrived.
        got: u64,
    },
    /// A `seq` lower than expected: seen before, or out of order.
    Duplicate {
        /// The `seq` expected next.
        expected: u64,
        /// The `seq` that arrived.
        got: u64,
    },
}

/// A sender's identity as far as the records tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenderId {
    /// Sender id.
    pub sid: String,
    /// Host name, if sent.
    pub host: Option<String>,
    /// Process id, if sent.
    pub process: Option<i64>,
    /// Language, if sent.
    pub lang: Option<String>,
}

impl std::fmt::Display for SenderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sid={}", self.sid)?;
        if let Some(h) = &self.host {
            write!(f, " host={h}")?;
        }
        if let Some(p) = self.process {
            write!(f, " process={p}")?;
        }
        if let Some(l) = &self.lang {
            write!(f, " lang={l}")?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Entry {
    id: SenderId,
    next_seq: u64,
    received: u64,
    lost: u64,
    duplicates: u64,
    last_seen: SystemTime,
    touched: u64,
    window_start: Instant,
    window_count: u64,
    last_rate: f64,
}

/// Per-sender numbers, for stats and metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SenderStats {
    /// Who.
    #[serde(flatten)]
    pub id: SenderId,
    /// Records received from it.
    pub received: u64,
    /// Records lost according to `seq`.
    pub lost: u64,
    /// Records whose `seq` was lower than expected.
    pub duplicates: u64,
    /// The `seq` expected next.
    pub next_seq: u64,
    /// When its last record arrived, seconds since the Unix epoch.
    pub last_seen_unix_s: f64,
    /// Records per second over the last few seconds.
    pub rate_per_s: f64,
}

/// The bounded per-sender table.
#[derive(Debug)]
pub struct GapTracker {
    max_senders: usize,
    /// The tracked senders, and where each `sid` is among them.
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    /// The entry seen last: records arrive in runs per sender, so comparing with its `sid` first
    /// saves hashing the `sid` for most records.
    last: Option<usize>,
    clock: u64,
    /// Records lost, all senders.
    pub lost_total: u64,
    /// Gap events (one per jump), all senders.
    pub gaps_total: u64,
    /// Duplicate or backwards records, all senders.
    pub duplicates_total: u64,
    /// Senders forgotten to keep the table bounded.
    pub evicted_total: u64,
}

impl GapTracker {
    /// A table tracking at most `max_senders` senders (at least 1).
    pub fn new(max_senders: usize) -> GapTracker {
        GapTracker {
            max_senders: max_senders.max(1),
            entries: Vec::new(),
            index: HashMap::new(),
            last: None,
            clock: 0,
            lost_total: 0,
            gaps_total: 0,
            duplicates_total: 0,
            evicted_total: 0,
        }
    }

    /// Senders currently tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no sender is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a sender dropped that no `seq` jump here shows (acknowledged delivery reports them
    /// from its watermarks, e.g. across a collector restart): counted as one gap.
    pub fn note_lost(&mut self, lost: u64) {
        self.lost_total += lost;
        self.gaps_total += 1;
    }

    /// Looks at one record's `sid`/`seq`.
    pub fn observe(&mut self, rec: &RecordView<'_>, now: Instant) -> SeqOutcome {
        let (Some(sid), Some(seq)) = (&rec.sid, rec.seq) else {
            return SeqOutcome::Untracked;
        };
        self.clock += 1;
        let touched = self.clock;
        let wall = SystemTime::now();
        let sid: &str = sid;
        let at = match self.last {
            Some(i) if self.entries[i].id.sid == sid => Some(i),
            _ => self.index.get(sid).copied(),
        };
        if let Some(i) = at {
            self.last = Some(i);
            let e = &mut self.entries[i];
            e.touched = touched;
            e.last_seen = wall;
            e.received += 1;
            tick_rate(e, now);
            return if seq == e.next_seq {
                e.next_seq = seq + 1;
                SeqOutcome::InOrder
            } else if seq > e.next_seq {
                let lost = seq - e.next_seq;
                let expected = e.next_seq;
                e.lost += lost;
                e.next_seq = seq + 1;
                self.lost_total += lost;
                self.gaps_total += 1;
                SeqOutcome::Gap {
                    lost,
                    expected,
                    got: seq,
                }
            } else {
                e.duplicates += 1;
                self.duplicates_total += 1;
                SeqOutcome::Duplicate {
                    expected: e.next_seq,
                    got: seq,
                }
            };
        }
        if self.entries.len() >= self.max_senders {
            self.evict();
        }
        self.index.insert(sid.to_string(), self.entries.len());
        self.last = Some(self.entries.len());
        self.entries.push(Entry {
            id: SenderId {
                sid: sid.to_string(),
                host: rec.host.as_deref().map(str::to_string),
                process: rec.process,
                lang: rec.lang.as_deref().map(str::to_string),
            },
            next_seq: seq.saturating_add(1),
            received: 1,
            lost: 0,
            duplicates: 0,
            last_seen: wall,
            touched,
            window_start: now,
            window_count: 1,
            last_rate: 0.0,
        });
        SeqOutcome::First
    }

    /// The identity recorded for `sid`.
    pub fn sender(&self, sid: &str) -> Option<&SenderId> {
        self.index.get(sid).map(|&i| &self.entries[i].id)
    }

    /// Forgets the least recently seen eighth of the table.
    fn evict(&mut self) {
        let n = (self.entries.len() / 8).max(1);
        let mut ages: Vec<u64> = self.entries.iter().map(|e| e.touched).collect();
        let (_, cutoff, _) = ages.select_nth_unstable(n - 1);
        let cutoff = *cutoff;
        let before = self.entries.len();
        self.entries.retain(|e| e.touched > cutoff);
        self.evicted_total += (before - self.entries.len()) as u64;
        self.index.clear();
        for (i, e) in self.entries.iter().enumerate() {
            self.index.insert(e.id.sid.clone(), i);
        }
        self.last = None;
    }

    /// Every tracked sender, most recently seen first.
    pub fn senders(&self, now: Instant) -> Vec<SenderStats> {
        let mut v: Vec<(u64, SenderStats)> = self
            .entries
            .iter()
            .map(|e| {
                (
                    e.touched,
                    SenderStats {
                        id: e.id.clone(),
                        received: e.received,
                        lost: e.lost,
                        duplicates: e.duplicates,
                        next_seq: e.next_seq,
                        last_seen_unix_s: e
                            .last_seen
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs_f64())
                            .unwrap_or(0.0),
                        rate_per_s: current_rate(e, now),
                    },
                )
            })
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        v.into_iter().map(|(_, s)| s).collect()
    }
}

fn tick_rate(e: &mut Entry, now: Instant) {
    let elapsed = now.saturating_duration_since(e.window_start);
    if elapsed >= RATE_WINDOW {
        e.last_rate = e.window_count as f64 / elapsed.as_secs_f64();
        e.window_start = now;
        e.window_count = 0;
    }
    e.window_count += 1;
}

fn current_rate(e: &Entry, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(e.window_start);
    if elapsed >= RATE_WINDOW {
        // The window was not closed by a later record: the sender went quiet.
        e.window_count as f64 / elapsed.as_secs_f64()
    } else if e.last_rate > 0.0 {
        e.last_rate
    } else if elapsed > Duration::from_millis(100) {
        e.window_count as f64 / elapsed.as_secs_f64()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfunnel_core::Record;

    fn rec(sid: &str, seq: u64) -> Record {
        let mut r = Record::new("a", 20, "m");
        r.sid = Some(sid.into());
        r.seq = Some(seq);
        r.host = Some("h".into());
        r.process = Some(7);
        r.lang = Some("rust".into());
        r
    }

    #[test]
    fn gaps_and_duplicates_are_counted() {
        let mut g = GapTracker::new(10);
        let now = Instant::now();
        assert_eq!(g.observe(&rec("s", 0).view(), now), SeqOutcome::First);
        assert_eq!(g.observe(&rec("s", 1).view(), now), SeqOutcome::InOrder);
        assert_eq!(
            g.observe(&rec("s", 5).view(), now),
            SeqOutcome::Gap {
                lost: 3,
                expected: 2,
                got: 5
            }
        );
        assert_eq!(
            g.observe(&rec("s", 3).view(), now),
            SeqOutcome::Duplicate {
                expected: 6,
                got: 3
            }
        );
        assert_eq!(g.observe(&rec("s", 6).view(), now), SeqOutcome::InOrder);
        assert_eq!((g.lost_total, g.gaps_total, g.duplicates_total), (3, 1, 1));
        let s = &g.senders(now)[0];
        assert_eq!((s.received, s.lost, s.duplicates, s.next_seq), (5, 3, 1, 7));
        assert_eq!(s.id.to_string(), "sid=s host=h process=7 lang=rust");
        let mut foreign = Record::new("a", 20, "m");
        foreign.sid = None;
        assert_eq!(g.observe(&foreign.view(), now), SeqOutcome::Untracked);
    }

    #[test]
    fn a_sender_first_seen_mid_stream_is_no_gap() {
        let mut g = GapTracker::new(10);
        assert_eq!(
            g.observe(&rec("s", 1000).view(), Instant::now()),
            SeqOutcome::First
        );
        assert_eq!(g.lost_total, 0);
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_active_senders() {
        let mut g = GapTracker::new(100);
        let now = Instant::now();
        for i in 0..10_000u64 {
            g.observe(&rec("busy", i).view(), now);
            g.observe(&rec(&format!("hostile-{i}"), 0).view(), now);
            assert!(g.len() <= 100);
        }
        assert!(g.sender("busy").is_some());
        assert_eq!(g.lost_total, 0);
        assert!(g.evicted_total >= 9_000);
    }
}
