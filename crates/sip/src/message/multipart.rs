//! Multipart bodies (RFC 2046 §5.1, RFC 5621): SDP next to ISUP, PIDF,
//! resource lists...

use memchr::memmem;

use super::headers::Headers;
use crate::error::ParseError;
use crate::header::MediaType;
use crate::parse::trim;

/// One part of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPart<'a> {
    headers: &'a str,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

impl<'a> BodyPart<'a> {
    /// The part's Content-Type value, if it has one.
    pub fn content_type(&self) -> Option<&'a str> {
        self.content_type
    }

    /// The part's Content-Type, parsed.
    pub fn media_type(&self) -> Option<MediaType<'a>> {
        self.content_type.and_then(|c| MediaType::parse(c).ok())
    }

    /// A part header by name (case-insensitive; `c` for Content-Type works).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let want = crate::header::HeaderName::from_bytes(name.as_bytes());
        self.headers.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            let n = trim(n);
            let same = if want == crate::header::HeaderName::Other {
                n.eq_ignore_ascii_case(name)
            } else {
                crate::header::HeaderName::from_bytes(n.as_bytes()) == want
            };
            same.then(|| trim(v))
        })
    }

    /// The part's body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// Splits a body into its parts; a body that is not multipart is one part.
pub(crate) fn parts<'a>(h: &'a Headers, body: &'a [u8]) -> Result<Vec<BodyPart<'a>>, ParseError> {
    let ct = h.content_type()?;
    let Some(ct) = ct.filter(|c| c.is_multipart()) else {
        return Ok(vec![BodyPart {
            headers: "",
            content_type: h.get(crate::header::HeaderName::ContentType),
            body,
        }]);
    };
    let bad = ParseError::BadHeader("Content-Type");
    let boundary = ct
        .params()
        .value("boundary")
        .filter(|b| !b.is_empty())
        .ok_or(bad.clone())?;
    split(body, boundary).ok_or(ParseError::BadHeader("Content-Type"))
}

fn split<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<BodyPart<'a>>> {
    let mut delim = Vec::with_capacity(boundary.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(boundary.as_bytes());
    // Delimiters start a line (or the body).
    let starts: Vec<usize> = memmem::find_iter(body, &delim)
        .filter(|&p| p == 0 || body.get(p - 1) == Some(&b'\n'))
        .collect();
    let mut out = Vec::new();
    for (i, &d) in starts.iter().enumerate() {
        let after = d + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            return Some(out);
        }
        let next = *starts.get(i + 1)?;
        // Skip transport padding to the end of the delimiter line.
        let line_end = after + memchr::memchr(b'\n', body.get(after..next)?)? + 1;
        let mut end = next;
        if end > line_end && body.get(end - 1) == Some(&b'\n') {
            end -= 1;
            if end > line_end && body.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
        }
        let part = body.get(line_end..end)?;
        let (head, content) = if part.starts_with(b"\r\n") {
            (&[][..], part.get(2..)?)
        } else if part.starts_with(b"\n") {
            (&[][..], part.get(1..)?)
        } else if let Some(p) = memmem::find(part, b"\r\n\r\n") {
            (part.get(..p)?, part.get(p + 4..)?)
        } else {
            let p = memmem::find(part, b"\n\n")?;
            (part.get(..p)?, part.get(p + 2..)?)
        };
        let headers = std::str::from_utf8(head).ok()?;
        let mut bp = BodyPart {
            headers,
            content_type: None,
            body: content,
        };
        bp.content_type = bp.header("Content-Type");
        out.push(bp);
    }
    // No closing delimiter: accept what was delimited so far only if any.
    (!out.is_empty()).then_some(out)
}

/// The first part whose media type is `essence`.
pub(crate) fn find<'a>(h: &'a Headers, body: &'a [u8], essence: &str) -> Option<&'a [u8]> {
    parts(h, body)
        .ok()?
        .into_iter()
        .find(|p| p.media_type().is_some_and(|m| m.is(essence)))
        .map(|p| p.body)
}
