//! `wirehub serve`: the server's assembly from its options (`args`), and
//! graceful shutdown.

mod args;

pub(crate) use args::ServeArgs;

use crate::demo;
use crate::tls_args::reload_on_sighup;
use anyhow::Context;
use std::time::Duration;
use tokio::task::JoinHandle;
use tower_layer::Layer;
use wirehub_server::health::HealthLayer;
use wirehub_server::plain::{serve_tcp, serve_tcp_tls, serve_udp};
use wirehub_server::tls::TlsListener;
use wirehub_server::{PlainHub, SocketIo};

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let tls = args.tls.config()?;
    let (http, ws) = if tls.is_some() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    let adapter =
        wirehub::adapters::from_url(&args.cluster.adapter, &args.cluster.adapter_key).await?;
    let port = args.server.port()?;
    let advertise = args.cluster.advertise.clone().unwrap_or_else(|| {
        let host = match args.server.host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
            host => host,
        };
        format!("{http}://{host}:{port}")
    });
    let directory = match adapter.directory(&advertise).await {
        Ok(directory) => directory,
        Err(e) => {
            tracing::warn!(error = %e, "the cluster's engine is unreachable; serving local clients until it is back");
            None
        }
    };
    let mut builder = SocketIo::builder().adapter(adapter.factory.clone());
    if let Some(directory) = directory {
        builder = builder.session_locator(directory);
    }
    if let Some(admin) = args.admin.options()? {
        builder = builder.admin_ui(admin);
    }
    if let Some(verifier) = args.auth.verifier()? {
        builder = builder.jwt(verifier);
    }
    let (layer, io) = builder
        .path(args.engine.path.clone())
        .ping_interval(Duration::from_millis(args.engine.ping_interval))
        .ping_timeout(Duration::from_millis(args.engine.ping_timeout))
        .max_payload(args.engine.max_payload)
        .ws_deflate(args.websocket.ws_deflate)
        .ws_deflate_threshold(args.websocket.ws_deflate_threshold)
        .connect_timeout(Duration::from_millis(args.socketio.connect_timeout))
        .cors(args.cors.origins())
        .cors_credentials(args.cors.cors_credentials)
        .transports(args.engine.transports()?)
        .queue_capacity(args.engine.queue_capacity)
        .history_size(args.history.history_size)
        .history_ttl(Duration::from_secs(args.history.history_ttl))
        .api_key(args.api.key())
        .recovery_window(Duration::from_secs(args.recovery.recovery_window))
        .parser(args.socketio.parser)
        .allow_eio3(args.engine.allow_eio3)
        .config_with(|c| {
            let c = c
                .plain_idle_timeout(Duration::from_secs(args.plain.idle_timeout))
                .max_datagram(args.plain.max_datagram)
                .max_connections(args.limits.max_connections)
                .max_connections_per_ip(args.limits.max_connections_per_ip)
                .max_event_rate(args.limits.max_event_rate)
                .event_burst(args.limits.event_burst)
                .event_rate_grace(Duration::from_secs(args.limits.event_rate_grace))
                .max_rooms_per_socket(args.limits.max_rooms_per_socket)
                .max_namespaces_per_connection(args.limits.max_namespaces_per_connection);
            args.sockjs.apply(c)
        })
        .build_layer();
    demo::chat::register(&io);
    crate::hub::register(&io)?;
    let hub = PlainHub::new(io.clone());
    if adapter.clustered() {
        io.ready().await;
        tracing::info!(adapter = %args.cluster.adapter, key = %args.cluster.adapter_key, %advertise, "clustered");
    }
    if let Some(driver) = adapter.driver.clone() {
        io.metrics()
            .set_adapter_probe(Box::new(move || driver.is_up()));
    }
    let connections = io.connections().clone();
    let app = layer.layer(hub.layer().layer(demo::Assets::new(!args.server.no_demo)));
    let service = HealthLayer::new(connections.clone()).layer(args.metrics.layer(&io)?.layer(app));

    let addr = format!("{}:{port}", args.server.host);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        "wirehub listening on {http}://{local} (Socket.IO at {})",
        args.engine.path
    );
    tracing::info!(
        "plain transports: {ws}://{local}/ws, {http}://{local}/sse, /stream, /poll, /send"
    );
    let sockjs = &io.config().sockjs_prefix;
    if !sockjs.is_empty() {
        tracing::info!("SockJS at {http}://{local}{sockjs}");
    }
    if io.config().api_key.is_some() {
        tracing::info!("HTTP API at {http}://{local}/api/v1/ (OpenAPI: /api/v1/openapi.json)");
    } else {
        tracing::info!("HTTP API disabled (set --api-key or WIREHUB_API_KEY)");
    }
    if !args.server.no_demo {
        tracing::info!("chat demo: open {http}://{local}/ in a browser");
    }
    let mut tasks = Vec::new();
    if let Some(addr) = &args.plain.tcp {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on tcp {addr}"))?;
        let draining = connections.draining();
        match tls.as_ref().filter(|_| args.tls.tcp_tls()) {
            Some(tls) => {
                tracing::info!("plain TCP (NDJSON) on {} over TLS", listener.local_addr()?);
                let listener = TlsListener::new(listener, tls.clone());
                tasks.push(tokio::spawn(serve_tcp_tls(hub.clone(), listener, draining)));
            }
            None => {
                tracing::info!("plain TCP (NDJSON) on {}", listener.local_addr()?);
                tasks.push(tokio::spawn(serve_tcp(hub.clone(), listener, draining)));
            }
        }
    }
    if let Some(addr) = &args.plain.udp {
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .with_context(|| format!("cannot bind udp {addr}"))?;
        tracing::info!("plain UDP (datagrams) on {}", socket.local_addr()?);
        let gateway = serve_udp(hub.clone(), socket, connections.draining());
        tasks.push(tokio::spawn(gateway));
    }
    let drained = connections.drained();
    let http = match tls {
        Some(tls) => {
            reload_on_sighup(tls.clone())?;
            let listener = TlsListener::new(listener, tls);
            tokio::spawn(wirehub_server::serve(listener, service, drained))
        }
        None => tokio::spawn(wirehub_server::serve(listener, service, drained)),
    };
    tasks.push(http);
    shutdown_signal().await;
    drain(
        &io,
        tasks,
        Duration::from_secs(args.server.shutdown_timeout),
    )
    .await;
    Ok(())
}

/// Graceful shutdown: stops accepting (`/readyz` answers 503), closes
/// every connection of every transport, and waits up to `grace` for the
/// accept loops and every connection's driver to finish.
async fn drain(io: &SocketIo, tasks: Vec<JoinHandle<std::io::Result<()>>>, grace: Duration) {
    tracing::info!(
        connections = io.connections().total(),
        "shutting down: draining connections (up to {grace:?})"
    );
    let deadline = tokio::time::Instant::now() + grace;
    let drained = tokio::time::timeout_at(deadline, async {
        let registry = io.shutdown(grace).await;
        for task in tasks {
            match task.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "listener ended with an error"),
                Err(e) => tracing::warn!(error = %e, "listener task failed"),
                Ok(Ok(())) => {}
            }
        }
        registry
    })
    .await;
    match drained {
        Ok(Ok(())) => tracing::info!("every connection closed"),
        Ok(Err(left)) => tracing::warn!(%left, "shutdown timeout: exiting anyway"),
        Err(_) => tracing::warn!(
            connections = io.connections().total(),
            "shutdown timeout: exiting with HTTP requests still open"
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
