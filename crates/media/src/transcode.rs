//! Payload-to-payload transcoding between any two [`Codec`]s: decode,
//! resample 8 kHz <-> 16 kHz when the audio rates differ, encode. All working
//! buffers are fixed arrays inside the struct, so a transcoder can run per
//! packet without allocating.

use crate::codec::{Codec, Decoder, Encoder};
use crate::g711;
use crate::resample::Resampler;

/// Input bytes handled per internal step; at most 512 decoded samples (G.722),
/// at most 1024 after upsampling.
const CHUNK_BYTES: usize = 256;

enum Path {
    Copy,
    UlawToAlaw,
    AlawToUlaw,
    Full(Box<FullPath>),
}

struct FullPath {
    dec: Decoder,
    rs: Resampler,
    enc: Encoder,
}

/// A one-direction transcoder with its own codec and filter state; keep one
/// per direction of a call leg.
pub struct Transcoder {
    from: Codec,
    to: Codec,
    path: Path,
    pcm: [i16; 512],
    resampled: [i16; 1024],
}

impl Transcoder {
    /// Creates a transcoder from `from` payloads to `to` payloads.
    pub fn new(from: Codec, to: Codec) -> Transcoder {
        let path = match (from, to) {
            (a, b) if a == b && a != Codec::G722 => Path::Copy,
            (Codec::Ulaw, Codec::Alaw) => Path::UlawToAlaw,
            (Codec::Alaw, Codec::Ulaw) => Path::AlawToUlaw,
            _ => Path::Full(Box::new(FullPath {
                dec: Decoder::new(from),
                rs: Resampler::for_codecs(from, to),
                enc: Encoder::new(to),
            })),
        };
        Transcoder {
            from,
            to,
            path,
            pcm: [0; 512],
            resampled: [0; 1024],
        }
    }

    /// The input codec.
    pub fn from_codec(&self) -> Codec {
        self.from
    }

    /// The output codec.
    pub fn to_codec(&self) -> Codec {
        self.to
    }

    /// Output bytes for `input` bytes of the same duration (size `out` with it).
    pub fn output_len(&self, input: usize) -> usize {
        let samples = self.from.samples_in(input);
        let ms_x16 = samples * 16000 / self.from.sample_rate() as usize;
        let out_samples = ms_x16 * self.to.sample_rate() as usize / 16000;
        match self.to {
            Codec::Ulaw | Codec::Alaw => out_samples,
            Codec::G722 => out_samples / 2,
            Codec::Slin8 | Codec::Slin16 => out_samples * 2,
        }
    }

    /// Transcodes one payload into `out`; returns the bytes written. Output
    /// that does not fit in `out` is dropped.
    pub fn transcode(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        match &mut self.path {
            Path::Copy => {
                let n = input.len().min(out.len());
                out[..n].copy_from_slice(&input[..n]);
                n
            }
            Path::UlawToAlaw => {
                let n = input.len().min(out.len());
                for (o, &b) in out[..n].iter_mut().zip(input) {
                    *o = g711::ulaw_to_alaw(b);
                }
                n
            }
            Path::AlawToUlaw => {
                let n = input.len().min(out.len());
                for (o, &b) in out[..n].iter_mut().zip(input) {
                    *o = g711::alaw_to_ulaw(b);
                }
                n
            }
            Path::Full(f) => {
                let FullPath { dec, rs, enc } = &mut **f;
                let mut written = 0;
                for chunk in input.chunks(CHUNK_BYTES) {
                    let n = dec.decode(chunk, &mut self.pcm);
                    let m = rs.process(&self.pcm[..n], &mut self.resampled);
                    let w = enc.encode(&self.resampled[..m], &mut out[written..]);
                    written += w;
                    if written >= out.len() {
                        break;
                    }
                }
                written
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{goertzel_power, signal_power, sine};
    use crate::codec::ALL_CODECS;

    fn encode_all(codec: Codec, pcm: &[i16]) -> Vec<u8> {
        let mut enc = Encoder::new(codec);
        let mut out = Vec::new();
        for frame in pcm.chunks(codec.frame_samples(20)) {
            let mut buf = [0u8; 640];
            let n = enc.encode(frame, &mut buf);
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    fn decode_all(codec: Codec, payload: &[u8]) -> Vec<i16> {
        let mut dec = Decoder::new(codec);
        let mut out = Vec::new();
        for frame in payload.chunks(codec.frame_bytes(20)) {
            let mut buf = [0i16; 640];
            let n = dec.decode(frame, &mut buf);
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    fn transcode_all(t: &mut Transcoder, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in input.chunks(t.from_codec().frame_bytes(20)) {
            let mut buf = [0u8; 640];
            let n = t.transcode(frame, &mut buf);
            assert_eq!(n, t.output_len(frame.len()), "{} -> {}", t.from, t.to);
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn ulaw_g722_ulaw_preserves_a_tone() {
        let ulaw = encode_all(Codec::Ulaw, &sine(8000, 1000.0, 8000.0, 16000));
        let mut a = Transcoder::new(Codec::Ulaw, Codec::G722);
        let g722 = transcode_all(&mut a, &ulaw);
        assert_eq!(g722.len(), ulaw.len());
        let mut b = Transcoder::new(Codec::G722, Codec::Ulaw);
        let back = transcode_all(&mut b, &g722);
        let pcm = decode_all(Codec::Ulaw, &back);
        let tail = &pcm[4000..];
        let p = goertzel_power(tail, 8000, 1000.0);
        assert!(p > 0.8 * signal_power(tail));
        assert!(p > 0.5 * 0.5 * 8000.0 * 8000.0, "tone level dropped: {p}");
    }

    #[test]
    fn every_pair_keeps_a_tone() {
        for from in ALL_CODECS {
            for to in ALL_CODECS {
                let input = encode_all(
                    from,
                    &sine(
                        from.sample_rate(),
                        700.0,
                        9000.0,
                        from.sample_rate() as usize,
                    ),
                );
                let mut t = Transcoder::new(from, to);
                let out = transcode_all(&mut t, &input);
                let pcm = decode_all(to, &out);
                let tail = &pcm[pcm.len() / 2..];
                let p = goertzel_power(tail, to.sample_rate(), 700.0);
                assert!(p > 0.8 * signal_power(tail), "{from} -> {to}");
                assert!(p > 0.3 * 0.5 * 9000.0 * 9000.0, "{from} -> {to}: {p}");
            }
        }
    }

    #[test]
    fn g711_cross_path_is_exact() {
        let mut t = Transcoder::new(Codec::Ulaw, Codec::Alaw);
        let input: Vec<u8> = (0..=255).collect();
        let mut out = [0u8; 256];
        assert_eq!(t.transcode(&input, &mut out), 256);
        for (i, &o) in out.iter().enumerate() {
            assert_eq!(o, g711::linear_to_alaw(g711::ulaw_to_linear(i as u8)));
        }
    }

    #[test]
    fn small_output_is_not_overrun() {
        let mut t = Transcoder::new(Codec::Ulaw, Codec::Slin16);
        let mut out = [0u8; 100];
        assert!(t.transcode(&[0xFF; 160], &mut out) <= 100);
    }
}
