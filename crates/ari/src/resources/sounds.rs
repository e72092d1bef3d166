//! `/sounds`: the sound files installed under `<astdatadir>/sounds/<lang>/`,
//! with the languages and formats each is available in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ok;
use crate::error::{AriError, AriResult};
use crate::params::Params;
use crate::state::Ari;

/// Extensions listed as formats (what the sound lookup can play).
const FORMATS: &[&str] = &[
    "wav", "ulaw", "alaw", "sln", "sln16", "wav16", "g722", "gsm", "pcm", "raw",
];

/// Directories walked at most this deep (`digits/`, `letters/` ...).
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct FormatLangPair {
    language: String,
    format: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Sound {
    id: String,
    formats: Vec<FormatLangPair>,
}

fn walk(
    dir: &Path,
    base: &Path,
    language: &str,
    depth: usize,
    out: &mut BTreeMap<String, Vec<FormatLangPair>>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, base, language, depth + 1, out);
            }
            continue;
        }
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !FORMATS.contains(&ext) {
            continue;
        }
        let Ok(relative) = path
            .with_extension("")
            .strip_prefix(base)
            .map(Path::to_path_buf)
        else {
            continue;
        };
        let id = relative.to_string_lossy().replace('\\', "/");
        let formats = out.entry(id).or_default();
        let pair = FormatLangPair {
            language: language.to_owned(),
            format: ext.to_owned(),
        };
        if !formats.contains(&pair) {
            formats.push(pair);
        }
    }
}

/// Every sound under `sounds/<language>/`, by id.
fn index(sounds: PathBuf) -> BTreeMap<String, Vec<FormatLangPair>> {
    let mut out = BTreeMap::new();
    let Ok(languages) = std::fs::read_dir(&sounds) else {
        return out;
    };
    for language in languages.flatten() {
        if language.file_type().is_ok_and(|t| t.is_dir()) {
            let name = language.file_name().to_string_lossy().into_owned();
            walk(&language.path(), &language.path(), &name, 0, &mut out);
        }
    }
    for formats in out.values_mut() {
        formats.sort_by(|a, b| (&a.language, &a.format).cmp(&(&b.language, &b.format)));
    }
    out
}

async fn sounds(ari: &Ari) -> Result<BTreeMap<String, Vec<FormatLangPair>>, AriError> {
    let dir = ari.core.settings.dirs.data.join("sounds");
    tokio::task::spawn_blocking(move || index(dir))
        .await
        .map_err(|e| AriError::internal(format!("sound index failed: {e}")))
}

/// `GET /sounds[?lang=&format=]`.
pub(super) async fn list(ari: &Ari, p: &Params) -> AriResult {
    let (lang, format) = (p.string("lang"), p.string("format"));
    let list: Vec<Sound> = sounds(ari)
        .await?
        .into_iter()
        .filter_map(|(id, formats)| {
            let formats: Vec<FormatLangPair> = formats
                .into_iter()
                .filter(|f| lang.is_none_or(|l| f.language == l))
                .filter(|f| format.is_none_or(|x| f.format == x))
                .collect();
            (!formats.is_empty()).then_some(Sound { id, formats })
        })
        .collect();
    ok(ari, &list)
}

/// `GET /sounds/{soundId}`.
pub(super) async fn get(ari: &Ari, p: &Params) -> AriResult {
    let id = p.path("soundId");
    let formats = sounds(ari)
        .await?
        .remove(id)
        .ok_or_else(|| AriError::not_found("Sound not found"))?;
    ok(
        ari,
        &Sound {
            id: id.to_owned(),
            formats,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_languages_and_formats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sounds = dir.path().join("sounds");
        for file in [
            "en/beep.wav",
            "en/beep.ulaw",
            "fr/beep.wav",
            "en/digits/1.wav",
            "en/readme.txt",
        ] {
            let path = sounds.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
        }
        let index = index(sounds);
        assert_eq!(index.keys().collect::<Vec<_>>(), vec!["beep", "digits/1"]);
        let beep: Vec<(&str, &str)> = index["beep"]
            .iter()
            .map(|f| (f.language.as_str(), f.format.as_str()))
            .collect();
        assert_eq!(beep, vec![("en", "ulaw"), ("en", "wav"), ("fr", "wav")]);
    }
}
