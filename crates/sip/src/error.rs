//! Errors of the message layer, each one mapped to the SIP response a server
//! must send back (RFC 3261 §8.2, §16.3, §21).
//!
//! A parse error that reaches the network becomes a specific response: the
//! transport answers a bad request with [`ParseError::status`] and
//! [`ParseError::reason_phrase`], so a person reading a trace knows what was
//! wrong (`400 Bad Via header`, `505 Version Not Supported`, ...).

use crate::status::StatusCode;

/// Why a SIP message could not be parsed.
///
/// Every variant knows the response a server sends for a request that fails
/// this way ([`ParseError::status`]); responses that fail to parse are simply
/// dropped (RFC 3261 §18.1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The buffer held nothing but CRLFs (a keep-alive), or nothing at all.
    #[error("empty message")]
    Empty,
    /// The message is larger than the parser accepts (4 GiB, or the stream limit).
    #[error("message too large")]
    TooLarge,
    /// The header section is not closed by an empty line.
    #[error("header section not terminated by an empty line")]
    Unterminated,
    /// The start line is neither a Request-Line nor a Status-Line.
    #[error("malformed start line")]
    BadStartLine,
    /// The method token contains characters outside `token` (RFC 3261 §25.1).
    #[error("malformed method")]
    BadMethod,
    /// The Request-URI does not follow the SIP/SIPS/tel grammar.
    #[error("malformed Request-URI")]
    BadRequestUri,
    /// The Request-URI scheme is not one this server handles (RFC 3261 §8.2.2.1: 416).
    #[error("unsupported URI scheme in Request-URI")]
    UnsupportedUriScheme,
    /// The SIP version is well formed but not `SIP/2.0` (RFC 3261 §21.5.7: 505).
    #[error("unsupported SIP version")]
    UnsupportedVersion,
    /// The Status-Code is not three digits in 100..=699.
    #[error("malformed status code")]
    BadStatusCode,
    /// A header line has no colon or an empty or non-token name.
    #[error("malformed header line")]
    BadHeaderLine,
    /// A mandatory header is missing (RFC 3261 §8.1.1, §8.2.2).
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header that may appear only once appears several times.
    #[error("multiple {0} headers")]
    DuplicateHeader(&'static str),
    /// A known header's value does not follow its grammar.
    #[error("bad {0} header")]
    BadHeader(&'static str),
    /// The CSeq method differs from the Request-Line method (RFC 3261 §8.1.1.5).
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    /// Content-Length announces more bytes than the message holds (RFC 3261 §18.3).
    #[error("Content-Length larger than the message body")]
    ContentLengthTooLarge,
    /// A stream-transport message has no Content-Length (RFC 3261 §18.3).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
}

impl ParseError {
    /// The status code a server answers a request failing with this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ParseError::UnsupportedUriScheme => StatusCode::UNSUPPORTED_URI_SCHEME,
            ParseError::UnsupportedVersion => StatusCode::VERSION_NOT_SUPPORTED,
            ParseError::TooLarge => StatusCode::REQUEST_ENTITY_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The reason phrase to send with [`ParseError::status`]: names the bad
    /// header where there is one, so the peer's logs say what to fix.
    pub fn reason_phrase(&self) -> String {
        match self {
            ParseError::MissingHeader(name) => format!("Missing {name} Header"),
            ParseError::DuplicateHeader(name) => format!("Multiple {name} Headers"),
            ParseError::BadHeader(name) => format!("Bad {name} Header"),
            ParseError::CSeqMethodMismatch => "CSeq Method Mismatch".to_owned(),
            ParseError::BadRequestUri => "Bad Request-URI".to_owned(),
            ParseError::ContentLengthTooLarge => "Content-Length Too Large".to_owned(),
            ParseError::MissingContentLength => "Missing Content-Length".to_owned(),
            ParseError::BadHeaderLine => "Malformed Header Line".to_owned(),
            ParseError::BadStartLine | ParseError::BadMethod => "Malformed Request-Line".to_owned(),
            other => other.status().canonical_reason().to_owned(),
        }
    }
}

/// A typed header failed to parse when it was first accessed.
///
/// Typed headers are parsed lazily, so this error surfaces at the access, not
/// at [`crate::Message::parse`]; `?` turns it into [`ParseError::BadHeader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bad {name} header")]
pub struct HeaderError {
    /// Canonical name of the header that failed ("Via", "From", ...).
    pub name: &'static str,
}

impl HeaderError {
    pub(crate) fn new(name: &'static str) -> Self {
        HeaderError { name }
    }
}

impl From<HeaderError> for ParseError {
    fn from(e: HeaderError) -> Self {
        ParseError::BadHeader(e.name)
    }
}
