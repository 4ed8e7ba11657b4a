//! The UDP gateway: one envelope per datagram. A client is its source
//! address; its session starts with its first datagram (a `connect`
//! envelope, or any other, which connects it to `/`; with its JWT `token`
//! when the server requires one, else one `unauthorized` error datagram and
//! no session) and expires after the
//! idle timeout without datagrams (a `ping` keeps it). Delivery is best
//! effort: no retransmission, no ordering, and an outbound envelope larger
//! than the datagram limit is dropped. An inbound datagram over the limit
//! gets a `too_large` error reply and is otherwise ignored. The number of
//! sessions is capped (source addresses are cheap to forge): past the cap a
//! new address gets a `not_allowed` error and no session.

use super::driver::{drive, Ending, Input, PlainIo};
use super::gate::admit_token;
use super::hub::PlainHub;
use super::tcp::synthetic_request;
use crate::conn::{PlainConn, PlainOut};
use crate::io::Transport;
use crate::registry::ConnectionSlot;
use crate::sync::lock;
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::{codes, encode_error, parse_client, ClientMsg};
use wirehub_proto::Str;

/// Datagrams buffered per client while its task is busy (more are dropped).
const INBOX: usize = 64;

/// Each client's inbox, with the number of the task that owns it.
type Peers = Arc<Mutex<HashMap<SocketAddr, (u64, mpsc::Sender<Bytes>)>>>;

/// Serves UDP clients of `hub` on `socket` until `shutdown` completes.
pub async fn serve_udp(
    hub: Arc<PlainHub>,
    socket: UdpSocket,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let socket = Arc::new(socket);
    let peers: Peers = Arc::default();
    let max = hub.config().max_datagram;
    let max_clients = hub.config().max_udp_clients;
    // One byte more than the limit tells an oversized datagram apart.
    let mut buf = vec![0u8; max + 1];
    let mut tasks = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (n, peer) = tokio::select! {
            () = &mut shutdown => {
                // Each client's inbox closes, so one still opening ends too.
                lock(&peers).clear();
                return Ok(());
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on some systems.
                    tracing::debug!(error = %e, "udp receive failed");
                    continue;
                }
            },
        };
        if n > max {
            let message = format!("datagram over {max} bytes");
            let reply = encode_error(codes::TOO_LARGE, &message, None, None);
            let _ = socket.try_send_to(&reply, peer);
            continue;
        }
        let datagram = Bytes::copy_from_slice(&buf[..n]);
        let (existing, clients) = {
            let peers = lock(&peers);
            (peers.get(&peer).map(|(_, tx)| tx.clone()), peers.len())
        };
        let sender = match existing {
            Some(sender) if !sender.is_closed() => sender,
            _ if clients >= max_clients => {
                let reply = encode_error(codes::NOT_ALLOWED, "too many UDP clients", None, None);
                let _ = socket.try_send_to(&reply, peer);
                continue;
            }
            _ => {
                let slot = match hub.acquire(Transport::Udp, Some(peer.ip())) {
                    Ok(slot) => slot,
                    Err(limit) => {
                        let message = limit.to_string();
                        let reply = encode_error(limit.plain_code(), &message, None, None);
                        let _ = socket.try_send_to(&reply, peer);
                        continue;
                    }
                };
                tasks += 1;
                let (tx, rx) = mpsc::channel(INBOX);
                lock(&peers).insert(peer, (tasks, tx.clone()));
                let owner = Owner {
                    peers: peers.clone(),
                    peer,
                    task: tasks,
                    slot: Some(slot),
                };
                tokio::spawn(client(hub.clone(), socket.clone(), owner, rx));
                tx
            }
        };
        // Best effort: a client whose inbox is full loses the datagram.
        let _ = sender.try_send(datagram);
    }
}

/// A client task's claim on its address in the peer map.
struct Owner {
    peers: Peers,
    peer: SocketAddr,
    task: u64,
    /// The client's place in the connection counts, until it opens its session.
    slot: Option<ConnectionSlot>,
}

impl Owner {
    /// Removes the address if it still belongs to this task, so the next
    /// datagram from it starts a new session.
    fn forget(&self) {
        let mut peers = lock(&self.peers);
        if peers
            .get(&self.peer)
            .is_some_and(|(task, _)| *task == self.task)
        {
            peers.remove(&self.peer);
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.forget();
    }
}

/// One client's task: opens its session, then handles its datagrams and
/// sends its envelopes until it goes idle or closes.
async fn client(
    hub: Arc<PlainHub>,
    socket: Arc<UdpSocket>,
    mut owner: Owner,
    mut inbox: mpsc::Receiver<Bytes>,
) {
    let _task = hub.track();
    let peer = owner.peer;
    let config = hub.config();
    let idle = config.plain_idle_timeout;
    let max = config.max_datagram;
    let send = |envelope: &Bytes| {
        if envelope.len() <= max {
            let _ = socket.try_send_to(envelope, peer);
        }
    };
    let Some(first) = inbox.recv().await else {
        return;
    };
    let (ns, auth, token, pending) = match parse_client(first.clone()) {
        Ok(ClientMsg::Connect { ns, auth, token }) => (ns, auth, token, None),
        Ok(_) => (None, None, None, Some(first)),
        Err(e) => {
            send(&encode_error(e.code(), &e.to_string(), None, None));
            return;
        }
    };
    let ns = ns.unwrap_or_else(|| Str::from_static("/"));
    let mut request = synthetic_request("udp", peer);
    if let Err(e) = admit_token(&hub, token.as_deref(), &mut request) {
        send(&encode_error(
            codes::UNAUTHORIZED,
            &e.to_string(),
            None,
            None,
        ));
        return;
    }
    let Some(slot) = owner.slot.take() else {
        return;
    };
    let session = match hub.open(Transport::Udp, slot, request, &ns, auth).await {
        Ok(session) => session,
        Err((_, conn)) => {
            conn.mailbox
                .take_out(usize::MAX)
                .iter()
                .for_each(|o| send(o.envelope()));
            return;
        }
    };
    let io = UdpIo {
        socket,
        owner,
        inbox,
        idle,
        deadline: Instant::now() + idle,
        max,
    };
    drive(session, io, pending).await;
}

/// A UDP client: one envelope per datagram, best effort.
struct UdpIo {
    socket: Arc<UdpSocket>,
    owner: Owner,
    inbox: mpsc::Receiver<Bytes>,
    idle: Duration,
    /// When the client will have been silent too long.
    deadline: Instant,
    max: usize,
}

impl UdpIo {
    /// Sends envelopes that fit in a datagram (the others are dropped).
    fn send(&self, batch: &[PlainOut]) {
        for out in batch {
            let envelope = out.envelope();
            if envelope.len() <= self.max {
                let _ = self.socket.try_send_to(envelope, self.owner.peer);
            }
        }
    }
}

impl PlainIo for UdpIo {
    async fn read(&mut self, conn: &PlainConn) -> Input {
        tokio::select! {
            biased;
            datagram = self.inbox.recv() => match datagram {
                Some(datagram) => {
                    self.deadline = Instant::now() + self.idle;
                    Input::Envelope(datagram)
                }
                None => Input::End(Ending::quiet(CloseReason::ServerShutdown)),
            },
            () = tokio::time::sleep_until(self.deadline) => {
                conn.send_error(codes::IDLE_TIMEOUT, "idle timeout", None);
                Input::End(Ending::quiet(CloseReason::PingTimeout))
            }
        }
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        self.send(batch);
        Ok(())
    }

    fn closing(&mut self) {
        // Forget the address first: a datagram arriving from now on starts
        // a new session instead of landing in this closing one.
        self.owner.forget();
    }

    async fn finish(self, rest: Vec<PlainOut>, _ending: Ending) {
        self.send(&rest);
    }
}
