//! The bounded queue between the receiving thread and the writing thread.
//!
//! It holds [`Batch`]es of messages as received, undecoded, and is bounded both in messages
//! (`queue_max_records`) and in bytes (`queue_max_bytes`). When it is full the receiver waits in
//! [`Queue::push`]: libzmq then buffers up to `rcvhwm` and lossless senders hold their records, so a
//! slow disk slows senders down instead of losing records. An empty queue always takes a batch, so a
//! single message larger than the byte bound still gets through.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Records from the receiving thread to the writing thread, bounded in records and bytes.
pub(super) struct Queue {
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

/// Messages as received, undecoded: the writer decodes each into a `RecordView` that borrows from
/// the message, so no record text is copied between receiving and writing.
#[derive(Default)]
pub(super) struct Batch {
    /// The frames of every message, one message after the other.
    pub(super) frames: Vec<zmq::Message>,
    /// Per message: the socket it came from and how many of `frames` it has.
    pub(super) messages: Vec<(u32, u32)>,
    /// Bytes of every kept frame, counted against `queue_max_bytes`.
    pub(super) bytes: usize,
}

impl Batch {
    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }
}

impl Queue {
    pub(super) fn new(max_records: usize, max_bytes: usize) -> Queue {
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
    pub(super) fn push(&self, batch: Batch) -> bool {
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
    pub(super) fn pop(&self, timeout: Duration) -> Result<Option<Batch>, ()> {
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

    /// Whether the receiver has closed the queue (shutdown).
    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
    }

    pub(super) fn writer_gone(&self) {
        self.lock().writer_gone = true;
        self.not_full.notify_all();
    }
}
