//! The handles that reach into a running collector from outside: [`Shutdown`] (one signal fanned out
//! to every thread: the receiver stops and drains, the writer finishes the queue, the metrics thread
//! ends) and [`ReopenHandle`] (what SIGHUP does: the writer reopens its file sinks).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// One shutdown signal fanned out to every thread of a collector. Clone it freely; triggering any
/// clone stops the collector (it then drains what it has received).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Shutdown {
    /// A handle not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Asks the collector to stop receiving, write out what it has and finish. Idempotent.
    pub fn trigger(&self) {
        let (lock, cv) = &*self.inner;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    /// Whether [`Shutdown::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until triggered.
    pub fn wait(&self) {
        let (lock, cv) = &*self.inner;
        let mut t = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !*t {
            t = cv.wait(t).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Blocks until triggered or `timeout` passed; returns whether it was triggered.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.inner;
        let t = lock.lock().unwrap_or_else(|p| p.into_inner());
        let (t, _) = cv
            .wait_timeout_while(t, timeout, |t| !*t)
            .unwrap_or_else(|p| p.into_inner());
        *t
    }
}

/// Asks a running collector to reopen its file sinks (what SIGHUP does). Cloneable.
#[derive(Debug, Clone, Default)]
pub struct ReopenHandle(Arc<AtomicBool>);

impl ReopenHandle {
    /// Requests a reopen; the writing thread does it within `flush_interval_ms`.
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub(super) fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}
