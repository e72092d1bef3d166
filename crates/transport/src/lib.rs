//! # obelus-transport: the sockets under the SIP stack
//!
//! One tokio task per listener: a UDP socket (one per `type=transport`
//! section with `protocol=udp`) or a TCP acceptor with one task per
//! connection (RFC 3261 §18.3 framing through [`obelus_sip::frame_stream`],
//! RFC 5626 CRLF keep-alives answered). Every well-formed message goes to the
//! stack as an [`Incoming`] through a bounded channel; the [`Reply`] in it
//! sends bytes back the way the message came (same socket, same
//! connection).
//!
//! Requests Obelus sends itself over TCP, TLS or WebSocket go through a
//! [`StreamTransport`]: down the connection open to the target, or a new
//! one (TCP connect, TLS handshake with rustls) that then works as an
//! accepted one. When a connection closes the sink hears of it
//! ([`Sink::closed`]), so contacts only it could reach can be dropped.
//!
//! Malformed requests that still name Via, From, To, Call-ID and CSeq are
//! answered here with the response [`obelus_sip::ParseError::status`] gives
//! (`400 Bad Via Header`, `505 Version Not Supported`, ...); anything else is
//! dropped and counted in [`Stats`]. Nothing here panics on input.
//!
//! Layer: **transport**, under `obelus-sip`'s users (the pjsip stack).

mod connections;
mod error;
pub mod logger;
mod malformed;
mod stream;
mod tcp;
pub mod tls;
mod udp;
pub mod ws;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use obelus_sip::Message;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use error::TransportError;
pub use stream::StreamTransport;

/// The SIP port when `bind` names none (RFC 3261 §19.1.2).
pub const DEFAULT_PORT: u16 = 5060;

/// Largest datagram accepted (UDP payloads cannot exceed this).
pub const MAX_DATAGRAM: usize = 65_535;

/// The transport protocols this crate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `protocol=udp`.
    Udp,
    /// `protocol=tcp`.
    Tcp,
    /// `protocol=tls`: TCP framing inside TLS (rustls).
    Tls,
    /// `protocol=ws`: one SIP message per WebSocket message (RFC 7118), on
    /// the HTTP server's `/ws`.
    Ws,
    /// `protocol=wss`: the same over TLS, on the HTTPS server's `/ws`.
    Wss,
}

impl Protocol {
    /// Parses the `protocol` option of a transport; `None` for the ones
    /// not implemented (flow).
    pub fn parse(text: &str) -> Option<Protocol> {
        if text.eq_ignore_ascii_case("udp") {
            Some(Protocol::Udp)
        } else if text.eq_ignore_ascii_case("tcp") {
            Some(Protocol::Tcp)
        } else if text.eq_ignore_ascii_case("tls") {
            Some(Protocol::Tls)
        } else if text.eq_ignore_ascii_case("ws") {
            Some(Protocol::Ws)
        } else if text.eq_ignore_ascii_case("wss") {
            Some(Protocol::Wss)
        } else {
            None
        }
    }

    /// The option value (`udp`), as `pjsip show transports` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
            Protocol::Ws => "ws",
            Protocol::Wss => "wss",
        }
    }

    /// The `transport` parameter of a SIP URI reached this way (`tcp`):
    /// `ws` for both WebSocket kinds (RFC 7118 §5.2; the Via says which),
    /// `None` for UDP, the default.
    pub fn uri_param(self) -> Option<&'static str> {
        match self {
            Protocol::Udp => None,
            Protocol::Tcp => Some("tcp"),
            Protocol::Tls => Some("tls"),
            Protocol::Ws | Protocol::Wss => Some("ws"),
        }
    }

    /// True for SIP over WebSocket, plain or secure: the peer is reached
    /// only down the socket it opened.
    pub fn is_websocket(self) -> bool {
        matches!(self, Protocol::Ws | Protocol::Wss)
    }

    /// The Via transport token (`UDP`), also used in security events.
    pub fn via_name(self) -> &'static str {
        match self {
            Protocol::Udp => "UDP",
            Protocol::Tcp => "TCP",
            Protocol::Tls => "TLS",
            Protocol::Ws => "WS",
            Protocol::Wss => "WSS",
        }
    }

    /// True when the transport delivers reliably (no retransmissions,
    /// RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        matches!(
            self,
            Protocol::Tcp | Protocol::Tls | Protocol::Ws | Protocol::Wss
        )
    }
}

/// One listener to start: a `type=transport` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// The section name (`transport-udp`).
    pub name: String,
    /// udp or tcp.
    pub protocol: Protocol,
    /// The address to bind.
    pub bind: SocketAddr,
}

/// Parses a `bind` value: `ip`, `ip:port`, `[v6]`, `[v6]:port`; an empty
/// value is `0.0.0.0:5060` as in Asterisk.
pub fn parse_bind(text: &str) -> Result<SocketAddr, TransportError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            DEFAULT_PORT,
        ));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DEFAULT_PORT))
        .map_err(|_| TransportError::BadBind(text.to_owned()))
}

/// Counters of one listener, readable while it runs.
#[derive(Debug, Default)]
pub struct Stats {
    received: AtomicU64,
    answered_malformed: AtomicU64,
    dropped: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Messages handed to the stack.
    pub received: u64,
    /// Malformed requests answered with a 4xx/5xx here.
    pub answered_malformed: u64,
    /// Input dropped: unparseable, malformed responses, or the stack's
    /// queue full.
    pub dropped: u64,
}

impl Stats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            received: self.received.load(Ordering::Relaxed),
            answered_malformed: self.answered_malformed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where to send the answer to an [`Incoming`] message.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Back out of the UDP socket it came in on.
    Udp {
        /// The listener's socket.
        socket: Arc<UdpSocket>,
        /// The datagram's source (RFC 3581 `rport` behaviour: answer there).
        peer: SocketAddr,
    },
    /// Down the TCP connection it came on (the writer task's queue).
    Tcp(mpsc::Sender<Bytes>),
    /// Down the WebSocket (plain or secure) it came on, as one message.
    WebSocket(mpsc::Sender<Bytes>),
}

impl Reply {
    /// Sends `bytes`; a closed connection or a socket error is an error
    /// (the transaction layer treats it as a transport error).
    pub async fn send(&self, bytes: Bytes) -> Result<(), TransportError> {
        match self {
            Reply::Udp { socket, peer } => {
                logger::transmitted(Protocol::Udp, *peer, &bytes);
                socket
                    .send_to(&bytes, *peer)
                    .await
                    .map(|_| ())
                    .map_err(TransportError::Io)
            }
            Reply::Tcp(tx) | Reply::WebSocket(tx) => {
                tx.send(bytes).await.map_err(|_| TransportError::Closed)
            }
        }
    }
}

impl Reply {
    /// True once the connection behind it has ended (TCP, TLS, WebSocket:
    /// the peer closed it, or it failed): nothing sent here would arrive,
    /// so a dialog must find its peer another way. Never for UDP.
    pub fn is_closed(&self) -> bool {
        match self {
            Reply::Udp { .. } => false,
            Reply::Tcp(tx) | Reply::WebSocket(tx) => tx.is_closed(),
        }
    }

    /// Sends `bytes` without waiting when the socket or queue has room
    /// (the common case); `Err` hands the bytes back to send with
    /// [`Reply::send`] instead.
    pub fn try_send(&self, bytes: Bytes) -> Result<(), Bytes> {
        match self {
            Reply::Udp { socket, peer } => match socket.try_send_to(&bytes, *peer) {
                Ok(_) => {
                    logger::transmitted(Protocol::Udp, *peer, &bytes);
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(bytes),
                // Other socket errors are what `send` would meet too: report
                // them the same way, once.
                Err(e) => {
                    tracing::debug!("SIP: send to {peer} failed: {e}");
                    Ok(())
                }
            },
            Reply::Tcp(tx) | Reply::WebSocket(tx) => tx.try_send(bytes).map_err(|e| match e {
                mpsc::error::TrySendError::Full(b) | mpsc::error::TrySendError::Closed(b) => b,
            }),
        }
    }
}

/// A message received by a listener.
#[derive(Debug)]
pub struct Incoming {
    /// The parsed message (headers already validated for requests).
    pub message: Message,
    /// The peer's address as seen on the socket.
    pub source: SocketAddr,
    /// Our address (the listener's bind).
    pub local: SocketAddr,
    /// The transport section name.
    pub transport: Arc<str>,
    /// udp or tcp.
    pub protocol: Protocol,
    /// How to answer.
    pub reply: Reply,
}

/// Where listeners hand what they receive. The receive task calls
/// [`Sink::deliver`] itself, so a sink that can answer at once (the SIP
/// stack's registrar, OPTIONS, retransmissions) does so on that task with
/// no hand-off to another thread; a channel ([`mpsc::Sender`]) is the plain
/// queueing sink.
pub trait Sink: Send + Sync + 'static {
    /// Takes one message; `Err` hands it back when the sink is overloaded
    /// (the listener then drops and counts it: a UDP peer retransmits).
    #[allow(clippy::result_large_err)]
    fn deliver(&self, incoming: Incoming) -> Result<(), Incoming>;

    /// The connection from `peer` on `transport` has closed (TCP, TLS,
    /// WebSocket): whatever was bound to it (a registered contact that can
    /// only be reached over it) can go. Called on the connection's task;
    /// nothing to do by default.
    fn closed(&self, transport: &str, protocol: Protocol, peer: SocketAddr) {
        let _ = (transport, protocol, peer);
    }
}

impl Sink for mpsc::Sender<Incoming> {
    fn deliver(&self, incoming: Incoming) -> Result<(), Incoming> {
        self.try_send(incoming).map_err(|e| match e {
            mpsc::error::TrySendError::Full(i) | mpsc::error::TrySendError::Closed(i) => i,
        })
    }
}

/// A sink shared by a listener's tasks.
pub type SharedSink = Arc<dyn Sink>;

/// A running listener; stops when [`Listener::stop`] is called or it is
/// dropped.
#[derive(Debug)]
pub struct Listener {
    config: TransportConfig,
    local: SocketAddr,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
    streams: Option<Arc<tcp::Streams>>,
    udp: Option<Arc<UdpSocket>>,
}

impl Listener {
    /// Binds the socket and starts receiving; messages go to `sink`.
    pub async fn start(
        config: TransportConfig,
        sink: SharedSink,
    ) -> Result<Listener, TransportError> {
        Self::start_with(config, None, sink).await
    }

    /// Like [`Listener::start`], for `protocol=tls`: connections complete a
    /// handshake with `acceptor` first (see [`tls::acceptor`]).
    pub async fn start_tls(
        config: TransportConfig,
        acceptor: tokio_rustls::TlsAcceptor,
        sink: SharedSink,
    ) -> Result<Listener, TransportError> {
        Self::start_with(config, Some(acceptor), sink).await
    }

    async fn start_with(
        config: TransportConfig,
        tls: Option<tokio_rustls::TlsAcceptor>,
        sink: SharedSink,
    ) -> Result<Listener, TransportError> {
        let stats = Arc::new(Stats::default());
        let name: Arc<str> = Arc::from(config.name.as_str());
        match config.protocol {
            Protocol::Udp => {
                let (local, socket, task) =
                    udp::start(config.bind, name, sink, Arc::clone(&stats)).await?;
                Ok(Listener {
                    config,
                    local,
                    stats,
                    task,
                    streams: None,
                    udp: Some(socket),
                })
            }
            Protocol::Ws | Protocol::Wss => Err(TransportError::Io(std::io::Error::other(
                "WebSocket transports are served by the HTTP server (http.conf), not a listener",
            ))),
            Protocol::Tcp | Protocol::Tls => {
                if config.protocol == Protocol::Tls && tls.is_none() {
                    return Err(TransportError::Io(std::io::Error::other(
                        "a TLS transport needs a certificate and key (cert_file, priv_key_file)",
                    )));
                }
                let (streams, task) =
                    tcp::start(config.bind, name, sink, Arc::clone(&stats), tls).await?;
                Ok(Listener {
                    config,
                    local: streams.local,
                    stats,
                    task,
                    streams: Some(streams),
                    udp: None,
                })
            }
        }
    }

    /// The UDP socket, for requests Obelus sends itself (qualify); `None`
    /// for stream transports.
    pub fn udp_socket(&self) -> Option<Arc<UdpSocket>> {
        self.udp.clone()
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The open TCP connection to `peer`, for reusing it to send a request
    /// (RFC 3261 §18.1.1; connection reuse, RFC 5923 style); `None` on UDP
    /// or when no connection is open.
    pub fn connection_to(&self, peer: SocketAddr) -> Option<Reply> {
        self.streams
            .as_ref()
            .and_then(|s| s.connections.get(peer))
            .map(Reply::Tcp)
    }

    /// The handle that sends requests of our own over this TCP or TLS
    /// transport (reusing or opening connections); `None` for UDP.
    pub fn stream(&self) -> Option<StreamTransport> {
        self.streams.clone().map(StreamTransport::tcp)
    }

    /// Stops the listener and, for TCP, every connection it accepted or
    /// opened.
    pub fn stop(&self) {
        self.task.abort();
        if let Some(s) = &self.streams {
            s.connections.close_all();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Hands a parsed message to the stack, or answers / drops malformed input.
/// Shared by UDP and TCP: `parsed` is the result of the parser on `buf`.
fn deliver(
    buf: &[u8],
    parsed: Result<Message, obelus_sip::ParseError>,
    ctx: Incoming0,
    sink: &SharedSink,
    stats: &Stats,
) -> Option<Bytes> {
    let message = match parsed.and_then(|m| match &m {
        Message::Request(_) => m.validate().map(|()| m),
        Message::Response(_) => Ok(m),
    }) {
        Ok(m) => m,
        Err(e) => {
            let answer = malformed::error_response(buf, &e);
            tracing::debug!(
                "SIP: malformed message from {} on {}: {e}",
                ctx.source,
                ctx.transport
            );
            Stats::count(if answer.is_some() {
                &stats.answered_malformed
            } else {
                &stats.dropped
            });
            return answer;
        }
    };
    let incoming = Incoming {
        message,
        source: ctx.source,
        local: ctx.local,
        transport: ctx.transport,
        protocol: ctx.protocol,
        reply: ctx.reply,
    };
    match sink.deliver(incoming) {
        Ok(()) => Stats::count(&stats.received),
        Err(_) => {
            // Overloaded: drop, the peer retransmits (UDP) or times out.
            Stats::count(&stats.dropped);
        }
    }
    None
}

/// Everything of an [`Incoming`] but the message.
struct Incoming0 {
    source: SocketAddr,
    local: SocketAddr,
    transport: Arc<str>,
    protocol: Protocol,
    reply: Reply,
}

#[cfg(test)]
mod tests;
