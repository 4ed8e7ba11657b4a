//! Server-side events: events one node emits to the namespace's handlers on
//! the *other* nodes (Node's `serverSideEmit` / `io.on(event, handler)`),
//! optionally with one answer per node.

use super::adapter::ServerAckReply;
use super::error::EmitError;
use super::handler::run_inline;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use wirehub_proto::socketio::Args;

/// A handler of a server-side event: any
/// `Fn(Args, ServerAck) -> impl Future<Output = ()>`.
pub trait ServerEventHandler: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, args: Args, ack: ServerAck);
}

impl<F, Fut> ServerEventHandler for F
where
    F: Fn(Args, ServerAck) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, args: Args, ack: ServerAck) {
        run_inline(None, || (self)(args, ack));
    }
}

pub(crate) type BoxedServerHandler = Arc<dyn ServerEventHandler>;

/// Answers the node that emitted a server-side event, if it asked for an
/// answer (only the first answer counts, as in Node).
#[derive(Debug)]
pub struct ServerAck(Option<ServerAckReply>);

impl ServerAck {
    pub(crate) fn new(reply: Option<ServerAckReply>) -> Self {
        ServerAck(reply)
    }

    /// Whether the emitting node asked for an answer.
    pub fn is_requested(&self) -> bool {
        self.0.is_some()
    }

    /// Answers with one value.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        self.send_raw(Args::one(data)?);
        Ok(())
    }

    /// Answers with an argument as it is (only the first argument travels).
    pub fn send_raw(self, answer: Args) {
        if let Some(reply) = self.0 {
            reply.send(answer);
        }
    }
}
