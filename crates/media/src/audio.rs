//! The traits through which audio enters and leaves the media plane
//! outside RTP: a source the engine pulls a 20 ms frame from on every tick
//! (tones, prompts, music), a sink it pushes received audio into
//! (recordings, speech recognition), and a monitor sink that gets both
//! directions of a call (MixMonitor).
//!
//! Both run on a media worker thread inside the 20 ms tick, so they must not
//! block: a source should have its data in memory, a sink should buffer.

/// Audio generated toward a remote party, pulled one 20 ms frame per tick.
pub trait AudioSource: Send {
    /// The rate of the samples this source produces: 8000 or 16000. The
    /// engine resamples to the stream's codec.
    fn sample_rate(&self) -> u32;

    /// Fills `out` (one 20 ms frame: `sample_rate() / 50` samples) and
    /// returns how many samples were written; a short frame is padded with
    /// silence, and 0 means the source is finished.
    fn read_frame(&mut self, out: &mut [i16]) -> usize;

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

    /// Called once when monitoring stops or the stream closes; flush here.
    fn finish(&mut self);
}

/// Samples in one 20 ms frame at `rate`.
pub fn frame_len(rate: u32) -> usize {
    rate as usize / 50
}
