//! [`render`]: one scrape of a server's metrics in the Prometheus text
//! format.

use super::labels::{ErrorKind, RecoveryResult};
use super::text::{Kind, Writer};
use crate::conn::Transport;
use crate::io::{DisconnectReason, SocketIo};

/// The exposition of `io`'s metrics: connection counts from the registry,
/// per-namespace sockets and events, server-wide counters, histograms.
pub fn render(io: &SocketIo) -> String {
    let mut w = Writer::default();
    let connections = io.connections();
    w.labelled(
        (
            "wirehub_connections",
            "Open connections, by transport.",
            Kind::Gauge,
        ),
        "transport",
        Transport::ALL
            .iter()
            .map(|t| (t.as_str(), connections.count(*t) as u64)),
    );
    namespaces(&mut w, io);
    counters(&mut w, io);
    let m = io.metrics();
    w.histogram(
        "wirehub_handshake_duration_seconds",
        "Time from a connection's first request to its open packet (Engine.IO) or hello (plain transports).",
        &m.handshakes(),
    );
    w.histogram(
        "wirehub_broadcast_duration_seconds",
        "Time a broadcast takes to reach the queues of this node's recipients, encoding included.",
        &m.broadcasts(),
    );
    w.finish()
}

fn namespaces(w: &mut Writer, io: &SocketIo) {
    let mut all = io.0.namespaces();
    all.sort_by(|a, b| a.name().cmp(b.name()));
    let rows: Vec<_> = all
        .iter()
        .map(|ns| {
            let m = ns.metrics();
            (
                &**ns.name(),
                ns.socket_count() as u64,
                m.received_total(),
                m.sent_total(),
            )
        })
        .collect();
    w.labelled(
        (
            "wirehub_sockets",
            "Sockets connected to this node, by namespace.",
            Kind::Gauge,
        ),
        "namespace",
        rows.iter().map(|r| (r.0, r.1)),
    );
    w.labelled(
        (
            "wirehub_events_received_total",
            "Events received from clients, by namespace.",
            Kind::Counter,
        ),
        "namespace",
        rows.iter().map(|r| (r.0, r.2)),
    );
    w.labelled(
        (
            "wirehub_events_sent_total",
            "Events queued to sockets, by namespace: a broadcast to N sockets counts N.",
            Kind::Counter,
        ),
        "namespace",
        rows.iter().map(|r| (r.0, r.3)),
    );
}

fn counters(w: &mut Writer, io: &SocketIo) {
    let m = io.metrics();
    w.single(
        (
            "wirehub_bytes_received_total",
            "Bytes of Engine.IO packets and plain envelopes read from clients (transport framing not counted).",
            Kind::Counter,
        ),
        m.bytes_received(),
    );
    w.single(
        (
            "wirehub_bytes_sent_total",
            "Bytes of Engine.IO packets and plain envelopes written to clients (transport framing not counted).",
            Kind::Counter,
        ),
        m.bytes_sent(),
    );
    w.labelled(
        (
            "wirehub_disconnects_total",
            "Sockets that left their namespace, by Socket.IO disconnect reason.",
            Kind::Counter,
        ),
        "reason",
        DisconnectReason::ALL
            .iter()
            .map(|r| (r.as_str(), m.disconnects(*r))),
    );
    w.labelled(
        ("wirehub_errors_total", "Errors, by kind.", Kind::Counter),
        "kind",
        ErrorKind::ALL.iter().map(|k| (k.as_str(), m.errors(*k))),
    );
    w.single(
        (
            "wirehub_queue_drops_total",
            "Messages dropped because the connection's outbound queue was full.",
            Kind::Counter,
        ),
        m.queue_drops(),
    );
    w.single(
        (
            "wirehub_adapter_up",
            "1 while the cluster adapter is connected to its engine (always 1 for the in-memory adapter).",
            Kind::Gauge,
        ),
        u64::from(m.adapter_up()),
    );
    w.labelled(
        (
            "wirehub_recovery_total",
            "Connection-state recovery attempts, by result.",
            Kind::Counter,
        ),
        "result",
        RecoveryResult::ALL
            .iter()
            .map(|r| (r.as_str(), m.recoveries(*r))),
    );
}

#[cfg(test)]
mod tests {
    use crate::io::SocketRef;
    use crate::SocketIo;

    #[test]
    fn renders_every_family_with_its_namespaces() {
        let (_svc, io) = SocketIo::builder().build_service();
        io.ns("/", |_: SocketRef| async {});
        io.ns("/chat", |_: SocketRef| async {});
        let text = super::render(&io);
        for line in [
            "# TYPE wirehub_connections gauge",
            "wirehub_connections{transport=\"udp\"} 0",
            "wirehub_sockets{namespace=\"/\"} 0",
            "wirehub_events_sent_total{namespace=\"/chat\"} 0",
            "wirehub_disconnects_total{reason=\"ping timeout\"} 0",
            "wirehub_errors_total{kind=\"handler_panic\"} 0",
            "wirehub_adapter_up 1",
            "wirehub_recovery_total{result=\"failed\"} 0",
            "wirehub_handshake_duration_seconds_bucket{le=\"+Inf\"} 0",
            "wirehub_broadcast_duration_seconds_count 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let families = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        assert_eq!(families, 13);
    }

    #[test]
    fn adapter_up_follows_the_probe() {
        let (_svc, io) = SocketIo::builder().build_service();
        assert!(io.metrics().set_adapter_probe(Box::new(|| false)));
        assert!(
            !io.metrics().set_adapter_probe(Box::new(|| true)),
            "set once"
        );
        assert!(super::render(&io)
            .lines()
            .any(|l| l == "wirehub_adapter_up 0"));
    }
}
