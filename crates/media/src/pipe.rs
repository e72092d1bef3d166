//! Audio pipes: a lock-free single-producer single-consumer queue of
//! samples that carries audio between two places of the media plane that
//! may run on different workers (a snooped call and its snoop channel).
//!
//! The writer and the reader each own one end and never wait for the
//! other: samples are atomics in a ring, and the two positions are
//! published with release/acquire ordering, so no lock and no `unsafe` is
//! needed. A full pipe drops what does not fit (the reader is late: its
//! latency bound wins over completeness); an empty one reads as silence
//! through [`PipeSource`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI16, AtomicUsize, Ordering};

use crate::audio::{AudioSink, AudioSource};

struct Ring {
    samples: Box<[AtomicI16]>,
    /// Samples ever read (the reader's position).
    read: AtomicUsize,
    /// Samples ever written (the writer's position).
    written: AtomicUsize,
}

/// The writing end of an audio pipe.
pub struct PipeWriter {
    ring: Arc<Ring>,
}

/// The reading end of an audio pipe.
pub struct PipeReader {
    ring: Arc<Ring>,
}

/// A pipe holding at most `capacity` samples (at least one).
pub fn audio_pipe(capacity: usize) -> (PipeWriter, PipeReader) {
    let samples = (0..capacity.max(1)).map(|_| AtomicI16::new(0)).collect();
    let ring = Arc::new(Ring {
        samples,
        read: AtomicUsize::new(0),
        written: AtomicUsize::new(0),
    });
    (
        PipeWriter {
            ring: Arc::clone(&ring),
        },
        PipeReader { ring },
    )
}

impl PipeWriter {
    /// Appends as many of `samples` as fit; returns how many did.
    pub fn write(&mut self, samples: &[i16]) -> usize {
        let ring = &*self.ring;
        let cap = ring.samples.len();
        let written = ring.written.load(Ordering::Relaxed);
        let read = ring.read.load(Ordering::Acquire);
        let free = cap - written.wrapping_sub(read).min(cap);
        let n = samples.len().min(free);
        for (i, &s) in samples[..n].iter().enumerate() {
            ring.samples[written.wrapping_add(i) % cap].store(s, Ordering::Relaxed);
        }
        ring.written
            .store(written.wrapping_add(n), Ordering::Release);
        n
    }

    /// Whether the reading end is gone.
    pub fn is_closed(&self) -> bool {
        Arc::strong_count(&self.ring) == 1
    }
}

impl PipeReader {
    /// Samples waiting.
    pub fn len(&self) -> usize {
        let ring = &*self.ring;
        let written = ring.written.load(Ordering::Acquire);
        written.wrapping_sub(ring.read.load(Ordering::Relaxed))
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves up to `out.len()` samples out; returns how many.
    pub fn read(&mut self, out: &mut [i16]) -> usize {
        let ring = &*self.ring;
        let cap = ring.samples.len();
        let read = ring.read.load(Ordering::Relaxed);
        let n = out.len().min(self.len());
        for (i, o) in out[..n].iter_mut().enumerate() {
            *o = ring.samples[read.wrapping_add(i) % cap].load(Ordering::Relaxed);
        }
        ring.read.store(read.wrapping_add(n), Ordering::Release);
        n
    }

    /// Drops the oldest samples so that at most `keep` wait (a writer
    /// running ahead of the reader's clock must not build up latency).
    pub fn trim(&mut self, keep: usize) {
        let extra = self.len().saturating_sub(keep);
        if extra > 0 {
            let ring = &*self.ring;
            let read = ring.read.load(Ordering::Relaxed);
            ring.read.store(read.wrapping_add(extra), Ordering::Release);
        }
    }

    /// Whether the writing end is gone.
    pub fn is_closed(&self) -> bool {
        Arc::strong_count(&self.ring) == 1
    }
}

/// Plays what arrives in a pipe: one 20 ms frame per tick, silence while
/// the pipe is empty, never finished (it is stopped by its owner).
pub struct PipeSource {
    reader: PipeReader,
    rate: u32,
}

impl PipeSource {
    /// A source of `rate` Hz samples (8000 or 16000) read from `reader`.
    pub fn new(reader: PipeReader, rate: u32) -> PipeSource {
        PipeSource { reader, rate }
    }
}

impl AudioSource for PipeSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        // Up to 120 ms may wait (a writer that delivers in bursts); more
        // is latency the listener would never catch up on.
        self.reader.trim(out.len() * 6);
        let n = self.reader.read(out);
        out[n..].fill(0);
        out.len()
    }
}

/// Puts what a stream receives into a pipe.
pub struct PipeSink {
    writer: PipeWriter,
    rate: u32,
}

impl PipeSink {
    /// A sink that wants `rate` Hz samples (8000 or 16000) for `writer`.
    pub fn new(writer: PipeWriter, rate: u32) -> PipeSink {
        PipeSink { writer, rate }
    }
}

impl AudioSink for PipeSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frame(&mut self, samples: &[i16]) {
        self.writer.write(samples);
    }

    fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_come_out_in_order_across_the_wrap() {
        let (mut w, mut r) = audio_pipe(5);
        let mut out = [0i16; 8];
        for round in 0..10i16 {
            assert_eq!(w.write(&[round, round + 1, round + 2]), 3);
            assert_eq!(r.len(), 3);
            assert_eq!(r.read(&mut out), 3);
            assert_eq!(&out[..3], &[round, round + 1, round + 2]);
        }
        assert!(r.is_empty());
    }

    #[test]
    fn a_full_pipe_drops_what_does_not_fit_and_trim_bounds_latency() {
        let (mut w, mut r) = audio_pipe(4);
        assert_eq!(w.write(&[1, 2, 3]), 3);
        assert_eq!(w.write(&[4, 5, 6]), 1);
        r.trim(2);
        let mut out = [0i16; 4];
        assert_eq!(r.read(&mut out), 2);
        assert_eq!(&out[..2], &[3, 4]);
        assert!(!w.is_closed());
        drop(r);
        assert!(w.is_closed());
    }

    #[test]
    fn the_source_pads_with_silence_and_never_ends() {
        let (mut w, r) = audio_pipe(1000);
        let mut src = PipeSource::new(r, 8000);
        w.write(&[7; 100]);
        let mut frame = [1i16; 160];
        assert_eq!(src.read_frame(&mut frame), 160);
        assert!(frame[..100].iter().all(|&s| s == 7));
        assert!(frame[100..].iter().all(|&s| s == 0));
        assert_eq!(src.read_frame(&mut frame), 160);
        assert!(frame.iter().all(|&s| s == 0));
    }

    #[test]
    fn writer_and_reader_on_two_threads() {
        let (mut w, mut r) = audio_pipe(64);
        let writer = std::thread::spawn(move || {
            let mut next = 0i16;
            while next < 10_000 {
                let chunk: Vec<i16> = (next..next.saturating_add(7).min(10_000)).collect();
                let n = w.write(&chunk);
                next += n as i16;
                std::thread::yield_now();
            }
        });
        let mut expected = 0i16;
        let mut out = [0i16; 16];
        while expected < 10_000 {
            let n = r.read(&mut out);
            for &s in &out[..n] {
                assert_eq!(s, expected);
                expected += 1;
            }
            std::thread::yield_now();
        }
        writer.join().expect("writer");
    }
}
