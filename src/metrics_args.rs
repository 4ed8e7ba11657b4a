//! The `/metrics` flags of `wirehub serve`.

use clap::Args;
use wirehub_server::metrics::{MetricsLayer, METRICS};
use wirehub_server::SocketIo;

/// `[metrics]`: where (and whether) Prometheus metrics are served.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Metrics")]
pub(crate) struct MetricsArgs {
    /// Path of the Prometheus metrics (text format 0.0.4) on the HTTP port.
    #[arg(long, env = "WIREHUB_METRICS_PATH", default_value = METRICS)]
    metrics_path: String,
    /// Do not serve metrics.
    #[arg(long, env = "WIREHUB_NO_METRICS")]
    no_metrics: bool,
}

impl MetricsArgs {
    /// The layer serving `io`'s metrics as the flags say (passing every
    /// request on with `--no-metrics`).
    pub(crate) fn layer(&self, io: &SocketIo) -> anyhow::Result<MetricsLayer> {
        anyhow::ensure!(
            self.metrics_path.starts_with('/'),
            "--metrics-path {:?} must start with /",
            self.metrics_path
        );
        let layer = MetricsLayer::new(io.clone(), self.metrics_path.as_str());
        Ok(layer.enabled(!self.no_metrics))
    }
}
