//! CPU per forwarded RTP packet: two linked PCMU streams in the media engine
//! (one worker) against a minimal relay (one thread, blocking `recv_from` /
//! `send_to` between two sockets), both fed by the same sender thread at a
//! fixed rate in the same run.
//!
//! Run: `cargo bench -p obelus-media --bench media_relay`
//!
//! Only the relaying threads are measured (`media-*` for the engine,
//! `relay-baseline` for the baseline), from the kernel's per-thread run time
//! in `/proc/self/task/*/schedstat`, so the sender and receiver threads do
//! not count. Criterion reports CPU time per packet; the totals over all of
//! criterion's samples are printed at the end with their ratio.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, sleep};
use std::time::{Duration, Instant};

#[path = "common/thread_cpu.rs"]
mod thread_cpu;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use obelus_media::rtp::{RtpHeader, build_packet};
use obelus_media::{Codec, MediaEngine, RtpConfig, Stream, StreamParams};

use thread_cpu::thread_cpu_ns;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Packets per second offered to the relay.
const RATE: u64 = 50_000;
/// The offered load is sent in bursts every millisecond.
const BURST_EVERY: Duration = Duration::from_millis(1);

/// The sender and receiver sides shared by both relays.
struct Rig {
    sender: UdpSocket,
    receiver_addr: SocketAddr,
    received: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    receiver: Option<JoinHandle<()>>,
    packet: Vec<u8>,
}

impl Rig {
    fn new() -> Rig {
        let sender = UdpSocket::bind((LOCALHOST, 0)).expect("bind sender");
        let receiver = UdpSocket::bind((LOCALHOST, 0)).expect("bind receiver");
        receiver
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let receiver_addr = receiver.local_addr().expect("addr");
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (Arc::clone(&received), Arc::clone(&stop));
        let handle = std::thread::Builder::new()
            .name("bench-receiver".into())
            .spawn(move || {
                let mut buf = [0u8; 2048];
                while !halt.load(Ordering::Relaxed) {
                    if receiver.recv_from(&mut buf).is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .expect("spawn receiver");
        let h = RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: 1,
            timestamp: 160,
            ssrc: 0x1234_5678,
        };
        let mut packet = vec![0u8; 172];
        build_packet(&h, &[0xFF; 160], &mut packet).expect("fits");
        Rig {
            sender,
            receiver_addr,
            received,
            stop,
            receiver: Some(handle),
            packet,
        }
    }

    /// Sends `count` packets to `to` at [`RATE`]; returns the relaying
    /// threads' CPU time and the packets that came out the other side.
    fn run(&mut self, to: SocketAddr, threads: &str, count: u64) -> (u64, u64) {
        let cpu0 = thread_cpu_ns(threads);
        let rx0 = self.received.load(Ordering::Relaxed);
        let per_burst = (RATE * BURST_EVERY.as_micros() as u64 / 1_000_000).max(1);
        let start = Instant::now();
        let mut sent = 0u64;
        let mut seq = 1u16;
        while sent < count {
            for _ in 0..per_burst.min(count - sent) {
                self.packet[2..4].copy_from_slice(&seq.to_be_bytes());
                self.packet[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                seq = seq.wrapping_add(1);
                let _ = self.sender.send_to(&self.packet, to);
                sent += 1;
            }
            let due = start + BURST_EVERY * (sent / per_burst) as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                sleep(wait);
            }
        }
        // Let the relay finish: stop when everything arrived or nothing moves.
        let mut last = self.received.load(Ordering::Relaxed);
        let mut idle = Instant::now();
        while last - rx0 < sent && idle.elapsed() < Duration::from_millis(100) {
            sleep(Duration::from_millis(1));
            let now = self.received.load(Ordering::Relaxed);
            if now != last {
                last = now;
                idle = Instant::now();
            }
        }
        (thread_cpu_ns(threads) - cpu0, last - rx0)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.receiver.take() {
            let _ = h.join();
        }
    }
}

/// Two linked PCMU streams on a one-worker engine.
struct EngineRelay {
    _engine: Arc<MediaEngine>,
    a: Stream,
    _b: Stream,
}

impl EngineRelay {
    fn new(rig: &Rig) -> EngineRelay {
        let cfg = RtpConfig {
            port_start: 46000,
            port_end: 48000,
            strict_rtp: true,
            workers: 1,
        };
        let engine = MediaEngine::start(cfg).expect("engine");
        let a = engine.open(LOCALHOST).expect("open a");
        let b = engine.open(LOCALHOST).expect("open b");
        let remote = rig.sender.local_addr().expect("addr");
        a.configure(StreamParams {
            remote: Some(remote),
            ..StreamParams::new(Codec::Ulaw)
        });
        b.configure(StreamParams {
            remote: Some(rig.receiver_addr),
            ..StreamParams::new(Codec::Ulaw)
        });
        engine.link(&a, &b).expect("link");
        sleep(Duration::from_millis(50));
        EngineRelay {
            _engine: engine,
            a,
            _b: b,
        }
    }
}

/// The simplest relay there is: one thread, blocking receive, send.
struct BaselineRelay {
    input: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl BaselineRelay {
    fn new(rig: &Rig) -> BaselineRelay {
        let input = UdpSocket::bind((LOCALHOST, 0)).expect("bind");
        input
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let output = UdpSocket::bind((LOCALHOST, 0)).expect("bind");
        let addr = input.local_addr().expect("addr");
        let to = rig.receiver_addr;
        let stop = Arc::new(AtomicBool::new(false));
        let halt = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("relay-baseline".into())
            .spawn(move || {
                let mut buf = [0u8; 2048];
                while !halt.load(Ordering::Relaxed) {
                    if let Ok((n, _)) = input.recv_from(&mut buf) {
                        let _ = output.send_to(&buf[..n], to);
                    }
                }
            })
            .expect("spawn relay");
        BaselineRelay {
            input: addr,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for BaselineRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut rig = Rig::new();
    let engine = EngineRelay::new(&rig);
    let baseline = BaselineRelay::new(&rig);
    let totals = Mutex::new([(0u64, 0u64, 0u64); 2]);
    let mut g = c.benchmark_group("relay_cpu_per_packet");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    let cases = [
        ("engine (1 worker)", engine.a.local_addr(), "media-"),
        ("baseline recv/send", baseline.input, "relay-baseline"),
    ];
    for (i, (name, to, threads)) in cases.into_iter().enumerate() {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (cpu, forwarded) = rig.run(to, threads, iters);
                if let Ok(mut t) = totals.lock() {
                    t[i].0 += cpu;
                    t[i].1 += forwarded;
                    t[i].2 += iters;
                }
                Duration::from_nanos(cpu)
            })
        });
    }
    g.finish();
    let t = *totals.lock().expect("totals");
    let per = |(cpu, fwd, _): (u64, u64, u64)| cpu as f64 / 1000.0 / fwd.max(1) as f64;
    let (e, b) = (per(t[0]), per(t[1]));
    println!("offered load: {RATE} packets/s, PCMU 20 ms (172-byte datagrams)");
    println!(
        "engine:   {e:.2} µs CPU per forwarded packet ({} of {} forwarded)",
        t[0].1, t[0].2
    );
    println!(
        "baseline: {b:.2} µs CPU per forwarded packet ({} of {} forwarded)",
        t[1].1, t[1].2
    );
    println!("ratio engine/baseline: {:.2}", e / b);
}

criterion_group!(benches, bench);
criterion_main!(benches);
