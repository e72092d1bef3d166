//! The service and the applications on channels with real RTP: what the
//! far end hears, the events on the bus, the class chosen.

use std::sync::Arc;
use std::time::Duration;

use obelus_core::Core;
use obelus_core::channel::Cause;
use obelus_core::events::{ChannelEventKind, Event};

use super::config::{ClassConfig, MohConfig};
use super::*;
use crate::testing::media::{media_channel, share};
use crate::testing::{executor, run_call};

/// A 20 ms frame of audio the peer received, or none within a moment.
const WAIT: Duration = Duration::from_millis(300);

/// `moh/tone` holds one song, a 1800 Hz tone; `default` has no files (the
/// built-in melody).
fn install(core: &Arc<Core>, prefer_channel_class: bool) -> Arc<MusicOnHold> {
    let dir = core.settings.dirs.data.join("moh/tone");
    std::fs::create_dir_all(&dir).unwrap();
    let tone = obelus_media::analysis::sine(8000, 1800.0, 8000.0, 8000);
    obelus_media::sound::write_wav(dir.join("tone.wav"), 8000, &tone).unwrap();
    let jazz = core.settings.dirs.data.join("moh/jazz");
    std::fs::create_dir_all(&jazz).unwrap();
    let low = obelus_media::analysis::sine(8000, 500.0, 8000.0, 8000);
    obelus_media::sound::write_wav(jazz.join("low.wav"), 8000, &low).unwrap();
    let moh = MusicOnHold::new(core.settings.dirs.data.clone());
    let config = MohConfig {
        prefer_channel_class,
        classes: vec![
            ClassConfig::files("default", "moh/empty"),
            ClassConfig::files("tone", "moh/tone"),
            ClassConfig::files("jazz", "moh/jazz"),
        ],
    };
    let mut problems = Vec::new();
    moh.apply(&config, &mut problems);
    assert_eq!(problems.len(), 1, "only the empty default: {problems:?}");
    forget_on_hangup(core, &moh);
    core.provide(Arc::clone(&moh));
    moh
}

/// About half a second of what the peer receives.
async fn listen(peer: &crate::testing::media::Peer) -> Vec<i16> {
    let mut audio = Vec::new();
    for _ in 0..25 {
        match peer.recv_audio(WAIT).await {
            Some(frame) => audio.extend(frame),
            None => break,
        }
    }
    audio
}

fn moh_events(events: &mut tokio::sync::broadcast::Receiver<Arc<Event>>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Channel(e) = event.as_ref() {
            match &e.kind {
                ChannelEventKind::MusicOnHoldStart { class } => out.push(format!("start {class}")),
                ChannelEventKind::MusicOnHoldStop => out.push("stop".to_owned()),
                _ => {}
            }
        }
    }
    out
}

#[tokio::test]
async fn start_plays_the_class_and_stop_ends_it_with_events() {
    let (core, _executor, _dir) = executor("[default]\n");
    let moh = install(&core, true);
    let mut events = core.events.subscribe();
    let (channel, _driver, peer) = media_channel(&core, "default", "s").await;
    assert_eq!(moh.start(&channel, Some("tone")).unwrap(), "tone");
    assert_eq!(moh.playing(&channel).as_deref(), Some("tone"));
    let heard = listen(&peer).await;
    assert!(heard.len() >= 2000, "{} samples", heard.len());
    assert!(share(&heard, 1800.0) > 0.8);
    assert!(moh.stop(&channel));
    assert!(!moh.stop(&channel), "nothing left to stop");
    peer.drain_audio().await;
    assert_eq!(peer.recv_audio(WAIT).await, None, "silent after stop");
    assert_eq!(moh_events(&mut events), ["start tone", "stop"]);
    // The channel keeps its place in the class: a new start of the same
    // class goes on from there, another class starts afresh.
    let cursor = |moh: &MusicOnHold| {
        let all = moh.channels();
        let (class, cursor) = all[channel.uniqueid()].resume.clone().unwrap();
        (class, cursor)
    };
    let (class, first) = cursor(&moh);
    assert_eq!(class, "tone");
    assert!(first.position().unwrap().1 > 0, "{:?}", first.position());
    moh.start(&channel, Some("tone")).unwrap();
    assert!(Arc::ptr_eq(&cursor(&moh).1, &first));
    moh.start(&channel, Some("jazz")).unwrap();
    assert!(!Arc::ptr_eq(&cursor(&moh).1, &first));
    moh.stop(&channel);
    assert_eq!(
        moh_events(&mut events),
        ["start tone", "start jazz", "stop"]
    );
    // A class that does not exist falls back to default (the melody).
    assert_eq!(moh.start(&channel, Some("nosuch")).unwrap(), "default");
    let melody = listen(&peer).await;
    assert!(
        obelus_media::analysis::signal_power(&melody) > 1e5,
        "audible"
    );
    assert_eq!(moh_events(&mut events), ["start default"]);
    // The channel's state goes with it.
    assert_eq!(moh.tracked(), 1);
    channel.hangup(Cause::NORMAL_CLEARING).await;
    assert_eq!(moh.tracked(), 0);
}

#[tokio::test]
async fn the_channel_class_wins_unless_preferchannelclass_is_off() {
    let (core, _executor, _dir) = executor("[default]\n");
    let moh = install(&core, true);
    let (channel, _driver, _peer) = media_channel(&core, "default", "s").await;
    moh.set_musicclass(&channel, "jazz");
    assert_eq!(moh.musicclass(&channel), "jazz");
    assert_eq!(moh.start(&channel, Some("tone")).unwrap(), "jazz");
    assert_eq!(moh.start(&channel, None).unwrap(), "jazz");
    // Dial's m(class) beats the channel's class.
    assert_eq!(
        moh.start_preferring(&channel, Some("tone")).unwrap(),
        "tone"
    );
    assert_eq!(moh.start_preferring(&channel, None).unwrap(), "jazz");
    moh.set_musicclass(&channel, "nosuch");
    assert_eq!(moh.start(&channel, Some("tone")).unwrap(), "tone");

    let (core, _executor, _dir) = executor("[default]\n");
    let moh = install(&core, false);
    let (channel, _driver, _peer) = media_channel(&core, "default", "s").await;
    moh.set_musicclass(&channel, "jazz");
    assert_eq!(moh.start(&channel, Some("tone")).unwrap(), "tone");
    assert_eq!(moh.start(&channel, None).unwrap(), "jazz");
}

#[tokio::test]
async fn without_classes_or_media_nothing_starts() {
    let (core, _executor, _dir) = executor("[default]\n");
    let moh = MusicOnHold::new(core.settings.dirs.data.clone());
    let (channel, _driver, _peer) = media_channel(&core, "default", "s").await;
    assert_eq!(
        moh.start(&channel, Some("x")),
        Err(MohError::NoClass("x".into()))
    );
    let moh = install(&core, true);
    let (plain, _) = crate::testing::channel(&core, "default", "s");
    assert!(matches!(moh.start(&plain, None), Err(MohError::NoMedia(_))));
    assert!(moh.start_silence(&plain).is_err());
}

#[tokio::test]
async fn silence_is_sent_until_stopped() {
    let (core, _executor, _dir) = executor("[default]\n");
    let moh = install(&core, true);
    let (channel, _driver, peer) = media_channel(&core, "default", "s").await;
    moh.start_silence(&channel).unwrap();
    let heard = listen(&peer).await;
    assert!(heard.len() >= 2000);
    assert!(heard.iter().all(|s| s.abs() < 16));
    moh.stop_silence(&channel);
    peer.drain_audio().await;
    assert_eq!(peer.recv_audio(WAIT).await, None);
}

#[tokio::test]
async fn the_applications_start_and_stop_music_on_hold() {
    let (core, executor, _dir) = executor(
        "[default]\nexten => s,1,MusicOnHold(tone,1)\n same => n,StartMusicOnHold(jazz)\n same => n,Wait(1)\n same => n,StopMusicOnHold()\n same => n,Set(CHANNEL(musicclass)=tone)\n same => n,Set(MC=${CHANNEL(musicclass)})\n",
    );
    let moh = install(&core, true);
    let mut events = core.events.subscribe();
    let (channel, _driver, peer) = media_channel(&core, "default", "s").await;
    let pbx = crate::pbx::Pbx::new(Arc::clone(&executor), Arc::clone(&channel)).unwrap();
    let run = tokio::spawn(crate::pbx::run(pbx));
    let first = listen(&peer).await;
    assert!(share(&first, 1800.0) > 0.8, "MusicOnHold(tone)");
    run.await.unwrap();
    let rest = peer.drain_audio().await;
    assert!(
        share(&rest[rest.len().saturating_sub(4000)..], 500.0) > 0.8,
        "then jazz"
    );
    assert_eq!(
        moh_events(&mut events),
        ["start tone", "stop", "start jazz", "stop"]
    );
    assert_eq!(channel.var("MC").as_deref(), Some("tone"));
    assert_eq!(moh.tracked(), 0, "forgotten at hangup");
}

#[tokio::test]
async fn without_the_module_the_applications_only_warn() {
    let (core, executor, _dir) = executor(
        "[default]\nexten => s,1,StartMusicOnHold()\n same => n,MusicOnHold(,1)\n same => n,StopMusicOnHold()\n same => n,Set(OK=1)\n",
    );
    let (channel, _) = run_call(&core, &executor, "default", "s").await;
    assert_eq!(channel.var("OK").as_deref(), Some("1"));
}
