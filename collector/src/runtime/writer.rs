//! The writing thread: everything after the queue happens here, on one thread that owns every sink.
//!
//! Per batch: decode each message into a `RecordView` borrowing from it (malformed ones are counted
//! by reason and reported, rate-limited), feed `sid`/`seq` to the gap tracker, publish the record on
//! the tail socket (never waiting), ask each sink's [`Route`](crate::route::Route) whether it takes
//! the record, format it once per distinct format, and write. Every `flush_interval_ms` the sinks are
//! flushed (and synced, with `fsync = "on_flush"`), background errors are reported and a pending
//! reopen (SIGHUP) is done. Sink errors are counted and reported through one rate-limited path
//! ([`sink_error`]); they never stop the thread.
//!
//! The loop allocates nothing per record: lines, the JSON text and the `asctime` text live in
//! [`Scratch`] buffers kept across batches, and counters are added once per batch.

use super::queue::{Batch, Queue};
use super::{last_endpoint, CollectorError, ReopenHandle};
use crate::config::{FsyncPolicy, OnError, TailConfig};
use crate::gaps::{GapTracker, SeqOutcome};
use crate::metrics::Metrics;
use crate::sink::open::OpenedSinks;
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
                if !s.route.takes(s.level, rec.levelno, &rec.name) {
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
                        s.sink.write_record(rec, line)
                    }
                    None => {
                        if json.is_empty() {
                            rec.write_json(json);
                        }
                        // serde_json writes valid UTF-8.
                        let text = std::str::from_utf8(json).unwrap_or_default();
                        s.sink.write_record(rec, text)
                    }
                };
                match result {
                    Ok(()) => written[s.index] += 1,
                    Err(e) => {
                        sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
                        if s.on_error == OnError::Drop {
                            s.sink.discard_unsettled();
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

    fn flush_all(&mut self, sync: bool) {
        for s in self.sinks.sinks.iter_mut() {
            let result = if sync { s.sink.sync() } else { s.sink.flush() };
            if let Err(e) = result {
                sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
                if s.on_error == OnError::Drop {
                    s.sink.discard_unsettled();
                }
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
                sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
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
