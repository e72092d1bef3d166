//! The CSeq header (RFC 3261 §20.16, §8.1.1.5).

use std::fmt;

use crate::error::HeaderError;
use crate::method::Method;
use crate::parse::{Cursor, is_ws, parse_u32};

/// `CSeq: <number> <method>`: orders requests within a dialog and ties a
/// response to its request's method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// The sequence number; less than 2**31 (RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// The method of the request this CSeq belongs to.
    pub method: Method,
}

const ERR: HeaderError = HeaderError { name: "CSeq" };

impl CSeq {
    /// Parses `1*DIGIT LWS Method`. Numbers of 2**31 or more are refused
    /// (RFC 4475 §3.1.2.4 sends 36893488147419103232).
    pub fn parse(s: &str) -> Result<CSeq, HeaderError> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let digits = c.take_while(|b| b.is_ascii_digit());
        let seq = parse_u32(digits).filter(|&n| n < 1 << 31).ok_or(ERR)?;
        let before = c.pos();
        c.skip_ws();
        if c.pos() == before {
            return Err(ERR);
        }
        let method = c.take_while(|b| !is_ws(b));
        c.skip_ws();
        if !c.at_end() {
            return Err(ERR);
        }
        let method = Method::parse(method).ok_or(ERR)?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_rfc3261_20_16() {
        assert_eq!(
            CSeq::parse("4711 INVITE"),
            Ok(CSeq {
                seq: 4711,
                method: Method::Invite
            })
        );
        assert_eq!(CSeq::parse("0009    INVITE").map(|c| c.seq), Ok(9));
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse("1INVITE").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
    }
}
