//! The running collector: one receiving thread, one writing thread, an optional metrics thread.
//!
//! ```text
//!  senders ──► SUB/PULL sockets ──► receiving thread ──► bounded queue ──► writing thread ──► sinks
//!                   receiver.rs      receiver.rs          queue.rs          writer.rs        sinks.rs
//!                                    poll, read whole     undecoded         decode, gaps,    (opens
//!                                    messages in turn     messages          tail PUB, route, crate::sink)
//!                                                                           format, write,
//!                                                                           flush, reopen
//! ```
//!
//! One file per step. `receiver.rs` reads whole messages from every socket in turn and pushes them,
//! undecoded, onto the bounded queue (`queue.rs`); a full queue makes the receiver wait, so a slow
//! disk slows senders down instead of losing records. The writer (`writer.rs`) decodes each message
//! into a `RecordView` borrowing from it (no record text is copied on the way to the file), then
//! [`route`](crate::route) picks the sinks, [`format`](crate::format) makes the line and the
//! [`sink`](crate::sink)s write it. `secure.rs` ([`ServerSecurity`]) makes each receiving socket a
//! CURVE server vetted by the ZAP handler when `[curve]` is set. `sinks.rs` opens the sinks,
//! `check.rs` is `--check-config` ([`check`]), `error.rs` is [`CollectorError`]. [`Shutdown`] (`shutdown.rs`) is one signal fanned
//! out to every thread: the receiver drains its sockets and closes the queue, the writer finishes
//! the queue and flushes, the metrics thread stops.
//!
//! [`start`] binds every socket, the metrics listener and opens every sink before any thread runs, so
//! each configuration or environment problem is returned as an error (naming the key, endpoint or
//! path) and `tcp://127.0.0.1:0` is resolved to the real port ([`RunningCollector::endpoints`]).
//! The library never installs signal handlers: whoever embeds it triggers a [`Shutdown`].
//!
//! ```no_run
//! use logfunnel_collector::{config::Config, runtime};
//! use std::time::Duration;
//! let mut config = Config::default();
//! config.bind = vec!["tcp://127.0.0.1:0".into()];
//! let collector = runtime::start(config).unwrap();
//! println!("listening on {:?}", collector.endpoints());
//! // ... senders connect and log ...
//! let summary = collector.stop(Duration::from_secs(10)).unwrap();
//! println!("{}", summary.stats.line());
//! ```

mod acks;
mod check;
mod error;
mod queue;
mod receiver;
mod retry;
mod secure;
mod shutdown;
mod writer;

pub use check::check;
pub use error::CollectorError;
pub use secure::ServerSecurity;
pub use shutdown::{ReopenHandle, Shutdown};

use crate::config::{Config, FsyncPolicy, MetricsConfig};
use crate::delivery::{default_state_dir, StateFile, Watermarks};
use crate::metrics::{self, Metrics, Stats};
use crate::sink::open::open_sinks;
use crate::warn::Warner;
use crate::warn::PREFIX;
use acks::Acks;
use logfunnel_core::wire_v2::BatchLimits;
use logfunnel_core::DecodeLimits;
use queue::Queue;
use receiver::Receiver;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use writer::Writer;

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
    ack_endpoints: Vec<String>,
    tail_endpoint: Option<String>,
    metrics_addr: Option<SocketAddr>,
    shutdown: Shutdown,
    reopen: ReopenHandle,
    metrics: Arc<Metrics>,
    metrics_stop: Arc<AtomicBool>,
    receiver: Option<JoinHandle<Result<bool, CollectorError>>>,
    writer: Option<JoinHandle<()>>,
    metrics_thread: Option<JoinHandle<()>>,
    security: Arc<ServerSecurity>,
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
    let warner = Arc::new(Warner::new(Duration::from_secs(config.warn_interval_s)));
    let security = Arc::new(ServerSecurity::start(&ctx, &config, warner.clone())?);
    let receiver::Bound {
        sockets,
        routers_from,
    } = receiver::bind_all(&ctx, &config, &security, receiver::new_incarnation())?;
    let endpoints: Vec<String> = sockets.iter().map(|s| s.endpoint.clone()).collect();
    let (endpoints, router_endpoints) = endpoints.split_at(routers_from);
    let router_endpoints = router_endpoints.to_vec();
    // Reports about a ROUTER's batches name the bind endpoint it belongs to.
    let mut endpoints = endpoints.to_vec();
    endpoints.extend(router_endpoints.iter().map(|r| format!("{r} (acks)")));
    // `bind_all` returns the `bind` sockets first, then the `pull` ones.
    let (bind_endpoints, pull_endpoints) = endpoints[..routers_from].split_at(config.bind.len());
    let (bind_endpoints, pull_endpoints) = (bind_endpoints.to_vec(), pull_endpoints.to_vec());
    let (tail, tail_endpoint) = match &config.tail {
        Some(t) => {
            let (socket, endpoint) = writer::bind_tail(&ctx, t)?;
            (Some(socket), Some(endpoint))
        }
        None => (None, None),
    };
    let listener = config.metrics.as_ref().map(listen_metrics).transpose()?;
    let metrics_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
    let sinks = open_sinks(&resolved)?;
    let (acks, ack_pull) = if config.acknowledge {
        let (acks, pull) = open_acks(&ctx, &config)?;
        (Some(acks), Some(pull))
    } else {
        (None, None)
    };

    let metrics = Arc::new(Metrics::new(
        resolved
            .iter()
            .map(|r| (r.label.clone(), r.kind.as_str()))
            .collect(),
        config.max_senders,
    ));
    sinks.attach_metrics(&metrics);
    if let Some(counters) = security.counters() {
        metrics.set_auth(counters);
    }
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
        endpoints,
        reopen: reopen.clone(),
        flush_interval: Duration::from_millis(config.flush_interval_ms),
        fsync: config.fsync,
        stats_interval: Duration::from_secs(config.stats_interval_s),
        acks,
        routers_from: routers_from as u32,
        drain_timeout: Duration::from_millis(config.drain_timeout_ms),
    }
    .spawn()?;
    let receiver = Receiver {
        ctx,
        sockets,
        acks: ack_pull,
        queue,
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        drain_timeout: Duration::from_millis(config.drain_timeout_ms),
    }
    .spawn()?;
    Ok(RunningCollector {
        bind_endpoints,
        pull_endpoints,
        ack_endpoints: router_endpoints,
        tail_endpoint,
        metrics_addr,
        shutdown,
        reopen,
        metrics,
        metrics_stop,
        receiver: Some(receiver),
        writer: Some(writer),
        metrics_thread,
        security,
    })
}

/// Runs a collector until `shutdown` is triggered, then drains and returns the summary. Installs no
/// signal handler.
pub fn run(config: Config, shutdown: Shutdown) -> Result<Summary, CollectorError> {
    let collector = start_with(config, shutdown.clone())?;
    shutdown.wait();
    collector.join()
}

/// Binds the `[metrics]` listener.
/// The acknowledged-delivery state (watermarks loaded from `state_dir`) and the inproc pair the
/// writer's acks travel on to the receiving thread, which owns the `ROUTER`s.
fn open_acks(ctx: &zmq::Context, config: &Config) -> Result<(Acks, zmq::Socket), CollectorError> {
    let zmq_err = |what| move |source| CollectorError::Zmq { what, source };
    let fsync = config.fsync == FsyncPolicy::OnFlush;
    let state = match &config.state_dir {
        Some(dir) if dir.as_os_str().is_empty() => None,
        Some(dir) => Some(StateFile::open(dir, fsync)?),
        None => {
            let dir = default_state_dir();
            match StateFile::open(&dir, fsync) {
                Ok(opened) => Some(opened),
                Err(e) => {
                    eprintln!(
                        "{PREFIX}: warning: {e}; running without a delivery state (a restart then costs duplicates, never loss); set state_dir to choose a directory"
                    );
                    None
                }
            }
        }
    };
    let (state, watermarks) = match state {
        Some((file, loaded)) => {
            if let Some(why) = &loaded.set_aside {
                eprintln!("{PREFIX}: warning: unreadable delivery state {why}; starting empty");
            }
            let w = Watermarks::from_saved(config.max_senders, loaded.senders);
            (Some(file), w)
        }
        None => (None, Watermarks::new(config.max_senders)),
    };
    let pull = ctx
        .socket(zmq::PULL)
        .map_err(zmq_err("create the ack queue"))?;
    pull.set_linger(0).map_err(zmq_err("set ZMQ_LINGER"))?;
    pull.bind(acks::ACK_INPROC)
        .map_err(zmq_err("bind the ack queue"))?;
    let push = ctx
        .socket(zmq::PUSH)
        .map_err(zmq_err("create the ack queue"))?;
    push.set_linger(0).map_err(zmq_err("set ZMQ_LINGER"))?;
    push.connect(acks::ACK_INPROC)
        .map_err(zmq_err("connect the ack queue"))?;
    let limits = BatchLimits {
        max_batch_bytes: receiver::max_batch_bytes(config),
        max_record_bytes: config.max_frame_bytes,
    };
    let acks = Acks::new(
        watermarks,
        state,
        push,
        limits,
        config.max_senders,
        Duration::from_millis(config.ack_interval_ms),
    );
    Ok((acks, pull))
}

fn listen_metrics(m: &MetricsConfig) -> Result<TcpListener, CollectorError> {
    TcpListener::bind(&m.listen).map_err(|source| CollectorError::Listen {
        addr: m.listen.clone(),
        source,
    })
}

/// A socket's endpoint as bound (with the real port where the config said `:0`).
fn last_endpoint(s: &zmq::Socket) -> Option<String> {
    s.get_last_endpoint().ok().and_then(|r| r.ok())
}

impl RunningCollector {
    /// The ack `ROUTER`s' endpoints as bound (acknowledged delivery), one per `bind` endpoint, in
    /// order; empty with `acknowledge = false`.
    pub fn ack_endpoints(&self) -> &[String] {
        &self.ack_endpoints
    }

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

    /// The CURVE server setup its sockets use: re-read `allow_dir` with
    /// [`ServerSecurity::reload`] (SIGHUP), or apply it to another socket before it binds.
    pub fn security(&self) -> Arc<ServerSecurity> {
        self.security.clone()
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
