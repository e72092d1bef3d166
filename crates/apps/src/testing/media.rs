//! Channels with real media for the media applications' tests: the driver's
//! `media()` is a real `obelus_media::Stream` of a real engine on
//! 127.0.0.1, sending to a [`Peer`] (a UDP socket playing the phone), so a
//! test checks what a caller would hear and drives the applications with
//! what a caller would send (audio, RFC 4733 DTMF).
//!
//! The stream's events reach the channel's mailbox as the SIP session does
//! it (`on_media` in `obelus-pjsip`): `Dtmf` and `PlaybackFinished`
//! become `Control` frames.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Control, Driver, Indication, Party,
};
use obelus_media::analysis::{goertzel_power, signal_power, sine};
use obelus_media::dtmf::{TelephoneEvent, digit_to_event};
use obelus_media::g711::{linear_to_ulaw, ulaw_to_linear};
use obelus_media::rtp::{RtpHeader, RtpPacket, build_packet};
use obelus_media::{Codec, MediaEngine, RtpConfig, Stream, StreamEvent, StreamParams};
use tokio::net::UdpSocket;

use super::TestDriver;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The telephone-event payload type the stream is configured with.
const DTMF_PT: u8 = 101;
/// Samples in one 20 ms µ-law packet.
pub const FRAME: usize = 160;

/// One engine for every test (its worker threads live as long as the test
/// process).
fn engine() -> &'static Arc<MediaEngine> {
    static ENGINE: OnceLock<Arc<MediaEngine>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        MediaEngine::start(RtpConfig {
            port_start: 46000,
            port_end: 47999,
            strict_rtp: true,
            workers: 1,
        })
        .expect("media engine")
    })
}

/// A [`TestDriver`] whose channel has a media stream.
pub struct MediaDriver {
    /// What the channel asked the driver, as [`TestDriver`] logs it.
    pub inner: TestDriver,
    stream: Arc<Stream>,
}

impl MediaDriver {
    /// The log so far.
    pub fn log(&self) -> Vec<String> {
        self.inner.log()
    }

    /// The stream, for its counters.
    pub fn stream(&self) -> &Arc<Stream> {
        &self.stream
    }
}

#[async_trait]
impl Driver for MediaDriver {
    async fn call(&self, channel: &Arc<Channel>) -> Result<(), Cause> {
        self.inner.call(channel).await
    }

    async fn answer(&self, channel: &Arc<Channel>) -> Result<(), Cause> {
        self.inner.answer(channel).await
    }

    async fn indicate(&self, channel: &Arc<Channel>, indication: Indication) {
        self.inner.indicate(channel, indication).await;
    }

    async fn hangup(&self, channel: &Arc<Channel>, cause: Cause) {
        self.inner.hangup(channel, cause).await;
    }

    async fn send_digit(&self, channel: &Arc<Channel>, digit: char, duration_ms: u32) {
        self.inner.send_digit(channel, digit, duration_ms).await;
    }

    fn media(&self) -> Option<Arc<Stream>> {
        Some(Arc::clone(&self.stream))
    }
}

/// The far end of the stream: sends µ-law audio and RFC 4733 DTMF, and
/// receives what the applications play.
pub struct Peer {
    sock: UdpSocket,
    to: SocketAddr,
    ssrc: u32,
    seq: u16,
    ts: u32,
}

/// One packet the peer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its payload type.
    pub payload_type: u8,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Peer {
    async fn send(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: &[u8]) {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.seq,
            timestamp,
            ssrc: self.ssrc,
        };
        let mut buf = [0u8; 1500];
        let n = build_packet(&header, payload, &mut buf).unwrap();
        self.sock.send_to(&buf[..n], self.to).await.unwrap();
        self.seq = self.seq.wrapping_add(1);
    }

    /// Sends `pcm` as 20 ms µ-law packets, one every 20 ms as a phone
    /// does (a short last frame is padded with silence).
    pub async fn send_audio(&mut self, pcm: &[i16]) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for frame in pcm.chunks(FRAME) {
            tick.tick().await;
            let mut payload = [0xFFu8; FRAME];
            for (o, s) in payload.iter_mut().zip(frame) {
                *o = linear_to_ulaw(*s);
            }
            self.send(0, false, self.ts, &payload).await;
            self.ts = self.ts.wrapping_add(FRAME as u32);
        }
    }

    /// Presses a key for 100 ms, as RFC 4733 events (a start, an update,
    /// and the end three times).
    pub async fn send_dtmf(&mut self, digit: char) {
        let event = digit_to_event(digit).unwrap();
        let start = self.ts;
        for (i, (duration, end)) in [
            (160, false),
            (480, false),
            (800, true),
            (800, true),
            (800, true),
        ]
        .into_iter()
        .enumerate()
        {
            let ev = TelephoneEvent {
                event,
                end,
                volume: 10,
                duration,
            };
            self.send(DTMF_PT, i == 0, start, &ev.to_bytes()).await;
        }
        self.ts = self.ts.wrapping_add(800);
    }

    /// The next packet, if one comes within `wait`.
    pub async fn recv(&self, wait: Duration) -> Option<Received> {
        let mut buf = [0u8; 1500];
        loop {
            let n = tokio::time::timeout(wait, self.sock.recv(&mut buf))
                .await
                .ok()?
                .ok()?;
            if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                return Some(Received {
                    payload_type: p.header.payload_type,
                    payload: p.payload.to_vec(),
                });
            }
        }
    }

    /// The next audio packet, decoded, if one comes within `wait` (other
    /// packets are skipped).
    pub async fn recv_audio(&self, wait: Duration) -> Option<Vec<i16>> {
        loop {
            let p = self.recv(wait).await?;
            if p.payload_type == 0 {
                return Some(p.payload.iter().map(|&b| ulaw_to_linear(b)).collect());
            }
        }
    }

    /// Every audio sample received until nothing came for 300 ms (what was
    /// played before, still queued in the socket, included).
    pub async fn drain_audio(&self) -> Vec<i16> {
        let mut all = Vec::new();
        while let Some(frame) = self.recv_audio(Duration::from_millis(300)).await {
            all.extend(frame);
        }
        all
    }
}

/// Hands the stream's events to the channel as the SIP session does.
fn forward_events(stream: &Stream, channel: &Arc<Channel>) {
    let Some(mut events) = stream.take_events() else {
        return;
    };
    let channel = Arc::downgrade(channel);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let Some(channel) = channel.upgrade() else {
                return;
            };
            match event {
                StreamEvent::Dtmf { digit, duration_ms } => {
                    channel.queue(Control::Dtmf { digit, duration_ms });
                }
                StreamEvent::PlaybackFinished { id, completed } => {
                    channel.queue(Control::PlaybackFinished { id, completed });
                }
                StreamEvent::DtmfBegin { .. } | StreamEvent::RemoteLearned(_) => {}
            }
        }
    });
}

/// A new inbound channel at `exten@context` whose audio goes to and comes
/// from the returned [`Peer`] (µ-law, telephone-event on 101).
pub async fn media_channel(
    core: &Arc<Core>,
    context: &str,
    exten: &str,
) -> (Arc<Channel>, Arc<MediaDriver>, Peer) {
    let sock = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let stream = Arc::new(engine().open(LOCALHOST).unwrap());
    stream.configure(StreamParams {
        remote: Some(sock.local_addr().unwrap()),
        ..StreamParams::new(Codec::Ulaw)
    });
    let peer = Peer {
        to: stream.local_addr(),
        sock,
        ssrc: 0x0B31_0005,
        seq: 7,
        ts: 1000,
    };
    let driver = Arc::new(MediaDriver {
        inner: TestDriver::default(),
        stream: Arc::clone(&stream),
    });
    let channel = Channel::create(
        &core.channels,
        ChannelInit {
            tech: "Test",
            resource: "media".into(),
            state: ChannelState::Ring,
            caller: Party {
                number: "101".into(),
                name: "Alice".into(),
            },
            context: context.into(),
            exten: exten.into(),
            language: String::new(),
            accountcode: String::new(),
        },
        Arc::clone(&driver) as Arc<dyn Driver>,
        None,
    );
    forward_events(&stream, &channel);
    (channel, driver, peer)
}

/// `samples` of a `freq` Hz tone at 8 kHz, loud enough to dominate µ-law
/// noise.
pub fn tone(freq: f32, samples: usize) -> Vec<i16> {
    sine(8000, freq, 8000.0, samples)
}

/// Writes `samples` (8 kHz) as `<astdatadir>/sounds/en/<name>.wav`.
pub fn install_sound(core: &Core, name: &str, samples: &[i16]) -> PathBuf {
    let path = crate::sounds::sounds_dir(&core.settings.dirs.data).join(format!("en/{name}.wav"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    obelus_media::sound::write_wav(&path, 8000, samples).unwrap();
    path
}

/// [`share`] over 100 ms blocks, weighted by their power. A frame late,
/// lost or doubled on a loaded machine breaks a tone's phase, which over a
/// whole recording reads as power at other frequencies; within most blocks
/// the tone stays whole. For tones of a whole number of cycles per block
/// (multiples of 10 Hz), as Goertzel leaks otherwise.
pub fn block_share(samples: &[i16], freq: f32) -> f64 {
    let (mut at, mut total) = (0.0, 0.0);
    for block in samples.chunks_exact(800) {
        at += share(block, freq) * signal_power(block);
        total += signal_power(block);
    }
    if total == 0.0 { 0.0 } else { at / total }
}

/// The share of `samples`' power at `freq` Hz (1.0: a pure tone).
pub fn share(samples: &[i16], freq: f32) -> f64 {
    let total = signal_power(samples);
    if total == 0.0 {
        return 0.0;
    }
    goertzel_power(samples, 8000, freq) / total
}
