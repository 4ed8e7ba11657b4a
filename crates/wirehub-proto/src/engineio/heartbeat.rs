//! The Engine.IO heartbeat. In revision 4 the server pings every
//! `ping_interval`, and the client must answer within `ping_timeout`; the
//! next ping is scheduled one interval after the pong, as in the reference
//! server. In revision 3 the client pings and the server only watches: each
//! ping must come within `ping_interval + ping_timeout` of the previous one
//! (or of the open).

use std::time::{Duration, Instant};

/// What the heartbeat asks for when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Nothing is due yet.
    Idle,
    /// Send a ping now.
    SendPing,
    /// No pong arrived in time: close the session.
    TimedOut,
}

/// How late a ping may be sent and still count from when it was due.
const TIMER_SLACK: Duration = Duration::from_millis(10);

/// Heartbeat timer state, driven by the caller's clock.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
}

impl Heartbeat {
    /// Starts the timer at `now`: the first ping is due one interval later.
    pub fn new(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Heartbeat {
            interval,
            timeout,
            next_ping: Some(now + interval),
            pong_deadline: None,
        }
    }

    /// The instant at which [`Self::on_timeout`] must next be called.
    pub fn deadline(&self) -> Option<Instant> {
        self.pong_deadline.or(self.next_ping)
    }

    /// Advances the timer to `now`.
    pub fn on_timeout(&mut self, now: Instant) -> Beat {
        if let Some(deadline) = self.pong_deadline {
            return if now >= deadline {
                self.pong_deadline = None;
                Beat::TimedOut
            } else {
                Beat::Idle
            };
        }
        match self.next_ping {
            Some(at) if now >= at => {
                self.next_ping = None;
                // A ping a timer tick late keeps the schedule, so the session
                // ends at open + interval + timeout as the client reckons;
                // one sent much later (a busy server) gives the client the
                // whole timeout to answer.
                let late = now.duration_since(at);
                let from = if late < TIMER_SLACK { at } else { now };
                self.pong_deadline = Some(from + self.timeout);
                Beat::SendPing
            }
            _ => Beat::Idle,
        }
    }

    /// The revision 3 timer, started at `now`: the client pings, and must
    /// do so within `interval + timeout`.
    pub fn client_pings(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Heartbeat {
            interval,
            timeout,
            next_ping: None,
            pong_deadline: Some(now + interval + timeout),
        }
    }

    /// Records a client's ping (revision 3): the next one is due within
    /// `interval + timeout` of `now`.
    pub fn on_ping(&mut self, now: Instant) {
        self.next_ping = None;
        self.pong_deadline = Some(now + self.interval + self.timeout);
    }

    /// Records a pong: the next ping is due one interval from `now`.
    ///
    /// Returns `false` for an unsolicited pong (none was awaited).
    pub fn on_pong(&mut self, now: Instant) -> bool {
        let awaited = self.pong_deadline.take().is_some();
        if awaited {
            self.next_ping = Some(now + self.interval);
        }
        awaited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Duration = Duration::from_millis(300);
    const T: Duration = Duration::from_millis(200);

    #[test]
    fn a_ping_a_tick_late_keeps_the_schedule_a_very_late_one_does_not() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, I, T);
        assert_eq!(
            hb.on_timeout(t0 + I + Duration::from_millis(2)),
            Beat::SendPing
        );
        assert_eq!(hb.deadline(), Some(t0 + I + T));
        let mut busy = Heartbeat::new(t0, I, T);
        let late = t0 + I + Duration::from_millis(150);
        assert_eq!(busy.on_timeout(late), Beat::SendPing);
        assert_eq!(busy.deadline(), Some(late + T));
    }

    #[test]
    fn pings_then_times_out() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, I, T);
        assert_eq!(hb.deadline(), Some(t0 + I));
        assert_eq!(hb.on_timeout(t0 + Duration::from_millis(299)), Beat::Idle);
        assert_eq!(hb.on_timeout(t0 + I), Beat::SendPing);
        assert_eq!(hb.deadline(), Some(t0 + I + T));
        assert_eq!(hb.on_timeout(t0 + I + T), Beat::TimedOut);
    }

    #[test]
    fn pong_reschedules_next_ping() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, I, T);
        assert_eq!(hb.on_timeout(t0 + I), Beat::SendPing);
        let t1 = t0 + I + Duration::from_millis(50);
        assert!(hb.on_pong(t1));
        assert_eq!(hb.deadline(), Some(t1 + I));
        assert_eq!(hb.on_timeout(t1 + I - Duration::from_millis(1)), Beat::Idle);
        assert_eq!(hb.on_timeout(t1 + I), Beat::SendPing);
    }

    #[test]
    fn client_pings_keep_a_revision_3_session_alive() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::client_pings(t0, I, T);
        assert_eq!(hb.deadline(), Some(t0 + I + T));
        assert_eq!(hb.on_timeout(t0 + I), Beat::Idle, "the server never pings");
        let t1 = t0 + I + Duration::from_millis(10);
        hb.on_ping(t1);
        assert_eq!(hb.deadline(), Some(t1 + I + T));
        assert_eq!(
            hb.on_timeout(t1 + I + T - Duration::from_millis(1)),
            Beat::Idle
        );
        assert_eq!(hb.on_timeout(t1 + I + T), Beat::TimedOut);
    }

    #[test]
    fn unsolicited_pong_is_reported() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, I, T);
        assert!(!hb.on_pong(t0));
        assert_eq!(hb.deadline(), Some(t0 + I));
    }
}
