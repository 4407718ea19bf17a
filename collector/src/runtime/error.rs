//! [`CollectorError`]: why a collector could not start or stopped with an error. Setup errors name
//! the config key, endpoint or path concerned, so the user can fix the config from the message alone.

use crate::config::ConfigError;
use crate::sink::SinkError;
use std::path::PathBuf;
use std::time::Duration;

/// Why the collector could not start or stopped with an error. Each message names the key, endpoint
/// or path concerned.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A receiving or publishing socket could not bind.
    #[error("{key}: cannot bind {endpoint}: {source}")]
    Bind {
        /// Config key (`bind[0]`, `pull[1]`, `tail.publish`).
        key: String,
        /// The endpoint.
        endpoint: String,
        /// The libzmq error (`Address already in use`, ...).
        #[source]
        source: zmq::Error,
    },
    /// `[curve]`'s keys could not be read or the ZAP handler could not start (the message names
    /// the key, e.g. `curve.secret_key_file`, and the file).
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    /// The metrics listener could not bind.
    #[error("metrics.listen: cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A sink could not be opened (or its directory created).
    #[error("sink[{index}].path: {source}")]
    Sink {
        /// Position of the sink in the config.
        index: usize,
        /// The sink's error, naming the path.
        #[source]
        source: SinkError,
    },
    /// A sink path cannot be written (found by [`check`](super::check), which creates nothing).
    #[error("sink[{index}].path: {path} is not writable: {reason}")]
    NotWritable {
        /// Position of the sink in the config.
        index: usize,
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A libzmq call other than bind failed.
    #[error("zeromq: {what}: {source}")]
    Zmq {
        /// What was being done.
        what: &'static str,
        /// The libzmq error.
        #[source]
        source: zmq::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        /// Which thread.
        name: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A collector thread panicked (a bug); what it had was lost.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    /// The delivery state directory (`state_dir`) cannot be used.
    #[error(transparent)]
    State(#[from] crate::delivery::StateError),
    /// [`RunningCollector::stop`](super::RunningCollector::stop) gave up waiting; the threads go on draining in the background.
    #[error("the collector did not finish draining within {0:?}")]
    StopTimedOut(Duration),
}

impl CollectorError {
    /// Whether the error is about the configuration or the environment it names (the CLI exits with
    /// 2 for these), as opposed to a failure while running.
    pub fn is_setup_error(&self) -> bool {
        matches!(
            self,
            CollectorError::Config(_)
                | CollectorError::Bind { .. }
                | CollectorError::Listen { .. }
                | CollectorError::Auth(_)
                | CollectorError::Sink { .. }
                | CollectorError::NotWritable { .. }
        )
    }
}
