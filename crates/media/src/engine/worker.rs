//! The worker thread: one epoll set, a command channel with an eventfd
//! doorbell, a 20 ms tick.
//!
//! Loop: wait on epoll until the next tick at the latest; apply queued
//! commands; drain every readable RTP socket with `recvmmsg` (a few batches
//! per wake-up, epoll is level-triggered so a busy socket is simply reported
//! again) and process each datagram; flush the send queue with `sendmmsg`;
//! run the tick when due. Commands are the only way state changes
//! from outside, so packet processing never takes a lock.
//!
//! Ordering. Streams migrate between workers (to join a link or a mixer),
//! and commands chase them. A worker runs stream commands in the order it
//! received them; one that cannot run yet (its stream, or the peer of a
//! link, is on its way here) blocks the queue behind it, so a later
//! operation never overtakes an earlier one. Migrations never wait in that
//! queue: a migration runs as soon as its stream is here and carries the
//! stream's still-queued commands along, so a stream is never stuck behind
//! a command that waits for another worker (no cycle, no deadlock).

use std::collections::{HashMap, VecDeque};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::EventFd;

use super::EngineCore;
use super::command::{Command, StreamCmd};
use super::conference::{self, MixerState};
use super::io::{RECV_BATCH, RecvBatch};
use super::media::{Media, StreamState, TICK_MS};
use super::stream::StreamShared;

/// epoll token of the command doorbell; stream tokens are `slot << 1 | rtcp`.
const WAKE_TOKEN: u64 = u64::MAX;
/// `recvmmsg` batches taken from one socket per wake-up before moving on.
const BATCHES_PER_WAKE: usize = 4;
/// Readiness events taken per `epoll_wait`.
const MAX_EVENTS: usize = 256;

/// Thread entry point.
pub(crate) fn run(index: usize, core: Arc<EngineCore>, rx: Receiver<Command>, wake: Arc<EventFd>) {
    match Worker::new(index, core, rx, wake) {
        Ok(mut w) => w.run(),
        Err(e) => tracing::error!(worker = index, error = %e, "media worker could not start"),
    }
}

type Queued = (Arc<StreamShared>, StreamCmd);

struct Worker {
    index: usize,
    core: Arc<EngineCore>,
    rx: Receiver<Command>,
    wake: Arc<EventFd>,
    epoll: Epoll,
    media: Media,
    recv: RecvBatch,
    by_id: HashMap<u64, usize>,
    free: Vec<usize>,
    /// Stream commands that could not run yet, in arrival order; while not
    /// empty, new stream commands queue behind them.
    blocked: VecDeque<Queued>,
    /// Migrations of streams that are still on their way here.
    parked_migrations: Vec<(Arc<StreamShared>, usize)>,
    events: Vec<EpollEvent>,
}

impl Worker {
    fn new(
        index: usize,
        core: Arc<EngineCore>,
        rx: Receiver<Command>,
        wake: Arc<EventFd>,
    ) -> nix::Result<Worker> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(&*wake, EpollEvent::new(EpollFlags::EPOLLIN, WAKE_TOKEN))?;
        let strict = core.cfg.strict_rtp;
        Ok(Worker {
            index,
            core,
            rx,
            wake,
            epoll,
            media: Media::new(strict),
            recv: RecvBatch::new(),
            by_id: HashMap::new(),
            free: Vec::new(),
            blocked: VecDeque::new(),
            parked_migrations: Vec::new(),
            events: vec![EpollEvent::empty(); MAX_EVENTS],
        })
    }

    /// Reads the clock once for a batch of work.
    fn update_clock(&mut self) {
        let us = self.core.epoch.elapsed().as_micros() as u64;
        self.media.now_us = us;
        self.media.now_ms = us / 1000;
    }

    fn run(&mut self) {
        let tick = Duration::from_millis(u64::from(TICK_MS));
        let mut next_tick = Instant::now() + tick;
        loop {
            let now = Instant::now();
            let wait = next_tick.saturating_duration_since(now);
            // Round up: waking a little late is better than spinning early.
            let ms = wait.as_micros().div_ceil(1000).min(u128::from(TICK_MS)) as u16;
            let n = match self.epoll.wait(&mut self.events, EpollTimeout::from(ms)) {
                Ok(n) => n,
                Err(Errno::EINTR) => 0,
                Err(e) => {
                    tracing::error!(worker = self.index, error = %e, "epoll_wait failed");
                    std::thread::sleep(tick);
                    0
                }
            };
            self.update_clock();
            // Ring the doorbell off before reading the queue, so a command
            // sent meanwhile rings it again.
            if self.events[..n].iter().any(|e| e.data() == WAKE_TOKEN) {
                let _ = self.wake.read();
            }
            // Commands first: whatever the signalling side asked before these
            // packets arrived (a link, a new remote) applies to them.
            if !self.process_commands() {
                break;
            }
            for i in 0..n {
                let token = self.events[i].data();
                if token == WAKE_TOKEN {
                    continue;
                }
                let slot = (token >> 1) as usize;
                if token & 1 == 1 {
                    self.drain_rtcp(slot);
                } else {
                    self.drain_rtp(slot);
                }
            }
            self.media.sendq.flush();
            let now = Instant::now();
            if now >= next_tick {
                self.update_clock();
                self.media.tick();
                self.media.sendq.flush();
                next_tick += tick;
                if next_tick + 5 * tick < now {
                    // Far behind (suspended, overloaded): skip, do not burst.
                    next_tick = now + tick;
                }
            }
            self.harvest();
        }
        self.shutdown();
    }

    fn drain_rtp(&mut self, slot: usize) {
        let Some(st) = self.media.get(slot) else {
            return;
        };
        // Valid throughout: streams are only removed by commands, which are
        // not processed while a socket is drained.
        let fd = st.shared.rtp.as_raw_fd();
        for _ in 0..BATCHES_PER_WAKE {
            let n = self.recv.recv(fd);
            for i in 0..n {
                let (data, from, truncated) = self.recv.get(i);
                if let Some(from) = from {
                    self.media.on_datagram(slot, data, from, truncated);
                }
            }
            if n < RECV_BATCH {
                break;
            }
        }
    }

    /// Reads what arrived on a stream's RTCP port into its statistics.
    fn drain_rtcp(&mut self, slot: usize) {
        let Some(st) = self.media.get(slot) else {
            return;
        };
        let shared = Arc::clone(&st.shared);
        let mut buf = [0u8; 1500];
        for _ in 0..64 {
            match shared.rtcp.recv_from(&mut buf) {
                Ok((n, _)) => self.media.on_rtcp_datagram(slot, &buf[..n]),
                Err(_) => break,
            }
        }
    }

    fn harvest(&mut self) {
        let c = &self.core.counters;
        let m = &mut self.media;
        if m.received > 0 {
            c.packets_in.fetch_add(m.received, Ordering::Relaxed);
            m.received = 0;
        }
        if m.sendq.sent > 0 {
            c.packets_out.fetch_add(m.sendq.sent, Ordering::Relaxed);
            m.sendq.sent = 0;
        }
        let dropped = m.dropped + m.sendq.failed;
        if dropped > 0 {
            c.dropped.fetch_add(dropped, Ordering::Relaxed);
            m.dropped = 0;
            m.sendq.failed = 0;
        }
    }

    /// Applies queued commands; false when told to stop.
    fn process_commands(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return false,
                Ok(cmd) => self.command(cmd),
                Err(TryRecvError::Empty) => return true,
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Adopt(state, carried) => self.adopt(state, carried),
            Command::Stream(shared, cmd) => self.dispatch(shared, cmd),
            Command::MixerCreate(id) => self.media.mixers.push(MixerState::new(id)),
            Command::MixerDestroy(id) => conference::destroy(&mut self.media, id),
            Command::MixerRecord(id, record, sink) => {
                conference::start_record(&mut self.media, id, record, sink);
            }
            Command::MixerStopRecord(id, record) => {
                conference::stop_record(&mut self.media, id, record);
            }
            Command::MixerGenerate(id, src) => conference::generate(&mut self.media, id, src),
            Command::Stop => {}
        }
        self.media.sendq.flush();
    }

    fn adopt(&mut self, mut state: Box<StreamState>, carried: Vec<Queued>) {
        let shared = Arc::clone(&state.shared);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.media.streams.push(None);
            self.media.streams.len() - 1
        });
        let token = (slot as u64) << 1;
        let added = self
            .epoll
            .add(&shared.rtp, EpollEvent::new(EpollFlags::EPOLLIN, token))
            .and_then(|()| {
                self.epoll.add(
                    &shared.rtcp,
                    EpollEvent::new(EpollFlags::EPOLLIN, token | 1),
                )
            });
        if let Err(e) = added {
            tracing::error!(stream = shared.id, error = %e, "cannot watch RTP socket; stream dropped");
            let _ = self.epoll.delete(&shared.rtp);
            state.close();
            self.free.push(slot);
            shared.in_transit.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        state.peer = None;
        self.media.streams[slot] = Some(state);
        self.by_id.insert(shared.id, slot);
        shared.in_transit.fetch_sub(1, Ordering::AcqRel);
        // Commands that were waiting at the previous worker are older than
        // anything queued here.
        for q in carried.into_iter().rev() {
            self.blocked.push_front(q);
        }
        if let Some(i) = self
            .parked_migrations
            .iter()
            .position(|(s, _)| s.id == shared.id)
        {
            let (_, to) = self.parked_migrations.swap_remove(i);
            self.migrate(slot, to);
        }
        self.retry_blocked();
    }

    /// Runs queued commands from the front until one still has to wait.
    fn retry_blocked(&mut self) {
        while let Some((shared, cmd)) = self.blocked.pop_front() {
            if let Some(waiting) = self.try_run(shared, cmd) {
                self.blocked.push_front(waiting);
                break;
            }
        }
    }

    /// Entry point of a stream command received on the channel.
    fn dispatch(&mut self, shared: Arc<StreamShared>, cmd: StreamCmd) {
        if let StreamCmd::Migrate(to) = cmd {
            match self.by_id.get(&shared.id) {
                Some(&slot) => self.migrate(slot, to),
                None if shared.in_transit.load(Ordering::Acquire) > 0 => {
                    self.parked_migrations.push((shared, to))
                }
                None => {}
            }
            return;
        }
        if !self.blocked.is_empty() {
            self.blocked.push_back((shared, cmd));
            return;
        }
        if let Some(waiting) = self.try_run(shared, cmd) {
            self.blocked.push_back(waiting);
        }
    }

    /// Runs a stream command here, forwards it to the stream's new worker,
    /// or hands it back when it has to wait for a stream on its way here.
    fn try_run(&mut self, shared: Arc<StreamShared>, cmd: StreamCmd) -> Option<Queued> {
        if let Some(&slot) = self.by_id.get(&shared.id) {
            if let StreamCmd::Link(peer) = &cmd
                && !self.by_id.contains_key(&peer.id)
                && self.arriving(peer)
            {
                return Some((shared, cmd));
            }
            // Let go first: a removed stream's sockets are recycled only
            // when the worker's reference is the last one.
            drop(shared);
            self.stream_command(slot, cmd);
            return None;
        }
        let owner = shared.worker.load(Ordering::Acquire);
        if owner != self.index {
            self.core.send(owner, Command::Stream(shared, cmd));
            None
        } else if shared.in_transit.load(Ordering::Acquire) > 0 {
            Some((shared, cmd))
        } else {
            // The stream is gone.
            None
        }
    }

    /// Whether a stream that is not here yet is on its way here.
    fn arriving(&self, s: &StreamShared) -> bool {
        s.worker.load(Ordering::Acquire) == self.index && s.in_transit.load(Ordering::Acquire) > 0
    }

    fn stream_command(&mut self, slot: usize, cmd: StreamCmd) {
        match cmd {
            StreamCmd::Remove => self.remove(slot),
            StreamCmd::Configure(p) => self.media.configure(slot, p),
            StreamCmd::Link(peer) => self.link(slot, peer),
            StreamCmd::Unlink => self.media.detach(slot),
            StreamCmd::Play(id, src) => self.with(slot, |st| st.play(id, src)),
            StreamCmd::StopPlayback => self.with(slot, StreamState::stop_playback),
            StreamCmd::Generate(id, src) => self.with(slot, |st| st.generate(id, src)),
            StreamCmd::StopGenerator(id) => self.with(slot, |st| st.stop_generator(id)),
            StreamCmd::Mute(direction, on) => self.with(slot, |st| st.set_mute(direction, on)),
            StreamCmd::Record(sink) => self.with(slot, |st| st.record(sink)),
            StreamCmd::StopRecord => self.with(slot, StreamState::stop_record),
            StreamCmd::Monitor(id, sink) => self.with(slot, |st| st.start_monitor(id, sink)),
            StreamCmd::StopMonitor(id) => self.with(slot, |st| st.stop_monitor(id)),
            StreamCmd::Whisper(id, direction, reader, rate) => {
                self.with(slot, |st| st.start_whisper(id, direction, reader, rate));
            }
            StreamCmd::StopWhisper(id) => self.with(slot, |st| st.stop_whisper(id)),
            StreamCmd::Echo(on) => self.with(slot, |st| st.set_echo(on)),
            StreamCmd::DtmfRelay(on) => self.with(slot, |st| st.set_dtmf_relay(on)),
            StreamCmd::SendDtmf(digit, ms) => self.with(slot, |st| st.queue_dtmf(digit, ms)),
            StreamCmd::InbandDetect(on) => self.with(slot, |st| st.set_inband_detect(on)),
            StreamCmd::SendInbandDtmf(digit, ms) => {
                self.with(slot, |st| st.queue_inband_dtmf(digit, ms));
            }
            StreamCmd::Migrate(to) => self.migrate(slot, to),
            StreamCmd::MixerAdd(id) => conference::add_member(&mut self.media, id, slot),
            StreamCmd::MixerRemove(id) => conference::remove_member(&mut self.media, id, slot),
        }
    }

    fn with(&mut self, slot: usize, f: impl FnOnce(&mut StreamState)) {
        if let Some(st) = self.media.get(slot) {
            f(st);
        }
    }

    fn link(&mut self, slot: usize, peer: Arc<StreamShared>) {
        // A peer that is neither here nor on its way here has moved on (a
        // later link or mixer won) or closed: the link is void.
        if let Some(&other) = self.by_id.get(&peer.id) {
            self.media.link(slot, other);
        }
    }

    /// Takes a stream out of this worker: out of its link or mixer, out of
    /// epoll, out of the slab.
    fn unregister(&mut self, slot: usize) -> Option<Box<StreamState>> {
        self.media.detach(slot);
        let st = self.media.streams.get_mut(slot)?.take()?;
        let _ = self.epoll.delete(&st.shared.rtp);
        let _ = self.epoll.delete(&st.shared.rtcp);
        self.by_id.remove(&st.id());
        self.free.push(slot);
        Some(st)
    }

    fn remove(&mut self, slot: usize) {
        if let Some(mut st) = self.unregister(slot) {
            st.close();
            // The sockets go back to the pool. When the handle has not let
            // go of the stream yet (it drops its reference just after asking
            // for the removal), duplicates of the descriptors go instead: a
            // `dup` is cheap, and the originals then close without tearing
            // down the sockets.
            let now = Instant::now();
            match Arc::try_unwrap(st.into_shared()) {
                Ok(shared) => self.core.ports.release(shared.rtp, shared.rtcp, now),
                Err(shared) => {
                    if let (Ok(rtp), Ok(rtcp)) = (shared.rtp.try_clone(), shared.rtcp.try_clone()) {
                        self.core.ports.release(rtp, rtcp, now);
                    }
                }
            }
        }
    }

    fn migrate(&mut self, slot: usize, to: usize) {
        if to == self.index {
            // Cannot happen (a migration is sent to the old owner), but keep
            // the transit count honest if it ever does.
            if let Some(st) = self.media.get(slot) {
                st.shared.in_transit.fetch_sub(1, Ordering::AcqRel);
            }
            return;
        }
        if let Some(st) = self.unregister(slot) {
            let id = st.id();
            let mut carried = Vec::new();
            let mut rest = VecDeque::with_capacity(self.blocked.len());
            for q in self.blocked.drain(..) {
                if q.0.id == id {
                    carried.push(q)
                } else {
                    rest.push_back(q)
                }
            }
            self.blocked = rest;
            self.core.send(to, Command::Adopt(st, carried));
            // The front of the queue may have been one of the carried commands.
            self.retry_blocked();
        }
    }

    fn shutdown(&mut self) {
        for st in self.media.streams.iter_mut().flatten() {
            st.close();
        }
    }
}
