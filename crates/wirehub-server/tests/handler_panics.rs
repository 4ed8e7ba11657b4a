//! A handler that panics loses its event, never its connection: whether it
//! panics in the closure, in the first poll of its future, or later on the
//! runtime, the session and its sockets keep working.

mod common;

use common::{register_echo, start, within, Reasons};
use wirehub_server::io::SocketRef;
use wirehub_server::SocketIo;

#[tokio::test]
async fn panicking_handlers_do_not_take_the_connection_down() {
    let server = start(SocketIo::builder()).await;
    let reasons = Reasons::default();
    server.io.ns("/p", move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            register_echo(&s, reasons);
            s.on("in-closure", |_: SocketRef| -> std::future::Ready<()> {
                panic!("deliberate panic in the handler closure")
            });
            s.on("in-future", |_: SocketRef| async move {
                panic!("deliberate panic in the handler future")
            });
            s.on("after-yield", |_: SocketRef| async move {
                tokio::task::yield_now().await;
                panic!("deliberate panic after a yield")
            });
        }
    });
    let (mut client, _) = server.ws_connected().await;
    within("connecting to /p", client.connect_ns("/p", None)).await;
    for event in ["in-closure", "in-future", "after-yield"] {
        client.send(&format!(r#"42/p,["{event}"]"#));
    }
    client.assert_echo_on("/p").await;
    client.assert_echo().await;
    assert_eq!(server.io.of("/p").map(|ns| ns.socket_count()), Some(1));
    // The server still opens sessions (not `assert_healthy`: this test panics
    // on purpose, and that check fails on any panic).
    assert!(!server.polling().await.sid.is_empty());
}
