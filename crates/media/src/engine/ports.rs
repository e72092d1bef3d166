//! Binding RTP/RTCP port pairs from the configured range, and recycling
//! the pairs of ended streams.
//!
//! Creating and closing a UDP socket is the largest cost of a short call
//! (four sockets per two-leg call; most of the daemon's CPU at 1,000 calls/s
//! was spent in the kernel's `socket()` and `close()`), so the pairs of
//! ended streams wait in a [`PortPool`] and are handed out again, emptied of
//! late packets, once they have rested for [`QUARANTINE`].

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::RtpConfig;
use crate::error::MediaError;

/// Kernel socket buffer asked for: bursts of a busy relay must not overflow
/// between two epoll wake-ups (the kernel caps it at `net.core.rmem_max`).
const SOCKET_BUFFER: usize = 1 << 20;

fn bind_one(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer only costs drops under bursts.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Whether binding failed because of the port (someone holds it), as
/// opposed to the process (no descriptors left, no memory).
fn port_taken(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::AddrInUse
            | std::io::ErrorKind::AddrNotAvailable
            | std::io::ErrorKind::PermissionDenied
    )
}

/// Binds an even RTP port and the odd RTCP port above it, trying the pairs of
/// the range in turn from a rotating cursor (so a port just released is not
/// handed out again at once).
pub(crate) fn bind_pair(
    cfg: &RtpConfig,
    ip: IpAddr,
    cursor: &AtomicUsize,
) -> Result<(UdpSocket, UdpSocket), MediaError> {
    let first = u32::from(cfg.port_start).div_ceil(2) * 2;
    let end = u32::from(cfg.port_end);
    let pairs = if end > first {
        (end - first).div_ceil(2) as usize
    } else {
        0
    };
    let no_ports = || MediaError::NoPorts {
        start: cfg.port_start,
        end: cfg.port_end,
    };
    if pairs == 0 {
        return Err(no_ports());
    }
    let start = cursor.fetch_add(1, Ordering::Relaxed);
    for i in 0..pairs {
        // `port + 1 <= port_end <= u16::MAX`, so both fit in a u16.
        let port = (first + 2 * ((start + i) % pairs) as u32) as u16;
        let rtp = match bind_one(SocketAddr::new(ip, port)) {
            Ok(socket) => socket,
            Err(e) if port_taken(&e) => continue,
            // Out of descriptors or memory: every other port would fail too.
            Err(e) => return Err(e.into()),
        };
        let rtcp = match bind_one(SocketAddr::new(ip, port + 1)) {
            Ok(socket) => socket,
            Err(e) if port_taken(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        cursor.store(start + i + 1, Ordering::Relaxed);
        return Ok((rtp, rtcp));
    }
    Err(no_ports())
}

/// How long a released pair rests before it serves another stream: late
/// packets of the call that used it (a peer still sending after BYE) must
/// not reach the next call. A peer stops sending when the BYE goes out, so
/// only packets in flight remain; half a second keeps the pool small enough
/// (pairs released per second times this) to cover thousands of calls/s.
pub(crate) const QUARANTINE: Duration = Duration::from_millis(500);

/// Most pairs kept for reuse; beyond it released pairs are closed, so a burst
/// of hang-ups cannot hold file descriptors without bound.
const POOL_LIMIT: usize = 4096;

/// Share of the process's descriptor limit the pool may hold (two per
/// pair): live calls need the rest.
const POOL_SHARE_OF_FD_LIMIT: u64 = 8;

/// How many pairs the pool keeps: [`POOL_LIMIT`], or less when the
/// descriptor limit (`ulimit -n`) is low.
fn pool_limit() -> usize {
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft);
    usize::try_from(soft / POOL_SHARE_OF_FD_LIMIT / 2)
        .unwrap_or(POOL_LIMIT)
        .min(POOL_LIMIT)
}

/// A released RTP/RTCP pair waiting to be reused.
struct Rested {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    released: Instant,
}

/// The pairs of ended streams, per local address, oldest first.
pub(crate) struct PortPool {
    by_ip: Mutex<HashMap<IpAddr, VecDeque<Rested>>>,
    limit: usize,
}

impl Default for PortPool {
    fn default() -> Self {
        PortPool {
            by_ip: Mutex::new(HashMap::new()),
            limit: pool_limit(),
        }
    }
}

impl PortPool {
    /// Keeps a pair released at `now` for later; closes it when the pool is full.
    pub(crate) fn release(&self, rtp: UdpSocket, rtcp: UdpSocket, now: Instant) {
        let Ok(ip) = rtp.local_addr().map(|a| a.ip()) else {
            return;
        };
        let mut by_ip = self.by_ip.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = by_ip.values().map(VecDeque::len).sum();
        if total >= self.limit {
            return;
        }
        by_ip.entry(ip).or_default().push_back(Rested {
            rtp,
            rtcp,
            released: now,
        });
    }

    /// The oldest pair on `ip`: only one rested for [`QUARANTINE`] unless
    /// `any_age` (the range is exhausted otherwise). Packets that arrived
    /// while it rested are discarded.
    pub(crate) fn take(
        &self,
        ip: IpAddr,
        now: Instant,
        any_age: bool,
    ) -> Option<(UdpSocket, UdpSocket)> {
        let rested = {
            let mut by_ip = self.by_ip.lock().unwrap_or_else(|p| p.into_inner());
            let queue = by_ip.get_mut(&ip)?;
            let ready = queue
                .front()
                .is_some_and(|r| any_age || now.duration_since(r.released) >= QUARANTINE);
            if !ready {
                return None;
            }
            queue.pop_front()?
        };
        drain(&rested.rtp);
        drain(&rested.rtcp);
        Some((rested.rtp, rested.rtcp))
    }

    /// Pairs waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let by_ip = self.by_ip.lock().unwrap_or_else(|p| p.into_inner());
        by_ip.values().map(VecDeque::len).sum()
    }
}

/// Reads and drops whatever a non-blocking socket holds.
fn drain(socket: &UdpSocket) {
    let mut buf = [0u8; 2048];
    while socket.recv_from(&mut buf).is_ok() {}
}

/// A pair for a new stream on `ip`: a rested one from the pool, else a fresh
/// bind from the range, else (the range is full) the oldest pooled one.
pub(crate) fn acquire_pair(
    cfg: &RtpConfig,
    ip: IpAddr,
    cursor: &AtomicUsize,
    pool: &PortPool,
) -> Result<(UdpSocket, UdpSocket), MediaError> {
    let now = Instant::now();
    if let Some(pair) = pool.take(ip, now, false) {
        return Ok(pair);
    }
    match bind_pair(cfg, ip, cursor) {
        Err(MediaError::NoPorts { start, end }) => pool
            .take(ip, now, true)
            .ok_or(MediaError::NoPorts { start, end }),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = bind_one(SocketAddr::new(LOCALHOST, 0)).unwrap();
        let b = bind_one(SocketAddr::new(LOCALHOST, 0)).unwrap();
        (a, b)
    }

    #[test]
    fn a_released_pair_rests_before_reuse_and_comes_back_empty() {
        let pool = PortPool::default();
        let (rtp, rtcp) = pair();
        let port = rtp.local_addr().unwrap().port();
        let late = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        late.send_to(b"late packet", rtp.local_addr().unwrap())
            .unwrap();
        let t0 = Instant::now();
        pool.release(rtp, rtcp, t0);
        assert!(pool.take(LOCALHOST, t0 + QUARANTINE / 2, false).is_none());
        let (rtp, _rtcp) = pool
            .take(LOCALHOST, t0 + QUARANTINE, false)
            .expect("rested pair");
        assert_eq!(rtp.local_addr().unwrap().port(), port);
        let mut buf = [0u8; 64];
        assert!(rtp.recv_from(&mut buf).is_err(), "late packet was drained");
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn an_exhausted_range_takes_a_resting_pair() {
        let pool = PortPool::default();
        let (rtp, rtcp) = pair();
        let t0 = Instant::now();
        pool.release(rtp, rtcp, t0);
        assert!(pool.take(LOCALHOST, t0, false).is_none());
        assert!(pool.take(LOCALHOST, t0, true).is_some());
    }

    #[test]
    fn pairs_on_another_address_are_not_handed_out() {
        let pool = PortPool::default();
        let (rtp, rtcp) = pair();
        let t0 = Instant::now();
        pool.release(rtp, rtcp, t0);
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        assert!(pool.take(other, t0 + QUARANTINE, false).is_none());
    }
}
