//! The media side of a recording: a sink that copies each 20 ms frame into
//! a bounded channel (preallocated frames; a writer that falls seconds
//! behind loses frames, counted, rather than stalling the call) and never
//! blocks. Finishing the sink closes the channel, which tells the writer
//! that the recording is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use obelus_media::{AudioSink, MonitorSink};

/// Frames the channel to the writer holds: two seconds.
const QUEUE_FRAMES: usize = 100;
/// Samples in the largest frame (20 ms at 16 kHz).
const FRAME_MAX: usize = 320;

/// One 20 ms frame of each direction on its way to the writer. A mix (or
/// any single source) comes as `received`, with silence as `sent`.
pub struct Frames {
    received: [i16; FRAME_MAX],
    sent: [i16; FRAME_MAX],
    len: usize,
    padded: [bool; 2],
}

impl Frames {
    /// What the remote party sent (or the mix).
    pub fn received(&self) -> &[i16] {
        &self.received[..self.len]
    }

    /// What was sent to the remote party.
    pub fn sent(&self) -> &[i16] {
        &self.sent[..self.len]
    }

    /// Both directions, to change them in place (mute, volume).
    pub fn split_mut(&mut self) -> (&mut [i16], &mut [i16]) {
        (&mut self.received[..self.len], &mut self.sent[..self.len])
    }

    /// Which direction (`[received, sent]`) is only silence the media
    /// engine put beside the other, which had audio alone.
    pub fn padded(&self) -> [bool; 2] {
        self.padded
    }

    /// Samples per direction.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame carries no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The media side of a recording: copies frames into the channel.
pub struct Tap {
    rate: u32,
    tx: Option<SyncSender<Frames>>,
    dropped: Arc<AtomicU64>,
}

impl Tap {
    fn push(&mut self, received: &[i16], sent: Option<&[i16]>, padded: [bool; 2]) {
        let Some(tx) = self.tx.as_ref() else {
            return;
        };
        let len = sent
            .map_or(received.len(), |s| received.len().min(s.len()))
            .min(FRAME_MAX);
        let mut frames = Frames {
            received: [0; FRAME_MAX],
            sent: [0; FRAME_MAX],
            len,
            padded,
        };
        frames.received[..len].copy_from_slice(&received[..len]);
        if let Some(sent) = sent {
            frames.sent[..len].copy_from_slice(&sent[..len]);
        }
        match tx.try_send(frames) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => self.tx = None,
        }
    }
}

impl MonitorSink for Tap {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frames(&mut self, received: &[i16], sent: &[i16]) {
        self.push(received, Some(sent), [false, false]);
    }

    fn write_frames_padded(&mut self, received: &[i16], sent: &[i16], padded: [bool; 2]) {
        self.push(received, Some(sent), padded);
    }

    /// Closing the channel tells the writer that the recording is over.
    fn finish(&mut self) {
        self.tx = None;
    }
}

impl AudioSink for Tap {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frame(&mut self, samples: &[i16]) {
        self.push(samples, None, [false, false]);
    }

    fn finish(&mut self) {
        self.tx = None;
    }
}

/// A tap wanting audio at `rate`, the receiving end for the writer, and
/// the count of frames lost because the writer did not keep up.
pub fn tap(rate: u32) -> (Tap, Receiver<Frames>, Arc<AtomicU64>) {
    let (tx, rx) = sync_channel(QUEUE_FRAMES);
    let dropped = Arc::new(AtomicU64::new(0));
    let tap = Tap {
        rate,
        tx: Some(tx),
        dropped: Arc::clone(&dropped),
    };
    (tap, rx, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (mut tap, rx, dropped) = tap(8000);
        for _ in 0..QUEUE_FRAMES + 5 {
            tap.write_frames(&[1; 160], &[2; 160]);
        }
        assert_eq!(dropped.load(Ordering::Relaxed), 5);
        let first = rx.recv().unwrap();
        assert_eq!(first.len(), 160);
        assert_eq!((first.received()[0], first.sent()[159]), (1, 2));
        assert_eq!(first.padded(), [false, false]);
        MonitorSink::finish(&mut tap);
        let rest = rx.iter().count();
        assert_eq!(rest, QUEUE_FRAMES - 1, "queued frames survive the finish");
    }

    #[test]
    fn a_single_source_comes_as_received_beside_silence() {
        let (mut tap, rx, _) = tap(16000);
        tap.write_frame(&[7; 320]);
        AudioSink::finish(&mut tap);
        let frames = rx.recv().unwrap();
        assert_eq!(frames.len(), 320);
        assert!(frames.received().iter().all(|&s| s == 7));
        assert!(frames.sent().iter().all(|&s| s == 0));
        assert!(rx.recv().is_err(), "finished: the channel is closed");
    }
}
