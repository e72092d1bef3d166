//! The thread that writes one live recording (what `ast_play_and_record`
//! does for Asterisk): it takes the frames of a [`Tap`](obelus_apps::recording::Tap)
//! off a channel, drops them while paused, writes silence while muted,
//! watches for silence and the time limit, and ends when told to (stop,
//! cancel, a DTMF key), at a limit, or when its source goes away (the
//! stream closed, the bridge ended).
//!
//! With a silence limit, a run of silence is held back rather than written
//! as it comes: if talk resumes it is written, and if the recording ends on
//! silence only its first 200 ms are kept, as Asterisk trims the tail of a
//! recording that ended on silence.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use obelus_apps::recording::{Frames, Output};
use tokio::sync::watch;

/// How long the thread waits for a frame before looking at its controls.
const POLL: Duration = Duration::from_millis(20);
/// How long, once detached, it waits for the frames still on their way.
const DRAIN: Duration = Duration::from_millis(500);
/// `dsp.conf` `silencethreshold`: a frame whose mean absolute sample is
/// below this is silence.
const SILENCE_THRESHOLD: u64 = 256;
/// What is kept of the silence a recording ended on.
const KEPT_SILENCE_MS: u64 = 200;
/// A muted frame (20 ms at 16 kHz at most).
const ZEROS: [i16; 320] = [0; 320];

/// `stop` values: keep recording, stop and keep the file, stop and delete it.
const RUN: u8 = 0;
const STOP: u8 = 1;
const CANCEL: u8 = 2;

/// What the REST handlers change while a recording runs.
#[derive(Debug)]
pub(super) struct Shared {
    stop: AtomicU8,
    paused: AtomicBool,
    muted: AtomicBool,
    /// True once the recording has ended and its file is complete.
    done: watch::Sender<bool>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            stop: AtomicU8::new(RUN),
            paused: AtomicBool::new(false),
            muted: AtomicBool::new(false),
            done: watch::Sender::new(false),
        }
    }
}

impl Shared {
    /// Asks the writer to end, keeping the file or deleting it.
    pub(super) fn stop(&self, cancel: bool) {
        let want = if cancel { CANCEL } else { STOP };
        // A cancel overrides a stop, never the reverse.
        self.stop.fetch_max(want, Ordering::AcqRel);
    }

    /// Pauses (frames are dropped, time stops counting) or resumes.
    pub(super) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Mutes (silence is written instead of the audio) or unmutes.
    pub(super) fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Release);
    }

    /// Says the recording is over (its file complete or gone).
    pub(super) fn set_done(&self) {
        self.done.send_replace(true);
    }

    /// A receiver that sees [`Shared::set_done`].
    pub(super) fn done(&self) -> watch::Receiver<bool> {
        self.done.subscribe()
    }
}

/// How a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Stopped (REST, a DTMF key, the channel leaving), or its source went
    /// away, or a limit was reached: the file is kept.
    Done,
    /// Canceled: the file was deleted.
    Canceled,
}

/// The result the writer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Outcome {
    pub(super) end: End,
    /// Seconds written.
    pub(super) seconds: u64,
    /// Seconds of talk written (not silence).
    pub(super) talking: u64,
    /// The first write error, if the file is unusable.
    pub(super) error: Option<String>,
}

/// Everything the thread needs.
pub(super) struct Job {
    /// The recording's name, for messages.
    pub(super) name: String,
    pub(super) output: Output,
    /// The rate the frames come at (the file's).
    pub(super) rate: u32,
    pub(super) frames: Receiver<Frames>,
    pub(super) dropped: Arc<AtomicU64>,
    pub(super) shared: Arc<Shared>,
    /// `maxDurationSeconds`, paused time not counted.
    pub(super) max_duration: Option<Duration>,
    /// `maxSilenceSeconds` in ms; 0 for none.
    pub(super) max_silence_ms: u64,
    /// Detaches the tap from its source.
    pub(super) detach: Box<dyn FnOnce() + Send>,
}

/// Starts the thread; `finished` runs on it once the file is complete (or
/// deleted).
pub(super) fn spawn(
    job: Job,
    finished: impl FnOnce(Outcome) + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ari-recording".into())
        .spawn(move || finished(run(job)))
        .map(|_| ())
}

/// The file being written, with the accounting of what went into it.
struct Writer {
    output: Output,
    rate: u32,
    max_silence_ms: u64,
    /// Silence held back while it might still end the recording.
    held: Vec<i16>,
    silent_ms: u64,
    written: u64,
    talking: u64,
    /// The last frame came while paused.
    paused: bool,
}

impl Writer {
    fn new(output: Output, rate: u32, max_silence_ms: u64) -> Writer {
        Writer {
            output,
            rate,
            max_silence_ms,
            held: Vec::new(),
            silent_ms: 0,
            written: 0,
            talking: 0,
            paused: false,
        }
    }

    /// One frame as the controls stand: dropped while paused, silence
    /// while muted. Pausing and muting suspend silence detection, which
    /// starts over afterwards. True when the frame completes the silence
    /// limit.
    fn take(&mut self, samples: &[i16], paused: bool, muted: bool) -> bool {
        if paused {
            self.paused = true;
            return false;
        }
        if std::mem::take(&mut self.paused) {
            self.flush_held();
            self.silent_ms = 0;
        }
        self.frame(samples, muted)
    }

    fn write(&mut self, samples: &[i16]) {
        self.output.write(samples);
        self.written += samples.len() as u64;
    }

    /// Writes the silence held back.
    fn flush_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.write(&held);
        self.held = held;
        self.held.clear();
    }

    /// One frame; true when it completes the silence limit.
    fn frame(&mut self, samples: &[i16], muted: bool) -> bool {
        if muted {
            self.flush_held();
            self.silent_ms = 0;
            self.write(&ZEROS[..samples.len().min(ZEROS.len())]);
            return false;
        }
        let n = samples.len() as u64;
        let sum: u64 = samples.iter().map(|s| u64::from(s.unsigned_abs())).sum();
        let silent = n > 0 && sum / n < SILENCE_THRESHOLD;
        if !silent {
            self.flush_held();
            self.silent_ms = 0;
            self.talking += n;
            self.write(samples);
            return false;
        }
        if self.max_silence_ms == 0 {
            self.write(samples);
            return false;
        }
        self.held.extend_from_slice(samples);
        self.silent_ms += n * 1000 / u64::from(self.rate);
        self.silent_ms >= self.max_silence_ms
    }

    /// Writes what is held (only its start when ending on silence) and
    /// closes the file.
    fn close(mut self, on_silence: bool) -> (u64, u64, Option<String>) {
        if on_silence {
            let keep = (KEPT_SILENCE_MS * u64::from(self.rate) / 1000) as usize;
            self.held.truncate(keep);
        }
        self.flush_held();
        let rate = u64::from(self.rate);
        let error = self.output.close().err().map(|e| e.to_string());
        (self.written / rate, self.talking / rate, error)
    }
}

fn run(job: Job) -> Outcome {
    let Job {
        name,
        output,
        rate,
        frames,
        dropped,
        shared,
        max_duration,
        max_silence_ms,
        detach,
    } = job;
    tracing::info!(verbose = 3, "Recording '{name}' started");
    let path = output.path.clone();
    let mut writer = Writer::new(output, rate, max_silence_ms);
    let controls = || {
        (
            shared.paused.load(Ordering::Acquire),
            shared.muted.load(Ordering::Acquire),
        )
    };
    let mut active = Duration::ZERO;
    let mut last = Instant::now();
    let mut on_silence = false;
    let mut source_gone = false;
    while shared.stop.load(Ordering::Acquire) == RUN {
        let now = Instant::now();
        if !controls().0 {
            active += now - last;
        }
        last = now;
        if max_duration.is_some_and(|max| active >= max) {
            break;
        }
        match frames.recv_timeout(POLL) {
            Ok(f) => {
                let (paused, muted) = controls();
                if writer.take(f.received(), paused, muted) {
                    on_silence = true;
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                source_gone = true;
                break;
            }
        }
    }
    detach();
    let cancel = shared.stop.load(Ordering::Acquire) == CANCEL;
    // What the source still had queued belongs to the recording, unless it
    // ended on a limit (that is where it ends) or it is thrown away.
    if !source_gone {
        let deadline = Instant::now() + DRAIN;
        while let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            match frames.recv_timeout(wait) {
                Ok(f) => {
                    let stopped = shared.stop.load(Ordering::Acquire) != RUN;
                    if stopped && !cancel {
                        let (paused, muted) = controls();
                        writer.take(f.received(), paused, muted);
                    }
                }
                Err(_) => break,
            }
        }
    }
    let lost = dropped.load(Ordering::Relaxed);
    if lost > 0 {
        tracing::warn!("Recording '{name}': {lost} frames lost, the disk did not keep up");
    }
    let (seconds, talking, error) = writer.close(on_silence);
    let end = if cancel {
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!("Recording '{name}': deleting {}: {e}", path.display());
        }
        End::Canceled
    } else {
        End::Done
    };
    tracing::info!(verbose = 3, "Recording '{name}' ended ({seconds} s)");
    Outcome {
        end,
        seconds,
        talking,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_apps::recording::tap;
    use obelus_media::AudioSink;

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| if i % 2 == 0 { 4000 } else { -4000 })
            .collect()
    }

    /// A job writing `file` (8 kHz wav) from a tap the test feeds.
    fn new_job(
        file: &std::path::Path,
        max_duration: Option<Duration>,
        max_silence_ms: u64,
    ) -> (
        Job,
        obelus_apps::recording::Tap,
        Arc<Shared>,
        Arc<AtomicBool>,
    ) {
        let output = Output::open(file.to_str().unwrap(), false, 8000).unwrap();
        let (tap, frames, dropped) = tap(8000);
        let shared = Arc::new(Shared::default());
        let detached = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&detached);
        let job = Job {
            name: "t".into(),
            output,
            rate: 8000,
            frames,
            dropped,
            shared: Arc::clone(&shared),
            max_duration,
            max_silence_ms,
            detach: Box::new(move || flag.store(true, Ordering::Release)),
        };
        (job, tap, shared, detached)
    }

    fn samples(path: &std::path::Path) -> Vec<i16> {
        obelus_media::sound::read_sound(path)
            .unwrap()
            .samples
            .to_vec()
    }

    #[test]
    fn pause_drops_mute_silences_and_silence_is_held_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.wav");
        let output = Output::open(file.to_str().unwrap(), false, 8000).unwrap();
        let mut w = Writer::new(output, 8000, 400);
        let loud = tone(160);
        for _ in 0..25 {
            assert!(!w.take(&loud, false, false));
        }
        // Paused: dropped; muted: silence, and neither counts as silence.
        for _ in 0..30 {
            assert!(!w.take(&[9; 160], true, false));
        }
        for _ in 0..30 {
            assert!(!w.take(&loud, false, true));
        }
        // A short silence is written once talk resumes.
        for _ in 0..5 {
            assert!(!w.take(&[0; 160], false, false));
        }
        assert!(!w.take(&loud, false, false));
        // 400 ms of silence ends it; 200 ms of it are kept.
        let ended = (0..20)
            .map(|_| w.take(&[3; 160], false, false))
            .collect::<Vec<_>>();
        assert_eq!(ended.iter().filter(|e| **e).count(), 1);
        assert!(ended[19]);
        let (seconds, talking, error) = w.close(true);
        assert_eq!((seconds, talking, error), (1, 0, None));
        let got = samples(&file);
        assert_eq!(got.len(), (25 + 30 + 5 + 1 + 10) * 160);
        assert!(got[..25 * 160].iter().all(|s| s.abs() == 4000));
        assert!(
            got[25 * 160..60 * 160].iter().all(|&s| s == 0),
            "muted, then silence"
        );
        assert!(got[60 * 160..61 * 160].iter().all(|s| s.abs() == 4000));
        assert!(got[61 * 160..].iter().all(|&s| s.abs() == 3));
    }

    #[test]
    fn stop_keeps_what_was_sent_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.wav");
        let (job, mut tap, shared, detached) = new_job(&file, None, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(job, move |o| tx.send(o).unwrap()).unwrap();
        for _ in 0..60 {
            tap.write_frame(&tone(160));
        }
        shared.stop(false);
        let outcome = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(detached.load(Ordering::Acquire));
        assert_eq!(outcome.end, End::Done);
        assert_eq!((outcome.seconds, outcome.talking), (1, 1));
        assert_eq!(outcome.error, None);
        assert_eq!(samples(&file).len(), 60 * 160);
    }

    #[test]
    fn the_silence_limit_ends_it_in_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.wav");
        let (job, mut tap, _shared, _) = new_job(&file, None, 400);
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(job, move |o| tx.send(o).unwrap()).unwrap();
        for _ in 0..10 {
            tap.write_frame(&tone(160));
        }
        for _ in 0..40 {
            tap.write_frame(&[0; 160]);
        }
        let outcome = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(outcome.end, End::Done);
        assert_eq!(samples(&file).len(), (10 + 10) * 160, "talk and 200 ms");
    }

    #[test]
    fn the_time_limit_and_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.wav");
        let (job, _tap, _shared, _) = new_job(&file, Some(Duration::from_millis(300)), 0);
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(job, move |o| tx.send(o).unwrap()).unwrap();
        let outcome = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(outcome.end, End::Done);
        assert!(file.exists());

        let file = dir.path().join("c.wav");
        let (job, mut tap, shared, _) = new_job(&file, None, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(job, move |o| tx.send(o).unwrap()).unwrap();
        tap.write_frame(&tone(160));
        shared.stop(true);
        shared.stop(false);
        let outcome = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(outcome.end, End::Canceled);
        assert!(!file.exists(), "a canceled recording is deleted");
    }

    #[test]
    fn the_source_going_away_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.wav");
        let (job, mut tap, _shared, _) = new_job(&file, None, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(job, move |o| tx.send(o).unwrap()).unwrap();
        tap.write_frame(&tone(160));
        AudioSink::finish(&mut tap);
        let outcome = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(outcome.end, End::Done);
        assert_eq!(samples(&file).len(), 160);
    }
}
