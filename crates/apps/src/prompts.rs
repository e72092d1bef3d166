//! Prompts Obelus writes itself, so that a fresh installation without an
//! Asterisk sound pack can still run the sample dialplan (`Playback(
//! hello-world)`, `Record`'s beep) and a caller hears something.
//!
//! They are synthetic (tones and short melodies, 8 kHz 16-bit mono wav in
//! `<astdatadir>/sounds/en/`), written at module load only where no file of
//! that name exists: an installed sound pack always wins and is never
//! overwritten.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::sounds::sounds_dir;

/// Sample rate of the generated files.
const RATE: u32 = 8000;
/// Peak amplitude of a note (about -12 dBFS: clearly audible, no clipping).
const AMPLITUDE: f64 = 8000.0;
/// Fade in and out of each note, so notes do not click.
const RAMP_MS: u32 = 8;

/// A note: frequency in Hz (0 is a rest) and length in ms.
pub(crate) type Note = (f64, u32);

const C5: f64 = 523.25;
const E5: f64 = 659.25;
const G4: f64 = 392.0;
const G5: f64 = 783.99;
const A5: f64 = 880.0;
const C6: f64 = 1046.5;

/// What is generated: the name (as `Playback` takes it) and its notes.
const PROMPTS: &[(&str, &[Note])] = &[
    ("beep", &[(1000.0, 250)]),
    (
        "hello-world",
        &[
            (C5, 200),
            (E5, 200),
            (G5, 300),
            (0.0, 100),
            (C6, 450),
            (G5, 250),
            (A5, 250),
            (C6, 700),
        ],
    ),
    (
        "demo-congrats",
        &[
            (G4, 150),
            (C5, 150),
            (E5, 150),
            (G5, 400),
            (E5, 150),
            (G5, 800),
            (0.0, 200),
            (C5, 150),
            (E5, 150),
            (G5, 150),
            (C6, 1000),
        ],
    ),
    ("vm-goodbye", &[(G5, 250), (E5, 250), (C5, 600)]),
    ("silence/1", &[(0.0, 1000)]),
];

/// The samples of a melody at [`RATE`].
pub(crate) fn render(notes: &[Note]) -> Vec<i16> {
    let mut out = Vec::new();
    let ramp = (RATE * RAMP_MS / 1000) as usize;
    for &(freq, ms) in notes {
        let len = (RATE * ms / 1000) as usize;
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(RATE);
        for i in 0..len {
            if freq <= 0.0 {
                out.push(0);
                continue;
            }
            let edge = i.min(len - 1 - i);
            let gain = if edge < ramp {
                edge as f64 / ramp as f64
            } else {
                1.0
            };
            out.push((AMPLITUDE * gain * (w * i as f64).sin()).round() as i16);
        }
    }
    out
}

/// A PCM16 mono wav file's bytes.
fn wav_bytes(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Writes every prompt that does not exist yet under
/// `<data_dir>/sounds/en/` and returns the files written. A file of the
/// same name is never replaced, whatever its format: `hello-world.ulaw`
/// from a sound pack keeps `hello-world.wav` from being generated.
pub fn install(data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = sounds_dir(data_dir).join("en");
    let mut written = Vec::new();
    for (name, notes) in PROMPTS {
        if crate::sounds::find(data_dir, name, "en").is_ok() {
            continue;
        }
        let path = dir.join(format!("{name}.wav"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // `create_new`: a file that appeared meanwhile is left alone.
        let mut file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        file.write_all(&wav_bytes(&render(notes)))?;
        written.push(path);
    }
    Ok(written)
}

/// [`install`] at module load: one log line saying what was written where;
/// a failure (a read-only data directory) is a warning, not a reason to
/// refuse to start.
pub fn install_logged(data_dir: &Path) {
    match install(data_dir) {
        Ok(written) if written.is_empty() => {}
        Ok(written) => tracing::info!(
            "Generated {} prompt(s) in {}: {}",
            written.len(),
            sounds_dir(data_dir).join("en").display(),
            written
                .iter()
                .filter_map(|p| p.strip_prefix(sounds_dir(data_dir).join("en")).ok())
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => tracing::warn!(
            "Could not write the generated prompts to {}: {e}",
            sounds_dir(data_dir).join("en").display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use obelus_media::analysis::{goertzel_power, signal_power};

    use super::*;
    use crate::sounds::find;

    #[test]
    fn writes_readable_prompts_once_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let written = install(dir.path()).unwrap();
        assert_eq!(written.len(), PROMPTS.len());
        let beep = find(dir.path(), "beep", "en").unwrap();
        assert_eq!(beep.sound.rate, 8000);
        assert_eq!(beep.sound.samples.len(), 2000);
        let p = goertzel_power(&beep.sound.samples, 8000, 1000.0);
        assert!(p > 0.9 * signal_power(&beep.sound.samples));
        for name in ["hello-world", "demo-congrats", "vm-goodbye"] {
            let s = find(dir.path(), name, "en").unwrap().sound;
            assert!(s.samples.len() >= 8000, "{name} lasts at least a second");
            assert!(signal_power(&s.samples) > 1e6, "{name} is not silence");
        }
        let hello = find(dir.path(), "hello-world", "en").unwrap().sound;
        let congrats = find(dir.path(), "demo-congrats", "en").unwrap().sound;
        assert_ne!(hello.samples, congrats.samples);
        let silence = find(dir.path(), "silence/1", "en").unwrap().sound;
        assert_eq!(silence.samples.len(), 8000);
        assert!(silence.samples.iter().all(|&s| s == 0));

        // A second load writes nothing; a user's file is kept as is.
        let mine = sounds_dir(dir.path()).join("en/beep.wav");
        std::fs::write(&mine, b"mine").unwrap();
        assert!(install(dir.path()).unwrap().is_empty());
        assert_eq!(std::fs::read(&mine).unwrap(), b"mine");
    }

    #[test]
    fn another_format_of_the_same_name_counts_as_installed() {
        let dir = tempfile::tempdir().unwrap();
        let ulaw = sounds_dir(dir.path()).join("en/hello-world.ulaw");
        std::fs::create_dir_all(ulaw.parent().unwrap()).unwrap();
        std::fs::write(&ulaw, [0xffu8; 160]).unwrap();
        let written = install(dir.path()).unwrap();
        assert!(!written.iter().any(|p| p.ends_with("hello-world.wav")));
        assert_eq!(written.len(), PROMPTS.len() - 1);
    }
}
