//! CURVE and the ZAP allowlist with real libzmq sockets over TCP on 127.0.0.1: who gets records
//! through, who does not, and that each rejection is counted.

mod support;

use logfunnel_collector::auth::{Allowlist, AuthCounters, ZapHandler};
use logfunnel_collector::warn::Warner;
use logfunnel_core::curve::{configure_client, KeyPair};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::curve_server::CurveServer as Server;

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(20);

fn server(allowlist: Allowlist) -> Server {
    Server::start(allowlist)
}

/// A server whose allowlist is `client`'s public key alone.
fn server_listing(client: &KeyPair) -> Server {
    server(Allowlist {
        keys: vec![client.public],
        dir: None,
    })
}

/// A CURVE client with `keys` that knows `server`'s key; sends `text`.
fn curve_client(server: &Server, keys: &KeyPair, text: &str) -> (zmq::Context, zmq::Socket) {
    client(&server.endpoint, Some((&server.keys, keys)), text)
}

/// A client in its own context, as a sender process has; sends `text` (queued until connected).
fn client(
    endpoint: &str,
    curve: Option<(&KeyPair, &KeyPair)>,
    text: &str,
) -> (zmq::Context, zmq::Socket) {
    let context = zmq::Context::new();
    let socket = context.socket(zmq::PUSH).unwrap();
    socket.set_linger(0).unwrap();
    if let Some((server_keys, client_keys)) = curve {
        configure_client(&socket, &server_keys.public, client_keys).unwrap();
    }
    socket.connect(endpoint).unwrap();
    socket.send(text, 0).unwrap();
    (context, socket)
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `count` (of rejections) is at least 1, then asserts nothing was delivered and
/// nobody was accepted.
fn assert_refused(server: &Server, what: &str, count: impl Fn() -> u64) {
    wait_until(what, || count() >= 1);
    assert_nothing_received(server);
    assert_eq!(server.zap.counters().accepted.load(Ordering::Relaxed), 0);
}

/// Asserts nothing was delivered: the rejection is already counted, so the handshake is over.
fn assert_nothing_received(server: &Server) {
    assert_eq!(
        server.socket.recv_bytes(zmq::DONTWAIT),
        Err(zmq::Error::EAGAIN),
        "a rejected client's message arrived"
    );
}

fn counts(counters: &AuthCounters) -> (u64, u64, u64) {
    (
        counters.accepted.load(Ordering::Relaxed),
        counters.rejected_keys.load(Ordering::Relaxed),
        counters.failed_handshakes.load(Ordering::Relaxed),
    )
}

#[test]
fn listed_client_gets_through_and_is_counted_as_accepted() {
    let allowed = KeyPair::generate().unwrap();
    let server = server_listing(&allowed);
    let _client = curve_client(&server, &allowed, "hello over curve");
    server
        .socket
        .set_rcvtimeo(PATIENCE.as_millis() as i32)
        .unwrap();
    let mut message = server.socket.recv_msg(0).unwrap();
    assert_eq!(&*message, b"hello over curve");
    // ZAP's user id is the client's key, so a later stage can tell senders apart.
    assert_eq!(
        message.gets("User-Id"),
        Some(allowed.public.to_z85().as_str())
    );
    let counters = server.zap.counters();
    assert_eq!(counts(&counters), (1, 0, 0));
    assert_eq!(counters.rejected(), 0);
}

#[test]
fn unlisted_key_delivers_nothing_and_is_counted_with_its_address() {
    let listed = KeyPair::generate().unwrap();
    let stranger = KeyPair::generate().unwrap();
    let server = server_listing(&listed);
    let _client = curve_client(&server, &stranger, "let me in");
    let counters = server.zap.counters();
    assert_refused(&server, "the ZAP rejection", || {
        counters.rejected_keys.load(Ordering::Relaxed)
    });
    assert_eq!(counters.last_rejected_peer().as_deref(), Some("127.0.0.1"));
}

#[test]
fn wrong_server_key_delivers_nothing_and_is_counted() {
    let listed = KeyPair::generate().unwrap();
    let server = server_listing(&listed);
    let impostor_server = KeyPair::generate().unwrap();
    let _client = client(
        &server.endpoint,
        Some((&impostor_server, &listed)),
        "secret",
    );
    let counters = server.zap.counters();
    assert_refused(&server, "the failed handshake", || {
        counters.failed_handshakes.load(Ordering::Relaxed)
    });
    assert!(counters.rejected() >= 1);
}

#[test]
fn plaintext_client_delivers_nothing_and_is_counted() {
    let server = server(Allowlist::default());
    let _client = client(&server.endpoint, None, "plain text");
    let counters = server.zap.counters();
    assert_refused(&server, "the failed handshake", || {
        counters.failed_handshakes.load(Ordering::Relaxed)
    });
}

#[test]
fn allow_dir_is_read_at_start_and_again_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    let first = KeyPair::generate().unwrap();
    let second = KeyPair::generate().unwrap();
    let clients = dir.path().join("clients");
    std::fs::create_dir(&clients).unwrap();
    // Public halves in the allow_dir, secret halves beside it.
    first
        .write_files(&clients.join("first.key"), &dir.path().join("first.secret"))
        .unwrap();
    let server = server(Allowlist {
        keys: vec![],
        dir: Some(clients.clone()),
    });
    let counters = server.zap.counters();

    // `second` is not listed yet: turned away.
    let _late = client(&server.endpoint, Some((&server.keys, &second)), "too early");
    wait_until("the rejection before reload", || {
        counters.rejected_keys.load(Ordering::Relaxed) >= 1
    });
    assert_nothing_received(&server);
    drop(_late);

    second
        .write_files(
            &clients.join("second.key"),
            &dir.path().join("second.secret"),
        )
        .unwrap();
    assert_eq!(server.zap.reload().unwrap(), 2);

    server
        .socket
        .set_rcvtimeo(PATIENCE.as_millis() as i32)
        .unwrap();
    let _first = client(&server.endpoint, Some((&server.keys, &first)), "from first");
    assert_eq!(server.socket.recv_bytes(0).unwrap(), b"from first");
    let _second = client(
        &server.endpoint,
        Some((&server.keys, &second)),
        "from second",
    );
    assert_eq!(server.socket.recv_bytes(0).unwrap(), b"from second");
}

#[test]
fn a_bad_key_file_in_allow_dir_fails_the_start_and_a_reload_keeps_the_old_list() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.key"), "not a key\n").unwrap();
    let allowlist = Allowlist {
        keys: vec![],
        dir: Some(dir.path().into()),
    };
    let error = ZapHandler::start(
        &zmq::Context::new(),
        allowlist.clone(),
        Arc::new(Warner::new(Duration::ZERO)),
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("curve.allow_dir: key file "), "{error}");
    assert!(error.contains("broken.key"), "{error}");

    std::fs::remove_file(dir.path().join("broken.key")).unwrap();
    let context = zmq::Context::new();
    let zap =
        ZapHandler::start(&context, allowlist, Arc::new(Warner::new(Duration::ZERO))).unwrap();
    std::fs::write(dir.path().join("broken.key"), "still not a key").unwrap();
    assert!(zap.reload().is_err());
}

#[test]
fn a_second_handler_in_one_context_is_refused_and_a_stopped_one_frees_the_endpoint() {
    let context = zmq::Context::new();
    let warner = Arc::new(Warner::new(Duration::ZERO));
    let first = ZapHandler::start(&context, Allowlist::default(), Arc::clone(&warner)).unwrap();
    let error = ZapHandler::start(&context, Allowlist::default(), Arc::clone(&warner)).unwrap_err();
    assert!(
        error.to_string().contains("inproc://zeromq.zap.01"),
        "{error}"
    );
    first.stop();
    let again = ZapHandler::start(&context, Allowlist::default(), warner).unwrap();
    drop(again);
    // Every socket is closed, so terminating the context returns.
    drop(context);
}
