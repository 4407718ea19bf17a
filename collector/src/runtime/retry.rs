//! What the writer does when a sink cannot write (`spec/delivery.md` section 5.5): under
//! `on_error = "block"` the sink keeps its records and is retried with backoff (10 ms doubling to
//! 1 s) while nothing new is taken, so the senders are held back; under `drop` its records are
//! dropped and counted. A forwarding sink whose buffer is full (`WouldBlock`) is back-pressure, not
//! a failure: retried every 5 ms, warned about, not counted as an error. Every failure is counted
//! and reported through one rate-limited path ([`sink_error`]).

use super::writer::{Scratch, Writer};
use crate::config::{FsyncPolicy, OnError};
use crate::metrics::Metrics;
use crate::warn::{Warner, PREFIX};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A sink with `on_error = "block"` that cannot write: retried with backoff until it can.
pub(super) struct Blocked {
    since: Instant,
    pub(super) next_try: Instant,
    delay: Duration,
    /// Only back-pressure so far (`WouldBlock`: a forwarding sink's buffer is full), not a failure:
    /// retried at a steady short interval, neither counted as an error nor warned about.
    pressure: bool,
}

/// Retry interval of a sink that pushes back (`WouldBlock`).
const PRESSURE_RETRY: Duration = Duration::from_millis(5);

/// First retry delay of a blocked sink; it doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(10);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

impl Writer {
    /// What the writer does when sink `i` failed with `e`: under `block`, retry it with backoff
    /// (nothing new is taken meanwhile); under `drop`, drop what it kept and count it.
    pub(super) fn sink_failed(&mut self, scratch: &mut Scratch, i: usize, e: &std::io::Error) {
        let s = &mut self.sinks.sinks[i];
        let pressure = e.kind() == std::io::ErrorKind::WouldBlock;
        if pressure {
            // Back-pressure, not a failure: said (rate-limited), not counted as an error.
            self.warner
                .warn(&format!("sink[{}]-pressure", s.index), || {
                    format!("sink {:?}: {e}; holding back new records", s.label)
                });
        } else {
            sink_error(&self.metrics, &self.warner, s.index, &s.label, e);
        }
        match s.on_error {
            OnError::Drop => {
                let n = s.sink.discard_unsettled();
                if n > 0 {
                    self.metrics.sinks[s.index]
                        .dropped
                        .fetch_add(n, Ordering::Relaxed);
                }
            }
            OnError::Block => {
                if scratch.blocked[s.index].is_none() {
                    let now = Instant::now();
                    let delay = if pressure {
                        PRESSURE_RETRY
                    } else {
                        FIRST_RETRY_DELAY
                    };
                    scratch.blocked[s.index] = Some(Blocked {
                        since: now,
                        next_try: now + delay,
                        delay,
                        pressure,
                    });
                }
            }
        }
    }

    /// Retries every blocked sink whose time has come; one that writes again says so.
    pub(super) fn retry_blocked(&mut self, scratch: &mut Scratch, now: Instant) {
        let sync = self.fsync == FsyncPolicy::OnFlush;
        for s in self.sinks.sinks.iter_mut() {
            let Some(b) = &mut scratch.blocked[s.index] else {
                continue;
            };
            if now < b.next_try {
                continue;
            }
            let kept = s.sink.unsettled();
            let result = if sync { s.sink.sync() } else { s.sink.flush() };
            match result {
                Ok(()) if b.pressure => scratch.blocked[s.index] = None,
                Ok(()) => {
                    let failed_for = now.duration_since(b.since).as_secs_f64();
                    scratch.blocked[s.index] = None;
                    self.warner.warn(&format!("sink[{}]-recovered", s.index), || {
                        format!(
                            "sink {:?}: writing again after {failed_for:.1} s; the {kept} record(s) kept meanwhile are written",
                            s.label
                        )
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && b.pressure => {
                    b.next_try = now + PRESSURE_RETRY;
                }
                Err(e) => {
                    sink_error(&self.metrics, &self.warner, s.index, &s.label, &e);
                    b.pressure = false;
                    b.delay = (b.delay * 2).clamp(FIRST_RETRY_DELAY, MAX_RETRY_DELAY);
                    b.next_try = now + b.delay;
                }
            }
        }
    }

    /// Shutdown with a sink that still cannot write, after `drain_timeout`: its records are given
    /// up here (counted as dropped) and left to the senders, which never had them acknowledged.
    pub(super) fn give_up_blocked(&mut self, scratch: &mut Scratch) {
        for s in self.sinks.sinks.iter_mut() {
            if scratch.blocked[s.index].take().is_none() {
                continue;
            }
            let n = s.sink.discard_unsettled();
            self.metrics.sinks[s.index]
                .dropped
                .fetch_add(n, Ordering::Relaxed);
            eprintln!(
                "{PREFIX}: sink {:?}: still cannot write at shutdown; gave up {n} record(s) (not acknowledged: acknowledging senders still hold them)",
                s.label
            );
        }
    }
}

/// Counts a sink's error and reports it as a rate-limited warning.
pub(super) fn sink_error(
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
