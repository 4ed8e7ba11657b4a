//! The "Auth" flags of `wirehub serve`: JWT verification at the handshake
//! of every transport (see `wirehub_server::auth`).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use wirehub_server::auth::JwtVerifier;

/// `[auth]`: JWT flags; with neither a secret nor a public key, no token
/// is checked.
#[derive(Debug, Args)]
#[command(next_help_heading = "Auth")]
pub(crate) struct AuthArgs {
    /// Require a JSON Web Token signed with HS256 and this secret at every
    /// handshake (Socket.IO `auth: { token }`; `Authorization: Bearer` or
    /// `?token=` on /ws, /sse, /stream, /poll and SockJS; `token` of the TCP / UDP
    /// `connect` envelope).
    #[arg(
        long,
        env = "WIREHUB_JWT_SECRET",
        hide_env_values = true,
        conflicts_with = "jwt_public_key"
    )]
    jwt_secret: Option<String>,
    /// Require a JSON Web Token signed with RS256 or ES256, verified with
    /// the public key in this PEM file.
    #[arg(long, env = "WIREHUB_JWT_PUBLIC_KEY", value_name = "PEM-FILE")]
    jwt_public_key: Option<PathBuf>,
    /// Accept only tokens whose `iss` claim is this issuer.
    #[arg(long, env = "WIREHUB_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Accept only tokens whose `aud` claim names this audience.
    #[arg(long, env = "WIREHUB_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// Seconds of clock skew allowed on the `exp` (required) and `nbf` claims.
    #[arg(long, env = "WIREHUB_JWT_LEEWAY", default_value_t = 30)]
    jwt_leeway: u64,
}

impl AuthArgs {
    /// The verifier these flags ask for, if any.
    pub(crate) fn verifier(&self) -> anyhow::Result<Option<JwtVerifier>> {
        let verifier = match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(secret), _) if !secret.is_empty() => JwtVerifier::hs256(secret),
            (_, Some(path)) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("--jwt-public-key {}", path.display()))?;
                JwtVerifier::public_key_pem(&pem)
                    .with_context(|| format!("--jwt-public-key {}", path.display()))?
            }
            _ => {
                anyhow::ensure!(
                    self.jwt_issuer.is_none() && self.jwt_audience.is_none(),
                    "--jwt-issuer and --jwt-audience need --jwt-secret or --jwt-public-key"
                );
                return Ok(None);
            }
        };
        let mut verifier = verifier.leeway(Duration::from_secs(self.jwt_leeway));
        if let Some(issuer) = &self.jwt_issuer {
            verifier = verifier.issuer(issuer);
        }
        if let Some(audience) = &self.jwt_audience {
            verifier = verifier.audience(audience);
        }
        Ok(Some(verifier))
    }
}
