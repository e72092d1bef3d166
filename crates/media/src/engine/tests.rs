//! Engine tests over real UDP sockets on 127.0.0.1. Test peers are plain
//! `std` sockets playing the phones on either side.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::Receiver;

use super::*;
use crate::analysis::{goertzel_power, signal_power, sine};
use crate::codec::{Codec, Decoder, Encoder};
use crate::dtmf::TelephoneEvent;
use crate::rtp::{RtpHeader, RtpPacket, build_packet};
use crate::sound::{WavWriter, read_sound};
use crate::tone::ToneSource;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub(super) fn engine() -> Arc<MediaEngine> {
    MediaEngine::start(RtpConfig {
        port_start: 20000,
        port_end: 40000,
        strict_rtp: true,
        workers: 2,
    })
    .unwrap()
}

/// Commands are asynchronous, and linking may move a stream to another
/// worker; give the workers a moment to apply them.
pub(super) fn settle() {
    sleep(Duration::from_millis(150));
}

pub(super) struct Peer {
    pub(super) sock: UdpSocket,
    pub(super) ssrc: u32,
    pub(super) seq: u16,
    ts: u32,
}

impl Peer {
    pub(super) fn new() -> Peer {
        let sock = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        Peer {
            sock,
            ssrc: 0x5EED_0001,
            seq: 1000,
            ts: 50_000,
        }
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    pub(super) fn send(
        &mut self,
        to: SocketAddr,
        pt: u8,
        marker: bool,
        payload: &[u8],
        ticks: u32,
    ) {
        let h = RtpHeader {
            marker,
            payload_type: pt,
            sequence: self.seq,
            timestamp: self.ts,
            ssrc: self.ssrc,
        };
        let mut buf = [0u8; 2048];
        let n = build_packet(&h, payload, &mut buf).unwrap();
        self.sock.send_to(&buf[..n], to).unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(ticks);
    }

    /// Sends `seconds` of a `freq` tone in `codec`, one 20 ms packet every `pace`.
    pub(super) fn send_tone(
        &mut self,
        to: SocketAddr,
        codec: Codec,
        pt: u8,
        freq: f32,
        frames: usize,
        pace: Duration,
    ) {
        let pcm = sine(
            codec.sample_rate(),
            freq,
            8000.0,
            codec.frame_samples(20) * frames,
        );
        let mut enc = Encoder::new(codec);
        for frame in pcm.chunks(codec.frame_samples(20)) {
            let mut payload = [0u8; 640];
            let n = enc.encode(frame, &mut payload);
            self.send(to, pt, false, &payload[..n], codec.frame_ticks(20));
            sleep(pace);
        }
    }

    /// Everything received until `quiet` passes with nothing new (or `max` elapses).
    pub(super) fn collect(&self, quiet: Duration, max: Duration) -> Vec<(RtpHeader, Vec<u8>)> {
        let start = Instant::now();
        let mut last = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while last.elapsed() < quiet && start.elapsed() < max {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let p = RtpPacket::parse(&buf[..n]).unwrap();
                out.push((p.header, p.payload.to_vec()));
                last = Instant::now();
            }
        }
        out
    }
}

pub(super) fn params(codec: Codec, remote: SocketAddr) -> StreamParams {
    StreamParams {
        remote: Some(remote),
        ..StreamParams::new(codec)
    }
}

pub(super) fn decode(codec: Codec, packets: &[(RtpHeader, Vec<u8>)]) -> Vec<i16> {
    let mut dec = Decoder::new(codec);
    let mut out = Vec::new();
    for (_, payload) in packets {
        let mut pcm = [0i16; 4096];
        let n = dec.decode(payload, &mut pcm);
        out.extend_from_slice(&pcm[..n]);
    }
    out
}

fn tone_share(pcm: &[i16], rate: u32, freq: f32) -> f64 {
    let p = signal_power(pcm);
    if p == 0.0 {
        0.0
    } else {
        goertzel_power(pcm, rate, freq) / p
    }
}

fn wait_event(
    rx: &mut Receiver<StreamEvent>,
    pred: impl Fn(&StreamEvent) -> bool,
) -> Option<StreamEvent> {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        match rx.try_recv() {
            Ok(ev) if pred(&ev) => return Some(ev),
            Ok(_) => {}
            Err(_) => sleep(Duration::from_millis(5)),
        }
    }
    None
}

fn assert_continuous(packets: &[(RtpHeader, Vec<u8>)], ticks: u32) {
    let ssrc = packets[0].0.ssrc;
    for w in packets.windows(2) {
        assert_eq!(w[1].0.ssrc, ssrc);
        assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
        assert_eq!(w[1].0.timestamp, w[0].0.timestamp.wrapping_add(ticks));
    }
}

#[test]
fn open_binds_even_rtp_port_with_rtcp_above() {
    let e = engine();
    let s = e.open(LOCALHOST).unwrap();
    let port = s.local_addr().port();
    assert_eq!(port % 2, 0);
    assert!((20000..40000).contains(&port));
    // Both ports are taken while the stream lives.
    assert!(UdpSocket::bind((LOCALHOST, port)).is_err());
    assert!(UdpSocket::bind((LOCALHOST, port + 1)).is_err());
    assert_eq!(e.stats().streams, 1);
    drop(s);
    // Dropping the handle hands the pair to the pool once the worker lets go;
    // it stays bound there, resting, and a new stream gets another pair.
    let deadline = Instant::now() + Duration::from_secs(3);
    while e.core.ports.len() == 0 {
        assert!(
            Instant::now() < deadline,
            "pair of port {port} never reached the pool"
        );
        sleep(Duration::from_millis(10));
    }
    assert!(UdpSocket::bind((LOCALHOST, port)).is_err());
    let next = e.open(LOCALHOST).unwrap();
    assert_ne!(
        next.local_addr().port(),
        port,
        "a resting pair is not reused at once"
    );
    drop(next);
    let deadline = Instant::now() + Duration::from_secs(3);
    while e.stats().streams != 0 {
        assert!(Instant::now() < deadline, "streams still counted");
        sleep(Duration::from_millis(10));
    }
}

#[test]
fn exhausted_range_is_an_error() {
    let e = MediaEngine::start(RtpConfig {
        port_start: 41000,
        port_end: 41003,
        strict_rtp: true,
        workers: 1,
    })
    .unwrap();
    let mut held = Vec::new();
    while let Ok(s) = e.open(LOCALHOST) {
        held.push(s);
        assert!(held.len() <= 2);
    }
    assert!(matches!(e.open(LOCALHOST), Err(MediaError::NoPorts { .. })));
    // A pair that just ended serves a new stream when the range has no other.
    let freed = held.pop().unwrap().local_addr().port();
    let deadline = Instant::now() + Duration::from_secs(3);
    while e.core.ports.len() == 0 {
        assert!(
            Instant::now() < deadline,
            "the ended pair never reached the pool"
        );
        sleep(Duration::from_millis(10));
    }
    assert_eq!(e.open(LOCALHOST).unwrap().local_addr().port(), freed);
}

#[test]
fn link_transcodes_pcmu_to_g722() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    b.configure(params(Codec::G722, pb.addr()));
    e.link(&a, &b).unwrap();
    settle();
    pa.send_tone(
        a.local_addr(),
        Codec::Ulaw,
        0,
        1000.0,
        50,
        Duration::from_millis(2),
    );
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(5));
    assert!(got.len() >= 45, "only {} packets relayed", got.len());
    assert!(
        got.iter()
            .all(|(h, p)| h.payload_type == 9 && p.len() == 160)
    );
    assert_continuous(&got, 160);
    let pcm = decode(Codec::G722, &got);
    let tail = &pcm[pcm.len() / 4..];
    assert!(tone_share(tail, 16000, 1000.0) > 0.8);
    assert!(goertzel_power(tail, 16000, 1000.0) > 0.5 * 0.5 * 8000.0 * 8000.0);
    let sa = a.stats();
    assert_eq!(sa.packets_rx, 50);
    assert!(sa.last_rx.is_some());
    assert!(b.stats().packets_tx >= 45);
}

#[test]
fn equal_codecs_forward_payload_with_own_ssrc_and_sequence() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    a.configure(StreamParams {
        payload_type: 0,
        ..params(Codec::Ulaw, pa.addr())
    });
    b.configure(StreamParams {
        payload_type: 0,
        ..params(Codec::Ulaw, pb.addr())
    });
    e.link(&a, &b).unwrap();
    settle();
    for i in 0..10u8 {
        pa.send(a.local_addr(), 0, i == 0, &[i; 160], 160);
    }
    // The caller's phone changes SSRC (a transfer upstream): the other leg
    // must still see one continuous stream.
    pa.ssrc = 0x0BAD_F00D;
    pa.seq = 7;
    pa.ts = 12345;
    for i in 10..20u8 {
        pa.send(a.local_addr(), 0, false, &[i; 160], 160);
    }
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(5));
    assert_eq!(got.len(), 20);
    for (i, (h, p)) in got.iter().enumerate() {
        assert_eq!(p, &vec![i as u8; 160], "payload forwarded unchanged");
        assert_eq!(h.payload_type, 0);
        assert_ne!(h.ssrc, 0x5EED_0001);
    }
    assert_continuous(&got, 160);
}

#[test]
fn dtmf_is_relayed_with_remapped_payload_type_and_reported() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let c = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    let mut events = a.take_events().unwrap();
    assert!(a.take_events().is_none());
    a.configure(StreamParams {
        dtmf_payload_type: Some(101),
        ..params(Codec::Ulaw, pa.addr())
    });
    b.configure(StreamParams {
        dtmf_payload_type: Some(96),
        ..params(Codec::Alaw, pb.addr())
    });
    e.link(&a, &b).unwrap();
    settle();
    // RFC 4733 §2.5: digit 5, updates every 20 ms, then three end packets.
    let ts = pa.ts;
    for (i, (end, dur)) in [
        (false, 160),
        (false, 320),
        (false, 480),
        (true, 800),
        (true, 800),
        (true, 800),
    ]
    .into_iter()
    .enumerate()
    {
        pa.ts = ts;
        let ev = TelephoneEvent {
            event: 5,
            end,
            volume: 10,
            duration: dur,
        };
        pa.send(a.local_addr(), 101, i == 0, &ev.to_bytes(), 0);
    }
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(5));
    assert_eq!(got.len(), 6);
    assert!(
        got.iter()
            .all(|(h, _)| h.payload_type == 96 && h.timestamp == got[0].0.timestamp)
    );
    assert!(got[0].0.marker);
    let evs: Vec<TelephoneEvent> = got
        .iter()
        .map(|(_, p)| TelephoneEvent::parse(p).unwrap())
        .collect();
    assert_eq!(
        evs[0],
        TelephoneEvent {
            event: 5,
            end: false,
            volume: 10,
            duration: 160
        }
    );
    assert!(evs[3..].iter().all(|e| e.end && e.duration == 800));
    assert_eq!(
        wait_event(&mut events, |_| true),
        Some(StreamEvent::DtmfBegin { digit: '5' })
    );
    assert_eq!(
        wait_event(&mut events, |_| true),
        Some(StreamEvent::Dtmf {
            digit: '5',
            duration_ms: 100
        })
    );

    // Relinked to a leg without telephone-event: DTMF is dropped, not sent as audio.
    let pc = Peer::new();
    c.configure(StreamParams {
        dtmf_payload_type: None,
        ..params(Codec::Ulaw, pc.addr())
    });
    e.link(&a, &c).unwrap();
    settle();
    pa.ts = pa.ts.wrapping_add(8000);
    let ev = TelephoneEvent {
        event: 1,
        end: true,
        volume: 10,
        duration: 800,
    };
    pa.send(a.local_addr(), 101, true, &ev.to_bytes(), 0);
    pa.send(a.local_addr(), 0, false, &[0xFF; 160], 160);
    let got = pc.collect(Duration::from_millis(300), Duration::from_secs(3));
    assert_eq!(got.len(), 1, "only the audio packet");
    assert_eq!(got[0].0.payload_type, 0);
}

#[test]
fn strict_rtp_drops_unexpected_source() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    let mut attacker = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    b.configure(params(Codec::Ulaw, pb.addr()));
    e.link(&a, &b).unwrap();
    settle();
    for _ in 0..5 {
        pa.send(a.local_addr(), 0, false, &[0xFF; 160], 160);
        attacker.send(a.local_addr(), 0, false, &[0x11; 160], 160);
    }
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(3));
    assert_eq!(got.len(), 5);
    assert!(
        got.iter().all(|(_, p)| p[0] == 0xFF),
        "injected audio reached the other leg"
    );
    let s = a.stats();
    assert_eq!(s.dropped_unexpected_source, 5);
    assert_eq!(s.packets_rx, 10);
    assert!(e.stats().dropped >= 5);
}

#[test]
fn symmetric_rtp_learns_and_locks_the_remote() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut events = a.take_events().unwrap();
    let mut nat = Peer::new();
    let mut other = Peer::new();
    // The SDP says one address; the phone is really behind NAT elsewhere.
    a.configure(StreamParams {
        symmetric: true,
        ..params(Codec::Ulaw, other.addr())
    });
    a.set_echo(true);
    settle();
    nat.send(a.local_addr(), 0, false, &[0x42; 160], 160);
    assert_eq!(
        wait_event(&mut events, |_| true),
        Some(StreamEvent::RemoteLearned(nat.addr()))
    );
    let got = nat.collect(Duration::from_millis(200), Duration::from_secs(3));
    assert_eq!(got.len(), 1, "echo goes to the learned address");
    other.send(a.local_addr(), 0, false, &[0x43; 160], 160);
    settle();
    assert_eq!(a.stats().dropped_unexpected_source, 1);
    assert_eq!(a.stats().remote_learned, Some(nat.addr()));
    assert!(
        other
            .collect(Duration::from_millis(100), Duration::from_secs(1))
            .is_empty()
    );
}

#[test]
fn malformed_and_unknown_packets_are_counted() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    settle();
    pa.sock
        .send_to(&[0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], a.local_addr())
        .unwrap();
    pa.sock.send_to(&[0x80, 0], a.local_addr()).unwrap();
    pa.send(a.local_addr(), 18, false, &[0; 20], 160); // G.729, not negotiated
    // RTCP multiplexed on the RTP port is ignored, not counted as an error.
    pa.sock
        .send_to(&[0x81, 0xC9, 0, 1, 0, 0, 0, 1], a.local_addr())
        .unwrap();
    settle();
    let s = a.stats();
    assert_eq!(s.packets_rx, 4);
    assert_eq!(s.dropped_malformed, 2);
    assert_eq!(s.dropped_unknown_payload, 1);
}

#[test]
fn play_tone_reaches_remote_and_reports_finish() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut events = a.take_events().unwrap();
    let pa = Peer::new();
    a.configure(params(Codec::Alaw, pa.addr()));
    let id = a.play(Box::new(ToneSource::new("!1000/400", 16000).unwrap()));
    let got = pa.collect(Duration::from_millis(300), Duration::from_secs(5));
    assert_eq!(got.len(), 20, "400 ms in 20 ms packets");
    assert!(got[0].0.marker);
    assert!(
        got.iter()
            .all(|(h, p)| h.payload_type == 8 && p.len() == 160)
    );
    assert_continuous(&got, 160);
    let pcm = decode(Codec::Alaw, &got);
    assert!(tone_share(&pcm[400..], 8000, 1000.0) > 0.9);
    let ev = wait_event(&mut events, |e| {
        matches!(e, StreamEvent::PlaybackFinished { .. })
    });
    assert_eq!(
        ev,
        Some(StreamEvent::PlaybackFinished {
            id,
            completed: true
        })
    );

    // A never-ending tone, stopped.
    let id2 = a.play(Box::new(ToneSource::named("ring", 8000).unwrap()));
    assert_ne!(id, id2);
    settle();
    a.stop_playback();
    let ev = wait_event(&mut events, |e| {
        matches!(e, StreamEvent::PlaybackFinished { .. })
    });
    assert_eq!(
        ev,
        Some(StreamEvent::PlaybackFinished {
            id: id2,
            completed: false
        })
    );
}

#[test]
fn playback_replaces_linked_audio() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    b.configure(params(Codec::Ulaw, pb.addr()));
    e.link(&a, &b).unwrap();
    b.play(Box::new(ToneSource::new("!440/300", 8000).unwrap()));
    settle();
    for _ in 0..5 {
        pa.send(a.local_addr(), 0, false, &[0x11; 160], 160);
    }
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(3));
    assert!(
        got.iter().all(|(_, p)| p[0] != 0x11),
        "linked audio leaked into a playback"
    );
    assert_eq!(got.len(), 15);
    // After the playback, relayed audio flows again.
    pa.send(a.local_addr(), 0, false, &[0x11; 160], 160);
    let got = pb.collect(Duration::from_millis(200), Duration::from_secs(3));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1[0], 0x11);
    assert!(got[0].0.marker, "new talk spurt after the prompt");
}

#[test]
fn echo_returns_what_was_sent() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    a.configure(params(Codec::G722, pa.addr()));
    a.set_echo(true);
    settle();
    for i in 0..8u8 {
        pa.send(a.local_addr(), 9, false, &[i; 160], 160);
    }
    let got = pa.collect(Duration::from_millis(200), Duration::from_secs(3));
    assert_eq!(got.len(), 8);
    for (i, (h, p)) in got.iter().enumerate() {
        assert_eq!(p, &vec![i as u8; 160]);
        assert_eq!(h.payload_type, 9);
    }
    assert_continuous(&got, 160);
    a.set_echo(false);
    settle();
    pa.send(a.local_addr(), 9, false, &[0; 160], 160);
    assert!(
        pa.collect(Duration::from_millis(100), Duration::from_secs(1))
            .is_empty()
    );
}

#[test]
fn send_dtmf_produces_rfc4733_sequence() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let pa = Peer::new();
    a.configure(StreamParams {
        dtmf_payload_type: Some(101),
        ..params(Codec::Ulaw, pa.addr())
    });
    a.send_dtmf('#', 100);
    a.send_dtmf('x', 100); // not a DTMF key: ignored
    let got = pa.collect(Duration::from_millis(200), Duration::from_secs(3));
    assert_eq!(got.len(), 7);
    assert!(got[0].0.marker);
    assert!(got[1..].iter().all(|(h, _)| !h.marker));
    assert!(
        got.iter()
            .all(|(h, _)| h.payload_type == 101 && h.timestamp == got[0].0.timestamp)
    );
    let evs: Vec<TelephoneEvent> = got
        .iter()
        .map(|(_, p)| TelephoneEvent::parse(p).unwrap())
        .collect();
    assert!(evs.iter().all(|e| e.event == 11));
    assert_eq!(evs.iter().filter(|e| e.end).count(), 3);
    assert_eq!(evs[6].duration, 800);
    for w in got.windows(2) {
        assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
    }
}

#[test]
fn record_writes_received_audio_to_wav() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.wav");
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    a.record(Box::new(WavWriter::create(&path, 16000).unwrap()));
    settle();
    pa.send_tone(
        a.local_addr(),
        Codec::Ulaw,
        0,
        600.0,
        25,
        Duration::from_millis(1),
    );
    settle();
    a.stop_record();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut sound = None;
    while Instant::now() < deadline {
        if let Ok(s) = read_sound(&path)
            && s.samples.len() >= 16000 / 2
        {
            sound = Some(s);
            break;
        }
        sleep(Duration::from_millis(10));
    }
    let sound = sound.expect("recording finished");
    assert_eq!(sound.rate, 16000);
    assert_eq!(sound.samples.len(), 25 * 320);
    assert!(tone_share(&sound.samples[1000..], 16000, 600.0) > 0.9);
}

#[test]
fn mixer_sends_a_speaker_to_the_others_only() {
    let e = engine();
    let streams: Vec<Stream> = (0..3).map(|_| e.open(LOCALHOST).unwrap()).collect();
    let mut peers: Vec<Peer> = (0..3).map(|_| Peer::new()).collect();
    let codecs = [Codec::Ulaw, Codec::G722, Codec::Alaw];
    let m = e.mixer();
    for ((s, p), c) in streams.iter().zip(&peers).zip(codecs) {
        s.configure(params(c, p.addr()));
        m.add(s);
    }
    settle();
    let to = streams[0].local_addr();
    let collectors: Vec<_> = peers
        .drain(1..)
        .map(|p| {
            std::thread::spawn(move || {
                p.collect(Duration::from_millis(400), Duration::from_millis(2500))
            })
        })
        .collect();
    let speaker = &mut peers[0];
    let echo_check = speaker.sock.try_clone().unwrap();
    speaker.send_tone(to, Codec::Ulaw, 0, 1000.0, 50, Duration::from_millis(20));
    for (handle, codec) in collectors.into_iter().zip(&codecs[1..]) {
        let got = handle.join().unwrap();
        // The mixer sends every 20 ms; keep the frames that carry sound.
        let mut voiced = Vec::new();
        for frame in decode(*codec, &got).chunks(codec.frame_samples(20)) {
            if signal_power(frame) > 1e5 {
                voiced.extend_from_slice(frame);
            }
        }
        let frames = voiced.len() / codec.frame_samples(20);
        assert!(
            frames >= 35,
            "{codec}: only {frames} voiced frames of {} packets",
            got.len()
        );
        assert!(
            tone_share(&voiced, codec.sample_rate(), 1000.0) > 0.8,
            "{codec} did not hear the speaker"
        );
    }
    // The speaker hears the others (silence), never itself.
    let own = Peer {
        sock: echo_check,
        ssrc: 0,
        seq: 0,
        ts: 0,
    }
    .collect(Duration::from_millis(100), Duration::from_millis(500));
    assert!(own.len() >= 20, "the speaker receives the mix too");
    let pcm = decode(Codec::Ulaw, &own);
    assert!(
        goertzel_power(&pcm, 8000, 1000.0) < 1000.0,
        "speaker heard itself"
    );
    drop(m);
}

/// A sink that keeps what it gets, for checking a mixer's recording.
struct Collect {
    rate: u32,
    got: Arc<std::sync::Mutex<(Vec<i16>, bool)>>,
}

impl crate::audio::AudioSink for Collect {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frame(&mut self, samples: &[i16]) {
        self.got.lock().unwrap().0.extend_from_slice(samples);
    }

    fn finish(&mut self) {
        self.got.lock().unwrap().1 = true;
    }
}

#[test]
fn a_mixer_recording_gets_the_whole_mix_every_tick() {
    let e = engine();
    let streams: Vec<Stream> = (0..2).map(|_| e.open(LOCALHOST).unwrap()).collect();
    let mut peers: Vec<Peer> = (0..2).map(|_| Peer::new()).collect();
    let m = e.mixer();
    for (s, p) in streams.iter().zip(&peers) {
        s.configure(params(Codec::Ulaw, p.addr()));
        m.add(s);
    }
    let got = Arc::new(std::sync::Mutex::new((Vec::new(), false)));
    let id = m.record(Box::new(Collect {
        rate: 8000,
        got: Arc::clone(&got),
    }));
    settle();
    // Both talk at once, each its own tone: the recording holds both.
    let (to0, to1) = (streams[0].local_addr(), streams[1].local_addr());
    let mut second = peers.pop().unwrap();
    let talker = std::thread::spawn(move || {
        second.send_tone(to1, Codec::Ulaw, 0, 1500.0, 50, Duration::from_millis(20));
    });
    peers[0].send_tone(to0, Codec::Ulaw, 0, 600.0, 50, Duration::from_millis(20));
    talker.join().unwrap();
    settle();
    m.stop_record(id);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !got.lock().unwrap().1 {
        assert!(Instant::now() < deadline, "the sink was never finished");
        sleep(Duration::from_millis(10));
    }
    let (pcm, _) = got.lock().unwrap().clone();
    // Every tick is recorded, silence included: at least the 1 s of talk.
    assert!(pcm.len() >= 8000, "{} samples", pcm.len());
    assert_eq!(pcm.len() % 160, 0, "whole 20 ms frames");
    let voiced: Vec<i16> = pcm
        .chunks(160)
        .filter(|f| signal_power(f) > 1e5)
        .flatten()
        .copied()
        .collect();
    assert!(voiced.len() >= 30 * 160, "{} voiced samples", voiced.len());
    let (a, b) = (
        tone_share(&voiced, 8000, 600.0),
        tone_share(&voiced, 8000, 1500.0),
    );
    assert!(
        a > 0.2 && b > 0.2 && a + b > 0.8,
        "600 Hz {a:.2}, 1500 Hz {b:.2}"
    );
    // Ending the mixer finishes the recordings still attached.
    let late = Arc::new(std::sync::Mutex::new((Vec::new(), false)));
    drop(m);
    let m2 = e.mixer();
    m2.record(Box::new(Collect {
        rate: 16000,
        got: Arc::clone(&late),
    }));
    drop(m2);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !late.lock().unwrap().1 {
        assert!(
            Instant::now() < deadline,
            "destroying the mixer finishes its recordings"
        );
        sleep(Duration::from_millis(10));
    }
}

#[test]
fn relinking_across_workers_and_mixers_settles() {
    let e = engine();
    let s: Vec<Stream> = (0..6).map(|_| e.open(LOCALHOST).unwrap()).collect();
    let peers: Vec<Peer> = (0..6).map(|_| Peer::new()).collect();
    for (st, p) in s.iter().zip(&peers) {
        st.configure(params(Codec::Ulaw, p.addr()));
    }
    let m = e.mixer();
    // A burst of competing operations without waiting in between.
    e.link(&s[0], &s[1]).unwrap();
    e.link(&s[2], &s[3]).unwrap();
    m.add(&s[1]);
    e.link(&s[4], &s[5]).unwrap();
    e.link(&s[1], &s[2]).unwrap();
    m.add(&s[3]);
    e.link(&s[3], &s[4]).unwrap();
    e.unlink(&s[0]);
    e.link(&s[5], &s[0]).unwrap();
    settle();
    settle();
    // Final state: 1<->2, 3<->4, 5<->0.
    let mut pairs = Vec::new();
    for (from, to) in [(1usize, 2usize), (3, 4), (5, 0), (2, 1)] {
        let mut sender = Peer::new();
        sender.sock = peers[from].sock.try_clone().unwrap();
        sender.ssrc = from as u32;
        sender.send(s[from].local_addr(), 0, false, &[from as u8; 160], 160);
        pairs.push((from, to));
    }
    for (from, to) in pairs {
        let got = peers[to].collect(Duration::from_millis(150), Duration::from_secs(2));
        assert!(
            got.iter().any(|(_, p)| p[0] == from as u8),
            "{from} -> {to} not relayed"
        );
    }
    assert!(e.link(&s[0], &s[0]).is_err());
}

#[test]
fn engine_totals_and_stop() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    a.set_echo(true);
    settle();
    for _ in 0..3 {
        pa.send(a.local_addr(), 0, false, &[0xFF; 160], 160);
    }
    assert_eq!(
        pa.collect(Duration::from_millis(150), Duration::from_secs(2))
            .len(),
        3
    );
    settle();
    let st = e.stats();
    assert_eq!(st.streams, 1);
    assert_eq!(st.packets_in, 3);
    assert_eq!(st.packets_out, 3);
    e.stop();
    assert!(matches!(e.open(LOCALHOST), Err(MediaError::Stopped)));
    // Handles outliving the workers are harmless.
    a.configure(params(Codec::Alaw, pa.addr()));
    drop(a);
}

#[test]
fn random_datagrams_do_not_disturb_a_stream() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    a.set_echo(true);
    settle();
    // A fixed-seed LCG: reproducible junk, a third of it shaped like RTP.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as u32
    };
    for i in 0..300 {
        let len = (next() % 300) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 3 == 0 && len > 1 {
            d[0] = 0x80 | (d[0] & 0x3F);
            d[1] = 101 | (d[1] & 0x80); // telephone-event with junk payloads
        }
        pa.sock.send_to(&d, a.local_addr()).unwrap();
    }
    settle();
    pa.collect(Duration::from_millis(50), Duration::from_secs(2));
    pa.send(a.local_addr(), 0, false, &[0x77; 160], 160);
    let got = pa.collect(Duration::from_millis(200), Duration::from_secs(2));
    assert!(
        got.iter().any(|(_, p)| p == &vec![0x77u8; 160]),
        "stream stopped working"
    );
    assert!(a.stats().dropped_malformed > 0);
}

#[test]
fn dtmf_follows_the_forwarded_stream_between_equal_codecs() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    a.configure(params(Codec::Ulaw, pa.addr()));
    b.configure(StreamParams {
        dtmf_payload_type: Some(100),
        ..params(Codec::Ulaw, pb.addr())
    });
    e.link(&a, &b).unwrap();
    settle();
    pa.send(a.local_addr(), 0, false, &[0xFF; 160], 160);
    let ts = pa.ts;
    for (end, dur) in [
        (false, 160),
        (false, 320),
        (true, 400),
        (true, 400),
        (true, 400),
    ] {
        pa.ts = ts;
        let ev = TelephoneEvent {
            event: 0,
            end,
            volume: 10,
            duration: dur,
        };
        pa.send(a.local_addr(), 101, dur == 160, &ev.to_bytes(), 0);
    }
    pa.ts = ts.wrapping_add(400);
    pa.send(a.local_addr(), 0, false, &[0xFF; 160], 160);
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(3));
    assert_eq!(got.len(), 7);
    let (audio0, events, audio1) = (&got[0].0, &got[1..6], &got[6].0);
    assert!(events.iter().all(|(h, _)| h.payload_type == 100));
    // Timestamps keep the sender's spacing: the event starts 160 after the
    // first audio packet and the audio resumes 400 after the event start.
    assert!(
        events
            .iter()
            .all(|(h, _)| h.timestamp == audio0.timestamp.wrapping_add(160))
    );
    assert_eq!(audio1.timestamp, audio0.timestamp.wrapping_add(560));
    for w in got.windows(2) {
        assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
    }
}

/// A stream whose DTMF relay is off still reports its keys but no longer
/// forwards them to the linked stream (a bridge holding feature codes);
/// audio is still relayed.
#[test]
fn dtmf_relay_off_keeps_keys_from_the_linked_stream() {
    let e = engine();
    let a = e.open(LOCALHOST).unwrap();
    let b = e.open(LOCALHOST).unwrap();
    let mut pa = Peer::new();
    let pb = Peer::new();
    let mut events = a.take_events().unwrap();
    a.configure(StreamParams {
        dtmf_payload_type: Some(101),
        ..params(Codec::Ulaw, pa.addr())
    });
    b.configure(StreamParams {
        dtmf_payload_type: Some(101),
        ..params(Codec::Ulaw, pb.addr())
    });
    e.link(&a, &b).unwrap();
    a.set_dtmf_relay(false);
    settle();
    let ts = pa.ts;
    for (i, (end, dur)) in [(false, 160), (true, 800), (true, 800)]
        .into_iter()
        .enumerate()
    {
        pa.ts = ts;
        let ev = TelephoneEvent {
            event: 11,
            end,
            volume: 10,
            duration: dur,
        };
        pa.send(a.local_addr(), 101, i == 0, &ev.to_bytes(), 0);
    }
    pa.send(a.local_addr(), 0, false, &[7; 160], 160);
    let got = pb.collect(Duration::from_millis(300), Duration::from_secs(5));
    assert_eq!(got.len(), 1, "only the audio crossed");
    assert_eq!(got[0].0.payload_type, 0);
    assert_eq!(
        wait_event(&mut events, |e| matches!(e, StreamEvent::Dtmf { .. })),
        Some(StreamEvent::Dtmf {
            digit: '#',
            duration_ms: 100
        })
    );
}
