//! The protocol with the driver every mode shares: print `ready` once set up, then wait for the
//! start line on stdin; and the one way socket errors are worded.

use std::io::{BufRead, Write};

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

/// A libzmq (or I/O) error as `what: reason`.
pub fn err<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}
