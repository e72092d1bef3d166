//! Loading a class's songs: its directory scanned as Asterisk scans it (or
//! its playlist entries), every format Obelus decodes, and a built-in
//! melody for a class that finds nothing to play, so that a fresh
//! installation has music on hold.
//!
//! Asterisk lists each sound file of the directory once by its name
//! without extension (`macroform-cold_day`), whatever formats it comes in,
//! skipping hidden files, files without an extension and subdirectories.
//! Obelus decodes every readable format of that name: the 8 kHz one and
//! the 16 kHz one (`.sln16`, `.g722`, `.wav16`, a 16 kHz `.wav`) both end
//! up in the [`Song`], so each call plays the version its codec wants.
//! Loading reads whole files; it runs on a blocking thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use obelus_media::moh::{Order, Playlist, Song};
use obelus_media::sound::Sound;

use super::config::{ClassConfig, Mode};
use crate::prompts::{Note, render};
use crate::sounds::{self, FORMATS};

/// A class ready to play.
#[derive(Debug)]
pub struct Class {
    /// Its name (`default`).
    pub name: String,
    /// `files` or `playlist`.
    pub mode: Mode,
    /// `directory` as configured (`moh`), for `moh show classes`.
    pub directory: String,
    /// The songs' files without extension, in list order, as
    /// `moh show files` prints them; empty when the built-in melody plays.
    pub files: Vec<PathBuf>,
    /// The decoded songs, shared by every channel playing the class.
    pub playlist: Arc<Playlist>,
}

impl Class {
    /// Whether the class plays the built-in melody for want of files.
    pub fn is_builtin(&self) -> bool {
        self.files.is_empty()
    }
}

/// Where a class's `directory` is: an absolute path as is, anything else
/// under astdatadir (`moh` is `/var/lib/asterisk/moh` for Asterisk).
pub fn resolve_directory(data_dir: &Path, directory: &str) -> PathBuf {
    if directory.starts_with('/') {
        PathBuf::from(directory)
    } else {
        data_dir.join(directory)
    }
}

/// Loads a class; the warnings say what could not be played.
pub fn load(config: &ClassConfig, data_dir: &Path) -> (Class, Vec<String>) {
    let mut warnings = Vec::new();
    let bases = match config.mode {
        Mode::Files => {
            let dir = resolve_directory(data_dir, &config.directory);
            match scan(&dir) {
                Ok(bases) => bases,
                // Said below: no sound files there.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    warnings.push(format!(
                        "music on hold class '{}': cannot read {}: {e}",
                        config.name,
                        dir.display()
                    ));
                    Vec::new()
                }
            }
        }
        Mode::Playlist => config
            .entries
            .iter()
            .map(|entry| entry_base(data_dir, entry))
            .collect(),
    };
    let mut songs = Vec::new();
    let mut files = Vec::new();
    for base in bases {
        let (sounds, problems) = decode_all(&base);
        for (path, reason) in problems {
            warnings.push(format!(
                "music on hold class '{}': {} is unreadable: {reason}",
                config.name,
                path.display()
            ));
        }
        let name = base
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match Song::new(name, &sounds) {
            Some(song) => {
                songs.push(song);
                files.push(base);
            }
            None if config.mode == Mode::Playlist => warnings.push(format!(
                "music on hold class '{}': entry {} has no playable file",
                config.name,
                base.display()
            )),
            None => {}
        }
    }
    let playlist = match Playlist::new(songs, config.order) {
        Some(p) => p,
        None => {
            let place = match config.mode {
                Mode::Files => resolve_directory(data_dir, &config.directory)
                    .display()
                    .to_string(),
                Mode::Playlist => "its entries".to_owned(),
            };
            warnings.push(format!(
                "music on hold class '{}': no sound files in {place}; it plays the built-in melody until some are added",
                config.name
            ));
            builtin(config.order)
        }
    };
    (
        Class {
            name: config.name.clone(),
            mode: config.mode.clone(),
            directory: config.directory.clone(),
            files,
            playlist: Arc::new(playlist),
        },
        warnings,
    )
}

/// The sound files of a directory, by name without extension, in
/// alphabetical order.
fn scan(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut bases = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if sounds::readable(ext) {
            bases.insert(stem.to_owned(), dir.join(stem));
        }
    }
    Ok(bases.into_values().collect())
}

/// A playlist `entry`: a file name without extension, absolute or under
/// the default language's sounds (`<astdatadir>/sounds/en/`), or with its
/// extension (which is then dropped: every format of the name is read).
fn entry_base(data_dir: &Path, entry: &str) -> PathBuf {
    let entry = match entry.rsplit_once('.') {
        Some((stem, ext)) if sounds::readable(ext) && !ext.contains('/') => stem,
        _ => entry,
    };
    if entry.starts_with('/') {
        PathBuf::from(entry)
    } else {
        sounds::sounds_dir(data_dir).join("en").join(entry)
    }
}

/// Every readable format of `base`, decoded; and the files that failed.
fn decode_all(base: &Path) -> (Vec<Sound>, Vec<(PathBuf, String)>) {
    let mut sounds = Vec::new();
    let mut problems = Vec::new();
    for ext in FORMATS {
        let mut path = base.as_os_str().to_owned();
        path.push(".");
        path.push(ext);
        let path = PathBuf::from(path);
        if !path.is_file() {
            continue;
        }
        match sounds::read(&path) {
            Ok(sound) => sounds.push(sound),
            Err(e) => problems.push((path, e.to_string())),
        }
    }
    (sounds, problems)
}

const C4: f64 = 261.63;
const E4: f64 = 329.63;
const F4: f64 = 349.23;
const G4: f64 = 392.0;
const A4: f64 = 440.0;
const B4: f64 = 493.88;
const C5: f64 = 523.25;
const D5: f64 = 587.33;
const E5: f64 = 659.25;

/// The built-in melody: a slow arpeggio over C, A minor, F and G, about
/// eight seconds, looped.
const MELODY: &[Note] = &[
    (C4, 250),
    (E4, 250),
    (G4, 250),
    (C5, 250),
    (A4, 250),
    (C5, 250),
    (E5, 250),
    (C5, 250),
    (F4, 250),
    (A4, 250),
    (C5, 250),
    (A4, 250),
    (G4, 250),
    (B4, 250),
    (D5, 250),
    (B4, 250),
    (C4, 250),
    (G4, 250),
    (E5, 250),
    (G4, 250),
    (A4, 250),
    (E5, 250),
    (C5, 250),
    (E4, 250),
    (F4, 250),
    (C5, 250),
    (A4, 250),
    (F4, 250),
    (G4, 250),
    (D5, 250),
    (B4, 250),
    (G4, 250),
];

/// The playlist of a class without files.
fn builtin(order: Order) -> Playlist {
    let sound = Sound {
        rate: 8000,
        samples: render(MELODY).into(),
    };
    let song = Song::new("obelus-builtin-melody", &[sound]);
    // The melody is never empty, so there is a song and a playlist.
    Playlist::new(song.into_iter().collect(), order).unwrap_or_else(|| unreachable!())
}

#[cfg(test)]
mod tests {
    use obelus_media::analysis::{goertzel_power, signal_power, sine};

    use super::*;

    fn write_raw(path: &Path, samples: &[i16]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_directory_gives_one_song_per_name_in_alphabetical_order() {
        let data = tempfile::tempdir().unwrap();
        let moh = data.path().join("moh");
        write_raw(&moh.join("b-song.sln"), &sine(8000, 400.0, 8000.0, 800));
        write_raw(&moh.join("b-song.sln16"), &sine(16000, 400.0, 8000.0, 1600));
        write_raw(&moh.join("a-song.sln"), &sine(8000, 600.0, 8000.0, 800));
        write_raw(&moh.join(".hidden.sln"), &[1; 80]);
        write_raw(&moh.join("README"), &[1; 80]);
        write_raw(&moh.join("notes.txt"), &[1; 80]);
        write_raw(&moh.join("sub/c.sln"), &[1; 80]);
        std::fs::write(moh.join("broken.wav"), b"nope").unwrap();
        let (class, warnings) = load(&ClassConfig::files("default", "moh"), data.path());
        assert_eq!(class.files, vec![moh.join("a-song"), moh.join("b-song")]);
        assert!(!class.is_builtin());
        let songs = class.playlist.songs();
        assert_eq!(songs[0].name(), "a-song");
        assert!(!songs[0].is_wideband() && songs[1].is_wideband());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("broken.wav is unreadable"),
            "{warnings:?}"
        );
    }

    #[test]
    fn an_empty_or_missing_directory_plays_the_builtin_melody() {
        let data = tempfile::tempdir().unwrap();
        for directory in ["moh", "/nonexistent/obelus-moh"] {
            let (class, warnings) = load(&ClassConfig::files("default", directory), data.path());
            assert!(class.is_builtin());
            assert!(
                warnings.last().unwrap().contains("built-in melody"),
                "{warnings:?}"
            );
            let song = &class.playlist.songs()[0];
            assert!(song.duration().as_secs() >= 7, "{:?}", song.duration());
        }
        let (class, _) = load(&ClassConfig::files("default", "moh"), data.path());
        let pcm = render(MELODY);
        assert!(signal_power(&pcm) > 1e6, "audible");
        assert!(goertzel_power(&pcm[..2000], 8000, C4 as f32) > 0.5 * signal_power(&pcm[..2000]));
        assert_eq!(class.playlist.songs().len(), 1);
    }

    #[test]
    fn playlist_entries_are_read_in_order_with_or_without_extension() {
        let data = tempfile::tempdir().unwrap();
        let abs = data.path().join("elsewhere/zeta");
        write_raw(&abs.with_extension("sln"), &[3; 160]);
        write_raw(
            &sounds::sounds_dir(data.path()).join("en/alpha.sln"),
            &[4; 160],
        );
        let mut config = ClassConfig::files("queue", "");
        config.mode = Mode::Playlist;
        config.entries = vec![
            format!("{}.sln", abs.display()),
            "alpha".to_owned(),
            "missing".to_owned(),
        ];
        let (class, warnings) = load(&config, data.path());
        let names: Vec<&str> = class.playlist.songs().iter().map(Song::name).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("missing has no playable file"),
            "{warnings:?}"
        );
        assert_eq!(
            resolve_directory(data.path(), "/abs"),
            PathBuf::from("/abs")
        );
    }
}
