//! [`StreamTransport`]: how the stack sends a request of its own over a
//! connection-oriented transport (TCP, TLS, WebSocket). It finds the
//! connection open to the target (one the peer opened, say to REGISTER, or
//! one opened earlier), or opens one: TCP connect, and for TLS the
//! handshake. A WebSocket peer cannot be connected to: only the socket it
//! opened reaches it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::tls::TlsConnector;
use crate::{Protocol, Reply, TransportError, tcp, ws};

/// One stream transport's connections, for sending requests; cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct StreamTransport {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Tcp(Arc<tcp::Streams>),
    Ws(Arc<ws::Sockets>),
}

impl StreamTransport {
    pub(crate) fn tcp(streams: Arc<tcp::Streams>) -> StreamTransport {
        StreamTransport {
            inner: Inner::Tcp(streams),
        }
    }

    pub(crate) fn ws(sockets: Arc<ws::Sockets>) -> StreamTransport {
        StreamTransport {
            inner: Inner::Ws(sockets),
        }
    }

    /// The `type=transport` section name.
    pub fn name(&self) -> &str {
        match &self.inner {
            Inner::Tcp(s) => &s.name,
            Inner::Ws(s) => &s.name,
        }
    }

    /// tcp, tls, ws or wss.
    pub fn protocol(&self) -> Protocol {
        match &self.inner {
            Inner::Tcp(s) => s.protocol,
            Inner::Ws(s) => s.protocol,
        }
    }

    /// Our address: the listener's (the HTTP server's for WebSocket).
    pub fn local_addr(&self) -> SocketAddr {
        match &self.inner {
            Inner::Tcp(s) => s.local,
            Inner::Ws(s) => s.local,
        }
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        match &self.inner {
            Inner::Tcp(s) => s.connections.len(),
            Inner::Ws(s) => s.connections.len(),
        }
    }

    /// The connection open to `peer`, if any.
    pub fn connection_to(&self, peer: SocketAddr) -> Option<Reply> {
        match &self.inner {
            Inner::Tcp(s) => s.connections.get(peer).map(Reply::Tcp),
            Inner::Ws(s) => s.connections.get(peer).map(Reply::WebSocket),
        }
    }

    /// The connection to `peer`: the open one, else a new one (for TLS,
    /// `tls` gives the client configuration and the name the server's
    /// certificate must carry). What the peer sends on a new connection
    /// reaches the stack like anything received. A WebSocket peer without
    /// an open connection is an error: it cannot be connected to.
    pub async fn connect(
        &self,
        peer: SocketAddr,
        tls: Option<(&TlsConnector, &str)>,
    ) -> Result<Reply, TransportError> {
        match &self.inner {
            Inner::Tcp(s) => s.connect(peer, tls).await.map(Reply::Tcp),
            Inner::Ws(s) => s
                .connections
                .get(peer)
                .map(Reply::WebSocket)
                .ok_or_else(|| TransportError::Connect {
                    peer,
                    reason: "a WebSocket peer is reached only over the connection it opened, \
                             and it is closed"
                        .to_owned(),
                }),
        }
    }
}
