//! logfunnel core: the v1 wire record and the sender every binding (Python, C, Java, Rust) uses.
//!
//! The data path is: a log call builds a [`Record`] (or borrows one as a [`RecordView`]) and hands it
//! to a [`Sender`]; the sender puts it in a bounded queue (what happens when full is an
//! [`OverflowPolicy`]) and returns at once with an [`Outcome`]; the sender's own I/O thread encodes
//! it as one JSON frame and writes it to a ZeroMQ socket connected to the collector. By default that
//! socket is an `XPUB` with `ZMQ_XPUB_NODROP`, so any plain `SUB` listener can receive from it,
//! nothing is sent before a subscriber is there, and nothing is dropped at the high-water mark.
//!
//! The tree, one job per module:
//! - [`schema`]: the closed sets, each declared once: every wire key ([`schema::Field`]: key, order,
//!   kind, presence) and Python's level names ([`schema::Level`]).
//! - [`record`]: [`Record`] (owned) and [`RecordView`] (borrowed), declared by one field list.
//! - `encode`: the one encoder of the v1 frame (`json_text`: JSON string escaping it shares with
//!   the fast decoder).
//! - [`decode`]: the decoding API; `decode/fast` (frames shaped as the encoder writes them),
//!   `decode/general` (any JSON, the authority), `decode/foreign` (cookbook and PUBHandler forms).
//! - [`pyfmt`]: Python's `%` operator ([`pyfmt::percent`]) and `str`/`repr` ([`pyfmt::repr`]).
//! - [`sender`]: the handle; [`sender::options`] (options and the one defaults table, also in
//!   `spec/defaults.json`), `sender/queue` (the bounded queue), `sender/io` (the I/O thread).
//! - [`transport`]: ZeroMQ socket setup for both ends, and the one endpoint check.
//! - `fork`: fork detection, so a forked child builds a fresh sender instead of touching libzmq.
//!
//! ```no_run
//! use logfunnel_core::{Record, Sender, SenderOptions};
//! use std::time::Duration;
//! let sender = Sender::new(SenderOptions::new("tcp://127.0.0.1:5555")).unwrap();
//! sender.log(Record::new("app", 20, "hello"));
//! sender.close(Duration::from_secs(2));
//! ```
#![warn(missing_docs)]

pub mod curve;
pub mod decode;
mod encode;
mod fork;
mod json_text;
pub mod pyfmt;
pub mod record;
pub mod schema;
pub mod sender;
pub mod transport;
pub mod wire_v2;

pub use decode::{decode_frames, decode_view, decode_view_into, DecodeError, DecodeLimits};
pub use record::{Lang, Record, RecordView};
pub use schema::{Field, Level};
pub use sender::{
    FlushStatus, MustWait, Outcome, OverflowPolicy, Sender, SenderError, SenderOptions, SocketMode,
    Stats,
};
