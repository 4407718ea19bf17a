//! The collector with `[curve]` on loopback, driven in-process with real core senders: a sender with
//! the server's key and a listed key gets every record through; one with no keys, the wrong server
//! key or an unlisted key gets none through, and each is counted (stats line and `/metrics`); the
//! connection cap closes connections beyond it.

mod support;

use logfunnel_collector::config::{CurveConfig, MetricsConfig, SinkKind};
use logfunnel_collector::runtime;
use logfunnel_core::curve::{KeyPair, KeySource};
use logfunnel_core::{Sender, SenderOptions, SocketMode};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

const PATIENCE: Duration = Duration::from_secs(30);

/// A keypair written as `DIR/NAME.key` and `DIR/NAME.key_secret`.
fn keys(dir: &Path, name: &str) -> (KeyPair, PathBuf, PathBuf) {
    let pair = KeyPair::generate().unwrap();
    let (public, secret) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.key_secret")),
    );
    pair.write_files(&public, &secret).unwrap();
    (pair, public, secret)
}

fn curve_sender(endpoint: &str, server: Option<&Path>, secret: Option<&Path>) -> Sender {
    let mut o = SenderOptions::new(endpoint);
    o.mode = SocketMode::Xpub;
    o.block_timeout = Duration::from_secs(60);
    o.close_timeout = Duration::from_secs(30);
    o.heartbeat_ivl = Duration::ZERO;
    o.curve_server_key = server.map(|p| KeySource::File(p.into()));
    o.curve_secret_key = secret.map(|p| KeySource::File(p.into()));
    Sender::new(o).expect("sender")
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn only_listed_senders_with_the_right_server_key_get_records_through() {
    let dir = tempfile::tempdir().unwrap();
    let (_, server_pub, server_secret) = keys(dir.path(), "collector");
    let (_, wrong_server_pub, _) = keys(dir.path(), "impostor");
    let (listed, _, listed_secret) = keys(dir.path(), "listed");
    let (_, _, unlisted_secret) = keys(dir.path(), "unlisted");
    let out = dir.path().join("out.jsonl");

    let mut config = base_config();
    config.sinks = vec![file_sink(SinkKind::Jsonl, &out)];
    config.curve = Some(CurveConfig {
        secret_key_file: server_secret,
        allow: vec![listed.public.to_z85()],
        allow_dir: None,
        max_connections: 64,
    });
    config.metrics = Some(MetricsConfig {
        listen: "127.0.0.1:0".into(),
    });
    let collector = runtime::start(config).unwrap();
    let ep = collector.bind_endpoints()[0].clone();
    let rejected = || collector.stats().auth.map_or(0, |a| a.rejected);
    assert_eq!(rejected(), 0);

    // Each refused sender in turn, so each rejection is seen to be counted.
    let refused = [
        ("no keys", None, None),
        (
            "the wrong server key",
            Some(wrong_server_pub.as_path()),
            Some(listed_secret.as_path()),
        ),
        (
            "an unlisted key",
            Some(server_pub.as_path()),
            Some(unlisted_secret.as_path()),
        ),
    ];
    let mut refused_senders = Vec::new();
    for (what, server, secret) in refused {
        let before = rejected();
        let s = curve_sender(&ep, server, secret);
        log_n(&s, "refused", what, 5);
        assert!(
            wait_until(PATIENCE, || rejected() > before),
            "a sender with {what} was not counted as rejected"
        );
        refused_senders.push(s);
    }

    let good = curve_sender(&ep, Some(&server_pub), Some(&listed_secret));
    log_n(&good, "app", "listed", 200);
    close(&good);
    assert!(
        wait_until(PATIENCE, || jsonl(&out).len() >= 200),
        "the listed sender's records did not all arrive"
    );
    let stats = collector.stats();
    assert!(stats
        .line()
        .contains(&format!("auth_rejected={}", rejected())));
    let metrics = http_get(collector.metrics_addr().unwrap(), "/metrics");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("logfunnel_auth_rejected_total "))
        .unwrap_or_else(|| panic!("no auth counter in {metrics}"));
    assert!(
        line.split(' ').nth(1).unwrap().parse::<u64>().unwrap() >= 3,
        "{line}"
    );

    for s in &refused_senders {
        // Their records never left them: the collector's SUB never subscribed to them.
        assert_eq!(
            s.close(Duration::from_millis(100)),
            logfunnel_core::FlushStatus::TimedOut { pending: 5 }
        );
    }
    drop(refused_senders);
    let summary = collector.stop(PATIENCE).unwrap();
    let records = jsonl(&out);
    assert_eq!(records.len(), 200);
    assert!(
        records.iter().all(|r| r["name"] == "app"),
        "a refused record was written"
    );
    assert_eq!(summary.stats.accepted, 200);
}

#[test]
fn connections_beyond_the_cap_are_closed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, server_secret) = keys(dir.path(), "collector");
    let mut config = base_config();
    config.curve = Some(CurveConfig {
        secret_key_file: server_secret,
        allow: vec![],
        allow_dir: Some(dir.path().to_path_buf()),
        max_connections: 2,
    });
    let collector = runtime::start(config).unwrap();
    let addr = collector.bind_endpoints()[0]
        .trim_start_matches("tcp://")
        .to_string();
    let refused = || collector.stats().auth.map_or(0, |a| a.refused_connections);
    // Plain TCP connections that never speak: what a flood of idle peers looks like.
    let mut idle: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    idle.push(std::net::TcpStream::connect(&addr).unwrap());
    assert!(
        wait_until(PATIENCE, || refused() >= 1),
        "the third connection was not refused"
    );
    // The refused one is closed by the collector: reading it ends.
    let third = idle.pop().unwrap();
    third.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 64];
    let mut third = third;
    loop {
        match third.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => continue, // the ZMTP greeting
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the refused connection stayed open: {e}"),
        }
    }
    assert_eq!(refused(), 1);
    assert!(collector.stats().line().contains("refused_connections=1"));
    drop(idle);
    collector.stop(PATIENCE).unwrap();
}
