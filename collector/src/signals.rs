//! Signal handling for the `logfunnel-collector` program (the library itself installs none).
//!
//! | signal | effect |
//! |---|---|
//! | SIGTERM, SIGINT (first) | trigger the [`Shutdown`]: stop receiving, write out, flush, exit 0 |
//! | SIGTERM, SIGINT (second) | exit at once with 128 + the signal number (143 / 130) |
//! | SIGHUP | reopen file sinks (after an external `logrotate` renamed them); re-read `curve.allow_dir` |

use crate::runtime::{ReopenHandle, ServerSecurity, Shutdown};
use crate::warn::PREFIX;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Registered handlers; signals that arrive before [`SignalWatcher::spawn`] wait for it.
pub struct SignalWatcher {
    signals: Signals,
}

/// The running watcher thread; dropping it unregisters nothing but stops the thread.
pub struct SignalGuard {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl SignalWatcher {
    /// Registers for SIGTERM, SIGINT and SIGHUP, replacing the default actions.
    pub fn install() -> std::io::Result<SignalWatcher> {
        Ok(SignalWatcher {
            signals: Signals::new([SIGTERM, SIGINT, SIGHUP])?,
        })
    }

    /// Starts the thread acting on the signals.
    pub fn spawn(
        mut self,
        shutdown: Shutdown,
        reopen: ReopenHandle,
        security: Arc<ServerSecurity>,
    ) -> std::io::Result<SignalGuard> {
        let handle = self.signals.handle();
        let thread = std::thread::Builder::new()
            .name("logfunnel-signals".into())
            .spawn(move || {
                for sig in self.signals.forever() {
                    match sig {
                        SIGHUP => {
                            eprintln!("{PREFIX}: SIGHUP: reopening file sinks");
                            reopen.request();
                            reload_allowlist(&security);
                        }
                        _ if shutdown.is_triggered() => {
                            eprintln!("{PREFIX}: second signal: exiting at once");
                            std::process::exit(128 + sig);
                        }
                        _ => {
                            eprintln!(
                                "{PREFIX}: {}: stopping; writing out what was received (signal again to exit at once)",
                                if sig == SIGTERM { "SIGTERM" } else { "SIGINT" }
                            );
                            shutdown.trigger();
                        }
                    }
                }
            })?;
        Ok(SignalGuard {
            handle,
            thread: Some(thread),
        })
    }
}

/// Re-reads the CURVE allowlist and says what came of it; on an error the old list stays.
fn reload_allowlist(security: &ServerSecurity) {
    match security.reload() {
        Some(Ok(keys)) => eprintln!("{PREFIX}: SIGHUP: allowlist re-read, {keys} sender key(s)"),
        Some(Err(e)) => eprintln!("{PREFIX}: warning: SIGHUP: keeping the previous allowlist: {e}"),
        None => {}
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
