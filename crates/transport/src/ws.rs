//! SIP over WebSocket (RFC 7118): `/ws` on the HTTP server, subprotocol
//! `sip`, one SIP message per WebSocket message, answers on the same socket.
//! Open sockets are kept by peer address ([`Sockets`]): a WebSocket client
//! listens nowhere, so requests to it (an INVITE to a browser phone) can
//! only go down the socket it opened.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
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

/// The open sockets of one WebSocket transport.
#[derive(Debug)]
pub(crate) struct Sockets {
    pub(crate) name: Arc<str>,
    /// The HTTP server's address.
    pub(crate) local: SocketAddr,
    pub(crate) connections: Connections,
}

/// The `/ws` route for the transport `name`; messages go to `sink`. The
/// handle sends requests of our own down the open sockets.
pub fn routes(name: &str, local: SocketAddr, sink: SharedSink) -> (Router, StreamTransport) {
    let sockets = Arc::new(Sockets {
        name: Arc::from(name),
        local,
        connections: Connections::default(),
    });
    let stats = Arc::new(Stats::default());
    let shared = Arc::clone(&sockets);
    let router = Router::new().route(
        "/ws",
        get(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap,
                  upgrade: WebSocketUpgrade| {
                let (sockets, sink, stats) =
                    (Arc::clone(&shared), sink.clone(), Arc::clone(&stats));
                async move { accept(upgrade, &headers, peer, sockets, sink, stats) }
            },
        ),
    );
    (router, StreamTransport::ws(sockets))
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
            sink.closed(&sockets.name, Protocol::Ws, peer);
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
    let (local, name) = (sockets.local, Arc::clone(&sockets.name));
    loop {
        tokio::select! {
            received = socket.recv() => {
                let bytes = match received {
                    Some(Ok(WsMessage::Text(text))) => Bytes::copy_from_slice(text.as_str().as_bytes()),
                    Some(Ok(WsMessage::Binary(data))) => data,
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                };
                crate::logger::received(Protocol::Ws, peer, &bytes);
                let ctx = Incoming0 {
                    source: peer,
                    local,
                    transport: Arc::clone(&name),
                    protocol: Protocol::Ws,
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
                crate::logger::transmitted(Protocol::Ws, peer, &bytes);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if socket.send(WsMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
    }
}
