//! Talk detection (Asterisk's `TALK_DETECT()`, `func_talkdetect.c` over
//! the DSP's silence detector): is the party talking, and for how long
//! did it talk?
//!
//! Each frame is judged by its mean absolute amplitude, as Asterisk's
//! `ast_dsp_silence` judges it: below the energy threshold (`dsp.conf`
//! `silencethreshold`, 256 by default) the frame is silent. Talking starts
//! with the first loud frame and stops once the frames after the last loud
//! one add up to the silence threshold (2500 ms by default); the talk's
//! duration runs from its first loud frame to the end of its last, which is
//! what Asterisk reports (the time since talking started less the silence
//! threshold). Unlike Asterisk 12-20, silence alone never starts a talk.
//!
//! Sans-IO: frames in, [`TalkEvent`]s out; time is the sample count.

/// `TALK_DETECT`'s default silence threshold, in ms.
pub const DEFAULT_SILENCE_MS: u32 = 2500;

/// The DSP's default energy threshold (`dsp.conf` `silencethreshold`).
pub const DEFAULT_ENERGY: u32 = 256;

/// A change in whether the party talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkEvent {
    /// A loud frame after silence: talking started.
    Started,
    /// Silence lasted the silence threshold: talking stopped.
    Finished {
        /// From the first loud frame to the end of the last, in ms.
        duration_ms: u64,
    },
}

/// Follows one direction of audio, frame by frame.
#[derive(Debug, Clone)]
pub struct TalkDetector {
    rate: u32,
    silence_ms: u32,
    energy: u32,
    talking: bool,
    /// Samples from the first loud frame of the talk to the end of its last.
    talk_samples: u64,
    /// Samples since the last loud frame.
    quiet_samples: u64,
}

impl TalkDetector {
    /// A detector for audio at `rate` Hz (8000 or 16000), with the
    /// thresholds `TALK_DETECT(set)=silence_ms,energy` gives.
    pub fn new(rate: u32, silence_ms: u32, energy: u32) -> TalkDetector {
        TalkDetector {
            rate: rate.max(1),
            silence_ms,
            energy,
            talking: false,
            talk_samples: 0,
            quiet_samples: 0,
        }
    }

    /// Changes the thresholds (`TALK_DETECT(set)` again), keeping the state:
    /// a talk in progress goes on under the new ones.
    pub fn set_thresholds(&mut self, silence_ms: u32, energy: u32) {
        self.silence_ms = silence_ms;
        self.energy = energy;
    }

    /// Whether the party is talking.
    pub fn is_talking(&self) -> bool {
        self.talking
    }

    /// Judges one frame (any length, usually 20 ms) and says whether
    /// talking started or stopped with it.
    pub fn process(&mut self, frame: &[i16]) -> Option<TalkEvent> {
        if frame.is_empty() {
            return None;
        }
        let len = frame.len() as u64;
        if self.is_loud(frame) {
            let started = !self.talking;
            if started {
                self.talking = true;
                self.talk_samples = 0;
                self.quiet_samples = 0;
            }
            self.talk_samples += self.quiet_samples + len;
            self.quiet_samples = 0;
            return started.then_some(TalkEvent::Started);
        }
        if !self.talking {
            return None;
        }
        self.quiet_samples += len;
        if self.quiet_samples * 1000 >= u64::from(self.silence_ms) * u64::from(self.rate) {
            self.talking = false;
            return Some(TalkEvent::Finished {
                duration_ms: self.talk_samples * 1000 / u64::from(self.rate),
            });
        }
        None
    }

    /// Mean absolute amplitude at or above the energy threshold.
    fn is_loud(&self, frame: &[i16]) -> bool {
        let sum: u64 = frame.iter().map(|&s| u64::from(s.unsigned_abs())).sum();
        sum / frame.len() as u64 >= u64::from(self.energy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sine;

    const RATE: u32 = 8000;
    const FRAME: usize = 160;

    /// Feeds `signal` in 20 ms frames; the events with the time (ms from
    /// the start of `signal`, at the end of the frame) they came at.
    fn run(detector: &mut TalkDetector, signal: &[i16]) -> Vec<(u64, TalkEvent)> {
        let mut out = Vec::new();
        for (i, frame) in signal.chunks(FRAME).enumerate() {
            if let Some(e) = detector.process(frame) {
                out.push(((i as u64 + 1) * 20, e));
            }
        }
        out
    }

    fn speech(ms: u32) -> Vec<i16> {
        // A 300 Hz "voice" at amplitude 3000: mean |x| about 1900.
        sine(RATE, 300.0, 3000.0, (ms * RATE / 1000) as usize)
    }

    fn quiet(ms: u32, amplitude: f32) -> Vec<i16> {
        sine(RATE, 300.0, amplitude, (ms * RATE / 1000) as usize)
    }

    #[test]
    fn talk_starts_on_the_first_loud_frame_and_stops_after_the_silence_threshold() {
        let mut d = TalkDetector::new(RATE, DEFAULT_SILENCE_MS, DEFAULT_ENERGY);
        let mut signal = quiet(1000, 0.0);
        signal.extend(speech(1500));
        signal.extend(quiet(3000, 0.0));
        let events = run(&mut d, &signal);
        assert_eq!(
            events,
            vec![
                (1020, TalkEvent::Started),
                (
                    1000 + 1500 + 2500,
                    TalkEvent::Finished { duration_ms: 1500 }
                ),
            ]
        );
        assert!(!d.is_talking());
    }

    #[test]
    fn pauses_shorter_than_the_threshold_are_part_of_the_talk() {
        let mut d = TalkDetector::new(RATE, 1000, DEFAULT_ENERGY);
        let mut signal = speech(400);
        signal.extend(quiet(900, 0.0));
        signal.extend(speech(600));
        signal.extend(quiet(1200, 0.0));
        let events = run(&mut d, &signal);
        assert_eq!(
            events,
            vec![
                (20, TalkEvent::Started),
                (
                    400 + 900 + 600 + 1000,
                    TalkEvent::Finished {
                        duration_ms: 400 + 900 + 600
                    }
                ),
            ]
        );
    }

    #[test]
    fn the_energy_threshold_decides_what_is_silence() {
        // Mean |x| of a sine is 2A/pi: amplitude 300 gives about 191,
        // under 256 (room noise); with a threshold of 128 it is talk.
        let noise = quiet(2000, 300.0);
        let mut d = TalkDetector::new(RATE, 500, DEFAULT_ENERGY);
        assert_eq!(run(&mut d, &noise), vec![]);
        let mut d = TalkDetector::new(RATE, 500, 128);
        assert_eq!(run(&mut d, &noise), vec![(20, TalkEvent::Started)]);
        assert!(d.is_talking());
    }

    #[test]
    fn silence_never_starts_a_talk_and_new_thresholds_apply_mid_talk() {
        let mut d = TalkDetector::new(RATE, DEFAULT_SILENCE_MS, DEFAULT_ENERGY);
        assert_eq!(run(&mut d, &quiet(5000, 0.0)), vec![]);
        assert_eq!(run(&mut d, &speech(200)), vec![(20, TalkEvent::Started)]);
        d.set_thresholds(300, DEFAULT_ENERGY);
        assert_eq!(
            run(&mut d, &quiet(400, 0.0)),
            vec![(300, TalkEvent::Finished { duration_ms: 200 })]
        );
        assert_eq!(d.process(&[]), None);
    }

    #[test]
    fn works_at_16_khz_and_with_full_scale_samples() {
        let mut d = TalkDetector::new(16000, 100, DEFAULT_ENERGY);
        let loud = vec![i16::MIN; 320];
        assert_eq!(d.process(&loud), Some(TalkEvent::Started));
        assert_eq!(d.process(&[0; 320]), None);
        assert_eq!(
            d.process(&[0; 1280]),
            Some(TalkEvent::Finished { duration_ms: 20 })
        );
    }
}
