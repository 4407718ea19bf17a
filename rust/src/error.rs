//! Why logfunnel could not be set up. Logging itself never fails: see [`crate::Funnel`].

/// Why [`crate::Builder::build`] or one of the `init` functions failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The sender refused an option or the endpoint (a collector that is not running is not an error).
    #[error("could not start the logfunnel sender")]
    Sender(#[from] logfunnel_core::SenderError),
    /// `log` already has a logger: `log` allows one per process.
    #[cfg(feature = "log")]
    #[error("a `log` logger is already installed")]
    SetLogger(#[from] ::log::SetLoggerError),
    /// A global `tracing` subscriber is already set: `tracing` allows one per process.
    #[cfg(feature = "tracing")]
    #[error("a global `tracing` subscriber is already set")]
    SetSubscriber(#[from] ::tracing::subscriber::SetGlobalDefaultError),
}
