//! MixMonitor's beeps: `p` when the recording starts, `P` when it stops,
//! and `B(interval)` every `interval` seconds while it runs (Asterisk's
//! `func_periodic_hook` beep), so the party on the recorded channel knows
//! it is being recorded.
//!
//! A beep is the `beep` prompt whispered into what the channel hears: it
//! is added to whatever the channel is hearing (the other party through a
//! bridge, a prompt, music) rather than replacing it, and nothing the
//! dialplan plays is stopped for it. When to beep is [`BeepSchedule`], a
//! plain struct driven by the time it is given; [`spawn_periodic`] is the
//! thin task around it.

use std::sync::Weak;
use std::time::{Duration, Instant};

use obelus_media::Stream;
use obelus_media::pipe::audio_pipe;
use obelus_media::snoop::SnoopDirection;
use obelus_media::sound::Sound;
use tokio::sync::watch;

/// One 20 ms frame.
const FRAME: Duration = Duration::from_millis(20);
/// Frames queued ahead of the stream, against timer jitter (the whisper
/// keeps at most five).
const AHEAD: usize = 2;

/// When the periodic beeps of one recording are due: the first one
/// interval after the start, then one per interval. Beeps missed (the
/// task was late by more than an interval) are not made up for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BeepSchedule {
    interval: Duration,
    next: Instant,
}

impl BeepSchedule {
    /// A schedule of a beep every `interval_secs` seconds (at least one)
    /// from `start`.
    pub(super) fn new(interval_secs: u32, start: Instant) -> BeepSchedule {
        let interval = Duration::from_secs(u64::from(interval_secs.max(1)));
        BeepSchedule {
            interval,
            next: start + interval,
        }
    }

    /// When the next beep is due.
    pub(super) fn next_beep(&self) -> Instant {
        self.next
    }

    /// Whether a beep is due at `now`; if so the schedule moves on to the
    /// first due time after `now`.
    pub(super) fn poll(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        while self.next <= now {
            self.next += self.interval;
        }
        true
    }
}

/// Plays `sound` into what `stream`'s remote hears, in real time, and
/// returns once it has been played.
pub(super) async fn play(stream: &Stream, sound: &Sound) {
    let frame = (sound.rate / 50).max(1) as usize;
    let (mut writer, reader) = audio_pipe(frame * (AHEAD + 3));
    let id = stream.whisper(SnoopDirection::Out, reader, sound.rate);
    let mut frames = sound.samples.chunks(frame);
    for chunk in frames.by_ref().take(AHEAD) {
        writer.write(chunk);
    }
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    for chunk in frames {
        tick.tick().await;
        writer.write(chunk);
    }
    // Let the frames queued ahead go out before the whisper ends.
    tokio::time::sleep(FRAME * (AHEAD as u32 + 1)).await;
    stream.stop_whisper(id);
}

/// Beeps into `stream` every `interval_secs` seconds until the recording
/// reports that its files are complete (`done`), or the stream is gone.
pub(super) fn spawn_periodic(
    stream: Weak<Stream>,
    sound: Sound,
    interval_secs: u32,
    mut done: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut schedule = BeepSchedule::new(interval_secs, Instant::now());
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(schedule.next_beep().into()) => {}
                _ = done.wait_for(|d| *d) => return,
            }
            if !schedule.poll(Instant::now()) {
                continue;
            }
            let Some(stream) = stream.upgrade() else {
                return;
            };
            play(&stream, &sound).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beeps_come_every_interval_from_the_start() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut schedule = BeepSchedule::new(15, t0);
        assert_eq!(schedule.next_beep(), s(15));
        assert!(!schedule.poll(t0));
        assert!(!schedule.poll(s(14)));
        assert!(schedule.poll(s(15)));
        assert_eq!(schedule.next_beep(), s(30));
        assert!(!schedule.poll(s(15)), "one beep per due time");
        assert!(schedule.poll(s(31)));
        assert_eq!(schedule.next_beep(), s(45));
    }

    #[test]
    fn a_late_poll_does_not_make_up_for_missed_beeps() {
        let t0 = Instant::now();
        let mut schedule = BeepSchedule::new(5, t0);
        assert!(schedule.poll(t0 + Duration::from_secs(23)));
        assert_eq!(schedule.next_beep(), t0 + Duration::from_secs(25));
        assert!(!schedule.poll(t0 + Duration::from_secs(24)));
    }

    #[test]
    fn a_zero_interval_is_one_second() {
        let t0 = Instant::now();
        let mut schedule = BeepSchedule::new(0, t0);
        assert_eq!(schedule.next_beep(), t0 + Duration::from_secs(1));
        assert!(schedule.poll(t0 + Duration::from_secs(1)));
    }
}
