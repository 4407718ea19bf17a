//! The sender: a bounded queue in front of one ZeroMQ socket driven by the sender's own I/O thread.
//!
//! | option | default | why |
//! |---|---|---|
//! | `mode` | [`SocketMode::Xpub`] (`XPUB` + `ZMQ_XPUB_NODROP`) | any `SUB` can listen; never drops at the HWM |
//! | `queue_capacity` | 65 536 records | bounded memory when the collector is gone |
//! | `queue_max_bytes` | 64 MiB | bounds memory for large records too |
//! | `overflow` | [`OverflowPolicy::Block`] | lossless while the collector keeps up |
//! | `block_timeout` | 1 s | the longest a log call waits for room |
//! | `max_frame_bytes` | 1 MiB | the collector's default limit; larger records are truncated |
//! | `min_level` | 0 | records below are [`Outcome::Filtered`] |
//! | `sndhwm` | 1 000 frames | libzmq's own buffer; kept small so `flush` means little is left in libzmq |
//! | `tcp_keepalive_idle` / `_intvl` / `_cnt` | 10 s / 5 s / 3 | a dead TCP peer is noticed (about 25 s) |
//! | `heartbeat_ivl` / `heartbeat_timeout` | off / 5 s | ZMTP heartbeats, opt-in (see below) |
//! | `reconnect_ivl` / `reconnect_ivl_max` | 100 ms / 2 s | reconnect with backoff |
//! | `close_timeout` | 5 s | the wait when a `Sender` is dropped |
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

use crate::fork;
use crate::record::{Lang, Record, DEFAULT_MAX_FRAME_BYTES};
use crate::view::{self, Encoded, RecordView};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which ZeroMQ socket the sender uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketMode {
    /// `XPUB` with `ZMQ_XPUB_NODROP`, connecting to a collector's (or any listener's) `SUB`. Waits for
    /// the subscription before sending, so nothing is lost to the slow-joiner problem.
    Xpub,
    /// `PUSH`, connecting to a collector's `PULL`.
    Push,
}

impl SocketMode {
    /// Parses `xpub`/`pub` or `push`.
    pub fn parse(s: &str) -> Option<SocketMode> {
        match s.to_ascii_lowercase().as_str() {
            "xpub" | "pub" => Some(SocketMode::Xpub),
            "push" => Some(SocketMode::Push),
            _ => None,
        }
    }
}

/// What a log call does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Wait up to `block_timeout` for room, then drop the new record.
    Block,
    /// Drop the new record at once.
    DropNewest,
    /// Drop the oldest queued record to make room.
    DropOldest,
}

impl OverflowPolicy {
    /// Parses `block`, `drop_newest` or `drop_oldest`.
    pub fn parse(s: &str) -> Option<OverflowPolicy> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "block" => Some(OverflowPolicy::Block),
            "drop_newest" => Some(OverflowPolicy::DropNewest),
            "drop_oldest" => Some(OverflowPolicy::DropOldest),
            _ => None,
        }
    }
}

/// Options for [`Sender::new`]; defaults in the module table.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// `tcp://host:port` or `ipc://path`.
    pub endpoint: String,
    /// Socket type.
    pub mode: SocketMode,
    /// Most records queued.
    pub queue_capacity: usize,
    /// Most bytes queued (approximate: message, traceback and stack sizes plus a fixed overhead).
    pub queue_max_bytes: usize,
    /// What happens when the queue is full.
    pub overflow: OverflowPolicy,
    /// Longest wait for room with [`OverflowPolicy::Block`].
    pub block_timeout: Duration,
    /// Largest frame sent; a larger record is truncated to fit (counted in `truncated`).
    pub max_frame_bytes: usize,
    /// Records with a lower `levelno` are not sent.
    pub min_level: i64,
    /// `ZMQ_SNDHWM`.
    pub sndhwm: i32,
    /// `ZMQ_HEARTBEAT_IVL`; zero (the default) turns ZMTP heartbeats off.
    pub heartbeat_ivl: Duration,
    /// `ZMQ_HEARTBEAT_TIMEOUT`.
    pub heartbeat_timeout: Duration,
    /// `ZMQ_TCP_KEEPALIVE_IDLE`; zero turns TCP keepalive off.
    pub tcp_keepalive_idle: Duration,
    /// `ZMQ_TCP_KEEPALIVE_INTVL`.
    pub tcp_keepalive_intvl: Duration,
    /// `ZMQ_TCP_KEEPALIVE_CNT`.
    pub tcp_keepalive_cnt: i32,
    /// `ZMQ_RECONNECT_IVL`.
    pub reconnect_ivl: Duration,
    /// `ZMQ_RECONNECT_IVL_MAX`.
    pub reconnect_ivl_max: Duration,
    /// Wait used when a sender is dropped without [`Sender::close`].
    pub close_timeout: Duration,
    /// `lang` stamped on records that have none.
    pub lang: Lang,
    /// `host` stamped on records that have none; the machine's host name when `None`.
    pub host: Option<String>,
}

impl SenderOptions {
    /// Defaults for `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        SenderOptions {
            endpoint: endpoint.into(),
            mode: SocketMode::Xpub,
            queue_capacity: 65_536,
            queue_max_bytes: 64 * 1024 * 1024,
            overflow: OverflowPolicy::Block,
            block_timeout: Duration::from_secs(1),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            min_level: 0,
            sndhwm: 1_000,
            heartbeat_ivl: Duration::ZERO,
            heartbeat_timeout: Duration::from_secs(5),
            tcp_keepalive_idle: Duration::from_secs(10),
            tcp_keepalive_intvl: Duration::from_secs(5),
            tcp_keepalive_cnt: 3,
            reconnect_ivl: Duration::from_millis(100),
            reconnect_ivl_max: Duration::from_secs(2),
            close_timeout: Duration::from_secs(5),
            lang: Lang::Rust,
            host: None,
        }
    }
}

/// Why a sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// An option has a value that cannot work.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// libzmq refused the socket, an option or the endpoint.
    #[error("cannot {action} ({endpoint}): {source}")]
    Zmq {
        /// What was being done.
        action: &'static str,
        /// The endpoint.
        endpoint: String,
        /// libzmq's error.
        #[source]
        source: zmq::Error,
    },
    /// The I/O thread could not be started.
    #[error("cannot start the sender thread: {0}")]
    Thread(#[source] std::io::Error),
}

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
    closed: std::sync::atomic::AtomicBool,
}

// SAFETY: `current` points to an `Inner`, which is Send + Sync; see `Sender::inner` for lifetime rules.
unsafe impl Send for Sender {}
unsafe impl Sync for Sender {}

struct Inner {
    generation: u64,
    shared: Arc<Shared>,
    io_thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the I/O thread should look at the queue.
    wake_io: Condvar,
    /// Signalled when room appears in the queue or it drains.
    progress: Condvar,
    counters: Counters,
    sid: String,
    host: String,
    pid: i64,
    /// `host`, `lang` and `sid` as they go into every frame of an [`Item::Encoded`].
    sender_fields: Vec<u8>,
    max_frame_bytes: usize,
}

/// A queued record: owned, or already encoded by the log call ([`Sender::log_ref`]).
enum Item {
    /// Boxed: queue slots stay small for the common, encoded case.
    Record(Box<Record>),
    Encoded(Encoded),
}

/// A record that found the queue full under [`OverflowPolicy::Block`] in [`Sender::try_log_ref`]:
/// pass it to [`Sender::log_waiting`] (which may wait), e.g. after releasing a lock of your own.
pub struct MustWait {
    item: Item,
    levelno: i64,
    cost: usize,
}

#[derive(Default)]
struct Counters {
    enqueued: AtomicU64,
    sent: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_closed: AtomicU64,
    dropped_at_close: AtomicU64,
    dropped_oversized: AtomicU64,
    truncated: AtomicU64,
    filtered: AtomicU64,
    connected: std::sync::atomic::AtomicBool,
    linger_expired: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// Encodes a borrowed record for the queue, or makes it an owned one where the I/O thread has
    /// work to do on it (truncation).
    fn prepare(&self, mut record: RecordView<'_>) -> Item {
        record.fill_sender_fields(self.pid);
        let mut body = Vec::with_capacity(record.encoded_len_hint());
        let split = record.encode_body(&mut body);
        if body.len() + self.sender_fields.len() + view::SEQ_AND_END_MAX > self.max_frame_bytes {
            return Item::Record(Box::new(record.into_record()));
        }
        Item::Encoded(Encoded { body, split })
    }
}

struct State {
    queue: VecDeque<(u64, Item, usize)>,
    queued_bytes: usize,
    next_seq: u64,
    /// Records taken by the I/O thread and not yet handed to libzmq.
    in_flight: u64,
    io_waiting: bool,
    waiters: usize,
    stalled: bool,
    closing: Option<Instant>,
    finished: bool,
}

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
            closed: std::sync::atomic::AtomicBool::new(false),
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
        if self.admit(levelno).is_none() {
            return if levelno < self.options.min_level {
                Outcome::Filtered
            } else {
                Outcome::Closed
            };
        }
        let cost = record_cost(&record);
        self.log_waiting(MustWait {
            item: Item::Record(Box::new(record)),
            levelno,
            cost,
        })
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
        let levelno = record.levelno;
        let Some(inner) = self.admit(levelno) else {
            return Ok(if levelno < self.options.min_level {
                Outcome::Filtered
            } else {
                Outcome::Closed
            });
        };
        let cost = record.cost();
        let item = inner.shared.prepare(record);
        inner
            .enqueue(&self.options, item, cost, false)
            .map_err(|item| MustWait {
                item,
                levelno,
                cost,
            })
    }

    /// Offers a record [`Sender::try_log_ref`] returned; waits for room at most `block_timeout`.
    pub fn log_waiting(&self, wait: MustWait) -> Outcome {
        let Some(inner) = self.admit(wait.levelno) else {
            return if wait.levelno < self.options.min_level {
                Outcome::Filtered
            } else {
                Outcome::Closed
            };
        };
        // Allowed to wait, `enqueue` never hands the item back.
        inner
            .enqueue(&self.options, wait.item, wait.cost, true)
            .unwrap_or(Outcome::QueueFull)
    }

    /// The level filter and the closed check of a log call (counting what they turn away); the
    /// `Inner` to queue into if the record passes.
    fn admit(&self, levelno: i64) -> Option<&Inner> {
        if levelno < self.options.min_level {
            if let Some(inner) = self.inner() {
                inner
                    .shared
                    .counters
                    .filtered
                    .fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        let inner = self.inner()?;
        if self.closed.load(Ordering::Acquire) {
            inner
                .shared
                .counters
                .dropped_closed
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(inner)
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
        self.inner()
            .map(|i| i.shared.sid.clone())
            .unwrap_or_default()
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

fn validate(o: &SenderOptions) -> Result<(), SenderError> {
    let bad = |option, reason: &str| {
        Err(SenderError::InvalidOption {
            option,
            reason: reason.to_string(),
        })
    };
    if o.queue_capacity == 0 {
        return bad("queue_capacity", "must be at least 1");
    }
    if o.queue_max_bytes == 0 {
        return bad("queue_max_bytes", "must be at least 1");
    }
    if o.max_frame_bytes < 1024 {
        return bad("max_frame_bytes", "must be at least 1024");
    }
    if o.sndhwm < 0 {
        return bad("sndhwm", "must not be negative");
    }
    if !(o.endpoint.starts_with("tcp://")
        || o.endpoint.starts_with("ipc://")
        || o.endpoint.starts_with("inproc://"))
    {
        return bad("endpoint", "must start with tcp://, ipc:// or inproc://");
    }
    Ok(())
}

fn ms(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn new_sid(pid: u32) -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(pid);
    h.write_u64(fork::generation());
    format!("{pid:x}-{:016x}", h.finish())
}

/// Approximate queue cost of a record, for `queue_max_bytes`.
pub(crate) fn record_cost(r: &Record) -> usize {
    let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    queue_cost(
        r.msg.len() + r.name.len() + len(&r.exc_text) + len(&r.stack_info),
        r.extra.len(),
    )
}

/// What a record counts against `queue_max_bytes`: its big texts plus a fixed overhead (one
/// formula for owned records and views, so both ways fill the queue alike).
pub(crate) fn queue_cost(text_bytes: usize, extras: usize) -> usize {
    256 + text_bytes + extras * 32
}

impl Inner {
    fn start(options: &SenderOptions, generation: u64) -> Result<Inner, SenderError> {
        let endpoint = options.endpoint.clone();
        let zerr = |action: &'static str| {
            let endpoint = endpoint.clone();
            move |source| SenderError::Zmq {
                action,
                endpoint,
                source,
            }
        };
        let ctx = zmq::Context::new();
        let mut socket = match options.mode {
            SocketMode::Xpub => ctx.socket(zmq::XPUB),
            SocketMode::Push => ctx.socket(zmq::PUSH),
        }
        .map_err(zerr("create the socket"))?;
        socket
            .set_sndhwm(options.sndhwm)
            .map_err(zerr("set ZMQ_SNDHWM"))?;
        if !options.heartbeat_ivl.is_zero() {
            socket
                .set_heartbeat_ivl(ms(options.heartbeat_ivl))
                .map_err(zerr("set ZMQ_HEARTBEAT_IVL"))?;
            socket
                .set_heartbeat_timeout(ms(options.heartbeat_timeout))
                .map_err(zerr("set ZMQ_HEARTBEAT_TIMEOUT"))?;
        }
        if !options.tcp_keepalive_idle.is_zero() {
            let secs = |d: Duration| d.as_secs().clamp(1, i32::MAX as u64) as i32;
            socket
                .set_tcp_keepalive(1)
                .map_err(zerr("set ZMQ_TCP_KEEPALIVE"))?;
            socket
                .set_tcp_keepalive_idle(secs(options.tcp_keepalive_idle))
                .map_err(zerr("set ZMQ_TCP_KEEPALIVE_IDLE"))?;
            socket
                .set_tcp_keepalive_intvl(secs(options.tcp_keepalive_intvl))
                .map_err(zerr("set ZMQ_TCP_KEEPALIVE_INTVL"))?;
            socket
                .set_tcp_keepalive_cnt(options.tcp_keepalive_cnt.max(1))
                .map_err(zerr("set ZMQ_TCP_KEEPALIVE_CNT"))?;
        }
        socket
            .set_reconnect_ivl(ms(options.reconnect_ivl))
            .map_err(zerr("set ZMQ_RECONNECT_IVL"))?;
        socket
            .set_reconnect_ivl_max(ms(options.reconnect_ivl_max))
            .map_err(zerr("set ZMQ_RECONNECT_IVL_MAX"))?;
        if options.mode == SocketMode::Xpub {
            set_xpub_nodrop(&mut socket).map_err(zerr("set ZMQ_XPUB_NODROP"))?;
        }
        socket
            .connect(&options.endpoint)
            .map_err(zerr("connect to the endpoint"))?;

        let pid = std::process::id();
        let sid = new_sid(pid);
        let host = options.host.clone().unwrap_or_else(host_name);
        let sender_fields = view::sender_fields(&host, options.lang.as_str(), &sid);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                next_seq: 0,
                in_flight: 0,
                io_waiting: false,
                waiters: 0,
                stalled: false,
                closing: None,
                finished: false,
            }),
            wake_io: Condvar::new(),
            progress: Condvar::new(),
            counters: Counters::default(),
            sid,
            host,
            pid: pid as i64,
            sender_fields,
            max_frame_bytes: options.max_frame_bytes,
        });
        let io = IoThread {
            shared: Arc::clone(&shared),
            socket,
            ctx,
            mode: options.mode,
            max_frame_bytes: options.max_frame_bytes,
            lang: options.lang,
            subscribed: options.mode == SocketMode::Push,
        };
        let handle = std::thread::Builder::new()
            .name("logfunnel-sender".into())
            .spawn(move || io.run())
            .map_err(SenderError::Thread)?;
        Ok(Inner {
            generation,
            shared,
            io_thread: Mutex::new(Some(handle)),
        })
    }

    /// Queues `item`. Without `may_wait`, an item that would have to wait for room is handed back.
    fn enqueue(
        &self,
        options: &SenderOptions,
        item: Item,
        cost: usize,
        may_wait: bool,
    ) -> Result<Outcome, Item> {
        let shared = &*self.shared;
        let mut st = lock(&shared.state);
        if st.closing.is_some() {
            drop(st);
            shared
                .counters
                .dropped_closed
                .fetch_add(1, Ordering::Relaxed);
            return Ok(Outcome::Closed);
        }
        // Records the I/O thread holds count too, so `queue_capacity` is the real bound.
        let full = |st: &State| {
            st.queue.len() + st.in_flight as usize >= options.queue_capacity
                || (st.queued_bytes + cost > options.queue_max_bytes && !st.queue.is_empty())
        };
        if full(&st) {
            match options.overflow {
                OverflowPolicy::DropNewest => return Ok(self.drop_new(st)),
                OverflowPolicy::DropOldest => {
                    while full(&st) {
                        let Some((_, _, c)) = st.queue.pop_front() else {
                            // Everything is already with the I/O thread: drop the new one instead.
                            return Ok(self.drop_new(st));
                        };
                        st.queued_bytes -= c;
                        shared
                            .counters
                            .dropped_queue_full
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                OverflowPolicy::Block => {
                    if st.stalled {
                        return Ok(self.drop_new(st));
                    }
                    if !may_wait {
                        return Err(item);
                    }
                    let deadline = Instant::now() + options.block_timeout;
                    st.waiters += 1;
                    while full(&st) && st.closing.is_none() {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        st = shared
                            .progress
                            .wait_timeout(st, deadline - now)
                            .map(|(g, _)| g)
                            .unwrap_or_else(|e| e.into_inner().0);
                    }
                    st.waiters -= 1;
                    if st.closing.is_some() {
                        drop(st);
                        shared
                            .counters
                            .dropped_closed
                            .fetch_add(1, Ordering::Relaxed);
                        return Ok(Outcome::Closed);
                    }
                    if full(&st) {
                        st.stalled = true;
                        return Ok(self.drop_new(st));
                    }
                }
            }
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        st.queue.push_back((seq, item, cost));
        st.queued_bytes += cost;
        let wake = st.io_waiting;
        if wake {
            st.io_waiting = false;
        }
        drop(st);
        shared.counters.enqueued.fetch_add(1, Ordering::Relaxed);
        if wake {
            shared.wake_io.notify_one();
        }
        Ok(Outcome::Queued)
    }

    /// Drops the record being offered; its seq number is used up so the collector sees the gap.
    fn drop_new(&self, mut st: MutexGuard<'_, State>) -> Outcome {
        st.next_seq += 1;
        drop(st);
        self.shared
            .counters
            .dropped_queue_full
            .fetch_add(1, Ordering::Relaxed);
        Outcome::QueueFull
    }

    fn flush(&self, timeout: Duration) -> FlushStatus {
        let shared = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = lock(&shared.state);
        st.waiters += 1;
        loop {
            let pending = st.queue.len() as u64 + st.in_flight;
            if pending == 0 || st.finished {
                st.waiters -= 1;
                return if pending == 0 {
                    FlushStatus::Flushed
                } else {
                    FlushStatus::TimedOut { pending }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                st.waiters -= 1;
                return FlushStatus::TimedOut { pending };
            }
            if st.io_waiting {
                st.io_waiting = false;
                shared.wake_io.notify_one();
            }
            st = shared
                .progress
                .wait_timeout(st, (deadline - now).min(Duration::from_millis(50)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn close(&self, timeout: Duration) -> FlushStatus {
        let deadline = Instant::now() + timeout;
        let status = self.flush(timeout);
        {
            let mut st = lock(&self.shared.state);
            if st.closing.is_none() {
                // What is left of the timeout becomes the socket's linger.
                st.closing = Some(deadline);
            }
            st.io_waiting = false;
        }
        self.shared.wake_io.notify_all();
        self.shared.progress.notify_all();
        let handle = lock(&self.io_thread).take();
        let terminated_here = handle.is_some();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        if terminated_here
            && status == FlushStatus::Flushed
            && self.shared.counters.linger_expired.load(Ordering::Relaxed)
        {
            return FlushStatus::TimedOut { pending: 0 };
        }
        status
    }

    fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let depth = {
            let st = lock(&self.shared.state);
            st.queue.len() as u64 + st.in_flight
        };
        Stats {
            enqueued: c.enqueued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped_queue_full: c.dropped_queue_full.load(Ordering::Relaxed),
            dropped_closed: c.dropped_closed.load(Ordering::Relaxed),
            dropped_at_close: c.dropped_at_close.load(Ordering::Relaxed),
            dropped_oversized: c.dropped_oversized.load(Ordering::Relaxed),
            truncated: c.truncated.load(Ordering::Relaxed),
            filtered: c.filtered.load(Ordering::Relaxed),
            depth,
            connected: c.connected.load(Ordering::Relaxed),
            linger_expired: c.linger_expired.load(Ordering::Relaxed),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the queue inconsistent; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn set_xpub_nodrop(socket: &mut zmq::Socket) -> Result<(), zmq::Error> {
    let one: libc::c_int = 1;
    // SAFETY: the raw socket is valid for the life of `socket`; the option value is a c_int.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            zmq_sys::ZMQ_XPUB_NODROP as libc::c_int,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    }
}

/// The sender's I/O thread: owns the context and socket.
struct IoThread {
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

/// How long the I/O thread keeps polling the queue after it ran dry, before it sleeps until woken.
const LINGER: Duration = Duration::from_millis(1);

impl IoThread {
    fn run(mut self) {
        let mut batch: VecDeque<(u64, Item, usize)> = VecDeque::new();
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
                for (seq, item, _) in batch.drain(..) {
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
                    .wait_timeout(st, LINGER)
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
        let linger_ms = ms(linger_deadline.saturating_duration_since(Instant::now()));
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
    fn reencode_fits(&self, record: &Record, frame: &mut Vec<u8>) -> bool {
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

    /// Writes the frame of an owned record into `frame` (empty); false if it was dropped as oversized.
    fn encode(&self, seq: u64, mut record: Record, frame: &mut Vec<u8>) -> bool {
        record.seq = Some(seq);
        if record.sid.is_none() {
            record.sid = Some(self.shared.sid.clone());
        }
        if record.host.is_none() {
            record.host = Some(self.shared.host.clone());
        }
        if record.lang.is_none() {
            record.lang = Some(self.lang.as_str().to_string());
        }
        if record.process.is_none() {
            record.process = Some(self.shared.pid);
        }
        // Derived here rather than in the log call, to keep the caller's cost down.
        if let (None, Some(path)) = (&record.filename, &record.pathname) {
            let (filename, module) = view::file_and_module(path);
            if record.module.is_none() {
                record.module = Some(module.to_string());
            }
            record.filename = Some(filename.to_string());
        }
        record.write_json(frame);
        if frame.len() <= self.max_frame_bytes {
            return true;
        }
        // Too large: cut the longest text fields until it fits, and say so in the record.
        let original = frame.len();
        record.push_extra("lf_truncated_from_bytes", serde_json::Value::from(original));
        for _ in 0..4 {
            let excess = frame.len().saturating_sub(self.max_frame_bytes) + 256;
            let len_of = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len());
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
