//! Per-event cost of the logfunnel layer against `tracing-appender`'s `non_blocking` file writer
//! behind `tracing-subscriber`'s `fmt` layer: same registry, same span and event, same run.
//!
//! ```sh
//! cargo bench -p logfunnel --bench layer_vs_appender            # 5 rounds of 50 000 events
//! cargo bench -p logfunnel --bench layer_vs_appender -- --smoke # one small round
//! ```
//!
//! Each round builds a fresh subscriber and backend, logs the events on one thread, then drops the
//! guard. "call" is the logging loop alone (what the application pays; both queues are larger than a
//! round, so nothing waits for room); "delivered" adds the guard's drop, until the last event is in
//! the file (appender) or handed to the socket and the collector (logfunnel; the collector runs in
//! this process, on the same cores). Medians of the rounds. Neither side drops an event: the
//! appender is built non-lossy and the sender uses its default, blocking policy.

use logfunnel_collector::config::{Config, FileSinkConfig};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tracing_subscriber::prelude::*;

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (rounds, events) = if smoke { (1, 2_000) } else { (5, 50_000) };
    let dir = tempfile::tempdir().unwrap();

    let mut config = Config {
        bind: vec!["tcp://127.0.0.1:0".into()],
        ..Config::default()
    };
    let mut sink = FileSinkConfig::new(dir.path().join("collector.log"));
    sink.line.format = Some(
        "%(asctime)s %(levelname)s %(spans)s{id=%(id)s}: %(name)s: %(message)s user=%(user)s \
         path=%(path)s"
            .into(),
    );
    config.sinks.push(sink.into());
    let collector = logfunnel_collector::runtime::start(config).unwrap();
    let endpoint = collector.endpoints()[0].clone();

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..rounds {
        // Alternate which goes first, so neither always runs on a warmer machine.
        let a = || logfunnel_round(&endpoint, events);
        let b = || appender_round(dir.path(), round, events);
        if round % 2 == 0 {
            ours.push(a());
            theirs.push(b());
        } else {
            theirs.push(b());
            ours.push(a());
        }
    }
    let summary = collector.stop(Duration::from_secs(60)).unwrap();
    assert_eq!(
        summary.stats.accepted,
        (rounds * events) as u64,
        "the collector must have every event"
    );

    let (our_call, our_total) = medians(&ours, events);
    let (their_call, their_total) = medians(&theirs, events);
    println!("{rounds} rounds of {events} events, medians, ns per event:");
    println!("  logfunnel layer             call {our_call:8.0}   delivered {our_total:8.0}");
    println!("  tracing-appender non_blocking call {their_call:6.0}   delivered {their_total:8.0}");
    println!(
        "  ratio logfunnel / appender  call {:8.2}   delivered {:8.2}",
        our_call / their_call,
        our_total / their_total
    );
}

/// (logging loop, loop plus guard drop) of one round.
type Round = (Duration, Duration);

fn logfunnel_round(endpoint: &str, events: usize) -> Round {
    let (funnel, guard) = logfunnel::Builder::new(endpoint).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(funnel.layer());
    let round = run(subscriber, events, move || drop(guard));
    assert_eq!(funnel.stats().dropped(), 0, "{:?}", funnel.stats());
    round
}

fn appender_round(dir: &std::path::Path, round: usize, events: usize) -> Round {
    let file = std::fs::File::create(dir.join(format!("appender-{round}.log"))).unwrap();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(file);
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(false),
    );
    run(subscriber, events, move || drop(guard))
}

fn run(
    subscriber: impl tracing::Subscriber + Send + Sync + 'static,
    events: usize,
    finish: impl FnOnce(),
) -> Round {
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("request", id = 7).entered();
        let started = Instant::now();
        for i in 0..events {
            tracing::info!(user = 42, path = "/login", "request {}", black_box(i));
        }
        let call = started.elapsed();
        finish();
        (call, started.elapsed())
    })
}

fn medians(rounds: &[Round], events: usize) -> (f64, f64) {
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_nanos() as f64 / events as f64
    };
    (
        median(rounds.iter().map(|r| r.0).collect()),
        median(rounds.iter().map(|r| r.1).collect()),
    )
}
