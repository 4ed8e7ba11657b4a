//! `https://` and `wss://`: our server behind TLS (a test CA in
//! `tests/tls/`, valid 2020-2120, for `localhost` and `127.0.0.1`), reached
//! over every transport; an untrusted certificate is a TLS error.

mod common;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;
use wirehub_client::{ClientBuilder, Error, Transport, TransportKind};
use wirehub_server::io::{AckSender, RawArgs};
use wirehub_server::SocketIo;

const CA: &[u8] = include_bytes!("tls/ca.der");
const CERT: &[u8] = include_bytes!("tls/localhost.der");
const KEY: &[u8] = include_bytes!("tls/localhost.key.der");

/// Serves an echo-with-ack server over TLS; returns the port.
async fn tls_server() -> u16 {
    let listener = common::ports::bind();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![CertificateDer::from(CERT.to_vec())], key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (service, io) = SocketIo::builder().build_service();
    io.ns("/", |socket: wirehub_server::io::SocketRef| async move {
        socket.on(
            "echo",
            |RawArgs(args): RawArgs, ack: AckSender| async move {
                let _ = ack.send_raw(args);
            },
        );
    });
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, service) = (acceptor.clone(), service.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let handler = hyper::service::service_fn(move |req| service.clone().call(req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), handler)
                    .with_upgrades()
                    .await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_and_wss_with_a_private_ca() {
    let port = tls_server().await;
    let cases = [
        (
            "https://localhost",
            Transport::Polling,
            TransportKind::Polling,
        ),
        (
            "https://127.0.0.1",
            Transport::Upgrade,
            TransportKind::WebSocket,
        ),
        (
            "wss://localhost",
            Transport::WebSocket,
            TransportKind::WebSocket,
        ),
    ];
    for (base, transport, kind) in cases {
        let socket = ClientBuilder::new(format!("{base}:{port}"))
            .transport(transport)
            .add_root_certificate(CA)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{base} {transport:?}: {e}"));
        let manager = socket.manager().clone();
        assert!(common::wait_until(common::WAIT, || manager.transport() == Some(kind)).await);
        let reply: String = socket.emit_with_ack("echo", "over tls").await.unwrap();
        assert_eq!(reply, "over tls");
        socket.disconnect().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_tls_error() {
    let port = tls_server().await;
    for transport in [Transport::Polling, Transport::WebSocket] {
        let err = ClientBuilder::new(format!("https://localhost:{port}"))
            .transport(transport)
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("localhost") && text.contains("UnknownIssuer"),
            "{text}"
        );
    }
}
