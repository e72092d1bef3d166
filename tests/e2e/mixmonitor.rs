//! MixMonitor end to end: the real binary records real calls from sipp
//! phones. `MixMonitor` before `Dial` must capture both parties through the
//! bridge (101 says 1 kHz in G.722, 102 says 440 Hz in PCMU); the AMI
//! actions start, mute, unmute and stop a recording of a call in progress,
//! with their events. The files are checked as a client would: a wav whose
//! header sizes are right, holding each party's tone (Goertzel).

use std::net::UdpSocket;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::Codec;
use obelus_media::analysis::{goertzel_power, signal_power};

use crate::call::{Phone, TALK, add_phone, call_101, phone_media, sqlite_pbx, wait_ok};
use crate::common::{AmiSession, ConfDir, enable_ami};

/// Keeps every state directory, the monitor spool included, inside the
/// test's configuration directory.
pub(crate) fn spool_inside(conf: &ConfDir) {
    let root = conf.path().display().to_string();
    conf.write(
        "asterisk.conf",
        &format!(
            "[directories]\nastrundir => {root}/run\nastlogdir => {root}/log\nastvarlibdir => {root}/lib\nastspooldir => {root}/spool\n[options]\nsystemname = pbx\nverbose = 3\n"
        ),
    );
}

/// Waits (bounded) until `path` is a complete 8 kHz wav: header sizes that
/// match the file, then returns its samples.
fn complete_wav(path: &Path) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(bytes) = std::fs::read(path)
            && bytes.len() > 44
        {
            let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            if le(40) == bytes.len() - 44 && le(4) == bytes.len() - 8 {
                let sound = obelus_media::sound::parse_wav(&bytes).expect("a valid wav file");
                assert_eq!(sound.rate, 8000, "{}", path.display());
                return sound.samples.to_vec();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never became a complete wav file",
            path.display()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The share of the recording's power at `freq` Hz.
fn share(samples: &[i16], freq: f32) -> f64 {
    goertzel_power(samples, 8000, freq) / signal_power(samples).max(1.0)
}

/// Both tones well present, a stray one absent.
fn assert_holds_both(samples: &[i16], a: f32, b: f32, absent: f32) {
    assert!(samples.len() > 16000, "{} samples", samples.len());
    let tail = &samples[4000..];
    let (share_a, share_b, share_x) = (share(tail, a), share(tail, b), share(tail, absent));
    assert!(
        share_a > 0.2 && share_b > 0.2 && share_a + share_b > 0.9,
        "{a} Hz {share_a:.2}, {b} Hz {share_b:.2}"
    );
    assert!(share_x < 0.01, "{absent} Hz {share_x:.3}");
}

#[test]
fn mixmonitor_before_dial_records_both_parties_through_the_bridge() {
    let (_shared, conf, port) = sqlite_pbx();
    spool_inside(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => _1XX,1,MixMonitor(calls/${EXTEN}.wav)\n same => n,Dial(PJSIP/${EXTEN})\n",
    );
    let _daemon = conf.start_foreground();
    let path = conf.path().join("spool/monitor/calls/102.wav");
    // The phones talk and hear each other as without the recording (and a
    // stranger's 3 kHz flood is dropped); mid-call the channel shows the
    // file name.
    call_101(
        &conf,
        port,
        "102",
        1,
        &format!("MIXMONITOR_FILENAME={}", path.display()),
    );
    let samples = complete_wav(&path);
    // About the length of the call.
    assert!(samples.len() < 8000 * 20, "{} samples", samples.len());
    assert_holds_both(&samples, 1000.0, 440.0, 3000.0);
}

/// The value of `key` in `text`'s first line that has it.
fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim_end_matches('\r'))
}

/// The response to action `id` and the first `event` about `channel`,
/// in whichever order they come (Asterisk publishes these events before
/// it answers, and delivers them on their own path).
fn answer_and_event(
    ami: &mut AmiSession,
    id: &str,
    event: &str,
    channel: &str,
) -> (String, String) {
    let (mut answer, mut seen) = (None, None);
    while answer.is_none() || seen.is_none() {
        let block = ami.read_until("\r\n\r\n");
        if block.starts_with("Response:") && block.contains(&format!("ActionID: {id}\r\n")) {
            answer = Some(block);
        } else if block.starts_with(&format!("Event: {event}\r\n"))
            && header(&block, "Channel") == Some(channel)
        {
            seen = Some(block);
        }
    }
    (answer.unwrap_or_default(), seen.unwrap_or_default())
}

/// The name of 101's channel, once it exists.
fn channel_of_101(conf: &ConfDir) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, concise, _) = conf.rx("core show channels concise");
        if let Some(name) = concise
            .lines()
            .find_map(|l| l.split('!').next().filter(|n| n.starts_with("PJSIP/101-")))
        {
            return name.to_owned();
        }
        assert!(Instant::now() < deadline, "no 101 channel:\n{concise}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ami_starts_mutes_and_stops_a_recording_with_its_events() {
    let (_shared, conf, port) = sqlite_pbx();
    spool_inside(&conf);
    let ami_port = enable_ami(&conf, "all");
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 600,1,Answer()\n same => n,PlayTones(440)\n same => n,Wait(30)\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let talk_ms = (TALK.as_millis() + 1000).to_string();
    let caller = Phone::calling("101", "600")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", &talk_ms])
        .log(&log)
        .start(port, dir.path(), "call_caller.xml");
    let phone = thread::spawn(move || phone_media(rtp, log, Codec::Ulaw, 0, 1000.0));
    let name = channel_of_101(&conf);
    let mut ami = AmiSession::login(ami_port);

    ami.send(&format!(
        "Action: MixMonitor\r\nActionID: m1\r\nChannel: {name}\r\nFile: ami/rec.wav\r\nOptions: i(MID)"
    ));
    let (started, event) = answer_and_event(&mut ami, "m1", "MixMonitorStart", &name);
    assert!(started.contains("Response: Success"), "{started}");
    let id = header(&started, "MixMonitorID").unwrap_or_else(|| panic!("{started}"));
    assert!(id.starts_with("0x"), "{started}");
    let id = id.to_owned();
    assert!(event.contains("Privilege: call,all"), "{event}");
    assert!(event.contains("Linkedid: "), "{event}");

    ami.send(&format!(
        "Action: Getvar\r\nActionID: g1\r\nChannel: {name}\r\nVariable: MIXMONITOR_FILENAME"
    ));
    let path = conf.path().join("spool/monitor/ami/rec.wav");
    let value = ami.response("g1");
    assert_eq!(header(&value, "Value"), path.to_str(), "{value}");

    for (action, state) in [("u1", "1"), ("u2", "0")] {
        ami.send(&format!(
            "Action: MixMonitorMute\r\nActionID: {action}\r\nChannel: {name}\r\nDirection: write\r\nState: {state}"
        ));
        let (muted, event) = answer_and_event(&mut ami, action, "MixMonitorMute", &name);
        assert!(muted.contains("Response: Success"), "{muted}");
        assert_eq!(header(&event, "Direction"), Some("write"), "{event}");
        assert_eq!(header(&event, "State"), Some(state), "{event}");
    }

    // Record a while, then stop: the file is complete when the answer comes.
    thread::sleep(TALK / 2);
    ami.send(&format!(
        "Action: StopMixMonitor\r\nActionID: s1\r\nChannel: {name}\r\nMixMonitorID: {id}"
    ));
    let (stopped, event) = answer_and_event(&mut ami, "s1", "MixMonitorStop", &name);
    assert!(stopped.contains("Response: Success"), "{stopped}");
    assert!(event.contains("Privilege: call,all"), "{event}");
    let bytes = std::fs::read(&path).unwrap();
    let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(le(40), bytes.len() - 44, "data size right at the answer");

    ami.send(&format!(
        "Action: StopMixMonitor\r\nActionID: s2\r\nChannel: {name}"
    ));
    let again = ami.response("s2");
    assert!(
        again.contains("Message: Could not stop monitoring channel"),
        "{again}"
    );

    let heard = phone.join().unwrap();
    wait_ok(caller, "101's call", dir.path());
    assert!(heard.audio.len() > 8000, "the phone heard the tones");
    let samples = complete_wav(&path);
    assert_holds_both(&samples, 1000.0, 440.0, 3000.0);
}

/// Waits (bounded) until `path` is a complete 8 kHz stereo wav, then
/// returns its left and right channels.
fn complete_stereo_wav(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(bytes) = std::fs::read(path)
            && bytes.len() > 44
        {
            let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
            let le32 =
                |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            if le32(40) == bytes.len() - 44 && le32(4) == bytes.len() - 8 {
                assert_eq!((le16(22), le16(32), le32(24)), (2, 4, 8000), "stereo 8 kHz");
                return bytes[44..]
                    .chunks_exact(4)
                    .map(|f| {
                        (
                            i16::from_le_bytes([f[0], f[1]]),
                            i16::from_le_bytes([f[2], f[3]]),
                        )
                    })
                    .unzip();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never became a complete wav file",
            path.display()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The first 20 ms frame of `audio` in which `freq` Hz dominates, and how
/// many such frames there are.
fn tone_frames(audio: &[i16], freq: f32) -> (Option<usize>, usize) {
    let hits: Vec<usize> = audio
        .chunks_exact(160)
        .enumerate()
        .filter(|(_, f)| share(f, freq) > 0.5)
        .map(|(i, _)| i)
        .collect();
    (hits.first().copied(), hits.len())
}

#[test]
fn d_records_a_stereo_file_and_p_beeps_to_the_phone_first() {
    let (_shared, conf, port) = sqlite_pbx();
    spool_inside(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 700,1,Answer()\n same => n,MixMonitor(calls/stereo.wav,Dp)\n same => n,PlayTones(440)\n same => n,Wait(30)\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("d.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let talk_ms = (TALK.as_millis() + 1000).to_string();
    let caller = Phone::calling("101", "700")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", &talk_ms])
        .log(&log)
        .start(port, dir.path(), "call_caller.xml");
    // The phone says 600 Hz; it hears the beep (the 1 kHz `beep` prompt)
    // and then the 440 Hz tones.
    let heard = phone_media(rtp, log, Codec::Ulaw, 0, 600.0);
    wait_ok(caller, "101's call", dir.path());

    let (beep_at, beep_frames) = tone_frames(&heard.audio, 1000.0);
    let (tones_at, tone_frames) = tone_frames(&heard.audio, 440.0);
    assert!(
        (8..=16).contains(&beep_frames),
        "{beep_frames} frames of beep heard"
    );
    assert!(tone_frames > 100, "{tone_frames} frames of 440 Hz heard");
    assert!(
        beep_at < tones_at,
        "beep at {beep_at:?}, tones at {tones_at:?}"
    );

    // The recording ends with the call: left what the phone said, right
    // what it heard (the start beep came before the recording).
    let path = conf.path().join("spool/monitor/calls/stereo.wav");
    let (left, right) = complete_stereo_wav(&path);
    assert!(left.len() > 16000, "{} frames", left.len());
    let (left, right) = (&left[4000..], &right[4000..]);
    let (said, heard_tone) = (share(left, 600.0), share(right, 440.0));
    assert!(said > 0.8, "left: 600 Hz {said:.2}");
    assert!(heard_tone > 0.8, "right: 440 Hz {heard_tone:.2}");
    assert!(share(left, 440.0) < 0.02 && share(right, 600.0) < 0.02);
}
