//! The stream handle given to the channel driver, the state it shares with
//! the worker (sockets, counters), and the parameter, event and statistics
//! types.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::EngineCore;
use super::command::StreamCmd;
use super::media::StreamState;
use super::stats::{RtpStats, SharedStats};
use super::taps::{Tap, Taps};
use crate::audio::{AudioSink, AudioSource, MonitorSink};
use crate::codec::Codec;
use crate::error::MediaError;
use crate::pipe::PipeReader;
use crate::snoop::SnoopDirection;

/// Capacity of a stream's event channel; when the consumer lags, further
/// events are dropped and counted rather than stalling the media thread.
pub(crate) const EVENT_QUEUE: usize = 64;

/// What the SDP negotiation decided for one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamParams {
    /// Where to send (the SDP `c=`/`m=` address); `None` until known.
    pub remote: Option<SocketAddr>,
    /// The codec both directions use.
    pub codec: Codec,
    /// The payload type negotiated for `codec`.
    pub payload_type: u8,
    /// The payload type of `telephone-event`, if negotiated.
    pub dtmf_payload_type: Option<u8>,
    /// Packetisation time in ms (clamped to 10-60).
    pub ptime_ms: u32,
    /// `rtp_symmetric`: send to wherever the remote's packets come from
    /// (NAT), learning it from the first packet.
    pub symmetric: bool,
    /// Send RTCP reports (RFC 3550 §6.4) every 5 s to the port above the
    /// remote's, as Asterisk does for SIP calls; reports received are
    /// read either way.
    pub rtcp: bool,
}

impl StreamParams {
    /// Parameters for `codec` with its static payload type (96 for L16),
    /// 20 ms, telephone-event on 101, no remote yet, no RTCP sent.
    pub fn new(codec: Codec) -> StreamParams {
        StreamParams {
            remote: None,
            codec,
            payload_type: codec.static_payload_type().unwrap_or(96),
            dtmf_payload_type: Some(101),
            ptime_ms: 20,
            symmetric: false,
            rtcp: false,
        }
    }
}

/// Which audio [`Stream::mute`] drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuteDirection {
    /// What the remote sends: nobody (link, mixer, recording) hears it.
    Incoming,
    /// What the stream would send: the remote hears nothing.
    Outgoing,
    /// Both.
    Both,
}

impl MuteDirection {
    /// Whether this direction covers the received audio.
    pub fn incoming(self) -> bool {
        matches!(self, MuteDirection::Incoming | MuteDirection::Both)
    }

    /// Whether this direction covers the sent audio.
    pub fn outgoing(self) -> bool {
        matches!(self, MuteDirection::Outgoing | MuteDirection::Both)
    }
}

/// Something that happened on a stream, for the channel driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A DTMF key press ended (RFC 4733), with its duration.
    Dtmf {
        /// The key.
        digit: char,
        /// How long it was held, in ms.
        duration_ms: u32,
    },
    /// A DTMF key press began.
    DtmfBegin {
        /// The key.
        digit: char,
    },
    /// A [`Stream::play`] ended: `completed` is false when it was stopped or
    /// replaced.
    PlaybackFinished {
        /// The id returned by [`Stream::play`].
        id: u64,
        /// Whether the source ran to its end.
        completed: bool,
    },
    /// The remote address was learned from received packets (symmetric RTP).
    RemoteLearned(SocketAddr),
}

/// Counters of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// RTP packets received (all sources, before filtering).
    pub packets_rx: u64,
    /// RTP bytes received.
    pub bytes_rx: u64,
    /// RTP packets sent.
    pub packets_tx: u64,
    /// RTP bytes sent.
    pub bytes_tx: u64,
    /// Packets dropped by strict RTP: from a source other than the remote.
    pub dropped_unexpected_source: u64,
    /// Packets that were not valid RTP.
    pub dropped_malformed: u64,
    /// Valid RTP with a payload type this stream did not negotiate, or
    /// received before the stream was configured.
    pub dropped_unknown_payload: u64,
    /// Events lost because the event channel was full.
    pub events_dropped: u64,
    /// When the last accepted packet arrived (for `rtp_timeout`).
    pub last_rx: Option<Instant>,
    /// The remote learned from received packets, if any.
    pub remote_learned: Option<SocketAddr>,
}

#[derive(Default)]
pub(crate) struct StreamCounters {
    pub(crate) packets_rx: AtomicU64,
    pub(crate) bytes_rx: AtomicU64,
    pub(crate) packets_tx: AtomicU64,
    pub(crate) bytes_tx: AtomicU64,
    pub(crate) dropped_unexpected_source: AtomicU64,
    pub(crate) dropped_malformed: AtomicU64,
    pub(crate) dropped_unknown_payload: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
    /// Microseconds since the engine epoch, plus one; 0 = never.
    pub(crate) last_rx_us: AtomicU64,
}

/// What a handle and the owning worker share. The sockets close when both
/// have let go.
pub(crate) struct StreamShared {
    pub(crate) id: u64,
    /// The worker that owns the stream, or will once a migration lands.
    pub(crate) worker: AtomicUsize,
    /// Migrations started and not yet landed; while non-zero, commands for
    /// the stream wait at its new worker instead of being dropped.
    pub(crate) in_transit: AtomicU32,
    pub(crate) closed: AtomicBool,
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    pub(crate) local: SocketAddr,
    pub(crate) counters: StreamCounters,
    /// RTP statistics, published by the worker.
    pub(crate) stats: SharedStats,
    pub(crate) events_rx: Mutex<Option<mpsc::Receiver<StreamEvent>>>,
    pub(crate) remote_learned: Mutex<Option<SocketAddr>>,
}

/// Creates the handle and the worker-side state of a new stream. The state
/// starts "in transit" to `worker` until the worker adopts it.
pub(crate) fn new_stream(
    id: u64,
    worker: usize,
    rtp: UdpSocket,
    rtcp: UdpSocket,
    core: Arc<EngineCore>,
) -> Result<(Stream, Box<StreamState>), MediaError> {
    let local = rtp.local_addr()?;
    let (tx, rx) = mpsc::channel(EVENT_QUEUE);
    let shared = Arc::new(StreamShared {
        id,
        worker: AtomicUsize::new(worker),
        in_transit: AtomicU32::new(1),
        closed: AtomicBool::new(false),
        rtp,
        rtcp,
        local,
        counters: StreamCounters::default(),
        stats: SharedStats::default(),
        events_rx: Mutex::new(Some(rx)),
        remote_learned: Mutex::new(None),
    });
    let state = Box::new(StreamState::new(Arc::clone(&shared), tx));
    Ok((
        Stream {
            shared,
            core,
            next_play: AtomicU64::new(1),
            next_monitor: AtomicU64::new(1),
            next_whisper: AtomicU64::new(1),
            next_generator: AtomicU64::new(1),
            taps: Taps::new(),
        },
        state,
    ))
}

/// A handle on one RTP stream. Commands are queued to the stream's worker and
/// return at once; dropping the handle closes the stream.
pub struct Stream {
    pub(crate) shared: Arc<StreamShared>,
    pub(crate) core: Arc<EngineCore>,
    next_play: AtomicU64,
    next_monitor: AtomicU64,
    next_whisper: AtomicU64,
    next_generator: AtomicU64,
    taps: Taps,
}

impl Stream {
    /// Engine-unique id of the stream.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The local RTP address, for the SDP.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// Sets or changes (re-INVITE) the remote, codec and payload types.
    pub fn configure(&self, p: StreamParams) {
        self.core.send_stream(&self.shared, StreamCmd::Configure(p));
    }

    /// The event channel; `Some` only on the first call.
    pub fn take_events(&self) -> Option<mpsc::Receiver<StreamEvent>> {
        match self.shared.events_rx.lock() {
            Ok(mut rx) => rx.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Plays `src` toward the remote in 20 ms ticks, replacing linked or
    /// mixed audio while it plays (a running playback is stopped). Returns
    /// the id carried by [`StreamEvent::PlaybackFinished`].
    pub fn play(&self, src: Box<dyn AudioSource>) -> u64 {
        let id = self.next_play.fetch_add(1, Ordering::Relaxed);
        self.core
            .send_stream(&self.shared, StreamCmd::Play(id, src));
        id
    }

    /// Stops the current playback (finished with `completed: false`).
    pub fn stop_playback(&self) {
        self.core.send_stream(&self.shared, StreamCmd::StopPlayback);
    }

    /// Makes `src` the stream's generator (music on hold, [`Silence`]): it
    /// plays toward the remote whenever no playback or DTMF does, replacing
    /// linked or mixed audio, until [`Stream::stop_generator`], another
    /// generator, or a playback ends it (as a playback deactivates
    /// Asterisk's generators). Returns the id `stop_generator` takes.
    ///
    /// [`Silence`]: crate::Silence
    pub fn generate(&self, src: Box<dyn AudioSource>) -> u64 {
        let id = self.next_generator.fetch_add(1, Ordering::Relaxed);
        self.core
            .send_stream(&self.shared, StreamCmd::Generate(id, src));
        id
    }

    /// Ends generator `id`; nothing happens if another one replaced it.
    pub fn stop_generator(&self, id: u64) {
        self.core
            .send_stream(&self.shared, StreamCmd::StopGenerator(id));
    }

    /// Mutes (`on`) or unmutes one direction of the stream's audio, or
    /// both (ARI `mute`): muted incoming audio reaches no link, mixer,
    /// recording or echo; muted outgoing audio is not sent at all. DTMF
    /// passes either way, and in-band keys are still detected.
    pub fn mute(&self, direction: MuteDirection, on: bool) {
        self.core
            .send_stream(&self.shared, StreamCmd::Mute(direction, on));
    }

    /// Hands received audio, decoded, to `sink` in 20 ms frames, replacing
    /// (and finishing) any previous sink.
    pub fn record(&self, sink: Box<dyn AudioSink>) {
        self.taps.set(Tap::Record, true);
        self.core.send_stream(&self.shared, StreamCmd::Record(sink));
    }

    /// Stops recording and finishes the sink.
    pub fn stop_record(&self) {
        self.taps.set(Tap::Record, false);
        self.core.send_stream(&self.shared, StreamCmd::StopRecord);
    }

    /// Hands both directions of the stream's audio to `sink` in 20 ms
    /// frames (call recording: what the remote says and what it hears),
    /// beside any other monitor and any [`Stream::record`] sink. Returns
    /// the id [`Stream::stop_monitor`] takes. The sink is finished when
    /// monitoring stops or the stream closes, or dropped unfinished if the
    /// stream closed before it was attached.
    pub fn monitor(&self, sink: Box<dyn MonitorSink>) -> u64 {
        let id = self.next_monitor.fetch_add(1, Ordering::Relaxed);
        self.taps.set(Tap::Monitor(id), true);
        self.core
            .send_stream(&self.shared, StreamCmd::Monitor(id, sink));
        id
    }

    /// Detaches monitor `id` and finishes its sink.
    pub fn stop_monitor(&self, id: u64) {
        self.taps.set(Tap::Monitor(id), false);
        self.core
            .send_stream(&self.shared, StreamCmd::StopMonitor(id));
    }

    /// Mixes audio read from `reader` (`rate` Hz: 8000 or 16000) into what
    /// the remote hears (`Out`), into what it says before that goes on to
    /// a linked stream, a mixer or a recording (`In`), or both: a snoop's
    /// whisper. Several may whisper at once. Returns the id
    /// [`Stream::stop_whisper`] takes.
    pub fn whisper(&self, direction: SnoopDirection, reader: PipeReader, rate: u32) -> u64 {
        let id = self.next_whisper.fetch_add(1, Ordering::Relaxed);
        self.taps.set(Tap::Whisper(id), true);
        self.core.send_stream(
            &self.shared,
            StreamCmd::Whisper(id, direction, reader, rate),
        );
        id
    }

    /// Stops whisper `id`.
    pub fn stop_whisper(&self, id: u64) {
        self.taps.set(Tap::Whisper(id), false);
        self.core
            .send_stream(&self.shared, StreamCmd::StopWhisper(id));
    }

    /// Whether a recording, monitor or whisper uses the stream's audio
    /// here: a native RTP bridge must then keep the media on this server.
    pub fn is_tapped(&self) -> bool {
        self.taps.any()
    }

    /// Changes whenever [`Stream::is_tapped`] does, for a bridge that goes
    /// back to relaying media when a recording starts mid-call.
    pub fn watch_taps(&self) -> tokio::sync::watch::Receiver<bool> {
        self.taps.watch()
    }

    /// Sends received audio and DTMF straight back to the remote (the Echo
    /// application), instead of to a linked stream.
    pub fn set_echo(&self, on: bool) {
        self.core.send_stream(&self.shared, StreamCmd::Echo(on));
    }

    /// Whether telephone-events received on this stream are forwarded to
    /// the stream it is linked with (on by default). A bridge that watches
    /// this side for feature codes turns it off and passes the keys on
    /// itself once they match no code, so that the other party never
    /// hears a code (Asterisk's feature digit hold).
    pub fn set_dtmf_relay(&self, on: bool) {
        self.core
            .send_stream(&self.shared, StreamCmd::DtmfRelay(on));
    }

    /// Sends a DTMF key as RFC 4733 events, if a telephone-event payload type
    /// is configured (ignored otherwise, and for non-DTMF characters).
    pub fn send_dtmf(&self, digit: char, duration_ms: u32) {
        self.core
            .send_stream(&self.shared, StreamCmd::SendDtmf(digit, duration_ms));
    }

    /// Looks for DTMF tones in the received audio (`dtmf_mode=inband`) and
    /// reports the keys as [`StreamEvent::DtmfBegin`] and
    /// [`StreamEvent::Dtmf`], as RFC 4733 keys are. Off by default: it
    /// costs a decode and eight Goertzel filters per packet.
    pub fn detect_inband_dtmf(&self, on: bool) {
        self.core
            .send_stream(&self.shared, StreamCmd::InbandDetect(on));
    }

    /// Plays a DTMF key as its tone pair in the outgoing audio for
    /// `duration_ms`, then a short pause (`dtmf_mode=inband`, for peers
    /// without telephone-event). Keys queue; non-DTMF characters are
    /// ignored.
    pub fn send_dtmf_inband(&self, digit: char, duration_ms: u32) {
        self.core
            .send_stream(&self.shared, StreamCmd::SendInbandDtmf(digit, duration_ms));
    }

    /// The RTP statistics (ARI's `rtp_statistics`): counts, loss, jitter,
    /// SSRCs, and what the remote's RTCP reports said. Read from figures
    /// the worker publishes every 20 ms; never waits for it.
    pub fn rtp_stats(&self) -> RtpStats {
        let sent = self.shared.counters.packets_tx.load(Ordering::Relaxed);
        self.shared.stats.read(sent)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StreamStats {
        let c = &self.shared.counters;
        let last = c.last_rx_us.load(Ordering::Relaxed);
        let remote_learned = match self.shared.remote_learned.lock() {
            Ok(r) => *r,
            Err(poisoned) => *poisoned.into_inner(),
        };
        StreamStats {
            packets_rx: c.packets_rx.load(Ordering::Relaxed),
            bytes_rx: c.bytes_rx.load(Ordering::Relaxed),
            packets_tx: c.packets_tx.load(Ordering::Relaxed),
            bytes_tx: c.bytes_tx.load(Ordering::Relaxed),
            dropped_unexpected_source: c.dropped_unexpected_source.load(Ordering::Relaxed),
            dropped_malformed: c.dropped_malformed.load(Ordering::Relaxed),
            dropped_unknown_payload: c.dropped_unknown_payload.load(Ordering::Relaxed),
            events_dropped: c.events_dropped.load(Ordering::Relaxed),
            last_rx: (last > 0).then(|| self.core.epoch + Duration::from_micros(last - 1)),
            remote_learned,
        }
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("id", &self.shared.id)
            .field("local", &self.shared.local)
            .finish()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.core.counters.streams.fetch_sub(1, Ordering::Relaxed);
        self.core.send_stream(&self.shared, StreamCmd::Remove);
    }
}
