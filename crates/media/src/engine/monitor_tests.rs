//! Monitor taps over real UDP sockets: two phones on 127.0.0.1 talk through
//! linked streams (forwarded and transcoded) or hear a playback, and a
//! monitor sink on one stream must get each party's tone in its own
//! direction.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{MediaEngine, RtpConfig, Stream, StreamParams};
use crate::analysis::{goertzel_power, sine};
use crate::audio::MonitorSink;
use crate::codec::{Codec, Encoder};
use crate::rtp::{RtpHeader, build_packet};
use crate::tone::ToneSource;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn engine() -> Arc<MediaEngine> {
    MediaEngine::start(RtpConfig {
        port_start: 30000,
        port_end: 40000,
        strict_rtp: true,
        workers: 2,
    })
    .unwrap()
}

/// Collects both directions and says when it is finished.
struct Collect {
    rate: u32,
    audio: Arc<Mutex<(Vec<i16>, Vec<i16>)>>,
    done: mpsc::Sender<()>,
}

impl MonitorSink for Collect {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frames(&mut self, received: &[i16], sent: &[i16]) {
        assert_eq!(received.len(), sent.len());
        let mut audio = self.audio.lock().unwrap();
        audio.0.extend_from_slice(received);
        audio.1.extend_from_slice(sent);
    }

    fn finish(&mut self) {
        let _ = self.done.send(());
    }
}

type Audio = Arc<Mutex<(Vec<i16>, Vec<i16>)>>;

fn collector(rate: u32) -> (Box<dyn MonitorSink>, Audio, mpsc::Receiver<()>) {
    let audio = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let (done, finished) = mpsc::channel();
    let sink = Collect {
        rate,
        audio: Arc::clone(&audio),
        done,
    };
    (Box::new(sink), audio, finished)
}

/// A phone: its socket, and the stream that serves it.
fn phone(engine: &MediaEngine, codec: Codec) -> (UdpSocket, Stream) {
    let sock = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    sock.set_nonblocking(true).unwrap();
    let stream = engine.open(LOCALHOST).unwrap();
    stream.configure(StreamParams {
        remote: Some(sock.local_addr().unwrap()),
        ..StreamParams::new(codec)
    });
    (sock, stream)
}

/// Sends `frames` 20 ms packets of a `freq` tone from `sock` to `to`, one
/// every 20 ms as a phone's clock does.
fn talk(sock: &UdpSocket, to: SocketAddr, codec: Codec, freq: f32, frames: usize) {
    let samples = codec.frame_samples(20);
    let pcm = sine(codec.sample_rate(), freq, 8000.0, samples * frames);
    let mut enc = Encoder::new(codec);
    let mut buf = [0u8; 1500];
    let mut drain = [0u8; 1500];
    let mut next = Instant::now();
    for (i, frame) in pcm.chunks(samples).enumerate() {
        let mut payload = [0u8; 640];
        let n = enc.encode(frame, &mut payload);
        let h = RtpHeader {
            marker: i == 0,
            payload_type: codec.static_payload_type().unwrap_or(96),
            sequence: i as u16,
            timestamp: (i as u32) * codec.frame_ticks(20),
            ssrc: 0xCA11 + freq as u32,
        };
        let len = build_packet(&h, &payload[..n], &mut buf).unwrap();
        sock.send_to(&buf[..len], to).unwrap();
        // Keep the socket from filling with what the engine sends back.
        while sock.recv(&mut drain).is_ok() {}
        next += Duration::from_millis(20);
        sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// Power at `want` well above power at `other`.
fn dominated_by(pcm: &[i16], rate: u32, want: f32, other: f32) -> bool {
    let p_want = goertzel_power(pcm, rate, want);
    let p_other = goertzel_power(pcm, rate, other);
    p_want > 20.0 * p_other.max(1.0)
}

/// Runs both phones for a second through a link between their streams,
/// with a monitor on `a`'s; returns (received, sent) as the sink got them.
fn linked_call(codec_a: Codec, codec_b: Codec, sink_rate: u32) -> (Vec<i16>, Vec<i16>) {
    let engine = engine();
    let (sock_a, a) = phone(&engine, codec_a);
    let (sock_b, b) = phone(&engine, codec_b);
    engine.link(&a, &b).unwrap();
    let (sink, audio, finished) = collector(sink_rate);
    let id = a.monitor(sink);
    let (to_a, to_b) = (a.local_addr(), b.local_addr());
    let talker_b = std::thread::spawn(move || talk(&sock_b, to_b, codec_b, 1000.0, 50));
    talk(&sock_a, to_a, codec_a, 440.0, 50);
    talker_b.join().unwrap();
    a.stop_monitor(id);
    finished
        .recv_timeout(Duration::from_secs(5))
        .expect("the sink is finished");
    let audio = audio.lock().unwrap();
    (audio.0.clone(), audio.1.clone())
}

#[test]
fn a_forwarded_call_is_heard_both_ways() {
    let (received, sent) = linked_call(Codec::Ulaw, Codec::Ulaw, 8000);
    // About a second of each; the first frames are skipped (link set-up).
    assert!(received.len() > 6000, "{} samples", received.len());
    assert_eq!(received.len(), sent.len());
    assert!(dominated_by(&received[1600..], 8000, 440.0, 1000.0));
    assert!(dominated_by(&sent[1600..], 8000, 1000.0, 440.0));
}

#[test]
fn a_transcoded_call_is_heard_both_ways_at_the_sink_rate() {
    let (received, sent) = linked_call(Codec::G722, Codec::Ulaw, 8000);
    assert!(received.len() > 6000, "{} samples", received.len());
    assert!(dominated_by(&received[1600..], 8000, 440.0, 1000.0));
    assert!(dominated_by(&sent[1600..], 8000, 1000.0, 440.0));
}

#[test]
fn played_audio_is_what_the_stream_sends() {
    let engine = engine();
    let (sock, a) = phone(&engine, Codec::Ulaw);
    let (sink, audio, finished) = collector(16000);
    a.monitor(sink);
    a.play(Box::new(ToneSource::named("1000", 8000).unwrap()));
    talk(&sock, a.local_addr(), Codec::Ulaw, 440.0, 40);
    // Closing the stream finishes its monitors.
    drop(a);
    finished
        .recv_timeout(Duration::from_secs(5))
        .expect("the sink is finished");
    let audio = audio.lock().unwrap();
    assert!(audio.0.len() > 9000, "{} samples", audio.0.len());
    assert!(dominated_by(&audio.0[3200..], 16000, 440.0, 1000.0));
    assert!(dominated_by(&audio.1[3200..], 16000, 1000.0, 440.0));
}

#[test]
fn conference_members_record_the_mix_they_hear() {
    let engine = engine();
    let (sock_a, a) = phone(&engine, Codec::Ulaw);
    let (sock_b, b) = phone(&engine, Codec::Ulaw);
    // C only listens: it gets the mixer's shared encoding, forwarded as is.
    let (_sock_c, c) = phone(&engine, Codec::Ulaw);
    let mixer = engine.mixer();
    for s in [&a, &b, &c] {
        mixer.add(s);
    }
    let (sink_a, audio_a, finished_a) = collector(8000);
    let (sink_c, audio_c, finished_c) = collector(8000);
    let id_a = a.monitor(sink_a);
    let id_c = c.monitor(sink_c);
    let to_b = b.local_addr();
    let talker_b = std::thread::spawn(move || talk(&sock_b, to_b, Codec::Ulaw, 1000.0, 50));
    talk(&sock_a, a.local_addr(), Codec::Ulaw, 440.0, 50);
    talker_b.join().unwrap();
    a.stop_monitor(id_a);
    c.stop_monitor(id_c);
    for finished in [finished_a, finished_c] {
        finished
            .recv_timeout(Duration::from_secs(5))
            .expect("the sink is finished");
    }
    let a = audio_a.lock().unwrap();
    assert!(a.0.len() > 6000, "{} samples", a.0.len());
    assert!(dominated_by(&a.0[1600..], 8000, 440.0, 1000.0));
    // A talker hears everybody but itself.
    assert!(dominated_by(&a.1[1600..], 8000, 1000.0, 440.0));
    let c = audio_c.lock().unwrap();
    assert!(c.1.len() > 6000, "{} samples", c.1.len());
    assert!(c.0.iter().all(|&s| s == 0), "C said nothing");
    let heard = &c.1[1600..];
    let (p440, p1000) = (
        goertzel_power(heard, 8000, 440.0),
        goertzel_power(heard, 8000, 1000.0),
    );
    assert!(
        p440 > 0.2 * p1000 && p1000 > 0.2 * p440 && p440 > 1e3,
        "C hears both: 440 Hz {p440:.0}, 1000 Hz {p1000:.0}"
    );
}
