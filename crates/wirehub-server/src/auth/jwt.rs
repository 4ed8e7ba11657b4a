//! [`JwtVerifier`]: checks a JSON Web Token's signature and its `exp`
//! (required), and optionally `iss` and `aud`, with a small leeway for
//! clock skew. HS256 with a shared secret, or RS256 / ES256 with a public
//! key in PEM. The `jsonwebtoken` crate does the work; its types stay
//! inside this file.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::time::Duration;

/// Default allowance for clock skew on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Why a token was refused. The display text is what the client is told
/// (a CONNECT_ERROR message, a 401 body, a gateway error line); it never
/// contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// No token was presented: the client must send one.
    #[error("missing token")]
    Missing,
    /// Not a JWT (bad base64, bad JSON, wrong shape): the client sent garbage.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match the key (or the algorithm is not the
    /// one this server accepts): the token was not issued for this server.
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` is past (beyond the leeway): the client must get a fresh token.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway): retry later.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the issuer this server accepts.
    #[error("token issuer not accepted")]
    WrongIssuer,
    /// `aud` does not name this server's audience.
    #[error("token audience not accepted")]
    WrongAudience,
    /// A required claim (`exp`, or `iss` / `aud` when configured) is absent.
    #[error("token lacks the {0} claim")]
    MissingClaim(String),
}

impl From<jsonwebtoken::errors::Error> for JwtError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        match e.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => JwtError::BadSignature,
            ErrorKind::ExpiredSignature => JwtError::Expired,
            ErrorKind::ImmatureSignature => JwtError::NotYetValid,
            ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
            ErrorKind::InvalidAudience => JwtError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim(claim.clone()),
            _ => JwtError::Malformed,
        }
    }
}

/// Why a public key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtKeyError {
    /// The PEM holds neither an RSA nor an EC (P-256 / P-384) public key.
    #[error("not an RSA or EC public key in PEM")]
    NotAPublicKey,
}

/// Verifies the tokens clients present at the handshake. Build one with
/// [`JwtVerifier::hs256`] or [`JwtVerifier::public_key_pem`], then narrow it
/// with [`issuer`](Self::issuer), [`audience`](Self::audience) and
/// [`leeway`](Self::leeway).
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of debug output.
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .field("leeway", &self.validation.leeway)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Tokens signed with HS256 and this shared secret.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Self {
        Self::new(DecodingKey::from_secret(secret.as_ref()), Algorithm::HS256)
    }

    /// Tokens signed with the private half of this public key: RS256 for an
    /// RSA key, ES256 for a P-256 key, ES384 for a P-384 key (PEM,
    /// `BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub fn public_key_pem(pem: &[u8]) -> Result<Self, JwtKeyError> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(Self::new(key, Algorithm::RS256));
        }
        let key = DecodingKey::from_ec_pem(pem).map_err(|_| JwtKeyError::NotAPublicKey)?;
        let mut verifier = Self::new(key, Algorithm::ES256);
        verifier.validation.algorithms = vec![Algorithm::ES256, Algorithm::ES384];
        Ok(verifier)
    }

    fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = DEFAULT_LEEWAY.as_secs();
        validation.validate_nbf = true;
        // No audience configured: a token naming one is still accepted.
        validation.validate_aud = false;
        JwtVerifier { key, validation }
    }

    /// Accepts only tokens whose `iss` is `issuer` (then required).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.validation.set_issuer(&[issuer.into()]);
        self.validation.required_spec_claims.insert("iss".into());
        self
    }

    /// Accepts only tokens whose `aud` names `audience` (then required).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.validation.set_audience(&[audience.into()]);
        self.validation.validate_aud = true;
        self.validation.required_spec_claims.insert("aud".into());
        self
    }

    /// Sets the allowance for clock skew on `exp` and `nbf` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// The token's claims if it is valid, else why not. A `Bearer ` prefix
    /// is ignored.
    pub fn verify(&self, token: &str) -> Result<serde_json::Value, JwtError> {
        let token = strip_bearer(token.trim());
        if token.is_empty() {
            return Err(JwtError::Missing);
        }
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation)?;
        Ok(data.claims)
    }
}

fn strip_bearer(token: &str) -> &str {
    match token.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn hs(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn hs256_accepts_and_refuses() {
        let v = JwtVerifier::hs256("s3cret");
        let ok = hs(json!({ "sub": "ann", "exp": now() + 60 }), "s3cret");
        assert_eq!(v.verify(&ok).unwrap()["sub"], "ann");
        assert_eq!(v.verify(&format!("Bearer {ok}")).unwrap()["sub"], "ann");
        let forged = hs(json!({ "sub": "ann", "exp": now() + 60 }), "other");
        assert_eq!(v.verify(&forged), Err(JwtError::BadSignature));
        let old = hs(json!({ "sub": "ann", "exp": now() - 3600 }), "s3cret");
        assert_eq!(v.verify(&old), Err(JwtError::Expired));
        let no_exp = hs(json!({ "sub": "ann" }), "s3cret");
        assert_eq!(v.verify(&no_exp), Err(JwtError::MissingClaim("exp".into())));
        assert_eq!(v.verify(""), Err(JwtError::Missing));
        assert_eq!(v.verify("a.b.c"), Err(JwtError::Malformed));
        let early = hs(
            json!({ "exp": now() + 7200, "nbf": now() + 3600 }),
            "s3cret",
        );
        assert_eq!(v.verify(&early), Err(JwtError::NotYetValid));
    }

    #[test]
    fn leeway_covers_small_skew() {
        let v = JwtVerifier::hs256("k");
        let just = hs(json!({ "exp": now() - 5 }), "k");
        assert!(v.verify(&just).is_ok());
        let strict = v.leeway(Duration::ZERO);
        assert_eq!(strict.verify(&just), Err(JwtError::Expired));
    }

    #[test]
    fn issuer_and_audience_when_configured() {
        let v = JwtVerifier::hs256("k")
            .issuer("auth.example")
            .audience("wirehub");
        let exp = now() + 60;
        let good = hs(
            json!({ "exp": exp, "iss": "auth.example", "aud": "wirehub" }),
            "k",
        );
        assert!(v.verify(&good).is_ok());
        let iss = hs(json!({ "exp": exp, "iss": "evil", "aud": "wirehub" }), "k");
        assert_eq!(v.verify(&iss), Err(JwtError::WrongIssuer));
        let aud = hs(
            json!({ "exp": exp, "iss": "auth.example", "aud": "x" }),
            "k",
        );
        assert_eq!(v.verify(&aud), Err(JwtError::WrongAudience));
        let none = hs(json!({ "exp": exp }), "k");
        assert!(matches!(v.verify(&none), Err(JwtError::MissingClaim(_))));
        // Without an audience configured, a token naming one is accepted.
        let any = JwtVerifier::hs256("k");
        assert!(any.verify(&aud).is_ok());
    }

    #[test]
    fn a_bad_pem_is_refused() {
        assert!(JwtVerifier::public_key_pem(b"not a key").is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let text = format!("{:?}", JwtVerifier::hs256("do-not-print"));
        assert!(!text.contains("do-not-print"), "{text}");
    }
}
