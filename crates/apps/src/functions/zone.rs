//! Time zones by name (`America/New_York`) for `STRFTIME`, read from the
//! system's tz database (`/usr/share/zoneinfo`, TZif files, RFC 8536) as
//! Asterisk's `ast_localtime` does.
//!
//! The transitions in the file are used; the POSIX rule in the file's
//! footer (for instants after the last transition) is not: the local time
//! type of the last transition continues. Debian's tzdata lists
//! transitions up to 2037.

use std::path::{Path, PathBuf};

/// Where the tz database lives.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// TZif files larger than this are not time zones.
const MAX_FILE: u64 = 1 << 20;

/// The local time type in force at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalType {
    /// Seconds east of UTC.
    pub offset: i32,
    /// The abbreviation (`CET`, `EDT`).
    pub abbreviation: String,
}

/// The file of zone `name`, if the name is a plain relative path.
fn zone_path(name: &str) -> Option<PathBuf> {
    let valid = !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    valid.then(|| Path::new(ZONEINFO).join(name))
}

/// The local time type of zone `name` at `epoch` (seconds), `None` if the
/// zone is unknown or its file unreadable.
pub fn local_type(name: &str, epoch: i64) -> Option<LocalType> {
    let path = zone_path(name)?;
    if std::fs::metadata(&path).ok()?.len() > MAX_FILE {
        return None;
    }
    let data = std::fs::read(path).ok()?;
    at(&data, epoch)
}

/// The local time type of the system's zone at `epoch`: the `TZ`
/// environment variable when it names a zone, else `/etc/localtime`.
/// `None` when neither can be read (the caller then uses the offset alone).
pub fn system(epoch: i64) -> Option<LocalType> {
    if let Ok(tz) = std::env::var("TZ") {
        let name = tz.trim_start_matches(':');
        if let Some(t) = local_type(name, epoch) {
            return Some(t);
        }
    }
    let path = Path::new("/etc/localtime");
    if std::fs::metadata(path).ok()?.len() > MAX_FILE {
        return None;
    }
    at(&std::fs::read(path).ok()?, epoch)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn counts(&mut self) -> Option<[usize; 6]> {
        let header = self.take(20)?;
        if header.get(..4)? != b"TZif" {
            return None;
        }
        let mut counts = [0usize; 6];
        for c in &mut counts {
            *c = usize::try_from(self.u32()?).ok()?;
        }
        Some(counts)
    }
}

/// Parses a TZif file and finds the type in force at `epoch`.
pub fn at(data: &[u8], epoch: i64) -> Option<LocalType> {
    let mut r = Reader { data, pos: 0 };
    let version = *data.get(4)?;
    let [isut, isstd, leap, time, types, chars] = r.counts()?;
    let mut time_size = 4;
    let [isut, isstd, leap, time, types, chars] = if version >= b'2' {
        // Skip the version 1 block; the 64-bit block follows its header.
        let v1 = [
            time.checked_mul(5)?,
            types.checked_mul(6)?,
            chars,
            leap.checked_mul(8)?,
            isstd,
            isut,
        ]
        .into_iter()
        .try_fold(0usize, usize::checked_add)?;
        r.take(v1)?;
        time_size = 8;
        r.counts()?
    } else {
        [isut, isstd, leap, time, types, chars]
    };
    let _ = (isut, isstd, leap);
    let times = r.take(time.checked_mul(time_size)?)?;
    let indices = r.take(time)?;
    let infos = r.take(types.checked_mul(6)?)?;
    let abbreviations = r.take(chars)?;
    let transition = |i: usize| -> Option<i64> {
        let b = times.get(i * time_size..(i + 1) * time_size)?;
        Some(if time_size == 8 {
            i64::from_be_bytes(b.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(b.try_into().ok()?))
        })
    };
    // The last transition at or before `epoch`; before the first one,
    // type 0 applies (RFC 8536 section 3.2).
    let mut lo = 0usize;
    let mut hi = time;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if transition(mid)? <= epoch {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let type_index = match lo.checked_sub(1) {
        Some(i) => usize::from(*indices.get(i)?),
        None => 0,
    };
    let info = infos.get(type_index * 6..type_index * 6 + 6)?;
    let offset = i32::from_be_bytes(info.get(..4)?.try_into().ok()?);
    let start = usize::from(*info.get(5)?);
    let abbreviation = abbreviations.get(start..)?;
    let end = abbreviation
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(abbreviation.len());
    Some(LocalType {
        offset,
        abbreviation: String::from_utf8_lossy(abbreviation.get(..end)?).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 TZif file: "STD" (+1h) until 1000, then "DST" (+2h).
    fn sample() -> Vec<u8> {
        fn header(out: &mut Vec<u8>, counts: [u32; 6]) {
            out.extend_from_slice(b"TZif2");
            out.extend_from_slice(&[0; 15]);
            for c in counts {
                out.extend_from_slice(&c.to_be_bytes());
            }
        }
        let abbreviations = b"STD\0DST\0";
        let mut out = Vec::new();
        header(&mut out, [0, 0, 0, 1, 2, 8]);
        out.extend_from_slice(&1000i32.to_be_bytes());
        out.push(1);
        out.extend_from_slice(&3600i32.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&7200i32.to_be_bytes());
        out.extend_from_slice(&[1, 4]);
        out.extend_from_slice(abbreviations);
        header(&mut out, [0, 0, 0, 1, 2, 8]);
        out.extend_from_slice(&1000i64.to_be_bytes());
        out.push(1);
        out.extend_from_slice(&3600i32.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&7200i32.to_be_bytes());
        out.extend_from_slice(&[1, 4]);
        out.extend_from_slice(abbreviations);
        out.extend_from_slice(b"\nSTD-1\n");
        out
    }

    #[test]
    fn finds_the_type_in_force() {
        let data = sample();
        let std = LocalType {
            offset: 3600,
            abbreviation: "STD".into(),
        };
        let dst = LocalType {
            offset: 7200,
            abbreviation: "DST".into(),
        };
        assert_eq!(at(&data, 0), Some(std.clone()));
        assert_eq!(at(&data, 999), Some(std));
        assert_eq!(at(&data, 1000), Some(dst.clone()));
        assert_eq!(at(&data, i64::MAX), Some(dst));
    }

    #[test]
    fn rejects_bad_files_and_names() {
        let data = sample();
        assert_eq!(at(&data[..30], 0), None);
        assert_eq!(at(b"nope", 0), None);
        assert_eq!(zone_path("../etc/passwd"), None);
        assert_eq!(zone_path("/etc/localtime"), None);
        assert_eq!(zone_path("Europe/../../x"), None);
        assert!(zone_path("America/New_York").is_some());
        assert_eq!(local_type("No/Such_Zone", 0), None);
    }
}
