//! Recording files: formats chosen by extension as Asterisk's format
//! modules register them, and a writer per file that takes linear audio at
//! the recording's rate.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use obelus_media::{Codec, Encoder, Resampler, WavWriter};

/// A file name split as `mixmonitor_save_prep` splits it: the extension is
/// what follows the last dot of the last path component, `raw` when there
/// is none.
pub fn split_extension(name: &str) -> (&str, &str) {
    let last_slash = name.rfind('/');
    match name.rfind('.') {
        Some(dot) if last_slash.is_none_or(|s| dot > s) => (&name[..dot], &name[dot + 1..]),
        _ => (name, "raw"),
    }
}

/// How a file's samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// RIFF/WAVE, PCM16 mono.
    Wav,
    /// Headerless samples.
    Raw,
}

/// A recording format: its container and the encoding of its samples
/// (which fixes the rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    container: Container,
    codec: Codec,
}

impl Format {
    /// The format Asterisk writes for a file extension (`wav`, `wav16`,
    /// `sln`/`raw`, `sln16`, `ulaw`/`pcm`/`ul`/`mu`/`ulw`, `alaw`/`al`/
    /// `alw`, `g722`); `None` for formats Obelus does not write.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let (container, codec) = match ext.to_ascii_lowercase().as_str() {
            "wav" => (Container::Wav, Codec::Slin8),
            "wav16" => (Container::Wav, Codec::Slin16),
            "sln" | "raw" => (Container::Raw, Codec::Slin8),
            "sln16" => (Container::Raw, Codec::Slin16),
            "ulaw" | "pcm" | "ul" | "mu" | "ulw" => (Container::Raw, Codec::Ulaw),
            "alaw" | "al" | "alw" => (Container::Raw, Codec::Alaw),
            "g722" => (Container::Raw, Codec::G722),
            _ => return None,
        };
        Some(Format { container, codec })
    }

    /// The sample rate of the stored audio.
    pub fn rate(self) -> u32 {
        self.codec.sample_rate()
    }

    /// Bytes of audio per second of one channel (headers aside): what a
    /// file's length says about its duration.
    pub fn bytes_per_second(self) -> u32 {
        match self.codec {
            Codec::Slin8 => 16000,
            Codec::Slin16 => 32000,
            // G.711 is a byte per sample; G.722 packs 16 kHz into 64 kbit/s.
            _ => 8000,
        }
    }

    /// Whether the file starts with a header (RIFF/WAVE) before the audio.
    pub fn has_header(self) -> bool {
        self.container == Container::Wav
    }
}

/// The writing end of one file.
enum Sink {
    Wav(WavWriter),
    /// Headerless 16-bit linear, little-endian as Asterisk's `sln` files.
    Slin(BufWriter<File>),
    /// Headerless G.711 or G.722.
    Coded(BufWriter<File>, Box<Encoder>),
}

/// Stores samples (at the file's rate) in the file's encoding.
fn store(sink: &mut Sink, bytes: &mut Vec<u8>, pcm: &[i16]) -> io::Result<()> {
    match sink {
        Sink::Wav(w) => w.write_samples(pcm),
        Sink::Slin(f) => {
            bytes.clear();
            bytes.extend(pcm.iter().flat_map(|s| s.to_le_bytes()));
            f.write_all(bytes)
        }
        Sink::Coded(f, encoder) => {
            bytes.resize(pcm.len(), 0);
            let n = encoder.encode(pcm, bytes);
            f.write_all(&bytes[..n])
        }
    }
}

/// Resamples `pcm` into `out` when `rs` is set; the audio to store.
fn resample<'a>(rs: Option<&mut Resampler>, pcm: &'a [i16], out: &'a mut Vec<i16>) -> &'a [i16] {
    match rs {
        Some(rs) => {
            out.resize(rs.output_len(pcm.len()), 0);
            let n = rs.process(pcm, out);
            &out[..n]
        }
        None => pcm,
    }
}

/// One open recording file.
pub struct Output {
    /// The file, for messages.
    pub path: PathBuf,
    sink: Sink,
    /// From the recording's rate to the file's, when they differ (the
    /// left channel's, in a stereo file).
    resampler: Option<Resampler>,
    resampled: Vec<i16>,
    /// The right channel's, in a stereo file.
    right_resampler: Option<Resampler>,
    right_resampled: Vec<i16>,
    /// Left and right samples in turn, for a stereo file.
    interleaved: Vec<i16>,
    bytes: Vec<u8>,
    error: Option<io::Error>,
}

impl Output {
    /// Opens `name` (a full name with its extension) for a recording at
    /// `rate`; `append` adds to an existing file instead of replacing it.
    pub fn open(name: &str, append: bool, rate: u32) -> io::Result<Output> {
        Output::open_channels(name, append, rate, 1)
    }

    /// [`Output::open`] for a two-channel file written with
    /// [`Output::write_stereo`] (MixMonitor's `D`): a stereo wav, or
    /// interleaved samples in a headerless linear or G.711 file (what
    /// Asterisk writes to a `.raw` file). G.722 cannot carry two
    /// interleaved channels and is refused.
    pub fn open_stereo(name: &str, append: bool, rate: u32) -> io::Result<Output> {
        Output::open_channels(name, append, rate, 2)
    }

    fn open_channels(name: &str, append: bool, rate: u32, channels: u16) -> io::Result<Output> {
        let (_, ext) = split_extension(name);
        let path = if name.ends_with(&format!(".{ext}")) {
            PathBuf::from(name)
        } else {
            PathBuf::from(format!("{name}.{ext}"))
        };
        let format = Format::from_extension(ext).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!("no writer for format '{ext}'"),
            )
        })?;
        if channels > 1 && format.codec == Codec::G722 {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("'{ext}' cannot hold interleaved stereo audio; use wav, raw, sln or G.711"),
            ));
        }
        let raw = || -> io::Result<BufWriter<File>> {
            let file = if append {
                OpenOptions::new().create(true).append(true).open(&path)?
            } else {
                File::create(&path)?
            };
            Ok(BufWriter::with_capacity(32 * 1024, file))
        };
        let sink = match (format.container, format.codec) {
            (Container::Wav, codec) if append => {
                WavWriter::append_channels(&path, codec.sample_rate(), channels).map(Sink::Wav)?
            }
            (Container::Wav, codec) => {
                WavWriter::create_channels(&path, codec.sample_rate(), channels).map(Sink::Wav)?
            }
            (Container::Raw, Codec::Slin8 | Codec::Slin16) => Sink::Slin(raw()?),
            (Container::Raw, codec) => Sink::Coded(raw()?, Box::new(Encoder::new(codec))),
        };
        let resampler =
            || (rate != format.rate()).then(|| Resampler::for_rates(rate, format.rate()));
        Ok(Output {
            path,
            sink,
            resampler: resampler(),
            resampled: Vec::new(),
            right_resampler: if channels > 1 { resampler() } else { None },
            right_resampled: Vec::new(),
            interleaved: Vec::new(),
            bytes: Vec::new(),
            error: None,
        })
    }

    /// Writes one frame at the recording's rate. The first error is kept
    /// (and logged) and later frames are dropped.
    pub fn write(&mut self, pcm: &[i16]) {
        if self.error.is_some() {
            return;
        }
        let pcm = resample(self.resampler.as_mut(), pcm, &mut self.resampled);
        let result = store(&mut self.sink, &mut self.bytes, pcm);
        self.keep(result);
    }

    /// Writes one frame of each channel of a stereo file (opened with
    /// [`Output::open_stereo`]), left and right samples in turn.
    pub fn write_stereo(&mut self, left: &[i16], right: &[i16]) {
        if self.error.is_some() {
            return;
        }
        let left = resample(self.resampler.as_mut(), left, &mut self.resampled);
        let right = resample(
            self.right_resampler.as_mut(),
            right,
            &mut self.right_resampled,
        );
        self.interleaved.clear();
        self.interleaved
            .extend(left.iter().zip(right).flat_map(|(&l, &r)| [l, r]));
        let result = store(&mut self.sink, &mut self.bytes, &self.interleaved);
        self.keep(result);
    }

    /// Keeps (and logs) the first error; later frames are dropped.
    fn keep(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            tracing::warn!("Recording: writing {} failed: {e}", self.path.display());
            self.error = Some(e);
        }
    }

    /// Flushes and closes the file (a wav file gets its final sizes);
    /// returns the first error of the recording, if any.
    pub fn close(mut self) -> io::Result<()> {
        let closed = match &mut self.sink {
            Sink::Wav(w) => w.close(),
            Sink::Slin(f) | Sink::Coded(f, _) => f.flush(),
        };
        match self.error.take() {
            Some(e) => Err(e),
            None => closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_split_on_the_last_component() {
        assert_eq!(split_extension("/a/b/c.wav"), ("/a/b/c", "wav"));
        assert_eq!(split_extension("/a.d/b/c"), ("/a.d/b/c", "raw"));
        assert_eq!(split_extension("rec.x.sln16"), ("rec.x", "sln16"));
        assert_eq!(
            Format::from_extension("WAV16").map(Format::rate),
            Some(16000)
        );
        assert_eq!(Format::from_extension("pcm").map(Format::rate), Some(8000));
        assert_eq!(
            Format::from_extension("g722").map(Format::rate),
            Some(16000)
        );
        assert_eq!(Format::from_extension("gsm"), None);
    }

    fn write_and_read(name: &str, rate: u32, frames: &[&[i16]], append: bool) -> Vec<u8> {
        let mut out = Output::open(name, append, rate).unwrap();
        for f in frames {
            out.write(f);
        }
        out.close().unwrap();
        std::fs::read(name).unwrap()
    }

    #[test]
    fn raw_formats_store_what_asterisk_reads() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().display().to_string();
        let sln = write_and_read(&format!("{base}/a.sln"), 8000, &[&[1, -2]], false);
        assert_eq!(sln, [1, 0, 0xFE, 0xFF]);
        let ulaw = write_and_read(&format!("{base}/a.ulaw"), 8000, &[&[0, 0, 0]], false);
        assert_eq!(ulaw, [0xFF; 3]);
        let alaw = write_and_read(&format!("{base}/a.alaw"), 8000, &[&[0]], false);
        assert_eq!(alaw, [0xD5]);
        // Appending adds; without `a` the file starts over.
        let more = write_and_read(&format!("{base}/a.sln"), 8000, &[&[3]], true);
        assert_eq!(more, [1, 0, 0xFE, 0xFF, 3, 0]);
        let again = write_and_read(&format!("{base}/a.sln"), 8000, &[&[4]], false);
        assert_eq!(again, [4, 0]);
    }

    #[test]
    fn a_file_at_another_rate_is_resampled() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}/hd.wav16", dir.path().display());
        let frame = [1000i16; 160];
        let bytes = write_and_read(&name, 8000, &[&frame, &frame], false);
        // 40 ms at 16 kHz after the 44-byte header.
        assert_eq!(bytes.len(), 44 + 2 * 640);
        let sound = obelus_media::sound::parse_wav(&bytes).unwrap();
        assert_eq!(sound.rate, 16000);
    }

    #[test]
    fn stereo_files_interleave_left_then_right() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().display().to_string();
        let stereo = |name: &str, rate: u32, left: &[i16], right: &[i16]| {
            let mut out = Output::open_stereo(name, false, rate).unwrap();
            out.write_stereo(left, right);
            out.close().unwrap();
            std::fs::read(name).unwrap()
        };
        let raw = stereo(&format!("{base}/d.raw"), 8000, &[1, 2], &[-1, -2]);
        assert_eq!(raw, [1, 0, 0xFF, 0xFF, 2, 0, 0xFE, 0xFF]);
        let ulaw = stereo(&format!("{base}/d.ulaw"), 8000, &[0], &[0]);
        assert_eq!(ulaw, [0xFF, 0xFF]);
        let wav = stereo(&format!("{base}/d.wav"), 8000, &[7; 160], &[-7; 160]);
        assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "channels");
        assert_eq!(wav.len(), 44 + 160 * 4);
        assert_eq!(&wav[44..48], &[7, 0, 0xF9, 0xFF]);
        // Each channel is resampled on its own to a 16 kHz file.
        let hd = stereo(
            &format!("{base}/d.wav16"),
            8000,
            &[1000; 160],
            &[-1000; 160],
        );
        assert_eq!(hd.len(), 44 + 320 * 4);
        let frames: Vec<(i16, i16)> = hd[44..]
            .chunks_exact(4)
            .map(|b| {
                (
                    i16::from_le_bytes([b[0], b[1]]),
                    i16::from_le_bytes([b[2], b[3]]),
                )
            })
            .collect();
        assert!(frames[100..].iter().all(|&(l, r)| l > 900 && r < -900));
        let g722 = format!("{base}/d.g722");
        assert!(Output::open_stereo(&g722, false, 16000).is_err());
    }

    #[test]
    fn unknown_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}/x.gsm", dir.path().display());
        assert!(Output::open(&name, false, 8000).is_err());
        assert!(!std::path::Path::new(&name).exists());
    }
}
