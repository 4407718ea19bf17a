//! File sinks on a real full disk (a 1 MiB tmpfs filled by another file): the write that fails
//! names the path and ENOSPC, the file holds only whole records, and once space is freed a flush
//! writes every record exactly once, in order. Needs root for `mount`; skipped otherwise.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use logfunnel_collector::sink::{FileSink, RotatingFileSink, RotatingOptions, Rotation, Sink};

mod support;
use support::tmpfs::{free, record, records, Tmpfs};

/// The error a full disk must give: the path and the OS reason.
fn assert_full(err: &io::Error, path: &Path) {
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("No space left"), "{msg}");
}

/// Writes records from `*next` on until a write fails; returns that error (its record is kept).
fn write_until_full(sink: &mut dyn Sink, next: &mut usize) -> io::Error {
    loop {
        let result = sink.write(20, &record(*next));
        *next += 1;
        match result {
            Ok(()) => assert!(*next < 20_000, "1 MiB never filled"),
            Err(e) => return e,
        }
    }
}

/// The file's records, checked whole: its text is records `first..first + n`.
fn whole_records(path: &Path, first: usize) -> usize {
    let text = fs::read_to_string(path).unwrap();
    assert_eq!(
        text.len() % 100,
        0,
        "{} ends in a torn record",
        path.display()
    );
    let n = text.len() / 100;
    assert!(
        text == records(first..first + n),
        "{} does not hold records {first}.. in order",
        path.display()
    );
    n
}

#[test]
fn file_sink_keeps_what_a_full_disk_refused_and_writes_it_once_later() {
    let Some((_disk, filler, path)) = full_disk() else {
        return;
    };
    let (mut sink, mut next) = (FileSink::open(&path).unwrap(), 0);
    let err = write_until_full(&mut sink, &mut next);
    assert_full(&err, &path);
    let written = whole_records(&path, 0);
    assert!(written > 0, "the first 64 KiB should have fitted");
    assert_eq!(sink.unsettled() as usize, next - written);

    // Still full: records are taken and kept, a flush fails the same way and tears nothing.
    write_while_full(&mut sink, &mut next, &path);
    assert_eq!(whole_records(&path, 0), written);
    assert_eq!(sink.unsettled() as usize, next - written);

    free(&filler);
    sink.flush().unwrap();
    assert_eq!(sink.unsettled(), 0);
    assert_eq!(fs::read_to_string(&path).unwrap(), records(0..next));
}

#[test]
fn rotating_sink_does_not_rotate_on_a_failed_flush_and_loses_nothing() {
    let Some((disk, filler, path)) = full_disk() else {
        return;
    };
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(40 * 1024), RotatingOptions::new()).unwrap();
    let mut next = 0;
    let err = write_until_full(&mut sink, &mut next);
    assert_full(&err, &path);
    let rotated = backups(&disk);
    assert!(
        !rotated.is_empty(),
        "40 KiB files in 90 KiB: it rotated before the disk filled"
    );

    // The current file is past max_bytes now, but rotation waits for a flush that succeeds.
    write_while_full(&mut sink, &mut next, &path);
    assert_eq!(backups(&disk), rotated, "rotated on a failed flush");

    free(&filler);
    sink.flush().unwrap();
    assert_eq!(sink.unsettled(), 0);
    // Rotation goes on once writing works.
    for _ in 0..500 {
        sink.write(20, &record(next)).unwrap();
        next += 1;
    }
    sink.flush().unwrap();
    assert!(backups(&disk).len() > rotated.len());

    // Oldest first, each file whole records, together every record once and in order.
    let mut files = backups(&disk);
    files.push(path);
    let mut first = 0;
    for file in &files {
        first += whole_records(file, first);
    }
    assert_eq!(first, next);
}

/// A 1 MiB tmpfs with 90 KiB free: the disk, its filler, and the path for the sink's file.
fn full_disk() -> Option<(Tmpfs, PathBuf, PathBuf)> {
    let disk = Tmpfs::mount("1m")?;
    let filler = disk.fill_leaving(90 * 1024);
    let path = disk.path("app.log");
    Some((disk, filler, path))
}

/// On a disk still full: ten more records are taken (kept), and a flush fails naming the file.
fn write_while_full(sink: &mut dyn Sink, next: &mut usize, path: &Path) {
    for _ in 0..10 {
        if let Err(e) = sink.write(20, &record(*next)) {
            assert_full(&e, path);
        }
        *next += 1;
    }
    assert_full(&sink.flush().unwrap_err(), path);
}

/// The sink's backups `app.log.N`, oldest (highest N) first.
fn backups(disk: &Tmpfs) -> Vec<PathBuf> {
    let mut numbers: Vec<u32> = fs::read_dir(disk.dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix("app.log.")?.parse().ok()
        })
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    numbers
        .into_iter()
        .map(|n| disk.path(&format!("app.log.{n}")))
        .collect()
}

#[test]
fn discarding_drops_only_the_records_the_full_disk_refused() {
    let Some((_disk, filler, path)) = full_disk() else {
        return;
    };
    let (mut sink, mut next) = (FileSink::open(&path).unwrap(), 0);
    assert_full(&write_until_full(&mut sink, &mut next), &path);
    let written = whole_records(&path, 0);
    assert_eq!(sink.discard_unsettled() as usize, next - written);
    assert_eq!(sink.unsettled(), 0);
    free(&filler);
    sink.write(20, "after").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        records(0..written) + "after\n"
    );
}
