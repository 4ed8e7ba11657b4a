//! Load generator of the wirehub benchmark (see `bench/README.md`).
//!
//! One client implementation for every server under test: it speaks Engine.IO
//! v4 / Socket.IO v5 itself, over WebSocket (tokio-tungstenite) and over HTTP
//! long-polling (a minimal HTTP/1.1 client), on a single-threaded tokio
//! runtime so that it occupies exactly the core it is pinned to.
//!
//! Each scenario subcommand prints one JSON object (one line) on stdout with
//! its figures and the CPU/memory samples taken from `/proc` at the exact
//! start and end of its measurement window; progress goes to stderr.
//! `report` turns the collected lines into Markdown, SVG and JSON.

mod http;
mod procfs;
mod report;
mod scenarios;
mod stats;
mod ws;

use clap::{Args, Parser, Subcommand};

/// Socket.IO benchmark load generator.
#[derive(Parser, Debug)]
#[command(name = "loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Closed-loop `message-with-ack` round-trips.
    Echo(scenarios::echo::Opts),
    /// Clients join one room; a publisher emits `to-room` at a fixed rate.
    Fanout(scenarios::fanout::Opts),
    /// Fan-out measured twice: as is, then with one client in the room that stopped reading.
    Stalled(scenarios::stalled::Opts),
    /// Cross-node fan-out: receivers on two clustered servers, a publisher on one.
    Cluster(scenarios::cluster::Opts),
    /// Full WebSocket + Socket.IO connects, then disconnects, in closed loops.
    Handshake(scenarios::handshake::Opts),
    /// Many idle connections (answering pings): server RSS per connection.
    Idle(scenarios::idle::Opts),
    /// HTTP long-polling clients receiving a `broadcast` stream.
    Polling(scenarios::polling::Opts),
    /// Soak: many clients, broadcasts, acks and abrupt drops with connection-state recovery.
    Soak(scenarios::soak::Opts),
    /// Waits until a server answers an Engine.IO polling handshake.
    Wait(scenarios::WaitOpts),
    /// Waits (bounded) until the machine is idle.
    Quiet(scenarios::QuietOpts),
    /// Builds the Markdown table, SVG chart and JSON summary from raw results.
    Report(report::Opts),
}

/// Options shared by every scenario.
#[derive(Args, Debug, Clone)]
pub(crate) struct Common {
    /// Server port on 127.0.0.1.
    #[arg(long, env = "PORT")]
    port: u16,
    /// PID of the server process, sampled in /proc (CPU time, RSS).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Name of the server under test, copied into the result.
    #[arg(long, default_value = "unknown")]
    server: String,
    /// Repetition number, copied into the result.
    #[arg(long, default_value_t = 1)]
    rep: u32,
    /// Spread client sockets over this many source addresses 127.0.0.2.. (0: let the kernel pick).
    #[arg(long, default_value_t = 0)]
    src_ips: u8,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&rt, async move {
        match cli.command {
            Command::Echo(o) => scenarios::echo::run(o).await,
            Command::Fanout(o) => scenarios::fanout::run(o).await,
            Command::Stalled(o) => scenarios::stalled::run(o).await,
            Command::Cluster(o) => scenarios::cluster::run(o).await,
            Command::Handshake(o) => scenarios::handshake::run(o).await,
            Command::Idle(o) => scenarios::idle::run(o).await,
            Command::Polling(o) => scenarios::polling::run(o).await,
            Command::Soak(o) => scenarios::soak::run(o).await,
            Command::Wait(o) => scenarios::wait(o).await,
            Command::Quiet(o) => scenarios::quiet(o).await,
            Command::Report(o) => report::run(o),
        }
    });
    // Exit without tearing down the (possibly many thousand) connection tasks.
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("loadgen: error: {e}");
            1
        }
    };
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// Error type of the generator: any error, with a message.
pub(crate) type Error = Box<dyn std::error::Error>;
/// Result alias of the generator.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
