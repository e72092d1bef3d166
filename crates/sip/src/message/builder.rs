//! Building requests and responses, and serializing them with a computed
//! Content-Length.
//!
//! A builder writes the wire form and parses it back, so whatever it returns
//! went through the same checks as a received message: a builder cannot make
//! a message this crate would reject.

use bytes::Bytes;

use super::{Request, Response};
use crate::error::ParseError;
use crate::header::HeaderName;
use crate::method::Method;
use crate::parse::is_token_str;
use crate::status::StatusCode;

/// A header value must not contain CR or LF (header injection).
fn check_header(name: &str, value: &str) -> Result<(), ParseError> {
    if !is_token_str(name) || memchr::memchr2(b'\r', b'\n', value.as_bytes()).is_some() {
        return Err(ParseError::BadHeaderLine);
    }
    Ok(())
}

fn is_content_header(name: &str) -> bool {
    matches!(
        HeaderName::from_bytes(name.as_bytes()),
        HeaderName::ContentLength | HeaderName::ContentType
    )
}

/// The header lines of a message being built, already in wire form
/// (`Name: value\r\n` each) in one buffer: a header costs no allocation of
/// its own, and serializing is one copy. The rarer edits (remove a header,
/// pop a Via, tag the To) find their line by scanning the buffer.
#[derive(Debug, Clone, Default)]
struct Lines {
    text: String,
}

/// One line of [`Lines`]: where it is, its name and its value.
struct Line<'a> {
    /// The line in the buffer, its CRLF included.
    at: std::ops::Range<usize>,
    name: &'a str,
    value: &'a str,
}

impl Lines {
    /// Room for the usual dozen headers of a request or response.
    fn new() -> Lines {
        Lines {
            text: String::with_capacity(384),
        }
    }

    /// The lines of a received message, but its Content-Length and
    /// Content-Type (the builder writes those itself).
    fn copied(headers: &super::Headers) -> Lines {
        let mut lines = Lines::new();
        for (n, v) in headers.iter().filter(|(n, _)| !is_content_header(n)) {
            lines.push(n, v);
        }
        lines
    }

    fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        self.text.push_str(": ");
        self.text.push_str(value);
        self.text.push_str("\r\n");
    }

    fn prepend(&mut self, name: &str, value: &str) {
        let line = format!("{name}: {value}\r\n");
        self.text.insert_str(0, &line);
    }

    fn iter(&self) -> impl Iterator<Item = Line<'_>> {
        let mut offset = 0;
        self.text.split_inclusive("\r\n").map(move |raw| {
            let at = offset..offset + raw.len();
            offset = at.end;
            let line = raw.strip_suffix("\r\n").unwrap_or(raw);
            let (name, value) = line.split_once(": ").unwrap_or((line, ""));
            Line { at, name, value }
        })
    }

    /// Removes every line called `name` (long or compact form).
    fn remove(&mut self, name: &str) {
        let known = HeaderName::from_bytes(name.as_bytes());
        let keep = |n: &str| {
            let this = HeaderName::from_bytes(n.as_bytes());
            if known == HeaderName::Other {
                !(this == HeaderName::Other && n.eq_ignore_ascii_case(name))
            } else {
                this != known
            }
        };
        let mut kept = String::with_capacity(self.text.len());
        for line in self.iter().filter(|l| keep(l.name)) {
            kept.push_str(&self.text[line.at]);
        }
        self.text = kept;
    }

    /// The first line called `name` (a known header).
    fn find(&self, name: HeaderName) -> Option<Line<'_>> {
        self.iter()
            .find(|l| HeaderName::from_bytes(l.name.as_bytes()) == name)
    }

    /// Replaces the value of the line at `at` (`None`: removes the line).
    fn replace(&mut self, at: std::ops::Range<usize>, name: &str, value: Option<&str>) {
        let line = value.map_or_else(String::new, |v| format!("{name}: {v}\r\n"));
        self.text.replace_range(at, &line);
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn write_tail(out: &mut Vec<u8>, headers: &Lines, body: &Option<(String, Vec<u8>)>) {
    out.extend_from_slice(headers.text.as_bytes());
    let len = match body {
        Some((ct, b)) => {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(ct.as_bytes());
            out.extend_from_slice(b"\r\n");
            b.len()
        }
        None => 0,
    };
    out.extend_from_slice(b"Content-Length: ");
    push_decimal(out, len);
    out.extend_from_slice(b"\r\n\r\n");
    if let Some((_, b)) = body {
        out.extend_from_slice(b);
    }
}

/// Builds a request. The Request-URI and every header are checked when
/// [`RequestBuilder::build`] parses the result.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: Method,
    uri: String,
    headers: Lines,
    body: Option<(String, Vec<u8>)>,
    error: Option<ParseError>,
}

impl RequestBuilder {
    /// Starts a request for `method` to `uri`.
    pub fn new(method: Method, uri: impl Into<String>) -> Self {
        RequestBuilder {
            method,
            uri: uri.into(),
            headers: Lines::new(),
            body: None,
            error: None,
        }
    }

    /// Appends a header line. Content-Length is always computed and
    /// Content-Type comes from [`RequestBuilder::body`], so both are ignored here.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        if let Err(e) = check_header(name, value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.push(name, value);
        }
        self
    }

    /// Starts from a received request (to forward or re-send it edited):
    /// same method, Request-URI, headers and body.
    pub fn from_request(req: &Request) -> Self {
        let h = req.headers();
        let headers = Lines::copied(h);
        let ct = h.get(HeaderName::ContentType);
        let body = (!req.body().is_empty() || ct.is_some()).then(|| {
            (
                ct.unwrap_or("application/octet-stream").to_owned(),
                req.body().to_vec(),
            )
        });
        RequestBuilder {
            method: req.method().clone(),
            uri: req.uri_str().to_owned(),
            headers,
            body,
            error: None,
        }
    }

    /// Replaces the Request-URI.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// Inserts a header line before all others (a new top Via, RFC 3261
    /// §16.6 step 8).
    pub fn prepend_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        if let Err(e) = check_header(name, value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.prepend(name, value);
        }
        self
    }

    /// Removes every header line called `name` (long or compact form).
    pub fn remove_header(mut self, name: &str) -> Self {
        self.headers.remove(name);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        let ct = content_type.into();
        if let Err(e) = check_header("Content-Type", &ct) {
            self.error.get_or_insert(e);
        }
        self.body = Some((ct, body.into()));
        self
    }

    /// The wire form, without parsing it back.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(
            self.uri.len()
                + self.headers.text.len()
                + 64
                + self.body.as_ref().map_or(0, |(ct, b)| ct.len() + b.len()),
        );
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.uri.as_bytes());
        out.extend_from_slice(b" SIP/2.0\r\n");
        write_tail(&mut out, &self.headers, &self.body);
        Bytes::from(out)
    }

    /// Serializes and parses back: the request, or why it is not valid.
    pub fn build(self) -> Result<Request, ParseError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut request = Request::parse(self.to_bytes())?;
        request.headers.built = true;
        Ok(request)
    }
}

/// Builds a response; [`Response::for_request`] starts one with the headers
/// RFC 3261 §8.2.6 says to copy.
#[derive(Debug, Clone)]
pub struct ResponseBuilder {
    status: StatusCode,
    reason: Option<String>,
    headers: Lines,
    body: Option<(String, Vec<u8>)>,
    error: Option<ParseError>,
}

impl ResponseBuilder {
    /// Starts an empty response with the canonical reason phrase.
    pub fn new(status: StatusCode) -> Self {
        ResponseBuilder {
            status,
            reason: None,
            headers: Lines::new(),
            body: None,
            error: None,
        }
    }

    /// Replaces the reason phrase (CR/LF refused).
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        let r = reason.into();
        if r.bytes().any(|b| b == b'\r' || b == b'\n') {
            self.error.get_or_insert(ParseError::BadStartLine);
        }
        self.reason = Some(r);
        self
    }

    /// Appends a header line (Content-Length/Content-Type ignored, see
    /// [`RequestBuilder::header`]).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        if let Err(e) = check_header(name, value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.push(name, value);
        }
        self
    }

    /// Removes every header line called `name` (long or compact form): a
    /// proxy drops its own top Via this way before forwarding a response
    /// (RFC 3261 §16.7 step 3) after rebuilding it with
    /// [`ResponseBuilder::from_response`].
    pub fn remove_header(mut self, name: &str) -> Self {
        self.headers.remove(name);
        self
    }

    /// Removes the first Via value (the topmost), keeping the others.
    pub fn pop_via(mut self) -> Self {
        let Some((at, rest)) = self.headers.find(HeaderName::Via).map(|line| {
            let rest: Vec<&str> = crate::parse::split_list(line.value).skip(1).collect();
            (line.at, rest.join(", "))
        }) else {
            return self;
        };
        let value = (!rest.is_empty()).then_some(rest.as_str());
        self.headers.replace(at, "Via", value);
        self
    }

    /// Starts from a received response: same status, reason, headers, body.
    pub fn from_response(resp: &Response) -> Self {
        let h = resp.headers();
        let headers = Lines::copied(h);
        let ct = h.get(HeaderName::ContentType);
        let body = (!resp.body().is_empty() || ct.is_some()).then(|| {
            (
                ct.unwrap_or("application/octet-stream").to_owned(),
                resp.body().to_vec(),
            )
        });
        ResponseBuilder {
            status: resp.status(),
            reason: Some(resp.reason().to_owned()),
            headers,
            body,
            error: None,
        }
    }

    /// Adds `;tag=` to the To header when it has none: a UAS must tag every
    /// response but 100 (RFC 3261 §8.2.6.2).
    pub fn to_tag(mut self, tag: &str) -> Self {
        let Some(line) = self.headers.find(HeaderName::To) else {
            return self;
        };
        let has_tag = crate::header::tag_of(line.value, "To").is_ok_and(|t| t.is_some());
        if !has_tag {
            // Before the line's CRLF.
            let end = line.at.end - 2;
            self.headers.text.insert_str(end, tag);
            self.headers.text.insert_str(end, ";tag=");
        }
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        let ct = content_type.into();
        if let Err(e) = check_header("Content-Type", &ct) {
            self.error.get_or_insert(e);
        }
        self.body = Some((ct, body.into()));
        self
    }

    /// The wire form, without parsing it back.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(
            self.headers.text.len()
                + 96
                + self.body.as_ref().map_or(0, |(ct, b)| ct.len() + b.len()),
        );
        out.extend_from_slice(b"SIP/2.0 ");
        push_decimal(&mut out, usize::from(self.status.as_u16()));
        out.push(b' ');
        out.extend_from_slice(
            self.reason
                .as_deref()
                .unwrap_or(self.status.canonical_reason())
                .as_bytes(),
        );
        out.extend_from_slice(b"\r\n");
        write_tail(&mut out, &self.headers, &self.body);
        Bytes::from(out)
    }

    /// Serializes and parses back.
    pub fn build(self) -> Result<Response, ParseError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut response = Response::parse(self.to_bytes())?;
        response.headers.built = true;
        Ok(response)
    }
}

impl Response {
    /// Starts the response to `req` (RFC 3261 §8.2.6): copies every Via in
    /// order, From, To, Call-ID and CSeq, and Timestamp for a 100 (§8.2.6.1).
    /// Add the To tag with [`ResponseBuilder::to_tag`].
    pub fn for_request(req: &Request, status: StatusCode) -> ResponseBuilder {
        let h = req.headers();
        let mut b = ResponseBuilder::new(status);
        for v in h.get_all(HeaderName::Via) {
            b = b.header("Via", v);
        }
        for n in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            if let Some(v) = h.get(n) {
                b = b.header(n.as_str(), v);
            }
        }
        if status == StatusCode::TRYING
            && let Some(t) = h.get(HeaderName::Timestamp)
        {
            b = b.header("Timestamp", t);
        }
        b
    }
}

impl AsRef<str> for HeaderName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
