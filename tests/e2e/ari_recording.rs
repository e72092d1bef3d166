//! ARI recordings and playback control on the real daemon: a sipp phone
//! calls `Stasis(rec)` and talks (a 600 Hz tone, from the test's RTP
//! socket); the test, as the ARI application, answers it over REST and
//! records it, then records the mix of a bridge it puts the channel in,
//! with the events on the WebSocket. The stored files are fetched over
//! REST and checked from their samples: the phone's tone, not silence.
//! Copying, deleting, canceling and the 4xx answers are checked on the way,
//! and a playback of the recording is paused, resumed and moved.

use std::net::UdpSocket;
use std::thread;
use std::time::Duration;

use obelus_media::Codec;
use obelus_media::analysis::{goertzel_power, signal_power};

use crate::call::{Phone, add_phone, phone_media, sqlite_pbx, wait_ok};
use crate::common::ConfDir;
use crate::common::ari::{Events, channel_id, enable_ari, expect, wait_for_app};
use crate::mixmonitor::spool_inside;

/// The tone the phone says.
const TONE: f32 = 600.0;
/// How long each recording runs before it is stopped.
const RECORD: Duration = Duration::from_millis(1500);
/// The samples of a stored recording fetched over REST: an 8 kHz wav
/// served as `audio/wav`.
fn fetch_wav(port: u16, name: &str) -> Vec<i16> {
    let file = expect(
        port,
        "GET",
        &format!("/ari/recordings/stored/{name}/file"),
        200,
    );
    assert_eq!(file.header("Content-Type"), Some("audio/wav"));
    let sound = obelus_media::sound::parse_wav(&file.body).expect("a wav file");
    assert_eq!(sound.rate, 8000);
    sound.samples.to_vec()
}

/// The recording holds the phone's tone (at least half a second of it),
/// not silence.
fn assert_holds_tone(what: &str, samples: &[i16]) {
    assert!(samples.len() >= 4000, "{what}: {} samples", samples.len());
    let voiced: Vec<i16> = samples
        .chunks(160)
        .filter(|f| signal_power(f) > 1e5)
        .flatten()
        .copied()
        .collect();
    assert!(
        voiced.len() >= 4000,
        "{what}: only {} of {} samples carry sound",
        voiced.len(),
        samples.len()
    );
    let share = goertzel_power(&voiced, 8000, TONE) / signal_power(&voiced).max(1.0);
    assert!(share > 0.8, "{what}: {TONE} Hz is {share:.2} of the power");
}

/// A running ARI server with phone 101 and `exten => 900,1,Stasis(rec)`.
fn pbx() -> (tempfile::TempDir, ConfDir, u16, u16) {
    let (shared, conf, sip_port) = sqlite_pbx();
    spool_inside(&conf);
    let http_port = enable_ari(&conf);
    conf.write("extensions.conf", "[testing]\nexten => 900,1,Stasis(rec)\n");
    (shared, conf, sip_port, http_port)
}

#[test]
fn a_call_is_recorded_stored_copied_and_played_back_under_control() {
    let (_shared, conf, sip_port, port) = pbx();
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let mut events = Events::connect(port, "rec");
    wait_for_app(&conf, "rec");

    // Before any call: the stored recordings are empty, names are checked.
    let listed = expect(port, "GET", "/ari/recordings/stored", 200);
    assert_eq!(listed.json(), serde_json::json!([]));
    expect(port, "GET", "/ari/recordings/stored/nothing", 404);
    expect(port, "GET", "/ari/recordings/stored/nothing/file", 404);
    expect(port, "DELETE", "/ari/recordings/stored/nothing", 404);
    expect(port, "GET", "/ari/recordings/live/nothing", 404);
    expect(port, "POST", "/ari/recordings/live/nothing/stop", 404);
    expect(port, "POST", "/ari/recordings/live/nothing/pause", 404);
    expect(port, "DELETE", "/ari/recordings/live/nothing", 404);
    expect(
        port,
        "POST",
        "/ari/channels/nobody/record?name=x&format=wav",
        404,
    );

    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let log = dir.path().join("101.log");
    let caller = Phone::calling("101", "900")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", "12000"])
        .log(&log)
        .start(sip_port, dir.path(), "call_caller.xml");
    let media = thread::spawn(move || phone_media(rtp, log, Codec::Ulaw, 0, TONE));
    let started = events.until("StasisStart");
    let id = channel_id(&started);
    let channel = format!("/ari/channels/{id}");

    // Bad requests, before the phone is answered.
    let bad_format = expect(
        port,
        "POST",
        &format!("{channel}/record?name=x&format=mp3"),
        422,
    );
    assert_eq!(
        bad_format.json()["message"],
        "specified format is unknown on this system"
    );
    expect(
        port,
        "POST",
        &format!("{channel}/record?name=../escape&format=wav"),
        400,
    );
    expect(
        port,
        "POST",
        &format!("{channel}/record?name=x&format=wav&ifExists=sometimes"),
        400,
    );
    expect(port, "POST", &format!("{channel}/answer"), 204);

    // The channel's recording: what the phone says.
    let created = expect(
        port,
        "POST",
        &format!("{channel}/record?name=calls/first&format=wav&maxSilenceSeconds=10"),
        201,
    );
    assert_eq!(
        created.header("Location"),
        Some("/ari/recordings/live/calls%2Ffirst")
    );
    let live = created.json();
    assert_eq!(live["name"], "calls/first");
    assert_eq!(live["format"], "wav");
    assert_eq!(live["target_uri"], format!("channel:{id}"));
    assert_eq!(live["state"], "queued");
    let again = expect(
        port,
        "POST",
        &format!("{channel}/record?name=calls/first&format=wav&ifExists=overwrite"),
        409,
    );
    assert!(again.text().contains("already exists"), "{}", again.text());
    let recording = events.until("RecordingStarted")["recording"].clone();
    assert_eq!(
        (recording["name"].as_str(), recording["state"].as_str()),
        (Some("calls/first"), Some("recording"))
    );
    let shown = expect(port, "GET", "/ari/recordings/live/calls%2Ffirst", 200).json();
    assert_eq!(shown["state"], "recording");
    // While it records, the channel may not join a bridge.
    let bridge = expect(port, "POST", "/ari/bridges?type=mixing&bridgeId=br1", 200);
    assert_eq!(bridge.json()["id"], "br1");
    expect(
        port,
        "POST",
        &format!("/ari/bridges/br1/addChannel?channel={id}"),
        409,
    );
    thread::sleep(RECORD);
    expect(port, "POST", "/ari/recordings/live/calls%2Ffirst/mute", 204);
    expect(
        port,
        "DELETE",
        "/ari/recordings/live/calls%2Ffirst/mute",
        204,
    );
    expect(port, "POST", "/ari/recordings/live/calls%2Ffirst/stop", 204);
    let finished = events.until("RecordingFinished")["recording"].clone();
    assert_eq!(finished["name"], "calls/first");
    assert_eq!(finished["state"], "done");
    assert!(finished["duration"].as_u64().unwrap() >= 1, "{finished}");
    assert!(
        finished["talking_duration"].as_u64().unwrap() >= 1,
        "{finished}"
    );
    expect(port, "GET", "/ari/recordings/live/calls%2Ffirst", 404);
    let first = fetch_wav(port, "calls%2Ffirst");
    assert_holds_tone("the channel recording", &first);

    // The bridge's recording: its mix, here the phone alone.
    expect(
        port,
        "POST",
        &format!("/ari/bridges/br1/addChannel?channel={id}"),
        204,
    );
    expect(
        port,
        "POST",
        &format!("{channel}/record?name=bridged&format=wav"),
        409,
    );
    let created = expect(
        port,
        "POST",
        "/ari/bridges/br1/record?name=mix&format=wav",
        201,
    );
    assert_eq!(created.json()["target_uri"], "bridge:br1");
    let recording = events.until("RecordingStarted")["recording"].clone();
    assert_eq!(recording["name"], "mix");
    expect(port, "POST", "/ari/recordings/live/mix/pause", 204);
    let paused = expect(port, "GET", "/ari/recordings/live/mix", 200).json();
    assert_eq!(paused["state"], "paused");
    expect(port, "DELETE", "/ari/recordings/live/mix/pause", 204);
    assert_eq!(
        events.until("RecordingStarted")["recording"]["state"],
        "recording",
        "resuming is announced as Asterisk does"
    );
    thread::sleep(RECORD);
    expect(port, "POST", "/ari/recordings/live/mix/stop", 204);
    let finished = events.until("RecordingFinished")["recording"].clone();
    assert_eq!(
        (finished["name"].as_str(), finished["state"].as_str()),
        (Some("mix"), Some("done"))
    );
    let mix = fetch_wav(port, "mix");
    assert_holds_tone("the bridge recording", &mix);
    expect(
        port,
        "POST",
        &format!("/ari/bridges/br1/removeChannel?channel={id}"),
        204,
    );

    // A canceled recording leaves no file.
    expect(
        port,
        "POST",
        &format!("{channel}/record?name=calls/dropped&format=sln"),
        201,
    );
    events.until("RecordingStarted");
    expect(port, "DELETE", "/ari/recordings/live/calls%2Fdropped", 204);
    let canceled = events.until("RecordingFinished")["recording"].clone();
    assert_eq!(canceled["state"], "canceled");
    expect(port, "GET", "/ari/recordings/stored/calls%2Fdropped", 404);

    // Stored recordings: listed, copied (not over another), deleted.
    let listed = expect(port, "GET", "/ari/recordings/stored", 200).json();
    assert_eq!(
        listed,
        serde_json::json!([
            {"name": "calls/first", "format": "wav"},
            {"name": "mix", "format": "wav"}
        ])
    );
    let stored = expect(port, "GET", "/ari/recordings/stored/calls%2Ffirst", 200).json();
    assert_eq!(
        stored,
        serde_json::json!({"name": "calls/first", "format": "wav"})
    );
    let copied = expect(
        port,
        "POST",
        "/ari/recordings/stored/calls%2Ffirst/copy?destinationRecordingName=kept/copy",
        200,
    );
    assert_eq!(
        copied.json(),
        serde_json::json!({"name": "kept/copy", "format": "wav"})
    );
    assert_eq!(fetch_wav(port, "kept%2Fcopy"), first);
    expect(
        port,
        "POST",
        "/ari/recordings/stored/calls%2Ffirst/copy?destinationRecordingName=mix",
        409,
    );
    expect(
        port,
        "POST",
        "/ari/recordings/stored/nothing/copy?destinationRecordingName=other",
        404,
    );
    expect(port, "DELETE", "/ari/recordings/stored/kept%2Fcopy", 204);
    expect(port, "GET", "/ari/recordings/stored/kept%2Fcopy", 404);
    expect(port, "DELETE", "/ari/recordings/stored/kept%2Fcopy", 404);

    // The recording played back, paused, resumed and moved.
    let play = expect(
        port,
        "POST",
        &format!("{channel}/play?media=recording:calls/first&playbackId=pb1&skipms=100"),
        201,
    );
    assert_eq!(play.json()["state"], "queued");
    assert_eq!(events.until("PlaybackStarted")["playback"]["id"], "pb1");
    expect(
        port,
        "POST",
        "/ari/playbacks/pb1/control?operation=pause",
        204,
    );
    assert_eq!(
        expect(port, "GET", "/ari/playbacks/pb1", 200).json()["state"],
        "paused"
    );
    expect(
        port,
        "POST",
        "/ari/playbacks/pb1/control?operation=pause",
        204,
    );
    for refused in ["forward", "reverse", "restart"] {
        expect(
            port,
            "POST",
            &format!("/ari/playbacks/pb1/control?operation={refused}"),
            409,
        );
    }
    expect(
        port,
        "POST",
        "/ari/playbacks/pb1/control?operation=unpause",
        204,
    );
    let resumed = events.until("PlaybackStarted")["playback"].clone();
    assert_eq!(
        (resumed["id"].as_str(), resumed["state"].as_str()),
        (Some("pb1"), Some("playing"))
    );
    for op in ["unpause", "forward", "reverse", "restart"] {
        expect(
            port,
            "POST",
            &format!("/ari/playbacks/pb1/control?operation={op}"),
            204,
        );
    }
    expect(
        port,
        "POST",
        "/ari/playbacks/pb1/control?operation=rewind",
        400,
    );
    expect(
        port,
        "POST",
        "/ari/playbacks/none/control?operation=pause",
        404,
    );
    expect(port, "DELETE", "/ari/playbacks/pb1", 204);
    let done = events.until("PlaybackFinished")["playback"].clone();
    assert_eq!(
        (done["id"].as_str(), done["state"].as_str()),
        (Some("pb1"), Some("done"))
    );
    expect(
        port,
        "POST",
        "/ari/playbacks/pb1/control?operation=pause",
        404,
    );

    media.join().unwrap();
    wait_ok(caller, "the recorded call", dir.path());
    events.until("StasisEnd");
}
