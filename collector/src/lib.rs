//! The logfunnel collector: receives records over ZeroMQ, decodes, formats, routes, rotates and writes.
#![warn(missing_docs)]

pub mod format;
pub mod sink;
