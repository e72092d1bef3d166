//! Call recording taps (what Asterisk's MixMonitor audiohook sees): both
//! directions of one stream handed to [`MonitorSink`]s in step.
//!
//! What the stream receives is taken decoded from the receive path; what
//! it sends is taken as PCM where the stream encodes it itself (playback,
//! transcoded relay, mixing) and decoded here where it forwards a payload
//! as is (relay between equal codecs, a mixer's shared encoding, echo).
//! Each direction queues at the codec rate, and a frame of each goes to
//! every sink as soon as both directions have one, so network jitter and
//! a sender whose clock runs a little slow cost nothing. A direction that
//! has had no audio for [`SYNC_TICKS`] ticks is silence beside the other
//! (a one-way prompt, a muted phone), as Asterisk's audiohooks wait
//! `AST_AUDIOHOOK_SYNC_TOLERANCE` for the other side; a direction that
//! queues more than [`MAX_QUEUED`] frames while the other trickles goes out
//! beside silence too, so latency stays bounded. When neither direction
//! carries audio nothing is written. A tap attached while others are
//! running gets nothing of what was queued before it came. A stream
//! without taps pays one `None`
//! check per packet; taps allocate their buffers when they are attached,
//! never per packet.

use super::fifo::SampleFifo;
use super::media::{Media, StreamState};
use crate::audio::{MonitorSink, frame_len};
use crate::codec::{Codec, Decoder};
use crate::resample::Resampler;

/// Ticks (20 ms) without audio after which a direction counts as silent.
const SYNC_TICKS: u32 = 5;
/// Frames a direction may queue waiting for the other.
const MAX_QUEUED: usize = 10;
/// Largest payload decoded at once: a 1500-byte datagram of G.722 or L16
/// decodes to fewer samples than this.
const DECODED_MAX: usize = 4096;
/// Largest frame handled: 20 ms at 16 kHz.
const FRAME_MAX: usize = 320;

/// One direction's queue.
struct Direction {
    fifo: SampleFifo,
    /// Ticks since audio last came; a direction that never had any is idle.
    idle_ticks: u32,
}

impl Direction {
    fn new() -> Direction {
        Direction {
            fifo: SampleFifo::new(),
            idle_ticks: SYNC_TICKS,
        }
    }

    fn clear(&mut self) {
        self.fifo.clear();
        self.idle_ticks = SYNC_TICKS;
    }

    fn push(&mut self, pcm: &[i16]) {
        self.fifo.push(pcm);
        self.idle_ticks = 0;
    }

    fn has_frame(&self, n: usize) -> bool {
        self.fifo.len() >= n
    }

    /// Whether this direction's frames go out without waiting for the
    /// other's: the other has been silent (judged on ticks only), or this
    /// one has queued too much.
    fn goes_alone(&self, other: &Direction, n: usize, on_tick: bool) -> bool {
        self.has_frame(n)
            && ((on_tick && other.idle_ticks >= SYNC_TICKS) || self.fifo.len() > MAX_QUEUED * n)
    }

    /// Fills `out` with the next frame when `take`, else with silence;
    /// a partial frame (at the end) is padded with silence.
    fn take(&mut self, take: bool, out: &mut [i16]) {
        let queued = if take {
            self.fifo.len().min(out.len())
        } else {
            0
        };
        let (head, tail) = out.split_at_mut(queued);
        self.fifo.pop_exact(head);
        tail.fill(0);
    }
}

/// One attached sink and its resampling from the codec rate.
struct Tap {
    id: u64,
    sink: Box<dyn MonitorSink>,
    received_rs: Resampler,
    sent_rs: Resampler,
    /// Frames still to be handed out that were queued before the sink
    /// was attached (for the taps already there): the sink does not get
    /// them, so it starts with the audio of the moment it was attached.
    stale: usize,
}

impl Tap {
    fn new(id: u64, sink: Box<dyn MonitorSink>, codec_rate: u32, stale: usize) -> Tap {
        let rate = sink.sample_rate();
        Tap {
            id,
            sink,
            received_rs: Resampler::for_rates(codec_rate, rate),
            sent_rs: Resampler::for_rates(codec_rate, rate),
            stale,
        }
    }

    /// Resamples one codec-rate frame of each direction (into the `*_out`
    /// buffers) and hands both over, saying which one is only padding.
    fn deliver(
        &mut self,
        received: &[i16],
        sent: &[i16],
        out: (&mut [i16], &mut [i16]),
        padded: [bool; 2],
    ) {
        let (received_out, sent_out) = out;
        let a = self.received_rs.process(received, received_out);
        let b = self.sent_rs.process(sent, sent_out);
        let n = a.min(b);
        self.sink
            .write_frames_padded(&received_out[..n], &sent_out[..n], padded);
    }
}

/// Working buffers of a monitor, allocated once.
struct Frames {
    decoded: [i16; DECODED_MAX],
    received: [i16; FRAME_MAX],
    sent: [i16; FRAME_MAX],
    received_out: [i16; 2 * FRAME_MAX],
    sent_out: [i16; 2 * FRAME_MAX],
}

/// The taps of one stream and the two queues they share.
pub(crate) struct Monitor {
    /// The codec the queues hold audio of (decoded); `None` until the
    /// stream has one.
    codec: Option<Codec>,
    /// Decodes forwarded payloads (the receive path has its own decoder).
    decoder: Decoder,
    received: Direction,
    sent: Direction,
    taps: Vec<Tap>,
    frames: Box<Frames>,
}

impl Monitor {
    fn new(codec: Option<Codec>) -> Monitor {
        Monitor {
            codec,
            decoder: Decoder::new(codec.unwrap_or(Codec::Ulaw)),
            received: Direction::new(),
            sent: Direction::new(),
            taps: Vec::new(),
            frames: Box::new(Frames {
                decoded: [0; DECODED_MAX],
                received: [0; FRAME_MAX],
                sent: [0; FRAME_MAX],
                received_out: [0; 2 * FRAME_MAX],
                sent_out: [0; 2 * FRAME_MAX],
            }),
        }
    }

    fn codec_rate(&self) -> u32 {
        self.codec.map_or(8000, Codec::sample_rate)
    }

    /// Follows the stream's codec (first configuration, re-INVITE): what is
    /// queued was at the old rate and is dropped.
    fn follow(&mut self, codec: Codec) {
        if self.codec == Some(codec) {
            return;
        }
        self.codec = Some(codec);
        self.decoder = Decoder::new(codec);
        self.received.clear();
        self.sent.clear();
        let rate = codec.sample_rate();
        for tap in &mut self.taps {
            let to = tap.sink.sample_rate();
            tap.received_rs = Resampler::for_rates(rate, to);
            tap.sent_rs = Resampler::for_rates(rate, to);
        }
    }

    fn add(&mut self, id: u64, sink: Box<dyn MonitorSink>) {
        let rate = self.codec_rate();
        let queued = self.received.fifo.len().max(self.sent.fifo.len());
        let stale = queued.div_ceil(frame_len(rate));
        self.taps.push(Tap::new(id, sink, rate, stale));
    }

    /// Finishes tap `id`; the last one also gets what is still queued.
    fn remove(&mut self, id: u64) {
        let Some(i) = self.taps.iter().position(|t| t.id == id) else {
            return;
        };
        if self.taps.len() == 1 {
            self.drain();
        }
        let mut tap = self.taps.swap_remove(i);
        tap.sink.finish();
    }

    /// Hands what is still queued to every tap, the shorter direction
    /// padded with silence.
    fn drain(&mut self) {
        let n = frame_len(self.codec_rate());
        while self.received.fifo.len() > 0 || self.sent.fifo.len() > 0 {
            let padded = [self.received.fifo.len() == 0, self.sent.fifo.len() == 0];
            let Frames { received, sent, .. } = &mut *self.frames;
            self.received.take(true, &mut received[..n]);
            self.sent.take(true, &mut sent[..n]);
            self.deliver(n, padded);
        }
    }

    /// Finishes every tap, with what is still queued.
    fn finish_all(&mut self) {
        self.drain();
        for mut tap in self.taps.drain(..) {
            tap.sink.finish();
        }
    }

    fn push_received(&mut self, codec: Codec, pcm: &[i16]) {
        self.follow(codec);
        self.received.push(pcm);
        self.pair(false);
    }

    fn push_sent(&mut self, codec: Codec, pcm: &[i16]) {
        self.follow(codec);
        self.sent.push(pcm);
        self.pair(false);
    }

    fn push_sent_payload(&mut self, codec: Codec, payload: &[u8]) {
        self.follow(codec);
        let n = self.decoder.decode(payload, &mut self.frames.decoded);
        let n = n.min(DECODED_MAX);
        self.sent.push(&self.frames.decoded[..n]);
        self.pair(false);
    }

    /// One tick: time passes for the sync tolerance, and a direction whose
    /// partner stayed silent goes out alone.
    fn tick(&mut self) {
        self.received.idle_ticks = self.received.idle_ticks.saturating_add(1);
        self.sent.idle_ticks = self.sent.idle_ticks.saturating_add(1);
        self.pair(true);
    }

    /// Hands out every frame that is ready: a frame of each direction, or
    /// one direction's beside silence when it may go alone. Silence of the
    /// other direction is only judged on the tick (`on_tick`), so audio of
    /// both that arrives within one tick is paired even at the start.
    fn pair(&mut self, on_tick: bool) {
        if self.codec.is_none() {
            return;
        }
        let n = frame_len(self.codec_rate());
        loop {
            let both = self.received.has_frame(n) && self.sent.has_frame(n);
            let (take_received, take_sent) = if both {
                (true, true)
            } else if self.received.goes_alone(&self.sent, n, on_tick) {
                (true, false)
            } else if self.sent.goes_alone(&self.received, n, on_tick) {
                (false, true)
            } else {
                return;
            };
            let Frames { received, sent, .. } = &mut *self.frames;
            self.received.take(take_received, &mut received[..n]);
            self.sent.take(take_sent, &mut sent[..n]);
            self.deliver(n, [!take_received, !take_sent]);
        }
    }

    /// Gives the `n`-sample frames now in the buffers to every tap;
    /// `padded` says which direction is only silence.
    fn deliver(&mut self, n: usize, padded: [bool; 2]) {
        let Frames {
            received,
            sent,
            received_out,
            sent_out,
            ..
        } = &mut *self.frames;
        for tap in &mut self.taps {
            if tap.stale > 0 {
                tap.stale -= 1;
                continue;
            }
            tap.deliver(
                &received[..n],
                &sent[..n],
                (&mut received_out[..], &mut sent_out[..]),
                padded,
            );
        }
    }
}

impl StreamState {
    /// Attaches a monitor sink (`Stream::monitor`).
    pub(crate) fn start_monitor(&mut self, id: u64, sink: Box<dyn MonitorSink>) {
        let codec = self.codec();
        self.monitor
            .get_or_insert_with(|| Box::new(Monitor::new(codec)))
            .add(id, sink);
    }

    /// Detaches and finishes monitor sink `id`; the last one takes the
    /// queues with it, so the packet paths are back to a `None` check.
    pub(crate) fn stop_monitor(&mut self, id: u64) {
        let Some(monitor) = self.monitor.as_mut() else {
            return;
        };
        monitor.remove(id);
        if monitor.taps.is_empty() {
            self.monitor = None;
        }
    }

    /// Finishes every monitor sink (the stream closes).
    pub(crate) fn stop_monitors(&mut self) {
        if let Some(mut monitor) = self.monitor.take() {
            monitor.finish_all();
        }
    }

    /// Decoded audio received from the remote, at the codec rate.
    pub(crate) fn tap_received(&mut self, pcm: &[i16]) {
        if let (Some(monitor), Some(p)) = (self.monitor.as_mut(), self.params.as_ref()) {
            monitor.push_received(p.codec, pcm);
        }
    }

    /// Audio this stream encodes and sends, at the codec rate.
    pub(crate) fn tap_sent_pcm(&mut self, pcm: &[i16]) {
        if let (Some(monitor), Some(p)) = (self.monitor.as_mut(), self.params.as_ref()) {
            monitor.push_sent(p.codec, pcm);
        }
    }

    /// An audio payload this stream sends as it was encoded elsewhere.
    pub(crate) fn tap_sent_payload(&mut self, payload: &[u8]) {
        if let (Some(monitor), Some(p)) = (self.monitor.as_mut(), self.params.as_ref()) {
            monitor.push_sent_payload(p.codec, payload);
        }
    }
}

/// The monitors' part of the 20 ms tick.
pub(crate) fn tick_monitors(media: &mut Media) {
    for st in media.streams.iter_mut().flatten() {
        if let Some(monitor) = st.monitor.as_mut() {
            monitor.tick();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a sink was given: (received, sent) frames, and whether it finished.
    #[derive(Default)]
    struct Log {
        frames: Vec<(Vec<i16>, Vec<i16>)>,
        padded: Vec<[bool; 2]>,
        finished: bool,
    }

    struct TestSink {
        rate: u32,
        log: Arc<Mutex<Log>>,
    }

    impl MonitorSink for TestSink {
        fn sample_rate(&self) -> u32 {
            self.rate
        }

        fn write_frames(&mut self, received: &[i16], sent: &[i16]) {
            let mut log = self.log.lock().unwrap();
            log.frames.push((received.to_vec(), sent.to_vec()));
        }

        fn write_frames_padded(&mut self, received: &[i16], sent: &[i16], padded: [bool; 2]) {
            self.log.lock().unwrap().padded.push(padded);
            self.write_frames(received, sent);
        }

        fn finish(&mut self) {
            self.log.lock().unwrap().finished = true;
        }
    }

    fn sink(rate: u32) -> (Box<dyn MonitorSink>, Arc<Mutex<Log>>) {
        let log = Arc::new(Mutex::new(Log::default()));
        (
            Box::new(TestSink {
                rate,
                log: Arc::clone(&log),
            }),
            log,
        )
    }

    #[test]
    fn both_directions_come_out_in_step() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (s, log) = sink(8000);
        m.add(1, s);
        for i in 0..5i16 {
            m.push_received(Codec::Slin8, &[i; 160]);
            m.push_sent(Codec::Slin8, &[100 + i; 160]);
            m.tick();
        }
        let log = log.lock().unwrap();
        assert_eq!(log.frames.len(), 5);
        for (k, (received, sent)) in log.frames.iter().enumerate() {
            assert_eq!(received.len(), 160);
            assert!(received.iter().all(|&x| x == k as i16), "{k}");
            assert!(sent.iter().all(|&x| x == 100 + k as i16), "{k}");
        }
    }

    #[test]
    fn silence_put_beside_a_lone_direction_is_marked_as_padding() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (s, log) = sink(8000);
        m.add(1, s);
        m.push_received(Codec::Slin8, &[1; 160]);
        m.push_sent(Codec::Slin8, &[2; 160]);
        // Only the remote talks from now on: its frames go out beside
        // silence once the sent direction has been quiet long enough.
        for _ in 0..SYNC_TICKS + 2 {
            m.push_received(Codec::Slin8, &[3; 160]);
            m.tick();
        }
        let log = log.lock().unwrap();
        assert_eq!(log.padded[0], [false, false], "a real pair");
        assert!(log.padded.len() > 2, "{:?}", log.padded);
        assert_eq!(log.padded.last(), Some(&[false, true]));
        assert!(log.frames.last().unwrap().1.iter().all(|&x| x == 0));
    }

    #[test]
    fn a_tap_attached_later_gets_only_what_came_after_it() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (first, first_log) = sink(8000);
        m.add(1, first);
        // The sent direction lags: three received frames wait for it.
        m.push_received(Codec::Slin8, &[1; 160]);
        m.push_sent(Codec::Slin8, &[2; 160]);
        for _ in 0..3 {
            m.push_received(Codec::Slin8, &[1; 160]);
        }
        let (second, second_log) = sink(8000);
        m.add(2, second);
        for _ in 0..3 {
            m.push_sent(Codec::Slin8, &[2; 160]);
        }
        m.push_received(Codec::Slin8, &[5; 160]);
        m.push_sent(Codec::Slin8, &[6; 160]);
        assert_eq!(first_log.lock().unwrap().frames.len(), 5);
        let second = second_log.lock().unwrap();
        assert_eq!(second.frames.len(), 1);
        assert!(second.frames[0].0.iter().all(|&x| x == 5));
        assert!(second.frames[0].1.iter().all(|&x| x == 6));
    }

    #[test]
    fn late_audio_is_waited_for_not_replaced_by_silence() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (s, log) = sink(8000);
        m.add(1, s);
        // Both talk; then the sent direction's packets come 60 ms late,
        // and in 30 ms packets.
        m.push_received(Codec::Slin8, &[1; 160]);
        m.push_sent(Codec::Slin8, &[2; 160]);
        for _ in 0..3 {
            m.push_received(Codec::Slin8, &[1; 160]);
            m.tick();
        }
        m.push_sent(Codec::Slin8, &[2; 240]);
        m.push_sent(Codec::Slin8, &[2; 240]);
        let log = log.lock().unwrap();
        assert_eq!(log.frames.len(), 4);
        assert!(
            log.frames
                .iter()
                .all(|(r, s)| r.iter().all(|&x| x == 1) && s.iter().all(|&x| x == 2))
        );
    }

    #[test]
    fn a_silent_direction_is_silence_and_two_are_nothing() {
        let mut m = Monitor::new(Some(Codec::Ulaw));
        let (s, log) = sink(8000);
        m.add(1, s);
        for _ in 0..10 {
            m.tick();
        }
        assert!(log.lock().unwrap().frames.is_empty());
        // Only the sent direction carries audio (a prompt played): out on
        // the next tick.
        m.push_sent(Codec::Ulaw, &[7; 480]);
        assert!(log.lock().unwrap().frames.is_empty());
        m.tick();
        assert_eq!(log.lock().unwrap().frames.len(), 3);
        // The caller starts talking, then the prompt ends: after the sync
        // tolerance the caller's audio goes out alone.
        m.push_received(Codec::Ulaw, &[5; 160]);
        m.push_sent(Codec::Ulaw, &[7; 160]);
        for _ in 0..SYNC_TICKS {
            m.push_received(Codec::Ulaw, &[5; 160]);
            m.tick();
        }
        let log = log.lock().unwrap();
        assert!(
            log.frames[..3]
                .iter()
                .all(|(r, s)| r.iter().all(|&x| x == 0) && s.iter().all(|&x| x == 7))
        );
        assert_eq!(log.frames.len(), 3 + 1 + SYNC_TICKS as usize);
        let (r, s) = log.frames.last().unwrap();
        assert!(r.iter().all(|&x| x == 5) && s.iter().all(|&x| x == 0));
    }

    #[test]
    fn a_direction_that_only_trickles_does_not_hold_the_other_back() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (s, log) = sink(8000);
        m.add(1, s);
        // The sent direction never fills a frame but is never idle either.
        for _ in 0..MAX_QUEUED + 3 {
            m.push_received(Codec::Slin8, &[1; 160]);
            m.push_sent(Codec::Slin8, &[2; 10]);
            m.tick();
        }
        let log = log.lock().unwrap();
        assert!(!log.frames.is_empty());
        assert!(m.received.fifo.len() <= (MAX_QUEUED + 1) * 160);
    }

    #[test]
    fn forwarded_payloads_are_decoded_and_resampled_for_the_sink() {
        let mut m = Monitor::new(None);
        let (s, log) = sink(16000);
        m.add(1, s);
        // µ-law 0xFF is zero, 0x80 the loudest positive value.
        for _ in 0..3 {
            m.push_sent_payload(Codec::Ulaw, &[0x80; 160]);
            m.push_received(Codec::Ulaw, &[0; 160]);
        }
        let log = log.lock().unwrap();
        assert_eq!(log.frames.len(), 3);
        let (received, sent) = &log.frames[2];
        assert_eq!((received.len(), sent.len()), (320, 320));
        assert!(sent.iter().all(|&x| x > 20_000), "{:?}", &sent[..8]);
    }

    #[test]
    fn the_last_tap_gets_the_tail_and_a_codec_change_restarts() {
        let mut m = Monitor::new(Some(Codec::Slin8));
        let (s, log) = sink(8000);
        m.add(1, s);
        m.push_received(Codec::Slin8, &[3; 100]);
        m.remove(1);
        {
            let log = log.lock().unwrap();
            assert!(log.finished);
            assert_eq!(log.frames.len(), 1);
            assert!(log.frames[0].0[..100].iter().all(|&x| x == 3));
            assert!(log.frames[0].0[100..].iter().all(|&x| x == 0));
        }
        // A codec change drops what was queued at the old rate.
        let (s, log) = sink(8000);
        m.add(2, s);
        m.push_sent(Codec::Slin8, &[1; 10]);
        m.push_received(Codec::Slin8, &[5; 150]);
        m.push_received(Codec::Slin16, &[9; 640]);
        m.finish_all();
        let log = log.lock().unwrap();
        assert!(log.finished);
        assert_eq!(log.frames.len(), 2);
        assert!(log.frames.iter().all(|(r, _)| r.len() == 160));
        assert!(
            log.frames
                .iter()
                .all(|(r, s)| !r.contains(&5) && !s.contains(&1))
        );
    }
}
