//! The acknowledged half of the I/O thread (wire v2, `spec/delivery.md` section 4): the window of
//! records sent and not yet acknowledged, the `DEALER` to the collector's ack `ROUTER`, batches out,
//! acks in, and the three resend triggers (the ack's resend flag, a new collector incarnation,
//! `ack_timeout` without progress).
//!
//! The window holds `[acked, ..)`: every record taken from the queue stays here until an ack covers
//! it, and it counts against the queue's bounds (`in_flight`), so a collector that stops
//! acknowledging back-pressures the log calls exactly as a full queue does. `cursor` is the first
//! record not sent since the last resend; a batch is taken from there, cut at a `seq` the sender
//! dropped, so record `i` of a batch has `seq = first_seq + i`.

use super::queue::Shared;
use super::SenderOptions;
use crate::encode::Encoded;
use crate::transport::{self, SocketError};
use crate::wire_v2::{decode_ack, BatchBuilder, BatchStart};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Batches the `DEALER` holds before a send waits (`EAGAIN`): with resends queued behind an outage,
/// libzmq's copy of the window stays this small, whatever the window's size.
const ACK_SNDHWM: i32 = 32;
/// Room for `sid`, `seq` and the closing brace around an encoded body, per record, when a batch is
/// checked against `max_batch_bytes` before the record is written.
const RECORD_SLACK: usize = 96;

/// A record kept until it is acknowledged.
pub(super) enum Kept {
    /// Encoded by the log call; its frame is written into each batch that carries it.
    Encoded(Encoded),
    /// Encoded (and truncated, if it had to be) by the I/O thread, or a v1 frame not yet sent when
    /// the sender switched to acknowledged delivery.
    Frame(Vec<u8>),
}

impl Kept {
    fn len_hint(&self, sender_fields: usize) -> usize {
        match self {
            Kept::Encoded(e) => e.body.len() + sender_fields + RECORD_SLACK,
            Kept::Frame(f) => f.len(),
        }
    }
}

/// One record in the window: its `seq`, its bytes, and what it counts against `queue_max_bytes`.
pub(super) struct Held {
    pub(super) seq: u64,
    pub(super) kept: Kept,
    pub(super) cost: usize,
}

/// A batch libzmq did not take yet (high-water mark): sent as it is when there is room.
struct Pending {
    frame: Vec<u8>,
    count: usize,
    end_seq: u64,
}

/// What one call to [`AckLink::pump`] did.
#[derive(Default)]
pub(super) struct Pumped {
    /// Records newly acknowledged (freed from the window; already added to the counters).
    pub(super) acknowledged: u64,
    /// Batches handed to libzmq.
    pub(super) batches_sent: u64,
}

/// The `DEALER`, its window and the resend state.
pub(super) struct AckLink {
    socket: zmq::Socket,
    /// The ack `ROUTER` endpoint the socket is connected to.
    endpoint: String,
    /// The collector incarnation last announced.
    incarnation: u64,
    window: VecDeque<Held>,
    /// Bytes of the window, by record cost.
    window_bytes: usize,
    /// Index in `window` of the first record not sent since the last resend.
    cursor: usize,
    /// Every `seq` below this is acknowledged.
    acked: u64,
    /// Where the previous batch's coverage ended: the next batch's `base_seq`.
    sent_end: u64,
    /// One past the highest `seq` ever sent: a record below it going out again is a resend.
    sent_high: u64,
    pending: Option<Pending>,
    /// The last ack progress (or the first send after the window was all acknowledged).
    last_progress: Instant,
    ack_timeout: Duration,
    max_batch_records: usize,
    max_batch_bytes: usize,
}

impl AckLink {
    /// Connects a `DEALER` to `endpoint`. `next_seq` is the first `seq` this link will carry:
    /// everything below it went out unacknowledged (v1) before the announcement was heard, so the
    /// first batch says it is acknowledged and the collector reports no gap for it.
    pub(super) fn connect(
        ctx: &zmq::Context,
        options: &SenderOptions,
        endpoint: String,
        incarnation: u64,
        next_seq: u64,
    ) -> Result<AckLink, SocketError> {
        let socket = dealer(ctx, options, &endpoint)?;
        Ok(AckLink {
            socket,
            endpoint,
            incarnation,
            window: VecDeque::new(),
            window_bytes: 0,
            cursor: 0,
            acked: next_seq,
            sent_end: next_seq,
            sent_high: next_seq,
            pending: None,
            last_progress: Instant::now(),
            ack_timeout: options.ack_timeout,
            max_batch_records: options.max_batch_records.max(1),
            max_batch_bytes: options.max_batch_bytes.max(1),
        })
    }

    /// A collector announced itself again: a new incarnation (a restarted collector, which lost
    /// whatever was in the old connection) means resending the window, to a new endpoint if it moved.
    pub(super) fn announced(
        &mut self,
        ctx: &zmq::Context,
        options: &SenderOptions,
        endpoint: String,
        incarnation: u64,
    ) {
        if incarnation == self.incarnation {
            return;
        }
        if endpoint != self.endpoint {
            match dealer(ctx, options, &endpoint) {
                Ok(socket) => {
                    let _ = self.socket.set_linger(0);
                    self.socket = socket;
                    self.endpoint = endpoint;
                }
                // Keep the old socket: libzmq reconnects it if the collector comes back there.
                Err(_) => return,
            }
        }
        self.incarnation = incarnation;
        self.resend();
    }

    /// Records held (sent or not), and their cost: what counts against the queue's bounds.
    pub(super) fn held(&self) -> (usize, usize) {
        (self.window.len(), self.window_bytes)
    }

    /// Records sent at least once and not acknowledged yet.
    pub(super) fn unacknowledged(&self) -> usize {
        self.window.partition_point(|h| h.seq < self.sent_high)
    }

    /// Records taken from the queue and never sent (what `close` drops when it runs out of time).
    pub(super) fn never_sent(&self) -> usize {
        self.window.len() - self.unacknowledged()
    }

    /// Whether everything held has been handed to libzmq, so more may be taken from the queue (a
    /// record waits in the queue, where `DropOldest` can still reach it, until it can be sent).
    pub(super) fn may_take(&self) -> bool {
        self.pending.is_none() && self.cursor == self.window.len()
    }

    /// Takes records from the queue into the window (in `seq` order).
    pub(super) fn hold(&mut self, held: Held) {
        self.window_bytes += held.cost;
        self.window.push_back(held);
    }

    /// Reads acks, applies the resend triggers, and sends what it can. Never waits.
    pub(super) fn pump(&mut self, shared: &Shared, now: Instant) -> Pumped {
        let mut done = Pumped::default();
        self.read_acks(shared, now, &mut done);
        if self.unacknowledged() > 0 && now.duration_since(self.last_progress) >= self.ack_timeout {
            self.resend();
            self.last_progress = now;
        }
        self.send_batches(shared, now, &mut done);
        done
    }

    fn read_acks(&mut self, shared: &Shared, now: Instant, done: &mut Pumped) {
        while let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
            let Ok(ack) = decode_ack(&msg) else {
                continue;
            };
            if ack.sid != shared.sid {
                continue;
            }
            if ack.watermark > self.acked {
                let mut freed = 0usize;
                while self.window.front().is_some_and(|h| h.seq < ack.watermark) {
                    if let Some(h) = self.window.pop_front() {
                        self.window_bytes -= h.cost;
                        freed += 1;
                    }
                }
                self.cursor = self.cursor.saturating_sub(freed);
                self.acked = ack.watermark;
                self.sent_end = self.sent_end.max(self.acked);
                self.sent_high = self.sent_high.max(self.acked);
                self.last_progress = now;
                done.acknowledged += freed as u64;
                shared
                    .counters
                    .acknowledged
                    .fetch_add(freed as u64, Ordering::Relaxed);
            }
            if ack.resend {
                self.resend();
            }
        }
    }

    /// Sends everything from `cursor` again, starting the coverage at the acknowledged watermark.
    fn resend(&mut self) {
        self.cursor = 0;
        self.pending = None;
        self.sent_end = self.acked;
    }

    fn send_batches(&mut self, shared: &Shared, now: Instant, done: &mut Pumped) {
        loop {
            let pending = match self.pending.take() {
                Some(p) => p,
                None => match self.build(shared) {
                    Some(p) => p,
                    None => return,
                },
            };
            match self.socket.send(&pending.frame[..], zmq::DONTWAIT) {
                Ok(()) => {
                    if self.unacknowledged() == 0 {
                        // The ack timeout runs from the first unacknowledged send.
                        self.last_progress = now;
                    }
                    let first = pending.end_seq - pending.count as u64;
                    let again = self.sent_high.clamp(first, pending.end_seq) - first;
                    let fresh = pending.count as u64 - again;
                    shared.counters.resent.fetch_add(again, Ordering::Relaxed);
                    shared.counters.sent.fetch_add(fresh, Ordering::Relaxed);
                    self.cursor += pending.count;
                    self.sent_end = pending.end_seq;
                    self.sent_high = self.sent_high.max(pending.end_seq);
                    done.batches_sent += 1;
                }
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => {
                    self.pending = Some(pending);
                    return;
                }
                // The context is terminating: nothing more can be sent.
                Err(_) => return,
            }
        }
    }

    /// The next batch from `cursor`: consecutive `seq`s, at most `max_batch_records` records and
    /// (unless a single record is larger) `max_batch_bytes` bytes.
    fn build(&self, shared: &Shared) -> Option<Pending> {
        let first = self.window.get(self.cursor)?;
        let mut frame = Vec::new();
        let start = BatchStart {
            sid: &shared.sid,
            acked_seq: self.acked,
            base_seq: self.sent_end.max(self.acked).min(first.seq),
            first_seq: first.seq,
        };
        let mut builder = BatchBuilder::begin(&mut frame, &start).ok()?;
        let fields = &shared.sender_fields;
        for held in self.window.range(self.cursor..) {
            let count = builder.count() as usize;
            if count > 0
                && (held.seq != builder.next_seq()
                    || count >= self.max_batch_records
                    || builder.encoded_len() + held.kept.len_hint(fields.len())
                        > self.max_batch_bytes)
            {
                break;
            }
            let pushed = match &held.kept {
                Kept::Encoded(e) => builder.push_with(|out| e.write_frame(fields, held.seq, out)),
                Kept::Frame(f) => builder.push(f),
            };
            if pushed.is_err() {
                break;
            }
        }
        let count = builder.count() as usize;
        let end_seq = builder.next_seq();
        builder.finish().ok()?;
        Some(Pending {
            frame,
            count,
            end_seq,
        })
    }

    /// Waits up to `timeout_ms` for an ack (or room to send).
    pub(super) fn poll(&self, timeout_ms: i64) {
        let events = if self.pending.is_some() {
            zmq::POLLIN | zmq::POLLOUT
        } else {
            zmq::POLLIN
        };
        let _ = self.socket.poll(events, timeout_ms);
    }

    /// At close: libzmq is not asked to linger; what is not acknowledged is not knowably delivered.
    pub(super) fn close(self) {
        let _ = self.socket.set_linger(0);
    }
}

fn dealer(
    ctx: &zmq::Context,
    options: &SenderOptions,
    endpoint: &str,
) -> Result<zmq::Socket, SocketError> {
    transport::connect_ack_dealer(ctx, options, endpoint, ACK_SNDHWM)
}
