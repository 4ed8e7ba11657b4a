//! The per-connection inbound event rate: a token bucket (in its GCRA form:
//! one "theoretical arrival time" instead of a token count), `rate` events
//! a second with bursts of up to `burst`. An event over the bucket is
//! dropped and counted. A connection counts as staying over the limit
//! from its first dropped event until a whole second passes without a
//! drop; once it has stayed over for the grace period, it is disconnected.
//!
//! The state is a few atomics, updated without locks or allocations: the
//! session task that owns a connection is usually the only one to touch
//! it, but a plain SSE or HTTP-streaming connection's events arrive
//! through `POST /send` requests as well.

use super::Limits;
use crate::config::Config;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A second without drops ends a connection's time over the limit.
const QUIET: Duration = Duration::from_secs(1);

/// What to do with one inbound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the rate: handle it.
    Admit,
    /// Over the rate: drop it (already counted).
    Drop,
    /// Over the rate for the whole grace period: drop it and disconnect
    /// (returned once per connection).
    Disconnect,
}

/// One connection's event bucket.
#[derive(Debug)]
pub(crate) struct EventBudget {
    limits: Arc<Limits>,
    start: Instant,
    /// Nanoseconds between events at the sustained rate.
    interval: u64,
    /// How far ahead of now the arrival time may run: (burst - 1) intervals.
    tolerance: u64,
    grace: u64,
    /// The theoretical arrival time of the next event, in ns since `start`.
    tat: AtomicU64,
    /// When the connection went over the limit (ns since `start`, plus 1;
    /// 0 while it is not over).
    over_since: AtomicU64,
    /// The last drop (ns since `start`, plus 1; 0: none yet).
    last_drop: AtomicU64,
    disconnected: AtomicBool,
}

impl EventBudget {
    /// A bucket for one connection, or `None` when the rate is not limited.
    /// Boxed: it is allocated once per connection, and a connection without
    /// a limit keeps one pointer.
    pub(crate) fn new(config: &Config, limits: &Arc<Limits>) -> Option<Box<Self>> {
        if config.max_event_rate == 0 {
            return None;
        }
        let rate = u64::from(config.max_event_rate);
        let burst = match config.event_burst {
            0 => rate,
            b => u64::from(b),
        };
        let interval = (1_000_000_000 / rate).max(1);
        Some(Box::new(EventBudget {
            limits: limits.clone(),
            start: Instant::now(),
            interval,
            tolerance: interval.saturating_mul(burst - 1),
            grace: nanos(config.event_rate_grace),
            tat: AtomicU64::new(0),
            over_since: AtomicU64::new(0),
            last_drop: AtomicU64::new(0),
            disconnected: AtomicBool::new(false),
        }))
    }

    /// Takes one event's token now.
    pub(crate) fn check(&self) -> Verdict {
        self.check_at(nanos(self.start.elapsed()))
    }

    fn check_at(&self, now: u64) -> Verdict {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let due = tat.max(now);
            if due - now > self.tolerance {
                break;
            }
            match self.tat.compare_exchange_weak(
                tat,
                due + self.interval,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Verdict::Admit,
                Err(current) => tat = current,
            }
        }
        self.limits.dropped_events.fetch_add(1, Ordering::Relaxed);
        let stamp = now + 1;
        let last = self.last_drop.swap(stamp, Ordering::Relaxed);
        let mut since = self.over_since.load(Ordering::Relaxed);
        if since == 0 || last == 0 || stamp.saturating_sub(last) > nanos(QUIET) {
            since = stamp;
            self.over_since.store(since, Ordering::Relaxed);
        }
        if stamp - since.min(stamp) >= self.grace
            && !self.disconnected.swap(true, Ordering::Relaxed)
        {
            self.limits.rate_disconnects.fetch_add(1, Ordering::Relaxed);
            return Verdict::Disconnect;
        }
        Verdict::Drop
    }

    /// The message a disconnected client is given.
    pub(crate) fn reason(config: &Config) -> String {
        format!(
            "event rate over {}/s for {} s (max-event-rate)",
            config.max_event_rate,
            config.event_rate_grace.as_secs_f64()
        )
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn budget(rate: u32, burst: u32, grace: Duration) -> (Box<EventBudget>, Arc<Limits>) {
        let config = Config::builder()
            .max_event_rate(rate)
            .event_burst(burst)
            .event_rate_grace(grace)
            .build();
        let limits = Limits::new(&config);
        (EventBudget::new(&config, &limits).unwrap(), limits)
    }

    #[test]
    fn off_by_default() {
        let config = Config::default();
        assert!(EventBudget::new(&config, &Limits::new(&config)).is_none());
    }

    #[test]
    fn burst_then_sustained_rate() {
        let (b, limits) = budget(10, 5, Duration::from_secs(60));
        let admitted = (0..20).filter(|_| b.check_at(0) == Verdict::Admit).count();
        assert_eq!(admitted, 5);
        assert_eq!(limits.dropped_events(), 15);
        // One token every 100 ms.
        assert_eq!(b.check_at(100 * MS), Verdict::Admit);
        assert_eq!(b.check_at(110 * MS), Verdict::Drop);
        assert_eq!(b.check_at(200 * MS), Verdict::Admit);
        assert_eq!(b.check_at(210 * MS), Verdict::Drop);
        // After a quiet second the whole burst is back.
        let later = (0..10)
            .filter(|_| b.check_at(1300 * MS) == Verdict::Admit)
            .count();
        assert_eq!(later, 5);
    }

    #[test]
    fn burst_defaults_to_the_rate() {
        let (b, _) = budget(3, 0, Duration::from_secs(60));
        let admitted = (0..10).filter(|_| b.check_at(0) == Verdict::Admit).count();
        assert_eq!(admitted, 3);
    }

    #[test]
    fn staying_over_for_the_grace_period_disconnects_once() {
        let (b, limits) = budget(10, 1, Duration::from_secs(2));
        let mut verdicts = Vec::new();
        // Twenty events a second, twice the rate, for three seconds.
        for i in 0..60 {
            verdicts.push(b.check_at(i * 50 * MS));
        }
        let first = verdicts.iter().position(|v| *v == Verdict::Disconnect);
        // The first drop is at 50 ms; two seconds later: 2050 ms, event 41.
        assert_eq!(first, Some(41), "{verdicts:?}");
        assert_eq!(
            verdicts
                .iter()
                .filter(|v| **v == Verdict::Disconnect)
                .count(),
            1
        );
        assert_eq!(limits.rate_limit_disconnects(), 1);
    }

    #[test]
    fn a_pause_ends_the_time_over_the_limit() {
        let (b, limits) = budget(10, 2, Duration::from_secs(2));
        // Bursts of 10 at once, every 1.5 s: each drops 8, then the bucket refills.
        for burst in 0..6 {
            for _ in 0..10 {
                assert_ne!(b.check_at(burst * 1500 * MS), Verdict::Disconnect);
            }
        }
        assert_eq!(limits.rate_limit_disconnects(), 0);
        assert_eq!(limits.dropped_events(), 6 * 8);
    }

    #[test]
    fn zero_grace_disconnects_at_the_first_drop() {
        let (b, _) = budget(1, 1, Duration::ZERO);
        assert_eq!(b.check_at(0), Verdict::Admit);
        assert_eq!(b.check_at(0), Verdict::Disconnect);
        assert_eq!(b.check_at(0), Verdict::Drop);
    }
}
