//! What `--check-config` does ([`check`]): everything [`start`](super::start) would do that can be
//! undone at once. The config is validated, every endpoint and the metrics address are bound and
//! closed again, and every sink path is checked to be writable without creating anything.

use super::receiver;
use super::writer::bind_tail;
use super::{listen_metrics, CollectorError};
use crate::config::{Config, ResolvedSink};
use std::path::{Path, PathBuf};

/// What `--check-config` does: validates, then checks that every sink path could be written and
/// every endpoint and the metrics address could be bound (binding and closing at once). Creates no
/// file or directory.
pub fn check(config: &Config) -> Result<Vec<ResolvedSink>, CollectorError> {
    let resolved = config.resolve_sinks()?;
    let ctx = zmq::Context::new();
    // Bound together, as `start` binds them, so endpoints that clash with each other are found too.
    drop(receiver::bind_all(&ctx, config)?);
    if let Some(t) = &config.tail {
        drop(bind_tail(&ctx, t)?);
    }
    if let Some(m) = &config.metrics {
        drop(listen_metrics(m)?);
    }
    for r in &resolved {
        if let Some(path) = &r.config.path {
            check_writable(path).map_err(|reason| CollectorError::NotWritable {
                index: r.index,
                path: path.clone(),
                reason,
            })?;
        }
    }
    Ok(resolved)
}

/// Whether `path` could be opened for appending, without creating anything: an existing file is
/// opened (not created), otherwise the nearest existing ancestor directory must be writable.
fn check_writable(path: &Path) -> Result<(), String> {
    if path.exists() {
        if path.is_dir() {
            return Err("it is a directory".into());
        }
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    while !dir.exists() {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
            _ => {
                dir = PathBuf::from(".");
                break;
            }
        }
    }
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()))
        .map_err(|_| "the path contains a NUL byte".to_string())?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let ok = unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "directory {} is not writable: {}",
            dir.display(),
            std::io::Error::last_os_error()
        ))
    }
}
