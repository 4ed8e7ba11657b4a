//! Requests waiting for the other nodes' answers: each is open under its
//! request id until the expected answers arrived or its timeout passed,
//! whichever is first; what arrived by then is kept.

use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;
use wirehub_proto::Str;

/// Which answers complete a request.
#[derive(Debug)]
pub(crate) enum Expect {
    /// This many answers, from any node (the classic protocol counts).
    Count(usize),
    /// One answer from each of these nodes (the heartbeat protocol knows them).
    Nodes(HashSet<Str>),
}

impl Expect {
    fn len(&self) -> usize {
        match self {
            Expect::Count(n) => *n,
            Expect::Nodes(nodes) => nodes.len(),
        }
    }
}

/// What a request gathered.
#[derive(Debug)]
pub(crate) struct Gathered<T> {
    /// The items of every answer (and the requester's own, if any).
    pub(crate) items: Vec<T>,
    /// How many answers arrived.
    pub(crate) received: usize,
    /// How many were expected.
    pub(crate) expected: usize,
    /// Whether every expected answer arrived.
    pub(crate) complete: bool,
}

struct Open<T> {
    expect: Expect,
    expected: usize,
    received: usize,
    items: Vec<T>,
    done: oneshot::Sender<Gathered<T>>,
}

impl<T> Open<T> {
    fn finish(self, complete: bool) {
        let _ = self.done.send(Gathered {
            items: self.items,
            received: self.received,
            expected: self.expected,
            complete,
        });
    }
}

/// The open requests of one kind.
pub(crate) struct Table<T> {
    open: Mutex<HashMap<Str, Open<T>>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            open: Mutex::default(),
        }
    }
}

impl<T: Send + 'static> Table<T> {
    /// Opens request `id`, starting from `initial` items.
    pub(crate) fn open(
        &self,
        id: Str,
        expect: Expect,
        initial: Vec<T>,
    ) -> oneshot::Receiver<Gathered<T>> {
        let (done, rx) = oneshot::channel();
        let expected = expect.len();
        lock(&self.open).insert(
            id,
            Open {
                expect,
                expected,
                received: 0,
                items: initial,
                done,
            },
        );
        rx
    }

    /// Whether `id` is one of this node's open requests.
    pub(crate) fn contains(&self, id: &str) -> bool {
        lock(&self.open).contains_key(id)
    }

    /// Adds `from`'s answer to request `id`; false if no such request is open.
    pub(crate) fn answer(&self, id: &str, from: Option<&str>, items: Vec<T>) -> bool {
        let mut open = lock(&self.open);
        let Some(req) = open.get_mut(id) else {
            return false;
        };
        let counted = match (&mut req.expect, from) {
            (Expect::Count(_), _) => true,
            (Expect::Nodes(missing), Some(node)) => missing.remove(node),
            (Expect::Nodes(_), None) => false,
        };
        if !counted {
            return true;
        }
        req.received += 1;
        req.items.extend(items);
        let complete = match &req.expect {
            Expect::Count(n) => req.received >= *n,
            Expect::Nodes(missing) => missing.is_empty(),
        };
        if complete {
            if let Some(req) = open.remove(id) {
                req.finish(true);
            }
        }
        true
    }

    /// Waits for request `id` for at most `timeout`, then closes it with
    /// what arrived.
    pub(crate) async fn wait(
        &self,
        id: &str,
        rx: oneshot::Receiver<Gathered<T>>,
        timeout: Duration,
    ) -> Gathered<T> {
        let outcome = tokio::time::timeout(timeout, rx).await;
        if let Ok(Ok(gathered)) = outcome {
            return gathered;
        }
        let open = lock(&self.open).remove(id);
        match open {
            Some(req) => Gathered {
                items: req.items,
                received: req.received,
                expected: req.expected,
                complete: false,
            },
            None => Gathered {
                items: Vec::new(),
                received: 0,
                expected: 0,
                complete: false,
            },
        }
    }
}

/// A short random request id (6 URL-safe characters, as Node's `uid2(6)`).
pub(crate) fn request_id() -> Str {
    let id = crate::engine::random_id();
    id.slice(0..6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn completes_on_the_expected_count() {
        let t = Table::<u8>::default();
        let rx = t.open("a".into(), Expect::Count(2), vec![0]);
        assert!(t.answer("a", None, vec![1]));
        assert!(t.answer("a", None, vec![2]));
        assert!(!t.contains("a"));
        let g = t.wait("a", rx, Duration::from_secs(1)).await;
        assert!(g.complete);
        assert_eq!(g.items, [0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_what_arrived_when_time_is_up() {
        let t = Table::<u8>::default();
        let nodes = ["n1", "n2"].map(Str::from).into_iter().collect();
        let rx = t.open("a".into(), Expect::Nodes(nodes), vec![]);
        assert!(t.answer("a", Some("n1"), vec![1]));
        assert!(
            t.answer("a", Some("n1"), vec![9]),
            "a second answer of a node is ignored"
        );
        assert!(!t.answer("b", Some("n1"), vec![1]));
        let g = t.wait("a", rx, Duration::from_millis(10)).await;
        assert!(!g.complete);
        assert_eq!(
            (g.items.as_slice(), g.received, g.expected),
            (&[1][..], 1, 2)
        );
        assert!(!t.contains("a"));
    }
}
