//! `#include`, `#tryinclude` and `#exec`: finding files, globs, loops.
//!
//! As in Asterisk: a relative name is taken from the config directory (not from the
//! including file's folder); the name may be a glob with `*`, `?`, `[...]` and
//! `{a,b}`; a name without glob characters that does not exist is an error for
//! `#include` and nothing for `#tryinclude`, and so is a glob that matches no
//! regular file. `#exec` runs its argument with `sh -c` and reads its output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::parser::{Loader, MAX_INCLUDE_DEPTH, MAX_LOADS};
use crate::{ConfErrorKind, Location};

/// Most patterns one `{...}` expansion may produce.
const MAX_BRACE_EXPANSION: usize = 256;
/// Most `{`, `*`, `?` or `[` in one include pattern: more cannot name real files
/// and would make expansion or matching blow up.
const MAX_PATTERN_SPECIALS: usize = 32;
/// Longest include name (Linux's `PATH_MAX`).
const MAX_PATTERN_LEN: usize = 4096;

/// Expand `{a,b}` alternatives (Asterisk passes `GLOB_BRACE` to `glob(3)`).
fn expand_braces(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_BRACE_EXPANSION {
        return;
    }
    let b = pattern.as_bytes();
    let Some(open) = b.iter().position(|&c| c == b'{') else {
        out.push(pattern.to_string());
        return;
    };
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        out.push(pattern.to_string());
        return;
    };
    let (head, tail) = (
        pattern.get(..open).unwrap_or(""),
        pattern.get(close + 1..).unwrap_or(""),
    );
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        let alt = pattern.get(start..end).unwrap_or("");
        expand_braces(&format!("{head}{alt}{tail}"), out);
        start = end + 1;
    }
}

/// True when a `*` or `?` matched a leading dot: `glob(3)` never lets a wildcard
/// match the `.` that starts a file name (hidden files, editor swap files).
fn hidden_mismatch(path: &Path, pattern: &str) -> bool {
    let names = path.components().rev();
    let parts = Path::new(pattern).components().rev();
    names.zip(parts).any(|(n, p)| {
        n.as_os_str().as_encoded_bytes().starts_with(b".")
            && !p.as_os_str().as_encoded_bytes().starts_with(b".")
    })
}

fn is_magic(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// The files one include names: `(full path, name as shown in locations)`.
fn resolve(dir: &Path, pattern: &str) -> Result<Vec<(PathBuf, String)>, String> {
    let absolute = Path::new(pattern).is_absolute();
    let shown = |p: &Path| -> String {
        let rel = if absolute {
            p
        } else {
            p.strip_prefix(dir).unwrap_or(p)
        };
        rel.to_string_lossy().into_owned()
    };
    let specials = pattern
        .bytes()
        .filter(|b| matches!(b, b'{' | b'*' | b'?' | b'['))
        .count();
    if pattern.len() > MAX_PATTERN_LEN || specials > MAX_PATTERN_SPECIALS {
        return Err(format!(
            "pattern too long or too complex (at most {MAX_PATTERN_LEN} bytes and {MAX_PATTERN_SPECIALS} of {{ * ? [)"
        ));
    }
    let mut patterns = Vec::new();
    expand_braces(pattern, &mut patterns);
    let mut found = Vec::new();
    for p in &patterns {
        let full = if absolute {
            PathBuf::from(p)
        } else {
            dir.join(p)
        };
        let compiled = if is_magic(p) {
            let base = if absolute {
                String::new()
            } else {
                format!("{}/", glob::Pattern::escape(&dir.to_string_lossy()))
            };
            glob::glob_with(
                &format!("{base}{p}"),
                glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    // glob's own option drops every dot file (and panics on
                    // non-UTF-8 names): hidden files are filtered below instead.
                    require_literal_leading_dot: false,
                },
            )
            .ok()
        } else {
            None
        };
        match compiled {
            Some(paths) => {
                for entry in paths {
                    match entry {
                        Ok(path) if path.is_file() && !hidden_mismatch(&path, p) => {
                            found.push((path.clone(), shown(&path)));
                        }
                        Ok(_) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            None => match fs::metadata(&full) {
                Ok(m) if m.is_file() => found.push((full.clone(), shown(&full))),
                Ok(_) => return Err(format!("'{}' is not a regular file", shown(&full))),
                Err(_) => {}
            },
        }
    }
    Ok(found)
}

/// `#include pattern` (or `#tryinclude` when `try_only`) written at `at`.
pub(crate) fn include(
    loader: &mut Loader<'_>,
    dir: &Path,
    pattern: &str,
    try_only: bool,
    at: &Location,
) {
    match resolve(dir, pattern) {
        Err(message) => {
            loader.error(
                at.clone(),
                ConfErrorKind::IncludeRead {
                    path: pattern.to_string(),
                    message,
                },
            );
        }
        Ok(files) if files.is_empty() => {
            if !try_only {
                loader.error(
                    at.clone(),
                    ConfErrorKind::IncludeNotFound(pattern.to_string()),
                );
            }
        }
        Ok(files) => {
            for (path, shown) in files {
                if loader.stopped() {
                    return;
                }
                load_file(loader, &path, &shown, Some(at));
            }
        }
    }
}

/// Check the include limits before reading another source; false when over.
fn enter(loader: &mut Loader<'_>, id: &Path, shown: &str, via: Option<&Location>) -> bool {
    let at = || {
        via.cloned()
            .unwrap_or_else(|| Location::whole_file(shown.into()))
    };
    if loader.stack.len() >= MAX_INCLUDE_DEPTH {
        loader.error(at(), ConfErrorKind::IncludeTooDeep(MAX_INCLUDE_DEPTH));
        return false;
    }
    loader.loads += 1;
    if loader.loads > MAX_LOADS {
        loader.error(at(), ConfErrorKind::TooManyIncludes(MAX_LOADS));
        return false;
    }
    if loader.stack.iter().any(|p| p == id) {
        loader.error(at(), ConfErrorKind::IncludeLoop(shown.to_string()));
        return false;
    }
    true
}

/// Read and parse one file; `via` is the include line (None for the top-level file).
pub(crate) fn load_file(loader: &mut Loader<'_>, path: &Path, shown: &str, via: Option<&Location>) {
    let id = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !enter(loader, &id, shown, via) {
        return;
    }
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let kind = match (via, e.kind()) {
                (None, std::io::ErrorKind::NotFound) => ConfErrorKind::NotFound,
                (None, _) => ConfErrorKind::Read(e.to_string()),
                (Some(_), std::io::ErrorKind::NotFound) => {
                    ConfErrorKind::IncludeNotFound(shown.to_string())
                }
                (Some(_), _) => ConfErrorKind::IncludeRead {
                    path: shown.to_string(),
                    message: e.to_string(),
                },
            };
            let at = via
                .cloned()
                .unwrap_or_else(|| Location::whole_file(shown.into()));
            loader.error(at, kind);
            return;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let name: Arc<str> = shown.into();
    loader.record_file(&name, path.to_path_buf());
    loader.stack.push(id);
    loader.parse_text(&name, &text);
    loader.stack.pop();
}

/// `#exec command`: run it with `sh -c` and read its standard output as config text.
pub(crate) fn exec(loader: &mut Loader<'_>, command: &str, at: &Location) {
    let shown = format!("#exec {command}");
    let id = PathBuf::from(&shown);
    if !enter(loader, &id, &shown, Some(at)) {
        return;
    }
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            let kind = ConfErrorKind::ExecFailed {
                command: command.to_string(),
                message: e.to_string(),
            };
            loader.error(at.clone(), kind);
            return;
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("").trim();
        let message = if first.is_empty() {
            output.status.to_string()
        } else {
            format!("{}: {first}", output.status)
        };
        loader.error(
            at.clone(),
            ConfErrorKind::ExecFailed {
                command: command.to_string(),
                message,
            },
        );
        return;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let name: Arc<str> = shown.into();
    loader.stack.push(id);
    loader.parse_text(&name, &text);
    loader.stack.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order() {
        let mut out = Vec::new();
        expand_braces("a{b,c{d,e}}f.conf", &mut out);
        assert_eq!(out, ["abf.conf", "acdf.conf", "acef.conf"]);
        let mut out = Vec::new();
        expand_braces("x{y.conf", &mut out);
        assert_eq!(out, ["x{y.conf"]);
    }
}
