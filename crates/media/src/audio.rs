//! The two traits through which audio enters and leaves the media plane
//! outside RTP: a source the engine pulls a 20 ms frame from on every tick
//! (tones, prompts, music), and a sink it pushes received audio into
//! (recordings, speech recognition).
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

/// Samples in one 20 ms frame at `rate`.
pub fn frame_len(rate: u32) -> usize {
    rate as usize / 50
}
