//! [`AdminOptions`]: what the admin UI serves and to whom, as Node's
//! `instrument(io, { auth, readonly, namespaceName, serverId, mode })`.

use std::fmt;
use std::time::Duration;

/// Why admin UI settings were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// Credentials must be written `USER:PASSWORD`, neither part empty.
    #[error("admin credentials must be USER:PASSWORD (neither empty)")]
    BadCredentials,
}

/// The username and password the dashboard must send.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Parses `USER:PASSWORD` (the password may contain `:`).
    pub fn parse(s: &str) -> Result<Self, AdminError> {
        match s.split_once(':') {
            Some((user, pass)) if !user.is_empty() && !pass.is_empty() => {
                Ok(Credentials::new(user, pass))
            }
            _ => Err(AdminError::BadCredentials),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// What the dashboard is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminMode {
    /// Every connection, room change and event, as it happens (Node's
    /// default, `NODE_ENV=development`): the sockets, rooms and events pages.
    #[default]
    Development,
    /// Only the periodic server stats (Node's `mode: "production"`).
    Production,
}

/// Admin UI settings.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// The namespace the dashboard connects to (default `/admin`).
    pub namespace: String,
    /// The credentials required; `None` lets anyone in.
    pub auth: Option<Credentials>,
    /// Refuses the dashboard's operations (join, leave, disconnect, emit).
    pub readonly: bool,
    /// The server's name in the dashboard (default: the host name).
    pub server_id: Option<String>,
    /// What is sent (default [`AdminMode::Development`]).
    pub mode: AdminMode,
    /// How often `server_stats` is sent (default 2 s, as Node).
    pub stats_interval: Duration,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            namespace: "/admin".into(),
            auth: None,
            readonly: false,
            server_id: None,
            mode: AdminMode::Development,
            stats_interval: Duration::from_secs(2),
        }
    }
}

impl AdminOptions {
    /// Default options requiring `auth` (or none).
    pub fn with_auth(auth: Option<Credentials>) -> Self {
        AdminOptions {
            auth,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credentials() {
        let c = Credentials::parse("admin:s:e:cret").unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("admin", "s:e:cret")
        );
        assert!(Credentials::parse("admin").is_err());
        assert!(Credentials::parse(":x").is_err());
        assert!(Credentials::parse("x:").is_err());
        assert!(!format!("{c:?}").contains("cret"));
    }
}
