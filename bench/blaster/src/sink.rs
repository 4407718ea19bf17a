//! `--sink`: the receiving end for bench item 3's ceiling, which only counts messages.
//!
//! It binds the socket the collector binds (SUB subscribed to everything for `xpub` blasters, PULL for
//! `push` ones), with the collector's default `rcvhwm`, and receives until `--records` messages have
//! arrived. Nothing is decoded, formatted or written, so its rate is what the blasters, libzmq and this
//! machine can move at all: the most the collector could reach with the same senders on the same CPUs.
//!
//! Protocol with the driver: bind, print `ready`, wait for one line on stdin (the start signal, written
//! just before the blasters are released), receive, print one JSON line. If nothing arrives for
//! `--quiet-s` seconds it stops early, prints what it has and exits 1.

use crate::driver::{err, ready_then_wait_for_start};
use crate::{rusage, Args};
use std::time::Instant;

pub fn run(args: &Args) -> Result<bool, String> {
    let ctx = zmq::Context::new();
    let kind = if args.push { zmq::PULL } else { zmq::SUB };
    let s = ctx.socket(kind).map_err(err("socket"))?;
    s.set_rcvhwm(args.rcvhwm)
        .map_err(err("rcvhwm"))?;
    s.set_linger(0).map_err(err("linger"))?;
    if !args.push {
        s.set_subscribe(b"")
            .map_err(err("subscribe"))?;
    }
    s.bind(&args.endpoint)
        .map_err(|e| format!("bind {}: {e}", args.endpoint))?;

    ready_then_wait_for_start(&[&s])?;

    let quiet_ms = (args.quiet_s * 1000.0).clamp(1.0, i32::MAX as f64) as i32;
    s.set_rcvtimeo(quiet_ms)
        .map_err(err("rcvtimeo"))?;
    let cpu_before = rusage().0;
    let start = Instant::now();
    let mut first: Option<Instant> = None;
    let mut last = start;
    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut msg = zmq::Message::new();
    while records < args.records {
        match s.recv(&mut msg, 0) {
            Ok(()) => {
                bytes += msg.len() as u64;
                // A multipart message counts once, at its last part (the blasters send single frames).
                if !msg.get_more() {
                    records += 1;
                    last = Instant::now();
                    first.get_or_insert(last);
                }
            }
            Err(zmq::Error::EINTR) => {}
            Err(zmq::Error::EAGAIN) => break, // nothing for `quiet_s`: report what arrived
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
    let (cpu_after, maxrss_kib) = rusage();
    let since = |t: Instant| t.duration_since(start).as_secs_f64();
    println!(
        "{{\"sink\":true,\"records\":{},\"expected\":{},\"bytes\":{},\"elapsed_s\":{:.6},\
         \"first_s\":{:.6},\"cpu_s\":{:.6},\"maxrss_kib\":{}}}",
        records,
        args.records,
        bytes,
        since(last),
        first.map_or(0.0, since),
        cpu_after - cpu_before,
        maxrss_kib
    );
    Ok(records >= args.records)
}
