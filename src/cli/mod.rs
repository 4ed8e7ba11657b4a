//! The client subcommands: `wirehub connect`, `wirehub emit`, `wirehub listen`.
//!
//! - [`ClientArgs`]: the options they share (URL, namespace, auth,
//!   transport, headers, path, parser, CA file), turned into a `ClientBuilder`.
//! - `json`: event arguments to and from JSON lines (binary as `{"$binary": base64}`).
//! - `output`: one JSON object per stdout line; one error line on stderr.
//! - `connect` / `emit` / `listen`: the subcommands.

mod commands;
pub(crate) mod connect;
pub(crate) mod emit;
mod json;
pub(crate) mod listen;
mod output;

use anyhow::Context;
use clap::Args;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirehub_client::{ClientBuilder, Parser, Transport};

/// Exit status when the connection could not be made or was refused.
const EXIT_CONNECT: i32 = 1;

/// Options shared by the client subcommands.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// Server URL: http://, https://, ws:// or wss://, e.g. http://127.0.0.1:3000;
    /// a path names the namespace (http://host:3000/chat), as in the official client.
    url: String,
    /// Namespace to join [default: the URL's path, else /].
    #[arg(long)]
    ns: Option<String>,
    /// Auth payload sent when joining the namespace: a JSON object.
    #[arg(long)]
    auth: Option<String>,
    /// Transport: `ws` (WebSocket), `polling`, or `auto` (polling, then upgrade).
    #[arg(long, default_value = "auto")]
    transport: String,
    /// Extra HTTP header `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Path of the Socket.IO endpoint on the server.
    #[arg(long, default_value = "/socket.io/")]
    path: String,
    /// Milliseconds connecting may take.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    connect_timeout: u64,
    /// Socket.IO packet encoding: `json` or `msgpack` (socket.io-msgpack-parser);
    /// it must match the server's.
    #[arg(long, default_value = "json")]
    parser: Parser,
    /// PEM file of CA certificates to trust for https:// and wss://, besides
    /// the built-in (Mozilla) roots: a private CA or a self-signed server.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

impl ClientArgs {
    /// A client builder with these options.
    fn builder(&self) -> anyhow::Result<ClientBuilder> {
        let transport = Transport::parse(&self.transport).with_context(|| {
            format!("unknown transport {:?} (ws, polling, auto)", self.transport)
        })?;
        let mut builder = ClientBuilder::new(&self.url)
            .transport(transport)
            .path(&self.path)
            .connect_timeout(Duration::from_millis(self.connect_timeout))
            .parser(self.parser);
        if let Some(ns) = &self.ns {
            builder = builder.namespace(ns);
        }
        if let Some(auth) = &self.auth {
            let auth: serde_json::Value =
                serde_json::from_str(auth).context("--auth is not valid JSON")?;
            builder = builder.auth(&auth);
        }
        if let Some(path) = &self.ca {
            for der in ca_certificates(path)? {
                builder = builder.add_root_certificate(der);
            }
        }
        for header in &self.headers {
            let (name, value) = header
                .split_once(':')
                .with_context(|| format!("--header {header:?} is not NAME:VALUE"))?;
            builder = builder.header(name.trim(), value.trim());
        }
        Ok(builder)
    }
}

/// The DER certificates of a PEM file (at least one).
fn ca_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let pem =
        std::fs::read(path).with_context(|| format!("--ca: cannot read {}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .map(|der| der.map(|der| der.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--ca: {} is not valid PEM", path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "--ca: {} holds no certificate",
        path.display()
    );
    Ok(certs)
}

/// Prints `error` as one line on stderr and exits with `code`.
fn fail(error: impl std::fmt::Display, code: i32) -> ! {
    output::flush();
    eprintln!("wirehub: {error}");
    std::process::exit(code)
}

/// The one line describing a client error (with a CONNECT_ERROR's data).
fn describe(error: &wirehub_client::Error) -> String {
    match error {
        wirehub_client::Error::ConnectRefused {
            data: Some(data), ..
        } => format!("{error} (data: {data})"),
        _ => error.to_string(),
    }
}
