//! A real listener for sender tests: a plain ZeroMQ `SUB` (or `PULL`) socket bound on loopback, as any
//! collector or the cookbook's listener would use.
#![allow(dead_code)]

use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Listener {
    _ctx: zmq::Context,
    socket: zmq::Socket,
    pub endpoint: String,
}

impl Listener {
    /// A `SUB` subscribed to everything, bound to an ephemeral loopback port.
    pub fn sub() -> Listener {
        Self::bind(zmq::SUB, "tcp://127.0.0.1:*")
    }

    /// A `PULL` bound to an ephemeral loopback port.
    pub fn pull() -> Listener {
        Self::bind(zmq::PULL, "tcp://127.0.0.1:*")
    }

    /// A `SUB` whose receive buffer is small, so a slow reader pushes back on the sender.
    pub fn sub_with_hwm(rcvhwm: i32) -> Listener {
        Self::bind_with_hwm(zmq::SUB, "tcp://127.0.0.1:*", rcvhwm)
    }

    pub fn bind(kind: zmq::SocketType, endpoint: &str) -> Listener {
        Self::bind_with_hwm(kind, endpoint, 100_000)
    }

    pub fn bind_with_hwm(kind: zmq::SocketType, endpoint: &str, rcvhwm: i32) -> Listener {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(kind).unwrap();
        if kind == zmq::SUB {
            socket.set_subscribe(b"").unwrap();
        }
        socket.set_rcvhwm(rcvhwm).unwrap();
        socket.set_linger(0).unwrap();
        socket.bind(endpoint).unwrap();
        let endpoint = socket.get_last_endpoint().unwrap().unwrap();
        Listener {
            _ctx: ctx,
            socket,
            endpoint,
        }
    }

    /// Receives until `n` records arrived or nothing came for `idle`.
    pub fn recv_n(&self, n: usize, idle: Duration) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        let mut last = Instant::now();
        while out.len() < n && last.elapsed() < idle {
            if self.socket.poll(zmq::POLLIN, 20).unwrap() > 0 {
                while let Ok(frame) = self.socket.recv_bytes(zmq::DONTWAIT) {
                    out.push(serde_json::from_slice(&frame).expect("frame is JSON"));
                    last = Instant::now();
                }
            }
        }
        out
    }

    /// Polls for `d`, receiving whatever comes (keeps a SUB's connections serviced).
    pub fn pump(&self, d: Duration) -> Vec<Value> {
        let deadline = Instant::now() + d;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            if self.socket.poll(zmq::POLLIN, 10).unwrap() > 0 {
                while let Ok(frame) = self.socket.recv_bytes(zmq::DONTWAIT) {
                    out.push(serde_json::from_slice(&frame).unwrap());
                }
            }
        }
        out
    }
}

/// Asserts that `records` hold, per sid, seq 0..n with no gap or duplicate, and returns n per sid.
pub fn per_sender_counts(records: &[Value]) -> std::collections::BTreeMap<String, u64> {
    let mut next: std::collections::BTreeMap<String, u64> = Default::default();
    for r in records {
        let sid = r["sid"].as_str().expect("sid").to_string();
        let seq = r["seq"].as_u64().expect("seq");
        let expected = next.entry(sid.clone()).or_insert(0);
        assert_eq!(seq, *expected, "sender {sid}: out of order or lost");
        *expected += 1;
    }
    next
}
