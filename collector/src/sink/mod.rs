//! Sinks: where formatted lines go (filled by the sink work).
