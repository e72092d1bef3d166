//! MixMonitor on channels with real media: a peer socket plays the caller
//! (it says 440 Hz), the dialplan plays a 1000 Hz prompt (what the caller
//! hears), and the files must hold each in its place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use obelus_core::Core;
use obelus_core::channel::{Cause, Channel};
use obelus_core::events::{ChannelEventKind, Event};
use obelus_media::g711::{alaw_to_linear, ulaw_to_linear};
use tokio::sync::broadcast;

use super::{Request, mute, running, start, stop};
use crate::pbx::{Pbx, run};
use crate::testing::media::{install_sound, media_channel, share, tone};
use crate::testing::{executor, executor_with};

/// One second at 8 kHz.
const SECOND: usize = 8000;

/// `DIR` for the dialplan: the scratch directory without its leading `/`
/// (the dialplan writes `/${DIR}/...`).
fn set_dir(channel: &Channel, dir: &Path) {
    channel.set_var("DIR", dir.to_str().unwrap().trim_start_matches('/'));
}

/// A wav file whose header sizes match its length; its samples.
fn complete_wav(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.len() > 44,
        "{} is {} bytes",
        path.display(),
        bytes.len()
    );
    let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(le(4), bytes.len() - 8, "RIFF size of {}", path.display());
    assert_eq!(le(40), bytes.len() - 44, "data size of {}", path.display());
    let sound = obelus_media::sound::parse_wav(&bytes).unwrap();
    assert_eq!(sound.rate, 8000);
    sound.samples.to_vec()
}

/// Raw little-endian linear samples.
fn sln(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Waits (a bounded number of times) until the channel's recordings have
/// all ended on their own.
async fn all_ended(channel: &Channel) {
    for _ in 0..500 {
        if running(channel).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the recording of {} never ended", channel.name());
}

/// The MixMonitor event names published for `channel` so far.
fn mixmonitor_events(
    events: &mut broadcast::Receiver<Arc<Event>>,
    channel: &Channel,
) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Channel(e) = &*event
            && e.channel.uniqueid == channel.uniqueid()
        {
            match &e.kind {
                ChannelEventKind::MixMonitorStart => seen.push("start".to_owned()),
                ChannelEventKind::MixMonitorStop => seen.push("stop".to_owned()),
                ChannelEventKind::MixMonitorMute { direction, muted } => {
                    seen.push(format!("mute {direction} {muted}"))
                }
                _ => {}
            }
        }
    }
    seen
}

/// Runs `exten 1` of `dialplan` on a media channel while the caller says
/// 440 Hz for `talk` samples; returns the channel once the dialplan ended.
async fn call(
    core: &Arc<Core>,
    executor: &Arc<crate::pbx::Executor>,
    dir: &Path,
    talk: usize,
) -> Arc<Channel> {
    let (channel, _driver, mut peer) = media_channel(core, "default", "1").await;
    set_dir(&channel, dir);
    let task = tokio::spawn(run(
        Pbx::new(Arc::clone(executor), Arc::clone(&channel)).unwrap()
    ));
    peer.send_audio(&tone(440.0, talk)).await;
    task.await.unwrap();
    channel
}

#[tokio::test]
async fn records_what_the_caller_says_and_hears_until_stopped() {
    let (core, executor, dir) = executor(
        "[default]\nexten => 1,1,Answer()\n same => n,MixMonitor(/${DIR}/call.wav,i(MID))\n same => n,Playback(hum)\n same => n,StopMixMonitor(${MID})\n same => n,Set(AFTER=${MIXMONITOR_FILENAME})\n",
    );
    install_sound(&core, "hum", &tone(1000.0, 2 * SECOND));
    let mut events = core.events.subscribe();
    let channel = call(&core, &executor, dir.path(), 2 * SECOND).await;
    let path = dir.path().join("call.wav");
    assert_eq!(channel.var("AFTER").as_deref(), path.to_str());
    assert!(channel.var("MID").unwrap().starts_with("0x"));
    // Complete as soon as StopMixMonitor returned.
    let samples = complete_wav(&path);
    assert!(
        (SECOND..4 * SECOND).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    let tail = &samples[SECOND / 5..];
    let (said, heard) = (share(tail, 440.0), share(tail, 1000.0));
    assert!(
        said > 0.15 && heard > 0.15,
        "440 Hz {said:.2}, 1000 Hz {heard:.2}"
    );
    assert!(said + heard > 0.8, "440 Hz {said:.2}, 1000 Hz {heard:.2}");
    assert_eq!(mixmonitor_events(&mut events, &channel), ["start", "stop"]);
    assert!(running(&channel).is_empty());
}

#[tokio::test]
async fn relative_names_go_to_the_monitor_spool_and_r_t_split_the_directions() {
    let (core, executor, dir) = executor(
        "[default]\nexten => 1,1,MixMonitor(rec.sln,r(in.ulaw)t(sub/out.alaw))\n same => n,Playback(hum)\n same => n,StopMixMonitor()\n",
    );
    install_sound(&core, "hum", &tone(1000.0, 2 * SECOND));
    let channel = call(&core, &executor, dir.path(), 2 * SECOND).await;
    let monitor: PathBuf = dir.path().join("spool/monitor");
    assert_eq!(
        channel.var("MIXMONITOR_FILENAME").as_deref(),
        monitor.join("rec.sln").to_str()
    );
    let mixed = sln(&monitor.join("rec.sln"));
    let read: Vec<i16> = std::fs::read(monitor.join("in.ulaw"))
        .unwrap()
        .into_iter()
        .map(ulaw_to_linear)
        .collect();
    let write: Vec<i16> = std::fs::read(monitor.join("sub/out.alaw"))
        .unwrap()
        .into_iter()
        .map(alaw_to_linear)
        .collect();
    assert!(mixed.len() > SECOND, "{} samples", mixed.len());
    assert_eq!((read.len(), write.len()), (mixed.len(), mixed.len()));
    assert!(share(&read, 440.0) > 0.8, "{}", share(&read, 440.0));
    assert!(share(&write, 1000.0) > 0.8, "{}", share(&write, 1000.0));
    assert!(share(&mixed, 440.0) > 0.15 && share(&mixed, 1000.0) > 0.15);
}

#[tokio::test]
async fn a_hangup_completes_the_file_without_a_stop_event() {
    let (core, executor, dir) =
        executor("[default]\nexten => 1,1,MixMonitor(/${DIR}/hup.wav)\n same => n,Wait(30)\n");
    let mut events = core.events.subscribe();
    let (channel, _driver, mut peer) = media_channel(&core, "default", "1").await;
    set_dir(&channel, dir.path());
    let task = tokio::spawn(run(
        Pbx::new(Arc::clone(&executor), Arc::clone(&channel)).unwrap()
    ));
    peer.send_audio(&tone(440.0, SECOND)).await;
    channel.request_hangup(Cause::NORMAL_CLEARING);
    task.await.unwrap();
    all_ended(&channel).await;
    let samples = complete_wav(&dir.path().join("hup.wav"));
    assert!(samples.len() > SECOND / 2, "{} samples", samples.len());
    assert!(share(&samples, 440.0) > 0.8);
    assert_eq!(mixmonitor_events(&mut events, &channel), ["start"]);
    assert!(!stop(&channel, None).await, "nothing left to stop");
}

/// Starts a recording through the API on a channel that waits in the
/// dialplan; returns the channel, its caller and the dialplan task.
async fn waiting_channel(
    core: &Arc<Core>,
    executor: &Arc<crate::pbx::Executor>,
) -> (
    Arc<Channel>,
    crate::testing::media::Peer,
    tokio::task::JoinHandle<()>,
) {
    let (channel, _driver, peer) = media_channel(core, "default", "1").await;
    let task = tokio::spawn(run(
        Pbx::new(Arc::clone(executor), Arc::clone(&channel)).unwrap()
    ));
    (channel, peer, task)
}

#[tokio::test]
async fn b_writes_only_while_bridged() {
    let (core, executor, dir) = executor("[default]\nexten => 1,1,Wait(30)\n");
    let (channel, mut peer, task) = waiting_channel(&core, &executor).await;
    let file = format!("{}/bridged.wav", dir.path().display());
    let request = Request {
        file: &file,
        options: "b",
        command: "",
    };
    start(&executor, &channel, &request).await.unwrap();
    peer.send_audio(&tone(440.0, SECOND)).await;
    channel.set_bridge(Some("bridge-1".into()));
    peer.send_audio(&tone(1000.0, SECOND)).await;
    assert!(stop(&channel, None).await);
    channel.request_hangup(Cause::NORMAL_CLEARING);
    task.await.unwrap();
    let samples = complete_wav(Path::new(&file));
    assert!(
        (SECOND / 2..3 * SECOND / 2).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    assert!(share(&samples, 1000.0) > 0.8, "{}", share(&samples, 1000.0));
}

#[tokio::test]
async fn volume_scales_and_mute_silences_a_direction() {
    let (core, executor, dir) = executor("[default]\nexten => 1,1,Wait(30)\n");
    let mut events = core.events.subscribe();
    let (channel, mut peer, task) = waiting_channel(&core, &executor).await;
    let file = format!("{}/quiet.sln", dir.path().display());
    let request = Request {
        file: &file,
        options: "v(-2)",
        command: "",
    };
    assert!(!mute(&channel, "read", true), "nothing to mute yet");
    start(&executor, &channel, &request).await.unwrap();
    peer.send_audio(&tone(440.0, SECOND)).await;
    assert!(!mute(&channel, "sideways", true));
    assert!(mute(&channel, "read", true));
    peer.send_audio(&tone(440.0, SECOND)).await;
    assert!(stop(&channel, None).await);
    channel.request_hangup(Cause::NORMAL_CLEARING);
    task.await.unwrap();
    let samples = sln(Path::new(&file));
    assert!(samples.len() > 3 * SECOND / 2, "{} samples", samples.len());
    // The tone peaks at 8000; a quarter of it before the mute, nothing after.
    let loud = samples[SECOND / 5..SECOND / 2]
        .iter()
        .map(|s| s.unsigned_abs())
        .max();
    assert!((1500..=2600).contains(&loud.unwrap()), "{loud:?}");
    let end = &samples[samples.len() - SECOND / 2..];
    assert!(end.iter().all(|&s| s == 0), "muted audio was written");
    assert_eq!(
        mixmonitor_events(&mut events, &channel),
        ["start", "mute read true", "stop"]
    );
}

#[tokio::test]
async fn the_command_runs_after_the_recording_when_allowed() {
    let (core, executor, dir) = executor_with(
        "[default]\nexten => 1,1,Set(X=flag)\n same => n,MixMonitor(/${DIR}/c.wav,,echo ^{X} > /${DIR}/done.txt)\n same => n,Wait(0.5)\n same => n,StopMixMonitor()\n",
        |s| s.options.live_dangerously = true,
    );
    let channel = call(&core, &executor, dir.path(), SECOND / 2).await;
    let done = dir.path().join("done.txt");
    for _ in 0..500 {
        if std::fs::read_to_string(&done).is_ok_and(|t| t.ends_with('\n')) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(std::fs::read_to_string(&done).unwrap(), "flag\n");
    complete_wav(&dir.path().join("c.wav"));
    assert!(
        channel
            .var("MIXMONITOR_FILENAME")
            .unwrap()
            .ends_with("/c.wav")
    );
}

#[tokio::test]
async fn commands_are_refused_without_live_dangerously() {
    let (core, executor, _dir) = executor("[default]\nexten => 1,1,NoOp()\n");
    let (channel, _driver) = crate::testing::channel(&core, "default", "1");
    channel.set_var("X", "flag");
    assert_eq!(
        super::control::post_process(&executor, &channel, "touch /tmp/^{X}"),
        None
    );
    let (_core, allowed, _dir) = executor_with("[default]\nexten => 1,1,NoOp()\n", |s| {
        s.options.live_dangerously = true
    });
    assert_eq!(
        super::control::post_process(&allowed, &channel, "touch /tmp/^{X}"),
        Some("touch /tmp/flag".to_owned())
    );
    assert_eq!(super::control::post_process(&allowed, &channel, " "), None);
}

#[tokio::test]
async fn missing_arguments_end_the_call_and_unknown_formats_do_not() {
    for (args, goes_on) in [("", false), (",ab", false), ("x.gsm", true)] {
        let (core, executor, _dir) = executor(&format!(
            "[default]\nexten => 1,1,MixMonitor({args})\n same => n,Set(AFTER=1)\n"
        ));
        let (channel, _driver, _peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(Arc::clone(&executor), Arc::clone(&channel)).unwrap()).await;
        assert_eq!(
            channel.var("AFTER").is_some(),
            goes_on,
            "MixMonitor({args})"
        );
    }
}
