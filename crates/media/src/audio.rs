//! The traits through which audio enters and leaves the media plane
//! outside RTP: a source the engine pulls a 20 ms frame from on every tick
//! (tones, prompts, music), a sink it pushes received audio into
//! (recordings, speech recognition), and a monitor sink that gets both
//! directions of a call (MixMonitor).
//!
//! Both run on a media worker thread inside the 20 ms tick, so they must not
//! block: a source should have its data in memory, a sink should buffer.
//!
//! A playing source can be paused, moved and restarted from outside (ARI's
//! `/playbacks/{id}/control`) through a [`PlaybackControl`] shared with a
//! [`ControlledSource`] wrapping it: the media thread picks the requests up
//! on its next tick, so the controller never waits on media.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Audio generated toward a remote party, pulled one 20 ms frame per tick.
pub trait AudioSource: Send {
    /// The rate of the samples this source produces: 8000 or 16000. The
    /// engine resamples to the stream's codec.
    fn sample_rate(&self) -> u32;

    /// Fills `out` (one 20 ms frame: `sample_rate() / 50` samples) and
    /// returns how many samples were written; a short frame is padded with
    /// silence, and 0 means the source is finished.
    fn read_frame(&mut self, out: &mut [i16]) -> usize;

    /// Moves the read position by `ms` milliseconds (back when negative),
    /// no further back than the start; forward past the end finishes the
    /// source. Sources without a position (tones) ignore it.
    fn skip_ms(&mut self, _ms: i64) {}

    /// Goes back to the start. Sources without a position ignore it.
    fn restart(&mut self) {}

    /// Tells the source the rate the stream's codec runs at, before the
    /// first frame and again after a codec change, so that a source holding
    /// its audio at several rates (music on hold) can choose the one that
    /// needs no resampling; the engine reads [`AudioSource::sample_rate`]
    /// afterwards. Sources with one rate ignore it.
    fn prefer_rate(&mut self, rate: u32) {
        let _ = rate;
    }
}

/// Silence for ever: what Asterisk's silence generator sends (ARI
/// `startSilence`), so the far end keeps receiving packets while nothing
/// else plays.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silence;

impl AudioSource for Silence {
    fn sample_rate(&self) -> u32 {
        8000
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let n = out.len().min(frame_len(8000));
        out[..n].fill(0);
        n
    }
}

/// Audio received from a remote party, pushed one 20 ms frame at a time.
pub trait AudioSink: Send {
    /// The rate the sink wants: 8000 or 16000. The engine resamples to it.
    fn sample_rate(&self) -> u32;

    /// Takes one frame of decoded audio at [`AudioSink::sample_rate`].
    fn write_frame(&mut self, samples: &[i16]);

    /// Called once when recording stops or the stream closes; flush here.
    fn finish(&mut self);
}

/// Both directions of a stream's audio, for call recording (MixMonitor):
/// what the remote sends and what the stream sends it, pushed in step one
/// 20 ms frame of each at a time.
///
/// The engine queues each direction and hands a frame of both over as
/// soon as both have one, so jitter does not cut holes in either. A
/// direction that has been silent for a moment (100 ms) is silence beside
/// the other; while neither carries audio nothing is handed over, as
/// Asterisk's audiohooks see no frames when none flow.
pub trait MonitorSink: Send {
    /// The rate the sink wants: 8000 or 16000. The engine resamples to it.
    fn sample_rate(&self) -> u32;

    /// Takes one frame of each direction, equally long: `received` is what
    /// the remote sent (decoded), `sent` what the stream sent to it
    /// (relayed, transcoded, played or mixed audio).
    fn write_frames(&mut self, received: &[i16], sent: &[i16]);

    /// As [`MonitorSink::write_frames`], saying which direction
    /// (`[received, sent]`) is only silence put beside the other because
    /// it had no audio. A sink that keeps the directions in files of their
    /// own without filling such gaps (MixMonitor's `n`) leaves those
    /// frames out; by default they are written like any other.
    fn write_frames_padded(&mut self, received: &[i16], sent: &[i16], padded: [bool; 2]) {
        let _ = padded;
        self.write_frames(received, sent);
    }

    /// Called once when monitoring stops or the stream closes; flush here.
    fn finish(&mut self);
}

/// Requests to a playing [`ControlledSource`], shared with whoever controls
/// the playback.
#[derive(Debug, Default)]
pub struct PlaybackControl {
    paused: AtomicBool,
    skip_ms: AtomicI64,
    restart: AtomicBool,
}

impl PlaybackControl {
    /// Pauses (silence is played meanwhile) or resumes.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Whether the playback is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Moves the playback by `ms` (back when negative); requests add up
    /// until the next tick.
    pub fn skip(&self, ms: i64) {
        self.skip_ms.fetch_add(ms, Ordering::AcqRel);
    }

    /// Starts the current source over; pending moves are dropped.
    pub fn restart(&self) {
        self.skip_ms.store(0, Ordering::Release);
        self.restart.store(true, Ordering::Release);
    }
}

/// A source obeying a [`PlaybackControl`]: restarts and moves apply before
/// the next frame is read, and while paused the source plays silence
/// without advancing.
pub struct ControlledSource {
    inner: Box<dyn AudioSource>,
    control: Arc<PlaybackControl>,
}

impl ControlledSource {
    /// Puts `inner` under `control`.
    pub fn new(inner: Box<dyn AudioSource>, control: Arc<PlaybackControl>) -> ControlledSource {
        ControlledSource { inner, control }
    }
}

impl AudioSource for ControlledSource {
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        if self.control.restart.swap(false, Ordering::AcqRel) {
            self.inner.restart();
        }
        let skip = self.control.skip_ms.swap(0, Ordering::AcqRel);
        if skip != 0 {
            self.inner.skip_ms(skip);
        }
        if self.control.is_paused() {
            let n = frame_len(self.inner.sample_rate()).min(out.len());
            out[..n].fill(0);
            return n;
        }
        self.inner.read_frame(out)
    }

    fn skip_ms(&mut self, ms: i64) {
        self.inner.skip_ms(ms);
    }

    fn restart(&mut self) {
        self.inner.restart();
    }
}

/// Samples in one 20 ms frame at `rate`.
pub fn frame_len(rate: u32) -> usize {
    rate as usize / 50
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sound::{Sound, SoundSource};

    /// 1 s at 8 kHz whose sample `i` is `i / 8` (so a value tells the
    /// millisecond it was read at).
    fn ramp() -> Box<dyn AudioSource> {
        let samples: Vec<i16> = (0..8000).map(|i| (i / 8) as i16).collect();
        Box::new(SoundSource::new(Sound {
            rate: 8000,
            samples: samples.into(),
        }))
    }

    #[test]
    fn a_controlled_source_pauses_moves_and_restarts() {
        let control = Arc::new(PlaybackControl::default());
        let mut src = ControlledSource::new(ramp(), Arc::clone(&control));
        let mut frame = [0i16; 160];
        assert_eq!(src.read_frame(&mut frame), 160);
        assert_eq!((frame[0], frame[159]), (0, 19));
        // Paused: silence, and the position stays.
        control.set_paused(true);
        for _ in 0..3 {
            assert_eq!(src.read_frame(&mut frame), 160);
            assert!(frame.iter().all(|&s| s == 0));
        }
        control.set_paused(false);
        assert_eq!(src.read_frame(&mut frame), 160);
        assert_eq!(frame[0], 20);
        // Forward 500 ms, back 200 ms: from 40 ms to 340 ms.
        control.skip(500);
        control.skip(-200);
        src.read_frame(&mut frame);
        assert_eq!(frame[0], 340);
        // Back past the start stops at the start.
        control.skip(-10_000);
        src.read_frame(&mut frame);
        assert_eq!(frame[0], 0);
        control.skip(300);
        control.restart();
        src.read_frame(&mut frame);
        assert_eq!(frame[0], 0, "a restart drops pending moves");
        // Forward past the end finishes the source.
        control.skip(5000);
        assert_eq!(src.read_frame(&mut frame), 0);
    }

    #[test]
    fn tones_ignore_moves() {
        let control = Arc::new(PlaybackControl::default());
        let tone = crate::ToneSource::named("!1000/100", 8000).unwrap();
        let mut src = ControlledSource::new(Box::new(tone), Arc::clone(&control));
        let mut frame = [0i16; 160];
        control.skip(50);
        control.restart();
        assert_eq!(src.read_frame(&mut frame), 160);
        assert!(frame.iter().any(|&s| s != 0));
    }
}
