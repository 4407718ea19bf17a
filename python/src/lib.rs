//! `logfunnel._native`: the Rust half of the `logfunnel` Python package.
//!
//! The Python package (`python/logfunnel/`) holds the `logging.Handler` subclass and the other public
//! classes as ordinary Python; they delegate the work that must be fast or must not hold the GIL to the
//! objects here:
//!
//! - [`sender::PySender`]: wraps the core [`logfunnel_core::Sender`]; options not given keep the core's
//!   defaults. Its `emit` reads a `LogRecord` ([`log_record`]), builds the wire record and enqueues it
//!   in one call.
//! - [`convert`]: Python values to JSON and text, and wire records back to `LogRecord` attributes.
//! - [`receiver::PyReceiver`]: a `SUB`/`PULL` socket plus the core decoder, for `logfunnel.Listener`.
//! - [`collector`]: runs the Rust collector in this process (`logfunnel.serve`) and the
//!   `logfunnel-collector` command.
//!
//! Errors raised here are built-in exceptions: `ValueError` for bad options or data, `OSError` for
//! socket and file problems.

use pyo3::prelude::*;

/// Rust-side allocations only (libzmq and Python keep their own): see `Cargo.toml` for why.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod collector;
mod convert;
mod log_record;
mod receiver;
mod sender;

/// The native module. Private: import `logfunnel` instead.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<sender::PySender>()?;
    m.add_class::<receiver::PyReceiver>()?;
    m.add_class::<collector::PyCollector>()?;
    m.add_function(wrap_pyfunction!(collector::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(collector::load_config_json, m)?)?;
    m.add_function(wrap_pyfunction!(receiver::decode, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DEFAULT_MAX_FRAME_BYTES",
        logfunnel_core::record::DEFAULT_MAX_FRAME_BYTES,
    )?;
    Ok(())
}
