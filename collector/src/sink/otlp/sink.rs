//! [`OtlpSink`]: the forwarder as one of the writer's [`Sink`]s.
//!
//! The writer hands each record to `write_record`, which maps it and pushes it into the forwarder's
//! bounded buffer at once. When the buffer is full (the peer is slow or away) the sink keeps the
//! record, mapped and owned, and answers [`io::ErrorKind::WouldBlock`]; `flush` offers the kept
//! records again, oldest first, so the peer receives them in the order the writer gave them.
//! [`Sink::unsettled`] counts every record taken and not yet answered for by the peer (kept, or in
//! the buffer, or in flight); the forwarder settles in push order, so these are always the newest.

use super::config::OtlpConfig;
use super::forwarder::{OtlpForwarder, OtlpStartError, Position, PushError, StatsHandle};
use super::mapping::MappedRecord;
use crate::sink::Sink;
use crate::warn::{Warner, PREFIX};
use logfunnel_core::RecordView;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A sink of kind `otlp`: records go to an OpenTelemetry peer through an [`OtlpForwarder`].
///
/// Dropping it closes the forwarder: what is buffered is sent without waiting for batches to fill,
/// for at most `timeout_ms`; records still not accepted then are reported on stderr (they were
/// never settled, so never acknowledged to their senders).
pub struct OtlpSink {
    forwarder: Option<OtlpForwarder>,
    label: String,
    endpoint: String,
    /// Records the buffer had no room for, oldest first.
    kept: VecDeque<Box<MappedRecord>>,
    /// Records handed to the forwarder: the position the next one gets.
    pushed: Position,
    close_timeout: Duration,
}

impl OtlpSink {
    /// Starts the forwarder for `config` (reading its CA file and header values); `label` names the
    /// sink in warnings.
    pub fn open(
        config: &OtlpConfig,
        label: &str,
        warner: Arc<Warner>,
    ) -> Result<OtlpSink, OtlpStartError> {
        let forwarder = OtlpForwarder::start(config, label, warner, None)?;
        Ok(OtlpSink {
            forwarder: Some(forwarder),
            label: label.to_string(),
            endpoint: config.endpoint.clone(),
            kept: VecDeque::new(),
            pushed: 0,
            close_timeout: config.timeout(),
        })
    }

    /// Reads the forwarder's counters from another thread (the metrics endpoint).
    pub fn stats_handle(&self) -> Option<StatsHandle> {
        self.forwarder.as_ref().map(OtlpForwarder::stats_handle)
    }

    /// Records kept because the buffer was full, not yet in the forwarder.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    fn forwarder(&self) -> io::Result<&OtlpForwarder> {
        self.forwarder.as_ref().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!("the otlp sink for {} is closed", self.endpoint),
        )
    }

    fn full(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "the otlp buffer for {} is full (the peer has not accepted the records yet); {} \
                 record(s) kept for the next flush",
                self.endpoint,
                self.kept.len()
            ),
        )
    }

    /// Pushes one mapped record, waiting at most `timeout`; a refused one goes back to the front.
    fn push_front_kept(&mut self, timeout: Duration) -> io::Result<bool> {
        let Some(record) = self.kept.pop_front() else {
            return Ok(false);
        };
        match self.forwarder()?.push_mapped(*record, timeout) {
            Ok(position) => {
                self.pushed = position + 1;
                Ok(true)
            }
            Err((why, record)) => {
                self.kept.push_front(record);
                Err(match why {
                    PushError::Full => self.full(),
                    PushError::Closed => self.closed(),
                })
            }
        }
    }

    /// Offers the kept records, oldest first, until the buffer is full.
    fn offer_kept(&mut self) -> io::Result<()> {
        while self.push_front_kept(Duration::ZERO)? {}
        Ok(())
    }
}

impl Sink for OtlpSink {
    /// Not called by the writer for this kind (it calls [`write_record`](Sink::write_record)); a
    /// bare line has no fields to map.
    fn write(&mut self, levelno: i64, line: &str) -> io::Result<()> {
        self.write_record(&RecordView::new("", levelno, line, 0.0), line)
    }

    fn write_record(&mut self, record: &RecordView<'_>, _line: &str) -> io::Result<()> {
        if !self.kept.is_empty() {
            // Behind the kept ones, so the peer gets records in the writer's order.
            let offered = self.offer_kept();
            if offered.is_err() || !self.kept.is_empty() {
                let mapped = Box::new(self.forwarder()?.map(record));
                self.kept.push_back(mapped);
                return Err(match offered {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => e,
                    _ => self.full(),
                });
            }
        }
        match self.forwarder()?.try_push(record) {
            Ok(position) => {
                self.pushed = position + 1;
                Ok(())
            }
            Err(PushError::Full) => {
                let mapped = Box::new(self.forwarder()?.map(record));
                self.kept.push_back(mapped);
                Err(self.full())
            }
            Err(PushError::Closed) => Err(self.closed()),
        }
    }

    /// Hands the kept records to the forwarder; [`io::ErrorKind::WouldBlock`] while its buffer is
    /// still full. Does not wait for the peer: what it has not accepted yet is
    /// [`unsettled`](Sink::unsettled).
    fn flush(&mut self) -> io::Result<()> {
        self.offer_kept()
    }

    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.flush()
    }

    /// Kept records, plus those pushed that the peer has not answered for yet.
    fn unsettled(&self) -> u64 {
        let in_forwarder = self
            .forwarder
            .as_ref()
            .map_or(0, |f| self.pushed - f.settled_through().min(self.pushed));
        in_forwarder + self.kept.len() as u64
    }

    /// Drops the kept records (the newest); those already in the forwarder cannot be called back and
    /// settle when the peer answers.
    fn discard_unsettled(&mut self) -> u64 {
        let n = self.kept.len() as u64;
        self.kept.clear();
        n
    }
}

impl Drop for OtlpSink {
    fn drop(&mut self) {
        let deadline = Instant::now() + self.close_timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        while self.forwarder.is_some() && matches!(self.push_front_kept(left()), Ok(true)) {}
        let Some(forwarder) = self.forwarder.take() else {
            return;
        };
        let report = forwarder.close(left());
        let unsettled = report.unsettled + self.kept.len() as u64;
        if unsettled > 0 {
            eprintln!(
                "{PREFIX}: warning: sink {}: {unsettled} record(s) not accepted by {} within {} ms \
                 of closing; they were not acknowledged to their senders",
                self.label,
                self.endpoint,
                self.close_timeout.as_millis()
            );
        }
    }
}
