//! Acknowledged delivery (wire v2) end to end over real sockets: the core sender against the
//! collector library, a plain `SUB` listener and a v1 collector (`acknowledge = false`), a collector
//! stopped and started again on its endpoint and state directory, and hostile batches on the ack
//! socket. The real-process cases (SIGKILL, full tmpfs, a cut link) are in
//! `python/tests/test_delivery.py`.

mod support;

use logfunnel_collector::runtime;
use logfunnel_core::wire_v2::{Announcement, BatchBuilder, BatchStart};
use logfunnel_core::{FlushStatus, SocketMode};
use std::time::Duration;
use support::*;

const STOP: Duration = Duration::from_secs(60);

#[test]
fn a_default_sender_and_collector_acknowledge_every_record() {
    let (_dir, path) = temp_path("acked.jsonl");
    let (collector, ep) = start_jsonl(&path);
    let s = sender(&ep, SocketMode::Xpub);
    log_n(&s, "acked", "r", 5_000);
    assert_eq!(s.flush(Duration::from_secs(60)), FlushStatus::Flushed);
    let st = s.stats();
    assert!(st.acknowledging, "{st:?}");
    assert_eq!(
        (st.acknowledged, st.unacknowledged, st.depth),
        (5_000, 0, 0)
    );
    assert_eq!(st.sent, 5_000);
    close(&s);
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&path);
    assert_eq!(records.len(), 5_000);
    assert_eq!(check_per_sender_order(&records).len(), 1);
    let d = &summary.stats.delivery;
    assert!(d.batches >= 1 && d.acks >= 1, "{d:?}");
    assert_eq!((d.duplicates, d.refused), (0, 0));
    assert_eq!(summary.stats.received, 5_000);
    assert_eq!(summary.stats.accepted, 5_000);
}

#[test]
fn a_v1_collector_and_a_plain_sub_listener_leave_the_sender_unacknowledged() {
    // A collector with acknowledge = false announces nothing: the sender stays v1, every record lands.
    let (_dir, path) = temp_path("v1.jsonl");
    let mut c = jsonl_config(&path);
    c.acknowledge = false;
    let collector = runtime::start(c).unwrap();
    let s = sender(&collector.endpoints()[0], SocketMode::Xpub);
    log_n(&s, "v1", "r", 1_000);
    close(&s);
    let st = s.stats();
    assert!(!st.acknowledging, "{st:?}");
    assert_eq!((st.sent, st.acknowledged), (1_000, 0));
    collector.stop(STOP).unwrap();
    assert_eq!(jsonl(&path).len(), 1_000);

    // The cookbook's listener: a SUB subscribed to everything, nothing else.
    let ctx = zmq::Context::new();
    let sub = ctx.socket(zmq::SUB).unwrap();
    sub.set_subscribe(b"").unwrap();
    sub.bind("tcp://127.0.0.1:0").unwrap();
    let ep = sub.get_last_endpoint().unwrap().unwrap();
    let s = sender(&ep, SocketMode::Xpub);
    log_n(&s, "cookbook", "r", 100);
    let mut got = 0;
    sub.set_rcvtimeo(10_000).unwrap();
    while got < 100 {
        let frame = sub.recv_bytes(0).expect("a record within 10 s");
        assert_eq!(frame.first(), Some(&b'{'));
        got += 1;
    }
    assert_eq!(s.flush(Duration::from_secs(10)), FlushStatus::Flushed);
    assert!(!s.stats().acknowledging);
}

#[test]
fn a_collector_stopped_and_started_again_loses_and_repeats_nothing() {
    let (dir, path) = temp_path("restart.jsonl");
    let state = dir.path().join("state");
    let port = free_port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let config = || {
        let mut c = jsonl_config(&path);
        c.bind = vec![ep.clone()];
        c.state_dir = Some(state.clone());
        c
    };
    let s = sender(&ep, SocketMode::Xpub);
    let collector = runtime::start(config()).unwrap();
    log_n(&s, "restart", "first", 3_000);
    assert_eq!(s.flush(Duration::from_secs(60)), FlushStatus::Flushed);
    collector.stop(STOP).unwrap();
    assert!(state.join("delivery-state.json").exists());
    // Logged while no collector runs: kept by the sender, unacknowledged.
    log_n(&s, "restart", "between", 2_000);
    let waiting = s.flush(Duration::from_millis(300));
    assert!(
        matches!(waiting, FlushStatus::TimedOut { .. }),
        "{waiting:?}"
    );
    let collector = runtime::start(config()).unwrap();
    log_n(&s, "restart", "second", 3_000);
    assert_eq!(s.flush(Duration::from_secs(60)), FlushStatus::Flushed);
    let st = s.stats();
    assert_eq!((st.acknowledged, st.unacknowledged), (8_000, 0), "{st:?}");
    close(&s);
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&path);
    let per = check_per_sender_order(&records);
    assert_eq!(per.values().copied().collect::<Vec<_>>(), [8_000]);
    assert_eq!(records.len(), 8_000, "nothing written twice");
    assert_eq!(summary.stats.lost, 0);
}

#[test]
fn hostile_batches_on_the_ack_socket_are_counted_and_others_still_arrive() {
    let (_dir, path) = temp_path("hostile.jsonl");
    let (collector, ep) = start_jsonl(&path);
    // Find the ack ROUTER the way a sender does: from the announcement its SUB subscribes to.
    let ctx = zmq::Context::new();
    let xpub = ctx.socket(zmq::XPUB).unwrap();
    xpub.connect(&ep).unwrap();
    xpub.set_rcvtimeo(10_000).unwrap();
    let ack_ep = loop {
        let msg = xpub.recv_bytes(0).expect("the collector's subscriptions");
        if let Some(Ok(a)) = Announcement::from_xpub_message(&msg) {
            break a.ack_endpoint_for(&ep).unwrap();
        }
    };
    let dealer = ctx.socket(zmq::DEALER).unwrap();
    dealer.connect(&ack_ep).unwrap();
    let valid = |sid: &str, seq: u64| {
        format!(
            r#"{{"v":1,"name":"hostile","msg":"ok {seq}","args":null,"levelno":20,"created":1.0,"sid":"{sid}","seq":{seq}}}"#
        )
    };
    let batch = |sid: &str, first: u64, records: &[String]| {
        let mut out = Vec::new();
        let start = BatchStart {
            sid,
            acked_seq: 0,
            base_seq: 0,
            first_seq: first,
        };
        let mut b = BatchBuilder::begin(&mut out, &start).unwrap();
        for r in records {
            b.push(r.as_bytes()).unwrap();
        }
        b.finish().unwrap();
        out
    };
    // Not a batch at all; a truncated batch; a record whose seq is not the header's.
    dealer.send(&b"\xFFLF\x02Bjunk"[..], 0).unwrap();
    let good = batch("h1", 0, &[valid("h1", 0), valid("h1", 1)]);
    dealer.send(&good[..good.len() - 3], 0).unwrap();
    dealer
        .send(batch("h2", 0, &[valid("h2", 0), valid("h2", 7)]), 0)
        .unwrap();
    // A valid batch, and once it is acknowledged the same again (a resend whose ack was lost):
    // written once, acknowledged again.
    dealer.set_rcvtimeo(10_000).unwrap();
    let ack_for_h1 = || loop {
        let msg = dealer.recv_bytes(0).expect("an ack within 10 s");
        let ack = logfunnel_core::wire_v2::decode_ack(&msg).unwrap();
        if ack.sid == "h1" {
            return ack.watermark;
        }
    };
    dealer.send(&good[..], 0).unwrap();
    assert_eq!(ack_for_h1(), 2);
    dealer.send(&good[..], 0).unwrap();
    assert_eq!(ack_for_h1(), 2);
    let summary = collector.stop(STOP).unwrap();
    let st = &summary.stats;
    assert_eq!(
        st.malformed_by_reason.get("batch_mismatch"),
        Some(&1),
        "{st:?}"
    );
    assert!(st.malformed >= 3, "{st:?}");
    assert_eq!(st.delivery.duplicates, 2);
    let msgs: Vec<String> = jsonl(&path)
        .iter()
        .map(|r| r["msg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs, ["ok 0", "ok 0", "ok 1"]);
}

#[test]
fn a_full_disk_blocks_acks_under_block_and_drops_counted_under_drop() {
    let Some(disk) = support::tmpfs::Tmpfs::mount("1m") else {
        return;
    };
    let (_dir, kept) = temp_path("kept.jsonl");
    let full = disk.path("full.jsonl");
    let filler = disk.fill_leaving(0);

    // `drop`: the sink on the full disk drops and counts; the other sink takes everything and the
    // sender is acknowledged (the dropped sink does not hold acks back).
    let mut c = jsonl_config(&kept);
    let mut dropping = logfunnel_collector::config::JsonlSinkConfig::new(&full);
    dropping.common.on_error = logfunnel_collector::config::OnError::Drop;
    c.sinks.push(dropping.into());
    let collector = runtime::start(c).unwrap();
    let s = sender(&collector.endpoints()[0], SocketMode::Xpub);
    log_n(&s, "full", "d", 2_000);
    assert_eq!(s.flush(Duration::from_secs(60)), FlushStatus::Flushed);
    assert_eq!(s.stats().acknowledged, 2_000);
    close(&s);
    let summary = collector.stop(STOP).unwrap();
    assert_eq!(jsonl(&kept).len(), 2_000);
    let on_disk = jsonl(&full).len() as u64;
    let st = &summary.stats.sinks[1];
    assert_eq!(st.dropped + on_disk, 2_000, "{st:?}");
    assert!(st.dropped > 0 && st.errors > 0, "{st:?}");

    // `block` (the default): nothing is acknowledged while the disk is full; once space is back,
    // every record is written once and acknowledged.
    std::fs::remove_file(&full).unwrap();
    let collector = runtime::start(jsonl_config(&full)).unwrap();
    let s = sender(&collector.endpoints()[0], SocketMode::Xpub);
    log_n(&s, "full", "b", 2_000);
    let held = s.flush(Duration::from_millis(500));
    assert!(matches!(held, FlushStatus::TimedOut { .. }), "{held:?}");
    assert!(s.stats().unacknowledged > 0);
    support::tmpfs::free(&filler);
    assert_eq!(s.flush(Duration::from_secs(60)), FlushStatus::Flushed);
    assert_eq!(s.stats().acknowledged, 2_000);
    close(&s);
    let summary = collector.stop(STOP).unwrap();
    let records = jsonl(&full);
    assert_eq!(records.len(), 2_000);
    assert_eq!(
        check_per_sender_order(&records).values().sum::<u64>(),
        2_000
    );
    assert!(summary.stats.sinks[0].errors > 0);
}
