//! A bare Engine.IO server that sends every message back as it came (text
//! stays text, binary stays binary), for the public engine.io-protocol test
//! suite. Path `/engine.io/`, pingInterval 300 ms, pingTimeout 200 ms,
//! maxPayload 1000000, CORS `*`; listens on 127.0.0.1:3000 (env `PORT`).

use std::sync::Arc;
use std::time::Duration;
use tower_layer::Layer;
use wirehub_server::engine::{Engine, EngineConn, EngineHandler};
use wirehub_server::proto::engineio::{CloseReason, Message, Packet};
use wirehub_server::{Config, CorsOrigins, EngineLayer, NotFound};

/// Echoes every message on its own session.
struct Echo;

impl EngineHandler for Echo {
    type Conn = Arc<EngineConn>;

    fn on_open(&self, conn: &Arc<EngineConn>) -> Self::Conn {
        conn.clone()
    }

    fn on_message(&self, conn: &mut Self::Conn, msg: Message) -> Result<(), CloseReason> {
        let _ = conn.send_frame(Packet::Message(msg).to_frame());
        Ok(())
    }

    fn on_close(&self, _conn: Self::Conn, _reason: CloseReason) {}
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let config = Config::builder()
        .path("/engine.io/")
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .cors(CorsOrigins::Any)
        .build();
    let service = EngineLayer::new(Engine::new(config, Echo)).layer(NotFound);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port(); // PORT=0 picks a free one
    eprintln!("engine.io echo server listening on http://127.0.0.1:{port}");
    wirehub_server::serve(listener, service, std::future::pending()).await
}
