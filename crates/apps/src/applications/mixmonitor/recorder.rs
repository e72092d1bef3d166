//! A running MixMonitor: the thread that writes the files (Asterisk's
//! `mixmonitor_thread`), fed by a [`crate::recording::Tap`] on the stream.
//!
//! The media thread must never wait on a disk, so the tap only copies
//! each pair of 20 ms frames into a bounded channel. The writer thread
//! applies mute and volume, mixes the two directions (saturating) or,
//! with `D`, puts them side by side in a stereo file, and writes the
//! main, receive and transmit files, only while the channel is bridged
//! with `b`. The tap hands the directions over in step (a silent one as
//! silence), so the receive and transmit files line up, as Asterisk's `S`
//! asked for and its later versions do by default; with `n` that silence
//! is left out of them (each holds only the audio its direction had). It
//! ends
//! when the sink is finished (StopMixMonitor, or the stream closing at
//! hangup); it also notices a hangup itself and asks the stream to let go,
//! for channels whose stream outlives the call. Then it closes the files
//! (wav headers get their sizes), reports that they are complete, runs
//! the post-processing command if one is allowed, copies the files into
//! the voicemail boxes of `m()`, and deletes them with `d`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use obelus_core::channel::Channel;
use obelus_media::Stream;
use tokio::sync::watch;

use super::voicemail::{self, CallInfo, Recipient};
use crate::recording::{Frames, Output};

/// Samples in the largest frame (20 ms at 16 kHz).
const FRAME_MAX: usize = 320;
/// How often the writer looks for a hangup when no audio flows.
const POLL: Duration = Duration::from_millis(200);
/// How long after a hangup the writer waits for the stream to finish it.
const HANGUP_GRACE: Duration = Duration::from_secs(2);

/// A volume factor as `get_volfactor` makes it from `-4..=4`: 0 leaves the
/// audio alone, a positive value multiplies, a negative one divides.
pub(super) fn volume_factor(level: i32) -> i32 {
    match level {
        0 => 0,
        l if l > 0 => 1 << l.min(4),
        l => -(1 << (-l).min(4)),
    }
}

/// Applies a [`volume_factor`] in place, saturating.
fn adjust(samples: &mut [i16], factor: i32) {
    match factor {
        0 => {}
        f if f > 0 => {
            for s in samples {
                *s = s.saturating_mul(f as i16);
            }
        }
        f => {
            let d = -f as i16;
            for s in samples {
                *s /= d;
            }
        }
    }
}

/// The saturating sum of the two directions into `out`.
pub(super) fn mix(received: &[i16], sent: &[i16], out: &mut [i16]) {
    for ((o, &r), &s) in out.iter_mut().zip(received).zip(sent) {
        *o = r.saturating_add(s);
    }
}

/// What the AMI `MixMonitorMute` action changes while the recording runs.
#[derive(Debug, Default)]
pub(super) struct Controls {
    /// Silence the audio read from the channel (what its party says).
    pub(super) mute_read: AtomicBool,
    /// Silence the audio written to the channel (what its party hears).
    pub(super) mute_write: AtomicBool,
}

/// Where the recording goes once it is complete (`m()`).
pub(super) struct Copies {
    /// `<astspooldir>`, under which `voicemail/` lies.
    pub(super) spool: PathBuf,
    pub(super) recipients: Vec<Recipient>,
    /// The call, as the messages describe it.
    pub(super) call: CallInfo,
}

/// Everything the writer thread needs.
pub(super) struct Job {
    /// The channel's name, for messages.
    pub(super) name: String,
    pub(super) channel: Arc<Channel>,
    /// The stream, to let go of the sink after a hangup; never kept alive
    /// by the recording.
    pub(super) stream: Weak<Stream>,
    pub(super) media_id: u64,
    /// The main file: mixed, or stereo with `interleaved`.
    pub(super) mixed: Option<Output>,
    /// `D`: the main file was opened stereo, received audio left.
    pub(super) interleaved: bool,
    pub(super) read: Option<Output>,
    pub(super) write: Option<Output>,
    pub(super) read_volume: i32,
    pub(super) write_volume: i32,
    pub(super) bridged_only: bool,
    /// `n`: the receive and transmit files get no silence put in to keep
    /// them in step.
    pub(super) no_sync: bool,
    pub(super) controls: Arc<Controls>,
    /// Run through `/bin/sh -c` after the files are closed.
    pub(super) command: Option<String>,
    /// Voicemail copies made after the command.
    pub(super) copies: Option<Copies>,
    /// `d`: the files are deleted at the very end.
    pub(super) delete: bool,
    /// Set to true once the files are complete.
    pub(super) done: watch::Sender<bool>,
}

/// Starts the writer thread; `finished` runs on it once the files are
/// complete (before the command).
pub(super) fn spawn(
    job: Job,
    rx: Receiver<Frames>,
    dropped: Arc<AtomicU64>,
    finished: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("mixmonitor".into())
        .spawn(move || run(job, &rx, &dropped, finished))
        .map(|_| ())
}

fn run(mut job: Job, rx: &Receiver<Frames>, dropped: &AtomicU64, finished: impl FnOnce()) {
    tracing::info!(verbose = 2, "Begin MixMonitor Recording {}", job.name);
    let mut hangup_seen: Option<Instant> = None;
    let mut mixed = [0i16; FRAME_MAX];
    loop {
        let frames = match rx.recv_timeout(POLL) {
            Ok(frames) => Some(frames),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if job.channel.is_hung_up() {
            let first = hangup_seen.is_none();
            let since = *hangup_seen.get_or_insert_with(Instant::now);
            if first && let Some(stream) = job.stream.upgrade() {
                stream.stop_monitor(job.media_id);
            }
            if since.elapsed() > HANGUP_GRACE {
                break;
            }
        }
        if let Some(mut frames) = frames {
            write(&mut job, &mut frames, &mut mixed);
        }
    }
    let lost = dropped.load(Ordering::Relaxed);
    if lost > 0 {
        tracing::warn!(
            "MixMonitor {}: {lost} frames lost, the disk did not keep up",
            job.name
        );
    }
    let channels = if job.interleaved { 2 } else { 1 };
    let mut closed = Vec::new();
    for (output, what, channels) in [
        (job.mixed.take(), "mixed", channels),
        (job.read.take(), "read", 1),
        (job.write.take(), "write", 1),
    ] {
        if let Some(output) = output {
            let path = output.path.clone();
            match output.close() {
                Ok(()) => tracing::info!(verbose = 2, "MixMonitor close filestream ({what})"),
                Err(e) => tracing::warn!("MixMonitor: {}: {e}", path.display()),
            }
            closed.push((path, channels));
        }
    }
    // Nobody waiting is fine: the recording was not stopped by hand.
    let _ = job.done.send(true);
    finished();
    if let Some(command) = job.command.take() {
        tracing::info!(verbose = 2, "Executing [{command}]");
        run_command(&command);
    }
    tracing::info!(verbose = 2, "End MixMonitor Recording {}", job.name);
    if let Some(copies) = &job.copies {
        tracing::info!(
            verbose = 3,
            "Copying recordings for Mixmonitor {} to voicemail recipients",
            job.name
        );
        copy_to_voicemail(copies, &closed);
    }
    if job.delete {
        for (path, _) in &closed {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!("MixMonitor: cannot delete {}: {e}", path.display());
            }
        }
    }
}

/// Every closed file into every box of `m()`.
fn copy_to_voicemail(copies: &Copies, files: &[(PathBuf, u32)]) {
    let when = std::time::SystemTime::now();
    for (path, channels) in files {
        let Some(file) = path.to_str() else {
            tracing::warn!("MixMonitor: {} is not a UTF-8 name", path.display());
            continue;
        };
        for recipient in &copies.recipients {
            tracing::info!(
                verbose = 4,
                "MixMonitor attempting to send voicemail copy to {}@{}",
                recipient.mailbox,
                recipient.context
            );
            let copied = voicemail::copy(
                &copies.spool,
                recipient,
                file,
                *channels,
                &copies.call,
                when,
            );
            match copied {
                Ok(message) => tracing::debug!("{file} copied as {}", message.display()),
                Err(e) => tracing::warn!("MixMonitor: copying {file} to {recipient} failed: {e}"),
            }
        }
    }
}

/// One pair of frames into the files.
fn write(job: &mut Job, frames: &mut Frames, mixed: &mut [i16; FRAME_MAX]) {
    if job.bridged_only && job.channel.bridge().is_none() {
        return;
    }
    let n = frames.len();
    let padded = if job.no_sync {
        frames.padded()
    } else {
        [false, false]
    };
    let (received, sent) = frames.split_mut();
    if job.controls.mute_read.load(Ordering::Relaxed) {
        received.fill(0);
    }
    if job.controls.mute_write.load(Ordering::Relaxed) {
        sent.fill(0);
    }
    adjust(received, job.read_volume);
    adjust(sent, job.write_volume);
    if let Some(out) = job.read.as_mut().filter(|_| !padded[0]) {
        out.write(received);
    }
    if let Some(out) = job.write.as_mut().filter(|_| !padded[1]) {
        out.write(sent);
    }
    if let Some(out) = job.mixed.as_mut() {
        if job.interleaved {
            out.write_stereo(received, sent);
        } else {
            mix(received, sent, &mut mixed[..n]);
            out.write(&mixed[..n]);
        }
    }
}

/// `ast_safe_system`: the command through `/bin/sh -c`, with the
/// environment the dialplan set (`ENV()`), waited for.
fn run_command(command: &str) {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    crate::functions::env::apply(&mut cmd);
    match cmd.status() {
        Ok(status) if !status.success() => {
            tracing::warn!("MixMonitor command [{command}] ended with {status}");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("MixMonitor command [{command}] could not run: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_factors_follow_get_volfactor() {
        assert_eq!(
            (-4..=4).map(volume_factor).collect::<Vec<_>>(),
            [-16, -8, -4, -2, 0, 2, 4, 8, 16]
        );
        let mut s = [1000i16, -1000, 20000];
        adjust(&mut s, 2);
        assert_eq!(s, [2000, -2000, i16::MAX]);
        adjust(&mut s, -4);
        assert_eq!(s, [500, -500, i16::MAX / 4]);
        adjust(&mut s, 0);
        assert_eq!(s, [500, -500, i16::MAX / 4]);
    }

    #[test]
    fn mixing_saturates() {
        let mut out = [0i16; 4];
        mix(&[1, 30000, -30000, 5], &[2, 30000, -30000, -5], &mut out);
        assert_eq!(out, [3, i16::MAX, i16::MIN, 0]);
    }
}
