//! Who may send: the collector's ZAP handler (ZeroMQ RFC 27) and its CURVE server setup.
//!
//! With CURVE on, libzmq asks the ZAP handler bound at `inproc://zeromq.zap.01` in the same context
//! about each client that completed the key exchange. [`ZapHandler`] answers 200 only for CURVE
//! clients whose public key is in the allowlist (keys from the config plus one key file per file in
//! `allow_dir`), 400 for everything else. Handshakes that fail before ZAP is asked (a client with the
//! wrong server key, a plaintext client) are seen through a socket monitor on each server socket
//! ([`ZapHandler::watch`]). Both kinds are counted ([`AuthCounters`]) and warned about, rate-limited.
//!
//! Order matters, because libzmq lets every CURVE client in while no ZAP handler is bound:
//!
//! ```no_run
//! # use logfunnel_collector::auth::{configure_server, Allowlist, ZapHandler};
//! # use logfunnel_collector::warn::Warner;
//! # use logfunnel_core::curve::KeyPair;
//! # use std::{sync::Arc, time::Duration};
//! let context = zmq::Context::new();
//! let server = KeyPair::generate().unwrap();
//! let allow = Allowlist { keys: vec![], dir: Some("/etc/logfunnel/clients".into()) };
//! let warner = Arc::new(Warner::new(Duration::from_secs(10)));
//! let zap = ZapHandler::start(&context, allow, warner).unwrap(); // 1. handler first
//! let socket = context.socket(zmq::SUB).unwrap();
//! configure_server(&socket, &server.secret).unwrap(); // 2. options before bind
//! zap.watch(&socket).unwrap(); // 3. monitor before bind
//! socket.bind("tcp://0.0.0.0:5555").unwrap(); // 4.
//! // On SIGHUP: zap.reload() re-reads allow_dir. On shutdown: drop(zap) before the context.
//! ```

use std::collections::{HashMap, HashSet};
use std::io;
use std::mem::ManuallyDrop;
use std::net::TcpStream;
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use logfunnel_core::curve::{read_public_key, KeyError, KeySource, PublicKey, SecretKey};

use crate::warn::{Warner, PREFIX};

/// The endpoint libzmq sends ZAP requests to (RFC 27).
pub const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";
/// The ZAP domain the collector's server sockets use.
pub const ZAP_DOMAIN: &str = "logfunnel";

/// Which client keys are let in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist {
    /// Keys listed in the config (`[curve] allow`).
    pub keys: Vec<PublicKey>,
    /// A folder with one public key file per client (`[curve] allow_dir`); files whose name starts
    /// with `.` are skipped (editor and `keygen` temporaries).
    pub dir: Option<PathBuf>,
}

impl Allowlist {
    /// The keys it names now: the listed ones and every key file in `dir`.
    pub fn load(&self) -> Result<HashSet<PublicKey>, AuthError> {
        let mut keys: HashSet<PublicKey> = self.keys.iter().copied().collect();
        if let Some(dir) = &self.dir {
            let unreadable = |source| AuthError::AllowDir {
                path: dir.clone(),
                source,
            };
            for entry in std::fs::read_dir(dir).map_err(unreadable)? {
                let entry = entry.map_err(unreadable)?;
                if entry.file_name().as_encoded_bytes().starts_with(b".") || !entry.path().is_file()
                {
                    continue;
                }
                keys.insert(read_public_key(
                    "curve.allow_dir",
                    &KeySource::File(entry.path()),
                )?);
            }
        }
        Ok(keys)
    }
}

/// Why the ZAP handler could not start, reload or watch a socket.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A key in the allowlist is bad (the error names the option and the file).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// `allow_dir` cannot be listed.
    #[error("curve.allow_dir: cannot read the folder {}: {source}", path.display())]
    AllowDir {
        /// The folder.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A ZeroMQ call failed (e.g. another ZAP handler is bound in this context).
    #[error("cannot {action}: {source}")]
    Zmq {
        /// What was being done.
        action: &'static str,
        /// libzmq's error.
        #[source]
        source: zmq::Error,
    },
    /// The handler thread could not be started.
    #[error("cannot start the ZAP handler thread: {0}")]
    Thread(#[source] io::Error),
    /// The handler thread has ended.
    #[error("the ZAP handler has stopped")]
    Stopped,
}

/// What the ZAP handler saw, for the metrics and the stats line.
#[derive(Debug, Default)]
pub struct AuthCounters {
    /// Clients let in (ZAP 200).
    pub accepted: AtomicU64,
    /// Clients turned away by the allowlist (ZAP 400): an unlisted key, or not CURVE.
    pub rejected_keys: AtomicU64,
    /// Handshakes that failed before the allowlist was asked: the wrong server key, a plaintext
    /// client, garbage.
    pub failed_handshakes: AtomicU64,
    /// Connections closed as soon as they were accepted because the socket already had
    /// `max_connections` open.
    pub refused_connections: AtomicU64,
    last_rejected_peer: Mutex<Option<String>>,
}

impl AuthCounters {
    /// Every rejected handshake, of either kind.
    pub fn rejected(&self) -> u64 {
        self.rejected_keys.load(Ordering::Relaxed) + self.failed_handshakes.load(Ordering::Relaxed)
    }

    /// The address (IP) of the last peer turned away, by the allowlist or by a failed handshake.
    pub fn last_rejected_peer(&self) -> Option<String> {
        self.last_rejected_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Makes `socket` a CURVE server with the collector's secret key, whose clients the ZAP handler
/// vets. Call it before `bind`.
pub fn configure_server(socket: &zmq::Socket, secret: &SecretKey) -> Result<(), zmq::Error> {
    socket.set_curve_server(true)?;
    socket.set_curve_secretkey(secret.as_bytes())?;
    socket.set_zap_domain(ZAP_DOMAIN)
}

/// The running ZAP handler. Dropping it stops its thread; drop it before the context ends.
pub struct ZapHandler {
    control: Mutex<zmq::Socket>,
    thread: Option<JoinHandle<()>>,
    allowlist: Allowlist,
    allowed: Arc<RwLock<HashSet<PublicKey>>>,
    counters: Arc<AuthCounters>,
    max_connections: Arc<AtomicUsize>,
}

impl std::fmt::Debug for ZapHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZapHandler")
            .field("allowlist", &self.allowlist)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// Control messages from the handle to the thread.
const STOP: &[u8] = b"stop";
const WATCH: &[u8] = b"watch ";

impl ZapHandler {
    /// Loads the allowlist and binds the ZAP endpoint in `context`, then answers requests on its own
    /// thread. Fails if the allowlist cannot be read or another handler is bound in this context.
    pub fn start(
        context: &zmq::Context,
        allowlist: Allowlist,
        warner: Arc<Warner>,
    ) -> Result<ZapHandler, AuthError> {
        let allowed = Arc::new(RwLock::new(allowlist.load()?));
        let counters = Arc::new(AuthCounters::default());
        let max_connections = Arc::new(AtomicUsize::new(usize::MAX));
        let zmq_error = |action| move |source| AuthError::Zmq { action, source };

        let zap = context
            .socket(zmq::REP)
            .map_err(zmq_error("create the ZAP socket"))?;
        zap.set_linger(0).map_err(zmq_error("set ZAP linger"))?;
        zap.bind(ZAP_ENDPOINT)
            .map_err(zmq_error("bind inproc://zeromq.zap.01"))?;

        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let control_endpoint = format!(
            "inproc://logfunnel.zap.control.{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let control_pair = || {
            context
                .socket(zmq::PAIR)
                .map_err(zmq_error("create the ZAP control socket"))
        };
        let (thread_control, control) = (control_pair()?, control_pair()?);
        thread_control
            .bind(&control_endpoint)
            .map_err(zmq_error("bind the ZAP control socket"))?;
        control
            .connect(&control_endpoint)
            .map_err(zmq_error("connect the ZAP control socket"))?;

        let worker = Worker {
            context: context.clone(),
            zap,
            control: thread_control,
            monitors: Vec::new(),
            allowed: Arc::clone(&allowed),
            counters: Arc::clone(&counters),
            max_connections: Arc::clone(&max_connections),
            warner,
        };
        let thread = std::thread::Builder::new()
            .name("logfunnel-zap".into())
            .spawn(move || worker.run())
            .map_err(AuthError::Thread)?;
        Ok(ZapHandler {
            control: Mutex::new(control),
            thread: Some(thread),
            allowlist,
            allowed,
            counters,
            max_connections,
        })
    }

    /// Caps the connections open at once on each watched socket, authenticated or not (no cap
    /// unless set). At the cap, a newly accepted connection is shut down at once, counted in
    /// [`AuthCounters::refused_connections`] and warned about; the peer's libzmq reconnects later.
    pub fn set_max_connections(&self, max: usize) {
        self.max_connections.store(max.max(1), Ordering::Relaxed);
    }

    /// Re-reads the allowlist (the SIGHUP path). On an error the old allowlist stays in force.
    /// Returns how many keys are allowed now. Connections already let in stay open.
    pub fn reload(&self) -> Result<usize, AuthError> {
        let keys = self.allowlist.load()?;
        let count = keys.len();
        *self.allowed.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(count)
    }

    /// The counters the metrics read.
    pub fn counters(&self) -> Arc<AuthCounters> {
        Arc::clone(&self.counters)
    }

    /// Counts and warns about failed handshakes on `socket`, and keeps its connections under the cap
    /// (call it before `bind`). Returns once the handler is listening to the socket's monitor, so no
    /// early failure goes unseen.
    pub fn watch(&self, socket: &zmq::Socket) -> Result<(), AuthError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let endpoint = format!(
            "inproc://logfunnel.zap.monitor.{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let events = zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL as i32
            | zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL as i32
            | zmq::SocketEvent::ACCEPTED as i32
            | zmq::SocketEvent::DISCONNECTED as i32;
        socket
            .monitor(&endpoint, events)
            .map_err(|source| AuthError::Zmq {
                action: "monitor a CURVE server socket",
                source,
            })?;
        let control = self.control.lock().unwrap_or_else(|p| p.into_inner());
        let message = [WATCH, endpoint.as_bytes()].concat();
        control.send(message, 0).map_err(|_| AuthError::Stopped)?;
        // The thread answers once its monitor socket is connected.
        control.recv_bytes(0).map_err(|_| AuthError::Stopped)?;
        Ok(())
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(thread) = self.thread.take() {
            let control = self.control.lock().unwrap_or_else(|p| p.into_inner());
            // If the thread is gone already (context terminated) the send fails: nothing to stop.
            let _ = control.send(STOP, zmq::DONTWAIT);
            drop(control);
            let _ = thread.join();
        }
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The handler thread's state.
struct Worker {
    context: zmq::Context,
    zap: zmq::Socket,
    control: zmq::Socket,
    monitors: Vec<Monitor>,
    allowed: Arc<RwLock<HashSet<PublicKey>>>,
    counters: Arc<AuthCounters>,
    max_connections: Arc<AtomicUsize>,
    warner: Arc<Warner>,
}

/// One watched socket: its monitor and the connections it has open now.
struct Monitor {
    socket: zmq::Socket,
    /// Open connections by file descriptor, with the peer's address.
    open: HashMap<i32, Peer>,
    /// The ZMTP error of a handshake failure whose connection has not closed yet: libzmq reports the
    /// failure, then at once the disconnection (with the descriptor, hence the peer).
    failed: Option<u32>,
}

/// A connected peer as the kernel reports it.
#[derive(Clone)]
struct Peer {
    /// `10.0.0.7:41234`, or `a local process` for ipc.
    address: String,
    /// The IP alone, as ZAP reports it.
    ip: String,
}

impl Peer {
    fn of(fd: i32) -> Peer {
        // SAFETY: libzmq owns the descriptor; ManuallyDrop keeps std from closing it.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        match stream.peer_addr() {
            Ok(addr) => Peer {
                address: addr.to_string(),
                ip: addr.ip().to_string(),
            },
            Err(_) => Peer {
                address: "a local process".into(),
                ip: "local".into(),
            },
        }
    }
}

impl Drop for Worker {
    /// Unbinds the ZAP endpoint before the socket closes: closing is asynchronous in libzmq, an
    /// inproc unbind is not, so a handler started right after `stop` can bind it again.
    fn drop(&mut self) {
        let _ = self.zap.unbind(ZAP_ENDPOINT);
    }
}

impl Worker {
    fn run(mut self) {
        loop {
            let ready = {
                let mut items = vec![
                    self.zap.as_poll_item(zmq::POLLIN),
                    self.control.as_poll_item(zmq::POLLIN),
                ];
                items.extend(
                    self.monitors
                        .iter()
                        .map(|m| m.socket.as_poll_item(zmq::POLLIN)),
                );
                if zmq::poll(&mut items, -1).is_err() {
                    return; // ETERM: the context is ending.
                }
                items.iter().map(|i| i.is_readable()).collect::<Vec<_>>()
            };
            if ready[1] && !self.on_control() {
                return;
            }
            if ready[0] {
                if let Err(error) = self.answer() {
                    if error == zmq::Error::ETERM {
                        return;
                    }
                }
            }
            // Only the monitors polled this round: `on_control` may have added one.
            for (index, _) in ready[2..].iter().enumerate().filter(|(_, &r)| r) {
                self.on_monitor_events(index);
            }
        }
    }

    /// Handles a control message; false means stop.
    fn on_control(&mut self) -> bool {
        let Ok(message) = self.control.recv_bytes(0) else {
            return false;
        };
        if let Some(endpoint) = message.strip_prefix(WATCH) {
            let endpoint = String::from_utf8_lossy(endpoint).into_owned();
            match self.context.socket(zmq::PAIR) {
                Ok(socket) if socket.connect(&endpoint).is_ok() => self.monitors.push(Monitor {
                    socket,
                    open: HashMap::new(),
                    failed: None,
                }),
                _ => {
                    eprintln!("{PREFIX}: warning: cannot watch a CURVE server socket ({endpoint})")
                }
            }
            return self.control.send("watching", 0).is_ok();
        }
        message != STOP
    }

    /// Answers one ZAP request (RFC 27): version, request id, domain, address, identity,
    /// mechanism, then the mechanism's credentials (for CURVE: the client's 32-byte public key).
    fn answer(&self) -> Result<(), zmq::Error> {
        let request = self.zap.recv_multipart(0)?;
        let frame = |i: usize| request.get(i).map(Vec::as_slice).unwrap_or_default();
        let (version, request_id, address, mechanism) = (frame(0), frame(1), frame(3), frame(5));
        if version != b"1.0" {
            // Not a ZAP 1.0 request: RFC 27 says close; answering keeps the REP socket usable.
            return self.zap.send_multipart(
                [
                    b"1.0".as_slice(),
                    request_id,
                    b"500",
                    b"bad version",
                    b"",
                    b"",
                ],
                0,
            );
        }
        let client = (mechanism == b"CURVE")
            .then(|| <[u8; 32]>::try_from(frame(6)).ok())
            .flatten()
            .map(PublicKey::from_bytes);
        let allowed = client.is_some_and(|key| {
            self.allowed
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&key)
        });
        if allowed {
            self.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let user_id = client.expect("allowed implies a key").to_z85();
            return self.zap.send_multipart(
                [
                    b"1.0".as_slice(),
                    request_id,
                    b"200",
                    b"OK",
                    user_id.as_bytes(),
                    b"",
                ],
                0,
            );
        }
        self.counters.rejected_keys.fetch_add(1, Ordering::Relaxed);
        let peer = String::from_utf8_lossy(address).into_owned();
        self.note_rejected_peer(&peer);
        let reason = match client {
            Some(key) => format!("client key {key} is not in the allowlist"),
            None => format!(
                "mechanism {} is not CURVE",
                String::from_utf8_lossy(mechanism)
            ),
        };
        self.warner.warn("auth-rejected", || {
            format!("rejected a sender from {peer}: {reason}")
        });
        self.zap.send_multipart(
            [
                b"1.0".as_slice(),
                request_id,
                b"400",
                b"not allowed",
                b"",
                b"",
            ],
            0,
        )
    }

    /// Reads every event waiting on monitor `index` (an event frame: u16 event, u32 value, native
    /// byte order; then the endpoint), then shuts down the connections above the cap. Reading all
    /// first means a connection is acted on only while it is still open by the latest news.
    fn on_monitor_events(&mut self, index: usize) {
        let max = self.max_connections.load(Ordering::Relaxed);
        let mut over_cap = Vec::new();
        while let Ok(event) = self.monitors[index].socket.recv_multipart(zmq::DONTWAIT) {
            let (Some(head), Some(endpoint)) = (event.first(), event.get(1)) else {
                continue;
            };
            if head.len() < 6 {
                continue;
            }
            let kind = u16::from_ne_bytes(head[0..2].try_into().expect("2 bytes"));
            let value = u32::from_ne_bytes(head[2..6].try_into().expect("4 bytes"));
            let endpoint = String::from_utf8_lossy(endpoint);
            let monitor = &mut self.monitors[index];
            match kind {
                k if k == zmq::SocketEvent::ACCEPTED as u16 => {
                    let fd = value as i32;
                    monitor.open.insert(fd, Peer::of(fd));
                    if monitor.open.len() > max {
                        over_cap.push(fd);
                    }
                }
                k if k == zmq::SocketEvent::DISCONNECTED as u16 => {
                    let peer = monitor.open.remove(&(value as i32));
                    over_cap.retain(|&fd| fd != value as i32);
                    if let (Some(code), Some(peer)) = (monitor.failed.take(), peer) {
                        self.note_rejected_peer(&peer.ip);
                        self.warner.warn("auth-handshake", || {
                            format!(
                                "rejected a sender from {} on {endpoint}: CURVE handshake failed: {}",
                                peer.address,
                                protocol_error_name(code)
                            )
                        });
                    }
                }
                _ => {
                    // A failed handshake (the only other events watched).
                    self.counters
                        .failed_handshakes
                        .fetch_add(1, Ordering::Relaxed);
                    monitor.failed = Some(value);
                }
            }
        }
        for fd in over_cap {
            let Some(peer) = self.monitors[index].open.get(&fd).cloned() else {
                continue;
            };
            // SAFETY: as in `Peer::of`; shutdown (not close) leaves the descriptor to libzmq, which
            // sees the connection end and closes it itself.
            let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
            let _ = stream.shutdown(std::net::Shutdown::Both);
            self.counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            self.warner.warn("auth-cap", || {
                format!(
                    "closed a connection from {}: the socket already has max_connections ({max}) open",
                    peer.address
                )
            });
        }
    }

    fn note_rejected_peer(&self, ip: &str) {
        *self
            .counters
            .last_rejected_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(ip.to_string());
    }
}

/// Names the ZMTP protocol errors a failed CURVE handshake reports (libzmq's
/// `ZMQ_PROTOCOL_ERROR_*` numbers).
fn protocol_error_name(code: u32) -> String {
    match code {
        0x1000_0003 => "key exchange failed".into(),
        0x1100_0001 => "cryptographic error: not our server key?".into(),
        0x1100_0002 => "security mechanism mismatch: CURVE off on the sender?".into(),
        _ => format!("protocol error {code:#x}"),
    }
}
