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
use crate::testing::media::{block_share, install_sound, media_channel, share, tone};
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

/// The two channels of a stereo 8 kHz wav whose header sizes are right.
fn stereo_wav(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let bytes = std::fs::read(path).unwrap();
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!((le16(22), le16(32)), (2, 4), "stereo PCM16");
    assert_eq!(le32(24), 8000);
    assert_eq!(
        le32(40),
        bytes.len() - 44,
        "data size of {}",
        path.display()
    );
    bytes[44..]
        .chunks_exact(4)
        .map(|f| {
            (
                i16::from_le_bytes([f[0], f[1]]),
                i16::from_le_bytes([f[2], f[3]]),
            )
        })
        .unzip()
}

/// 20 ms frames of `audio` in which `freq` Hz dominates.
fn frames_of(audio: &[i16], freq: f32) -> usize {
    audio
        .chunks_exact(SECOND / 50)
        .filter(|f| share(f, freq) > 0.5)
        .count()
}

/// The beep the tests install: 300 ms of 2 kHz, unlike anything else.
const BEEP_HZ: f32 = 2000.0;

fn install_beep(core: &Core) {
    install_sound(core, "beep", &tone(BEEP_HZ, 3 * SECOND / 10));
}

#[tokio::test]
async fn d_puts_each_direction_in_its_channel_and_p_beeps_before_recording() {
    let (core, executor, dir) = executor(
        "[default]\nexten => 1,1,Answer()\n same => n,MixMonitor(/${DIR}/stereo.wav,Dp)\n same => n,Playback(hum)\n same => n,StopMixMonitor()\n",
    );
    install_sound(&core, "hum", &tone(1000.0, 2 * SECOND));
    install_beep(&core);
    let (channel, _driver, mut peer) = media_channel(&core, "default", "1").await;
    set_dir(&channel, dir.path());
    let task = tokio::spawn(run(
        Pbx::new(Arc::clone(&executor), Arc::clone(&channel)).unwrap()
    ));
    peer.send_audio(&tone(440.0, 5 * SECOND / 2)).await;
    task.await.unwrap();
    let (left, right) = stereo_wav(&dir.path().join("stereo.wav"));
    assert!(left.len() > SECOND, "{} frames", left.len());
    let (l, r) = (&left[SECOND / 5..], &right[SECOND / 5..]);
    let (l440, r1k) = (block_share(l, 440.0), block_share(r, 1000.0));
    assert!(l440 > 0.8, "left 440 Hz {l440:.2}");
    assert!(r1k > 0.8, "right 1 kHz {r1k:.2}");
    assert!(block_share(l, 1000.0) < 0.05 && block_share(r, 440.0) < 0.05);
    // The start beep was heard before the recording began, then the prompt.
    assert_eq!(frames_of(&right, BEEP_HZ), 0, "the beep is not recorded");
    let heard = peer.drain_audio().await;
    let beep = frames_of(&heard, BEEP_HZ);
    assert!((12..=16).contains(&beep), "{beep} frames of beep heard");
    let first_prompt = heard
        .chunks_exact(SECOND / 50)
        .position(|f| share(f, 1000.0) > 0.5)
        .expect("the prompt was heard");
    let first_beep = heard
        .chunks_exact(SECOND / 50)
        .position(|f| share(f, BEEP_HZ) > 0.5)
        .unwrap();
    assert!(
        first_beep < first_prompt,
        "beep at {first_beep}, prompt at {first_prompt}"
    );
}

#[tokio::test]
async fn b_beeps_every_interval_and_p_upper_beeps_at_the_stop() {
    let (core, executor, dir) = executor("[default]\nexten => 1,1,Wait(30)\n");
    install_beep(&core);
    let (channel, mut peer, task) = waiting_channel(&core, &executor).await;
    let file = format!("{}/beeps.wav", dir.path().display());
    let request = Request {
        file: &file,
        options: "B(1)P",
        command: "",
    };
    start(&executor, &channel, &request).await.unwrap();
    let quiet_start = peer.recv_audio(Duration::from_millis(500)).await;
    assert!(quiet_start.is_none(), "no start beep without p");
    // Two periodic beeps (after one and two seconds), then the stop's.
    peer.send_audio(&tone(440.0, 2 * SECOND)).await;
    assert!(stop(&channel, None).await);
    let heard = peer.drain_audio().await;
    channel.request_hangup(Cause::NORMAL_CLEARING);
    task.await.unwrap();
    let beep = frames_of(&heard, BEEP_HZ);
    assert!(
        (40..=50).contains(&beep),
        "{beep} frames of beep: not 3 beeps"
    );
    // The beeps go to the phone only; the recording has what it said.
    let samples = complete_wav(Path::new(&file));
    assert!(share(&samples, 440.0) > 0.8);
}

#[tokio::test]
async fn m_copies_every_file_into_the_boxes_and_d_deletes_them() {
    let (core, executor, dir) = executor("[default]\nexten => 1,1,Wait(30)\n");
    let (channel, mut peer, task) = waiting_channel(&core, &executor).await;
    channel.set_connected(obelus_core::channel::Party {
        number: "102".into(),
        name: "Bob".into(),
    });
    let spool = dir.path().join("spool");
    let kept = format!("{}/kept.wav", dir.path().display());
    let first = Request {
        file: &kept,
        options: "m(100@office&200)r(in.sln)",
        command: "",
    };
    let gone = format!("{}/gone.wav", dir.path().display());
    let second = Request {
        file: &gone,
        options: "cdm(300)",
        command: "",
    };
    let a = start(&executor, &channel, &first).await.unwrap();
    start(&executor, &channel, &second).await.unwrap();
    peer.send_audio(&tone(440.0, 3 * SECOND / 2)).await;
    assert!(stop(&channel, Some(&a.id)).await);
    assert!(stop(&channel, None).await);
    channel.request_hangup(Cause::NORMAL_CLEARING);
    task.await.unwrap();

    let inbox = |b: &str| spool.join(format!("voicemail/{b}/INBOX"));
    let text = |path: PathBuf| {
        for _ in 0..500 {
            if let Ok(t) = std::fs::read_to_string(&path)
                && t.contains("duration=")
            {
                return t;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no message {}", path.display());
    };
    for mailbox in ["office/100", "default/200"] {
        let t = text(inbox(mailbox).join("msg0000.txt"));
        assert!(t.contains("\ncallerid=\"Bob\" <102>\n"), "{t}");
        assert!(t.contains("\ncallerchan=Test/media-"), "{t}");
        assert!(t.contains("\ncontext=default\nexten=1\n"), "{t}");
        assert!(t.contains("\nduration=1\n"), "{t}");
        assert_eq!(
            std::fs::read(inbox(mailbox).join("msg0000.wav")).unwrap(),
            std::fs::read(&kept).unwrap()
        );
        // The r() file is a message of its own, in its own format.
        text(inbox(mailbox).join("msg0001.txt"));
        let read = std::fs::read(inbox(mailbox).join("msg0001.sln")).unwrap();
        assert_eq!(read, std::fs::read(spool.join("monitor/in.sln")).unwrap());
    }
    let t = text(inbox("default/300").join("msg0000.txt"));
    assert!(
        t.contains("\ncallerid=\"Alice\" <101>\n"),
        "c: the caller: {t}"
    );
    assert!(inbox("default/300").join("msg0000.wav").is_file());
    for _ in 0..500 {
        if !Path::new(&gone).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!Path::new(&gone).exists(), "d deletes the recording");
    assert!(Path::new(&kept).exists());
}

#[tokio::test]
async fn s_receive_and_transmit_files_stay_in_step_when_one_side_is_silent() {
    let (core, executor, dir) = executor(
        "[default]\nexten => 1,1,Answer()\n same => n,MixMonitor(,Sr(/${DIR}/in.sln)t(/${DIR}/out.sln))\n same => n,Playback(hum)\n same => n,StopMixMonitor()\n",
    );
    install_sound(&core, "hum", &tone(1000.0, SECOND));
    // The caller says nothing at all.
    let channel = call(&core, &executor, dir.path(), 0).await;
    assert_eq!(channel.var("MIXMONITOR_FILENAME").as_deref(), Some(""));
    let read = sln(&dir.path().join("in.sln"));
    let write = sln(&dir.path().join("out.sln"));
    assert!(write.len() > SECOND / 2, "{} samples", write.len());
    assert_eq!(read.len(), write.len(), "silence fills the quiet side");
    assert!(read.iter().all(|&s| s == 0));
    assert!(share(&write, 1000.0) > 0.8);
}

#[tokio::test]
async fn n_leaves_the_silence_of_a_quiet_side_out_of_its_file() {
    let (core, executor, dir) = executor(
        "[default]\nexten => 1,1,Answer()\n same => n,MixMonitor(/${DIR}/all.wav,nr(/${DIR}/in.sln)t(/${DIR}/out.sln))\n same => n,Playback(hum)\n same => n,StopMixMonitor()\n",
    );
    install_sound(&core, "hum", &tone(1000.0, SECOND));
    // The caller says nothing at all.
    let _channel = call(&core, &executor, dir.path(), 0).await;
    let read = sln(&dir.path().join("in.sln"));
    let write = sln(&dir.path().join("out.sln"));
    assert!(write.len() > SECOND / 2, "{} samples", write.len());
    assert!(
        read.len() < SECOND / 10,
        "no padding: {} samples",
        read.len()
    );
    assert!(share(&write, 1000.0) > 0.8);
    let mixed = complete_wav(&dir.path().join("all.wav"));
    assert_eq!(mixed.len(), write.len(), "the mixed file is whole");
}
