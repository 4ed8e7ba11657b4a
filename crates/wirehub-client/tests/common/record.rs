//! Records what a socket receives into a channel the test reads with a
//! timeout: server events by name, and lifecycle events as `connect`,
//! `connect_error`, `disconnect` (with the reason as argument).

use super::WAIT;
use serde_json::Value;
use tokio::sync::mpsc;
use wirehub_client::Args;
use wirehub_client::{ClientBuilder, DisconnectReason, Error, Event, RawArgs, SocketBuilder};

/// One received event.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) name: String,
    pub(crate) args: Args,
}

impl Received {
    /// The arguments as one JSON array (binary attachments as placeholders).
    pub(crate) fn json(&self) -> Value {
        let raw: Vec<Value> = self
            .args
            .raw()
            .iter()
            .map(|r| serde_json::from_str(r).unwrap_or(Value::Null))
            .collect();
        Value::Array(raw)
    }
}

/// The reading end.
pub(crate) struct Recorder {
    rx: mpsc::UnboundedReceiver<Received>,
}

/// The handlers' end.
#[derive(Clone)]
pub(crate) struct Tap(mpsc::UnboundedSender<Received>);

impl Tap {
    /// Records a named event without arguments.
    pub(crate) fn push_public(&self, name: &str) {
        self.push(name, Args::empty());
    }

    fn push(&self, name: &str, args: Args) {
        let _ = self.0.send(Received {
            name: name.to_owned(),
            args,
        });
    }
}

pub(crate) fn recorder() -> (Tap, Recorder) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Tap(tx), Recorder { rx })
}

fn reason_args(reason: DisconnectReason) -> Args {
    Args::one(reason.as_str()).expect("args")
}

/// Records everything a client builder's socket receives.
pub(crate) fn tap_client(builder: ClientBuilder, tap: &Tap) -> ClientBuilder {
    let (a, c, e, d) = (tap.clone(), tap.clone(), tap.clone(), tap.clone());
    builder
        .on_any(move |Event(name): Event, RawArgs(args): RawArgs| {
            a.push(&name, args);
            async {}
        })
        .on_connect(move || {
            c.push("connect", Args::empty());
            async {}
        })
        .on_connect_error(move |err: Error| {
            e.push("connect_error", Args::one(&err.to_string()).expect("args"));
            async {}
        })
        .on_disconnect(move |reason: DisconnectReason| {
            d.push("disconnect", reason_args(reason));
            async {}
        })
}

/// Records everything a socket builder's socket receives.
pub(crate) fn tap_socket(builder: SocketBuilder, tap: &Tap) -> SocketBuilder {
    let (a, c, d) = (tap.clone(), tap.clone(), tap.clone());
    builder
        .on_any(move |Event(name): Event, RawArgs(args): RawArgs| {
            a.push(&name, args);
            async {}
        })
        .on_connect(move || {
            c.push("connect", Args::empty());
            async {}
        })
        .on_disconnect(move |reason: DisconnectReason| {
            d.push("disconnect", reason_args(reason));
            async {}
        })
}

impl Recorder {
    /// The next event called `name` (others are skipped), within [`WAIT`].
    pub(crate) async fn expect(&mut self, name: &str) -> Received {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(r)) if r.name == name => return r,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("recorder closed while waiting for {name:?}"),
                Err(_) => panic!("no {name:?} event within {WAIT:?}"),
            }
        }
    }

    /// The next event, whatever its name, within [`WAIT`].
    pub(crate) async fn next(&mut self) -> Received {
        match tokio::time::timeout(WAIT, self.rx.recv()).await {
            Ok(Some(r)) => r,
            Ok(None) => panic!("recorder closed while waiting for an event"),
            Err(_) => panic!("no event within {WAIT:?}"),
        }
    }

    /// The disconnect reason of the next `disconnect` event.
    pub(crate) async fn expect_disconnect(&mut self) -> String {
        let r = self.expect("disconnect").await;
        r.args.get::<String>(0).expect("reason")
    }

    /// Whether an event called `name` arrives within `within`.
    pub(crate) async fn sees(&mut self, name: &str, within: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(r)) if r.name == name => return true,
                Ok(Some(_)) => continue,
                _ => return false,
            }
        }
    }
}
