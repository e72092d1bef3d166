//! SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), borrowed from
//! the message they were parsed from.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::parse::{Params, is_hnvchars, is_paramchars, is_password, is_user, label_run};

/// A URI scheme. `Other` keeps any other absolute-URI scheme, which is legal
/// in From/To/Contact (RFC 4475 §3.3.4) but answered with 416 in a
/// Request-URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme<'a> {
    /// `sip:`
    Sip,
    /// `sips:` (TLS to the target domain).
    Sips,
    /// `tel:` (RFC 3966).
    Tel,
    /// Another absolute-URI scheme, as written.
    Other(&'a str),
}

impl Scheme<'_> {
    /// The scheme as written for `Other`, lower case for the known ones.
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
            Scheme::Other(s) => s,
        }
    }
}

/// The host part of a SIP URI or a Via sent-by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name, as written (compare case-insensitively).
    Domain(&'a str),
    /// A dotted IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 reference, written `[...]` (RFC 3261 §25.1, RFC 5118).
    Ipv6(Ipv6Addr),
}

impl Host<'_> {
    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Parses `host` (hostname / IPv4address / IPv6reference), returning the
/// host and the number of bytes it used.
pub(crate) fn parse_host(s: &str) -> Option<(Host<'_>, usize)> {
    if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']')?;
        let addr: Ipv6Addr = rest.get(..close)?.parse().ok()?;
        return Some((Host::Ipv6(addr), close + 2));
    }
    // hostname = *( domainlabel "." ) toplabel [ "." ]: walk label by
    // label (a tight loop over label characters, then the checks at its
    // ends), labels neither start nor end with '-' and are never empty.
    let b = s.as_bytes();
    let mut i = 0;
    let mut top = None;
    loop {
        let start = i;
        i = label_run(b, i);
        let dot = b.get(i) == Some(&b'.');
        if i == start {
            // An empty label: a leading or doubled dot is an error, the end
            // of the host (after a trailing dot, or before anything) is not.
            if dot {
                return None;
            }
            break;
        }
        if b.get(start) == Some(&b'-') || b.get(i - 1) == Some(&b'-') {
            return None;
        }
        top = Some(start);
        if !dot {
            break;
        }
        i += 1;
    }
    let h = s.get(..i)?;
    // A toplabel starts with a letter; one starting with a digit makes the
    // host an IPv4 address or nothing (which the address parser decides:
    // it refuses letters, dashes, empty parts and a trailing dot).
    let first = b.get(top?).copied()?;
    if first.is_ascii_digit() {
        return Some((Host::Ipv4(h.parse().ok()?), i));
    }
    if !first.is_ascii_alphabetic() {
        return None;
    }
    Some((Host::Domain(h), i))
}

/// Stand-in for a URI that was validated earlier but no longer parses, which
/// cannot happen; lets accessors stay infallible without panicking.
pub(crate) const INVALID_URI: Uri<'static> = Uri {
    raw: "sip:invalid.invalid",
    scheme: Scheme::Sip,
    user: None,
    password: None,
    host: Some(Host::Domain("invalid.invalid")),
    port: None,
    params: Params::from_validated(""),
    headers: "",
};

/// Why a URI was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Not `scheme:...` at all, or a part breaks its grammar.
    #[error("malformed URI")]
    Malformed,
    /// Well formed, but not sip/sips/tel.
    #[error("unsupported URI scheme")]
    UnsupportedScheme,
}

/// A parsed URI. For `sip:`/`sips:` every part is validated; for `tel:` the
/// number is in [`Uri::user`] and there is no host; for other schemes only
/// [`Uri::scheme`] and [`Uri::as_str`] are meaningful.
///
/// Borrowed from the message (zero-copy); keep the message, or copy
/// [`Uri::as_str`], to hold it longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    raw: &'a str,
    scheme: Scheme<'a>,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: Option<Host<'a>>,
    port: Option<u16>,
    params: Params<'a>,
    headers: &'a str,
}

impl<'a> Uri<'a> {
    /// Parses a sip, sips or tel URI; other schemes are
    /// [`UriError::UnsupportedScheme`] (the Request-URI rule, RFC 3261 §8.2.2.1).
    #[inline]
    pub fn parse(s: &'a str) -> Result<Uri<'a>, UriError> {
        let u = Uri::parse_any(s)?;
        match u.scheme {
            Scheme::Other(_) => Err(UriError::UnsupportedScheme),
            _ => Ok(u),
        }
    }

    /// Parses any absolute URI; sip/sips/tel ones are fully validated, others
    /// only checked for a scheme and the absence of white space and delimiters.
    pub fn parse_any(s: &'a str) -> Result<Uri<'a>, UriError> {
        let colon = crate::parse::find_byte(b':', s.as_bytes()).ok_or(UriError::Malformed)?;
        let scheme = s.get(..colon).ok_or(UriError::Malformed)?;
        let rest = s.get(colon + 1..).ok_or(UriError::Malformed)?;
        let valid_scheme = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_scheme {
            return Err(UriError::Malformed);
        }
        if scheme.eq_ignore_ascii_case("sip") {
            parse_sip(s, Scheme::Sip, rest)
        } else if scheme.eq_ignore_ascii_case("sips") {
            parse_sip(s, Scheme::Sips, rest)
        } else if scheme.eq_ignore_ascii_case("tel") {
            parse_tel(s, rest)
        } else {
            let ok = !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b > b' ' && b != 0x7f && !matches!(b, b'<' | b'>' | b'"'));
            if !ok {
                return Err(UriError::Malformed);
            }
            Ok(Uri {
                raw: s,
                scheme: Scheme::Other(scheme),
                user: None,
                password: None,
                host: None,
                port: None,
                params: Params::default(),
                headers: "",
            })
        }
    }

    /// The URI as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme<'a> {
        self.scheme
    }

    /// The user part (still %-escaped); the number of a tel URI.
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }

    /// The password part, if any (its use is NOT RECOMMENDED, RFC 3261 §19.1.1).
    pub fn password(&self) -> Option<&'a str> {
        self.password
    }

    /// The host; always present for sip/sips.
    pub fn host(&self) -> Option<Host<'a>> {
        self.host
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// URI parameters (`;transport=tcp;lr`, ...).
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.params.value("transport")
    }

    /// True for a loose-routing URI (`;lr`, RFC 3261 §16.12.1.1).
    pub fn is_loose_route(&self) -> bool {
        self.params.contains("lr")
    }

    /// The raw `?h=v&...` headers part without the `?` (empty if none).
    pub fn headers(&self) -> &'a str {
        self.headers
    }

    /// Iterates `(name, value)` URI headers, still %-escaped.
    pub fn header_iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.headers
            .split('&')
            .filter(|h| !h.is_empty())
            .map(|h| h.split_once('=').unwrap_or((h, "")))
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

#[inline]
fn parse_sip<'a>(raw: &'a str, scheme: Scheme<'a>, rest: &'a str) -> Result<Uri<'a>, UriError> {
    let bad = UriError::Malformed;
    let (user, password, hostpart) = match crate::parse::find_byte(b'@', rest.as_bytes()) {
        Some(at) => {
            let userinfo = rest.get(..at).ok_or(bad)?;
            let (user, password) = match crate::parse::find_byte(b':', userinfo.as_bytes()) {
                Some(c) => (
                    userinfo.get(..c).ok_or(bad)?,
                    Some(userinfo.get(c + 1..).ok_or(bad)?),
                ),
                None => (userinfo, None),
            };
            if !is_user(user) || !password.is_none_or(is_password) {
                return Err(bad);
            }
            (Some(user), password, rest.get(at + 1..).ok_or(bad)?)
        }
        None => (None, None, rest),
    };
    let (host, mut i) = parse_host(hostpart).ok_or(bad)?;
    let b = hostpart.as_bytes();
    let mut port = None;
    if b.get(i) == Some(&b':') {
        let digits = hostpart
            .get(i + 1..)
            .ok_or(bad)?
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let p = hostpart.get(i + 1..i + 1 + digits).ok_or(bad)?;
        port = Some(p.parse::<u16>().map_err(|_| bad)?);
        i += 1 + digits;
    }
    let after = hostpart.get(i..).ok_or(bad)?;
    let (param_part, headers) = match crate::parse::find_byte(b'?', after.as_bytes()) {
        Some(q) => (
            after.get(..q).ok_or(bad)?,
            Some(after.get(q + 1..).ok_or(bad)?),
        ),
        None => (after, None),
    };
    if !param_part.is_empty() {
        let list = param_part.strip_prefix(';').ok_or(bad)?;
        if !valid_uri_params(list.as_bytes()) {
            return Err(bad);
        }
    }
    let headers = match headers {
        Some(h) => {
            for hv in h.split('&') {
                let (n, v) = hv.split_once('=').ok_or(bad)?;
                if n.is_empty() || !is_hnvchars(n) || !is_hnvchars(v) {
                    return Err(bad);
                }
            }
            h
        }
        None => "",
    };
    Ok(Uri {
        raw,
        scheme,
        user,
        password,
        host: Some(host),
        port,
        params: Params::from_validated(param_part),
        headers,
    })
}

/// `uri-parameter *( ";" uri-parameter )`, each `pname [ "=" pvalue ]`
/// with non-empty `paramchar` runs (RFC 3261 §25.1).
fn valid_uri_params(list: &[u8]) -> bool {
    list.split(|&b| b == b';').all(|p| {
        let (n, v) = match crate::parse::find_byte(b'=', p) {
            Some(e) => (p.get(..e).unwrap_or(&[]), p.get(e + 1..)),
            None => (p, None),
        };
        !n.is_empty() && is_paramchars(n) && v.is_none_or(|v| !v.is_empty() && is_paramchars(v))
    })
}

fn parse_tel<'a>(raw: &'a str, rest: &'a str) -> Result<Uri<'a>, UriError> {
    let bad = UriError::Malformed;
    let (number, params) = match rest.find(';') {
        Some(i) => (rest.get(..i).ok_or(bad)?, rest.get(i..).ok_or(bad)?),
        None => (rest, ""),
    };
    let digits = number.strip_prefix('+').unwrap_or(number);
    let ok = digits
        .bytes()
        .any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#')
        && digits
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'-' | b'.' | b'(' | b')'));
    if !ok {
        return Err(bad);
    }
    if let Some(list) = params.strip_prefix(';')
        && !valid_uri_params(list.as_bytes())
    {
        return Err(bad);
    }
    Ok(Uri {
        raw,
        scheme: Scheme::Tel,
        user: Some(number),
        password: None,
        host: None,
        port: None,
        params: Params::from_validated(params),
        headers: "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sip_uri_rfc3261_19_1_1() {
        let u = Uri::parse("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent").unwrap();
        assert_eq!(u.scheme(), Scheme::Sip);
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secretword"));
        assert_eq!(u.host(), Some(Host::Domain("atlanta.com")));
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.transport(), Some("tcp"));
        assert!(u.is_loose_route());
        assert_eq!(
            u.header_iter().collect::<Vec<_>>(),
            [("subject", "project%20x"), ("priority", "urgent")]
        );
    }

    #[test]
    fn ipv6_reference_rfc5118() {
        let u = Uri::parse("sips:[2001:db8::1]:5060").unwrap();
        assert_eq!(u.host(), Some(Host::Ipv6("2001:db8::1".parse().unwrap())));
        assert_eq!(u.port(), Some(5060));
        assert!(Uri::parse("sip:[2001:db8::1").is_err());
        assert!(Uri::parse("sip:2001:db8::1").is_err());
        assert_eq!(
            Uri::parse("sip:u@192.0.2.1").unwrap().host(),
            Some(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
        );
    }

    #[test]
    fn rejects_bad_parts() {
        assert!(Uri::parse("sip:").is_err());
        assert!(Uri::parse("sip:host:99999").is_err());
        assert!(Uri::parse("sip:host:").is_err());
        assert!(Uri::parse("sip:us er@host").is_err());
        assert!(Uri::parse("sip:host;=x").is_err());
        assert!(Uri::parse("sip:1.2.3.999").is_err());
        assert!(Uri::parse("<sip:host>").is_err());
        assert_eq!(Uri::parse("http://x"), Err(UriError::UnsupportedScheme));
        assert!(Uri::parse_any("http://x").is_ok());
    }

    #[test]
    fn rfc4475_semiuri_and_escapes() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user(), Some("user;par=u%40example.net"));
        assert_eq!(u.host(), Some(Host::Domain("example.com")));
        let u = Uri::parse("sip:null-%00-null@example.com").unwrap();
        assert_eq!(u.user(), Some("null-%00-null"));
    }

    #[test]
    fn tel_uri_rfc3966() {
        let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme(), Scheme::Tel);
        assert_eq!(u.user(), Some("+1-201-555-0123"));
        assert_eq!(u.params().value("phone-context"), Some("example.com"));
        assert!(Uri::parse("tel:").is_err());
        assert!(Uri::parse("tel:abc xyz").is_err());
    }
}
