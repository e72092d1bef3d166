//! Conference participants mixed per core: N PCMU participants in
//! conferences of `MIX_CONF_SIZE` on the media engine, each sending 20-ms
//! packets (some talking, the rest silent) and receiving its mix, beside
//! the same N streams relayed in linked pairs (the reference: what moving
//! the packets costs without mixing) in the same run.
//!
//! Run: `cargo bench -p obelus-media --bench media_mixing`.
//! `MIX_PARTICIPANTS=500,1000,2000`, `MIX_CONF_SIZE=10`,
//! `MIX_TALKERS=2` (talking participants per conference) and
//! `MIX_SECONDS=5` change the load.
//!
//! Only the engine's threads (`media-*`) are measured, from
//! `/proc/self/task/*/schedstat`; the phones (bench/common/phones.rs,
//! batched `sendmmsg`/`recvmmsg`) run in other threads of this process.
//! Reported per step: packets sent and received by the phones, the
//! engine's CPU per participant-second, participants per core (one core
//! second per second divided by that), and the ratio to the relay.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

#[path = "common/phones.rs"]
mod phones;
#[path = "common/thread_cpu.rs"]
mod thread_cpu;

use obelus_media::{Codec, MediaEngine, Mixer, RtpConfig, Stream, StreamParams};
use phones::{PhoneBank, Voice, phone_socket};
use thread_cpu::thread_cpu_ns;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How the streams of a step are joined.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Topology {
    /// Conferences of `size` participants, `talkers` of them talking.
    Mixing { size: usize, talkers: usize },
    /// Linked pairs, every stream talking (the reference).
    Relay,
}

/// What a step measured.
struct Measured {
    sent: u64,
    received: u64,
    /// Engine CPU seconds per participant-second.
    cpu_per_participant_second: f64,
}

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect()
}

fn env_one(name: &str, default: usize) -> usize {
    env_list(name, &default.to_string())
        .first()
        .copied()
        .unwrap_or(default)
}

fn step(participants: usize, topology: Topology, seconds: u64) -> Measured {
    let engine = MediaEngine::start(RtpConfig {
        port_start: 20000,
        port_end: 60000,
        strict_rtp: true,
        workers: 2,
    })
    .expect("media engine");
    let socket = phone_socket();
    let phones = socket.local_addr().expect("phone address");
    let streams: Vec<Stream> = (0..participants)
        .map(|_| {
            let s = engine.open(LOCALHOST).expect("open a stream");
            s.configure(StreamParams {
                remote: Some(phones),
                ..StreamParams::new(Codec::Ulaw)
            });
            s
        })
        .collect();
    let mut mixers: Vec<Mixer> = Vec::new();
    let mut voices = Vec::with_capacity(participants);
    match topology {
        Topology::Mixing { size, talkers } => {
            for conference in streams.chunks(size) {
                let m = engine.mixer();
                for (i, s) in conference.iter().enumerate() {
                    m.add(s);
                    let talking = i < talkers;
                    voices.push(if talking {
                        Voice::Talking
                    } else {
                        Voice::Silent
                    });
                }
                mixers.push(m);
            }
        }
        Topology::Relay => {
            for pair in streams.chunks(2) {
                if let [a, b] = pair {
                    engine.link(a, b).expect("link");
                }
                voices.extend(pair.iter().map(|_| Voice::Talking));
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let targets: Vec<(SocketAddr, Voice)> =
        streams.iter().map(Stream::local_addr).zip(voices).collect();
    let mut bank = PhoneBank::start(socket, targets);
    // Let the streams learn their remote and the mixers fill before measuring.
    std::thread::sleep(Duration::from_millis(500));
    let (sent0, received0) = bank.counts();
    let cpu0 = thread_cpu_ns("media-");
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let cpu = thread_cpu_ns("media-") - cpu0;
    let window = started.elapsed().as_secs_f64();
    let (sent1, received1) = bank.counts();
    bank.stop_sending();
    drop(mixers);
    drop(streams);
    engine.stop();
    Measured {
        sent: sent1 - sent0,
        received: received1 - received0,
        cpu_per_participant_second: cpu as f64 / 1e9 / (participants as f64 * window),
    }
}

fn main() {
    let steps = env_list("MIX_PARTICIPANTS", "200,500,1000,2000");
    let size = env_one("MIX_CONF_SIZE", 10).max(2);
    let talkers = env_one("MIX_TALKERS", 2).min(size);
    let seconds = env_one("MIX_SECONDS", 5) as u64;
    println!(
        "media_mixing: PCMU 20 ms, conferences of {size} with {talkers} talking, {seconds} s per step; \
         reference: the same streams relayed in linked pairs"
    );
    println!(
        "{:>12} {:>10} {:>10} {:>7} {:>18} {:>16} {:>16} {:>10}",
        "participants",
        "sent",
        "received",
        "loss",
        "µs CPU/particip-s",
        "particip./core",
        "relay µs/str-s",
        "mix/relay"
    );
    for participants in steps {
        let mixing = step(participants, Topology::Mixing { size, talkers }, seconds);
        let relay = step(participants, Topology::Relay, seconds);
        let per_core = 1.0 / mixing.cpu_per_participant_second.max(1e-12);
        let loss =
            100.0 * mixing.sent.saturating_sub(mixing.received) as f64 / mixing.sent.max(1) as f64;
        println!(
            "{:>12} {:>10} {:>10} {:>6.2}% {:>18.1} {:>16.0} {:>16.1} {:>10.2}",
            participants,
            mixing.sent,
            mixing.received,
            loss,
            mixing.cpu_per_participant_second * 1e6,
            per_core,
            relay.cpu_per_participant_second * 1e6,
            mixing.cpu_per_participant_second / relay.cpu_per_participant_second.max(1e-12),
        );
        let relay_loss =
            100.0 * relay.sent.saturating_sub(relay.received) as f64 / relay.sent.max(1) as f64;
        if relay_loss > 0.5 {
            println!("             (relay reference lost {relay_loss:.2}% of its packets)");
        }
    }
}
