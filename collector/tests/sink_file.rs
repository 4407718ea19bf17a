//! FileSink: plain append, reopen after an external rename, errors that name the path.

mod sink_common;

use std::fs;

use logfunnel_collector::sink::{
    FileSink, RotatingFileSink, RotatingOptions, Rotation, Sink, SinkError,
};
use sink_common::{read_text, temp_log};

#[test]
fn appends_lines_and_keeps_bytes_as_they_are() {
    let (_dir, path) = temp_log();
    fs::write(&path, "existing\n").unwrap();
    let mut sink = FileSink::open(&path).unwrap();
    sink.write(20, "one").unwrap();
    // Files are data: control bytes and tracebacks stay exactly as formatted.
    sink.write(40, "two\r\x1b[2J\nTraceback line").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        b"existing\none\ntwo\r\x1b[2J\nTraceback line\n"
    );
    sink.write(20, "three").unwrap();
    sink.sync().unwrap();
    assert!(read_text(&path).ends_with("three\n"));
}

#[test]
fn buffered_lines_reach_the_file_on_flush() {
    let (_dir, path) = temp_log();
    let mut sink = FileSink::open(&path).unwrap();
    sink.write(20, "buffered").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "");
    sink.flush().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "buffered\n");
}

/// SIGHUP's reopen after the file was renamed: a new line lands in a new file at `path`, alone.
fn reopen_and_write_new(sink: &mut dyn Sink, path: &std::path::Path) {
    sink.reopen().unwrap();
    sink.write(20, "new").unwrap();
    sink.flush().unwrap();
    assert_eq!(read_text(path), "new\n");
}

#[test]
fn reopen_after_external_rename_starts_a_new_file() {
    let (dir, path) = temp_log();
    let moved = dir.path().join("app.log.1");
    let mut sink = FileSink::open(&path).unwrap();
    sink.write(20, "old 1").unwrap();
    sink.flush().unwrap();
    // logrotate renames the file; lines written before SIGHUP still go to the renamed file.
    fs::rename(&path, &moved).unwrap();
    sink.write(20, "old 2").unwrap();
    reopen_and_write_new(&mut sink, &path);
    assert_eq!(read_text(&moved), "old 1\nold 2\n");
}

#[test]
fn rotating_sink_reopen_after_external_rename() {
    let (dir, path) = temp_log();
    let moved = dir.path().join("elsewhere.log");
    let mut sink =
        RotatingFileSink::open(&path, Rotation::size(1000), RotatingOptions::new()).unwrap();
    sink.write(20, "old").unwrap();
    fs::rename(&path, &moved).unwrap();
    reopen_and_write_new(&mut sink, &path);
    assert_eq!(read_text(&moved), "old\n");
}

#[test]
fn open_error_names_the_path_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("not-a-dir");
    fs::write(&regular, "x").unwrap();
    let path = regular.join("app.log");
    let err = FileSink::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("Not a directory"), "{msg}");
    assert!(matches!(err, SinkError::Io { ref path, .. } if path.ends_with("not-a-dir/app.log")));

    let err = RotatingFileSink::open(&path, Rotation::size(10), RotatingOptions::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&*path.to_string_lossy()), "{err}");

    let missing = dir.path().join("missing-dir").join("app.log");
    let err = FileSink::open(&missing).unwrap_err().to_string();
    assert!(
        err.contains("missing-dir/app.log") && err.contains("No such file"),
        "{err}"
    );
}

#[test]
fn invalid_rotation_is_refused_with_the_path() {
    let (_dir, path) = temp_log();
    let rotation = Rotation::timed(logfunnel_collector::sink::When::Hours, 0, true);
    let err = RotatingFileSink::open(&path, rotation, RotatingOptions::new()).unwrap_err();
    assert!(matches!(err, SinkError::InvalidRotation { .. }));
    assert!(err.to_string().contains("interval"), "{err}");
    let rotation =
        Rotation::timed(logfunnel_collector::sink::When::Midnight, 1, true).at_time(24, 0, 0);
    assert!(rotation.validate().is_err());
}

#[test]
fn a_non_regular_path_is_written_but_never_rotated() {
    let mut sink = RotatingFileSink::open(
        "/dev/null",
        Rotation::size(1),
        RotatingOptions::new().max_age(Some(std::time::Duration::from_secs(1))),
    )
    .unwrap();
    for _ in 0..3 {
        sink.write(20, "discarded").unwrap();
    }
    sink.flush().unwrap();
    assert!(sink.take_background_errors().is_empty());
}
