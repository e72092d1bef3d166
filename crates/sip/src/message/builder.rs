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
    if !is_token_str(name) || value.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(ParseError::BadHeaderLine);
    }
    Ok(())
}

fn write_tail(out: &mut Vec<u8>, headers: &[(String, String)], body: &Option<(String, Vec<u8>)>) {
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let len = match body {
        Some((ct, b)) => {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(ct.as_bytes());
            out.extend_from_slice(b"\r\n");
            b.len()
        }
        None => 0,
    };
    out.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
    if let Some((_, b)) = body {
        out.extend_from_slice(b);
    }
}

fn remove(headers: &mut Vec<(String, String)>, name: &str) {
    let known = HeaderName::from_bytes(name.as_bytes());
    headers.retain(|(n, _)| {
        let this = HeaderName::from_bytes(n.as_bytes());
        if known == HeaderName::Other {
            !(this == HeaderName::Other && n.eq_ignore_ascii_case(name))
        } else {
            this != known
        }
    });
}

fn is_content_header(name: &str) -> bool {
    matches!(
        HeaderName::from_bytes(name.as_bytes()),
        HeaderName::ContentLength | HeaderName::ContentType
    )
}

/// Builds a request. The Request-URI and every header are checked when
/// [`RequestBuilder::build`] parses the result.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    error: Option<ParseError>,
}

impl RequestBuilder {
    /// Starts a request for `method` to `uri`.
    pub fn new(method: Method, uri: impl Into<String>) -> Self {
        RequestBuilder {
            method,
            uri: uri.into(),
            headers: Vec::new(),
            body: None,
            error: None,
        }
    }

    /// Appends a header line. Content-Length is always computed and
    /// Content-Type comes from [`RequestBuilder::body`], so both are ignored here.
    pub fn header(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        let (name, value) = (name.as_ref(), value.into());
        if let Err(e) = check_header(name, &value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.push((name.to_owned(), value));
        }
        self
    }

    /// Starts from a received request (to forward or re-send it edited):
    /// same method, Request-URI, headers and body.
    pub fn from_request(req: &Request) -> Self {
        let h = req.headers();
        let headers = h
            .iter()
            .filter(|(n, _)| !is_content_header(n))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
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
    pub fn prepend_header(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        let (name, value) = (name.as_ref(), value.into());
        if let Err(e) = check_header(name, &value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.insert(0, (name.to_owned(), value));
        }
        self
    }

    /// Removes every header line called `name` (long or compact form).
    pub fn remove_header(mut self, name: &str) -> Self {
        remove(&mut self.headers, name);
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
        let mut out = Vec::with_capacity(256);
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
        Request::parse(self.to_bytes())
    }
}

/// Builds a response; [`Response::for_request`] starts one with the headers
/// RFC 3261 §8.2.6 says to copy.
#[derive(Debug, Clone)]
pub struct ResponseBuilder {
    status: StatusCode,
    reason: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    error: Option<ParseError>,
}

impl ResponseBuilder {
    /// Starts an empty response with the canonical reason phrase.
    pub fn new(status: StatusCode) -> Self {
        ResponseBuilder {
            status,
            reason: None,
            headers: Vec::new(),
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
    pub fn header(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        let (name, value) = (name.as_ref(), value.into());
        if let Err(e) = check_header(name, &value) {
            self.error.get_or_insert(e);
        } else if !is_content_header(name) {
            self.headers.push((name.to_owned(), value));
        }
        self
    }

    /// Removes every header line called `name` (long or compact form): a
    /// proxy drops its own top Via this way before forwarding a response
    /// (RFC 3261 §16.7 step 3) after rebuilding it with
    /// [`ResponseBuilder::from_response`].
    pub fn remove_header(mut self, name: &str) -> Self {
        remove(&mut self.headers, name);
        self
    }

    /// Removes the first Via value (the topmost), keeping the others.
    pub fn pop_via(mut self) -> Self {
        let Some(i) = self
            .headers
            .iter()
            .position(|(n, _)| HeaderName::from_bytes(n.as_bytes()) == HeaderName::Via)
        else {
            return self;
        };
        let rest: Vec<&str> = match self.headers.get(i) {
            Some((_, v)) => crate::parse::split_list(v).skip(1).collect(),
            None => return self,
        };
        let rest = rest.join(", ");
        if rest.is_empty() {
            self.headers.remove(i);
        } else if let Some((_, v)) = self.headers.get_mut(i) {
            *v = rest;
        }
        self
    }

    /// Starts from a received response: same status, reason, headers, body.
    pub fn from_response(resp: &Response) -> Self {
        let h = resp.headers();
        let headers = h
            .iter()
            .filter(|(n, _)| !is_content_header(n))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
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
        if let Some((_, to)) = self
            .headers
            .iter_mut()
            .find(|(n, _)| HeaderName::from_bytes(n.as_bytes()) == HeaderName::To)
        {
            let has_tag = crate::header::NameAddr::parse(to, "To").is_ok_and(|n| n.tag().is_some());
            if !has_tag {
                to.push_str(";tag=");
                to.push_str(tag);
            }
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
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(format!("SIP/2.0 {} ", self.status).as_bytes());
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
        Response::parse(self.to_bytes())
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
