//! Time rotation with a manual clock: rollover times and file names as Python's
//! `TimedRotatingFileHandler(utc=True)`. The expected listings were produced by running Python's
//! handler with a patched `time.time()` on the same steps (see each case).

mod sink_common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use logfunnel_collector::sink::{
    ManualClock, RotatingFileSink, RotatingOptions, Rotation, Sink, When,
};
use sink_common::{expect, listing, temp_log};

/// 2024-03-10 12:00:00 UTC, a Sunday.
const T0: u64 = 1_710_072_000;
const DAY: u64 = 86_400;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Opens a sink at the first step's time, then writes each message at its time.
fn run(
    rotation: Rotation,
    backup_count: usize,
    steps: &[(u64, &str)],
) -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::from_unix(steps[0].0);
    let options = RotatingOptions::new()
        .backup_count(backup_count)
        .clock(Arc::new(clock.clone()));
    let mut sink = RotatingFileSink::open(dir.path().join("app.log"), rotation, options).unwrap();
    for (t, msg) in steps {
        clock.set(at(*t));
        sink.write(20, msg).unwrap();
    }
    sink.flush().unwrap();
    listing(dir.path())
}

fn utc(when: When, interval: u32) -> Rotation {
    Rotation::timed(when, interval, true)
}

#[test]
fn seconds_like_python() {
    let steps = [
        (T0, "a"),
        (T0, "b"),
        (T0 + 1, "c"),
        (T0 + 5, "d"),
        (T0 + 6, "e"),
    ];
    assert_eq!(
        run(utc(When::Seconds, 1), 0, &steps),
        expect(&[
            ("app.log", &["e"]),
            ("app.log.2024-03-10_12-00-00", &["a", "b"]),
            ("app.log.2024-03-10_12-00-01", &["c"]),
            ("app.log.2024-03-10_12-00-05", &["d"]),
        ])
    );
}

#[test]
fn minutes_like_python() {
    let steps = [
        (T0 + 10, "a"),
        (T0 + 70, "b"),
        (T0 + 75, "c"),
        (T0 + 200, "d"),
    ];
    assert_eq!(
        run(utc(When::Minutes, 1), 0, &steps),
        expect(&[
            ("app.log", &["d"]),
            ("app.log.2024-03-10_12-00", &["a"]),
            ("app.log.2024-03-10_12-01", &["b", "c"]),
        ])
    );
}

#[test]
fn hours_with_interval_two_like_python() {
    let steps = [
        (T0 + 100, "a"),
        (T0 + 7200, "b"),
        (T0 + 7300, "c"),
        (T0 + 14_500, "d"),
    ];
    assert_eq!(
        run(utc(When::Hours, 2), 0, &steps),
        expect(&[
            ("app.log", &["d"]),
            ("app.log.2024-03-10_12", &["a", "b"]),
            ("app.log.2024-03-10_14", &["c"]),
        ])
    );
}

#[test]
fn days_count_from_the_start_not_midnight_like_python() {
    let steps = [
        (T0 + 3600, "a"),
        (T0 + DAY + 3599, "b"),
        (T0 + DAY + 3600, "c"),
    ];
    assert_eq!(
        run(utc(When::Days, 1), 0, &steps),
        expect(&[("app.log", &["c"]), ("app.log.2024-03-10", &["a", "b"])])
    );
}

#[test]
fn midnight_like_python() {
    let steps = [
        (T0, "a"),
        (T0 + 43_199, "b"),
        (T0 + 43_200, "c"),
        (T0 + 43_200 + 2 * DAY + 5, "d"),
    ];
    assert_eq!(
        run(utc(When::Midnight, 1), 0, &steps),
        expect(&[
            ("app.log", &["d"]),
            ("app.log.2024-03-10", &["a", "b"]),
            ("app.log.2024-03-11", &["c"]),
        ])
    );
}

#[test]
fn weekday_like_python() {
    // W2 rolls over at the midnight that ends Wednesday.
    let steps = [
        (T0, "a"),
        (T0 + 3 * DAY, "b"),
        (T0 + 3 * DAY + 43_200, "c"),
        (T0 + 10 * DAY, "d"),
    ];
    let rotation = utc("W2".parse().unwrap(), 1);
    assert_eq!(
        run(rotation, 0, &steps),
        expect(&[
            ("app.log", &["c", "d"]),
            ("app.log.2024-03-07", &["a", "b"])
        ])
    );
}

#[test]
fn midnight_at_time_like_python() {
    let steps = [
        (T0, "a"),
        (T0 + 6 * 3600, "b"),
        (T0 + 6 * 3600 + 60, "c"),
        (T0 + 30 * 3600, "d"),
    ];
    let rotation = utc(When::Midnight, 1).at_time(18, 30, 0);
    assert_eq!(
        run(rotation, 0, &steps),
        expect(&[
            ("app.log", &["d"]),
            ("app.log.2024-03-09", &["a", "b", "c"])
        ])
    );
}

#[test]
fn backup_count_keeps_the_newest_like_python() {
    let steps: Vec<(u64, String)> = (0..6).map(|i| (T0 + i, i.to_string())).collect();
    let steps: Vec<(u64, &str)> = steps.iter().map(|(t, s)| (*t, s.as_str())).collect();
    assert_eq!(
        run(utc(When::Seconds, 1), 2, &steps),
        expect(&[
            ("app.log", &["5"]),
            ("app.log.2024-03-10_12-00-03", &["3"]),
            ("app.log.2024-03-10_12-00-04", &["4"]),
        ])
    );
}

#[test]
fn rollover_times_like_python() {
    // Python 3.13 computeRollover, utc=True, from T0 (Sunday 12:00).
    let next = |r: Rotation| {
        r.next_rollover(at(T0))
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - T0
    };
    assert_eq!(next(utc(When::Seconds, 30)), 30);
    assert_eq!(next(utc(When::Hours, 1)), 3600);
    assert_eq!(next(utc(When::Days, 1)), DAY);
    assert_eq!(next(utc(When::Midnight, 1)), 43_200);
    // interval counts days/weeks from the first midnight (3.13).
    assert_eq!(next(utc(When::Midnight, 3)), 43_200 + 2 * DAY);
    assert_eq!(next(utc("W6".parse().unwrap(), 1)), 43_200);
    assert_eq!(next(utc("W0".parse().unwrap(), 1)), 43_200 + DAY);
    assert_eq!(next(utc("W0".parse().unwrap(), 2)), 43_200 + 8 * DAY);
    // atTime already passed today: tomorrow.
    assert_eq!(
        next(utc(When::Midnight, 1).at_time(9, 0, 0)),
        DAY - 3 * 3600
    );
    // Exactly at atTime: Python 3.13 (r <= 0) rolls over tomorrow.
    assert_eq!(next(utc(When::Midnight, 1).at_time(12, 0, 0)), DAY);
    assert_eq!(Rotation::size(10).next_rollover(at(T0)), None);
}

#[test]
fn an_empty_period_is_not_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::from_unix(T0);
    let options = RotatingOptions::new().clock(Arc::new(clock.clone()));
    let mut sink =
        RotatingFileSink::open(dir.path().join("app.log"), utc(When::Seconds, 1), options).unwrap();
    clock.advance(Duration::from_secs(10));
    sink.write(20, "first").unwrap();
    clock.advance(Duration::from_secs(1));
    sink.write(20, "second").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["second"]),
            ("app.log.2024-03-10_12-00-10", &["first"]),
        ])
    );
}

#[test]
fn time_and_size_number_the_files_of_one_period() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::from_unix(T0);
    let options = RotatingOptions::new().clock(Arc::new(clock.clone()));
    // "xN\n" is 3 bytes: two lines per file.
    let rotation = utc(When::Hours, 1).and_size(6);
    let mut sink = RotatingFileSink::open(dir.path().join("app.log"), rotation, options).unwrap();
    for i in 0..7 {
        sink.write(20, &format!("a{i}")).unwrap();
    }
    clock.advance(Duration::from_secs(3600));
    sink.write(20, "b0").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["b0"]),
            ("app.log.2024-03-10_12", &["a0", "a1"]),
            ("app.log.2024-03-10_12.1", &["a2", "a3"]),
            ("app.log.2024-03-10_12.2", &["a4", "a5"]),
            ("app.log.2024-03-10_12.3", &["a6"]),
        ])
    );
}

#[test]
fn backup_count_with_time_and_size_prunes_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::from_unix(T0);
    let options = RotatingOptions::new()
        .backup_count(3)
        .clock(Arc::new(clock.clone()));
    let rotation = utc(When::Hours, 1).and_size(6);
    let mut sink = RotatingFileSink::open(dir.path().join("app.log"), rotation, options).unwrap();
    for hour in 0..3 {
        for i in 0..12 {
            // .10 must count as newer than .9 (numeric, not text order).
            sink.write(20, &format!("{hour}{i:x}")).unwrap();
        }
        clock.advance(Duration::from_secs(3600));
    }
    sink.write(20, "zz").unwrap();
    sink.flush().unwrap();
    let all = listing(dir.path());
    let names: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "app.log",
            "app.log.2024-03-10_14.3",
            "app.log.2024-03-10_14.4",
            "app.log.2024-03-10_14.5",
        ]
    );
    // Hour 14 made 6 files: 14, 14.1..14.4 by size, 14.5 (the last two lines) by time.
    assert_eq!(all["app.log.2024-03-10_14.5"], ["2a", "2b"]);
    assert_eq!(all["app.log"], ["zz"]);
}

#[test]
fn a_restart_in_the_same_period_does_not_overwrite_a_backup() {
    let (dir, path) = temp_log();
    std::fs::write(dir.path().join("app.log.2024-03-10_12-00-00"), "earlier\n").unwrap();
    let clock = ManualClock::from_unix(T0);
    let options = RotatingOptions::new().clock(Arc::new(clock.clone()));
    let mut sink = RotatingFileSink::open(&path, utc(When::Seconds, 1), options).unwrap();
    sink.write(20, "a").unwrap();
    clock.advance(Duration::from_secs(1));
    sink.write(20, "b").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        listing(dir.path()),
        expect(&[
            ("app.log", &["b"]),
            ("app.log.2024-03-10_12-00-00", &["earlier"]),
            ("app.log.2024-03-10_12-00-00.1", &["a"]),
        ])
    );
}

#[test]
fn retention_by_age_deletes_old_backups() {
    let (dir, path) = temp_log();
    let now = SystemTime::now();
    let set_age = |name: &str, days: u64| {
        let f = std::fs::File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join(name))
            .unwrap();
        f.set_modified(now - Duration::from_secs(days * DAY))
            .unwrap();
    };
    set_age("app.log.1", 1);
    set_age("app.log.2", 5);
    set_age("app.log.3.gz", 9);
    set_age("unrelated.log", 30);
    let clock = ManualClock::new(now);
    let options = RotatingOptions::new()
        .max_age(Some(Duration::from_secs(3 * DAY)))
        .clock(Arc::new(clock.clone()));
    let mut sink = RotatingFileSink::open(&path, Rotation::size(100), options).unwrap();
    // At open: backups older than 3 days are gone, the rest and unrelated files stay.
    let names = |d: &std::path::Path| sink_common::names(d);
    assert_eq!(names(dir.path()), ["app.log", "app.log.1", "unrelated.log"]);
    sink.write(20, "x").unwrap();
    // Two days later (the clock, not the files, moves): app.log.1 is now 3 days old, checked
    // during flush.
    clock.advance(Duration::from_secs(2 * DAY + 60));
    sink.flush().unwrap();
    assert_eq!(names(dir.path()), ["app.log", "unrelated.log"]);
}
