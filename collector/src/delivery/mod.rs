//! Acknowledged delivery, the collector's side (`spec/delivery.md`).
//!
//! A v2 sender sends batches of records to the collector's ack `ROUTER` and keeps each record until
//! an ack covers it. For each sender the collector keeps two numbers ([`watermarks`]): how far it has
//! *accepted* records into its queue, and how far every sink has *written* them. The written one is
//! saved in a small crash-safe [`state_file`] before it is acknowledged, so a collector restarted
//! after a crash still knows what it wrote: resent records below the watermark are dropped (counted),
//! and a batch that starts above it means an earlier batch was lost in flight and is asked for again.
//!
//! The commit cycle, in the writing thread: write a run of records to every sink, call
//! [`Watermarks::written`] for each sender in it, save [`Watermarks::saved`] through
//! [`StateFile::save`], then send [`Watermarks::take_acks`]. Ack traffic is one small message per
//! sender that sent something since the last commit, never more.

pub mod state_file;
pub mod watermarks;

pub use state_file::{Loaded, SavedSender, StateError, StateFile};
pub use watermarks::{Admission, DueAck, Watermarks};

use std::path::PathBuf;

/// Where the state file lives when `state_dir` is not set: `$STATE_DIRECTORY` (systemd's
/// `StateDirectory=`), else `$XDG_STATE_HOME/logfunnel`, else `~/.local/state/logfunnel`, else (no
/// home, e.g. a system service) `/var/lib/logfunnel`.
pub fn default_state_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("STATE_DIRECTORY") {
        // systemd may list several, separated by ':'; the first is ours.
        let first = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        return PathBuf::from(first);
    }
    if let Some(dir) = var("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("logfunnel");
    }
    if let Some(home) = var("HOME") {
        return PathBuf::from(home).join(".local/state/logfunnel");
    }
    PathBuf::from("/var/lib/logfunnel")
}
