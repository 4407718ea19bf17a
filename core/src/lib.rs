//! logfunnel core: the v1 wire record and the sender every binding (Python, C, Java, Rust) uses.
//!
//! The data path is: a log call builds a [`Record`] and hands it to a [`Sender`]; the sender puts it in a
//! bounded queue (what happens when full is an [`OverflowPolicy`]) and returns at once with an
//! [`Outcome`]; the sender's own I/O thread encodes it as one JSON frame and writes it to a ZeroMQ socket
//! connected to the collector. By default that socket is an `XPUB` with `ZMQ_XPUB_NODROP`, so any plain
//! `SUB` listener can receive from it, nothing is sent before a subscriber is there, and nothing is dropped
//! at the high-water mark.
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
mod fork;
mod json_text;
pub mod record;
pub mod sender;
pub mod view;

pub use decode::{decode_frames, decode_view, decode_view_into, DecodeError, DecodeLimits};
pub use record::{Lang, Record};
pub use sender::{
    FlushStatus, MustWait, Outcome, OverflowPolicy, Sender, SenderError, SenderOptions, SocketMode,
    Stats,
};
pub use view::RecordView;
