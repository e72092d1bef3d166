//! Snooping on a stream (Asterisk's `res_stasis_snoop`, `ChanSpy`): spy
//! audio is taken from the stream's monitor taps, one or both directions
//! mixed, and written to an [`audio pipe`](crate::pipe); whisper audio is
//! read from a pipe and mixed into what the stream sends its remote and/or
//! what it passes on from its remote ([`crate::Stream::whisper`]).
//!
//! Directions are the snooped channel's, as ARI names them: `in` is what
//! the remote party says (audio coming into the server), `out` what it
//! hears (audio going out to it).

use crate::audio::MonitorSink;
use crate::pipe::PipeWriter;

/// Which directions of a stream's audio a snoop spies on or whispers into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoopDirection {
    /// What the remote party says.
    In,
    /// What the remote party hears.
    Out,
    /// Both.
    Both,
}

impl SnoopDirection {
    /// Reads ARI's `spy`/`whisper` value (`in`, `out`, `both`); `None`
    /// for anything else (`none` included).
    pub fn from_name(text: &str) -> Option<SnoopDirection> {
        match text {
            "in" => Some(SnoopDirection::In),
            "out" => Some(SnoopDirection::Out),
            "both" => Some(SnoopDirection::Both),
            _ => None,
        }
    }

    /// Whether the remote's own audio is included.
    pub fn includes_in(self) -> bool {
        matches!(self, SnoopDirection::In | SnoopDirection::Both)
    }

    /// Whether what the remote hears is included.
    pub fn includes_out(self) -> bool {
        matches!(self, SnoopDirection::Out | SnoopDirection::Both)
    }
}

/// A monitor sink that mixes the spied directions into a pipe.
pub struct SpySink {
    direction: SnoopDirection,
    writer: PipeWriter,
    rate: u32,
    mixed: [i16; 640],
}

impl SpySink {
    /// Spies on `direction` at `rate` Hz (8000 or 16000) into `writer`.
    pub fn new(direction: SnoopDirection, writer: PipeWriter, rate: u32) -> SpySink {
        SpySink {
            direction,
            writer,
            rate,
            mixed: [0; 640],
        }
    }
}

impl MonitorSink for SpySink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frames(&mut self, received: &[i16], sent: &[i16]) {
        let n = received.len().min(sent.len()).min(self.mixed.len());
        for (i, m) in self.mixed[..n].iter_mut().enumerate() {
            let mut sum = 0i32;
            if self.direction.includes_in() {
                sum += i32::from(received[i]);
            }
            if self.direction.includes_out() {
                sum += i32::from(sent[i]);
            }
            *m = sum.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
        self.writer.write(&self.mixed[..n]);
    }

    fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::audio_pipe;

    fn spied(direction: SnoopDirection) -> Vec<i16> {
        let (w, mut r) = audio_pipe(100);
        let mut sink = SpySink::new(direction, w, 8000);
        sink.write_frames(&[1000, 30_000, -30_000], &[10, 30_000, -30_000]);
        let mut out = vec![0i16; 100];
        let n = r.read(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn spy_directions_pick_and_mix_with_saturation() {
        assert_eq!(spied(SnoopDirection::In), vec![1000, 30_000, -30_000]);
        assert_eq!(spied(SnoopDirection::Out), vec![10, 30_000, -30_000]);
        assert_eq!(spied(SnoopDirection::Both), vec![1010, i16::MAX, i16::MIN]);
    }

    #[test]
    fn directions_parse_as_ari_spells_them() {
        assert_eq!(SnoopDirection::from_name("none"), None);
        assert_eq!(SnoopDirection::from_name("in"), Some(SnoopDirection::In));
        assert_eq!(
            SnoopDirection::from_name("both"),
            Some(SnoopDirection::Both)
        );
        assert_eq!(SnoopDirection::from_name("sideways"), None);
        assert!(SnoopDirection::Both.includes_in() && SnoopDirection::Both.includes_out());
        assert!(!SnoopDirection::In.includes_out());
    }
}
