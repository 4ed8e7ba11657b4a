//! What both cluster protocols do alike: options and sockets as they
//! travel, answers as values, and relaying this node's acknowledgements of
//! another node's broadcast.

use super::ordered::Ordered;
use crate::io::adapter::{
    AckEvent, AckSink, AckStream, AdapterError, BroadcastOptions, LocalAdapter, Message,
    OffsetReceipt, Published,
};
use crate::io::RemoteSocketData;
use crate::sync::lock;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wirehub_proto::cluster::value::{args_to_values, from_json, to_json_value, values_to_args};
use wirehub_proto::cluster::{EventPacket, Value, WireOptions};
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// Options as they travel, with the broadcast's cluster offset.
pub(crate) fn wire_options(opts: &BroadcastOptions, offset: Option<u64>) -> WireOptions {
    WireOptions {
        rooms: opts.rooms.clone(),
        except: opts.except.clone(),
        volatile: opts.volatile,
        compress: (!opts.compress).then_some(false),
        timeout: opts.timeout.map(|t| t.as_millis() as u64),
        offset,
    }
}

/// Options another node sent, applied to this node's sockets only.
pub(crate) fn local_options(wire: &WireOptions) -> BroadcastOptions {
    BroadcastOptions {
        rooms: wire.rooms.clone(),
        except: wire.except.clone(),
        volatile: wire.volatile,
        local: true,
        compress: wire.compress.unwrap_or(true),
        timeout: wire.timeout.map(Duration::from_millis),
    }
}

/// An event packet for namespace `ns`.
pub(crate) fn packet(ns: &Str, msg: &Message) -> EventPacket {
    EventPacket {
        nsp: ns.clone(),
        event: msg.event.clone(),
        args: msg.args.clone(),
    }
}

/// The event of a packet.
pub(crate) fn message(packet: EventPacket) -> Message {
    Message {
        event: packet.event,
        args: packet.args,
    }
}

/// A socket description as a value.
pub(crate) fn socket_value(socket: &RemoteSocketData) -> Value {
    serde_json::to_value(socket).map_or(Value::Nil, |json| from_json(&json))
}

/// A socket description from a value (`None` if it is not one).
pub(crate) fn socket_from_value(value: &Value) -> Option<RemoteSocketData> {
    serde_json::from_value(to_json_value(value)).ok()
}

/// The first argument of an answer as a value (Node relays only that one).
pub(crate) fn first_arg(args: &Args) -> Value {
    args_to_values(args)
        .into_iter()
        .next()
        .unwrap_or(Value::Nil)
}

/// One relayed answer as arguments.
pub(crate) fn answer_args(value: Value) -> Args {
    values_to_args(&[value])
}

/// What a node sends back for another node's broadcast with acks.
pub(crate) enum Relay {
    /// This node's recipient count (sent once, even when 0).
    Count(u64),
    /// One recipient's answer (its first argument).
    Answer(Value),
}

/// Delivers another node's broadcast with acks to this node's sockets and
/// relays the recipient count, then each answer, through `send`, until
/// every recipient answered or `timeout` passed.
pub(crate) fn relay_acks(
    local: &LocalAdapter,
    msg: Message,
    opts: &BroadcastOptions,
    timeout: Duration,
    send: impl Fn(Relay) + Send + 'static,
) {
    let (mut stream, sink) = AckStream::new(timeout);
    local.broadcast_with_ack(msg, opts, &sink);
    drop(sink);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + stream.timeout();
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, stream.recv()).await {
            match event {
                AckEvent::Count(n) => send(Relay::Count(n as u64)),
                AckEvent::Answer(answer) => send(Relay::Answer(first_arg(&answer.args))),
                AckEvent::Servers(_) => {}
            }
        }
    });
}

/// What a cluster adapter's state offers, whatever its protocol, so that
/// the broadcasts of both protocols run the same way ([`broadcast`],
/// [`broadcast_with_ack`]).
pub(crate) trait Node: Send + Sync + 'static {
    /// This node's room index.
    fn local(&self) -> &LocalAdapter;
    /// The namespace's queue behind the cluster's sequence.
    fn ordered(&self) -> &Ordered;
    /// The open broadcasts with acks, by request id.
    fn acks(&self) -> &Mutex<HashMap<Str, AckSink>>;
    /// Publishes a broadcast (recorded under `offset` when given).
    fn publish_broadcast(&self, msg: &Message, opts: &BroadcastOptions, offset: Option<u64>);
    /// Publishes a broadcast whose recipients answer to request `id`.
    fn publish_with_ack(
        &self,
        id: Str,
        msg: &Message,
        opts: WireOptions,
    ) -> Result<(), AdapterError>;
    /// How many servers serve the namespace, this one included.
    fn count_servers(self: Arc<Self>) -> BoxFuture<'static, Result<usize, AdapterError>>;
}

/// Delivers a broadcast here and publishes it: at once when it needs no
/// offset and nothing waits; otherwise behind the namespace's queue, with
/// an offset from the cluster's sequence if it is recorded.
pub(crate) fn broadcast<N: Node>(
    node: &Arc<N>,
    msg: Message,
    opts: &BroadcastOptions,
) -> Published {
    let local = node.local();
    let recorded = local.emitter().recorded_rooms(opts);
    let needs_offset = local.needs_offset(opts, &recorded);
    if !needs_offset && node.ordered().idle() {
        if !opts.local {
            node.publish_broadcast(&msg, opts, None);
        }
        let recipients = local.broadcast_recorded(msg, opts, &[], None);
        return Published {
            recipients,
            offset: OffsetReceipt::Ready(None),
        };
    }
    let recipients = local.sids(opts).len();
    let (run, opts) = (node.clone(), opts.clone());
    let rx = node.ordered().push(needs_offset, move |offset| {
        if !opts.local {
            run.publish_broadcast(&msg, &opts, offset);
        }
        run.local()
            .broadcast_recorded(msg, &opts, &recorded, offset);
    });
    let offset = match needs_offset {
        true => OffsetReceipt::Pending(rx),
        false => OffsetReceipt::Ready(None),
    };
    Published { recipients, offset }
}

/// Delivers a broadcast with acks here and publishes it: every server,
/// this one included, reports its recipient count (the stream learns how
/// many servers there are), then each answer arrives.
pub(crate) fn broadcast_with_ack<N: Node>(
    node: &Arc<N>,
    msg: Message,
    opts: &BroadcastOptions,
    timeout: Duration,
) -> AckStream {
    let (stream, sink) = AckStream::new(timeout);
    let id = super::pending::request_id();
    let mut wire = wire_options(opts, None);
    wire.timeout = Some(timeout.as_millis() as u64);
    if opts.local || node.publish_with_ack(id.clone(), &msg, wire).is_err() {
        sink.send(AckEvent::Servers(1));
    } else {
        lock(node.acks()).insert(id.clone(), sink.clone());
        let (node, sink) = (node.clone(), sink.clone());
        tokio::spawn(async move {
            let servers = node.clone().count_servers().await.unwrap_or(1);
            sink.send(AckEvent::Servers(servers));
            drop(sink);
            tokio::time::sleep(timeout).await;
            lock(node.acks()).remove(&id);
        });
    }
    node.local().broadcast_with_ack(msg, opts, &sink);
    stream
}
