//! The sender's I/O thread: takes the queue in batches, encodes what the log calls did not
//! (adding `host`, `lang`, `sid`, `seq`, and truncating what exceeds `max_frame_bytes`), hands frames
//! to libzmq without blocking, and at close gives libzmq what is left of the timeout as linger.
//! It listens for a collector's announcement first and then speaks acknowledged delivery
//! ([`super::acked`]); without one, after `discovery_wait`, it sends v1 frames to whatever listens.

use super::acked::{AckLink, Held, Kept};
use super::queue::{lock, Entry, Item, Shared};
use super::{SenderOptions, SocketMode};
use crate::record::RecordView;
use crate::transport;
use crate::wire_v2::Announcement;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sender's I/O thread: owns the context and sockets.
pub(super) struct IoThread {
    shared: Arc<Shared>,
    socket: zmq::Socket,
    ctx: zmq::Context,
    options: SenderOptions,
    link: Link,
    /// Frames handed to the `XPUB`/`PUSH` socket (v1): at close, libzmq's linger matters for them.
    sent_v1: bool,
}

/// Which protocol the sender speaks now (`spec/delivery.md` section 4).
enum Link {
    /// `XPUB`, no announcement heard yet: records wait in the queue. `since` is when the first
    /// subscription arrived; `discovery_wait` after it, the sender goes [`Link::Unacked`].
    Listening { since: Option<Instant> },
    /// v1 frames on the sending socket, as to any `SUB` listener; still listening for an announcement.
    Unacked,
    /// Batches on a `DEALER` to the collector's ack `ROUTER`, kept until acknowledged.
    Acked(AckLink),
}

/// What became of a frame offered to libzmq.
enum SendResult {
    Sent,
    /// Not now (the high-water mark): try again later.
    Again,
    Dead,
}

/// How long the I/O thread waits for more records after the queue ran dry, before it sleeps until
/// woken (a short pause, not ZeroMQ's linger).
const DRY_QUEUE_PAUSE: Duration = Duration::from_millis(1);
/// While records are unacknowledged, how long the I/O thread waits for an ack before it looks at the
/// queue again: short right after a send (an ack usually follows within milliseconds), longer once
/// the collector has been silent for a while (it is gone or blocked).
const ACK_POLL_FAST_MS: i64 = 1;
const ACK_POLL_SLOW_MS: i64 = 20;
const ACK_POLL_FAST_FOR: Duration = Duration::from_millis(100);

impl IoThread {
    pub(super) fn new(
        shared: Arc<Shared>,
        socket: zmq::Socket,
        ctx: zmq::Context,
        options: &SenderOptions,
    ) -> IoThread {
        let link = match options.mode {
            SocketMode::Push => Link::Unacked,
            SocketMode::Xpub => Link::Listening { since: None },
        };
        IoThread {
            shared,
            socket,
            ctx,
            options: options.clone(),
            link,
            sent_v1: false,
        }
    }

    pub(super) fn run(mut self) {
        let mut batch: VecDeque<(u64, Entry)> = VecDeque::new();
        // The frame being built; reused while frames go straight out.
        let mut scratch: Vec<u8> = Vec::new();
        // v1 frames libzmq did not take yet, with their seq (kept if the sender switches to v2).
        let mut frames: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
        let mut lingered = false;
        let mut last_send = Instant::now();
        let linger_deadline = loop {
            self.read_subscriptions(&mut frames);
            let now = Instant::now();
            let mut progressed = false;
            match &mut self.link {
                Link::Listening { since: Some(t) }
                    if now.duration_since(*t) >= self.options.discovery_wait =>
                {
                    // A v1 listener (or a v1 collector): nobody announced acknowledged delivery.
                    self.link = Link::Unacked;
                }
                Link::Listening { .. } => {}
                Link::Unacked => {
                    while let Some((_, frame)) = frames.front() {
                        match send(&self.socket, frame) {
                            SendResult::Sent => {
                                frames.pop_front();
                                progressed = true;
                                self.sent_v1 = true;
                                self.shared.counters.sent.fetch_add(1, Ordering::Relaxed);
                            }
                            SendResult::Again => break,
                            SendResult::Dead => {
                                frames.clear();
                                break;
                            }
                        }
                    }
                }
                Link::Acked(link) => {
                    let pumped = link.pump(&self.shared, now);
                    progressed = pumped.acknowledged > 0;
                    if pumped.batches_sent > 0 {
                        last_send = now;
                    }
                }
            }
            self.publish_link_stats();
            let mut st = lock(&self.shared.state);
            let (held, held_bytes) = self.held(&frames);
            st.in_flight = held as u64;
            st.held_bytes = held_bytes;
            if progressed {
                st.stalled = false;
                if st.waiters > 0 {
                    self.shared.progress.notify_all();
                }
            }
            let may_take = match &self.link {
                Link::Listening { .. } => false,
                Link::Unacked => frames.is_empty(),
                Link::Acked(link) => link.may_take(),
            };
            // Records stay in the queue (where `DropOldest` can still reach them) until they can be sent.
            if may_take && !st.queue.is_empty() {
                lingered = false;
                // Take the whole queue in O(1) so producers wait on the lock as little as possible.
                std::mem::swap(&mut st.queue, &mut batch);
                let n = batch.len();
                let taken_bytes = st.queued_bytes;
                st.queued_bytes = 0;
                st.in_flight += n as u64;
                st.held_bytes += taken_bytes;
                st.stalled = false;
                let notify = st.waiters > 0;
                drop(st);
                if notify {
                    self.shared.progress.notify_all();
                }
                if matches!(self.link, Link::Acked(_)) {
                    self.hold_batch(&mut batch);
                    if let Link::Acked(link) = &mut self.link {
                        if link.pump(&self.shared, Instant::now()).batches_sent > 0 {
                            last_send = Instant::now();
                        }
                    }
                } else {
                    self.send_v1_batch(&mut batch, &mut scratch, &mut frames);
                }
                self.publish_link_stats();
                let (held, held_bytes) = self.held(&frames);
                let mut st = lock(&self.shared.state);
                st.in_flight = held as u64;
                st.held_bytes = held_bytes;
                if st.waiters > 0 {
                    self.shared.progress.notify_all();
                }
                continue;
            }
            let idle = held == 0 && st.queue.is_empty();
            if idle && st.waiters > 0 {
                self.shared.progress.notify_all();
            }
            if let Some(deadline) = st.closing {
                if idle || Instant::now() >= deadline {
                    // Not handed over: the queue, v1 frames libzmq did not take, and records taken
                    // into the window but never sent. Sent and unacknowledged records stay counted
                    // as `unacknowledged`: they may well have been written.
                    let never_sent = match &self.link {
                        Link::Acked(link) => link.never_sent(),
                        _ => 0,
                    };
                    let left = st.queue.len() as u64 + frames.len() as u64 + never_sent as u64;
                    st.queue.clear();
                    st.queued_bytes = 0;
                    st.in_flight = 0;
                    st.held_bytes = 0;
                    st.finished = true;
                    drop(st);
                    self.shared
                        .counters
                        .dropped_at_close
                        .fetch_add(left, Ordering::Relaxed);
                    self.shared.progress.notify_all();
                    break deadline;
                }
            }
            let unacked_waiting = matches!(&self.link, Link::Acked(_)) && held > 0;
            if idle && !lingered && st.waiters == 0 {
                // Just ran dry: wait a moment without asking to be woken, so that records logged
                // meanwhile go out together (one wake-up per batch, not one futex wake per record).
                lingered = true;
                let _ = self
                    .shared
                    .wake_io
                    .wait_timeout(st, DRY_QUEUE_PAUSE)
                    .unwrap_or_else(|e| e.into_inner());
            } else if idle {
                // Nothing to send: sleep until a log call wakes us (or poll subscriptions now and then).
                lingered = false;
                st.io_waiting = true;
                let (g, _) = self
                    .shared
                    .wake_io
                    .wait_timeout(st, Duration::from_millis(100))
                    .unwrap_or_else(|e| e.into_inner());
                let mut st = g;
                st.io_waiting = false;
            } else if unacked_waiting {
                // Waiting for an ack (or for room in the DEALER's pipe); new records are taken on
                // the next turn.
                drop(st);
                let wait = if Instant::now().duration_since(last_send) < ACK_POLL_FAST_FOR {
                    ACK_POLL_FAST_MS
                } else {
                    ACK_POLL_SLOW_MS
                };
                if let Link::Acked(link) = &self.link {
                    link.poll(wait);
                }
            } else {
                // Waiting for a subscriber, an announcement or room in libzmq's pipe.
                drop(st);
                let wait = match &self.link {
                    Link::Listening { since: Some(_) } | Link::Unacked => 1,
                    _ => 20,
                };
                let _ = self.socket.poll(zmq::POLLIN, wait);
            }
        };
        // Give libzmq what is left of the close timeout to write out its buffers, then terminate.
        let linger_ms = transport::ms(linger_deadline.saturating_duration_since(Instant::now()));
        let _ = self.socket.set_linger(linger_ms);
        if let Link::Acked(link) = std::mem::replace(&mut self.link, Link::Unacked) {
            link.close();
        }
        let terminating = Instant::now();
        drop(self.socket);
        drop(self.ctx);
        // Terminating blocks until libzmq has written everything or the linger ran out; the latter
        // (with something sent at all) means libzmq may have discarded records. Compared with the
        // whole milliseconds libzmq was given, less a millisecond for its timer's rounding, so a
        // linger that ran out is never taken for a finished write (the reverse only over-reports).
        let given = Duration::from_millis(linger_ms.max(0) as u64);
        if self.sent_v1 && terminating.elapsed() + Duration::from_millis(1) >= given {
            self.shared
                .counters
                .linger_expired
                .store(true, Ordering::Relaxed);
        }
    }

    /// Records the I/O thread holds (v1 frames libzmq did not take, or the acknowledged window)
    /// and their cost.
    fn held(&self, frames: &VecDeque<(u64, Vec<u8>)>) -> (usize, usize) {
        match &self.link {
            Link::Acked(link) => link.held(),
            _ => (frames.len(), 0),
        }
    }

    /// Makes the link's counts visible to [`Stats`](super::Stats).
    fn publish_link_stats(&self) {
        let c = &self.shared.counters;
        if let Link::Acked(link) = &self.link {
            c.acknowledging.store(true, Ordering::Relaxed);
            c.unacknowledged
                .store(link.unacknowledged() as u64, Ordering::Relaxed);
        }
    }

    /// v1: encodes and sends the taken records one by one, so a frame that goes out at once needs
    /// no buffer of its own; what libzmq does not take now waits in `frames`, in order.
    fn send_v1_batch(
        &mut self,
        batch: &mut VecDeque<(u64, Entry)>,
        scratch: &mut Vec<u8>,
        frames: &mut VecDeque<(u64, Vec<u8>)>,
    ) {
        let mut sent = 0;
        let mut dead = false;
        for (seq, Entry { item, .. }) in batch.drain(..) {
            scratch.clear();
            let ok = match item {
                Item::Record(record) => self.encode(seq, *record, scratch),
                Item::Encoded(e) => {
                    e.write_frame(&self.shared.sender_fields, seq, scratch);
                    true
                }
            };
            if !ok || dead {
                continue;
            }
            if frames.is_empty() {
                match send(&self.socket, scratch) {
                    SendResult::Sent => {
                        sent += 1;
                        continue;
                    }
                    SendResult::Again => {}
                    SendResult::Dead => {
                        dead = true;
                        continue;
                    }
                }
            }
            frames.push_back((seq, std::mem::take(scratch)));
        }
        if sent > 0 {
            self.sent_v1 = true;
            self.shared.counters.sent.fetch_add(sent, Ordering::Relaxed);
        }
    }

    /// v2: moves the taken records into the window; records the log call did not encode are
    /// encoded (and truncated) here, once.
    fn hold_batch(&mut self, batch: &mut VecDeque<(u64, Entry)>) {
        for (seq, Entry { item, cost }) in batch.drain(..) {
            let kept = match item {
                Item::Encoded(e) => Kept::Encoded(e),
                Item::Record(record) => {
                    let mut frame = Vec::new();
                    if !self.encode(seq, *record, &mut frame) {
                        continue;
                    }
                    Kept::Frame(frame)
                }
            };
            if let Link::Acked(link) = &mut self.link {
                link.hold(Held { seq, kept, cost });
            }
        }
    }

    /// XPUB: consume subscription messages. The first one means a subscriber is there; a
    /// collector's announcement switches the sender to acknowledged delivery (or, from a new
    /// collector incarnation, makes it resend what is unacknowledged).
    fn read_subscriptions(&mut self, frames: &mut VecDeque<(u64, Vec<u8>)>) {
        if self.options.mode != SocketMode::Xpub {
            return;
        }
        while let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
            if msg.first() != Some(&1) {
                continue;
            }
            self.shared
                .counters
                .connected
                .store(true, Ordering::Relaxed);
            if let Link::Listening {
                since: since @ None,
            } = &mut self.link
            {
                *since = Some(Instant::now());
            }
            if let Some(Ok(announcement)) = Announcement::from_xpub_message(&msg) {
                self.announced(&announcement, frames);
            }
        }
    }

    fn announced(&mut self, announcement: &Announcement, frames: &mut VecDeque<(u64, Vec<u8>)>) {
        let Ok(endpoint) = announcement.ack_endpoint_for(&self.options.endpoint) else {
            // Not reachable from here (e.g. `tcp://*:PORT` heard over ipc): stay as we are.
            return;
        };
        let incarnation = announcement.incarnation;
        if let Link::Acked(link) = &mut self.link {
            link.announced(&self.ctx, &self.options, endpoint, incarnation);
            return;
        }
        // The first record the link carries: v1 frames libzmq has not taken yet move into the
        // window; everything before them went out unacknowledged.
        let next_seq = match frames.front() {
            Some((seq, _)) => *seq,
            None => {
                let st = lock(&self.shared.state);
                st.queue.front().map_or(st.next_seq, |(seq, _)| *seq)
            }
        };
        let Ok(mut link) =
            AckLink::connect(&self.ctx, &self.options, endpoint, incarnation, next_seq)
        else {
            return;
        };
        for (seq, frame) in frames.drain(..) {
            let cost = frame.len();
            link.hold(Held {
                seq,
                kept: Kept::Frame(frame),
                cost,
            });
        }
        self.link = Link::Acked(link);
    }

    /// Encodes a shortened record again; true (and counted as truncated) if it now fits.
    fn reencode_fits(&self, record: &RecordView<'_>, frame: &mut Vec<u8>) -> bool {
        frame.clear();
        record.write_json(frame);
        let fits = frame.len() <= self.options.max_frame_bytes;
        if fits {
            self.shared
                .counters
                .truncated
                .fetch_add(1, Ordering::Relaxed);
        }
        fits
    }

    /// Writes the frame of a record the log call did not encode into `frame` (empty); false if it
    /// was dropped as oversized.
    fn encode(&self, seq: u64, mut record: RecordView<'static>, frame: &mut Vec<u8>) -> bool {
        record.seq = Some(seq);
        if record.sid.is_none() {
            record.sid = Some(Cow::Owned(self.shared.sid.clone()));
        }
        if record.host.is_none() {
            record.host = Some(Cow::Owned(self.shared.host.clone()));
        }
        if record.lang.is_none() {
            record.lang = Some(Cow::Borrowed(self.options.lang.as_str()));
        }
        // Derived here rather than in the log call, to keep the caller's cost down.
        record.fill_sender_fields(self.shared.pid);
        record.write_json(frame);
        if frame.len() <= self.options.max_frame_bytes {
            return true;
        }
        // Too large: cut the longest text fields until it fits, and say so in the record.
        let original = frame.len();
        record.push_extra("lf_truncated_from_bytes", serde_json::Value::from(original));
        for _ in 0..4 {
            let excess = frame.len().saturating_sub(self.options.max_frame_bytes) + 256;
            let len_of = |s: &Option<Cow<'_, str>>| s.as_ref().map_or(0, |s| s.len());
            let lens = [
                record.msg.len(),
                len_of(&record.exc_text),
                len_of(&record.stack_info),
            ];
            let longest = (0..3).max_by_key(|&i| lens[i]).unwrap_or(0);
            let field = match longest {
                1 => record.exc_text.as_mut(),
                2 => record.stack_info.as_mut(),
                _ => Some(&mut record.msg),
            };
            if let Some(s) = field {
                let s = s.to_mut();
                // Cutting n raw bytes shortens the JSON by at least n (escaping only lengthens).
                let mut cut = s.len().saturating_sub(excess);
                while cut > 0 && !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push_str("…[truncated]");
            }
            if self.reencode_fits(&record, frame) {
                return true;
            }
        }
        // Still too large (huge user fields): drop them.
        record.extra.retain(|(k, _)| k == "lf_truncated_from_bytes");
        if self.reencode_fits(&record, frame) {
            return true;
        }
        self.shared
            .counters
            .dropped_oversized
            .fetch_add(1, Ordering::Relaxed);
        false
    }
}

/// Hands one frame to libzmq without waiting.
fn send(socket: &zmq::Socket, frame: &[u8]) -> SendResult {
    match socket.send(frame, zmq::DONTWAIT) {
        Ok(()) => SendResult::Sent,
        Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => SendResult::Again,
        // Terminated or invalid socket: nothing more can be sent.
        Err(_) => SendResult::Dead,
    }
}
