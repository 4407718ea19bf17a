//! The server side of CURVE for every socket senders reach: [`ServerSecurity`] holds the
//! collector's secret key and the running ZAP handler ([`crate::auth`]), and [`ServerSecurity::apply`]
//! makes one socket a CURVE server whose clients the handler vets and whose connections it counts.
//!
//! Without `[curve]` it is a no-op, so every socket goes through the same call:
//!
//! ```text
//! let security = ServerSecurity::start(&ctx, &config, warner)?;   // before any socket binds
//! let socket = ...;
//! security.apply(&socket)?;                                        // before bind
//! socket.bind(endpoint)?;
//! ```

use crate::auth::{configure_server, Allowlist, AuthCounters, AuthError, ZapHandler};
use crate::config::{Config, CurveConfig};
use crate::warn::Warner;
use logfunnel_core::curve::{read_secret_key, KeySource, PublicKey, SecretKey};
use logfunnel_core::transport::SocketError;
use std::sync::Arc;

use super::CollectorError;

/// The collector's CURVE server setup, shared by every socket it binds.
#[derive(Debug, Default)]
pub struct ServerSecurity {
    curve: Option<Curve>,
}

#[derive(Debug)]
struct Curve {
    secret: SecretKey,
    zap: ZapHandler,
}

impl ServerSecurity {
    /// Plaintext: [`apply`](Self::apply) changes nothing.
    pub fn plaintext() -> ServerSecurity {
        ServerSecurity::default()
    }

    /// Reads `[curve]`'s secret key and allowlist and starts the ZAP handler in `ctx` (before any
    /// socket of `ctx` binds: libzmq lets every CURVE client in while no handler is bound).
    /// Without `[curve]`, [`plaintext`](Self::plaintext).
    pub fn start(
        ctx: &zmq::Context,
        config: &Config,
        warner: Arc<Warner>,
    ) -> Result<ServerSecurity, CollectorError> {
        let Some(curve) = &config.curve else {
            return Ok(ServerSecurity::plaintext());
        };
        let (secret, allowlist) = read_curve(curve)?;
        let zap = ZapHandler::start(ctx, allowlist, warner).map_err(CollectorError::Auth)?;
        zap.set_max_connections(curve.max_connections);
        Ok(ServerSecurity {
            curve: Some(Curve { secret, zap }),
        })
    }

    /// Whether CURVE is on.
    pub fn is_curve(&self) -> bool {
        self.curve.is_some()
    }

    /// Makes `socket` a CURVE server with the collector's key, vetted by the allowlist, its
    /// connections counted and capped (`curve.max_connections`). Call it before `bind`. Errors name
    /// no endpoint: the caller knows it (`SocketError::endpoint` is left empty for it to fill).
    pub fn apply(&self, socket: &zmq::Socket) -> Result<(), SocketError> {
        let Some(curve) = &self.curve else {
            return Ok(());
        };
        let fail = |action| {
            move |source| SocketError {
                action,
                endpoint: String::new(),
                source,
            }
        };
        configure_server(socket, &curve.secret).map_err(fail("set the CURVE server options"))?;
        curve.zap.watch(socket).map_err(|e| match e {
            AuthError::Zmq { source, .. } => {
                fail("monitor the socket for CURVE handshakes")(source)
            }
            _ => fail("monitor the socket for CURVE handshakes")(zmq::Error::ETERM),
        })
    }

    /// Re-reads `allow_dir` (what SIGHUP does). Returns how many keys are allowed now, or why the
    /// old allowlist stays in force. `None` without `[curve]`.
    pub fn reload(&self) -> Option<Result<usize, AuthError>> {
        self.curve.as_ref().map(|c| c.zap.reload())
    }

    /// The handshake counters, with `[curve]`.
    pub fn counters(&self) -> Option<Arc<AuthCounters>> {
        self.curve.as_ref().map(|c| c.zap.counters())
    }

    /// Stops the ZAP handler (before the collector's ZeroMQ context ends).
    pub fn stop(&mut self) {
        if let Some(curve) = self.curve.take() {
            curve.zap.stop();
        }
    }
}

/// `[curve]`'s secret key and allowlist, read now; errors name the key (`curve.secret_key_file`,
/// `curve.allow_dir`).
pub(super) fn read_curve(curve: &CurveConfig) -> Result<(SecretKey, Allowlist), CollectorError> {
    let source = KeySource::File(curve.secret_key_file.clone());
    let secret = read_secret_key("curve.secret_key_file", &source)
        .map_err(|e| CollectorError::Auth(e.into()))?;
    let keys = curve
        .allow
        .iter()
        .map(|k| PublicKey::parse(k.as_bytes()).expect("checked by Config::validate"))
        .collect();
    let allowlist = Allowlist {
        keys,
        dir: curve.allow_dir.clone(),
    };
    // Read once here too, so a bad key file is a setup error naming it, also for --check-config.
    allowlist.load().map_err(CollectorError::Auth)?;
    Ok((secret, allowlist))
}
