//! The media engine: RTP streams served by a few epoll-driven worker threads.
//!
//! [`MediaEngine::start`] spawns `workers` OS threads. Each worker owns an
//! epoll set holding its streams' sockets and an eventfd through which
//! commands arrive. Handles ([`Stream`], [`Mixer`]) never touch worker state:
//! they push a command on the worker's channel and ring the eventfd, so the
//! signalling side never waits on media. Streams that exchange audio (a
//! [`MediaEngine::link`] pair, a [`Mixer`]'s participants) are moved onto
//! one worker, which then relays between them with plain `&mut` access.

mod command;
mod conference;
mod fifo;
mod io;
mod media;
mod monitor;
mod ports;
mod stats;
mod stream;
mod taps;
mod whisper;
mod worker;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::error::MediaError;
use command::{Command, StreamCmd};
pub use conference::Mixer;
pub use stats::RtpStats;
pub use stream::{MuteDirection, Stream, StreamEvent, StreamParams, StreamStats};
use stream::{StreamShared, new_stream};

/// rtp.conf settings the engine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpConfig {
    /// First port of the RTP range (`rtpstart`).
    pub port_start: u16,
    /// Last port of the RTP range (`rtpend`).
    pub port_end: u16,
    /// `strictrtp`: once a stream knows its remote, drop packets from any
    /// other source instead of letting an attacker inject audio.
    pub strict_rtp: bool,
    /// Number of media worker threads.
    pub workers: usize,
}

impl Default for RtpConfig {
    fn default() -> Self {
        RtpConfig {
            port_start: 10000,
            port_end: 20000,
            strict_rtp: true,
            workers: 2,
        }
    }
}

/// Engine-wide totals, for `rtp show stats` style reporting and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStats {
    /// Streams currently open.
    pub streams: u64,
    /// RTP packets received on all streams.
    pub packets_in: u64,
    /// RTP packets sent on all streams.
    pub packets_out: u64,
    /// Packets dropped for any reason (unexpected source, malformed, unknown
    /// payload type, no destination, socket full).
    pub dropped: u64,
}

#[derive(Default)]
pub(crate) struct EngineCounters {
    pub(crate) streams: AtomicU64,
    pub(crate) packets_in: AtomicU64,
    pub(crate) packets_out: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

/// A worker as the other threads see it: its command queue and doorbell.
pub(crate) struct WorkerLink {
    tx: mpsc::Sender<Command>,
    wake: Arc<EventFd>,
}

/// The part of the engine shared by handles and workers.
pub(crate) struct EngineCore {
    pub(crate) cfg: RtpConfig,
    pub(crate) epoch: Instant,
    links: Vec<WorkerLink>,
    next_id: AtomicU64,
    next_port: AtomicUsize,
    pub(crate) ports: ports::PortPool,
    round_robin: AtomicUsize,
    stopped: AtomicBool,
    pub(crate) counters: EngineCounters,
}

impl EngineCore {
    /// Queues a command for a worker. A stopped worker drops it.
    ///
    /// Only `Stop` and a stream's removal (which gives its ports back to
    /// the pool, and a small range needs them at once) ring the worker's
    /// doorbell. The rest wait for the worker's next wake-up: a packet on
    /// one of its sockets (commands are applied before any packet, so a
    /// packet never sees the state from before a command sent ahead of it)
    /// or its tick, at most [`media::TICK_MS`] later. Under call load that
    /// saves a thread wake-up per command (several per call: open,
    /// configure, link, unlink), which cost a quarter of the daemon's CPU
    /// at 1,000 calls/s without RTP; the price is that a playback or DTMF
    /// starts up to one tick later.
    pub(crate) fn send(&self, worker: usize, cmd: Command) {
        let Some(link) = self.links.get(worker) else {
            return;
        };
        let ring = matches!(cmd, Command::Stop | Command::Stream(_, StreamCmd::Remove));
        if link.tx.send(cmd).is_ok() && ring {
            // Only fails if the counter would overflow, when a wake is pending anyway.
            let _ = link.wake.write(1);
        }
    }

    /// Queues a command for whichever worker owns (or will own) a stream.
    pub(crate) fn send_stream(&self, shared: &Arc<StreamShared>, cmd: StreamCmd) {
        self.send(
            shared.worker.load(Ordering::Acquire),
            Command::Stream(Arc::clone(shared), cmd),
        );
    }

    /// Moves a stream to worker `to`, so it can exchange audio with streams
    /// there. Commands sent after this are routed to `to` and wait there
    /// until the stream arrives (see the worker's ordering rules).
    pub(crate) fn migrate(&self, shared: &Arc<StreamShared>, to: usize) {
        if shared.worker.load(Ordering::Acquire) == to {
            return;
        }
        shared.in_transit.fetch_add(1, Ordering::AcqRel);
        let old = shared.worker.swap(to, Ordering::AcqRel);
        if old == to {
            shared.in_transit.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        self.send(
            old,
            Command::Stream(Arc::clone(shared), StreamCmd::Migrate(to)),
        );
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn pick_worker(&self) -> usize {
        self.round_robin.fetch_add(1, Ordering::Relaxed) % self.links.len()
    }
}

/// The media plane: opens RTP streams, relays, transcodes, plays, records
/// and mixes them on its worker threads. Stopped by [`MediaEngine::stop`] or
/// when the last `Arc` is dropped.
pub struct MediaEngine {
    core: Arc<EngineCore>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl MediaEngine {
    /// Spawns `cfg.workers` (at least one) worker threads.
    pub fn start(cfg: RtpConfig) -> std::io::Result<Arc<MediaEngine>> {
        if cfg.port_start > cfg.port_end || cfg.port_end - cfg.port_start < 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "RTP port range {}-{} holds no port pair",
                    cfg.port_start, cfg.port_end
                ),
            ));
        }
        let workers = cfg.workers.max(1);
        let mut links = Vec::with_capacity(workers);
        let mut inboxes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = mpsc::channel();
            let wake = Arc::new(EventFd::from_flags(
                EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC,
            )?);
            links.push(WorkerLink {
                tx,
                wake: Arc::clone(&wake),
            });
            inboxes.push((rx, wake));
        }
        let span = usize::from(cfg.port_end - cfg.port_start) + 1;
        let core = Arc::new(EngineCore {
            cfg,
            epoch: Instant::now(),
            links,
            next_id: AtomicU64::new(1),
            next_port: AtomicUsize::new(rand::random_range(0..span)),
            ports: ports::PortPool::default(),
            round_robin: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            counters: EngineCounters::default(),
        });
        let mut threads = Vec::with_capacity(workers);
        for (index, (rx, wake)) in inboxes.into_iter().enumerate() {
            let worker_core = Arc::clone(&core);
            let spawned = std::thread::Builder::new()
                .name(format!("media-{index}"))
                .spawn(move || worker::run(index, worker_core, rx, wake));
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    let engine = MediaEngine {
                        core,
                        threads: Mutex::new(threads),
                    };
                    engine.stop();
                    return Err(e);
                }
            }
        }
        Ok(Arc::new(MediaEngine {
            core,
            threads: Mutex::new(threads),
        }))
    }

    /// Opens a stream on `ip`: an even RTP port from the range and the RTCP
    /// port above it (RTCP reports are read into the statistics), reusing the pair of an
    /// ended stream when one has rested long enough. Unconfigured streams
    /// receive nothing and send nothing until [`Stream::configure`].
    pub fn open(&self, ip: IpAddr) -> Result<Stream, MediaError> {
        if self.core.stopped.load(Ordering::Acquire) {
            return Err(MediaError::Stopped);
        }
        let (rtp, rtcp) =
            ports::acquire_pair(&self.core.cfg, ip, &self.core.next_port, &self.core.ports)?;
        let id = self.core.next_id();
        let worker = self.core.pick_worker();
        let (stream, state) = new_stream(id, worker, rtp, rtcp, Arc::clone(&self.core))?;
        self.core.counters.streams.fetch_add(1, Ordering::Relaxed);
        self.core.send(worker, Command::Adopt(state, Vec::new()));
        Ok(stream)
    }

    /// Relays audio and DTMF both ways between `a` and `b`, ending any link
    /// or conference either was in. Equal codec and ptime are forwarded as
    /// is (with each leg's own SSRC, sequence and timestamps); otherwise
    /// each direction is transcoded.
    pub fn link(&self, a: &Stream, b: &Stream) -> Result<(), MediaError> {
        if !Arc::ptr_eq(&a.core, &self.core) || !Arc::ptr_eq(&b.core, &self.core) {
            return Err(MediaError::BadPairing("stream belongs to another engine"));
        }
        if a.id() == b.id() {
            return Err(MediaError::BadPairing("cannot link a stream to itself"));
        }
        if self.core.stopped.load(Ordering::Acquire) {
            return Err(MediaError::Stopped);
        }
        let target = a.shared.worker.load(Ordering::Acquire);
        self.core.migrate(&b.shared, target);
        self.core
            .send_stream(&a.shared, StreamCmd::Link(Arc::clone(&b.shared)));
        Ok(())
    }

    /// Ends the link `a` is in (both directions).
    pub fn unlink(&self, a: &Stream) {
        self.core.send_stream(&a.shared, StreamCmd::Unlink);
    }

    /// Creates an empty mixing bridge on one of the workers.
    pub fn mixer(&self) -> Mixer {
        let id = self.core.next_id();
        let worker = self.core.pick_worker();
        self.core.send(worker, Command::MixerCreate(id));
        Mixer::new(id, worker, Arc::clone(&self.core))
    }

    /// Engine-wide totals.
    pub fn stats(&self) -> EngineStats {
        let c = &self.core.counters;
        EngineStats {
            streams: c.streams.load(Ordering::Relaxed),
            packets_in: c.packets_in.load(Ordering::Relaxed),
            packets_out: c.packets_out.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
        }
    }

    /// Stops the workers and waits for them; open streams stop moving media.
    /// Idempotent.
    pub fn stop(&self) {
        self.core.stopped.store(true, Ordering::Release);
        for w in 0..self.core.links.len() {
            self.core.send(w, Command::Stop);
        }
        let threads = match self.threads.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for t in threads {
            if t.join().is_err() {
                tracing::error!("media worker panicked");
            }
        }
    }
}

impl Drop for MediaEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod generator_tests;
#[cfg(test)]
mod monitor_tests;
#[cfg(test)]
mod snoop_tests;
#[cfg(test)]
mod tests;
