//! Sound files: reading prompts into linear audio, streaming them as an
//! [`AudioSource`], and recording to `.wav` through an [`AudioSink`].
//!
//! Formats follow Asterisk's file names: `.wav` (PCM16 mono at 8 or 16 kHz,
//! or G.711 µ-law/A-law wav), and the headerless `.ulaw`/`.pcm`, `.alaw`,
//! `.sln`/`.raw` (8 kHz linear, little-endian), `.sln16` and `.g722`.
//! A file is read and decoded whole when the source is created, on the
//! caller's thread, so the media threads never touch the disk for playback;
//! the decoded samples are shared (`Arc`) between concurrent playbacks.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use crate::audio::{AudioSink, AudioSource, frame_len};
use crate::codec::{Codec, Decoder};
use crate::error::MediaError;

/// Decoded audio: mono 16-bit linear at `rate` (8000 or 16000).
#[derive(Debug, Clone, PartialEq)]
pub struct Sound {
    /// Sample rate in Hz.
    pub rate: u32,
    /// The samples, shared so many channels can play one prompt.
    pub samples: Arc<[i16]>,
}

/// How a sound file is encoded, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundFormat {
    /// RIFF/WAVE with PCM16, µ-law or A-law data.
    Wav,
    /// Headerless µ-law at 8 kHz (`.ulaw`, `.pcm`, `.mu`, `.ul`).
    Ulaw,
    /// Headerless A-law at 8 kHz (`.alaw`, `.al`, `.alw`).
    Alaw,
    /// Headerless little-endian 16-bit linear at 8 kHz (`.sln`, `.raw`).
    Slin,
    /// Headerless little-endian 16-bit linear at 16 kHz (`.sln16`).
    Slin16,
    /// Headerless G.722 at 64 kbit/s (`.g722`).
    G722,
}

impl SoundFormat {
    /// The format Asterisk associates with a file extension (no dot).
    pub fn from_extension(ext: &str) -> Option<SoundFormat> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "wav" => SoundFormat::Wav,
            "ulaw" | "pcm" | "mu" | "ul" => SoundFormat::Ulaw,
            "alaw" | "al" | "alw" => SoundFormat::Alaw,
            "sln" | "raw" => SoundFormat::Slin,
            "sln16" => SoundFormat::Slin16,
            "g722" => SoundFormat::G722,
            _ => return None,
        })
    }
}

/// Reads and decodes a sound file, choosing the format by extension.
pub fn read_sound(path: impl AsRef<Path>) -> Result<Sound, MediaError> {
    let path = path.as_ref();
    let unsupported = |reason: String| MediaError::UnsupportedSound {
        path: path.display().to_string(),
        reason,
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = SoundFormat::from_extension(ext)
        .ok_or_else(|| unsupported(format!("unknown extension {ext:?}")))?;
    let bytes = std::fs::read(path)?;
    decode_sound(format, &bytes).map_err(unsupported)
}

/// Decodes the bytes of a sound file of a known format.
pub fn decode_sound(format: SoundFormat, bytes: &[u8]) -> Result<Sound, String> {
    let (rate, samples) = match format {
        SoundFormat::Wav => return parse_wav(bytes),
        SoundFormat::Ulaw => (8000, decode_all(Codec::Ulaw, bytes)),
        SoundFormat::Alaw => (8000, decode_all(Codec::Alaw, bytes)),
        SoundFormat::G722 => (16000, decode_all(Codec::G722, bytes)),
        SoundFormat::Slin => (8000, le_samples(bytes)),
        SoundFormat::Slin16 => (16000, le_samples(bytes)),
    };
    Ok(Sound {
        rate,
        samples: samples.into(),
    })
}

fn le_samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn decode_all(codec: Codec, bytes: &[u8]) -> Vec<i16> {
    let mut dec = Decoder::new(codec);
    let mut out = vec![0i16; codec.samples_in(bytes.len())];
    let n = dec.decode(bytes, &mut out);
    out.truncate(n);
    out
}

const WAVE_PCM: u16 = 1;
const WAVE_ALAW: u16 = 6;
const WAVE_MULAW: u16 = 7;
const WAVE_EXTENSIBLE: u16 = 0xFFFE;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a RIFF/WAVE file: mono PCM16, µ-law or A-law at 8 or 16 kHz.
pub fn parse_wav(bytes: &[u8]) -> Result<Sound, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(bytes, pos + 4).ok_or("truncated chunk header")? as usize;
        let body_start = pos + 8;
        // A truncated final data chunk (a recording cut short) is read as far as it goes.
        let body = &bytes[body_start..body_start.saturating_add(size).min(bytes.len())];
        match id {
            b"fmt " => {
                let mut tag = u16_at(body, 0).ok_or("short fmt chunk")?;
                let channels = u16_at(body, 2).ok_or("short fmt chunk")?;
                let rate = u32_at(body, 4).ok_or("short fmt chunk")?;
                let bits = u16_at(body, 14).ok_or("short fmt chunk")?;
                if tag == WAVE_EXTENSIBLE {
                    // The sub-format GUID starts with the real format tag.
                    tag = u16_at(body, 24).ok_or("short extensible fmt chunk")?;
                }
                fmt = Some((tag, channels, rate, bits));
            }
            b"data" => {
                let (tag, channels, rate, bits) = fmt.ok_or("data chunk before fmt chunk")?;
                if channels != 1 {
                    return Err(format!("{channels} channels, only mono is supported"));
                }
                if rate != 8000 && rate != 16000 {
                    return Err(format!(
                        "sample rate {rate}, only 8000 and 16000 are supported"
                    ));
                }
                let samples = match (tag, bits) {
                    (WAVE_PCM, 16) => le_samples(body),
                    (WAVE_MULAW, 8) if rate == 8000 => decode_all(Codec::Ulaw, body),
                    (WAVE_ALAW, 8) if rate == 8000 => decode_all(Codec::Alaw, body),
                    _ => {
                        return Err(format!(
                            "wav format {tag} with {bits} bits at {rate} Hz is not supported"
                        ));
                    }
                };
                return Ok(Sound {
                    rate,
                    samples: samples.into(),
                });
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err("no data chunk".into())
}

/// The 44-byte PCM16 header; samples of several channels are interleaved
/// (a frame of `channels` samples at a time).
fn wav_header_channels(rate: u32, channels: u16, data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.saturating_add(data_len)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&WAVE_PCM.to_le_bytes());
    let block = 2 * channels;
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

fn not_appendable(rate: u32, channels: u16) -> io::Error {
    let layout = if channels == 1 {
        "mono".to_owned()
    } else {
        format!("{channels}-channel")
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "cannot append: not a PCM16 {layout} wav file at {rate} Hz with a plain 44-byte header"
        ),
    )
}

/// Writes `samples` as a PCM16 mono `.wav` file.
pub fn write_wav(path: impl AsRef<Path>, rate: u32, samples: &[i16]) -> io::Result<()> {
    let mut w = WavWriter::create(path, rate)?;
    w.write_samples(samples)?;
    w.close()
}

/// Records PCM16 `.wav` as an [`AudioSink`] (mono), or interleaved
/// frames of several channels ([`WavWriter::create_channels`], for stereo
/// call recordings). Writes go through a buffer, so a 20 ms frame usually
/// costs a memory copy; the sizes in the header are patched in
/// [`AudioSink::finish`] (or on drop).
pub struct WavWriter {
    file: Option<BufWriter<File>>,
    rate: u32,
    channels: u16,
    data_len: u32,
    error: Option<io::Error>,
}

impl WavWriter {
    /// Creates (truncates) mono `path` and writes a provisional header.
    pub fn create(path: impl AsRef<Path>, rate: u32) -> io::Result<WavWriter> {
        WavWriter::create_channels(path, rate, 1)
    }

    /// [`WavWriter::create`] for `channels` interleaved channels (at least
    /// one): [`WavWriter::write_samples`] then takes whole frames, one
    /// sample per channel in turn (left first in a stereo file).
    pub fn create_channels(
        path: impl AsRef<Path>,
        rate: u32,
        channels: u16,
    ) -> io::Result<WavWriter> {
        let channels = channels.max(1);
        let mut file = BufWriter::with_capacity(32 * 1024, File::create(path)?);
        file.write_all(&wav_header_channels(rate, channels, 0))?;
        Ok(WavWriter {
            file: Some(file),
            rate,
            channels,
            data_len: 0,
            error: None,
        })
    }

    /// Opens `path` to record more into it (`MixMonitor(x.wav,a)`): a file
    /// this writer made (PCM16 mono at `rate`, the 44-byte header) goes on
    /// where its audio ends, even if its header was never patched; a
    /// missing or empty file is created. Anything else is an error rather
    /// than a file made unreadable.
    pub fn append(path: impl AsRef<Path>, rate: u32) -> io::Result<WavWriter> {
        WavWriter::append_channels(path, rate, 1)
    }

    /// [`WavWriter::append`] to a file of `channels` interleaved channels;
    /// a file with another channel count is refused.
    pub fn append_channels(
        path: impl AsRef<Path>,
        rate: u32,
        channels: u16,
    ) -> io::Result<WavWriter> {
        let path = path.as_ref();
        let channels = channels.max(1);
        let mut file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return WavWriter::create_channels(path, rate, channels);
            }
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        if len == 0 {
            return WavWriter::create_channels(path, rate, channels);
        }
        let mut header = [0u8; 44];
        io::Read::read_exact(&mut file, &mut header).map_err(|_| not_appendable(rate, channels))?;
        let mut expected = wav_header_channels(rate, channels, 0);
        expected[4..8].copy_from_slice(&header[4..8]);
        expected[40..44].copy_from_slice(&header[40..44]);
        if header != expected {
            return Err(not_appendable(rate, channels));
        }
        // Whole frames only: a torn last write is overwritten.
        let block = 2 * u64::from(channels);
        let data_len = u32::try_from((len - 44) / block * block).unwrap_or(u32::MAX - 3);
        file.seek(SeekFrom::Start(44 + u64::from(data_len)))?;
        Ok(WavWriter {
            file: Some(BufWriter::with_capacity(32 * 1024, file)),
            rate,
            channels,
            data_len,
            error: None,
        })
    }

    /// Appends samples; fails once the file is closed or after an error.
    pub fn write_samples(&mut self, samples: &[i16]) -> io::Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Err(io::Error::other("wav writer closed"));
        };
        let mut buf = [0u8; 1024];
        for chunk in samples.chunks(buf.len() / 2) {
            for (o, s) in buf.chunks_exact_mut(2).zip(chunk) {
                o.copy_from_slice(&s.to_le_bytes());
            }
            f.write_all(&buf[..chunk.len() * 2])?;
        }
        // A wav file cannot describe more than 4 GiB of data.
        self.data_len = self.data_len.saturating_add((samples.len() * 2) as u32);
        Ok(())
    }

    /// The first write error, if recording failed part way (the sink
    /// interface cannot return it).
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Patches the header sizes and closes the file.
    pub fn close(&mut self) -> io::Result<()> {
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&wav_header_channels(
            self.rate,
            self.channels,
            self.data_len,
        ))?;
        f.flush()
    }
}

impl AudioSink for WavWriter {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frame(&mut self, samples: &[i16]) {
        if self.error.is_none()
            && let Err(e) = self.write_samples(samples)
        {
            tracing::warn!(error = %e, "recording write failed");
            self.error = Some(e);
        }
    }

    fn finish(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!(error = %e, "closing recording failed");
            self.error.get_or_insert(e);
        }
    }
}

impl Drop for WavWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.finish();
        }
    }
}

/// Plays a decoded sound as an [`AudioSource`], 20 ms per tick.
pub struct SoundSource {
    sound: Sound,
    pos: usize,
}

impl SoundSource {
    /// Reads and decodes `path` now, on the caller's thread.
    pub fn open(path: impl AsRef<Path>) -> Result<SoundSource, MediaError> {
        Ok(SoundSource::new(read_sound(path)?))
    }

    /// Plays an already decoded sound (shared, not copied).
    pub fn new(sound: Sound) -> SoundSource {
        SoundSource { sound, pos: 0 }
    }
}

impl AudioSource for SoundSource {
    fn sample_rate(&self) -> u32 {
        self.sound.rate
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let rest = &self.sound.samples[self.pos.min(self.sound.samples.len())..];
        let n = rest.len().min(out.len()).min(frame_len(self.sound.rate));
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        n
    }

    fn skip_ms(&mut self, ms: i64) {
        let len = self.sound.samples.len();
        let delta = ms.saturating_mul(i64::from(self.sound.rate)) / 1000;
        let pos = i64::try_from(self.pos.min(len)).unwrap_or(i64::MAX);
        let len_i = i64::try_from(len).unwrap_or(i64::MAX);
        self.pos = usize::try_from(pos.saturating_add(delta).clamp(0, len_i)).unwrap_or(len);
    }

    fn restart(&mut self) {
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sine;
    use crate::codec::Encoder;

    #[test]
    fn stereo_wav_headers_and_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        let mut w = WavWriter::create_channels(&path, 8000, 2).unwrap();
        w.write_samples(&[1, -1, 2, -2]).unwrap();
        w.close().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(u16_at(&bytes, 22), Some(2), "channels");
        assert_eq!(u32_at(&bytes, 28), Some(32000), "byte rate");
        assert_eq!(u16_at(&bytes, 32), Some(4), "block align");
        assert_eq!(u32_at(&bytes, 40), Some(8));
        // A torn frame at the end is overwritten; a mono writer refuses it.
        let mut torn = bytes.clone();
        torn.extend_from_slice(&[9, 0]);
        std::fs::write(&path, &torn).unwrap();
        assert!(WavWriter::append(&path, 8000).is_err());
        let mut w = WavWriter::append_channels(&path, 8000, 2).unwrap();
        w.write_samples(&[3, -3]).unwrap();
        w.close().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(u32_at(&bytes, 40), Some(12));
        assert_eq!(le_samples(&bytes[44..]), [1, -1, 2, -2, 3, -3]);
    }

    #[test]
    fn wav_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let s = sine(16000, 440.0, 5000.0, 1234);
        write_wav(&path, 16000, &s).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 44 + 2468);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u32_at(&bytes, 4), Some(36 + 2468));
        assert_eq!(u32_at(&bytes, 40), Some(2468));
        let back = read_sound(&path).unwrap();
        assert_eq!(back.rate, 16000);
        assert_eq!(&back.samples[..], &s[..]);
    }

    #[test]
    fn g711_wav_and_raw_formats() {
        let pcm = sine(8000, 1000.0, 8000.0, 400);
        let mut ulaw = vec![0u8; 400];
        Encoder::new(Codec::Ulaw).encode(&pcm, &mut ulaw);
        // A µ-law wav (format tag 7), with an odd-sized LIST chunk before data.
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        wav.extend_from_slice(&18u32.to_le_bytes());
        wav.extend_from_slice(&[7, 0, 1, 0]);
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&[1, 0, 8, 0, 0, 0]);
        wav.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&400u32.to_le_bytes());
        wav.extend_from_slice(&ulaw);
        let from_wav = parse_wav(&wav).unwrap();
        let from_raw = decode_sound(SoundFormat::Ulaw, &ulaw).unwrap();
        assert_eq!(from_wav, from_raw);
        assert_eq!(from_wav.samples.len(), 400);
        let mut alaw = vec![0u8; 400];
        Encoder::new(Codec::Alaw).encode(&pcm, &mut alaw);
        wav[20] = 6;
        let n = wav.len();
        wav[n - 400..].copy_from_slice(&alaw);
        assert_eq!(
            parse_wav(&wav).unwrap(),
            decode_sound(SoundFormat::Alaw, &alaw).unwrap()
        );
    }

    #[test]
    fn raw_files_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let sln = dir.path().join("a.sln");
        std::fs::write(&sln, [0x01, 0x02, 0xFF, 0xFF]).unwrap();
        let s = read_sound(&sln).unwrap();
        assert_eq!((s.rate, &s.samples[..]), (8000, &[0x0201, -1][..]));
        let s16 = dir.path().join("a.sln16");
        std::fs::write(&s16, [0x10, 0x00]).unwrap();
        assert_eq!(read_sound(&s16).unwrap().rate, 16000);
        let g = dir.path().join("a.g722");
        std::fs::write(&g, [0u8; 160]).unwrap();
        let s = read_sound(&g).unwrap();
        assert_eq!((s.rate, s.samples.len()), (16000, 320));
        let gsm = dir.path().join("a.gsm");
        std::fs::write(&gsm, [0u8; 33]).unwrap();
        assert!(matches!(
            read_sound(&gsm),
            Err(MediaError::UnsupportedSound { .. })
        ));
    }

    #[test]
    fn bad_wavs_are_errors() {
        assert!(parse_wav(b"RIFF").is_err());
        assert!(parse_wav(b"RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd").is_err()); // data before fmt
        let mut stereo = wav_header_channels(8000, 1, 4).to_vec();
        stereo[22] = 2;
        stereo.extend_from_slice(&[0; 4]);
        assert!(parse_wav(&stereo).is_err());
        let mut r44 = wav_header_channels(44100, 1, 0).to_vec();
        r44.truncate(44);
        assert!(parse_wav(&r44).is_err());
    }

    proptest::proptest! {
        /// A corrupt file is an error, never a panic, even behind a valid RIFF start.
        #[test]
        fn random_wavs_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_wav(&tail);
            let mut riff = b"RIFF\0\0\0\0WAVE".to_vec();
            riff.extend_from_slice(&tail);
            let _ = parse_wav(&riff);
            // A well-formed file with random fmt fields and sizes.
            let mut w = wav_header_channels(8000, 1, 0).to_vec();
            for (o, b) in w[16..44].iter_mut().zip(&tail) {
                *o = *b;
            }
            w.extend_from_slice(&tail);
            let _ = parse_wav(&w);
        }
    }

    #[test]
    fn sound_source_streams_20ms_frames() {
        let sound = Sound {
            rate: 8000,
            samples: (0..400).map(|i| i as i16).collect::<Vec<_>>().into(),
        };
        let mut src = SoundSource::new(sound);
        let mut f = [0i16; 160];
        assert_eq!(src.read_frame(&mut f), 160);
        assert_eq!(f[159], 159);
        assert_eq!(src.read_frame(&mut f), 160);
        assert_eq!(src.read_frame(&mut f), 80);
        assert_eq!(f[0], 320);
        assert_eq!(src.read_frame(&mut f), 0);
    }

    #[test]
    fn wav_writer_appends_to_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("more.wav");
        let mut w = WavWriter::append(&path, 8000).unwrap();
        w.write_samples(&[1; 100]).unwrap();
        w.close().unwrap();
        let mut w = WavWriter::append(&path, 8000).unwrap();
        w.write_samples(&[2; 50]).unwrap();
        w.close().unwrap();
        let s = read_sound(&path).unwrap();
        assert_eq!(s.samples.len(), 150);
        assert_eq!((s.samples[99], s.samples[100]), (1, 2));
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            44 + 300,
            "no second header"
        );
        // Another rate, or not a wav file at all, is refused untouched.
        assert!(WavWriter::append(&path, 16000).is_err());
        let text = dir.path().join("text.wav");
        let words = b"hello, this is not audio at all, not even close to it.";
        std::fs::write(&text, words).unwrap();
        assert!(WavWriter::append(&text, 8000).is_err());
        assert_eq!(std::fs::read(&text).unwrap(), words);
    }

    #[test]
    fn wav_writer_as_sink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.wav");
        let mut w = WavWriter::create(&path, 8000).unwrap();
        let sink: &mut dyn AudioSink = &mut w;
        sink.write_frame(&[1; 160]);
        sink.write_frame(&[2; 160]);
        sink.finish();
        assert!(w.error().is_none());
        let s = read_sound(&path).unwrap();
        assert_eq!(s.samples.len(), 320);
        assert_eq!(s.samples[200], 2);
    }
}
