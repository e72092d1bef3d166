//! ARI recordings and playback control on the real daemon: a sipp phone
//! calls `Stasis(rec)` and talks (a 600 Hz tone, from the test's RTP
//! socket); the test, as the ARI application, answers it over REST and
//! records it, then records the mix of a bridge it puts the channel in,
//! with the events on the WebSocket. The stored files are fetched over
//! REST and checked from their samples: the phone's tone, not silence.
//! Copying, deleting, canceling and the 4xx answers are checked on the way,
//! and a playback of the recording is paused, resumed and moved.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::Codec;
use obelus_media::analysis::{goertzel_power, signal_power};
use serde_json::Value;
use tungstenite::Message;

use crate::call::{add_phone, phone_media, sipp, sqlite_pbx, wait_ok};
use crate::common::{ConfDir, free_port};
use crate::mixmonitor::spool_inside;

/// The tone the phone says.
const TONE: f32 = 600.0;
/// How long each recording runs before it is stopped.
const RECORD: Duration = Duration::from_millis(1500);
/// `ari:s3cret`.
const AUTH: &str = "Basic YXJpOnMzY3JldA==";

/// One REST answer.
struct Answer {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A REST request on ARI (HTTP/1.1, Basic auth, parameters in the query).
fn rest(port: u16, method: &str, path: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Asserts the status of a request, showing the body when it differs.
fn expect(port: u16, method: &str, path: &str, status: u16) -> Answer {
    let answer = rest(port, method, path);
    assert_eq!(answer.status, status, "{method} {path}: {}", answer.text());
    answer
}

/// The events WebSocket of application `rec`.
struct Events(tungstenite::WebSocket<TcpStream>);

impl Events {
    /// Connects, and waits until the daemon lists the application.
    fn connect(conf: &ConfDir, port: u16) -> Events {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let url = format!("ws://127.0.0.1:{port}/ari/events?app=rec&api_key=ari:s3cret");
        let (ws, response) = tungstenite::client(url, stream).expect("WebSocket upgrade");
        assert_eq!(response.status(), 101);
        // Short reads from now on, so a missing event fails the test in
        // time instead of blocking it.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, apps, _) = conf.rx("ari show apps");
            if apps.contains("rec") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the application never registered:\n{apps}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        Events(ws)
    }

    /// The next event of type `kind` (others are skipped).
    fn next(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "no {kind} event");
            match self.0.read() {
                Ok(Message::Text(text)) => {
                    let event: Value = serde_json::from_str(text.as_str()).expect("JSON event");
                    if event["type"] == kind {
                        return event;
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("events socket: {e}"),
            }
        }
    }
}

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
    let http_port = free_port();
    conf.write(
        "http.conf",
        &format!("[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={http_port}\n"),
    );
    conf.write(
        "ari.conf",
        "[general]\nenabled=yes\n[ari]\ntype=user\npassword=s3cret\n",
    );
    conf.write("extensions.conf", "[testing]\nexten => 900,1,Stasis(rec)\n");
    (shared, conf, sip_port, http_port)
}

#[test]
fn a_call_is_recorded_stored_copied_and_played_back_under_control() {
    let (_shared, conf, sip_port, port) = pbx();
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let mut events = Events::connect(&conf, port);

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
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let log = dir.path().join("101.log");
    let caller = sipp(
        sip_port,
        dir.path(),
        "call_caller.xml",
        &[
            "-s",
            "101",
            "-au",
            "101",
            "-ap",
            "101",
            "-key",
            "dest",
            "900",
            "-p",
            &free_port().to_string(),
            "-key",
            "rtp_port",
            &rtp_port,
            "-key",
            "pt",
            "0",
            "-key",
            "codec",
            "PCMU",
            "-d",
            "12000",
            "-trace_logs",
            "-log_file",
            log.to_str().unwrap(),
            "-trace_err",
        ],
    );
    let media = thread::spawn(move || phone_media(rtp, log, Codec::Ulaw, 0, TONE));
    let started = events.next("StasisStart");
    let id = started["channel"]["id"].as_str().unwrap().to_owned();
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
    let recording = events.next("RecordingStarted")["recording"].clone();
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
    let finished = events.next("RecordingFinished")["recording"].clone();
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
    let recording = events.next("RecordingStarted")["recording"].clone();
    assert_eq!(recording["name"], "mix");
    expect(port, "POST", "/ari/recordings/live/mix/pause", 204);
    let paused = expect(port, "GET", "/ari/recordings/live/mix", 200).json();
    assert_eq!(paused["state"], "paused");
    expect(port, "DELETE", "/ari/recordings/live/mix/pause", 204);
    assert_eq!(
        events.next("RecordingStarted")["recording"]["state"],
        "recording",
        "resuming is announced as Asterisk does"
    );
    thread::sleep(RECORD);
    expect(port, "POST", "/ari/recordings/live/mix/stop", 204);
    let finished = events.next("RecordingFinished")["recording"].clone();
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
    events.next("RecordingStarted");
    expect(port, "DELETE", "/ari/recordings/live/calls%2Fdropped", 204);
    let canceled = events.next("RecordingFinished")["recording"].clone();
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
    assert_eq!(events.next("PlaybackStarted")["playback"]["id"], "pb1");
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
    let resumed = events.next("PlaybackStarted")["playback"].clone();
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
    let done = events.next("PlaybackFinished")["playback"].clone();
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
    events.next("StasisEnd");
}
