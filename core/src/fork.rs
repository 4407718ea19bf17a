//! Fork awareness. libzmq's I/O threads do not survive `fork()`, and a child that touches (or even
//! closes) an inherited context makes the parent abort. So every fork bumps a process-wide generation
//! counter (a `pthread_atfork` child handler); a sender built in another generation is left alone and
//! replaced by a fresh one on first use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn bump_generation_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Installs the fork hook (once per process; it is inherited by children).
pub(crate) fn install_hook() {
    REGISTER.call_once(|| {
        // SAFETY: registering a handler that only touches an atomic is async-signal-safe and sound.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(bump_generation_in_child)) };
        debug_assert_eq!(rc, 0, "pthread_atfork failed");
    });
}

/// The current fork generation: 0 in the process that installed the hook, +1 per fork since.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}
