//! The receiving thread and its sockets, bound in one place ([`bind_all`]).
//!
//! The thread owns every ZeroMQ receiving socket (`bind`: SUB, `pull`: PULL) and keeps calling into
//! them: a `SUB` learns of new connections only when its owner does. It reads in small batches taken
//! in turn from each socket, so one flooding socket cannot starve the others, and pushes the messages,
//! undecoded, onto the [`Queue`]; when the queue is full it waits there. On shutdown it drains: it
//! reads on until the sockets have been quiet for a moment or `drain_timeout_ms` passed, then closes
//! the queue so the writer finishes what is queued and stops.

use super::queue::{Batch, Queue};
use super::secure::ServerSecurity;
use super::{CollectorError, Shutdown};
use crate::config::Config;
use crate::metrics::Metrics;
use logfunnel_core::transport::{self, ReceiveMode};
use logfunnel_core::wire_v2::{AckEndpoint, Announcement, DEFAULT_MAX_BATCH_BYTES};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages read from one socket before the next socket gets its turn.
const PER_SOCKET_BATCH: usize = 256;
/// Most messages handed to the writer in one batch.
const MAX_BATCH: usize = 2048;
/// Most bytes handed to the writer in one batch (a v2 message holds many records): bounds what the
/// writer takes between two commits, and so the duplicates a crash can cause.
const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// How long the receiving thread waits in `poll` before checking for shutdown.
const POLL_MS: i64 = 50;
/// During the drain, the sockets are read until they have been quiet this long.
const DRAIN_QUIET: Duration = Duration::from_millis(200);
/// `ZMQ_RCVHWM` of an ack `ROUTER`, in batches per connection: a batch holds up to 1,024 records
/// (256 KiB), so `rcvhwm` (counted in messages, sized for one-record frames) would let libzmq hold
/// hundreds of MiB per sender. Senders keep their records until acknowledged, so a small pipe costs
/// nothing but memory saved.
const ACK_RCVHWM: i32 = 16;
/// Frames of one message kept for the decoder; the rest are read and discarded (no record has more
/// than two, so the decoder refuses such a message anyway).
const MAX_FRAMES: usize = 4;

/// A bound receiving socket and its endpoint as bound (the real port for a configured port 0).
pub(super) struct Receiving {
    pub(super) socket: zmq::Socket,
    pub(super) endpoint: String,
}

/// Every receiving socket: the `bind` (SUB) and `pull` (PULL) ones first, in config order, then one
/// ack `ROUTER` per `bind` socket that announces acknowledged delivery. A message's socket index is
/// its position here; indices from [`Bound::routers_from`] on are `ROUTER`s (`[routing id, batch]`).
pub(super) struct Bound {
    pub(super) sockets: Vec<Receiving>,
    pub(super) routers_from: usize,
}

/// The collector incarnation announced by every `SUB`: new on every start, so a sender hears a
/// restarted collector as a new subscription and resends what is unacknowledged.
pub(super) fn new_incarnation() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    h.finish()
}

/// Where the ack `ROUTER` beside a `SUB` bound at `bound` listens, and how it is announced:
/// `tcp://HOST:0` (announced as `tcp://*:PORT`, the host the sender connected to) or `PATH.ack`.
fn router_endpoint(bound: &str) -> Option<String> {
    if let Some(rest) = bound.strip_prefix("tcp://") {
        let (host, _) = rest.rsplit_once(':')?;
        return Some(format!("tcp://{host}:0"));
    }
    bound
        .strip_prefix("ipc://")
        .map(|path| format!("ipc://{path}.ack"))
}

/// Binds one ack `ROUTER` beside the `SUB` bound at `sub_endpoint` and subscribes that `SUB` to
/// the announcement naming it.
fn bind_router(
    ctx: &zmq::Context,
    config: &Config,
    security: &ServerSecurity,
    sub: &zmq::Socket,
    sub_endpoint: &str,
    key: &str,
    incarnation: u64,
) -> Result<Option<Receiving>, CollectorError> {
    let Some(ep) = router_endpoint(sub_endpoint) else {
        return Ok(None);
    };
    let bind_err = |e: transport::SocketError| CollectorError::Bind {
        key: key.to_string(),
        endpoint: ep.clone(),
        source: e.source,
    };
    let socket =
        transport::ack_router(ctx, ACK_RCVHWM, max_batch_bytes(config)).map_err(bind_err)?;
    // The same CURVE server and allowlist as the SUB: batches are records too.
    security.apply(&socket).map_err(bind_err)?;
    let endpoint = transport::bind(&socket, &ep).map_err(bind_err)?;
    let ack = if endpoint.starts_with("tcp://") {
        let port = endpoint
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or(0);
        AckEndpoint::SameHostPort(port)
    } else {
        AckEndpoint::Exact(endpoint.clone())
    };
    let topic = Announcement { ack, incarnation }.topic();
    sub.set_subscribe(&topic)
        .map_err(|source| CollectorError::Bind {
            key: key.to_string(),
            endpoint: sub_endpoint.to_string(),
            source,
        })?;
    Ok(Some(Receiving { socket, endpoint }))
}

/// Largest v2 batch accepted: room for one record of `max_frame_bytes` and the senders' usual
/// batches, whichever is larger.
pub(super) fn max_batch_bytes(config: &Config) -> usize {
    DEFAULT_MAX_BATCH_BYTES.max(config.max_frame_bytes.saturating_mul(2))
}

/// Binds every receiving socket, in config order: the `bind` ones (SUB), then the `pull` ones (PULL),
/// each set up by the one receiving-socket recipe every logfunnel receiver uses
/// ([`transport::receiver`]: `rcvhwm`, linger 0, a maximum message size above `max_frame_bytes`);
/// then, with `acknowledge`, an ack `ROUTER` beside each `SUB`. Errors name the key (`bind[0]`,
/// `pull[1]`) and the endpoint.
pub(super) fn bind_all(
    ctx: &zmq::Context,
    config: &Config,
    security: &ServerSecurity,
    incarnation: u64,
) -> Result<Bound, CollectorError> {
    let mut sockets = Vec::with_capacity(config.bind.len() + config.pull.len());
    for (list, mode, name) in [
        (&config.bind, ReceiveMode::Sub, "bind"),
        (&config.pull, ReceiveMode::Pull, "pull"),
    ] {
        for (i, ep) in list.iter().enumerate() {
            let bind_err = |e: transport::SocketError| CollectorError::Bind {
                key: format!("{name}[{i}]"),
                endpoint: ep.to_string(),
                source: e.source,
            };
            let socket = transport::receiver(ctx, mode, config.rcvhwm, config.max_frame_bytes)
                .map_err(bind_err)?;
            security.apply(&socket).map_err(bind_err)?;
            let endpoint = transport::bind(&socket, ep).map_err(bind_err)?;
            sockets.push(Receiving { socket, endpoint });
        }
    }
    let routers_from = sockets.len();
    if config.acknowledge {
        for i in 0..config.bind.len() {
            let (sub, sub_endpoint) = (&sockets[i].socket, sockets[i].endpoint.clone());
            let key = format!("bind[{i}]");
            if let Some(router) =
                bind_router(ctx, config, security, sub, &sub_endpoint, &key, incarnation)?
            {
                sockets.push(router);
            }
        }
    }
    Ok(Bound {
        sockets,
        routers_from,
    })
}

/// The receiving thread's state.
pub(super) struct Receiver {
    pub(super) ctx: zmq::Context,
    pub(super) sockets: Vec<Receiving>,
    /// Acks from the writer (`[socket index, routing id, ack]`), sent on here on the `ROUTER` named.
    pub(super) acks: Option<zmq::Socket>,
    pub(super) queue: Arc<Queue>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) shutdown: Shutdown,
    pub(super) drain_timeout: Duration,
}
/// What one pass over the sockets found.
enum Pass {
    /// Nothing was waiting.
    Idle,
    /// Some messages were read; more may be waiting.
    Read,
}

impl Receiver {
    /// Starts the thread. However it ends, it then closes the queue, so the writer finishes what is
    /// queued and stops.
    pub(super) fn spawn(self) -> Result<JoinHandle<Result<bool, CollectorError>>, CollectorError> {
        let queue = self.queue.clone();
        std::thread::Builder::new()
            .name("logfunnel-receiver".into())
            .spawn(move || {
                let result = self.run();
                queue.close();
                result
            })
            .map_err(|source| CollectorError::Thread {
                name: "receiver",
                source,
            })
    }

    /// Receives until shutdown, then drains; returns whether the drain finished before its timeout.
    fn run(mut self) -> Result<bool, CollectorError> {
        let mut busy = false;
        while !self.shutdown.is_triggered() {
            if !busy {
                self.poll(POLL_MS)?;
            }
            busy = matches!(self.pass()?, Pass::Read);
        }
        // Drain: read what is already queued in the sockets or still in flight, until the sockets
        // have been quiet for a moment (or the drain timeout passes).
        let deadline = Instant::now() + self.drain_timeout;
        let mut quiet_since = Instant::now();
        let complete = loop {
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            if now.duration_since(quiet_since) >= DRAIN_QUIET.min(self.drain_timeout) {
                break true;
            }
            match self.pass()? {
                Pass::Read => quiet_since = Instant::now(),
                Pass::Idle => self.poll(10)?,
            }
        };
        self.forward_acks();
        drop(self.sockets);
        drop(self.acks);
        drop(self.ctx);
        Ok(complete)
    }

    /// Sends the writer's acks on to the `ROUTER`s, never waiting (an ack that finds no room for
    /// its peer is dropped by libzmq; the next one supersedes it).
    fn forward_acks(&self) {
        let Some(acks) = &self.acks else {
            return;
        };
        while let Ok(parts) = acks.recv_multipart(zmq::DONTWAIT) {
            let [index, routing_id, ack] = &parts[..] else {
                continue;
            };
            let Ok(index) = <[u8; 4]>::try_from(&index[..]) else {
                continue;
            };
            let Some(router) = self.sockets.get(u32::from_be_bytes(index) as usize) else {
                continue;
            };
            let parts: [&[u8]; 2] = [routing_id, ack];
            let _ = router.socket.send_multipart(parts, zmq::DONTWAIT);
        }
    }

    fn poll(&self, timeout_ms: i64) -> Result<(), CollectorError> {
        let mut items: Vec<zmq::PollItem<'_>> = self
            .sockets
            .iter()
            .map(|s| s.socket.as_poll_item(zmq::POLLIN))
            .collect();
        if let Some(acks) = &self.acks {
            items.push(acks.as_poll_item(zmq::POLLIN));
        }
        match zmq::poll(&mut items, timeout_ms) {
            Ok(_) | Err(zmq::Error::EINTR) => Ok(()),
            Err(source) => Err(CollectorError::Zmq {
                what: "poll",
                source,
            }),
        }
    }

    /// Reads up to [`PER_SOCKET_BATCH`] messages from each socket in turn and queues them for the
    /// writer.
    fn pass(&mut self) -> Result<Pass, CollectorError> {
        self.forward_acks();
        let mut batch = Batch::default();
        let mut any = false;
        loop {
            let mut round = false;
            for i in 0..self.sockets.len() {
                for _ in 0..PER_SOCKET_BATCH {
                    if batch.bytes >= MAX_BATCH_BYTES || !self.recv_one(i, &mut batch)? {
                        break;
                    }
                    round = true;
                }
            }
            any |= round;
            if !round || batch.len() >= MAX_BATCH || batch.bytes >= MAX_BATCH_BYTES {
                break;
            }
        }
        if batch.len() > 0 {
            let n = batch.len() as u64;
            self.metrics.received.fetch_add(n, Ordering::Relaxed);
            self.metrics.queue_depth.fetch_add(n, Ordering::Relaxed);
            if !self.queue.push(batch) {
                return Err(CollectorError::Panicked("writer"));
            }
        }
        Ok(if any { Pass::Read } else { Pass::Idle })
    }

    /// Reads one whole message (all its frames) into `batch` without blocking; false if none was
    /// waiting.
    fn recv_one(&self, i: usize, batch: &mut Batch) -> Result<bool, CollectorError> {
        let socket = &self.sockets[i].socket;
        let mut count = 0usize;
        loop {
            let mut msg = zmq::Message::new();
            match socket.recv(&mut msg, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) if count == 0 => return Ok(false),
                // The rest of a message is always there once its first frame is.
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => continue,
                Err(source) => {
                    return Err(CollectorError::Zmq {
                        what: "recv",
                        source,
                    })
                }
            }
            let more = msg.get_more();
            if count < MAX_FRAMES {
                batch.bytes += msg.len();
                batch.frames.push(msg);
                count += 1;
            } else if count == MAX_FRAMES {
                // Keep the count visible to the decoder: one extra (empty) frame stands for the rest.
                batch.frames.push(zmq::Message::new());
                count += 1;
            }
            if !more {
                batch.messages.push((i as u32, count as u32));
                return Ok(true);
            }
        }
    }
}
