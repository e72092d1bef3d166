//! The UDP listener: one socket, one receive loop (RFC 3261 §18.2.1) that
//! takes the datagrams queued on the socket in batches (`recvmmsg`): under
//! load a wake-up and a system call serve many requests instead of one.

use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use bytes::Bytes;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};
use obelus_sip::Message;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::{Incoming0, MAX_DATAGRAM, Protocol, Reply, SharedSink, Stats, TransportError, deliver};

/// Datagrams taken per `recvmmsg` call.
const BATCH: usize = 16;

/// Receive buffers reused for every batch. (nix's message headers hold raw
/// pointers, so they are not `Send` and cannot live across the task's
/// awaits: they are made per batch, a small allocation per wake-up.)
struct Batch {
    bufs: Vec<Vec<u8>>,
    received: Vec<(usize, Option<SocketAddr>)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            bufs: vec![vec![0u8; MAX_DATAGRAM]; BATCH],
            received: Vec::with_capacity(BATCH),
        }
    }

    /// Takes what is queued on `fd` without blocking: how many datagrams,
    /// or `WouldBlock` when none is (so tokio waits for readiness again).
    fn recv(&mut self, fd: RawFd) -> std::io::Result<usize> {
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
            self.bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
        let results = recvmmsg(
            fd,
            &mut headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(std::io::Error::from)?;
        self.received.clear();
        for msg in results {
            let peer = msg.address.as_ref().and_then(socket_addr);
            self.received.push((msg.bytes.min(MAX_DATAGRAM), peer));
        }
        Ok(self.received.len())
    }

    /// Datagram `i` of the last batch and its source.
    fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        let &(len, peer) = self.received.get(i)?;
        Some((self.bufs.get(i)?.get(..len)?, peer?))
    }
}

fn socket_addr(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    s.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

/// Binds and spawns the receive loop.
pub(crate) async fn start(
    bind: SocketAddr,
    name: Arc<str>,
    sink: SharedSink,
    stats: Arc<Stats>,
) -> Result<(SocketAddr, Arc<UdpSocket>, JoinHandle<()>), TransportError> {
    let socket = Arc::new(UdpSocket::bind(bind).await?);
    let shared = Arc::clone(&socket);
    let local = socket.local_addr()?;
    let task = tokio::spawn(async move {
        let mut batch = Batch::new();
        loop {
            if let Err(e) = socket.readable().await {
                tracing::debug!("SIP UDP {name}: receive error: {e}");
                continue;
            }
            let fd = socket.as_raw_fd();
            let n = match socket.try_io(Interest::READABLE, || batch.recv(fd)) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                // ICMP port unreachable and the like surface here: keep going.
                Err(e) => {
                    tracing::debug!("SIP UDP {name}: receive error: {e}");
                    continue;
                }
            };
            for i in 0..n {
                let Some((data, peer)) = batch.get(i) else {
                    continue;
                };
                if let Some(answer) = handle(data, peer, local, &name, &socket, &sink, &stats) {
                    let _ = socket.send_to(&answer, peer).await;
                }
            }
        }
    });
    Ok((local, shared, task))
}

/// One datagram: keep-alives are ignored, the rest logged, parsed and
/// delivered; returns what to answer a malformed one with.
fn handle(
    data: &[u8],
    peer: SocketAddr,
    local: SocketAddr,
    name: &Arc<str>,
    socket: &Arc<UdpSocket>,
    sink: &SharedSink,
    stats: &Stats,
) -> Option<Bytes> {
    if data.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
        // Keep-alive (RFC 5626 §4.4.1 CRLF, or NAT pings): ignore.
        return None;
    }
    crate::logger::received(Protocol::Udp, peer, data);
    let bytes = Bytes::copy_from_slice(data);
    let parsed = Message::parse(bytes.clone());
    let ctx = Incoming0 {
        source: peer,
        local,
        transport: Arc::clone(name),
        protocol: Protocol::Udp,
        reply: Reply::Udp {
            socket: Arc::clone(socket),
            peer,
        },
    };
    deliver(&bytes, parsed, ctx, sink, stats)
}
