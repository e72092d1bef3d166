//! The TCP listener: accept, frame (RFC 3261 §18.3), answer CRLF pings
//! (RFC 5626 §3.5.1), and keep the connections by peer address for reuse.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use obelus_sip::{Frame, Message, frame_stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Incoming0, Protocol, Reply, SharedSink, Stats, TransportError, deliver};

/// Messages queued per connection before the writer is considered stuck.
const WRITE_QUEUE: usize = 256;
/// A connection silent this long is closed (clients keep theirs open with
/// CRLF pings, RFC 5626 §4.4.1, or re-REGISTERs well within it).
const IDLE: std::time::Duration = std::time::Duration::from_secs(600);

/// Open connections by peer address, with their writer queues.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    map: Mutex<HashMap<SocketAddr, (mpsc::Sender<Bytes>, tokio::task::AbortHandle)>>,
}

impl Connections {
    pub(crate) fn get(&self, peer: SocketAddr) -> Option<mpsc::Sender<Bytes>> {
        let map = self.map.lock().ok()?;
        map.get(&peer).map(|(tx, _)| tx.clone())
    }

    fn insert(&self, peer: SocketAddr, tx: mpsc::Sender<Bytes>, task: tokio::task::AbortHandle) {
        if let Ok(mut map) = self.map.lock() {
            map.insert(peer, (tx, task));
        }
    }

    fn remove(&self, peer: SocketAddr) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&peer);
        }
    }

    pub(crate) fn close_all(&self) {
        if let Ok(mut map) = self.map.lock() {
            for (_, (_, task)) in map.drain() {
                task.abort();
            }
        }
    }
}

/// Binds and spawns the accept loop.
pub(crate) async fn start(
    bind: SocketAddr,
    name: Arc<str>,
    sink: SharedSink,
    stats: Arc<Stats>,
    connections: Arc<Connections>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(SocketAddr, JoinHandle<()>), TransportError> {
    let listener = TcpListener::bind(bind).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("SIP TCP {name}: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let (tx, rx) = mpsc::channel(WRITE_QUEUE);
            let conn = Connection {
                peer,
                local,
                name: Arc::clone(&name),
                protocol: if tls.is_some() {
                    Protocol::Tls
                } else {
                    Protocol::Tcp
                },
                sink: sink.clone(),
                stats: Arc::clone(&stats),
                tx: tx.clone(),
            };
            let registry = Arc::clone(&connections);
            let acceptor = tls.clone();
            let handle = tokio::spawn(async move {
                match acceptor {
                    None => conn.run(stream, rx).await,
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                            Ok(Ok(secure)) => conn.run(secure, rx).await,
                            Ok(Err(e)) => tracing::debug!(
                                "SIP TLS {}: handshake with {peer} failed: {e}",
                                conn.name
                            ),
                            Err(_) => tracing::debug!(
                                "SIP TLS {}: handshake with {peer} timed out",
                                conn.name
                            ),
                        }
                    }
                }
                registry.remove(peer);
            });
            connections.insert(peer, tx, handle.abort_handle());
        }
    });
    Ok((local, task))
}

/// How long a TLS client may take to complete its handshake.
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

struct Connection {
    peer: SocketAddr,
    local: SocketAddr,
    name: Arc<str>,
    protocol: Protocol,
    sink: SharedSink,
    stats: Arc<Stats>,
    tx: mpsc::Sender<Bytes>,
}

impl Connection {
    async fn run<S>(self, stream: S, mut rx: mpsc::Receiver<Bytes>)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let (protocol, peer) = (self.protocol, self.peer);
        let writer_task = tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if bytes.len() > 2 {
                    crate::logger::transmitted(protocol, peer, &bytes);
                }
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = BytesMut::with_capacity(8192);
        'read: loop {
            match tokio::time::timeout(IDLE, reader.read_buf(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(_)) => {}
                Err(_) => {
                    tracing::debug!("SIP TCP {}: {} idle, closing", self.name, self.peer);
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
                        crate::logger::received(self.protocol, self.peer, &bytes);
                        let parsed = Message::parse_stream(bytes.clone());
                        let ctx = Incoming0 {
                            source: self.peer,
                            local: self.local,
                            transport: Arc::clone(&self.name),
                            protocol: self.protocol,
                            reply: Reply::Tcp(self.tx.clone()),
                        };
                        if let Some(answer) = deliver(&bytes, parsed, ctx, &self.sink, &self.stats)
                            && self.tx.send(answer).await.is_err()
                        {
                            break 'read;
                        }
                    }
                    Err(e) => {
                        // The stream cannot be framed any more: answer if we
                        // can, then close (RFC 3261 §18.3).
                        tracing::debug!(
                            "SIP TCP {}: {} sent unframeable data: {e}",
                            self.name,
                            self.peer
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
        drop(self.tx);
        // Let queued answers drain, bounded.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer_task).await;
    }
}
