//! The writing thread: everything after the queue happens here, on one thread that owns every sink.
//!
//! Per batch: decode each message into a `RecordView` borrowing from it (malformed ones are counted
//! by reason and reported, rate-limited), feed `sid`/`seq` to the gap tracker, publish the record on
//! the tail socket (never waiting), ask each sink's [`Route`](crate::route::Route) whether it takes
//! the record, format it once per distinct format, and write. Every `flush_interval_ms` the sinks are
//! flushed (and synced, with `fsync = "on_flush"`), background errors are reported and a pending
//! reopen (SIGHUP) is done. Sink errors are counted and reported through one rate-limited path
//! ([`sink_error`]); they never stop the thread, but a sink with `on_error = "block"` that cannot
//! write holds new records back until it can (`retry.rs`).
//!
//! Messages from an ack `ROUTER` are v2 batches: admitted by watermark ([`Acks`], `acks.rs`), their
//! records written as any other; a commit (when the queue runs dry, or every `ack_interval_ms` while
//! busy) flushes the sinks and acknowledges what every sink has settled.
//!
//! The loop allocates nothing per record: lines, the JSON text and the `asctime` text live in
//! [`Scratch`] buffers kept across batches, and counters are added once per batch.

use super::acks::Acks;
use super::queue::{Batch, Queue};
use super::retry::{sink_error, Blocked};
use super::{last_endpoint, CollectorError, ReopenHandle};
use crate::config::{FsyncPolicy, TailConfig};
use crate::gaps::{GapTracker, SeqOutcome};
use crate::metrics::Metrics;
use crate::sink::open::{OpenedSinks, SinkLine};
use crate::warn::{Warner, PREFIX};
use logfunnel_core::{decode_view_into, DecodeLimits, RecordView};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Binds the live-view `PUB` socket (`[tail]`); returns it with its endpoint as bound. Publishing
/// never waits: beyond `sndhwm` a slow viewer loses records.
pub(super) fn bind_tail(
    ctx: &zmq::Context,
    tail: &TailConfig,
) -> Result<(zmq::Socket, String), CollectorError> {
    let bind_err = |source| CollectorError::Bind {
        key: "tail.publish".into(),
        endpoint: tail.publish.clone(),
        source,
    };
    let s = ctx.socket(zmq::PUB).map_err(bind_err)?;
    s.set_sndhwm(tail.sndhwm).map_err(bind_err)?;
    s.set_linger(0).map_err(bind_err)?;
    s.bind(&tail.publish).map_err(bind_err)?;
    let actual = last_endpoint(&s).unwrap_or_else(|| tail.publish.clone());
    Ok((s, actual))
}

/// Buffers the writer keeps across batches.
pub(super) struct Scratch {
    /// One line per formatter, and whether it holds the current record's line yet.
    lines: Vec<(String, bool)>,
    /// The current record as JSON (tail socket, JSON sinks).
    json: Vec<u8>,
    /// The formatters' `asctime` text.
    asctime: String,
    /// Records written per sink in this batch, added to the metrics once per batch.
    written: Vec<u64>,
    /// Records given to each sink so far (written or kept by it after a failed write).
    pub(super) given: Vec<u64>,
    /// Per sink: retrying after a failure (`on_error = "block"`).
    pub(super) blocked: Vec<Option<Blocked>>,
}

/// The writing thread's state.
pub(super) struct Writer {
    pub(super) sinks: OpenedSinks,
    /// The live-view `PUB` socket, if `[tail]` is configured.
    pub(super) tail: Option<zmq::Socket>,
    pub(super) queue: Arc<Queue>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) warner: Arc<Warner>,
    pub(super) limits: DecodeLimits,
    /// Endpoint of each receiving socket, by index, for reports about what came in on it.
    pub(super) endpoints: Vec<String>,
    pub(super) reopen: ReopenHandle,
    pub(super) flush_interval: Duration,
    pub(super) fsync: FsyncPolicy,
    pub(super) stats_interval: Duration,
    /// Acknowledged delivery; `None` with `acknowledge = false`.
    pub(super) acks: Option<Acks>,
    /// Socket indices from here on are ack `ROUTER`s (v2 batches).
    pub(super) routers_from: u32,
    /// How long a sink that cannot write is retried after shutdown began, before its records are
    /// given up (the senders still hold them: they were never acknowledged).
    pub(super) drain_timeout: Duration,
}

impl Writer {
    /// Starts the thread; it runs until the receiver closes the queue and the queue is empty.
    pub(super) fn spawn(self) -> Result<JoinHandle<()>, CollectorError> {
        std::thread::Builder::new()
            .name("logfunnel-writer".into())
            .spawn(move || self.run())
            .map_err(|source| CollectorError::Thread {
                name: "writer",
                source,
            })
    }

    fn run(mut self) {
        // If this thread panics, the receiver must not wait for room forever.
        struct Gone(Arc<Queue>);
        impl Drop for Gone {
            fn drop(&mut self) {
                self.0.writer_gone();
            }
        }
        let _gone = Gone(self.queue.clone());
        let n_sinks = self.metrics.sinks.len();
        let mut scratch = Scratch {
            lines: vec![(String::new(), false); self.sinks.formatters.len()],
            json: Vec::new(),
            asctime: String::new(),
            written: vec![0; n_sinks],
            given: vec![0; n_sinks],
            blocked: (0..n_sinks).map(|_| None).collect(),
        };
        let mut next_flush = Instant::now() + self.flush_interval;
        let mut next_stats = Instant::now() + self.stats_interval;
        let mut dirty = false;
        // When shutdown was first seen while a sink was blocked.
        let mut closed_at: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if scratch.blocked.iter().any(Option::is_some) {
                // Nothing new is taken while a blocking sink cannot write: the queue fills, the
                // receiver stops reading, and the senders are held back (their records are kept).
                self.retry_blocked(&mut scratch, now);
                if scratch.blocked.iter().any(Option::is_some) {
                    if self.queue.is_closed() {
                        let since = *closed_at.get_or_insert(now);
                        if now.duration_since(since) >= self.drain_timeout {
                            self.give_up_blocked(&mut scratch);
                        }
                    }
                    self.commit(&mut scratch);
                    self.periodic(&mut next_stats);
                    let next_try = scratch
                        .blocked
                        .iter()
                        .flatten()
                        .map(|b| b.next_try)
                        .min()
                        .unwrap_or(now);
                    std::thread::sleep(
                        next_try
                            .saturating_duration_since(Instant::now())
                            .min(Duration::from_millis(50)),
                    );
                    continue;
                }
            }
            let mut wait = next_flush.saturating_duration_since(now);
            if let Some(acks) = self.acks.as_ref().filter(|a| a.wants_commit()) {
                wait = wait.min(acks.next_commit(false).saturating_duration_since(now));
            }
            match self.queue.pop(wait) {
                Ok(Some(batch)) => {
                    self.metrics
                        .queue_depth
                        .fetch_sub(batch.len() as u64, Ordering::Relaxed);
                    self.write_batch(&batch, &mut scratch);
                    dirty = true;
                    if self
                        .acks
                        .as_ref()
                        .is_some_and(|a| Instant::now() >= a.next_commit(true))
                    {
                        self.commit(&mut scratch);
                    }
                }
                Ok(None) => {
                    // The queue ran dry: acknowledge what was written, at once.
                    if self
                        .acks
                        .as_ref()
                        .is_some_and(|a| a.wants_commit() && Instant::now() >= a.next_commit(false))
                    {
                        self.commit(&mut scratch);
                    }
                }
                Err(()) => break,
            }
            let now = Instant::now();
            if now >= next_flush {
                if dirty || self.sinks.sinks.iter().any(|s| s.sink.unsettled() > 0) {
                    self.flush_all(&mut scratch);
                    dirty = false;
                }
                self.background_errors();
                next_flush = now + self.flush_interval;
            }
            self.periodic(&mut next_stats);
        }
        self.flush_all(&mut scratch);
        self.commit(&mut scratch);
        self.background_errors();
        if let Some(t) = self.tail.take() {
            drop(t);
        }
    }

    /// A pending reopen (SIGHUP) and the stats line.
    fn periodic(&mut self, next_stats: &mut Instant) {
        if self.reopen.take() {
            self.reopen_all();
        }
        let now = Instant::now();
        if !self.stats_interval.is_zero() && now >= *next_stats {
            eprintln!("{PREFIX}: stats: {}", self.metrics.snapshot().line());
            *next_stats = now + self.stats_interval;
        }
    }

    /// The commit cycle: flush (and sync, with `fsync = "on_flush"`) every sink, then settle, save
    /// and acknowledge what every sink has settled.
    fn commit(&mut self, scratch: &mut Scratch) {
        if self.acks.is_none() {
            return;
        }
        self.flush_all(scratch);
        let settled: Vec<u64> = self
            .sinks
            .sinks
            .iter()
            .map(|s| scratch.given[s.index].saturating_sub(s.sink.unsettled()))
            .collect();
        if let Some(acks) = &mut self.acks {
            acks.commit(&settled, &self.metrics, &self.warner);
            self.metrics
                .delivery
                .unsettled_batches
                .store(acks.pending_batches() as u64, Ordering::Relaxed);
        }
    }

    /// Decodes the batch's messages (counting and reporting the malformed ones), then tracks, routes,
    /// formats and writes the records.
    fn write_batch(&mut self, batch: &Batch, scratch: &mut Scratch) {
        let records = self.decode_batch(batch);
        self.observe_gaps(&records);
        let formatters = &self.sinks.formatters;
        let mut failed: Vec<(usize, std::io::Error)> = Vec::new();
        let Scratch {
            lines,
            json,
            asctime,
            written,
            given,
            ..
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
                if !s.route.takes(s.level, rec.levelno, &rec.name) {
                    continue;
                }
                taken = true;
                let result = match s.line {
                    SinkLine::Formatted(slot) => {
                        let (line, done) = &mut lines[slot];
                        if !*done {
                            line.clear();
                            formatters[slot].format_with(rec, line, asctime);
                            *done = true;
                        }
                        s.sink.write_record(rec, line)
                    }
                    SinkLine::Json => {
                        if json.is_empty() {
                            rec.write_json(json);
                        }
                        // serde_json writes valid UTF-8.
                        let text = std::str::from_utf8(json).unwrap_or_default();
                        s.sink.write_record(rec, text)
                    }
                    SinkLine::None => s.sink.write_record(rec, ""),
                };
                given[s.index] += 1;
                match result {
                    Ok(()) => written[s.index] += 1,
                    Err(e) => {
                        // The sink keeps the record; one report per sink and batch.
                        if !failed.iter().any(|(i, _)| *i == s.index) {
                            failed.push((s.index, e));
                        }
                    }
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
        if let Some(acks) = &mut self.acks {
            acks.close_run(&scratch.given);
        }
        for (i, e) in failed {
            let at = self.sinks.sinks.iter().position(|s| s.index == i);
            if let Some(at) = at {
                self.sink_failed(scratch, at, &e);
            }
        }
        self.metrics
            .processed
            .fetch_add(records.len() as u64, Ordering::Relaxed);
    }

    /// The batch's records, borrowing from its messages; malformed messages are counted by reason
    /// and reported (rate-limited) with the endpoint they came in on.
    fn decode_batch<'b>(&mut self, batch: &'b Batch) -> Vec<RecordView<'b>> {
        let mut records = Vec::with_capacity(batch.len());
        let mut at = 0;
        for &(socket, count) in &batch.messages {
            let frames = &batch.frames[at..at + count as usize];
            at += count as usize;
            if socket >= self.routers_from {
                self.decode_v2(socket, frames, &mut records);
                continue;
            }
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

    /// Admits one v2 batch by its sender's watermark and decodes the records to write; a record
    /// whose `sid`/`seq` is not the header's is refused as `batch_mismatch`.
    fn decode_v2<'b>(
        &mut self,
        socket: u32,
        frames: &'b [zmq::Message],
        records: &mut Vec<RecordView<'b>>,
    ) {
        let endpoint = self
            .endpoints
            .get(socket as usize)
            .map_or("?", String::as_str);
        let Some(acks) = &mut self.acks else {
            return;
        };
        let Some(admitted) = acks.admit(socket, frames, &self.metrics, &self.warner, endpoint)
        else {
            return;
        };
        let sid = admitted.batch.sid;
        for (seq, bytes) in admitted.batch.records().skip(admitted.skip as usize) {
            records.push(RecordView::default());
            let slot = records.last_mut().expect("just pushed");
            let problem = match decode_view_into(&[bytes], &self.limits, slot) {
                Ok(()) if slot.sid.as_deref() == Some(sid) && slot.seq == Some(seq) => None,
                Ok(()) => Some((
                    "batch_mismatch",
                    format!(
                        "record {seq} of sender {sid} carries sid {:?} and seq {:?}",
                        slot.sid.as_deref().unwrap_or(""),
                        slot.seq
                    ),
                )),
                Err(e) => Some((e.reason(), e.to_string())),
            };
            match problem {
                None => {}
                Some((reason, why)) => {
                    records.pop();
                    self.metrics.add_malformed(reason, 1);
                    self.warner.warn(reason, || {
                        format!(
                            "dropped a malformed record in a batch received on {endpoint}: {why}"
                        )
                    });
                }
            }
        }
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
                } => self.warn_about_sender("gap", &gaps, rec, |who| {
                    format!(
                        "{lost} record(s) lost from sender {who} (seq {expected} to {} missing)",
                        got - 1
                    )
                }),
                SeqOutcome::Duplicate { expected, got } => {
                    self.warn_about_sender("duplicate", &gaps, rec, |who| {
                        format!(
                            "duplicate or out-of-order record from sender {who} (seq {got}, expected {expected})"
                        )
                    })
                }
                _ => {}
            }
        }
    }

    /// A rate-limited warning about the sender of `rec`, described as the gap tracker knows it.
    fn warn_about_sender(
        &self,
        key: &str,
        gaps: &GapTracker,
        rec: &RecordView<'_>,
        message: impl FnOnce(&str) -> String,
    ) {
        self.warner.warn(key, || {
            let who = gaps
                .sender(rec.sid.as_deref().unwrap_or(""))
                .map(|s| s.to_string())
                .unwrap_or_default();
            message(&who)
        });
    }

    /// Flushes (and syncs, with `fsync = "on_flush"`) every sink that is not being retried.
    fn flush_all(&mut self, scratch: &mut Scratch) {
        let sync = self.fsync == FsyncPolicy::OnFlush;
        let mut failed = Vec::new();
        for (at, s) in self.sinks.sinks.iter_mut().enumerate() {
            if scratch.blocked[s.index].is_some() {
                continue;
            }
            let result = if sync { s.sink.sync() } else { s.sink.flush() };
            if let Err(e) = result {
                failed.push((at, e));
            }
        }
        for (at, e) in failed {
            self.sink_failed(scratch, at, &e);
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
                sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
            }
        }
    }
}
