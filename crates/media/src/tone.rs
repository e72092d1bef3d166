//! Tone generation from Asterisk `indications.conf` syntax.
//!
//! A tone is a comma-separated list of parts `[!]f1[+f2|*f2][/ms]`: `+` sums
//! two sines, `*` modulates the first by the second, a missing duration
//! plays for ever, frequency 0 is silence. The list repeats; parts marked
//! `!` play only on the first pass, so a tone made only of `!` parts plays
//! once and ends. Examples: `440+480/2000,0/4000` (US ringback),
//! `480+620/500,0/500` (busy), `!1000/500` (a beep).

use crate::audio::{AudioSource, frame_len};
use crate::error::MediaError;

/// Peak amplitude of one sine component (about −15 dBFS), so a dual tone
/// stays clear of clipping like Asterisk's playtones.
const AMPLITUDE: f64 = 6000.0;

/// The US tones of Asterisk's `indications.conf`, by name.
const NAMED: &[(&str, &str)] = &[
    ("dial", "350+440"),
    ("ring", "440+480/2000,0/4000"),
    ("busy", "480+620/500,0/500"),
    ("congestion", "480+620/250,0/250"),
    ("beep", "!1000/500"),
    ("callwaiting", "440/300,0/10000"),
    (
        "dialrecall",
        "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
    ),
    ("record", "1400/500,0/15000"),
    ("info", "!950/330,!1400/330,!1800/330,0"),
];

/// The indications string of a named tone (`ring`, `busy`, `congestion`,
/// `dial`, `beep`, `callwaiting`, `dialrecall`, `record`, `info`).
pub fn named_tone(name: &str) -> Option<&'static str> {
    NAMED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, s)| *s)
}

/// One part of a tone specification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TonePart {
    /// First frequency in Hz (0 = silence).
    pub freq1: f32,
    /// Second frequency in Hz (0 = none).
    pub freq2: f32,
    /// `f1*f2`: amplitude modulation instead of a sum.
    pub modulate: bool,
    /// Duration in ms; `None` plays for ever.
    pub duration_ms: Option<u32>,
    /// `!`: played on the first pass only.
    pub once: bool,
}

/// Parses an indications tone string into its parts.
pub fn parse_tone(spec: &str) -> Result<Vec<TonePart>, MediaError> {
    let bad = |reason| MediaError::BadTone {
        spec: spec.to_string(),
        reason,
    };
    let mut parts = Vec::new();
    for raw in spec.split(',') {
        let mut p = raw.trim();
        if p.is_empty() {
            continue;
        }
        let once = p.starts_with('!');
        if once {
            p = &p[1..];
        }
        let (freqs, duration_ms) = match p.split_once('/') {
            // Like Asterisk, a zero duration means "for ever".
            Some((f, d)) => (
                f,
                Some(
                    d.trim()
                        .parse::<u32>()
                        .map_err(|_| bad("duration is not a number"))?,
                )
                .filter(|&ms| ms > 0),
            ),
            None => (p, None),
        };
        if freqs.starts_with(['M', 'm']) {
            return Err(bad("MIDI note tones are not supported"));
        }
        let (f1, f2, modulate) = if let Some((a, b)) = freqs.split_once('+') {
            (a, Some(b), false)
        } else if let Some((a, b)) = freqs.split_once('*') {
            (a, Some(b), true)
        } else {
            (freqs, None, false)
        };
        let freq = |s: &str| -> Result<f32, MediaError> {
            let f = s
                .trim()
                .parse::<f32>()
                .map_err(|_| bad("frequency is not a number"))?;
            if !(0.0..=20000.0).contains(&f) {
                return Err(bad("frequency out of range"));
            }
            Ok(f)
        };
        let freq1 = freq(f1)?;
        let freq2 = match f2 {
            Some(s) => freq(s)?,
            None => 0.0,
        };
        parts.push(TonePart {
            freq1,
            freq2,
            modulate,
            duration_ms,
            once,
        });
    }
    if parts.is_empty() {
        return Err(bad("no tone parts"));
    }
    Ok(parts)
}

/// A recursive sine oscillator: one multiply per sample, no table, no drift
/// that matters over a tone part (phase restarts with each part).
#[derive(Debug, Clone, Copy, Default)]
struct Osc {
    coeff: f64,
    s1: f64,
    s2: f64,
}

impl Osc {
    fn new(freq: f32, rate: u32) -> Osc {
        if freq <= 0.0 {
            return Osc::default();
        }
        let w = 2.0 * std::f64::consts::PI * f64::from(freq) / f64::from(rate);
        // Start so the first output is sin(0), the next sin(w).
        Osc {
            coeff: 2.0 * w.cos(),
            s1: -w.sin(),
            s2: -(2.0 * w).sin(),
        }
    }

    #[inline]
    fn next(&mut self) -> f64 {
        let s = self.coeff * self.s1 - self.s2;
        self.s2 = self.s1;
        self.s1 = s;
        s
    }
}

/// An [`AudioSource`] playing an indications tone, at 8 or 16 kHz.
pub struct ToneSource {
    rate: u32,
    parts: Vec<TonePart>,
    index: usize,
    /// Samples already played of the current part.
    pos: u64,
    first_pass: bool,
    done: bool,
    osc: [Osc; 2],
}

impl ToneSource {
    /// A source for an indications string such as `440+480/2000,0/4000`.
    pub fn new(spec: &str, rate: u32) -> Result<ToneSource, MediaError> {
        let parts = parse_tone(spec)?;
        let rate = if rate == 16000 { 16000 } else { 8000 };
        let mut t = ToneSource {
            rate,
            parts,
            index: 0,
            pos: 0,
            first_pass: true,
            done: false,
            osc: [Osc::default(); 2],
        };
        t.start_part();
        Ok(t)
    }

    /// A source for a tone given by name ([`named_tone`]) or, failing that,
    /// by an indications string.
    pub fn named(name_or_spec: &str, rate: u32) -> Result<ToneSource, MediaError> {
        ToneSource::new(named_tone(name_or_spec).unwrap_or(name_or_spec), rate)
    }

    fn start_part(&mut self) {
        let p = self.parts[self.index];
        self.pos = 0;
        self.osc = [Osc::new(p.freq1, self.rate), Osc::new(p.freq2, self.rate)];
    }

    /// Moves to the next part to play, wrapping to the first repeatable part.
    fn advance(&mut self) {
        loop {
            self.index += 1;
            if self.index == self.parts.len() {
                self.first_pass = false;
                match self.parts.iter().position(|p| !p.once) {
                    Some(i) => self.index = i,
                    None => {
                        self.done = true;
                        return;
                    }
                }
            }
            if self.first_pass || !self.parts[self.index].once {
                break;
            }
        }
        self.start_part();
    }
}

impl AudioSource for ToneSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let want = out.len().min(frame_len(self.rate));
        let mut n = 0;
        while n < want && !self.done {
            let p = self.parts[self.index];
            let part_len = p
                .duration_ms
                .map(|ms| u64::from(ms) * u64::from(self.rate) / 1000);
            if part_len.is_some_and(|len| self.pos >= len) {
                self.advance();
                continue;
            }
            let run = match part_len {
                Some(len) => ((len - self.pos) as usize).min(want - n),
                None => want - n,
            };
            for o in &mut out[n..n + run] {
                let a = self.osc[0].next();
                let b = self.osc[1].next();
                let v = if p.modulate {
                    a * (1.0 + b) * 0.5
                } else {
                    a + b
                };
                *o = (v * AMPLITUDE).round() as i16;
            }
            n += run;
            self.pos += run as u64;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{goertzel_power, signal_power};

    fn collect(t: &mut ToneSource, frames: usize) -> Vec<i16> {
        let mut all = Vec::new();
        for _ in 0..frames {
            let mut f = [0i16; 320];
            let len = frame_len(t.sample_rate());
            let n = t.read_frame(&mut f[..len]);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&f[..n]);
        }
        all
    }

    #[test]
    fn parses_indications() {
        let p = parse_tone("440+480/2000,0/4000").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            TonePart {
                freq1: 440.0,
                freq2: 480.0,
                modulate: false,
                duration_ms: Some(2000),
                once: false
            }
        );
        assert_eq!(p[1].freq1, 0.0);
        let beep = parse_tone("!1000/500").unwrap();
        assert!(beep[0].once);
        assert!(parse_tone("425*25").unwrap()[0].modulate);
        assert_eq!(parse_tone("350+440").unwrap()[0].duration_ms, None);
        for bad in ["", "abc/100", "440/x", "M60/100", "99999"] {
            assert!(parse_tone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ringback_cadence_and_frequencies() {
        let mut t = ToneSource::named("ring", 8000).unwrap();
        let s = collect(&mut t, 400); // 8 s
        assert_eq!(s.len(), 64000);
        let on = &s[800..15200]; // inside the first 2 s burst
        let p440 = goertzel_power(on, 8000, 440.0);
        let p480 = goertzel_power(on, 8000, 480.0);
        let total = signal_power(on);
        assert!(
            p440 > 0.4 * total && p480 > 0.4 * total,
            "{p440} {p480} {total}"
        );
        assert_eq!(signal_power(&s[16000..48000]), 0.0, "4 s of silence");
        assert!(signal_power(&s[48000..64000]) > 0.2 * total, "repeats");
    }

    #[test]
    fn beep_plays_once_at_16k() {
        let mut t = ToneSource::new("!1000/500", 16000).unwrap();
        let s = collect(&mut t, 100);
        assert_eq!(s.len(), 8000);
        let p = goertzel_power(&s, 16000, 1000.0);
        assert!(p > 0.95 * signal_power(&s));
        assert!((p - AMPLITUDE * AMPLITUDE / 2.0).abs() < 0.05 * p);
        let mut f = [0i16; 320];
        assert_eq!(t.read_frame(&mut f), 0);
    }

    #[test]
    fn once_parts_are_skipped_on_repeat() {
        let mut t = ToneSource::new("!1000/20,500/20", 8000).unwrap();
        let s = collect(&mut t, 4);
        let f = |r: std::ops::Range<usize>, hz| {
            goertzel_power(&s[r.clone()], 8000, hz) / signal_power(&s[r])
        };
        assert!(f(0..160, 1000.0) > 0.9);
        assert!(f(160..320, 500.0) > 0.9);
        assert!(f(320..480, 500.0) > 0.9);
        assert!(f(480..640, 500.0) > 0.9);
    }

    #[test]
    fn named_tones_all_parse() {
        for (name, _) in NAMED {
            assert!(ToneSource::named(name, 8000).is_ok(), "{name}");
        }
        assert!(named_tone("Busy").is_some());
    }
}
