//! Authentication at the handshake, the same on every transport.
//!
//! With a [`JwtVerifier`] set on the builder
//! ([`crate::SocketIoBuilder::jwt`]), every connection presents a JSON Web
//! Token before it joins a namespace:
//!
//! | transport | where the token is | refusal |
//! |---|---|---|
//! | Socket.IO | `auth: { token }` of the namespace CONNECT (2.x clients: the `token` query parameter) | CONNECT_ERROR `{ "message": … }` |
//! | `/ws`, `/sse`, `/stream`, `/poll` | `Authorization: Bearer …` or `?token=` | 401 `{"error":{"code":"unauthorized",…}}` |
//! | TCP, UDP | `token` of the first (`connect`) envelope | one `unauthorized` error line / datagram, then closed |
//!
//! `POST /send` keeps its session token (from the hello of a stream that
//! was admitted), and the HTTP API its API key. The admin UI's namespace
//! is exempt: it has its own credentials (`AdminOptions`).
//!
//! The verified claims are kept once per socket and reach handlers through
//! the [`crate::io::Claims`] extractor. Tokens are never logged.

mod jwt;

pub use jwt::{JwtError, JwtKeyError, JwtVerifier, DEFAULT_LEEWAY};

use std::sync::Arc;
use wirehub_proto::Str;

/// A socket's verified claims, shared (never copied per message).
#[derive(Debug, Clone)]
pub(crate) struct VerifiedClaims(pub(crate) Arc<serde_json::Value>);

/// The server's check: its verifier, and the namespace it leaves alone.
#[derive(Debug)]
pub(crate) struct Gate {
    verifier: JwtVerifier,
    /// The admin UI's namespace, which has its own credentials.
    exempt: Option<Str>,
}

impl Gate {
    pub(crate) fn new(verifier: JwtVerifier, exempt: Option<Str>) -> Self {
        Gate { verifier, exempt }
    }

    /// Checks the token a plain client presented (`None`: it sent none).
    pub(crate) fn check(&self, token: Option<&str>) -> Result<VerifiedClaims, JwtError> {
        let claims = self.verifier.verify(token.ok_or(JwtError::Missing)?)?;
        Ok(VerifiedClaims(Arc::new(claims)))
    }

    /// Checks the `token` of a Socket.IO CONNECT's auth payload; `Ok(None)`
    /// for the exempt namespace.
    pub(crate) fn check_connect(
        &self,
        ns: &str,
        auth: Option<&Str>,
    ) -> Result<Option<VerifiedClaims>, JwtError> {
        if self.exempt.as_deref() == Some(ns) {
            return Ok(None);
        }
        self.check(auth_token(auth)?.as_deref()).map(Some)
    }
}

/// The `token` string of an auth payload (`None` if absent).
fn auth_token(auth: Option<&Str>) -> Result<Option<String>, JwtError> {
    #[derive(serde::Deserialize)]
    struct Auth {
        token: Option<String>,
    }
    let Some(auth) = auth else { return Ok(None) };
    match serde_json::from_str::<Auth>(auth) {
        Ok(auth) => Ok(auth.token),
        // `auth` is an object (the decoder checks): `token` is no string.
        Err(_) => Err(JwtError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_payload_carries_the_token() {
        let auth = |s: &'static str| Some(Str::from_static(s));
        assert_eq!(
            auth_token(auth(r#"{"token":"a.b.c"}"#).as_ref()),
            Ok(Some("a.b.c".into()))
        );
        assert_eq!(auth_token(auth(r#"{"other":1}"#).as_ref()), Ok(None));
        assert_eq!(auth_token(None), Ok(None));
        assert_eq!(
            auth_token(auth(r#"{"token":5}"#).as_ref()),
            Err(JwtError::Malformed)
        );
        let gate = Gate::new(JwtVerifier::hs256("k"), Some(Str::from_static("/admin")));
        assert_eq!(
            gate.check_connect("/admin", None).map(|c| c.is_none()),
            Ok(true)
        );
        assert_eq!(gate.check_connect("/", None).err(), Some(JwtError::Missing));
    }
}
