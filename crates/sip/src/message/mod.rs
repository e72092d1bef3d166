//! SIP messages: the zero-copy parser, [`Request`], [`Response`], the
//! serializer and the builders.
//!
//! # Why `Bytes`
//!
//! A parsed message owns its buffer as a [`bytes::Bytes`] and keeps every
//! header as a byte range into it. A borrowed `&'a [u8]` would be as fast but
//! would tie every transaction, dialog and actor mailbox to the lifetime of
//! the transport's receive buffer; with `Bytes` a message moves between tasks
//! freely, clones in O(1), and the transport hands over its datagram without
//! a copy. Typed headers then borrow from the message (`Via<'_>`), which is
//! the one lifetime that matters.

mod buffer;
mod builder;
mod headers;
mod multipart;
mod request;
mod response;
mod scan;

pub use builder::{RequestBuilder, ResponseBuilder};
pub use headers::{Headers, Values};
pub use multipart::BodyPart;
pub use request::Request;
pub use response::Response;

use bytes::Bytes;

use crate::error::ParseError;
use crate::header::{CSeq, HeaderName, parse_call_id};
use crate::method::Method;
use crate::parse::{is_token, parse_u32};
use crate::status::StatusCode;
use crate::uri::{Uri, UriError};
use crate::version::Version;
use buffer::Buffer;
use headers::{Entry, NO_INDEX, Span};

/// A parsed SIP message.
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Parses a message received as a datagram (UDP, or one WebSocket
    /// message): without Content-Length the body is the rest of the datagram;
    /// a Content-Length larger than the data is an error; bytes after the
    /// announced body are ignored (RFC 3261 §18.3, RFC 4475 §3.1.1.8).
    pub fn parse(buf: impl Into<Bytes>) -> Result<Message, ParseError> {
        parse(buf.into(), false)
    }

    /// Parses one message cut out of a stream by [`crate::frame_stream`]:
    /// Content-Length is mandatory (RFC 3261 §18.3).
    pub fn parse_stream(buf: impl Into<Bytes>) -> Result<Message, ParseError> {
        parse(buf.into(), true)
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => r.headers(),
            Message::Response(r) => r.headers(),
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => r.body(),
            Message::Response(r) => r.body(),
        }
    }

    /// Checks every known header's grammar (see [`Headers::validate`]).
    pub fn validate(&self) -> Result<(), ParseError> {
        self.headers().validate()
    }

    /// Serializes the message (see [`Request::encode`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Request(r) => r.encode(out),
            Message::Response(r) => r.encode(out),
        }
    }

    /// Serializes into a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.headers().buf.bytes().len() + 16);
        self.encode(&mut out);
        Bytes::from(out)
    }
}

/// A same-length copy of `buf` whose header section (`..body_start`) is
/// valid UTF-8 (bad bytes become `?`) and whose `folded` values have their
/// line breaks turned into spaces. Keeping the length keeps every span of
/// the index valid.
fn repaired(buf: &[u8], body_start: usize, folded: &[Entry]) -> Buffer {
    let mut v = buf.to_vec();
    if let Some(h) = v.get_mut(..body_start) {
        replace_invalid_utf8(h);
    }
    for e in folded {
        if let Some(val) = v.get_mut(e.value.range()) {
            for c in val.iter_mut().filter(|c| **c == b'\r' || **c == b'\n') {
                *c = b' ';
            }
        }
    }
    // The repair made the section valid UTF-8, so `unvalidated` (every read
    // then checked) is a fallback that is never taken.
    Buffer::new(Bytes::from(v), body_start).unwrap_or_else(Buffer::unvalidated)
}

/// Overwrites every byte that is not part of valid UTF-8 with `?`, in one
/// pass (each validation resumes after the previous error).
fn replace_invalid_utf8(v: &mut [u8]) {
    let mut pos = 0;
    while let Some(rest) = v.get(pos..) {
        let Err(e) = std::str::from_utf8(rest) else {
            return;
        };
        let bad = pos + e.valid_up_to();
        let len = e.error_len().unwrap_or(v.len() - bad);
        if let Some(run) = v.get_mut(bad..bad + len) {
            run.fill(b'?');
        }
        pos = bad + len;
    }
}

enum StartLine {
    Request { method: Method, uri: Span },
    Response { status: StatusCode, reason: Span },
}

fn parse_start_line(b: &[u8], s: usize, e: usize, head: &str) -> Result<StartLine, ParseError> {
    let l = b.get(s..e).ok_or(ParseError::BadStartLine)?;
    if l.len() >= 4 && l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let sp = crate::parse::find_byte(b' ', l).ok_or(ParseError::BadStartLine)?;
        Version::parse(l.get(..sp).unwrap_or(&[]))?;
        let rest = l.get(sp + 1..).unwrap_or(&[]);
        let code_len = crate::parse::find_byte(b' ', rest).unwrap_or(rest.len());
        let code = rest.get(..code_len).unwrap_or(&[]);
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::BadStatusCode);
        }
        let n = code.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
        let status = StatusCode::new(n).ok_or(ParseError::BadStatusCode)?;
        let reason_start = (s + sp + 1 + code_len + 1).min(e);
        return Ok(StartLine::Response {
            status,
            reason: Span::new(reason_start, e),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: single spaces,
    // nothing trailing (RFC 4475 §3.1.2.9, §3.1.2.10).
    let sp1 = crate::parse::find_byte(b' ', l).ok_or(ParseError::BadStartLine)?;
    let sp2 = memchr::memrchr(b' ', l).ok_or(ParseError::BadStartLine)?;
    if sp1 == sp2 {
        return Err(ParseError::BadStartLine);
    }
    let version = l.get(sp2 + 1..).unwrap_or(&[]);
    if version.is_empty() {
        return Err(ParseError::BadStartLine);
    }
    Version::parse(version)?;
    let method = head.get(s..s + sp1).unwrap_or("");
    if !method.bytes().all(is_token) {
        return Err(ParseError::BadMethod);
    }
    let method = Method::parse(method).ok_or(ParseError::BadMethod)?;
    let uri_str = head.get(s + sp1 + 1..s + sp2).unwrap_or("");
    if uri_str.bytes().any(|c| c <= b' ') {
        return Err(ParseError::BadStartLine);
    }
    let uri = Uri::parse(uri_str).map_err(|e| match e {
        UriError::UnsupportedScheme => ParseError::UnsupportedUriScheme,
        UriError::Malformed => ParseError::BadRequestUri,
    })?;
    // A Request-URI may not carry headers (RFC 3261 §19.1.5, RFC 4475 §3.1.2.11).
    if !uri.headers().is_empty() {
        return Err(ParseError::BadRequestUri);
    }
    Ok(StartLine::Request {
        method,
        uri: Span::new(s + sp1 + 1, s + sp2),
    })
}

fn parse(buf: Bytes, stream: bool) -> Result<Message, ParseError> {
    if buf.len() >= u32::MAX as usize {
        return Err(ParseError::TooLarge);
    }
    let scan::Head {
        start_line,
        entries,
        first,
        body_start,
        folded,
    } = scan::scan(&buf)?;
    // The header section is validated as UTF-8 once, here; a section that
    // is not (Latin-1 display names from old phones), or whose values span
    // folded lines, is read from a repaired copy instead (see `repair`).
    let buffer = match Buffer::new(buf, body_start) {
        Ok(buffer) if !folded => buffer,
        Ok(buffer) => repaired(buffer.bytes(), body_start, &entries),
        Err(buf) => repaired(&buf, body_start, if folded { &entries } else { &[] }),
    };
    let head = buffer.head();
    let b = head.as_bytes();
    let start_line = parse_start_line(b, start_line.start as usize, start_line.end as usize, head)?;

    let value = |n: HeaderName| -> Option<(Span, &str)> {
        let i = first.get(n as usize).copied().filter(|&i| i != NO_INDEX)?;
        let e = entries.get(usize::from(i))?;
        Some((e.value, head.get(e.value.range()).unwrap_or("")))
    };
    let missing = |n: HeaderName| ParseError::MissingHeader(n.as_str());
    for n in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::Via,
    ] {
        value(n).ok_or(missing(n))?;
    }
    let (call_id, call_id_str) = value(HeaderName::CallId).ok_or(missing(HeaderName::CallId))?;
    if parse_call_id(call_id_str).is_none() {
        return Err(ParseError::BadHeader("Call-ID"));
    }
    let cseq_str = value(HeaderName::CSeq).map(|(_, s)| s).unwrap_or("");
    let cseq = CSeq::parse(cseq_str).map_err(|_| ParseError::BadHeader("CSeq"))?;
    let content_length = match value(HeaderName::ContentLength) {
        Some((_, v)) => {
            Some(parse_u32(crate::parse::trim(v)).ok_or(ParseError::BadHeader("Content-Length"))?)
        }
        None => None,
    };
    let avail = buffer.bytes().len() - body_start;
    let body_len = match content_length {
        Some(cl) if cl as usize > avail => return Err(ParseError::ContentLengthTooLarge),
        Some(cl) => cl as usize,
        None if stream => return Err(ParseError::MissingContentLength),
        None => avail,
    };
    let body = Span::new(body_start, body_start + body_len);

    let headers = Headers {
        buf: buffer,
        entries,
        first,
        cseq,
        call_id,
        content_length,
        built: false,
    };
    Ok(match start_line {
        StartLine::Request { method, uri } => {
            // RFC 3261 §8.1.1.5: the CSeq method matches the request's
            // (RFC 4475 §3.1.2.17, §3.1.2.18).
            if headers.cseq.method != method {
                return Err(ParseError::CSeqMethodMismatch);
            }
            Message::Request(Request {
                method,
                uri,
                headers,
                body,
            })
        }
        StartLine::Response { status, reason } => Message::Response(Response {
            status,
            reason,
            headers,
            body,
        }),
    })
}

#[cfg(test)]
mod tests;
