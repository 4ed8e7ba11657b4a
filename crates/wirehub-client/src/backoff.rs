//! Exponential backoff with jitter, the formula of the official client:
//! `delay * 2^attempt`, moved up or down by up to `randomization_factor`
//! of itself, capped at `max_delay`.

use std::time::Duration;

/// Reconnection policy: how often and how soon to retry a lost connection.
///
/// The defaults are the official client's: retry forever, first after about
/// 1 s, doubling up to 5 s, each delay randomised by ±50 %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconnection {
    /// Whether to reconnect at all.
    pub enabled: bool,
    /// The most attempts in a row; `None` retries forever.
    pub attempts: Option<u32>,
    /// The first delay.
    pub delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// How much each delay is randomised, between 0 and 1.
    pub randomization_factor: f64,
}

impl Default for Reconnection {
    fn default() -> Self {
        Reconnection {
            enabled: true,
            attempts: None,
            delay: Duration::from_millis(1000),
            max_delay: Duration::from_millis(5000),
            randomization_factor: 0.5,
        }
    }
}

impl Reconnection {
    /// Never reconnect.
    pub fn disabled() -> Self {
        Reconnection {
            enabled: false,
            ..Reconnection::default()
        }
    }

    /// Gives up after `attempts` failed attempts in a row.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts);
        self
    }

    /// Sets the first delay.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets the longest delay.
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Sets the randomization factor (clamped to 0..=1).
    pub fn randomization_factor(mut self, factor: f64) -> Self {
        self.randomization_factor = factor.clamp(0.0, 1.0);
        self
    }
}

/// Backoff state: the number of attempts so far and the next delay.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: Reconnection,
    attempts: u32,
    rng: u64,
}

impl Backoff {
    pub(crate) fn new(policy: Reconnection) -> Self {
        Backoff {
            policy,
            attempts: 0,
            rng: seed(),
        }
    }

    /// Attempts made since the last reset.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the policy allows another attempt.
    pub(crate) fn may_retry(&self) -> bool {
        self.policy.enabled && self.policy.attempts.is_none_or(|max| self.attempts < max)
    }

    /// The delay before the next attempt; counts the attempt. In
    /// milliseconds, as the official client computes it: the deviation is
    /// a whole number of milliseconds (computed in seconds, it would round
    /// down to no jitter at all for any delay under 2 s).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base_ms =
            self.policy.delay.as_secs_f64() * 1000.0 * 2f64.powi(self.attempts.min(62) as i32);
        self.attempts += 1;
        let factor = self.policy.randomization_factor;
        let ms = if factor > 0.0 {
            let r = self.random();
            let deviation = (r * factor * base_ms).floor();
            if (r * 10.0).floor() as u64 & 1 == 0 {
                base_ms - deviation
            } else {
                base_ms + deviation
            }
        } else {
            base_ms
        };
        Duration::from_secs_f64(ms.max(0.0) / 1000.0).min(self.policy.max_delay)
    }

    /// Starts over after a successful connection.
    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }

    /// A number in `[0, 1)` (xorshift64*; jitter needs no stronger randomness).
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random seed from the standard library's per-process hash keys.
pub(crate) fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps_without_jitter() {
        let policy = Reconnection::default()
            .randomization_factor(0.0)
            .delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500));
        let mut b = Backoff::new(policy);
        let delays: Vec<u128> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        b.reset();
        assert_eq!(b.next_delay().as_millis(), 100);
    }

    #[test]
    fn jitter_stays_within_the_factor_and_spreads_both_ways() {
        let mut b = Backoff::new(Reconnection::default());
        b.rng = 0x9E37_79B9_7F4A_7C15; // a fixed seed: the same draws every run
        let delays: Vec<u128> = (0..200)
            .map(|_| {
                b.reset();
                b.next_delay().as_millis()
            })
            .collect();
        for d in &delays {
            assert!((500..=1500).contains(d), "{d}");
        }
        // The delays really vary: below and above 1 s, over most of the range.
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "{} distinct delays", distinct.len());
        assert!(delays.iter().any(|d| *d < 700), "none well below 1 s");
        assert!(delays.iter().any(|d| *d > 1300), "none well above 1 s");
        let below = delays.iter().filter(|d| **d < 1000).count();
        assert!((60..=140).contains(&below), "{below} of 200 below 1 s");
    }

    #[test]
    fn jitter_applies_to_short_delays_too() {
        let policy = Reconnection::default().delay(Duration::from_millis(100));
        let mut b = Backoff::new(policy);
        b.rng = 0x2545_F491_4F6C_DD1D;
        let delays: std::collections::BTreeSet<u128> = (0..50)
            .map(|_| {
                b.reset();
                b.next_delay().as_millis()
            })
            .collect();
        assert!(delays.len() > 10, "{delays:?}");
        assert!(delays.iter().all(|d| (50..=150).contains(d)), "{delays:?}");
    }

    #[test]
    fn attempts_limit() {
        let mut b = Backoff::new(Reconnection::default().attempts(2));
        assert!(b.may_retry());
        b.next_delay();
        b.next_delay();
        assert!(!b.may_retry());
        assert!(!Backoff::new(Reconnection::disabled()).may_retry());
    }
}
