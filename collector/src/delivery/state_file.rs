//! The crash-safe state file: each sender's written watermark, so a restarted collector still drops
//! resent duplicates and reports real gaps.
//!
//! `STATE_DIR/delivery-state.json`, one JSON object, rewritten whole on every save: written to
//! `delivery-state.json.tmp`, optionally fsynced, renamed over the old file, and the directory
//! optionally fsynced. A rename is atomic, so a collector killed at any point leaves either the old
//! or the new file, never a torn one; fsync (asked for when a sink's `fsync` policy is on) extends
//! that to a power cut. The file is bounded by `max_senders` entries (about 80 bytes each).
//!
//! `STATE_DIR/delivery.lock` is held with `flock` while the collector runs, so two collectors never
//! share a state file; the kernel releases it when the process dies, however it dies.
//!
//! A state file that cannot be read as this format (edited, from another program) is set aside as
//! `delivery-state.json.unreadable` and the collector starts empty: that costs duplicates at worst,
//! never records, because every batch carries the sender's own acknowledged watermark.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The state file's name inside `state_dir`.
pub const STATE_FILE_NAME: &str = "delivery-state.json";
/// The lock file's name inside `state_dir`.
pub const LOCK_FILE_NAME: &str = "delivery.lock";
/// The `format` value, so a stray file is never taken for state.
const FORMAT: &str = "logfunnel-delivery-state";
/// The layout version this code reads and writes.
const VERSION: u32 = 1;

/// One sender as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSender<'a> {
    /// The sender's id.
    pub sid: Cow<'a, str>,
    /// Every `seq` below this was written by every sink (and acknowledged, or about to be).
    pub watermark: u64,
    /// When it last sent something, seconds since the Unix epoch (for the bound's eviction order).
    pub last_seen_unix_s: u64,
}

#[derive(Serialize)]
struct FileOut<'a, I: Serialize> {
    format: &'a str,
    version: u32,
    senders: I,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    format: String,
    version: u32,
    senders: Vec<SavedSender<'static>>,
}

/// Why the state directory cannot be used. Each names the path.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another collector holds the lock.
    #[error("state_dir: {path} is in use by another collector (it holds the lock)")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A file operation failed.
    #[error("state_dir: cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What [`StateFile::open`] found.
#[derive(Debug)]
pub struct Loaded {
    /// The saved senders (empty on a first start).
    pub senders: Vec<SavedSender<'static>>,
    /// Set when a file was there but unreadable (and was set aside): worth a warning.
    pub set_aside: Option<String>,
}

/// An open, locked state directory.
#[derive(Debug)]
pub struct StateFile {
    dir: PathBuf,
    path: PathBuf,
    tmp: PathBuf,
    fsync: bool,
    /// Serialization buffer, reused.
    buf: Vec<u8>,
    /// Held for the life of the collector: the `flock`.
    _lock: File,
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> StateError + 'p {
    move |source| StateError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl StateFile {
    /// Creates `dir` if needed, takes its lock and reads the saved state. `fsync`: whether saves
    /// are made durable against a power cut (not needed against a process crash).
    pub fn open(dir: &Path, fsync: bool) -> Result<(StateFile, Loaded), StateError> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let lock_path = dir.join(LOCK_FILE_NAME);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open", &lock_path))?;
        // SAFETY: a valid open descriptor; flock has no memory effects.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == ErrorKind::WouldBlock {
                return Err(StateError::Locked { path: lock_path });
            }
            return Err(io("lock", &lock_path)(err));
        }
        let path = dir.join(STATE_FILE_NAME);
        let tmp = dir.join(format!("{STATE_FILE_NAME}.tmp"));
        let loaded = match std::fs::read(&path) {
            Ok(bytes) => match parse(&bytes) {
                Ok(senders) => Loaded {
                    senders,
                    set_aside: None,
                },
                Err(why) => {
                    let aside = dir.join(format!("{STATE_FILE_NAME}.unreadable"));
                    std::fs::rename(&path, &aside).map_err(io("set aside", &path))?;
                    Loaded {
                        senders: Vec::new(),
                        set_aside: Some(format!(
                            "{}: {why}; moved to {}",
                            path.display(),
                            aside.display()
                        )),
                    }
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Loaded {
                senders: Vec::new(),
                set_aside: None,
            },
            Err(e) => return Err(io("read", &path)(e)),
        };
        let file = StateFile {
            dir: dir.to_path_buf(),
            path,
            tmp,
            fsync,
            buf: Vec::new(),
            _lock: lock,
        };
        Ok((file, loaded))
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the saved state with `senders`, atomically. On an error the previous file is left
    /// as it was (the caller then must not send the acks this save was for).
    pub fn save<'a>(
        &mut self,
        senders: impl Iterator<Item = SavedSender<'a>>,
    ) -> Result<(), StateError> {
        self.buf.clear();
        let out = FileOut {
            format: FORMAT,
            version: VERSION,
            senders: Senders(std::cell::RefCell::new(Some(senders))),
        };
        serde_json::to_writer(&mut self.buf, &out)
            .map_err(|e| io("encode", &self.tmp)(std::io::Error::other(e)))?;
        self.buf.push(b'\n');
        let mut f = File::create(&self.tmp).map_err(io("create", &self.tmp))?;
        f.write_all(&self.buf).map_err(io("write", &self.tmp))?;
        if self.fsync {
            f.sync_all().map_err(io("fsync", &self.tmp))?;
        }
        drop(f);
        std::fs::rename(&self.tmp, &self.path).map_err(io("rename into", &self.path))?;
        if self.fsync {
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io("fsync", &self.dir))?;
        }
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Result<Vec<SavedSender<'static>>, String> {
    let file: FileIn = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.format != FORMAT {
        return Err(format!("format is {:?}, not {FORMAT:?}", file.format));
    }
    if file.version != VERSION {
        return Err(format!(
            "version {} (this collector reads {VERSION})",
            file.version
        ));
    }
    Ok(file.senders)
}

/// Serializes an iterator as a JSON array without collecting it first.
struct Senders<I>(std::cell::RefCell<Option<I>>);

impl<'a, I: Iterator<Item = SavedSender<'a>>> Serialize for Senders<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let iter = self.0.borrow_mut().take();
        s.collect_seq(iter.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn sender(sid: &str, watermark: u64) -> SavedSender<'_> {
        SavedSender {
            sid: Cow::Borrowed(sid),
            watermark,
            last_seen_unix_s: 1_764_600_000,
        }
    }

    #[test]
    fn saved_state_is_loaded_again_and_a_first_start_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, loaded) = StateFile::open(dir.path(), true).unwrap();
        assert!(loaded.senders.is_empty() && loaded.set_aside.is_none());
        let names = ["a", "späť \"quoted\"", "c"];
        f.save(
            names
                .iter()
                .enumerate()
                .map(|(i, s)| sender(s, i as u64 * 10)),
        )
        .unwrap();
        f.save(
            names
                .iter()
                .enumerate()
                .map(|(i, s)| sender(s, i as u64 * 100)),
        )
        .unwrap();
        drop(f);
        let (_, loaded) = StateFile::open(dir.path(), false).unwrap();
        let got: Vec<(String, u64)> = loaded
            .senders
            .iter()
            .map(|s| (s.sid.to_string(), s.watermark))
            .collect();
        let want: Vec<(String, u64)> = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), i as u64 * 100))
            .collect();
        assert_eq!(got, want);
        assert!(!dir.path().join(format!("{STATE_FILE_NAME}.tmp")).exists());
    }

    #[test]
    fn a_second_collector_cannot_take_the_same_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = StateFile::open(dir.path(), false).unwrap();
        let err = StateFile::open(dir.path(), false).unwrap_err();
        assert!(matches!(err, StateError::Locked { .. }), "{err}");
        assert!(err.to_string().contains(LOCK_FILE_NAME));
        drop(first);
        StateFile::open(dir.path(), false).unwrap();
    }

    /// Opens `dir`, waiting (bounded) while it is `Locked`: another test of this binary spawning a
    /// child holds a copy of every open descriptor between its fork and its exec, so the lock of a
    /// state file just dropped here can outlive it by that moment.
    fn open_when_unlocked(dir: &Path) -> (StateFile, Loaded) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match StateFile::open(dir, false) {
                Err(StateError::Locked { .. }) if Instant::now() < deadline => {
                    std::thread::yield_now()
                }
                other => return other.unwrap(),
            }
        }
    }

    #[test]
    fn an_unreadable_file_is_set_aside_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        for junk in [
            &b"{\"senders\":[{\"sid\":\"a\",\"wat"[..],
            b"{\"format\":\"other\",\"version\":1,\"senders\":[]}",
        ] {
            std::fs::write(dir.path().join(STATE_FILE_NAME), junk).unwrap();
            let (_, loaded) = open_when_unlocked(dir.path());
            assert!(loaded.senders.is_empty());
            assert!(loaded.set_aside.unwrap().contains("unreadable"));
            assert_eq!(
                std::fs::read(dir.path().join(format!("{STATE_FILE_NAME}.unreadable"))).unwrap(),
                junk
            );
        }
    }

    #[test]
    fn a_directory_that_cannot_be_written_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let err = StateFile::open(&file.join("state"), false).unwrap_err();
        assert!(err.to_string().contains("a-file"), "{err}");
    }

    /// The child side of [`a_collector_killed_while_saving_leaves_a_whole_file`]: saves forever,
    /// every sender at watermark `round * 1000`, when the parent's variable names a directory.
    #[test]
    fn saving_child() {
        let Ok(dir) = std::env::var("LF_STATE_SAVING_CHILD_DIR") else {
            return;
        };
        let (mut f, _) = StateFile::open(Path::new(&dir), false).unwrap();
        let sids: Vec<String> = (0..2_000).map(|i| format!("sender-{i:05}")).collect();
        for round in 1u64.. {
            f.save(sids.iter().map(|s| sender(s, round * 1000)))
                .unwrap();
            std::fs::write(Path::new(&dir).join("round"), round.to_string()).unwrap();
        }
    }

    /// A real process SIGKILLed while it rewrites the state (2,000 senders, saving flat out): the
    /// file left behind is always one whole save, and the lock dies with the process.
    #[test]
    fn a_collector_killed_while_saving_leaves_a_whole_file() {
        let exe = std::env::current_exe().unwrap();
        for kill in 0..5u64 {
            let dir = tempfile::tempdir().unwrap();
            let mut child = std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "delivery::state_file::tests::saving_child",
                    "--test-threads=1",
                ])
                .env("LF_STATE_SAVING_CHILD_DIR", dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Let it complete a few rounds (more on each kill, so the kill lands at other points).
            let give_up = Instant::now() + Duration::from_secs(60);
            let round = || {
                std::fs::read_to_string(dir.path().join("round"))
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            while round() < 2 + kill && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(2));
            }
            assert!(round() >= 2 + kill, "the saving child made no progress");
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let (_, loaded) = StateFile::open(dir.path(), false).unwrap();
            assert!(loaded.set_aside.is_none(), "{:?}", loaded.set_aside);
            assert_eq!(loaded.senders.len(), 2_000);
            let w = loaded.senders[0].watermark;
            assert!(w >= 1000 && w % 1000 == 0);
            assert!(
                loaded.senders.iter().all(|s| s.watermark == w),
                "one whole save"
            );
        }
    }

    /// Not a timing assertion: prints what a save of the largest table costs, for spec/delivery.md.
    #[test]
    fn cost_of_saving_ten_thousand_senders() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, _) = StateFile::open(dir.path(), false).unwrap();
        let sids: Vec<String> = (0..10_000)
            .map(|i| format!("{i:016x}-{:08x}", i * 7))
            .collect();
        let start = Instant::now();
        for round in 0..20 {
            f.save(sids.iter().map(|s| sender(s, round))).unwrap();
        }
        let bytes = std::fs::metadata(f.path()).unwrap().len();
        eprintln!(
            "state file: 10000 senders, {bytes} bytes, {:?} per save ({} build)",
            start.elapsed() / 20,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
        drop(f);
        let (_, loaded) = StateFile::open(dir.path(), false).unwrap();
        assert_eq!(loaded.senders.len(), 10_000);
        assert!(loaded.senders.iter().all(|s| s.watermark == 19));
    }
}
