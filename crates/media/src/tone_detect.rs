//! Single-frequency tone detection (Asterisk's `TONE_DETECT()` and
//! `WaitForTone()`, `res_tonedetect.c` over the DSP's frequency mode).
//!
//! The audio is cut into blocks of about 20 ms holding a whole number of
//! periods of the tone (at least five), so that a Goertzel filter at the
//! tone's frequency sees it without leakage. A block is a *hit* when the
//! tone holds nearly all of the block's power: the tone is `db` decibels
//! above everything else (`10·log10(Etone / (Etotal − Etone)) > db`, 16 dB
//! by default, as Asterisk checks it). A tone is detected once its hits
//! cover the minimum duration (less 10 %, and less the two partial blocks
//! at its ends); one block without it is tolerated, two end it, and the
//! next tone is a new detection.
//!
//! Sans-IO: samples in, the number of detections out; nothing allocates
//! after [`ToneDetector::new`].

use crate::analysis::{goertzel_power, signal_power};

/// `TONE_DETECT`'s default minimum duration, in ms.
pub const DEFAULT_DURATION_MS: u32 = 500;

/// `TONE_DETECT`'s default decibel threshold.
pub const DEFAULT_DB: u32 = 16;

/// Why a detector cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToneDetectError {
    /// The frequency is zero, or not below half the sample rate.
    #[error("a tone of {freq} Hz cannot be detected at {rate} Hz")]
    Frequency {
        /// The frequency asked for.
        freq: u32,
        /// The sample rate.
        rate: u32,
    },
    /// The minimum duration is zero.
    #[error("the minimum tone duration must be at least 1 ms")]
    Duration,
}

/// Finds one frequency in audio at one sample rate.
#[derive(Debug, Clone)]
pub struct ToneDetector {
    rate: u32,
    freq: f32,
    /// Share of a block's power the tone must hold.
    share: f64,
    /// Hit blocks a detection needs.
    hits_required: u32,
    /// The block being filled (its capacity is the block size).
    block: Vec<i16>,
    /// Hit blocks of the tone going on.
    hits: u32,
    /// Blocks without it since its last hit.
    misses: u32,
    /// Whether the tone going on was reported.
    reported: bool,
}

impl ToneDetector {
    /// A detector of `freq` Hz lasting at least `duration_ms`, `db`
    /// decibels above the rest of the signal, in audio at `rate` Hz.
    pub fn new(rate: u32, freq: u32, duration_ms: u32, db: u32) -> Result<Self, ToneDetectError> {
        if freq == 0 || u64::from(freq) * 2 >= u64::from(rate) {
            return Err(ToneDetectError::Frequency { freq, rate });
        }
        if duration_ms == 0 {
            return Err(ToneDetectError::Duration);
        }
        let (rate_f, freq_f) = (f64::from(rate), f64::from(freq));
        let periods = (0.020 * freq_f).round().max(5.0);
        let block = ((periods * rate_f / freq_f).round() as usize).max(1);
        let duration = u64::from(duration_ms) * u64::from(rate) / 1000 * 9 / 10;
        let hits_required = (duration.saturating_sub(block as u64 - 1) / block as u64).max(1);
        let x = 10f64.powf(f64::from(db) / 10.0);
        Ok(ToneDetector {
            rate,
            freq: freq as f32,
            share: x / (x + 1.0),
            hits_required: u32::try_from(hits_required).unwrap_or(u32::MAX),
            block: Vec::with_capacity(block),
            hits: 0,
            misses: 0,
            reported: false,
        })
    }

    /// Samples per analysis block.
    pub fn block_size(&self) -> usize {
        self.block.capacity()
    }

    /// Hit blocks in a row a detection needs.
    pub fn hits_required(&self) -> u32 {
        self.hits_required
    }

    /// Analyses `samples` and returns how many tones were detected in
    /// them (each tone once, when it has lasted the minimum duration).
    pub fn process(&mut self, samples: &[i16]) -> u32 {
        let mut detected = 0;
        let size = self.block.capacity();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (size - self.block.len()).min(rest.len());
            self.block.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.block.len() == size {
                let hit = self.is_hit();
                self.block.clear();
                detected += u32::from(self.on_block(hit));
            }
        }
        detected
    }

    /// Whether the full block holds the tone.
    fn is_hit(&self) -> bool {
        let total = signal_power(&self.block);
        total > 0.0 && goertzel_power(&self.block, self.rate, self.freq) > total * self.share
    }

    /// Counts one block; true when it completes a detection.
    fn on_block(&mut self, hit: bool) -> bool {
        if hit {
            self.hits += 1;
            self.misses = 0;
            if self.hits >= self.hits_required && !self.reported {
                self.reported = true;
                return true;
            }
        } else {
            self.misses += 1;
            if self.misses >= 2 {
                self.hits = 0;
                self.reported = false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sine;
    use crate::codec::{Codec, Decoder, Encoder};

    /// A small deterministic noise source (xorshift), uniform in ±`amp`.
    fn noise(seed: u64, amp: f64, count: usize) -> Vec<i16> {
        let mut s = seed;
        (0..count)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * amp) as i16
            })
            .collect()
    }

    fn tone(freq: f32, ms: u32) -> Vec<i16> {
        sine(8000, freq, 8000.0, (ms * 8) as usize)
    }

    fn silence(ms: u32) -> Vec<i16> {
        vec![0; (ms * 8) as usize]
    }

    fn detect(freq: u32, duration_ms: u32, signal: &[i16]) -> u32 {
        let mut d = ToneDetector::new(8000, freq, duration_ms, DEFAULT_DB).unwrap();
        // 20 ms frames, as the media plane hands them over.
        signal.chunks(160).map(|f| d.process(f)).sum()
    }

    #[test]
    fn a_tone_is_detected_once_when_it_lasts_the_minimum_duration() {
        for freq in [440u32, 1000, 1400, 2600, 3400] {
            let mut signal = silence(100);
            signal.extend(tone(freq as f32, 600));
            signal.extend(silence(300));
            assert_eq!(detect(freq, 500, &signal), 1, "{freq} Hz");
        }
        // Too short: 300 ms of a tone that must last 500 ms.
        let mut signal = tone(1000.0, 300);
        signal.extend(silence(300));
        assert_eq!(detect(1000, 500, &signal), 0);
        // ... but enough for a 250 ms minimum.
        assert_eq!(detect(1000, 250, &signal), 1);
    }

    #[test]
    fn a_tone_at_another_frequency_or_noise_is_not_detected() {
        assert_eq!(detect(1000, 200, &tone(1100.0, 1000)), 0);
        assert_eq!(detect(2600, 200, &tone(1000.0, 1000)), 0);
        assert_eq!(detect(1000, 200, &noise(7, 8000.0, 8000)), 0);
        assert_eq!(detect(1000, 200, &silence(1000)), 0);
    }

    #[test]
    fn the_db_threshold_decides_how_clean_the_tone_must_be() {
        // The tone at 8000 with noise of ±2000 (about 15 dB below it).
        let clean = tone(1000.0, 1000);
        let noisy: Vec<i16> = clean
            .iter()
            .zip(noise(3, 2000.0, clean.len()))
            .map(|(a, b)| a.saturating_add(b))
            .collect();
        let run = |db: u32| {
            let mut d = ToneDetector::new(8000, 1000, 300, db).unwrap();
            d.process(&noisy)
        };
        assert_eq!(run(DEFAULT_DB), 0);
        assert_eq!(run(6), 1);
    }

    #[test]
    fn each_tone_counts_once_and_a_dropped_block_does_not_split_it() {
        let mut signal = Vec::new();
        for _ in 0..3 {
            signal.extend(tone(2600.0, 700));
            signal.extend(silence(200));
        }
        assert_eq!(detect(2600, 500, &signal), 3);
        // One 20 ms hole in the middle of a tone: still one tone.
        let mut holed = tone(1000.0, 400);
        holed.extend(silence(20));
        holed.extend(tone(1000.0, 400));
        assert_eq!(detect(1000, 600, &holed), 1);
    }

    #[test]
    fn a_tone_survives_g711() {
        let signal = tone(1400.0, 800);
        let mut enc = Encoder::new(Codec::Ulaw);
        let mut dec = Decoder::new(Codec::Ulaw);
        let mut decoded = Vec::new();
        for frame in signal.chunks(160) {
            let mut payload = [0u8; 160];
            let n = enc.encode(frame, &mut payload);
            let mut pcm = [0i16; 160];
            let m = dec.decode(&payload[..n], &mut pcm);
            decoded.extend_from_slice(&pcm[..m]);
        }
        assert_eq!(detect(1400, 500, &decoded), 1);
    }

    #[test]
    fn blocks_hold_whole_periods_and_bad_settings_are_refused() {
        let d = ToneDetector::new(8000, 440, 500, DEFAULT_DB).unwrap();
        // Nine periods of 440 Hz: 163.6 samples, rounded.
        assert_eq!(d.block_size(), 164);
        assert_eq!(d.hits_required(), (3600 - 163) / 164);
        let d = ToneDetector::new(8000, 100, 50, DEFAULT_DB).unwrap();
        assert_eq!((d.block_size(), d.hits_required()), (400, 1));
        assert_eq!(
            ToneDetector::new(8000, 4000, 500, 16).unwrap_err(),
            ToneDetectError::Frequency {
                freq: 4000,
                rate: 8000
            }
        );
        assert!(ToneDetector::new(8000, 0, 500, 16).is_err());
        assert_eq!(
            ToneDetector::new(8000, 1000, 0, 16).unwrap_err(),
            ToneDetectError::Duration
        );
    }
}
