//! The session state machine on a synthetic clock.

use super::super::frame::{quote, Receiver};
use super::*;

fn config() -> SessionConfig {
    SessionConfig {
        heartbeat: Duration::from_secs(25),
        disconnect_delay: Duration::from_secs(5),
        response_limit: 4096,
        max_pending: 3,
    }
}

fn attached(s: &mut Session, now: Instant, kind: Receiver) -> ReceiverId {
    match s.attach(now, kind) {
        Attach::Attached(id) => id,
        Attach::Refused(frame) => panic!("refused: {frame:?}"),
    }
}

fn next(s: &mut Session, now: Instant) -> (String, bool) {
    let t = s.poll_transmit(now).expect("a frame");
    (String::from_utf8(t.data.to_vec()).unwrap(), t.last)
}

#[test]
fn polling_gets_open_then_messages_one_frame_per_response() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    let r = attached(&mut s, t0, Receiver::XhrPolling);
    assert_eq!(next(&mut s, t0), ("o\n".into(), true));
    assert_eq!(s.receiver(), None);
    assert!(s.poll_transmit(t0).is_none());
    s.push(quote("a")).unwrap();
    s.push(quote("b")).unwrap();
    let r2 = attached(&mut s, t0, Receiver::XhrPolling);
    assert_ne!(r, r2);
    assert_eq!(next(&mut s, t0), ("a[\"a\",\"b\"]\n".into(), true));
    // Nothing queued: the poll waits, then a heartbeat answers it.
    attached(&mut s, t0, Receiver::XhrPolling);
    assert!(s.poll_transmit(t0).is_none());
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(25)));
    s.handle_timeout(t0 + Duration::from_secs(25));
    assert_eq!(next(&mut s, t0), ("h\n".into(), true));
}

#[test]
fn a_second_receiver_is_refused_with_2010() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    let first = attached(&mut s, t0, Receiver::XhrStreaming);
    assert_eq!(
        s.attach(t0, Receiver::XhrPolling),
        Attach::Refused(Bytes::from_static(
            b"c[2010,\"Another connection still open\"]\n"
        ))
    );
    assert_eq!(s.receiver(), Some(first));
    assert!(!s.is_closed());
}

#[test]
fn streaming_ends_past_the_response_limit() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    attached(&mut s, t0, Receiver::XhrStreaming);
    assert_eq!(next(&mut s, t0), ("o\n".into(), false));
    let big = "x".repeat(3000);
    s.push(quote(&big)).unwrap();
    assert!(!next(&mut s, t0).1);
    s.push(quote(&big)).unwrap();
    assert!(next(&mut s, t0).1, "past 4096 bytes the response ends");
    assert_eq!(s.receiver(), None);
    assert!(!s.is_closed());
    // The next streaming request continues the session without a new open.
    attached(&mut s, t0, Receiver::XhrStreaming);
    s.push(quote("y")).unwrap();
    assert_eq!(next(&mut s, t0), ("a[\"y\"]\n".into(), false));
}

#[test]
fn expires_after_the_disconnect_delay_without_a_receiver() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    attached(&mut s, t0, Receiver::XhrPolling);
    next(&mut s, t0);
    let t1 = t0 + Duration::from_secs(1);
    // A receiver came back within the delay (the poll answered at t0).
    s.handle_timeout(t1);
    attached(&mut s, t1, Receiver::XhrPolling);
    s.push(quote("m")).unwrap();
    next(&mut s, t1);
    s.handle_timeout(t1 + Duration::from_millis(4999));
    assert!(!s.is_expired());
    s.handle_timeout(t1 + Duration::from_secs(5));
    assert!(s.is_expired());
    assert_eq!(
        s.attach(t1, Receiver::XhrPolling),
        Attach::Refused(Bytes::from_static(b"c[3000,\"Go away!\"]\n"))
    );
}

#[test]
fn close_flushes_then_sends_the_close_frame_to_every_later_receiver() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    attached(&mut s, t0, Receiver::EventSource);
    assert_eq!(next(&mut s, t0), ("data: o\r\n\r\n".into(), false));
    s.push(quote("bye")).unwrap();
    s.close(t0, CloseCode::GO_AWAY);
    assert!(s.push(quote("dropped")).is_ok());
    assert_eq!(next(&mut s, t0), ("data: a[\"bye\"]\r\n\r\n".into(), false));
    assert_eq!(
        next(&mut s, t0),
        ("data: c[3000,\"Go away!\"]\r\n\r\n".into(), true)
    );
    assert!(s.poll_transmit(t0).is_none());
    assert_eq!(
        s.attach(t0, Receiver::XhrPolling),
        Attach::Refused(Bytes::from_static(b"c[3000,\"Go away!\"]\n"))
    );
    s.handle_timeout(t0 + Duration::from_secs(5));
    assert!(s.is_expired());
}

#[test]
fn a_close_without_a_receiver_waits_for_the_next_one() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    attached(&mut s, t0, Receiver::XhrPolling);
    next(&mut s, t0);
    s.push(quote("last words")).unwrap();
    s.close(t0, CloseCode::GO_AWAY);
    attached(&mut s, t0, Receiver::XhrPolling);
    assert_eq!(next(&mut s, t0), ("a[\"last words\"]\n".into(), true));
    attached(&mut s, t0, Receiver::XhrPolling);
    assert_eq!(next(&mut s, t0), ("c[3000,\"Go away!\"]\n".into(), true));
    assert!(matches!(
        s.attach(t0, Receiver::XhrPolling),
        Attach::Refused(_)
    ));
}

#[test]
fn an_aborted_receiver_interrupts_the_session() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    let r = attached(&mut s, t0, Receiver::XhrStreaming);
    next(&mut s, t0);
    s.abort(t0, r);
    assert!(s.is_closed());
    assert_eq!(
        s.attach(t0, Receiver::XhrPolling),
        Attach::Refused(Bytes::from_static(b"c[1002,\"Connection interrupted\"]\n"))
    );
}

#[test]
fn heartbeats_follow_the_interval_and_wait_for_the_open_frame() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    attached(&mut s, t0, Receiver::WebSocket);
    let t1 = t0 + Duration::from_secs(25);
    s.handle_timeout(t1);
    assert_eq!(next(&mut s, t1), ("o".into(), false));
    assert!(
        s.poll_transmit(t1).is_none(),
        "the open frame stands for the beat"
    );
    s.handle_timeout(t1 + Duration::from_secs(24));
    assert!(s.poll_transmit(t1).is_none());
    s.handle_timeout(t1 + Duration::from_secs(25));
    assert_eq!(next(&mut s, t1), ("h".into(), false));
    // A WebSocket has no response limit.
    s.push(quote(&"z".repeat(5000))).unwrap();
    assert!(!next(&mut s, t1).1);
}

#[test]
fn a_full_queue_overflows() {
    let t0 = Instant::now();
    let mut s = Session::new(t0, config());
    for _ in 0..3 {
        s.push(quote("m")).unwrap();
    }
    assert_eq!(s.push(quote("m")), Err(Overflow));
}
