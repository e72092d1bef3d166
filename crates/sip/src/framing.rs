//! Cutting SIP messages out of a byte stream (TCP, TLS): RFC 3261 §18.3,
//! and the CRLF keep-alives of RFC 5626 §3.5.1.
//!
//! The framer is a pure function over the bytes received so far; it never
//! copies. Its work per call is bounded by [`MAX_HEAD`], so a peer trickling
//! a header one byte at a time costs at most that much per read.

use crate::header::HeaderName;
use crate::parse::parse_u32;

/// Largest header section accepted on a stream (64 KiB).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body accepted on a stream (16 MiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the start of the stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `len` bytes of CRLF keep-alive to drop. `pong` is true for a
    /// double-CRLF ping, which a server answers with a single CRLF
    /// (RFC 5626 §3.5.1).
    KeepAlive {
        /// Bytes to consume.
        len: usize,
        /// Answer with `\r\n`.
        pong: bool,
    },
    /// A complete message of `len` bytes, ready for
    /// [`crate::Message::parse_stream`].
    Message {
        /// Bytes to consume.
        len: usize,
    },
}

/// Why a stream can no longer be framed. The connection should be closed
/// (after a 400/413 when the error is in a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No empty line within [`MAX_HEAD`] bytes.
    #[error("header section larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    /// Content-Length above [`MAX_BODY`].
    #[error("body larger than {MAX_BODY} bytes")]
    BodyTooLarge,
    /// No Content-Length: mandatory on streams (RFC 3261 §18.3).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// Content-Length not a number, or given twice.
    #[error("bad Content-Length")]
    BadContentLength,
}

/// Frames the start of `buf`: `Ok(None)` when more bytes are needed.
///
/// Leading CRLFs come back as [`Frame::KeepAlive`] (a lone `\r\n` waits for
/// one more byte, to tell a ping from a pong). A message ends at its empty
/// line plus Content-Length bytes.
pub fn frame_stream(buf: &[u8]) -> Result<Option<Frame>, FrameError> {
    let crlf = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if crlf > 0 {
        if crlf == buf.len() && crlf < 4 {
            return Ok(None);
        }
        return Ok(Some(Frame::KeepAlive {
            len: crlf,
            pong: crlf >= 4,
        }));
    }
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let Some(head_end) = find_head_end(window) else {
        return if buf.len() >= MAX_HEAD {
            Err(FrameError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let cl = content_length(window.get(..head_end).unwrap_or(&[]))?;
    if cl > MAX_BODY {
        return Err(FrameError::BodyTooLarge);
    }
    let total = head_end + cl;
    Ok((buf.len() >= total).then_some(Frame::Message { len: total }))
}

/// Offset just past the empty line (CRLFCRLF, or LFLF from sloppy peers).
fn find_head_end(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while let Some(i) = memchr::memchr(b'\n', b.get(pos..)?) {
        let nl = pos + i;
        match b.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if b.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => pos = nl + 1,
        }
    }
    None
}

fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    let mut found: Option<usize> = None;
    let mut pending = false;
    for raw in head.split(|&b| b == b'\n') {
        let l = raw.strip_suffix(b"\r").unwrap_or(raw);
        if l.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            if pending {
                // Value folded onto the next line.
                let v = std::str::from_utf8(l).map_err(|_| FrameError::BadContentLength)?;
                found = Some(
                    parse_u32(crate::parse::trim(v)).ok_or(FrameError::BadContentLength)? as usize,
                );
                pending = false;
            }
            continue;
        }
        pending = false;
        let Some(colon) = memchr::memchr(b':', l) else {
            continue;
        };
        let name = l.get(..colon).unwrap_or(&[]).trim_ascii_end();
        if HeaderName::from_bytes(name) != HeaderName::ContentLength {
            continue;
        }
        if found.is_some() {
            return Err(FrameError::BadContentLength);
        }
        let v = std::str::from_utf8(l.get(colon + 1..).unwrap_or(&[]))
            .map_err(|_| FrameError::BadContentLength)?;
        let v = crate::parse::trim(v);
        if v.is_empty() {
            pending = true;
            found = Some(0);
        } else {
            found = Some(parse_u32(v).ok_or(FrameError::BadContentLength)? as usize);
        }
    }
    found.ok_or(FrameError::MissingContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 4\r\nVia: SIP/2.0/TCP h\r\n\r\nbody";

    #[test]
    fn frames_one_message_rfc3261_18_3() {
        let mut s = MSG.to_vec();
        s.extend_from_slice(b"NEXT");
        assert_eq!(
            frame_stream(&s),
            Ok(Some(Frame::Message { len: MSG.len() }))
        );
        for cut in 0..MSG.len() {
            assert_eq!(frame_stream(&MSG[..cut]), Ok(None), "cut {cut}");
        }
    }

    #[test]
    fn keep_alives_rfc5626_3_5_1() {
        assert_eq!(
            frame_stream(b"\r\n\r\nOPT"),
            Ok(Some(Frame::KeepAlive { len: 4, pong: true }))
        );
        assert_eq!(
            frame_stream(b"\r\nOPT"),
            Ok(Some(Frame::KeepAlive {
                len: 2,
                pong: false
            }))
        );
        assert_eq!(frame_stream(b"\r\n"), Ok(None));
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(
            frame_stream(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"),
            Err(FrameError::MissingContentLength)
        );
        assert_eq!(
            frame_stream(b"A\r\nContent-Length: -1\r\n\r\n"),
            Err(FrameError::BadContentLength)
        );
        assert_eq!(
            frame_stream(b"A\r\nl: 1\r\nContent-Length: 1\r\n\r\nx"),
            Err(FrameError::BadContentLength)
        );
        assert_eq!(
            frame_stream(b"A\r\nContent-Length: 99999999\r\n\r\n"),
            Err(FrameError::BodyTooLarge)
        );
        assert_eq!(
            frame_stream(b"A\r\nContent-Length:\r\n 1\r\n\r\nx"),
            Ok(Some(Frame::Message { len: 27 }))
        );
        assert_eq!(
            frame_stream(&vec![b'a'; MAX_HEAD + 1]),
            Err(FrameError::HeadTooLarge)
        );
    }
}
