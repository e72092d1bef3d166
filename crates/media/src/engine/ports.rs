//! Binding RTP/RTCP port pairs from the configured range.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};

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
        let Ok(rtp) = bind_one(SocketAddr::new(ip, port)) else {
            continue;
        };
        let Ok(rtcp) = bind_one(SocketAddr::new(ip, port + 1)) else {
            continue;
        };
        cursor.store(start + i + 1, Ordering::Relaxed);
        return Ok((rtp, rtcp));
    }
    Err(no_ports())
}
