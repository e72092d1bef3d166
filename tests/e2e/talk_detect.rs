//! Talk and tone detection on a real call: phone 101 (sipp signalling,
//! the test's own RTP socket) calls 901, whose dialplan answers and sets
//! `TONE_DETECT(2600,300,g(heard))`. The phone sends a 2600 Hz tone; the
//! detector sends the channel to the label `heard`, where it enters
//! `Stasis(talk,heard)`. Over ARI the test then sets `TALK_DETECT(set)`
//! as a channel variable and the phone "speaks" (a voice-like sound) for
//! 1.5 s, then goes quiet: `ChannelTalkingStarted` and
//! `ChannelTalkingFinished` come over the WebSocket with the talk's length,
//! and AMI shows `ChannelTalkingStart`/`ChannelTalkingStop`. Last, a
//! `TONE_DETECT` set over ARI hears a 1400 Hz tone (`ChannelToneDetected`)
//! and reading `TONE_DETECT(rx)` counts both tones.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::analysis::sine;
use obelus_media::rtp::{RtpHeader, build_packet};
use obelus_media::{Codec, Encoder};

use crate::call::{Phone, add_phone, obelus_media_address, sqlite_pbx, wait_ok};
use crate::common::ari::{Events, channel_id, enable_ari, rest};
use crate::common::{ami_watcher, enable_ami};

const DIALPLAN: &str = "[testing]
exten => 901,1,Answer()
 same => n,Set(TONE_DETECT(2600,300,g(heard))=)
 same => n,Wait(30)
 same => n,Hangup()
 same => n(heard),Stasis(talk,heard)
";

/// The phone's mouth: sends what the test queues as 20 ms µ-law packets,
/// one every 20 ms, and silence while the queue is empty; drains what
/// Obelus sends back.
struct Mouth {
    queue: Arc<Mutex<VecDeque<i16>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Mouth {
    fn start(socket: UdpSocket, obelus: SocketAddr) -> Mouth {
        let queue = Arc::new(Mutex::new(VecDeque::<i16>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (Arc::clone(&queue), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            socket
                .set_read_timeout(Some(Duration::from_millis(2)))
                .unwrap();
            let mut encoder = Encoder::new(Codec::Ulaw);
            let (mut payload, mut packet, mut buf) = ([0u8; 160], [0u8; 300], [0u8; 1500]);
            let mut next = Instant::now();
            let mut seq = 0u16;
            while !s.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    let mut frame = [0i16; 160];
                    {
                        let mut q = q.lock().unwrap();
                        for f in frame.iter_mut() {
                            *f = q.pop_front().unwrap_or(0);
                        }
                    }
                    let n = encoder.encode(&frame, &mut payload);
                    let header = RtpHeader {
                        payload_type: 0,
                        marker: seq == 0,
                        sequence: seq,
                        timestamp: u32::from(seq) * 160,
                        ssrc: 0x7a1c,
                    };
                    let len = build_packet(&header, &payload[..n], &mut packet).unwrap();
                    socket.send_to(&packet[..len], obelus).unwrap();
                    seq = seq.wrapping_add(1);
                    next += Duration::from_millis(20);
                }
                let _ = socket.recv_from(&mut buf);
            }
        });
        Mouth {
            queue,
            stop,
            thread: Some(thread),
        }
    }

    /// Queues `samples` (8 kHz) after what is queued.
    fn say(&self, samples: &[i16]) {
        self.queue.lock().unwrap().extend(samples);
    }

    /// Waits until everything queued has been sent.
    fn finish_saying(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.queue.lock().unwrap().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the phone's audio did not go out"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Mouth {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `ms` of a voice-like sound: a 150 Hz voice with two harmonics, its
/// loudness swinging at a syllable rate (3 Hz) but never dying out.
fn voice(ms: u32) -> Vec<i16> {
    let n = (ms * 8) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let w = |f: f64| (2.0 * std::f64::consts::PI * f * t).sin();
            let envelope = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin().abs();
            (envelope * (3000.0 * w(150.0) + 1500.0 * w(300.0) + 800.0 * w(450.0))) as i16
        })
        .collect()
}

fn tone(freq: f32, ms: u32) -> Vec<i16> {
    sine(8000, freq, 8000.0, (ms * 8) as usize)
}

#[test]
fn talk_and_tone_detection_raise_their_events_on_a_real_call() {
    let (_db, conf, sip_port) = sqlite_pbx();
    let http = enable_ari(&conf);
    let ami = enable_ami(&conf, "call");
    conf.write("extensions.conf", DIALPLAN);
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let mut ws = Events::connect(http, "talk");
    let mut ami = ami_watcher(ami);

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("caller.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Phone::calling("101", "901")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", "12000"])
        .log(&log)
        .start(sip_port, dir.path(), "call_caller.xml");
    let mouth = Mouth::start(rtp, obelus_media_address(&log));

    // The dialplan's detector hears 2600 Hz and sends the call on.
    thread::sleep(Duration::from_millis(500));
    mouth.say(&tone(2600.0, 600));
    let start = ws.until("StasisStart");
    assert_eq!(start["args"], serde_json::json!(["heard"]), "{start}");
    let call = channel_id(&start);
    let this_call = |e: &serde_json::Value| e["channel"]["id"] == call.as_str();

    // Talk detection set over ARI, as a channel variable, once the tone
    // is over.
    mouth.finish_saying();
    rest(
        http,
        "POST",
        &format!("/channels/{call}/variable?variable=TALK_DETECT(set)&value=1000"),
    );
    mouth.say(&vec![0; 2400]);
    mouth.say(&voice(1500));
    mouth.say(&vec![0; 8 * 1500]);
    ws.until_matching("ChannelTalkingStarted", this_call);
    let finished = ws.until_matching("ChannelTalkingFinished", this_call);
    let duration = finished["duration"].as_u64().expect("duration");
    assert!(
        (1400..=1700).contains(&duration),
        "talked for {duration} ms: {finished}"
    );
    let before = ami("Event: ChannelTalkingStop");
    assert!(
        before.contains("Event: ChannelTalkingStart\r\nPrivilege: call,all\r\n"),
        "{before}"
    );
    let stop = ami("Duration: ");
    assert!(stop.contains("Channel: PJSIP/101-"), "{stop}");
    assert!(
        stop.contains(&format!("Duration: {duration}\r\n")),
        "{stop}"
    );

    // A tone detector set over ARI: 1400 Hz heard, counted after the
    // first detector's 2600 Hz (setting it again keeps the count).
    mouth.finish_saying();
    rest(
        http,
        "POST",
        &format!("/channels/{call}/variable?variable=TONE_DETECT(1400,300)&value="),
    );
    mouth.say(&tone(1400.0, 600));
    ws.until_matching("ChannelToneDetected", this_call);
    let count = rest(
        http,
        "GET",
        &format!("/channels/{call}/variable?variable=TONE_DETECT(rx)"),
    );
    assert_eq!(count["value"], "2", "{count}");

    // The phone hangs up: the call leaves the application.
    wait_ok(caller, "101's call", dir.path());
    ws.until_matching("StasisEnd", this_call);
    drop(mouth);
}
