//! CURVE between two hosts: a sender process in one network namespace, a CURVE server process in
//! another, bound to its veth address, and a capture of the link between them. With CURVE on the
//! record's text is not on the wire; with it off it is (so the capture is known to see the traffic).
//!
//! Needs root (network namespaces) and tcpdump (installed with apt-get if missing); without root it
//! says SKIPPED and passes. The two processes are this test binary again, running the ignored
//! `role_*` tests below inside `ip netns exec`.

mod netns;

use logfunnel_collector::auth::{configure_server, Allowlist, ZapHandler};
use logfunnel_collector::warn::Warner;
use logfunnel_core::curve::{configure_client, KeyPair, PublicKey, SecretKey};
use netns::TwoHosts;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const PORT: u16 = 5599;

#[test]
fn curve_hides_record_text_on_the_wire_between_two_hosts() {
    let Some(hosts) = TwoHosts::up("lfcurve", "10.231.7") else {
        return;
    };
    ensure_tcpdump();
    let server_keys = KeyPair::generate().unwrap();
    let client_keys = KeyPair::generate().unwrap();

    let text = format!("record text {} curve on", std::process::id());
    let wire = exchange(&hosts, Some((&server_keys, &client_keys)), &text);
    assert!(
        contains(&wire, b"CURVE"),
        "the capture saw no CURVE greeting"
    );
    assert!(
        !contains(&wire, text.as_bytes()),
        "record text in clear with CURVE on"
    );

    let text = format!("record text {} curve off", std::process::id());
    let wire = exchange(&hosts, None, &text);
    assert!(contains(&wire, b"NULL"), "the capture saw no NULL greeting");
    assert!(
        contains(&wire, text.as_bytes()),
        "the capture missed the plaintext record"
    );
}

/// Runs a server on host B and a sender on host A that sends `text` once, while tcpdump captures
/// host A's end of the link. Returns the capture file's bytes.
fn exchange(hosts: &TwoHosts, curve: Option<(&KeyPair, &KeyPair)>, text: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("link.pcap");
    let mut tcpdump = hosts
        .command_a("tcpdump")
        .args([
            "-i",
            &hosts.dev_a,
            "--immediate-mode",
            "-U",
            "-n",
            "-Z",
            "root",
            "-w",
        ])
        .arg(&pcap)
        .args(["tcp", "port", &PORT.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump starts");
    let mut tcpdump_err = BufReader::new(tcpdump.stderr.take().unwrap());
    wait_for_line(&mut tcpdump_err, "listening on");

    let endpoint = format!("tcp://{}:{PORT}", hosts.addr_b);
    let mut server = role(
        hosts.command_b(exe()),
        "role_server",
        &endpoint,
        curve,
        text,
    );
    let mut server_out = BufReader::new(server.stdout.take().unwrap());
    wait_for_line(&mut server_out, "ROLE: listening");

    let mut sender = role(
        hosts.command_a(exe()),
        "role_sender",
        &endpoint,
        curve,
        text,
    );
    assert!(sender.wait().unwrap().success(), "the sender failed");
    let received = wait_for_line(&mut server_out, "ROLE: received ");
    assert!(
        received.ends_with(&format!("ROLE: received {text}")),
        "{received}"
    );
    assert!(server.wait().unwrap().success(), "the server failed");

    // Both processes have closed their sockets: stop the capture once both FINs are in it, so no
    // packet of the exchange is missed.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fin_count(&std::fs::read(&pcap).unwrap()) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the capture never saw both FINs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: tcpdump is our own child, signalled by its pid; SIGTERM makes it flush and exit.
    unsafe { libc::kill(tcpdump.id() as libc::pid_t, libc::SIGTERM) };
    tcpdump.wait().unwrap();
    std::fs::read(&pcap).unwrap()
}

/// Counts TCP segments with FIN set in a pcap file of Ethernet frames (IPv4).
fn fin_count(pcap: &[u8]) -> usize {
    let mut count = 0;
    let mut at = 24; // the file header
    while at + 16 <= pcap.len() {
        let captured = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &pcap[at + 16..(at + 16 + captured).min(pcap.len())];
        at += 16 + captured;
        // Ethernet (14 bytes), then IPv4 with its header length in the low nibble of byte 0.
        let Some(&version_ihl) = frame.get(14) else {
            continue;
        };
        let tcp = 14 + usize::from(version_ihl & 0x0f) * 4;
        if frame.get(14 + 9) == Some(&6) && frame.get(tcp + 13).is_some_and(|f| f & 0x01 != 0) {
            count += 1;
        }
    }
    count
}

fn role(
    mut command: Command,
    name: &str,
    endpoint: &str,
    curve: Option<(&KeyPair, &KeyPair)>,
    text: &str,
) -> Child {
    command
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LF_ROLE_ENDPOINT", endpoint)
        .env("LF_ROLE_TEXT", text)
        .stdout(Stdio::piped());
    if let Some((server, client)) = curve {
        command
            .env("LF_ROLE_SERVER_PUBLIC", server.public.to_z85())
            .env("LF_ROLE_SERVER_SECRET", server.secret.to_z85())
            .env("LF_ROLE_CLIENT_PUBLIC", client.public.to_z85())
            .env("LF_ROLE_CLIENT_SECRET", client.secret.to_z85());
    }
    command.spawn().expect("the role process starts")
}

fn exe() -> std::path::PathBuf {
    std::env::current_exe().unwrap()
}

/// Reads lines until one contains `needle`; returns it (the test harness may prefix our output).
fn wait_for_line(reader: &mut impl BufRead, needle: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).unwrap();
        assert!(read > 0, "stream ended before a line with {needle:?}");
        if line.contains(needle) {
            return line.trim_end().to_string();
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn ensure_tcpdump() {
    let present = || Command::new("tcpdump").arg("--version").output().is_ok();
    if !present() {
        let installed = Command::new("apt-get")
            .args(["install", "-y", "-qq", "tcpdump"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-qq", "tcpdump"])
                .status();
        }
    }
    assert!(
        present(),
        "tcpdump is missing and apt-get could not install it"
    );
}

fn role_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn role_key<K>(
    name: &str,
    parse: fn(&[u8]) -> Result<K, logfunnel_core::curve::KeyProblem>,
) -> Option<K> {
    role_env(name).map(|z85| parse(z85.as_bytes()).expect("a valid key in the role's environment"))
}

/// Host B: a CURVE server (when keys are given) allowing the one client key, bound to its address;
/// receives one message and prints it.
#[test]
#[ignore = "a role process of curve_hides_record_text_on_the_wire_between_two_hosts"]
fn role_server() {
    let endpoint = role_env("LF_ROLE_ENDPOINT").expect("run by the netns test");
    let context = zmq::Context::new();
    let secret = role_key("LF_ROLE_SERVER_SECRET", SecretKey::parse);
    let zap = secret.as_ref().map(|_| {
        let client = role_key("LF_ROLE_CLIENT_PUBLIC", PublicKey::parse).unwrap();
        let allowlist = Allowlist {
            keys: vec![client],
            dir: None,
        };
        ZapHandler::start(&context, allowlist, Arc::new(Warner::new(Duration::ZERO))).unwrap()
    });
    let socket = context.socket(zmq::PULL).unwrap();
    socket.set_linger(0).unwrap();
    if let (Some(secret), Some(zap)) = (&secret, &zap) {
        configure_server(&socket, secret).unwrap();
        zap.watch(&socket).unwrap();
    }
    socket.bind(&endpoint).unwrap();
    println!("ROLE: listening");
    socket.set_rcvtimeo(30_000).unwrap();
    let message = socket.recv_bytes(0).expect("a message within 30 s");
    println!("ROLE: received {}", String::from_utf8_lossy(&message));
}

/// Host A: sends the text once (as a CURVE client when keys are given) and waits until it is written.
#[test]
#[ignore = "a role process of curve_hides_record_text_on_the_wire_between_two_hosts"]
fn role_sender() {
    let endpoint = role_env("LF_ROLE_ENDPOINT").expect("run by the netns test");
    let text = role_env("LF_ROLE_TEXT").unwrap();
    let context = zmq::Context::new();
    let socket = context.socket(zmq::PUSH).unwrap();
    if let Some(server) = role_key("LF_ROLE_SERVER_PUBLIC", PublicKey::parse) {
        let client = KeyPair {
            public: role_key("LF_ROLE_CLIENT_PUBLIC", PublicKey::parse).unwrap(),
            secret: role_key("LF_ROLE_CLIENT_SECRET", SecretKey::parse).unwrap(),
        };
        configure_client(&socket, &server, &client).unwrap();
    }
    // Closing waits (up to the linger) until the queued message is written.
    socket.set_linger(30_000).unwrap();
    socket.connect(&endpoint).unwrap();
    socket.send(text.as_bytes(), 0).unwrap();
    drop(socket);
    drop(context);
    println!("ROLE: sent");
}
