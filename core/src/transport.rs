//! ZeroMQ socket setup, for both ends: the one endpoint check, the sending socket every
//! [`Sender`](crate::Sender) (and the bench blaster) connects, and the receiving `SUB`/`PULL` socket
//! the collector, `tail` and the Python `Listener` bind or connect. Socket options live here only, so
//! the ends cannot drift apart (e.g. in the size margin a receiver allows).
//!
//! ```no_run
//! use logfunnel_core::transport::{self, ReceiveMode, Scheme};
//! transport::check_endpoint("tcp://127.0.0.1:5555", Scheme::FOR_PROCESSES).unwrap();
//! let ctx = zmq::Context::new();
//! let sub = transport::receiver(&ctx, ReceiveMode::Sub, 100_000, 1 << 20).unwrap();
//! let bound = transport::bind(&sub, "tcp://127.0.0.1:0").unwrap();
//! println!("listening on {bound}");
//! ```

use crate::curve;
use crate::sender::options::{SenderOptions, SocketMode};
use std::time::Duration;

/// A ZeroMQ transport an endpoint can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `tcp://HOST:PORT` (port a number, or `*` to bind any).
    Tcp,
    /// `ipc://PATH` (a Unix domain socket).
    Ipc,
    /// `inproc://NAME`: within one process (one ZeroMQ context) only.
    Inproc,
}

impl Scheme {
    /// Every scheme: what a [`Sender`](crate::Sender) accepts.
    pub const ALL: &'static [Scheme] = &[Scheme::Tcp, Scheme::Ipc, Scheme::Inproc];

    /// The schemes another process can reach: what a collector binds.
    pub const FOR_PROCESSES: &'static [Scheme] = &[Scheme::Tcp, Scheme::Ipc];

    /// The endpoint's prefix, e.g. `tcp://`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp://",
            Scheme::Ipc => "ipc://",
            Scheme::Inproc => "inproc://",
        }
    }

    /// What an endpoint of this scheme looks like, for error messages.
    pub const fn shape(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp://HOST:PORT",
            Scheme::Ipc => "ipc://PATH",
            Scheme::Inproc => "inproc://NAME",
        }
    }
}

/// The scheme of `ep`, if it is one of the `allowed` ones; only the prefix is looked at. A sender
/// checks no more than this and leaves the rest to libzmq's `connect` (whose error says what is
/// wrong); a collector's config uses [`check_endpoint`].
pub fn scheme_of(ep: &str, allowed: &[Scheme]) -> Result<Scheme, String> {
    let Some(&scheme) = allowed.iter().find(|s| ep.starts_with(s.prefix())) else {
        let shapes: Vec<&str> = allowed.iter().map(|s| s.shape()).collect();
        let list = match shapes.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "no".to_string(),
        };
        return Err(format!("{ep:?} is not a {list} endpoint"));
    };
    Ok(scheme)
}

/// Checks that `ep` is a well-formed endpoint of one of the `allowed` schemes; the error says what
/// is wrong with it, naming the endpoint.
pub fn check_endpoint(ep: &str, allowed: &[Scheme]) -> Result<Scheme, String> {
    let scheme = scheme_of(ep, allowed)?;
    let rest = &ep[scheme.prefix().len()..];
    match scheme {
        Scheme::Tcp => {
            let Some((host, port)) = rest.rsplit_once(':') else {
                return Err(format!("{ep:?} has no port (expected tcp://HOST:PORT)"));
            };
            if host.is_empty() {
                return Err(format!("{ep:?} has no host (expected tcp://HOST:PORT)"));
            }
            if port != "*" && port.parse::<u16>().is_err() {
                return Err(format!(
                    "{ep:?}: port {port:?} is not a number from 0 to 65535"
                ));
            }
        }
        Scheme::Ipc if rest.is_empty() => {
            return Err(format!(
                "{ep:?} has no path (expected ipc:///path/to/socket)"
            ))
        }
        Scheme::Inproc if rest.is_empty() => {
            return Err(format!("{ep:?} has no name (expected inproc://NAME)"))
        }
        Scheme::Ipc | Scheme::Inproc => {}
    }
    Ok(scheme)
}

/// libzmq refused to create, configure, bind or connect a socket.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} ({endpoint}): {source}")]
pub struct SocketError {
    /// What was being done, e.g. `set ZMQ_SNDHWM` or `bind`.
    pub action: &'static str,
    /// The endpoint the socket is for.
    pub endpoint: String,
    /// libzmq's error.
    #[source]
    pub source: zmq::Error,
}

fn err<'a>(action: &'static str, endpoint: &'a str) -> impl FnOnce(zmq::Error) -> SocketError + 'a {
    move |source| SocketError {
        action,
        endpoint: endpoint.to_string(),
        source,
    }
}

/// Whole milliseconds for a libzmq option, saturating.
pub(crate) fn ms(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

/// The sending socket for `options`: `XPUB` with `ZMQ_XPUB_NODROP` or `PUSH`, with the high-water
/// mark, heartbeat, keepalive and reconnect options, connected to `options.endpoint`. A peer that
/// is not there yet is not an error (libzmq keeps reconnecting).
pub fn connect_sender(
    ctx: &zmq::Context,
    options: &SenderOptions,
) -> Result<zmq::Socket, SocketError> {
    let ep = options.endpoint.as_str();
    let mut socket = match options.mode {
        SocketMode::Xpub => ctx.socket(zmq::XPUB),
        SocketMode::Push => ctx.socket(zmq::PUSH),
    }
    .map_err(err("create the socket", ep))?;
    set_connection_options(&socket, options, ep)?;
    if options.mode == SocketMode::Xpub {
        set_xpub_nodrop(&mut socket).map_err(err("set ZMQ_XPUB_NODROP", ep))?;
    }
    secure_client(&socket, options)?;
    socket
        .connect(ep)
        .map_err(err("connect to the endpoint", ep))?;
    Ok(socket)
}

/// The acknowledged-delivery socket (`spec/delivery.md` section 3): a `DEALER` connected to the
/// ack `ROUTER` a collector announced at `ack_endpoint`, with the heartbeat, keepalive and reconnect
/// options of the sending socket, so a dead link is noticed alike, and a high-water mark of `sndhwm`
/// batches (set before connecting: libzmq sizes a pipe when it creates it). libzmq
/// keeps a connecting `DEALER`'s pipe across reconnects, so batches queued during an outage reach
/// the collector once it is back.
pub fn connect_ack_dealer(
    ctx: &zmq::Context,
    options: &SenderOptions,
    ack_endpoint: &str,
    sndhwm: i32,
) -> Result<zmq::Socket, SocketError> {
    let socket = ctx
        .socket(zmq::DEALER)
        .map_err(err("create the ack socket", ack_endpoint))?;
    set_connection_options(&socket, options, ack_endpoint)?;
    socket
        .set_sndhwm(sndhwm)
        .map_err(err("set ZMQ_SNDHWM", ack_endpoint))?;
    // The ack socket is secured as the sending socket is: the collector's ROUTER is a CURVE
    // server with the same key and allowlist as its SUB.
    secure_client(&socket, options)?;
    socket
        .connect(ack_endpoint)
        .map_err(err("connect to the ack endpoint", ack_endpoint))?;
    Ok(socket)
}

/// The options both sending sockets share.
fn set_connection_options(
    socket: &zmq::Socket,
    options: &SenderOptions,
    ep: &str,
) -> Result<(), SocketError> {
    socket
        .set_sndhwm(options.sndhwm)
        .map_err(err("set ZMQ_SNDHWM", ep))?;
    if !options.heartbeat_ivl.is_zero() {
        socket
            .set_heartbeat_ivl(ms(options.heartbeat_ivl))
            .map_err(err("set ZMQ_HEARTBEAT_IVL", ep))?;
        socket
            .set_heartbeat_timeout(ms(options.heartbeat_timeout))
            .map_err(err("set ZMQ_HEARTBEAT_TIMEOUT", ep))?;
    }
    if !options.tcp_keepalive_idle.is_zero() {
        let secs = |d: Duration| d.as_secs().clamp(1, i32::MAX as u64) as i32;
        socket
            .set_tcp_keepalive(1)
            .map_err(err("set ZMQ_TCP_KEEPALIVE", ep))?;
        socket
            .set_tcp_keepalive_idle(secs(options.tcp_keepalive_idle))
            .map_err(err("set ZMQ_TCP_KEEPALIVE_IDLE", ep))?;
        socket
            .set_tcp_keepalive_intvl(secs(options.tcp_keepalive_intvl))
            .map_err(err("set ZMQ_TCP_KEEPALIVE_INTVL", ep))?;
        socket
            .set_tcp_keepalive_cnt(options.tcp_keepalive_cnt.max(1))
            .map_err(err("set ZMQ_TCP_KEEPALIVE_CNT", ep))?;
    }
    socket
        .set_reconnect_ivl(ms(options.reconnect_ivl))
        .map_err(err("set ZMQ_RECONNECT_IVL", ep))?;
    socket
        .set_reconnect_ivl_max(ms(options.reconnect_ivl_max))
        .map_err(err("set ZMQ_RECONNECT_IVL_MAX", ep))?;
    Ok(())
}

/// Makes `socket` a CURVE client of the collector when `options` sets `curve_server_key` and
/// `curve_secret_key` (a no-op otherwise). Call it before `connect`: libzmq applies security options
/// to later connections only. [`Sender::new`](crate::Sender::new) has checked the keys already
/// ([`SenderOptions::curve_keys`], whose errors name the option); one that became unreadable since
/// is `EINVAL` here.
pub fn secure_client(socket: &zmq::Socket, options: &SenderOptions) -> Result<(), SocketError> {
    let ep = options.endpoint.as_str();
    let keys = options
        .curve_keys()
        .map_err(|_| err("read the CURVE keys", ep)(zmq::Error::EINVAL))?;
    if let Some((server, client)) = keys {
        curve::configure_client(socket, &server, &client)
            .map_err(err("set the CURVE client options", ep))?;
    }
    Ok(())
}

/// `ZMQ_XPUB_NODROP`, which the `zmq` crate does not wrap: at the high-water mark a send fails with
/// `EAGAIN` instead of dropping the message.
fn set_xpub_nodrop(socket: &mut zmq::Socket) -> Result<(), zmq::Error> {
    let one: libc::c_int = 1;
    // SAFETY: the raw socket is valid for the life of `socket`; the option value is a c_int.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            zmq_sys::ZMQ_XPUB_NODROP as libc::c_int,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    }
}

/// The receiving socket types: what a sender in [`SocketMode::Xpub`] or [`SocketMode::Push`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiveMode {
    /// `SUB`, subscribed to everything (for `XPUB` senders and pyzmq's `PUBHandler`).
    Sub,
    /// `PULL` (for `PUSH` senders).
    Pull,
}

impl ReceiveMode {
    /// Parses `sub` or `pull`, in any case.
    pub fn parse(s: &str) -> Option<ReceiveMode> {
        match s.to_ascii_lowercase().as_str() {
            "sub" => Some(ReceiveMode::Sub),
            "pull" => Some(ReceiveMode::Pull),
            _ => None,
        }
    }

    /// The config spelling (`sub`, `pull`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiveMode::Sub => "sub",
            ReceiveMode::Pull => "pull",
        }
    }
}

/// The `ZMQ_MAXMSGSIZE` a receiver sets for a decoder limit of `max_frame_bytes`. Only a backstop
/// against foreign senders: libzmq drops the whole connection on an oversized message, so the
/// decoder's own limit (which drops just that message) must be the one that normally applies. The
/// margin leaves room for a PUBHandler topic frame.
pub fn max_message_size(max_frame_bytes: usize) -> i64 {
    i64::try_from(max_frame_bytes)
        .unwrap_or(i64::MAX)
        .saturating_mul(2)
        .saturating_add(64 * 1024)
}

/// A receiving socket, configured but not yet bound or connected: `ZMQ_RCVHWM` `rcvhwm`, linger 0
/// (a receiver has nothing to flush), [`max_message_size`] for `max_frame_bytes`, and for `SUB` a
/// subscription to everything. Then [`bind`] or [`connect`] it, to one endpoint or several.
pub fn receiver(
    ctx: &zmq::Context,
    mode: ReceiveMode,
    rcvhwm: i32,
    max_frame_bytes: usize,
) -> Result<zmq::Socket, SocketError> {
    let what = mode.as_str();
    let kind = match mode {
        ReceiveMode::Sub => zmq::SUB,
        ReceiveMode::Pull => zmq::PULL,
    };
    let socket = ctx.socket(kind).map_err(err("create the socket", what))?;
    socket
        .set_rcvhwm(rcvhwm)
        .map_err(err("set ZMQ_RCVHWM", what))?;
    socket.set_linger(0).map_err(err("set ZMQ_LINGER", what))?;
    socket
        .set_maxmsgsize(max_message_size(max_frame_bytes))
        .map_err(err("set ZMQ_MAXMSGSIZE", what))?;
    if mode == ReceiveMode::Sub {
        socket.set_subscribe(b"").map_err(err("subscribe", what))?;
    }
    Ok(socket)
}

/// The collector's ack `ROUTER` (`spec/delivery.md` section 3): v2 batches in, acks out to the
/// connection each batch came from. Like [`receiver`]: `rcvhwm`, linger 0, and a maximum message size
/// above `max_batch_bytes` (the decoder checks the real limit and counts what is over it). An ack to
/// a peer whose pipe is full or gone is dropped (no `ZMQ_ROUTER_MANDATORY`): acks are cumulative.
pub fn ack_router(
    ctx: &zmq::Context,
    rcvhwm: i32,
    max_batch_bytes: usize,
) -> Result<zmq::Socket, SocketError> {
    let what = "router";
    let socket = ctx
        .socket(zmq::ROUTER)
        .map_err(err("create the socket", what))?;
    socket
        .set_rcvhwm(rcvhwm)
        .map_err(err("set ZMQ_RCVHWM", what))?;
    socket.set_linger(0).map_err(err("set ZMQ_LINGER", what))?;
    socket
        .set_maxmsgsize(max_message_size(max_batch_bytes))
        .map_err(err("set ZMQ_MAXMSGSIZE", what))?;
    Ok(socket)
}

/// Binds `socket` to `ep`; returns the endpoint as bound (a `:0` or `:*` port replaced by the real one).
pub fn bind(socket: &zmq::Socket, ep: &str) -> Result<String, SocketError> {
    socket.bind(ep).map_err(err("bind", ep))?;
    Ok(socket
        .get_last_endpoint()
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| ep.to_string()))
}

/// Connects `socket` to `ep`.
pub fn connect(socket: &zmq::Socket, ep: &str) -> Result<(), SocketError> {
    socket.connect(ep).map_err(err("connect to", ep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked_once_for_every_end() {
        for ep in [
            "tcp://127.0.0.1:5555",
            "tcp://*:0",
            "tcp://h:*",
            "ipc:///tmp/x",
        ] {
            assert!(check_endpoint(ep, Scheme::FOR_PROCESSES).is_ok(), "{ep}");
        }
        assert_eq!(
            check_endpoint("inproc://a", Scheme::ALL),
            Ok(Scheme::Inproc)
        );
        for (ep, says) in [
            (
                "inproc://a",
                "is not a tcp://HOST:PORT or ipc://PATH endpoint",
            ),
            ("udp://x", "is not a tcp://HOST:PORT or ipc://PATH endpoint"),
            ("tcp://h", "has no port"),
            ("tcp://:1", "has no host"),
            ("tcp://h:99999", "is not a number"),
            ("ipc://", "has no path"),
        ] {
            let e = check_endpoint(ep, Scheme::FOR_PROCESSES).unwrap_err();
            assert!(e.contains(says), "{ep}: {e}");
        }
        let e = check_endpoint("udp://x", Scheme::ALL).unwrap_err();
        assert!(
            e.contains("tcp://HOST:PORT, ipc://PATH or inproc://NAME"),
            "{e}"
        );
        assert!(check_endpoint("inproc://", Scheme::ALL).is_err());
        assert_eq!(
            scheme_of("tcp://no such host:x", Scheme::ALL),
            Ok(Scheme::Tcp)
        );
        assert!(scheme_of("udp://x", Scheme::ALL).is_err());
    }

    #[test]
    fn a_receiver_binds_and_reports_its_port() {
        let ctx = zmq::Context::new();
        let pull = receiver(&ctx, ReceiveMode::Pull, 10, 1024).unwrap();
        let bound = bind(&pull, "tcp://127.0.0.1:0").unwrap();
        assert!(!bound.ends_with(":0"), "{bound}");
        assert_eq!(pull.get_maxmsgsize().unwrap(), 2048 + 64 * 1024);
        let mut options = SenderOptions::new(&bound);
        options.mode = SocketMode::Push;
        let push = connect_sender(&ctx, &options).unwrap();
        push.send("x", 0).unwrap();
        assert_eq!(pull.recv_bytes(0).unwrap(), b"x");
        assert_eq!(ReceiveMode::parse("SUB"), Some(ReceiveMode::Sub));
    }
}
