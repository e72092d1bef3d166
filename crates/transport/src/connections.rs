//! The open connections of one stream transport (TCP, TLS, WebSocket), by
//! peer address: the ones peers opened and the ones Obelus opened, each with
//! its writer queue. A request Obelus sends itself goes down the connection
//! already open to its target (RFC 3261 §18.1.1; connection reuse as RFC
//! 5923 describes), which is the only way to reach a phone behind NAT, and
//! a WebSocket client at all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Open connections by peer address.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    map: Mutex<HashMap<SocketAddr, Entry>>,
    next: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    /// Tells this connection from a later one with the same peer address,
    /// so that the end of the old one does not remove the new one.
    id: u64,
    tx: mpsc::Sender<Bytes>,
    task: AbortHandle,
}

impl Connections {
    /// An id for a connection about to be inserted.
    pub(crate) fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// The writer queue of the open connection to `peer`. A connection whose
    /// task has ended (its queue closed) counts as gone.
    pub(crate) fn get(&self, peer: SocketAddr) -> Option<mpsc::Sender<Bytes>> {
        let map = self.map.lock().ok()?;
        map.get(&peer)
            .filter(|e| !e.tx.is_closed())
            .map(|e| e.tx.clone())
    }

    /// Records connection `id` to `peer`, replacing any older one.
    pub(crate) fn insert(
        &self,
        peer: SocketAddr,
        id: u64,
        tx: mpsc::Sender<Bytes>,
        task: AbortHandle,
    ) {
        if let Ok(mut map) = self.map.lock() {
            map.insert(peer, Entry { id, tx, task });
        }
    }

    /// Forgets connection `id` to `peer` (not a newer one to the same peer).
    pub(crate) fn remove(&self, peer: SocketAddr, id: u64) {
        if let Ok(mut map) = self.map.lock()
            && map.get(&peer).is_some_and(|e| e.id == id)
        {
            map.remove(&peer);
        }
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Closes every connection (the listener stops).
    pub(crate) fn close_all(&self) {
        if let Ok(mut map) = self.map.lock() {
            for (_, entry) in map.drain() {
                entry.task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of an old connection leaves a newer one to the same peer.
    #[tokio::test]
    async fn only_the_same_connection_is_removed() {
        let table = Connections::default();
        let peer: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let task = tokio::spawn(std::future::pending::<()>());
        let (old_tx, _old_rx) = mpsc::channel(1);
        let (new_tx, _new_rx) = mpsc::channel(1);
        let (old, new) = (table.next_id(), table.next_id());
        table.insert(peer, old, old_tx, task.abort_handle());
        table.insert(peer, new, new_tx.clone(), task.abort_handle());
        table.remove(peer, old);
        assert!(table.get(peer).is_some_and(|tx| tx.same_channel(&new_tx)));
        table.remove(peer, new);
        assert!(table.get(peer).is_none());
        task.abort();
    }

    /// A connection whose task ended is not handed out.
    #[tokio::test]
    async fn a_closed_queue_is_no_connection() {
        let table = Connections::default();
        let peer: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let task = tokio::spawn(std::future::pending::<()>());
        let (tx, rx) = mpsc::channel(1);
        table.insert(peer, table.next_id(), tx, task.abort_handle());
        drop(rx);
        assert!(table.get(peer).is_none());
        task.abort();
    }
}
