//! `logfunnel-bench-blaster`: one sender process for the collector ingest benchmark.
//!
//! It encodes one v1 record per socket up front (with `logfunnel_core::Record`, so the frame is exactly
//! what a real sender writes), then sends `--records` copies of it round-robin over `--sockets` sockets,
//! splicing only the per-sender `seq` number into each copy, so the collector's gap tracking sees a
//! normal, gap-free stream. The sending cost is a memcpy plus libzmq: what is measured is the collector.
//!
//! Protocol with the driver (`bench/python/ingest.py`): connect, wait until every XPUB socket has seen
//! the collector's subscription, print `ready`, wait for one line on stdin, send everything, close with
//! an unlimited linger (so every frame reaches the collector), print one JSON line of counters.
//!
//! With `--mode batch` it speaks the acknowledged protocol (wire v2) instead: see `batch`, which also
//! has that mode's ceiling sink.
//!
//! With `--sink` the same binary is the other end instead: it binds where the collector would and only
//! counts what arrives (see `sink`), so the driver can measure the ceiling the blasters and the machine
//! allow, with the very same sender processes.
//!
//! ```text
//! logfunnel-bench-blaster --endpoint tcp://127.0.0.1:5555 [--mode xpub|push] [--records N]
//!                         [--sockets S] [--msg-bytes B] [--id K] [--sndhwm H]
//!                         [--curve-server-key FILE --curve-secret-key FILE]
//! logfunnel-bench-blaster --sink --endpoint tcp://127.0.0.1:5555 [--mode xpub|push] --records TOTAL
//!                         [--rcvhwm H] [--quiet-s S]
//! ```

mod batch;
mod driver;
mod sink;

use logfunnel_core::curve::KeySource;
use logfunnel_core::record::{Lang, Record};
use logfunnel_core::transport;
use logfunnel_core::{SenderOptions, SocketMode};
use driver::{err, ready_then_wait_for_start};
use std::time::{Duration, Instant};

/// Parsed command line.
struct Args {
    endpoint: String,
    push: bool,
    /// `--mode batch`: the acknowledged path (wire v2) instead of v1 frames.
    batched: bool,
    /// Records per batch in `--mode batch`.
    batch: usize,
    records: u64,
    sockets: usize,
    msg_bytes: usize,
    id: u32,
    sndhwm: i32,
    /// Receive and count instead of sending; `records` is then the total expected from all blasters.
    sink: bool,
    rcvhwm: i32,
    quiet_s: f64,
    /// CURVE keys (file paths, as a sender's `curve_server_key` / `curve_secret_key`), for a collector
    /// with `[curve]`; none: plaintext.
    curve_server_key: Option<String>,
    curve_secret_key: Option<String>,
}

const USAGE: &str =
    "usage: logfunnel-bench-blaster --endpoint EP [--mode xpub|push|batch] [--records N] \
     [--sockets S] [--msg-bytes B] [--id K] [--sndhwm H] [--batch N] \
     [--curve-server-key FILE --curve-secret-key FILE]\n       \
     logfunnel-bench-blaster --sink --endpoint EP [--mode xpub|push|batch] [--records TOTAL] \
     [--rcvhwm H] [--quiet-s S]";

fn usage(msg: &str) -> ! {
    eprintln!("logfunnel-bench-blaster: {msg}");
    eprintln!("{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        endpoint: String::new(),
        push: false,
        batched: false,
        // A sender's default `max_batch_records`.
        batch: 1024,
        records: 100_000,
        sockets: 1,
        msg_bytes: 100,
        id: 0,
        sndhwm: 10_000,
        sink: false,
        // The collector's default `rcvhwm`, so the sink buffers what the collector would.
        rcvhwm: 1_000,
        quiet_s: 10.0,
        curve_server_key: None,
        curve_secret_key: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> T {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
        }
        match flag.as_str() {
            "--endpoint" => a.endpoint = value(),
            "--mode" => {
                (a.push, a.batched) = match value().as_str() {
                    "push" => (true, false),
                    "xpub" => (false, false),
                    "batch" => (false, true),
                    other => usage(&format!("--mode: xpub, push or batch, not {other}")),
                }
            }
            "--records" => a.records = num(&flag, value()),
            "--sockets" => a.sockets = num(&flag, value()),
            "--msg-bytes" => a.msg_bytes = num(&flag, value()),
            "--id" => a.id = num(&flag, value()),
            "--sndhwm" => a.sndhwm = num(&flag, value()),
            "--batch" => a.batch = num(&flag, value()),
            "--sink" => a.sink = true,
            "--rcvhwm" => a.rcvhwm = num(&flag, value()),
            "--quiet-s" => a.quiet_s = num(&flag, value()),
            "--curve-server-key" => a.curve_server_key = Some(value()),
            "--curve-secret-key" => a.curve_secret_key = Some(value()),
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if a.endpoint.is_empty() {
        usage("--endpoint is required");
    }
    if a.batch == 0 {
        usage("--batch must be at least 1");
    }
    if a.sockets == 0 {
        usage("--sockets must be at least 1");
    }
    if a.quiet_s.is_nan() || a.quiet_s <= 0.0 {
        usage("--quiet-s must be positive");
    }
    if a.curve_server_key.is_some() != a.curve_secret_key.is_some() {
        usage("--curve-server-key and --curve-secret-key go together");
    }
    a
}

/// The sender options every blaster socket is made from (as a logfunnel sender's).
fn sender_options(args: &Args, mode: SocketMode) -> SenderOptions {
    let mut options = SenderOptions::new(args.endpoint.clone());
    options.mode = mode;
    options.sndhwm = args.sndhwm;
    options.curve_server_key = args.curve_server_key.as_deref().map(KeySource::parse);
    options.curve_secret_key = args.curve_secret_key.as_deref().map(KeySource::parse);
    options
}

/// One socket's frame, split around its `seq` digits.
struct Template {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    /// The record's `sid` (a batch header repeats it).
    sid: String,
}

/// The placeholder written for `seq` and then cut out of the encoded frame.
const SEQ_MARK: u64 = u64::MAX;

fn template(args: &Args, socket: usize) -> Template {
    let head = format!("blaster {} socket {} ", args.id, socket);
    let pad = args.msg_bytes.saturating_sub(head.len());
    let mut r = Record::new("bench.blaster", 20, format!("{head}{}", "x".repeat(pad)));
    r.pathname = Some("/srv/app/bench/blaster.py".into());
    r.filename = Some("blaster.py".into());
    r.module = Some("blaster".into());
    r.lineno = Some(42);
    r.func_name = Some("blast".into());
    r.process = Some(std::process::id() as i64);
    r.process_name = Some(format!("Blaster-{}", args.id));
    r.thread = Some(140_000_000_000_000 + socket as i64);
    r.thread_name = Some("MainThread".into());
    r.relative_created = Some(12.5);
    r.host = Some("bench".into());
    r.lang = Some(Lang::Rust.as_str().into());
    let sid = format!("blaster-{}-{}-{}", std::process::id(), args.id, socket);
    r.sid = Some(sid.clone());
    r.seq = Some(SEQ_MARK);
    let json = r.to_json().into_bytes();
    let mark = format!("\"seq\":{SEQ_MARK}");
    let at = find(&json, mark.as_bytes()).expect("the encoded record holds its seq") + 6;
    Template {
        prefix: json[..at].to_vec(),
        suffix: json[at + SEQ_MARK.to_string().len()..].to_vec(),
        sid,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn run(args: &Args) -> Result<(), String> {
    if args.batched {
        let templates: Vec<Template> = (0..args.sockets).map(|i| template(args, i)).collect();
        return batch::send(args, &templates);
    }
    let ctx = zmq::Context::new();
    let mut sockets = Vec::with_capacity(args.sockets);
    // The same socket a logfunnel sender uses (XPUB with ZMQ_XPUB_NODROP, or PUSH), from core's
    // transport module, so the benchmark measures what senders do.
    let mode = if args.push {
        SocketMode::Push
    } else {
        SocketMode::Xpub
    };
    let options = sender_options(args, mode);
    // A key that cannot be read is an error naming the option, not a socket that never connects.
    options.curve_keys().map_err(|e| e.to_string())?;
    for _ in 0..args.sockets {
        let s = transport::connect_sender(&ctx, &options).map_err(|e| e.to_string())?;
        sockets.push(s);
    }
    if !args.push {
        // Nothing may be sent before the collector's subscription arrives (PUB semantics).
        let deadline = Instant::now() + Duration::from_secs(30);
        for s in &sockets {
            loop {
                if Instant::now() > deadline {
                    return Err("no subscription from the collector within 30 s".into());
                }
                if s.poll(zmq::POLLIN, 100).map_err(err("poll"))? > 0 {
                    let msg = s.recv_bytes(0).map_err(err("recv"))?;
                    if msg.first() == Some(&1) {
                        break;
                    }
                }
            }
        }
    }
    let templates: Vec<Template> = (0..args.sockets).map(|i| template(args, i)).collect();
    let mut frame: Vec<u8> = Vec::with_capacity(templates[0].prefix.len() + 64 + args.msg_bytes);

    ready_then_wait_for_start(&[])?;

    let cpu_before = rusage().0;
    let start = Instant::now();
    let mut seqs = vec![0u64; args.sockets];
    let mut eagain = 0u64;
    for i in 0..args.records {
        let k = (i % args.sockets as u64) as usize;
        let t = &templates[k];
        frame.clear();
        frame.extend_from_slice(&t.prefix);
        frame.extend_from_slice(seqs[k].to_string().as_bytes());
        frame.extend_from_slice(&t.suffix);
        seqs[k] += 1;
        loop {
            match sockets[k].send(&frame[..], zmq::DONTWAIT) {
                Ok(()) => break,
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => {
                    // The high-water mark is reached: the collector is the bottleneck. Back off briefly.
                    eagain += 1;
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(e) => return Err(format!("send: {e}")),
            }
        }
    }
    let sent_s = start.elapsed().as_secs_f64();
    // Unlimited linger (the default): dropping waits until libzmq has written every frame.
    drop(sockets);
    drop(ctx);
    let total_s = start.elapsed().as_secs_f64();
    let cpu_s = rusage().0 - cpu_before;
    println!(
        "{{\"id\":{},\"records\":{},\"eagain\":{},\"send_s\":{:.6},\"delivered_s\":{:.6},\
         \"cpu_s\":{:.6}}}",
        args.id, args.records, eagain, sent_s, total_s, cpu_s
    );
    Ok(())
}

/// This process's CPU seconds (user + system, every thread, libzmq's I/O thread included) and peak RSS
/// in KiB.
fn rusage() -> (f64, i64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (f64::NAN, 0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss)
}

fn main() {
    let args = parse_args();
    let outcome = if args.sink && args.batched {
        batch::sink(&args)
    } else if args.sink {
        sink::run(&args)
    } else {
        run(&args).map(|()| true)
    };
    match outcome {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("logfunnel-bench-blaster: {e}");
            std::process::exit(1);
        }
    }
}
