//! The TCP transport (and TLS inside it): accept, connect out, frame
//! (RFC 3261 §18.3), answer CRLF pings (RFC 5626 §3.5.1), and keep the
//! connections by peer address for reuse ([`Connections`]).
//!
//! A connection Obelus opened is the same as one a peer opened once it is
//! up: its requests reach the stack, and answers and in-dialog requests go
//! back down it. It differs in two ways, as pjsip's client connections do:
//! it is not closed for being quiet (a call may last longer than any idle
//! limit, and its BYE must still get through), and it sends CRLF
//! keep-alives (RFC 5626 §3.5.1) so that a dead peer or NAT binding shows.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use obelus_sip::{Frame, Message, frame_stream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::connections::Connections;
use crate::{Incoming0, Protocol, Reply, SharedSink, Stats, TransportError, deliver};

/// Messages queued per connection before the writer is considered stuck.
const WRITE_QUEUE: usize = 256;
/// A connection a peer opened and then left silent this long is closed
/// (clients keep theirs open with CRLF pings, RFC 5626 §4.4.1, or
/// re-REGISTERs well within it).
const IDLE: Duration = Duration::from_secs(600);
/// How often a connection Obelus opened is pinged (pjsip's
/// `PJSIP_TCP_KEEP_ALIVE_INTERVAL`).
const KEEPALIVE: Duration = Duration::from_secs(90);
/// How long a TCP connect may take.
const CONNECT: Duration = Duration::from_secs(5);
/// How long a TLS handshake may take, either way.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// What the connections of one TCP or TLS transport share.
pub(crate) struct Streams {
    pub(crate) name: Arc<str>,
    /// The listener's address: the `local` of what arrives, whichever side
    /// opened the connection.
    pub(crate) local: SocketAddr,
    pub(crate) protocol: Protocol,
    pub(crate) sink: SharedSink,
    pub(crate) stats: Arc<Stats>,
    pub(crate) connections: Connections,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("name", &self.name)
            .field("local", &self.local)
            .field("protocol", &self.protocol)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

/// Who opened a connection, which decides its idle rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Accepted,
    Opened,
}

/// Binds and spawns the accept loop.
pub(crate) async fn start(
    bind: SocketAddr,
    name: Arc<str>,
    sink: SharedSink,
    stats: Arc<Stats>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(Arc<Streams>, JoinHandle<()>), TransportError> {
    let listener = TcpListener::bind(bind).await?;
    let local = listener.local_addr()?;
    let streams = Arc::new(Streams {
        name,
        local,
        protocol: if tls.is_some() {
            Protocol::Tls
        } else {
            Protocol::Tcp
        },
        sink,
        stats,
        connections: Connections::default(),
    });
    let shared = Arc::clone(&streams);
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("SIP TCP {}: accept failed: {e}", shared.name);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match tls.clone() {
                None => {
                    shared.adopt(peer, Side::Accepted, async move { Some(stream) });
                }
                Some(acceptor) => {
                    let name = Arc::clone(&shared.name);
                    shared.adopt(peer, Side::Accepted, async move {
                        match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                            Ok(Ok(secure)) => Some(secure),
                            Ok(Err(e)) => {
                                tracing::debug!(
                                    "SIP TLS {name}: handshake with {peer} failed: {e}"
                                );
                                None
                            }
                            Err(_) => {
                                tracing::debug!("SIP TLS {name}: handshake with {peer} timed out");
                                None
                            }
                        }
                    });
                }
            }
        }
    });
    Ok((streams, task))
}

impl Streams {
    /// Starts the tasks of a connection to `peer` and records it; `open`
    /// completes it first (a TLS handshake) or gives `None` when it fails.
    /// Returns the connection's writer queue.
    fn adopt<S>(
        self: &Arc<Self>,
        peer: SocketAddr,
        side: Side,
        open: impl Future<Output = Option<S>> + Send + 'static,
    ) -> mpsc::Sender<Bytes>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let id = self.connections.next_id();
        let shared = Arc::clone(self);
        let conn = Connection {
            streams: Arc::clone(self),
            peer,
            id,
            side,
            tx: tx.clone(),
        };
        let handle = tokio::spawn(async move {
            match open.await {
                Some(stream) => conn.run(stream, rx).await,
                None => shared.connections.remove(peer, id),
            }
        });
        self.connections
            .insert(peer, id, tx.clone(), handle.abort_handle());
        tx
    }

    /// The connection to `peer`, opened now if none is (TCP connect, then
    /// the TLS handshake with `tls`: the connector and the name the server's
    /// certificate must carry). The new connection is handled as an
    /// accepted one: what the peer sends on it reaches the stack.
    pub(crate) async fn connect(
        self: &Arc<Self>,
        peer: SocketAddr,
        tls: Option<(&tokio_rustls::TlsConnector, &str)>,
    ) -> Result<mpsc::Sender<Bytes>, TransportError> {
        if let Some(tx) = self.connections.get(peer) {
            return Ok(tx);
        }
        let failed = |reason: String| TransportError::Connect { peer, reason };
        let stream = match tokio::time::timeout(CONNECT, TcpStream::connect(peer)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Err(_) => return Err(failed(format!("no answer within {}s", CONNECT.as_secs()))),
        };
        let _ = stream.set_nodelay(true);
        let tx = match (self.protocol, tls) {
            (Protocol::Tls, Some((connector, host))) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| failed(format!("'{host}' is no TLS server name: {e}")))?;
                let secure =
                    match tokio::time::timeout(HANDSHAKE, connector.connect(name, stream)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => return Err(failed(format!("TLS handshake: {e}"))),
                        Err(_) => return Err(failed("TLS handshake timed out".to_owned())),
                    };
                // Another request may have connected meanwhile: keep one.
                if let Some(tx) = self.connections.get(peer) {
                    return Ok(tx);
                }
                self.adopt(peer, Side::Opened, async move { Some(secure) })
            }
            (Protocol::Tls, None) => {
                return Err(failed("no TLS client configuration".to_owned()));
            }
            _ => {
                if let Some(tx) = self.connections.get(peer) {
                    return Ok(tx);
                }
                self.adopt(peer, Side::Opened, async move { Some(stream) })
            }
        };
        tracing::debug!(
            "SIP {} {}: connected to {peer}",
            self.protocol.via_name(),
            self.name
        );
        Ok(tx)
    }
}

/// One connection's reading side; the writer is a task fed by `tx`.
struct Connection {
    streams: Arc<Streams>,
    peer: SocketAddr,
    /// Its id in the connection table.
    id: u64,
    side: Side,
    tx: mpsc::Sender<Bytes>,
}

/// True for CRLF keep-alives (pings and pongs), which are not logged.
fn is_keepalive(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| matches!(b, b'\r' | b'\n'))
}

impl Connection {
    async fn run<S>(self, stream: S, rx: mpsc::Receiver<Bytes>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let (protocol, peer, name) = (
            self.streams.protocol,
            self.peer,
            Arc::clone(&self.streams.name),
        );
        // Shared with the reading side, which closes the queue the moment
        // the connection ends (see below); the lock is only held to poll.
        let queue = Arc::new(std::sync::Mutex::new(rx));
        let writer_queue = Arc::clone(&queue);
        let writer_task = tokio::spawn(async move {
            let next = || {
                std::future::poll_fn(|cx| {
                    writer_queue
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .poll_recv(cx)
                })
            };
            while let Some(bytes) = next().await {
                if !is_keepalive(&bytes) {
                    crate::logger::transmitted(protocol, peer, &bytes);
                }
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let pinger = (self.side == Side::Opened).then(|| {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let mut every =
                    tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
                loop {
                    every.tick().await;
                    if tx.send(Bytes::from_static(b"\r\n\r\n")).await.is_err() {
                        break;
                    }
                }
            })
        });
        let mut buf = BytesMut::with_capacity(8192);
        'read: loop {
            let read = match self.side {
                Side::Accepted => tokio::time::timeout(IDLE, reader.read_buf(&mut buf)).await,
                Side::Opened => Ok(reader.read_buf(&mut buf).await),
            };
            match read {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(_)) => {}
                Err(_) => {
                    tracing::debug!("SIP {} {name}: {peer} idle, closing", protocol.via_name());
                    break;
                }
            }
            loop {
                match frame_stream(&buf) {
                    Ok(None) => break,
                    Ok(Some(Frame::KeepAlive { len, pong })) => {
                        let _ = buf.split_to(len.min(buf.len()));
                        if pong && self.tx.send(Bytes::from_static(b"\r\n")).await.is_err() {
                            break 'read;
                        }
                    }
                    Ok(Some(Frame::Message { len })) => {
                        let bytes = buf.split_to(len.min(buf.len())).freeze();
                        crate::logger::received(protocol, peer, &bytes);
                        let parsed = Message::parse_stream(bytes.clone());
                        let ctx = Incoming0 {
                            source: peer,
                            local: self.streams.local,
                            transport: Arc::clone(&name),
                            protocol,
                            reply: Reply::Tcp(self.tx.clone()),
                        };
                        if let Some(answer) =
                            deliver(&bytes, parsed, ctx, &self.streams.sink, &self.streams.stats)
                            && self.tx.send(answer).await.is_err()
                        {
                            break 'read;
                        }
                    }
                    Err(e) => {
                        // The stream cannot be framed any more: answer if we
                        // can, then close (RFC 3261 §18.3).
                        tracing::debug!(
                            "SIP {} {name}: {peer} sent unframeable data: {e}",
                            protocol.via_name()
                        );
                        let error = match e {
                            obelus_sip::FrameError::MissingContentLength => {
                                obelus_sip::ParseError::MissingContentLength
                            }
                            obelus_sip::FrameError::BadContentLength => {
                                obelus_sip::ParseError::BadHeader("Content-Length")
                            }
                            _ => obelus_sip::ParseError::TooLarge,
                        };
                        if let Some(answer) = crate::malformed::error_response(&buf, &error) {
                            let _ = self.tx.send(answer).await;
                        }
                        break 'read;
                    }
                }
            }
        }
        // Gone for new requests at once: the queue takes nothing more, so
        // whoever holds its sender (a call's dialog) sees the connection
        // closed and routes its next request anew; then the stack hears of
        // it (contacts bound to it may go), while queued answers still
        // drain.
        queue.lock().unwrap_or_else(|e| e.into_inner()).close();
        self.streams.connections.remove(peer, self.id);
        self.streams.sink.closed(&self.streams.name, protocol, peer);
        if let Some(pinger) = pinger {
            pinger.abort();
        }
        drop(self.tx);
        // Let queued answers drain, bounded.
        let abort = writer_task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), writer_task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
