//! The calling thread's `thread` and `threadName`, looked up once per thread.
//!
//! `thread` is `pthread_self()`, what Python's `threading.get_ident()` and the C binding report, so
//! records from every language name threads alike.

use std::rc::Rc;

/// Who is logging: read at a thread's first log call and kept for its life.
#[derive(Clone)]
pub(crate) struct ThreadIdent {
    pub(crate) id: i64,
    pub(crate) name: Option<Rc<str>>,
}

thread_local! {
    static CURRENT: ThreadIdent = ThreadIdent {
        // pthread_t is an address on Linux: positive and below 2^63.
        // SAFETY: pthread_self has no preconditions.
        id: unsafe { libc::pthread_self() } as i64,
        name: std::thread::current().name().map(Rc::from),
    };
}

/// The calling thread's identity; `None` while the thread is being torn down (a log call from a
/// thread-local destructor), when the record simply goes without it.
pub(crate) fn current() -> Option<ThreadIdent> {
    CURRENT.try_with(ThreadIdent::clone).ok()
}
