//! A parsed SIP request (RFC 3261 §7.1).

use bytes::Bytes;

use super::headers::{Headers, Span};
use super::{Message, multipart};
use crate::error::ParseError;
use crate::header::HeaderName;
use crate::method::Method;
use crate::uri::{INVALID_URI, Uri};

/// A SIP request: method, Request-URI, headers, body, all over one buffer.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) uri: Span,
    pub(crate) headers: Headers,
    pub(crate) body: Span,
}

impl Request {
    /// Parses a datagram that must hold a request (see [`Message::parse`]).
    pub fn parse(buf: impl Into<Bytes>) -> Result<Request, ParseError> {
        match Message::parse(buf)? {
            Message::Request(r) => Ok(r),
            Message::Response(_) => Err(ParseError::BadStartLine),
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The protocol version (always SIP/2.0: others are refused at parse).
    pub fn version(&self) -> crate::Version {
        crate::Version::Sip20
    }

    /// The Request-URI as written.
    pub fn uri_str(&self) -> &str {
        self.headers.str_at(self.uri)
    }

    /// The Request-URI (validated at parse time: sip, sips or tel, no headers).
    pub fn uri(&self) -> Uri<'_> {
        Uri::parse(self.uri_str()).unwrap_or(INVALID_URI)
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body (exactly Content-Length bytes when the header is present).
    pub fn body(&self) -> &[u8] {
        self.headers
            .buf
            .bytes()
            .get(self.body.range())
            .unwrap_or(&[])
    }

    /// The body as a `Bytes` sharing the message buffer.
    pub fn body_bytes(&self) -> Bytes {
        self.headers.buf.bytes().slice(self.body.range())
    }

    /// The buffer the request was parsed from: the received one itself,
    /// unless header lines were folded or held non-UTF-8 bytes, in which case
    /// a same-length copy with line breaks (and bad bytes) replaced.
    pub fn buffer(&self) -> &Bytes {
        self.headers.buf.bytes()
    }

    /// Checks every known header's grammar (see [`Headers::validate`]).
    pub fn validate(&self) -> Result<(), ParseError> {
        self.headers.validate()
    }

    /// The parts of a multipart body, or the whole body as one part
    /// (RFC 5621); `Err` for a multipart body without a usable boundary.
    pub fn body_parts(&self) -> Result<Vec<super::BodyPart<'_>>, ParseError> {
        multipart::parts(&self.headers, self.body())
    }

    /// The first body part whose Content-Type is `essence` (for example
    /// `application/sdp`), looking inside multipart bodies.
    pub fn body_part(&self, essence: &str) -> Option<&[u8]> {
        multipart::find(&self.headers, self.body(), essence)
    }

    /// Serializes the request: start line, every header as received (folding
    /// removed), a Content-Length computed from the body, the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.uri_str().as_bytes());
        out.extend_from_slice(b" SIP/2.0\r\n");
        encode_headers(&self.headers, self.body(), out);
    }

    /// Serializes into a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        if self.headers.built {
            return self.headers.buf.bytes().clone();
        }
        let mut out = Vec::with_capacity(self.headers.buf.bytes().len() + 16);
        self.encode(&mut out);
        Bytes::from(out)
    }
}

pub(crate) fn encode_headers(h: &Headers, body: &[u8], out: &mut Vec<u8>) {
    for e in &h.entries {
        if e.name == HeaderName::ContentLength {
            continue;
        }
        out.extend_from_slice(h.str_at(e.name_span).as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.str_at(e.value).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
}
