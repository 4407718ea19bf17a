//! A CURVE server socket with the collector's ZAP allowlist, in-process, on an ephemeral loopback
//! port: what the collector's receiver sets up, without the rest of the collector.

use logfunnel_collector::auth::{configure_server, Allowlist, ZapHandler};
use logfunnel_collector::warn::Warner;
use logfunnel_core::curve::KeyPair;
use std::sync::Arc;
use std::time::Duration;

pub struct CurveServer {
    _context: zmq::Context,
    pub zap: ZapHandler,
    /// A PULL socket with CURVE on, watched by `zap`.
    pub socket: zmq::Socket,
    pub endpoint: String,
    /// The server's own key pair (clients need its public half).
    pub keys: KeyPair,
}

impl CurveServer {
    /// Binds a fresh key pair's CURVE server on `tcp://127.0.0.1:*`, letting in `allowlist`.
    pub fn start(allowlist: Allowlist) -> CurveServer {
        let context = zmq::Context::new();
        let keys = KeyPair::generate().unwrap();
        let warner = Arc::new(Warner::new(Duration::ZERO));
        let zap = ZapHandler::start(&context, allowlist, warner).unwrap();
        let socket = context.socket(zmq::PULL).unwrap();
        socket.set_linger(0).unwrap();
        configure_server(&socket, &keys.secret).unwrap();
        zap.watch(&socket).unwrap();
        socket.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = socket.get_last_endpoint().unwrap().unwrap();
        CurveServer {
            _context: context,
            zap,
            socket,
            endpoint,
            keys,
        }
    }
}
