//! Session timer headers (RFC 4028 §4, §5): `Session-Expires` (compact
//! `x`) with its `refresher` parameter, and `Min-SE`.

use crate::error::HeaderError;
use crate::parse::{Cursor, Params, parse_params, parse_u32};

/// Which side of the transaction refreshes the session (RFC 4028 §4:
/// `refresher-param = "refresher" EQUAL ("uas" / "uac")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The client of the transaction that carried the header.
    Uac,
    /// The server of that transaction.
    Uas,
}

impl Refresher {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// `Session-Expires: delta-seconds *(SEMI se-params)` (RFC 4028 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    delta: u32,
    refresher: Option<Refresher>,
    params: Params<'a>,
}

const SE: HeaderError = HeaderError {
    name: "Session-Expires",
};
const MIN_SE: HeaderError = HeaderError { name: "Min-SE" };

/// `delta-seconds *(SEMI generic-param)`: the number and the parameters.
fn delta_and_params<'a>(s: &'a str, err: HeaderError) -> Result<(u32, Params<'a>), HeaderError> {
    let mut c = Cursor::new(s);
    c.skip_ws();
    let digits = c.take_while(|b| b.is_ascii_digit());
    let delta = parse_u32(digits).ok_or(err)?;
    let params = parse_params(&mut c).ok_or(err)?;
    c.skip_ws();
    if !c.at_end() {
        return Err(err);
    }
    Ok((delta, params))
}

impl<'a> SessionExpires<'a> {
    /// Parses one value. A `refresher` other than `uac`/`uas` is an error
    /// (RFC 4028 §4 grammar); other parameters are kept.
    pub fn parse(s: &'a str) -> Result<SessionExpires<'a>, HeaderError> {
        let (delta, params) = delta_and_params(s, SE)?;
        let refresher = match params.get("refresher") {
            None => None,
            Some(Some(v)) if v.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
            Some(Some(v)) if v.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
            Some(_) => return Err(SE),
        };
        Ok(SessionExpires {
            delta,
            refresher,
            params,
        })
    }

    /// The session interval in seconds.
    pub fn delta(&self) -> u32 {
        self.delta
    }

    /// The `refresher` parameter, if present.
    pub fn refresher(&self) -> Option<Refresher> {
        self.refresher
    }

    /// Every parameter as written.
    pub fn params(&self) -> Params<'a> {
        self.params
    }
}

/// Parses `Min-SE: delta-seconds *(SEMI generic-param)` (RFC 4028 §5).
pub fn parse_min_se(s: &str) -> Result<u32, HeaderError> {
    delta_and_params(s, MIN_SE).map(|(delta, _)| delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4028 §4 and §5 grammars, with the examples of §9 and §10.
    #[test]
    fn parses_session_expires_and_min_se() {
        let se = SessionExpires::parse("4000;refresher=uac").unwrap();
        assert_eq!((se.delta(), se.refresher()), (4000, Some(Refresher::Uac)));
        let se = SessionExpires::parse(" 1800 ").unwrap();
        assert_eq!((se.delta(), se.refresher()), (1800, None));
        let se = SessionExpires::parse("90 ; REFRESHER=UAS;x=1").unwrap();
        assert_eq!(se.refresher(), Some(Refresher::Uas));
        assert_eq!(se.params().value("x"), Some("1"));
        for bad in [
            "",
            "abc",
            "90;refresher=both",
            "90;refresher",
            "-5",
            "99999999999",
            "90 x",
        ] {
            assert!(SessionExpires::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_min_se("90"), Ok(90));
        assert_eq!(parse_min_se("120;foo=bar"), Ok(120));
        assert!(parse_min_se("ninety").is_err());
    }
}
