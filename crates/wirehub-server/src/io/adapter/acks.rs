//! Answers gathered across nodes: a broadcast's acknowledgements
//! ([`AckStream`]) and the answers to a server-side emit ([`ServerAcks`]).

use std::time::Duration;
use tokio::sync::mpsc;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// One event of a broadcast with acknowledgements.
#[derive(Debug)]
pub enum AckEvent {
    /// How many servers will report a recipient count (sent once).
    Servers(usize),
    /// One server's number of recipients.
    Count(usize),
    /// One recipient's answer.
    Answer(AckAnswer),
}

/// One recipient's answer to a broadcast.
#[derive(Debug, Clone)]
pub struct AckAnswer {
    /// The answering socket's id (`None` when it came from a node that does
    /// not tell it, as Node's adapters do not).
    pub sid: Option<Str>,
    /// The answer's arguments. Answers relayed by another node carry only
    /// the first argument, as Node's adapters relay them.
    pub args: Args,
}

/// Where the events of a broadcast with acknowledgements go.
#[derive(Debug, Clone)]
pub struct AckSink(mpsc::UnboundedSender<AckEvent>);

impl AckSink {
    /// Sends one event; false once nobody listens any more.
    pub fn send(&self, event: AckEvent) -> bool {
        self.0.send(event).is_ok()
    }
}

/// The events of one broadcast with acknowledgements, until complete or
/// timed out: complete once every server reported its recipient count and
/// every recipient answered (as Node's `BroadcastOperator.emit` decides).
#[derive(Debug)]
pub struct AckStream {
    rx: mpsc::UnboundedReceiver<AckEvent>,
    timeout: Duration,
}

/// Every answer of a broadcast with acknowledgements.
#[derive(Debug, Clone, Default)]
pub struct AckResponses {
    /// The answers, in arrival order.
    pub responses: Vec<AckAnswer>,
    /// How many recipients the event went to, on every server that reported.
    pub expected: usize,
    /// Whether the timeout passed (or recipients disconnected) before every
    /// server reported and every recipient answered.
    pub timed_out: bool,
}

impl AckResponses {
    /// The first argument of every answer, deserialised.
    pub fn first_args<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, serde_json::Error> {
        self.responses.iter().map(|a| a.args.get(0)).collect()
    }
}

impl AckStream {
    /// A stream that gives up after `timeout`, and the sink feeding it.
    pub fn new(timeout: Duration) -> (Self, AckSink) {
        let (tx, rx) = mpsc::unbounded_channel();
        (AckStream { rx, timeout }, AckSink(tx))
    }

    /// The next event, in arrival order (`None` once every sender is gone).
    /// For relaying events; [`Self::collect`] applies the timeout.
    pub async fn recv(&mut self) -> Option<AckEvent> {
        self.rx.recv().await
    }

    /// How long the stream waits for answers.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Collects every answer until complete or timed out.
    pub async fn collect(mut self) -> AckResponses {
        let mut out = AckResponses::default();
        let mut servers: Option<usize> = None;
        let mut reported = 0;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if servers == Some(reported) && out.responses.len() >= out.expected {
                return out;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(AckEvent::Servers(n))) => servers = Some(n),
                Ok(Some(AckEvent::Count(n))) => {
                    reported += 1;
                    out.expected += n;
                }
                Ok(Some(AckEvent::Answer(answer))) => out.responses.push(answer),
                // Every pending recipient disconnected, or time is up.
                Ok(None) | Err(_) => {
                    out.timed_out = true;
                    return out;
                }
            }
        }
    }
}

/// The answers of the other nodes to a server-side emit.
#[derive(Debug, Clone, Default)]
pub struct ServerAcks {
    /// One answer per node that answered (the first argument of its reply).
    pub responses: Vec<Args>,
    /// How many nodes were expected to answer.
    pub expected: usize,
    /// Whether some did not answer in time.
    pub timed_out: bool,
}

/// Sends a node's answer to a server-side emit back to the emitter.
pub struct ServerAckReply(Box<dyn FnOnce(Args) + Send>);

impl ServerAckReply {
    /// A reply that calls `send` with the answer.
    pub fn new(send: impl FnOnce(Args) + Send + 'static) -> Self {
        ServerAckReply(Box::new(send))
    }

    /// Sends the answer.
    pub fn send(self, answer: Args) {
        (self.0)(answer)
    }
}

impl std::fmt::Debug for ServerAckReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerAckReply")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> AckEvent {
        AckEvent::Answer(AckAnswer {
            sid: None,
            args: Args::empty(),
        })
    }

    #[tokio::test]
    async fn complete_when_every_server_reported_and_every_client_answered() {
        let (stream, tx) = AckStream::new(Duration::from_secs(5));
        tx.send(AckEvent::Count(1));
        tx.send(answer());
        tx.send(AckEvent::Servers(2));
        tx.send(AckEvent::Count(2));
        tx.send(answer());
        tx.send(answer());
        let sink = tx.clone();
        let done = stream.collect().await;
        assert!(!done.timed_out);
        assert_eq!((done.expected, done.responses.len()), (3, 3));
        drop(sink);
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_while_a_server_has_not_reported() {
        let (stream, tx) = AckStream::new(Duration::from_millis(50));
        tx.send(AckEvent::Servers(2));
        tx.send(AckEvent::Count(0));
        let done = stream.collect().await;
        assert!(done.timed_out);
        drop(tx);
    }

    #[tokio::test]
    async fn incomplete_when_every_sender_is_gone() {
        let (stream, tx) = AckStream::new(Duration::from_secs(5));
        tx.send(AckEvent::Servers(1));
        tx.send(AckEvent::Count(2));
        tx.send(answer());
        drop(tx);
        let done = stream.collect().await;
        assert!(done.timed_out);
        assert_eq!(done.responses.len(), 1);
    }
}
