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
    // The three deliberate panics below are expected; any other fails the test.
    server.panics.allow("deliberate panic");
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
    // All three handlers ran and panicked (the last one on a later poll).
    within("the three panics", async {
        while server.panics.count("deliberate panic") < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(server.panics.count("deliberate panic"), 3);
    server.assert_healthy().await;
}
