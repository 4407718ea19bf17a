//! The bounded queue between log calls and the I/O thread, and the state both sides share: what
//! a full queue does ([`OverflowPolicy`]), the counters behind [`Stats`], flush and close.

use super::io::IoThread;
use super::{FlushStatus, Outcome, OverflowPolicy, SenderError, SenderOptions, Stats};
use crate::encode::{self, Encoded};
use crate::fork;
use crate::record::RecordView;
use crate::transport;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The sender of one fork generation: its shared state and its I/O thread.
pub(super) struct Inner {
    pub(super) generation: u64,
    shared: Arc<Shared>,
    io_thread: Mutex<Option<JoinHandle<()>>>,
}

/// What log calls and the I/O thread share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Signalled when the I/O thread should look at the queue.
    pub(super) wake_io: Condvar,
    /// Signalled when room appears in the queue or it drains.
    pub(super) progress: Condvar,
    pub(super) counters: Counters,
    pub(super) sid: String,
    pub(super) host: String,
    pub(super) pid: i64,
    /// `host`, `lang` and `sid` as they go into every frame of an [`Item::Encoded`].
    pub(super) sender_fields: Vec<u8>,
    pub(super) max_frame_bytes: usize,
}

/// A queued record: one the I/O thread still has to encode (an owned record from
/// [`Sender::log`](super::Sender::log), or one too large for the log call's encoding), or one
/// already encoded by the log call ([`Sender::log_ref`](super::Sender::log_ref)).
pub(super) enum Item {
    /// Boxed: queue slots stay small for the common, encoded case.
    Record(Box<RecordView<'static>>),
    Encoded(Encoded),
}

/// A record on its way into the queue, with what it counts against `queue_max_bytes`.
pub(super) struct Entry {
    pub(super) item: Item,
    pub(super) cost: usize,
}

/// A record that found the queue full under [`OverflowPolicy::Block`] in
/// [`Sender::try_log_ref`](super::Sender::try_log_ref): pass it to
/// [`Sender::log_waiting`](super::Sender::log_waiting) (which may wait), e.g. after releasing a lock
/// of your own.
pub struct MustWait {
    pub(super) entry: Entry,
    pub(super) levelno: i64,
}

impl MustWait {
    /// An owned record, for the I/O thread to encode.
    pub(super) fn owned(record: RecordView<'static>, levelno: i64) -> MustWait {
        let cost = record.cost();
        MustWait {
            entry: Entry {
                item: Item::Record(Box::new(record)),
                cost,
            },
            levelno,
        }
    }
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) enqueued: AtomicU64,
    pub(super) sent: AtomicU64,
    pub(super) dropped_queue_full: AtomicU64,
    pub(super) dropped_closed: AtomicU64,
    pub(super) dropped_at_close: AtomicU64,
    pub(super) dropped_oversized: AtomicU64,
    pub(super) truncated: AtomicU64,
    pub(super) filtered: AtomicU64,
    pub(super) connected: AtomicBool,
    pub(super) linger_expired: AtomicBool,
    pub(super) acknowledging: AtomicBool,
    pub(super) acknowledged: AtomicU64,
    pub(super) unacknowledged: AtomicU64,
    pub(super) resent: AtomicU64,
}

pub(super) struct State {
    pub(super) queue: VecDeque<(u64, Entry)>,
    pub(super) queued_bytes: usize,
    pub(super) next_seq: u64,
    /// Records taken by the I/O thread and not yet handed to libzmq, or (acknowledged delivery)
    /// not yet acknowledged.
    pub(super) in_flight: u64,
    /// What the acknowledged window's records count against `queue_max_bytes`.
    pub(super) held_bytes: usize,
    pub(super) io_waiting: bool,
    pub(super) waiters: usize,
    pub(super) stalled: bool,
    pub(super) closing: Option<Instant>,
    pub(super) finished: bool,
}
impl Inner {
    /// Encodes a borrowed record for the queue, or makes it an owned one where the I/O thread has
    /// work to do on it (truncation).
    pub(super) fn prepare(&self, mut record: RecordView<'_>) -> MustWait {
        let shared = &*self.shared;
        let levelno = record.levelno;
        let cost = record.cost();
        record.fill_sender_fields(shared.pid);
        let mut body = Vec::with_capacity(record.encoded_len_hint());
        let split = record.encode_body(&mut body);
        let fits = body.len() + shared.sender_fields.len() + encode::SEQ_AND_END_MAX
            <= shared.max_frame_bytes;
        let item = if fits {
            Item::Encoded(Encoded { body, split })
        } else {
            Item::Record(Box::new(record.into_owned()))
        };
        MustWait {
            entry: Entry { item, cost },
            levelno,
        }
    }

    pub(super) fn count_filtered(&self) {
        self.shared
            .counters
            .filtered
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_closed(&self) {
        self.shared
            .counters
            .dropped_closed
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn sid(&self) -> String {
        self.shared.sid.clone()
    }

    pub(super) fn start(options: &SenderOptions, generation: u64) -> Result<Inner, SenderError> {
        let ctx = zmq::Context::new();
        let socket = transport::connect_sender(&ctx, options).map_err(|e| SenderError::Zmq {
            action: e.action,
            endpoint: e.endpoint,
            source: e.source,
        })?;

        let pid = std::process::id();
        let sid = new_sid(pid);
        let host = options.host.clone().unwrap_or_else(host_name);
        let sender_fields = encode::sender_fields(&host, options.lang.as_str(), &sid);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                next_seq: 0,
                in_flight: 0,
                held_bytes: 0,
                io_waiting: false,
                waiters: 0,
                stalled: false,
                closing: None,
                finished: false,
            }),
            wake_io: Condvar::new(),
            progress: Condvar::new(),
            counters: Counters::default(),
            sid,
            host,
            pid: pid as i64,
            sender_fields,
            max_frame_bytes: options.max_frame_bytes,
        });
        let io = IoThread::new(Arc::clone(&shared), socket, ctx, options);
        let handle = std::thread::Builder::new()
            .name("logfunnel-sender".into())
            .spawn(move || io.run())
            .map_err(SenderError::Thread)?;
        Ok(Inner {
            generation,
            shared,
            io_thread: Mutex::new(Some(handle)),
        })
    }

    /// Queues the record. Without `may_wait`, one that would have to wait for room is handed back.
    pub(super) fn offer(
        &self,
        options: &SenderOptions,
        wait: MustWait,
        may_wait: bool,
    ) -> Result<Outcome, MustWait> {
        let cost = wait.entry.cost;
        let shared = &*self.shared;
        let mut st = lock(&shared.state);
        if st.closing.is_some() {
            drop(st);
            shared
                .counters
                .dropped_closed
                .fetch_add(1, Ordering::Relaxed);
            return Ok(Outcome::Closed);
        }
        // Records the I/O thread holds (unacknowledged ones too) count, so `queue_capacity` and
        // `queue_max_bytes` are the real bounds.
        let full = |st: &State| {
            st.queue.len() + st.in_flight as usize >= options.queue_capacity
                || (st.queued_bytes + st.held_bytes + cost > options.queue_max_bytes
                    && (!st.queue.is_empty() || st.held_bytes > 0))
        };
        if full(&st) {
            match options.overflow {
                OverflowPolicy::DropNewest => return Ok(self.drop_new(st)),
                OverflowPolicy::DropOldest => {
                    while full(&st) {
                        let Some((_, Entry { cost: c, .. })) = st.queue.pop_front() else {
                            // Everything is already with the I/O thread: drop the new one instead.
                            return Ok(self.drop_new(st));
                        };
                        st.queued_bytes -= c;
                        shared
                            .counters
                            .dropped_queue_full
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                OverflowPolicy::Block => {
                    if st.stalled {
                        return Ok(self.drop_new(st));
                    }
                    if !may_wait {
                        return Err(wait);
                    }
                    let deadline = Instant::now() + options.block_timeout;
                    st.waiters += 1;
                    while full(&st) && st.closing.is_none() {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        st = shared
                            .progress
                            .wait_timeout(st, deadline - now)
                            .map(|(g, _)| g)
                            .unwrap_or_else(|e| e.into_inner().0);
                    }
                    st.waiters -= 1;
                    if st.closing.is_some() {
                        drop(st);
                        shared
                            .counters
                            .dropped_closed
                            .fetch_add(1, Ordering::Relaxed);
                        return Ok(Outcome::Closed);
                    }
                    if full(&st) {
                        st.stalled = true;
                        return Ok(self.drop_new(st));
                    }
                }
            }
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        st.queue.push_back((seq, wait.entry));
        st.queued_bytes += cost;
        let wake = st.io_waiting;
        if wake {
            st.io_waiting = false;
        }
        drop(st);
        shared.counters.enqueued.fetch_add(1, Ordering::Relaxed);
        if wake {
            shared.wake_io.notify_one();
        }
        Ok(Outcome::Queued)
    }

    /// Drops the record being offered; its seq number is used up so the collector sees the gap.
    fn drop_new(&self, mut st: MutexGuard<'_, State>) -> Outcome {
        st.next_seq += 1;
        drop(st);
        self.shared
            .counters
            .dropped_queue_full
            .fetch_add(1, Ordering::Relaxed);
        Outcome::QueueFull
    }

    pub(super) fn flush(&self, timeout: Duration) -> FlushStatus {
        let shared = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = lock(&shared.state);
        st.waiters += 1;
        loop {
            let pending = st.queue.len() as u64 + st.in_flight;
            if pending == 0 || st.finished {
                st.waiters -= 1;
                return if pending == 0 {
                    FlushStatus::Flushed
                } else {
                    FlushStatus::TimedOut { pending }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                st.waiters -= 1;
                return FlushStatus::TimedOut { pending };
            }
            if st.io_waiting {
                st.io_waiting = false;
                shared.wake_io.notify_one();
            }
            st = shared
                .progress
                .wait_timeout(st, (deadline - now).min(Duration::from_millis(50)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    pub(super) fn close(&self, timeout: Duration) -> FlushStatus {
        let deadline = Instant::now() + timeout;
        let status = self.flush(timeout);
        {
            let mut st = lock(&self.shared.state);
            if st.closing.is_none() {
                // What is left of the timeout becomes the socket's linger.
                st.closing = Some(deadline);
            }
            st.io_waiting = false;
        }
        self.shared.wake_io.notify_all();
        self.shared.progress.notify_all();
        let handle = lock(&self.io_thread).take();
        let terminated_here = handle.is_some();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        if terminated_here
            && status == FlushStatus::Flushed
            && self.shared.counters.linger_expired.load(Ordering::Relaxed)
        {
            return FlushStatus::TimedOut { pending: 0 };
        }
        status
    }

    pub(super) fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let depth = {
            let st = lock(&self.shared.state);
            st.queue.len() as u64 + st.in_flight
        };
        Stats {
            enqueued: c.enqueued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped_queue_full: c.dropped_queue_full.load(Ordering::Relaxed),
            dropped_closed: c.dropped_closed.load(Ordering::Relaxed),
            dropped_at_close: c.dropped_at_close.load(Ordering::Relaxed),
            dropped_oversized: c.dropped_oversized.load(Ordering::Relaxed),
            truncated: c.truncated.load(Ordering::Relaxed),
            filtered: c.filtered.load(Ordering::Relaxed),
            depth,
            connected: c.connected.load(Ordering::Relaxed),
            linger_expired: c.linger_expired.load(Ordering::Relaxed),
            acknowledging: c.acknowledging.load(Ordering::Relaxed),
            acknowledged: c.acknowledged.load(Ordering::Relaxed),
            unacknowledged: c.unacknowledged.load(Ordering::Relaxed),
            resent: c.resent.load(Ordering::Relaxed),
        }
    }
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn new_sid(pid: u32) -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(pid);
    h.write_u64(fork::generation());
    format!("{pid:x}-{:016x}", h.finish())
}

impl RecordView<'_> {
    /// What the record counts against `queue_max_bytes`: its big texts plus a fixed overhead.
    pub(crate) fn cost(&self) -> usize {
        let len = |s: &Option<std::borrow::Cow<'_, str>>| s.as_deref().map_or(0, str::len);
        256 + self.msg.len()
            + self.name.len()
            + len(&self.exc_text)
            + len(&self.stack_info)
            + self.extra.len() * 32
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the queue inconsistent; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
