//! Client features against our server: typed handlers, catch-all,
//! headers and query, refusals and their errors, volatile emits, close.

mod common;

use common::ours::OurServer;
use common::ports;
use common::record::{recorder, tap_client};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wirehub_client::{ClientBuilder, Data, Error, Event, Seq, Socket, Transport, TryData};

fn client(server: &OurServer) -> ClientBuilder {
    ClientBuilder::new(server.url()).transport(Transport::WebSocket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_handlers_and_catch_all() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Auth {
        user: String,
    }
    let server = OurServer::start();
    // What each handler saw, in the order they ran; checked by the test
    // itself (an assert inside a handler would run in the client's driver
    // task, after the test moved on).
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (typed, pair, tried, any) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    let (done, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let socket = client(&server)
        .auth(&json!({ "user": "ann" }))
        .on("auth", move |Data(auth): Data<Auth>| {
            typed.lock().unwrap().push(format!("auth:{}", auth.user));
            async {}
        })
        .on(
            "message-back",
            move |Seq((n, s)): Seq<(u32, String)>, socket: Socket| {
                pair.lock()
                    .unwrap()
                    .push(format!("pair:{n}:{s}:{}", socket.namespace()));
                async {}
            },
        )
        // Handlers of one event run in order: catch-all first, this one last.
        .on("message-back", move |TryData(r): TryData<bool>| {
            let verdict = match r {
                Ok(b) => format!("try:ok:{b}"),
                Err(_) => "try:err".to_owned(),
            };
            tried.lock().unwrap().push(verdict);
            let _ = done.send(());
            async {}
        })
        .on_any(move |Event(name): Event| {
            any.lock().unwrap().push(format!("any:{name}"));
            async {}
        })
        .connect()
        .await
        .unwrap();
    socket.emit_args("message", &(7, "seven")).unwrap();
    tokio::time::timeout(common::WAIT, done_rx.recv())
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    // The first argument, 7, is not a bool: TryData sees the error.
    assert_eq!(
        seen,
        [
            "any:auth",
            "auth:ann",
            "any:message-back",
            "pair:7:seven:/",
            "try:err"
        ]
    );
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_query_reach_the_server() {
    let server = OurServer::start();
    for transport in [Transport::WebSocket, Transport::Polling] {
        let url = format!("{}/?from=url", server.url());
        let socket = ClientBuilder::new(url)
            .transport(transport)
            .header("X-Test", "yes")
            .query("token", "a b&c")
            .connect()
            .await
            .unwrap();
        let who: Value = socket.emit_args_with_ack("whoami", &()).await.unwrap();
        assert_eq!(who["header"], "yes", "{transport:?}");
        let query = who["query"].as_str().unwrap();
        assert!(query.contains("from=url"), "{query}");
        assert!(query.contains("token=a%20b%26c"), "{query}");
        socket.disconnect().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_error_carries_the_server_data() {
    let server = OurServer::start();
    let (tap, mut rec) = recorder();
    let url = format!("{}/guarded", server.url());
    let refused = tap_client(ClientBuilder::new(&url), &tap).connect().await;
    match refused {
        Err(Error::ConnectRefused { ns, message, data }) => {
            assert_eq!(ns, "/guarded");
            assert_eq!(message, "not authorized");
            assert_eq!(data, Some(json!({ "need": "token" })));
        }
        other => panic!("expected ConnectRefused, got {other:?}"),
    }
    let e = rec.expect("connect_error").await;
    assert!(e.args.get::<String>(0).unwrap().contains("not authorized"));
    let err = Error::ConnectRefused {
        ns: "/guarded".into(),
        message: "not authorized".into(),
        data: None,
    };
    assert_eq!(
        err.to_string(),
        "the server refused namespace /guarded: not authorized"
    );
    let socket = ClientBuilder::new(&url)
        .auth(&json!({ "token": "secret" }))
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.namespace(), "/guarded");
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_wrong_path_tls_and_timeout_errors() {
    let server = OurServer::start();
    // Nothing listens on the port.
    let (_reserved, port) = ports::refusing();
    let err = ClientBuilder::new(format!("http://127.0.0.1:{port}"))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("connection refused"), "{err}");

    // Wrong path: 404 over both transports.
    for transport in [Transport::Polling, Transport::WebSocket] {
        let err = client(&server)
            .transport(transport)
            .path("/nope/")
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotFound { .. }),
            "{transport:?}: {err:?}"
        );
        assert!(err.to_string().contains("path option"), "{err}");
    }

    // TLS to a server that speaks plain HTTP.
    let err = ClientBuilder::new(format!("https://127.0.0.1:{}", server.port))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("TLS handshake with 127.0.0.1 failed"),
        "{err}"
    );

    // A server that accepts and never answers.
    let silent = ports::bind();
    let err = ClientBuilder::new(format!(
        "http://127.0.0.1:{}",
        silent.local_addr().unwrap().port()
    ))
    .connect_timeout(Duration::from_millis(300))
    .connect()
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("timed out after 300 ms"),
        "{err}"
    );

    // A handshake the server refuses: 400 with the reference error body.
    let err = ClientBuilder::new(format!("{}/?EIO=3", server.url()))
        .transport(Transport::Polling)
        .connect()
        .await
        .unwrap_err();
    match &err {
        Error::Handshake { status, message } => {
            assert_eq!(*status, 400, "{err}");
            assert_eq!(message, "Unsupported protocol version", "{err}");
        }
        other => panic!("expected a refused handshake, got {other:?}"),
    }

    let bad = ClientBuilder::new("ftp://x").connect().await.unwrap_err();
    assert!(matches!(bad, Error::InvalidUrl { .. }));
    let bad = client(&server).auth(&[1, 2]).connect().await.unwrap_err();
    assert!(matches!(bad, Error::InvalidOption(_)));
    let bad = client(&server)
        .header("bad header", "x")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidOption(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_names_and_close() {
    let server = OurServer::start();
    let (tap, mut rec) = recorder();
    let socket = tap_client(client(&server), &tap).connect().await.unwrap();
    let err = socket.emit("disconnect", &1).unwrap_err();
    assert!(matches!(err, Error::InvalidOption(_)));
    let manager = socket.manager().clone();
    manager.close().await;
    assert_eq!(rec.expect_disconnect().await, "io client disconnect");
    assert!(!socket.connected());
    assert!(matches!(socket.emit("message", &1), Err(Error::Closed)));
    let late = socket
        .emit_with_ack::<_, Value>("message-with-ack", &1)
        .await;
    assert!(matches!(late, Err(Error::Closed)), "{late:?}");
    assert!(matches!(socket.connect().await, Err(Error::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_acks_fail_on_disconnect() {
    let server = OurServer::start();
    let socket = client(&server).connect().await.unwrap();
    // "message" is never acknowledged; leaving fails the wait at once.
    // The emit (and its ack) is queued for the connection before the
    // disconnect command, in that order: no sleep needed.
    let pending = socket.emit_with_ack::<_, Value>("message", &1);
    let waiting = tokio::spawn(pending);
    socket.disconnect().await;
    let result = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .expect("the ack wait ends with the socket")
        .unwrap();
    assert!(matches!(result, Err(Error::Disconnected(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_leaves_the_namespace() {
    let server = OurServer::start();
    let (tap, mut rec) = recorder();
    let watcher = tap_client(client(&server), &tap).connect().await.unwrap();
    let ok: String = watcher
        .emit_args_with_ack("watch-disconnects", &())
        .await
        .unwrap();
    assert_eq!(ok, "watching");
    let other = client(&server).connect().await.unwrap();
    let id = other.id().unwrap();
    drop(other);
    let seen = rec.expect("peer-disconnected").await;
    assert_eq!(seen.json(), json!([id, "client namespace disconnect"]));
    watcher.disconnect().await;
}
