//! The OTLP sink's worker loop: takes batches from the buffer (by records, bytes or age), sends each
//! until the peer answers for it for good, then settles its positions. One request at a time, so
//! records are settled in the order they were pushed.

use super::backoff::Backoff;
use super::batch::{build_request, encoded_len};
use super::client::{Attempt, Client};
use super::config::OtlpConfig;
use super::forwarder::Settlement;
use super::mapping::MappedRecord;
use super::stats::{lock, Counters};
use crate::warn::Warner;
use prost::Message;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// State shared by the handle and the worker.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// A record arrived, or closing began.
    pub(crate) wake_worker: Condvar,
    /// The buffer has room again.
    pub(crate) space: Condvar,
    /// `settled_through` moved.
    pub(crate) settled: Condvar,
    pub(crate) counters: Counters,
}

pub(crate) struct State {
    /// Records not yet in a batch, oldest first, with their size and arrival.
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) queued_bytes: usize,
    /// Records of the batch being sent.
    pub(crate) in_flight: usize,
    pub(crate) next_position: u64,
    pub(crate) settled_through: u64,
    /// Set by close: send what is there without waiting, give up at this instant.
    pub(crate) close_by: Option<Instant>,
}

pub(crate) struct Queued {
    record: MappedRecord,
    bytes: usize,
    at: Instant,
}

impl State {
    /// Records held: waiting or in flight (what `buffer_max_records` bounds).
    pub(crate) fn held(&self) -> usize {
        self.queue.len() + self.in_flight
    }

    pub(crate) fn push(&mut self, record: MappedRecord) {
        let bytes = encoded_len(&record);
        self.queued_bytes += bytes;
        self.queue.push_back(Queued {
            record,
            bytes,
            at: Instant::now(),
        });
    }
}

/// The config values the loop reads.
pub(crate) struct Settings {
    label: String,
    batch_max_records: usize,
    batch_max_bytes: usize,
    batch_timeout: Duration,
    retry_initial: Duration,
    retry_max: Duration,
}

impl Settings {
    pub(crate) fn new(config: &OtlpConfig, label: &str) -> Settings {
        Settings {
            label: label.to_string(),
            batch_max_records: config.batch_max_records,
            batch_max_bytes: config.batch_max_bytes,
            batch_timeout: config.batch_timeout(),
            retry_initial: Duration::from_millis(config.retry_initial_ms),
            retry_max: Duration::from_millis(config.retry_max_ms),
        }
    }
}

/// Runs until the handle closes and the buffer is empty, or the close deadline passes.
pub(crate) fn run(
    shared: &Shared,
    client: &Client,
    settings: &Settings,
    warner: &Warner,
    acks: Option<mpsc::Sender<Settlement>>,
) {
    while let Some(batch) = next_batch(shared, settings) {
        let n = batch.len() as u64;
        let body = build_request(batch).encode_to_vec();
        let Some((accepted, rejected)) = deliver(shared, client, settings, warner, &body) else {
            return; // Closing ran out of time; the batch stays unsettled.
        };
        let mut st = lock(&shared.state);
        st.in_flight = 0;
        st.settled_through += n;
        let through = st.settled_through;
        drop(st);
        shared.space.notify_all();
        shared.settled.notify_all();
        if let Some(acks) = &acks {
            // A writer that went away no longer needs acknowledgements.
            let _ = acks.send(Settlement {
                through,
                accepted,
                rejected,
            });
        }
    }
}

/// Waits for a batch to be due and takes it (marking it in flight); `None` once closed and empty,
/// or once closing's deadline has passed.
fn next_batch(shared: &Shared, settings: &Settings) -> Option<Vec<MappedRecord>> {
    let mut st = lock(&shared.state);
    loop {
        let closing = st.close_by.is_some();
        if st.close_by.is_some_and(|by| Instant::now() >= by) {
            return None; // Out of time: what is left stays unsettled.
        }
        match st.queue.front() {
            None if closing => return None,
            None => st = wait(&shared.wake_worker, st, None),
            Some(oldest) => {
                let due = oldest.at + settings.batch_timeout;
                let full = st.queue.len() >= settings.batch_max_records
                    || st.queued_bytes >= settings.batch_max_bytes;
                if closing || full || Instant::now() >= due {
                    return Some(take_batch(&mut st, settings));
                }
                st = wait(&shared.wake_worker, st, Some(due));
            }
        }
    }
}

fn take_batch(st: &mut State, settings: &Settings) -> Vec<MappedRecord> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(next) = st.queue.front() {
        let fits = batch.is_empty()
            || (batch.len() < settings.batch_max_records
                && bytes + next.bytes <= settings.batch_max_bytes);
        if !fits {
            break;
        }
        let q = st.queue.pop_front().expect("front exists");
        bytes += q.bytes;
        st.queued_bytes -= q.bytes;
        batch.push(q.record);
    }
    st.in_flight = batch.len();
    batch
}

/// Sends `body` until the peer accepts or refuses it: `(accepted, rejected)`, or `None` if closing
/// ran out of time first.
fn deliver(
    shared: &Shared,
    client: &Client,
    settings: &Settings,
    warner: &Warner,
    body: &[u8],
) -> Option<(u64, u64)> {
    let records = lock(&shared.state).in_flight as u64;
    let counters = &shared.counters;
    let mut backoff = Backoff::new(settings.retry_initial, settings.retry_max);
    loop {
        match client.export(body) {
            Attempt::Accepted { rejected, message } => {
                let rejected = rejected.min(records);
                counters
                    .records_forwarded
                    .fetch_add(records - rejected, Ordering::Relaxed);
                counters.batches_forwarded.fetch_add(1, Ordering::Relaxed);
                *lock(&counters.last_success) = Some(Instant::now());
                if rejected > 0 {
                    refused(
                        shared,
                        settings,
                        warner,
                        rejected,
                        format!("partial success: {message}"),
                    );
                }
                return Some((records - rejected, rejected));
            }
            Attempt::Rejected { status, message } => {
                refused(
                    shared,
                    settings,
                    warner,
                    records,
                    format!("HTTP {status}: {message}"),
                );
                return Some((0, records));
            }
            Attempt::Retry {
                reason,
                retry_after,
            } => {
                counters.retries.fetch_add(1, Ordering::Relaxed);
                let delay = backoff.next_delay(retry_after, fastrand::f64());
                warner.warn(&format!("otlp:{}:retry", settings.label), || {
                    format!(
                        "sink {}: sending {records} record(s) failed ({reason}); try {} in {} ms",
                        settings.label,
                        backoff.failures() + 1,
                        delay.as_millis()
                    )
                });
                if !pause(shared, delay) {
                    return None;
                }
            }
        }
    }
}

fn refused(shared: &Shared, settings: &Settings, warner: &Warner, records: u64, why: String) {
    let counters = &shared.counters;
    counters
        .records_rejected
        .fetch_add(records, Ordering::Relaxed);
    warner.warn(&format!("otlp:{}:rejected", settings.label), || {
        format!(
            "sink {}: the peer refused {records} record(s): {why}",
            settings.label
        )
    });
    *lock(&counters.last_rejection) = Some(why);
}

/// Sleeps `delay` before a retry; false once closing's deadline has passed (a request already
/// under way when it passes is still given its `timeout_ms`).
fn pause(shared: &Shared, delay: Duration) -> bool {
    let until = Instant::now() + delay;
    let mut st = lock(&shared.state);
    loop {
        let now = Instant::now();
        if st.close_by.is_some_and(|by| now >= by) {
            return false;
        }
        if now >= until {
            return true;
        }
        let wake = st.close_by.map_or(until, |by| by.min(until));
        st = wait(&shared.wake_worker, st, Some(wake));
    }
}

fn wait<'a>(
    cv: &Condvar,
    guard: MutexGuard<'a, State>,
    until: Option<Instant>,
) -> MutexGuard<'a, State> {
    match until {
        None => cv.wait(guard).unwrap_or_else(|p| p.into_inner()),
        Some(t) => {
            let d = t.saturating_duration_since(Instant::now());
            cv.wait_timeout(guard, d)
                .unwrap_or_else(|p| p.into_inner())
                .0
        }
    }
}
