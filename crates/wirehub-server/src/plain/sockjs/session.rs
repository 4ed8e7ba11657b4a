//! The live SockJS sessions of the HTTP transports (`xhr`,
//! `xhr_streaming`, `eventsource`, `xhr_send`) and the driver each runs.
//!
//! A session is a plain connection ([`PlainSession`]) plus the sans-IO
//! [`Session`] of `wirehub_proto::plain::sockjs`, shared with the requests
//! that come and go: a receiving request attaches a channel that becomes
//! its response body; the driver moves the connection's envelopes into the
//! state machine and its frames into that channel, and fires its timers
//! (heartbeats, the session timeout). A closed session answers its close
//! frame for the disconnect delay, then is forgotten.

use super::super::driver::{drive, Ending, Input, PlainIo};
use super::super::hub::PlainSession;
use crate::conn::{PlainConn, PlainOut};
use crate::io::SocketRef;
use crate::sync::lock;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, Notify};
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::sockjs::{
    quote, Attach, CloseCode, Receiver, ReceiverId, Session, SessionConfig,
};

/// Chunks buffered between the driver and a response body; a receiver
/// that lets them pile up is a slow consumer.
const CHUNKS: usize = 32;

/// The open sessions, by session id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<Shared>>>,
}

impl Sessions {
    /// The session `id`, if it is live.
    pub(super) fn get(&self, id: &str) -> Option<Arc<Shared>> {
        lock(&self.map).get(id).cloned()
    }

    /// Adds `shared` as `id`, unless a concurrent request added one first
    /// (that one is returned instead).
    fn insert(&self, id: &str, shared: &Arc<Shared>) -> Result<(), Arc<Shared>> {
        let mut map = lock(&self.map);
        if let Some(existing) = map.get(id) {
            return Err(existing.clone());
        }
        map.insert(id.to_owned(), shared.clone());
        Ok(())
    }

    fn remove(&self, id: &str, shared: &Arc<Shared>) {
        let mut map = lock(&self.map);
        if map.get(id).is_some_and(|s| Arc::ptr_eq(s, shared)) {
            map.remove(id);
        }
    }
}

/// One session, shared by its driver and its requests.
#[derive(Debug)]
pub(super) struct Shared {
    state: Mutex<State>,
    /// Wakes the driver: a receiver attached.
    wake: Notify,
    pub(super) socket: SocketRef,
    pub(super) conn: Arc<PlainConn>,
}

#[derive(Debug)]
struct State {
    proto: Session,
    /// The attached receiver's response body.
    tx: Option<(ReceiverId, mpsc::Sender<Bytes>)>,
}

impl Shared {
    /// Attaches a receiving request of `kind`: `Ok` is its response body,
    /// `Err` the whole answer when it is refused (a close frame).
    pub(super) fn attach(&self, kind: Receiver) -> Result<mpsc::Receiver<Bytes>, Bytes> {
        let prelude = kind.prelude();
        let mut state = lock(&self.state);
        let id = match state.proto.attach(Instant::now(), kind) {
            Attach::Attached(id) => id,
            Attach::Refused(frame) => {
                let mut answer = BytesMut::from(&prelude[..]);
                answer.extend_from_slice(&frame);
                return Err(answer.freeze());
            }
        };
        let (tx, rx) = mpsc::channel(CHUNKS);
        if !prelude.is_empty() {
            let _ = tx.try_send(prelude);
        }
        state.tx = Some((id, tx));
        // Frames already due go out now: a session closed while no
        // receiver was attached has no driver left to hand over its last
        // messages and close frame while it lingers. (A failure here is
        // the state machine's to record; a live driver acts on it.)
        let _ = state.flush(Instant::now());
        drop(state);
        self.wake.notify_one();
        Ok(rx)
    }

    /// Whether the session is closed (`xhr_send` answers 404).
    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).proto.is_closed()
    }
}

impl State {
    /// Hands the due frames to the receiver. A receiver that is gone
    /// interrupts the session; one that stopped reading is a slow consumer.
    fn flush(&mut self, now: Instant) -> Result<(), CloseReason> {
        while let Some(t) = self.proto.poll_transmit(now) {
            let Some((_, tx)) = self.tx.as_ref().filter(|(id, _)| *id == t.to) else {
                continue;
            };
            match tx.try_send(t.data) {
                Ok(()) if t.last => self.tx = None,
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.tx = None;
                    self.proto.abort(now, t.to);
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.tx = None;
                    self.proto.abort(now, t.to);
                    return Err(CloseReason::SlowConsumer);
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        for out in batch {
            let text = String::from_utf8_lossy(out.envelope());
            self.proto
                .push(quote(&text))
                .map_err(|_| CloseReason::SlowConsumer)?;
        }
        Ok(())
    }
}

/// Starts a session `id` over an open plain connection: registers it and
/// spawns its driver. If another request registered `id` first, this
/// connection is closed and that session returned.
pub(super) fn start(
    sessions: &Arc<Sessions>,
    id: &str,
    session: PlainSession,
    config: SessionConfig,
    task: crate::registry::TaskGuard,
) -> Arc<Shared> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            proto: Session::new(Instant::now(), config),
            tx: None,
        }),
        wake: Notify::new(),
        socket: session.socket.clone(),
        conn: session.conn.clone(),
    });
    if let Err(existing) = sessions.insert(id, &shared) {
        session.finish(CloseReason::TransportClose);
        return existing;
    }
    let io = HttpIo {
        shared: shared.clone(),
    };
    let sessions = sessions.clone();
    let id = id.to_owned();
    let linger = config.disconnect_delay;
    let own = shared.clone();
    tokio::spawn(async move {
        drive(session, io, None).await;
        drop(task);
        // A closed session answers its close frame for a while.
        tokio::time::sleep(linger).await;
        sessions.remove(&id, &own);
    });
    shared
}

/// The driver's side of an HTTP session: envelopes go into the state
/// machine, frames out to whichever receiver is attached; clients send
/// with `xhr_send`, so there is nothing to read but timers and receivers.
struct HttpIo {
    shared: Arc<Shared>,
}

/// What woke the driver.
enum Wake {
    Timer,
    Attached,
    Gone(ReceiverId),
}

/// Completes when the receiver's response body is dropped.
async fn gone(watch: Option<&(ReceiverId, mpsc::Sender<Bytes>)>) -> ReceiverId {
    match watch {
        Some((id, tx)) => {
            tx.closed().await;
            *id
        }
        None => std::future::pending().await,
    }
}

impl PlainIo for HttpIo {
    async fn read(&mut self, _conn: &PlainConn) -> Input {
        loop {
            let (deadline, watch) = {
                let state = lock(&self.shared.state);
                (state.proto.poll_timeout(), state.tx.clone())
            };
            let wake = tokio::select! {
                () = sleep_until(deadline) => Wake::Timer,
                () = self.shared.wake.notified() => Wake::Attached,
                id = gone(watch.as_ref()) => Wake::Gone(id),
            };
            // The clone must not keep a finished response open.
            drop(watch);
            let now = Instant::now();
            let mut state = lock(&self.shared.state);
            match wake {
                Wake::Timer => state.proto.handle_timeout(now),
                Wake::Gone(id) => state.proto.abort(now, id),
                Wake::Attached => {}
            }
            if let Err(reason) = state.flush(now) {
                return Input::End(Ending::quiet(reason));
            }
            if state.proto.is_closed() {
                return Input::End(Ending::quiet(CloseReason::TransportClose));
            }
        }
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        let mut state = lock(&self.shared.state);
        state.push(batch)?;
        state.flush(Instant::now())
    }

    async fn finish(self, rest: Vec<PlainOut>, ending: Ending) {
        let now = Instant::now();
        let mut state = lock(&self.shared.state);
        if ending.code.is_some() {
            let _ = state.push(&rest);
        }
        state.proto.close(now, CloseCode::GO_AWAY);
        let _ = state.flush(now);
    }
}

/// Sleeps until `deadline`, or forever without one.
pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
