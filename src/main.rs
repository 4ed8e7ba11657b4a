//! `wirehub`: the standalone real-time hub and its command line.
//!
//! - `wirehub serve`: the Socket.IO server with the built-in chat demo.
//! - `wirehub connect` / `emit` / `listen`: a Socket.IO client on the command line.
//! - `wirehub config check` / `example`: the configuration file (`config_file`).

mod auth;
mod cli;
mod config_file;
mod demo;
mod hub;
mod logging;
mod metrics_args;
mod serve;
mod sockjs_args;
mod tls_args;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

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
    /// The configuration file of `wirehub serve --config`.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the configuration `wirehub serve --config FILE` would run with
    /// (the file, environment variables over it, defaults elsewhere) and
    /// exit 0; or name the offending key (or the line of a syntax error)
    /// and exit 1.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
    /// Print a configuration file with every setting at its default, each
    /// under its description.
    Example,
}

/// The command line; with `serve --config FILE`, the file's settings are
/// taken for every flag given neither on the command line nor in the
/// environment.
fn parse_command_line() -> anyhow::Result<Cli> {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    let command = Cli::command();
    let mut matches = command.clone().get_matches_from(&argv);
    if let Some(("serve", serve)) = matches.subcommand() {
        if let Some(path) = serve.get_one::<PathBuf>("config") {
            let file = config_file::flags_from_file(&command, path, serve)?;
            argv.extend(file.flags);
            matches = command.get_matches_from(&argv);
        }
    }
    Ok(Cli::from_arg_matches(&matches)?)
}

fn main() -> anyhow::Result<()> {
    let cli = parse_command_line()?;
    match cli.command {
        Command::Config(command) => config(&command),
        Command::Serve(args) => runtime(&args.log)?.block_on(serve::run(*args)),
        Command::Connect(args) => runtime(&Default::default())?.block_on(cli::connect::run(args)),
        Command::Emit(args) => runtime(&Default::default())?.block_on(cli::emit::run(args)),
        Command::Listen(args) => runtime(&Default::default())?.block_on(cli::listen::run(args)),
    }
}

/// `wirehub config ...`: prints to stdout, no runtime needed.
fn config(command: &ConfigCommand) -> anyhow::Result<()> {
    let text = match command {
        ConfigCommand::Check { file } => config_file::check(&Cli::command(), file)?,
        ConfigCommand::Example => config_file::example(&Cli::command()),
    };
    print!("{text}");
    Ok(())
}

/// Logs to stderr as `log` says, and the runtime the networked commands
/// run on.
fn runtime(log: &logging::LogArgs) -> anyhow::Result<tokio::runtime::Runtime> {
    logging::init(log);
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
