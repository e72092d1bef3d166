//! The UDP listener: one socket, one receive loop (RFC 3261 §18.2.1).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use obelus_sip::Message;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Incoming, Incoming0, MAX_DATAGRAM, Protocol, Reply, Stats, TransportError, deliver};

/// Binds and spawns the receive loop.
pub(crate) async fn start(
    bind: SocketAddr,
    name: Arc<str>,
    sink: mpsc::Sender<Incoming>,
    stats: Arc<Stats>,
) -> Result<(SocketAddr, Arc<UdpSocket>, JoinHandle<()>), TransportError> {
    let socket = Arc::new(UdpSocket::bind(bind).await?);
    let shared = Arc::clone(&socket);
    let local = socket.local_addr()?;
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (n, peer) = match socket.recv_from(&mut buf).await {
                Ok(r) => r,
                // ICMP port unreachable and the like surface here: keep going.
                Err(e) => {
                    tracing::debug!("SIP UDP {name}: receive error: {e}");
                    continue;
                }
            };
            let Some(data) = buf.get(..n) else { continue };
            if data.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
                // Keep-alive (RFC 5626 §4.4.1 CRLF, or NAT pings): ignore.
                continue;
            }
            crate::logger::received(Protocol::Udp, peer, data);
            let bytes = Bytes::copy_from_slice(data);
            let parsed = Message::parse(bytes.clone());
            let ctx = Incoming0 {
                source: peer,
                local,
                transport: Arc::clone(&name),
                protocol: Protocol::Udp,
                reply: Reply::Udp {
                    socket: Arc::clone(&socket),
                    peer,
                },
            };
            if let Some(answer) = deliver(&bytes, parsed, ctx, &sink, &stats) {
                let _ = socket.send_to(&answer, peer).await;
            }
        }
    });
    Ok((local, shared, task))
}
