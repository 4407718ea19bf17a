//! The running collector: one receiving thread, one writing thread, an optional metrics thread.
//!
//! ```text
//!  senders ──► SUB/PULL sockets ──► receiving thread ──► bounded queue ──► writing thread ──► sinks
//!                 (poll, read messages)          (undecoded messages)      (decode, count bad frames,
//!                                                                           gaps, route, format,
//!                                                                           write, flush, tail PUB)
//! ```
//!
//! The receiving thread owns every ZeroMQ receiving socket and keeps calling into them (a `SUB`
//! learns of new connections only when its owner does), reads in small batches taken in turn from
//! each socket so one flooding socket cannot starve the others, and hands the messages, undecoded, to
//! the writing thread through a queue bounded in messages and bytes. The writer decodes each message
//! into a [`RecordView`] borrowing from it, so no record text is copied on the way to the file. When
//! the queue is full the receiving thread waits; libzmq then buffers up to `rcvhwm` and lossless
//! senders hold their records, so a slow disk or a rotation slows senders down instead of losing
//! records.
//!
//! [`start`] binds every socket, the metrics listener and opens every sink before any thread runs, so
//! each configuration or environment problem is returned as an error (naming the key, endpoint or
//! path) and `tcp://127.0.0.1:0` is resolved to the real port ([`RunningCollector::endpoints`]).
//! The library never installs signal handlers: whoever embeds it triggers a [`Shutdown`].
//!
//! ```no_run
//! use logfunnel_collector::{config::Config, server};
//! use std::time::Duration;
//! let mut config = Config::default();
//! config.bind = vec!["tcp://127.0.0.1:0".into()];
//! let collector = server::start(config).unwrap();
//! println!("listening on {:?}", collector.endpoints());
//! // ... senders connect and log ...
//! let summary = collector.stop(Duration::from_secs(10)).unwrap();
//! println!("{}", summary.stats.line());
//! ```

use crate::config::{Config, ConfigError, FsyncPolicy, SinkSpec};
use crate::gaps::SeqOutcome;
use crate::metrics::{self, Metrics, Stats};
use crate::sink::open::{check_paths, open_sinks, OpenedSinks};
use crate::sink::SinkError;
use crate::warn::{Warner, PREFIX};
use logfunnel_core::{decode_view_into, DecodeLimits, RecordView};
use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages read from one socket before the next socket gets its turn.
const PER_SOCKET_BATCH: usize = 256;
/// Most records handed to the writer in one batch.
const MAX_BATCH: usize = 2048;
/// How long the receiving thread waits in `poll` before checking for shutdown.
const POLL_MS: i64 = 50;
/// During the drain, the sockets are read until they have been quiet this long.
const DRAIN_QUIET: Duration = Duration::from_millis(200);
/// Frames of one message kept for the decoder; the rest are read and discarded (no record has more
/// than two, so the decoder refuses such a message anyway).
const MAX_FRAMES: usize = 4;

/// Why the collector could not start or stopped with an error. Each message names the key, endpoint
/// or path concerned.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A receiving or publishing socket could not bind.
    #[error("{key}: cannot bind {endpoint}: {source}")]
    Bind {
        /// Config key (`bind[0]`, `pull[1]`, `tail.publish`).
        key: String,
        /// The endpoint.
        endpoint: String,
        /// The libzmq error (`Address already in use`, ...).
        #[source]
        source: zmq::Error,
    },
    /// The metrics listener could not bind.
    #[error("metrics.listen: cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A sink could not be opened (or its directory created).
    #[error("sink[{index}].path: {source}")]
    Sink {
        /// Position of the sink in the config.
        index: usize,
        /// The sink's error, naming the path.
        #[source]
        source: SinkError,
    },
    /// A sink path cannot be written (found by [`check`], which creates nothing).
    #[error("sink[{index}].path: {path} is not writable: {reason}")]
    NotWritable {
        /// Position of the sink in the config.
        index: usize,
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A libzmq call other than bind failed.
    #[error("zeromq: {what}: {source}")]
    Zmq {
        /// What was being done.
        what: &'static str,
        /// The libzmq error.
        #[source]
        source: zmq::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        /// Which thread.
        name: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A collector thread panicked (a bug); what it had was lost.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    /// [`RunningCollector::stop`] gave up waiting; the threads go on draining in the background.
    #[error("the collector did not finish draining within {0:?}")]
    StopTimedOut(Duration),
}

impl CollectorError {
    /// Whether the error is about the configuration or the environment it names (the CLI exits with
    /// 2 for these), as opposed to a failure while running.
    pub fn is_setup_error(&self) -> bool {
        matches!(
            self,
            CollectorError::Config(_)
                | CollectorError::Bind { .. }
                | CollectorError::Listen { .. }
                | CollectorError::Sink { .. }
                | CollectorError::NotWritable { .. }
        )
    }
}

/// One shutdown signal fanned out to every thread of a collector. Clone it freely; triggering any
/// clone stops the collector (it then drains what it has received).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Shutdown {
    /// A handle not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Asks the collector to stop receiving, write out what it has and finish. Idempotent.
    pub fn trigger(&self) {
        let (lock, cv) = &*self.inner;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    /// Whether [`Shutdown::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until triggered.
    pub fn wait(&self) {
        let (lock, cv) = &*self.inner;
        let mut t = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !*t {
            t = cv.wait(t).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Blocks until triggered or `timeout` passed; returns whether it was triggered.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.inner;
        let t = lock.lock().unwrap_or_else(|p| p.into_inner());
        let (t, _) = cv
            .wait_timeout_while(t, timeout, |t| !*t)
            .unwrap_or_else(|p| p.into_inner());
        *t
    }
}

/// Asks a running collector to reopen its file sinks (what SIGHUP does). Cloneable.
#[derive(Debug, Clone, Default)]
pub struct ReopenHandle(Arc<AtomicBool>);

impl ReopenHandle {
    /// Requests a reopen; the writing thread does it within `flush_interval_ms`.
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// What a finished collector reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// The final counters.
    pub stats: Stats,
    /// False when the drain stopped at `drain_timeout_ms` while messages were still arriving.
    pub drain_complete: bool,
}

/// A collector running on its own threads, from [`start`].
pub struct RunningCollector {
    bind_endpoints: Vec<String>,
    pull_endpoints: Vec<String>,
    tail_endpoint: Option<String>,
    metrics_addr: Option<SocketAddr>,
    shutdown: Shutdown,
    reopen: ReopenHandle,
    metrics: Arc<Metrics>,
    metrics_stop: Arc<AtomicBool>,
    receiver: Option<JoinHandle<Result<bool, CollectorError>>>,
    writer: Option<JoinHandle<()>>,
    metrics_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningCollector")
            .field("bind_endpoints", &self.bind_endpoints)
            .field("pull_endpoints", &self.pull_endpoints)
            .field("tail_endpoint", &self.tail_endpoint)
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
}

/// Validates `config`, binds every socket, opens every sink and starts the threads. Blocks only for
/// that setup; the collector then runs until [`RunningCollector::stop`] (or its shutdown handle).
pub fn start(config: Config) -> Result<RunningCollector, CollectorError> {
    start_with(config, Shutdown::new())
}

/// [`start`] with a shutdown handle made by the caller (for example one a signal handler triggers).
pub fn start_with(config: Config, shutdown: Shutdown) -> Result<RunningCollector, CollectorError> {
    let resolved = config.resolve_sinks()?;
    let ctx = zmq::Context::new();
    let mut sockets = Vec::new();
    let mut bind_endpoints = Vec::new();
    let mut pull_endpoints = Vec::new();
    for (list, kind, name) in [
        (&config.bind, zmq::SUB, "bind"),
        (&config.pull, zmq::PULL, "pull"),
    ] {
        for (i, ep) in list.iter().enumerate() {
            let key = format!("{name}[{i}]");
            let sock = receiving_socket(&ctx, kind, &config, &key, ep)?;
            let actual = last_endpoint(&sock).unwrap_or_else(|| ep.clone());
            if kind == zmq::SUB {
                bind_endpoints.push(actual.clone());
            } else {
                pull_endpoints.push(actual.clone());
            }
            sockets.push(Receiving {
                socket: sock,
                endpoint: actual,
            });
        }
    }
    let (tail, tail_endpoint) = match &config.tail {
        Some(t) => {
            let bind_err = |source| CollectorError::Bind {
                key: "tail.publish".into(),
                endpoint: t.publish.clone(),
                source,
            };
            let s = ctx.socket(zmq::PUB).map_err(bind_err)?;
            s.set_sndhwm(t.sndhwm).map_err(bind_err)?;
            s.set_linger(0).map_err(bind_err)?;
            s.bind(&t.publish).map_err(bind_err)?;
            let actual = last_endpoint(&s).unwrap_or_else(|| t.publish.clone());
            (Some(s), Some(actual))
        }
        None => (None, None),
    };
    let listener = match &config.metrics {
        Some(m) => Some(
            TcpListener::bind(&m.listen).map_err(|source| CollectorError::Listen {
                addr: m.listen.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let metrics_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
    let sinks = open_sinks(&resolved)?;

    let metrics = Arc::new(Metrics::new(
        resolved
            .iter()
            .map(|r| (r.label.clone(), r.kind.as_str()))
            .collect(),
        config.max_senders,
    ));
    let warner = Arc::new(Warner::new(Duration::from_secs(config.warn_interval_s)));
    let queue = Arc::new(Queue::new(config.queue_max_records, config.queue_max_bytes));
    let reopen = ReopenHandle::default();
    let metrics_stop = Arc::new(AtomicBool::new(false));

    let metrics_thread = match listener {
        Some(l) => Some(
            metrics::serve(l, metrics.clone(), metrics_stop.clone()).map_err(|source| {
                CollectorError::Thread {
                    name: "metrics",
                    source,
                }
            })?,
        ),
        None => None,
    };
    let writer = Writer {
        sinks,
        tail,
        queue: queue.clone(),
        metrics: metrics.clone(),
        warner,
        limits: DecodeLimits {
            max_frame_bytes: config.max_frame_bytes,
            ..DecodeLimits::default()
        },
        endpoints: sockets.iter().map(|s| s.endpoint.clone()).collect(),
        reopen: reopen.clone(),
        flush_interval: Duration::from_millis(config.flush_interval_ms),
        fsync: config.fsync,
        stats_interval: Duration::from_secs(config.stats_interval_s),
    };
    let writer = std::thread::Builder::new()
        .name("logfunnel-writer".into())
        .spawn(move || writer.run())
        .map_err(|source| CollectorError::Thread {
            name: "writer",
            source,
        })?;
    let receiver = Receiver {
        ctx,
        sockets,
        queue: queue.clone(),
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        drain_timeout: Duration::from_millis(config.drain_timeout_ms),
    };
    let receiver = std::thread::Builder::new()
        .name("logfunnel-receiver".into())
        .spawn(move || {
            let result = receiver.run();
            // Whatever happened, the writer finishes what is queued and stops.
            queue.close();
            result
        })
        .map_err(|source| CollectorError::Thread {
            name: "receiver",
            source,
        })?;
    Ok(RunningCollector {
        bind_endpoints,
        pull_endpoints,
        tail_endpoint,
        metrics_addr,
        shutdown,
        reopen,
        metrics,
        metrics_stop,
        receiver: Some(receiver),
        writer: Some(writer),
        metrics_thread,
    })
}

/// Runs a collector until `shutdown` is triggered, then drains and returns the summary. Installs no
/// signal handler.
pub fn run(config: Config, shutdown: Shutdown) -> Result<Summary, CollectorError> {
    let collector = start_with(config, shutdown.clone())?;
    shutdown.wait();
    collector.join()
}

/// What `--check-config` does: validates, then checks that every sink path could be written and
/// every endpoint and the metrics address could be bound (binding and closing at once). Creates no
/// file or directory.
pub fn check(config: &Config) -> Result<Vec<SinkSpec>, CollectorError> {
    let resolved = config.resolve_sinks()?;
    let ctx = zmq::Context::new();
    for (list, kind, name) in [
        (&config.bind, zmq::SUB, "bind"),
        (&config.pull, zmq::PULL, "pull"),
    ] {
        for (i, ep) in list.iter().enumerate() {
            let s = receiving_socket(&ctx, kind, config, &format!("{name}[{i}]"), ep)?;
            drop(s);
        }
    }
    if let Some(t) = &config.tail {
        let bind_err = |source| CollectorError::Bind {
            key: "tail.publish".into(),
            endpoint: t.publish.clone(),
            source,
        };
        let s = ctx.socket(zmq::PUB).map_err(bind_err)?;
        s.set_linger(0).map_err(bind_err)?;
        s.bind(&t.publish).map_err(bind_err)?;
    }
    if let Some(m) = &config.metrics {
        TcpListener::bind(&m.listen).map_err(|source| CollectorError::Listen {
            addr: m.listen.clone(),
            source,
        })?;
    }
    check_paths(&resolved)?;
    Ok(resolved)
}

fn receiving_socket(
    ctx: &zmq::Context,
    kind: zmq::SocketType,
    config: &Config,
    key: &str,
    ep: &str,
) -> Result<zmq::Socket, CollectorError> {
    let bind_err = |source| CollectorError::Bind {
        key: key.to_string(),
        endpoint: ep.to_string(),
        source,
    };
    let s = ctx.socket(kind).map_err(bind_err)?;
    s.set_rcvhwm(config.rcvhwm).map_err(bind_err)?;
    s.set_linger(0).map_err(bind_err)?;
    // Only a backstop: libzmq drops the whole connection on an oversized message, so the decoder's
    // own limit (which drops just that message) must be the one that normally applies.
    let backstop = (config.max_frame_bytes as i64)
        .saturating_mul(2)
        .saturating_add(64 * 1024);
    s.set_maxmsgsize(backstop).map_err(bind_err)?;
    if kind == zmq::SUB {
        s.set_subscribe(b"").map_err(bind_err)?;
    }
    s.bind(ep).map_err(bind_err)?;
    Ok(s)
}

fn last_endpoint(s: &zmq::Socket) -> Option<String> {
    s.get_last_endpoint().ok().and_then(|r| r.ok())
}

impl RunningCollector {
    /// Every receiving endpoint as bound (`tcp://127.0.0.1:41234` for a configured port 0): the `bind`
    /// ones, then the `pull` ones.
    pub fn endpoints(&self) -> Vec<String> {
        let mut v = self.bind_endpoints.clone();
        v.extend(self.pull_endpoints.iter().cloned());
        v
    }

    /// The `SUB` endpoints as bound, in config order.
    pub fn bind_endpoints(&self) -> &[String] {
        &self.bind_endpoints
    }

    /// The `PULL` endpoints as bound, in config order.
    pub fn pull_endpoints(&self) -> &[String] {
        &self.pull_endpoints
    }

    /// The live-view `PUB` endpoint as bound, if `[tail]` is configured.
    pub fn tail_endpoint(&self) -> Option<&str> {
        self.tail_endpoint.as_deref()
    }

    /// The metrics address as bound, if `[metrics]` is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        self.metrics.snapshot()
    }

    /// A handle that stops this collector when triggered.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// A handle that makes this collector reopen its file sinks (SIGHUP).
    pub fn reopen_handle(&self) -> ReopenHandle {
        self.reopen.clone()
    }

    /// Reopens the file sinks (within `flush_interval_ms`).
    pub fn reopen(&self) {
        self.reopen.request();
    }

    /// Whether the collector has stopped (after a shutdown, or after a fatal error).
    pub fn is_finished(&self) -> bool {
        self.receiver.as_ref().is_none_or(|h| h.is_finished())
            && self.writer.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Stops receiving, writes out everything received, flushes, and returns the final counters.
    /// Waits at most `timeout`; on timeout the threads go on draining in the background.
    pub fn stop(mut self, timeout: Duration) -> Result<Summary, CollectorError> {
        self.shutdown.trigger();
        let deadline = Instant::now() + timeout;
        while !self.is_finished() {
            if Instant::now() >= deadline {
                // Detach: the threads finish on their own; dropping `self` must not wait for them.
                self.receiver.take();
                self.writer.take();
                return Err(CollectorError::StopTimedOut(timeout));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.join()
    }

    /// Waits until the collector stops (someone triggers its shutdown handle), then returns the
    /// final counters.
    pub fn wait(self) -> Result<Summary, CollectorError> {
        self.shutdown.wait();
        self.join()
    }

    fn join(mut self) -> Result<Summary, CollectorError> {
        let received = match self.receiver.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(CollectorError::Panicked("receiver")),
            None => Ok(true),
        };
        let written = match self.writer.take().map(|h| h.join()) {
            Some(Err(_)) => Err(CollectorError::Panicked("writer")),
            _ => Ok(()),
        };
        self.stop_metrics();
        let drain_complete = received?;
        written?;
        Ok(Summary {
            stats: self.metrics.snapshot(),
            drain_complete,
        })
    }

    fn stop_metrics(&mut self) {
        self.metrics_stop.store(true, Ordering::Release);
        if let Some(h) = self.metrics_thread.take() {
            let _ = h.join();
        }
    }
}

impl Drop for RunningCollector {
    /// Dropping a running collector stops it and waits for the drain.
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.receiver.take() {
            let _ = h.join();
        }
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
        self.stop_metrics();
    }
}

/// Records from the receiving thread to the writing thread, bounded in records and bytes.
struct Queue {
    state: Mutex<QueueState>,
    not_empty: Condvar,
    not_full: Condvar,
    max_records: usize,
    max_bytes: usize,
}

struct QueueState {
    batches: VecDeque<Batch>,
    records: usize,
    bytes: usize,
    closed: bool,
    writer_gone: bool,
}

/// Messages as received, undecoded: the writer decodes each into a [`RecordView`] that borrows from
/// the message, so no record text is copied between receiving and writing.
#[derive(Default)]
struct Batch {
    /// The frames of every message, one message after the other.
    frames: Vec<zmq::Message>,
    /// Per message: the socket it came from and how many of `frames` it has.
    messages: Vec<(u32, u32)>,
    bytes: usize,
}

impl Batch {
    fn len(&self) -> usize {
        self.messages.len()
    }
}

impl Queue {
    fn new(max_records: usize, max_bytes: usize) -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                batches: VecDeque::new(),
                records: 0,
                bytes: 0,
                closed: false,
                writer_gone: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            max_records,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for room (an empty queue always takes a batch). Returns false if the writer is gone.
    fn push(&self, batch: Batch) -> bool {
        let mut st = self.lock();
        while st.records > 0
            && (st.records + batch.len() > self.max_records
                || st.bytes + batch.bytes > self.max_bytes)
            && !st.writer_gone
        {
            st = self
                .not_full
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if st.writer_gone {
            return false;
        }
        st.records += batch.len();
        st.bytes += batch.bytes;
        st.batches.push_back(batch);
        drop(st);
        self.not_empty.notify_one();
        true
    }

    /// The next batch, `Ok(None)` on timeout, `Err(())` once closed and empty.
    fn pop(&self, timeout: Duration) -> Result<Option<Batch>, ()> {
        let mut st = self.lock();
        if st.batches.is_empty() && !st.closed {
            st = self
                .not_empty
                .wait_timeout_while(st, timeout, |s| s.batches.is_empty() && !s.closed)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        match st.batches.pop_front() {
            Some(b) => {
                st.records -= b.len();
                st.bytes -= b.bytes;
                drop(st);
                self.not_full.notify_one();
                Ok(Some(b))
            }
            None if st.closed => Err(()),
            None => Ok(None),
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
    }

    fn writer_gone(&self) {
        self.lock().writer_gone = true;
        self.not_full.notify_all();
    }
}

struct Receiving {
    socket: zmq::Socket,
    endpoint: String,
}

struct Receiver {
    ctx: zmq::Context,
    sockets: Vec<Receiving>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
    drain_timeout: Duration,
}

/// What one pass over the sockets found.
enum Pass {
    /// Nothing was waiting.
    Idle,
    /// Some messages were read; more may be waiting.
    Read,
}

impl Receiver {
    /// Receives until shutdown, then drains; returns whether the drain finished before its timeout.
    fn run(mut self) -> Result<bool, CollectorError> {
        let mut busy = false;
        while !self.shutdown.is_triggered() {
            if !busy {
                self.poll(POLL_MS)?;
            }
            busy = matches!(self.pass()?, Pass::Read);
        }
        // Drain: read what is already queued in the sockets or still in flight, until the sockets
        // have been quiet for a moment (or the drain timeout passes).
        let deadline = Instant::now() + self.drain_timeout;
        let mut quiet_since = Instant::now();
        let complete = loop {
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            if now.duration_since(quiet_since) >= DRAIN_QUIET.min(self.drain_timeout) {
                break true;
            }
            match self.pass()? {
                Pass::Read => quiet_since = Instant::now(),
                Pass::Idle => self.poll(10)?,
            }
        };
        drop(self.sockets);
        drop(self.ctx);
        Ok(complete)
    }

    fn poll(&self, timeout_ms: i64) -> Result<(), CollectorError> {
        let mut items: Vec<zmq::PollItem<'_>> = self
            .sockets
            .iter()
            .map(|s| s.socket.as_poll_item(zmq::POLLIN))
            .collect();
        match zmq::poll(&mut items, timeout_ms) {
            Ok(_) | Err(zmq::Error::EINTR) => Ok(()),
            Err(source) => Err(CollectorError::Zmq {
                what: "poll",
                source,
            }),
        }
    }

    /// Reads up to [`PER_SOCKET_BATCH`] messages from each socket in turn and queues them for the
    /// writer.
    fn pass(&mut self) -> Result<Pass, CollectorError> {
        let mut batch = Batch::default();
        let mut any = false;
        loop {
            let mut round = false;
            for i in 0..self.sockets.len() {
                for _ in 0..PER_SOCKET_BATCH {
                    if !self.recv_one(i, &mut batch)? {
                        break;
                    }
                    round = true;
                }
            }
            any |= round;
            if !round || batch.len() >= MAX_BATCH {
                break;
            }
        }
        if batch.len() > 0 {
            let n = batch.len() as u64;
            self.metrics.received.fetch_add(n, Ordering::Relaxed);
            self.metrics.queue_depth.fetch_add(n, Ordering::Relaxed);
            if !self.queue.push(batch) {
                return Err(CollectorError::Panicked("writer"));
            }
        }
        Ok(if any { Pass::Read } else { Pass::Idle })
    }

    /// Reads one whole message (all its frames) into `batch` without blocking; false if none was
    /// waiting.
    fn recv_one(&self, i: usize, batch: &mut Batch) -> Result<bool, CollectorError> {
        let socket = &self.sockets[i].socket;
        let mut count = 0usize;
        loop {
            let mut msg = zmq::Message::new();
            match socket.recv(&mut msg, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) if count == 0 => return Ok(false),
                // The rest of a message is always there once its first frame is.
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => continue,
                Err(source) => {
                    return Err(CollectorError::Zmq {
                        what: "recv",
                        source,
                    })
                }
            }
            let more = msg.get_more();
            if count < MAX_FRAMES {
                batch.bytes += msg.len();
                batch.frames.push(msg);
                count += 1;
            } else if count == MAX_FRAMES {
                // Keep the count visible to the decoder: one extra (empty) frame stands for the rest.
                batch.frames.push(zmq::Message::new());
                count += 1;
            }
            if !more {
                batch.messages.push((i as u32, count as u32));
                return Ok(true);
            }
        }
    }
}

/// Counts a sink's error and reports it as a rate-limited warning.
fn sink_error(
    metrics: &Metrics,
    warner: &Warner,
    index: usize,
    label: &str,
    error: &dyn std::fmt::Display,
) {
    metrics.sinks[index].errors.fetch_add(1, Ordering::Relaxed);
    warner.warn(&format!("sink[{index}]"), || {
        format!("sink {label:?}: {error}")
    });
}

/// Buffers the writer keeps across batches.
struct Scratch {
    /// One line per formatter, and whether it holds the current record's line yet.
    lines: Vec<(String, bool)>,
    /// The current record as JSON (tail socket, JSON sinks).
    json: Vec<u8>,
    /// The formatters' `asctime` text.
    asctime: String,
    /// Records written per sink in this batch, added to the metrics once per batch.
    written: Vec<u64>,
}

struct Writer {
    sinks: OpenedSinks,
    tail: Option<zmq::Socket>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    warner: Arc<Warner>,
    limits: DecodeLimits,
    /// Endpoint of each receiving socket, by index, for reports about what came in on it.
    endpoints: Vec<String>,
    reopen: ReopenHandle,
    flush_interval: Duration,
    fsync: FsyncPolicy,
    stats_interval: Duration,
}

impl Writer {
    fn run(mut self) {
        // If this thread panics, the receiver must not wait for room forever.
        struct Gone(Arc<Queue>);
        impl Drop for Gone {
            fn drop(&mut self) {
                self.0.writer_gone();
            }
        }
        let _gone = Gone(self.queue.clone());
        let mut scratch = Scratch {
            lines: vec![(String::new(), false); self.sinks.formatters.len()],
            json: Vec::new(),
            asctime: String::new(),
            written: vec![0; self.metrics.sinks.len()],
        };
        let mut next_flush = Instant::now() + self.flush_interval;
        let mut next_stats = Instant::now() + self.stats_interval;
        let mut dirty = false;
        loop {
            let wait = next_flush.saturating_duration_since(Instant::now());
            match self.queue.pop(wait) {
                Ok(Some(batch)) => {
                    self.metrics
                        .queue_depth
                        .fetch_sub(batch.len() as u64, Ordering::Relaxed);
                    self.write_batch(&batch, &mut scratch);
                    dirty = true;
                }
                Ok(None) => {}
                Err(()) => break,
            }
            let now = Instant::now();
            if now >= next_flush {
                if dirty {
                    self.flush_all(self.fsync == FsyncPolicy::OnFlush);
                    dirty = false;
                }
                self.background_errors();
                next_flush = now + self.flush_interval;
            }
            if self.reopen.take() {
                self.reopen_all();
            }
            if !self.stats_interval.is_zero() && now >= next_stats {
                eprintln!("{PREFIX}: stats: {}", self.metrics.snapshot().line());
                next_stats = now + self.stats_interval;
            }
        }
        self.flush_all(self.fsync == FsyncPolicy::OnFlush);
        self.background_errors();
        if let Some(t) = self.tail.take() {
            drop(t);
        }
    }

    /// Decodes the batch's messages (counting and reporting the malformed ones), then tracks, routes,
    /// formats and writes the records.
    fn write_batch(&mut self, batch: &Batch, scratch: &mut Scratch) {
        let records = self.decode_batch(batch);
        self.observe_gaps(&records);
        let formatters = &self.sinks.formatters;
        let Scratch {
            lines,
            json,
            asctime,
            written,
        } = scratch;
        let mut unrouted = 0;
        for rec in &records {
            json.clear();
            for l in lines.iter_mut() {
                l.1 = false;
            }
            let mut taken = false;
            if let Some(tail) = &self.tail {
                rec.write_json(json);
                match tail.send(&json[..], zmq::DONTWAIT) {
                    Ok(()) => self.metrics.tail_published.fetch_add(1, Ordering::Relaxed),
                    Err(_) => self.metrics.tail_dropped.fetch_add(1, Ordering::Relaxed),
                };
            }
            for s in self.sinks.sinks.iter_mut() {
                if rec.levelno < s.level || !s.route.accepts(&rec.name) {
                    continue;
                }
                taken = true;
                let result = match s.format_slot {
                    Some(slot) => {
                        let (line, done) = &mut lines[slot];
                        if !*done {
                            line.clear();
                            formatters[slot].format_with(rec, line, asctime);
                            *done = true;
                        }
                        s.sink.write(rec.levelno, line)
                    }
                    None => {
                        if json.is_empty() {
                            rec.write_json(json);
                        }
                        // serde_json writes valid UTF-8.
                        let text = std::str::from_utf8(json).unwrap_or_default();
                        s.sink.write(rec.levelno, text)
                    }
                };
                match result {
                    Ok(()) => written[s.index] += 1,
                    Err(e) => sink_error(&self.metrics, &self.warner, s.index, &s.label, &e),
                }
            }
            if !taken {
                unrouted += 1;
            }
        }
        for (index, n) in written.iter_mut().enumerate() {
            if *n > 0 {
                self.metrics.sinks[index]
                    .written
                    .fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
        if unrouted > 0 {
            self.metrics.unrouted.fetch_add(unrouted, Ordering::Relaxed);
        }
        self.metrics
            .processed
            .fetch_add(records.len() as u64, Ordering::Relaxed);
    }

    /// The batch's records, borrowing from its messages; malformed messages are counted by reason
    /// and reported (rate-limited) with the endpoint they came in on.
    fn decode_batch<'b>(&self, batch: &'b Batch) -> Vec<RecordView<'b>> {
        let mut records = Vec::with_capacity(batch.len());
        let mut at = 0;
        for &(socket, count) in &batch.messages {
            let frames = &batch.frames[at..at + count as usize];
            at += count as usize;
            // Decoded straight into its place in `records`.
            records.push(RecordView::default());
            let slot = records.last_mut().expect("just pushed");
            let decoded = match frames {
                [one] => decode_view_into(&[&one[..]], &self.limits, slot),
                [topic, text] => decode_view_into(&[&topic[..], &text[..]], &self.limits, slot),
                more => {
                    let slices: Vec<&[u8]> = more.iter().map(|m| &m[..]).collect();
                    decode_view_into(&slices, &self.limits, slot)
                }
            };
            match decoded {
                Ok(()) => {}
                Err(e) => {
                    records.pop();
                    let reason = e.reason();
                    self.metrics.add_malformed(reason, 1);
                    let endpoint = self
                        .endpoints
                        .get(socket as usize)
                        .map_or("?", String::as_str);
                    self.warner.warn(reason, || {
                        format!("dropped a malformed message received on {endpoint}: {e}")
                    });
                }
            }
        }
        self.metrics
            .accepted
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        records
    }

    /// Feeds every record's `sid`/`seq` to the gap tracker, reporting gaps and duplicates.
    fn observe_gaps(&self, records: &[RecordView<'_>]) {
        let now = Instant::now();
        let mut gaps = self.metrics.gaps.lock().unwrap_or_else(|p| p.into_inner());
        for rec in records {
            match gaps.observe(rec, now) {
                SeqOutcome::Gap {
                    lost,
                    expected,
                    got,
                } => {
                    let who = gaps
                        .sender(rec.sid.as_deref().unwrap_or(""))
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    self.warner.warn("gap", || {
                        format!(
                            "{lost} record(s) lost from sender {who} (seq {expected} to {} missing)",
                            got - 1
                        )
                    });
                }
                SeqOutcome::Duplicate { expected, got } => {
                    let who = gaps
                        .sender(rec.sid.as_deref().unwrap_or(""))
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    self.warner.warn("duplicate", || {
                        format!(
                            "duplicate or out-of-order record from sender {who} (seq {got}, expected {expected})"
                        )
                    });
                }
                _ => {}
            }
        }
    }

    fn flush_all(&mut self, sync: bool) {
        for s in self.sinks.sinks.iter_mut() {
            let result = if sync { s.sink.sync() } else { s.sink.flush() };
            if let Err(e) = result {
                sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
            }
        }
    }

    fn background_errors(&mut self) {
        for s in self.sinks.sinks.iter_mut() {
            for e in s.sink.take_background_errors() {
                sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
            }
        }
    }

    fn reopen_all(&mut self) {
        for s in self.sinks.sinks.iter_mut() {
            if let Err(e) = s.sink.reopen() {
                self.metrics.sinks[s.index]
                    .errors
                    .fetch_add(1, Ordering::Relaxed);
                eprintln!("{PREFIX}: warning: sink {:?}: {e}", s.label);
            }
        }
    }
}
