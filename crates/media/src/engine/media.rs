//! What a worker does with its streams: the receive path (source check,
//! parse, DTMF, decode for recording and mixing, relay or transcode to the
//! linked stream, echo) and the 20 ms tick (DTMF sending, playback, the
//! generator).
//!
//! Everything here runs on the worker thread with plain `&mut` access;
//! nothing allocates per packet. Buffers that only some streams need
//! (transcoding, playback, recording, mixing) are allocated when the command
//! that needs them is processed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::conference::{MixSlot, MixerState};
use super::fifo::SampleFifo;
use super::io::SendQueue;
use super::monitor::Monitor;
use super::stream::{StreamEvent, StreamParams, StreamShared};
use crate::audio::{AudioSink, AudioSource, frame_len};
use crate::codec::{Codec, Decoder, Encoder};
use crate::dtmf::{DtmfReceiver, DtmfSender, TelephoneEvent};
use crate::resample::Resampler;
use crate::rtp::{self, RtpHeader, RtpPacket};

mod generator;
mod inband;
mod reports;

/// The media tick.
pub(crate) const TICK_MS: u32 = 20;
/// A silence longer than this since the last packet sent makes the next
/// generated packet jump its timestamp by the elapsed time.
const GAP_MS: u64 = 100;
/// Largest decoded chunk: a 2036-byte G.722 payload gives 4072 samples.
const PCM_MAX: usize = 4096;

/// Working buffers of one worker, shared by all its streams.
pub(crate) struct Scratch {
    pub(crate) pcm: [i16; PCM_MAX],
    pub(crate) resampled: [i16; 2 * PCM_MAX],
    pub(crate) frame: [i16; 1920],
}

impl Scratch {
    pub(crate) fn new() -> Box<Scratch> {
        Box::new(Scratch {
            pcm: [0; PCM_MAX],
            resampled: [0; 2 * PCM_MAX],
            frame: [0; 1920],
        })
    }
}

/// Who produced the last packet on an outgoing stream; a change of producer
/// re-anchors forwarded timestamps so the remote sees one continuous stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Producer {
    None,
    Forward,
    Generated,
}

/// Sequence and timestamp state of what a stream sends.
pub(crate) struct OutState {
    ssrc: u32,
    seq: u16,
    next_ts: u32,
    last_ts: u32,
    last_send_ms: u64,
    sent_any: bool,
    producer: Producer,
}

impl OutState {
    fn new() -> OutState {
        OutState {
            ssrc: rand::random(),
            seq: rand::random(),
            next_ts: rand::random(),
            last_ts: 0,
            last_send_ms: 0,
            sent_any: false,
            producer: Producer::None,
        }
    }

    /// Timestamp the next generated packet would get, counting a long
    /// silence as elapsed time.
    fn peek_ts(&self, clock: u32, now_ms: u64) -> u32 {
        let gap = now_ms.saturating_sub(self.last_send_ms);
        if self.sent_any && gap > GAP_MS {
            self.last_ts
                .wrapping_add((gap * u64::from(clock) / 1000) as u32)
        } else {
            self.next_ts
        }
    }

    /// Header fields of a packet produced here (playback, transcoding,
    /// mixing), `ticks` RTP units long.
    fn generated(&mut self, ticks: u32, clock: u32, now_ms: u64) -> (u16, u32, bool) {
        let ts = self.peek_ts(clock, now_ms);
        let marker = self.producer != Producer::Generated || ts != self.next_ts;
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        self.next_ts = ts.wrapping_add(ticks);
        self.last_ts = ts;
        self.last_send_ms = now_ms;
        self.sent_any = true;
        self.producer = Producer::Generated;
        (seq, ts, marker)
    }
}

/// How one incoming stream's sequence numbers and timestamps map onto an
/// outgoing stream when payloads are forwarded as they are.
#[derive(Clone, Copy, Default)]
pub(crate) struct ForwardMap {
    src_ssrc: Option<u32>,
    ts_delta: u32,
    seq_delta: u16,
}

impl ForwardMap {
    fn reset(&mut self) {
        self.src_ssrc = None;
    }

    /// Header fields for a forwarded packet; re-anchors when the source or
    /// the producer changed, keeping the incoming spacing (and gaps) after.
    fn map(
        &mut self,
        out: &mut OutState,
        h: &RtpHeader,
        ticks: u32,
        clock: u32,
        now_ms: u64,
    ) -> (u16, u32, bool) {
        let mut marker = h.marker;
        if self.src_ssrc != Some(h.ssrc) || out.producer != Producer::Forward {
            let ts0 = out.peek_ts(clock, now_ms);
            self.ts_delta = ts0.wrapping_sub(h.timestamp);
            self.seq_delta = out.seq.wrapping_sub(h.sequence);
            self.src_ssrc = Some(h.ssrc);
            out.producer = Producer::Forward;
            marker = true;
        }
        let seq = h.sequence.wrapping_add(self.seq_delta);
        let ts = h.timestamp.wrapping_add(self.ts_delta);
        if seq.wrapping_sub(out.seq) as i16 >= 0 {
            out.seq = seq.wrapping_add(1);
            out.next_ts = ts.wrapping_add(ticks);
            out.last_ts = ts;
        }
        out.last_send_ms = now_ms;
        out.sent_any = true;
        (seq, ts, marker)
    }
}

/// Re-framing state for audio arriving from the linked stream in another
/// codec or packet size.
pub(crate) struct TranscodeIn {
    from: Codec,
    rs: Resampler,
    fifo: SampleFifo,
}

/// The direction "from the linked stream to this one".
#[derive(Default)]
pub(crate) struct Relay {
    map: ForwardMap,
    /// Telephone-event timestamp in and out, to keep one per event.
    dtmf_map: Option<(u32, u32)>,
    transcode: Option<Box<TranscodeIn>>,
}

/// Which of a stream's two audio sources: the playback, or the generator
/// under it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Playback,
    Generator,
}

/// A source being played on a stream (in its playback or generator slot),
/// with its resampler to the codec rate and re-framing queue.
pub(crate) struct Playback {
    id: u64,
    src: Box<dyn AudioSource>,
    rs: Resampler,
    fifo: SampleFifo,
}

pub(crate) struct Recorder {
    sink: Box<dyn AudioSink>,
    rs: Resampler,
    fifo: SampleFifo,
}

struct DtmfOut {
    sender: DtmfSender,
    timestamp: u32,
}

/// A stream as its worker sees it.
pub(crate) struct StreamState {
    pub(crate) shared: Arc<StreamShared>,
    events: mpsc::Sender<StreamEvent>,
    pub(crate) params: Option<StreamParams>,
    decoder: Decoder,
    pub(crate) encoder: Encoder,
    send_to: Option<SocketAddr>,
    locked_source: Option<SocketAddr>,
    out: OutState,
    dtmf_rx: DtmfReceiver,
    dtmf_tx: Option<DtmfOut>,
    dtmf_queue: VecDeque<(char, u32)>,
    pub(crate) peer: Option<usize>,
    relay: Relay,
    /// Telephone-events received here are forwarded to the linked stream
    /// (off while a bridge watches this side for feature codes).
    relay_dtmf: bool,
    echo: bool,
    echo_map: ForwardMap,
    playback: Option<Box<Playback>>,
    /// Music on hold or silence, under any playback; see `media/generator.rs`.
    generator: Option<Box<Playback>>,
    /// Received audio is dropped (ARI `mute` `in`).
    mute_in: bool,
    /// Audio to send is dropped (ARI `mute` `out`).
    mute_out: bool,
    record: Option<Box<Recorder>>,
    pub(crate) mix: Option<Box<MixSlot>>,
    /// Call recording taps (both directions); see `monitor.rs`.
    pub(crate) monitor: Option<Box<Monitor>>,
    /// In-band DTMF detection and sending; see `media/inband.rs`.
    inband: Option<Box<inband::Inband>>,
    /// RTP statistics and RTCP; see `media/reports.rs`.
    reports: reports::Reports,
    /// Audio whispered into the stream (a snoop); see `whisper.rs`.
    pub(crate) whisper: Option<Box<super::whisper::Whispers>>,
}

impl StreamState {
    pub(crate) fn new(shared: Arc<StreamShared>, events: mpsc::Sender<StreamEvent>) -> StreamState {
        let reports = reports::Reports::new(shared.id);
        StreamState {
            shared,
            events,
            params: None,
            decoder: Decoder::new(Codec::Ulaw),
            encoder: Encoder::new(Codec::Ulaw),
            send_to: None,
            locked_source: None,
            out: OutState::new(),
            dtmf_rx: DtmfReceiver::new(8000),
            dtmf_tx: None,
            dtmf_queue: VecDeque::new(),
            peer: None,
            relay: Relay::default(),
            relay_dtmf: true,
            echo: false,
            echo_map: ForwardMap::default(),
            playback: None,
            generator: None,
            mute_in: false,
            mute_out: false,
            record: None,
            mix: None,
            monitor: None,
            inband: None,
            reports,
            whisper: None,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    pub(crate) fn codec(&self) -> Option<Codec> {
        self.params.as_ref().map(|p| p.codec)
    }

    pub(crate) fn ptime(&self) -> u32 {
        self.params.as_ref().map_or(TICK_MS, |p| p.ptime_ms)
    }

    /// Whether this stream's outgoing audio currently comes from itself
    /// (playback, a generator or DTMF), so relayed or mixed audio must not
    /// be sent.
    pub(crate) fn busy_generating(&self) -> bool {
        self.playback.is_some()
            || self.generator.is_some()
            || self.dtmf_tx.is_some()
            || self.inband_sending()
    }

    pub(crate) fn emit(&self, ev: StreamEvent) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.events.try_send(ev) {
            self.shared
                .counters
                .events_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Strict RTP and symmetric learning: whether to accept a packet from `from`.
    fn accept_source(&mut self, from: SocketAddr, strict: bool) -> bool {
        let symmetric = self.params.as_ref().is_some_and(|p| p.symmetric);
        match self.locked_source {
            Some(addr) if addr == from => true,
            Some(_) if strict => false,
            _ => {
                self.locked_source = Some(from);
                if symmetric && self.send_to != Some(from) {
                    self.send_to = Some(from);
                    match self.shared.remote_learned.lock() {
                        Ok(mut r) => *r = Some(from),
                        Err(poisoned) => *poisoned.into_inner() = Some(from),
                    }
                    self.emit(StreamEvent::RemoteLearned(from));
                }
                true
            }
        }
    }

    /// Applies new negotiated parameters (first configuration or re-INVITE).
    pub(crate) fn configure(&mut self, mut p: StreamParams) {
        p.ptime_ms = p.ptime_ms.clamp(10, 60);
        if self.codec() != Some(p.codec) {
            self.decoder = Decoder::new(p.codec);
            self.encoder = Encoder::new(p.codec);
            self.dtmf_rx = DtmfReceiver::new(p.codec.rtp_clock_rate());
            self.inband_codec_changed(p.codec);
            self.whisper_follow(p.codec);
        }
        self.send_to = p.remote;
        self.locked_source = if p.symmetric { None } else { p.remote };
        self.out.producer = Producer::None;
        self.echo_map.reset();
        for pb in [self.playback.as_mut(), self.generator.as_mut()]
            .into_iter()
            .flatten()
        {
            pb.src.prefer_rate(p.codec.sample_rate());
            pb.rs = Resampler::for_rates(pb.src.sample_rate(), p.codec.sample_rate());
            pb.fifo.clear();
        }
        if let Some(rec) = self.record.as_mut() {
            rec.rs = Resampler::for_rates(p.codec.sample_rate(), rec.sink.sample_rate());
            rec.fifo.clear();
        }
        if let Some(mix) = self.mix.as_mut() {
            mix.set_codec(p.codec);
        }
        self.params = Some(p);
    }

    /// Starts playing `src`, ending a running playback and the generator
    /// (Asterisk's file streaming deactivates the channel's generator).
    pub(crate) fn play(&mut self, id: u64, src: Box<dyn AudioSource>) {
        self.stop_playback();
        self.generator = None;
        self.playback = Some(self.source(id, src));
    }

    /// A source set up for this stream's codec.
    fn source(&self, id: u64, mut src: Box<dyn AudioSource>) -> Box<Playback> {
        let to = self.codec().map_or(8000, Codec::sample_rate);
        src.prefer_rate(to);
        let rs = Resampler::for_rates(src.sample_rate(), to);
        Box::new(Playback {
            id,
            src,
            rs,
            fifo: SampleFifo::new(),
        })
    }

    pub(crate) fn stop_playback(&mut self) {
        if let Some(pb) = self.playback.take() {
            self.emit(StreamEvent::PlaybackFinished {
                id: pb.id,
                completed: false,
            });
            self.out.producer = Producer::None;
        }
    }

    pub(crate) fn record(&mut self, sink: Box<dyn AudioSink>) {
        self.stop_record();
        let from = self.codec().map_or(8000, Codec::sample_rate);
        let rs = Resampler::for_rates(from, sink.sample_rate());
        self.record = Some(Box::new(Recorder {
            sink,
            rs,
            fifo: SampleFifo::new(),
        }));
    }

    pub(crate) fn stop_record(&mut self) {
        if let Some(mut rec) = self.record.take() {
            rec.sink.finish();
        }
    }

    pub(crate) fn set_dtmf_relay(&mut self, on: bool) {
        self.relay_dtmf = on;
    }

    pub(crate) fn set_echo(&mut self, on: bool) {
        self.echo = on;
        self.echo_map.reset();
    }

    pub(crate) fn queue_dtmf(&mut self, digit: char, duration_ms: u32) {
        let has_pt = self
            .params
            .as_ref()
            .is_some_and(|p| p.dtmf_payload_type.is_some());
        if has_pt && crate::dtmf::digit_to_event(digit).is_some() && self.dtmf_queue.len() < 64 {
            self.dtmf_queue.push_back((digit, duration_ms));
        }
    }

    /// Clears per-link state after the peer changed or was reconfigured.
    pub(crate) fn reset_relay(&mut self, src: Option<&StreamState>) {
        self.relay.map.reset();
        self.relay.dtmf_map = None;
        let (Some(from), Some(to)) = (src.and_then(|s| s.params.as_ref()), self.params.as_ref())
        else {
            self.relay.transcode = None;
            return;
        };
        if from.codec == to.codec && from.ptime_ms == to.ptime_ms {
            self.relay.transcode = None;
            return;
        }
        match self.relay.transcode.as_mut() {
            Some(t) if t.from == from.codec => {
                t.rs = Resampler::for_codecs(from.codec, to.codec);
                t.fifo.clear();
            }
            _ => {
                self.relay.transcode = Some(Box::new(TranscodeIn {
                    from: from.codec,
                    rs: Resampler::for_codecs(from.codec, to.codec),
                    fifo: SampleFifo::new(),
                }))
            }
        }
    }

    /// Called when the stream leaves its worker or closes: finish sinks.
    /// Gives up the state, keeping the shared part (and its sockets).
    pub(crate) fn into_shared(self: Box<Self>) -> Arc<StreamShared> {
        self.shared
    }

    pub(crate) fn close(&mut self) {
        self.whisper = None;
        self.stop_monitors();
        self.stop_record();
        self.stop_playback();
        self.generator = None;
    }

    /// Encodes `pcm` (one frame at the codec rate) and queues it as a
    /// generated packet.
    pub(crate) fn send_generated(&mut self, q: &mut SendQueue, pcm: &[i16], now_ms: u64) {
        let (Some(p), Some(dest)) = (self.params.as_ref(), self.send_to) else {
            return;
        };
        if self.mute_out {
            return;
        }
        let (codec, pt, ptime) = (p.codec, p.payload_type, p.ptime_ms);
        self.tap_sent_pcm(pcm);
        let pcm = match self.whisper.as_deref_mut() {
            Some(w) if w.to_remote() => w.mix_out(pcm, now_ms),
            _ => pcm,
        };
        let (seq, ts, marker) =
            self.out
                .generated(codec.frame_ticks(ptime), codec.rtp_clock_rate(), now_ms);
        let buf = q.slot();
        let n = self.encoder.encode(pcm, &mut buf[RtpHeader::LEN..]);
        let h = RtpHeader {
            marker,
            payload_type: pt,
            sequence: seq,
            timestamp: ts,
            ssrc: self.out.ssrc,
        };
        if h.write(&mut buf[..]).is_ok() {
            self.commit(q, dest, RtpHeader::LEN + n);
        }
    }

    /// With a whisper to the remote, a payload that would go out as is is
    /// decoded, whispered into and encoded again; returns whether it was.
    fn resend_whispered(&mut self, q: &mut SendQueue, payload: &[u8], now_ms: u64) -> bool {
        let mut pcm = [0i16; 1920];
        match self.whisper_decode(payload, &mut pcm) {
            Some(n) => {
                self.send_generated(q, &pcm[..n], now_ms);
                true
            }
            None => false,
        }
    }

    /// Queues a packet whose payload is already encoded.
    fn send_payload(&mut self, q: &mut SendQueue, h: RtpHeader, payload: &[u8]) {
        let Some(dest) = self.send_to else {
            return;
        };
        let buf = q.slot();
        if let Ok(len) = rtp::build_packet(&h, payload, &mut buf[..]) {
            self.commit(q, dest, len);
        }
    }

    fn commit(&self, q: &mut SendQueue, dest: SocketAddr, len: usize) {
        q.commit(self.shared.rtp.as_raw_fd(), dest, len);
        let c = &self.shared.counters;
        c.packets_tx.fetch_add(1, Ordering::Relaxed);
        c.bytes_tx.fetch_add(len as u64, Ordering::Relaxed);
        self.shared
            .stats
            .tx_octets
            .fetch_add(len.saturating_sub(RtpHeader::LEN) as u64, Ordering::Relaxed);
    }

    /// Sends a payload taken from `h` (another stream's, or our own for
    /// echo) with this stream's SSRC and sequence/timestamp mapping.
    fn forward(
        &mut self,
        q: &mut SendQueue,
        h: &RtpHeader,
        payload: &[u8],
        echo: bool,
        now_ms: u64,
    ) {
        let Some(p) = self.params.as_ref() else {
            return;
        };
        if self.mute_out {
            return;
        }
        let (codec, pt) = (p.codec, p.payload_type);
        if self.resend_whispered(q, payload, now_ms) {
            return;
        }
        let map = if echo {
            &mut self.echo_map
        } else {
            &mut self.relay.map
        };
        let (seq, ts, marker) = map.map(
            &mut self.out,
            h,
            codec.ticks_in(payload.len()),
            codec.rtp_clock_rate(),
            now_ms,
        );
        let out = RtpHeader {
            marker,
            payload_type: pt,
            sequence: seq,
            timestamp: ts,
            ssrc: self.out.ssrc,
        };
        self.tap_sent_payload(payload);
        self.send_payload(q, out, payload);
    }

    /// Relays a telephone-event from a stream with RTP clock `src_clock`.
    fn forward_dtmf(
        &mut self,
        q: &mut SendQueue,
        h: &RtpHeader,
        ev: &TelephoneEvent,
        src_clock: u32,
        echo: bool,
        now_ms: u64,
    ) {
        let Some(p) = self.params.as_ref() else {
            return;
        };
        let Some(pt) = p.dtmf_payload_type else {
            return;
        };
        let clock = p.codec.rtp_clock_rate();
        let forwarding = !echo && self.relay.transcode.is_none() && clock == src_clock;
        let (seq, ts) = if echo || forwarding {
            let map = if echo {
                &mut self.echo_map
            } else {
                &mut self.relay.map
            };
            let (seq, ts, _) = map.map(&mut self.out, h, 0, clock, now_ms);
            (seq, ts)
        } else {
            let ts = match self.relay.dtmf_map {
                Some((tin, tout)) if tin == h.timestamp => tout,
                _ => {
                    let tout = self.out.peek_ts(clock, now_ms);
                    self.relay.dtmf_map = Some((h.timestamp, tout));
                    tout
                }
            };
            let seq = self.out.seq;
            self.out.seq = seq.wrapping_add(1);
            self.out.producer = Producer::Generated;
            self.out.last_send_ms = now_ms;
            self.out.sent_any = true;
            (seq, ts)
        };
        let duration = (u64::from(ev.duration) * u64::from(clock) / u64::from(src_clock.max(1)))
            .min(0xFFFF) as u16;
        if ev.end {
            let end = ts.wrapping_add(u32::from(duration));
            if end.wrapping_sub(self.out.next_ts) as i32 > 0 {
                self.out.next_ts = end;
            }
            self.out.last_ts = ts;
        }
        let out_ev = TelephoneEvent { duration, ..*ev };
        let out = RtpHeader {
            marker: h.marker,
            payload_type: pt,
            sequence: seq,
            timestamp: ts,
            ssrc: self.out.ssrc,
        };
        self.send_payload(q, out, &out_ev.to_bytes());
    }

    /// The 20 ms tick of one stream: DTMF timeout and sending, playback.
    pub(crate) fn tick(&mut self, q: &mut SendQueue, scratch: &mut Scratch, now_ms: u64) {
        if let Some((digit, duration_ms)) = self.dtmf_rx.poll_timeout(now_ms) {
            self.emit(StreamEvent::Dtmf { digit, duration_ms });
        }
        if self.dtmf_tx.is_none() {
            self.start_next_dtmf(now_ms);
        }
        if self.dtmf_tx.is_some() {
            self.tick_dtmf(q, now_ms);
            return;
        }
        if self.tick_inband(q, scratch, now_ms) {
            return;
        }
        if self.playback.is_some() {
            self.tick_playback(q, scratch, now_ms);
        } else {
            self.tick_generator(q, scratch, now_ms);
        }
    }

    fn start_next_dtmf(&mut self, now_ms: u64) {
        let Some(p) = self.params.as_ref() else {
            self.dtmf_queue.clear();
            return;
        };
        let clock = p.codec.rtp_clock_rate();
        while let Some((digit, duration_ms)) = self.dtmf_queue.pop_front() {
            if let Some(sender) = DtmfSender::new(digit, duration_ms, clock, TICK_MS) {
                let timestamp = self.out.peek_ts(clock, now_ms);
                self.dtmf_tx = Some(DtmfOut { sender, timestamp });
                return;
            }
        }
    }

    fn tick_dtmf(&mut self, q: &mut SendQueue, now_ms: u64) {
        let (Some(p), Some(d)) = (self.params.as_ref(), self.dtmf_tx.as_mut()) else {
            self.dtmf_tx = None;
            return;
        };
        let Some(pt) = p.dtmf_payload_type else {
            self.dtmf_tx = None;
            return;
        };
        let timestamp = d.timestamp;
        let ssrc = self.out.ssrc;
        let mut seq = self.out.seq;
        let mut buf = [[0u8; 4]; 3];
        let mut markers = [false; 3];
        let packets = d.sender.tick();
        let count = packets.len();
        for (i, pkt) in packets.iter().enumerate() {
            buf[i] = pkt.event.to_bytes();
            markers[i] = pkt.marker;
        }
        let finished = d.sender.finished();
        let total = d.sender.total_duration();
        for i in 0..count {
            let h = RtpHeader {
                marker: markers[i],
                payload_type: pt,
                sequence: seq,
                timestamp,
                ssrc,
            };
            seq = seq.wrapping_add(1);
            self.send_payload(q, h, &buf[i]);
        }
        self.out.seq = seq;
        self.out.producer = Producer::Generated;
        self.out.last_send_ms = now_ms;
        self.out.last_ts = timestamp;
        self.out.sent_any = true;
        if finished {
            self.out.next_ts = timestamp.wrapping_add(total);
            self.dtmf_tx = None;
        }
    }

    fn tick_playback(&mut self, q: &mut SendQueue, scratch: &mut Scratch, now_ms: u64) {
        self.tick_source(Slot::Playback, q, scratch, now_ms);
    }

    /// The playback or the generator slot.
    fn slot(&mut self, which: Slot) -> &mut Option<Box<Playback>> {
        match which {
            Slot::Playback => &mut self.playback,
            Slot::Generator => &mut self.generator,
        }
    }

    /// Pulls one 20 ms frame from the source in `which` and sends what
    /// makes whole packets; a finished playback is reported, a finished
    /// generator just ends.
    fn tick_source(&mut self, which: Slot, q: &mut SendQueue, scratch: &mut Scratch, now_ms: u64) {
        let codec = self.codec();
        let ptime = self.ptime();
        let Some(pb) = self.slot(which).as_mut() else {
            return;
        };
        let rate = if pb.src.sample_rate() == 16000 {
            16000
        } else {
            8000
        };
        let want = frame_len(rate);
        let frame = &mut scratch.frame[..want];
        let n = pb.src.read_frame(frame).min(want);
        if n == 0 {
            let id = pb.id;
            *self.slot(which) = None;
            self.out.producer = Producer::None;
            if let Slot::Playback = which {
                self.emit(StreamEvent::PlaybackFinished {
                    id,
                    completed: true,
                });
            }
            return;
        }
        frame[n..].fill(0);
        let m = pb.rs.process(frame, &mut scratch.resampled);
        pb.fifo.push(&scratch.resampled[..m]);
        let Some(codec) = codec else {
            pb.fifo.clear();
            return;
        };
        let samples = codec.frame_samples(ptime);
        loop {
            let Some(pb) = self.slot(which).as_mut() else {
                return;
            };
            if !pb.fifo.pop_exact(&mut scratch.frame[..samples]) {
                return;
            }
            self.send_generated(q, &scratch.frame[..samples], now_ms);
        }
    }

    /// Sends a payload encoded elsewhere (a mixer's shared encoding), one
    /// 20 ms frame, with this stream's sequence and timestamps.
    pub(crate) fn send_encoded(&mut self, q: &mut SendQueue, payload: &[u8], now_ms: u64) {
        let Some(p) = self.params.as_ref() else {
            return;
        };
        if self.mute_out {
            return;
        }
        let (codec, pt) = (p.codec, p.payload_type);
        if self.resend_whispered(q, payload, now_ms) {
            return;
        }
        let (seq, ts, marker) =
            self.out
                .generated(codec.frame_ticks(TICK_MS), codec.rtp_clock_rate(), now_ms);
        let h = RtpHeader {
            marker,
            payload_type: pt,
            sequence: seq,
            timestamp: ts,
            ssrc: self.out.ssrc,
        };
        self.tap_sent_payload(payload);
        self.send_payload(q, h, payload);
    }

    /// Sends 20 ms of 16 kHz mixed audio through this participant's own
    /// resampler, framing and encoder.
    pub(crate) fn send_mixed(
        &mut self,
        q: &mut SendQueue,
        pcm16k: &[i16],
        scratch: &mut Scratch,
        now_ms: u64,
    ) {
        let Some(codec) = self.codec() else {
            return;
        };
        let samples = codec.frame_samples(self.ptime());
        let Some(mix) = self.mix.as_mut() else {
            return;
        };
        mix.push_out(pcm16k, &mut scratch.resampled);
        loop {
            let Some(mix) = self.mix.as_mut() else {
                return;
            };
            if !mix.pop_out(&mut scratch.frame[..samples]) {
                return;
            }
            self.send_generated(q, &scratch.frame[..samples], now_ms);
        }
    }

    /// Decoded audio received on this stream, for the monitor taps, then
    /// (with any inward whisper added) the recorder and the mixer.
    fn feed_local(&mut self, pcm: &mut [i16], scratch: &mut [i16]) {
        self.tap_received(pcm);
        self.whisper_in(pcm);
        if let Some(rec) = self.record.as_mut() {
            let m = rec.rs.process(pcm, scratch);
            rec.fifo.push(&scratch[..m]);
            let rate = if rec.sink.sample_rate() == 16000 {
                16000
            } else {
                8000
            };
            let mut frame = [0i16; 320];
            while rec.fifo.pop_exact(&mut frame[..frame_len(rate)]) {
                rec.sink.write_frame(&frame[..frame_len(rate)]);
            }
        }
        if let Some(mix) = self.mix.as_mut() {
            mix.feed(pcm, scratch);
        }
    }
}

/// The streams and mixers of one worker, with its send queue and buffers.
pub(crate) struct Media {
    pub(crate) streams: Vec<Option<Box<StreamState>>>,
    pub(crate) mixers: Vec<MixerState>,
    pub(crate) sendq: SendQueue,
    pub(crate) scratch: Box<Scratch>,
    pub(crate) now_ms: u64,
    /// Microseconds since the engine epoch, read once per batch.
    pub(crate) now_us: u64,
    pub(crate) strict: bool,
    /// Packets received / dropped since the last harvest into the engine totals.
    pub(crate) received: u64,
    pub(crate) dropped: u64,
}

/// Two distinct streams of the slab, mutably.
pub(crate) fn pair_mut(
    streams: &mut [Option<Box<StreamState>>],
    a: usize,
    b: usize,
) -> Option<(&mut StreamState, &mut StreamState)> {
    if a == b || a >= streams.len() || b >= streams.len() {
        return None;
    }
    let (x, y) = if a < b {
        let (l, r) = streams.split_at_mut(b);
        (&mut l[a], &mut r[0])
    } else {
        let (l, r) = streams.split_at_mut(a);
        (&mut r[0], &mut l[b])
    };
    Some((x.as_deref_mut()?, y.as_deref_mut()?))
}

impl Media {
    pub(crate) fn new(strict: bool) -> Media {
        Media {
            streams: Vec::new(),
            mixers: Vec::new(),
            sendq: SendQueue::new(),
            scratch: Scratch::new(),
            now_ms: 0,
            now_us: 0,
            strict,
            received: 0,
            dropped: 0,
        }
    }

    pub(crate) fn get(&mut self, slot: usize) -> Option<&mut StreamState> {
        self.streams.get_mut(slot).and_then(|s| s.as_deref_mut())
    }

    /// One datagram received on the RTCP socket of `slot`.
    pub(crate) fn on_rtcp_datagram(&mut self, slot: usize, data: &[u8]) {
        let now_us = self.now_us;
        if let Some(st) = self.get(slot) {
            st.on_rtcp(data, now_us);
        }
    }

    /// One datagram received on the RTP socket of `slot`.
    pub(crate) fn on_datagram(
        &mut self,
        slot: usize,
        data: &[u8],
        from: SocketAddr,
        truncated: bool,
    ) {
        let Media {
            streams,
            received,
            dropped,
            strict,
            now_us,
            ..
        } = self;
        let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let c = &st.shared.counters;
        c.packets_rx.fetch_add(1, Ordering::Relaxed);
        c.bytes_rx.fetch_add(data.len() as u64, Ordering::Relaxed);
        *received += 1;
        if !st.accept_source(from, *strict) {
            st.shared
                .counters
                .dropped_unexpected_source
                .fetch_add(1, Ordering::Relaxed);
            *dropped += 1;
            return;
        }
        if !truncated && rtp::is_rtcp(data) {
            // rtcp-mux: read like the RTCP port.
            st.on_rtcp(data, *now_us);
            return;
        }
        let pkt = match RtpPacket::parse(data) {
            Ok(p) if !truncated => p,
            _ => {
                st.shared
                    .counters
                    .dropped_malformed
                    .fetch_add(1, Ordering::Relaxed);
                *dropped += 1;
                return;
            }
        };
        st.shared
            .counters
            .last_rx_us
            .store(*now_us + 1, Ordering::Relaxed);
        let pt = pkt.header.payload_type;
        let kind = match st.params.as_ref() {
            Some(p) if Some(pt) == p.dtmf_payload_type => Some(true),
            Some(p) if pt == p.payload_type => Some(false),
            _ => None,
        };
        if kind.is_some() {
            st.count_received(&pkt.header, pkt.payload.len(), *now_us);
        }
        let now = self.now_ms;
        match kind {
            Some(true) => self.on_dtmf(slot, &pkt, now),
            Some(false) => self.on_audio(slot, &pkt, now),
            None => {
                st.shared
                    .counters
                    .dropped_unknown_payload
                    .fetch_add(1, Ordering::Relaxed);
                *dropped += 1;
            }
        }
    }

    fn on_dtmf(&mut self, slot: usize, pkt: &RtpPacket<'_>, now: u64) {
        let Media {
            streams,
            sendq,
            dropped,
            ..
        } = self;
        let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let Ok(ev) = TelephoneEvent::parse(pkt.payload) else {
            st.shared
                .counters
                .dropped_malformed
                .fetch_add(1, Ordering::Relaxed);
            *dropped += 1;
            return;
        };
        let out = st.dtmf_rx.on_packet(pkt.header.timestamp, &ev, now);
        if let Some((digit, duration_ms)) = out.ended {
            st.emit(StreamEvent::Dtmf { digit, duration_ms });
        }
        if let Some(digit) = out.began {
            st.emit(StreamEvent::DtmfBegin { digit });
        }
        let clock = st.codec().map_or(8000, Codec::rtp_clock_rate);
        if st.echo {
            if !st.busy_generating() {
                st.forward_dtmf(sendq, &pkt.header, &ev, clock, true, now);
            }
            return;
        }
        let Some(peer) = st.peer.filter(|_| st.relay_dtmf) else {
            return;
        };
        if let Some((_, dst)) = pair_mut(streams, slot, peer)
            && !dst.busy_generating()
        {
            dst.forward_dtmf(sendq, &pkt.header, &ev, clock, false, now);
        }
    }

    fn on_audio(&mut self, slot: usize, pkt: &RtpPacket<'_>, now: u64) {
        let Media {
            streams,
            sendq,
            scratch,
            ..
        } = self;
        let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        let peer = if st.echo { None } else { st.peer };
        let peer_transcodes = peer
            .and_then(|p| streams.get(p))
            .and_then(|s| s.as_deref())
            .is_some_and(|d| d.relay.transcode.is_some());
        let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
            return;
        };
        if st.mute_in {
            st.detect_muted(pkt.payload, scratch);
            return;
        }
        let whispered = st.whispers_to_peer();
        let local = st.record.is_some() || st.mix.is_some() || st.monitor.is_some() || whispered;
        let n = if local || peer_transcodes || st.detects_inband() {
            st.decoder.decode(pkt.payload, &mut scratch.pcm)
        } else {
            0
        };
        if local {
            st.feed_local(&mut scratch.pcm[..n], &mut scratch.resampled);
        }
        st.detect_inband(&scratch.pcm[..n], &mut scratch.resampled);
        if st.echo {
            if !st.busy_generating() {
                st.forward(sendq, &pkt.header, pkt.payload, true, now);
            }
            return;
        }
        let Some(peer) = peer else {
            return;
        };
        let Some((_, dst)) = pair_mut(streams, slot, peer) else {
            return;
        };
        if dst.busy_generating() || dst.mix.is_some() {
            return;
        }
        match dst.relay.transcode.as_mut() {
            // The whisper changed the audio: it goes out encoded anew.
            None if whispered => dst.send_generated(sendq, &scratch.pcm[..n], now),
            None => dst.forward(sendq, &pkt.header, pkt.payload, false, now),
            Some(t) => {
                let m = t.rs.process(&scratch.pcm[..n], &mut scratch.resampled);
                t.fifo.push(&scratch.resampled[..m]);
                let Some(codec) = dst.codec() else {
                    return;
                };
                let samples = codec.frame_samples(dst.ptime());
                loop {
                    let Some(t) = dst.relay.transcode.as_mut() else {
                        return;
                    };
                    if !t.fifo.pop_exact(&mut scratch.frame[..samples]) {
                        return;
                    }
                    dst.send_generated(sendq, &scratch.frame[..samples], now);
                }
            }
        }
    }

    /// The 20 ms tick: every stream, then every mixer.
    pub(crate) fn tick(&mut self) {
        let (now, now_us) = (self.now_ms, self.now_us);
        let Media {
            streams,
            sendq,
            scratch,
            ..
        } = self;
        for st in streams.iter_mut().flatten() {
            st.tick(sendq, scratch, now);
            st.tick_reports(sendq, now, now_us);
        }
        super::conference::tick_mixers(self);
        super::monitor::tick_monitors(self);
        super::whisper::tick_whispers(self);
    }

    /// Breaks the link and leaves the mixer `slot` is in.
    pub(crate) fn detach(&mut self, slot: usize) {
        let Some(st) = self.get(slot) else {
            return;
        };
        let peer = st.peer.take();
        st.reset_relay(None);
        let mixer = st.mix.as_ref().map(|m| m.mixer_id);
        if let Some(p) = peer
            && let Some(other) = self.get(p)
        {
            other.peer = None;
            other.reset_relay(None);
        }
        if let Some(id) = mixer {
            super::conference::remove_member(self, id, slot);
        }
    }

    /// Links two streams of this worker.
    pub(crate) fn link(&mut self, a: usize, b: usize) {
        self.detach(a);
        self.detach(b);
        let Some((x, y)) = pair_mut(&mut self.streams, a, b) else {
            return;
        };
        x.peer = Some(b);
        y.peer = Some(a);
        x.reset_relay(Some(y));
        y.reset_relay(Some(x));
    }

    /// Applies parameters and refreshes whatever depends on the codec.
    pub(crate) fn configure(&mut self, slot: usize, p: StreamParams) {
        let Some(st) = self.get(slot) else {
            return;
        };
        st.configure(p);
        let peer = st.peer;
        let mixer = st.mix.as_ref().map(|m| m.mixer_id);
        let codec = st.codec();
        if let Some(peer) = peer
            && let Some((x, y)) = pair_mut(&mut self.streams, slot, peer)
        {
            x.reset_relay(Some(y));
            y.reset_relay(Some(x));
        }
        if let (Some(id), Some(codec)) = (mixer, codec)
            && let Some(m) = self.mixers.iter_mut().find(|m| m.id == id)
        {
            m.ensure_group(codec);
        }
    }
}
