//! Connection-state recovery across nodes. A dropped socket's session is
//! kept in this node's memory and in the cluster engine's key-value store
//! (Redis) under `<key>:session:<pid>`, for the recovery window, so that
//! whichever node the client comes back to can restore it; taking it
//! deletes it (`GETDEL`), so it is restored at most once in the cluster.
//!
//! The packets a session missed come from the replay log of the node it
//! comes back to: every node logs every replayable broadcast of the
//! cluster, under the cluster-wide offset it travels with (the originating
//! node publishes socket emits too when recovery is on, as Node does). A
//! node that started after the client dropped does not hold the client's
//! offset, so it gives a fresh session rather than one with a gap.

use super::driver::Driver;
use crate::io::adapter::restore_locally;
use crate::io::recovery::{RestoredSession, SessionState};
use crate::io::{AdapterError, LocalAdapter};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use wirehub_proto::Str;

/// A session as it is stored in the engine (JSON).
#[derive(Serialize, Deserialize)]
struct StoredSession {
    sid: String,
    pid: String,
    rooms: Vec<String>,
    data: serde_json::Value,
}

impl From<&SessionState> for StoredSession {
    fn from(s: &SessionState) -> Self {
        StoredSession {
            sid: s.sid.to_string(),
            pid: s.pid.to_string(),
            rooms: s.rooms.iter().map(|r| r.to_string()).collect(),
            data: s.data.clone(),
        }
    }
}

impl From<StoredSession> for SessionState {
    fn from(s: StoredSession) -> Self {
        SessionState {
            sid: s.sid.into(),
            pid: s.pid.into(),
            rooms: s.rooms.into_iter().map(Str::from).collect(),
            data: s.data,
        }
    }
}

/// Where a cluster adapter keeps recovery sessions.
pub(crate) struct Sessions {
    driver: Arc<dyn Driver>,
    /// `<key>:session:`
    prefix: String,
}

impl Sessions {
    /// Sessions kept through `driver` under the adapter key `key`.
    pub(crate) fn new(driver: Arc<dyn Driver>, key: &str) -> Self {
        Sessions {
            driver,
            prefix: format!("{key}:session:"),
        }
    }

    fn key(&self, pid: &str) -> String {
        format!("{}{pid}", self.prefix)
    }

    /// Keeps a dropped socket's session here and in the engine.
    pub(crate) fn persist(&self, local: &LocalAdapter, session: SessionState) {
        let Some(store) = local.emitter().recovery() else {
            return;
        };
        let value = match serde_json::to_vec(&StoredSession::from(&session)) {
            Ok(v) => Bytes::from(v),
            Err(_) => return,
        };
        let stored = self
            .driver
            .store(self.key(&session.pid), value, store.config().window);
        store.persist(session);
        spawn_logged(stored, "recovery session not stored in the cluster");
    }

    /// Restores a session: from this node's memory if it dropped here,
    /// else from the engine, with what it missed from this node's log.
    pub(crate) fn restore(
        &self,
        local: &LocalAdapter,
        pid: Str,
        token: Str,
    ) -> BoxFuture<'static, Result<Option<RestoredSession>, AdapterError>> {
        let taken = self.driver.take(self.key(&pid));
        if let Some(found) = restore_locally(local, &pid, &token) {
            spawn_logged(
                async move { taken.await.map(drop) },
                "recovery session left in the cluster",
            );
            return Box::pin(async move { Ok(Some(found)) });
        }
        let store = local.emitter().recovery();
        let offset = local.parse_offset(&token);
        Box::pin(async move {
            let (Some(store), Some(offset)) = (store, offset) else {
                return Ok(None);
            };
            let Some(value) = taken.await? else {
                return Ok(None);
            };
            let Ok(stored) = serde_json::from_slice::<StoredSession>(&value) else {
                tracing::debug!("undecodable recovery session dropped");
                return Ok(None);
            };
            let session = SessionState::from(stored);
            match store.missed(&session.rooms, offset) {
                Ok(missed) => Ok(Some(RestoredSession { session, missed })),
                Err(miss) => {
                    tracing::debug!(?miss, "session from the cluster not recovered");
                    Ok(None)
                }
            }
        })
    }
}

fn spawn_logged(
    fut: impl std::future::Future<Output = Result<(), AdapterError>> + Send + 'static,
    what: &'static str,
) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            tracing::debug!(error = %e, "{what}");
        }
    });
}
