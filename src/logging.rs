//! Logging flags (`--log-format`, `--log-level`) and the `tracing`
//! subscriber they set up: text or JSON lines on stderr, colours only
//! when stderr is a terminal.
//!
//! Precedence of the filter: `WIREHUB_LOG`, else `RUST_LOG` (full
//! `tracing` filter directives such as `wirehub_server=debug,info`), when
//! set and valid; else `--log-level` (env `WIREHUB_LOG_LEVEL`).

use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line: timestamp, level, target and the event's
    /// `tracing` fields.
    Json,
}

/// `[log]`: the logging flags of `wirehub serve`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Logging")]
pub(crate) struct LogArgs {
    /// Log line format on stderr: `text`, or `json` (one JSON object per
    /// line with the `tracing` fields).
    #[arg(long, env = "WIREHUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
    /// Least severe level logged: `error`, `warn`, `info`, `debug`,
    /// `trace` or `off`. A filter in `WIREHUB_LOG` or `RUST_LOG` wins over it.
    #[arg(long, env = "WIREHUB_LOG_LEVEL", default_value_t = LevelFilter::INFO)]
    pub(crate) log_level: LevelFilter,
}

impl Default for LogArgs {
    fn default() -> Self {
        LogArgs {
            log_format: LogFormat::Text,
            log_level: LevelFilter::INFO,
        }
    }
}

/// Installs the global subscriber `args` describe.
pub(crate) fn init(args: &LogArgs) {
    let filter = EnvFilter::try_from_env("WIREHUB_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::default().add_directive(args.log_level.into()));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
