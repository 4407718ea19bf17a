//! The writer's side of acknowledged delivery (`spec/delivery.md` section 5): admitting v2 batches
//! by watermark, remembering what every sink was given, and the commit cycle that turns records the
//! sinks have settled into saved watermarks and acks.
//!
//! A batch admitted for writing is *pending* until every sink that was given its records has settled
//! them (`given - unsettled` has passed the count at the end of the batch: sinks settle in order).
//! A commit settles what it can, saves the state file, and only then hands the acks to the receiving
//! thread (through an inproc socket: the ack `ROUTER`s belong to that thread), so a restarted
//! collector never knows less than the senders were told.

use crate::delivery::{Admission, StateFile, Watermarks};
use crate::metrics::Metrics;
use crate::warn::Warner;
use logfunnel_core::wire_v2::{self, decode_batch, Batch, BatchLimits};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// While busy, a commit is made once this many records were admitted since the last one (or
/// `ack_interval` passed): with the receiver's batches bounded in bytes, this bounds what a crash can
/// make the senders resend into the file twice (`spec/delivery.md` section 5.3).
pub(super) const COMMIT_RECORDS: u64 = 8_192;

/// Where acks go: the receiving thread's inproc `PULL`.
pub(super) const ACK_INPROC: &str = "inproc://logfunnel-acks";

/// Records given to sinks for v2 batches, waiting for every sink to settle them.
struct Pending {
    /// Per sink: records given to it when these batches had all been written.
    given: Vec<u64>,
    /// `(sid, end_seq)` of each batch.
    ends: Vec<(String, u64)>,
}

/// The acknowledged-delivery state the writer owns.
pub(super) struct Acks {
    watermarks: Watermarks,
    state: Option<StateFile>,
    pending: VecDeque<Pending>,
    /// Batches admitted since the writer last closed a run of records (see [`Acks::close_run`]).
    run: Vec<(String, u64)>,
    /// Where each sender's batches come from: the socket index and the `ROUTER` routing id.
    routes: HashMap<String, (u32, Vec<u8>)>,
    out: zmq::Socket,
    limits: BatchLimits,
    max_senders: usize,
    /// Commits are at least this far apart while busy.
    interval: Duration,
    last_commit: Instant,
    /// How long the last state save took: commits are at least ten times that apart.
    last_save: Duration,
    /// Something changed since the last commit (admitted, settled or an ack due).
    dirty: bool,
    /// Records admitted for writing since the last commit.
    since_commit: u64,
    buf: Vec<u8>,
}

/// A v2 batch as admitted: the records to write (from `skip`) and the batch itself.
pub(super) struct Admitted<'b> {
    pub(super) batch: Batch<'b>,
    pub(super) skip: u32,
}

impl Acks {
    pub(super) fn new(
        watermarks: Watermarks,
        state: Option<StateFile>,
        out: zmq::Socket,
        limits: BatchLimits,
        max_senders: usize,
        interval: Duration,
    ) -> Acks {
        Acks {
            watermarks,
            state,
            pending: VecDeque::new(),
            run: Vec::new(),
            routes: HashMap::new(),
            out,
            limits,
            max_senders,
            interval,
            last_commit: Instant::now(),
            last_save: Duration::ZERO,
            dirty: false,
            since_commit: 0,
            buf: Vec::new(),
        }
    }

    /// Decodes and admits one message from an ack `ROUTER` (`[routing id, batch]`). Malformed
    /// batches, duplicates and refusals are counted here; `None` means nothing to write.
    pub(super) fn admit<'b>(
        &mut self,
        socket: u32,
        frames: &'b [zmq::Message],
        metrics: &Metrics,
        warner: &Warner,
        endpoint: &str,
    ) -> Option<Admitted<'b>> {
        let (routing_id, frame) = match frames {
            [id, frame] => (&id[..], &frame[..]),
            _ => {
                metrics.add_malformed("bad_frames", 1);
                warner.warn("bad_frames", || {
                    format!("dropped a message of {} frames on the ack socket of {endpoint} (expected a batch)", frames.len())
                });
                return None;
            }
        };
        let batch = match decode_batch(frame, &self.limits) {
            Ok(b) => b,
            Err(e) => {
                let reason = e.reason();
                metrics.add_malformed(reason, 1);
                warner.warn(reason, || {
                    format!(
                        "dropped a malformed batch received on the ack socket of {endpoint}: {e}"
                    )
                });
                return None;
            }
        };
        let d = &metrics.delivery;
        d.batches.fetch_add(1, Ordering::Relaxed);
        // `received` counts records: the receiver counted this batch as one message.
        metrics
            .received
            .fetch_add(u64::from(batch.count) - 1, Ordering::Relaxed);
        self.route(batch.sid, socket, routing_id);
        self.dirty = true;
        let before = (
            self.watermarks.duplicates_total,
            self.watermarks.refused_total,
            self.watermarks.resend_requests_total,
        );
        let decision = self.watermarks.admit(&batch, unix_now());
        d.duplicates.fetch_add(
            self.watermarks.duplicates_total - before.0,
            Ordering::Relaxed,
        );
        d.refused
            .fetch_add(self.watermarks.refused_total - before.1, Ordering::Relaxed);
        d.resend_requests.fetch_add(
            self.watermarks.resend_requests_total - before.2,
            Ordering::Relaxed,
        );
        match decision {
            Admission::Write {
                skip,
                lost,
                lost_from,
            } => {
                if lost > 0 {
                    self.lost(metrics, warner, batch.sid, lost, lost_from);
                }
                self.since_commit += u64::from(batch.count - skip);
                self.run.push((batch.sid.to_string(), batch.end_seq()));
                Some(Admitted { batch, skip })
            }
            Admission::Duplicate => None,
            Admission::Refused { from } => {
                warner.warn("refused_batch", || {
                    format!(
                        "sender {} sent a batch starting after seq {from} (one was lost in flight): asked it to resend",
                        batch.sid
                    )
                });
                None
            }
        }
    }

    /// Seqs the sender dropped before this batch: reported as v1 gaps are.
    fn lost(&self, metrics: &Metrics, warner: &Warner, sid: &str, lost: u64, from: u64) {
        {
            let mut gaps = metrics.gaps.lock().unwrap_or_else(|p| p.into_inner());
            gaps.note_lost(lost);
        }
        warner.warn("gap", || {
            format!(
                "{lost} record(s) lost from sender {sid} (seq {from} to {} missing; dropped by the sender)",
                from + lost - 1
            )
        });
    }

    fn route(&mut self, sid: &str, socket: u32, routing_id: &[u8]) {
        match self.routes.get_mut(sid) {
            Some((s, id)) => {
                if *s != socket || id[..] != *routing_id {
                    *s = socket;
                    id.clear();
                    id.extend_from_slice(routing_id);
                }
            }
            None => {
                if self.routes.len() >= 2 * self.max_senders {
                    let known = &self.watermarks;
                    self.routes
                        .retain(|sid, _| known.written_watermark(sid).is_some());
                }
                self.routes
                    .insert(sid.to_string(), (socket, routing_id.to_vec()));
            }
        }
    }

    /// The writer has given every record of the batches admitted since the last call to the sinks;
    /// `given` is what each sink has been given so far.
    pub(super) fn close_run(&mut self, given: &[u64]) {
        if self.run.is_empty() {
            return;
        }
        self.pending.push_back(Pending {
            given: given.to_vec(),
            ends: std::mem::take(&mut self.run),
        });
    }

    /// Whether a commit has anything to do.
    pub(super) fn wants_commit(&self) -> bool {
        self.dirty || !self.pending.is_empty() || self.watermarks.has_due_acks()
    }

    /// When the next commit may happen. Commits are spaced by ten times the last save's duration,
    /// so saving a large table takes at most a tenth of the writer's time, and while busy also by
    /// `ack_interval`; but once [`COMMIT_RECORDS`] were admitted the spacing is one save's duration
    /// only, so what a crash can make senders resend twice stays near that many records however
    /// slow the disk is.
    pub(super) fn next_commit(&self, busy: bool) -> Instant {
        let spacing = if self.since_commit >= COMMIT_RECORDS {
            self.last_save
        } else if busy {
            (self.last_save * 10).max(self.interval)
        } else {
            self.last_save * 10
        };
        self.last_commit + spacing
    }

    /// Settles what every sink has settled (`settled[i]` = records sink `i` has settled so far),
    /// saves the watermarks, and sends the acks. The sinks were flushed just before.
    pub(super) fn commit(&mut self, settled: &[u64], metrics: &Metrics, warner: &Warner) {
        self.last_commit = Instant::now();
        self.dirty = false;
        self.since_commit = 0;
        while let Some(front) = self.pending.front() {
            if front.given.iter().zip(settled).any(|(g, s)| s < g) {
                break;
            }
            let done = self.pending.pop_front().expect("front exists");
            for (sid, end) in &done.ends {
                self.watermarks.written(sid, *end);
            }
        }
        if !self.watermarks.has_due_acks() {
            return;
        }
        if let Some(state) = &mut self.state {
            let t = Instant::now();
            let saved = state.save(self.watermarks.saved());
            self.last_save = t.elapsed();
            match saved {
                Ok(()) => {
                    metrics.delivery.state_saves.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    // No ack may claim more than the state file says: keep them due, try again.
                    metrics
                        .delivery
                        .state_errors
                        .fetch_add(1, Ordering::Relaxed);
                    warner.warn("state_dir", || {
                        format!("cannot save the delivery state, acknowledgements held back: {e}")
                    });
                    self.dirty = true;
                    return;
                }
            }
        }
        let mut sent = 0;
        for ack in self.watermarks.take_acks() {
            let Some((socket, routing_id)) = self.routes.get(&ack.sid) else {
                continue;
            };
            self.buf.clear();
            let frame = wire_v2::Ack {
                sid: &ack.sid,
                watermark: ack.watermark,
                resend: ack.resend,
            };
            if wire_v2::encode_ack(&frame, &mut self.buf).is_err() {
                continue;
            }
            let parts: [&[u8]; 3] = [&socket.to_be_bytes(), routing_id, &self.buf];
            // Never waits: an ack that finds no room is superseded by the next (acks are cumulative).
            if self.out.send_multipart(parts, zmq::DONTWAIT).is_ok() {
                sent += 1;
            }
        }
        metrics.delivery.acks.fetch_add(sent, Ordering::Relaxed);
    }

    /// Records given to sinks and not yet acknowledged for want of a sink settling them.
    pub(super) fn pending_batches(&self) -> usize {
        self.pending.iter().map(|p| p.ends.len()).sum()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
