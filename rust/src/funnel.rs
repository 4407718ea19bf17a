//! [`Builder`] and [`Funnel`]: one core [`Sender`] shared by the `log` logger and the `tracing` layer,
//! and the [`FlushGuard`] that delivers what is queued when the program ends.
//!
//! | option | default | why |
//! |---|---|---|
//! | queue, overflow, socket options | [`SenderOptions::new`]'s (65 536 records, [`OverflowPolicy::Block`] for at most 1 s, ...) | the same guarantees as every other binding |
//! | [`Builder::exit_timeout`] | 5 s | the longest [`FlushGuard`]'s drop waits *without progress* (a collector that is gone) |
//! | [`Builder::exit_max_wait`] | 60 s | the longest it waits in any case (a collector that is far behind) |

use crate::thread;
use crate::Error;
use logfunnel_core::{
    FlushStatus, OverflowPolicy, RecordView, Sender, SenderOptions, SocketMode, Stats,
};
use std::borrow::Cow;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Default of [`Builder::exit_timeout`], the Python binding's `exit_timeout`.
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`Builder::exit_max_wait`], the Python binding's `EXIT_MAX_WAIT`.
pub const DEFAULT_EXIT_MAX_WAIT: Duration = Duration::from_secs(60);

/// Options for a [`Funnel`]; see the module table for the defaults.
#[derive(Debug, Clone)]
#[must_use = "a Builder does nothing until `build` is called"]
pub struct Builder {
    options: SenderOptions,
    exit_timeout: Duration,
    exit_max_wait: Duration,
}

impl Builder {
    /// Defaults for a collector at `endpoint` (`tcp://host:port` or `ipc://path`).
    pub fn new(endpoint: impl Into<String>) -> Builder {
        Builder {
            options: SenderOptions::new(endpoint),
            exit_timeout: DEFAULT_EXIT_TIMEOUT,
            exit_max_wait: DEFAULT_EXIT_MAX_WAIT,
        }
    }

    /// Most records queued while the collector is slow or away.
    pub fn queue_capacity(mut self, records: usize) -> Builder {
        self.options.queue_capacity = records;
        self
    }

    /// Most bytes queued (approximate).
    pub fn queue_max_bytes(mut self, bytes: usize) -> Builder {
        self.options.queue_max_bytes = bytes;
        self
    }

    /// What a log call does when the queue is full; every record dropped is counted in [`Stats`].
    pub fn overflow(mut self, policy: OverflowPolicy) -> Builder {
        self.options.overflow = policy;
        self
    }

    /// The longest a log call waits for room with [`OverflowPolicy::Block`].
    pub fn block_timeout(mut self, timeout: Duration) -> Builder {
        self.options.block_timeout = timeout;
        self
    }

    /// `XPUB` (the default, to a collector's `bind`) or `PUSH` (to its `pull`).
    pub fn socket_mode(mut self, mode: SocketMode) -> Builder {
        self.options.mode = mode;
        self
    }

    /// The longest the guard's drop waits without progress.
    pub fn exit_timeout(mut self, timeout: Duration) -> Builder {
        self.exit_timeout = timeout;
        self
    }

    /// The longest the guard's drop waits in any case.
    pub fn exit_max_wait(mut self, cap: Duration) -> Builder {
        self.exit_max_wait = cap;
        self
    }

    /// Any other sender option (heartbeats, keepalive, frame size, `host`, ...).
    pub fn sender_options(mut self, edit: impl FnOnce(&mut SenderOptions)) -> Builder {
        edit(&mut self.options);
        self
    }

    /// Starts the sender. Keep the guard alive (in `main`) for as long as the program logs: its drop
    /// delivers what is still queued. A collector that is not running yet is not an error.
    pub fn build(self) -> Result<(Funnel, FlushGuard), Error> {
        let sender = Sender::new(self.options)?;
        let funnel = Funnel {
            shared: Arc::new(Shared {
                sender,
                process_name: program_name(),
                started: now_seconds(),
                exit_timeout: self.exit_timeout,
                exit_max_wait: self.exit_max_wait,
            }),
        };
        let guard = FlushGuard {
            funnel: funnel.clone(),
        };
        Ok((funnel, guard))
    }
}

/// A handle on one sender, cheap to clone; the `log` logger ([`Funnel::logger`]) and the `tracing`
/// layer ([`Funnel::layer`]) made from it share its queue, counters and guard.
///
/// Fork-safe: in a child process the sender rebuilds its socket and thread on first use and never
/// touches the parent's. Sending never panics and never blocks longer than the block timeout.
#[derive(Clone)]
pub struct Funnel {
    shared: Arc<Shared>,
}

struct Shared {
    sender: Sender,
    /// `processName`: the program's file name.
    process_name: Option<String>,
    /// When the funnel was built, for `relativeCreated`.
    started: f64,
    exit_timeout: Duration,
    exit_max_wait: Duration,
}

impl std::fmt::Debug for Funnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Funnel")
            .field("endpoint", &self.shared.sender.options().endpoint)
            .finish_non_exhaustive()
    }
}

impl Funnel {
    /// A [`Builder`] for a collector at `endpoint`.
    pub fn builder(endpoint: impl Into<String>) -> Builder {
        Builder::new(endpoint)
    }

    /// Waits until every record queued so far is handed to the socket, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> FlushStatus {
        self.shared.sender.flush(timeout)
    }

    /// The sender's counters: queued, sent and every drop by reason.
    pub fn stats(&self) -> Stats {
        self.shared.sender.stats()
    }

    /// The core sender, for what this crate does not wrap.
    pub fn sender(&self) -> &Sender {
        &self.shared.sender
    }

    /// A `log::Log` sending through this funnel (install it with [`crate::log::Logger::install`]).
    #[cfg(feature = "log")]
    pub fn logger(&self) -> crate::log::Logger {
        crate::log::Logger::new(self.clone())
    }

    /// A `tracing_subscriber::Layer` sending through this funnel.
    #[cfg(feature = "tracing")]
    pub fn layer(&self) -> crate::tracing::Layer {
        crate::tracing::Layer::new(self.clone())
    }

    /// Stamps what every record of this process carries and offers it to the sender. The outcome is
    /// counted by the sender; a panic inside is contained.
    pub(crate) fn send(&self, record: RecordView<'_>) {
        let shared = &*self.shared;
        let ident = thread::current();
        // Shortened to what is borrowed here (`RecordView` is covariant).
        let mut record: RecordView<'_> = record;
        record.relative_created = Some((record.created - shared.started) * 1000.0);
        record.process_name = shared.process_name.as_deref().map(Cow::Borrowed);
        if let Some(ident) = &ident {
            record.thread = Some(ident.id);
            record.thread_name = ident.name.as_deref().map(Cow::Borrowed);
        }
        let _ = catch_unwind(AssertUnwindSafe(|| shared.sender.log_ref(record)));
    }

    /// The longest a plain `flush` (e.g. `log::logger().flush()`) waits.
    #[cfg(feature = "log")]
    pub(crate) fn exit_timeout(&self) -> Duration {
        self.shared.exit_timeout
    }
}

/// Delivers what is queued when dropped: waits while records keep reaching the collector, at most
/// [`Builder::exit_timeout`] without progress and [`Builder::exit_max_wait`] in all, then closes the
/// sender (later records are dropped and counted). Any loss is reported once on stderr, since at exit
/// nobody else would see the counters.
///
/// Like `tracing_appender`'s `WorkerGuard`: bind it in `main` (`let _guard = ...`, not `let _ = ...`),
/// and drop it before `std::process::exit`, which runs no destructors.
#[must_use = "dropping the guard at once closes the sender"]
pub struct FlushGuard {
    funnel: Funnel,
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard")
            .field("funnel", &self.funnel)
            .finish()
    }
}

impl FlushGuard {
    /// The funnel this guard closes.
    pub fn funnel(&self) -> &Funnel {
        &self.funnel
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        let shared = &*self.funnel.shared;
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let status = shared
                .sender
                .close_idle(shared.exit_timeout, shared.exit_max_wait);
            report_loss(status, &shared.sender.stats());
        }));
    }
}

/// One line on stderr when records were lost; silent when everything was delivered.
fn report_loss(status: FlushStatus, stats: &Stats) {
    if status == FlushStatus::Flushed && stats.dropped() == 0 {
        return;
    }
    let pending = match status {
        FlushStatus::TimedOut { pending } => pending,
        FlushStatus::Flushed => 0,
    };
    let _ = writeln!(
        std::io::stderr(),
        "logfunnel: {} records not delivered (queue full {}, after close {}, unsent at exit {}, \
         oversized {}){}",
        stats.dropped(),
        stats.dropped_queue_full,
        stats.dropped_closed,
        stats.dropped_at_close.max(pending),
        stats.dropped_oversized,
        if stats.linger_expired {
            "; the collector may not have received the last records handed to the socket"
        } else {
            ""
        },
    );
}

/// The program's file name, as `processName`.
fn program_name() -> Option<String> {
    let arg0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&arg0).file_name()?;
    Some(name.to_string_lossy().into_owned())
}

/// Seconds since the Unix epoch, as `created`.
pub(crate) fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
