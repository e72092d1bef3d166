//! How DTMF travels on a call: the endpoint's `dtmf_mode`, what it comes
//! to once the peer's SDP is known, and the SIP INFO bodies of
//! res_pjsip_dtmf_info (`application/dtmf-relay` with `Signal=`/`Duration=`
//! lines, and `application/dtmf` with the bare key).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// An endpoint's `dtmf_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DtmfMode {
    /// RFC 4733 telephone-events in RTP (the default).
    Rfc4733,
    /// Tones in the audio.
    Inband,
    /// SIP INFO requests.
    Info,
    /// RFC 4733 when the peer offers telephone-event, in-band otherwise.
    Auto,
    /// RFC 4733 when the peer offers telephone-event, INFO otherwise.
    AutoInfo,
    /// No DTMF at all.
    None,
}

/// How digits go and come on one call, once the SDP is agreed (the
/// channel core's [`DtmfTransport`], which bridges read through the driver).
pub(crate) use obelus_core::channel::DtmfTransport as DtmfPath;

/// The call's current [`DtmfPath`], written by the session task when the
/// SDP is agreed and read by the channel driver for bridges.
#[derive(Clone, Default)]
pub(crate) struct SharedPath(Arc<AtomicU8>);

impl SharedPath {
    pub(crate) fn set(&self, path: DtmfPath) {
        let v = match path {
            DtmfPath::None => 0,
            DtmfPath::Rfc4733 => 1,
            DtmfPath::Inband => 2,
            DtmfPath::Info => 3,
        };
        self.0.store(v, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> DtmfPath {
        match self.0.load(Ordering::Relaxed) {
            1 => DtmfPath::Rfc4733,
            2 => DtmfPath::Inband,
            3 => DtmfPath::Info,
            _ => DtmfPath::None,
        }
    }
}

impl DtmfMode {
    /// The endpoint's `dtmf_mode` (unknown values count as the default).
    pub(crate) fn of(endpoint: &obelus_sorcery::Object) -> DtmfMode {
        match endpoint.str("dtmf_mode").unwrap_or("rfc4733") {
            "inband" => DtmfMode::Inband,
            "info" => DtmfMode::Info,
            "auto" => DtmfMode::Auto,
            "auto_info" => DtmfMode::AutoInfo,
            "none" => DtmfMode::None,
            _ => DtmfMode::Rfc4733,
        }
    }

    /// Whether our SDP lists telephone-event.
    pub(crate) fn offers_rfc4733(self) -> bool {
        matches!(
            self,
            DtmfMode::Rfc4733 | DtmfMode::Auto | DtmfMode::AutoInfo
        )
    }

    /// The path once both sides' SDP is known: `negotiated` says whether
    /// telephone-event is in the agreed media.
    pub(crate) fn path(self, negotiated: bool) -> DtmfPath {
        match self {
            DtmfMode::Rfc4733 => DtmfPath::Rfc4733,
            DtmfMode::Inband => DtmfPath::Inband,
            DtmfMode::Info => DtmfPath::Info,
            DtmfMode::None => DtmfPath::None,
            DtmfMode::Auto if negotiated => DtmfPath::Rfc4733,
            DtmfMode::Auto => DtmfPath::Inband,
            DtmfMode::AutoInfo if negotiated => DtmfPath::Rfc4733,
            DtmfMode::AutoInfo => DtmfPath::Info,
        }
    }
}

/// What an INFO request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InfoDtmf {
    /// A key, and how long it was pressed (100 ms when not said).
    Digit(char, u32),
    /// A hook flash (`Signal=!` or event 16).
    Flash,
    /// An empty body (answered 200, as Asterisk does).
    Empty,
    /// A DTMF body whose key makes no sense (answered 500).
    Invalid,
}

/// Duration of an INFO key that does not say (Asterisk's).
const DEFAULT_DURATION_MS: u32 = 100;

/// The key of a `Signal` value or an `application/dtmf` body: `0-9`, `*`,
/// `#`, `A-D`, `!` (flash) as such, or an RFC 4733 event number (`10` is
/// `*`, `11` `#`, `12`-`15` `A`-`D`, `16` flash).
fn event(value: &str) -> Option<char> {
    let value = value.trim();
    let first = value.chars().next()?;
    if matches!(first, '!' | '*' | '#' | 'A'..='D' | 'a'..='d') {
        return Some(first.to_ascii_uppercase());
    }
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<u32>().ok()? {
        n @ 0..=9 => char::from_digit(n, 10),
        10 => Some('*'),
        11 => Some('#'),
        n @ 12..=15 => char::from_u32('A' as u32 + n - 12),
        16 => Some('!'),
        _ => None,
    }
}

/// Reads the body of an INFO whose media type is `essence`
/// (`type/subtype`); `None` when it is not a DTMF type.
pub(crate) fn parse_info(essence: &str, body: &[u8]) -> Option<InfoDtmf> {
    let relay = essence.eq_ignore_ascii_case("application/dtmf-relay");
    if !relay && !essence.eq_ignore_ascii_case("application/dtmf") {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Some(InfoDtmf::Empty);
    }
    let mut key = None;
    let mut duration = DEFAULT_DURATION_MS;
    if relay {
        for line in text.lines() {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "signal" => key = event(value),
                "duration" => {
                    let digits: String = value
                        .trim()
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    duration = digits.parse().unwrap_or(duration);
                }
                _ => {}
            }
        }
    } else {
        key = event(&text);
    }
    Some(match key {
        Some('!') => InfoDtmf::Flash,
        Some(k) => InfoDtmf::Digit(k, duration),
        None => InfoDtmf::Invalid,
    })
}

/// The `application/dtmf-relay` body Asterisk sends for a key.
pub(crate) fn info_body(digit: char, duration_ms: u32) -> String {
    format!("Signal={digit}\r\nDuration={duration_ms}\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: &str = "application/dtmf-relay";

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            parse_info(RELAY, b"Signal=5\r\nDuration=160\r\n"),
            Some(InfoDtmf::Digit('5', 160))
        );
        // Any order, any case, blanks, LF only, no duration.
        assert_eq!(
            parse_info("Application/DTMF-Relay", b"duration= 250\nsignal = #\n"),
            Some(InfoDtmf::Digit('#', 250))
        );
        assert_eq!(
            parse_info(RELAY, b"Signal=*"),
            Some(InfoDtmf::Digit('*', 100))
        );
        assert_eq!(
            parse_info(RELAY, b"Signal=b\r\n"),
            Some(InfoDtmf::Digit('B', 100))
        );
        // RFC 4733 event numbers.
        assert_eq!(
            parse_info(RELAY, b"Signal=11\r\n"),
            Some(InfoDtmf::Digit('#', 100))
        );
        assert_eq!(
            parse_info(RELAY, b"Signal=14\r\n"),
            Some(InfoDtmf::Digit('C', 100))
        );
        assert_eq!(parse_info(RELAY, b"Signal=16\r\n"), Some(InfoDtmf::Flash));
        assert_eq!(parse_info(RELAY, b"Signal=!\r\n"), Some(InfoDtmf::Flash));
        // A bad duration keeps the default; a bad key is invalid.
        assert_eq!(
            parse_info(RELAY, b"Signal=1\r\nDuration=long\r\n"),
            Some(InfoDtmf::Digit('1', 100))
        );
        for bad in [&b"Signal=17"[..], b"Signal=x", b"Duration=100", b"Signal="] {
            assert_eq!(parse_info(RELAY, bad), Some(InfoDtmf::Invalid), "{bad:?}");
        }
        assert_eq!(parse_info(RELAY, b"\r\n"), Some(InfoDtmf::Empty));
        assert_eq!(
            parse_info(RELAY, &[0xff, 0xfe, b'=', 0x80]),
            Some(InfoDtmf::Invalid)
        );
    }

    #[test]
    fn dtmf_bodies_and_other_types() {
        assert_eq!(
            parse_info("application/dtmf", b"7"),
            Some(InfoDtmf::Digit('7', 100))
        );
        assert_eq!(
            parse_info("application/dtmf", b"10\r\n"),
            Some(InfoDtmf::Digit('*', 100))
        );
        assert_eq!(
            parse_info("application/dtmf", b"?"),
            Some(InfoDtmf::Invalid)
        );
        assert_eq!(parse_info("application/media_control+xml", b"<x/>"), None);
        assert_eq!(parse_info("text/plain", b"Signal=1"), None);
    }

    #[test]
    fn sent_bodies_parse_back() {
        let body = info_body('9', 120);
        assert_eq!(body, "Signal=9\r\nDuration=120\r\n");
        assert_eq!(
            parse_info(RELAY, body.as_bytes()),
            Some(InfoDtmf::Digit('9', 120))
        );
    }

    #[test]
    fn modes_resolve_with_the_peer_sdp() {
        assert_eq!(DtmfMode::Auto.path(true), DtmfPath::Rfc4733);
        assert_eq!(DtmfMode::Auto.path(false), DtmfPath::Inband);
        assert_eq!(DtmfMode::AutoInfo.path(false), DtmfPath::Info);
        assert_eq!(DtmfMode::AutoInfo.path(true), DtmfPath::Rfc4733);
        assert_eq!(DtmfMode::Info.path(true), DtmfPath::Info);
        assert_eq!(DtmfMode::Inband.path(true), DtmfPath::Inband);
        assert!(DtmfMode::Auto.offers_rfc4733());
        assert!(!DtmfMode::Info.offers_rfc4733());
        assert!(!DtmfMode::Inband.offers_rfc4733());
    }
}
