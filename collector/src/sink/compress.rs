//! Gzip of rotated files on a worker thread owned by the rotating sink, so the writer only renames.
//!
//! Crash safety: the worker writes `<backup>.gz.tmp`, fsyncs it, renames it to `<backup>.gz`,
//! fsyncs the directory and only then deletes `<backup>`. At every instant the data is complete in
//! `<backup>` or in `<backup>.gz`; leftovers are cleaned on the next open (see
//! `RotatingFileSink::open`).
//!
//! Coordination with the writer: every unfinished job is tracked by the current path of its
//! source. The writer does all its renames and deletions of backups while holding the same lock
//! and reports them ([`Jobs::renamed`], [`Jobs::removed`]), so when the worker finishes it
//! installs the `.gz` next to wherever the source is now, or throws it away if the source was
//! pruned meanwhile. The lock is never held while compressing.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::SinkError;

/// At most this many background errors are kept until the runtime takes them.
const MAX_ERRORS: usize = 64;

struct Job {
    /// Where the uncompressed source is now.
    path: PathBuf,
    started: bool,
    cancelled: bool,
}

/// The jobs not yet finished, in the order they were queued. Locked by the writer while it
/// renames or deletes backups.
pub(crate) struct Jobs {
    jobs: Vec<Job>,
    stop: bool,
    errors: Vec<SinkError>,
}

impl Jobs {
    /// Queues `path` for compression. The caller notifies the worker after unlocking.
    pub(crate) fn enqueue(&mut self, path: PathBuf) {
        if !self.jobs.iter().any(|j| j.path == path && !j.cancelled) {
            self.jobs.push(Job {
                path,
                started: false,
                cancelled: false,
            });
        }
    }

    /// The writer renamed a backup.
    pub(crate) fn renamed(&mut self, from: &Path, to: &Path) {
        for job in self.jobs.iter_mut().filter(|j| j.path == from) {
            job.path = to.to_path_buf();
        }
    }

    /// The writer deleted a backup: a queued job is dropped, a running one is cancelled.
    pub(crate) fn removed(&mut self, path: &Path) {
        self.jobs.retain(|j| j.path != path || j.started);
        for job in self.jobs.iter_mut().filter(|j| j.path == path) {
            job.cancelled = true;
        }
    }

    fn push_error(&mut self, err: SinkError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(err);
        }
    }
}

struct Shared {
    jobs: Mutex<Jobs>,
    /// Signals new jobs and stop to the worker, and finished jobs to `wait_idle`.
    changed: Condvar,
    /// Set on drop: the running job stops at its next chunk and is redone on the next open.
    abort: AtomicBool,
}

/// The compression worker of one rotating sink. Dropping it stops the worker promptly.
pub(crate) struct Compressor {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl Compressor {
    /// Starts the worker thread.
    pub(crate) fn start(log_path: &Path) -> Result<Compressor, SinkError> {
        let shared = Arc::new(Shared {
            jobs: Mutex::new(Jobs {
                jobs: Vec::new(),
                stop: false,
                errors: Vec::new(),
            }),
            changed: Condvar::new(),
            abort: AtomicBool::new(false),
        });
        let for_worker = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("logfunnel-gzip".into())
            .spawn(move || run(&for_worker))
            .map_err(|e| SinkError::io("start the compression thread for", log_path, e))?;
        Ok(Compressor {
            shared,
            worker: Some(worker),
        })
    }

    /// Locks the job list; hold it while renaming or deleting backups.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Jobs> {
        lock(&self.shared)
    }

    /// Wakes the worker after jobs were queued.
    pub(crate) fn notify(&self) {
        self.shared.changed.notify_all();
    }

    /// Waits until every queued job is finished, at most `timeout`. Returns whether all are.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut jobs = self.lock();
        while !jobs.jobs.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            jobs = self
                .shared
                .changed
                .wait_timeout(jobs, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Errors since the last call.
    pub(crate) fn take_errors(&self) -> Vec<SinkError> {
        std::mem::take(&mut self.lock().errors)
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.shared.abort.store(true, Ordering::Relaxed);
        self.lock().stop = true;
        self.notify();
        if let Some(worker) = self.worker.take() {
            // The worker never panics on I/O errors; a join error would only repeat a panic.
            let _ = worker.join();
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Jobs> {
    // Every update of the job list is a single push/retain/assignment: a panic elsewhere cannot
    // leave it inconsistent, so a poisoned lock is still usable.
    shared.jobs.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(shared: &Shared) {
    lower_priority();
    loop {
        // Take the next job and open its source under the lock, so the path is current.
        let (source, opened) = {
            let mut jobs = lock(shared);
            loop {
                if jobs.stop {
                    return;
                }
                if let Some(job) = jobs.jobs.iter_mut().find(|j| !j.started) {
                    job.started = true;
                    let path = job.path.clone();
                    let opened = File::open(&path);
                    break (path, opened);
                }
                jobs = shared.changed.wait(jobs).unwrap_or_else(|e| e.into_inner());
            }
        };
        let tmp = with_suffix(&source, ".gz.tmp");
        let result = opened
            .map_err(|e| ("open", e))
            .and_then(|file| compress(file, &tmp, &shared.abort).map_err(|e| ("compress", e)));

        let mut jobs = lock(shared);
        let index = jobs
            .jobs
            .iter()
            .position(|j| j.started)
            .expect("the running job stays listed until the worker removes it");
        let job = jobs.jobs.remove(index);
        match result {
            Ok(()) if !job.cancelled => {
                if let Err((op, e)) = install(&tmp, &job.path) {
                    let _ = std::fs::remove_file(&tmp);
                    jobs.push_error(SinkError::io(op, &job.path, e));
                }
            }
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
            }
            Err((op, e)) => {
                let _ = std::fs::remove_file(&tmp);
                let gone = e.kind() == io::ErrorKind::NotFound && op == "open";
                let aborted = shared.abort.load(Ordering::Relaxed);
                if !gone && !aborted && !job.cancelled {
                    jobs.push_error(SinkError::io("compress rotated file", &job.path, e));
                }
            }
        }
        drop(jobs);
        shared.changed.notify_all();
    }
}

/// Compresses `source` into `tmp`, durable on return.
fn compress(mut source: File, tmp: &Path, abort: &AtomicBool) -> io::Result<()> {
    let modified = source.metadata().and_then(|m| m.modified()).ok();
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    let mut encoder = GzEncoder::new(out, Compression::default());
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if abort.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "sink closed during compression",
            ));
        }
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        encoder.write_all(&buf[..n])?;
    }
    let out = encoder.finish()?;
    if let Some(modified) = modified {
        // Age retention looks at mtime: keep the time of the last record, not of compression.
        out.set_modified(modified)?;
    }
    out.sync_all()
}

/// Puts the finished `tmp` in place as `<source>.gz` and deletes `source`, in that order.
fn install(tmp: &Path, source: &Path) -> Result<(), (&'static str, io::Error)> {
    let gz = with_suffix(source, ".gz");
    std::fs::rename(tmp, &gz).map_err(|e| ("rename compressed file to", e))?;
    if let Some(dir) = source.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        // The .gz must be durable in the directory before the only other copy goes.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| ("sync directory of", e))?;
    }
    match std::fs::remove_file(source) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(("delete compressed original", e)),
        _ => Ok(()),
    }
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Compression is background work: let the writer thread win the CPU (2-core machines).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority on our own thread id only changes this
    // thread's nice value, and a failure is harmless (we keep the default priority).
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}
