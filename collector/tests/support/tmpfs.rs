//! A real tmpfs for full-disk tests (needs root for `mount`; CI runs as root).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Record `i`: 99 bytes and the newline, so record ends and page ends do not line up.
pub fn record(i: usize) -> String {
    format!("record {i:06} {}", "x".repeat(85))
}

/// Records `range`, each with its newline, as a file holding them reads.
pub fn records(range: std::ops::Range<usize>) -> String {
    range.map(|i| record(i) + "\n").collect()
}

/// A real tmpfs, unmounted on drop.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size`; `None`, after saying why, when not root.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                io::stderr(),
                "SKIPPED: mounting a tmpfs needs root (CI runs as root)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed: {status}");
        Some(Tmpfs { dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fills the file system with `filler`, then frees `free` bytes of it; returns its path.
    pub fn fill_leaving(&self, free: u64) -> PathBuf {
        let path = self.path("filler");
        let mut file = File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let err = loop {
            if let Err(e) = file.write_all(&chunk) {
                break e;
            }
        };
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        let len = file.metadata().unwrap().len();
        file.set_len(len - free).unwrap();
        path
    }
}

/// Frees the filler's space. Truncated, not just removed: a test forking `mount` at that moment
/// holds the file open a little longer, and an unlinked file keeps its space until closed.
pub fn free(filler: &Path) {
    File::create(filler).unwrap();
    fs::remove_file(filler).unwrap();
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: another test forking `mount` at this moment briefly holds our files open too.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}
