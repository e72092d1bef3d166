//! RTP statistics, RTCP and snoop taps over real UDP sockets on
//! 127.0.0.1, with the peers of `tests.rs`.

use std::net::SocketAddr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::StreamParams;
use super::tests::{Peer, decode, engine, params, settle};
use crate::analysis::{goertzel_power, sine};
use crate::codec::Codec;
use crate::pipe::audio_pipe;
use crate::rtcp::{self, ReportBlock};
use crate::snoop::{SnoopDirection, SpySink};
use crate::tone::ToneSource;

/// Waits (generously) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "never: {what}");
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn statistics_count_loss_ssrcs_octets_and_remote_reports() {
    let engine = engine();
    let stream = engine.open("127.0.0.1".parse().unwrap()).unwrap();
    let mut peer = Peer::new();
    stream.configure(StreamParams {
        rtcp: true,
        ..params(Codec::Ulaw, peer.addr())
    });
    settle();
    // 20 packets, two of them lost on the way.
    for i in 0..20 {
        if i == 5 || i == 12 {
            peer.seq = peer.seq.wrapping_add(1);
            continue;
        }
        peer.send(stream.local_addr(), 0, false, &[0xFF; 160], 160);
    }
    stream.play(Box::new(ToneSource::named("ring", 8000).unwrap()));
    eventually("18 packets counted", || stream.rtp_stats().rxcount == 18);
    eventually("packets sent", || stream.rtp_stats().txcount > 5);
    let s = stream.rtp_stats();
    assert_eq!(s.rxploss, 2);
    assert_eq!(s.rxoctetcount, 18 * 160);
    assert_eq!(s.remote_ssrc, peer.ssrc);
    assert_ne!(s.local_ssrc, 0);
    assert_eq!(s.txoctetcount, s.txcount * 160);
    assert!(s.rxjitter >= 0.0 && s.rxjitter < 0.5, "{}", s.rxjitter);

    // The peer's receiver report on us, 100 ms after an SR of ours.
    let lsr = rtcp::ntp_middle(rtcp::ntp_now()).wrapping_sub(6554);
    let block = ReportBlock {
        ssrc: s.local_ssrc,
        cumulative_lost: 7,
        jitter: 80,
        last_sr: lsr,
        ..ReportBlock::default()
    };
    let mut buf = [0u8; 200];
    let n = rtcp::write_report(peer.ssrc, None, Some(&block), b"peer", &mut buf);
    let rtcp_port = SocketAddr::new(stream.local_addr().ip(), stream.local_addr().port() + 1);
    peer.sock.send_to(&buf[..n], rtcp_port).unwrap();
    eventually("the report is read", || stream.rtp_stats().txploss == 7);
    let s = stream.rtp_stats();
    assert!((s.txjitter - 0.010).abs() < 1e-9, "{}", s.txjitter);
    assert!((0.09..0.5).contains(&s.rtt), "{}", s.rtt);
    assert_eq!((s.minrtt, s.maxrtt), (s.rtt, s.rtt));
}

#[test]
fn a_spy_hears_the_remote_and_a_whisper_reaches_it() {
    let engine = engine();
    let stream = engine.open("127.0.0.1".parse().unwrap()).unwrap();
    let mut peer = Peer::new();
    stream.configure(params(Codec::Ulaw, peer.addr()));
    let (writer, mut spied) = audio_pipe(16000);
    stream.monitor(Box::new(SpySink::new(SnoopDirection::In, writer, 8000)));
    settle();
    peer.send_tone(
        stream.local_addr(),
        Codec::Ulaw,
        0,
        1000.0,
        40,
        Duration::from_millis(20),
    );
    settle();
    let mut heard = vec![0i16; 16000];
    let n = spied.read(&mut heard);
    heard.truncate(n);
    assert!(n > 8000 / 2, "{n} samples spied");
    assert!(goertzel_power(&heard, 8000, 1000.0) > 100.0 * goertzel_power(&heard, 8000, 2200.0));

    // Whisper 2200 Hz to the remote: the stream sends nothing of its own,
    // so the whisper goes out alone, 20 ms at a time as it arrives.
    let (mut whisper, reader) = audio_pipe(16000);
    stream.whisper(SnoopDirection::Out, reader, 8000);
    settle();
    let tone = sine(8000, 2200.0, 8000.0, 160 * 50);
    let feeder = std::thread::spawn(move || {
        for frame in tone.chunks(160) {
            whisper.write(frame);
            sleep(Duration::from_millis(20));
        }
        whisper
    });
    let packets = peer.collect(Duration::from_millis(300), Duration::from_secs(5));
    let _whisper = feeder.join().unwrap();
    assert!(packets.len() > 25, "{} packets", packets.len());
    let pcm = decode(Codec::Ulaw, &packets);
    assert!(goertzel_power(&pcm, 8000, 2200.0) > 100.0 * goertzel_power(&pcm, 8000, 1000.0));
}
