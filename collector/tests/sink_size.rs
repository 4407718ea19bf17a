//! Size rotation: Python's `.1`..`.N` names and shifting, backup_count, lines never split.

mod sink_common;

use std::collections::HashSet;
use std::fs;

use logfunnel_collector::sink::{RotatingFileSink, RotatingOptions, Rotation, Sink};
use sink_common::{expect, listing, names, temp_log};

/// Writes `lineNN` (7 bytes with the newline) for each number in `range`, then flushes.
fn write_lines(sink: &mut dyn Sink, range: std::ops::Range<usize>) {
    for i in range {
        sink.write(20, &format!("line{i:02}")).unwrap();
    }
    sink.flush().unwrap();
}

#[test]
fn shifts_backups_and_prunes_beyond_backup_count() {
    let (dir, path) = temp_log();
    // "lineNN\n" is 7 bytes: two lines fit in 14 bytes, a third would exceed.
    let options = RotatingOptions::new().backup_count(3);
    let mut sink = RotatingFileSink::open(&path, Rotation::size(14), options).unwrap();
    write_lines(&mut sink, 0..6);
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["line04", "line05"]),
            ("app.log.1", &["line02", "line03"]),
            ("app.log.2", &["line00", "line01"]),
        ])
    );
    write_lines(&mut sink, 6..12);
    // Only 3 backups stay; the oldest lines are gone, the newest backup is .1.
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["line10", "line11"]),
            ("app.log.1", &["line08", "line09"]),
            ("app.log.2", &["line06", "line07"]),
            ("app.log.3", &["line04", "line05"]),
        ])
    );
}

#[test]
fn backup_count_zero_keeps_every_backup() {
    let (dir, path) = temp_log();
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(6), RotatingOptions::new()).unwrap();
    for i in 0..12 {
        sink.write(20, &format!("line{i}")).unwrap();
    }
    sink.flush().unwrap();
    let all = listing(dir.path());
    assert_eq!(all.len(), 12);
    assert_eq!(all["app.log"], ["line11"]);
    assert_eq!(all["app.log.11"], ["line0"]);
    assert_eq!(all["app.log.1"], ["line10"]);
}

#[test]
fn rotation_continues_from_an_existing_file_and_backups() {
    let (dir, path) = temp_log();
    fs::write(&path, "old0\n").unwrap();
    fs::write(dir.path().join("app.log.1"), "older\n").unwrap();
    // Not ours: other names next to the log are left alone.
    fs::write(dir.path().join("app.log.bak"), "keep\n").unwrap();
    fs::write(dir.path().join("app.log.01"), "keep\n").unwrap();
    let mut sink = RotatingFileSink::open(
        &path,
        Rotation::size(10),
        RotatingOptions::new().backup_count(5),
    )
    .unwrap();
    sink.write(20, "new0").unwrap(); // 5 + 5 = 10: fits
    sink.write(20, "new1").unwrap(); // would be 15: rotate first
    sink.flush().unwrap();
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["new1"]),
            ("app.log.01", &["keep"]),
            ("app.log.1", &["old0", "new0"]),
            ("app.log.2", &["older"]),
            ("app.log.bak", &["keep"]),
        ])
    );
}

#[test]
fn a_line_larger_than_max_bytes_goes_whole_into_a_fresh_file() {
    let (dir, path) = temp_log();
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(10), RotatingOptions::new()).unwrap();
    let big = "x".repeat(100);
    sink.write(20, "small").unwrap();
    sink.write(20, &big).unwrap();
    sink.write(20, &big).unwrap();
    sink.write(20, "after").unwrap();
    sink.flush().unwrap();
    let all = listing(dir.path());
    assert_eq!(
        all,
        expect(&[
            ("app.log", &["after"]),
            ("app.log.1", &[&big]),
            ("app.log.2", &[&big]),
            ("app.log.3", &["small"]),
        ])
    );
    // Into an empty file a big line is written without rotating first.
    let (dir, path) = temp_log();
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(10), RotatingOptions::new()).unwrap();
    sink.write(20, &big).unwrap();
    sink.flush().unwrap();
    assert_eq!(names(dir.path()), ["app.log"]);
}

#[test]
fn two_hundred_thousand_lines_each_exactly_once_never_split() {
    let (dir, path) = temp_log();
    let max = 64 * 1024;
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(max), RotatingOptions::new()).unwrap();
    const N: usize = 200_000;
    for i in 0..N {
        // Varying lengths so rotation points fall everywhere inside a line.
        let pad = "p".repeat(i % 37);
        sink.write(20, &format!("record {i:06} {pad}")).unwrap();
        if i % 10_000 == 0 {
            sink.flush().unwrap();
        }
    }
    sink.flush().unwrap();
    drop(sink);

    // Oldest backup has the highest number; reading from there back to app.log gives order.
    let mut files: Vec<(u64, std::path::PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let n = match name.strip_prefix("app.log.") {
            Some(n) => n.parse::<u64>().unwrap(),
            None => {
                assert_eq!(name, "app.log");
                0
            }
        };
        files.push((n, entry.path()));
    }
    assert!(
        files.len() > 50,
        "expected many rotations, got {}",
        files.len()
    );
    files.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut seen = HashSet::new();
    let mut next = 0usize;
    for (_, file) in &files {
        let bytes = fs::read(file).unwrap();
        assert!(
            bytes.len() as u64 <= max,
            "{} has {} bytes",
            file.display(),
            bytes.len()
        );
        assert!(
            bytes.ends_with(b"\n"),
            "{} ends inside a line",
            file.display()
        );
        for line in std::str::from_utf8(&bytes).unwrap().lines() {
            let mut parts = line.split(' ');
            assert_eq!(parts.next(), Some("record"), "split line {line:?}");
            let i: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(
                parts.next().unwrap(),
                "p".repeat(i % 37),
                "split line {line:?}"
            );
            assert!(seen.insert(i), "line {i} twice");
            assert_eq!(i, next, "out of order");
            next += 1;
        }
    }
    assert_eq!(seen.len(), N);
}
