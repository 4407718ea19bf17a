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

use crate::driver::{err, ready_then_wait_for_start, socket, Tally};
use crate::Args;

pub fn run(args: &Args) -> Result<bool, String> {
    let ctx = zmq::Context::new();
    let kind = if args.push { zmq::PULL } else { zmq::SUB };
    let s = socket(&ctx, kind, 0)?;
    s.set_rcvhwm(args.rcvhwm)
        .map_err(err("rcvhwm"))?;
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
    let mut tally = Tally::start();
    let mut msg = zmq::Message::new();
    while tally.records < args.records {
        match s.recv(&mut msg, 0) {
            Ok(()) => {
                tally.bytes += msg.len() as u64;
                // A multipart message counts once, at its last part (the blasters send single frames).
                if !msg.get_more() {
                    tally.arrived(1);
                }
            }
            Err(zmq::Error::EINTR) => {}
            Err(zmq::Error::EAGAIN) => break, // nothing for `quiet_s`: report what arrived
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
    Ok(tally.report(args.records))
}
