//! `wirehub`: the standalone real-time hub and its command line.
//!
//! - `wirehub serve`: the Socket.IO server with the built-in chat demo.
//! - `wirehub connect` / `emit` / `listen`: a Socket.IO client on the command line.

mod cli;
mod demo;
mod hub;
mod serve;
mod sockjs_args;

use clap::{Parser, Subcommand};

/// wirehub: a real-time hub speaking Socket.IO v5 / Engine.IO v4.
#[derive(Debug, Parser)]
#[command(name = "wirehub", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server, with the chat demo at `/`.
    Serve(Box<serve::ServeArgs>),
    /// Connect, print received events as JSON lines, send commands from stdin.
    Connect(cli::connect::ConnectArgs),
    /// Emit one event (optionally waiting for its ack), then exit.
    Emit(cli::emit::EmitArgs),
    /// Stream received events as JSON lines.
    Listen(cli::listen::ListenArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WIREHUB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(*args)),
        Command::Connect(args) => runtime.block_on(cli::connect::run(args)),
        Command::Emit(args) => runtime.block_on(cli::emit::run(args)),
        Command::Listen(args) => runtime.block_on(cli::listen::run(args)),
    }
}
