//! Rate-limited warnings on stderr: a flood of bad frames or lost records must not become a flood of
//! lines. Per key (a bad-frame reason, `gap`, a sink) at most one line per interval is printed; the
//! lines held back are counted and mentioned in the next one.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The prefix of every line the collector prints about itself.
pub const PREFIX: &str = "logfunnel-collector";

/// Rate limiter shared by the collector's threads.
#[derive(Debug)]
pub struct Warner {
    interval: Duration,
    state: Mutex<HashMap<String, Slot>>,
}

#[derive(Debug)]
struct Slot {
    last: Instant,
    suppressed: u64,
}

impl Warner {
    /// At most one line per key per `interval` (zero prints every line).
    pub fn new(interval: Duration) -> Warner {
        Warner {
            interval,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Prints `message` as a warning unless `key` printed one less than `interval` ago. `key` must come
    /// from a small fixed set (reasons, sink labels), never from record contents.
    pub fn warn(&self, key: &str, message: impl FnOnce() -> String) -> bool {
        let now = Instant::now();
        let suppressed = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match st.get_mut(key) {
                Some(slot) if now.duration_since(slot.last) < self.interval => {
                    slot.suppressed += 1;
                    return false;
                }
                Some(slot) => {
                    slot.last = now;
                    std::mem::take(&mut slot.suppressed)
                }
                None => {
                    st.insert(
                        key.to_string(),
                        Slot {
                            last: now,
                            suppressed: 0,
                        },
                    );
                    0
                }
            }
        };
        let mut line = format!("{PREFIX}: warning: {}", message());
        if suppressed > 0 {
            line.push_str(&format!(
                " ({suppressed} similar warning(s) suppressed in the last {}s)",
                self.interval.as_secs()
            ));
        }
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_key_per_interval() {
        let w = Warner::new(Duration::from_secs(60));
        assert!(w.warn("a", || "first".into()));
        assert!(!w.warn("a", || "second".into()));
        assert!(w.warn("b", || "other key".into()));
        let w = Warner::new(Duration::ZERO);
        assert!(w.warn("a", || "x".into()));
        assert!(w.warn("a", || "y".into()));
    }
}
