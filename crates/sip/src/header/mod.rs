//! Header names and the typed headers a proxy or user agent needs.
//!
//! [`HeaderName`] resolves long and compact forms (RFC 3261 §7.3.3) in one
//! step; each typed header lives in its own file and borrows from the message.

mod auth;
mod cseq;
mod media_type;
mod name_addr;
mod scalar;
mod session_expires;
mod via;

pub use auth::AuthHeader;
pub use cseq::CSeq;
pub use media_type::MediaType;
pub use name_addr::{ContactList, NameAddr, tag_of};
pub(crate) use scalar::{
    is_http_date, parse_call_id, parse_delta_seconds, parse_max_forwards, parse_warning,
};
pub use session_expires::{Refresher, SessionExpires, parse_min_se};
pub use via::Via;

use std::fmt;

/// A header field name. Known names are variants (so lookups are integer
/// compares); any other name is [`HeaderName::Other`] and is matched by its
/// text, case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum HeaderName {
    /// `Accept`.
    Accept,
    /// `Accept-Contact` (compact `a`).
    AcceptContact,
    /// `Accept-Encoding`.
    AcceptEncoding,
    /// `Accept-Language`.
    AcceptLanguage,
    /// `Alert-Info`.
    AlertInfo,
    /// `Allow`.
    Allow,
    /// `Allow-Events` (compact `u`).
    AllowEvents,
    /// `Authentication-Info`.
    AuthenticationInfo,
    /// `Authorization`.
    Authorization,
    /// `Call-ID` (compact `i`).
    CallId,
    /// `Call-Info`.
    CallInfo,
    /// `Contact` (compact `m`).
    Contact,
    /// `Content-Disposition`.
    ContentDisposition,
    /// `Content-Encoding` (compact `e`).
    ContentEncoding,
    /// `Content-Language`.
    ContentLanguage,
    /// `Content-Length` (compact `l`).
    ContentLength,
    /// `Content-Type` (compact `c`).
    ContentType,
    /// `CSeq`.
    CSeq,
    /// `Date`.
    Date,
    /// `Error-Info`.
    ErrorInfo,
    /// `Event` (compact `o`).
    Event,
    /// `Expires`.
    Expires,
    /// `From` (compact `f`).
    From,
    /// `Identity` (compact `y`).
    Identity,
    /// `Identity-Info` (compact `n`).
    IdentityInfo,
    /// `In-Reply-To`.
    InReplyTo,
    /// `Max-Forwards`.
    MaxForwards,
    /// `MIME-Version`.
    MimeVersion,
    /// `Min-Expires`.
    MinExpires,
    /// `Min-SE`.
    MinSe,
    /// `Organization`.
    Organization,
    /// `Path`.
    Path,
    /// `Priority`.
    Priority,
    /// `P-Asserted-Identity`.
    PAssertedIdentity,
    /// `P-Preferred-Identity`.
    PPreferredIdentity,
    /// `Privacy`.
    Privacy,
    /// `Proxy-Authenticate`.
    ProxyAuthenticate,
    /// `Proxy-Authorization`.
    ProxyAuthorization,
    /// `Proxy-Require`.
    ProxyRequire,
    /// `RAck`.
    RAck,
    /// `Reason`.
    Reason,
    /// `Record-Route`.
    RecordRoute,
    /// `Refer-To` (compact `r`).
    ReferTo,
    /// `Referred-By` (compact `b`).
    ReferredBy,
    /// `Reject-Contact` (compact `j`).
    RejectContact,
    /// `Replaces`.
    Replaces,
    /// `Reply-To`.
    ReplyTo,
    /// `Request-Disposition` (compact `d`).
    RequestDisposition,
    /// `Require`.
    Require,
    /// `Retry-After`.
    RetryAfter,
    /// `Route`.
    Route,
    /// `RSeq`.
    RSeq,
    /// `Server`.
    Server,
    /// `Service-Route`.
    ServiceRoute,
    /// `Session-Expires` (compact `x`).
    SessionExpires,
    /// `Subject` (compact `s`).
    Subject,
    /// `Subscription-State`.
    SubscriptionState,
    /// `Supported` (compact `k`).
    Supported,
    /// `Timestamp`.
    Timestamp,
    /// `To` (compact `t`).
    To,
    /// `Unsupported`.
    Unsupported,
    /// `User-Agent`.
    UserAgent,
    /// `Via` (compact `v`).
    Via,
    /// `Warning`.
    Warning,
    /// `WWW-Authenticate`.
    WwwAuthenticate,
    /// A header this crate has no variant for.
    Other,
}

impl HeaderName {
    /// Resolves a name as written, case-insensitively, long or compact form.
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        // Dispatch on length, then on (first, last byte), then one compare
        // against the lower-case literal: no copy, no scan of the table.
        let (Some(&f), Some(&l)) = (name.first(), name.last()) else {
            return HeaderName::Other;
        };
        let (f, l) = (f.to_ascii_lowercase(), l.to_ascii_lowercase());
        let is = |lit: &[u8]| eq_lower(name, lit);
        match name.len() {
            1 => match f {
                b'a' => HeaderName::AcceptContact,
                b'b' => HeaderName::ReferredBy,
                b'c' => HeaderName::ContentType,
                b'd' => HeaderName::RequestDisposition,
                b'e' => HeaderName::ContentEncoding,
                b'f' => HeaderName::From,
                b'i' => HeaderName::CallId,
                b'j' => HeaderName::RejectContact,
                b'k' => HeaderName::Supported,
                b'l' => HeaderName::ContentLength,
                b'm' => HeaderName::Contact,
                b'n' => HeaderName::IdentityInfo,
                b'o' => HeaderName::Event,
                b'r' => HeaderName::ReferTo,
                b's' => HeaderName::Subject,
                b't' => HeaderName::To,
                b'u' => HeaderName::AllowEvents,
                b'v' => HeaderName::Via,
                b'x' => HeaderName::SessionExpires,
                b'y' => HeaderName::Identity,
                _ => HeaderName::Other,
            },
            2 => match (f, l) {
                (b't', b'o') if is(b"to") => HeaderName::To,
                _ => HeaderName::Other,
            },
            3 => match (f, l) {
                (b'v', b'a') if is(b"via") => HeaderName::Via,
                _ => HeaderName::Other,
            },
            4 => match (f, l) {
                (b'c', b'q') if is(b"cseq") => HeaderName::CSeq,
                (b'd', b'e') if is(b"date") => HeaderName::Date,
                (b'f', b'm') if is(b"from") => HeaderName::From,
                (b'p', b'h') if is(b"path") => HeaderName::Path,
                (b'r', b'k') if is(b"rack") => HeaderName::RAck,
                (b'r', b'q') if is(b"rseq") => HeaderName::RSeq,
                _ => HeaderName::Other,
            },
            5 => match (f, l) {
                (b'a', b'w') if is(b"allow") => HeaderName::Allow,
                (b'e', b't') if is(b"event") => HeaderName::Event,
                (b'r', b'e') if is(b"route") => HeaderName::Route,
                _ => HeaderName::Other,
            },
            6 => match (f, l) {
                (b'a', b't') if is(b"accept") => HeaderName::Accept,
                (b'm', b'e') if is(b"min-se") => HeaderName::MinSe,
                (b'r', b'n') if is(b"reason") => HeaderName::Reason,
                (b's', b'r') if is(b"server") => HeaderName::Server,
                _ => HeaderName::Other,
            },
            7 => match (f, l) {
                (b'c', b'd') if is(b"call-id") => HeaderName::CallId,
                (b'c', b't') if is(b"contact") => HeaderName::Contact,
                (b'e', b's') if is(b"expires") => HeaderName::Expires,
                (b'p', b'y') if is(b"privacy") => HeaderName::Privacy,
                (b'r', b'e') if is(b"require") => HeaderName::Require,
                (b's', b't') if is(b"subject") => HeaderName::Subject,
                (b'w', b'g') if is(b"warning") => HeaderName::Warning,
                _ => HeaderName::Other,
            },
            8 => match (f, l) {
                (b'i', b'y') if is(b"identity") => HeaderName::Identity,
                (b'p', b'y') if is(b"priority") => HeaderName::Priority,
                (b'r', b'o') if is(b"refer-to") => HeaderName::ReferTo,
                (b'r', b'o') if is(b"reply-to") => HeaderName::ReplyTo,
                (b'r', b's') if is(b"replaces") => HeaderName::Replaces,
                _ => HeaderName::Other,
            },
            9 => match (f, l) {
                (b'c', b'o') if is(b"call-info") => HeaderName::CallInfo,
                (b's', b'd') if is(b"supported") => HeaderName::Supported,
                (b't', b'p') if is(b"timestamp") => HeaderName::Timestamp,
                _ => HeaderName::Other,
            },
            10 => match (f, l) {
                (b'a', b'o') if is(b"alert-info") => HeaderName::AlertInfo,
                (b'e', b'o') if is(b"error-info") => HeaderName::ErrorInfo,
                (b'u', b't') if is(b"user-agent") => HeaderName::UserAgent,
                _ => HeaderName::Other,
            },
            11 => match (f, l) {
                (b'i', b'o') if is(b"in-reply-to") => HeaderName::InReplyTo,
                (b'm', b's') if is(b"min-expires") => HeaderName::MinExpires,
                (b'r', b'r') if is(b"retry-after") => HeaderName::RetryAfter,
                (b'r', b'y') if is(b"referred-by") => HeaderName::ReferredBy,
                (b'u', b'd') if is(b"unsupported") => HeaderName::Unsupported,
                _ => HeaderName::Other,
            },
            12 => match (f, l) {
                (b'a', b's') if is(b"allow-events") => HeaderName::AllowEvents,
                (b'c', b'e') if is(b"content-type") => HeaderName::ContentType,
                (b'm', b'n') if is(b"mime-version") => HeaderName::MimeVersion,
                (b'm', b's') if is(b"max-forwards") => HeaderName::MaxForwards,
                (b'o', b'n') if is(b"organization") => HeaderName::Organization,
                (b'r', b'e') if is(b"record-route") => HeaderName::RecordRoute,
                _ => HeaderName::Other,
            },
            13 => match (f, l) {
                (b'a', b'n') if is(b"authorization") => HeaderName::Authorization,
                (b'i', b'o') if is(b"identity-info") => HeaderName::IdentityInfo,
                (b'p', b'e') if is(b"proxy-require") => HeaderName::ProxyRequire,
                (b's', b'e') if is(b"service-route") => HeaderName::ServiceRoute,
                _ => HeaderName::Other,
            },
            14 => match (f, l) {
                (b'a', b't') if is(b"accept-contact") => HeaderName::AcceptContact,
                (b'c', b'h') if is(b"content-length") => HeaderName::ContentLength,
                (b'r', b't') if is(b"reject-contact") => HeaderName::RejectContact,
                _ => HeaderName::Other,
            },
            15 => match (f, l) {
                (b'a', b'e') if is(b"accept-language") => HeaderName::AcceptLanguage,
                (b'a', b'g') if is(b"accept-encoding") => HeaderName::AcceptEncoding,
                (b's', b's') if is(b"session-expires") => HeaderName::SessionExpires,
                _ => HeaderName::Other,
            },
            16 => match (f, l) {
                (b'c', b'e') if is(b"content-language") => HeaderName::ContentLanguage,
                (b'c', b'g') if is(b"content-encoding") => HeaderName::ContentEncoding,
                (b'w', b'e') if is(b"www-authenticate") => HeaderName::WwwAuthenticate,
                _ => HeaderName::Other,
            },
            18 => match (f, l) {
                (b'p', b'e') if is(b"proxy-authenticate") => HeaderName::ProxyAuthenticate,
                (b's', b'e') if is(b"subscription-state") => HeaderName::SubscriptionState,
                _ => HeaderName::Other,
            },
            19 => match (f, l) {
                (b'a', b'o') if is(b"authentication-info") => HeaderName::AuthenticationInfo,
                (b'c', b'n') if is(b"content-disposition") => HeaderName::ContentDisposition,
                (b'p', b'n') if is(b"proxy-authorization") => HeaderName::ProxyAuthorization,
                (b'p', b'y') if is(b"p-asserted-identity") => HeaderName::PAssertedIdentity,
                (b'r', b'n') if is(b"request-disposition") => HeaderName::RequestDisposition,
                _ => HeaderName::Other,
            },
            20 => match (f, l) {
                (b'p', b'y') if is(b"p-preferred-identity") => HeaderName::PPreferredIdentity,
                _ => HeaderName::Other,
            },
            _ => HeaderName::Other,
        }
    }

    /// The canonical long form (RFC 3261 §20 spelling); `""` for `Other`.
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderName::Accept => "Accept",
            HeaderName::AcceptContact => "Accept-Contact",
            HeaderName::AcceptEncoding => "Accept-Encoding",
            HeaderName::AcceptLanguage => "Accept-Language",
            HeaderName::AlertInfo => "Alert-Info",
            HeaderName::Allow => "Allow",
            HeaderName::AllowEvents => "Allow-Events",
            HeaderName::AuthenticationInfo => "Authentication-Info",
            HeaderName::Authorization => "Authorization",
            HeaderName::CallId => "Call-ID",
            HeaderName::CallInfo => "Call-Info",
            HeaderName::Contact => "Contact",
            HeaderName::ContentDisposition => "Content-Disposition",
            HeaderName::ContentEncoding => "Content-Encoding",
            HeaderName::ContentLanguage => "Content-Language",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::CSeq => "CSeq",
            HeaderName::Date => "Date",
            HeaderName::ErrorInfo => "Error-Info",
            HeaderName::Event => "Event",
            HeaderName::Expires => "Expires",
            HeaderName::From => "From",
            HeaderName::Identity => "Identity",
            HeaderName::IdentityInfo => "Identity-Info",
            HeaderName::InReplyTo => "In-Reply-To",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::MimeVersion => "MIME-Version",
            HeaderName::MinExpires => "Min-Expires",
            HeaderName::MinSe => "Min-SE",
            HeaderName::Organization => "Organization",
            HeaderName::Path => "Path",
            HeaderName::Priority => "Priority",
            HeaderName::PAssertedIdentity => "P-Asserted-Identity",
            HeaderName::PPreferredIdentity => "P-Preferred-Identity",
            HeaderName::Privacy => "Privacy",
            HeaderName::ProxyAuthenticate => "Proxy-Authenticate",
            HeaderName::ProxyAuthorization => "Proxy-Authorization",
            HeaderName::ProxyRequire => "Proxy-Require",
            HeaderName::RAck => "RAck",
            HeaderName::Reason => "Reason",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::ReferTo => "Refer-To",
            HeaderName::ReferredBy => "Referred-By",
            HeaderName::RejectContact => "Reject-Contact",
            HeaderName::Replaces => "Replaces",
            HeaderName::ReplyTo => "Reply-To",
            HeaderName::RequestDisposition => "Request-Disposition",
            HeaderName::Require => "Require",
            HeaderName::RetryAfter => "Retry-After",
            HeaderName::Route => "Route",
            HeaderName::RSeq => "RSeq",
            HeaderName::Server => "Server",
            HeaderName::ServiceRoute => "Service-Route",
            HeaderName::SessionExpires => "Session-Expires",
            HeaderName::Subject => "Subject",
            HeaderName::SubscriptionState => "Subscription-State",
            HeaderName::Supported => "Supported",
            HeaderName::Timestamp => "Timestamp",
            HeaderName::To => "To",
            HeaderName::Unsupported => "Unsupported",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Via => "Via",
            HeaderName::Warning => "Warning",
            HeaderName::WwwAuthenticate => "WWW-Authenticate",
            HeaderName::Other => "",
        }
    }

    /// The compact form, if the header has one (RFC 3261 §7.3.3 and the
    /// IANA registry).
    pub fn compact(self) -> Option<char> {
        match self {
            HeaderName::AcceptContact => Some('a'),
            HeaderName::AllowEvents => Some('u'),
            HeaderName::CallId => Some('i'),
            HeaderName::Contact => Some('m'),
            HeaderName::ContentEncoding => Some('e'),
            HeaderName::ContentLength => Some('l'),
            HeaderName::ContentType => Some('c'),
            HeaderName::Event => Some('o'),
            HeaderName::From => Some('f'),
            HeaderName::Identity => Some('y'),
            HeaderName::IdentityInfo => Some('n'),
            HeaderName::ReferTo => Some('r'),
            HeaderName::ReferredBy => Some('b'),
            HeaderName::RejectContact => Some('j'),
            HeaderName::RequestDisposition => Some('d'),
            HeaderName::SessionExpires => Some('x'),
            HeaderName::Subject => Some('s'),
            HeaderName::Supported => Some('k'),
            HeaderName::To => Some('t'),
            HeaderName::Via => Some('v'),
            _ => None,
        }
    }

    /// True for headers whose grammar is a comma-separated list, which may
    /// be split across several header lines (RFC 3261 §7.3.1). Headers such
    /// as WWW-Authenticate, Authorization or Date contain commas that are
    /// not list separators and are never split.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Accept
                | HeaderName::AcceptContact
                | HeaderName::AcceptEncoding
                | HeaderName::AcceptLanguage
                | HeaderName::AlertInfo
                | HeaderName::Allow
                | HeaderName::AllowEvents
                | HeaderName::CallInfo
                | HeaderName::Contact
                | HeaderName::ContentEncoding
                | HeaderName::ContentLanguage
                | HeaderName::ErrorInfo
                | HeaderName::InReplyTo
                | HeaderName::Path
                | HeaderName::PAssertedIdentity
                | HeaderName::PPreferredIdentity
                | HeaderName::ProxyRequire
                | HeaderName::Reason
                | HeaderName::RecordRoute
                | HeaderName::RejectContact
                | HeaderName::RequestDisposition
                | HeaderName::Require
                | HeaderName::Route
                | HeaderName::ServiceRoute
                | HeaderName::Supported
                | HeaderName::Unsupported
                | HeaderName::Via
                | HeaderName::Warning
        )
    }
}

/// Compares a name with a literal of lower-case letters and `-`, ignoring
/// ASCII case, a machine word at a time.
///
/// `x | 0x20` folds an upper-case letter onto its lower-case one; the fold
/// is applied only where the literal has a letter (bit 0x40, which `-`
/// lacks), so every other byte must match exactly and no other byte can
/// fold onto a letter.
#[inline]
fn eq_lower(name: &[u8], lit: &[u8]) -> bool {
    #[inline]
    fn eq(name: u64, lit: u64) -> bool {
        name | ((lit >> 1) & 0x2020_2020_2020_2020) == lit
    }
    let n = lit.len();
    if name.len() != n {
        return false;
    }
    if n < 8 {
        // Short names: zero-padded into one word (the padding compares
        // equal on both sides).
        return eq(pad(name), pad(lit));
    }
    // Whole words, then the last eight bytes (overlapping the previous word).
    let mut i = 0;
    while i + 8 <= n {
        if !eq(word(name, i), word(lit, i)) {
            return false;
        }
        i += 8;
    }
    i == n || eq(word(name, n - 8), word(lit, n - 8))
}

/// The eight bytes at `at` as a little-endian word (0 past the end, which
/// callers never ask for).
#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Up to eight bytes as a little-endian word, zero-padded.
#[inline]
fn pad(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    if let (Some(dst), Some(src)) = (w.get_mut(..n), b.get(..n)) {
        dst.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_forms_rfc3261_7_3_3() {
        for (c, n) in [
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("e", HeaderName::ContentEncoding),
            ("l", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("f", HeaderName::From),
            ("s", HeaderName::Subject),
            ("k", HeaderName::Supported),
            ("t", HeaderName::To),
            ("v", HeaderName::Via),
            ("o", HeaderName::Event),
            ("u", HeaderName::AllowEvents),
            ("r", HeaderName::ReferTo),
            ("x", HeaderName::SessionExpires),
            ("b", HeaderName::ReferredBy),
        ] {
            assert_eq!(HeaderName::from_bytes(c.as_bytes()), n);
            assert_eq!(HeaderName::from_bytes(c.to_uppercase().as_bytes()), n);
            assert_eq!(n.compact().map(String::from), Some(c.to_owned()));
        }
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"X-Custom"), HeaderName::Other);
        // Case folding touches letters only: a byte that differs from `-`
        // or a letter by the 0x20 bit does not match it.
        assert_eq!(HeaderName::from_bytes(b"min\rse"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"CALL\rID"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Via"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"VIA"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"V\x09A"), HeaderName::Other);
        assert_eq!(
            HeaderName::from_bytes(b"p-preferred-IDENTITY"),
            HeaderName::PPreferredIdentity
        );
        assert_eq!(
            HeaderName::from_bytes(b"p-preferred-identitY"),
            HeaderName::PPreferredIdentity
        );
        assert_eq!(
            HeaderName::from_bytes(b"p-preferred-identit_"),
            HeaderName::Other
        );
        assert_eq!(
            HeaderName::from_bytes(b"Content-Length"),
            HeaderName::ContentLength
        );
        assert_eq!(HeaderName::from_bytes(b"Content_Length"), HeaderName::Other);
        assert_eq!(
            HeaderName::from_bytes(b"a-very-long-header-name-that-is-unknown"),
            HeaderName::Other
        );
    }

    #[test]
    fn every_long_name_resolves_in_any_case() {
        for name in [
            "Accept",
            "Accept-Contact",
            "Accept-Encoding",
            "Accept-Language",
            "Alert-Info",
            "Allow",
            "Allow-Events",
            "Authentication-Info",
            "Authorization",
            "Call-ID",
            "Call-Info",
            "Contact",
            "Content-Disposition",
            "Content-Encoding",
            "Content-Language",
            "Content-Length",
            "Content-Type",
            "CSeq",
            "Date",
            "Error-Info",
            "Event",
            "Expires",
            "From",
            "Identity",
            "Identity-Info",
            "In-Reply-To",
            "Max-Forwards",
            "MIME-Version",
            "Min-Expires",
            "Min-SE",
            "Organization",
            "Path",
            "Priority",
            "P-Asserted-Identity",
            "P-Preferred-Identity",
            "Privacy",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "Proxy-Require",
            "RAck",
            "Reason",
            "Record-Route",
            "Refer-To",
            "Referred-By",
            "Reject-Contact",
            "Replaces",
            "Reply-To",
            "Request-Disposition",
            "Require",
            "Retry-After",
            "Route",
            "RSeq",
            "Server",
            "Service-Route",
            "Session-Expires",
            "Subject",
            "Subscription-State",
            "Supported",
            "Timestamp",
            "To",
            "Unsupported",
            "User-Agent",
            "Via",
            "Warning",
            "WWW-Authenticate",
        ] {
            let n = HeaderName::from_bytes(name.as_bytes());
            assert_eq!(n.as_str(), name);
            assert_eq!(HeaderName::from_bytes(name.to_lowercase().as_bytes()), n);
            assert_eq!(HeaderName::from_bytes(name.to_uppercase().as_bytes()), n);
            // One byte off anywhere is another (unknown) name.
            for i in 0..name.len() {
                let mut b = name.as_bytes().to_vec();
                b[i] ^= 0x01;
                assert_ne!(HeaderName::from_bytes(&b), n, "{name} byte {i}");
            }
        }
    }

    #[test]
    fn list_headers() {
        assert!(HeaderName::Via.is_list());
        assert!(!HeaderName::WwwAuthenticate.is_list());
        assert!(!HeaderName::Date.is_list());
    }
}
