//! The admin namespace's credential check, as Node's basic auth: a CONNECT
//! whose auth holds the right `{username, password}` is let in and given a
//! session id (sent as a `session` event); a later CONNECT with
//! `{sessionId}` is let in on that id. Anything else is refused with
//! "invalid credentials", the message the dashboard recognises.
//!
//! Node compares against a bcrypt hash; here the password is the plain one
//! given at start-up, compared in constant time.

use super::options::Credentials;
use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::Mutex;
use wirehub_proto::Str;

/// The refusal the dashboard shows as "invalid credentials".
pub(crate) const INVALID: &str = "invalid credentials";

/// Session ids kept (oldest forgotten first).
const MAX_SESSIONS: usize = 1024;

/// What a dashboard sends in its CONNECT auth.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Presented {
    session_id: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The outcome of a credential check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let in on a known session id, or with no auth required.
    Known,
    /// Let in on credentials: a new session id to hand to the dashboard.
    NewSession(Str),
    /// Refused.
    Refused,
}

/// The credentials and the sessions handed out.
#[derive(Debug)]
pub(crate) struct Gate {
    credentials: Option<Credentials>,
    sessions: Mutex<VecDeque<Str>>,
}

impl Gate {
    pub(crate) fn new(credentials: Option<Credentials>) -> Self {
        Gate {
            credentials,
            sessions: Mutex::default(),
        }
    }

    /// Checks a CONNECT's auth payload (JSON).
    pub(crate) fn check(&self, auth: &str) -> Verdict {
        let Some(expected) = &self.credentials else {
            return Verdict::Known;
        };
        let presented: Presented = serde_json::from_str(auth).unwrap_or_default();
        if let Some(id) = &presented.session_id {
            if lock(&self.sessions).iter().any(|s| &**s == id.as_str()) {
                return Verdict::Known;
            }
        }
        let user = presented.username.unwrap_or_default();
        let pass = presented.password.unwrap_or_default();
        // Both compared, whatever the first gives, so that timing tells nothing.
        let user_ok = constant_time_eq(user.as_bytes(), expected.username.as_bytes());
        let pass_ok = constant_time_eq(pass.as_bytes(), expected.password.as_bytes());
        if !(user_ok & pass_ok) {
            return Verdict::Refused;
        }
        let id = crate::engine::random_id();
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= MAX_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back(id.clone());
        Verdict::NewSession(id)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        diff |= usize::from(x.unwrap_or(0) ^ y.unwrap_or(0));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_in_full() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn checks_credentials_then_sessions() {
        let gate = Gate::new(Some(Credentials::new("admin", "pw")));
        assert_eq!(
            gate.check(r#"{"username":"admin","password":"no"}"#),
            Verdict::Refused
        );
        assert_eq!(gate.check("{}"), Verdict::Refused);
        assert_eq!(gate.check(r#"{"sessionId":"made-up"}"#), Verdict::Refused);
        let Verdict::NewSession(id) = gate.check(r#"{"username":"admin","password":"pw"}"#) else {
            panic!("right credentials refused");
        };
        let again = format!(r#"{{"sessionId":"{id}"}}"#);
        assert_eq!(gate.check(&again), Verdict::Known);
        assert_eq!(Gate::new(None).check("{}"), Verdict::Known);
    }
}
