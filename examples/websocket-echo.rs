//! A bare WebSocket echo on wirehub's WebSocket layer, for the
//! Autobahn|Testsuite (`tests/autobahn/run.sh`): every message goes back as it
//! came, on any path. Messages up to 16 MiB (the suite's largest); listens
//! on 127.0.0.1:9001 (env `PORT`; 0 picks a free port, printed on stderr).
//! With env `DEFLATE_THRESHOLD=N`, clients that offer permessage-deflate get
//! it, and echoes of N bytes or more are compressed.

use wirehub_server::websocket_echo::WebSocketEcho;

/// The largest message the suite sends (cases 9.x), with room to spare.
const MAX_MESSAGE: usize = 32 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9001);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // The bound port (PORT=0 picks a free one): tests/autobahn/run.sh reads it here.
    let port = listener.local_addr()?.port();
    eprintln!("websocket echo listening on ws://127.0.0.1:{port}");
    let mut echo = WebSocketEcho::new(MAX_MESSAGE);
    if let Some(threshold) = std::env::var("DEFLATE_THRESHOLD")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        echo = echo.with_deflate(threshold);
    }
    wirehub_server::serve(listener, echo, std::future::pending()).await
}
