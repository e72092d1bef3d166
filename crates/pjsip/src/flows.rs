//! The connections contacts registered over (RFC 5626 calls them flows;
//! Asterisk keeps them as transport monitors). A phone that registered over
//! TCP, TLS or a WebSocket is reached back down that same connection while
//! it is open: behind NAT it listens nowhere else, and a WebSocket client
//! never does.
//!
//! When such a connection closes, the contacts only it could reach go, as
//! Asterisk's registrar removes them "due to shutdown" (the contacts it
//! marks `prune_on_boot`): WebSocket contacts, and contacts that
//! `rewrite_contact=yes` made the connection's own source address. Any
//! other contact stays, and the next request to it opens a new connection
//! to the address it names (pjsip connects to the contact URI).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use obelus_core::events::Event;
use obelus_sip::Uri;
use obelus_transport::Protocol;

use crate::stack::Shared;

/// The connection a contact registered over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flow {
    /// The `type=transport` section it arrived on.
    pub transport: Arc<str>,
    /// tcp, tls or ws.
    pub protocol: Protocol,
    /// The peer's address on that connection.
    pub source: SocketAddr,
}

/// A contact bound to a connection: its AOR and URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    pub aor: String,
    pub uri: String,
    /// It goes when the connection closes.
    pub prune: bool,
}

/// The flows of the registered contacts.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// By the address part of contact URIs (`host:port`; the user and the
    /// parameters are not part of it, so `PJSIP/user@endpoint` still finds
    /// the flow of the endpoint's contact).
    by_target: HashMap<String, Flow>,
    /// The contacts bound to each connection.
    by_connection: HashMap<Connection, Vec<Bound>>,
    /// The connection of each bound contact, by AOR and URI.
    by_contact: HashMap<(String, String), Connection>,
}

/// A connection: its transport and peer address.
type Connection = (Arc<str>, SocketAddr);

/// The address part of a SIP URI, lower-cased; `None` if it is not one.
fn target_key(uri: &str) -> Option<String> {
    let parsed = Uri::parse(uri).ok()?;
    let host = parsed.host()?.to_string().to_ascii_lowercase();
    Some(format!("{host}:{}", parsed.port().unwrap_or(0)))
}

/// True when `uri` names exactly `source` (host and port): a contact only
/// that connection's peer could be behind.
pub(crate) fn names(uri: &str, source: SocketAddr) -> bool {
    let Ok(parsed) = Uri::parse(uri) else {
        return false;
    };
    let ip = parsed.host().and_then(|h| {
        h.to_string()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
    });
    ip == Some(source.ip()) && parsed.port() == Some(source.port())
}

impl Flows {
    /// Binds contact `uri` of `aor` to `flow` (a REGISTER that added or
    /// refreshed it arrived there), in place of any earlier flow; `prune`:
    /// it goes when the connection closes.
    pub(crate) fn bind(&self, aor: &str, uri: &str, flow: Flow, prune: bool) {
        let Some(key) = target_key(uri) else {
            return;
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.forget(aor, uri);
        let bound = Bound {
            aor: aor.to_owned(),
            uri: uri.to_owned(),
            prune,
        };
        let connection = (Arc::clone(&flow.transport), flow.source);
        inner
            .by_contact
            .insert((aor.to_owned(), uri.to_owned()), connection.clone());
        inner
            .by_connection
            .entry(connection)
            .or_default()
            .push(bound);
        inner.by_target.insert(key, flow);
    }

    /// Forgets contact `uri` of `aor` (removed, or registered again over
    /// UDP).
    pub(crate) fn unbind(&self, aor: &str, uri: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget(aor, uri);
    }

    /// The flow of the contact at `uri`, if it registered over a stream.
    pub(crate) fn get(&self, uri: &str) -> Option<Flow> {
        let key = target_key(uri)?;
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_target
            .get(&key)
            .cloned()
    }

    /// The connection from `source` on `transport` closed: forgets its
    /// flows and returns the contacts to remove with it (see the module
    /// documentation).
    pub(crate) fn closed(&self, transport: &str, source: SocketAddr) -> Vec<Bound> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bound) = inner.by_connection.remove(&(Arc::from(transport), source)) else {
            return Vec::new();
        };
        inner
            .by_target
            .retain(|_, f| !(&*f.transport == transport && f.source == source));
        for b in &bound {
            inner.by_contact.remove(&(b.aor.clone(), b.uri.clone()));
        }
        bound.into_iter().filter(|b| b.prune).collect()
    }
}

/// Deletes contacts whose connection closed, as Asterisk's registrar does
/// on a transport's shutdown, each with its log line and `ContactStatus`
/// event.
pub(crate) async fn remove_contacts(shared: Arc<Shared>, gone: Vec<Bound>) {
    let Some(sorcery) = shared.sorcery.get() else {
        return;
    };
    for b in gone {
        let _serial = shared.register_lock(&b.aor).lock().await;
        let id = crate::contacts::contact_id(&b.aor, &b.uri);
        let endpoint = match sorcery.retrieve_by_id("contact", &id).await {
            Ok(Some(contact)) => contact.str("endpoint").unwrap_or("").to_owned(),
            // Gone already (unregistered, expired, replaced).
            _ => continue,
        };
        if let Err(e) = sorcery.delete("contact", &id).await {
            tracing::error!("PJSIP: contact '{}' of AOR '{}': {e}", b.uri, b.aor);
            continue;
        }
        tracing::info!(
            verbose = 3,
            "Removed contact '{}' from AOR '{}' due to shutdown",
            b.uri,
            b.aor
        );
        shared.core.events.publish(Event::ContactStatus {
            uri: b.uri,
            status: "Removed",
            aor: b.aor,
            endpoint,
            roundtrip_usec: None,
        });
    }
}

impl Inner {
    fn forget(&mut self, aor: &str, uri: &str) {
        // The common case on a UDP-only server: nothing to look for.
        if self.by_contact.is_empty() {
            return;
        }
        let Some(connection) = self.by_contact.remove(&(aor.to_owned(), uri.to_owned())) else {
            return;
        };
        let key = target_key(uri);
        let mut still = false;
        if let Some(list) = self.by_connection.get_mut(&connection) {
            list.retain(|b| !(b.aor == aor && b.uri == uri));
            // The address stays bound while another contact of the same
            // connection names it.
            still = list.iter().any(|b| target_key(&b.uri) == key);
            if list.is_empty() {
                self.by_connection.remove(&connection);
            }
        }
        if let Some(key) = key
            && !still
            && self
                .by_target
                .get(&key)
                .is_some_and(|f| f.transport == connection.0 && f.source == connection.1)
        {
            self.by_target.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(protocol: Protocol, source: &str) -> Flow {
        Flow {
            transport: Arc::from("t"),
            protocol,
            source: source.parse().unwrap(),
        }
    }

    #[test]
    fn a_contact_is_found_by_its_address_whatever_the_user() {
        let flows = Flows::default();
        let f = flow(Protocol::Tcp, "192.0.2.5:40000");
        let uri = "sip:102@192.0.2.5:5060;transport=tcp";
        flows.bind("102", uri, f.clone(), false);
        assert_eq!(flows.get("sip:other@192.0.2.5:5060"), Some(f));
        assert_eq!(flows.get("sip:102@192.0.2.5:5070"), None);
        flows.unbind("102", uri);
        assert_eq!(flows.get("sip:102@192.0.2.5:5060"), None);
    }

    /// Closing removes the contacts bound with `prune` and forgets the
    /// others' flows (they are reached by connecting anew).
    #[test]
    fn closing_returns_what_goes_with_the_connection() {
        let flows = Flows::default();
        let source: SocketAddr = "192.0.2.5:40000".parse().unwrap();
        let rewritten = "sip:a@192.0.2.5:40000;transport=TCP";
        assert!(names(rewritten, source));
        assert!(!names("sip:b@192.0.2.5:5060", source));
        flows.bind("a", rewritten, flow(Protocol::Tcp, "192.0.2.5:40000"), true);
        flows.bind(
            "b",
            "sip:b@192.0.2.5:5060;transport=tcp",
            flow(Protocol::Tcp, "192.0.2.5:40000"),
            false,
        );
        let gone = flows.closed("t", source);
        assert_eq!(
            gone,
            vec![Bound {
                aor: "a".into(),
                uri: rewritten.into(),
                prune: true,
            }]
        );
        assert_eq!(flows.get("sip:b@192.0.2.5:5060"), None);
        assert!(flows.closed("t", source).is_empty());
    }

    /// A contact that registers again over another connection moves there;
    /// the old connection's end leaves it alone.
    #[test]
    fn rebinding_moves_the_contact() {
        let flows = Flows::default();
        let uri = "sip:a@192.0.2.5:40000";
        flows.bind("a", uri, flow(Protocol::Tcp, "192.0.2.5:40000"), true);
        flows.bind("a", uri, flow(Protocol::Tcp, "192.0.2.5:40001"), true);
        assert!(
            flows
                .closed("t", "192.0.2.5:40000".parse().unwrap())
                .is_empty()
        );
        assert_eq!(
            flows.get(uri).map(|f| f.source.port()),
            Some(40001),
            "still bound to the new connection"
        );
    }
}
