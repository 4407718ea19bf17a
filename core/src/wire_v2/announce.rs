//! The collector's announcement: a subscription topic of its `SUB`, telling an `XPUB` sender that
//! this collector speaks v2 and where its ack `ROUTER` listens.
//!
//! libzmq sends a `SUB`'s subscriptions on every new and every re-established connection, so a
//! sender hears the announcement as soon as it connects, whenever that is, and again from each new
//! collector process, with no periodic traffic. An `XPUB` receives it as `0x01` + topic. The topic
//! starts with `0xFF`, which no v1 record (a JSON object, `{`) does, so for a plain `PUB` it is an
//! inert extra filter. The topic is
//!
//! ```text
//! FF "LF2" (" " key "=" value)*        e.g.  \xFFLF2 ack=tcp://*:5556 inc=9f3a61c0d24e8b17
//! ```
//!
//! - `ack`: the ROUTER's endpoint. `tcp://*:PORT` means "the host you connected to, this port", so
//!   a collector bound to `0.0.0.0` or a veth address needs no configuration; `tcp://HOST:PORT` and
//!   `ipc://PATH` are used as they are.
//! - `inc`: the collector incarnation, 16 hex digits, new on every start. Because the topic differs,
//!   even an `XPUB` without `ZMQ_XPUB_VERBOSER` (which filters repeated subscriptions) reports a
//!   restarted collector, and the sender resends what is unacknowledged at once.
//!
//! Unknown keys are ignored (later versions may add some); `ack` and `inc` are required.

/// Start of every announcement topic.
pub const TOPIC_PREFIX: &[u8] = b"\xFFLF2";
/// What an `XPUB` receives for a subscription.
const SUBSCRIBE: u8 = 0x01;

/// Where the collector's ack ROUTER listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckEndpoint {
    /// `tcp://*:PORT`: the host the sender connected to, this port.
    SameHostPort(u16),
    /// A complete endpoint (`tcp://HOST:PORT`, `ipc://PATH`).
    Exact(String),
}

/// A parsed announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The ROUTER endpoint.
    pub ack: AckEndpoint,
    /// The collector incarnation; a new value means a new collector process.
    pub incarnation: u64,
}

/// Why an announcement (or its endpoint) is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnounceError {
    /// The topic is not ASCII `key=value` words.
    #[error("malformed announcement: {0}")]
    Malformed(&'static str),
    /// A required key is absent.
    #[error("announcement without `{0}`")]
    Missing(&'static str),
    /// `tcp://*:PORT` was announced but the sender's own endpoint is not `tcp://HOST:PORT`.
    #[error("cannot reach ack endpoint tcp://*:{port} from {connected}")]
    NoHost {
        /// The announced port.
        port: u16,
        /// The endpoint the sender connected to.
        connected: String,
    },
}

impl AnnounceError {
    /// Stable reason code (the shared vectors use it).
    pub fn reason(&self) -> &'static str {
        match self {
            AnnounceError::Malformed(_) => "malformed",
            AnnounceError::Missing(_) => "missing",
            AnnounceError::NoHost { .. } => "no_host",
        }
    }
}

impl Announcement {
    /// The subscription topic the collector's `SUB` subscribes to.
    pub fn topic(&self) -> Vec<u8> {
        let ack = match &self.ack {
            AckEndpoint::SameHostPort(port) => format!("tcp://*:{port}"),
            AckEndpoint::Exact(endpoint) => endpoint.clone(),
        };
        let mut t = TOPIC_PREFIX.to_vec();
        t.extend_from_slice(format!(" ack={ack} inc={:016x}", self.incarnation).as_bytes());
        t
    }

    /// Reads a message an `XPUB` received: `None` if it is no announcement (a plain subscription,
    /// an unsubscription, a user message), `Some(Err)` if it is one but malformed.
    pub fn from_xpub_message(msg: &[u8]) -> Option<Result<Announcement, AnnounceError>> {
        let (&SUBSCRIBE, topic) = msg.split_first()? else {
            return None;
        };
        let words = topic.strip_prefix(TOPIC_PREFIX)?;
        Some(Announcement::parse_words(words))
    }

    fn parse_words(words: &[u8]) -> Result<Announcement, AnnounceError> {
        let text = std::str::from_utf8(words).map_err(|_| AnnounceError::Malformed("not UTF-8"))?;
        if !text.is_empty() && !text.starts_with(' ') {
            return Err(AnnounceError::Malformed("no space after LF2"));
        }
        let (mut ack, mut incarnation) = (None, None);
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let (key, value) = word
                .split_once('=')
                .ok_or(AnnounceError::Malformed("a word without `=`"))?;
            match key {
                "ack" => ack = Some(parse_ack(value)?),
                "inc" => {
                    if value.len() != 16 {
                        return Err(AnnounceError::Malformed("inc is not 16 hex digits"));
                    }
                    incarnation = Some(
                        u64::from_str_radix(value, 16)
                            .map_err(|_| AnnounceError::Malformed("inc is not 16 hex digits"))?,
                    );
                }
                _ => {}
            }
        }
        Ok(Announcement {
            ack: ack.ok_or(AnnounceError::Missing("ack"))?,
            incarnation: incarnation.ok_or(AnnounceError::Missing("inc"))?,
        })
    }

    /// The endpoint a sender connected to `connected` gives its `DEALER`.
    pub fn ack_endpoint_for(&self, connected: &str) -> Result<String, AnnounceError> {
        match &self.ack {
            AckEndpoint::Exact(endpoint) => Ok(endpoint.clone()),
            AckEndpoint::SameHostPort(port) => {
                let no_host = || AnnounceError::NoHost {
                    port: *port,
                    connected: connected.to_string(),
                };
                let address = connected.strip_prefix("tcp://").ok_or_else(no_host)?;
                // `tcp://SOURCE;HOST:PORT` names a source address first: the peer is after `;`.
                let address = address.rsplit(';').next().unwrap_or(address);
                let (host, _) = address.rsplit_once(':').ok_or_else(no_host)?;
                if host.is_empty() || host == "*" {
                    return Err(no_host());
                }
                Ok(format!("tcp://{host}:{port}"))
            }
        }
    }
}

fn parse_ack(value: &str) -> Result<AckEndpoint, AnnounceError> {
    if let Some(port) = value.strip_prefix("tcp://*:") {
        return port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .map(AckEndpoint::SameHostPort)
            .ok_or(AnnounceError::Malformed("ack port is not 1-65535"));
    }
    let known = value.starts_with("tcp://") || value.starts_with("ipc://");
    if !known || value.len() <= "tcp://".len() {
        return Err(AnnounceError::Malformed(
            "ack is not a tcp:// or ipc:// endpoint",
        ));
    }
    Ok(AckEndpoint::Exact(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A collector's `SUB` in its own context (so dropping it frees the port at once).
    struct Collector {
        sub: zmq::Socket,
        _ctx: zmq::Context,
    }

    fn collector(endpoint: &str, incarnation: u64) -> Collector {
        let ctx = zmq::Context::new();
        let sub = ctx.socket(zmq::SUB).unwrap();
        sub.set_linger(0).unwrap();
        sub.set_subscribe(b"").unwrap();
        let topic = Announcement {
            ack: AckEndpoint::SameHostPort(5556),
            incarnation,
        }
        .topic();
        sub.set_subscribe(&topic).unwrap();
        sub.bind(endpoint).unwrap();
        Collector { sub, _ctx: ctx }
    }

    /// Reads the XPUB (and keeps the collector's SUB called into, as a collector does) until an
    /// announcement arrives. Bounded only so that a regression fails instead of hanging.
    fn next_announcement(xpub: &zmq::Socket, collector: &Collector) -> Announcement {
        let give_up = Instant::now() + Duration::from_secs(30);
        while Instant::now() < give_up {
            let _ = collector.sub.poll(zmq::POLLIN, 0);
            if xpub.poll(zmq::POLLIN, 10).unwrap() > 0 {
                let msg = xpub.recv_bytes(0).unwrap();
                if let Some(a) = Announcement::from_xpub_message(&msg) {
                    return a.unwrap();
                }
            }
        }
        panic!("no announcement reached the XPUB");
    }

    /// The behaviour discovery rests on, with the libzmq the collector links (4.3.4): a default
    /// `XPUB` hears the announcement from a `SUB` that binds after it connected, and hears the next
    /// collector process's announcement after the first one is gone, because the incarnation makes
    /// the topic new (libzmq filters a repeated identical subscription).
    #[test]
    fn an_xpub_hears_each_collector_incarnation_announce_itself() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let endpoint = format!("tcp://127.0.0.1:{port}");
        let ctx = zmq::Context::new();
        let xpub = ctx.socket(zmq::XPUB).unwrap();
        xpub.set_linger(0).unwrap();
        xpub.set_reconnect_ivl(20).unwrap();
        xpub.connect(&endpoint).unwrap();

        let first = collector(&endpoint, 1);
        let heard = next_announcement(&xpub, &first);
        assert_eq!(heard.incarnation, 1);
        assert_eq!(
            heard.ack_endpoint_for(&endpoint).unwrap(),
            "tcp://127.0.0.1:5556"
        );
        drop(first);

        let second = collector(&endpoint, 2);
        assert_eq!(next_announcement(&xpub, &second).incarnation, 2);
    }
}
