//! Python `logging`-style format strings (filled by the formatter work).
