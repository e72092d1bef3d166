//! Stored recordings: the files under `<astspooldir>/recording/`
//! (`ast_config_AST_RECORDING_DIR`), named by their path below it without
//! the extension (`support/call-17`), the extension being the format.
//!
//! A name may hold subdirectories but never leave the directory: a name
//! with a `..`, `.` or empty component names no recording.

use std::io;
use std::path::{Path, PathBuf};

use obelus_apps::recording::Format;

use crate::error::AriError;
use crate::json;

/// How deep [`list`] looks into subdirectories.
const MAX_DEPTH: usize = 16;

/// The recordings directory under the spool directory.
pub(crate) fn dir(spool: &Path) -> PathBuf {
    spool.join("recording")
}

/// A recording name as a path below the directory; `None` for names that
/// are empty or have an empty, `.` or `..` component (a leading `/` is
/// ignored, as Asterisk puts the name after the directory and a `/`).
pub(crate) fn relative(name: &str) -> Option<PathBuf> {
    let trimmed = name.trim_start_matches('/');
    let plain = trimmed
        .split('/')
        .all(|part| !matches!(part, "" | "." | ".."));
    plain.then(|| PathBuf::from(trimmed))
}

/// The file a recording `name` in `format` is written to.
pub(crate) fn file(dir: &Path, name: &str, format: &str) -> Option<PathBuf> {
    let mut path = dir.join(relative(name)?).into_os_string();
    path.push(".");
    path.push(format);
    Some(PathBuf::from(path))
}

/// A recording file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Its name.
    pub(crate) name: String,
    /// Its format.
    pub(crate) format: String,
    /// The file.
    pub(crate) path: PathBuf,
}

impl Stored {
    /// As the `StoredRecording` model.
    pub(crate) fn json(&self) -> json::StoredRecording {
        json::StoredRecording {
            name: self.name.clone(),
            format: self.format.clone(),
        }
    }

    /// The `Content-Type` of the file (`audio/wav`), as Asterisk forms it
    /// from the format's media type and extension.
    pub(crate) fn content_type(&self) -> String {
        format!("audio/{}", self.format)
    }
}

/// The format of a file name whose stem is `stem` (`None` when the name
/// has another stem or no recording format).
fn format_of(file_name: &str, stem: Option<&str>) -> Option<(String, String)> {
    let (s, ext) = file_name.rsplit_once('.')?;
    if s.is_empty() || stem.is_some_and(|stem| stem != s) {
        return None;
    }
    Format::from_extension(ext)?;
    Some((s.to_owned(), ext.to_owned()))
}

/// The recording `name`: its file in a recording format. When several
/// formats exist, the first by extension is the one shown.
pub(crate) fn find(dir: &Path, name: &str) -> Option<Stored> {
    let base = dir.join(relative(name)?);
    let parent = base.parent()?;
    let stem = base.file_name()?.to_str()?;
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(parent)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let file_name = e.file_name().into_string().ok()?;
            let (_, ext) = format_of(&file_name, Some(stem))?;
            Some((ext, e.path()))
        })
        .collect();
    found.sort();
    let (format, path) = found.into_iter().next()?;
    Some(Stored {
        name: relative(name)?.to_string_lossy().into_owned(),
        format,
        path,
    })
}

/// Every stored recording, sorted by name (one entry per name).
pub(crate) fn list(dir: &Path) -> Vec<Stored> {
    let mut out = Vec::new();
    walk(dir, "", 0, &mut out);
    out.sort_by(|a, b| (&a.name, &a.format).cmp(&(&b.name, &b.format)));
    out.dedup_by(|b, a| a.name == b.name);
    out
}

fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<Stored>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let (Ok(kind), Ok(file_name)) = (entry.file_type(), entry.file_name().into_string()) else {
            continue;
        };
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(
                &entry.path(),
                &format!("{prefix}{file_name}/"),
                depth + 1,
                out,
            );
        } else if kind.is_file()
            && let Some((stem, format)) = format_of(&file_name, None)
        {
            out.push(Stored {
                name: format!("{prefix}{stem}"),
                format,
                path: entry.path(),
            });
        }
    }
}

/// Copies `source` to the name `destination`, in the same format: 403 for
/// a name outside the directory, 409 when a recording of that name exists.
pub(crate) fn copy(dir: &Path, source: &Stored, destination: &str) -> Result<Stored, AriError> {
    let forbidden = || {
        AriError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Destination file path is forbidden",
        )
    };
    let name = relative(destination).ok_or_else(forbidden)?;
    if find(dir, destination).is_some() {
        return Err(AriError::conflict(
            "A recording with the same name already exists on the system",
        ));
    }
    let path = file(dir, destination, &source.format).ok_or_else(forbidden)?;
    let copied = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::copy(&source.path, &path).map(|_| ()));
    if let Err(e) = copied {
        tracing::warn!(
            "Copying recording {} to {}: {e}",
            source.path.display(),
            path.display()
        );
        return Err(AriError::internal(format!("Copy failed: {e}")));
    }
    Ok(Stored {
        name: name.to_string_lossy().into_owned(),
        format: source.format.clone(),
        path,
    })
}

/// Deletes the file of a stored recording.
pub(crate) fn delete(stored: &Stored) -> io::Result<()> {
    std::fs::remove_file(&stored.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_directory() {
        assert_eq!(relative("a/b"), Some(PathBuf::from("a/b")));
        assert_eq!(relative("/a"), Some(PathBuf::from("a")));
        for bad in ["", "/", "../x", "a/../../x", "a/./b", "a/", "..", "a//b"] {
            assert_eq!(relative(bad), None, "{bad}");
        }
        let dir = Path::new("/spool/recording");
        assert_eq!(
            file(dir, "sub/take.1", "wav"),
            Some(PathBuf::from("/spool/recording/sub/take.1.wav"))
        );
    }

    #[test]
    fn recordings_are_found_listed_copied_and_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        for f in [
            "a.wav",
            "a.sln",
            "b.ulaw",
            "notes.txt",
            "sub/c.g722",
            "sub/deeper/d.alaw",
        ] {
            std::fs::write(dir.join(f), f).unwrap();
        }
        let names: Vec<(String, String)> =
            list(dir).into_iter().map(|s| (s.name, s.format)).collect();
        assert_eq!(
            names,
            [
                ("a", "sln"),
                ("b", "ulaw"),
                ("sub/c", "g722"),
                ("sub/deeper/d", "alaw")
            ]
            .map(|(n, f)| (n.to_owned(), f.to_owned()))
        );
        let c = find(dir, "sub/c").unwrap();
        assert_eq!(
            (c.format.as_str(), c.content_type()),
            ("g722", "audio/g722".to_owned())
        );
        assert_eq!(find(dir, "notes"), None);
        assert_eq!(find(dir, "sub/../a"), None);
        assert_eq!(find(dir, "missing"), None);

        let copied = copy(dir, &c, "copies/c2").unwrap();
        assert_eq!(
            copied.json(),
            json::StoredRecording {
                name: "copies/c2".into(),
                format: "g722".into()
            }
        );
        assert_eq!(
            std::fs::read(dir.join("copies/c2.g722")).unwrap(),
            b"sub/c.g722"
        );
        assert_eq!(copy(dir, &c, "b").unwrap_err().status, 409);
        assert_eq!(copy(dir, &c, "../out").unwrap_err().status, 403);

        delete(&find(dir, "b").unwrap()).unwrap();
        assert_eq!(find(dir, "b"), None);
    }
}
