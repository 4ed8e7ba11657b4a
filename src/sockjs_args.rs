//! The SockJS section of `wirehub serve`'s flags.

use clap::Args;
use std::time::Duration;
use wirehub_server::{ConfigBuilder, SockJsConfig};

/// `[sockjs]`: SockJS endpoint options (`sockjs-client` 1.x, protocol 0.3).
#[derive(Debug, Args)]
#[command(next_help_heading = "SockJS")]
pub(crate) struct SockJsArgs {
    /// Path prefix of the SockJS endpoint (`<prefix>/info`,
    /// `<prefix>/<server>/<session>/<transport>`); empty turns it off.
    #[arg(long, env = "WIREHUB_SOCKJS_PREFIX", default_value = "/sockjs")]
    sockjs_prefix: String,
    /// Milliseconds between SockJS heartbeat frames (`h`).
    #[arg(long, env = "WIREHUB_SOCKJS_HEARTBEAT", default_value_t = 25_000)]
    sockjs_heartbeat: u64,
    /// Milliseconds a SockJS session outlives its last receiving request.
    #[arg(long, env = "WIREHUB_SOCKJS_DISCONNECT_DELAY", default_value_t = 5_000)]
    sockjs_disconnect_delay: u64,
}

impl SockJsArgs {
    /// Applies these options to a server configuration.
    pub(crate) fn apply(&self, config: ConfigBuilder) -> ConfigBuilder {
        let sockjs = SockJsConfig {
            heartbeat: Duration::from_millis(self.sockjs_heartbeat),
            disconnect_delay: Duration::from_millis(self.sockjs_disconnect_delay),
            ..SockJsConfig::default()
        };
        config
            .sockjs_prefix(self.sockjs_prefix.clone())
            .sockjs(sockjs)
    }
}
