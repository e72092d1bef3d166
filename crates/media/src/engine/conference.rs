//! Mixing bridges on a worker: every 20 ms each participant gets the sum of
//! the others (softmix style).
//!
//! Received audio is decoded, resampled to 16 kHz and cut into 20 ms frames
//! in a small per-participant queue (a light jitter buffer of at most four
//! frames, trimmed to two). On the tick, participants whose frame carries
//! speech are summed; a talker gets the sum minus itself, encoded with its
//! own encoder; everyone silent gets the full sum, encoded once per codec
//! and sent to all of them.
//!
//! A mixer can also be recorded (an ARI bridge recording): every tick, the
//! full sum goes to each recording sink attached, resampled to its rate,
//! silence included, so the recording follows the bridge's clock.
//!
//! A mixer may also have a generator (ARI's bridge music on hold, where
//! Asterisk puts an announcer channel in the bridge): its audio is added to
//! the mix like a participant who always talks, so everyone hears it over
//! the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::EngineCore;
use super::command::{Command, StreamCmd};
use super::fifo::SampleFifo;
use super::media::Media;
use super::stream::Stream;
use crate::audio::{AudioSink, AudioSource, frame_len};
use crate::codec::{Codec, Encoder};
use crate::mixer::{MIX_FRAME, MixCore};
use crate::resample::Resampler;

/// Frames a participant may queue before the oldest is dropped.
const RING: usize = 4;
/// Frames left queued after a tick; more means latency has built up.
const KEEP: usize = 2;
/// Mean absolute amplitude below which a frame counts as silence and is
/// left out of the mix (about −48 dBFS), like softmix's talk detection.
const TALK_THRESHOLD: i64 = 128;

/// A stream's membership in a mixer: its input queue and output framing.
pub(crate) struct MixSlot {
    pub(crate) mixer_id: u64,
    in_rs: Resampler,
    assembler: SampleFifo,
    ring: Box<[[i16; MIX_FRAME]; RING]>,
    head: usize,
    len: usize,
    out_rs: Resampler,
    out_fifo: SampleFifo,
}

impl MixSlot {
    fn new(mixer_id: u64, codec: Codec) -> MixSlot {
        MixSlot {
            mixer_id,
            in_rs: Resampler::for_codecs(codec, Codec::Slin16),
            assembler: SampleFifo::new(),
            ring: Box::new([[0; MIX_FRAME]; RING]),
            head: 0,
            len: 0,
            out_rs: Resampler::for_codecs(Codec::Slin16, codec),
            out_fifo: SampleFifo::new(),
        }
    }

    /// Follows a codec change of the participant (re-INVITE).
    pub(crate) fn set_codec(&mut self, codec: Codec) {
        self.in_rs = Resampler::for_codecs(codec, Codec::Slin16);
        self.out_rs = Resampler::for_codecs(Codec::Slin16, codec);
        self.assembler.clear();
        self.out_fifo.clear();
        self.len = 0;
    }

    /// Decoded received audio at the codec rate.
    pub(crate) fn feed(&mut self, pcm: &[i16], scratch: &mut [i16]) {
        let m = self.in_rs.process(pcm, scratch);
        self.assembler.push(&scratch[..m]);
        let mut frame = [0i16; MIX_FRAME];
        while self.assembler.pop_exact(&mut frame) {
            if self.len == RING {
                self.head = (self.head + 1) % RING;
                self.len -= 1;
            }
            self.ring[(self.head + self.len) % RING] = frame;
            self.len += 1;
        }
    }

    /// The next queued frame, if any.
    fn pop(&mut self, out: &mut [i16; MIX_FRAME]) -> bool {
        while self.len > KEEP + 1 {
            self.head = (self.head + 1) % RING;
            self.len -= 1;
        }
        if self.len == 0 {
            return false;
        }
        *out = self.ring[self.head];
        self.head = (self.head + 1) % RING;
        self.len -= 1;
        true
    }

    /// Queues 16 kHz mixed audio for sending, at the codec rate.
    pub(crate) fn push_out(&mut self, pcm16k: &[i16], scratch: &mut [i16]) {
        let m = self.out_rs.process(pcm16k, scratch);
        self.out_fifo.push(&scratch[..m]);
    }

    /// One outgoing frame at the codec rate, if a whole one is queued.
    pub(crate) fn pop_out(&mut self, out: &mut [i16]) -> bool {
        self.out_fifo.pop_exact(out)
    }
}

/// The shared encoding of the full mix for silent participants of one codec.
struct MixGroup {
    codec: Codec,
    enc: Encoder,
    rs: Resampler,
    payload: [u8; 640],
    len: usize,
    valid: bool,
}

/// A sink recording the mix, and its resampling from the mixing rate.
struct MixRecorder {
    id: u64,
    sink: Box<dyn AudioSink>,
    rs: Resampler,
}

/// A mixer's generator, resampled to the mixing rate.
struct MixSource {
    src: Box<dyn AudioSource>,
    rs: Resampler,
    fifo: SampleFifo,
    frame: [i16; MIX_FRAME],
}

/// One mixer on a worker.
pub(crate) struct MixerState {
    pub(crate) id: u64,
    source: Option<Box<MixSource>>,
    members: Vec<usize>,
    recorders: Vec<MixRecorder>,
    frames: Vec<[i16; MIX_FRAME]>,
    spoke: Vec<bool>,
    groups: Vec<MixGroup>,
    core: MixCore,
    total: [i16; MIX_FRAME],
    minus: [i16; MIX_FRAME],
}

impl MixerState {
    pub(crate) fn new(id: u64) -> MixerState {
        MixerState {
            id,
            source: None,
            members: Vec::new(),
            recorders: Vec::new(),
            frames: Vec::new(),
            spoke: Vec::new(),
            groups: Vec::new(),
            core: MixCore::new(),
            total: [0; MIX_FRAME],
            minus: [0; MIX_FRAME],
        }
    }

    /// Makes sure silent participants of `codec` have a shared encoder.
    pub(crate) fn ensure_group(&mut self, codec: Codec) {
        if !self.groups.iter().any(|g| g.codec == codec) {
            self.groups.push(MixGroup {
                codec,
                enc: Encoder::new(codec),
                rs: Resampler::for_codecs(Codec::Slin16, codec),
                payload: [0; 640],
                len: 0,
                valid: false,
            });
        }
    }
}

fn is_talking(frame: &[i16]) -> bool {
    let sum: i64 = frame.iter().map(|&s| i64::from(s).abs()).sum();
    sum > TALK_THRESHOLD * frame.len() as i64
}

/// Adds the stream in `slot` to mixer `id`, taking it out of any link.
pub(crate) fn add_member(media: &mut Media, id: u64, slot: usize) {
    if !media.mixers.iter().any(|m| m.id == id) {
        return;
    }
    media.detach(slot);
    let Some(st) = media.get(slot) else {
        return;
    };
    let codec = st.codec();
    st.mix = Some(Box::new(MixSlot::new(id, codec.unwrap_or(Codec::Ulaw))));
    if let Some(m) = media.mixers.iter_mut().find(|m| m.id == id) {
        m.members.push(slot);
        m.frames.push([0; MIX_FRAME]);
        m.spoke.push(false);
        if let Some(codec) = codec {
            m.ensure_group(codec);
        }
    }
}

/// Takes the stream in `slot` out of mixer `id`.
pub(crate) fn remove_member(media: &mut Media, id: u64, slot: usize) {
    if let Some(m) = media.mixers.iter_mut().find(|m| m.id == id)
        && let Some(k) = m.members.iter().position(|&s| s == slot)
    {
        m.members.remove(k);
        m.frames.remove(k);
        m.spoke.remove(k);
    }
    if let Some(st) = media.get(slot)
        && st.mix.as_ref().is_some_and(|m| m.mixer_id == id)
    {
        st.mix = None;
    }
}

/// Attaches a recording sink to mixer `id`; without such a mixer (it was
/// destroyed meanwhile) the sink is finished at once.
pub(crate) fn start_record(media: &mut Media, id: u64, record: u64, mut sink: Box<dyn AudioSink>) {
    let Some(m) = media.mixers.iter_mut().find(|m| m.id == id) else {
        sink.finish();
        return;
    };
    let rs = Resampler::for_rates(Codec::Slin16.sample_rate(), sink.sample_rate());
    m.recorders.push(MixRecorder {
        id: record,
        sink,
        rs,
    });
}

/// Detaches and finishes recording sink `record` of mixer `id`.
pub(crate) fn stop_record(media: &mut Media, id: u64, record: u64) {
    if let Some(m) = media.mixers.iter_mut().find(|m| m.id == id)
        && let Some(k) = m.recorders.iter().position(|r| r.id == record)
    {
        let mut r = m.recorders.swap_remove(k);
        r.sink.finish();
    }
}

/// Removes mixer `id`; its participants are left unbridged and its
/// recordings are finished.
pub(crate) fn destroy(media: &mut Media, id: u64) {
    let Some(k) = media.mixers.iter().position(|m| m.id == id) else {
        return;
    };
    let m = media.mixers.swap_remove(k);
    for mut r in m.recorders {
        r.sink.finish();
    }
    for slot in m.members {
        if let Some(st) = media.get(slot) {
            st.mix = None;
        }
    }
}

/// Sets (or ends) the generator of mixer `id`.
pub(crate) fn generate(media: &mut Media, id: u64, src: Option<Box<dyn AudioSource>>) {
    if let Some(m) = media.mixers.iter_mut().find(|m| m.id == id) {
        m.source = src.map(|mut src| {
            src.prefer_rate(16000);
            Box::new(MixSource {
                rs: Resampler::for_rates(src.sample_rate(), 16000),
                src,
                fifo: SampleFifo::new(),
                frame: [0; MIX_FRAME],
            })
        });
    }
}

/// Adds a mixer's generator to this round: one 20 ms frame at 16 kHz.
/// A finished generator goes away.
fn mix_source(m: &mut MixerState, frame: &mut [i16], resampled: &mut [i16]) {
    let Some(s) = m.source.as_mut() else {
        return;
    };
    let want = frame_len(s.src.sample_rate()).min(frame.len());
    let n = s.src.read_frame(&mut frame[..want]).min(want);
    if n == 0 {
        m.source = None;
        return;
    }
    frame[n..want].fill(0);
    let k = s.rs.process(&frame[..want], resampled);
    s.fifo.push(&resampled[..k]);
    if s.fifo.pop_exact(&mut s.frame) {
        m.core.add(&s.frame);
    }
}

/// One mixing round of every mixer of the worker.
pub(crate) fn tick_mixers(media: &mut Media) {
    let now = media.now_ms;
    let Media {
        streams,
        mixers,
        sendq,
        scratch,
        ..
    } = media;
    for m in mixers.iter_mut() {
        m.core.clear();
        for (k, &slot) in m.members.iter().enumerate() {
            m.spoke[k] = false;
            let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
                continue;
            };
            if let Some(ms) = st.mix.as_mut()
                && ms.pop(&mut m.frames[k])
                && is_talking(&m.frames[k])
            {
                m.spoke[k] = true;
                m.core.add(&m.frames[k]);
            }
        }
        mix_source(m, &mut scratch.frame, &mut scratch.resampled);
        m.core.total_into(&mut m.total);
        for r in &mut m.recorders {
            let n = r.rs.process(&m.total, &mut scratch.resampled);
            r.sink.write_frame(&scratch.resampled[..n]);
        }
        for g in &mut m.groups {
            g.valid = false;
        }
        for (k, &slot) in m.members.iter().enumerate() {
            let Some(st) = streams.get_mut(slot).and_then(|s| s.as_deref_mut()) else {
                continue;
            };
            let Some(p) = st.params.as_ref() else {
                continue;
            };
            if st.busy_generating() {
                continue;
            }
            let (codec, ptime) = (p.codec, p.ptime_ms);
            if !m.spoke[k] && ptime == super::media::TICK_MS {
                let Some(g) = m.groups.iter_mut().find(|g| g.codec == codec) else {
                    continue;
                };
                if !g.valid {
                    let n = g.rs.process(&m.total, &mut scratch.resampled);
                    g.len = g.enc.encode(&scratch.resampled[..n], &mut g.payload);
                    g.valid = true;
                }
                st.send_encoded(sendq, &g.payload[..g.len], now);
            } else if m.spoke[k] {
                m.core.minus_into(&m.frames[k], &mut m.minus);
                st.send_mixed(sendq, &m.minus, scratch, now);
            } else {
                st.send_mixed(sendq, &m.total, scratch, now);
            }
        }
    }
}

/// A mixing bridge (ConfBridge): participants hear the sum of the others.
/// Dropping the handle ends the bridge; its streams stay open, unbridged.
pub struct Mixer {
    id: u64,
    worker: usize,
    core: Arc<EngineCore>,
    next_record: AtomicU64,
}

impl Mixer {
    pub(crate) fn new(id: u64, worker: usize, core: Arc<EngineCore>) -> Mixer {
        Mixer {
            id,
            worker,
            core,
            next_record: AtomicU64::new(1),
        }
    }

    /// Engine-unique id of the mixer.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Adds a stream, taking it out of any link or other mixer. The stream
    /// moves to the mixer's worker so mixing needs no cross-thread traffic.
    pub fn add(&self, s: &Stream) {
        if !Arc::ptr_eq(&s.core, &self.core) {
            tracing::warn!(
                stream = s.id(),
                mixer = self.id,
                "stream of another engine not added to mixer"
            );
            return;
        }
        self.core.migrate(&s.shared, self.worker);
        self.core
            .send_stream(&s.shared, StreamCmd::MixerAdd(self.id));
    }

    /// Takes a stream out of the mixer.
    pub fn remove(&self, s: &Stream) {
        self.core
            .send_stream(&s.shared, StreamCmd::MixerRemove(self.id));
    }

    /// Hands the full mix (what a silent participant hears) to `sink`
    /// every 20 ms, silence included, beside any other recording. Returns
    /// the id [`Mixer::stop_record`] takes. The sink is finished when the
    /// recording stops or the mixer ends.
    pub fn record(&self, sink: Box<dyn AudioSink>) -> u64 {
        let id = self.next_record.fetch_add(1, Ordering::Relaxed);
        self.core
            .send(self.worker, Command::MixerRecord(self.id, id, sink));
        id
    }

    /// Detaches recording `id` and finishes its sink.
    pub fn stop_record(&self, id: u64) {
        self.core
            .send(self.worker, Command::MixerStopRecord(self.id, id));
    }

    /// Makes `src` the mixer's generator (music on hold for a bridge):
    /// every participant hears it over the others until it is replaced,
    /// stopped or finished.
    pub fn generate(&self, src: Box<dyn AudioSource>) {
        self.core
            .send(self.worker, Command::MixerGenerate(self.id, Some(src)));
    }

    /// Ends the mixer's generator.
    pub fn stop_generator(&self) {
        self.core
            .send(self.worker, Command::MixerGenerate(self.id, None));
    }
}

impl std::fmt::Debug for Mixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mixer")
            .field("id", &self.id)
            .field("worker", &self.worker)
            .finish()
    }
}

impl Drop for Mixer {
    fn drop(&mut self) {
        self.core.send(self.worker, Command::MixerDestroy(self.id));
    }
}
