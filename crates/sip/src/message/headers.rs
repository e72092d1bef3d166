//! The header index: one entry per header line, pointing into the message
//! buffer, and for each known name the index of its first line, so a typed
//! accessor goes straight to its header instead of scanning the index.

use std::ops::Range;

use super::buffer::Buffer;
use crate::error::{HeaderError, ParseError};
use crate::header::{
    AuthHeader, CSeq, ContactList, HeaderName, MediaType, NameAddr, SessionExpires, Via,
    is_http_date, parse_delta_seconds, parse_max_forwards, parse_min_se, parse_warning,
};
use crate::parse::{SplitList, split_list, trim};

/// A byte range in the message buffer. `u32` halves the index size; the
/// parser refuses messages of 4 GiB or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        // The parser checked that the buffer is shorter than u32::MAX.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub(crate) fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub(crate) fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

/// Number of known header names (every [`HeaderName`] but `Other`).
pub(crate) const KNOWN_NAMES: usize = HeaderName::Other as usize;

/// "Not present" in a [`FirstIndex`].
pub(crate) const NO_INDEX: u16 = u16::MAX;

/// For each known header name, the index of its first line ([`NO_INDEX`]
/// when absent). `u16` keeps it at 130 bytes; the parser caps header lines
/// well below `u16::MAX`.
pub(crate) type FirstIndex = [u16; KNOWN_NAMES];

/// One header line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) name: HeaderName,
    pub(crate) name_span: Span,
    pub(crate) value: Span,
}

/// The headers of a parsed message: raw access to every header and lazily
/// parsed typed access to the ones a proxy or user agent needs.
///
/// Holds the message buffer (`Bytes`), so values borrow from `&self` and no
/// header is copied. Typed accessors parse on every call; call once and keep
/// the result where it is used more than once.
#[derive(Debug, Clone)]
pub struct Headers {
    pub(crate) buf: Buffer,
    pub(crate) entries: Vec<Entry>,
    pub(crate) first: FirstIndex,
    pub(crate) cseq: CSeq,
    pub(crate) call_id: Span,
    pub(crate) content_length: Option<u32>,
    /// The buffer came from a builder: it is already the wire form that
    /// encoding would write, so serializing hands the buffer out again
    /// instead of copying every header.
    pub(crate) built: bool,
}

impl Headers {
    /// The text of a span of the header section (validated as UTF-8, or
    /// repaired, at parse time).
    #[inline]
    pub(crate) fn str_at(&self, span: Span) -> &str {
        self.buf.str_at(span.start as usize, span.end as usize)
    }

    /// Index of the first `name` line; `None` when absent or `Other`.
    fn first_index(&self, name: HeaderName) -> Option<usize> {
        let i = *self.first.get(name as usize)?;
        (i != NO_INDEX).then_some(usize::from(i))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the message has no headers (never for a parsed message:
    /// the mandatory ones are checked).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every header line in order: `(name as written, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (self.str_at(e.name_span), self.str_at(e.value)))
    }

    /// The value of the first `name` header line. Unknown names are
    /// [`HeaderName::Other`] and found with [`Headers::get_raw`] instead.
    pub fn get(&self, name: HeaderName) -> Option<&str> {
        if name == HeaderName::Other {
            return None;
        }
        let e = self.entries.get(self.first_index(name)?)?;
        Some(self.str_at(e.value))
    }

    /// Every `name` header line's value, in order (not list-split); nothing
    /// for [`HeaderName::Other`] (see [`Headers::get_all_raw`]).
    pub fn get_all(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        let from = self.first_index(name).unwrap_or(self.entries.len());
        self.entries
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .filter(move |e| e.name == name)
            .map(|e| self.str_at(e.value))
    }

    /// Every value of `name`: list headers (Via, Contact, Route, Supported,
    /// ...) are split on top-level commas across all their lines; other
    /// headers give one value per line; nothing for [`HeaderName::Other`].
    pub fn values(&self, name: HeaderName) -> Values<'_> {
        let next = self.first_index(name).unwrap_or(self.entries.len());
        Values {
            headers: self,
            next,
            name,
            split: name.is_list(),
            current: None,
        }
    }

    /// The first header called `name` (case-insensitive, long or compact
    /// form, known or not).
    pub fn get_raw<'s>(&'s self, name: &str) -> Option<&'s str> {
        let known = HeaderName::from_bytes(name.as_bytes());
        if known != HeaderName::Other {
            return self.get(known);
        }
        self.entries
            .iter()
            .find(|e| {
                e.name == HeaderName::Other && self.str_at(e.name_span).eq_ignore_ascii_case(name)
            })
            .map(|e| self.str_at(e.value))
    }

    /// Every header line called `name` (case-insensitive, long or compact form).
    pub fn get_all_raw<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.entries
            .iter()
            .filter(move |e| {
                e.name == known
                    && (known != HeaderName::Other
                        || self.str_at(e.name_span).eq_ignore_ascii_case(name))
            })
            .map(|e| self.str_at(e.value))
    }

    /// True when a header called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get_raw(name).is_some()
    }

    /// The topmost Via value (RFC 3261 §8.2.6.2, §17.2.3).
    pub fn via(&self) -> Result<Via<'_>, HeaderError> {
        // The usual case without splitting the line first: the first value
        // parsed in place; anything unusual goes through the list split.
        if let Some(via) = self.get(HeaderName::Via).and_then(Via::parse_first) {
            return Ok(via);
        }
        self.vias().next().unwrap_or(Err(HeaderError::new("Via")))
    }

    /// Every Via value, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'_>, HeaderError>> + '_ {
        self.values(HeaderName::Via).map(Via::parse)
    }

    /// The From header.
    pub fn from(&self) -> Result<NameAddr<'_>, HeaderError> {
        NameAddr::parse(self.get(HeaderName::From).unwrap_or(""), "From")
    }

    /// The To header.
    pub fn to(&self) -> Result<NameAddr<'_>, HeaderError> {
        NameAddr::parse(self.get(HeaderName::To).unwrap_or(""), "To")
    }

    /// The `tag` of the From header (see [`crate::header::tag_of`]).
    pub fn from_tag(&self) -> Result<Option<&str>, HeaderError> {
        crate::header::tag_of(self.get(HeaderName::From).unwrap_or(""), "From")
    }

    /// The `tag` of the To header (see [`crate::header::tag_of`]).
    pub fn to_tag(&self) -> Result<Option<&str>, HeaderError> {
        crate::header::tag_of(self.get(HeaderName::To).unwrap_or(""), "To")
    }

    /// The Call-ID (checked at parse time).
    pub fn call_id(&self) -> &str {
        self.str_at(self.call_id)
    }

    /// The CSeq (parsed and checked at parse time).
    pub fn cseq(&self) -> &CSeq {
        &self.cseq
    }

    /// The Content-Length header value, when present (checked at parse time).
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// Every Contact, or `*` (RFC 3261 §10.2.2); `expires` and `q` params
    /// are checked. `*` mixed with addresses is an error.
    pub fn contacts(&self) -> Result<ContactList<'_>, HeaderError> {
        let err = HeaderError::new("Contact");
        let mut list = Vec::new();
        let mut stars = 0;
        for v in self.values(HeaderName::Contact) {
            if v == "*" {
                stars += 1;
            } else {
                let n = NameAddr::parse(v, "Contact")?;
                n.expires()?;
                n.q()?;
                list.push(n);
            }
        }
        match stars {
            0 => Ok(ContactList::Addresses(list)),
            1 if list.is_empty() => Ok(ContactList::Star),
            _ => Err(err),
        }
    }

    /// Route values, in order.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, HeaderError>> + '_ {
        self.values(HeaderName::Route)
            .map(|v| NameAddr::parse(v, "Route"))
    }

    /// Record-Route values, in order.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, HeaderError>> + '_ {
        self.values(HeaderName::RecordRoute)
            .map(|v| NameAddr::parse(v, "Record-Route"))
    }

    /// Max-Forwards (0..=255), if present.
    pub fn max_forwards(&self) -> Result<Option<u8>, HeaderError> {
        self.get(HeaderName::MaxForwards)
            .map(|v| parse_max_forwards(v).ok_or(HeaderError::new("Max-Forwards")))
            .transpose()
    }

    /// Expires in seconds, if present.
    pub fn expires(&self) -> Result<Option<u32>, HeaderError> {
        self.get(HeaderName::Expires)
            .map(|v| parse_delta_seconds(v).ok_or(HeaderError::new("Expires")))
            .transpose()
    }

    /// Min-Expires in seconds, if present (RFC 3261 §20.23).
    pub fn min_expires(&self) -> Result<Option<u32>, HeaderError> {
        self.get(HeaderName::MinExpires)
            .map(|v| parse_delta_seconds(v).ok_or(HeaderError::new("Min-Expires")))
            .transpose()
    }

    /// Session-Expires (RFC 4028 §4), if present.
    pub fn session_expires(&self) -> Result<Option<SessionExpires<'_>>, HeaderError> {
        self.get(HeaderName::SessionExpires)
            .map(SessionExpires::parse)
            .transpose()
    }

    /// Min-SE in seconds (RFC 4028 §5), if present.
    pub fn min_se(&self) -> Result<Option<u32>, HeaderError> {
        self.get(HeaderName::MinSe).map(parse_min_se).transpose()
    }

    /// Content-Type, if present.
    pub fn content_type(&self) -> Result<Option<MediaType<'_>>, HeaderError> {
        self.get(HeaderName::ContentType)
            .map(MediaType::parse)
            .transpose()
    }

    /// The first Authorization header (credentials for this server's realm
    /// may be in any of them: see [`Headers::authorizations`]).
    pub fn authorization(&self) -> Result<Option<AuthHeader<'_>>, HeaderError> {
        self.authorizations().next().transpose()
    }

    /// Every Authorization header.
    pub fn authorizations(&self) -> impl Iterator<Item = Result<AuthHeader<'_>, HeaderError>> + '_ {
        self.get_all(HeaderName::Authorization)
            .map(|v| AuthHeader::parse(v, "Authorization"))
    }

    /// The first Proxy-Authorization header.
    pub fn proxy_authorization(&self) -> Result<Option<AuthHeader<'_>>, HeaderError> {
        self.proxy_authorizations().next().transpose()
    }

    /// Every Proxy-Authorization header.
    pub fn proxy_authorizations(
        &self,
    ) -> impl Iterator<Item = Result<AuthHeader<'_>, HeaderError>> + '_ {
        self.get_all(HeaderName::ProxyAuthorization)
            .map(|v| AuthHeader::parse(v, "Proxy-Authorization"))
    }

    /// Every WWW-Authenticate challenge.
    pub fn www_authenticate(
        &self,
    ) -> impl Iterator<Item = Result<AuthHeader<'_>, HeaderError>> + '_ {
        self.get_all(HeaderName::WwwAuthenticate)
            .map(|v| AuthHeader::parse(v, "WWW-Authenticate"))
    }

    /// Every Proxy-Authenticate challenge.
    pub fn proxy_authenticate(
        &self,
    ) -> impl Iterator<Item = Result<AuthHeader<'_>, HeaderError>> + '_ {
        self.get_all(HeaderName::ProxyAuthenticate)
            .map(|v| AuthHeader::parse(v, "Proxy-Authenticate"))
    }

    /// Supported option tags.
    pub fn supported(&self) -> Values<'_> {
        self.values(HeaderName::Supported)
    }

    /// Require option tags.
    pub fn require(&self) -> Values<'_> {
        self.values(HeaderName::Require)
    }

    /// Proxy-Require option tags.
    pub fn proxy_require(&self) -> Values<'_> {
        self.values(HeaderName::ProxyRequire)
    }

    /// Allow methods.
    pub fn allow(&self) -> Values<'_> {
        self.values(HeaderName::Allow)
    }

    /// User-Agent, as written.
    pub fn user_agent(&self) -> Option<&str> {
        self.get(HeaderName::UserAgent)
    }

    /// Server, as written.
    pub fn server(&self) -> Option<&str> {
        self.get(HeaderName::Server)
    }

    /// Parses every known header whose grammar this crate checks, so a
    /// server can answer 400 naming the first bad one (RFC 4475 §3.1.2).
    pub fn validate(&self) -> Result<(), ParseError> {
        for v in self.vias() {
            v?;
        }
        self.from()?;
        self.to()?;
        self.contacts()?;
        for r in self.routes().chain(self.record_routes()) {
            r?;
        }
        self.max_forwards()?;
        self.expires()?;
        self.min_expires()?;
        self.content_type()?;
        for a in self
            .authorizations()
            .chain(self.proxy_authorizations())
            .chain(self.www_authenticate())
            .chain(self.proxy_authenticate())
        {
            a?;
        }
        for d in self.get_all(HeaderName::Date) {
            if !is_http_date(d) {
                return Err(ParseError::BadHeader("Date"));
            }
        }
        for r in self.get_all(HeaderName::RetryAfter) {
            let r = trim(r);
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if parse_delta_seconds(r.get(..digits).unwrap_or("")).is_none() {
                return Err(ParseError::BadHeader("Retry-After"));
            }
        }
        for w in self.values(HeaderName::Warning) {
            if parse_warning(w).is_none() {
                return Err(ParseError::BadHeader("Warning"));
            }
        }
        Ok(())
    }
}

/// Iterator over the values of one header name: see [`Headers::values`].
#[derive(Debug, Clone)]
pub struct Values<'a> {
    headers: &'a Headers,
    next: usize,
    name: HeaderName,
    split: bool,
    current: Option<SplitList<'a>>,
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(cur) = &mut self.current {
                if let Some(v) = cur.next() {
                    return Some(v);
                }
                self.current = None;
            }
            let e = loop {
                let e = self.headers.entries.get(self.next)?;
                self.next += 1;
                if e.name == self.name {
                    break e;
                }
            };
            let v = self.headers.str_at(e.value);
            if self.split {
                self.current = Some(split_list(v));
            } else {
                return Some(v);
            }
        }
    }
}
