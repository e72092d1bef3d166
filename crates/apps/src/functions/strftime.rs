//! `STRFTIME([epoch][,timezone][,format])`: a time (default now) formatted
//! with C `strftime` specifiers (default `%c`) in a time zone (default the
//! system's) (`func_strings.c`). Asterisk's `%q` (milliseconds) and
//! `%1q`..`%6q` (that many fraction digits) are understood.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, Local, Offset, Utc};
use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::scan::scan_float;
use super::zone;
use crate::registry::{Function, FunctionContext};

/// `STRFTIME`.
pub struct Strftime;

/// The instant: `epoch` seconds with a fraction, or now.
fn instant(epoch: Option<&str>) -> (i64, u32) {
    if let Some(secs) = epoch.filter(|e| !e.is_empty()).and_then(scan_float)
        && secs.is_finite()
        && secs.abs() < 1e15
    {
        let whole = secs.floor();
        let micros = ((secs - whole) * 1e6).round().clamp(0.0, 999_999.0);
        return (whole as i64, micros as u32 * 1000);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        now.subsec_micros() * 1000,
    )
}

/// The offset and abbreviation at `utc` in `zone` (empty: the system's).
fn local(utc: &DateTime<Utc>, zone: &str) -> (FixedOffset, String) {
    let zone = zone.trim();
    if zone.is_empty() {
        if let Some(t) = zone::system(utc.timestamp())
            && let Some(offset) = FixedOffset::east_opt(t.offset)
        {
            return (offset, t.abbreviation);
        }
        let local = utc.with_timezone(&Local);
        return (local.offset().fix(), local.format("%Z").to_string());
    }
    if [
        "UTC",
        "GMT",
        "UCT",
        "Etc/UTC",
        "Etc/GMT",
        "Universal",
        "Zulu",
    ]
    .iter()
    .any(|z| z.eq_ignore_ascii_case(zone))
    {
        return (Utc.fix(), zone.to_ascii_uppercase().replace("ETC/", ""));
    }
    match zone::local_type(zone, utc.timestamp()) {
        Some(t) => (
            FixedOffset::east_opt(t.offset).unwrap_or_else(|| Utc.fix()),
            t.abbreviation,
        ),
        None => {
            tracing::warn!("STRFTIME: unknown time zone '{zone}', using the system's");
            local(utc, "")
        }
    }
}

/// Replaces what chrono does not know (`%q`, `%1q`..`%6q`, and `%Z` as an
/// abbreviation) before chrono formats the rest.
fn preformat(format: &str, micros: u32, abbreviation: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('q') => {
                chars.next();
                let _ = write!(out, "{:03}", micros / 1000);
            }
            Some(d @ '1'..='6') => {
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&'q') {
                    chars.next();
                    chars.next();
                    let digits = d.to_digit(10).unwrap_or(3);
                    let value = micros / 10u32.pow(6 - digits);
                    let _ = write!(out, "{value:0width$}", width = digits as usize);
                } else {
                    out.push('%');
                }
            }
            Some('Z') => {
                chars.next();
                out.push_str(&abbreviation.replace('%', "%%"));
            }
            Some('%') => {
                chars.next();
                out.push_str("%%");
            }
            _ => out.push('%'),
        }
    }
    out
}

/// Formats `epoch` in `zone` with `format`.
pub fn strftime(epoch: Option<&str>, zone: &str, format: &str) -> Result<String, FunctionError> {
    let (secs, nanos) = instant(epoch);
    let utc = DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| FunctionError::Failed(format!("STRFTIME: time {secs} out of range")))?;
    let (offset, abbreviation) = local(&utc, zone);
    let local = utc.with_timezone(&offset);
    let format = preformat(format, nanos / 1000, &abbreviation);
    let mut out = String::new();
    write!(out, "{}", local.format(&format))
        .map_err(|_| FunctionError::Failed(format!("STRFTIME: invalid format '{format}'")))?;
    Ok(out)
}

impl Function for Strftime {
    fn name(&self) -> &'static str {
        "STRFTIME"
    }

    fn synopsis(&self) -> &'static str {
        "Returns the current date/time in the specified format."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let epoch = args.first().map(String::as_str);
        let zone = args.get(1).map_or("", String::as_str);
        let format = args.get(2).map_or("%c", String::as_str);
        strftime(epoch, zone, format)
    }
}

#[cfg(test)]
mod tests {
    use super::strftime;
    use crate::functions::test_support::on_channel;

    #[test]
    fn formats_in_utc_and_named_zones() {
        assert_eq!(
            strftime(Some("0"), "UTC", "%Y-%m-%d %H:%M:%S %Z").unwrap(),
            "1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            strftime(Some("86400"), "UTC", "%c").unwrap(),
            "Fri Jan  2 00:00:00 1970"
        );
        assert_eq!(
            strftime(Some("1.25"), "UTC", "%S.%q|%1q|%6q").unwrap(),
            "01.250|2|250000"
        );
        assert_eq!(strftime(Some("0"), "UTC", "100%%").unwrap(), "100%");
        assert!(strftime(Some("0"), "UTC", "%Q").is_err());
        if std::path::Path::new("/usr/share/zoneinfo/Europe/Paris").exists() {
            // 2024-01-15 12:00 UTC and 2024-07-15 12:00 UTC.
            assert_eq!(
                strftime(Some("1705320000"), "Europe/Paris", "%H %Z").unwrap(),
                "13 CET"
            );
            assert_eq!(
                strftime(Some("1721044800"), "Europe/Paris", "%H %Z").unwrap(),
                "14 CEST"
            );
        }
    }

    #[test]
    fn defaults_to_now_and_percent_c() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        let year: i32 = s("${STRFTIME(,,%Y)}").parse().unwrap();
        assert!(year >= 2024, "{year}");
        assert_eq!(s("${STRFTIME(0,UTC)}"), "Thu Jan  1 00:00:00 1970");
        if std::path::Path::new("/etc/localtime").exists() {
            let system = s("${STRFTIME(,,%z %Z)}");
            assert!(
                !system.contains(':'),
                "an abbreviation, not an offset: {system}"
            );
        }
        assert_eq!(s("${STRFTIME(${UNSET},UTC,%s)}").len(), s("${EPOCH}").len());
    }
}
