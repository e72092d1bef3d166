//! Sum-minus-self mixing of 20 ms frames of 16 kHz linear audio.
//!
//! A conference sends every participant the sum of everybody else. With a
//! running 32-bit total that is one addition per speaker and one subtraction
//! per listener-who-spoke, whatever the number of participants; listeners who
//! said nothing all receive the same full sum, so it is encoded once per codec
//! (the engine's mixer does that). Saturation happens only on the way out.

#[inline]
fn clip(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// Samples in one 20 ms frame at 16 kHz, the mixing rate.
pub const MIX_FRAME: usize = 320;

/// The running sum of one mixing round; keep one per conference and
/// [`MixCore::clear`] it every tick, nothing is allocated.
#[derive(Clone)]
pub struct MixCore {
    sum: [i32; MIX_FRAME],
    speakers: usize,
}

impl Default for MixCore {
    fn default() -> Self {
        MixCore::new()
    }
}

impl MixCore {
    /// An empty (silent) mix.
    pub fn new() -> MixCore {
        MixCore {
            sum: [0; MIX_FRAME],
            speakers: 0,
        }
    }

    /// Starts a new round.
    pub fn clear(&mut self) {
        self.sum = [0; MIX_FRAME];
        self.speakers = 0;
    }

    /// Adds one speaker's frame (shorter frames are taken as padded with silence).
    pub fn add(&mut self, frame: &[i16]) {
        for (s, &x) in self.sum.iter_mut().zip(frame) {
            *s += i32::from(x);
        }
        self.speakers += 1;
    }

    /// How many frames were added this round.
    pub fn speakers(&self) -> usize {
        self.speakers
    }

    /// Writes the saturated sum of everybody: what a silent listener hears.
    pub fn total_into(&self, out: &mut [i16]) {
        for (o, &s) in out.iter_mut().zip(&self.sum) {
            *o = clip(s);
        }
    }

    /// Writes the saturated sum of everybody but `own`, which must be the
    /// frame this participant [`MixCore::add`]ed.
    pub fn minus_into(&self, own: &[i16], out: &mut [i16]) {
        let n = own.len().min(MIX_FRAME);
        let (with_own, rest) = self.sum.split_at(n);
        let (out_own, out_rest) = out.split_at_mut(out.len().min(n));
        // Straight zips over fixed-length slices so the loop vectorises.
        for ((o, &s), &m) in out_own.iter_mut().zip(with_own).zip(own) {
            *o = clip(s - i32::from(m));
        }
        for (o, &s) in out_rest.iter_mut().zip(rest) {
            *o = clip(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_minus_self() {
        let a = [1000i16; MIX_FRAME];
        let b = [-300i16; MIX_FRAME];
        let c = [50i16; MIX_FRAME];
        let mut m = MixCore::new();
        for f in [&a, &b, &c] {
            m.add(f);
        }
        assert_eq!(m.speakers(), 3);
        let mut out = [0i16; MIX_FRAME];
        m.minus_into(&a, &mut out);
        assert!(out.iter().all(|&s| s == -250));
        m.minus_into(&b, &mut out);
        assert!(out.iter().all(|&s| s == 1050));
        m.total_into(&mut out);
        assert!(out.iter().all(|&s| s == 750));
        m.clear();
        m.total_into(&mut out);
        assert!(out.iter().all(|&s| s == 0));
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let loud = [30000i16; MIX_FRAME];
        let mut m = MixCore::new();
        m.add(&loud);
        m.add(&loud);
        m.add(&[-5i16; MIX_FRAME]);
        let mut out = [0i16; MIX_FRAME];
        m.total_into(&mut out);
        assert_eq!(out[0], i16::MAX);
        m.minus_into(&[-5i16; MIX_FRAME], &mut out);
        assert_eq!(out[0], i16::MAX);
        let mut n = MixCore::new();
        n.add(&[i16::MIN; MIX_FRAME]);
        n.add(&[i16::MIN; MIX_FRAME]);
        n.total_into(&mut out);
        assert_eq!(out[5], i16::MIN);
    }
}
