//! Content-Type (RFC 3261 §20.15, media-type of RFC 2045).

use std::fmt;

use crate::error::HeaderError;
use crate::parse::{Cursor, Params, parse_params};

/// `type/subtype;params`, e.g. `application/sdp` or
/// `multipart/mixed;boundary=unique-boundary-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    ty: &'a str,
    subtype: &'a str,
    params: Params<'a>,
}

const ERR: HeaderError = HeaderError {
    name: "Content-Type",
};

impl<'a> MediaType<'a> {
    /// Parses a media type.
    pub fn parse(s: &'a str) -> Result<MediaType<'a>, HeaderError> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let ty = c.token().ok_or(ERR)?;
        if !c.eat(b'/') {
            return Err(ERR);
        }
        c.skip_ws();
        let subtype = c.token().ok_or(ERR)?;
        let params = parse_params(&mut c).ok_or(ERR)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ERR);
        }
        Ok(MediaType {
            ty,
            subtype,
            params,
        })
    }

    /// The top-level type (`application`).
    pub fn ty(&self) -> &'a str {
        self.ty
    }

    /// The subtype (`sdp`).
    pub fn subtype(&self) -> &'a str {
        self.subtype
    }

    /// Parameters (`boundary`, `charset`, ...).
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// True when `type/subtype` equals `essence`, case-insensitively.
    pub fn is(&self, essence: &str) -> bool {
        match essence.split_once('/') {
            Some((t, s)) => t.eq_ignore_ascii_case(self.ty) && s.eq_ignore_ascii_case(self.subtype),
            None => false,
        }
    }

    /// True for `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        self.ty.eq_ignore_ascii_case("multipart")
    }
}

impl fmt::Display for MediaType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.ty, self.subtype, self.params.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let m = MediaType::parse("multipart/mixed;boundary=\"unique-boundary-1\"").unwrap();
        assert!(m.is_multipart());
        assert!(m.is("Multipart/MIXED"));
        assert_eq!(m.params().value("boundary"), Some("unique-boundary-1"));
        assert!(MediaType::parse("application").is_err());
        assert!(MediaType::parse("application/sdp junk").is_err());
    }
}
