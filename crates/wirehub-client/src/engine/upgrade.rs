//! The upgrade probe: open a WebSocket with the session's `sid`, send
//! `2probe`, expect `3probe`. The driver then pauses polling and sends `5`
//! on the probed socket (see `manager::driver`).

use super::websocket::{self, decode_text, to_message};
use super::Inbound;
use crate::config::Config;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use wirehub_proto::engineio::Packet;

/// Starts probing; reports [`Inbound::Probed`] with the socket or `None`.
pub(crate) fn spawn_probe(
    config: Arc<Config>,
    gen: u64,
    sid: String,
    inbound: mpsc::UnboundedSender<Inbound>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let probe = tokio::time::timeout(config.upgrade_timeout, probe(&config, &sid)).await;
        let ws = match probe {
            Ok(Ok(ws)) => Some(Box::new(ws)),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "upgrade probe failed, staying on polling");
                None
            }
            Err(_) => {
                tracing::debug!("upgrade probe timed out, staying on polling");
                None
            }
        };
        let _ = inbound.send(Inbound::Probed { gen, ws });
    })
}

async fn probe(config: &Config, sid: &str) -> Result<websocket::WsStream, crate::Error> {
    let mut ws = websocket::connect(config, Some(sid)).await?;
    ws.send(to_message(Packet::PingProbe.to_frame()))
        .await
        .map_err(|e| crate::Error::Transport(e.to_string()))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                return match decode_text(text)? {
                    Packet::PongProbe => Ok(ws),
                    other => Err(crate::Error::Protocol(format!("probe answered {other:?}"))),
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            _ => return Err(crate::Error::Transport("probe socket closed".into())),
        }
    }
}
