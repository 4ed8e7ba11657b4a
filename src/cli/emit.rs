//! `wirehub emit`: connect, emit one event, optionally wait for its ack
//! (printed as one JSON array line), disconnect. Exit status: 0 on success,
//! 1 when connecting failed, 3 when no ack came in time.

use super::json::{args_to_json, json_to_args, loose};
use super::{describe, fail, output, ClientArgs, EXIT_CONNECT};
use clap::Args;
use serde_json::Value;
use std::time::Duration;
use wirehub_client::{Error, Reconnection};

/// Exit status when the ack did not come in time.
const EXIT_TIMEOUT: i32 = 3;

/// Options of `wirehub emit`.
#[derive(Debug, Args)]
pub(crate) struct EmitArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Event name.
    event: String,
    /// Arguments: each is JSON if it parses (`42`, `'{"a":1}'`, `'"text"'`),
    /// else sent as a string; `{"$binary":"<base64>"}` is sent as binary.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Ask for an acknowledgement and print it.
    #[arg(long)]
    ack: bool,
    /// Milliseconds to wait for the acknowledgement.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    timeout: u64,
}

pub(crate) async fn run(args: EmitArgs) -> anyhow::Result<()> {
    let values: Vec<Value> = args.args.iter().map(|a| loose(a)).collect();
    let payload = json_to_args(&values)?;
    let socket = args
        .client
        .builder()?
        .reconnection(Reconnection::disabled())
        .connect()
        .await
        .unwrap_or_else(|e| fail(describe(&e), EXIT_CONNECT));
    if !args.ack {
        socket.emit_raw(&args.event, payload)?;
        socket.disconnect().await;
        return Ok(());
    }
    let answer = socket
        .timeout(Duration::from_millis(args.timeout))
        .emit_raw_with_ack(&args.event, payload)
        .await;
    socket.disconnect().await;
    match answer {
        Ok(reply) => {
            output::value(&args_to_json(&reply));
            Ok(())
        }
        Err(e @ Error::AckTimeout { .. }) => fail(e, EXIT_TIMEOUT),
        Err(e) => fail(describe(&e), EXIT_CONNECT),
    }
}
