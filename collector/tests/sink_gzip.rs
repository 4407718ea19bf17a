//! Gzip of rotated files: readable output, originals removed only after the .gz is complete,
//! crash leftovers finished on open, compression that survives shifting and pruning.

mod sink_common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use logfunnel_collector::sink::{
    ManualClock, RotatingFileSink, RotatingOptions, Rotation, Sink, When,
};
use sink_common::{expect, listing, names, read_text, temp_log};

const WAIT: Duration = Duration::from_secs(30);

/// `gzip -t` on the file, if gzip is installed (flate2 decoding is checked regardless).
fn gzip_test(path: &Path) {
    match Command::new("gzip").arg("-t").arg(path).status() {
        Ok(status) => assert!(status.success(), "gzip -t {} failed", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("running gzip: {e}"),
    }
}

#[test]
fn rotated_files_are_gzipped_and_originals_removed() {
    let (dir, path) = temp_log();
    let options = RotatingOptions::new().backup_count(3).compress(true);
    let mut sink = RotatingFileSink::open(&path, Rotation::size(4000), options).unwrap();
    for i in 0..1000 {
        sink.write(20, &format!("line {i:04} {}", "z".repeat(20)))
            .unwrap();
    }
    sink.flush().unwrap();
    assert!(sink.wait_compressed(WAIT));
    assert!(sink.take_background_errors().is_empty());
    assert_eq!(
        names(dir.path()),
        ["app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz"]
    );
    for n in 1..=3 {
        gzip_test(&dir.path().join(format!("app.log.{n}.gz")));
    }
    // The newest lines, in order, across .3.gz, .2.gz, .1.gz and app.log.
    let mut text = String::new();
    for name in ["app.log.3.gz", "app.log.2.gz", "app.log.1.gz", "app.log"] {
        text.push_str(&read_text(&dir.path().join(name)));
    }
    let numbers: Vec<usize> = text.lines().map(|l| l[5..9].parse().unwrap()).collect();
    assert_eq!(*numbers.last().unwrap(), 999);
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "a gap or a repeat"
    );
}

#[test]
fn every_line_survives_many_rotations_while_compressing() {
    // Rotations much faster than compression: jobs wait while their files shift up.
    let (dir, path) = temp_log();
    let options = RotatingOptions::new().compress(true);
    let mut sink = RotatingFileSink::open(&path, Rotation::size(2000), options).unwrap();
    const N: usize = 20_000;
    for i in 0..N {
        sink.write(20, &format!("{i:06}")).unwrap();
    }
    sink.flush().unwrap();
    assert!(sink.wait_compressed(WAIT));
    assert!(sink.take_background_errors().is_empty());
    let all = listing(dir.path());
    assert!(
        all.keys().all(|n| n == "app.log" || n.ends_with(".gz")),
        "{:?}",
        all.keys()
    );
    let mut numbers: Vec<usize> = all.values().flatten().map(|l| l.parse().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..N).collect::<Vec<_>>());
    // Shifting kept the order: .1 is newest.
    assert!(all["app.log.1.gz"][0] > all["app.log.2.gz"][0]);
}

#[test]
fn time_rotation_with_gzip_appends_gz_to_python_names() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::from_unix(1_710_072_000);
    let options = RotatingOptions::new()
        .compress(true)
        .clock(Arc::new(clock.clone()));
    let rotation = Rotation::timed(When::Minutes, 1, true);
    let mut sink = RotatingFileSink::open(dir.path().join("app.log"), rotation, options).unwrap();
    sink.write(20, "a").unwrap();
    clock.advance(Duration::from_secs(60));
    sink.write(20, "b").unwrap();
    sink.flush().unwrap();
    assert!(sink.wait_compressed(WAIT));
    gzip_test(&dir.path().join("app.log.2024-03-10_12-00.gz"));
    assert_eq!(
        listing(dir.path()),
        expect(&[("app.log", &["b"]), ("app.log.2024-03-10_12-00.gz", &["a"])])
    );
}

#[test]
fn crash_leftovers_are_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("app.log"), "current\n").unwrap();
    // Crash in the middle of compressing .1: the uncompressed backup and a partial .gz.tmp.
    fs::write(d.join("app.log.1"), "one\n").unwrap();
    fs::write(d.join("app.log.1.gz.tmp"), b"\x1f\x8b partial").unwrap();
    // Crash after installing .2.gz but before deleting .2: .2 is authoritative.
    fs::write(d.join("app.log.2"), "two\n").unwrap();
    fs::write(d.join("app.log.2.gz"), b"not really gzip").unwrap();
    // Already compressed before the crash.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"three\n").unwrap();
    fs::write(d.join("app.log.3.gz"), gz.finish().unwrap()).unwrap();

    let options = RotatingOptions::new().compress(true);
    let sink = RotatingFileSink::open(d.join("app.log"), Rotation::size(1000), options).unwrap();
    assert!(sink.wait_compressed(WAIT));
    assert_eq!(
        listing(d),
        expect(&[
            ("app.log", &["current"]),
            ("app.log.1.gz", &["one"]),
            ("app.log.2.gz", &["two"]),
            ("app.log.3.gz", &["three"]),
        ])
    );
    for n in 1..=3 {
        gzip_test(&d.join(format!("app.log.{n}.gz")));
    }
}

#[test]
fn dropping_the_sink_mid_compression_loses_nothing() {
    let (dir, path) = temp_log();
    {
        let options = RotatingOptions::new().compress(true);
        let mut sink = RotatingFileSink::open(&path, Rotation::size(200_000), options).unwrap();
        for i in 0..50_000 {
            sink.write(20, &format!("{i:06}")).unwrap();
        }
        // Dropped without waiting: queued or running jobs stop and stay uncompressed.
    }
    let mut numbers: Vec<usize> = listing(dir.path())
        .values()
        .flatten()
        .map(|l| l.parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..50_000).collect::<Vec<_>>());
    assert!(!names(dir.path()).iter().any(|n| n.ends_with(".tmp")));
    // The next open compresses what was left.
    let options = RotatingOptions::new().compress(true);
    let sink = RotatingFileSink::open(&path, Rotation::size(200_000), options).unwrap();
    assert!(sink.wait_compressed(WAIT));
    assert!(names(dir.path())
        .iter()
        .all(|n| n == "app.log" || n.ends_with(".gz")));
}

#[test]
fn without_compress_leftovers_are_still_cleaned() {
    // compress was on in an earlier run that crashed; this run has it off.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("app.log.1"), "one\n").unwrap();
    fs::write(d.join("app.log.1.gz.tmp"), b"partial").unwrap();
    fs::write(d.join("app.log.2"), "two\n").unwrap();
    fs::write(d.join("app.log.2.gz"), b"maybe incomplete").unwrap();
    let sink = RotatingFileSink::open(
        d.join("app.log"),
        Rotation::size(1000),
        RotatingOptions::new(),
    )
    .unwrap();
    assert!(sink.wait_compressed(WAIT));
    assert_eq!(names(d), ["app.log", "app.log.1", "app.log.2"]);
}
