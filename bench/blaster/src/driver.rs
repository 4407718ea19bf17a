//! The protocol with the driver every mode shares: print `ready` once set up, then wait for the
//! start line on stdin; and the one way socket errors are worded.

use crate::rusage;
use std::io::{BufRead, Write};
use std::time::Instant;

/// Prints `ready`, then waits for the driver's start line on stdin. Meanwhile it polls `sockets`:
/// libzmq attaches a new connection (and a SUB socket sends it the subscription the blasters wait
/// for) only when this thread uses the socket. Senders pass none.
pub fn ready_then_wait_for_start(sockets: &[&zmq::Socket]) -> Result<(), String> {
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    if !sockets.is_empty() {
        loop {
            let mut items: Vec<zmq::PollItem> = sockets
                .iter()
                .map(|s| s.as_poll_item(zmq::POLLIN))
                .collect();
            items.push(zmq::PollItem::from_fd(0, zmq::POLLIN));
            zmq::poll(&mut items, 100).map_err(err("poll"))?;
            if items[sockets.len()].is_readable() {
                break;
            }
        }
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(err("stdin"))?;
    Ok(())
}

/// A new socket of `kind` in `ctx` with `linger` (ms; -1 waits for every frame to go out).
pub fn socket(ctx: &zmq::Context, kind: zmq::SocketType, linger: i32) -> Result<zmq::Socket, String> {
    let s = ctx.socket(kind).map_err(err("socket"))?;
    s.set_linger(linger).map_err(err("linger"))?;
    Ok(s)
}

/// A libzmq (or I/O) error as `what: reason`.
pub fn err<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}

/// What a sink counts from the start signal on, and the JSON line it ends with.
pub struct Tally {
    cpu_before: f64,
    start: Instant,
    first: Option<Instant>,
    last: Instant,
    pub records: u64,
    pub bytes: u64,
}

impl Tally {
    /// Starts counting (CPU time and the clock) now.
    pub fn start() -> Tally {
        let start = Instant::now();
        Tally {
            cpu_before: rusage().0,
            start,
            first: None,
            last: start,
            records: 0,
            bytes: 0,
        }
    }

    /// `n` records have arrived just now.
    pub fn arrived(&mut self, n: u64) {
        self.records += n;
        self.last = Instant::now();
        self.first.get_or_insert(self.last);
    }

    /// Prints the JSON line for the driver; true if all `expected` records arrived.
    pub fn report(&self, expected: u64) -> bool {
        let (cpu_after, maxrss_kib) = rusage();
        let since = |t: Instant| t.duration_since(self.start).as_secs_f64();
        println!(
            "{{\"sink\":true,\"records\":{},\"expected\":{},\"bytes\":{},\"elapsed_s\":{:.6},\
             \"first_s\":{:.6},\"cpu_s\":{:.6},\"maxrss_kib\":{}}}",
            self.records,
            expected,
            self.bytes,
            since(self.last),
            self.first.map_or(0.0, since),
            cpu_after - self.cpu_before,
            maxrss_kib
        );
        self.records >= expected
    }
}
