//! Fixed-capacity sample buffers that re-frame audio between packet sizes
//! (a 30 ms leg fed by a 20 ms leg, 20 ms ticks fed by any ptime) without
//! allocating after creation.

/// Capacity of a [`SampleFifo`]: a 60 ms 16 kHz packet plus a partial frame,
/// with room to spare.
pub(crate) const FIFO_CAP: usize = 4096;

/// A first-in first-out queue of samples with a fixed capacity; pushing past
/// it drops the oldest samples (the latency bound wins over completeness).
pub(crate) struct SampleFifo {
    buf: Box<[i16; FIFO_CAP]>,
    start: usize,
    len: usize,
}

impl SampleFifo {
    pub(crate) fn new() -> SampleFifo {
        SampleFifo {
            buf: Box::new([0; FIFO_CAP]),
            start: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.len = 0;
    }

    pub(crate) fn push(&mut self, samples: &[i16]) {
        let samples = &samples[samples.len().saturating_sub(FIFO_CAP)..];
        let overflow = (self.len + samples.len()).saturating_sub(FIFO_CAP);
        if overflow > 0 {
            self.start = (self.start + overflow) % FIFO_CAP;
            self.len -= overflow;
        }
        let mut end = (self.start + self.len) % FIFO_CAP;
        for &s in samples {
            self.buf[end] = s;
            end += 1;
            if end == FIFO_CAP {
                end = 0;
            }
        }
        self.len += samples.len();
    }

    /// Moves exactly `out.len()` samples out, or nothing if fewer are queued.
    pub(crate) fn pop_exact(&mut self, out: &mut [i16]) -> bool {
        if out.len() > self.len {
            return false;
        }
        for o in out.iter_mut() {
            *o = self.buf[self.start];
            self.start += 1;
            if self.start == FIFO_CAP {
                self.start = 0;
            }
        }
        self.len -= out.len();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reframes_and_wraps() {
        let mut f = SampleFifo::new();
        let mut out = [0i16; 240];
        let mut next = 0i16;
        let mut expect = 0i16;
        for _ in 0..100 {
            let chunk: Vec<i16> = (0..160).map(|i| next.wrapping_add(i)).collect();
            next = next.wrapping_add(160);
            f.push(&chunk);
            while f.pop_exact(&mut out) {
                for &s in &out {
                    assert_eq!(s, expect);
                    expect = expect.wrapping_add(1);
                }
            }
        }
        assert_eq!(f.len(), 16000 - 240 * 66);
    }

    #[test]
    fn overflow_drops_oldest() {
        let mut f = SampleFifo::new();
        f.push(&[1; FIFO_CAP]);
        f.push(&[2; 10]);
        assert_eq!(f.len(), FIFO_CAP);
        let mut out = vec![0i16; FIFO_CAP];
        assert!(f.pop_exact(&mut out));
        assert_eq!(out[FIFO_CAP - 11], 1);
        assert_eq!(out[FIFO_CAP - 10], 2);
        assert!(!f.pop_exact(&mut out[..1]));
    }
}
