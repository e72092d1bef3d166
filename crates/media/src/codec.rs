//! Codecs: names as Asterisk writes them, SDP mapping, and stateful per-stream
//! encoders and decoders that write into caller buffers.
//!
//! G.711 is table driven ([`crate::g711`]); G.722 comes from the pure-Rust
//! `audio-codec` crate (a port of the spandsp reference); `slin`/`slin16` on
//! the wire are RFC 3551 L16, network byte order.

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::{Decoder as _, Encoder as _};

use crate::g711;

/// The codecs the media plane can send, receive and transcode between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law (PCMU), 8 kHz.
    Ulaw,
    /// G.711 A-law (PCMA), 8 kHz.
    Alaw,
    /// G.722 ADPCM, 16 kHz audio on an 8 kHz RTP clock.
    G722,
    /// 16-bit linear at 8 kHz (Asterisk `slin`, RTP L16/8000).
    Slin8,
    /// 16-bit linear at 16 kHz (Asterisk `slin16`, RTP L16/16000).
    Slin16,
}

/// Every codec, in a stable order (handy for tests and capability lists).
pub const ALL_CODECS: [Codec; 5] = [
    Codec::Ulaw,
    Codec::Alaw,
    Codec::G722,
    Codec::Slin8,
    Codec::Slin16,
];

impl Codec {
    /// The Asterisk format name, as used in `allow=` and `core show codecs`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Ulaw => "ulaw",
            Codec::Alaw => "alaw",
            Codec::G722 => "g722",
            Codec::Slin8 => "slin",
            Codec::Slin16 => "slin16",
        }
    }

    /// Parses an Asterisk `allow=` name, case-insensitively, so endpoint
    /// configuration maps straight onto a codec.
    pub fn from_name(s: &str) -> Option<Codec> {
        let s = s.trim();
        ALL_CODECS
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }

    /// The RFC 3551 static payload type, if the codec has one; the others need
    /// a dynamic type from the SDP.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Ulaw => Some(0),
            Codec::Alaw => Some(8),
            Codec::G722 => Some(9),
            Codec::Slin8 | Codec::Slin16 => None,
        }
    }

    /// The encoding name of the SDP `a=rtpmap` line.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Ulaw => "PCMU",
            Codec::Alaw => "PCMA",
            Codec::G722 => "G722",
            Codec::Slin8 | Codec::Slin16 => "L16",
        }
    }

    /// The RTP timestamp clock. G.722 keeps 8000 although it carries 16 kHz
    /// audio: RFC 3551 §4.5.2 fixed that by mistake and everyone follows it.
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            Codec::Ulaw | Codec::Alaw | Codec::G722 | Codec::Slin8 => 8000,
            Codec::Slin16 => 16000,
        }
    }

    /// The real audio sample rate of the decoded signal.
    pub fn sample_rate(self) -> u32 {
        match self {
            Codec::Ulaw | Codec::Alaw | Codec::Slin8 => 8000,
            Codec::G722 | Codec::Slin16 => 16000,
        }
    }

    /// Maps an `a=rtpmap:<pt> <encoding>/<clock>` pair to a codec. G.722 is
    /// also accepted with a 16000 clock, which some phones wrongly announce.
    pub fn from_rtpmap(encoding: &str, clock: u32) -> Option<Codec> {
        let e = encoding.trim();
        let is = |name: &str| e.eq_ignore_ascii_case(name);
        match clock {
            8000 if is("PCMU") => Some(Codec::Ulaw),
            8000 if is("PCMA") => Some(Codec::Alaw),
            8000 | 16000 if is("G722") => Some(Codec::G722),
            8000 if is("L16") => Some(Codec::Slin8),
            16000 if is("L16") => Some(Codec::Slin16),
            _ => None,
        }
    }

    /// Payload bytes of one frame of `ptime_ms` milliseconds.
    pub fn frame_bytes(self, ptime_ms: u32) -> usize {
        let ms = ptime_ms as usize;
        match self {
            // 8 bits per sample at 8 kHz; G.722 is 4 bits per sample at 16 kHz.
            Codec::Ulaw | Codec::Alaw | Codec::G722 => 8 * ms,
            Codec::Slin8 => 16 * ms,
            Codec::Slin16 => 32 * ms,
        }
    }

    /// Decoded samples in one frame of `ptime_ms` milliseconds.
    pub fn frame_samples(self, ptime_ms: u32) -> usize {
        (self.sample_rate() as usize * ptime_ms as usize) / 1000
    }

    /// RTP timestamp units in one frame of `ptime_ms` milliseconds.
    pub fn frame_ticks(self, ptime_ms: u32) -> u32 {
        self.rtp_clock_rate() * ptime_ms / 1000
    }

    /// Decoded samples carried by a payload of `bytes` bytes.
    pub fn samples_in(self, bytes: usize) -> usize {
        match self {
            Codec::Ulaw | Codec::Alaw => bytes,
            Codec::G722 => bytes * 2,
            Codec::Slin8 | Codec::Slin16 => bytes / 2,
        }
    }

    /// RTP timestamp units covered by a payload of `bytes` bytes.
    pub fn ticks_in(self, bytes: usize) -> u32 {
        match self {
            Codec::Ulaw | Codec::Alaw | Codec::G722 => bytes as u32,
            Codec::Slin8 | Codec::Slin16 => (bytes / 2) as u32,
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

enum EncoderKind {
    Ulaw,
    Alaw,
    G722(Box<G722Encoder>),
    Slin,
}

/// Turns linear samples into payload bytes for one outgoing stream. G.722 is
/// adaptive, so each stream needs its own encoder; G.711 and L16 are
/// stateless but share the type so callers need not care.
pub struct Encoder {
    codec: Codec,
    kind: EncoderKind,
}

impl Encoder {
    /// Creates an encoder with fresh state.
    pub fn new(codec: Codec) -> Encoder {
        let kind = match codec {
            Codec::Ulaw => EncoderKind::Ulaw,
            Codec::Alaw => EncoderKind::Alaw,
            Codec::G722 => EncoderKind::G722(Box::new(G722Encoder::new())),
            Codec::Slin8 | Codec::Slin16 => EncoderKind::Slin,
        };
        Encoder { codec, kind }
    }

    /// The codec this encoder produces.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Encodes `pcm` (at [`Codec::sample_rate`]) into `out` and returns the
    /// bytes written. Stops early, without error, if `out` is too small;
    /// G.722 consumes samples in pairs (a trailing odd sample is dropped).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        match &mut self.kind {
            EncoderKind::Ulaw => {
                let n = pcm.len().min(out.len());
                for (o, &s) in out[..n].iter_mut().zip(pcm) {
                    *o = g711::linear_to_ulaw(s);
                }
                n
            }
            EncoderKind::Alaw => {
                let n = pcm.len().min(out.len());
                for (o, &s) in out[..n].iter_mut().zip(pcm) {
                    *o = g711::linear_to_alaw(s);
                }
                n
            }
            EncoderKind::G722(enc) => {
                let n = pcm.len().min(out.len() * 2) & !1;
                enc.encode_into(&pcm[..n], out).unwrap_or(0)
            }
            EncoderKind::Slin => {
                let n = pcm.len().min(out.len() / 2);
                for (o, &s) in out.chunks_exact_mut(2).zip(&pcm[..n]) {
                    o.copy_from_slice(&s.to_be_bytes());
                }
                n * 2
            }
        }
    }
}

enum DecoderKind {
    Ulaw,
    Alaw,
    G722(Box<G722Decoder>),
    Slin,
}

/// Turns payload bytes of one incoming stream into linear samples at
/// [`Codec::sample_rate`].
pub struct Decoder {
    codec: Codec,
    kind: DecoderKind,
}

impl Decoder {
    /// Creates a decoder with fresh state.
    pub fn new(codec: Codec) -> Decoder {
        let kind = match codec {
            Codec::Ulaw => DecoderKind::Ulaw,
            Codec::Alaw => DecoderKind::Alaw,
            Codec::G722 => DecoderKind::G722(Box::new(G722Decoder::new())),
            Codec::Slin8 | Codec::Slin16 => DecoderKind::Slin,
        };
        Decoder { codec, kind }
    }

    /// The codec this decoder reads.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Decodes `payload` into `out` and returns the samples written. Stops
    /// early, without error, if `out` is too small. Any byte string is valid
    /// input (a trailing odd byte of L16 is ignored).
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> usize {
        match &mut self.kind {
            DecoderKind::Ulaw => {
                let n = payload.len().min(out.len());
                for (o, &b) in out[..n].iter_mut().zip(payload) {
                    *o = g711::ulaw_to_linear(b);
                }
                n
            }
            DecoderKind::Alaw => {
                let n = payload.len().min(out.len());
                for (o, &b) in out[..n].iter_mut().zip(payload) {
                    *o = g711::alaw_to_linear(b);
                }
                n
            }
            DecoderKind::G722(dec) => {
                let n = payload.len().min(out.len() / 2);
                dec.decode_into(&payload[..n], out).unwrap_or(0)
            }
            DecoderKind::Slin => {
                let n = (payload.len() / 2).min(out.len());
                for (o, b) in out[..n].iter_mut().zip(payload.chunks_exact(2)) {
                    *o = i16::from_be_bytes([b[0], b[1]]);
                }
                n
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{goertzel_power, signal_power, sine};

    #[test]
    fn names_round_trip() {
        for c in ALL_CODECS {
            assert_eq!(Codec::from_name(c.name()), Some(c));
            assert_eq!(Codec::from_name(&c.name().to_uppercase()), Some(c));
            let clock = c.rtp_clock_rate();
            assert_eq!(Codec::from_rtpmap(c.encoding_name(), clock), Some(c));
        }
        assert_eq!(Codec::from_name("gsm"), None);
        assert_eq!(Codec::from_rtpmap("pcmu", 8000), Some(Codec::Ulaw));
        assert_eq!(Codec::from_rtpmap("PCMU", 16000), None);
        assert_eq!(Codec::from_rtpmap("G722", 16000), Some(Codec::G722));
    }

    #[test]
    fn sdp_facts() {
        assert_eq!(Codec::Ulaw.static_payload_type(), Some(0));
        assert_eq!(Codec::Alaw.static_payload_type(), Some(8));
        assert_eq!(Codec::G722.static_payload_type(), Some(9));
        assert_eq!(Codec::Slin16.static_payload_type(), None);
        assert_eq!(Codec::G722.rtp_clock_rate(), 8000);
        assert_eq!(Codec::G722.sample_rate(), 16000);
        for c in [Codec::Ulaw, Codec::Alaw, Codec::G722] {
            assert_eq!(c.frame_bytes(20), 160);
            assert_eq!(c.frame_ticks(20), 160);
        }
        assert_eq!(Codec::Slin8.frame_bytes(20), 320);
        assert_eq!(Codec::Slin16.frame_bytes(20), 640);
        assert_eq!(Codec::G722.frame_samples(20), 320);
    }

    #[test]
    fn slin_is_network_order() {
        let mut enc = Encoder::new(Codec::Slin8);
        let mut out = [0u8; 4];
        assert_eq!(enc.encode(&[0x0102, -2], &mut out), 4);
        assert_eq!(out, [0x01, 0x02, 0xFF, 0xFE]);
        let mut dec = Decoder::new(Codec::Slin8);
        let mut pcm = [0i16; 2];
        assert_eq!(dec.decode(&out, &mut pcm), 2);
        assert_eq!(pcm, [0x0102, -2]);
    }

    #[test]
    fn encode_stops_at_buffer_end() {
        let pcm = [1000i16; 320];
        for c in ALL_CODECS {
            let mut enc = Encoder::new(c);
            let mut small = [0u8; 10];
            let n = enc.encode(&pcm, &mut small);
            assert!(n <= 10, "{c}");
            assert!(n > 0, "{c}");
        }
    }

    #[test]
    fn g722_keeps_a_1khz_tone() {
        let mut enc = Encoder::new(Codec::G722);
        let mut dec = Decoder::new(Codec::G722);
        let mut decoded = Vec::new();
        let input = sine(16000, 1000.0, 8000.0, 16000);
        for frame in input.chunks(320) {
            let mut payload = [0u8; 160];
            let n = enc.encode(frame, &mut payload);
            assert_eq!(n, 160);
            let mut pcm = [0i16; 320];
            let m = dec.decode(&payload[..n], &mut pcm);
            assert_eq!(m, 320);
            decoded.extend_from_slice(&pcm[..m]);
        }
        // Skip the adaptation start-up, then the 1 kHz bin must carry most power.
        let tail = &decoded[3200..];
        let p1k = goertzel_power(tail, 16000, 1000.0);
        let total = signal_power(tail);
        assert!(p1k > 0.8 * total, "1k {p1k} total {total}");
        for f in [300.0, 2500.0, 5000.0] {
            assert!(goertzel_power(tail, 16000, f) < 0.01 * p1k, "{f} Hz");
        }
    }

    proptest::proptest! {
        /// Any payload decodes without panicking, in every codec.
        #[test]
        fn random_payloads_decode(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            for c in ALL_CODECS {
                let mut out = [0i16; 4096];
                let n = Decoder::new(c).decode(&bytes, &mut out);
                proptest::prop_assert!(n <= c.samples_in(bytes.len()));
            }
        }
    }
}
