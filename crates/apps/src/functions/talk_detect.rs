//! `TALK_DETECT(set)=[dsp_silence_threshold[,dsp_talking_threshold]]` and
//! `TALK_DETECT(remove)=` (`func_talkdetect.c`): events when the channel's
//! party starts and stops talking, AMI `ChannelTalkingStart` /
//! `ChannelTalkingStop` (with `Duration`) and ARI `ChannelTalkingStarted`
//! / `ChannelTalkingFinished` (with `duration`).
//!
//! The silence threshold (ms of silence that end a talk) defaults to 2500,
//! the talking threshold (the mean amplitude a frame needs to count as
//! talk) to the DSP's 256. Setting it again on a channel that has it
//! changes the thresholds and keeps the talk in progress. ARI clients set
//! it as a channel variable (`POST /channels/{id}/variable` with
//! `variable=TALK_DETECT(set)`), which reaches this function. The
//! detector listens to what the party says ([`obelus_media::talk_detect`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use obelus_core::channel::Channel;
use obelus_core::events::ChannelEventKind;
use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;
use obelus_media::talk_detect::{DEFAULT_ENERGY, DEFAULT_SILENCE_MS, TalkDetector, TalkEvent};

use crate::detect::{self, Analyzer, Attached, PerChannel};
use crate::registry::{Function, FunctionContext};

/// The rate the detector listens at.
const RATE: u32 = 8000;

/// Thresholds a running detector picks up on its next frame.
#[derive(Debug)]
struct Thresholds {
    silence_ms: AtomicU32,
    energy: AtomicU32,
}

/// A channel's talk detection.
struct Active {
    attached: Attached,
    thresholds: Arc<Thresholds>,
}

/// Channels with talk detection, by uniqueid.
static ACTIVE: LazyLock<PerChannel<Active>> = LazyLock::new(PerChannel::default);

/// The detector on the media thread.
struct Listener {
    detector: TalkDetector,
    thresholds: Arc<Thresholds>,
}

impl Analyzer for Listener {
    type Finding = TalkEvent;

    fn rate(&self) -> u32 {
        RATE
    }

    fn analyze(&mut self, received: &[i16], _sent: &[i16], report: &mut dyn FnMut(TalkEvent)) {
        let t = &self.thresholds;
        self.detector.set_thresholds(
            t.silence_ms.load(Ordering::Relaxed),
            t.energy.load(Ordering::Relaxed),
        );
        if let Some(event) = self.detector.process(received) {
            report(event);
        }
    }
}

/// `TALK_DETECT`.
pub struct TalkDetect;

impl Function for TalkDetect {
    fn name(&self) -> &'static str {
        "TALK_DETECT"
    }

    fn synopsis(&self) -> &'static str {
        "Raises notifications when Asterisk detects silence or talking on a channel."
    }

    fn read(&self, _cx: &FunctionContext<'_>, _args: &str) -> Result<String, FunctionError> {
        Err(FunctionError::Failed(
            "Function 'TALK_DETECT' cannot be read from".to_owned(),
        ))
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let Some(channel) = cx.channel else {
            return Err(failed("TALK_DETECT needs a channel"));
        };
        match args.trim().to_ascii_lowercase().as_str() {
            "set" => {
                let (silence_ms, energy) = parse_thresholds(value)?;
                set(channel, silence_ms, energy)
            }
            "remove" => remove(channel),
            "" => Err(failed("TALK_DETECT requires an argument")),
            other => Err(failed(format!("TALK_DETECT: unknown option {other}"))),
        }
    }
}

fn failed(message: impl Into<String>) -> FunctionError {
    FunctionError::Failed(message.into())
}

/// `[silence_ms[,talking_threshold]]`, each at least 1 where given.
fn parse_thresholds(value: &str) -> Result<(u32, u32), FunctionError> {
    let args = standard_args(value);
    let field = |i: usize, name: &str, default: u32| -> Result<u32, FunctionError> {
        match args.get(i).map(|a| a.trim()).filter(|a| !a.is_empty()) {
            None => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
                Ok(n) => Err(failed(format!("Invalid value {n} for {name}"))),
                Err(_) => Err(failed(format!("Failed to parse {text} for {name}"))),
            },
        }
    };
    Ok((
        field(0, "dsp_silence_threshold", DEFAULT_SILENCE_MS)?,
        field(1, "dsp_talking_threshold", DEFAULT_ENERGY)?,
    ))
}

/// Enables talk detection on `channel`, or changes its thresholds.
fn set(channel: &Arc<Channel>, silence_ms: u32, energy: u32) -> Result<(), FunctionError> {
    let uniqueid = channel.uniqueid();
    let updated = ACTIVE.with(uniqueid, |active| {
        active
            .thresholds
            .silence_ms
            .store(silence_ms, Ordering::Relaxed);
        active.thresholds.energy.store(energy, Ordering::Relaxed);
    });
    if updated.is_some() {
        return Ok(());
    }
    let Some(stream) = channel.driver().media() else {
        return Err(failed(format!(
            "TALK_DETECT: {} has no media stream to listen to",
            channel.name()
        )));
    };
    let thresholds = Arc::new(Thresholds {
        silence_ms: AtomicU32::new(silence_ms),
        energy: AtomicU32::new(energy),
    });
    let (attached, mut findings) = detect::attach(
        &stream,
        Listener {
            detector: TalkDetector::new(RATE, silence_ms, energy),
            thresholds: Arc::clone(&thresholds),
        },
    );
    let (generation, replaced) = ACTIVE.insert(
        uniqueid,
        Active {
            attached,
            thresholds,
        },
    );
    if let Some(old) = replaced {
        // Set twice at once: the first one's detector goes.
        old.attached.detach();
    }
    let weak: Weak<Channel> = Arc::downgrade(channel);
    let uniqueid = uniqueid.to_owned();
    tokio::spawn(async move {
        while let Some(event) = findings.recv().await {
            let Some(channel) = weak.upgrade() else {
                break;
            };
            let kind = match event {
                TalkEvent::Started => ChannelEventKind::TalkingStart,
                TalkEvent::Finished { duration_ms } => {
                    ChannelEventKind::TalkingStop { duration_ms }
                }
            };
            tracing::debug!(
                "{} is now {}",
                channel.name(),
                if kind == ChannelEventKind::TalkingStart {
                    "talking"
                } else {
                    "silent"
                }
            );
            channel.announce(kind);
        }
        ACTIVE.remove_if(&uniqueid, generation);
    });
    Ok(())
}

/// Disables talk detection on `channel`.
fn remove(channel: &Channel) -> Result<(), FunctionError> {
    let Some(active) = ACTIVE.remove(channel.uniqueid()) else {
        return Err(failed(format!(
            "Cannot remove TALK_DETECT from {}: TALK_DETECT not currently enabled",
            channel.name()
        )));
    };
    active.attached.detach();
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use obelus_core::events::Event;

    use super::*;
    use crate::functions::test_support::{context, on_channel};
    use crate::testing::media::{media_channel, tone};

    #[test]
    fn thresholds_default_as_asterisks_and_bad_ones_are_refused() {
        assert_eq!(parse_thresholds("").unwrap(), (2500, 256));
        assert_eq!(parse_thresholds("1200").unwrap(), (1200, 256));
        assert_eq!(parse_thresholds(",128").unwrap(), (2500, 128));
        assert_eq!(parse_thresholds("800,64").unwrap(), (800, 64));
        for (bad, message) in [
            ("0", "Invalid value 0 for dsp_silence_threshold"),
            ("x", "Failed to parse x for dsp_silence_threshold"),
            ("10,-3", "Invalid value -3 for dsp_talking_threshold"),
        ] {
            assert_eq!(
                parse_thresholds(bad).unwrap_err(),
                FunctionError::Failed(message.into())
            );
        }
    }

    #[tokio::test]
    async fn bad_uses_get_asterisks_errors() {
        let (_core, executor, channel, _dir) = on_channel();
        let cx = context(&executor, &channel);
        let err = |args: &str| TalkDetect.write(&cx, args, "").unwrap_err().to_string();
        assert_eq!(err(""), "TALK_DETECT requires an argument");
        assert_eq!(err("sideways"), "TALK_DETECT: unknown option sideways");
        assert!(err("remove").ends_with("TALK_DETECT not currently enabled"));
        assert!(err("set").ends_with("has no media stream to listen to"));
        assert!(TalkDetect.read(&cx, "set").is_err());
    }

    /// The next talk event of the channel on the bus.
    async fn next_talk(
        events: &mut tokio::sync::broadcast::Receiver<Arc<Event>>,
        uniqueid: &str,
    ) -> ChannelEventKind {
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .expect("a talk event in time")
                .expect("bus open");
            if let Event::Channel(e) = event.as_ref()
                && e.channel.uniqueid == uniqueid
                && matches!(
                    e.kind,
                    ChannelEventKind::TalkingStart | ChannelEventKind::TalkingStop { .. }
                )
            {
                return e.kind.clone();
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn talk_and_silence_from_the_phone_raise_start_and_stop() {
        let (core, executor, _dir) = crate::testing::executor("[default]\nexten => 1,1,NoOp()\n");
        let (channel, _driver, mut phone) = media_channel(&core, "default", "1").await;
        let mut events = core.events.subscribe();
        executor.set(Some(&channel), "TALK_DETECT(set)", "400");
        let uniqueid = channel.uniqueid().to_owned();
        // Half a second of "speech", then silence past the threshold.
        phone.send_audio(&tone(300.0, 4000)).await;
        phone.send_audio(&vec![0; 4800]).await;
        assert_eq!(
            next_talk(&mut events, &uniqueid).await,
            ChannelEventKind::TalkingStart
        );
        let ChannelEventKind::TalkingStop { duration_ms } = next_talk(&mut events, &uniqueid).await
        else {
            panic!("no stop");
        };
        assert!(
            (440..=560).contains(&duration_ms),
            "talked for {duration_ms} ms"
        );
        // Set again: new thresholds, the same detector.
        executor.set(Some(&channel), "TALK_DETECT(set)", "200,128");
        assert_eq!(
            ACTIVE.with(&uniqueid, |a| a
                .thresholds
                .silence_ms
                .load(Ordering::Relaxed)),
            Some(200)
        );
        let cx = context(&executor, &channel);
        TalkDetect.write(&cx, "remove", "").unwrap();
        assert!(ACTIVE.with(&uniqueid, |_| ()).is_none());
        // Removed: talk goes unnoticed.
        phone.send_audio(&tone(300.0, 2400)).await;
        phone.send_audio(&vec![0; 2400]).await;
        let quiet = tokio::time::timeout(Duration::from_millis(300), async {
            next_talk(&mut events, &uniqueid).await
        })
        .await;
        assert!(quiet.is_err(), "{quiet:?}");
    }
}
