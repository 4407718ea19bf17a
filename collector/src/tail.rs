//! `logfunnel-collector tail`: a live view of what a collector accepts.
//!
//! The collector (with `[tail] publish = ...`) re-publishes every accepted record on a `PUB` socket as
//! one frame holding the normalized v1 JSON record, without a topic. Publishing never waits: a viewer
//! that cannot keep up loses records (lossy by design), the collector never slows down. This module is
//! the viewer: it subscribes, filters by level and logger-name prefix, and prints formatted lines on
//! stdout (control characters neutralised, colour on a terminal).

use crate::format::{FormatError, Formatter};
use crate::route::Route;
use crate::sink::{Colour, ConsoleSink, Sink};
use logfunnel_core::transport::{self, ReceiveMode};
use logfunnel_core::{decode_view, DecodeLimits};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `tail` shows and how.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// The collector's `[tail] publish` endpoint.
    pub connect: String,
    /// Minimum level.
    pub level: i64,
    /// Logger-name prefixes to show (empty: all).
    pub include: Vec<String>,
    /// Logger-name prefixes to hide.
    pub exclude: Vec<String>,
    /// Python `logging` format string.
    pub format: String,
    /// `strftime` format for `%(asctime)s`.
    pub datefmt: Option<String>,
    /// Times in UTC.
    pub utc: bool,
    /// Print the JSON records instead of formatted lines.
    pub json: bool,
    /// Stop after this many lines.
    pub count: Option<u64>,
    /// Stop after this long without a record (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Colour choice.
    pub colour: Colour,
}

/// Why `tail` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The format string or datefmt is invalid.
    #[error("--format: {0}")]
    Format(#[from] FormatError),
    /// The socket could not connect.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// The libzmq error.
        #[source]
        source: zmq::Error,
    },
    /// Receiving failed.
    #[error("receive: {0}")]
    Recv(#[source] zmq::Error),
    /// A signal handler could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(#[source] std::io::Error),
}

/// Prints records until `count` is reached, the idle timeout passes, stdout closes, or SIGINT/SIGTERM.
/// Returns how many lines were printed.
pub fn run(opts: &TailOptions) -> Result<u64, TailError> {
    let formatter = Formatter::new(&opts.format)?
        .with_datefmt(opts.datefmt.as_deref())?
        .with_utc(opts.utc);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).map_err(TailError::Signals)?;
    }
    let ctx = zmq::Context::new();
    let connect_err = |e: transport::SocketError| TailError::Connect {
        endpoint: opts.connect.clone(),
        source: e.source,
    };
    let limits = DecodeLimits {
        max_frame_bytes: 256 * 1024 * 1024,
        ..DecodeLimits::default()
    };
    // The receiving-socket recipe every logfunnel receiver uses, at libzmq's default high-water mark.
    let sub = transport::receiver(&ctx, ReceiveMode::Sub, 1000, limits.max_frame_bytes)
        .map_err(connect_err)?;
    sub.set_rcvtimeo(100).map_err(|source| TailError::Connect {
        endpoint: opts.connect.clone(),
        source,
    })?;
    transport::connect(&sub, &opts.connect).map_err(connect_err)?;
    let route = Route::new(opts.include.clone(), opts.exclude.clone());
    let mut out = ConsoleSink::stdout().colour(opts.colour);
    let mut line = String::new();
    let mut json = Vec::new();
    let mut printed = 0u64;
    let mut last = Instant::now();
    let mut pending = false;
    while !stop.load(Ordering::Relaxed) && opts.count.is_none_or(|c| printed < c) {
        let frames = match sub.recv_multipart(0) {
            Ok(f) => f,
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => {
                if pending {
                    if out.flush().is_err() {
                        break;
                    }
                    pending = false;
                }
                if opts.idle_timeout.is_some_and(|t| last.elapsed() >= t) {
                    break;
                }
                continue;
            }
            Err(e) => return Err(TailError::Recv(e)),
        };
        last = Instant::now();
        let slices: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
        let Ok(rec) = decode_view(&slices, &limits) else {
            continue;
        };
        if rec.levelno < opts.level || !route.accepts(&rec.name) {
            continue;
        }
        line.clear();
        if opts.json {
            json.clear();
            rec.write_json(&mut json);
            // serde_json writes UTF-8.
            line.push_str(std::str::from_utf8(&json).unwrap_or_default());
        } else {
            formatter.format(&rec, &mut line);
        }
        if out.write(rec.levelno, &line).is_err() {
            break;
        }
        printed += 1;
        pending = true;
        // Flush at once when nothing else is waiting, so a viewer sees each line as it comes.
        if !sub.get_rcvmore().unwrap_or(false)
            && sub.poll(zmq::POLLIN, 0).map(|n| n == 0).unwrap_or(true)
        {
            if out.flush().is_err() {
                break;
            }
            pending = false;
        }
    }
    let _ = out.flush();
    Ok(printed)
}
