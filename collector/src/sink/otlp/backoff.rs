//! Delays between retries: exponential from `retry_initial_ms` to `retry_max_ms`, with jitter so that
//! many collectors cut off by one outage do not come back in step, and at least what the peer asked
//! for with `Retry-After` (still capped, so a peer cannot park the sink for hours).

use std::time::Duration;

/// The retry delays of one batch; a new batch starts from the first delay again.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// Delays from `initial`, doubling, never above `max`.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            failures: 0,
        }
    }

    /// The delay before the next attempt after another failure. `jitter` in `[0, 1)` picks a point
    /// in the upper half of the exponential delay ("equal jitter": never less than half of it).
    pub fn next_delay(&mut self, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponential = self
            .initial
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let jittered = exponential.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        jittered.max(retry_after.unwrap_or_default()).min(self.max)
    }

    /// How many failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_double_up_to_the_cap_within_their_jitter() {
        let mut b = Backoff::new(100 * MS, 1000 * MS);
        let top: Vec<Duration> = (0..6).map(|_| b.next_delay(None, 0.999_999)).collect();
        let mut b = Backoff::new(100 * MS, 1000 * MS);
        let bottom: Vec<Duration> = (0..6).map(|_| b.next_delay(None, 0.0)).collect();
        for (i, want) in [100, 200, 400, 800, 1000, 1000].into_iter().enumerate() {
            assert!(
                top[i] <= want * MS && top[i] > (want - 1) * MS,
                "{i}: {:?}",
                top[i]
            );
            assert_eq!(bottom[i], want * MS / 2, "{i}");
        }
        assert_eq!(b.failures(), 6);
    }

    #[test]
    fn retry_after_lengthens_the_delay_but_not_past_the_cap() {
        let mut b = Backoff::new(100 * MS, 5000 * MS);
        assert_eq!(b.next_delay(Some(2000 * MS), 0.0), 2000 * MS);
        assert_eq!(b.next_delay(Some(60_000 * MS), 0.0), 5000 * MS);
        assert_eq!(b.next_delay(Some(MS), 0.0), 200 * MS);
    }
}
