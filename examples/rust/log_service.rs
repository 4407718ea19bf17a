//! A small program logging through the `log` facade: one line to install, key-values become fields
//! a collector format can name.
//!
//! ```sh
//! cargo run -p logfunnel-collector -- --file app.log \
//!     --format '%(asctime)s %(levelname)-7s %(name)s %(message)s (order %(order)s)'
//! cargo run -p logfunnel --example log_service [ENDPOINT]   # default tcp://127.0.0.1:5555
//! ```

use log::{debug, error, info, warn};

fn main() {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:5555".into());
    // INFO and above; `Funnel::logger().max_level(...)` for other levels.
    let _guard = logfunnel::log::init(endpoint).expect("logfunnel");

    info!(order = 0; "shop open");
    for order in 1..=5_u32 {
        let total = f64::from(order) * 9.5;
        info!(order, total; "order placed");
        debug!(order; "not sent: below INFO");
        if order % 4 == 0 {
            warn!(order, reason = "card declined"; "payment retried");
        }
    }
    error!(order = 6, code = 503; "payment service unavailable");
    // `_guard` drops here and waits (at most 5 s without progress) until the collector has it all.
}
