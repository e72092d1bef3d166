//! A parsed SIP response (RFC 3261 §7.2).

use bytes::Bytes;

use super::headers::{Headers, Span};
use super::request::encode_headers;
use super::{Message, multipart};
use crate::error::ParseError;
use crate::status::StatusCode;

/// A SIP response: status, reason phrase, headers, body, over one buffer.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) reason: Span,
    pub(crate) headers: Headers,
    pub(crate) body: Span,
}

impl Response {
    /// Parses a datagram that must hold a response (see [`Message::parse`]).
    pub fn parse(buf: impl Into<Bytes>) -> Result<Response, ParseError> {
        match Message::parse(buf)? {
            Message::Response(r) => Ok(r),
            Message::Request(_) => Err(ParseError::BadStartLine),
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The protocol version (always SIP/2.0: others are refused at parse).
    pub fn version(&self) -> crate::Version {
        crate::Version::Sip20
    }

    /// The reason phrase as received (may be empty, RFC 4475 §3.1.1.13).
    pub fn reason(&self) -> &str {
        self.headers.str_at(self.reason)
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
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

    /// The buffer the response was parsed from: the received one itself,
    /// unless header lines were folded or held non-UTF-8 bytes, in which case
    /// a same-length copy with line breaks (and bad bytes) replaced.
    pub fn buffer(&self) -> &Bytes {
        self.headers.buf.bytes()
    }

    /// Checks every known header's grammar (see [`super::Headers::validate`]).
    pub fn validate(&self) -> Result<(), ParseError> {
        self.headers.validate()
    }

    /// The parts of a multipart body (see [`super::Request::body_parts`]).
    pub fn body_parts(&self) -> Result<Vec<super::BodyPart<'_>>, ParseError> {
        multipart::parts(&self.headers, self.body())
    }

    /// The first body part with Content-Type `essence`.
    pub fn body_part(&self, essence: &str) -> Option<&[u8]> {
        multipart::find(&self.headers, self.body(), essence)
    }

    /// Serializes the response with a computed Content-Length.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"SIP/2.0 ");
        out.extend_from_slice(self.status.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.reason().as_bytes());
        out.extend_from_slice(b"\r\n");
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
