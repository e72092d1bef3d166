//! Many RTP phones on one socket: a sender thread that sends one packet per
//! target every 20 ms with batched `sendmmsg`, and a receiver thread that
//! counts what comes back with batched `recvmmsg`. One `send_to` per packet
//! from a single thread could not offer more than ~120,000 packets/s here,
//! which capped the loads the benches could measure; batching lifts the
//! generator well above what the server under test handles.

use std::io::{IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};

/// Datagrams per system call.
const BATCH: usize = 64;
/// Bytes of a PCMU packet: 12 of header, 160 of payload (20 ms).
const PACKET: usize = 172;
/// Packet interval of every phone.
const PTIME: Duration = Duration::from_millis(20);

/// What a phone sends: silence, or a loud square wave a mixer counts as
/// speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voice {
    /// µ-law silence (0xFF).
    Silent,
    /// A 1 kHz square wave at about -6 dBFS.
    Talking,
}

/// A UDP socket for a bank of phones, with the largest buffers the system
/// allows (`net.core.rmem_max`/`wmem_max`): a whole bank's packets arrive in
/// bursts every 20 ms, and a small buffer would make the loss column
/// measure this program instead of the server.
pub fn phone_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let raw = socket2::SockRef::from(&socket);
    let max = |file: &str| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|m| m.trim().parse::<usize>().ok())
            .unwrap_or(4 << 20)
    };
    let _ = raw.set_recv_buffer_size(max("/proc/sys/net/core/rmem_max"));
    let _ = raw.set_send_buffer_size(max("/proc/sys/net/core/wmem_max"));
    socket
}

/// A running bank of phones; stops (and joins its threads) when dropped.
pub struct PhoneBank {
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    stop_sending: Arc<AtomicBool>,
    stop_receiving: Arc<AtomicBool>,
    sender: Option<JoinHandle<()>>,
    receiver: Option<JoinHandle<()>>,
}

impl PhoneBank {
    /// Starts sending to every target from `socket` and counting what
    /// arrives on it.
    pub fn start(socket: UdpSocket, targets: Vec<(SocketAddr, Voice)>) -> PhoneBank {
        let sent = Arc::new(AtomicU64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let stop_sending = Arc::new(AtomicBool::new(false));
        let stop_receiving = Arc::new(AtomicBool::new(false));
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let rx = socket.try_clone().unwrap();
        let (count, halt) = (Arc::clone(&received), Arc::clone(&stop_receiving));
        let receiver = std::thread::Builder::new()
            .name("phones-rx".into())
            .spawn(move || receive(&rx, &count, &halt))
            .unwrap();
        let (count, halt) = (Arc::clone(&sent), Arc::clone(&stop_sending));
        let sender = std::thread::Builder::new()
            .name("phones-tx".into())
            .spawn(move || send(&socket, &targets, &count, &halt))
            .unwrap();
        PhoneBank {
            sent,
            received,
            stop_sending,
            stop_receiving,
            sender: Some(sender),
            receiver: Some(receiver),
        }
    }

    /// Packets sent and received so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }

    /// Stops sending; the receiver goes on counting late packets until the
    /// bank is dropped.
    pub fn stop_sending(&mut self) {
        self.stop_sending.store(true, Ordering::Relaxed);
        if let Some(sender) = self.sender.take() {
            let _ = sender.join();
        }
    }
}

impl Drop for PhoneBank {
    fn drop(&mut self) {
        self.stop_sending.store(true, Ordering::Relaxed);
        self.stop_receiving.store(true, Ordering::Relaxed);
        for t in [self.sender.take(), self.receiver.take()]
            .into_iter()
            .flatten()
        {
            let _ = t.join();
        }
    }
}

fn payload(voice: Voice) -> [u8; PACKET - 12] {
    let mut p = [0xFFu8; PACKET - 12];
    if voice == Voice::Talking {
        for (i, b) in p.iter_mut().enumerate() {
            // µ-law 0x9F / 0x1F: about +/-16,000, four samples each (1 kHz).
            *b = if i % 8 < 4 { 0x9F } else { 0x1F };
        }
    }
    p
}

/// Every 20 ms, one packet per target, in `sendmmsg` batches. The socket
/// is blocking, so a full send buffer slows the sender down instead of
/// losing packets on this side.
fn send(socket: &UdpSocket, targets: &[(SocketAddr, Voice)], sent: &AtomicU64, stop: &AtomicBool) {
    let mut packets: Vec<[u8; PACKET]> = targets
        .iter()
        .enumerate()
        .map(|(i, &(_, voice))| {
            let mut p = [0u8; PACKET];
            p[0] = 0x80;
            p[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            p[12..].copy_from_slice(&payload(voice));
            p
        })
        .collect();
    let addrs: Vec<Option<SockaddrStorage>> = targets
        .iter()
        .map(|&(a, _)| Some(SockaddrStorage::from(a)))
        .collect();
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let mut tick = Instant::now();
    let mut seq: u16 = 0;
    while !stop.load(Ordering::Relaxed) {
        for p in &mut packets {
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        }
        seq = seq.wrapping_add(1);
        let mut start = 0;
        while start < packets.len() {
            let end = (start + BATCH).min(packets.len());
            let iovs: Vec<[IoSlice<'_>; 1]> = packets[start..end]
                .iter()
                .map(|p| [IoSlice::new(p)])
                .collect();
            let no_cmsgs: [ControlMessage<'_>; 0] = [];
            match sendmmsg(
                socket.as_raw_fd(),
                &mut headers,
                iovs.iter(),
                &addrs[start..end],
                no_cmsgs,
                MsgFlags::empty(),
            ) {
                Ok(results) => {
                    let n = results.count();
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                    start += n.max(1);
                }
                Err(_) => start = end,
            }
        }
        tick += PTIME;
        if let Some(wait) = tick.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// Counts datagrams until told to stop (the read timeout lets it look).
fn receive(socket: &UdpSocket, received: &AtomicU64, stop: &AtomicBool) {
    let mut bufs = vec![[0u8; 2048]; BATCH];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    while !stop.load(Ordering::Relaxed) {
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
            bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
        if let Ok(results) = recvmmsg(
            socket.as_raw_fd(),
            &mut headers,
            iovs.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        ) {
            received.fetch_add(results.count() as u64, Ordering::Relaxed);
        }
    }
}
