//! `GET /ari/events?app=a,b[&subscribeAll=true]`: the events WebSocket.
//!
//! The applications are registered before the `101 Switching Protocols`
//! goes out, so a call that reaches `Stasis(a)` the moment the client sees
//! the upgrade already finds `a`. Each socket has a bounded queue drained
//! by its own task; a message that cannot be written within
//! `websocket_write_timeout`, or a queue that fills up, drops the client.
//! Text frames from the client are `RESTRequest`s ([`crate::rest_ws`]).

use std::future::Future;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::apps::Socket;
use crate::error::AriError;
use crate::json::Payload;
use crate::params::Params;
use crate::rest_ws::IN_FLIGHT;
use crate::state::Ari;

/// The longest application name (an 80-character context less `stasis-`).
const MAX_APP_NAME: usize = 73;

/// Upgrades the request, or says why not.
pub(crate) async fn upgrade(
    ari: Arc<Ari>,
    parts: &mut Parts,
    params: &Params,
    read_only: bool,
) -> Result<Response, AriError> {
    let apps = params.list("app");
    if apps.is_empty() {
        return Err(AriError::bad_request(
            "HTTP request is missing param: [app]",
        ));
    }
    if let Some(name) = apps.iter().find(|a| a.len() > MAX_APP_NAME) {
        return Err(AriError::bad_request(format!(
            "Stasis app name too long (at most {MAX_APP_NAME} characters): {name}"
        )));
    }
    if let Some(offered) = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        && !offered.split(',').any(|p| p.trim() == "ari")
    {
        return Err(AriError::bad_request(format!(
            "Unsupported WebSocket protocol '{offered}' (ARI speaks 'ari')"
        )));
    }
    let subscribe_all = params.bool("subscribeAll").unwrap_or(false);
    let upgrade = WebSocketUpgrade::from_request_parts(parts, &())
        .await
        .map_err(|_| {
            AriError::new(
                StatusCode::UPGRADE_REQUIRED,
                "Upgrade to a WebSocket required",
            )
        })?;
    let (socket, rx) = Socket::new(ari.next_socket_id());
    register(&ari, &socket, &apps, subscribe_all);
    let first = apps[0].clone();
    let failed = {
        let ari = Arc::clone(&ari);
        let socket = Arc::clone(&socket);
        move |e: axum::Error| {
            tracing::warn!("ARI: WebSocket upgrade failed: {e}");
            ari.apps.unregister(socket.id());
        }
    };
    Ok(upgrade
        .protocols(["ari"])
        .on_failed_upgrade(failed)
        .on_upgrade(move |ws| serve(ari, ws, socket, rx, read_only, first))
        .into_response())
}

/// Binds the applications to the socket; their previous sockets hear
/// `ApplicationReplaced`.
pub(crate) fn register(ari: &Ari, socket: &Arc<Socket>, apps: &[String], subscribe_all: bool) {
    for (name, old) in ari.apps.register(apps, socket, subscribe_all) {
        tracing::info!(
            verbose = 3,
            "ARI: application '{name}' replaced by a new WebSocket"
        );
        let now = crate::json::timestamp(std::time::SystemTime::now());
        if let Some(text) = ari.render_event(&Payload::ApplicationReplaced {}, &now, &name) {
            old.send(text);
        }
    }
    for name in apps {
        tracing::info!(verbose = 2, "Creating Stasis app '{name}'");
    }
}

/// A WebSocket ARI talks over: one a client opened (axum's), or one Obelus
/// opened to an application server ([`crate::outbound`]).
pub(crate) trait Wire: Send {
    /// Sends one text frame.
    fn send_text(&mut self, text: String) -> impl Future<Output = Result<(), String>> + Send;
    /// The next frame: `None` once the peer closed or the connection
    /// failed, `Some(None)` for a frame that is not text (pings, binary).
    fn recv_text(&mut self) -> impl Future<Output = Option<Option<String>>> + Send;
    /// Starts the closing handshake (best effort: the peer may be gone).
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

impl Wire for WebSocket {
    async fn send_text(&mut self, text: String) -> Result<(), String> {
        self.send(Message::Text(text.into()))
            .await
            .map_err(|e| e.to_string())
    }

    async fn recv_text(&mut self) -> Option<Option<String>> {
        match self.recv().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => None,
            Some(Ok(Message::Text(frame))) => Some(Some(frame.to_string())),
            Some(Ok(_)) => Some(None),
        }
    }

    async fn close(&mut self) {
        let _ = self.send(Message::Close(None)).await;
    }
}

/// Writes queued events until the client goes away or must be dropped,
/// and answers the client's `RESTRequest`s (their responses join the
/// same queue as the events, addressed to `app`, the socket's first
/// application).
pub(crate) async fn serve<W: Wire>(
    ari: Arc<Ari>,
    mut ws: W,
    socket: Arc<Socket>,
    mut rx: mpsc::Receiver<String>,
    read_only: bool,
    app: String,
) {
    let timeout = ari.conf().websocket_write_timeout;
    let mut requests = JoinSet::new();
    loop {
        tokio::select! {
            message = rx.recv() => {
                let Some(text) = message else { break };
                match tokio::time::timeout(timeout, ws.send_text(text)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!("ARI: WebSocket {} write failed: {e}", socket.id());
                        break;
                    }
                    Err(_) => {
                        tracing::warn!(
                            "ARI: WebSocket {} write timed out after {} ms; closing it",
                            socket.id(),
                            timeout.as_millis()
                        );
                        break;
                    }
                }
            }
            () = socket.killed() => break,
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
            incoming = ws.recv_text(), if requests.len() < IN_FLIGHT => match incoming {
                None => break,
                Some(Some(frame)) => {
                    let ari = Arc::clone(&ari);
                    let socket = Arc::clone(&socket);
                    let app = app.clone();
                    requests.spawn(async move {
                        if let Some(text) = crate::rest_ws::answer(&ari, read_only, &app, &frame).await {
                            socket.send(text);
                        }
                    });
                }
                Some(None) => {}
            },
        }
    }
    requests.abort_all();
    let _ = tokio::time::timeout(timeout, ws.close()).await;
    for name in ari.apps.unregister(socket.id()) {
        tracing::info!(verbose = 2, "Deactivating Stasis app '{name}'");
    }
}
