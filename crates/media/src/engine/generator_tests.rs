//! Generators (music on hold, silence), muting and a mixer's generator,
//! over real UDP sockets: test peers on 127.0.0.1 play the phones and
//! check what they receive.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{MediaEngine, MuteDirection, RtpConfig, StreamParams};
use crate::analysis::{goertzel_power, sine};
use crate::audio::Silence;
use crate::codec::{Codec, Decoder, Encoder};
use crate::moh::{Cursor, MohSource, Order, Playlist, Song};
use crate::rtp::{RtpHeader, RtpPacket, build_packet};
use crate::sound::Sound;
use crate::tone::ToneSource;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn engine() -> Arc<MediaEngine> {
    MediaEngine::start(RtpConfig {
        port_start: 24000,
        port_end: 40000,
        strict_rtp: true,
        workers: 2,
    })
    .unwrap()
}

/// Commands are asynchronous; give the workers a moment to apply them.
fn settle() {
    sleep(Duration::from_millis(150));
}

/// A phone: a socket, the codec it talks, and its outgoing RTP state.
struct Phone {
    sock: UdpSocket,
    codec: Codec,
    seq: u16,
    encoder: Encoder,
}

impl Phone {
    fn new(codec: Codec) -> Phone {
        let sock = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        Phone {
            sock,
            codec,
            seq: 1,
            encoder: Encoder::new(codec),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    fn params(&self) -> StreamParams {
        StreamParams {
            remote: Some(self.addr()),
            ..StreamParams::new(self.codec)
        }
    }

    /// Sends a `freq` tone to `to` for `duration` (20 ms packets, paced)
    /// while collecting what arrives: (packets, decoded audio).
    fn talk(&mut self, to: SocketAddr, freq: f32, duration: Duration) -> (usize, Vec<i16>) {
        let rate = self.codec.sample_rate();
        let frame = self.codec.frame_samples(20);
        let tone = sine(rate, freq, 8000.0, frame * 50);
        let mut decoder = Decoder::new(self.codec);
        let (mut packets, mut audio) = (0, Vec::new());
        let (mut payload, mut packet, mut buf) = ([0u8; 640], [0u8; 700], [0u8; 1500]);
        let mut pcm = [0i16; 2048];
        let start = Instant::now();
        let mut next = start;
        while start.elapsed() < duration {
            if freq > 0.0 && Instant::now() >= next {
                let i = usize::from(self.seq) % 50;
                let n = self
                    .encoder
                    .encode(&tone[i * frame..(i + 1) * frame], &mut payload);
                let h = RtpHeader {
                    marker: false,
                    payload_type: self.codec.static_payload_type().unwrap_or(96),
                    sequence: self.seq,
                    timestamp: u32::from(self.seq) * self.codec.frame_ticks(20),
                    ssrc: 0x0BE1_0001,
                };
                let len = build_packet(&h, &payload[..n], &mut packet).unwrap();
                self.sock.send_to(&packet[..len], to).unwrap();
                self.seq = self.seq.wrapping_add(1);
                next += Duration::from_millis(20);
            }
            if let Ok((n, _)) = self.sock.recv_from(&mut buf)
                && let Ok(p) = RtpPacket::parse(&buf[..n])
            {
                packets += 1;
                let m = decoder.decode(p.payload, &mut pcm);
                audio.extend_from_slice(&pcm[..m]);
            }
        }
        (packets, audio)
    }

    /// Only listens for `duration`.
    fn listen(&mut self, duration: Duration) -> (usize, Vec<i16>) {
        self.talk(self.addr(), 0.0, duration)
    }
}

/// How strongly `freq` stands out in `pcm` against `other`.
fn ratio(pcm: &[i16], rate: u32, freq: f32, other: f32) -> f64 {
    goertzel_power(pcm, rate, freq) / goertzel_power(pcm, rate, other).max(1.0)
}

fn tone(spec: &str) -> Box<ToneSource> {
    Box::new(ToneSource::new(spec, 8000).unwrap())
}

const TALK: Duration = Duration::from_millis(600);

#[test]
fn a_generator_replaces_linked_audio_until_stopped_and_a_playback_ends_it() {
    let e = engine();
    let (a, b) = (e.open(LOCALHOST).unwrap(), e.open(LOCALHOST).unwrap());
    let (mut pa, mut pb) = (Phone::new(Codec::Ulaw), Phone::new(Codec::Ulaw));
    a.configure(pa.params());
    b.configure(pb.params());
    e.link(&a, &b).unwrap();
    settle();
    // B is "on hold": it hears the generator (1800 Hz), not A's 500 Hz.
    let moh = b.generate(tone("1800"));
    settle();
    let feeder = std::thread::spawn({
        let to = a.local_addr();
        move || pa.talk(to, 500.0, TALK * 6)
    });
    let (n, held) = pb.listen(TALK);
    assert!(n >= 20, "{n} packets");
    assert!(
        ratio(&held, 8000, 1800.0, 500.0) > 50.0,
        "B hears the generator only"
    );
    // Another id does not stop it; its own id does, and A is heard again.
    b.stop_generator(moh + 1);
    settle();
    let (_, still) = pb.listen(TALK / 2);
    assert!(ratio(&still, 8000, 1800.0, 500.0) > 50.0);
    b.stop_generator(moh);
    settle();
    let (_, linked) = pb.listen(TALK / 2);
    assert!(
        ratio(&linked, 8000, 500.0, 1800.0) > 50.0,
        "the link is back"
    );
    // A playback ends the generator for good: after it, the link again.
    b.generate(tone("1800"));
    b.play(tone("!1100/200"));
    settle();
    let (_, after) = pb.listen(TALK);
    let tail = &after[after.len().saturating_sub(2400)..];
    assert!(
        ratio(tail, 8000, 500.0, 1800.0) > 50.0,
        "no generator after the playback"
    );
    feeder.join().unwrap();
}

#[test]
fn silence_keeps_packets_flowing_to_an_unlinked_stream() {
    let e = engine();
    let s = e.open(LOCALHOST).unwrap();
    let mut phone = Phone::new(Codec::Ulaw);
    s.configure(phone.params());
    settle();
    assert_eq!(phone.listen(TALK / 2).0, 0, "nothing to send yet");
    let id = s.generate(Box::new(Silence));
    settle();
    let (n, audio) = phone.listen(TALK);
    assert!(n >= 20, "{n} packets of silence");
    assert!(audio.iter().all(|&x| x.abs() < 16), "silent audio");
    s.stop_generator(id);
    settle();
    assert_eq!(phone.listen(TALK / 2).0, 0);
}

#[test]
fn muting_drops_one_direction_at_a_time() {
    let e = engine();
    let (a, b) = (e.open(LOCALHOST).unwrap(), e.open(LOCALHOST).unwrap());
    let (pa, mut pb) = (Phone::new(Codec::Ulaw), Phone::new(Codec::G722));
    a.configure(pa.params());
    b.configure(pb.params());
    e.link(&a, &b).unwrap();
    settle();
    let to_a = a.local_addr();
    let hear = |pa: Phone, pb: &mut Phone| {
        let feeder = std::thread::spawn(move || {
            let mut pa = pa;
            pa.talk(to_a, 700.0, TALK);
            pa
        });
        let heard = pb.listen(TALK);
        (feeder.join().unwrap(), heard)
    };
    // Muting A's incoming audio: B (transcoded to G.722) hears nothing of A.
    a.mute(MuteDirection::Incoming, true);
    settle();
    let (pa, (n, _)) = hear(pa, &mut pb);
    assert_eq!(n, 0, "A's audio went nowhere");
    a.mute(MuteDirection::Both, false);
    settle();
    let (pa, (n, audio)) = hear(pa, &mut pb);
    assert!(n >= 20 && ratio(&audio, 16000, 700.0, 1500.0) > 50.0, "{n}");
    // Muting B's outgoing audio: same silence at B, whatever A does.
    b.mute(MuteDirection::Outgoing, true);
    b.generate(tone("1800"));
    settle();
    let (pa, (n, _)) = hear(pa, &mut pb);
    assert_eq!(n, 0, "nothing is sent to B, not even its generator");
    b.mute(MuteDirection::Outgoing, false);
    settle();
    let (_, (n, audio)) = hear(pa, &mut pb);
    assert!(n >= 20 && ratio(&audio, 16000, 1800.0, 700.0) > 50.0, "{n}");
}

#[test]
fn music_on_hold_plays_wideband_to_g722_and_a_mixer_generator_reaches_everyone() {
    let e = engine();
    // One song whose two versions differ, to tell which one is played:
    // 1 kHz at 8 kHz, 5 kHz (beyond narrowband) at 16 kHz.
    let song = |rate: u32, freq: f32| Sound {
        rate,
        samples: sine(rate, freq, 8000.0, rate as usize).into(),
    };
    let songs = vec![Song::new("tone", &[song(8000, 1000.0), song(16000, 5000.0)]).unwrap()];
    let playlist = Arc::new(Playlist::new(songs, Order::Listed).unwrap());
    let s = e.open(LOCALHOST).unwrap();
    let mut phone = Phone::new(Codec::G722);
    s.configure(phone.params());
    s.generate(Box::new(MohSource::new(
        Arc::clone(&playlist),
        Cursor::new(),
    )));
    settle();
    let (n, audio) = phone.listen(TALK);
    assert!(n >= 20);
    assert!(
        ratio(&audio, 16000, 5000.0, 1000.0) > 50.0,
        "the wideband version"
    );

    // A mixer with two silent members: both hear the mixer's generator.
    let mixer = e.mixer();
    let (a, b) = (e.open(LOCALHOST).unwrap(), e.open(LOCALHOST).unwrap());
    let (mut pa, mut pb) = (Phone::new(Codec::Ulaw), Phone::new(Codec::G722));
    a.configure(pa.params());
    b.configure(pb.params());
    mixer.add(&a);
    mixer.add(&b);
    mixer.generate(tone("1200"));
    settle();
    let to_a = a.local_addr();
    let feeder = std::thread::spawn(move || pa.talk(to_a, 500.0, TALK));
    let (n, heard_b) = pb.listen(TALK);
    let (_, heard_a) = feeder.join().unwrap();
    assert!(n >= 20);
    assert!(
        ratio(&heard_a, 8000, 1200.0, 500.0) > 50.0,
        "A hears the music, not itself"
    );
    assert!(
        goertzel_power(&heard_b, 16000, 1200.0) > 1e6,
        "B hears the music"
    );
    assert!(
        goertzel_power(&heard_b, 16000, 500.0) > 1e6,
        "and A over it"
    );
    mixer.stop_generator();
    settle();
    let (_, quiet) = pb.listen(TALK / 2);
    assert!(
        goertzel_power(&quiet, 16000, 1200.0) < 1e3,
        "the music stopped"
    );
}
