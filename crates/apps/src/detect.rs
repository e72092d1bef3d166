//! Running a sans-IO detector on a channel's audio, as Asterisk hangs a
//! manipulate audiohook on the channel (`TALK_DETECT`, `TONE_DETECT`).
//!
//! The detector is a [`MonitorSink`] on the channel's media stream: the
//! media thread hands it both directions in 20 ms frames and it reports
//! what it finds on a small bounded queue (findings are rare; were the
//! queue ever full one would be dropped, never the media thread held up).
//! A task reads the queue and does what takes the channel: publishing
//! events, jumping in the dialplan. A channel without detectors pays
//! nothing: the stream has no tap and the media thread does no work for
//! it. The task ends when the detector is detached or the stream closes
//! (the call ended), which drops the queue's sending half.
//!
//! [`Attached`] channels are kept by uniqueid in a [`PerChannel`] list,
//! what Asterisk keeps as a datastore on the channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use obelus_media::{MonitorSink, Stream};
use tokio::sync::mpsc;

/// Findings a detector may have queued before the task reads them.
const FINDINGS: usize = 32;

/// A detector fed on the media thread.
pub(crate) trait Analyzer: Send + 'static {
    /// What it reports.
    type Finding: Send + 'static;

    /// The sample rate it wants: 8000 or 16000.
    fn rate(&self) -> u32;

    /// One frame of each direction: `received` is what the channel's party
    /// says, `sent` what it hears. Findings go to `report`.
    fn analyze(&mut self, received: &[i16], sent: &[i16], report: &mut dyn FnMut(Self::Finding));
}

/// The monitor sink around an analyzer.
struct Sink<A: Analyzer> {
    analyzer: A,
    findings: mpsc::Sender<A::Finding>,
}

impl<A: Analyzer> MonitorSink for Sink<A> {
    fn sample_rate(&self) -> u32 {
        self.analyzer.rate()
    }

    fn write_frames(&mut self, received: &[i16], sent: &[i16]) {
        let Sink { analyzer, findings } = self;
        analyzer.analyze(received, sent, &mut |finding| {
            if findings.try_send(finding).is_err() {
                tracing::debug!("detector finding dropped: its task lags or ended");
            }
        });
    }

    fn finish(&mut self) {}
}

/// A detector on a stream, until [`Attached::detach`] or the stream's end.
#[derive(Debug)]
pub(crate) struct Attached {
    stream: Weak<Stream>,
    monitor: u64,
}

impl Attached {
    /// Takes the detector off the stream; its findings queue then closes.
    pub(crate) fn detach(&self) {
        if let Some(stream) = self.stream.upgrade() {
            stream.stop_monitor(self.monitor);
        }
    }
}

/// Attaches `analyzer` to `stream`; its findings arrive on the receiver.
pub(crate) fn attach<A: Analyzer>(
    stream: &Arc<Stream>,
    analyzer: A,
) -> (Attached, mpsc::Receiver<A::Finding>) {
    let (tx, rx) = mpsc::channel(FINDINGS);
    let monitor = stream.monitor(Box::new(Sink {
        analyzer,
        findings: tx,
    }));
    (
        Attached {
            stream: Arc::downgrade(stream),
            monitor,
        },
        rx,
    )
}

/// One entry per channel (by uniqueid) for one kind of detector. Each
/// entry has a generation, so the task of a replaced or removed detector
/// cannot remove its successor when it ends.
pub(crate) struct PerChannel<T> {
    entries: Mutex<HashMap<String, (u64, T)>>,
    next: AtomicU64,
}

impl<T> Default for PerChannel<T> {
    fn default() -> Self {
        PerChannel {
            entries: Mutex::default(),
            next: AtomicU64::new(1),
        }
    }
}

impl<T> PerChannel<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, T)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the channel's entry, if it has one.
    pub(crate) fn with<R>(&self, uniqueid: &str, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.lock().get(uniqueid).map(|(_, t)| f(t))
    }

    /// Makes `entry` the channel's, returning its generation and the entry
    /// it replaces.
    pub(crate) fn insert(&self, uniqueid: &str, entry: T) -> (u64, Option<T>) {
        let generation = self.next.fetch_add(1, Ordering::Relaxed);
        let old = self.lock().insert(uniqueid.to_owned(), (generation, entry));
        (generation, old.map(|(_, t)| t))
    }

    /// Takes the channel's entry out.
    pub(crate) fn remove(&self, uniqueid: &str) -> Option<T> {
        self.lock().remove(uniqueid).map(|(_, t)| t)
    }

    /// Takes the channel's entry out if it is still generation
    /// `generation` (a detector's task ending).
    pub(crate) fn remove_if(&self, uniqueid: &str, generation: u64) -> Option<T> {
        let mut entries = self.lock();
        match entries.get(uniqueid) {
            Some((g, _)) if *g == generation => entries.remove(uniqueid).map(|(_, t)| t),
            _ => None,
        }
    }

    /// How many channels have an entry.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_task_removes_only_its_own_generation() {
        let list = PerChannel::<&str>::default();
        let (first, old) = list.insert("1.1", "first");
        assert_eq!(old, None);
        let (second, old) = list.insert("1.1", "second");
        assert_eq!(old, Some("first"));
        assert_eq!(list.remove_if("1.1", first), None);
        assert_eq!(list.with("1.1", |e| *e), Some("second"));
        assert_eq!(list.remove_if("1.1", second), Some("second"));
        assert_eq!(list.len(), 0);
        list.insert("1.2", "x");
        assert_eq!(list.remove("1.2"), Some("x"));
        assert_eq!(list.remove("1.2"), None);
    }
}
