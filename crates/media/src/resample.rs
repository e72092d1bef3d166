//! 8 kHz <-> 16 kHz resampling with a half-band FIR, in fixed point.
//!
//! A half-band low-pass (cut-off at a quarter of the high rate) has every
//! other coefficient zero, so decimating by two costs 16 multiply-adds per
//! output and interpolating by two costs 32 per input pair, with no
//! allocation: the delay line lives in the struct. 63 Blackman-windowed sinc
//! taps give more than 70 dB of stop-band rejection, enough that a 6 kHz tone
//! does not alias into the narrow band, and a flat voice band up to about
//! 3.3 kHz.

use std::sync::LazyLock;

/// Filter length (4·16 − 1: a half-band filter whose end taps are non-zero).
const TAPS: usize = 63;
const CENTER: usize = TAPS / 2;
/// Fixed-point scale of the coefficients (Q15).
const Q: i64 = 1 << 15;

/// The non-zero off-centre coefficients `h[CENTER ± (2i+1)]`, Q15, `i` in
/// `0..16`, nearest the centre first.
static SIDE: LazyLock<[i64; 16]> = LazyLock::new(|| {
    let mut h = [0f64; 16];
    for (i, c) in h.iter_mut().enumerate() {
        let k = (2 * i + 1) as f64; // distance from centre
        let x = std::f64::consts::PI * k / 2.0;
        let sinc = x.sin() / x;
        let n = CENTER as f64 + k; // window position
        let m = (TAPS - 1) as f64;
        let w = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * n / m).cos()
            + 0.08 * (4.0 * std::f64::consts::PI * n / m).cos();
        *c = 0.5 * sinc * w;
    }
    // Normalise for unity DC gain: the side taps of both sides must sum to
    // 0.5 (the centre tap is the other 0.5), so each side to 0.25.
    let one_side: f64 = h.iter().sum();
    let mut q = [0i64; 16];
    for (o, c) in q.iter_mut().zip(h) {
        *o = (c * 0.25 / one_side * Q as f64).round() as i64;
    }
    q
});

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Same,
    Up,
    Down,
}

/// A streaming 2:1 or 1:2 resampler (or a pass-through for equal rates).
/// Keep one per direction of a stream: it carries the filter history across
/// frames so frame edges do not click.
pub struct Resampler {
    mode: Mode,
    /// Delay line written twice (at `pos` and `pos + len`) so the last `len`
    /// samples are always one contiguous slice.
    line: [i32; 2 * TAPS],
    pos: usize,
    /// Down mode: whether the next input sample completes an output pair.
    odd: bool,
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz. Only 8000 and 16000 are
    /// supported (the rates of the codecs here); `None` otherwise.
    pub fn new(from: u32, to: u32) -> Option<Resampler> {
        let mode = match (from, to) {
            (a, b) if a == b && (a == 8000 || a == 16000) => Mode::Same,
            (8000, 16000) => Mode::Up,
            (16000, 8000) => Mode::Down,
            _ => return None,
        };
        LazyLock::force(&SIDE);
        Some(Resampler {
            mode,
            line: [0; 2 * TAPS],
            pos: 0,
            odd: false,
        })
    }

    /// The resampler between two codecs' audio rates. Every codec runs at
    /// 8 or 16 kHz, so this cannot fail.
    pub fn for_codecs(from: crate::Codec, to: crate::Codec) -> Resampler {
        let mode = match (from.sample_rate(), to.sample_rate()) {
            (8000, 16000) => Mode::Up,
            (16000, 8000) => Mode::Down,
            _ => Mode::Same,
        };
        LazyLock::force(&SIDE);
        Resampler {
            mode,
            line: [0; 2 * TAPS],
            pos: 0,
            odd: false,
        }
    }

    /// A resampler between two rates where anything but 16000 counts as
    /// 8000 (what [`crate::AudioSource`] and [`crate::AudioSink`] promise).
    pub fn for_rates(from: u32, to: u32) -> Resampler {
        let norm = |r: u32| {
            if r == 16000 {
                crate::Codec::Slin16
            } else {
                crate::Codec::Slin8
            }
        };
        Resampler::for_codecs(norm(from), norm(to))
    }

    /// Output samples produced for `input` samples (upper bound in Down mode).
    pub fn output_len(&self, input: usize) -> usize {
        match self.mode {
            Mode::Same => input,
            Mode::Up => input * 2,
            Mode::Down => input.div_ceil(2),
        }
    }

    /// Clears the filter history (after a codec change or a gap).
    pub fn reset(&mut self) {
        self.line = [0; 2 * TAPS];
        self.pos = 0;
        self.odd = false;
    }

    fn push(&mut self, len: usize, s: i32) {
        self.line[self.pos] = s;
        self.line[self.pos + len] = s;
        self.pos += 1;
        if self.pos == len {
            self.pos = 0;
        }
    }

    /// The last `len` samples, oldest first.
    fn window(&self, len: usize) -> &[i32] {
        &self.line[self.pos..self.pos + len]
    }

    /// Resamples `input` into `out`, returns the samples written. Input that
    /// would not fit in `out` is dropped (size `out` with [`Self::output_len`]).
    pub fn process(&mut self, input: &[i16], out: &mut [i16]) -> usize {
        let side = &*SIDE;
        match self.mode {
            Mode::Same => {
                let n = input.len().min(out.len());
                out[..n].copy_from_slice(&input[..n]);
                n
            }
            Mode::Up => {
                // Zero-stuffed interpolation: the polyphase branch on the side
                // taps gives the new sample between inputs, the centre tap a
                // delayed copy. Gain 2 restores the level lost to stuffing.
                const LEN: usize = 32;
                let mut written = 0;
                for &s in input {
                    if written + 2 > out.len() {
                        break;
                    }
                    self.push(LEN, i32::from(s));
                    let w = self.window(LEN);
                    // w[LEN-1] is the newest input; side tap i pairs inputs
                    // at distance i and i+1 from the centre of the window.
                    let mut acc: i64 = 0;
                    for (i, &c) in side.iter().enumerate() {
                        let a = i64::from(w[LEN / 2 - 1 - i]);
                        let b = i64::from(w[LEN / 2 + i]);
                        acc += c * (a + b);
                    }
                    let interp = (2 * acc + Q / 2) >> 15;
                    out[written] = saturate(interp);
                    out[written + 1] = w[LEN / 2] as i16;
                    written += 2;
                }
                written
            }
            Mode::Down => {
                let mut written = 0;
                for &s in input {
                    self.push(TAPS, i32::from(s));
                    self.odd = !self.odd;
                    if self.odd {
                        continue;
                    }
                    if written >= out.len() {
                        break;
                    }
                    let w = self.window(TAPS);
                    let mut acc: i64 = i64::from(w[CENTER]) * (Q / 2);
                    for (i, &c) in side.iter().enumerate() {
                        let k = 2 * i + 1;
                        acc += c * (i64::from(w[CENTER - k]) + i64::from(w[CENTER + k]));
                    }
                    out[written] = saturate((acc + Q / 2) >> 15);
                    written += 1;
                }
                written
            }
        }
    }
}

#[inline]
fn saturate(v: i64) -> i16 {
    v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{goertzel_power, signal_power, sine};

    fn run(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
        let mut all = Vec::new();
        for chunk in input.chunks(160) {
            let mut out = [0i16; 320];
            let n = r.process(chunk, &mut out);
            all.extend_from_slice(&out[..n]);
        }
        all
    }

    #[test]
    fn rejects_other_rates() {
        assert!(Resampler::new(8000, 48000).is_none());
        assert!(Resampler::new(11025, 8000).is_none());
    }

    #[test]
    fn dc_gain_is_unity() {
        let mut up = Resampler::new(8000, 16000).unwrap();
        let out = run(&mut up, &[10000; 800]);
        assert!(
            out[200..].iter().all(|&s| (s - 10000).abs() <= 2),
            "{:?}",
            &out[200..210]
        );
        let mut down = Resampler::new(16000, 8000).unwrap();
        let out = run(&mut down, &[-10000; 800]);
        assert!(out[100..].iter().all(|&s| (s + 10000).abs() <= 2));
    }

    #[test]
    fn upsampling_keeps_1khz() {
        let mut up = Resampler::new(8000, 16000).unwrap();
        let out = run(&mut up, &sine(8000, 1000.0, 10000.0, 8000));
        assert_eq!(out.len(), 16000);
        let tail = &out[1600..];
        let p = goertzel_power(tail, 16000, 1000.0);
        assert!(p > 0.98 * signal_power(tail));
        assert!((p - 0.5e8).abs() < 0.05e8, "level {p}");
        // The image at 8 kHz - 1 kHz = 7 kHz must be suppressed.
        assert!(goertzel_power(tail, 16000, 7000.0) < p * 1e-5);
    }

    #[test]
    fn downsampling_keeps_1khz_and_rejects_above_nyquist() {
        let mut down = Resampler::new(16000, 8000).unwrap();
        let out = run(&mut down, &sine(16000, 1000.0, 10000.0, 16000));
        assert_eq!(out.len(), 8000);
        let p = goertzel_power(&out[800..], 8000, 1000.0);
        assert!((p - 0.5e8).abs() < 0.05e8, "level {p}");

        // 6 kHz cannot exist at 8 kHz; without filtering it aliases to 2 kHz.
        let mut down = Resampler::new(16000, 8000).unwrap();
        let out = run(&mut down, &sine(16000, 6000.0, 10000.0, 16000));
        let alias = goertzel_power(&out[800..], 8000, 2000.0);
        assert!(alias < 0.5e8 * 1e-5, "alias {alias}");
        assert!(signal_power(&out[800..]) < 0.5e8 * 1e-5);
    }

    #[test]
    fn odd_chunks_are_seamless() {
        let input = sine(16000, 440.0, 8000.0, 1000);
        let mut a = Resampler::new(16000, 8000).unwrap();
        let mut whole = [0i16; 600];
        let n = a.process(&input, &mut whole);
        let mut b = Resampler::new(16000, 8000).unwrap();
        let mut parts = Vec::new();
        for chunk in input.chunks(77) {
            let mut out = [0i16; 100];
            let m = b.process(chunk, &mut out);
            parts.extend_from_slice(&out[..m]);
        }
        assert_eq!(&whole[..n], &parts[..]);
    }
}
