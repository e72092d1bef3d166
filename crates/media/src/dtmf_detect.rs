//! In-band DTMF: the tone pairs of the keypad (ITU-T Q.23), and a detector
//! that finds them in received audio (`dtmf_mode=inband`, and `auto` when
//! the peer offers no telephone-event).
//!
//! The detector works like Asterisk's DSP: the audio (8 kHz) is cut into
//! blocks of 102 samples; in each block a Goertzel filter measures the
//! power of the eight DTMF frequencies. A block is a *hit* for a key when
//!
//! - the strongest row and the strongest column tone are each above a
//!   minimum level,
//! - their twist (level difference) is within 8 dB one way (row stronger)
//!   and 4 dB the other (column stronger),
//! - each is at least 8 dB above every other tone of its group, and
//! - together they hold most of the block's energy (no speech or music
//!   around them).
//!
//! A key begins after two consecutive hits and ends after three blocks
//! without it, so a digit needs about 25 ms of tone and digits need a pause
//! of about 40 ms between them. Sans-IO: feed samples, read events; time
//! is the sample count.

/// Sample rate the detector works at.
pub const RATE: u32 = 8000;

/// Low-group (row) frequencies in Hz.
pub const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];

/// High-group (column) frequencies in Hz.
pub const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad, by row then column.
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The row and column frequency of a DTMF key (`0-9`, `*`, `#`, `A-D`,
/// case-insensitive); `None` for anything else.
pub fn frequencies(digit: char) -> Option<(f32, f32)> {
    let digit = digit.to_ascii_uppercase();
    KEYS.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|&k| k == digit)
            .map(|c| (ROWS[r], COLUMNS[c]))
    })
}

/// The indications-style tone string of a key (`697+1209/100`) lasting
/// `duration_ms`, followed by `gap_ms` of silence; every part plays once.
pub fn tone_spec(digit: char, duration_ms: u32, gap_ms: u32) -> Option<String> {
    let (row, col) = frequencies(digit)?;
    let mut spec = format!("!{row}+{col}/{}", duration_ms.max(1));
    if gap_ms > 0 {
        spec.push_str(&format!(",!0/{gap_ms}"));
    }
    Some(spec)
}

/// Samples per analysis block (Asterisk's `DTMF_GSIZE`): 12.75 ms.
pub const BLOCK: usize = 102;

/// The detector's thresholds. The defaults are Asterisk's (dsp.c).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Lowest power each of the two tones must have, in the units of
    /// [`crate::analysis::goertzel_power`] (a sine of amplitude `A` has
    /// `A²/2`). The default, a sine of amplitude 175 (about −42 dBm0), is
    /// what Asterisk's `DTMF_THRESHOLD` of 8.0e7 means for a 102-sample
    /// block.
    pub min_tone_power: f64,
    /// How much stronger the row tone may be than the column tone
    /// (Asterisk's normal twist: 8 dB, a power ratio of 6.31).
    pub normal_twist: f64,
    /// How much stronger the column tone may be than the row tone
    /// (Asterisk's reverse twist: 4 dB, 2.51).
    pub reverse_twist: f64,
    /// How much the strongest tone of a group must exceed every other tone
    /// of the group (8 dB, 6.3).
    pub relative_peak: f64,
    /// The share of the block's power the two tones must hold together.
    /// Asterisk asks for 42 in units where a perfect block gives 51 (half
    /// the block length): 82 %.
    pub to_total: f64,
    /// Consecutive hits before a key begins.
    pub hits_to_begin: u32,
    /// Consecutive blocks without the key before it ends.
    pub misses_to_end: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_tone_power: 175.0 * 175.0 / 2.0,
            normal_twist: 6.31,
            reverse_twist: 2.51,
            relative_peak: 6.3,
            to_total: 42.0 / (BLOCK as f64 / 2.0),
            hits_to_begin: 2,
            misses_to_end: 3,
        }
    }
}

/// What the detector found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorEvent {
    /// A key press began.
    Begin(char),
    /// A key press ended, after `duration_ms` of tone.
    End {
        /// The key.
        digit: char,
        /// How long the tone was heard.
        duration_ms: u32,
    },
}

/// A Goertzel filter for one frequency, run over one block.
#[derive(Debug, Clone, Copy)]
struct Goertzel {
    coeff: f32,
    s1: f32,
    s2: f32,
}

impl Goertzel {
    fn new(freq: f32) -> Goertzel {
        let w = 2.0 * std::f32::consts::PI * freq / RATE as f32;
        Goertzel {
            coeff: 2.0 * w.cos(),
            s1: 0.0,
            s2: 0.0,
        }
    }

    #[inline]
    fn feed(&mut self, x: f32) {
        let s = x + self.coeff * self.s1 - self.s2;
        self.s2 = self.s1;
        self.s1 = s;
    }

    /// Power of the block, scaled like `analysis::goertzel_power`, and reset.
    fn take(&mut self) -> f64 {
        let (s1, s2) = (f64::from(self.s1), f64::from(self.s2));
        let mag2 = s1 * s1 + s2 * s2 - f64::from(self.coeff) * s1 * s2;
        self.s1 = 0.0;
        self.s2 = 0.0;
        2.0 * mag2 / (BLOCK as f64 * BLOCK as f64)
    }
}

/// Finds DTMF keys in 8 kHz audio. Feed it any number of samples at a time
/// ([`DtmfDetector::process`]); it never allocates.
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    thresholds: Thresholds,
    rows: [Goertzel; 4],
    cols: [Goertzel; 4],
    /// Sum of squares of the current block.
    energy: f64,
    /// Samples in the current block.
    filled: usize,
    /// The previous block's hit.
    last_hit: Option<char>,
    /// Consecutive hits of `last_hit`.
    hits: u32,
    /// The key being pressed, its length in samples, and the misses since
    /// its last hit.
    current: Option<(char, u64)>,
    misses: u32,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        DtmfDetector::new(Thresholds::default())
    }
}

impl DtmfDetector {
    /// A detector with the given thresholds.
    pub fn new(thresholds: Thresholds) -> DtmfDetector {
        DtmfDetector {
            thresholds,
            rows: ROWS.map(Goertzel::new),
            cols: COLUMNS.map(Goertzel::new),
            energy: 0.0,
            filled: 0,
            last_hit: None,
            hits: 0,
            current: None,
            misses: 0,
        }
    }

    /// Whether a key is being pressed.
    pub fn in_progress(&self) -> bool {
        self.current.is_some()
    }

    /// Forgets everything (after a gap in the audio, or a codec change).
    pub fn reset(&mut self) {
        *self = DtmfDetector::new(self.thresholds);
    }

    /// Analyses `samples` (8 kHz), calling `on_event` for each key that
    /// begins or ends, in order.
    pub fn process(&mut self, samples: &[i16], mut on_event: impl FnMut(DetectorEvent)) {
        for &s in samples {
            let x = f32::from(s);
            for g in self.rows.iter_mut().chain(self.cols.iter_mut()) {
                g.feed(x);
            }
            self.energy += f64::from(x) * f64::from(x);
            self.filled += 1;
            if self.filled == BLOCK {
                let hit = self.classify();
                self.energy = 0.0;
                self.filled = 0;
                self.on_block(hit, &mut on_event);
            }
        }
    }

    /// The key this block holds, if it passes every test.
    fn classify(&mut self) -> Option<char> {
        let t = self.thresholds;
        let rows = self.rows.each_mut().map(|g| g.take());
        let cols = self.cols.each_mut().map(|g| g.take());
        let best = |p: &[f64; 4]| {
            (0..4)
                .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                .unwrap_or_default()
        };
        let (r, c) = (best(&rows), best(&cols));
        let (row, col) = (rows[r], cols[c]);
        if row < t.min_tone_power || col < t.min_tone_power {
            return None;
        }
        if row > col * t.normal_twist || col > row * t.reverse_twist {
            return None;
        }
        let peaked = |p: &[f64; 4], best: usize| {
            (0..4).all(|i| i == best || p[i] * t.relative_peak <= p[best])
        };
        if !peaked(&rows, r) || !peaked(&cols, c) {
            return None;
        }
        let total = self.energy / BLOCK as f64;
        if row + col < t.to_total * total {
            return None;
        }
        Some(KEYS[r][c])
    }

    fn on_block(&mut self, hit: Option<char>, on_event: &mut impl FnMut(DetectorEvent)) {
        if let Some((digit, len)) = self.current {
            if hit == Some(digit) {
                self.misses = 0;
                self.current = Some((digit, len + BLOCK as u64));
            } else {
                self.misses += 1;
                if self.misses >= self.thresholds.misses_to_end {
                    self.end(on_event);
                }
            }
        }
        match hit {
            Some(key) if hit == self.last_hit && self.current.map(|(d, _)| d) != Some(key) => {
                self.hits += 1;
                if self.hits >= self.thresholds.hits_to_begin {
                    // A different key without a pause: the old one is over.
                    self.end(on_event);
                    self.current = Some((key, u64::from(self.hits) * BLOCK as u64));
                    self.misses = 0;
                    on_event(DetectorEvent::Begin(key));
                }
            }
            Some(_) => self.hits = 1,
            None => self.hits = 0,
        }
        self.last_hit = hit;
    }

    fn end(&mut self, on_event: &mut impl FnMut(DetectorEvent)) {
        if let Some((digit, len)) = self.current.take() {
            on_event(DetectorEvent::End {
                digit,
                duration_ms: (len * 1000 / u64::from(RATE)) as u32,
            });
        }
        self.misses = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AudioSource;
    use crate::codec::{Codec, Decoder, Encoder};
    use crate::tone::ToneSource;

    /// A small deterministic noise source (xorshift), uniform in ±`amp`.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self, amp: f64) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * amp
        }
    }

    /// `ms` of `f1 + f2` at amplitudes `a1`, `a2`, straight from `sin()`.
    fn pair(f1: f64, a1: f64, f2: f64, a2: f64, ms: u32) -> Vec<f64> {
        let n = (ms * RATE / 1000) as usize;
        let w = |f: f64| 2.0 * std::f64::consts::PI * f / f64::from(RATE);
        (0..n)
            .map(|i| {
                let t = i as f64;
                a1 * (w(f1) * t).sin() + a2 * (w(f2) * t + 0.7).sin()
            })
            .collect()
    }

    fn silence(ms: u32) -> Vec<f64> {
        vec![0.0; (ms * RATE / 1000) as usize]
    }

    fn pcm(signal: &[f64]) -> Vec<i16> {
        signal
            .iter()
            .map(|&v| v.round().clamp(-32768.0, 32767.0) as i16)
            .collect()
    }

    /// Everything the detector reports for `samples`, fed 160 at a time
    /// (one 20 ms packet), then flushed with silence.
    fn detect(samples: &[i16]) -> Vec<DetectorEvent> {
        detect_with(Thresholds::default(), samples)
    }

    fn detect_with(thresholds: Thresholds, samples: &[i16]) -> Vec<DetectorEvent> {
        let mut d = DtmfDetector::new(thresholds);
        let mut events = Vec::new();
        for chunk in samples.chunks(160) {
            d.process(chunk, |e| events.push(e));
        }
        d.process(&[0; 800], |e| events.push(e));
        events
    }

    fn digits(events: &[DetectorEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                DetectorEvent::End { digit, .. } => Some(*digit),
                DetectorEvent::Begin(_) => None,
            })
            .collect()
    }

    fn key(digit: char, amp: f64, ms: u32) -> Vec<f64> {
        let (r, c) = frequencies(digit).unwrap();
        pair(f64::from(r), amp, f64::from(c), amp, ms)
    }

    #[test]
    fn the_keypad_maps_to_q23_frequencies() {
        assert_eq!(frequencies('1'), Some((697.0, 1209.0)));
        assert_eq!(frequencies('0'), Some((941.0, 1336.0)));
        assert_eq!(frequencies('#'), Some((941.0, 1477.0)));
        assert_eq!(frequencies('d'), Some((941.0, 1633.0)));
        assert_eq!(frequencies('x'), None);
        assert_eq!(
            tone_spec('5', 100, 50).as_deref(),
            Some("!770+1336/100,!0/50")
        );
    }

    /// Every key, computed from the sine formula, is found once, with its
    /// begin before its end and about the length it was played.
    #[test]
    fn every_key_from_an_independent_formula() {
        for digit in "0123456789*#ABCD".chars() {
            let mut s = silence(30);
            s.extend(key(digit, 5000.0, 100));
            s.extend(silence(30));
            let events = detect(&pcm(&s));
            assert_eq!(events.len(), 2, "{digit}: {events:?}");
            assert_eq!(events[0], DetectorEvent::Begin(digit));
            let DetectorEvent::End {
                digit: d,
                duration_ms,
            } = events[1]
            else {
                panic!("{events:?}");
            };
            assert_eq!(d, digit);
            assert!(
                (75..=125).contains(&duration_ms),
                "{digit}: {duration_ms} ms"
            );
        }
    }

    /// Our own tone generator's keys (what `dtmf_mode=inband` sends), through
    /// G.711 µ-law and back, are found in order.
    #[test]
    fn our_generator_through_ulaw_is_heard() {
        let mut samples = Vec::new();
        for digit in "159#0*D".chars() {
            let mut src = ToneSource::new(&tone_spec(digit, 80, 60).unwrap(), 8000).unwrap();
            let mut frame = [0i16; 160];
            loop {
                let n = src.read_frame(&mut frame);
                if n == 0 {
                    break;
                }
                samples.extend_from_slice(&frame[..n]);
            }
        }
        let mut enc = Encoder::new(Codec::Ulaw);
        let mut dec = Decoder::new(Codec::Ulaw);
        let mut through = Vec::new();
        for chunk in samples.chunks(160) {
            let mut payload = [0u8; 160];
            let n = enc.encode(chunk, &mut payload);
            let mut out = [0i16; 160];
            let m = dec.decode(&payload[..n], &mut out);
            through.extend_from_slice(&out[..m]);
        }
        assert_eq!(digits(&detect(&through)), "159#0*D");
    }

    /// Keys under white noise 20 dB below each tone are still found.
    #[test]
    fn keys_survive_noise() {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        let mut s = Vec::new();
        for digit in "2580".chars() {
            s.extend(key(digit, 4000.0, 70));
            s.extend(silence(70));
        }
        // Uniform noise of peak a has power a²/3: 20 dB under a 4000 sine.
        let amp = (4000.0f64 * 4000.0 / 2.0 / 100.0 * 3.0).sqrt();
        let noisy: Vec<f64> = s.iter().map(|v| v + noise.next(amp)).collect();
        assert_eq!(digits(&detect(&pcm(&noisy))), "2580");
    }

    /// Asterisk's twist limits: the row may be up to 8 dB stronger than
    /// the column, the column up to 4 dB stronger than the row.
    #[test]
    fn twist_limits() {
        let db = |d: f64| 10f64.powf(d / 20.0);
        let with = |row_db: f64, col_db: f64| {
            let s = pair(852.0, 3000.0 * db(row_db), 1477.0, 3000.0 * db(col_db), 100);
            digits(&detect(&pcm(&s)))
        };
        assert_eq!(with(6.0, 0.0), "9");
        assert_eq!(with(10.0, 0.0), "");
        assert_eq!(with(0.0, 3.0), "9");
        assert_eq!(with(0.0, 6.0), "");
    }

    #[test]
    fn quiet_keys_are_ignored() {
        assert_eq!(digits(&detect(&pcm(&key('5', 100.0, 200)))), "");
        assert_eq!(digits(&detect(&pcm(&key('5', 400.0, 200)))), "5");
    }

    /// Digit timing: a 10 ms blip is no key; the same key twice with a
    /// 60 ms pause is two keys; two keys without a pause are two keys.
    #[test]
    fn digit_timing() {
        assert_eq!(digits(&detect(&pcm(&key('7', 5000.0, 10)))), "");
        let mut twice = key('3', 5000.0, 60);
        twice.extend(silence(60));
        twice.extend(key('3', 5000.0, 60));
        assert_eq!(digits(&detect(&pcm(&twice))), "33");
        let mut run = key('1', 5000.0, 80);
        run.extend(key('2', 5000.0, 80));
        let events = detect(&pcm(&run));
        assert_eq!(digits(&events), "12");
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, DetectorEvent::Begin(_)))
                .count(),
            2
        );
    }

    /// Audio that is not DTMF must never produce a key: call progress
    /// tones, single tones across the band, tones between two rows, a
    /// chord of three keypad frequencies, noise, and a voiced sound with
    /// harmonics that pass near keypad frequencies.
    #[test]
    fn non_dtmf_audio_does_not_trigger() {
        let mut cases: Vec<(String, Vec<i16>)> = Vec::new();
        for name in ["dial", "ring", "busy", "congestion", "info", "record"] {
            let mut src = ToneSource::named(name, 8000).unwrap();
            let mut s = Vec::new();
            let mut frame = [0i16; 160];
            for _ in 0..150 {
                let n = src.read_frame(&mut frame);
                s.extend_from_slice(&frame[..n]);
            }
            cases.push((name.to_owned(), s));
        }
        let mut f = 300.0;
        while f < 3400.0 {
            cases.push((format!("{f} Hz"), pcm(&pair(f, 8000.0, 0.0, 0.0, 300))));
            f += 37.0;
        }
        cases.push((
            "between rows".into(),
            pcm(&pair(733.0, 5000.0, 1270.0, 5000.0, 300)),
        ));
        let mut chord = pair(697.0, 4000.0, 1209.0, 4000.0, 300);
        for (v, x) in chord.iter_mut().zip(pair(1477.0, 4000.0, 0.0, 0.0, 300)) {
            *v += x;
        }
        cases.push(("three tones".into(), pcm(&chord)));
        let mut noise = Noise(42);
        cases.push((
            "noise".into(),
            pcm(&(0..16000).map(|_| noise.next(12000.0)).collect::<Vec<_>>()),
        ));
        // A vowel: harmonics of 110 Hz shaped by formants near 700 and 1200 Hz.
        let voiced: Vec<f64> = (0..16000)
            .map(|i| {
                let t = i as f64 / 8000.0;
                (1..30)
                    .map(|h| {
                        let f = 110.0 * f64::from(h);
                        let gain = 1.0 / (1.0 + ((f - 700.0) / 150.0).powi(2))
                            + 0.7 / (1.0 + ((f - 1200.0) / 200.0).powi(2));
                        3000.0 * gain * (2.0 * std::f64::consts::PI * f * t).sin()
                    })
                    .sum()
            })
            .collect();
        cases.push(("voiced".into(), pcm(&voiced)));
        // Without the relative-peak and total-energy tests some of these
        // would pass for keys: the thresholds are what rejects them.
        let lax = Thresholds {
            relative_peak: 1.0,
            to_total: 0.0,
            ..Thresholds::default()
        };
        let fooled = cases
            .iter()
            .filter(|(_, s)| !detect_with(lax, s).is_empty())
            .count();
        assert!(fooled > 0);
        for (what, samples) in cases {
            let events = detect(&samples);
            assert!(events.is_empty(), "{what}: {events:?}");
        }
    }

    /// Random audio never panics and never ends a key it did not begin.
    #[test]
    fn random_audio_is_safe() {
        let mut noise = Noise(7);
        let mut d = DtmfDetector::default();
        let mut open = None;
        for round in 0..200 {
            let len = (noise.next(1.0).abs() * 400.0) as usize;
            let mut s: Vec<i16> = (0..len).map(|_| noise.next(30000.0) as i16).collect();
            if round % 3 == 0 {
                s = pcm(&key('8', 6000.0, 50));
            }
            d.process(&s, |e| match e {
                DetectorEvent::Begin(k) => {
                    assert!(open.is_none());
                    open = Some(k);
                }
                DetectorEvent::End { digit, .. } => assert_eq!(open.take(), Some(digit)),
            });
        }
    }
}
