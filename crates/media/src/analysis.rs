//! Small signal measurements: the power of one frequency (Goertzel) and of a
//! whole signal. The tests and benchmarks use them to check that a tone
//! survives a codec, a resampler or the relay; they are also the building
//! block for in-band tone detection.

/// Mean power of `samples` (mean of squares), in linear units squared.
pub fn signal_power(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    sum / samples.len() as f64
}

/// Power of the `freq` component of `samples` taken at `rate`, scaled so a
/// pure sine of amplitude `A` gives about `A²/2`, the same scale as
/// [`signal_power`]: their ratio is the share of the signal at `freq`.
pub fn goertzel_power(samples: &[i16], rate: u32, freq: f32) -> f64 {
    let n = samples.len();
    if n == 0 || rate == 0 {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * f64::from(freq) / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * mag2 / (n as f64 * n as f64)
}

/// `count` samples of a sine of `freq` Hz and peak `amplitude` at `rate`.
pub fn sine(rate: u32, freq: f32, amplitude: f32, count: usize) -> Vec<i16> {
    let w = 2.0 * std::f64::consts::PI * f64::from(freq) / f64::from(rate);
    (0..count)
        .map(|i| (f64::from(amplitude) * (w * i as f64).sin()).round() as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_matches_signal_power_for_a_pure_tone() {
        let s = sine(8000, 1000.0, 10000.0, 8000);
        let p = goertzel_power(&s, 8000, 1000.0);
        let total = signal_power(&s);
        assert!((p / total - 1.0).abs() < 0.01, "{p} vs {total}");
        assert!(goertzel_power(&s, 8000, 1500.0) < total * 1e-4);
    }
}
