//! The one table from Rust's five levels to the wire's Python-scale numbers and names.
//!
//! `log` and `tracing` share the same five levels; both map through [`Severity`], so the two
//! integrations cannot disagree. The standard numbers leave `levelname` to the encoder (Python's
//! names: `WARNING`, not `WARN`); TRACE has no Python name, so its name travels with the record.

/// One of Rust's five levels, as the collector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Severity {
    /// `levelno` on the wire.
    pub(crate) const fn levelno(self) -> i64 {
        match self {
            Severity::Trace => 5,
            Severity::Debug => 10,
            Severity::Info => 20,
            Severity::Warn => 30,
            Severity::Error => 40,
        }
    }

    /// `levelname` to send, or `None` where the encoder's Python name for `levelno` is right.
    pub(crate) const fn levelname(self) -> Option<&'static str> {
        match self {
            Severity::Trace => Some("TRACE"),
            _ => None,
        }
    }
}

#[cfg(feature = "log")]
impl From<::log::Level> for Severity {
    fn from(level: ::log::Level) -> Self {
        match level {
            ::log::Level::Trace => Severity::Trace,
            ::log::Level::Debug => Severity::Debug,
            ::log::Level::Info => Severity::Info,
            ::log::Level::Warn => Severity::Warn,
            ::log::Level::Error => Severity::Error,
        }
    }
}

#[cfg(feature = "tracing")]
impl From<::tracing::Level> for Severity {
    fn from(level: ::tracing::Level) -> Self {
        match level {
            ::tracing::Level::TRACE => Severity::Trace,
            ::tracing::Level::DEBUG => Severity::Debug,
            ::tracing::Level::INFO => Severity::Info,
            ::tracing::Level::WARN => Severity::Warn,
            ::tracing::Level::ERROR => Severity::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;
    use logfunnel_core::Record;

    #[test]
    fn wire_names_are_python_names_and_trace() {
        let name = |s: Severity| {
            let mut r = Record::new("t", s.levelno(), "m");
            r.levelname = s.levelname().map(str::to_owned);
            (r.levelno, r.levelname_or_default().into_owned())
        };
        assert_eq!(name(Severity::Trace), (5, "TRACE".to_owned()));
        assert_eq!(name(Severity::Debug), (10, "DEBUG".to_owned()));
        assert_eq!(name(Severity::Info), (20, "INFO".to_owned()));
        assert_eq!(name(Severity::Warn), (30, "WARNING".to_owned()));
        assert_eq!(name(Severity::Error), (40, "ERROR".to_owned()));
    }
}
