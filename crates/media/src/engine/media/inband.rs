//! In-band DTMF on a stream (`dtmf_mode=inband`, or `auto` without
//! telephone-event): received audio is decoded and run through the
//! [`DtmfDetector`], whose keys go out as the same [`StreamEvent`]s RFC 4733
//! produces; keys to send are played as their tone pairs in the outgoing
//! audio, one after the other with a short pause, replacing relayed audio
//! while they play.
//!
//! Nothing here runs for a stream that neither detects nor sends in-band
//! keys: the state is created by the commands that need it.

use std::collections::VecDeque;

use super::{Scratch, StreamState};
use crate::audio::{AudioSource, frame_len};
use crate::codec::Codec;
use crate::dtmf_detect::{self, DetectorEvent, DtmfDetector};
use crate::engine::fifo::SampleFifo;
use crate::engine::io::SendQueue;
use crate::engine::stream::StreamEvent;
use crate::resample::Resampler;
use crate::tone::ToneSource;

/// Silence after each key sent, so that the same key twice is heard twice
/// (the detector ends a key after about 40 ms without it).
const GAP_MS: u32 = 60;

/// Keys waiting to be sent at most; more are dropped.
const MAX_QUEUED: usize = 64;

/// Detection state: the decimator to 8 kHz, the detector, and the events
/// found in the last packet.
struct Detect {
    rs: Resampler,
    detector: DtmfDetector,
    found: VecDeque<StreamEvent>,
}

/// The key being played, at 8 kHz, re-framed to the codec's packets.
struct Playing {
    src: ToneSource,
    rs: Resampler,
    fifo: SampleFifo,
}

/// A stream's in-band DTMF state.
#[derive(Default)]
pub(in crate::engine) struct Inband {
    detect: Option<Box<Detect>>,
    queue: VecDeque<(char, u32)>,
    playing: Option<Box<Playing>>,
}

impl Inband {
    fn playing_or_queued(&self) -> bool {
        self.playing.is_some() || !self.queue.is_empty()
    }
}

fn decimator(codec: Option<Codec>) -> Resampler {
    Resampler::for_rates(codec.map_or(8000, Codec::sample_rate), dtmf_detect::RATE)
}

impl StreamState {
    /// Turns detection of keys in the received audio on or off.
    pub(in crate::engine) fn set_inband_detect(&mut self, on: bool) {
        if !on && self.inband.is_none() {
            return;
        }
        let codec = self.codec();
        let inband = self.inband.get_or_insert_with(Box::default);
        inband.detect = on.then(|| {
            Box::new(Detect {
                rs: decimator(codec),
                detector: DtmfDetector::default(),
                found: VecDeque::with_capacity(8),
            })
        });
    }

    /// Queues a key to play as its tone pair for `duration_ms`.
    pub(in crate::engine) fn queue_inband_dtmf(&mut self, digit: char, duration_ms: u32) {
        if dtmf_detect::frequencies(digit).is_none() {
            return;
        }
        let inband = self.inband.get_or_insert_with(Box::default);
        if inband.queue.len() < MAX_QUEUED {
            inband.queue.push_back((digit, duration_ms));
        }
    }

    /// Whether a key is playing (or waiting): relayed audio must wait.
    pub(super) fn inband_sending(&self) -> bool {
        self.inband.as_ref().is_some_and(|i| i.playing_or_queued())
    }

    /// The codec changed: restart detection at its rate; a key playing
    /// is re-framed for it.
    pub(super) fn inband_codec_changed(&mut self, codec: Codec) {
        let Some(inband) = self.inband.as_mut() else {
            return;
        };
        if let Some(d) = inband.detect.as_mut() {
            d.rs = decimator(Some(codec));
            d.detector.reset();
        }
        if let Some(p) = inband.playing.as_mut() {
            p.rs = Resampler::for_rates(dtmf_detect::RATE, codec.sample_rate());
            p.fifo.clear();
        }
    }

    /// Runs received audio (decoded, at the codec rate) through the
    /// detector and reports the keys found.
    pub(super) fn detect_inband(&mut self, pcm: &[i16], scratch: &mut [i16]) {
        let Some(d) = self.inband.as_mut().and_then(|i| i.detect.as_mut()) else {
            return;
        };
        let n = d.rs.process(pcm, scratch);
        let found = &mut d.found;
        d.detector.process(&scratch[..n], |e| {
            found.push_back(match e {
                DetectorEvent::Begin(digit) => StreamEvent::DtmfBegin { digit },
                DetectorEvent::End { digit, duration_ms } => {
                    StreamEvent::Dtmf { digit, duration_ms }
                }
            });
        });
        while let Some(event) = self
            .inband
            .as_mut()
            .and_then(|i| i.detect.as_mut())
            .and_then(|d| d.found.pop_front())
        {
            self.emit(event);
        }
    }

    /// Whether this stream decodes received audio for detection.
    pub(super) fn detects_inband(&self) -> bool {
        self.inband.as_ref().is_some_and(|i| i.detect.is_some())
    }

    /// The 20 ms tick of in-band sending: plays the current key (or starts
    /// the next). False when nothing is playing, so the rest of the tick
    /// (playback) runs.
    pub(super) fn tick_inband(
        &mut self,
        q: &mut SendQueue,
        scratch: &mut Scratch,
        now_ms: u64,
    ) -> bool {
        let Some(codec) = self.codec() else {
            return false;
        };
        let ptime = self.ptime();
        let Some(inband) = self.inband.as_mut() else {
            return false;
        };
        if inband.playing.is_none() {
            let Some((digit, duration_ms)) = inband.queue.pop_front() else {
                return false;
            };
            let spec = dtmf_detect::tone_spec(digit, duration_ms, GAP_MS);
            let Some(src) = spec.and_then(|s| ToneSource::new(&s, dtmf_detect::RATE).ok()) else {
                return false;
            };
            inband.playing = Some(Box::new(Playing {
                src,
                rs: Resampler::for_rates(dtmf_detect::RATE, codec.sample_rate()),
                fifo: SampleFifo::new(),
            }));
        }
        let Some(p) = inband.playing.as_mut() else {
            return false;
        };
        let want = frame_len(dtmf_detect::RATE);
        let frame = &mut scratch.frame[..want];
        let n = p.src.read_frame(frame).min(want);
        if n == 0 {
            inband.playing = None;
            return inband.playing_or_queued();
        }
        frame[n..].fill(0);
        let m = p.rs.process(frame, &mut scratch.resampled);
        p.fifo.push(&scratch.resampled[..m]);
        let samples = codec.frame_samples(ptime);
        while self
            .inband
            .as_mut()
            .and_then(|i| i.playing.as_mut())
            .is_some_and(|p| p.fifo.pop_exact(&mut scratch.frame[..samples]))
        {
            self.send_generated(q, &scratch.frame[..samples], now_ms);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::codec::{Codec, Decoder, Encoder};
    use crate::dtmf_detect::{self, DetectorEvent, DtmfDetector};
    use crate::rtp::{RtpHeader, RtpPacket, build_packet};
    use crate::{MediaEngine, RtpConfig, Stream, StreamEvent, StreamParams};

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn engine() -> Arc<MediaEngine> {
        MediaEngine::start(RtpConfig {
            port_start: 20000,
            port_end: 40000,
            strict_rtp: true,
            workers: 1,
        })
        .unwrap()
    }

    fn peer() -> UdpSocket {
        let s = UdpSocket::bind((LOCALHOST, 0)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        s
    }

    fn configured(e: &MediaEngine, codec: Codec, remote: SocketAddr) -> Stream {
        let s = e.open(LOCALHOST).unwrap();
        s.configure(StreamParams {
            remote: Some(remote),
            dtmf_payload_type: None,
            ..StreamParams::new(codec)
        });
        s
    }

    /// The keys of `digits`, each 80 ms of tone and 80 ms of silence, from
    /// the sine formula at `rate`.
    fn keys(digits: &str, rate: u32) -> Vec<i16> {
        let mut out = Vec::new();
        let per = |ms: u32| (ms * rate / 1000) as usize;
        for digit in digits.chars() {
            let (r, c) = dtmf_detect::frequencies(digit).unwrap();
            let w = |f: f32| 2.0 * std::f64::consts::PI * f64::from(f) / f64::from(rate);
            for i in 0..per(80) {
                let t = i as f64;
                out.push((5000.0 * (w(r) * t).sin() + 5000.0 * (w(c) * t).sin()) as i16);
            }
            out.extend(std::iter::repeat_n(0, per(80)));
        }
        out
    }

    /// Sends `pcm` to `to` in 20 ms packets of `codec`.
    fn send_audio(sock: &UdpSocket, to: SocketAddr, codec: Codec, pcm: &[i16]) {
        let mut enc = Encoder::new(codec);
        let (mut seq, mut ts) = (1u16, 1000u32);
        for frame in pcm.chunks(codec.frame_samples(20)) {
            let mut payload = [0u8; 640];
            let n = enc.encode(frame, &mut payload);
            let h = RtpHeader {
                marker: false,
                payload_type: codec.static_payload_type().unwrap_or(96),
                sequence: seq,
                timestamp: ts,
                ssrc: 0x1D7F,
            };
            let mut buf = [0u8; 800];
            let len = build_packet(&h, &payload[..n], &mut buf).unwrap();
            sock.send_to(&buf[..len], to).unwrap();
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(codec.frame_ticks(20));
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The keys a stream reported, waiting (bounded) until `count` ended.
    fn reported(
        events: &mut tokio::sync::mpsc::Receiver<StreamEvent>,
        count: usize,
    ) -> Vec<StreamEvent> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut out = Vec::new();
        while out
            .iter()
            .filter(|e| matches!(e, StreamEvent::Dtmf { .. }))
            .count()
            < count
            && Instant::now() < deadline
        {
            match events.try_recv() {
                Ok(e) => out.push(e),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        out
    }

    fn ended(events: &[StreamEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Dtmf { digit, .. } => Some(*digit),
                _ => None,
            })
            .collect()
    }

    /// Keys in received µ-law and G.722 audio come out as begin/end
    /// events, like RFC 4733 ones.
    #[test]
    fn received_tones_become_dtmf_events() {
        let e = engine();
        for codec in [Codec::Ulaw, Codec::G722] {
            let phone = peer();
            let s = configured(&e, codec, phone.local_addr().unwrap());
            let mut events = s.take_events().unwrap();
            s.detect_inband_dtmf(true);
            std::thread::sleep(Duration::from_millis(100));
            send_audio(
                &phone,
                s.local_addr(),
                codec,
                &keys("19#", codec.sample_rate()),
            );
            let got = reported(&mut events, 3);
            assert_eq!(ended(&got), "19#", "{codec:?}: {got:?}");
            assert_eq!(got[0], StreamEvent::DtmfBegin { digit: '1' });
        }
    }

    /// Detection runs only when asked for: the same audio without it
    /// produces nothing.
    #[test]
    fn tones_are_not_detected_unless_asked() {
        let e = engine();
        let phone = peer();
        let s = configured(&e, Codec::Ulaw, phone.local_addr().unwrap());
        let mut events = s.take_events().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        send_audio(&phone, s.local_addr(), Codec::Ulaw, &keys("5", 8000));
        std::thread::sleep(Duration::from_millis(300));
        assert!(events.try_recv().is_err());
    }

    /// Keys sent in-band arrive as audio the detector (and so a phone)
    /// recognises, in order, the same key twice included.
    #[test]
    fn sent_keys_are_tones_in_the_audio() {
        let e = engine();
        let phone = peer();
        let s = configured(&e, Codec::Ulaw, phone.local_addr().unwrap());
        for digit in ['4', '4', '*'] {
            s.send_dtmf_inband(digit, 100);
        }
        s.send_dtmf_inband('x', 100);
        let mut dec = Decoder::new(Codec::Ulaw);
        let mut detector = DtmfDetector::default();
        let mut heard = String::new();
        let mut buf = [0u8; 1500];
        let mut pcm = [0i16; 1000];
        let (start, mut quiet) = (Instant::now(), Instant::now());
        while quiet.elapsed() < Duration::from_millis(300)
            && start.elapsed() < Duration::from_secs(5)
        {
            if let Ok((n, _)) = phone.recv_from(&mut buf) {
                let p = RtpPacket::parse(&buf[..n]).unwrap();
                assert_eq!(p.header.payload_type, 0);
                let m = dec.decode(p.payload, &mut pcm);
                detector.process(&pcm[..m], |e| {
                    if let DetectorEvent::End { digit, .. } = e {
                        heard.push(digit);
                    }
                });
                quiet = Instant::now();
            }
        }
        detector.process(&[0; 800], |e| {
            if let DetectorEvent::End { digit, .. } = e {
                heard.push(digit);
            }
        });
        assert_eq!(heard, "44*");
    }
}
