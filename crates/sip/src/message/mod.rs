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

mod builder;
mod headers;
mod multipart;
mod request;
mod response;

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
use headers::{Entry, Span};

// The parser tracks the known header names seen so far in one u128.
const _: () = assert!((HeaderName::Other as u32) < 128);

/// Most header lines a message may have; more is a 413, not a slow parse.
const MAX_HEADERS: usize = 1024;

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
        let mut out = Vec::with_capacity(self.headers().buf.len() + 16);
        self.encode(&mut out);
        Bytes::from(out)
    }
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

/// Returns `(line start, line end without CR, next line start)`.
fn line(b: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
    let nl = pos + memchr::memchr(b'\n', b.get(pos..)?)?;
    let end = if nl > pos && b.get(nl - 1) == Some(&b'\r') {
        nl - 1
    } else {
        nl
    };
    Some((pos, end, nl + 1))
}

fn is_lws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP/HTAB from both ends of `b[s..e]`.
fn trim_span(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && b.get(s).copied().is_some_and(is_lws) {
        s += 1;
    }
    while e > s && b.get(e - 1).copied().is_some_and(is_lws) {
        e -= 1;
    }
    (s, e)
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

/// Headers that may appear at most once (RFC 3261 §7.3.1, RFC 4475 §3.3.8/9).
fn is_singleton(n: HeaderName) -> bool {
    matches!(
        n,
        HeaderName::From
            | HeaderName::To
            | HeaderName::CallId
            | HeaderName::CSeq
            | HeaderName::MaxForwards
            | HeaderName::ContentLength
    )
}

fn parse(mut buf: Bytes, stream: bool) -> Result<Message, ParseError> {
    if buf.len() >= u32::MAX as usize {
        return Err(ParseError::TooLarge);
    }
    let b: &[u8] = &buf;
    // RFC 3261 §7.5: ignore CRLFs before the start line.
    let start = b
        .iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .ok_or(ParseError::Empty)?;
    let (sl_s, sl_e, mut pos) = line(b, start).ok_or(ParseError::Unterminated)?;
    let mut entries: Vec<Entry> = Vec::with_capacity(16);
    // Known names seen so far, to refuse duplicated single-value headers.
    let mut seen: u128 = 0;
    let mut folded = false;
    let body_start = loop {
        let (ls, le, next) = line(b, pos).ok_or(ParseError::Unterminated)?;
        pos = next;
        if ls == le {
            break pos;
        }
        let lead = b.get(ls).copied().unwrap_or(b' ');
        if is_lws(lead) {
            // Folded continuation line (RFC 3261 §7.3.1).
            let last = entries.last_mut().ok_or(ParseError::BadHeaderLine)?;
            let (cs, ce) = trim_span(b, ls, le);
            if cs < ce {
                if last.value.len() == 0 {
                    last.value.start = cs as u32;
                } else {
                    folded = true;
                }
                last.value.end = ce as u32;
            }
            continue;
        }
        // One pass over the name: token characters, optional white space,
        // then the colon (RFC 3261 §7.3.1 allows LWS before it).
        let mut i = ls;
        while i < le && b.get(i).copied().is_some_and(is_token) {
            i += 1;
        }
        let ne = i;
        while i < le && b.get(i).copied().is_some_and(is_lws) {
            i += 1;
        }
        if ne == ls || b.get(i) != Some(&b':') || i >= le {
            return Err(ParseError::BadHeaderLine);
        }
        let (vs, ve) = trim_span(b, i + 1, le);
        if entries.len() >= MAX_HEADERS {
            return Err(ParseError::TooLarge);
        }
        let name = HeaderName::from_bytes(b.get(ls..ne).unwrap_or(&[]));
        if name != HeaderName::Other {
            let bit = 1u128 << (name as u32);
            if seen & bit != 0 && is_singleton(name) {
                return Err(ParseError::DuplicateHeader(name.as_str()));
            }
            seen |= bit;
        }
        entries.push(Entry {
            name,
            name_span: Span::new(ls, ne),
            value: Span::new(vs, ve),
        });
    };
    // Repairs that keep every span valid because they keep the length:
    // folded line breaks become spaces, and bytes that are not UTF-8 (Latin-1
    // display names from old phones) become '?', so such a message is still
    // served rather than refused.
    let head_bytes = b.get(..body_start).unwrap_or(&[]);
    let bad_utf8 = !head_bytes.is_ascii() && std::str::from_utf8(head_bytes).is_err();
    if folded || bad_utf8 {
        let mut v = b.to_vec();
        if let Some(h) = v.get_mut(..body_start) {
            replace_invalid_utf8(h);
        }
        if folded {
            for e in &entries {
                if let Some(val) = v.get_mut(e.value.range()) {
                    for c in val.iter_mut().filter(|c| **c == b'\r' || **c == b'\n') {
                        *c = b' ';
                    }
                }
            }
        }
        buf = Bytes::from(v);
    }
    let b: &[u8] = &buf;
    let head = std::str::from_utf8(b.get(..body_start).unwrap_or(&[])).unwrap_or("");
    let start_line = parse_start_line(b, sl_s, sl_e, head)?;

    let value = |n: HeaderName| -> Option<(Span, &str)> {
        let e = entries.iter().find(|e| e.name == n)?;
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
    let avail = b.len() - body_start;
    let body_len = match content_length {
        Some(cl) if cl as usize > avail => return Err(ParseError::ContentLengthTooLarge),
        Some(cl) => cl as usize,
        None if stream => return Err(ParseError::MissingContentLength),
        None => avail,
    };
    let body = Span::new(body_start, body_start + body_len);

    let headers = Headers {
        buf,
        entries,
        cseq,
        call_id,
        content_length,
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
