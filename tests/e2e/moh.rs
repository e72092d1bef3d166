//! Music on hold end to end, proven from the RTP the phones receive: a
//! caller of `Dial(...,m)` hears the `default` class until the callee
//! answers; when one party of the bridge holds (re-INVITE `a=sendonly`) the
//! other hears music until the unhold; `MusicOnHold()` on a class without
//! files plays the built-in melody; the console shows and reloads the
//! classes; and an unmodified ARI client (aioari) starts and stops music,
//! silence and muting on channels and bridges.
//!
//! The `default` class of these tests is one file, an 1800 Hz tone, so
//! music is told from the phones' own tones (1000 Hz and 440 Hz) by its
//! frequency.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::Codec;
use obelus_media::analysis::{goertzel_power, signal_power, sine};

use crate::call::{Heard, Phone, add_phone, callee_102, phone_media_for, sqlite_pbx, wait_ok};
use crate::common::ari::{enable_ari, wait_for_app};
use crate::common::{ConfDir, ami_watcher, enable_ami};

/// The `default` class's tone.
const MUSIC: f32 = 1800.0;
/// The caller's (101) tone.
const CALLER: f32 = 1000.0;
/// The callee's (102) tone.
const CALLEE: f32 = 440.0;

/// Music dirs inside the configuration directory: `default` plays the
/// 1800 Hz tone, `melody` has no file (the built-in melody). Returns the
/// two directories.
fn music(conf: &ConfDir) -> (PathBuf, PathBuf) {
    let tone_dir = conf.path().join("moh-tone");
    let empty_dir = conf.path().join("moh-empty");
    std::fs::create_dir_all(&tone_dir).unwrap();
    std::fs::create_dir_all(&empty_dir).unwrap();
    let tone = sine(8000, MUSIC, 8000.0, 8000 * 3);
    obelus_media::sound::write_wav(tone_dir.join("tone.wav"), 8000, &tone).unwrap();
    conf.write(
        "musiconhold.conf",
        &format!(
            "[general]\n\n[default]\nmode=files\ndirectory={}\n\n[melody]\nmode=files\ndirectory={}\nsort=random\n",
            tone_dir.display(),
            empty_dir.display()
        ),
    );
    (tone_dir, empty_dir)
}

/// The tones a phone heard, in order: its audio cut in 100 ms blocks, each
/// named by the candidate carrying at least half its power; runs shorter
/// than 300 ms are dropped and repeats merged.
fn phases(heard: &Heard, candidates: &[f32]) -> Vec<f32> {
    let block = heard.rate as usize / 10;
    let mut labels: Vec<Option<f32>> = Vec::new();
    for chunk in heard.audio.chunks_exact(block) {
        let total = signal_power(chunk);
        labels.push(
            candidates
                .iter()
                .copied()
                .find(|&f| total > 1e5 && goertzel_power(chunk, heard.rate, f) > 0.5 * total),
        );
    }
    let mut out: Vec<f32> = Vec::new();
    let mut i = 0;
    while i < labels.len() {
        let run = labels[i..].iter().take_while(|l| **l == labels[i]).count();
        if let Some(f) = labels[i]
            && run >= 3
            && out.last() != Some(&f)
        {
            out.push(f);
        }
        i += run;
    }
    out
}

/// Whether `want` appears in `seen` in order (not necessarily adjacent).
fn in_order(seen: &[f32], want: &[f32]) -> bool {
    let mut it = seen.iter();
    want.iter().all(|w| it.any(|s| s == w))
}

/// The `MusicOnHold*` events in AMI text, as `(event, channel, class)`.
fn moh_events(text: &str) -> Vec<(String, String, String)> {
    text.split("\r\n\r\n")
        .filter(|block| block.contains("Event: MusicOnHold"))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .to_owned()
            };
            let channel = field("Channel");
            let device = channel.split('-').next().unwrap_or_default().to_owned();
            (field("Event"), device, field("Class"))
        })
        .collect()
}

/// Starts a call from 101 to `dest` with `scenario` (and extra sipp
/// arguments); returns sipp and its log.
fn caller_101(
    port: u16,
    dir: &Path,
    scenario: &str,
    dest: &str,
    rtp: &UdpSocket,
    extra: &[&str],
) -> (std::process::Child, PathBuf) {
    let log = dir.join(format!("a-{dest}.log"));
    let caller = Phone::calling("101", dest)
        .rtp(rtp)
        .codec("0", "PCMU")
        .log(&log)
        .args(extra)
        .start(port, dir, scenario);
    (caller, log)
}

#[test]
fn dial_m_plays_music_until_the_answer_and_a_hold_gives_the_other_party_music() {
    let (_shared, conf, port) = sqlite_pbx();
    music(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 700,1,Dial(PJSIP/102,,m)\n",
    );
    let ami = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut watch = ami_watcher(ami);
    add_phone(&conf, "101", "ulaw");
    add_phone(&conf, "102", "ulaw");
    let dir = tempfile::tempdir().unwrap();
    let (rtp_a, rtp_b) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let (callee, log_b) = callee_102(&conf, port, dir.path(), "moh_callee.xml", &rtp_b);
    // Rings 2 s (music), talks 2 s, holds 2.5 s, talks 2 s.
    let (caller, log_a) = caller_101(port, dir.path(), "moh_hold_caller.xml", "700", &rtp_a, &[]);
    let a = thread::spawn(move || {
        phone_media_for(
            rtp_a,
            log_a,
            Codec::Ulaw,
            0,
            CALLER,
            Duration::from_millis(8500),
        )
    });
    let b = thread::spawn(move || {
        phone_media_for(
            rtp_b,
            log_b,
            Codec::Ulaw,
            0,
            CALLEE,
            Duration::from_millis(8000),
        )
    });
    let (heard_a, heard_b) = (a.join().unwrap(), b.join().unwrap());
    wait_ok(caller, "101's call with hold", dir.path());
    wait_ok(callee, "102's late answer", dir.path());

    let tones = [MUSIC, CALLER, CALLEE];
    let seen_a = phases(&heard_a, &tones);
    assert!(
        in_order(&seen_a, &[MUSIC, CALLEE]),
        "101 heard {seen_a:?}: music while ringing, then 102"
    );
    assert!(
        !seen_a.contains(&CALLER),
        "101 never hears itself: {seen_a:?}"
    );
    let seen_b = phases(&heard_b, &tones);
    assert!(
        in_order(&seen_b, &[CALLER, MUSIC, CALLER]),
        "102 heard {seen_b:?}: 101, music while held, 101 again"
    );
    assert!(
        !seen_b.contains(&CALLEE),
        "102 never hears itself: {seen_b:?}"
    );

    let mut text = watch("Event: MusicOnHoldStop");
    text.push_str(&watch("Event: MusicOnHoldStop"));
    text.push_str(&watch("\r\n\r\n"));
    let events = moh_events(&text);
    let want = [
        ("MusicOnHoldStart", "PJSIP/101", "default"),
        ("MusicOnHoldStop", "PJSIP/101", ""),
        ("MusicOnHoldStart", "PJSIP/102", "default"),
        ("MusicOnHoldStop", "PJSIP/102", ""),
    ];
    let got: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|(e, c, k)| (e.as_str(), c.as_str(), k.as_str()))
        .collect();
    assert_eq!(got, want, "{text}");
}

#[test]
fn music_on_hold_plays_the_builtin_melody_for_a_class_without_files_and_the_console_shows_it() {
    let (_shared, conf, port) = sqlite_pbx();
    let (tone_dir, empty_dir) = music(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 710,1,Answer()\n same => n,MusicOnHold(melody)\n",
    );
    let ami = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut watch = ami_watcher(ami);
    add_phone(&conf, "101", "ulaw");

    let (_, classes, _) = conf.rx("moh show classes");
    assert_eq!(
        classes,
        format!(
            "Class: default\n\tMode: files\n\tDirectory: {}\nClass: melody\n\tMode: files\n\tDirectory: {}\n",
            tone_dir.display(),
            empty_dir.display()
        )
    );
    let (_, files, _) = conf.rx("moh show files");
    assert_eq!(
        files,
        format!("Class: default\n\tFile: {}/tone\n", tone_dir.display())
    );
    let (_, apps, _) = conf.rx("core show applications like MusicOnHold");
    for line in [
        "           MusicOnHold: Play Music On Hold indefinitely. ",
        "      StartMusicOnHold: Play Music On Hold. ",
        "       StopMusicOnHold: Stop playing Music On Hold. ",
    ] {
        assert!(apps.contains(line), "{apps}");
    }

    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (caller, log) = caller_101(
        port,
        dir.path(),
        "call_caller.xml",
        "710",
        &rtp,
        &["-d", "3000"],
    );
    let heard = thread::spawn(move || {
        phone_media_for(rtp, log, Codec::Ulaw, 0, CALLER, Duration::from_secs(3))
    })
    .join()
    .unwrap();
    wait_ok(caller, "101's call to MusicOnHold", dir.path());
    let audio = &heard.audio[..heard.audio.len().min(8000 * 2)];
    assert!(audio.len() >= 8000, "{} samples", audio.len());
    let total = signal_power(audio);
    assert!(total > 1e6, "audible: {total:.0}");
    // The melody's notes (C4 E4 F4 G4 A4 B4 C5 D5 E5) carry the power of
    // most 50 ms blocks (those across two notes may not), and none of it
    // is the caller's own tone.
    let notes = [
        261.63, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25, 587.33, 659.25,
    ];
    let blocks: Vec<&[i16]> = audio.chunks_exact(400).collect();
    let tuneful = blocks
        .iter()
        .filter(|b| {
            let melody: f64 = notes.iter().map(|&f| goertzel_power(b, 8000, f)).sum();
            melody > 0.5 * signal_power(b)
        })
        .count();
    assert!(
        tuneful * 10 >= blocks.len() * 6,
        "{tuneful} of {} blocks are notes of the melody",
        blocks.len()
    );
    assert!(goertzel_power(audio, 8000, CALLER) < 0.01 * total);
    let mut text = watch("Event: MusicOnHoldStop");
    text.push_str(&watch("\r\n\r\n"));
    let events = moh_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(
        events[0],
        (
            "MusicOnHoldStart".into(),
            "PJSIP/101".into(),
            "melody".into()
        )
    );
    assert_eq!(events[1].0, "MusicOnHoldStop");

    // A file added to the class is played after `moh reload`.
    let tune = sine(8000, 700.0, 8000.0, 8000);
    obelus_media::sound::write_wav(empty_dir.join("tune.wav"), 8000, &tune).unwrap();
    let (code, out, err) = conf.rx("moh reload");
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (_, files, _) = conf.rx("moh show files");
    assert!(
        files.ends_with(&format!(
            "Class: melody\n\tFile: {}/tune\n",
            empty_dir.display()
        )),
        "{files}"
    );
    // A broken file is refused with its file and line, and the classes stay.
    conf.write("musiconhold.conf", "[default]\nmode=mp4\n");
    let (_, out, err) = conf.rx("moh reload");
    assert!(
        format!("{out}{err}").contains("musiconhold.conf:2"),
        "{out}{err}"
    );
    let (_, files_after, _) = conf.rx("moh show files");
    assert_eq!(files_after, files);
}

#[test]
fn ari_music_on_hold_silence_and_mute_change_what_the_far_side_receives() {
    let (_shared, conf, port) = sqlite_pbx();
    music(&conf);
    let http_port = enable_ari(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 900,1,Stasis(mohtest)\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    add_phone(&conf, "102", "ulaw");
    let client = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/ari_moh.py");
    let mut app = Command::new("python3")
        .arg(client)
        .arg(format!("http://127.0.0.1:{http_port}"))
        .args(["ari", "s3cret", "mohtest", "1.5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with aioari (pip install aioari)");
    wait_for_app(&conf, "mohtest");
    let dir = tempfile::tempdir().unwrap();
    let (rtp_a, rtp_b) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let (caller_a, log_a) = caller_101(
        port,
        dir.path(),
        "call_caller.xml",
        "900",
        &rtp_a,
        &["-d", "20000"],
    );
    let a = thread::spawn(move || {
        phone_media_for(
            rtp_a,
            log_a,
            Codec::Ulaw,
            0,
            CALLER,
            Duration::from_secs(20),
        )
    });
    let log_b = dir.path().join("b.log");
    let caller_b = Phone::calling("102", "900")
        .rtp(&rtp_b)
        .codec("0", "PCMU")
        .args(&["-d", "20000"])
        .log(&log_b)
        .start(port, dir.path(), "call_caller.xml");
    let b = thread::spawn(move || {
        phone_media_for(
            rtp_b,
            log_b,
            Codec::Ulaw,
            0,
            CALLEE,
            Duration::from_secs(20),
        )
    });

    // The client's markers, stamped as they arrive.
    let mut markers: Vec<(String, Instant)> = Vec::new();
    let mut checks = Vec::new();
    for line in BufReader::new(app.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        assert!(!line.starts_with("FAILED"), "{line}");
        if let Some(check) = line.strip_prefix("CHECK ") {
            checks.push(check.to_owned());
        } else if line != "READY" {
            markers.push((line.clone(), Instant::now()));
        }
        if line == "DONE" {
            break;
        }
    }
    let (heard_a, heard_b) = (a.join().unwrap(), b.join().unwrap());
    wait_ok(caller_a, "101's call", dir.path());
    wait_ok(caller_b, "102's call", dir.path());
    let _ = app.kill();
    let _ = app.wait();

    assert_eq!(
        checks,
        [
            "startMoh-unknown-channel 404",
            "mute-unknown-channel 404",
            "startSilence-unknown-channel 404",
            "mute-bad-direction 400",
            "startMoh-unknown-bridge 404",
            "stopMoh-quiet-bridge 409",
        ]
    );
    let names: Vec<&str> = markers.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        names,
        [
            "BRIDGED",
            "MUTE_IN",
            "UNMUTED",
            "MOH",
            "MOH_STOPPED",
            "MUTE_OUT",
            "BRIDGE_MOH",
            "BRIDGE_MOH_STOPPED",
            "SILENCE",
            "DONE"
        ]
    );
    // What each phone received in the second half of the time between a
    // marker and the next: packets are stamped when the phone's thread
    // reads them, which on a loaded machine lags behind their arrival, so
    // the first half is left to what was in flight before the step.
    let segment = |heard: &Heard, step: &str| -> (Vec<i16>, usize) {
        let i = names.iter().position(|n| *n == step).unwrap();
        let (start, end) = (markers[i].1, markers[i + 1].1);
        let settle = (end.saturating_duration_since(start) / 2).max(Duration::from_millis(300));
        let (audio, packets) = heard.between(start + settle, end);
        (audio.to_vec(), packets)
    };
    let share =
        |audio: &[i16], f: f32| goertzel_power(audio, 8000, f) / signal_power(audio).max(1.0);
    let (audio, n) = segment(&heard_b, "BRIDGED");
    assert!(
        n > 20 && share(&audio, CALLER) > 0.5,
        "102 hears 101 in the bridge"
    );
    let (audio, n) = segment(&heard_b, "MUTE_IN");
    assert!(
        n > 20 && share(&audio, CALLER) < 0.05,
        "101 muted in: 102 hears nothing of it ({n} packets)"
    );
    let (audio, _) = segment(&heard_b, "UNMUTED");
    assert!(share(&audio, CALLER) > 0.5, "101 heard again");
    let (audio, _) = segment(&heard_b, "MOH");
    assert!(
        share(&audio, MUSIC) > 0.5 && share(&audio, CALLER) < 0.05,
        "102 hears music instead of the bridge"
    );
    let (audio, _) = segment(&heard_a, "MOH");
    assert!(share(&audio, CALLEE) > 0.5, "101 still hears 102");
    let (audio, _) = segment(&heard_b, "MOH_STOPPED");
    assert!(
        share(&audio, CALLER) > 0.5,
        "the bridge again after stopMoh"
    );
    // Unmuted, the window holds 15 packets or more (50 a second); a packet
    // sent just before the mute and read late by a busy phone thread may
    // still fall in it.
    let (_, n) = segment(&heard_b, "MUTE_OUT");
    assert!(n <= 1, "102 muted out receives nothing ({n} packets)");
    let (audio, _) = segment(&heard_a, "MUTE_OUT");
    assert!(share(&audio, CALLEE) > 0.5, "102 muted out still talks");
    for (who, heard, other) in [("101", &heard_a, CALLEE), ("102", &heard_b, CALLER)] {
        let (audio, _) = segment(heard, "BRIDGE_MOH");
        assert!(share(&audio, MUSIC) > 0.2, "{who} hears the bridge's music");
        assert!(
            share(&audio, other) > 0.2,
            "{who} still hears the other party over it"
        );
        let (audio, _) = segment(heard, "BRIDGE_MOH_STOPPED");
        assert!(share(&audio, MUSIC) < 0.05, "{who}: the music stopped");
    }
    let (audio, n) = segment(&heard_b, "SILENCE");
    assert!(n > 20, "silence is sent: {n} packets");
    assert!(signal_power(&audio) < 1e3, "and it is silent");
}
