//! Whispering into a stream ([`crate::Stream::whisper`]): audio read from
//! a pipe is mixed into what the stream sends its remote (`out`) and/or
//! into what it receives, before that goes on to a linked stream, a mixer
//! or a recording (`in`), as Asterisk's whisper audiohooks do.
//!
//! Each tick takes one 20 ms frame from every pipe, resamples it to the
//! stream's codec rate and queues it per direction; the send and receive
//! paths then add what is queued to each packet's audio. A payload that
//! would be forwarded as is gets decoded, mixed and encoded again while a
//! whisper is on. A stream that sends nothing of its own (a call waiting
//! alone in an application) sends the whisper by itself. Buffers are
//! allocated when a whisper is attached, never per packet; the monitor taps
//! see the audio before the whisper is added, so a snoop never hears its
//! own whisper back.

use super::fifo::SampleFifo;
use super::media::{Scratch, StreamState, TICK_MS};
use crate::audio::frame_len;
use crate::codec::{Codec, Decoder};
use crate::engine::io::SendQueue;
use crate::pipe::PipeReader;
use crate::resample::Resampler;
use crate::snoop::SnoopDirection;

/// Frames (20 ms) of whisper audio a direction may queue.
const MAX_QUEUED: usize = 5;
/// Largest decoded payload handled: 60 ms of 16 kHz audio with room.
const PCM_MAX: usize = 2048;

/// One pipe whispering into the stream.
struct Whisper {
    id: u64,
    direction: SnoopDirection,
    reader: PipeReader,
    /// The pipe's sample rate.
    rate: u32,
    rs: Resampler,
    /// Queued for what the remote hears.
    out: SampleFifo,
    /// Queued for what the remote says.
    inward: SampleFifo,
}

/// The whispers of one stream and their working buffers.
pub(crate) struct Whispers {
    list: Vec<Whisper>,
    codec: Option<Codec>,
    /// Decodes payloads the stream would otherwise forward as they are.
    decoder: Decoder,
    mixed: Box<[i16; PCM_MAX]>,
    take: Box<[i16; PCM_MAX]>,
    /// When the stream last sent audio of its own (engine ms).
    last_out_ms: u64,
    /// Set while the stream sends whisper audio alone, which does not
    /// count as audio of its own.
    alone: bool,
}

/// Adds what `fifo` holds (up to `target.len()` samples) to `target`.
fn add_from(fifo: &mut SampleFifo, target: &mut [i16], take: &mut [i16]) {
    let k = target.len().min(fifo.len()).min(take.len());
    fifo.pop_exact(&mut take[..k]);
    for (t, s) in target[..k].iter_mut().zip(&take[..k]) {
        *t = t.saturating_add(*s);
    }
}

/// Keeps at most `max` samples in `fifo`, dropping the oldest.
fn bound(fifo: &mut SampleFifo, max: usize, take: &mut [i16]) {
    while fifo.len() > max {
        let extra = (fifo.len() - max).min(take.len());
        fifo.pop_exact(&mut take[..extra]);
    }
}

impl Whispers {
    fn new(codec: Option<Codec>) -> Whispers {
        Whispers {
            list: Vec::new(),
            codec,
            decoder: Decoder::new(codec.unwrap_or(Codec::Ulaw)),
            mixed: Box::new([0; PCM_MAX]),
            take: Box::new([0; PCM_MAX]),
            last_out_ms: 0,
            alone: false,
        }
    }

    fn codec_rate(&self) -> u32 {
        self.codec.map_or(8000, Codec::sample_rate)
    }

    /// Follows the stream's codec: queued audio was at the old rate.
    fn follow(&mut self, codec: Codec) {
        if self.codec == Some(codec) {
            return;
        }
        self.codec = Some(codec);
        self.decoder = Decoder::new(codec);
        let to = codec.sample_rate();
        for w in &mut self.list {
            w.rs = Resampler::for_rates(w.rate, to);
            w.out.clear();
            w.inward.clear();
        }
    }

    /// Whether anything is whispered to the remote.
    pub(super) fn to_remote(&self) -> bool {
        self.list.iter().any(|w| w.direction.includes_out())
    }

    /// Whether anything is whispered into what the remote says.
    fn to_peer(&self) -> bool {
        self.list.iter().any(|w| w.direction.includes_in())
    }

    /// Takes one 20 ms frame from every pipe into the direction queues.
    fn tick(&mut self, scratch: &mut Scratch) {
        let rate = self.codec_rate();
        let max = MAX_QUEUED * frame_len(rate);
        for w in &mut self.list {
            let n = frame_len(w.rate);
            w.reader.trim(MAX_QUEUED * n);
            if w.reader.len() < n {
                continue;
            }
            let frame = &mut scratch.frame[..n];
            w.reader.read(frame);
            let m = w.rs.process(frame, &mut scratch.resampled);
            let audio = &scratch.resampled[..m];
            if w.direction.includes_out() {
                w.out.push(audio);
                bound(&mut w.out, max, &mut self.take[..]);
            }
            if w.direction.includes_in() {
                w.inward.push(audio);
                bound(&mut w.inward, max, &mut self.take[..]);
            }
        }
    }

    /// `pcm` with the whispers to the remote added (in an own buffer).
    pub(super) fn mix_out(&mut self, pcm: &[i16], now_ms: u64) -> &[i16] {
        if !self.alone {
            self.last_out_ms = now_ms;
        }
        let n = pcm.len().min(PCM_MAX);
        self.mixed[..n].copy_from_slice(&pcm[..n]);
        for w in self.list.iter_mut().filter(|w| w.direction.includes_out()) {
            add_from(&mut w.out, &mut self.mixed[..n], &mut self.take[..]);
        }
        &self.mixed[..n]
    }

    /// Adds the whispers into what the remote said, in place.
    fn mix_in(&mut self, pcm: &mut [i16]) {
        for w in self.list.iter_mut().filter(|w| w.direction.includes_in()) {
            add_from(&mut w.inward, pcm, &mut self.take[..]);
        }
    }

    /// Whether every whisper to the remote has `samples` queued.
    fn out_ready(&self, samples: usize) -> bool {
        let mut out = self
            .list
            .iter()
            .filter(|w| w.direction.includes_out())
            .peekable();
        out.peek().is_some() && out.all(|w| w.out.len() >= samples)
    }
}

impl StreamState {
    /// Attaches a whisper (`Stream::whisper`).
    pub(crate) fn start_whisper(
        &mut self,
        id: u64,
        direction: SnoopDirection,
        reader: PipeReader,
        rate: u32,
    ) {
        let codec = self.codec();
        let whispers = self
            .whisper
            .get_or_insert_with(|| Box::new(Whispers::new(codec)));
        let rate = if rate == 16000 { 16000 } else { 8000 };
        let to = whispers.codec_rate();
        whispers.list.push(Whisper {
            id,
            direction,
            reader,
            rate,
            rs: Resampler::for_rates(rate, to),
            out: SampleFifo::new(),
            inward: SampleFifo::new(),
        });
    }

    /// Detaches whisper `id`; the last one takes the buffers with it.
    pub(crate) fn stop_whisper(&mut self, id: u64) {
        let Some(whispers) = self.whisper.as_mut() else {
            return;
        };
        whispers.list.retain(|w| w.id != id);
        if whispers.list.is_empty() {
            self.whisper = None;
        }
    }

    /// Follows a codec change of the stream.
    pub(crate) fn whisper_follow(&mut self, codec: Codec) {
        if let Some(w) = self.whisper.as_mut() {
            w.follow(codec);
        }
    }

    /// Whether what the remote says gets whisper audio added.
    pub(crate) fn whispers_to_peer(&self) -> bool {
        self.whisper.as_ref().is_some_and(|w| w.to_peer())
    }

    /// Adds the inward whispers to decoded audio from the remote.
    pub(crate) fn whisper_in(&mut self, pcm: &mut [i16]) {
        if let Some(w) = self.whisper.as_mut() {
            w.mix_in(pcm);
        }
    }

    /// Decodes a payload the stream would send as is, so the whispers can
    /// be added to it; copies the audio into `out` and returns its length,
    /// or `None` when nothing is whispered to the remote.
    pub(crate) fn whisper_decode(&mut self, payload: &[u8], out: &mut [i16]) -> Option<usize> {
        let w = self.whisper.as_deref_mut().filter(|w| w.to_remote())?;
        let n = w.decoder.decode(payload, &mut w.take[..]).min(out.len());
        out[..n].copy_from_slice(&w.take[..n]);
        Some(n)
    }

    /// The whispers' part of the tick: take audio from the pipes, and send
    /// it alone when the stream has been sending nothing of its own.
    pub(crate) fn tick_whisper(&mut self, q: &mut SendQueue, scratch: &mut Scratch, now_ms: u64) {
        let Some(codec) = self.codec() else {
            return;
        };
        let ptime = self.ptime();
        let busy = self.busy_generating();
        let Some(w) = self.whisper.as_deref_mut() else {
            return;
        };
        w.tick(scratch);
        if busy || !w.to_remote() {
            return;
        }
        if now_ms.saturating_sub(w.last_out_ms) < u64::from(ptime + TICK_MS) {
            return;
        }
        let samples = codec.frame_samples(ptime).min(scratch.frame.len());
        scratch.frame[..samples].fill(0);
        // Bounded: a stream without a remote sends (and takes) nothing.
        for _ in 0..MAX_QUEUED {
            let Some(w) = self.whisper.as_deref_mut() else {
                return;
            };
            if !w.out_ready(samples) {
                break;
            }
            w.alone = true;
            self.send_generated(q, &scratch.frame[..samples], now_ms);
        }
        if let Some(w) = self.whisper.as_deref_mut() {
            w.alone = false;
        }
    }
}

/// The whispers' part of the 20 ms tick.
pub(crate) fn tick_whispers(media: &mut super::media::Media) {
    let now = media.now_ms;
    let super::media::Media {
        streams,
        sendq,
        scratch,
        ..
    } = media;
    for st in streams.iter_mut().flatten() {
        if st.whisper.is_some() {
            st.tick_whisper(sendq, scratch, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::audio_pipe;

    fn whispers(direction: SnoopDirection) -> (Whispers, crate::pipe::PipeWriter) {
        let (w, r) = audio_pipe(4000);
        let mut ws = Whispers::new(Some(Codec::Slin8));
        ws.list.push(Whisper {
            id: 1,
            direction,
            reader: r,
            rate: 8000,
            rs: Resampler::for_rates(8000, 8000),
            out: SampleFifo::new(),
            inward: SampleFifo::new(),
        });
        (ws, w)
    }

    #[test]
    fn whisper_out_is_added_to_what_the_remote_hears_only() {
        let (mut ws, mut pipe) = whispers(SnoopDirection::Out);
        let mut scratch = Scratch::new();
        pipe.write(&[100; 160]);
        ws.tick(&mut scratch);
        let mut said = [5i16; 160];
        ws.mix_in(&mut said);
        assert!(said.iter().all(|&s| s == 5));
        let heard = ws.mix_out(&[7; 160], 0);
        assert!(heard.iter().all(|&s| s == 107), "{:?}", &heard[..4]);
        // Used up: the next packet is untouched.
        assert!(ws.mix_out(&[7; 160], 20).iter().all(|&s| s == 7));
    }

    #[test]
    fn whisper_both_feeds_each_direction_and_saturates() {
        let (mut ws, mut pipe) = whispers(SnoopDirection::Both);
        let mut scratch = Scratch::new();
        pipe.write(&[30_000; 160]);
        ws.tick(&mut scratch);
        let mut said = [10_000i16; 160];
        ws.mix_in(&mut said);
        assert!(said.iter().all(|&s| s == i16::MAX));
        assert!(ws.out_ready(160));
        assert!(ws.mix_out(&[-100; 160], 0).iter().all(|&s| s == 29_900));
    }

    #[test]
    fn partial_frames_wait_and_queues_stay_bounded() {
        let (mut ws, mut pipe) = whispers(SnoopDirection::Out);
        let mut scratch = Scratch::new();
        pipe.write(&[1; 100]);
        ws.tick(&mut scratch);
        assert!(!ws.out_ready(1));
        pipe.write(&[1; 60]);
        ws.tick(&mut scratch);
        assert!(ws.out_ready(160));
        // A writer far ahead: the queue keeps at most MAX_QUEUED frames.
        pipe.write(&[2; 3200]);
        for _ in 0..20 {
            ws.tick(&mut scratch);
        }
        assert!(ws.list[0].out.len() <= MAX_QUEUED * 160);
    }
}
