//! SIP over WebSocket (RFC 7118): `/ws` on the HTTP server (`ws`) and on
//! the HTTPS server (`wss`), subprotocol `sip`, one SIP message per
//! WebSocket message, answers on the same socket. Which transport a socket
//! belongs to follows the connection it was opened on: the HTTPS server
//! marks its requests [`Secure`]. Open sockets are kept by peer address
//! ([`Sockets`]): a WebSocket client listens nowhere, so requests to it (an
//! INVITE to a browser phone) can only go down the socket it opened.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Extension};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use obelus_sip::Message;
use tokio::sync::mpsc;

use crate::connections::Connections;
use crate::{Incoming0, Protocol, Reply, SharedSink, Stats, StreamTransport, deliver};

/// Messages waiting to be written to one WebSocket.
const WRITE_QUEUE: usize = 64;

/// A request extension the HTTP server puts on requests that arrived over
/// HTTPS: a WebSocket they open is secure (`wss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure;

/// One WebSocket transport served at `/ws`: its `type=transport` section
/// and the address of the server it is reached through (HTTP for `ws`,
/// HTTPS for `wss`).
#[derive(Debug, Clone, Copy)]
pub struct WsTransport<'a> {
    /// The section name (`transport-wss`).
    pub name: &'a str,
    /// The HTTP or HTTPS server's address.
    pub local: SocketAddr,
}

/// The open sockets of one WebSocket transport.
#[derive(Debug)]
pub(crate) struct Sockets {
    pub(crate) name: Arc<str>,
    /// ws or wss.
    pub(crate) protocol: Protocol,
    /// The HTTP (or HTTPS) server's address.
    pub(crate) local: SocketAddr,
    pub(crate) connections: Connections,
}

impl Sockets {
    fn new(transport: WsTransport<'_>, protocol: Protocol) -> Arc<Sockets> {
        Arc::new(Sockets {
            name: Arc::from(transport.name),
            protocol,
            local: transport.local,
            connections: Connections::default(),
        })
    }
}

/// The `/ws` route for the `plain` (`protocol=ws`) and `secure`
/// (`protocol=wss`) transports, either of which may be absent; messages go
/// to `sink`. The handles send requests of our own down the open sockets.
/// A socket asked for on a server whose kind has no transport is refused
/// with 404 and what to configure.
pub fn routes(
    plain: Option<WsTransport<'_>>,
    secure: Option<WsTransport<'_>>,
    sink: SharedSink,
) -> (Router, Vec<StreamTransport>) {
    let plain = plain.map(|t| Sockets::new(t, Protocol::Ws));
    let secure = secure.map(|t| Sockets::new(t, Protocol::Wss));
    let handles = plain
        .iter()
        .chain(secure.iter())
        .map(|s| StreamTransport::ws(Arc::clone(s)))
        .collect();
    let stats = Arc::new(Stats::default());
    let router = Router::new().route(
        "/ws",
        get(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  tls: Option<Extension<Secure>>,
                  headers: HeaderMap,
                  upgrade: WebSocketUpgrade| {
                let sockets = if tls.is_some() {
                    secure.clone().ok_or("wss")
                } else {
                    plain.clone().ok_or("ws")
                };
                let (sink, stats) = (sink.clone(), Arc::clone(&stats));
                async move {
                    match sockets {
                        Ok(sockets) => accept(upgrade, &headers, peer, sockets, sink, stats),
                        Err(kind) => (
                            StatusCode::NOT_FOUND,
                            format!(
                                "SIP over this WebSocket needs a type=transport section \
                                 with protocol={kind} in pjsip.conf\n"
                            ),
                        )
                            .into_response(),
                    }
                }
            },
        ),
    );
    (router, handles)
}

fn accept(
    upgrade: WebSocketUpgrade,
    headers: &HeaderMap,
    peer: SocketAddr,
    sockets: Arc<Sockets>,
    sink: SharedSink,
    stats: Arc<Stats>,
) -> Response {
    let offers_sip = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("sip"));
    if !offers_sip {
        return (
            StatusCode::BAD_REQUEST,
            "SIP over WebSocket needs the 'sip' subprotocol (RFC 7118)\n",
        )
            .into_response();
    }
    upgrade
        .protocols(["sip"])
        .on_upgrade(move |socket| async move {
            // Served on a task of its own, so that the table can close it.
            let (tx, rx) = mpsc::channel::<Bytes>(WRITE_QUEUE);
            let id = sockets.connections.next_id();
            let task = tokio::spawn(serve(
                socket,
                peer,
                Arc::clone(&sockets),
                sink.clone(),
                stats,
                (tx.clone(), rx),
            ));
            sockets
                .connections
                .insert(peer, id, tx, task.abort_handle());
            let _ = task.await;
            sockets.connections.remove(peer, id);
            sink.closed(&sockets.name, sockets.protocol, peer);
        })
}

async fn serve(
    mut socket: WebSocket,
    peer: SocketAddr,
    sockets: Arc<Sockets>,
    sink: SharedSink,
    stats: Arc<Stats>,
    (tx, mut rx): (mpsc::Sender<Bytes>, mpsc::Receiver<Bytes>),
) {
    let (local, name, protocol) = (sockets.local, Arc::clone(&sockets.name), sockets.protocol);
    loop {
        tokio::select! {
            received = socket.recv() => {
                let bytes = match received {
                    Some(Ok(WsMessage::Text(text))) => Bytes::copy_from_slice(text.as_str().as_bytes()),
                    Some(Ok(WsMessage::Binary(data))) => data,
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                };
                crate::logger::received(protocol, peer, &bytes);
                let ctx = Incoming0 {
                    source: peer,
                    local,
                    transport: Arc::clone(&name),
                    protocol,
                    reply: Reply::WebSocket(tx.clone()),
                };
                if let Some(answer) = deliver(&bytes, Message::parse(bytes.clone()), ctx, &sink, &stats)
                    && tx.send(answer).await.is_err()
                {
                    break;
                }
            }
            outgoing = rx.recv() => {
                let Some(bytes) = outgoing else { break };
                crate::logger::transmitted(protocol, peer, &bytes);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if socket.send(WsMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
    }
}
