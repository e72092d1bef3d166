//! `name-addr` / `addr-spec` with header parameters: From, To, Contact,
//! Route, Record-Route, Refer-To... (RFC 3261 §20.10, §20.20, §20.39, §25.1).

use std::borrow::Cow;
use std::fmt;

use crate::error::HeaderError;
use crate::parse::{Cursor, Params, is_token, is_ws, parse_params_finding, parse_u32, unescape};
use crate::uri::Uri;

/// An address with an optional display name and header parameters.
///
/// Without angle brackets, `;params` after the URI belong to the header, not
/// the URI (RFC 3261 §20.10), and the URI may not contain `,`, `?` or `;`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    display: Option<&'a str>,
    uri: Uri<'a>,
    params: Params<'a>,
    bracketed: bool,
    /// `params.value("tag")`, found while the parameters were parsed.
    tag: Option<&'a str>,
}

impl fmt::Debug for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameAddr")
            .field("display", &self.display)
            .field("uri", &self.uri)
            .field("params", &self.params)
            .field("bracketed", &self.bracketed)
            .finish()
    }
}

impl<'a> NameAddr<'a> {
    /// Parses one address; `name` is the header name used in the error.
    pub fn parse(s: &'a str, name: &'static str) -> Result<NameAddr<'a>, HeaderError> {
        let err = HeaderError::new(name);
        let mut c = Cursor::new(s);
        c.skip_ws();
        let mut display = None;
        let bracketed;
        let uri;
        if c.peek() == Some(b'"') {
            let start = c.pos();
            c.quoted().ok_or(err)?;
            display = Some(c.slice(start, c.pos()));
            c.skip_ws();
            bracketed = true;
            uri = angle_uri(&mut c).ok_or(err)?;
        } else if let Some(lt) = crate::parse::find_byte(b'<', c.rest().as_bytes()) {
            // Token display name (`*(token LWS)`), possibly empty: lwsdisp.
            let start = c.pos();
            let name_part = c.slice(start, start + lt);
            if !name_part.bytes().all(|b| is_token(b) || is_ws(b)) {
                return Err(err);
            }
            let trimmed = name_part.trim_end_matches([' ', '\t']);
            if !trimmed.is_empty() {
                display = Some(trimmed);
            }
            c.set_pos(start + lt);
            bracketed = true;
            uri = angle_uri(&mut c).ok_or(err)?;
        } else {
            bracketed = false;
            let raw = c.take_while(|b| b != b';' && !is_ws(b));
            if raw.bytes().any(|b| b == b'?' || b == b',') {
                return Err(err);
            }
            uri = Uri::parse_any(raw).map_err(|_| err)?;
        }
        let (params, tag) = parse_params_finding(&mut c, "tag").ok_or(err)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(err);
        }
        Ok(NameAddr {
            display,
            uri,
            params,
            bracketed,
            tag: tag.flatten(),
        })
    }

    /// The display name as written (quotes included for a quoted one).
    pub fn display_raw(&self) -> Option<&'a str> {
        self.display
    }

    /// The display name without quotes and with quoted-pairs resolved.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        let d = self.display?;
        Some(
            match d.strip_prefix('"').and_then(|d| d.strip_suffix('"')) {
                Some(inner) => unescape(inner),
                None => Cow::Borrowed(d),
            },
        )
    }

    /// The address.
    pub fn uri(&self) -> Uri<'a> {
        self.uri
    }

    /// Header parameters (after the `>` or after the bare URI).
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The `tag` parameter of From/To (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }

    /// True when the URI was written in angle brackets.
    pub fn is_bracketed(&self) -> bool {
        self.bracketed
    }

    /// Contact `expires` parameter (RFC 3261 §20.10); `Err` when present
    /// but not a 32-bit delta-seconds (RFC 4475 §3.1.2.4).
    pub fn expires(&self) -> Result<Option<u32>, HeaderError> {
        match self.params.get("expires") {
            None => Ok(None),
            Some(v) => v
                .and_then(parse_u32)
                .map(Some)
                .ok_or(HeaderError::new("Contact")),
        }
    }

    /// Contact `q` parameter in thousandths (`q=0.7` is 700); `Err` when
    /// present but not `0[.ddd]` or `1[.000]` (RFC 3261 §25.1 `qvalue`).
    pub fn q(&self) -> Result<Option<u16>, HeaderError> {
        let err = HeaderError::new("Contact");
        let Some(v) = self.params.get("q") else {
            return Ok(None);
        };
        let v = v.ok_or(err)?;
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err);
        }
        let mut thousandths: u16 = match int {
            "0" => 0,
            "1" => 1000,
            _ => return Err(err),
        };
        let mut scale = 100;
        for b in frac.bytes() {
            thousandths += u16::from(b - b'0') * scale;
            scale /= 10;
        }
        if thousandths > 1000 {
            return Err(err);
        }
        Ok(Some(thousandths))
    }
}

/// The text between `<` and `>` at the cursor, which moves past the `>`.
fn angle_inner<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let rest = c.rest();
    if !rest.starts_with('<') {
        return None;
    }
    let close = crate::parse::find_byte(b'>', rest.as_bytes())?;
    let inner = rest.get(1..close)?;
    c.set_pos(c.pos() + close + 1);
    Some(inner)
}

fn angle_uri<'a>(c: &mut Cursor<'a>) -> Option<Uri<'a>> {
    Uri::parse_any(angle_inner(c)?).ok()
}

/// The `tag` parameter of a From or To value, read the way
/// [`NameAddr::parse`] reads it but without parsing the URI: dialogs and
/// transactions look tags up on every message, and a received message's
/// headers were checked in full when it arrived.
pub fn tag_of<'a>(s: &'a str, name: &'static str) -> Result<Option<&'a str>, HeaderError> {
    let err = HeaderError::new(name);
    let mut c = Cursor::new(s);
    c.skip_ws();
    if c.peek() == Some(b'"') {
        c.quoted().ok_or(err)?;
        c.skip_ws();
        angle_inner(&mut c).ok_or(err)?;
    } else if let Some(lt) = crate::parse::find_byte(b'<', c.rest().as_bytes()) {
        c.set_pos(c.pos() + lt);
        angle_inner(&mut c).ok_or(err)?;
    } else {
        c.take_while(|b| b != b';' && !is_ws(b));
    }
    let (_, tag) = parse_params_finding(&mut c, "tag").ok_or(err)?;
    c.skip_ws();
    if !c.at_end() {
        return Err(err);
    }
    Ok(tag.flatten())
}

/// The value of the Contact headers of a message (RFC 3261 §20.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactList<'a> {
    /// `Contact: *` (only in a REGISTER removing every binding, §10.2.2).
    Star,
    /// The addresses, in order; empty when there is no Contact header.
    Addresses(Vec<NameAddr<'a>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_of_reads_the_tag_as_the_full_parser_does() {
        for value in [
            "<sip:a@b>;tag=1",
            "\"A <x>;tag=no\" <sip:a@b;tag=uri>;x=y;TAG=2",
            "Alice <sip:a@b>",
            "sip:a@b;tag=3",
            "sip:a@b",
            " <sip:a@b> ; tag = 4 ",
        ] {
            let full = NameAddr::parse(value, "To").map(|n| n.tag());
            assert_eq!(tag_of(value, "To"), full, "{value}");
        }
        assert!(tag_of("<sip:a@b", "To").is_err());
        assert!(tag_of("<sip:a@b>;tag=1 junk", "To").is_err());
    }
    use crate::uri::Host;

    #[test]
    fn quoted_display_name_with_escapes_rfc4475_wsinv() {
        let n = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#,
            "From",
        )
        .unwrap();
        assert_eq!(n.display_name().as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(n.uri().host(), Some(Host::Domain("example.com")));
        assert_eq!(n.tag(), Some("98asjd8"));
    }

    #[test]
    fn addr_spec_params_belong_to_header_rfc3261_20_10() {
        let n = NameAddr::parse(
            "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
            "To",
        )
        .unwrap();
        assert!(!n.is_bracketed());
        assert_eq!(n.tag(), Some("1918181833n"));
        assert!(n.uri().params().is_empty());
        let n = NameAddr::parse("<sip:a@b;transport=tcp>;tag=x", "To").unwrap();
        assert_eq!(n.uri().transport(), Some("tcp"));
        assert_eq!(n.tag(), Some("x"));
    }

    #[test]
    fn token_display_names() {
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323", "From").unwrap();
        assert_eq!(n.display_name().as_deref(), Some("caller"));
        let n = NameAddr::parse("token1~` token2'+_ <sip:m@example.com>", "From").unwrap();
        assert_eq!(n.display_raw(), Some("token1~` token2'+_"));
        assert!(
            NameAddr::parse("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43", "From").is_err()
        );
    }

    #[test]
    fn rejects_rfc4475_invalid_addresses() {
        assert!(NameAddr::parse(r#""Mr. J. User " <sip:j.user @ example.com>"#, "To").is_err());
        assert!(NameAddr::parse(r#""Unterminated <sip:a@b>"#, "From").is_err());
        assert!(
            NameAddr::parse(
                "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                "Contact"
            )
            .is_err()
        );
        assert!(NameAddr::parse("<sip:a@b", "To").is_err());
    }

    #[test]
    fn contact_expires_and_q() {
        let n = NameAddr::parse("<sip:a@b>;expires=3600;q=0.7", "Contact").unwrap();
        assert_eq!(n.expires(), Ok(Some(3600)));
        assert_eq!(n.q(), Ok(Some(700)));
        let n = NameAddr::parse("<sip:a@b>;expires=280297596632815;q=1.5", "Contact").unwrap();
        assert!(n.expires().is_err());
        assert!(n.q().is_err());
    }

    #[test]
    fn unknown_scheme_in_header_is_fine_rfc4475_unksm2() {
        let n = NameAddr::parse("<http://www.example.com>;tag=1", "From").unwrap();
        assert_eq!(n.uri().scheme().as_str(), "http");
        assert!(NameAddr::parse("isbn:2983792873", "To").is_ok());
    }
}
