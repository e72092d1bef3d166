//! Batched datagram I/O: `recvmmsg` into preallocated buffers and a send
//! queue flushed with `sendmmsg`, one system call per socket per batch.
//! nix's safe wrappers keep the crate free of `unsafe`.

use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::RawFd;

use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};

/// Datagrams taken per `recvmmsg` call.
pub(crate) const RECV_BATCH: usize = 32;
/// Datagrams queued before a forced flush.
pub(crate) const SEND_BATCH: usize = 64;
/// Largest datagram handled; larger ones are truncated and dropped as
/// malformed (RTP audio here is at most 1932 bytes: 60 ms of L16/16000).
pub(crate) const MAX_DATAGRAM: usize = 2048;

fn to_socket_addr(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    s.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

/// Receive buffers for one worker, reused for every batch.
pub(crate) struct RecvBatch {
    bufs: Box<[[u8; MAX_DATAGRAM]; RECV_BATCH]>,
    headers: MultiHeaders<SockaddrStorage>,
    lens: [usize; RECV_BATCH],
    addrs: [Option<SocketAddr>; RECV_BATCH],
    truncated: [bool; RECV_BATCH],
}

impl RecvBatch {
    pub(crate) fn new() -> RecvBatch {
        RecvBatch {
            bufs: Box::new([[0; MAX_DATAGRAM]; RECV_BATCH]),
            headers: MultiHeaders::preallocate(RECV_BATCH, None),
            lens: [0; RECV_BATCH],
            addrs: [None; RECV_BATCH],
            truncated: [false; RECV_BATCH],
        }
    }

    /// Takes up to [`RECV_BATCH`] datagrams from `fd` without blocking;
    /// returns how many (0 when none are queued or on error).
    pub(crate) fn recv(&mut self, fd: RawFd) -> usize {
        let mut iovs: [[IoSliceMut<'_>; 1]; RECV_BATCH] =
            self.bufs.each_mut().map(|b| [IoSliceMut::new(b)]);
        let Ok(results) = recvmmsg(
            fd,
            &mut self.headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        ) else {
            return 0;
        };
        let mut n = 0;
        for (i, msg) in results.enumerate() {
            self.lens[i] = msg.bytes.min(MAX_DATAGRAM);
            self.truncated[i] = msg.flags.contains(MsgFlags::MSG_TRUNC);
            self.addrs[i] = msg.address.as_ref().and_then(to_socket_addr);
            n = i + 1;
        }
        n
    }

    /// Datagram `i` of the last batch: bytes, source, and whether it was cut.
    pub(crate) fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>, bool) {
        (
            &self.bufs[i][..self.lens[i]],
            self.addrs[i],
            self.truncated[i],
        )
    }
}

/// Outgoing datagrams of one worker, grouped by socket at flush time.
pub(crate) struct SendQueue {
    bufs: Box<[[u8; MAX_DATAGRAM]; SEND_BATCH]>,
    lens: [usize; SEND_BATCH],
    fds: [RawFd; SEND_BATCH],
    addrs: [Option<SockaddrStorage>; SEND_BATCH],
    headers: MultiHeaders<SockaddrStorage>,
    count: usize,
    /// Datagrams handed to the kernel / refused by it, since the last harvest.
    pub(crate) sent: u64,
    pub(crate) failed: u64,
}

impl SendQueue {
    pub(crate) fn new() -> SendQueue {
        SendQueue {
            bufs: Box::new([[0; MAX_DATAGRAM]; SEND_BATCH]),
            lens: [0; SEND_BATCH],
            fds: [-1; SEND_BATCH],
            addrs: [None; SEND_BATCH],
            headers: MultiHeaders::preallocate(SEND_BATCH, None),
            count: 0,
            sent: 0,
            failed: 0,
        }
    }

    /// The buffer for the next datagram, flushing first if the queue is full.
    /// Fill it, then [`SendQueue::commit`].
    pub(crate) fn slot(&mut self) -> &mut [u8; MAX_DATAGRAM] {
        if self.count == SEND_BATCH {
            self.flush();
        }
        &mut self.bufs[self.count]
    }

    /// Queues the datagram written into [`SendQueue::slot`].
    pub(crate) fn commit(&mut self, fd: RawFd, dest: SocketAddr, len: usize) {
        let i = self.count;
        self.lens[i] = len.min(MAX_DATAGRAM);
        self.fds[i] = fd;
        self.addrs[i] = Some(SockaddrStorage::from(dest));
        self.count += 1;
    }

    /// Sends everything queued: one `sendmmsg` per run of datagrams leaving
    /// from the same socket. Datagrams the kernel refuses (buffer full,
    /// unreachable) are counted in `failed`; UDP is lossy anyway.
    pub(crate) fn flush(&mut self) {
        let count = self.count;
        if count == 0 {
            return;
        }
        self.count = 0;
        let lens = self.lens;
        let iovs: [[IoSlice<'_>; 1]; SEND_BATCH] =
            std::array::from_fn(|i| [IoSlice::new(&self.bufs[i][..lens[i]])]);
        let mut start = 0;
        while start < count {
            let fd = self.fds[start];
            let end = start
                + self.fds[start..count]
                    .iter()
                    .take_while(|&&f| f == fd)
                    .count();
            let no_cmsgs: [ControlMessage<'_>; 0] = [];
            let done = match sendmmsg(
                fd,
                &mut self.headers,
                iovs[start..end].iter(),
                &self.addrs[start..end],
                no_cmsgs,
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(results) => results.count(),
                Err(_) => 0,
            };
            self.sent += done as u64;
            self.failed += (end - start - done) as u64;
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn batch_round_trip() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        b.set_nonblocking(true).unwrap();
        let mut q = SendQueue::new();
        for i in 0..(SEND_BATCH + 5) {
            let buf = q.slot();
            buf[0] = i as u8;
            buf[1] = 0xAB;
            q.commit(a.as_raw_fd(), b.local_addr().unwrap(), 2);
        }
        q.flush();
        assert_eq!(q.sent, (SEND_BATCH + 5) as u64);
        assert_eq!(q.failed, 0);
        let mut r = RecvBatch::new();
        let mut got = Vec::new();
        for _ in 0..100 {
            let n = r.recv(b.as_raw_fd());
            for i in 0..n {
                let (data, from, cut) = r.get(i);
                assert_eq!(from, Some(a.local_addr().unwrap()));
                assert!(!cut);
                assert_eq!(data.len(), 2);
                got.push(data[0]);
            }
            if got.len() == SEND_BATCH + 5 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let want: Vec<u8> = (0..(SEND_BATCH + 5)).map(|i| i as u8).collect();
        assert_eq!(got, want);
        assert_eq!(r.recv(b.as_raw_fd()), 0);
    }
}
