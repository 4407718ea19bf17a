//! The sender: a bounded queue in front of one ZeroMQ socket driven by the sender's own I/O thread.
//!
//! One job per file: [`options`] (what a sender is built from, and the defaults table), `queue` (the
//! bounded queue between log calls and the I/O thread), `io` (the I/O thread: encoding, truncation,
//! writing to libzmq); socket setup is [`crate::transport`], fork detection `crate::fork`. This file
//! is the handle: [`Sender`], its log calls and what they return. Defaults and why: [`options`].
//!
//! ZMTP heartbeats are off by default, TCP keepalive is on: a collector that pushes back (its receive
//! buffer full while it writes) does not read the heartbeat pings either, so after `heartbeat_timeout`
//! libzmq drops the connection and everything in flight in it. Measured here: 2 488 of 30 000 records
//! lost with a 5 s timeout and a reader that pushed back for about 8 s; none with keepalive only
//! (`core/tests/sender.rs`, `heartbeats_off_by_default_survive_a_collector_that_pushes_back`).
//! Keepalive probes are answered by the peer's kernel, so only a really dead peer is given up on.
//!
//! `close` gives libzmq what is left of its timeout as linger. If that runs out while libzmq still
//! holds records (a collector far behind), they are lost: `close` then returns
//! [`FlushStatus::TimedOut`] and [`Stats::linger_expired`] is set, so the loss is never silent.
//!
//! With [`OverflowPolicy::Block`], a call that timed out marks the sender *stalled*: until the I/O thread
//! makes progress again, further calls drop at once instead of each waiting `block_timeout`, so an
//! application whose collector is gone slows down once, not on every call.

mod acked;
mod io;
pub mod options;
mod queue;

pub use options::{OverflowPolicy, SenderError, SenderOptions, SocketMode};
pub use queue::MustWait;

use crate::fork;
use crate::record::{Record, RecordView};
use crate::transport::{self, Scheme};
use queue::Inner;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::time::{Duration, Instant};

/// What happened to one log call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// In the queue; the I/O thread will send it.
    Queued,
    /// Below `min_level`; not sent.
    Filtered,
    /// The queue was full (after the block timeout, or at once); the record was dropped and counted.
    QueueFull,
    /// The sender is closed; the record was dropped and counted.
    Closed,
}

/// Whether [`Sender::flush`] or [`Sender::close`] finished in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushStatus {
    /// Everything queued was handed to libzmq (and, for `close`, libzmq finished writing or its linger ran out).
    Flushed,
    /// The timeout passed. For `close`, `pending` records were still in the queue (dropped, counted in
    /// `dropped_at_close`); `pending == 0` means libzmq's linger ran out instead, with an unknowable
    /// number of records still inside libzmq (see [`Stats::linger_expired`]).
    TimedOut {
        /// Records not yet handed to libzmq.
        pending: u64,
    },
}

/// Counters, readable at any time. All counts are since the sender (in this process) was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Records accepted into the queue.
    pub enqueued: u64,
    /// Records handed to libzmq.
    pub sent: u64,
    /// Records dropped because the queue was full (new ones, or old ones with `DropOldest`).
    pub dropped_queue_full: u64,
    /// Records dropped because the sender was closed.
    pub dropped_closed: u64,
    /// Records still unsent when `close` timed out.
    pub dropped_at_close: u64,
    /// Records too large even after truncation.
    pub dropped_oversized: u64,
    /// Records shortened to fit `max_frame_bytes`.
    pub truncated: u64,
    /// Records below `min_level`.
    pub filtered: u64,
    /// Records waiting in the queue or in the I/O thread now.
    pub depth: u64,
    /// `close` ran out of time while libzmq still held records (how many is not knowable): they are
    /// probably lost.
    pub linger_expired: bool,
    /// XPUB mode: whether a subscriber (the collector) has been seen. Always false for PUSH.
    pub connected: bool,
    /// Whether the sender speaks the acknowledged protocol (wire v2) now: it heard a collector's
    /// announcement. False against a v1 collector or listener, and in PUSH mode.
    pub acknowledging: bool,
    /// Records the collector acknowledged (every sink taking them wrote them).
    pub acknowledged: u64,
    /// Records sent and kept until an acknowledgement covers them, now.
    pub unacknowledged: u64,
    /// Records sent again after a resend request, a collector restart or `ack_timeout`.
    pub resent: u64,
}

impl Stats {
    /// Every record dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            + self.dropped_closed
            + self.dropped_at_close
            + self.dropped_oversized
    }
}

/// A thread-safe, fork-aware sender. Cheap to share (`&Sender` or `Arc<Sender>`) between threads.
pub struct Sender {
    options: SenderOptions,
    /// Points to the `Inner` of the current fork generation. Replaced (and the old one leaked) only in a
    /// child process; in the process that built it, it is freed on drop.
    current: AtomicPtr<Inner>,
    closed: AtomicBool,
}

// SAFETY: `current` points to an `Inner`, which is Send + Sync; see `Sender::inner` for lifetime rules.
unsafe impl Send for Sender {}
unsafe impl Sync for Sender {}

impl Sender {
    /// Builds the socket, connects it and starts the I/O thread. Fails on invalid options or an endpoint
    /// libzmq rejects; a collector that is not running yet is not an error (records wait for it).
    pub fn new(options: SenderOptions) -> Result<Sender, SenderError> {
        validate(&options)?;
        fork::install_hook();
        let inner = Inner::start(&options, fork::generation())?;
        Ok(Sender {
            options,
            current: AtomicPtr::new(Box::into_raw(Box::new(inner))),
            closed: AtomicBool::new(false),
        })
    }

    /// The options this sender was built with.
    pub fn options(&self) -> &SenderOptions {
        &self.options
    }

    /// The `Inner` for this process, rebuilt after a fork.
    fn inner(&self) -> Option<&Inner> {
        let ptr = self.current.load(Ordering::Acquire);
        // SAFETY: `current` always holds a pointer from `Box::into_raw`. In the process that made it, it
        // is freed only in `Drop` (which has `&mut self`); pointers replaced after a fork are leaked.
        let inner = unsafe { &*ptr };
        let generation = fork::generation();
        if inner.generation == generation {
            return Some(inner);
        }
        // We are in a forked child: never touch the inherited libzmq objects, build fresh ones.
        let fresh = Inner::start(&self.options, generation).ok()?;
        let fresh = Box::into_raw(Box::new(fresh));
        match self
            .current
            .compare_exchange(ptr, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            // The inherited Inner is leaked on purpose.
            Ok(_) => Some(unsafe { &*fresh }),
            Err(winner) => {
                // Another thread of this child was faster; shut ours down properly.
                // SAFETY: `fresh` was never published.
                let ours = unsafe { Box::from_raw(fresh) };
                ours.close(Duration::ZERO);
                let winner = unsafe { &*winner };
                (winner.generation == generation).then_some(winner)
            }
        }
    }

    /// Offers a record. Never panics; blocks at most `block_timeout` (only with [`OverflowPolicy::Block`]).
    pub fn log(&self, record: Record) -> Outcome {
        let levelno = record.levelno;
        // Filtered or closed: answer before boxing and costing the record (the C ABI's cheap path).
        if let Err(outcome) = self.admit(levelno) {
            return outcome;
        }
        self.log_waiting(MustWait::owned(record.into_view(), levelno))
    }

    /// Offers a borrowed record, encoding it in this thread (see [`RecordView`]). Same outcomes,
    /// counters and wire bytes as [`Sender::log`] with the equal [`Record`].
    pub fn log_ref(&self, record: RecordView<'_>) -> Outcome {
        match self.try_log_ref(record) {
            Ok(outcome) => outcome,
            Err(wait) => self.log_waiting(wait),
        }
    }

    /// [`Sender::log_ref`] that never waits: when the record would have to wait for room
    /// ([`OverflowPolicy::Block`] with a full queue) it is returned, encoded, for
    /// [`Sender::log_waiting`]. Lets a caller release its own locks (Python's GIL) only for the wait.
    pub fn try_log_ref(&self, record: RecordView<'_>) -> Result<Outcome, MustWait> {
        let inner = match self.admit(record.levelno) {
            Ok(inner) => inner,
            Err(outcome) => return Ok(outcome),
        };
        inner.offer(&self.options, inner.prepare(record), false)
    }

    /// Offers a record [`Sender::try_log_ref`] returned; waits for room at most `block_timeout`.
    pub fn log_waiting(&self, wait: MustWait) -> Outcome {
        match self.admit(wait.levelno) {
            // Allowed to wait, `offer` never hands the record back.
            Ok(inner) => inner
                .offer(&self.options, wait, true)
                .unwrap_or(Outcome::QueueFull),
            Err(outcome) => outcome,
        }
    }

    /// The level filter and the closed check of a log call, counting what they turn away: the
    /// `Inner` to queue into if the record passes, else the call's answer.
    fn admit(&self, levelno: i64) -> Result<&Inner, Outcome> {
        if levelno < self.options.min_level {
            if let Some(inner) = self.inner() {
                inner.count_filtered();
            }
            return Err(Outcome::Filtered);
        }
        let inner = self.inner().ok_or(Outcome::Closed)?;
        if self.closed.load(Ordering::Acquire) {
            inner.count_closed();
            return Err(Outcome::Closed);
        }
        Ok(inner)
    }

    /// Waits until every record queued so far has been handed to libzmq, or `timeout` passes.
    pub fn flush(&self, timeout: Duration) -> FlushStatus {
        match self.inner() {
            Some(inner) => inner.flush(timeout),
            None => FlushStatus::Flushed,
        }
    }

    /// Flushes (at most `timeout`), then closes the socket with a linger bounded by what is left of
    /// `timeout`. Later log calls return [`Outcome::Closed`]. Calling it again is harmless.
    pub fn close(&self, timeout: Duration) -> FlushStatus {
        self.closed.store(true, Ordering::Release);
        match self.inner() {
            Some(inner) => inner.close(timeout),
            None => FlushStatus::Flushed,
        }
    }

    /// Like [`Sender::flush`], but patient with a slow collector: waits as long as records keep
    /// moving into libzmq, giving up after `idle` without progress (a missing collector) or after
    /// `cap` in any case. Meant for process exit, where a fixed timeout loses the backlog of a
    /// collector that is merely behind.
    pub fn flush_idle(&self, idle: Duration, cap: Duration) -> FlushStatus {
        let started = Instant::now();
        loop {
            let before = self.stats().sent;
            let left = cap.saturating_sub(started.elapsed());
            let status = self.flush(idle.min(left));
            if status == FlushStatus::Flushed
                || self.stats().sent == before
                || started.elapsed() >= cap
            {
                return status;
            }
        }
    }

    /// [`Sender::flush_idle`], then [`Sender::close`] with a fresh `idle` window (within `cap`) as
    /// libzmq's linger, so what libzmq holds gets its own time to reach the collector.
    pub fn close_idle(&self, idle: Duration, cap: Duration) -> FlushStatus {
        let started = Instant::now();
        let status = self.flush_idle(idle, cap);
        let linger = if status == FlushStatus::Flushed {
            idle.min(cap.saturating_sub(started.elapsed()))
                .max(idle.min(Duration::from_secs(1)))
        } else {
            Duration::ZERO
        };
        let closed = self.close(linger);
        if status == FlushStatus::Flushed {
            closed
        } else {
            status
        }
    }

    /// Whether [`Sender::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        match self.inner() {
            Some(inner) => inner.stats(),
            None => Stats::default(),
        }
    }

    /// This process's sender id (changes in a forked child).
    pub fn sid(&self) -> String {
        self.inner().map(Inner::sid).unwrap_or_default()
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let ptr = *self.current.get_mut();
        // SAFETY: see `Sender::inner`.
        let inner = unsafe { &*ptr };
        if inner.generation != fork::generation() {
            return; // inherited from a parent: leak it, never touch its libzmq objects
        }
        self.closed.store(true, Ordering::Release);
        inner.close(self.options.close_timeout);
        // SAFETY: we own the pointer and nobody else can use it any more (`&mut self`).
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Checks values that cannot work, before anything is built.
fn validate(options: &SenderOptions) -> Result<(), SenderError> {
    let bad = |option, reason: &str| {
        Err(SenderError::InvalidOption {
            option,
            reason: reason.to_string(),
        })
    };
    if options.queue_capacity == 0 {
        return bad("queue_capacity", "must be at least 1");
    }
    if options.queue_max_bytes == 0 {
        return bad("queue_max_bytes", "must be at least 1");
    }
    if options.max_frame_bytes < 1024 {
        return bad("max_frame_bytes", "must be at least 1024");
    }
    if options.sndhwm < 0 {
        return bad("sndhwm", "must not be negative");
    }
    if let Err(reason) = transport::scheme_of(&options.endpoint, Scheme::ALL) {
        return bad("endpoint", &reason);
    }
    options.curve_keys().map(drop)
}
