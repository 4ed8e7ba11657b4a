//! [`NodeDirectory`]: which wirehub node is where, so that any node can
//! forward a request for a session to the node that owns it (no sticky
//! sessions). Each node has a short random tag that starts every session id
//! it hands out, and announces `{tag, url}` on the channel
//! `{key}-wirehub#nodes#` (a channel Node's adapters do not use): once at
//! start (asking the others to announce themselves too), then every 10 s.
//! An entry not heard from for 35 s is forgotten.

use super::driver::{Driver, Handler};
use crate::engine::SessionLocator;
use crate::io::AdapterError;
use crate::sync::lock;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use wirehub_proto::Str;

/// Length of a node tag (the start of its session ids).
const TAG_LEN: usize = 6;
/// How often a node announces itself.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// How long an announcement stays valid.
const FORGET_AFTER: Duration = Duration::from_secs(35);

#[derive(Serialize, Deserialize)]
struct Announce {
    node: String,
    url: String,
    #[serde(default)]
    hello: bool,
}

/// The nodes of a cluster and their addresses.
pub struct NodeDirectory {
    tag: Str,
    url: String,
    channel: String,
    driver: Arc<dyn Driver>,
    nodes: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for NodeDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeDirectory")
            .field("tag", &self.tag)
            .field("url", &self.url)
            .finish()
    }
}

impl NodeDirectory {
    /// Joins the directory of the cluster under `key`, announcing this
    /// node at `url` (`http://host:port`, where the other nodes reach it).
    /// Call inside a tokio runtime.
    pub async fn start(
        driver: Arc<dyn Driver>,
        key: &str,
        url: &str,
    ) -> Result<Arc<Self>, AdapterError> {
        let tag = crate::engine::random_id().slice(0..TAG_LEN);
        let dir = Arc::new(NodeDirectory {
            tag,
            url: url.trim_end_matches('/').to_owned(),
            channel: format!("{key}-wirehub#nodes#"),
            driver,
            nodes: Mutex::default(),
        });
        let weak = Arc::downgrade(&dir);
        let handler: Handler = Arc::new(move |_channel, payload: Bytes| {
            if let Some(dir) = weak.upgrade() {
                dir.on_announce(&payload);
            }
        });
        let subscribed = dir
            .driver
            .subscribe(vec![dir.channel.clone()], handler)
            .await;
        tokio::spawn(announce(Arc::downgrade(&dir)));
        subscribed.map(|()| dir)
    }

    /// This node's tag.
    pub fn tag(&self) -> &Str {
        &self.tag
    }

    /// The other nodes known now: tag and URL.
    pub fn nodes(&self) -> Vec<(String, String)> {
        let mut nodes = lock(&self.nodes);
        nodes.retain(|_, (_, seen)| seen.elapsed() < FORGET_AFTER);
        nodes
            .iter()
            .map(|(tag, (url, _))| (tag.clone(), url.clone()))
            .collect()
    }

    fn send(&self, hello: bool) {
        let announce = Announce {
            node: self.tag.to_string(),
            url: self.url.clone(),
            hello,
        };
        if let Ok(json) = serde_json::to_vec(&announce) {
            let _ = self.driver.publish(&self.channel, Bytes::from(json));
        }
    }

    fn on_announce(&self, payload: &[u8]) {
        let Ok(announce) = serde_json::from_slice::<Announce>(payload) else {
            return;
        };
        if announce.node == self.tag.as_str() || announce.node.len() != TAG_LEN {
            return;
        }
        let known = lock(&self.nodes)
            .insert(announce.node, (announce.url, Instant::now()))
            .is_some();
        if announce.hello || !known {
            self.send(false);
        }
    }
}

async fn announce(dir: Weak<NodeDirectory>) {
    let mut hello = true;
    loop {
        let Some(d) = dir.upgrade() else { return };
        d.send(hello);
        hello = false;
        drop(d);
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

impl SessionLocator for NodeDirectory {
    fn sid_prefix(&self) -> Option<Str> {
        Some(self.tag.clone())
    }

    fn owner(&self, sid: &str) -> Option<String> {
        let tag = sid.get(..TAG_LEN)?;
        if tag == self.tag.as_str() {
            return None;
        }
        let nodes = lock(&self.nodes);
        let (url, seen) = nodes.get(tag)?;
        (seen.elapsed() < FORGET_AFTER).then(|| url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemoryBus;
    use super::*;

    #[tokio::test]
    async fn nodes_find_each_other_and_the_owner_of_a_session() {
        let bus = MemoryBus::new();
        let a = NodeDirectory::start(bus.driver(), "k", "http://a:1")
            .await
            .unwrap();
        let b = NodeDirectory::start(bus.driver(), "k", "http://b:2/")
            .await
            .unwrap();
        for _ in 0..100 {
            if !a.nodes().is_empty() && !b.nodes().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let sid_of_b = format!("{}abcdefghijklmn", b.tag());
        assert_eq!(a.owner(&sid_of_b).as_deref(), Some("http://b:2"));
        assert_eq!(b.owner(&sid_of_b), None, "its own session");
        assert_eq!(a.owner("zzzzzzabcdefghijklmn"), None, "an unknown node");
        assert_eq!(a.owner("ab"), None);
    }
}
