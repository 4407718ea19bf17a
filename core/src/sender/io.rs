//! The sender's I/O thread: takes the queue in batches, encodes what the log calls did not
//! (adding `host`, `lang`, `sid`, `seq`, and truncating what exceeds `max_frame_bytes`), hands frames
//! to libzmq without blocking, and at close gives libzmq what is left of the timeout as linger.

use super::queue::{lock, Entry, Item, Shared};
use super::{SenderOptions, SocketMode};
use crate::record::RecordView;
use crate::schema::Lang;
use crate::transport;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sender's I/O thread: owns the context and socket.
pub(super) struct IoThread {
    shared: Arc<Shared>,
    socket: zmq::Socket,
    ctx: zmq::Context,
    mode: SocketMode,
    max_frame_bytes: usize,
    lang: Lang,
    subscribed: bool,
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

impl IoThread {
    pub(super) fn new(
        shared: Arc<Shared>,
        socket: zmq::Socket,
        ctx: zmq::Context,
        options: &SenderOptions,
    ) -> IoThread {
        IoThread {
            shared,
            socket,
            ctx,
            mode: options.mode,
            max_frame_bytes: options.max_frame_bytes,
            lang: options.lang,
            subscribed: options.mode == SocketMode::Push,
        }
    }

    pub(super) fn run(mut self) {
        let mut batch: VecDeque<(u64, Entry)> = VecDeque::new();
        // The frame being built; reused while frames go straight out.
        let mut scratch: Vec<u8> = Vec::new();
        let mut frames: VecDeque<Vec<u8>> = VecDeque::new();
        let mut lingered = false;
        let linger_deadline = loop {
            self.read_subscriptions();
            // Hand encoded frames to libzmq.
            let mut progressed = false;
            if self.subscribed {
                while let Some(frame) = frames.front() {
                    match self.send(frame) {
                        SendResult::Sent => {
                            frames.pop_front();
                            progressed = true;
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
            let mut st = lock(&self.shared.state);
            st.in_flight = frames.len() as u64;
            if progressed {
                st.stalled = false;
                if st.waiters > 0 {
                    self.shared.progress.notify_all();
                }
            }
            // Records stay in the queue (where `DropOldest` can still reach them) until they can be sent.
            if self.subscribed && frames.is_empty() && !st.queue.is_empty() {
                lingered = false;
                // Take the whole queue in O(1) so producers wait on the lock as little as possible.
                std::mem::swap(&mut st.queue, &mut batch);
                let n = batch.len();
                st.queued_bytes = 0;
                st.in_flight = n as u64;
                st.stalled = false;
                let notify = st.waiters > 0;
                drop(st);
                if notify {
                    self.shared.progress.notify_all();
                }
                // Encode and send one by one, so a frame that goes out at once needs no buffer of its
                // own; what libzmq does not take now waits in `frames`, in order.
                let mut sent = 0;
                let mut dead = false;
                for (seq, Entry { item, .. }) in batch.drain(..) {
                    scratch.clear();
                    let ok = match item {
                        Item::Record(record) => self.encode(seq, *record, &mut scratch),
                        Item::Encoded(e) => {
                            e.write_frame(&self.shared.sender_fields, seq, &mut scratch);
                            true
                        }
                    };
                    if !ok || dead {
                        continue;
                    }
                    if frames.is_empty() {
                        match self.send(&scratch) {
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
                    frames.push_back(std::mem::take(&mut scratch));
                }
                if sent > 0 {
                    self.shared.counters.sent.fetch_add(sent, Ordering::Relaxed);
                }
                let mut st = lock(&self.shared.state);
                st.in_flight = frames.len() as u64;
                if sent > 0 {
                    st.stalled = false;
                    if st.waiters > 0 {
                        self.shared.progress.notify_all();
                    }
                }
                continue;
            }
            let idle = frames.is_empty() && st.queue.is_empty();
            if idle && st.waiters > 0 {
                self.shared.progress.notify_all();
            }
            if let Some(deadline) = st.closing {
                if idle || Instant::now() >= deadline {
                    let left = st.queue.len() as u64 + frames.len() as u64;
                    st.queue.clear();
                    st.queued_bytes = 0;
                    st.in_flight = 0;
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
            } else {
                // Waiting for a subscriber or for room in libzmq's pipe.
                drop(st);
                let wait = if self.subscribed { 1 } else { 20 };
                let _ = self.socket.poll(zmq::POLLIN, wait);
            }
        };
        // Give libzmq what is left of the close timeout to write out its buffers, then terminate.
        let linger_ms = transport::ms(linger_deadline.saturating_duration_since(Instant::now()));
        let _ = self.socket.set_linger(linger_ms);
        let terminating = Instant::now();
        drop(self.socket);
        drop(self.ctx);
        // Terminating blocks until libzmq has written everything or the linger ran out; the latter
        // (with something sent at all) means libzmq may have discarded records. Compared with the
        // whole milliseconds libzmq was given, less a millisecond for its timer's rounding, so a
        // linger that ran out is never taken for a finished write (the reverse only over-reports).
        let sent_any = self.shared.counters.sent.load(Ordering::Relaxed) > 0;
        let given = Duration::from_millis(linger_ms.max(0) as u64);
        if sent_any && terminating.elapsed() + Duration::from_millis(1) >= given {
            self.shared
                .counters
                .linger_expired
                .store(true, Ordering::Relaxed);
        }
    }

    /// Hands one frame to libzmq without waiting.
    fn send(&self, frame: &[u8]) -> SendResult {
        match self.socket.send(frame, zmq::DONTWAIT) {
            Ok(()) => SendResult::Sent,
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => SendResult::Again,
            // Terminated or invalid socket: nothing more can be sent.
            Err(_) => SendResult::Dead,
        }
    }

    /// XPUB: consume subscription messages; the first one means a subscriber is there.
    fn read_subscriptions(&mut self) {
        if self.mode != SocketMode::Xpub {
            return;
        }
        while let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
            if msg.first() == Some(&1) {
                self.subscribed = true;
                self.shared
                    .counters
                    .connected
                    .store(true, Ordering::Relaxed);
            }
        }
    }

    /// Encodes a shortened record again; true (and counted as truncated) if it now fits.
    fn reencode_fits(&self, record: &RecordView<'_>, frame: &mut Vec<u8>) -> bool {
        frame.clear();
        record.write_json(frame);
        let fits = frame.len() <= self.max_frame_bytes;
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
            record.lang = Some(Cow::Borrowed(self.lang.as_str()));
        }
        // Derived here rather than in the log call, to keep the caller's cost down.
        record.fill_sender_fields(self.shared.pid);
        record.write_json(frame);
        if frame.len() <= self.max_frame_bytes {
            return true;
        }
        // Too large: cut the longest text fields until it fits, and say so in the record.
        let original = frame.len();
        record.push_extra("lf_truncated_from_bytes", serde_json::Value::from(original));
        for _ in 0..4 {
            let excess = frame.len().saturating_sub(self.max_frame_bytes) + 256;
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
