//! `MixMonitor(filename.ext[,options[,command]])` and
//! `StopMixMonitor([MixMonitorID])` (`app_mixmonitor.c`): record a call in
//! the background, both directions mixed, while the dialplan goes on (to a
//! `Dial`, say) and through the bridge, until `StopMixMonitor` or the
//! hangup.
//!
//! The recording taps the channel's media stream (`Stream::monitor`): what
//! the channel's party says and what it hears (relayed from the other
//! party, transcoded, played or mixed), in step, at 8 kHz or 16 kHz. A
//! thread per recording writes the files, so the media
//! threads never wait on a disk. A relative file name is under
//! `<astspooldir>/monitor/`; formats are `wav`, `wav16`, `sln`/`raw`,
//! `sln16`, `ulaw`/`pcm`, `alaw`, `g722`; a name without an extension is
//! `raw`. `MIXMONITOR_FILENAME` gets the full name. The files are complete
//! (wav sizes patched) when `StopMixMonitor` returns, or shortly after the
//! hangup.
//!
//! Options: `a` appends, `b` writes only while bridged, `v(x)`/`V(x)`/
//! `W(x)` scale the audio read from / written to the channel / both by
//! 2^x (x in -4..4), `r(file)` and `t(file)` also write the read and the
//! written audio alone (always in step: `S` is the default), `D` puts the
//! two directions side by side in a stereo file (left what the channel
//! receives, right what it transmits; a real stereo wav, or interleaved
//! samples in a raw file), `i(var)` stores the MixMonitorID. `p` and `P`
//! beep into the call when the recording starts and stops, `B(interval)`
//! every `interval` seconds (15 by default). `m(box@context/folder,...)`
//! copies the files into voicemail boxes (with the connected line as the
//! caller id, or the channel's caller with `c`), and `d` deletes them
//! afterwards. The `command`
//! runs through `/bin/sh` once the files are closed, only where
//! `asterisk.conf` sets `live_dangerously = yes` (the rule `SHELL()`
//! follows); `^{X}` in it is `${X}`, expanded when the recording starts.
//!
//! [`start`], [`stop`] and [`mute`] serve the AMI actions `MixMonitor`,
//! `StopMixMonitor` and `MixMonitorMute` too; each publishes its event
//! (`MixMonitorStart`, `MixMonitorStop`, `MixMonitorMute`).

mod beep;
mod control;
mod files;
mod options;
mod recorder;
mod voicemail;

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_dialplan::args::standard_args;

pub use control::{Direction, Request, StartError, Started, mute, running, start, stop};

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `MixMonitor`.
pub struct MixMonitor;

/// `StopMixMonitor`.
pub struct StopMixMonitor;

#[async_trait]
impl Application for MixMonitor {
    fn name(&self) -> &'static str {
        "MixMonitor"
    }

    fn synopsis(&self) -> &'static str {
        "Record a call and mix the audio during the recording.  Use of StopMixMonitor is required to guarantee the audio file is available for processing during dialplan execution."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        // The last argument takes the rest, commas and all.
        let command = args.get(2..).map(|rest| rest.join(",")).unwrap_or_default();
        let request = Request {
            file: arg(0),
            options: arg(1),
            command: &command,
        };
        let executor = std::sync::Arc::clone(&pbx.executor);
        match start(&executor, &pbx.channel, &request).await {
            Ok(_) => Ok(()),
            Err(e @ (StartError::NoArguments | StartError::NoFile)) => {
                tracing::warn!("{e}");
                Err(AppError::Hangup(Cause::NORMAL_CLEARING))
            }
            Err(e) => {
                tracing::warn!(
                    "Unable to add 'MixMonitor' spy to channel '{}': {e}",
                    pbx.channel.name()
                );
                Ok(())
            }
        }
    }
}

#[async_trait]
impl Application for StopMixMonitor {
    fn name(&self) -> &'static str {
        "StopMixMonitor"
    }

    fn synopsis(&self) -> &'static str {
        "Stop recording a call through MixMonitor, and free the recording's file handle."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let id = args.first().map(String::as_str);
        if !stop(&pbx.channel, id).await {
            tracing::debug!("{}: no MixMonitor to stop", pbx.channel.name());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
