//! [`OtlpForwarder`]: the handle the collector's writer holds. It maps each record, puts it in the
//! bounded buffer and returns its position; the worker thread (`worker.rs`) batches and sends,
//! and reports when positions are settled.

use super::client::Client;
use super::config::{OtlpConfig, OtlpConfigError};
use super::mapping::{map_record, MappedRecord};
use super::stats::{lock, Counters, OtlpStats};
use super::worker::{self, Shared, State};
use crate::warn::Warner;
use logfunnel_core::RecordView;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A record's place in the forwarder's order, from 0. Records are settled in this order.
pub type Position = u64;

/// Records up to a position were settled: the peer answered for them for good.
///
/// Sent once per batch, in order. Every position below `through` is settled (this batch and all
/// before it); `accepted + rejected` is this batch's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Positions below this one are settled.
    pub through: Position,
    /// Records of this batch the peer accepted.
    pub accepted: u64,
    /// Records of this batch the peer refused for good (never sent again; counted and warned).
    pub rejected: u64,
}

/// Why a record was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The buffer holds `buffer_max_records`: the peer is slow or away. The caller keeps the record
    /// (and stops acknowledging its sender) and offers it again later.
    #[error("the otlp buffer is full")]
    Full,
    /// The forwarder is closing.
    #[error("the otlp forwarder is closed")]
    Closed,
}

/// Why the forwarder could not start.
#[derive(Debug, thiserror::Error)]
pub enum OtlpStartError {
    /// A config value is wrong (the key is named).
    #[error(transparent)]
    Config(#[from] OtlpConfigError),
    /// The worker thread could not be started.
    #[error("cannot start the otlp worker thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// What [`OtlpForwarder::close`] left undone.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseReport {
    /// Records neither accepted nor refused when the time ran out (never acknowledged).
    pub unsettled: u64,
    /// The counters at the end.
    pub stats: OtlpStats,
}

/// The sending side of an OTLP/HTTP sink: a bounded buffer in front of one worker thread.
///
/// ```no_run
/// use logfunnel_collector::sink::otlp::{OtlpConfig, OtlpForwarder, PushError};
/// use logfunnel_collector::warn::Warner;
/// use std::{sync::{mpsc, Arc}, time::Duration};
///
/// let (acks, settled) = mpsc::channel();
/// let warner = Arc::new(Warner::new(Duration::from_secs(10)));
/// let otlp = OtlpForwarder::start(&OtlpConfig::new("http://127.0.0.1:4318/v1/logs"), "otel", warner, Some(acks))?;
/// let record = logfunnel_core::RecordView::new("app", 20, "hello", 1.7e9);
/// match otlp.try_push(&record) {
///     Ok(position) => { /* acknowledge its sender once a Settlement's `through` passes `position` */ }
///     Err(PushError::Full) => { /* back-pressure: keep it, stop reading that sender, retry later */ }
///     Err(PushError::Closed) => {}
/// }
/// let settlement = settled.recv()?;
/// otlp.close(Duration::from_secs(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OtlpForwarder {
    shared: Arc<Shared>,
    service_name: String,
    capacity: usize,
    worker: Option<JoinHandle<()>>,
}

impl OtlpForwarder {
    /// Validates `config`, reads its CA file and header values, and starts the worker. `label`
    /// names the sink in warnings; `acks`, if given, receives one [`Settlement`] per batch.
    pub fn start(
        config: &OtlpConfig,
        label: &str,
        warner: Arc<Warner>,
        acks: Option<mpsc::Sender<Settlement>>,
    ) -> Result<OtlpForwarder, OtlpStartError> {
        config.validate()?;
        let client = Client::new(config)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                in_flight: 0,
                next_position: 0,
                settled_through: 0,
                close_by: None,
            }),
            wake_worker: Condvar::new(),
            space: Condvar::new(),
            settled: Condvar::new(),
            counters: Counters::new(),
        });
        let settings = worker::Settings::new(config, label);
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("otlp-{label}"))
                .spawn(move || worker::run(&shared, &client, &settings, &warner, acks))
                .map_err(OtlpStartError::Thread)?
        };
        Ok(OtlpForwarder {
            shared,
            service_name: config.service_name.clone(),
            capacity: config.buffer_max_records,
            worker: Some(worker),
        })
    }

    /// Takes `record` if the buffer has room, at once; [`PushError::Full`] otherwise.
    pub fn try_push(&self, record: &RecordView<'_>) -> Result<Position, PushError> {
        self.push_timeout(record, Duration::ZERO)
    }

    /// Takes `record`, waiting at most `timeout` for room in the buffer.
    pub fn push_timeout(
        &self,
        record: &RecordView<'_>,
        timeout: Duration,
    ) -> Result<Position, PushError> {
        self.push_mapped(self.map(record), timeout)
            .map_err(|(e, _)| e)
    }

    /// `record` mapped as [`try_push`](Self::try_push) would send it, observed now: for a caller
    /// that must keep a refused record after the view it borrows from is gone.
    pub(crate) fn map(&self, record: &RecordView<'_>) -> MappedRecord {
        map_record(record, &self.service_name, now_unix_nano())
    }

    /// Takes an already mapped record, waiting at most `timeout` for room; a refused record is
    /// handed back with the reason (boxed: refusals are rare, pushes are per record).
    pub(crate) fn push_mapped(
        &self,
        record: MappedRecord,
        timeout: Duration,
    ) -> Result<Position, (PushError, Box<MappedRecord>)> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared.state);
        loop {
            if st.close_by.is_some() {
                return Err((PushError::Closed, Box::new(record)));
            }
            if st.held() < self.capacity {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err((PushError::Full, Box::new(record)));
            }
            st = self
                .shared
                .space
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let position = st.next_position;
        st.next_position += 1;
        st.push(record);
        drop(st);
        self.shared.wake_worker.notify_one();
        Ok(position)
    }

    /// Positions below this one are settled.
    pub fn settled_through(&self) -> Position {
        lock(&self.shared.state).settled_through
    }

    /// Waits at most `timeout` until `position` is settled; whether it is.
    pub fn wait_settled(&self, position: Position, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared.state);
        while st.settled_through <= position {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .settled
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// The counters now.
    pub fn stats(&self) -> OtlpStats {
        self.stats_handle().snapshot()
    }

    /// A handle that reads the counters from another thread (the metrics endpoint), for as long as
    /// it is kept, even after the forwarder closed.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.shared))
    }

    /// Stops taking records, sends what is buffered (without waiting for batches to fill) and
    /// stops the worker; after `timeout` retries are abandoned and what is left stays unsettled.
    pub fn close(mut self, timeout: Duration) -> CloseReport {
        self.begin_close(timeout);
        if let Some(worker) = self.worker.take() {
            // The worker's panics are its own bug; the report below still tells what was settled.
            let _ = worker.join();
        }
        let st = lock(&self.shared.state);
        let unsettled = st.next_position - st.settled_through;
        let held = st.held();
        drop(st);
        CloseReport {
            unsettled,
            stats: self.shared.counters.snapshot(held),
        }
    }

    fn begin_close(&self, timeout: Duration) {
        let mut st = lock(&self.shared.state);
        if st.close_by.is_none() {
            st.close_by = Some(Instant::now() + timeout);
        }
        drop(st);
        self.shared.wake_worker.notify_all();
        self.shared.space.notify_all();
    }
}

/// Reads an otlp sink's counters from any thread ([`OtlpForwarder::stats_handle`]).
#[derive(Clone)]
pub struct StatsHandle(Arc<Shared>);

impl StatsHandle {
    /// The counters now.
    pub fn snapshot(&self) -> OtlpStats {
        let held = lock(&self.0.state).held();
        self.0.counters.snapshot(held)
    }
}

impl std::fmt::Debug for StatsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StatsHandle")
            .field(&self.snapshot())
            .finish()
    }
}

impl Drop for OtlpForwarder {
    /// Without [`OtlpForwarder::close`], the worker is told to stop at once and left to end on its own.
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.begin_close(Duration::ZERO);
        }
    }
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
