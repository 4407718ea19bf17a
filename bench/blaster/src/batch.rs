//! `--mode batch`: the acknowledged path (wire v2, `spec/delivery.md`), both ends.
//!
//! Sender: each socket is an `XPUB` that waits for the collector's announcement, then a `DEALER` to the
//! announced ack `ROUTER`. It sends its records in batches of `--batch` (each record byte for byte the
//! v1 frame, `seq` spliced in as in the v1 mode) and is done when an acknowledgement covers its last
//! record, so the rate the driver measures includes writing and acknowledging.
//!
//! Sink (`--sink --mode batch`): the ceiling for that path. It announces itself as a collector does (a
//! `SUB` subscribed to `""` and to the announcement topic, a `ROUTER` beside it), counts the records
//! in each batch header it receives (validated by `decode_batch`, nothing else) and acknowledges
//! every sender cumulatively, as the collector does once per commit.

use crate::driver::{err, ready_then_wait_for_start, socket, Tally};
use crate::{rusage, sender_options, Args, Template};
use logfunnel_core::transport;
use logfunnel_core::wire_v2::{
    decode_ack, decode_batch, encode_ack, Ack, AckEndpoint, Announcement, BatchBuilder,
    BatchLimits, BatchStart,
};
use logfunnel_core::SocketMode;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One sending socket pair and its progress.
struct Lane {
    /// Kept open: closing it would make the collector forget the subscription.
    _xpub: zmq::Socket,
    dealer: zmq::Socket,
    sid: String,
    records: u64,
    next: u64,
    acked: u64,
}

fn wait_announcement(xpub: &zmq::Socket, deadline: Instant) -> Result<Announcement, String> {
    loop {
        if Instant::now() > deadline {
            return Err("no announcement from the collector within 30 s".into());
        }
        if xpub
            .poll(zmq::POLLIN, 100)
            .map_err(err("poll"))?
            > 0
        {
            let msg = xpub.recv_bytes(0).map_err(err("recv"))?;
            if let Some(found) = Announcement::from_xpub_message(&msg) {
                return found.map_err(err("announcement"));
            }
        }
    }
}

fn drain_acks(lane: &mut Lane) -> Result<(), String> {
    loop {
        match lane.dealer.recv_bytes(zmq::DONTWAIT) {
            Ok(frame) => {
                let ack = decode_ack(&frame).map_err(err("ack"))?;
                if ack.resend {
                    return Err(format!("the collector asked {} to resend", lane.sid));
                }
                lane.acked = lane.acked.max(ack.watermark);
            }
            Err(zmq::Error::EAGAIN) => return Ok(()),
            Err(zmq::Error::EINTR) => {}
            Err(e) => return Err(format!("recv ack: {e}")),
        }
    }
}

/// The sender side; prints the same report as the v1 mode.
pub fn send(args: &Args, templates: &[Template]) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let options = sender_options(args, SocketMode::Xpub);
    options.curve_keys().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lanes = Vec::with_capacity(args.sockets);
    for (k, t) in templates.iter().enumerate() {
        let xpub = transport::connect_sender(&ctx, &options).map_err(|e| e.to_string())?;
        let announcement = wait_announcement(&xpub, deadline)?;
        let ack_endpoint = announcement
            .ack_endpoint_for(&args.endpoint)
            .map_err(|e| e.to_string())?;
        let dealer = socket(&ctx, zmq::DEALER, -1)?;
        dealer
            .set_sndhwm(args.sndhwm)
            .map_err(err("sndhwm"))?;
        // The ack ROUTER is secured as the SUB is (a CURVE server with the same allowlist).
        transport::secure_client(&dealer, &options).map_err(|e| e.to_string())?;
        dealer
            .connect(&ack_endpoint)
            .map_err(|e| format!("connect {ack_endpoint}: {e}"))?;
        // Records split evenly over the sockets, the first ones taking the remainder.
        let per = args.records / args.sockets as u64
            + u64::from((k as u64) < args.records % args.sockets as u64);
        lanes.push(Lane {
            _xpub: xpub,
            dealer,
            sid: t.sid.clone(),
            records: per,
            next: 0,
            acked: 0,
        });
    }

    ready_then_wait_for_start(&[])?;

    let cpu_before = rusage().0;
    let start = Instant::now();
    let mut eagain = 0u64;
    let mut msg: Vec<u8> = Vec::with_capacity(args.batch * (templates[0].prefix.len() + 64));
    let mut seq_text = String::new();
    while lanes.iter().any(|l| l.next < l.records) {
        for (lane, t) in lanes.iter_mut().zip(templates) {
            if lane.next == lane.records {
                continue;
            }
            drain_acks(lane)?;
            msg.clear();
            let header = BatchStart {
                sid: &lane.sid,
                acked_seq: lane.acked,
                base_seq: lane.next,
                first_seq: lane.next,
            };
            let mut b = BatchBuilder::begin(&mut msg, &header).map_err(|e| e.to_string())?;
            while (b.count() as usize) < args.batch && b.next_seq() < lane.records {
                use std::fmt::Write as _;
                seq_text.clear();
                let _ = write!(seq_text, "{}", b.next_seq());
                b.push_with(|out| {
                    out.extend_from_slice(&t.prefix);
                    out.extend_from_slice(seq_text.as_bytes());
                    out.extend_from_slice(&t.suffix);
                })
                .map_err(|e| e.to_string())?;
            }
            lane.next += u64::from(b.finish().map_err(|e| e.to_string())?);
            loop {
                match lane.dealer.send(&msg[..], zmq::DONTWAIT) {
                    Ok(()) => break,
                    Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => {
                        eagain += 1;
                        drain_acks(lane)?;
                        std::thread::sleep(Duration::from_micros(50));
                    }
                    Err(e) => return Err(format!("send: {e}")),
                }
            }
        }
    }
    let sent_s = start.elapsed().as_secs_f64();
    // Done when every record is acknowledged.
    let ack_deadline = Instant::now() + Duration::from_secs(120);
    for lane in &mut lanes {
        while lane.acked < lane.records {
            if Instant::now() > ack_deadline {
                return Err(format!(
                    "{}: acknowledged {} of {} after 120 s",
                    lane.sid, lane.acked, lane.records
                ));
            }
            if lane
                .dealer
                .poll(zmq::POLLIN, 100)
                .map_err(err("poll"))?
                > 0
            {
                drain_acks(lane)?;
            }
        }
    }
    let total_s = start.elapsed().as_secs_f64();
    let cpu_s = rusage().0 - cpu_before;
    drop(lanes);
    drop(ctx);
    println!(
        "{{\"id\":{},\"records\":{},\"eagain\":{},\"send_s\":{:.6},\"delivered_s\":{:.6},\
         \"cpu_s\":{:.6}}}",
        args.id, args.records, eagain, sent_s, total_s, cpu_s
    );
    Ok(())
}

/// The counting receiver for the acknowledged path.
pub fn sink(args: &Args) -> Result<bool, String> {
    let ctx = zmq::Context::new();
    let router = socket(&ctx, zmq::ROUTER, 2000)?;
    router
        .set_rcvhwm(args.rcvhwm)
        .map_err(err("rcvhwm"))?;
    let host = args
        .endpoint
        .rsplit_once(':')
        .map(|(h, _)| h.to_string())
        .ok_or("--endpoint must be tcp://HOST:PORT")?;
    router
        .bind(&format!("{host}:0"))
        .map_err(err("bind ack router"))?;
    let bound = router
        .get_last_endpoint()
        .map_err(err("last endpoint"))?
        .map_err(|_| "last endpoint is not UTF-8")?;
    let port: u16 = bound
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or("no port in the ack router's endpoint")?;
    let sub = socket(&ctx, zmq::SUB, 0)?;
    sub.set_subscribe(b"")
        .map_err(err("subscribe"))?;
    let announcement = Announcement {
        ack: AckEndpoint::SameHostPort(port),
        incarnation: u64::from(std::process::id()) << 32 | 0x5eed,
    };
    sub.set_subscribe(&announcement.topic())
        .map_err(err("subscribe"))?;
    sub.bind(&args.endpoint)
        .map_err(|e| format!("bind {}: {e}", args.endpoint))?;

    ready_then_wait_for_start(&[&sub, &router])?;

    let quiet_ms = (args.quiet_s * 1000.0).clamp(1.0, i32::MAX as f64) as i64;
    let mut tally = Tally::start();
    let mut batches = 0u64;
    // Per sender: its routing id and the end of what it sent; acknowledged every 8 batches.
    let mut senders: HashMap<String, (Vec<u8>, u64)> = HashMap::new();
    let limits = BatchLimits::default();
    let mut ack = Vec::new();
    let send_acks = |senders: &HashMap<String, (Vec<u8>, u64)>, ack: &mut Vec<u8>| {
        for (sid, (id, end)) in senders {
            ack.clear();
            let a = Ack {
                sid,
                watermark: *end,
                resend: false,
            };
            if encode_ack(&a, ack).is_ok() {
                let _ = router.send_multipart([&id[..], &ack[..]], zmq::DONTWAIT);
            }
        }
    };
    while tally.records < args.records {
        if router
            .poll(zmq::POLLIN, quiet_ms)
            .map_err(err("poll"))?
            == 0
        {
            break; // nothing for `quiet_s`: report what arrived
        }
        let parts = router.recv_multipart(0).map_err(err("recv"))?;
        let [id, frame] = &parts[..] else {
            continue;
        };
        tally.bytes += frame.len() as u64;
        let batch = decode_batch(frame, &limits).map_err(err("batch"))?;
        tally.arrived(u64::from(batch.count));
        batches += 1;
        let entry = senders
            .entry(batch.sid.to_string())
            .or_insert_with(|| (id.clone(), 0));
        entry.0.clone_from(id);
        entry.1 = entry.1.max(batch.end_seq());
        if batches % 8 == 0 {
            send_acks(&senders, &mut ack);
        }
    }
    send_acks(&senders, &mut ack);
    let all = tally.report(args.records);
    // Keep the sockets until the senders have their last acknowledgement (ROUTER linger).
    Ok(all)
}
