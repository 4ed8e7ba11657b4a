//! [`Histogram`]: a latency histogram over fixed buckets, in atomics, so
//! an observation costs a few relaxed `fetch_add`s and no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A histogram of durations over fixed upper bounds (in seconds).
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds, increasing, in nanoseconds.
    bounds: &'static [u64],
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    counts: Box<[AtomicU64]>,
    /// Sum of observations, in nanoseconds.
    sum_ns: AtomicU64,
}

/// What a [`Histogram`] holds at one moment, buckets made cumulative as
/// Prometheus shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `(upper bound in seconds, observations at or below it)`, `+Inf` last.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of observations, in seconds.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    /// A histogram over `bounds_ns` (nanoseconds, increasing).
    pub fn new(bounds_ns: &'static [u64]) -> Self {
        debug_assert!(bounds_ns.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds: bounds_ns,
            counts: (0..=bounds_ns.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = self
            .bounds
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The buckets (cumulative), sum and count.
    pub fn snapshot(&self) -> Snapshot {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, count) in self.counts.iter().enumerate() {
            total += count.load(Ordering::Relaxed);
            let bound = self
                .bounds
                .get(i)
                .map_or(f64::INFINITY, |&b| b as f64 / 1e9);
            buckets.push((bound, total));
        }
        Snapshot {
            buckets,
            sum: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            count: total,
        }
    }
}

/// Bounds of the handshake histogram: 100 µs to 5 s.
pub(crate) const HANDSHAKE_BOUNDS: &[u64] = &[
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    5_000_000_000,
];

/// Bounds of the broadcast histogram: 1 µs to 100 ms (a broadcast only
/// queues, so it is fast).
pub(crate) const BROADCAST_BOUNDS: &[u64] = &[
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    10_000_000,
    100_000_000,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_with_sum_and_count() {
        static BOUNDS: &[u64] = &[1_000, 10_000];
        let h = Histogram::new(BOUNDS);
        h.observe(Duration::from_nanos(500));
        h.observe(Duration::from_nanos(1_000));
        h.observe(Duration::from_nanos(5_000));
        h.observe(Duration::from_secs(1));
        let s = h.snapshot();
        assert_eq!(
            s.buckets,
            vec![(1e-6, 2), (1e-5, 3), (f64::INFINITY, 4)],
            "an observation on a bound counts in that bucket"
        );
        assert_eq!(s.count, 4);
        assert!((s.sum - (1.0 + 6.5e-6)).abs() < 1e-12, "sum {}", s.sum);
    }

    #[test]
    fn bounds_increase() {
        for bounds in [HANDSHAKE_BOUNDS, BROADCAST_BOUNDS] {
            assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
