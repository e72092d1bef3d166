//! `PeerStatus` for PJSIP endpoints: an endpoint is reachable while at
//! least one of its contacts is usable (registered, or answering qualify),
//! and unreachable once none is. Asterisk raises `PeerStatus` when that
//! changes, not on every contact event; this follows the `ContactStatus`
//! events on the bus to do the same.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// The usable contacts of each endpoint, and what was last reported.
#[derive(Debug, Default)]
pub struct PeerWatch {
    inner: Mutex<HashMap<Box<str>, Peer>>,
}

/// One endpoint. Kept for every endpoint that ever registered (tens of
/// thousands on a big registrar), so small: the usable contacts as hashes
/// of their URIs (only told apart within one endpoint), not the URIs.
#[derive(Debug, Default)]
struct Peer {
    usable: Vec<u64>,
    /// Reachable, as last reported in a `PeerStatus`.
    reported: Option<bool>,
}

/// An endpoint whose reachability changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerChange {
    /// The endpoint (`101`).
    pub endpoint: String,
    /// `Reachable` or `Unreachable`.
    pub status: &'static str,
}

impl PeerWatch {
    /// Follows one contact event; the endpoint's change, if it made one.
    pub fn contact(&self, endpoint: &str, uri: &str, status: &str) -> Option<PeerChange> {
        if endpoint.is_empty() {
            return None;
        }
        let usable = match status {
            "Created" | "Updated" | "Reachable" => true,
            "Removed" | "Unreachable" => false,
            // `Unknown` (qualify off or not yet answered) changes nothing.
            _ => return None,
        };
        let mut hasher = DefaultHasher::new();
        uri.hash(&mut hasher);
        let uri = hasher.finish();
        let mut peers = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let peer = match peers.get_mut(endpoint) {
            Some(peer) => peer,
            None => peers.entry(Box::from(endpoint)).or_default(),
        };
        let known = peer.usable.iter().position(|u| *u == uri);
        match (usable, known) {
            (true, None) => {
                // Most endpoints have one contact: no room for four.
                peer.usable.reserve_exact(1);
                peer.usable.push(uri);
            }
            (false, Some(i)) => {
                peer.usable.swap_remove(i);
            }
            _ => {}
        }
        let reachable = !peer.usable.is_empty();
        if peer.reported == Some(reachable) {
            return None;
        }
        peer.reported = Some(reachable);
        Some(PeerChange {
            endpoint: endpoint.to_owned(),
            status: if reachable {
                "Reachable"
            } else {
                "Unreachable"
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_only_when_the_endpoint_flips() {
        let w = PeerWatch::default();
        let reachable = |e: &str| {
            Some(PeerChange {
                endpoint: e.into(),
                status: "Reachable",
            })
        };
        let unreachable = |e: &str| {
            Some(PeerChange {
                endpoint: e.into(),
                status: "Unreachable",
            })
        };
        assert_eq!(w.contact("101", "sip:a", "Created"), reachable("101"));
        assert_eq!(w.contact("101", "sip:a", "Updated"), None);
        assert_eq!(w.contact("101", "sip:b", "Reachable"), None);
        assert_eq!(w.contact("101", "sip:a", "Unknown"), None);
        assert_eq!(w.contact("101", "sip:a", "Removed"), None);
        assert_eq!(w.contact("101", "sip:b", "Unreachable"), unreachable("101"));
        assert_eq!(w.contact("102", "sip:c", "Reachable"), reachable("102"));
        assert_eq!(w.contact("", "sip:d", "Created"), None);
        // Never reachable: reported once, not at every failed qualify.
        assert_eq!(w.contact("103", "sip:e", "Unreachable"), unreachable("103"));
        assert_eq!(w.contact("103", "sip:e", "Unreachable"), None);
    }
}
