//! C ABI over logfunnel-core (filled by the C ABI issue).
