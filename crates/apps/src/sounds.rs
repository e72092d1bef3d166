//! Finding sound files the way Asterisk does, so that an installed Asterisk
//! sound pack (`core-sounds-en-wav`, `-ulaw`, ...) plays unchanged.
//!
//! `Playback(hello-world)` on a channel whose language is `en_GB` looks in
//! `<astdatadir>/sounds/en_GB/`, then `sounds/en/` (the language without its
//! dialect), then `sounds/` itself, then `sounds/en/` (the default
//! language), for `hello-world.<ext>` in every format Obelus can decode
//! ([`FORMATS`]). A name starting with `/` is a path without extension,
//! tried in every format too. As an Obelus addition, a name that already
//! carries a known extension (`custom/greeting.wav`) is also tried as is,
//! last.
//!
//! Files are read and decoded whole on a blocking thread, so the media
//! threads never touch the disk.

use std::fmt;
use std::path::{Path, PathBuf};

use obelus_media::MediaError;
use obelus_media::sound::{Sound, SoundFormat, decode_sound, read_sound};

/// File extensions tried, in this order. Narrowband formats come first
/// because most calls are G.711; `wav16` (16 kHz linear wav, Asterisk's
/// name) is read as a wav.
pub const FORMATS: &[&str] = &[
    "wav", "ulaw", "alaw", "sln", "sln16", "wav16", "g722", "pcm", "raw",
];

/// The language Asterisk falls back to (`DEFAULT_LANGUAGE`).
const DEFAULT_LANGUAGE: &str = "en";

/// `<astdatadir>/sounds`: where prompts and relative recordings live.
pub fn sounds_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sounds")
}

/// A sound file that was found and decoded.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its audio.
    pub sound: Sound,
}

/// Why no file could be played for a name: the places looked at (without
/// extension) and the files that exist but could not be decoded, so the
/// warning tells an administrator what to install or convert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotFound {
    /// The name asked for.
    pub name: String,
    /// Paths tried, each with every extension of [`FORMATS`].
    pub tried: Vec<PathBuf>,
    /// Files that exist but failed to decode, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "File {} does not exist in any format (tried ", self.name)?;
        for (i, p) in self.tried.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", p.display())?;
        }
        write!(f, " with extensions {}", FORMATS.join(", "))?;
        for (path, reason) in &self.unreadable {
            write!(f, "; {} is unreadable: {reason}", path.display())?;
        }
        f.write_str(")")
    }
}

/// The languages tried for `language`, in order (`fileexists_core`): the
/// language, then without each `_dialect` suffix, then none, then the
/// default language unless already tried.
fn languages(language: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut lang = language.trim();
    while !lang.is_empty() {
        out.push(Some(lang.to_owned()));
        match lang.rfind('_') {
            Some(end) => lang = &lang[..end],
            None => break,
        }
    }
    out.push(None);
    if !out.iter().flatten().any(|l| l == DEFAULT_LANGUAGE) {
        out.push(Some(DEFAULT_LANGUAGE.to_owned()));
    }
    out
}

/// The paths (without extension) tried for `name`, in order.
pub fn candidates(data_dir: &Path, name: &str, language: &str) -> Vec<PathBuf> {
    if name.starts_with('/') {
        return vec![PathBuf::from(name)];
    }
    let sounds = sounds_dir(data_dir);
    languages(language)
        .into_iter()
        .map(|lang| match lang {
            Some(lang) => sounds.join(lang).join(name),
            None => sounds.join(name),
        })
        .collect()
}

/// Appends `.ext` to a path (not `set_extension`, which would replace a
/// dot already in the name, as in `tt-monkeys.v2`).
fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Reads and decodes one sound file by its extension (`wav16` included).
pub fn read(path: &Path) -> Result<Sound, MediaError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("wav16") {
        let bytes = std::fs::read(path)?;
        return decode_sound(SoundFormat::Wav, &bytes).map_err(|reason| {
            MediaError::UnsupportedSound {
                path: path.display().to_string(),
                reason,
            }
        });
    }
    read_sound(path)
}

/// Whether `ext` is a format [`read`] decodes.
pub(crate) fn readable(ext: &str) -> bool {
    ext.eq_ignore_ascii_case("wav16") || SoundFormat::from_extension(ext).is_some()
}

/// Finds and decodes `name` for a channel speaking `language`. Blocking:
/// see [`load`].
pub fn find(data_dir: &Path, name: &str, language: &str) -> Result<Found, NotFound> {
    let tried = candidates(data_dir, name, language);
    let mut unreadable = Vec::new();
    let mut files: Vec<PathBuf> = tried
        .iter()
        .flat_map(|base| FORMATS.iter().map(move |ext| with_extension(base, ext)))
        .collect();
    if Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(readable)
    {
        files.push(if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            sounds_dir(data_dir).join(name)
        });
    }
    for path in files {
        if !path.is_file() {
            continue;
        }
        match read(&path) {
            Ok(sound) => return Ok(Found { path, sound }),
            Err(e) => unreadable.push((path, e.to_string())),
        }
    }
    Err(NotFound {
        name: name.to_owned(),
        tried,
        unreadable,
    })
}

/// [`find`] on a blocking thread, for the applications.
pub async fn load(data_dir: &Path, name: &str, language: &str) -> Result<Found, NotFound> {
    let (dir, n, lang) = (data_dir.to_owned(), name.to_owned(), language.to_owned());
    tokio::task::spawn_blocking(move || find(&dir, &n, &lang))
        .await
        .unwrap_or_else(|e| {
            Err(NotFound {
                name: name.to_owned(),
                tried: Vec::new(),
                unreadable: vec![(PathBuf::from(name), e.to_string())],
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_sln(path: &Path, samples: &[i16]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn language_order_follows_asterisk() {
        assert_eq!(
            languages("en_GB_x"),
            vec![
                Some("en_GB_x".to_owned()),
                Some("en_GB".to_owned()),
                Some("en".to_owned()),
                None
            ]
        );
        assert_eq!(
            languages("fr"),
            vec![Some("fr".to_owned()), None, Some("en".to_owned())]
        );
        assert_eq!(languages(""), vec![None, Some("en".to_owned())]);
    }

    #[test]
    fn finds_by_language_then_without_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let sounds = sounds_dir(dir.path());
        write_sln(&sounds.join("en/hello.sln"), &[1, 2]);
        write_sln(&sounds.join("fr/hello.ulaw"), &[0x7f7f]);
        write_sln(&sounds.join("plain.sln"), &[3]);
        let fr = find(dir.path(), "hello", "fr").unwrap();
        assert_eq!(fr.path, sounds.join("fr/hello.ulaw"));
        assert_eq!(fr.sound.samples.len(), 2);
        let de = find(dir.path(), "hello", "de").unwrap();
        assert_eq!(de.path, sounds.join("en/hello.sln"));
        assert_eq!(&de.sound.samples[..], &[1, 2]);
        assert_eq!(
            find(dir.path(), "plain", "en").unwrap().path,
            sounds.join("plain.sln")
        );
    }

    #[test]
    fn absolute_names_and_explicit_extensions() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().join("elsewhere/greeting");
        write_sln(&with_extension(&abs, "sln16"), &[5, 6, 7]);
        let found = find(dir.path(), abs.to_str().unwrap(), "en").unwrap();
        assert_eq!(found.sound.rate, 16000);
        assert_eq!(found.sound.samples.len(), 3);
        write_sln(&sounds_dir(dir.path()).join("custom/x.v2.sln"), &[9]);
        let explicit = find(dir.path(), "custom/x.v2.sln", "en").unwrap();
        assert_eq!(&explicit.sound.samples[..], &[9]);
    }

    #[test]
    fn wav16_is_read_as_wav() {
        let dir = tempfile::tempdir().unwrap();
        let path = sounds_dir(dir.path()).join("en/wide.wav16");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        obelus_media::sound::write_wav(&path, 16000, &[1, -1, 2]).unwrap();
        let found = find(dir.path(), "wide", "en").unwrap();
        assert_eq!(found.sound.rate, 16000);
        assert_eq!(&found.sound.samples[..], &[1, -1, 2]);
    }

    #[test]
    fn a_missing_file_names_the_paths_tried_and_unreadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let bad = sounds_dir(dir.path()).join("en/broken.wav");
        std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
        std::fs::write(&bad, b"not a wav").unwrap();
        let err = find(dir.path(), "broken", "en").unwrap_err();
        assert_eq!(
            err.tried,
            vec![
                sounds_dir(dir.path()).join("en/broken"),
                sounds_dir(dir.path()).join("broken")
            ]
        );
        assert_eq!(err.unreadable.len(), 1);
        let text = err.to_string();
        assert!(text.starts_with("File broken does not exist in any format"));
        assert!(text.contains("en/broken,"), "{text}");
        assert!(text.contains("is unreadable"), "{text}");
    }
}
