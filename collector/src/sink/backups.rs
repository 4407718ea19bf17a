//! The rotated files of one [`RotatingFileSink`](super::RotatingFileSink): finding them by name,
//! choosing the next name, shifting numbered backups and pruning by count and age. The naming
//! rules are in the [`rotating`](super::rotating) module docs.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::clock::unix_secs;
use super::compress::{with_suffix, Compressor, Jobs};
use super::rotation::Timed;
use super::SinkError;

/// Which backup a file is, independent of compression; orders oldest first within a kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// `app.log.N` (size rotation). Higher is older.
    Numbered(u64),
    /// `app.log.<suffix>[.N]` (time rotation). Later suffix and higher N are newer.
    Timed(String, u64),
}

/// One file in the directory that belongs to this sink's backups.
#[derive(Debug)]
struct Found {
    path: PathBuf,
    key: Key,
    gz: bool,
    /// An unfinished compression (`<backup>.gz.tmp`).
    tmp: bool,
}

/// Where a log file's backups live and how they are named.
#[derive(Debug)]
pub(crate) struct Backups {
    dir: PathBuf,
    base_name: OsString,
    /// Time rotation's naming, or `None` for size rotation's `.N`.
    timed: Option<Timed>,
}

impl Backups {
    /// The backups of the log file `path`; `None` if the path has no file name.
    pub(crate) fn new(path: &Path, timed: Option<Timed>) -> Option<Backups> {
        let base_name = path.file_name()?.to_os_string();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(Backups {
            dir,
            base_name,
            timed,
        })
    }

    /// Deletes `*.gz.tmp` leftovers and `.gz` duplicates of complete backups; queues
    /// uncompressed backups when compressing.
    pub(crate) fn recover(&self, compressor: Option<&Compressor>) -> Result<(), SinkError> {
        let found = self.list_or_error()?;
        let mut jobs = compressor.map(|c| c.lock());
        let plain: Vec<&Found> = found.iter().filter(|f| !f.gz && !f.tmp).collect();
        for f in &found {
            let duplicate = f.gz && plain.iter().any(|p| p.key == f.key);
            if f.tmp || duplicate {
                remove(jobs.as_deref_mut(), &f.path)
                    .map_err(|e| SinkError::io("delete leftover", &f.path, e))?;
            }
        }
        if let Some(jobs) = jobs.as_deref_mut() {
            let mut queue = plain;
            queue.sort_by(|a, b| oldest_first(&a.key, &b.key));
            for f in queue {
                jobs.enqueue(f.path.clone());
            }
        }
        drop(jobs);
        if let Some(c) = compressor {
            c.notify();
        }
        Ok(())
    }

    /// The backups (and compression leftovers) of this sink, in no particular order.
    fn list(&self) -> io::Result<Vec<Found>> {
        let mut prefix = self.base_name.as_bytes().to_vec();
        prefix.push(b'.');
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(rest) = name.as_bytes().strip_prefix(prefix.as_slice()) else {
                continue;
            };
            let Ok(rest) = std::str::from_utf8(rest) else {
                continue;
            };
            let (rest, gz, tmp) = if let Some(r) = rest.strip_suffix(".gz.tmp") {
                (r, true, true)
            } else if let Some(r) = rest.strip_suffix(".gz") {
                (r, true, false)
            } else {
                (rest, false, false)
            };
            let key = match &self.timed {
                Some(t) => parse_timed(t, rest),
                None => parse_number(rest).map(Key::Numbered),
            };
            if let Some(key) = key {
                found.push(Found {
                    path: self.dir.join(&name),
                    key,
                    gz,
                    tmp,
                });
            }
        }
        Ok(found)
    }

    fn list_or_error(&self) -> Result<Vec<Found>, SinkError> {
        self.list()
            .map_err(|e| SinkError::io("read directory", &self.dir, e))
    }

    /// `<dir>/<base>.<rest>`.
    fn path(&self, rest: &str) -> PathBuf {
        let mut name = self.base_name.clone();
        name.push(".");
        name.push(rest);
        self.dir.join(name)
    }

    /// Size rotation: deletes backups beyond `keep - 1` (`keep` 0 keeps all), shifts the others up
    /// by one and returns the free `.1` name.
    pub(crate) fn shift(
        &self,
        keep: usize,
        mut jobs: Option<&mut Jobs>,
    ) -> Result<PathBuf, SinkError> {
        let found = self.list_or_error()?;
        let mut numbered: Vec<(u64, &Found)> = found
            .iter()
            .filter_map(|f| match f.key {
                Key::Numbered(n) => Some((n, f)),
                Key::Timed(..) => None,
            })
            .collect();
        // Highest first, so each destination is already free.
        numbered.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        for (n, f) in numbered {
            if f.tmp {
                // A running compression's output: the worker renames or deletes it.
                continue;
            }
            if keep > 0 && n >= keep as u64 {
                remove(jobs.as_deref_mut(), &f.path)
                    .map_err(|e| SinkError::io("delete old backup", &f.path, e))?;
                continue;
            }
            let mut to = self.path(&(n + 1).to_string());
            if f.gz {
                to = with_suffix(&to, ".gz");
            }
            fs::rename(&f.path, &to).map_err(|e| rename_error(&f.path, &to, e))?;
            if let Some(jobs) = jobs.as_deref_mut() {
                jobs.renamed(&f.path, &to);
            }
        }
        Ok(self.path("1"))
    }

    /// Time rotation: `<base>.<suffix>` for the first file of a period, then `<base>.<suffix>.<N>`
    /// with N one more than the highest of the period present (even if pruning removed the
    /// lower ones, so names keep sorting oldest first).
    pub(crate) fn timed_target(&self, suffix: &str) -> Result<PathBuf, SinkError> {
        let highest = self
            .list_or_error()?
            .iter()
            .filter_map(|f| match &f.key {
                Key::Timed(s, n) if s == suffix => Some(*n),
                _ => None,
            })
            .max();
        Ok(match highest {
            None => self.path(suffix),
            Some(n) => self.path(&format!("{suffix}.{}", n + 1)),
        })
    }

    /// Keeps the newest `keep` backups (time rotation; 0 keeps all, size rotation applies it while
    /// shifting and passes 0) and deletes those last written before `now - max_age`.
    pub(crate) fn prune(
        &self,
        keep: usize,
        max_age: Option<Duration>,
        now: i64,
        compressor: Option<&Compressor>,
    ) -> io::Result<()> {
        let by_count = keep > 0;
        if !by_count && max_age.is_none() {
            return Ok(());
        }
        let found = self.list()?;
        let mut doomed: Vec<&Found> = Vec::new();
        let mut groups: BTreeMap<&Key, Vec<&Found>> = BTreeMap::new();
        for f in found.iter().filter(|f| !f.tmp) {
            groups.entry(&f.key).or_default().push(f);
        }
        if by_count && groups.len() > keep {
            let excess = groups.len() - keep;
            // Timed keys sort oldest first.
            let oldest: Vec<&Key> = groups.keys().take(excess).copied().collect();
            for key in oldest {
                doomed.extend(groups.remove(key).unwrap_or_default());
            }
        }
        if let Some(max_age) = max_age {
            let limit = now.saturating_sub(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
            for f in groups.values().flatten() {
                let modified = fs::metadata(&f.path).and_then(|m| m.modified());
                if modified.is_ok_and(|m| unix_secs(m) < limit) {
                    doomed.push(f);
                }
            }
        }
        if doomed.is_empty() {
            return Ok(());
        }
        let mut jobs = compressor.map(|c| c.lock());
        for f in doomed {
            remove(jobs.as_deref_mut(), &f.path)?;
        }
        Ok(())
    }
}

/// Deletes a backup (already gone is fine) and tells the compressor.
fn remove(jobs: Option<&mut Jobs>, path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if let Some(jobs) = jobs {
        jobs.removed(path);
    }
    Ok(())
}

pub(crate) fn rename_error(from: &Path, to: &Path, source: io::Error) -> SinkError {
    SinkError::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    }
}

/// Oldest backup first: highest number for size rotation, earliest suffix for time rotation.
fn oldest_first(a: &Key, b: &Key) -> std::cmp::Ordering {
    match (a, b) {
        (Key::Numbered(x), Key::Numbered(y)) => y.cmp(x),
        _ => a.cmp(b),
    }
}

/// A size-rotation index: digits without a leading zero, at least 1.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `<suffix>` or `<suffix>.<N>` for this unit.
fn parse_timed(t: &Timed, s: &str) -> Option<Key> {
    let len = t.when.suffix_template().len();
    let suffix = s.get(..len)?;
    if !t.when.matches_suffix(suffix) {
        return None;
    }
    let n = match &s[len..] {
        "" => 0,
        rest => parse_number(rest.strip_prefix('.')?)?,
    };
    Some(Key::Timed(suffix.to_string(), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::When;

    #[test]
    fn parses_backup_names() {
        assert_eq!(parse_number("12"), Some(12));
        assert_eq!(parse_number("012"), None);
        assert_eq!(parse_number("0"), None);
        let t = Timed {
            when: When::Hours,
            interval: 1,
            utc: true,
            at_time: None,
        };
        assert_eq!(
            parse_timed(&t, "2024-03-10_12"),
            Some(Key::Timed("2024-03-10_12".into(), 0))
        );
        assert_eq!(
            parse_timed(&t, "2024-03-10_12.3"),
            Some(Key::Timed("2024-03-10_12".into(), 3))
        );
        assert_eq!(parse_timed(&t, "2024-03-10_12x3"), None);
        assert_eq!(parse_timed(&t, "2024-03-10"), None);
    }
}
