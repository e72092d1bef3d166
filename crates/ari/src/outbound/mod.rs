//! ARI outbound WebSockets (Asterisk 20.15/21.10/22.5+): instead of the
//! application connecting to `/ari/events`, Obelus connects to the
//! application server named in `websocket_client.conf` and serves the
//! `ari.conf` `type = outbound_websocket` section's applications over it —
//! events out, `RESTRequest`s in, exactly as on an inbound socket.
//!
//! A persistent connection is opened at load and re-opened every
//! `reconnect_interval` when it drops or cannot be made; after each
//! (re)connection the server hears `ApplicationRegistered` for each of its
//! applications. A reload that changes only `apps` or `subscribe_all`
//! keeps the connection: added applications are registered
//! (`ApplicationRegistered`), removed ones are unregistered
//! (`ApplicationUnregistered`); any other change reconnects.
//!
//! A per-call connection (`connection_type = per_call_config`) is opened
//! when `Stasis(app)` runs for one of its applications and no socket holds
//! `app`: the call gets an application of its own, `app:<channel name>`,
//! announced with `ApplicationRegistered`, and the connection closes when
//! the channel leaves Stasis. If it cannot be made in `reconnect_attempts`
//! tries, `Stasis()` fails (`STASISSTATUS=FAILED`).

pub mod client_conf;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use self::client_conf::{Client, Clients, ConnectionType};
use crate::apps::Socket;
use crate::config::{AriConf, OutboundWebsocket};
use crate::json::Payload;
use crate::state::Ari;
use crate::websocket::Wire;

/// What one connection runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    outbound: OutboundWebsocket,
    client: Client,
    read_only: bool,
}

impl Spec {
    /// Whether `other` can be applied to a running connection (only the
    /// applications or their subscription differ).
    fn same_connection(&self, other: &Spec) -> bool {
        self.client == other.client
            && self.read_only == other.read_only
            && self.outbound.local_ari_user == other.outbound.local_ari_user
    }
}

/// One running persistent connection.
struct Running {
    spec: watch::Sender<Spec>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The connections Obelus keeps open, by section name.
#[derive(Default)]
pub(crate) struct Connections {
    running: Mutex<BTreeMap<String, Running>>,
    /// Application -> the per-call configuration that serves it.
    per_call: Mutex<BTreeMap<String, Spec>>,
    /// Each configured connection and whether it could be started, for
    /// `ari show outbound-websockets`.
    shown: Mutex<Vec<(OutboundWebsocket, Option<Client>, bool)>>,
}

impl Connections {
    /// Brings the running connections in line with `conf` and `clients`:
    /// starts new ones, stops removed ones, re-registers applications of
    /// changed ones. Problems are logged (they name the section).
    pub(crate) fn apply(&self, ari: &Arc<Ari>, conf: &AriConf, clients: &Clients) {
        let mut wanted = BTreeMap::new();
        let mut shown = Vec::new();
        for outbound in &conf.outbound {
            let spec = spec(outbound, conf, clients);
            shown.push((
                outbound.clone(),
                clients.get(&outbound.client).cloned(),
                spec.is_some(),
            ));
            if let Some(spec) = spec {
                wanted.insert(outbound.name.clone(), spec);
            }
        }
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = shown;
        let (per_call, wanted): (BTreeMap<_, _>, BTreeMap<_, _>) = wanted
            .into_iter()
            .partition(|(_, spec)| spec.client.connection_type == ConnectionType::PerCall);
        *self.per_call.lock().unwrap_or_else(|e| e.into_inner()) = per_call
            .into_values()
            .flat_map(|spec| {
                spec.outbound
                    .apps
                    .clone()
                    .into_iter()
                    .map(move |app| (app, spec.clone()))
            })
            .collect();
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|name, r| {
            let keep = wanted
                .get(name)
                .is_some_and(|w| r.spec.borrow().same_connection(w));
            if !keep {
                tracing::info!(
                    "{name}: closing the outbound ARI WebSocket (configuration changed)"
                );
            }
            keep
        });
        for (name, spec) in wanted {
            if let Some(r) = running.get(&name) {
                r.spec.send_if_modified(|current| {
                    let changed = *current != spec;
                    *current = spec.clone();
                    changed
                });
                continue;
            }
            let (tx, rx) = watch::channel(spec);
            let task = tokio::spawn(persist(Arc::clone(ari), name.clone(), rx));
            running.insert(name, Running { spec: tx, task });
        }
    }

    /// Opens a per-call connection for a channel entering `Stasis(app)`
    /// when a per-call configuration serves `app`: `None` when none does,
    /// an error when the connection could not be made.
    pub(crate) async fn per_call(
        &self,
        ari: &Arc<Ari>,
        app: &str,
        channel: &str,
    ) -> Option<Result<PerCall, String>> {
        let spec = self
            .per_call
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(app)
            .cloned()?;
        let client = &spec.client;
        let mut attempts = 0;
        let ws = loop {
            match connect(client).await {
                Ok(ws) => break ws,
                Err(e) => {
                    attempts += 1;
                    if attempts > client.reconnect_attempts {
                        return Some(Err(format!(
                            "{}: cannot connect to {} for {channel}: {e}",
                            spec.outbound.name, client.uri
                        )));
                    }
                    tokio::time::sleep(client.reconnect_interval).await;
                }
            }
        };
        let name = format!("{app}:{channel}");
        tracing::info!(
            verbose = 3,
            "{}: per-call ARI WebSocket to {} for '{name}'",
            spec.outbound.name,
            client.uri
        );
        let (socket, rx) = Socket::new(ari.next_socket_id());
        crate::websocket::register(
            ari,
            &socket,
            std::slice::from_ref(&name),
            spec.outbound.subscribe_all,
        );
        announce(ari, &socket, &name, &Payload::ApplicationRegistered {});
        let task = tokio::spawn(crate::websocket::serve(
            Arc::clone(ari),
            OutboundWire(ws),
            Arc::clone(&socket),
            rx,
            spec.read_only,
            name.clone(),
        ));
        Some(Ok(PerCall {
            ari: Arc::clone(ari),
            name,
            socket,
            task,
        }))
    }

    /// `ari show outbound-websockets`.
    pub(crate) fn table(&self) -> String {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = format!(
            "{:<13} {:<15} {:<12} {:<7} {}\n{} {} {} {} {}\n",
            "Name",
            "Type",
            "Apps",
            "Status",
            "URI",
            "-".repeat(13),
            "-".repeat(15),
            "-".repeat(12),
            "-".repeat(7),
            "-".repeat(20)
        );
        for (outbound, client, valid) in shown.iter() {
            out.push_str(&format!(
                "{:<13} {:<15} {:<12} {:<7} {}\n",
                outbound.name,
                client.as_ref().map_or("", |c| c.connection_type.as_str()),
                outbound.apps.join(","),
                if *valid { "valid" } else { "invalid" },
                client.as_ref().map_or("", |c| c.uri.as_str()),
            ));
        }
        out
    }
}

/// What section `outbound` runs with, or why it cannot run (logged).
fn spec(outbound: &OutboundWebsocket, conf: &AriConf, clients: &Clients) -> Option<Spec> {
    let name = &outbound.name;
    let Some(client) = clients.get(&outbound.client) else {
        tracing::error!(
            "{name}: websocket_client_id '{}' is not a section of websocket_client.conf; not connecting",
            outbound.client
        );
        return None;
    };
    let Some(user) = conf.user(&outbound.local_ari_user) else {
        tracing::error!(
            "{name}: local_ari_user '{}' is not a user of ari.conf; not connecting",
            outbound.local_ari_user
        );
        return None;
    };
    if let Some(other) = conf
        .outbound
        .iter()
        .find(|o| o.name < outbound.name && o.apps.iter().any(|a| outbound.apps.contains(a)))
    {
        tracing::error!(
            "{name}: an application of it is already served by outbound_websocket '{}'; not connecting",
            other.name
        );
        return None;
    }
    Some(Spec {
        outbound: outbound.clone(),
        client: client.clone(),
        read_only: user.read_only,
    })
}

/// Keeps one persistent connection open until its task is aborted.
async fn persist(ari: Arc<Ari>, name: String, mut spec: watch::Receiver<Spec>) {
    let mut failures = 0u32;
    loop {
        let current = spec.borrow_and_update().clone();
        let client = &current.client;
        match connect(client).await {
            Ok(ws) => {
                failures = 0;
                tracing::info!("{name}: outbound ARI WebSocket connected to {}", client.uri);
                session(&ari, &name, ws, &mut spec).await;
                tracing::warn!(
                    "{name}: outbound ARI WebSocket to {} closed; reconnecting every {} ms",
                    client.uri,
                    client.reconnect_interval.as_millis()
                );
            }
            Err(e) => {
                // The first failure and then one in a hundred, so a server
                // that stays away does not flood the log.
                if failures.is_multiple_of(100) {
                    tracing::warn!(
                        "{name}: cannot connect to {}: {e}; retrying every {} ms",
                        client.uri,
                        client.reconnect_interval.as_millis()
                    );
                }
                failures = failures.saturating_add(1);
            }
        }
        tokio::time::sleep(client.reconnect_interval).await;
    }
}

/// Unbinds a socket's applications however its session ends (also when
/// the task is aborted by a reload).
struct Bound {
    ari: Arc<Ari>,
    socket: u64,
}

impl Drop for Bound {
    fn drop(&mut self) {
        for app in self.ari.apps.unregister(self.socket) {
            tracing::info!(verbose = 2, "Deactivating Stasis app '{app}'");
        }
    }
}

/// Serves one connection: registers its applications, tells the server,
/// then runs it like an inbound events socket, applying application
/// changes from reloads as they come.
async fn session(
    ari: &Arc<Ari>,
    name: &str,
    ws: WebSocketStream<Link>,
    spec: &mut watch::Receiver<Spec>,
) {
    let (socket, rx) = Socket::new(ari.next_socket_id());
    let _bound = Bound {
        ari: Arc::clone(ari),
        socket: socket.id(),
    };
    let first = spec.borrow().clone();
    let mut apps = first.outbound.apps.clone();
    crate::websocket::register(ari, &socket, &apps, first.outbound.subscribe_all);
    for app in &apps {
        announce(ari, &socket, app, &Payload::ApplicationRegistered {});
    }
    let serve = crate::websocket::serve(
        Arc::clone(ari),
        OutboundWire(ws),
        Arc::clone(&socket),
        rx,
        first.read_only,
        apps.first().cloned().unwrap_or_default(),
    );
    tokio::pin!(serve);
    loop {
        tokio::select! {
            () = &mut serve => return,
            changed = spec.changed() => {
                if changed.is_err() {
                    return;
                }
                let next = spec.borrow_and_update().clone();
                let wanted = &next.outbound.apps;
                for gone in apps.iter().filter(|a| !wanted.contains(a)) {
                    announce(ari, &socket, gone, &Payload::ApplicationUnregistered {});
                    ari.apps.unregister_app(gone, socket.id());
                    tracing::info!(verbose = 2, "{name}: Stasis app '{gone}' unregistered");
                }
                crate::websocket::register(ari, &socket, wanted, next.outbound.subscribe_all);
                for added in wanted.iter().filter(|a| !apps.contains(a)) {
                    announce(ari, &socket, added, &Payload::ApplicationRegistered {});
                }
                apps.clone_from(wanted);
            }
        }
    }
}

/// A per-call connection, open while its channel is in Stasis.
pub(crate) struct PerCall {
    ari: Arc<Ari>,
    name: String,
    socket: Arc<Socket>,
    task: JoinHandle<()>,
}

impl PerCall {
    /// The call's application name, `app:<channel name>`.
    pub(crate) fn app(&self) -> &str {
        &self.name
    }

    /// Closes the connection once what was queued for it (`StasisEnd`)
    /// has been written, waiting at most a second for a slow server.
    pub(crate) async fn close(self) {
        self.ari.apps.unregister_app(&self.name, self.socket.id());
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        while !self.socket.drained() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.socket.drop_client();
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// Queues an application event on the socket.
fn announce(ari: &Ari, socket: &Socket, app: &str, payload: &Payload) {
    let now = crate::json::timestamp(SystemTime::now());
    if let Some(text) = ari.render_event(payload, &now, app) {
        socket.send(text);
    }
}

/// Opens the WebSocket: TCP (and TLS for `wss://`, the server checked
/// against `ca_list_file`) within `connection_timeout`, then the
/// upgrade with the configured subprotocols and Basic credentials.
async fn connect(client: &Client) -> Result<WebSocketStream<Link>, String> {
    let mut request = client
        .uri
        .as_str()
        .into_client_request()
        .map_err(|e| format!("bad uri: {e}"))?;
    let host = request
        .uri()
        .host()
        .ok_or("the uri has no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = request
        .uri()
        .port_u16()
        .unwrap_or(if client.tls_enabled { 443 } else { 80 });
    let headers = request.headers_mut();
    if !client.protocols.is_empty() {
        let value = HeaderValue::from_str(&client.protocols).map_err(|e| e.to_string())?;
        headers.insert("Sec-WebSocket-Protocol", value);
    }
    if !client.username.is_empty() {
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", client.username, client.password));
        let value =
            HeaderValue::from_str(&format!("Basic {credentials}")).map_err(|e| e.to_string())?;
        headers.insert("Authorization", value);
    }
    let tls = if client.tls_enabled {
        let connector = obelus_transport::tls::connector(
            &client.ca_list_file,
            client.verify_server_cert,
            client.verify_server_hostname,
        )?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("'{host}' cannot be a TLS server name: {e}"))?;
        Some((connector, name))
    } else {
        None
    };
    let attempt = async {
        let stream = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let link = match tls {
            Some((connector, name)) => Link::Tls(Box::new(
                connector
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS: {e}"))?,
            )),
            None => Link::Plain(stream),
        };
        tokio_tungstenite::client_async(request, link)
            .await
            .map(|(ws, _)| ws)
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(client.connection_timeout, attempt)
        .await
        .map_err(|_| {
            format!(
                "no answer within {} ms",
                client.connection_timeout.as_millis()
            )
        })?
}

/// What the WebSocket runs over: TCP, or TLS over it (`wss://`,
/// `tls_enabled`).
pub(crate) enum Link {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Link {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Link::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Link {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Link::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Link::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => Pin::new(s).poll_flush(cx),
            Link::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Link::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An outbound connection as ARI's socket loop sees it.
struct OutboundWire(WebSocketStream<Link>);

impl Wire for OutboundWire {
    async fn send_text(&mut self, text: String) -> Result<(), String> {
        self.0
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| e.to_string())
    }

    async fn recv_text(&mut self) -> Option<Option<String>> {
        match self.0.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => None,
            Some(Ok(Message::Text(frame))) => Some(Some(frame.to_string())),
            Some(Ok(_)) => Some(None),
        }
    }

    async fn close(&mut self) {
        let _ = self.0.close(None).await;
    }
}
