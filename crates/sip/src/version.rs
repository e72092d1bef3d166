//! The SIP version (RFC 3261 §7.1).

use std::fmt;

use crate::error::ParseError;

/// The protocol version of a message. Only `SIP/2.0` exists: any other
/// well-formed version is refused with 505 (RFC 3261 §21.5.7, RFC 4475
/// §3.1.2.16), so every parsed message carries this one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// `SIP/2.0`.
    #[default]
    Sip20,
}

impl Version {
    /// Parses `SIP/2.0` (the `SIP` literal is case-insensitive); another
    /// `SIP/x.y` is [`ParseError::UnsupportedVersion`], anything else
    /// [`ParseError::BadStartLine`].
    pub fn parse(v: &[u8]) -> Result<Version, ParseError> {
        if v.eq_ignore_ascii_case(b"SIP/2.0") {
            return Ok(Version::Sip20);
        }
        let well_formed = v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
            && v.get(4..).is_some_and(|rest| {
                let mut parts = rest.split(|&c| c == b'.');
                let ok = |p: Option<&[u8]>| {
                    p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
                };
                ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
            });
        Err(if well_formed {
            ParseError::UnsupportedVersion
        } else {
            ParseError::BadStartLine
        })
    }

    /// The version as written on the wire.
    pub fn as_str(self) -> &'static str {
        "SIP/2.0"
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sip_2_0_rfc3261_7_1() {
        assert_eq!(Version::parse(b"SIP/2.0"), Ok(Version::Sip20));
        assert_eq!(Version::parse(b"sip/2.0"), Ok(Version::Sip20));
        assert_eq!(
            Version::parse(b"SIP/7.0"),
            Err(ParseError::UnsupportedVersion)
        );
        assert_eq!(Version::parse(b"SIP/2.0.1"), Err(ParseError::BadStartLine));
        assert_eq!(Version::parse(b"HTTP/1.1"), Err(ParseError::BadStartLine));
        assert_eq!(Version::Sip20.to_string(), "SIP/2.0");
    }
}
